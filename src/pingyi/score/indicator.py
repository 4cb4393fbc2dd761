"""One indicator of one provider scored against its regional baseline: points from the indicator's
rule (pingyi.spec.rules), a traffic light, and the reason in English and Chinese.

Missing data or a denominator below the minimum volume make the indicator *insufficient* (grey):
it is never scored as 0 or 100; its weight is redistributed by the aggregation stage.

Funnel lights (``lights.statistical: funnel``, pingyi.score.funnel): given the indicator's fitted
funnel, the light no longer follows the gap alone: red needs the value to be beyond the 99.8 %
control limit at the provider's volume *and* worse than the baseline by more than the red bound;
beyond the 95 % limit, or materially worse but inside the limits, is yellow. The score follows the
rule, on the value itself (`funnel_score: observed`) or on the value less the part of its deviation
that lies inside the 95 % limit (`funnel_score: beyond_95`: what chance can explain costs no points).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pingyi.numbers import stable
from pingyi.score.funnel import BAND_TEXT, FunnelFit, funnel_light
from pingyi.spec.models import REPORTED_DENOMINATOR, IndicatorSpec
from pingyi.spec.rules import light_of_points, worse_gap
from pingyi.text import Light, Status, format_value, light_word


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
    status: Status
    detail: dict[str, float] = field(default_factory=dict)  # rule-specific values (achievement, funnel_z ...)
    scored_value: float | None = None  # funnel_score beyond_95: the value the score was computed on
    # which kind of absence left it unscored or scored as the worst value: "volume" (a denominator of 0 or
    # below the minimum), "source" (an empty insurer-side source: no survey, no expert score), "baseline"
    # (none for the region and level), "missing" (mandatory data not supplied); "" when scored on data
    absence: str = ""


def _fv(value: float | None, ind: IndicatorSpec) -> str:
    return format_value(value, ind.unit, display=False)


def missing_score(
    ind: IndicatorSpec, baseline: float | None, benchmark: float | None, prior: float | None, absent: tuple[str, ...]
) -> IndicatorScore:
    """Mandatory data not supplied: the worst score (0 points, red)."""
    where = ", ".join(absent) or "data"
    return IndicatorScore(
        ind.code,
        None,
        baseline,
        benchmark,
        prior,
        0.0,
        Light.RED,
        None,
        f"{ind.name_en}: mandatory data missing ({where} has none of this provider's rows), "
        "scored as the worst value (0 points, red); withheld data never raises a score",
        f"{ind.name_zh}：应报数据缺失（{where} 无本机构记录），按最差值计0分（红灯）",
        Status.MISSING,
        absence="missing",
    )


def insufficient_score(
    ind: IndicatorSpec,
    value: float | None,
    baseline: float | None,
    benchmark: float | None,
    prior: float | None,
    why: str,
    why_zh: str,
    kind: str = "volume",
) -> IndicatorScore:
    return IndicatorScore(
        ind.code,
        value,
        baseline,
        benchmark,
        prior,
        None,
        Light.GREY,
        None,
        f"{ind.name_en}: {why}, insufficient data (grey); weight redistributed",
        f"{ind.name_zh}：{why_zh}，数据不足（灰灯），权重在本维度内重新分配",
        Status.INSUFFICIENT,
        absence=kind,
    )


def source_reason(ind: IndicatorSpec, absent: tuple[str, ...]) -> tuple[str, str]:
    where = ", ".join(absent) or ind.source.value
    return f"no {where} for this provider (not its fault)", f"本机构无{where}数据（非机构原因）"


NO_VALUE = ("no value", "无数据或分母为零")
NO_BASELINE = ("no baseline for this region and level", "本地区本级别无基线")


def volume_reason(ind: IndicatorSpec, volume: float | None) -> tuple[str, str]:
    assert ind.volume is not None
    got = "none" if volume is None else f"{volume:g}"
    return (
        f"{ind.volume.measure} {got} below the minimum {ind.volume.minimum:g}",
        f"{ind.volume.measure} 为 {got}，低于最小样本量 {ind.volume.minimum:g}",
    )


def monitor_score(
    ind: IndicatorSpec, value: float | None, baseline: float | None, benchmark: float | None, prior: float | None
) -> IndicatorScore:
    shown = _fv(value, ind)
    return IndicatorScore(
        ind.code,
        value,
        baseline,
        benchmark,
        prior,
        None,
        Light.NONE,
        None,
        f"{ind.name_en} {shown}: monitored, not scored",
        f"{ind.name_zh} {shown}：监测指标，不计分",
        Status.MONITOR,
    )


def own_band_score(
    ind: IndicatorSpec,
    value: float,
    baseline: float | None,
    benchmark: float | None,
    prior: float | None,
    score: float,
    gap: float,
    how: tuple[str, str],
    detail: dict[str, float],
) -> IndicatorScore:
    """A rule judged against its own band (no baseline): the light follows its points."""
    light = Light(light_of_points(score))
    return IndicatorScore(
        ind.code,
        value,
        baseline,
        benchmark,
        prior,
        score,
        light,
        gap,
        f"{ind.name_en} {_fv(value, ind)}: {how[0]}, {light.value}",
        f"{ind.name_zh} {_fv(value, ind)}：{how[1]}，{light_word(light)}",
        Status.SCORED,
        detail,
    )


def funnel_text(
    ind: IndicatorSpec, z: float, band: str, volume: float, gap: float, value: float, scored: float
) -> tuple[str, str]:
    """What the funnel adds to the reason: z at the volume, the band, and the value scored on."""
    material = gap > ind.lights.red
    how = f"; funnel z = {z:+.2f} at n = {volume:,.0f}, {BAND_TEXT[band][0]}" + (
        ", materially worse" if material else ""
    )
    how_zh = f"；漏斗图 z = {z:+.2f}（n = {volume:,.0f}），{BAND_TEXT[band][1]}" + (
        "，且超出红灯幅度" if material else ""
    )
    if ind.lights.funnel_score == "beyond_95" and scored != value:
        shown_s = _fv(scored, ind)
        how += f"; scored on {shown_s} (the deviation beyond the 95 % limit)"
        how_zh += f"；按超出95%控制限的部分计分（计分值 {shown_s}）"
    return how, how_zh


def baseline_score(
    ind: IndicatorSpec,
    value: float,
    baseline: float,
    benchmark: float | None,
    prior: float | None,
    score: float,
    gap: float,
    detail: dict[str, float],
    funnel_how: tuple[str, str] = ("", ""),
    scored: float | None = None,
) -> IndicatorScore:
    """A value scored against its baseline; `detail`: the funnel z first, then the rule's details."""
    # one meaning of a light: the band of the points (the gap rules put their band edges at the light
    # bounds, so for them this is the gap light; for vbp it is the light its points earn)
    light = Light(light_of_points(score))
    shown, base = _fv(value, ind), _fv(baseline, ind)
    if ind.lights.mode == "relative" and baseline != 0:
        amount = amount_zh = f"{abs(gap):.0%}"
    else:
        amount = amount_zh = _fv(abs(gap), ind)
    if gap > 0:
        how, how_zh = f"{amount} worse", f"差于基线 {amount_zh}"
    elif gap < 0:
        how, how_zh = f"{amount} better", f"优于基线 {amount_zh}"
    else:
        how, how_zh = "equal to the baseline", "与基线持平"
    how, how_zh = how + funnel_how[0], how_zh + funnel_how[1]
    extra = extra_zh = ""
    if "achievement" in detail:
        extra = f" (achievement {detail['achievement']:.1f}, improvement {detail['improvement']:.1f})"
        extra_zh = f"（达标分 {detail['achievement']:.1f}，改进分 {detail['improvement']:.1f}）"
    return IndicatorScore(
        ind.code,
        value,
        baseline,
        benchmark,
        prior,
        score,
        light,
        gap,
        f"{ind.name_en} {shown} vs baseline {base}: {how}, {light.value}{extra}",
        f"{ind.name_zh} {shown}，基线 {base}：{how_zh}，{light_word(light)}{extra_zh}",
        Status.SCORED,
        detail,
        scored_value=scored if ind.lights.funnel_score == "beyond_95" else None,
    )


def score_indicator(
    ind: IndicatorSpec,
    value: float | None,
    baseline: float | None,
    *,
    benchmark: float | None = None,
    prior: float | None = None,
    volume: float | None = None,
    funnel: FunnelFit | None = None,
    absence: str | None = None,
    absent: tuple[str, ...] = (),
) -> IndicatorScore:
    """`funnel`: the indicator's fitted funnel, for funnel-mode lights (None: gap lights); `absence`:
    "missing" (mandatory data not supplied: the worst score) or "insufficient" (an empty source, no fault).
    pingyi.score.vector computes the same numbers for many providers at once; the texts come from the
    same functions here."""
    rule = ind.scoring
    if absence == "missing" and rule.scored:
        return missing_score(ind, baseline, benchmark, prior, absent)
    if absence == "insufficient" and rule.scored:  # an empty insurer-side source: no fault of the provider's
        return insufficient_score(ind, value, baseline, benchmark, prior, *source_reason(ind, absent), "source")
    if not rule.scored:
        return monitor_score(ind, value, baseline, benchmark, prior)
    if value is None:
        return insufficient_score(ind, value, baseline, benchmark, prior, *NO_VALUE)
    # a reported row without its denominator cannot be shown to be small: scored as reported
    unknown_size = volume is None and ind.volume is not None and ind.volume.measure == REPORTED_DENOMINATOR
    if ind.volume is not None and not unknown_size and (volume is None or volume < ind.volume.minimum):
        return insufficient_score(ind, value, baseline, benchmark, prior, *volume_reason(ind, volume))
    if rule.uses_baseline and baseline is None:
        return insufficient_score(ind, value, baseline, benchmark, prior, *NO_BASELINE, "baseline")

    if not rule.uses_baseline:  # judged against the rule's own band: the light follows its gap
        pts = rule.points(ind, value, baseline, benchmark, prior)
        assert pts.gap is not None and pts.how is not None and pts.score is not None
        return own_band_score(ind, value, baseline, benchmark, prior, pts.score, pts.gap, pts.how, dict(pts.detail))

    assert baseline is not None
    gap = worse_gap(ind, value, baseline)
    detail: dict[str, float] = {}
    how: tuple[str, str] = ("", "")
    scored = value  # what the rule scores: the value, or under funnel_score beyond_95 less what chance explains
    if funnel is not None and ind.lights.statistical == "funnel" and volume is not None:
        judged = funnel_light(funnel, ind.direction.value, value, volume, baseline, gap, ind.lights.red)
        if judged is not None:
            _colour, z, band = judged  # the funnel acts on the light through the points (beyond_95)
            detail["funnel_z"] = z
            if ind.lights.funnel_score == "beyond_95":
                allowed = funnel.beyond_95(value, volume, baseline, ind.direction.value)
                scored = value if allowed is None else stable(allowed)
            how = funnel_text(ind, z, band, volume, gap, value, scored)
    pts = rule.points(ind, scored, baseline, benchmark, prior)
    if pts.missing is not None:
        return insufficient_score(ind, value, baseline, benchmark, prior, *pts.missing, "baseline")
    detail.update(pts.detail)
    assert pts.score is not None
    return baseline_score(ind, value, baseline, benchmark, prior, pts.score, gap, detail, how, scored)
