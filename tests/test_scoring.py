"""Scoring rules, aggregation, grades and adjustments: hand-computed examples and properties."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pingyi.score.adjust import AdjustmentInput, compute_adjustments, designation_status
from pingyi.score.aggregate import aggregate_provider, grade_for, rank_results
from pingyi.score.indicator import score_indicator
from pingyi.spec.models import IndicatorSpec, PolicyFile
from pingyi.text import Light
from pingyi.validate import require_valid

MINI = Path(__file__).parent / "fixtures" / "mini"
MANUAL = dict.fromkeys(
    ("meaning", "meaning_en", "formula_text", "formula_text_en", "inclusions", "exclusions", "data_source"), "x"
)


def spec(**kw) -> IndicatorSpec:
    base = {
        "code": "D1.01",
        "name_zh": "次均住院费用增长率",
        "name_en": "Cost growth",
        "manual": MANUAL,
        "formula": "a / b",
        "direction": "down",
        "unit": "percent",
        "source": "settlement",
        "scoring": {"rule": "threshold"},
    }
    base.update(kw)
    return IndicatorSpec.model_validate(base)


# ---------------------------------------------------------------- threshold rule


def test_threshold_issue_example_is_red_with_reason():
    """The issue's example: 9.1 % vs baseline 5 %: 82 % worse, red."""
    s = score_indicator(spec(), 0.091, 0.05)
    assert s.light is Light.RED
    assert s.gap == pytest.approx(0.82)
    assert s.score == 0.0  # beyond the red bound (20 % worse) the threshold rule gives 0
    assert "9.1% vs baseline 5.0%: 82% worse, red" in s.reason
    assert "红灯" in s.reason_zh


@pytest.mark.parametrize(
    "value,score,light",
    [
        (0.040, 100.0, Light.GREEN),  # better than baseline
        (0.050, 100.0, Light.GREEN),  # meets baseline exactly
        # yellow bound 0, red bound 20 %, zero at twice the red bound: 100 at the baseline, then 80 -> 60
        # between 0 and 20 % worse, 60 -> 0 between 20 % and 40 %: the light is the band of the points
        (0.055, 70.0, Light.YELLOW),  # 10 % worse: half way from 80 to 60
        (0.060, 60.0, Light.YELLOW),  # exactly 20 % worse: still yellow (red is *more than* 20 %), 60 points
        (0.0601, 59.4, Light.RED),  # 20.2 % worse: 60 * (1 - 0.2 / 20)
        (0.070, 0.0, Light.RED),  # 40 % worse
    ],
)
def test_threshold_linear_deduction(value, score, light):
    s = score_indicator(spec(), value, 0.05)
    assert s.score == pytest.approx(score, abs=1e-9)
    assert s.light is light


def test_threshold_zero_at_and_up_direction():
    ind = spec(direction="up", scoring={"rule": "threshold", "zero_at": 0.5})
    # baseline 70 %, value 56 %: (70-56)/70 = 20 % worse -> 100*(1-0.2/0.5) = 60; exactly the red bound: yellow
    s = score_indicator(ind, 0.56, 0.70)
    assert s.score == pytest.approx(60.0)
    assert s.light is Light.YELLOW
    assert score_indicator(ind, 0.35, 0.70).score == pytest.approx(0.0)  # 50 % worse


def test_absolute_mode_uses_units():
    ind = spec(lights={"mode": "absolute", "yellow": 0.0, "red": 0.02})
    s = score_indicator(ind, 0.015, 0.0)  # baseline 0: 1.5 points worse, red at 2: 80 - 20 * 1.5 / 2 = 65
    assert s.score == pytest.approx(65.0)
    assert s.light is Light.YELLOW


# ---------------------------------------------------------------- vbp rule


def test_vbp_achievement_and_improvement():
    ind = spec(direction="up", scoring={"rule": "vbp"})
    # baseline 70 %, benchmark 90 %: value 80 % -> achievement 10 + 90*(10/20) = 55
    s = score_indicator(ind, 0.80, 0.70, benchmark=0.90, prior=0.50)
    assert s.detail["achievement"] == pytest.approx(55.0)
    # improvement: prior 50 %, 90*(80-50)/(90-50) = 67.5 -> the higher counts
    assert s.detail["improvement"] == pytest.approx(67.5)
    assert s.score == pytest.approx(67.5)
    # below the baseline: no achievement points, improvement still counts
    s = score_indicator(ind, 0.65, 0.70, benchmark=0.90, prior=0.50)
    assert s.detail["achievement"] == 0.0
    assert s.score == pytest.approx(90 * 15 / 40)
    # at the benchmark: 100
    assert score_indicator(ind, 0.95, 0.70, benchmark=0.90, prior=0.95).score == 100.0


def test_vbp_lower_is_better():
    ind = spec(direction="down", scoring={"rule": "vbp"})
    # baseline 30 %, benchmark 20 %: value 25 % -> achievement 10 + 90*0.5 = 55
    s = score_indicator(ind, 0.25, 0.30, benchmark=0.20, prior=None)
    assert s.score == pytest.approx(55.0)


# ---------------------------------------------------------------- target range, monitor, insufficient


def test_target_range():
    ind = spec(
        direction="target", unit="index", scoring={"rule": "target_range", "low": 0.9, "high": 1.1, "zero_at": 0.4}
    )
    assert score_indicator(ind, 1.0, 1.0).score == 100.0
    # 0.2 above the high end 1.1: relative gap 0.2 / 1.1 within the red bound 20 % -> 80 - 20 * gap / 0.2
    assert score_indicator(ind, 1.3, 1.0).score == pytest.approx(80 - 20 * (0.2 / 1.1) / 0.2)
    assert score_indicator(ind, 0.5, 1.0).score == 0.0


def test_monitor_is_neutral():
    ind = spec(direction="monitor", scoring={"rule": "none"})
    s = score_indicator(ind, 3.2, 1.0)
    assert s.score is None and s.light is Light.NONE and s.status == "monitor"


def test_insufficient_volume_is_grey_not_zero():
    ind = spec(volume={"measure": "stays", "minimum": 30})
    s = score_indicator(ind, 0.5, 0.05, volume=12)
    assert s.score is None and s.light is Light.GREY and s.status == "insufficient"
    assert "below the minimum 30" in s.reason
    assert score_indicator(ind, None, 0.05, volume=100).light is Light.GREY


# ---------------------------------------------------------------- properties


@settings(max_examples=200, deadline=None)
@given(
    direction=st.sampled_from(["up", "down"]),
    rule=st.sampled_from(["threshold", "vbp"]),
    base=st.floats(0.05, 10),
    v1=st.floats(0, 20),
    v2=st.floats(0, 20),
    prior=st.floats(0, 20),
)
def test_scores_in_range_and_monotone(direction, rule, base, v1, v2, prior):
    bench = base * (1.5 if direction == "up" else 0.5)
    ind = spec(direction=direction, scoring={"rule": rule})
    s1 = score_indicator(ind, v1, base, benchmark=bench, prior=prior)
    s2 = score_indicator(ind, v2, base, benchmark=bench, prior=prior)
    for s in (s1, s2):
        assert 0.0 <= s.score <= 100.0
    better, worse = (s1, s2) if (v1 >= v2) == (direction == "up") else (s2, s1)
    assert better.score >= worse.score - 1e-9


# ---------------------------------------------------------------- aggregation and grades


@pytest.fixture(scope="module")
def mini():
    valid = require_valid(MINI)
    return valid.project, valid.tree


def _scores(project, values: dict[str, float | None]):
    out = {}
    for code, ind in project.indicators.items():
        region_base = project.baseline(code, "east", "三级")
        bench = project.baseline(code, "east", "三级", "benchmark")
        out[code] = score_indicator(ind, values.get(code), region_base, benchmark=bench, volume=100)
    return out


def test_aggregation_hand_computed(mini):
    project, tree = mini
    # D1 local weights 4/7, 2/7, 1/7; D2 3/4, 1/4; primaries from AIJ of (3, 2): sqrt(6) : 1
    scores = _scores(project, {"D1.01": 0.055, "D1.02": 0.30, "D1.03": 0.90, "D2.01": 85, "D2.02": 40})
    # D1.01 (10 % worse, red bound 20 %) 70; D1.02 (east 三级 baseline 30 %) 100; D1.03 at benchmark 100;
    # D2.01 100; D2.02 (80 -> 40: 50 % worse, beyond twice the red bound) 0
    r = aggregate_provider("H33010600001", scores, tree, project.policy)
    d1 = (4 / 7) * 70 + (2 / 7) * 100 + (1 / 7) * 100
    d2 = 0.75 * 100 + 0.25 * 0
    w1 = 6**0.5 / (6**0.5 + 1)
    assert r.primaries[0].score == pytest.approx(d1)
    assert r.primaries[1].score == pytest.approx(d2)
    assert r.total == pytest.approx(w1 * d1 + (1 - w1) * d2)
    assert sum(r.contribution.values()) == pytest.approx(r.total)
    assert sum(r.effective_weight.values()) == pytest.approx(1.0)


def test_insufficient_weight_redistributed_within_primary(mini):
    project, tree = mini
    scores = _scores(project, {"D1.01": None, "D1.02": 0.30, "D1.03": 0.90, "D2.01": 85, "D2.02": 80})
    r = aggregate_provider("H1", scores, tree, project.policy)
    assert r.primaries[0].insufficient == ("D1.01",)
    assert r.primaries[0].score == pytest.approx(100.0)
    assert r.effective_weight["D1.01"] == 0.0
    assert r.effective_weight["D1.02"] == pytest.approx(tree.primary_weights()["D1"] * (2 / 3))


def test_whole_primary_insufficient_redistributes_across_primaries(mini):
    project, tree = mini
    scores = _scores(project, {"D2.01": 85, "D2.02": 40})
    r = aggregate_provider("H1", scores, tree, project.policy)
    assert r.primaries[0].score is None and r.primaries[0].light is Light.GREY
    assert r.total == pytest.approx(75.0)


@pytest.mark.parametrize(
    "total,grade",
    [
        (100, "优秀"),
        (90.0, "优秀"),
        (89.9999, "良好"),
        (80, "良好"),
        (79.99, "合格"),
        (60, "合格"),
        (59.999, "不合格"),
        (0, "不合格"),
        (None, "不予评级"),
    ],
)
def test_grade_band_edges(total, grade):
    assert grade_for(total, PolicyFile())[0] == grade


def test_veto_forces_fail(mini):
    project, tree = mini
    scores = _scores(project, {"D1.01": 0.04, "D1.02": 0.30, "D1.03": 0.90, "D2.01": 90, "D2.02": 90})
    r = aggregate_provider("H1", scores, tree, project.policy, vetoes=["欺诈骗保"])
    assert r.total == pytest.approx(100.0)
    assert r.grade == "不合格" and r.light is Light.RED


def test_ranks_ties_share_rank(mini):
    project, tree = mini
    results = []
    for code, v in (("H3", 0.055), ("H1", 0.04), ("H2", 0.04), ("H5", 0.058)):
        vals = {"D1.01": v, "D1.02": 0.30, "D1.03": 0.90, "D2.01": 85, "D2.02": 80}
        results.append(aggregate_provider(code, _scores(project, vals), tree, project.policy))
    results.append(aggregate_provider("H4", _scores(project, {}), tree, project.policy))  # no data: not graded
    results = rank_results(results)
    assert {r.fixmedins_code: r.rank for r in results} == {"H1": 1, "H2": 1, "H3": 3, "H5": 4, "H4": None}
    assert next(r for r in results if r.fixmedins_code == "H4").grade == "不予评级"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 0.2), min_size=5, max_size=5), st.integers(0, 4), st.floats(0.0, 0.1))
def test_improving_one_indicator_never_lowers_total(mini, values, which, step):
    project, tree = mini
    codes = list(project.indicators)
    base = dict(zip(codes, values))
    base["D2.01"], base["D2.02"] = 80 + values[3] * 50, 70 + values[4] * 50
    code = codes[which]
    ind = project.indicators[code]
    better = dict(base)
    better[code] = base[code] + (step if ind.direction.value == "up" else -step)
    t0 = aggregate_provider("H", _scores(project, base), tree, project.policy).total
    t1 = aggregate_provider("H", _scores(project, better), tree, project.policy).total
    assert t1 >= t0 - 1e-9


# ---------------------------------------------------------------- adjustments


def _row(code, grade, total, prepay="100000.00", history=()):
    return AdjustmentInput(
        fixmedins_code=code,
        grade=grade,
        total=total,
        prepayment=Decimal(prepay) if prepay else None,
        prepayment_source="providers",
        history=tuple(history),
    )


def test_step_adjustments_and_budget():
    adj, budget = compute_adjustments(
        [_row("A", "不合格", 50), _row("B", "优秀", 95), _row("C", "良好", 85)], PolicyFile()
    )
    by = {a.fixmedins_code: a for a in adj}
    assert by["A"].amount == Decimal("-10000.00") and by["A"].new_prepayment == Decimal("90000.00")
    assert by["B"].amount == Decimal("5000.00") and by["C"].amount == Decimal("0.00")
    assert budget.penalties == Decimal("10000.00") and budget.rewards == Decimal("5000.00")
    assert budget.net == Decimal("-5000.00")


def test_per_point_fujian():
    policy = PolicyFile.model_validate({"adjustment": {"mode": "per_point"}})
    adj, _ = compute_adjustments([_row("A", "合格", 75.0), _row("B", "不合格", 55.0), _row("C", "良好", 85.0)], policy)
    by = {a.fixmedins_code: a for a in adj}
    # 5 % withheld = 5000; 5 points below 80 x 3 % of it = 750
    assert by["A"].amount == Decimal("-750.00")
    assert by["B"].amount == Decimal("-5000.00")  # below 60: all withheld money
    assert by["C"].amount == Decimal("0.00")


def test_budget_neutral_scales_rewards():
    policy = PolicyFile.model_validate({"adjustment": {"mode": "budget_neutral"}})
    rows = [_row("A", "不合格", 50), _row("B", "优秀", 95), _row("C", "优秀", 92, prepay="300000.00")]
    adj, budget = compute_adjustments(rows, policy)
    # penalties 10000; unscaled rewards 5000 + 15000 = 20000 -> scale 0.5
    assert budget.scale == Decimal("0.5")
    assert budget.rewards == Decimal("10000.00") and budget.net == Decimal("0.00")


def test_two_year_rule():
    policy = PolicyFile()
    assert designation_status("不合格", ["不合格"], policy) == "revoked"
    assert designation_status("不合格", ["合格"], policy) == "warning"
    assert designation_status("不合格", [], policy) == "warning"
    assert designation_status("合格", ["不合格"], policy) == "kept"
    adj, _ = compute_adjustments([_row("A", "不合格", 40, history=["不合格"])], policy)
    assert adj[0].designation == "revoked"


def test_vetoed_provider_ranks_after_every_provider_without_a_veto(mini):
    """A provider with a veto (一票否决) is graded 不合格 whatever its total, so its total must not rank
    it among the others: it ranks after every graded provider without a veto (among the vetoed, by
    total), and a provider not graded has no rank."""
    project, tree = mini
    results = []
    for code, v, veto in (
        ("H1", 0.04, ["欺诈骗保"]),
        ("H2", 0.052, []),
        ("H3", 0.058, []),
        ("H6", 0.055, ["欺诈骗保"]),
    ):
        vals = {"D1.01": v, "D1.02": 0.30, "D1.03": 0.90, "D2.01": 85, "D2.02": 80}
        results.append(aggregate_provider(code, _scores(project, vals), tree, project.policy, vetoes=veto))
    results.append(aggregate_provider("H4", _scores(project, {}), tree, project.policy))
    totals = {r.fixmedins_code: r.total for r in results}
    assert totals["H1"] > totals["H2"] > totals["H6"] > totals["H3"]  # the vetoed H1 has the best total
    ranked = {r.fixmedins_code: r.rank for r in rank_results(results)}
    assert ranked == {"H2": 1, "H3": 2, "H1": 3, "H6": 4, "H4": None}
