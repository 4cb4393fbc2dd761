"""The workbook `pingyi report --format xlsx` writes equals, cell by cell, the workbook rendered from the
card contexts (`build_contexts` -> `write_workbook`, the way every workbook was made before it was built
from the result numbers): same sheets in the same order, same values and value types, number formats,
fills, bold, column widths, frozen panes and autofilters. On the shipped example and on a generated
60-provider bundle (one sheet per provider), in Chinese and English, and with --provider."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from pingyi.report.context import build_contexts
from pingyi.report.loader import load_results
from pingyi.report.run import WORKBOOK, _restricted, render_reports
from pingyi.report.xlsx import write_results_workbook, write_workbook
from pingyi.run.evaluate import evaluate_to
from pingyi.tools.example import generate_example


@pytest.fixture(scope="module")
def sixty(tmp_path_factory) -> Path:
    """`pingyi score` of a generated bundle of 60 providers (under the 200 of one sheet per provider)."""
    root = tmp_path_factory.mktemp("sixty")
    generate_example(root / "bundle", providers=60, rows=9000, scale="small", fmt="csv", year=2025)
    evaluate_to(root / "bundle", None, None, None, root / "results")
    return root / "results"


def from_contexts(results: Path, path: Path, lang: str = "zh", providers: list[str] | None = None) -> Path:
    """The workbook as it was rendered before: from every card's context."""
    rd = load_results(results)
    ctxs = build_contexts(
        rd.results,
        lang=lang,  # type: ignore[arg-type]
        providers=providers,
        quality_rows=rd.quality_rows,
        rejected_counts=rd.rejected_counts,
    )
    return write_workbook(list(ctxs.cards.values()), _restricted(ctxs.committee, providers), path)


def cells(path: Path) -> dict:
    """Everything a reader of the workbook sees, sheet by sheet."""
    book = openpyxl.load_workbook(path)
    out = {}
    for ws in book.worksheets:
        rows = []
        for row in ws.iter_rows():
            rows.append(
                [
                    (
                        c.coordinate,
                        c.value,
                        type(c.value).__name__,
                        c.data_type,
                        c.number_format,
                        c.fill.fill_type,
                        c.fill.fgColor.rgb if c.fill.fill_type else None,
                        bool(c.font.bold),
                        c.font.color.rgb if c.font.color is not None else None,
                        bool(c.alignment.wrap_text),
                    )
                    for c in row
                    if c.value is not None or c.has_style
                ]
            )
        widths = {k: d.width for k, d in sorted(ws.column_dimensions.items())}
        out[ws.title] = {
            "rows": rows,
            "widths": widths,
            "freeze": ws.freeze_panes,
            "filter": ws.auto_filter.ref,
            "max": (ws.max_row, ws.max_column),
        }
    return {"sheets": list(out), **out}


def assert_same(old: Path, new: Path) -> None:
    a, b = cells(old), cells(new)
    assert a["sheets"] == b["sheets"]
    for name in a["sheets"]:
        for key in ("widths", "freeze", "filter", "max"):
            assert a[name][key] == b[name][key], (name, key)
        assert len(a[name]["rows"]) == len(b[name]["rows"]), name
        for i, (x, y) in enumerate(zip(a[name]["rows"], b[name]["rows"], strict=True), 1):
            assert x == y, (name, i)


def report_workbook(results: Path, out: Path, **kw) -> Path:
    render_reports(results, out, formats=["xlsx"], **kw)
    return out / WORKBOOK


def test_example_workbook_is_the_one_rendered_from_the_cards(example, tmp_path):
    new = report_workbook(example.out, tmp_path / "new")
    old = from_contexts(example.out, tmp_path / "old.xlsx")
    assert_same(old, new)
    wb = openpyxl.load_workbook(new)
    assert len(wb.sheetnames) == 4 + len(example.results["providers"])  # one sheet per provider


def test_sixty_providers_workbook_is_the_one_rendered_from_the_cards(sixty, tmp_path):
    new = report_workbook(sixty, tmp_path / "new")
    old = from_contexts(sixty, tmp_path / "old.xlsx")
    assert_same(old, new)
    wb = openpyxl.load_workbook(new)
    assert len(wb.sheetnames) == 64
    assert wb.worksheets[1].max_row == 1 + 60 * 35  # one row per provider x indicator


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_selected_providers_workbook_is_the_one_rendered_from_their_cards(sixty, tmp_path, lang):
    codes = sorted(p["fixmedins_code"] for p in load_results(sixty).results["providers"])[3:6]
    new = report_workbook(sixty, tmp_path / "new", providers=[",".join(codes)], lang=lang)
    old = from_contexts(sixty, tmp_path / "old.xlsx", providers=codes, lang=lang)
    assert_same(old, new)
    assert openpyxl.load_workbook(new).worksheets[0].max_row == 4


def test_workbook_without_provider_sheets_is_the_one_rendered_from_the_cards(sixty, tmp_path):
    """Past PER_PROVIDER_SHEETS_MAX providers the workbook has no sheet per provider and needs no peer
    statistics (prepare_lookups instead of prepare): the four sheets still equal the cards' ones."""
    new = write_results_workbook(load_results(sixty).results, tmp_path / "new.xlsx", per_provider=False)
    rd = load_results(sixty)
    ctxs = build_contexts(rd.results, quality_rows=rd.quality_rows, rejected_counts=rd.rejected_counts)
    old = write_workbook(list(ctxs.cards.values()), ctxs.committee, tmp_path / "old.xlsx", per_provider=False)
    assert_same(old, new)
    assert len(openpyxl.load_workbook(new).sheetnames) == 4


def test_a_workbook_alone_builds_no_card_context(sixty, tmp_path, monkeypatch):
    import pingyi.report.run as report_run

    def refuse(*args, **kwargs):
        raise AssertionError("card contexts built for a workbook")

    monkeypatch.setattr(report_run, "build_contexts", refuse)
    run = render_reports(sixty, tmp_path / "out", formats=["xlsx"])
    assert run.cards == 60 and (tmp_path / "out" / WORKBOOK).is_file()
    with pytest.raises(AssertionError, match="card contexts"):
        render_reports(sixty, tmp_path / "html", formats=["xlsx,html"])


def test_sheets_spooled_to_disk_give_the_same_bytes(sixty, tmp_path, monkeypatch):
    """Rows leave memory in batches and, past SPOOL_MEMORY, for a temporary file: the bytes do not change
    (and two runs give the same bytes)."""
    import pingyi.report.xlsxbook as xb

    results = load_results(sixty).results
    a = write_results_workbook(results, tmp_path / "a.xlsx").read_bytes()
    assert write_results_workbook(results, tmp_path / "b.xlsx").read_bytes() == a
    monkeypatch.setattr(xb, "SPOOL_MEMORY", 1024)
    monkeypatch.setattr(xb, "FLUSH_ROWS", 3)
    assert write_results_workbook(results, tmp_path / "c.xlsx").read_bytes() == a


def test_peer_ranks_by_hand():
    """A provider's peer group holds every provider sharing the values of its keys (a merged group's
    keys are fewer); competition ranks by total; the ungraded have none. The same ranks as prepare()."""
    from pingyi.report.prepare import peer_key, peer_ranks, prepare

    def p(code, level, total, keys=("region", "level")):
        group = {"region": "east", "level": level, "keys": list(keys)}
        return {
            "fixmedins_code": code,
            "region": "east",
            "level": level,
            "total_score": total,
            "peer_group": group,
            "primaries": [],
            "indicators": [],
        }

    providers = [
        p("A", "三级", 90.0),
        p("B", "三级", 80.0),
        p("C", "二级", 85.0, keys=("region",)),  # alone in 二级: merged into all of the east
        p("D", "三级", None),
        p("E", "三级", 80.0),
    ]
    assert peer_ranks(providers) == {"A": 1, "B": 2, "E": 2, "C": 2}
    results = {"indicators": [], "primaries": [], "providers": providers}
    prep = prepare(results)
    assert {c: prep.groups[peer_key(x)].ranks.get(c) for c, x in prep.providers.items()} == {
        "A": 1,
        "B": 2,
        "C": 2,
        "D": None,
        "E": 2,
    }
