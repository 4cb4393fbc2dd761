"""`points: hvbp` on the vbp rule: CMS Hospital VBP points x 10.

Structure from 42 CFR 412.165(a): 1-9 achievement points from the achievement threshold up to (not
including) the benchmark, 0-9 improvement points above the improvement threshold (the hospital's own
baseline period) and below the benchmark, 10 points at or beyond the benchmark. The point formulas
(achievement = 9 x (score - threshold) / (benchmark - threshold) + 0.5, improvement = 10 x (score -
baseline period) / (benchmark - baseline period) - 0.5, each rounded to a whole number) are those of the
FY 2011/2013 Hospital VBP final rules (76 FR 26490). The cases below are hand-computed from these
formulas; they are not (yet) CMS's published worked examples.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pingyi.spec.models import IndicatorSpec

MANUAL = {
    "meaning": "m",
    "meaning_en": "m",
    "formula_text": "f",
    "formula_text_en": "f",
    "inclusions": "i",
    "exclusions": "e",
    "data_source": "d",
    "interpretation": "x",
}


def vbp(direction: str = "up", points: str = "hvbp") -> IndicatorSpec:
    return IndicatorSpec.model_validate(
        {
            "code": "D5.01",
            "name_zh": "异地直接结算率",
            "name_en": "Direct settlement",
            "manual": MANUAL,
            "formula": "a / b",
            "direction": direction,
            "unit": "percent",
            "source": "settlement",
            "scoring": {"rule": "vbp", "points": points},
        }
    )


# (value, threshold, benchmark, prior, achievement points, improvement points) on a higher-is-better rate
CASES = [
    (0.60, 0.70, 0.90, None, 0, 0),  # below the threshold
    (0.70, 0.70, 0.90, None, 1, 0),  # at the threshold: 9 x 0 + 0.5 = 0.5 -> 1
    (0.75, 0.70, 0.90, None, 3, 0),  # 9 x 0.25 + 0.5 = 2.75 -> 3
    (0.80, 0.70, 0.90, None, 5, 0),  # 9 x 0.5 + 0.5 = 5.0
    (0.85, 0.70, 0.90, None, 7, 0),  # 9 x 0.75 + 0.5 = 7.25 -> 7
    (0.89, 0.70, 0.90, None, 9, 0),  # 9 x 0.95 + 0.5 = 9.05 -> 9
    (0.90, 0.70, 0.90, None, 10, 0),  # at the benchmark
    (0.95, 0.70, 0.90, None, 10, 0),  # beyond it
    (0.60, 0.70, 0.90, 0.40, 0, 4),  # improvement 10 x 0.2/0.5 - 0.5 = 3.5 -> 4 (half up)
    (0.65, 0.70, 0.90, 0.40, 0, 5),  # 10 x 0.25/0.5 - 0.5 = 4.5 -> 5 (half up)
    (0.80, 0.70, 0.90, 0.50, 5, 7),  # 10 x 0.3/0.4 - 0.5 = 7.0
    (0.85, 0.70, 0.90, 0.80, 7, 5),  # 10 x 0.05/0.1 - 0.5 = 4.5 -> 5
    (0.80, 0.70, 0.90, 0.85, 5, 0),  # worse than its own prior year: no improvement
    (0.80, 0.70, 0.90, 0.80, 5, 0),  # equal to it: none
    (0.89, 0.70, 0.90, 0.30, 9, 9),  # 10 x 0.59/0.6 - 0.5 = 9.33 -> 9 (cap 9)
    (0.71, 0.70, 0.90, 0.70, 1, 0),  # 10 x 0.01/0.2 - 0.5 = 0.0
    (0.72, 0.70, 0.90, 0.70, 1, 1),  # 9 x 0.1 + 0.5 = 1.4 -> 1; 10 x 0.1 - 0.5 = 0.5 -> 1
    (0.78, 0.70, 0.90, 0.70, 4, 4),  # 9 x 0.4 + 0.5 = 4.1 -> 4; 10 x 0.4 - 0.5 = 3.5 -> 4 (half up)
]


def expected(value, threshold, benchmark, prior):
    """The published formulas, computed independently of pingyi with Decimal half-up rounding."""
    from decimal import ROUND_HALF_UP, Decimal

    def whole(x: Decimal) -> int:
        return int(x.quantize(Decimal(1), rounding=ROUND_HALF_UP))

    v, t, b = Decimal(str(value)), Decimal(str(threshold)), Decimal(str(benchmark))
    ach = 10 if v >= b else 0 if v < t else min(9, max(1, whole(9 * (v - t) / (b - t) + Decimal("0.5"))))
    imp = 0
    if prior is not None:
        p = Decimal(str(prior))
        if v > p and b > p:
            imp = min(9, max(0, whole(10 * (v - p) / (b - p) - Decimal("0.5"))))
    return ach, imp


@pytest.mark.parametrize("value,threshold,benchmark,prior,_a,_i", CASES)
def test_hvbp_points_times_ten(value, threshold, benchmark, prior, _a, _i):
    ach, imp = expected(value, threshold, benchmark, prior)
    assert (ach, imp) == (_a, _i)  # the hand computation in the table agrees with the formula
    pts = vbp().scoring.points(vbp(), value, threshold, benchmark, prior)
    assert pts.detail["achievement"] == 10 * ach and pts.detail["improvement"] == 10 * imp
    assert pts.score == 10 * max(ach, imp)


def test_hand_checked_cases():
    ind = vbp()
    pts = ind.scoring.points
    assert pts(ind, 0.70, 0.70, 0.90, None).score == 10.0  # at the threshold: 1 point
    assert pts(ind, 0.80, 0.70, 0.90, None).score == 50.0
    assert pts(ind, 0.90, 0.70, 0.90, None).score == 100.0
    assert pts(ind, 0.60, 0.70, 0.90, None).score == 0.0
    assert pts(ind, 0.80, 0.70, 0.90, 0.50).score == 70.0  # improvement 7 beats achievement 5


def test_lower_is_better_inverts_the_differences():
    down = vbp("down")
    # threshold 10 %, benchmark 5 %: 7.5 % is half way -> 9 x 0.5 + 0.5 = 5 points
    assert down.scoring.points(down, 0.075, 0.10, 0.05, None).score == 50.0
    assert down.scoring.points(down, 0.12, 0.10, 0.05, None).score == 0.0
    assert down.scoring.points(down, 0.05, 0.10, 0.05, None).score == 100.0


@given(
    value=st.floats(0, 1),
    threshold=st.floats(0.1, 0.8),
    span=st.floats(0.01, 0.2),
    prior=st.one_of(st.none(), st.floats(0, 1)),
)
def test_hvbp_points_are_whole_tens_and_monotone(value, threshold, span, prior):
    ind = vbp()
    bench = threshold + span
    s = ind.scoring.points(ind, value, threshold, bench, prior).score
    assert s in {10.0 * k for k in range(11)}
    assert ind.scoring.points(ind, min(1.0, value + 0.01), threshold, bench, prior).score >= s


def test_continuous_default_is_documented_as_what_it_computes():
    ind = vbp(points="continuous")
    assert ind.scoring.points(ind, 0.70, 0.70, 0.90, None).score == pytest.approx(10.0)
    assert ind.scoring.points(ind, 0.80, 0.70, 0.90, None).score == pytest.approx(55.0)  # 10 + 90 x 0.5
    assert "10 + 90r" in ind.scoring.describe(ind)
    assert "CMS" in vbp().scoring.describe(vbp())


def test_a_bad_points_mode_is_a_validation_error():
    with pytest.raises(ValueError, match="points"):
        vbp(points="cms")
