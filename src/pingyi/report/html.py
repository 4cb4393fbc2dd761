"""Offline HTML: one self-contained card per provider (inline CSS and SVG, no script, a CSP that forbids
any network request), the committee report, and index.html with a sortable, filterable table."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from pingyi.report.pdf import safe_filename
from pingyi.report.templates import make_env, render, render_card, render_committee


def write_html(
    cards: Iterable[dict],
    committee_ctx: dict,
    out_dir: Path,
    *,
    templates: Path | str | None = None,
    committee: bool = True,
    progress: Callable[[str], None] | None = None,
) -> list[Path]:
    """out_dir/index.html, out_dir/cards/<code>.html and (if `committee`) out_dir/committee.html. The
    index lists the providers of the committee context's ranking and links those whose card is written."""
    env = make_env(templates)
    out_dir = Path(out_dir)
    (out_dir / "cards").mkdir(parents=True, exist_ok=True)
    written = []
    linked: set[str] = set()
    for ctx in cards:
        code = ctx["provider"]["code"]
        path = out_dir / "cards" / f"{safe_filename(code)}.html"
        path.write_text(render_card(env, ctx, "html", index_href="../index.html"), encoding="utf-8")
        linked.add(code)
        written.append(path)
        if progress:
            progress(code)
    if committee:
        committee_path = out_dir / "committee.html"
        committee_path.write_text(render_committee(env, committee_ctx, "html"), encoding="utf-8")
        written.insert(0, committee_path)
    ranking = committee_ctx["ranking"]
    index = render(
        env,
        "index.html",
        committee_ctx,
        card_href=lambda code: f"cards/{safe_filename(code)}.html" if code in linked else None,
        committee_href="committee.html" if committee else None,
        regions=sorted({r["region_label"] for r in ranking}),
        levels=sorted({r["level_label"] for r in ranking}),
    )
    index_path = out_dir / "index.html"
    index_path.write_text(index, encoding="utf-8")
    return [index_path, *written]
