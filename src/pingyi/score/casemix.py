"""Case mix at the score stage: an indicator with an adjusted formula is scored on both its raw and its
case-mix-adjusted value, and one sentence says which counted and why they differ (the model itself
is pingyi.compute.casemix)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from pingyi.compute.indicators import IndicatorValue
from pingyi.numbers import stable
from pingyi.score.funnel import FunnelFit
from pingyi.score.indicator import IndicatorScore, score_indicator
from pingyi.spec.models import IndicatorSpec
from pingyi.text import Status, format_value, light_word


@dataclass(frozen=True)
class CasemixNote:
    """Both judgements of an indicator with an adjusted formula, and the sentence that says which counted."""

    counted: str  # raw | adjusted
    raw_value: float | None
    adjusted_value: float | None
    raw_light: str
    adjusted_light: str
    raw_score: float | None
    adjusted_score: float | None
    expected_cost_change: float | None  # change of the expected cost per stay since last year
    note: str
    note_zh: str


def casemix_sentence(
    ind: IndicatorSpec,
    raw_value: float | None,
    adjusted_value: float | None,
    raw_light: str | None,
    adjusted_light: str | None,
    expected_change: float | None,
) -> tuple[str, str]:
    """One sentence (English, Chinese) saying which value counted and why raw and adjusted differ,
    e.g. "raw growth 27.2% would be red, but its patients are sicker ...: case-mix-adjusted 2.9%, green"."""

    def lz(light: str | None) -> str:
        return light_word(light) if light else str(light)

    counted = "adjusted" if ind.casemix == "adjusted" else "raw"
    counted_zh = "病例组合调整值" if counted == "adjusted" else "原始值"
    if raw_value is None or adjusted_value is None:
        missing = "case-mix-adjusted value" if adjusted_value is None else "raw value"
        en = (
            f"the {counted} value counts; no {missing} (settlement lists, DRG weights or the regional cost "
            f"model missing)"
        )
        zh = (
            f"计分采用{counted_zh}；"
            f"{'无病例组合调整值（缺结算清单、DRG权重或区域费用模型）' if adjusted_value is None else '无原始值'}"
        )
        return en, zh
    raw_s = format_value(raw_value, ind.unit, display=False)
    adj_s = format_value(adjusted_value, ind.unit, display=False)
    if expected_change is not None and abs(expected_change) >= 0.005:
        sicker = expected_change > 0
        why = (
            f"its patients are {'sicker' if sicker else 'less severe'} (expected cost per stay "
            f"{expected_change:+.1%} from age, sex, DRG weight and comorbidity)"
        )
        why_zh = (
            f"其收治患者病情{'更重' if sicker else '更轻'}（按年龄、性别、DRG权重和合并症测算的预期次均费用"
            f"{'上升' if sicker else '下降'}{abs(expected_change):.1%}）"
        )
    else:
        why, why_zh = "its case mix barely changed", "其病例组合基本未变"
    if counted == "adjusted":
        if raw_light == adjusted_light:
            en = f"case-mix adjusted {adj_s} counts ({adjusted_light}); raw {raw_s} is {raw_light} too: {why}"
            zh = f"计分采用病例组合调整值 {adj_s}（{lz(adjusted_light)}）；原始值 {raw_s} 同为{lz(raw_light)}：{why_zh}"
        else:
            en = (
                f"raw {raw_s} would be {raw_light}, but {why}: case-mix adjusted {adj_s}, {adjusted_light}; "
                f"the adjusted value counts"
            )
            zh = (
                f"原始值 {raw_s} 为{lz(raw_light)}，但{why_zh}：病例组合调整后为 {adj_s}，"
                f"{lz(adjusted_light)}；计分采用调整值"
            )
    else:
        en = (
            f"raw {raw_s} counts ({raw_light}); case-mix adjusted {adj_s} ({adjusted_light}) is shown for "
            f"information: {why}"
        )
        zh = (
            f"计分采用原始值 {raw_s}（{lz(raw_light)}）；病例组合调整值 {adj_s}（{lz(adjusted_light)}）仅供参考："
            f"{why_zh}"
        )
    return en, zh


def score_with_casemix(
    ind: IndicatorSpec,
    v: IndicatorValue,
    scored: IndicatorScore,
    baseline: float | None,
    benchmark: float | None,
    fit: FunnelFit | None,
    current: Mapping[str, float | None],
    prior: Mapping[str, float | None],
) -> tuple[IndicatorScore, CasemixNote | None]:
    """Both lights of an indicator with an adjusted formula; the scored result gets the sentence that
    says which counted (a new score, the one given is not changed)."""
    adjusted = ind.casemix == "adjusted"
    raw_s = score_indicator(
        ind,
        v.raw_value,
        baseline,
        benchmark=benchmark,
        prior=v.raw_prior,
        volume=v.volume,
        funnel=None if adjusted else fit,
    )
    adj_s = (
        scored
        if adjusted
        else score_indicator(
            ind, v.adjusted_value, baseline, benchmark=benchmark, prior=v.adjusted_prior, volume=v.volume
        )
    )
    if raw_s.status is not Status.SCORED and adj_s.status is not Status.SCORED:
        return scored, None  # e.g. below the minimum volume: the grey reason says it all
    missing_adjusted = adjusted and v.adjusted_value is None  # raw scorable, adjustment unavailable
    e1, e0 = current.get("casemix_expected_cost"), prior.get("casemix_expected_cost")
    change = stable(e1 / e0 - 1) if e1 and e0 else None
    en, zh = casemix_sentence(ind, v.raw_value, v.adjusted_value, raw_s.light.value, adj_s.light.value, change)
    note = CasemixNote(
        counted=ind.casemix,
        raw_value=v.raw_value,
        adjusted_value=v.adjusted_value,
        raw_light=raw_s.light.value,
        adjusted_light=adj_s.light.value,
        raw_score=raw_s.score,
        adjusted_score=adj_s.score,
        expected_cost_change=change,
        note=en,
        note_zh=zh,
    )
    if scored.status is Status.INSUFFICIENT and missing_adjusted:
        scored = replace(
            scored,
            reason=f"{ind.name_en}: {en}; insufficient data (grey), weight redistributed",
            reason_zh=f"{ind.name_zh}：{zh}，数据不足（灰灯），权重在本维度内重新分配",
        )
    elif scored.status is Status.SCORED:
        scored = replace(scored, reason=f"{scored.reason}; {en}", reason_zh=f"{scored.reason_zh}；{zh}")
    return scored, note
