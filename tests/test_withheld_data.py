"""Withheld data never pays: deleting a provider's settlement lists, or every row it has, never raises
its total, its grade or its prepayment adjustment, and never cancels its penalty. Zero events are not
missing data: a provider with no audit flag has 0 % violations, scored.

The deletions are made on copies of the shipped example, a third of its providers at a time (each
deleted provider is compared with its own result on the full bundle; the deleted providers' data no
longer enters the regional DRG averages or the funnel fits, which is how a real withholding would act).
"""

from __future__ import annotations

import csv
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from conftest import EXAMPLE
from pingyi.data.contract import TABLES
from pingyi.run.pipeline import run
from pingyi.text import Status

PER_PROVIDER = ("settlements", "setl_lists", "fee_items", "audit_flags", "reported", "expert_scores")


def _files(bundle: Path) -> dict[str, Path]:
    return {p.stem: p for p in bundle.iterdir() if p.stem in PER_PROVIDER}


def _without(bundle: Path, out: Path, codes: set[str], tables: tuple[str, ...], year: int = 2025) -> Path:
    """A copy of `bundle` without the evaluation year's rows of `codes` in `tables` (last year's rows are
    already on the insurer's file and size the prepayment)."""
    shutil.copytree(bundle, out)
    con = duckdb.connect()
    listed = ", ".join(f"'{c}'" for c in sorted(codes))
    for table, path in _files(out).items():
        if table not in tables:
            continue
        target = out / path.name
        ycol = TABLES[table].year_column
        if path.suffix == ".parquet":
            con.execute(
                f"COPY (SELECT * FROM read_parquet('{bundle / path.name}') WHERE NOT (fixmedins_code IN ({listed}) "
                f"AND CAST({ycol} AS VARCHAR) LIKE '{year}%')) TO '{target}' (FORMAT parquet)"
            )
        else:
            with (bundle / path.name).open(encoding="utf-8", newline="") as fh:
                rows = list(csv.reader(fh))
            col, ycol_i = rows[0].index("fixmedins_code"), rows[0].index(ycol)
            kept = [r for r in rows[1:] if not (r[col] in codes and r[ycol_i].startswith(str(year)))]
            with target.open("w", encoding="utf-8", newline="") as fh:
                csv.writer(fh, lineterminator="\n").writerows([rows[0], *kept])
    return out


def _outcome(result) -> dict[str, tuple[float, int, Decimal]]:
    bands = [b.name for b in result.project.policy.grades]  # best first
    adj = {a.fixmedins_code: a.amount for a in result.adjustments}
    out = {}
    for r in result.results:
        # an ungraded provider ranks with the worst grade here: escaping a grade must not be a gain
        rank = bands.index(r.grade) if r.grade in bands else len(bands) - 1
        out[r.fixmedins_code] = (r.total if r.total is not None else 0.0, rank, adj[r.fixmedins_code])
    return out


@pytest.fixture(scope="module")
def full():
    return run(EXAMPLE)


@pytest.mark.parametrize("tables", [("setl_lists",), PER_PROVIDER], ids=["settlement lists", "every row"])
@pytest.mark.parametrize("third", [0, 1, 2])
def test_withholding_never_raises_total_grade_or_adjustment(full, tmp_path, tables, third):
    codes = sorted(p.code for p in full.providers)[third::3]
    before = _outcome(full)
    withheld = run(_without(EXAMPLE, tmp_path / "bundle", set(codes), tables))
    after = _outcome(withheld)
    for code in codes:
        total0, grade0, amount0 = before[code]
        total1, grade1, amount1 = after[code]
        assert total1 <= total0 + 1e-9, f"{code}: total rose from {total0} to {total1} with {tables} withheld"
        assert grade1 >= grade0, f"{code}: grade rose with {tables} withheld"
        assert amount1 <= amount0, f"{code}: adjustment rose from {amount0} to {amount1} with {tables} withheld"
        if amount0 < 0:
            assert amount1 < 0, f"{code}: penalty {amount0} cancelled by withholding {tables}"
    # the lists of a hospital with inpatient stays are owed: withholding them is *missing*, not grey
    by_code = {r.fixmedins_code: r for r in withheld.results}
    scored = {r.fixmedins_code: r.indicators["D1.04"].status for r in full.results}
    hospitals = [c for c in codes if scored[c] is Status.SCORED]
    assert hospitals
    for code in hospitals:
        assert by_code[code].indicators["D1.04"].status is Status.MISSING
        assert by_code[code].indicators["D1.04"].score == 0.0


def test_no_audit_flag_is_zero_violations_not_missing(full, tmp_path):
    code = next(p.code for p in full.providers if p.level == "三级")
    result = run(_without(EXAMPLE, tmp_path / "bundle", {code}, ("audit_flags",)))
    r = next(r for r in result.results if r.fixmedins_code == code)
    for ind in ("D4.01", "D4.02"):
        s = r.indicators[ind]
        assert s.status is Status.SCORED and s.value == 0.0 and s.score == 100.0, (ind, s)
    # no flag to handle: the timeliness of handling flags has no denominator (grey, no fault)
    assert r.indicators["D4.03"].status is Status.INSUFFICIENT
