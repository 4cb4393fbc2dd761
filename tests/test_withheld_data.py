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


def _outcome(result) -> dict[str, tuple[float | None, int, Decimal]]:
    bands = [b.name for b in result.project.policy.grades]  # best first
    adj = {a.fixmedins_code: a.amount for a in result.adjustments}
    out = {}
    for r in result.results:
        # an ungraded provider ranks with the worst grade here: escaping a grade must not be a gain
        rank = bands.index(r.grade) if r.grade in bands else len(bands) - 1
        out[r.fixmedins_code] = (r.total, rank, adj[r.fixmedins_code])
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
        if total0 is not None:  # a graded provider stays graded (no escape into 不予评级) and never gains
            assert total1 is not None, f"{code}: withholding {tables} made it ungraded"
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


def test_eligibility_rules_of_the_policy(full):
    """min_scored and max_weight_ratio of policy.yaml: a provider over the cap is not graded (no fault of
    its own: grey indicators only) and no money moves; with missing data it is graded failing instead."""
    from dataclasses import replace

    from pingyi.score.aggregate import aggregate_provider
    from pingyi.score.indicator import IndicatorScore

    project, tree = full.project, full.tree
    r = next(x for x in full.results if x.grade not in (project.policy.insufficient_grade,))
    strict = project.policy.model_copy(
        update={"eligibility": project.policy.eligibility.model_copy(update={"min_scored": 36})}
    )
    again = aggregate_provider(r.fixmedins_code, r.indicators, tree, strict)
    assert again.grade == project.policy.insufficient_grade and again.total is None
    assert "fewer than the 36 required" in again.eligibility and "不予评级" in again.eligibility_zh
    # the same with one indicator missing: graded as failing to report
    code = next(c for c, s in r.indicators.items() if s.score is not None)
    missing: dict[str, IndicatorScore] = {
        **r.indicators,
        code: replace(r.indicators[code], score=0.0, status=Status.MISSING, value=None),
    }
    failed = aggregate_provider(r.fixmedins_code, missing, tree, strict)
    assert failed.grade == project.policy.fail_grade and failed.total is not None
    assert "failure to report" in failed.eligibility
    # the shipped cap: no graded provider has an indicator above 5x its nominal weight
    nominal = tree.global_weights()
    for x in full.results:
        if x.total is not None:
            assert max(x.effective_weight[c] / nominal[c] for c in nominal) <= 5.0 + 1e-9


def test_every_grey_indicator_says_which_kind_of_absence(full):
    kinds = {"volume", "source", "baseline", "missing"}
    seen = set()
    for r in full.results:
        for s in r.indicators.values():
            if s.status in (Status.INSUFFICIENT, Status.MISSING):
                assert s.absence in kinds, (r.fixmedins_code, s.code, s.reason)
                seen.add(s.absence)
            else:
                assert s.absence == ""
    assert "volume" in seen
