"""Scoring rules, keyed by name: each rule is one class holding its parameters (validated with the
project, so a bad parameter is reported at its file and line), the directions it serves, the points
it gives a value, and the sentence the indicator manual prints for it.

Adding a rule means adding one class here (registered with `@rule`) and its paragraph in
docs/user-guide.md; the spec models, the validation, the score stage and the manual pick it up
from `RULES`. The rules live in the spec layer because their parameters are part of the project's
YAML and the spec layer validates that; the score stage only calls `points()`.

Points are on [0, 100] and monotone in the indicator's good direction:

One meaning of a light for every rule: an indicator's light is the band of its score (green >= 80,
yellow >= 60, red below: GREEN_POINTS, YELLOW_POINTS). The gap rules place their band edges at the
indicator's light bounds, so the light a hospital reads from "how much worse than the baseline" and the
light of its points are the same light:

* ``threshold``: meets the baseline -> 100; linear to 80 at the yellow bound, to 60 at the red bound,
  to 0 at ``zero_at`` worse (default: twice the red bound). Relative mode measures "worse" as a
  share of the baseline, the source documents' rule ("exceeding its baseline by 20 %" [001 §5.3]).
* ``vbp``: value-based-purchasing style. The continuous default (``points: continuous``) computes
  achievement = 0 below the baseline (the achievement threshold), 100 at or beyond the benchmark and
  10 + 90·r in between (r = the value's position from the baseline to the benchmark); improvement =
  90·(value − prior) / (benchmark − prior) clipped to [0, 90] (the provider's own prior year); the
  score is the higher of the two. It is CMS's shape without its rounding, so it is NOT CMS's points.
  ``points: hvbp`` gives CMS Hospital VBP points x 10 (42 CFR 412.165; the FY 2013 IPPS final rule's
  formulas): achievement = round(9·r + 0.5) (1-9 between threshold and benchmark, 10 at or beyond
  the benchmark, 0 below the threshold), improvement = round(10·(value − prior)/(benchmark − prior)
  − 0.5) (0-9, 0 when not better than the prior year), rounded half up to whole points, lower-is-
  better measures with the differences inverted; the score is the higher.
* ``target_range``: inside [low, high] -> 100; outside, the distance is scored like a threshold gap
  (80 at the yellow bound, 60 at the red bound, 0 at ``zero_at``).
* ``none``: monitor-only; no score, a neutral mark.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from pingyi.text import format_value

if TYPE_CHECKING:
    from pingyi.spec.models import IndicatorSpec

UP, DOWN, TARGET, MONITOR = "up", "down", "target", "monitor"


def worse_gap(ind: IndicatorSpec, value: float, reference: float) -> float:
    """How much worse `value` is than `reference` in the indicator's bad direction.

    Relative mode divides by |reference|; with a zero reference it falls back to the absolute gap
    (a share of zero is undefined)."""
    diff = value - reference if ind.direction.value == DOWN else reference - value
    if ind.lights.mode == "relative" and reference != 0:
        return diff / abs(reference)
    return diff


def goodness(ind: IndicatorSpec, v: float) -> float:
    """`v` on a scale where larger is better."""
    return -v if ind.direction.value == DOWN else v


def clip(x: float, lo: float = 0.0, hi: float = 100.0) -> float:
    return max(lo, min(hi, x))


GREEN_POINTS, YELLOW_POINTS = 80.0, 60.0  # an indicator's light is the band of its points


def light_of_points(points: float) -> str:
    return "green" if points >= GREEN_POINTS else "yellow" if points >= YELLOW_POINTS else "red"


def banded_points(gap: float, yellow: float, red: float, zero_at: float) -> float:
    """Points of a gap (how much worse, >= 0 is worse) with the band edges at the light bounds: 100 at
    0, 80 at `yellow`, 60 at `red`, 0 at `zero_at`, linear between (a jump below 80 when yellow is 0:
    any gap is then yellow)."""
    if gap <= 0:
        return 100.0
    if gap <= yellow:
        return 100.0 - (100.0 - GREEN_POINTS) * gap / yellow
    # past a bound the points stay strictly below its band edge, however small the excess
    if gap <= red:
        pts = GREEN_POINTS - (GREEN_POINTS - YELLOW_POINTS) * (gap - yellow) / (red - yellow)
        return min(pts, math.nextafter(GREEN_POINTS, 0.0))
    if gap < zero_at:
        return min(YELLOW_POINTS * (1.0 - (gap - red) / (zero_at - red)), math.nextafter(YELLOW_POINTS, 0.0))
    return 0.0


@dataclass(frozen=True)
class Points:
    """What a rule gives one value. `gap` and `how` are set by rules that judge a value against their
    own band rather than the baseline (the light then follows that gap); `missing` names what the rule
    needed and did not get (the indicator is then insufficient, grey)."""

    score: float | None
    detail: dict[str, float] = field(default_factory=dict)
    gap: float | None = None
    how: tuple[str, str] | None = None  # (English, Chinese)
    missing: tuple[str, str] | None = None  # (English, Chinese)


class Rule(BaseModel):
    """Base of every rule: frozen, no unknown fields."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    rule: str
    directions: ClassVar[frozenset[str]] = frozenset({UP, DOWN})
    uses_baseline: ClassVar[bool] = True  # no baseline for the provider's region and level: insufficient
    uses_benchmark: ClassVar[bool] = False  # the baselines file must give a benchmark (PY406)
    scored: ClassVar[bool] = True  # False: monitor-only, no weight in the total

    def points(
        self, ind: IndicatorSpec, value: float, baseline: float | None, benchmark: float | None, prior: float | None
    ) -> Points:
        raise NotImplementedError

    def describe(self, ind: IndicatorSpec) -> str:
        raise NotImplementedError

    def problems(self) -> list[tuple[tuple[str, ...], str, str, str]]:
        """Inconsistent parameters: (path under `scoring`, message, found, expected)."""
        return []


RULES: dict[str, type[Rule]] = {}


def rule(cls: type[Rule]) -> type[Rule]:
    """Register a rule under the name its `rule` field admits."""
    name = cls.model_fields["rule"].annotation.__args__[0]  # type: ignore[union-attr]
    RULES[name] = cls
    return cls


@rule
class ThresholdRule(Rule):
    """Meets the baseline -> 100; 80 at the yellow bound, 60 at the red bound, 0 at `zero_at` (default:
    twice the red bound); linear between."""

    rule: Literal["threshold"]
    zero_at: float | None = Field(
        default=None, gt=0, description="worse-than-baseline share (or absolute gap) scoring 0"
    )

    def zero(self, ind: IndicatorSpec) -> float:
        return max(self.zero_at if self.zero_at is not None else 2 * ind.lights.red, ind.lights.red)

    def points(self, ind, value, baseline, benchmark, prior):
        assert baseline is not None
        gap = worse_gap(ind, value, baseline)
        return Points(banded_points(gap, ind.lights.yellow, ind.lights.red, self.zero(ind)))

    def describe(self, ind):
        def amount(x: float) -> str:
            return f"{x:.0%}" if ind.lights.mode == "relative" else format_value(x, ind.unit, display=False)

        return (
            f"threshold: meets baseline -> 100, {amount(ind.lights.yellow)} worse -> 80, "
            f"{amount(ind.lights.red)} worse -> 60, {amount(self.zero(ind))} worse -> 0, linear between"
        )


@rule
class VbpRule(Rule):
    """Value-based-purchasing style (CMS HVBP): achievement points between the baseline and a
    benchmark, improvement points against the provider's own prior year; the higher counts."""

    rule: Literal["vbp"]
    improvement: bool = True
    points_mode: Literal["continuous", "hvbp"] = Field(
        default="continuous",
        alias="points",
        description="continuous (10 + 90r, no rounding) or hvbp (CMS HVBP whole points x 10)",
    )
    uses_benchmark: ClassVar[bool] = True

    def points(self, ind, value, baseline, benchmark, prior):
        assert baseline is not None
        if benchmark is None:
            return Points(None, missing=("no benchmark for this region and level", "本地区本级别无标杆值"))
        g_v, g_b, g_bm = goodness(ind, value), goodness(ind, baseline), goodness(ind, benchmark)
        if self.points_mode == "hvbp":
            return self._hvbp(ind, g_v, g_b, g_bm, prior)
        span = g_bm - g_b
        if g_v < g_b:
            achievement = 0.0
        elif span <= 0 or g_v >= g_bm:
            achievement = 100.0
        else:
            achievement = 10.0 + 90.0 * (g_v - g_b) / span
        improvement = 0.0
        if self.improvement and prior is not None:
            g_p = goodness(ind, prior)
            if g_v >= g_bm and g_p < g_bm:
                improvement = 90.0
            elif g_bm > g_p and g_v > g_p:
                improvement = clip(90.0 * (g_v - g_p) / (g_bm - g_p), 0.0, 90.0)
        return Points(max(achievement, improvement), {"achievement": achievement, "improvement": improvement})

    def _hvbp(self, ind: IndicatorSpec, g_v: float, g_b: float, g_bm: float, prior: float | None) -> Points:
        """CMS HVBP achievement and improvement points (whole points 0-10), times 10. Goodness values make
        lower-is-better measures the inverted differences CMS uses for them."""

        def whole(x: float) -> int:  # CMS rounds to the nearest whole number, halves up (on the decimal
            return math.floor(round(x, 9) + 0.5)  # value: 3.4999999999 from binary floats is 3.5)

        if g_v >= g_bm:
            ach = 10
        elif g_v < g_b:
            ach = 0
        else:
            ach = min(9, max(1, whole(9 * (g_v - g_b) / (g_bm - g_b) + 0.5)))
        imp = 0
        if self.improvement and prior is not None:
            g_p = goodness(ind, prior)
            if g_v >= g_bm and g_v > g_p:  # CMS's published files show 9 of 9 here, also when the
                imp = 9  # baseline itself was already at or beyond the benchmark (the score is 10 anyway)
            elif g_v > g_p:  # then g_bm > g_v > g_p
                imp = min(9, max(0, whole(10 * (g_v - g_p) / (g_bm - g_p) - 0.5)))
        return Points(10.0 * max(ach, imp), {"achievement": 10.0 * ach, "improvement": 10.0 * imp})

    def describe(self, ind):
        if self.points_mode == "hvbp":
            return (
                "vbp (hvbp): CMS Hospital VBP achievement 0-10 and improvement 0-9 whole points x 10; the higher counts"
            )
        return "vbp: achievement 10 + 90r between baseline and benchmark (0 below, 100 at the benchmark)" + (
            "; improvement 90 x the share of the gap from own prior year to the benchmark closed; the higher counts"
            if self.improvement
            else ""
        )


@rule
class TargetRangeRule(Rule):
    """Inside [low, high] -> 100; linear to 0 at `zero_at` outside the band."""

    rule: Literal["target_range"]
    low: float
    high: float
    zero_at: float = Field(gt=0, description="distance outside the band (indicator units) scoring 0")
    directions: ClassVar[frozenset[str]] = frozenset({TARGET})
    uses_baseline: ClassVar[bool] = False

    def points(self, ind, value, baseline, benchmark, prior):
        if self.low <= value <= self.high:
            dist = 0.0
        else:
            dist = self.low - value if value < self.low else value - self.high
        bound = self.low if value < self.low else self.high
        gap = dist / abs(bound) if ind.lights.mode == "relative" and bound != 0 else dist
        band = (
            f"[{format_value(self.low, ind.unit, display=False)}, {format_value(self.high, ind.unit, display=False)}]"
        )
        if dist == 0:
            how = (f"inside the target band {band}", f"在目标区间 {band} 内")
        else:
            how = (
                f"{format_value(dist, ind.unit, display=False)} outside the target band {band}",
                f"偏离目标区间 {band}",
            )
        zero = self.zero_at / abs(bound) if ind.lights.mode == "relative" and bound != 0 else self.zero_at
        pts = banded_points(gap, ind.lights.yellow, ind.lights.red, max(zero, ind.lights.red))
        return Points(pts, {"distance": dist}, gap=gap, how=how)

    def describe(self, ind):
        return (
            f"target range [{format_value(self.low, ind.unit, display=False)}, "
            f"{format_value(self.high, ind.unit, display=False)}] -> 100; outside, "
            f"{format_value(ind.lights.yellow, ind.unit, display=False)} away -> 80, "
            f"{format_value(ind.lights.red, ind.unit, display=False)} -> 60, "
            f"{format_value(self.zero_at, ind.unit, display=False)} -> 0, linear between"
        )

    def problems(self):
        if self.low > self.high:
            return [(("low",), "target band is empty", f"low {self.low} > high {self.high}", "low <= high")]
        return []


@rule
class NoRule(Rule):
    """Monitor-only: shown with a neutral mark, carries no weight in the total."""

    rule: Literal["none"]
    directions: ClassVar[frozenset[str]] = frozenset({MONITOR})
    uses_baseline: ClassVar[bool] = False
    scored: ClassVar[bool] = False

    def points(self, ind, value, baseline, benchmark, prior):
        return Points(None)

    def describe(self, ind):
        return "none: monitored, shown with a neutral mark, no weight in the total"


def scoring_text(ind: IndicatorSpec) -> str:
    """The manual's sentence for an indicator's rule and lights (`pingyi explain`, the manual)."""
    lights = ind.lights
    if lights.mode == "relative":
        bounds = (
            f"green when not worse than baseline by more than {lights.yellow:.0%}, red when worse by more "
            f"than {lights.red:.0%}"
        )
    else:
        bounds = (
            f"green when within {format_value(lights.yellow, ind.unit, display=False)} of the baseline, "
            f"red when worse by more than {format_value(lights.red, ind.unit, display=False)}"
        )
    if lights.statistical == "funnel":
        od = {"tau2": "additive tau^2", "phi": "multiplicative phi", "none": "no"}[lights.overdispersion]
        bounds += (
            f"; funnel: 95 % / 99.8 % control limits at the provider's volume shown with each reason (the "
            f"light is the band of the points); {od} overdispersion correction of the limits after "
            f"{lights.trim:.0%} winsorisation of z-scores"
        )
        if lights.funnel_score == "beyond_95":
            bounds += (
                "; scored on the deviation beyond 1.96 sampling standard errors at the provider's volume only "
                "(within them: as meeting the baseline; overdispersion is not forgiven)"
            )
    return f"{ind.scoring.describe(ind)}; lights: {bounds}"
