"""Pydantic models of a pingyi project: the indicator catalogue, AHP judgments, baselines,
regions and policy. Small, frozen, `extra="forbid"` so a typo in a field name is an error
rather than a silently ignored setting.

This module (like the whole spec layer) imports no DuckDB, weasyprint or openpyxl, so
`pingyi validate` stays instant.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pingyi.spec.rules import RULES, Rule

CODE_PATTERN = r"^[A-Z][A-Z0-9]*\.[0-9]{2}$"  # secondary: D1.01
PRIMARY_PATTERN = r"^[A-Z][A-Z0-9]*$"  # primary: D1
IDENT_PATTERN = r"^[a-z][a-z0-9_]*$"  # measure names in formulas


class Frozen(BaseModel):
    # allow_inf_nan=False: YAML's .nan and .inf are floats, and a NaN weight, rate or baseline compares
    # false with everything, so it would slip past every range check below and move money
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Origin(Frozen):
    """Where a spec object was defined; every message and report points back here."""

    file: str
    line: int | None = None


# --------------------------------------------------------------------------- enums


class Direction(StrEnum):
    """The four directions of the national appraisal (逐步提高/逐步降低/监测比较), plus a target band."""

    UP = "up"  # 逐步提高, higher is better
    DOWN = "down"  # 逐步降低, lower is better
    TARGET = "target"  # inside a band is best
    MONITOR = "monitor"  # 监测比较: shown, never rewarded or penalised


class Unit(StrEnum):
    PERCENT = "percent"  # stored as a fraction (0.05), shown as 5.0 %
    RATIO = "ratio"
    INDEX = "index"
    YUAN = "yuan"
    DAYS = "days"
    MINUTES = "minutes"
    COUNT = "count"
    PER_10K = "per_10k"
    SCORE = "score"  # 0-100 points


# the values an indicator of each unit can take, unless it declares `valid_range`
UNIT_RANGES: dict[Unit, tuple[float, float | None]] = {Unit.PERCENT: (0.0, 1.0), Unit.SCORE: (0.0, 100.0)}


class DataSource(StrEnum):
    SETTLEMENT = "settlement"  # platform records: settlements, settlement lists, fee items, audit flags
    REPORT = "report"  # provider self-report
    SURVEY = "survey"  # insured-person survey
    EXPERT = "expert"  # expert score (qualitative)


class ProviderLevel(StrEnum):
    """Provider levels (医院等级) baselines are set for; data.yaml `level_aliases` maps the spellings
    exports use (三级甲等, 一级, 基层 …) to these."""

    TERTIARY = "三级"
    SECONDARY = "二级"
    PRIMARY = "一级及基层"


LEVELS: tuple[str, ...] = tuple(level.value for level in ProviderLevel)

# hosp_lv as exports write it (等级评审 grade: 甲等 / 乙等 / 丙等 / 特等, their short forms) -> the level
# baselines name. 未定级 / 无等级 (not rated: mostly clinics, 卫生室, community stations) -> 一级及基层,
# the only peer group that does not hold a provider to a rated hospital's standard. Each spelling also
# in traditional characters (三級甲等, 基層: a Big5 file cannot hold 级 or 层). No numeric codes:
# public code tables number the grades differently (1 = 三级特等 in one, 10 in another), so a guess
# could swap 一级 and 三级; a province whose export uses codes lists them in data.yaml.
_LEVEL_SPELLINGS: dict[str, str] = {
    **dict.fromkeys(("三级特等", "三级甲等", "三级乙等", "三级丙等", "三级未评", "三甲", "三乙", "三丙"), "三级"),
    **dict.fromkeys(("二级甲等", "二级乙等", "二级丙等", "二级未评", "二甲", "二乙", "二丙"), "二级"),
    **dict.fromkeys(("一级甲等", "一级乙等", "一级丙等", "一级未评", "一级", "基层", "未定级", "无等级"), "一级及基层"),
}
_TRADITIONAL = str.maketrans("级层评无", "級層評無")
DEFAULT_LEVEL_ALIASES: dict[str, str] = {
    **_LEVEL_SPELLINGS,
    **{
        k.translate(_TRADITIONAL): v
        for k, v in {**{level: level for level in LEVELS}, **_LEVEL_SPELLINGS}.items()
        if k.translate(_TRADITIONAL) != k
    },
}


# --------------------------------------------------------------------------- indicators


class Manual(Frozen):
    """The 指标解释手册 entry: what hospitals and the insurer must read the same way."""

    meaning: str = Field(min_length=1, description="内涵: what the indicator measures and why")
    meaning_en: str = Field(min_length=1)
    formula_text: str = Field(min_length=1, description="计算方法 in words")
    formula_text_en: str = Field(min_length=1)
    inclusions: str = Field(min_length=1, description="纳入范围")
    exclusions: str = Field(min_length=1, description="排除范围")
    data_source: str = Field(min_length=1, description="数据来源, naming tables and fields")
    interpretation: str | None = Field(default=None, description="how to read a change; what to fix")
    references: list[str] = Field(default_factory=list, description="national definitions this follows")


class Lights(Frozen):
    """Traffic-light thresholds relative to the baseline.

    `relative` mode: worse-than-baseline share = (value - baseline) / |baseline| in the bad
    direction. Green up to `yellow`, yellow up to `red`, red beyond; the default red bound of
    20 % is the source documents' warning rule [001 §5.3]. `absolute` mode compares the
    difference in the indicator's own unit (use it for baselines near zero).
    """

    mode: Literal["relative", "absolute"] = "relative"
    yellow: float = Field(default=0.0, ge=0)
    red: float = Field(default=0.20, gt=0)
    statistical: Literal["none", "funnel"] = "none"
    # funnel mode only (pingyi.score.funnel): overdispersion correction of the control limits, estimated
    # across all scored providers after winsorising `trim` of the z-scores at each end.
    overdispersion: Literal["none", "phi", "tau2"] = Field(
        default="tau2", description="funnel limits: none, multiplicative phi, or additive tau2 (DerSimonian-Laird)"
    )
    trim: float = Field(default=0.10, ge=0, lt=0.5, description="funnel: winsorise this share of z-scores at each end")
    # funnel mode only: what the score is computed on. `observed`: the value itself. `beyond_95`: the value
    # less the part of its bad-side deviation that sampling error explains (1.96 s, no overdispersion) at the provider's
    # volume (what chance can explain), so a small provider inside the limits is scored as meeting its
    # baseline and a large one is scored on almost all of its deviation.
    funnel_score: Literal["observed", "beyond_95"] = Field(
        default="observed", description="funnel: score the observed value, or only its deviation beyond the 95 % limit"
    )


if TYPE_CHECKING:
    ScoringRule = Rule
else:  # the discriminated union of every registered rule (pingyi.spec.rules.RULES)
    ScoringRule = Annotated[functools.reduce(operator.or_, RULES.values()), Field(discriminator="rule")]


# A reported or survey indicator's minimum-volume rule may name the reported row's own denominator
# (valid questionnaires, complaints due) instead of a measure.
REPORTED_DENOMINATOR = "denominator"


class Volume(Frozen):
    """Minimum-volume rule: below `minimum` of `measure`, the indicator is 'insufficient' (grey). For a
    reported or survey indicator `measure: denominator` reads the row's denominator column; a row
    without one is scored as reported (its size cannot be shown to be small)."""

    measure: str = Field(pattern=IDENT_PATTERN)
    minimum: float = Field(gt=0)


# Measures the case-mix stage (pingyi.compute.casemix) adds per provider and year; formulas may use them
# like any measure. Expected costs come from a per-region model of ln(stay cost) on patient age,
# sex, DRG weight and number of secondary diagnoses, fitted across all providers of the region.
CASEMIX_MEASURES: dict[str, str] = {
    "casemix_stays": "inpatient stays in the case-mix model (settlement list with a DRG weight and a cost > 0)",
    "casemix_expected_cost": "mean expected cost per modelled stay (regional model, Duan smearing)",
    "casemix_observed_cost": "mean observed cost per modelled stay",
    "casemix_oe_ratio": "observed / expected cost over the modelled stays",
    # outpatients (D1.02): a per-region model of ln(visit cost) on age and sex, the same method
    "casemix_op_visits": "ordinary and emergency outpatient visits (med_type 11, 13) in the outpatient cost model",
    "casemix_op_expected_cost": "mean expected cost per modelled outpatient visit (regional model of age and sex)",
    "casemix_op_observed_cost": "mean observed cost per modelled outpatient visit",
    # the fund (D1.03): evaluation year only
    "casemix_fund_deflator": "change of the expected cost per case since last year, inpatient and outpatient "
    "weighted by last year's expected spending (1 = unchanged case mix)",
    # outcome rates (D2.02 death in low-risk DRGs, D2.03 readmission, D2.04 complication): per-region logistic
    # models of the event on age, sex, DRG weight and comorbidity (pingyi.compute.outcomes)
    **{
        f"casemix_{o}_{part}": text.format(what=what)
        for o, what in (
            ("death", "low-risk DRG stays (D2.02)"),
            ("readmit", "alive discharges (D2.03)"),
            ("complication", "surgical stays (D2.04)"),
        )
        for part, text in (
            ("cases", "{what} in the outcome model"),
            ("observed", "observed events among the modelled {what}"),
            ("expected", "expected events among the modelled {what} (Σ of the regional model's probabilities)"),
            ("region_rate", "the region's observed rate over its modelled {what}, same year"),
            ("oe_shrunk", "observed / expected events of the {what}, empirical-Bayes shrunk toward the region"),
        )
    },
}


class IndicatorSpec(Frozen):
    code: str = Field(pattern=CODE_PATTERN)
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    manual: Manual
    formula: str | None = Field(default=None, description="expression over measures; see pingyi.spec.formula")
    direction: Direction
    unit: Unit
    source: DataSource
    qualitative: bool = False
    scoring: ScoringRule
    lights: Lights = Lights()
    volume: Volume | None = None
    casemix: Literal["raw", "adjusted"] = "raw"
    on_empty: Literal["zero", "insufficient", "missing"] | None = Field(
        default=None,
        description="what a provider's empty source means: zero events (scored 0), insufficient "
        "(grey, no fault) or missing mandatory data (scored as the worst value); default: missing "
        "for settlement and report sources, insufficient for surveys and expert scores",
    )
    adjusted_formula: str | None = Field(
        default=None,
        description="case-mix-adjusted value: an expression over "
        "measures and the case-mix measures (CASEMIX_MEASURES); scored when "
        "casemix is `adjusted`, shown next to the raw value otherwise",
    )
    valid_range: tuple[float, float | None] | None = Field(
        default=None,
        description="[low, high] a reported, survey or expert value must lie in (high null: no upper "
        "bound); default from the unit: percent [0, 1] (a fraction), score [0, 100], others [0, null]",
    )
    origin: Origin | None = None

    @field_validator("valid_range")
    @classmethod
    def _range_ordered(cls, rng: tuple[float, float | None] | None) -> tuple[float, float | None] | None:
        if rng is not None and rng[1] is not None and not rng[0] < rng[1]:
            raise ValueError(f"valid_range must be [low, high] with low < high, found {list(rng)}")
        return rng

    @property
    def value_range(self) -> tuple[float, float | None]:
        """The values this indicator can take; a reported value outside them is a rejected row."""
        if self.valid_range is not None:
            return self.valid_range
        return UNIT_RANGES.get(self.unit, (0.0, None))

    @property
    def empty_means(self) -> str:
        if self.on_empty is not None:
            return self.on_empty
        return "insufficient" if self.source in (DataSource.SURVEY, DataSource.EXPERT) else "missing"


class ExpertJudgment(Frozen):
    """One expert's pairwise comparison matrix on Saaty's 1-9 scale (rows/cols = `items`)."""

    expert: str = Field(min_length=1)
    date: dt.date
    matrix: list[list[float | str | None]]


class Judgments(Frozen):
    """Either pairwise matrices from experts (AHP) or direct weights from a published scheme."""

    items: list[str] = Field(min_length=1)
    experts: list[ExpertJudgment] = Field(default_factory=list)
    weights: dict[str, float] | None = None
    source: str | None = Field(default=None, description="required with direct weights")


class PrimarySpec(Frozen):
    code: str = Field(pattern=PRIMARY_PATTERN)
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    description: str = Field(min_length=1)


class DimensionFile(Frozen):
    """One YAML file per primary dimension."""

    primary: PrimarySpec
    judgments: Judgments
    indicators: list[IndicatorSpec] = Field(min_length=1)
    declared_codes: tuple[str, ...] = Field(
        default=(), exclude=True, description="codes as written, including indicators that failed validation"
    )


class Expert(Frozen):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    affiliation: str | None = None


class AhpSettings(Frozen):
    ri_table: Literal["saaty"] = "saaty"
    cr_threshold: float = Field(default=0.10, gt=0, lt=1)
    aggregation: Literal["aij"] = "aij"
    expert_cr: Literal["flag", "exclude"] = Field(
        default="flag",
        description="an expert whose own matrix has CR >= cr_threshold: flag (warn, keep in the aggregate) "
        "or exclude (warn, leave out of that matrix's geometric mean)",
    )


class HierarchyFile(Frozen):
    """`indicators/hierarchy.yaml`: the system's name, AHP settings, experts, primary matrix."""

    name: str
    version: str
    ahp: AhpSettings = AhpSettings()
    qualitative_cap: float = Field(
        default=0.20, gt=0, le=1, description="max total weight of expert-scored indicators [001 §3.2]"
    )
    experts: list[Expert] = Field(default_factory=list)
    judgments: Judgments
    combination: WeightCombination | None = Field(
        default=None, description="objective weights combined with the AHP weights; none: AHP only"
    )


# --------------------------------------------------------------------------- regions and baselines


class RegionScheme(Frozen):
    name_zh: str
    name_en: str
    source: str
    regions: dict[str, str] = Field(description="region code -> Chinese label")


class Province(Frozen):
    code: str = Field(pattern=r"^[0-9]{2}$")
    name: str
    regions: dict[str, str] = Field(description="scheme -> region code")


class RegionsFile(Frozen):
    default_scheme: str
    schemes: dict[str, RegionScheme]
    provinces: list[Province]


BaselineValues = float | dict[str, float | dict[str, float]]


class BaselineProvenance(Frozen):
    """Where one derived baseline value came from (`pingyi baselines derive`)."""

    method: str = Field(
        pattern=r"^(median|p[0-9]{1,2}|carried)$",
        description="median, pNN (NN-th percentile in the good direction) or carried (kept)",
    )
    n: int = Field(ge=0, description="providers of the region and level with a scored value")
    statistic: float | None = Field(default=None, description="the raw statistic of their values")
    previous: float | None = Field(default=None, description="the baseline of the year the results are from")
    ageing: float = Field(default=0.0, description="added for the change in ageing rate (indicator units)")
    guardrail: Literal["none", "relative", "absolute", "kept"] = Field(
        default="none",
        description="which cap limited the move from `previous`: none (not capped), relative, "
        "absolute, kept (a baseline of 0 with no absolute cap does not move)",
    )
    value: float = Field(description="the resulting baseline")
    note: str | None = None


class BaselineEntry(Frozen):
    """Baseline of one indicator: a number, per region, or per region x level."""

    values: BaselineValues
    benchmark: BaselineValues | None = None
    source: str = Field(min_length=1)
    assumed: bool = False
    provenance: dict[str, dict[str, BaselineProvenance]] | None = Field(
        default=None, description="per region and level: how a derived value was obtained"
    )


class BaselinesFile(Frozen):
    year: int = Field(ge=2000, le=2100)
    region_scheme: str
    description: str | None = None
    baselines: dict[str, BaselineEntry]


# --------------------------------------------------------------------------- policy


class GradeBand(Frozen):
    name: str
    name_en: str
    min_score: float = Field(ge=0, le=100)


class DimensionLights(Frozen):
    """Lights for the 8 dimensions: green at or above `green_min`, yellow at or above `yellow_min`."""

    green_min: float = Field(default=80, ge=0, le=100)
    yellow_min: float = Field(default=60, ge=0, le=100)


class VetoRule(Frozen):
    """一票否决: when `measure` (current year) reaches `minimum`, the grade is the veto grade whatever the score."""

    name: str
    name_en: str
    measure: str = Field(pattern=IDENT_PATTERN)
    minimum: float = Field(default=1, gt=0)


class PerPointRule(Frozen):
    """Fujian style [china.md §3.3]: `withhold` of the prepayment is at stake; each point below
    `below` deducts `per_point` of it; below `forfeit_below` all of it is deducted."""

    withhold: float = Field(default=0.05, gt=0, le=1)
    per_point: float = Field(default=0.03, gt=0, le=1)
    below: float = Field(default=80, ge=0, le=100)
    forfeit_below: float = Field(default=60, ge=0, le=100)


class AdjustmentPolicy(Frozen):
    """How grades move prepayments (预付金). Defaults from the source documents [001 §3.2, §6.3]:
    不合格 -10 % ("no less than 10 %"), 优秀 +5 %, two consecutive 不合格 -> designation revoked."""

    mode: Literal["step", "per_point", "budget_neutral"] = "step"
    step_rates: dict[str, float] = Field(default_factory=lambda: {"优秀": 0.05, "不合格": -0.10})
    max_rate: float = Field(
        default=0.30, gt=0, le=1, description="cap on |step rate|; a larger rate needs allow_large_rates: true"
    )
    allow_large_rates: bool = Field(default=False, description="accept step rates beyond max_rate (up to 100 %)")
    per_point: PerPointRule = PerPointRule()
    max_scale: float = Field(default=3.0, gt=0, le=100, description="budget-neutral: cap on the reward scaling factor")
    base_measure: str = Field(
        default="fund_paid",
        pattern=IDENT_PATTERN,
        description="prior-year total of this measure / 12 sizes a missing prepayment",
    )
    revoke_after: int = Field(default=2, ge=1, description="consecutive failing years that revoke designation")


class Eligibility(Frozen):
    """When a provider can be graded at all (CMS Star Ratings style minimums). Below them it is not
    graded (不予评级, no money moves) when that is no fault of its own; a provider with missing mandatory
    data is graded `fail_grade` instead, so not reporting never escapes a cut."""

    min_scored: int = Field(default=1, ge=1, description="scored indicators (missing ones count) needed overall")
    max_weight_ratio: float | None = Field(
        default=None,
        gt=1,
        description="cap on an indicator's effective / nominal weight after redistribution; beyond it: not graded",
    )


class RunGuards(Frozen):
    """When `pingyi score` refuses to move money on the data it was given (pingyi.run.guards)."""

    max_rejected_share: float = Field(
        default=0.05, ge=0, le=1, description="a table with a larger share of rejected rows stops the run"
    )


class CyclePolicy(Frozen):
    """The evaluation cycle around a score (评议-反馈-整改-复查) [001 §3.2, §5.3, §6.3]: how long a preview
    stays open for review, how long a provider has to correct an in-year warning or rectify a red light,
    and when a year-to-date indicator is "heading for red"."""

    review_days: int = Field(
        default=30, ge=1, le=365, description="days a preview (征求意见稿) is open for review and disputes"
    )
    warning_deadline_days: int = Field(
        default=30, ge=1, le=365, description="days an in-year warning (预警) gives for correction (限期整改)"
    )
    heading_for_red: float = Field(
        default=0.20,
        gt=0,
        le=10,
        description="an in-year value this share worse than its baseline is heading for red (seed: > 20 %)",
    )
    rectification_days: int = Field(
        default=90, ge=1, le=730, description="days a rectification item (整改) is given after the final run"
    )
    rectify_lights: list[Literal["red", "yellow"]] = Field(
        default_factory=lambda: list[Literal["red", "yellow"]](["red"]),
        description="lights of a final run that open a rectification item",
    )
    ledger: str | None = Field(
        default=None,
        min_length=1,
        description="the committee's ledger file, relative to the project (used when --ledger is not given)",
    )


class CreditRule(Frozen):
    """The credit bonus [002]: a provider with an accepted credit rating and no confirmed violation in the
    year gets its prepayment raised by `rate`, added to the grade's adjustment rate and never scaled
    by budget_neutral (a vetoed, failing, not graded or revoked provider never gets it, nor one whose
    violation count is missing). pingyi.score.adjust applies it; docs/methods.md states the rule."""

    rate: float = Field(default=0.10, ge=0, le=1, description="prepayment bonus for credit-rated providers")
    ratings: list[str] = Field(
        default_factory=list,
        description="values of providers.credit_rating that qualify (empty, the default: no credit bonus)",
    )
    violation_measure: str = Field(
        default="confirmed_violations",
        pattern=IDENT_PATTERN,
        description="a measure counting the year's confirmed violations; above 0 forfeits the bonus",
    )


PeerKey = Literal["region", "level", "type"]

PROVIDER_TYPES: tuple[str, ...] = ("综合", "中医", "妇幼", "专科", "基层")

# providers.fixmedins_type as exports write it (医疗机构类别 of the 医疗机构执业许可证, as 定点 registers
# carry it) -> the provider type peer groups compare. 中西医结合 and 民族医 hospitals are judged with
# 中医 ones (their catalogues and case mix are closest); 妇产 and 儿童 hospitals are 专科, 妇幼保健院
# (public-health duties, maternity case mix) their own type. Each spelling also in traditional characters.
_TYPE_SPELLINGS: dict[str, str] = {
    **dict.fromkeys(("综合医院", "综合"), "综合"),
    **dict.fromkeys(("中医医院", "中医院", "中西医结合医院", "民族医医院", "民族医院", "中医"), "中医"),
    **dict.fromkeys(("妇幼保健院", "妇幼保健计划生育服务中心", "妇幼保健所", "妇幼"), "妇幼"),
    **dict.fromkeys(("专科医院", "妇产医院", "儿童医院", "专科"), "专科"),
    **dict.fromkeys(
        ("社区卫生服务中心", "社区卫生服务站", "乡镇卫生院", "街道卫生院", "村卫生室", "门诊部", "诊所", "基层"), "基层"
    ),
}
_TYPE_TRADITIONAL = str.maketrans("综医结区务乡镇诊门", "綜醫結區務鄉鎮診門")
DEFAULT_TYPE_ALIASES: dict[str, str] = {
    **_TYPE_SPELLINGS,
    **{k.translate(_TYPE_TRADITIONAL): v for k, v in _TYPE_SPELLINGS.items() if k.translate(_TYPE_TRADITIONAL) != k},
}


class PeerPolicy(Frozen):
    """`peers:` in policy.yaml: who a provider is compared with for its peer percentiles, peer rank and
    peer averages. A group is the providers sharing the values of `keys`; a group with fewer than
    `min_size` providers drops the keys of `merge`, in order, until it is large enough (or `merge` is
    used up: then it stays small and the card cautions). pingyi.score.peers applies it."""

    keys: list[PeerKey] = Field(
        default_factory=lambda: list[PeerKey](["region", "level", "type"]),
        min_length=1,
        description="what peers share: region (of the baselines' region scheme), level (hosp_lv), type",
    )
    merge: list[PeerKey] = Field(
        default_factory=lambda: list[PeerKey](["region", "level"]),
        description="keys dropped in this order while a group is smaller than min_size (type last or never)",
    )
    min_size: int = Field(default=5, ge=1, le=1000, description="providers a peer group needs before merging stops")
    types: list[str] = Field(
        default_factory=lambda: list(PROVIDER_TYPES), min_length=1, description="the provider types compared"
    )
    type_aliases: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_TYPE_ALIASES),
        description="providers.fixmedins_type as exports write it -> one of `types` (a type name stands for itself)",
    )

    def type_of(self, fixmedins_type: str | None) -> str | None:
        """The provider type of an export's fixmedins_type, None when blank or not mapped."""
        value = (fixmedins_type or "").strip()
        if not value:
            return None
        if value in self.types:
            return value
        return self.type_aliases.get(value)


GradeLight = Literal["green", "yellow", "red", "grey"]


def _default_grade_lights() -> dict[str, GradeLight]:
    return {"优秀": "green", "良好": "green", "合格": "yellow", "不合格": "red"}


class ReportIssue(Frozen):
    """`report:` in policy.yaml: who issues the committee report and under which document number
    (文号), printed in its title block. Optional: a report without them says 未填写 where they go."""

    area: str | None = Field(default=None, description="the province or city the evaluation covers, e.g. 浙江省")
    issuer: str | None = Field(default=None, description="the issuing body, e.g. 浙江省医疗保障局")
    document_number: str | None = Field(
        default=None, description="the document number (文号), e.g. 浙医保发〔2026〕12号"
    )
    date: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$", description="the date of issue, YYYY-MM-DD")


class PolicyFile(Frozen):
    """`policy.yaml`: grade bands, lights, veto rules and prepayment adjustments."""

    version: int = 1
    evaluation_year: int | None = Field(
        default=None,
        ge=2000,
        le=2100,
        description="the year this project evaluates (its baselines/*.yaml with this year); --year overrides",
    )
    grades: list[GradeBand] = Field(
        default_factory=lambda: [
            GradeBand(name="优秀", name_en="Excellent", min_score=90),
            GradeBand(name="良好", name_en="Good", min_score=80),
            GradeBand(name="合格", name_en="Pass", min_score=60),
            GradeBand(name="不合格", name_en="Fail", min_score=0),
        ]
    )
    fail_grade: str = "不合格"
    veto_grade: str = "不合格"
    insufficient_grade: str = "不予评级"
    grade_lights: dict[str, GradeLight] = Field(default_factory=_default_grade_lights)
    lights: DimensionLights = DimensionLights()
    veto: list[VetoRule] = Field(default_factory=list)
    eligibility: Eligibility = Eligibility()
    guards: RunGuards = RunGuards()
    adjustment: AdjustmentPolicy = AdjustmentPolicy()
    cycle: CyclePolicy = CyclePolicy()
    credit: CreditRule = CreditRule()
    peers: PeerPolicy = PeerPolicy()
    report: ReportIssue = ReportIssue()

    @field_validator("grades")
    @classmethod
    def _bands_descending(cls, grades: list[GradeBand]) -> list[GradeBand]:
        scores = [g.min_score for g in grades]
        if scores != sorted(scores, reverse=True) or len(set(scores)) != len(scores):
            raise ValueError(f"grade bands must have strictly descending min_score, found {scores}")
        if scores and scores[-1] != 0:
            raise ValueError(f"the lowest grade band must start at 0 so every score gets a grade, found {scores[-1]}")
        return grades


# --------------------------------------------------------------------------- data settings


class DataSettings(Frozen):
    """`data.yaml`: the code sets and tolerances that turn platform records into measures.

    Explicit and configurable because provinces add local `med_type` codes (e.g. 28 日间手术)
    and differ in how refunds are flagged [china.md §4.4].
    """

    inpatient_med_types: list[str] = Field(default_factory=lambda: ["21", "22", "23", "24", "52", "92"])
    outpatient_med_types: list[str] = Field(default_factory=lambda: ["11", "12", "13", "14", "51", "91"])
    chronic_med_types: list[str] = Field(default_factory=lambda: ["14"])
    refund_flag_values: list[str] = Field(default_factory=lambda: ["1"])
    e_credential_cert_types: list[str] = Field(default_factory=lambda: ["01"])
    upload_deadline_days: int = Field(
        default=30, gt=0, description="settlement list (4101) upload limit after settlement"
    )
    money_tolerance: float = Field(default=0.01, ge=0, description="payments must add up within this many yuan")
    max_stay_days: int = Field(default=60, gt=0, description="stays longer than this are excluded from DRG indices")
    audit_response_days: int = Field(
        default=15, gt=0, description="smart-audit flags answered within N days are timely"
    )
    level_aliases: dict[str, ProviderLevel] = Field(
        default_factory=lambda: {k: ProviderLevel(v) for k, v in DEFAULT_LEVEL_ALIASES.items()},
        description="providers.hosp_lv as exports write it -> the level baselines name (三级 / 二级 / 一级及基层)",
    )

    @field_validator("level_aliases")
    @classmethod
    def _aliases_are_spellings(cls, value: dict[str, ProviderLevel]) -> dict[str, ProviderLevel]:
        for spelling, level in value.items():
            if not spelling or spelling != spelling.strip():
                raise ValueError(f"'{spelling}': a spelling must be non-empty text without surrounding blanks")
            if spelling in LEVELS and spelling != level:
                raise ValueError(f"'{spelling}' is a level itself and cannot stand for {level}")
        return value


# --------------------------------------------------------------------------- measures


class MeasureSpec(Frozen):
    """A named SQL aggregate over one table, per provider and year (see pingyi.compute.measures)."""

    name: str = Field(pattern=IDENT_PATTERN)
    table: str = Field(pattern=IDENT_PATTERN)
    description: str = Field(min_length=1)
    aggregate: str = Field(min_length=1)
    filter: str | None = None
    unit: str | None = None
    origin: Origin | None = None


class MeasuresFile(Frozen):
    measures: list[MeasureSpec] = Field(min_length=1)


# --------------------------------------------------------------------------- weight combination


class WeightCombination(Frozen):
    """`combination:` in indicators/hierarchy.yaml: how the objective (entropy or CRITIC) weights of a
    results folder are combined with the AHP weights in `pingyi weights --results`. Absent: AHP only."""

    objective: Literal["entropy", "critic"] = "entropy"
    method: Literal["linear", "multiplicative", "game"]
    alpha: float | None = Field(
        default=None, ge=0, le=1, description="linear only: the AHP share, alpha AHP + (1 - alpha) objective"
    )
    source: str | None = Field(default=None, description="the committee decision that set the combination")


HierarchyFile.model_rebuild()
