"""The numbers of `pingyi.score.indicator.score_indicator`, for one indicator over many providers at
once (numpy arrays), equal to the scalar function bit for bit.

The score stage scores every provider's indicator with it, and the uncertainty analysis re-scores
perturbed baselines and survey values with it thousands of times: neither needs the reason text per
call, only points, lights, gaps and why a value went unscored. `score_vector` computes them with the
same rules (pingyi.spec.rules: threshold, vbp continuous and hvbp, target_range, none) and the same
order of floating-point operations, so each element equals the scalar result exactly (the test
compares them bit for bit, signed zeros included). A rule without a vector twin here is scored
element by element through its own `points()`, so a new rule is correct before it is fast.

Where numpy's own transcendental functions could differ from the C library's in the last bit (numpy
may use SIMD approximations for asin and sin), the funnel (`FunnelFit.z`, `FunnelFit.beyond_95`) is
computed per element with the scalar functions: only funnel-mode indicators pay for it (a few
microseconds per provider). HVBP rounding ("round half up on the decimal value") is vectorised and
only values within 1e-6 of a half are rounded by the scalar rule.

Call:

    v = score_vector(ind, value, baseline, benchmark=..., prior=..., volume=..., funnel=..., absence=...)

* ``ind``: the IndicatorSpec; ``value``, ``baseline``, ``benchmark``, ``prior``, ``volume``: 1-d float
  arrays over the same providers (NaN = None; benchmark/prior/volume may be omitted: all None);
* ``funnel``: the indicator's FunnelFit for funnel-mode lights (None: gap lights), as score_indicator;
* ``absence``: None, or an int array of ABSENCE codes per provider (0 none, ``ABSENT_MISSING`` = 1:
  mandatory data not supplied, ``ABSENT_INSUFFICIENT`` = 2: an empty insurer-side source).

Returns a VectorScores of arrays of the same length: ``points`` (NaN where score_indicator's score is
None), ``light`` (codes into LIGHTS), ``gap`` (NaN = None), ``status`` (codes into STATUSES), ``why``
(codes into WHY: which rule left it unscored), ``funnel_z`` and ``funnel_band`` (codes into BANDS, -1:
not judged by a funnel), ``scored_value`` (NaN = None), and the rule details ``achievement``,
``improvement`` (vbp) and ``distance`` (target_range), NaN where the scalar detail has no such key.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pingyi.numbers import stable
from pingyi.score.funnel import Z95, Z998, FunnelFit
from pingyi.score.indicator import (
    NO_BASELINE,
    NO_VALUE,
    IndicatorScore,
    baseline_score,
    funnel_text,
    insufficient_score,
    missing_score,
    monitor_score,
    own_band_score,
    score_indicator,
    source_reason,
    volume_reason,
)
from pingyi.spec.models import REPORTED_DENOMINATOR, IndicatorSpec
from pingyi.spec.rules import DOWN, GREEN_POINTS, YELLOW_POINTS, NoRule, TargetRangeRule, ThresholdRule, VbpRule
from pingyi.text import Light, Status

LIGHTS: tuple[Light, ...] = (Light.GREEN, Light.YELLOW, Light.RED, Light.GREY, Light.NONE)
GREEN, YELLOW, RED, GREY, NONE = range(5)
STATUSES: tuple[Status, ...] = (Status.SCORED, Status.INSUFFICIENT, Status.MISSING, Status.MONITOR)
SCORED, INSUFFICIENT, MISSING, MONITOR = range(4)
# why an indicator is not scored on data; the IndicatorScore.absence kind of each
WHY: tuple[str, ...] = ("", "missing", "source", "no value", "volume", "baseline", "benchmark")
W_NONE, W_MISSING, W_SOURCE, W_NO_VALUE, W_VOLUME, W_BASELINE, W_BENCHMARK = range(7)
ABSENCE_KIND: tuple[str, ...] = ("", "missing", "source", "volume", "volume", "baseline", "baseline")
BANDS: tuple[str, ...] = ("worse998", "worse95", "inside", "better95", "better998")
ABSENT_NONE, ABSENT_MISSING, ABSENT_INSUFFICIENT = 0, 1, 2
ABSENCE_CODES = {None: ABSENT_NONE, "missing": ABSENT_MISSING, "insufficient": ABSENT_INSUFFICIENT}

_BELOW_GREEN = math.nextafter(GREEN_POINTS, 0.0)
_BELOW_YELLOW = math.nextafter(YELLOW_POINTS, 0.0)


@dataclass(frozen=True)
class VectorScores:
    """One indicator's outcome per provider (see the module docstring for the codes)."""

    points: np.ndarray
    light: np.ndarray
    gap: np.ndarray
    status: np.ndarray
    why: np.ndarray
    funnel_z: np.ndarray
    funnel_band: np.ndarray
    scored_value: np.ndarray
    achievement: np.ndarray
    improvement: np.ndarray
    distance: np.ndarray

    def __len__(self) -> int:
        return len(self.points)


def _array(x: np.ndarray | None, n: int) -> np.ndarray:
    if x is None:
        return np.full(n, np.nan)
    arr = np.asarray(x, dtype=np.float64)
    if arr.shape != (n,):
        raise ValueError(f"an input array has shape {arr.shape}, expected ({n},) like the values")
    return arr


def worse_gap_v(ind: IndicatorSpec, value: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """pingyi.spec.rules.worse_gap over arrays."""
    diff = value - reference if ind.direction.value == DOWN else reference - value
    if ind.lights.mode == "relative":
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(reference != 0, diff / np.abs(reference), diff)
    return diff


def banded_points_v(gap: np.ndarray, yellow: float, red: float, zero_at: float | np.ndarray) -> np.ndarray:
    """pingyi.spec.rules.banded_points over arrays (the same operations in the same order)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        green_band = 100.0 - (100.0 - GREEN_POINTS) * gap / yellow
        yellow_band = np.minimum(
            GREEN_POINTS - (GREEN_POINTS - YELLOW_POINTS) * (gap - yellow) / (red - yellow), _BELOW_GREEN
        )
        red_band = np.minimum(YELLOW_POINTS * (1.0 - (gap - red) / (zero_at - red)), _BELOW_YELLOW)
    return np.where(
        gap <= 0,
        100.0,
        np.where(gap <= yellow, green_band, np.where(gap <= red, yellow_band, np.where(gap < zero_at, red_band, 0.0))),
    )


def light_of_points_v(points: np.ndarray) -> np.ndarray:
    return np.where(points >= GREEN_POINTS, GREEN, np.where(points >= YELLOW_POINTS, YELLOW, RED)).astype(np.int8)


def _goodness(ind: IndicatorSpec, v: np.ndarray) -> np.ndarray:
    return -v if ind.direction.value == DOWN else v


def _whole(x: np.ndarray) -> np.ndarray:
    """floor(round(x, 9) + 0.5) as the hvbp rule computes it: away from a half the decimal rounding
    cannot move the result; within 1e-6 of one the scalar rule decides."""
    with np.errstate(invalid="ignore"):
        out = np.floor(x + 0.5)
        near = np.abs(x - np.floor(x) - 0.5) < 1e-6
    for i in np.flatnonzero(near):
        out[i] = math.floor(round(float(x[i]), 9) + 0.5)
    return out


def _vbp(
    rule: VbpRule, ind: IndicatorSpec, v: np.ndarray, b: np.ndarray, bm: np.ndarray, pr: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(points, achievement, improvement) of VbpRule.points where the benchmark is known."""
    gv, gb, gbm = _goodness(ind, v), _goodness(ind, b), _goodness(ind, bm)
    has_prior = ~np.isnan(pr) if rule.improvement else np.zeros(len(v), dtype=bool)
    gp = _goodness(ind, pr)
    with np.errstate(divide="ignore", invalid="ignore"):
        if rule.points_mode == "hvbp":
            ach = np.where(
                gv >= gbm,
                10.0,
                np.where(gv < gb, 0.0, np.minimum(9.0, np.maximum(1.0, _whole(9 * (gv - gb) / (gbm - gb) + 0.5)))),
            )
            top = has_prior & (gv >= gbm) & (gv > gp)
            between = has_prior & ~top & (gv > gp)
            imp = np.where(
                top,
                9.0,
                np.where(between, np.minimum(9.0, np.maximum(0.0, _whole(10 * (gv - gp) / (gbm - gp) - 0.5))), 0.0),
            )
            return 10.0 * np.maximum(ach, imp), 10.0 * ach, 10.0 * imp
        span = gbm - gb
        ach = np.where(gv < gb, 0.0, np.where((span <= 0) | (gv >= gbm), 100.0, 10.0 + 90.0 * (gv - gb) / span))
        top = has_prior & (gv >= gbm) & (gp < gbm)
        between = has_prior & ~top & (gbm > gp) & (gv > gp)
        closed = np.maximum(0.0, np.minimum(90.0, 90.0 * (gv - gp) / (gbm - gp)))
        imp = np.where(top, 90.0, np.where(between, closed, 0.0))
    return np.maximum(ach, imp), ach, imp


def _target_range(
    rule: TargetRangeRule, ind: IndicatorSpec, v: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(points, gap, distance) of TargetRangeRule.points."""
    inside = (rule.low <= v) & (v <= rule.high)
    below = v < rule.low
    dist = np.where(inside, 0.0, np.where(below, rule.low - v, v - rule.high))
    bound = np.where(below, rule.low, rule.high)
    if ind.lights.mode == "relative":
        with np.errstate(divide="ignore", invalid="ignore"):
            gap = np.where(bound != 0, dist / np.abs(bound), dist)
            zero = np.where(bound != 0, rule.zero_at / np.abs(bound), rule.zero_at)
    else:
        gap, zero = dist, np.full(len(v), rule.zero_at)
    pts = banded_points_v(gap, ind.lights.yellow, ind.lights.red, np.maximum(zero, ind.lights.red))
    return pts, gap, dist


def _band_code(fit: FunnelFit, direction: str, value: float, n: float, target: float) -> tuple[float, int] | None:
    """pingyi.score.funnel.band as a code into BANDS."""
    z = fit.z(value, n, target)
    if z is None:
        return None
    bad = z if direction == "down" else -z
    if bad > Z998:
        return z, 0
    if bad > Z95:
        return z, 1
    if bad < -Z998:
        return z, 4
    if bad < -Z95:
        return z, 3
    return z, 2


def score_vector(
    ind: IndicatorSpec,
    value: np.ndarray,
    baseline: np.ndarray,
    *,
    benchmark: np.ndarray | None = None,
    prior: np.ndarray | None = None,
    volume: np.ndarray | None = None,
    funnel: FunnelFit | None = None,
    absence: np.ndarray | None = None,
) -> VectorScores:
    """score_indicator's numbers for every provider at once.

    `value`, `baseline` and the optional `benchmark`, `prior`, `volume`: 1-d float arrays over the same
    providers, NaN for None; `funnel`: the indicator's FunnelFit (funnel-mode lights) or None; `absence`:
    ABSENCE codes per provider or None. Returns a VectorScores of arrays of the same length: `points`
    (NaN: no score), `light` (codes into LIGHTS), `gap` (NaN: None), `status` (into STATUSES), `why`
    (into WHY), `funnel_z`/`funnel_band` (into BANDS; NaN/-1: not judged by the funnel), `scored_value`
    and the details `achievement`, `improvement`, `distance` (NaN where score_indicator has none).
    Each element equals score_indicator on that provider's inputs, bit for bit; the inputs are not
    changed, so a caller may perturb a copy of `baseline` or `value` and call again."""
    v = np.asarray(value, dtype=np.float64)
    n = v.shape[0]
    b, bm, pr, vol = _array(baseline, n), _array(benchmark, n), _array(prior, n), _array(volume, n)
    nan = lambda: np.full(n, np.nan)  # noqa: E731
    points, gap, funnel_z, scored_value = nan(), nan(), nan(), nan()
    achievement, improvement, distance = nan(), nan(), nan()
    light = np.full(n, GREY, dtype=np.int8)
    status = np.full(n, INSUFFICIENT, dtype=np.int8)
    why = np.full(n, W_NONE, dtype=np.int8)
    band = np.full(n, -1, dtype=np.int8)

    def result() -> VectorScores:
        return VectorScores(
            points, light, gap, status, why, funnel_z, band, scored_value, achievement, improvement, distance
        )

    rule = ind.scoring
    if not rule.scored:
        status[:] = MONITOR
        light[:] = NONE
        return result()
    open_ = np.ones(n, dtype=bool)  # not decided yet, in score_indicator's order of tests

    def decide(mask: np.ndarray, reason: int) -> None:
        nonlocal open_
        why[mask] = reason
        open_ = open_ & ~mask

    if absence is not None:
        codes = np.asarray(absence)
        missing = codes == ABSENT_MISSING
        status[missing], points[missing], light[missing] = MISSING, 0.0, RED
        decide(missing, W_MISSING)
        decide(open_ & (codes == ABSENT_INSUFFICIENT), W_SOURCE)
    decide(open_ & np.isnan(v), W_NO_VALUE)
    if ind.volume is not None:
        no_volume = np.isnan(vol)
        unknown_size = no_volume & (ind.volume.measure == REPORTED_DENOMINATOR)
        with np.errstate(invalid="ignore"):
            small = no_volume | (vol < ind.volume.minimum)
        decide(open_ & ~unknown_size & small, W_VOLUME)
    if rule.uses_baseline:
        decide(open_ & np.isnan(b), W_BASELINE)
    idx = np.flatnonzero(open_)
    if len(idx) == 0:
        return result()
    vi, bi, bmi, pri, voli = v[idx], b[idx], bm[idx], pr[idx], vol[idx]

    if not rule.uses_baseline:  # judged against the rule's own band: the light follows its gap
        if isinstance(rule, TargetRangeRule):
            pts, g, dist = _target_range(rule, ind, vi)
            distance[idx] = dist
        else:
            pts, g = _each(ind, vi, bi, bmi, pri, detail=None)
        points[idx], gap[idx] = pts, g
        status[idx], light[idx] = SCORED, light_of_points_v(pts)
        return result()

    g = worse_gap_v(ind, vi, bi)
    scored = vi.copy()
    if funnel is not None and ind.lights.statistical == "funnel":
        beyond = ind.lights.funnel_score == "beyond_95"
        direction = ind.direction.value
        for k in range(len(idx)):
            if math.isnan(voli[k]):
                continue
            x, nk, t = float(vi[k]), float(voli[k]), float(bi[k])
            judged = _band_code(funnel, direction, x, nk, t)
            if judged is None:
                continue
            funnel_z[idx[k]], band[idx[k]] = judged
            if beyond:
                allowed = funnel.beyond_95(x, nk, t, direction)
                scored[k] = x if allowed is None else stable(allowed)
    detail: dict[str, np.ndarray] = {}
    if isinstance(rule, ThresholdRule):
        pts = banded_points_v(worse_gap_v(ind, scored, bi), ind.lights.yellow, ind.lights.red, rule.zero(ind))
        ok = np.ones(len(idx), dtype=bool)
    elif isinstance(rule, VbpRule):
        ok = ~np.isnan(bmi)
        pts, ach, imp = _vbp(rule, ind, scored, bi, bmi, pri)
        detail = {"achievement": ach, "improvement": imp}
    else:
        pts, ok = _each(ind, scored, bi, bmi, pri, detail=detail)
    lost = idx[~ok]  # the rule needed what it did not get (a benchmark): insufficient, as for a baseline
    why[lost] = W_BENCHMARK
    funnel_z[lost], band[lost] = np.nan, -1
    keep, at = idx[ok], ok
    points[keep], gap[keep] = pts[at], g[at]
    status[keep], light[keep] = SCORED, light_of_points_v(pts[at])
    if ind.lights.funnel_score == "beyond_95":
        scored_value[keep] = scored[at]
    if "achievement" in detail:
        achievement[keep], improvement[keep] = detail["achievement"][at], detail["improvement"][at]
    if "distance" in detail:
        distance[keep] = detail["distance"][at]
    return result()


def _each(
    ind: IndicatorSpec,
    v: np.ndarray,
    b: np.ndarray,
    bm: np.ndarray,
    pr: np.ndarray,
    detail: dict[str, np.ndarray] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """A rule without a vector twin, element by element through its own points(): (points, gap) for a
    rule judged on its own band (detail None), else (points, scored-mask) with its details filled."""

    def opt(x: float) -> float | None:
        return None if math.isnan(x) else float(x)

    pts, second = np.full(len(v), np.nan), np.full(len(v), np.nan)
    ok = np.zeros(len(v), dtype=bool)
    for k in range(len(v)):
        p = ind.scoring.points(ind, float(v[k]), opt(b[k]), opt(bm[k]), opt(pr[k]))
        if p.score is None:
            continue
        pts[k], ok[k] = p.score, True
        if detail is None:
            second[k] = np.nan if p.gap is None else p.gap
        for key in ("achievement", "improvement", "distance"):
            if key in p.detail and detail is not None:
                detail.setdefault(key, np.full(len(v), np.nan))[k] = p.detail[key]
    return (pts, second) if detail is None else (pts, ok)


def _opt_list(xs: Sequence[float | None]) -> np.ndarray:
    return np.array([np.nan if x is None else x for x in xs], dtype=np.float64)


def score_column(
    ind: IndicatorSpec,
    value: Sequence[float | None],
    baseline: Sequence[float | None],
    benchmark: Sequence[float | None],
    prior: Sequence[float | None],
    volume: Sequence[float | None],
    funnel: FunnelFit | None,
    absence: Sequence[str | None],
    absent: Sequence[tuple[str, ...]],
) -> list[IndicatorScore]:
    """score_indicator for every provider of one indicator, equal to it field for field (reasons
    included): the numbers from score_vector, the texts from the same functions score_indicator uses.
    A rule without a vector twin, or a NaN among the inputs (which score_vector would read as None), is
    scored element by element by score_indicator itself."""
    rule = ind.scoring
    inputs = (value, baseline, benchmark, prior, volume)
    if not isinstance(rule, ThresholdRule | VbpRule | TargetRangeRule | NoRule) or any(
        x is not None and x != x for column in inputs for x in column
    ):
        return [
            score_indicator(
                ind,
                value[i],
                baseline[i],
                benchmark=benchmark[i],
                prior=prior[i],
                volume=volume[i],
                funnel=funnel,
                absence=absence[i],
                absent=absent[i],
            )  # fmt: skip
            for i in range(len(value))
        ]
    vec = score_vector(
        ind, _opt_list(value), _opt_list(baseline), benchmark=_opt_list(benchmark), prior=_opt_list(prior),
        volume=_opt_list(volume), funnel=funnel, absence=np.array([ABSENCE_CODES[a] for a in absence], dtype=np.int8),
    )  # fmt: skip
    status, why, band = vec.status.tolist(), vec.why.tolist(), vec.funnel_band.tolist()
    points, gap, z = vec.points.tolist(), vec.gap.tolist(), vec.funnel_z.tolist()
    scored_value, achievement, improvement = (
        vec.scored_value.tolist(),
        vec.achievement.tolist(),
        vec.improvement.tolist(),
    )
    vbp = isinstance(rule, VbpRule)
    out: list[IndicatorScore] = []
    for i, st in enumerate(status):
        v, b, bm, pr = value[i], baseline[i], benchmark[i], prior[i]
        if st == MONITOR:
            out.append(monitor_score(ind, v, b, bm, pr))
        elif st == MISSING:
            out.append(missing_score(ind, b, bm, pr, absent[i]))
        elif st == INSUFFICIENT:
            w = why[i]
            if w == W_SOURCE:
                out.append(insufficient_score(ind, v, b, bm, pr, *source_reason(ind, absent[i]), "source"))
            elif w == W_NO_VALUE:
                out.append(insufficient_score(ind, v, b, bm, pr, *NO_VALUE))
            elif w == W_VOLUME:
                out.append(insufficient_score(ind, v, b, bm, pr, *volume_reason(ind, volume[i])))
            elif w == W_BASELINE:
                out.append(insufficient_score(ind, v, b, bm, pr, *NO_BASELINE, "baseline"))
            else:  # what the rule needed and did not get (a benchmark), in the rule's own words
                assert v is not None
                missing = rule.points(ind, v, b, bm, pr).missing
                assert missing is not None
                out.append(insufficient_score(ind, v, b, bm, pr, missing[0], missing[1], "baseline"))
        elif not rule.uses_baseline:  # the how-text is the rule's own: its points() gives it with the numbers
            assert v is not None
            pts = rule.points(ind, v, b, bm, pr)
            assert pts.gap is not None and pts.how is not None and pts.score is not None
            out.append(own_band_score(ind, v, b, bm, pr, pts.score, pts.gap, pts.how, dict(pts.detail)))
        else:
            assert v is not None and b is not None
            detail: dict[str, float] = {}
            how = ("", "")
            scored = scored_value[i] if ind.lights.funnel_score == "beyond_95" else v
            if band[i] >= 0:
                vol = volume[i]
                assert vol is not None
                detail["funnel_z"] = z[i]
                how = funnel_text(ind, z[i], BANDS[band[i]], vol, gap[i], v, scored)
            if vbp:
                detail["achievement"], detail["improvement"] = achievement[i], improvement[i]
            out.append(baseline_score(ind, v, b, bm, pr, points[i], gap[i], detail, how, scored))
    return out
