"""The one formatter and the one vocabulary: how values, money, rates and scores are written, and the
words for lights, statuses, designations, levels and units, in Chinese (default) and English.

Reasons, report cards, the workbook, the HTML pages, `pingyi explain` and the generated manual all
format through this module, so one number reads the same everywhere.

Two forms of a value (`format_value`):

- the *record* form (`display=False`) is what the reasons stored in results.json and indicators.csv
  use, in both languages: one decimal for percentages and Chinese unit words (元, 天, /万人次). It is
  part of the results contract that `pingyi verify` compares byte for byte;
- the *display* form (`display=True`, the default) is what cards and pages show: two decimals for
  a percentage below 1 % (0.08 %, not 0.1 %) and unit words in the reader's language; the per-10,000
  unit is left out in Chinese, where the indicator's name already says 每万人次.

Machine forms for the CSV files (`fixed`, `significant`) are here too: they are never localised.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from enum import Enum, StrEnum
from typing import Any, Literal

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")


class Light(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"
    GREY = "grey"  # no score: insufficient data
    NONE = "none"  # monitor-only: neutral


class Status(StrEnum):
    """What happened to one indicator of one provider."""

    SCORED = "scored"
    INSUFFICIENT = "insufficient"  # grey: too little volume, no survey or no baseline (no fault); weight redistributed
    MISSING = "missing"  # mandatory data not supplied: scored as the worst value (0 points, red), never redistributed
    MONITOR = "monitor"  # monitor-only: shown, never scored


class Designation(StrEnum):
    """The provider's designation (定点资格) after this year's grade and its history."""

    KEPT = "kept"
    WARNING = "warning"  # failed this year; one more failing year revokes it
    REVOKED = "revoked"


# --------------------------------------------------------------------------- words

LIGHT_WORDS: dict[str, dict[str, str]] = {  # in sentences: 红灯, red
    "zh": {"green": "绿灯", "yellow": "黄灯", "red": "红灯", "grey": "灰灯", "none": "监测"},
    "en": {"green": "green", "yellow": "yellow", "red": "red", "grey": "grey", "none": "monitor"},
}
LIGHT_SHORT: dict[str, dict[str, str]] = {  # in a table column next to the disc: 红, red
    "zh": {"green": "绿", "yellow": "黄", "red": "红", "grey": "灰", "none": "监测"},
    "en": {"green": "green", "yellow": "yellow", "red": "red", "grey": "grey", "none": "monitor"},
}
STATUS_WORDS: dict[str, dict[str, str]] = {
    "zh": {"scored": "计分", "insufficient": "数据不足", "monitor": "监测", "missing": "数据缺失"},
    "en": {"scored": "scored", "insufficient": "insufficient", "monitor": "monitor only", "missing": "missing"},
}
DESIGNATION_WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "kept": "保留",
        "warning": "预警：本年不合格，连续两年不合格将取消定点资格",
        "revoked": "取消：连续两年不合格，按规定取消定点资格",
    },
    "en": {
        "kept": "kept",
        "warning": "warning: failed this year; a second consecutive fail revokes the designation",
        "revoked": "revoked: failed two years in a row",
    },
}
DESIGNATION_SHORT: dict[str, dict[str, str]] = {
    "zh": {"kept": "保留", "warning": "预警", "revoked": "取消"},
    "en": {"kept": "kept", "warning": "warning", "revoked": "revoked"},
}
LEVEL_WORDS: dict[str, dict[str, str]] = {
    "zh": {"三级": "三级", "二级": "二级", "一级及基层": "一级及基层"},
    "en": {"三级": "Tertiary", "二级": "Secondary", "一级及基层": "Primary & community"},
}
REGION_WORDS_EN = {"east": "East", "central": "Central", "west": "West", "northeast": "Northeast"}
SOURCE_WORDS: dict[str, dict[str, str]] = {
    "zh": {"settlement": "结算数据", "report": "机构填报", "survey": "满意度调查", "expert": "专家评分"},
    "en": {"settlement": "settlements", "report": "self-report", "survey": "survey", "expert": "expert score"},
}
UNIT_WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "percent": "%",
        "ratio": "比值",
        "index": "指数",
        "yuan": "元",
        "days": "天",
        "minutes": "分钟",
        "count": "个",
        "per_10k": "/万人次",
        "score": "分",
    },
    "en": {
        "percent": "%",
        "ratio": "ratio",
        "index": "index",
        "yuan": "CNY",
        "days": "days",
        "minutes": "min",
        "count": "count",
        "per_10k": "per 10k",
        "score": "points",
    },
}
NOT_GRADED: dict[str, str] = {"zh": "不予评级", "en": "Not graded"}
ADJUSTMENT_MODE_WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "step": "按等级定档调整",
        "per_point": "按分差扣减（预留金）",
        "budget_neutral": "预算中性（扣减资金用于奖励）",
    },
    "en": {
        "step": "step rates by grade",
        "per_point": "per point below the bar (withheld share)",
        "budget_neutral": "budget neutral (penalties fund the rewards)",
    },
}
PREPAYMENT_SOURCE_WORDS: dict[str, dict[str, str]] = {
    "zh": {"providers table": "机构信息表", "none": "无预付金基数"},
    "en": {"providers table": "providers table", "none": "no prepayment base"},
}
QUALITY_DIMENSION_WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "completeness": "完整性",
        "validity": "有效性",
        "consistency": "一致性",
        "timeliness": "及时性",
        "uniqueness": "唯一性",
    },
    "en": {},
}
QUALITY_SEVERITY_WORDS: dict[str, dict[str, str]] = {
    "zh": {"reject": "剔除", "flag": "标记"},
    "en": {"reject": "rejected", "flag": "flagged"},
}
QUALITY_REASON_WORDS_ZH: dict[str, str] = {
    "missing_required": "必填项为空",
    "malformed_row": "行格式错误",
    "bad_type": "类型错误",
    "bad_code": "代码不在代码表中",
    "bad_format": "代码格式错误",
    "unclassified_code": "未归类的地方代码",
    "negative_money": "金额为负",
    "positive_refund": "退费金额为正",
    "money_precision": "金额超过两位小数",
    "out_of_range": "数值超出范围",
    "fund_exceeds_total": "基金支付超过总费用",
    "payments_do_not_add_up": "支付分项与合计不符",
    "discharge_before_admission": "出院早于入院",
    "unknown_provider": "机构编码不存在",
    "unmatched_settlement": "结算清单无对应结算",
    "handled_before_flag": "疑点处理早于生成",
    "duplicate_key": "主键重复",
    "outside_window": "超出评议期",
    "late_upload": "逾期上传",
}
# the data checks' names (pingyi.data.checks: "<column>: <kind>", "<column> in window", "unique <key>" …)
# in Chinese; column and table codes stay, they are the field codes of the data standard
_CHECK_KINDS_ZH = {
    "required": "必填", "int": "整数", "float": "数值", "datetime": "日期时间", "money": "金额",
    "2 decimals": "两位小数", "range": "取值范围", "format": "格式", "code table": "代码表",
    "classified": "可归类为住院或门诊", "the indicator's valid range": "指标的有效取值范围",
}  # fmt: skip
_CHECK_FORMS_ZH = (
    (re.compile(r"(\S+) in window"), "{0} 在评议期内"),
    (re.compile(r"(\S+) within upload deadline"), "{0} 在上传时限内"),
    (re.compile(r"(\S+) in (\S+)"), "{0} 存在于 {1} 表"),
    (re.compile(r"unique (.+)"), "{0} 唯一"),
    (re.compile(r"(.+) on refunds"), "退费时 {0}"),
)


def check_words(check: str, lang: Lang = "zh") -> str:
    """A data check's name in the report's language: "setl_time in window" is 'setl_time 在评议期内',
    "acct_pay: money" 'acct_pay：金额'; a formula ("a + b = c", "a >= 0") reads the same in both."""
    if lang != "zh":
        return check
    column, sep, kind = check.partition(": ")
    if sep and kind in _CHECK_KINDS_ZH:
        return f"{column}：{_CHECK_KINDS_ZH[kind]}"
    for pattern, zh in _CHECK_FORMS_ZH:
        m = pattern.fullmatch(check)
        if m:
            return zh.format(*m.groups())
    return check


# a monitor-only indicator (rule none) where weights are shown: `pingyi weights`, the manual, `explain`
MONITOR_WEIGHT_WORDS: dict[str, str] = {"zh": "监测指标，不计分", "en": "monitor only, not scored"}
# the manual's bilingual phrases (`pingyi explain`, docs/indicator-manual.md)
MANUAL_DIRECTION = {
    "up": "逐步提高 higher is better",
    "down": "逐步降低 lower is better",
    "target": "目标区间 inside the target band is best",
    "monitor": "监测比较 monitor only (not scored)",
}
MANUAL_SOURCE = {
    "settlement": "医保信息平台结算数据 settlement records",
    "report": "机构填报 provider report",
    "survey": "满意度调查 survey",
    "expert": "专家评分 expert score",
}


def _key(word: Any) -> str:
    return str(word.value) if isinstance(word, Enum) else str(word)


def light_word(light: Light | str | None, lang: Lang = "zh", *, short: bool = False) -> str:
    key = _key(light or "grey")
    return (LIGHT_SHORT if short else LIGHT_WORDS)[lang].get(key, key)


def designation_word(designation: Designation | str, lang: Lang = "zh", *, short: bool = False) -> str:
    key = _key(designation)
    return (DESIGNATION_SHORT if short else DESIGNATION_WORDS)[lang].get(key, key)


# The kinds of absence a card names on every unscored (or worst-scored) indicator.
ABSENCE_WORDS: dict[str, dict[str, str]] = {
    "zh": {"volume": "样本量不足", "source": "无来源数据", "baseline": "无基线", "missing": "缺失计0分"},
    "en": {"volume": "low volume", "source": "no source data", "baseline": "no baseline", "missing": "missing: 0"},
}


def absence_word(kind: str | None, lang: Lang = "zh") -> str:
    return ABSENCE_WORDS[lang].get(kind or "", "")


def status_word(status: Status | str | None, lang: Lang = "zh") -> str:
    key = _key(status or "")
    return STATUS_WORDS[lang].get(key, key)


# --------------------------------------------------------------------------- numbers


def format_value(value: float | None, unit: Any, lang: Lang = "zh", *, display: bool = True) -> str:
    """A value in its unit (percent values are fractions: 0.05 is 5.0 %). See the module docstring for
    the record form (`display=False`) and the display form."""
    if value is None:
        return "—"
    unit = _key(unit)
    words_zh = lang == "zh" or not display
    if unit == "percent":
        digits = 2 if display and 0 < abs(value) < 0.01 else 1
        return f"{value * 100:.{digits}f}%"
    if unit == "yuan":
        return f"{value:,.2f} 元" if words_zh else f"CNY {value:,.2f}"
    if unit == "days":
        return f"{value:.1f} {'天' if words_zh else 'd'}"
    if unit == "minutes":
        return f"{value:.1f} {'分钟' if words_zh else 'min'}"
    if unit == "count":
        return f"{value:,.0f}"
    if unit == "per_10k":
        if not display:
            return f"{value:.2f} /万人次"
        return f"{value:.2f}" if lang == "zh" else f"{value:.2f} /10k"
    if unit == "score":
        return f"{value:.1f} {'分' if words_zh else 'pts'}"
    return f"{value:.3f}"


def format_figure(value: float | None, unit: Any = None, lang: Lang = "zh") -> str:
    """A measure or an intermediate figure (a sum, a count, a cost per stay): in its unit when it has one
    of the indicator units, else with thousands separators and at most four decimals (no float noise:
    70.0 is 70, 13041.98304 is 13,041.983)."""
    if value is None:
        return "—"
    if _key(unit) in ("yuan", "count", "days", "minutes", "percent", "per_10k", "score"):
        return format_value(value, unit, lang)
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    text = f"{value:,.4f}" if abs(value) >= 1 else f"{value:.6g}"
    return text.rstrip("0").rstrip(".") if "." in text and "e" not in text else text


_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def format_delta(delta: float | None, unit: Any, lang: Lang = "zh") -> str:
    """A signed change in the indicator's unit; percentages as percentage points. A change that
    rounds to zero is shown as ±0."""
    if delta is None:
        return "—"
    unit = _key(unit)
    if unit == "percent":
        digits = 2 if abs(delta) < 0.001 else 1
        text = f"{abs(delta) * 100:.{digits}f}{'个百分点' if lang == 'zh' else ' pp'}"
    else:
        text = format_value(abs(delta), unit, lang)
    number = _NUMBER.search(text)
    shown_zero = number is None or not any(ch in "123456789" for ch in number.group(0))
    sign = "±" if shown_zero else ("+" if delta > 0 else "−")
    return sign + text


def format_score(score: float | None) -> str:
    """An indicator or dimension score, 0-100."""
    return "—" if score is None else f"{score:.1f}"


def format_total(total: float | None) -> str:
    return "—" if total is None else f"{total:.2f}"


def format_weight(weight: float | None) -> str:
    return "—" if weight is None else f"{weight * 100:.2f}%"


def format_percentile(value: float | None, n: int | None, *, short: bool = False) -> str:
    """'P75 (12)' (short: 'P75'): does better than 75 % of the other peers among n; '—' without peers."""
    if value is None or not n:
        return "—"
    return f"P{value:.0f}" if short else f"P{value:.0f} ({n})"


def to_decimal(x: Any) -> Decimal | None:
    if x is None or x == "":
        return None
    try:
        return Decimal(str(x))
    except InvalidOperation:
        return None


def format_money(x: Any, lang: Lang = "zh", *, signed: bool = False) -> str:
    """Yuan with thousands separators and fen; a true minus sign."""
    d = to_decimal(x)
    if d is None:
        return "—"
    text = f"{d:+,.2f}" if signed and d != 0 else f"{d:,.2f}"
    text = text.replace("-", "−")
    return f"{text} 元" if lang == "zh" else f"CNY {text}"


def format_rate(x: Any) -> str:
    """A prepayment rate such as −0.10 as −10%."""
    d = to_decimal(x)
    if d is None:
        return "—"
    pct = (d * 100).quantize(Decimal("0.01")).normalize()
    text = f"{pct:+f}%" if pct != 0 else "0%"
    return text.replace("-", "−")


def rate_text(rate: Decimal) -> str:
    """A rate as the adjustment rules write it: −0.1 as -10%, 0.05 as 5%."""
    return f"{(rate * 100).normalize():f}%"


# --------------------------------------------------------------------------- machine forms (CSV)


def fixed(x: float | Decimal | None, digits: int = 4) -> str:
    """A number with a fixed number of decimals ('' for none); money keeps its fen."""
    if x is None:
        return ""
    if isinstance(x, Decimal):
        return f"{x:.2f}"
    return f"{x:.{digits}f}"


def significant(x: float | None) -> str:
    """Indicator values keep 10 significant digits (they mix fractions, yuan and counts)."""
    return "" if x is None else f"{x:.10g}"
