"""`pingyi report`: results directory -> PDF cards and committee report, Excel workbook, offline HTML.

Output layout under --out:
    cards/<fixmedins_code>.pdf     one A4 card per provider
    committee.pdf                  the committee report (all providers; not written with --provider)
    cards-all.pdf                  every card in the committee's order, a bookmark per provider (idem)
    pingyi-report.xlsx             summary, indicators, adjustments, about (+ one sheet per provider up to 200)
    html/index.html                sortable, filterable table of the providers, linking their cards
    html/cards/<code>.html         self-contained offline cards
    html/committee.html            the committee report (not written with --provider)
    manifest.json                  SHA-256 of every file above, of the results and templates used

The folder is written beside --out and swapped into place when complete (pingyi.files), so it is
always one whole, verifiable set.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pingyi import text as tx
from pingyi.errors import PingyiError, read_json
from pingyi.files import member, output_folder, write_atomic
from pingyi.report.context import build_contexts
from pingyi.report.loader import load_results
from pingyi.report.manifest import build_report_manifest, write_report_manifest
from pingyi.report.merge import MERGED, committee_order, merged_cards
from pingyi.run.manifest import sha256

FORMATS = ("pdf", "xlsx", "html")
WORKBOOK = "pingyi-report.xlsx"
LEDGER_SNAPSHOT = "ledger.json"  # the ledger state a report was rendered from (report --ledger)
UNCERTAINTY_SNAPSHOT = "uncertainty.json"  # the uncertainty figures it was given (report --uncertainty)
REPORT_ENTRIES = (
    "cards",
    "committee.pdf",
    MERGED,
    WORKBOOK,
    "html",
    LEDGER_SNAPSHOT,
    UNCERTAINTY_SNAPSHOT,
    "manifest.json",
)


@dataclass
class ReportRun:
    out: Path
    files: list[Path] = field(default_factory=list)
    cards: int = 0
    pages: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def parse_formats(text: str | Iterable[str]) -> list[str]:
    items = [text] if isinstance(text, str) else list(text)
    formats = []
    for item in items:
        for f in item.split(","):
            f = f.strip().lower()
            if not f:
                continue
            if f not in FORMATS:
                raise PingyiError(
                    f"--format: unknown format '{f}'; expected a comma-separated list of {', '.join(FORMATS)}"
                )
            if f not in formats:
                formats.append(f)
    if not formats:
        raise PingyiError(f"--format: no format given; expected one or more of {', '.join(FORMATS)}")
    return formats


def parse_providers(items: Iterable[str] | None) -> list[str] | None:
    if not items:
        return None
    codes = []
    for item in items:
        for c in item.split(","):
            c = c.strip()
            if c and c not in codes:
                codes.append(c)
    return codes or None


Progress = Callable[[str, int, int | None], None]  # (stage, advance, total)


def render_reports(
    results_dir: Path,
    out_dir: Path,
    *,
    formats: Iterable[str] = FORMATS,
    providers: Iterable[str] | None = None,
    lang: str = "zh",
    workers: int = 0,
    templates: Path | None = None,
    progress: Progress | None = None,
    ledger: Mapping[str, Any] | None = None,
    uncertainty: Mapping[str, Any] | None = None,
) -> ReportRun:
    """`ledger` is a rectification snapshot (pingyi.ledger.rectification_snapshot): the cards then list
    each provider's open items and the committee report the rectification rate and overdue items; the
    snapshot is written beside the reports (ledger.json, in the manifest) so a re-render uses the same."""
    formats = parse_formats(list(formats))
    if lang not in tx.LANGS:
        raise PingyiError(f"--lang: unknown language '{lang}'; expected zh or en")
    from pingyi.report.templates import template_dirs

    dirs = template_dirs(templates)  # fails early on a bad directory
    t0 = time.perf_counter()
    warnings = check_recorded(Path(results_dir))
    # card contexts (every card's words, displays and charts) only for the formats that show cards: the
    # workbook is built from the numbers (pingyi.report.xlsx.write_results_workbook)
    with_cards = "pdf" in formats or "html" in formats
    rd = load_results(results_dir, quality=with_cards)
    check_scores(rd)
    selected = parse_providers(providers)
    known = {p["fixmedins_code"] for p in rd.results["providers"]}
    if selected is not None:
        unknown = [c for c in selected if c not in known]
        if unknown:
            raise PingyiError(
                f"--provider: {', '.join(unknown)} not in {results_dir}/results.json "
                f"({len(known)} providers); expected fixmedins_code values such as "
                f"{', '.join(sorted(known)[:3])}"
            )
    cards: list[dict] = []
    committee: dict = {}
    if with_cards:
        ctxs = build_contexts(
            rd.results,
            lang="en" if lang == "en" else "zh",
            providers=selected,
            quality_rows=rd.quality_rows,
            rejected_counts=rd.rejected_counts,
            ledger=ledger,
            uncertainty=uncertainty,
        )
        cards, committee = list(ctxs.cards.values()), ctxs.committee
    out = Path(out_dir)
    parameters = {"formats": formats, "providers": selected, "lang": lang}
    context_time = time.perf_counter() - t0
    with output_folder(out, owned=REPORT_ENTRIES, command="pingyi report") as stage:
        run = _render(
            stage, rd.results, cards, committee, selected, formats, templates, workers, progress, lang, uncertainty
        )
        run.cards = len(known) if selected is None else len(selected)
        if ledger is not None:
            snapshot = json.dumps(ledger, ensure_ascii=False, sort_keys=True, indent=1) + "\n"
            (stage / LEDGER_SNAPSHOT).write_text(snapshot, encoding="utf-8")
            run.files.append(stage / LEDGER_SNAPSHOT)
        if uncertainty is not None:
            text = json.dumps(uncertainty, ensure_ascii=False, indent=1) + "\n"
            (stage / UNCERTAINTY_SNAPSHOT).write_text(text, encoding="utf-8")
            run.files.append(stage / UNCERTAINTY_SNAPSHOT)
        run.timings = {"context": context_time, **run.timings}
        write_report_manifest(stage, build_report_manifest(stage, Path(results_dir), dirs, templates, parameters))
    run.files = [out / f.relative_to(stage) for f in run.files]
    run.out = out
    shown = len(known) if selected is None else len(selected)
    from pingyi.report.xlsx import PER_PROVIDER_SHEETS_MAX

    if "xlsx" in formats and shown > PER_PROVIDER_SHEETS_MAX:
        warnings.append(
            f"{WORKBOOK}: no sheet per provider for {shown} providers (more than {PER_PROVIDER_SHEETS_MAX}); every "
            "provider's rows are on the indicators sheet (filter it by code), or render fewer with --provider"
        )
    run.warnings = warnings
    return run


def check_recorded(results_dir: Path) -> list[str]:
    """Reports are rendered only from results that still match their manifest: an edited results.json
    or scores.csv would put numbers on a card that no run produced."""
    mpath = results_dir / "manifest.json"
    if not mpath.is_file():
        return [f"{results_dir} has no manifest.json: these reports cannot be traced to a verified `pingyi score` run"]
    manifest = read_json(mpath, "the manifest written by `pingyi score`")
    outputs = manifest.get("outputs") if isinstance(manifest, dict) else None
    if not isinstance(outputs, dict):
        raise PingyiError(
            f"{mpath}: not a results manifest (no outputs object); expected the one `pingyi score` writes"
        )
    for name in ("results.json", "scores.csv"):
        if name in outputs:
            path = member(results_dir, name, mpath)
            if not path.is_file() or sha256(path) != outputs[name]:
                raise PingyiError(
                    f"{path}: differs from the file its manifest records (edited after the run); expected the "
                    "files of one `pingyi score` run: re-run it, or check it with `pingyi verify`"
                )
    return []


def _render(
    out, results, cards, committee, selected, formats, templates, workers, progress, lang, uncertainty=None
) -> ReportRun:
    run = ReportRun(out=out, cards=len(cards))
    tick = progress or (lambda stage, advance, total: None)

    if "xlsx" in formats:
        from pingyi.report.xlsx import write_results_workbook

        t = time.perf_counter()
        tick("xlsx", 0, 1)
        workbook = write_results_workbook(
            results, out / WORKBOOK, lang="en" if lang == "en" else "zh", providers=selected, uncertainty=uncertainty
        )
        run.files.append(workbook)
        tick("xlsx", 1, 1)
        run.timings["xlsx"] = time.perf_counter() - t

    if "html" in formats:
        from pingyi.report.html import write_html

        t = time.perf_counter()
        tick("html", 0, len(cards))
        run.files.extend(
            write_html(
                cards,
                _restricted(committee, selected),
                out / "html",
                templates=templates,
                committee=selected is None,
                progress=lambda code: tick("html", 1, len(cards)),
            )
        )
        run.timings["html"] = time.perf_counter() - t

    if "pdf" in formats:
        from pingyi.report.pdf import render_pdfs

        t = time.perf_counter()
        if selected is None:
            tick("committee", 0, 1)
        tick("pdf", 0, len(cards))
        # the committee report renders in the same worker processes as the cards, beside them
        done, report = render_pdfs(
            cards,
            out / "cards",
            templates=templates,
            workers=workers,
            committee=(committee, out / "committee.pdf") if selected is None else None,
            progress=lambda item: tick("pdf", 1, len(cards)),
            committee_done=lambda item: tick("committee", 1, 1),
        )
        if report is not None:
            run.files.append(report.path)
        run.files.extend(d.path for d in done)
        run.pages = sum(d.pages for d in done)
        if selected is None and committee:
            # every card in one file, in the committee's order, a bookmark per provider
            data, _pages = merged_cards(out / "cards", committee_order(committee, lang))
            run.files.append(write_atomic(out / MERGED, data))
        run.timings["pdf"] = time.perf_counter() - t
    return run


def check_scores(rd) -> None:
    """The reports show results.json's numbers; scores.csv (next to it) must hold the same totals, so that
    the workbook's totals equal scores.csv exactly. A mismatch means the directory was edited or mixed."""
    totals = {p["fixmedins_code"]: p.get("total_score") for p in rd.results["providers"]}
    for row in rd.scores:
        code, text = row.get("fixmedins_code"), row.get("total_score") or ""
        if code not in totals:
            raise PingyiError(
                f"{rd.path}/scores.csv: provider {code} is not in results.json; expected the two "
                "files of one `pingyi score` run"
            )
        expected = totals[code]
        if (expected is None) != (text == "") or (expected is not None and float(text) != expected):
            raise PingyiError(
                f"{rd.path}/scores.csv: total_score of {code} is {text or 'empty'} but results.json has "
                f"{expected}; expected the two files of one `pingyi score` run (re-run it)"
            )


def _restricted(committee: dict, selected: list[str] | None) -> dict:
    """The committee context with its ranking limited to the selected providers (the HTML index)."""
    if selected is None:
        return committee
    keep = set(selected)
    return {**committee, "ranking": [r for r in committee["ranking"] if r["code"] in keep]}
