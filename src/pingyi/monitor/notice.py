"""The warning notice (预警通知书), one per provider with at least one indicator heading for red: HTML
and PDF from notice.html in the report package's sandboxed jinja environment (the card's font,
weasyprint through the cards' renderer; no dates or identifiers in the PDF, so the bytes repeat)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pingyi.monitor.flags import WarningRow
from pingyi.monitor.labels import NOTICE
from pingyi.report.labels import LIGHT_COLOURS
from pingyi.report.pdf import PdfRenderer, safe_filename
from pingyi.report.templates import make_env, render
from pingyi.text import format_value

TEMPLATES = Path(__file__).resolve().parent / "templates"
NOTICE_FORMATS = ("html", "pdf")


def notice_context(
    rows: Sequence[WarningRow],
    *,
    year: int,
    through: str,
    issued: str,
    threshold: float,
    committee: str | None,
    lang: str,
) -> dict[str, Any]:
    t = NOTICE[lang]
    first = rows[0].judged
    shown = []
    for w in rows:
        j = w.judged
        shown.append(
            {
                "code": j.indicator,
                "name": j.indicator_name if lang == "zh" else j.indicator_name_en,
                "value": format_value(j.value, j.unit, "zh" if lang == "zh" else "en"),
                "baseline": format_value(j.baseline, j.unit, "zh" if lang == "zh" else "en"),
                "over": f"{j.over:.1%}" if j.over is not None and j.over > 0 else t["already_red"],
                "light": t[f"light_{j.light}"],
                "colour": LIGHT_COLOURS.get(j.light, LIGHT_COLOURS["grey"]),
                "status": t[f"status_{w.status}"],
                "deadline": w.deadline,
                "annualised": j.annualised,
            }
        )
    deadlines = sorted({w.deadline for w in rows})
    span = deadlines[0] if len(deadlines) == 1 else f"{deadlines[0]} – {deadlines[-1]}"
    return {
        "lang": lang,
        "t": t,
        "provider": {"code": first.provider, "name": first.provider_name},
        "committee": committee or "",
        "year": year,
        "through": through,
        "issued": issued,
        "intro": t["intro"].format(threshold=f"{threshold:.0%}"),
        "rows": shown,
        "any_annualised": any(r["annualised"] for r in shown),
        "deadline_text": t["deadline"].format(deadline=span),
    }


def write_notices(contexts: Iterable[dict[str, Any]], folder: Path, formats: Sequence[str]) -> list[Path]:
    """notices/<code>.html and .pdf for each context, in provider order."""
    env = make_env(TEMPLATES)
    renderer = PdfRenderer(TEMPLATES) if "pdf" in formats else None
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for ctx in contexts:
        html = render(env, "notice.html", ctx)
        name = safe_filename(ctx["provider"]["code"])
        if "html" in formats:
            path = folder / f"{name}.html"
            path.write_text(html, encoding="utf-8")
            written.append(path)
        if renderer is not None:
            path = folder / f"{name}.pdf"
            renderer.write(renderer.layout(html), path)
            written.append(path)
    return written


def parse_notice_formats(text: str | Iterable[str]) -> tuple[str, ...]:
    from pingyi.errors import PingyiError

    items = [text] if isinstance(text, str) else list(text)
    found: list[str] = []
    for item in items:
        for f in item.split(","):
            f = f.strip().lower()
            if not f:
                continue
            if f not in NOTICE_FORMATS:
                raise PingyiError(f"--format: unknown format '{f}'; expected a comma-separated list of html, pdf")
            if f not in found:
                found.append(f)
    if not found:
        raise PingyiError("--format: no format given; expected html, pdf or both")
    return tuple(found)
