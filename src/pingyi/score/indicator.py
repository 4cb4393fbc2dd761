"""Indicator scores against regional baselines, and traffic lights with their reasons.

Scores are on [0, 100] and monotone in the indicator's good direction. Three named rules:

* ``threshold``: meets the baseline -> 100; linear deduction to 0 at ``zero_at`` worse
  (default: the red bound, so a red indicator scores 0). Relative mode measures "worse" as a
  share of the baseline, the source documents' rule ("exceeding its baseline by 20 %" [001 §5.3]).
* ``vbp``: CMS Hospital Value-Based Purchasing style (42 CFR 412.165): achievement points from 10
  at the baseline (achievement threshold) to 100 at the benchmark, 0 below the baseline;
  improvement points 0-90 for closing the gap between the provider's own prior year and the
  benchmark; the score is the higher of the two. (HVBP: 1-10 achievement, 0-9 improvement points;
  scaled x10 and kept continuous, without HVBP's rounding.)
* ``target_range``: inside [low, high] -> 100; linear to 0 at ``zero_at`` outside the band.
* ``none``: monitor-only; no score, a neutral mark.

Missing data or a denominator below the minimum volume make the indicator *insufficient*
(grey): it is never scored as 0 or 100; its weight is redistributed by the aggregation stage.

Funnel lights (``lights.statistical: funnel``, pingyi.score.funnel): given the indicator's fitted funnel,
the light no longer follows the gap alone: red needs the value to be beyond the 99.8 % control limit
at the provider's volume *and* worse than the baseline by more than the red bound; beyond the 95 %
limit, or materially worse but inside the limits, is yellow. The score follows the rule, on the value
itself (`funnel_score: observed`) or on the value less the part of its deviation that lies inside the
95 % limit (`funnel_score: beyond_95`: what chance can explain costs no points).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from pingyi.explain import format_value
from pingyi.compute.indicators import stable
from pingyi.spec.models import Direction, IndicatorSpec


class Light(str, Enum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"
    GREY = "grey"  # insufficient data
    NONE = "none"  # monitor-only: neutral


LIGHT_ZH = {Light.GREEN: "绿灯", Light.YELLOW: "黄灯", Light.RED: "红灯", Light.GREY: "灰灯(数据不足)",
            Light.NONE: "监测"}


@dataclass(frozen=True)
class IndicatorScore:
    code: str
    value: float | None
    baseline: float | None
    benchmark: float | None
    prior: float | None
    score: float | None  # None: insufficient or monitor-only
    light: Light
    gap: float | None  # how much worse than the baseline (relative share or absolute units); <= 0 is as good
    reason: str  # English, e.g. "... 9.1% vs baseline 5.0%: 82% worse, red"
    reason_zh: str
    status: str  # scored | insufficient | monitor
    detail: dict  # rule-specific intermediate values (achievement, improvement, ...)
    scored_value: float | None = None  # funnel_score beyond_95: the value the score was computed on


def worse_gap(ind: IndicatorSpec, value: float, reference: float) -> float:
    """How much worse `value` is than `reference` in the indicator's bad direction.

    Relative mode divides by |reference|; with a zero reference it falls back to the absolute gap
    (a share of zero is undefined)."""
    diff = value - reference if ind.direction is Direction.DOWN else reference - value
    if ind.lights.mode == "relative" and reference != 0:
        return diff / abs(reference)
    return diff


def light_for_gap(ind: IndicatorSpec, gap: float) -> Light:
    if gap <= ind.lights.yellow:
        return Light.GREEN
    if gap <= ind.lights.red:
        return Light.YELLOW
    return Light.RED


def _clip(x: float, lo: float = 0.0, hi: float = 100.0) -> float:
    return max(lo, min(hi, x))


def _goodness(ind: IndicatorSpec, v: float) -> float:
    return -v if ind.direction is Direction.DOWN else v


def score_indicator(ind: IndicatorSpec, value: float | None, baseline: float | None, *,
                    benchmark: float | None = None, prior: float | None = None,
                    volume: float | None = None, funnel=None) -> IndicatorScore:
    """`funnel`: the indicator's pingyi.funnel.FunnelFit, for funnel-mode lights (None: gap lights)."""
    rule = ind.scoring
    unit = ind.unit
    name = ind.name_zh

    def insufficient(why: str, why_zh: str) -> IndicatorScore:
        return IndicatorScore(ind.code, value, baseline, benchmark, prior, None, Light.GREY, None,
                              f"{ind.name_en}: {why}, insufficient data (grey); weight redistributed",
                              f"{name}：{why_zh}，数据不足（灰灯），权重在本维度内重新分配", "insufficient", {})

    if ind.direction is Direction.MONITOR or rule.rule == "none":
        shown = format_value(value, unit)
        return IndicatorScore(ind.code, value, baseline, benchmark, prior, None, Light.NONE, None,
                              f"{ind.name_en} {shown}: monitored, not scored",
                              f"{name} {shown}：监测指标，不计分", "monitor", {})
    if value is None:
        return insufficient("no value", "无数据或分母为零")
    if ind.volume is not None and (volume is None or volume < ind.volume.minimum):
        got = "none" if volume is None else f"{volume:g}"
        return insufficient(f"{ind.volume.measure} {got} below the minimum {ind.volume.minimum:g}",
                            f"{ind.volume.measure} 为 {got}，低于最小样本量 {ind.volume.minimum:g}")
    if baseline is None and rule.rule != "target_range":
        return insufficient("no baseline for this region and level", "本地区本级别无基线")

    detail: dict = {}
    if rule.rule == "target_range":
        if rule.low <= value <= rule.high:
            dist = 0.0
        else:
            dist = rule.low - value if value < rule.low else value - rule.high
        score = _clip(100.0 * (1.0 - dist / rule.zero_at))
        bound = rule.low if value < rule.low else rule.high
        gap = dist / abs(bound) if ind.lights.mode == "relative" and bound != 0 else dist
        light = light_for_gap(ind, gap)
        band = f"[{format_value(rule.low, unit)}, {format_value(rule.high, unit)}]"
        if dist == 0:
            how, how_zh = f"inside the target band {band}", f"在目标区间 {band} 内"
        else:
            how, how_zh = f"{format_value(dist, unit)} outside the target band {band}", f"偏离目标区间 {band}"
        detail = {"distance": dist}
        return IndicatorScore(ind.code, value, baseline, benchmark, prior, score, light, gap,
                              f"{ind.name_en} {format_value(value, unit)}: {how}, {light.value}",
                              f"{name} {format_value(value, unit)}：{how_zh}，{LIGHT_ZH[light]}", "scored", detail)

    gap = worse_gap(ind, value, baseline)
    light = light_for_gap(ind, gap)
    funnel_how = funnel_how_zh = ""
    scored = value  # what the rule scores: the value, or under funnel_score beyond_95 less what chance explains
    if funnel is not None and ind.lights.statistical == "funnel" and volume is not None:
        from pingyi.score.funnel import BAND_TEXT, funnel_light

        judged = funnel_light(funnel, ind.direction.value, value, volume, baseline, gap, ind.lights.red)
        if judged is not None:
            funnel_colour, z, band = judged
            light = Light(funnel_colour)
            detail["funnel_z"] = z
            material = gap > ind.lights.red
            funnel_how = (f"; funnel z = {z:+.2f} at n = {volume:,.0f}, {BAND_TEXT[band][0]}"
                          + (", materially worse" if material else ""))
            funnel_how_zh = (f"；漏斗图 z = {z:+.2f}（n = {volume:,.0f}），{BAND_TEXT[band][1]}"
                             + ("，且超出红灯幅度" if material else ""))
            if ind.lights.funnel_score == "beyond_95":
                allowed = funnel.beyond_95(value, volume, baseline, ind.direction.value)
                scored = value if allowed is None else stable(allowed)
                if scored != value:
                    shown_s = format_value(scored, unit)
                    funnel_how += f"; scored on {shown_s} (the deviation beyond the 95 % limit)"
                    funnel_how_zh += f"；按超出95%控制限的部分计分（计分值 {shown_s}）"
    score_gap = worse_gap(ind, scored, baseline)
    if rule.rule == "threshold":
        zero_at = rule.zero_at if rule.zero_at is not None else ind.lights.red
        score = 100.0 if score_gap <= 0 else _clip(100.0 * (1.0 - score_gap / zero_at))
    elif rule.rule == "vbp":
        if benchmark is None:
            return insufficient("no benchmark for this region and level", "本地区本级别无标杆值")
        g_v, g_b, g_bm = _goodness(ind, scored), _goodness(ind, baseline), _goodness(ind, benchmark)
        span = g_bm - g_b
        if g_v < g_b:
            achievement = 0.0
        elif span <= 0 or g_v >= g_bm:
            achievement = 100.0
        else:
            achievement = 10.0 + 90.0 * (g_v - g_b) / span
        improvement = 0.0
        if rule.improvement and prior is not None:
            g_p = _goodness(ind, prior)
            if g_v >= g_bm and g_p < g_bm:
                improvement = 90.0
            elif g_bm > g_p and g_v > g_p:
                improvement = _clip(90.0 * (g_v - g_p) / (g_bm - g_p), 0.0, 90.0)
        score = max(achievement, improvement)
        detail.update({"achievement": achievement, "improvement": improvement})
    else:  # pragma: no cover - the spec layer admits only the rules above
        raise ValueError(f"unknown scoring rule {rule.rule}")

    shown, base = format_value(value, unit), format_value(baseline, unit)
    if ind.lights.mode == "relative" and baseline != 0:
        amount, amount_zh = f"{abs(gap):.0%}", f"{abs(gap):.0%}"
    else:
        amount = amount_zh = format_value(abs(gap), unit)
    if gap > 0:
        how, how_zh = f"{amount} worse", f"差于基线 {amount_zh}"
    elif gap < 0:
        how, how_zh = f"{amount} better", f"优于基线 {amount_zh}"
    else:
        how, how_zh = "equal to the baseline", "与基线持平"
    how, how_zh = how + funnel_how, how_zh + funnel_how_zh
    extra = ""
    extra_zh = ""
    if rule.rule == "vbp":
        extra = f" (achievement {detail['achievement']:.1f}, improvement {detail['improvement']:.1f})"
        extra_zh = f"（达标分 {detail['achievement']:.1f}，改进分 {detail['improvement']:.1f}）"
    return IndicatorScore(ind.code, value, baseline, benchmark, prior, score, light, gap,
                          f"{ind.name_en} {shown} vs baseline {base}: {how}, {light.value}{extra}",
                          f"{name} {shown}，基线 {base}：{how_zh}，{LIGHT_ZH[light]}{extra_zh}", "scored", detail,
                          scored_value=scored if ind.lights.funnel_score == "beyond_95" else None)
