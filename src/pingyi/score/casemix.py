"""Case mix at the score stage: an indicator with an adjusted formula is scored on both its raw and its
case-mix-adjusted value, and one sentence says which counted and why they differ (the model itself
is pingyi.compute.casemix)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from pingyi.compute.indicators import IndicatorValue
from pingyi.compute.outcomes import OUTCOME_SQL
from pingyi.numbers import stable
from pingyi.score.funnel import FunnelFit
from pingyi.score.indicator import IndicatorScore, score_indicator
from pingyi.spec import formula as formula_lang
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
    # what the patients alone explain: for a growth, the change of the expected cost per case since last
    # year; for an outcome rate, the expected rate of the provider's cases over the region's rate - 1
    expected_cost_change: float | None
    note: str
    note_zh: str


# what an adjusted formula adjusts, told by the case-mix measure it reads: the expected cost per stay
# (inpatient), per outpatient visit, the fund's deflator, or an outcome's expected events (rate)
OUTCOME_KINDS = {f"casemix_{o}_expected": o for o in OUTCOME_SQL}


def casemix_kind(ind: IndicatorSpec) -> tuple[str, str | None]:
    """(kind, outcome): kind is inpatient, outpatient, fund or rate; outcome names the rate's model."""
    if not ind.adjusted_formula:
        return "inpatient", None
    parsed = formula_lang.parse(ind.adjusted_formula)
    used = parsed.measures | parsed.prior_measures
    for measure, outcome in OUTCOME_KINDS.items():
        if measure in used:
            return "rate", outcome
    if "casemix_fund_deflator" in used:
        return "fund", None
    if "casemix_op_expected_cost" in used:
        return "outpatient", None
    return "inpatient", None


def expected_effect(
    ind: IndicatorSpec, current: Mapping[str, float | None], prior: Mapping[str, float | None]
) -> float | None:
    """How much the patients alone move the value: for a growth, the change of the expected cost per
    case since last year; for a rate, the expected rate of the provider's cases over the region's - 1."""
    kind, outcome = casemix_kind(ind)
    if kind == "rate":
        cases, exp_, rate = (current.get(f"casemix_{outcome}_{p}") for p in ("cases", "expected", "region_rate"))
        return stable(exp_ / cases / rate - 1) if cases and exp_ is not None and rate else None
    if kind == "fund":
        d = current.get("casemix_fund_deflator")
        return stable(d - 1) if d is not None else None
    measure = "casemix_op_expected_cost" if kind == "outpatient" else "casemix_expected_cost"
    e1, e0 = current.get(measure), prior.get(measure)
    return stable(e1 / e0 - 1) if e1 and e0 else None


MISSING = {
    "inpatient": (
        "settlement lists, DRG weights or the regional cost model missing",
        "缺结算清单、DRG权重或区域费用模型",
    ),
    "outpatient": (
        "outpatient settlements or the regional outpatient cost model missing",
        "缺门诊结算或区域门诊费用模型",
    ),
    "fund": (
        "an inpatient or outpatient cost model missing, or no modelled case in one of the two years",
        "缺住院或门诊费用模型，或某一年度无入模病例",
    ),
    "rate": (
        "settlement lists missing, or too few events in the region for its risk model",
        "缺结算清单，或本地区事件数过少、无法拟合风险模型",
    ),
}


def _why(kind: str, change: float | None) -> tuple[str, str]:
    """Why raw and adjusted differ: what the patients alone explain."""
    if kind == "rate":
        if change is None or abs(change) < 0.02:
            return "its patients' risk is close to the region's", "其患者风险与本地区相当"
        higher = change > 0
        return (  # the model's covariates are in the manual; the card has room for one line
            f"its patients are at {'higher' if higher else 'lower'} risk (expected rate {change:+.0%} vs the region's)",
            f"其患者风险{'较高' if higher else '较低'}（预期发生率{'高于' if higher else '低于'}本地区{abs(change):.0%}）",
        )
    if change is None or abs(change) < 0.005:
        return "its case mix barely changed", "其病例组合基本未变"
    sicker = change > 0
    what, what_zh = {
        "inpatient": ("expected cost per stay", "按年龄、性别、DRG权重和合并症测算的预期次均费用"),
        "outpatient": ("expected cost per visit", "按年龄、性别测算的预期门诊次均费用"),
        "fund": ("expected cost per case", "按住院和门诊费用模型测算的预期例均费用"),
    }[kind]
    source = {
        "inpatient": " from age, sex, DRG weight and comorbidity",
        "outpatient": " from age and sex",
        "fund": ", inpatients and outpatients",
    }[kind]
    return (
        f"its patients are {'sicker' if sicker else 'less severe'} ({what} {change:+.1%}{source})",
        f"其收治患者病情{'更重' if sicker else '更轻'}（{what_zh}{'上升' if sicker else '下降'}{abs(change):.1%}）",
    )


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

    kind = casemix_kind(ind)[0]
    counted = "adjusted" if ind.casemix == "adjusted" else "raw"
    counted_zh = "病例组合调整值" if counted == "adjusted" else "原始值"
    if raw_value is None or adjusted_value is None:
        missing = "case-mix-adjusted value" if adjusted_value is None else "raw value"
        why_en, why_zh = MISSING[kind]
        en = f"the {counted} value counts; no {missing}" + (f" ({why_en})" if adjusted_value is None else "")
        zh = f"计分采用{counted_zh}；" + (f"无病例组合调整值（{why_zh}）" if adjusted_value is None else "无原始值")
        return en, zh
    raw_s = format_value(raw_value, ind.unit, display=False)
    adj_s = format_value(adjusted_value, ind.unit, display=False)
    why, why_zh = _why(kind, expected_change)
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
    says which counted (a new score, the one given is not changed). Both values are judged alike: with
    the indicator's funnel when it has one (its limits depend on the baseline and the volume, not on
    which value is put against them), so a light that differs is the case mix's doing, not the funnel's."""
    adjusted = ind.casemix == "adjusted"
    raw_s = (
        scored
        if not adjusted
        else score_indicator(
            ind, v.raw_value, baseline, benchmark=benchmark, prior=v.raw_prior, volume=v.volume, funnel=fit
        )
    )
    adj_s = (
        scored
        if adjusted
        else score_indicator(
            ind, v.adjusted_value, baseline, benchmark=benchmark, prior=v.adjusted_prior, volume=v.volume, funnel=fit
        )
    )
    if raw_s.status is not Status.SCORED and adj_s.status is not Status.SCORED:
        return scored, None  # e.g. below the minimum volume: the grey reason says it all
    missing_adjusted = adjusted and v.adjusted_value is None  # raw scorable, adjustment unavailable
    change = expected_effect(ind, current, prior)
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
