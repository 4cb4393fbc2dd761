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
from pingyi.report.xlsx import write_workbook
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
