"""The results contract: results.json as pydantic models, versioned by `schema_version`.

`pingyi score` writes results.json (pingyi.run.results) and every reader (the report cards, the
committee report, `pingyi explain --provider`, `pingyi baselines derive`) reads it through
`load_results_document`, which checks it against these models: a field the writer adds without
declaring it here, a missing field or a wrong type is an error, not a silent guess. Each indicator
carries its scoring rule with its parameters and its lights (mode, bounds, statistical lights), so
renderers never have to infer them. docs/results-schema.json is the JSON Schema of `ResultsDocument`
(generated; a test fails when it is stale).

Versioning: the major number changes when a field is removed, renamed or changes meaning; the minor
number when fields are added. A reader accepts the same major version.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pingyi.errors import PingyiError, read_json_object

SCHEMA_VERSION = "1.5"

LightName = Literal["green", "yellow", "red", "grey", "none"]
StatusName = Literal["scored", "insufficient", "monitor", "missing"]
Number = float | int


class Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- the catalogue


class Lights(Part):
    mode: Literal["relative", "absolute"] = Field(description="gap as a share of the baseline, or in the unit")
    yellow: float = Field(description="worse than the baseline by more than this: yellow")
    red: float = Field(description="worse than the baseline by more than this: red")
    statistical: Literal["none", "funnel"]
    overdispersion: Literal["none", "phi", "tau2"] = Field(description="funnel lights only")
    trim: float = Field(description="funnel lights only: winsorised share of z-scores at each end")
    funnel_score: Literal["observed", "beyond_95"] = Field(description="funnel lights only: what is scored")


class CatalogueIndicator(Part):
    code: str
    primary: str
    name_zh: str
    name_en: str
    unit: str
    direction: Literal["up", "down", "target", "monitor"]
    source: str
    qualitative: bool
    rule: str = Field(description="the scoring rule's name (pingyi.spec.rules)")
    rule_params: dict[str, Number | bool | str | None] = Field(
        description="the rule's parameters as the project sets them"
    )
    lights: Lights
    casemix: Literal["raw", "adjusted"]
    adjusted_formula: str | None
    statistical_lights: Literal["none", "funnel"] = Field(description="the same as lights.statistical")
    nominal_weight: float = Field(description="global AHP weight before any redistribution")
    local_weight: float = Field(description="weight within its primary dimension")
    meaning: str
    interpretation: str | None


class Primary(Part):
    code: str
    name_zh: str
    name_en: str
    weight: float
    description: str


class Grade(Part):
    name: str
    name_en: str
    min_score: float


class System(Part):
    name: str
    version: str


class Budget(Part):
    mode: Literal["step", "per_point", "budget_neutral"]
    penalties: str = Field(description="yuan, decimal string")
    rewards: str
    net: str
    scale: str | None
    credit: str = Field(
        default="0.00", description="yuan, total credit bonuses (信用评价), outside the budget-neutral scale"
    )


class TableQuality(Part):
    file: str
    format: str
    read: int
    used: int
    rejected: int
    flagged: int


class CheckTotal(Part):
    table: str
    check: str
    reason_code: str
    severity: Literal["reject", "flag"]
    failed: int
    checked: int
    rate: float


class QualitySummary(Part):
    tables: dict[str, TableQuality]
    top_failures: list[CheckTotal]


class RunGuard(Part):
    code: str = Field(description="a code of pingyi.run.guards.GUARDS")
    action: Literal["stop", "warn"]
    message: str
    message_zh: str


class GradedSummary(Part):
    graded: int
    not_graded: dict[str, int] = Field(description="reason -> providers (不予评级 and why)")


class RegionModel(Part):
    stays: int
    coefficients: dict[str, float | None]
    smearing: float
    r2: float
    imputed_means: dict[str, float]


class OutpatientModel(Part):
    model: str
    regions: dict[str, RegionModel]  # `stays` counts the modelled visits
    skipped: dict[str, str]


class OutcomeRegionModel(Part):
    regions: list[str] = Field(description="the regions whose expected events it gives (pooled: those with too few)")
    cases: int
    events: int
    coefficients: dict[str, float | None]
    iterations: int
    imputed_means: dict[str, float]
    tau2: dict[str, float] = Field(description='"region year" -> between-provider variance of O/E (Marshall 1991)')


class OutcomeModels(Part):
    indicator: str
    regions: dict[str, OutcomeRegionModel] = Field(description="region (or `pooled`) -> its logistic model")
    skipped: dict[str, str]


class CasemixModel(Part):
    model: str
    min_stays: int
    regions: dict[str, RegionModel]
    skipped: dict[str, str]
    outpatient: OutpatientModel | None = None  # added in 1.5
    outcomes: dict[str, OutcomeModels] = Field(default_factory=dict, description="outcome -> models (added in 1.5)")


class FunnelPlotPoint(Part):
    fixmedins_code: str
    fixmedins_name: str
    region: str
    level: str
    n: float
    value: float
    target: float
    z: float | None
    light: LightName


class Funnel(Part):
    indicator: str
    name_zh: str
    name_en: str
    unit: str
    direction: str
    target: float | None
    targets: list[float]
    method: Literal["proportion", "rate"]
    method_text: str
    overdispersion: Literal["none", "phi", "tau2"]
    applied: Literal["none", "phi", "tau2"]
    phi: float | None
    tau2: float | None
    units: int
    trim: float
    z: dict[str, float]
    note: str
    red_bound: float
    lights_mode: Literal["relative", "absolute"]
    points: list[FunnelPlotPoint]


# --------------------------------------------------------------------------- one provider


class CasemixNote(Part):
    counted: Literal["raw", "adjusted"]
    raw_light: LightName
    adjusted_light: LightName
    raw_score: float | None
    adjusted_score: float | None
    expected_cost_change: float | None
    text: str
    text_zh: str


class FunnelPlace(Part):
    n: float
    target: float
    z: float | None
    limits: dict[str, list[float]]


class Corrected(Part):
    from_: float | None = Field(alias="from", description="the computed value the correction replaced")
    to: float = Field(description="the corrected value, lighted and scored by the indicator's rules")
    dispute_id: int | None = Field(description="the accepted dispute in the ledger, if it came from one")
    reason: str


class CorrectionEntry(Corrected):
    fixmedins_code: str
    indicator: str


class Interval(Part):
    method: Literal["wilson"]
    level: float
    n: float = Field(description="the denominator: valid questionnaires, or the funnel volume")
    low: float
    high: float


class ProviderIndicator(Part):
    code: str
    value: float | None = Field(description="the scored value (the case-mix-adjusted one where it counts)")
    prior_value: float | None
    baseline: float | None
    benchmark: float | None
    score: float | None = Field(description="0-100; None when insufficient or monitor-only")
    light: LightName
    status: StatusName
    absence: Literal["", "volume", "source", "baseline", "missing"] = Field(
        default="",
        description="kind of absence: low volume, empty insurer-side source, no baseline, missing mandatory data",
    )
    gap: float | None = Field(description="how much worse than the baseline, in lights.mode terms")
    reason: str
    reason_zh: str
    weight: float = Field(description="effective global weight after redistribution")
    nominal_weight: float = Field(description="the AHP global weight before any redistribution")
    contribution: float
    volume: float | None
    detail: dict[str, float | None]
    inputs: dict[str, dict[str, float | None]]
    casemix: Literal["raw", "adjusted"]
    raw_value: float | None
    adjusted_value: float | None
    casemix_note: CasemixNote | None = None
    peer_n: int | None
    peer_percentile: float | None
    funnel: FunnelPlace | None = None
    scored_value: float | None = None
    interval: Interval | None = Field(
        default=None, description="the 95 % interval of a share whose denominator is known (Wilson)"
    )
    corrected: Corrected | None = Field(
        default=None, description="present when a correction (复核更正) replaced the value"
    )


class ProviderPrimary(Part):
    code: str
    score: float | None
    light: LightName
    weight: float
    effective_weight: float
    insufficient: list[str]


class Credit(Part):
    """The credit bonus (信用评价) of one provider: granted, or why not."""

    rating: str | None = Field(description="providers.credit_rating, trimmed; null: blank or absent")
    status: str = Field(
        description="granted, not rated, violations, no violation data, or not eligible: <why> "
        "(vetoed, designation revoked, failing grade, not graded)"
    )
    violations: int | None = Field(description="the year's confirmed violations; null: not known")
    rate: str = Field(description="the credit part of the adjustment rate (0 unless granted)")
    amount: str = Field(description="yuan, decimal string: the credit part of the adjustment amount")


class Adjustment(Part):
    prepayment: str | None
    prepayment_source: str
    rate: str = Field(description="the whole rate: the grade's adjustment plus the credit bonus")
    amount: str = Field(description="yuan, decimal string: the grade's part plus the credit part")
    new_prepayment: str | None
    rule: str
    designation: Literal["kept", "warning", "revoked"]
    credit: Credit | None = Field(default=None, description="null: the policy names no credit rating (bonus off)")


class ProviderCheck(Part):
    table: str
    check: str
    reason_code: str
    dimension: str
    severity: Literal["reject", "flag"]
    failed: int
    checked: int


class ProviderQuality(Part):
    rejected: int = 0
    flagged: int = 0
    checks: list[ProviderCheck] = Field(default_factory=list)


PeerKeyName = Literal["region", "level", "type"]


class PeerGroup(Part):
    """Who the provider's peer percentiles and peer rank compare it with (policy.yaml `peers`). The
    fields after `level` are new in 1.4; a 1.3 file compared same region and level."""

    region: str
    level: str
    type: str | None = Field(default=None, description="the provider type (peers.type_aliases); null: not known")
    keys: list[PeerKeyName] = Field(
        default_factory=lambda: list[PeerKeyName](["region", "level"]),
        description="what the peers share with the provider",
    )
    n: int | None = Field(default=None, description="providers in the group, this one included")
    merged: list[PeerKeyName] = Field(
        default_factory=list, description="keys dropped because the group had fewer than peers.min_size"
    )
    note: str | None = Field(default=None, description="a merge, an unknown type or a small group, in English")
    note_zh: str | None = Field(default=None, description="the same in Chinese")


class Provider(Part):
    fixmedins_code: str
    fixmedins_name: str
    province: str
    province_name: str
    region: str
    level: str
    type: str | None
    total_score: float | None
    grade: str
    grade_en: str
    light: LightName
    rank: int | None
    veto: list[str]
    grade_history: list[str] = Field(
        default_factory=list, description="earlier years' grades, oldest first, carried from --history"
    )
    eligibility: str = Field(default="", description="why not graded, or graded failing for missing data")
    eligibility_zh: str = ""
    peer_group: PeerGroup
    peer_n: int | None
    peer_percentile: float | None
    primaries: list[ProviderPrimary]
    indicators: list[ProviderIndicator]
    adjustment: Adjustment
    credit_status: str | None = Field(
        default=None, description="adjustment.credit.status, for the ledger; null: the credit bonus is off"
    )
    quality: ProviderQuality


class WeightingIndicator(Part):
    id: str
    ahp: float = Field(description="the weight the indicator carries in the total by AHP alone")
    entropy: float
    critic: float
    combined: float = Field(description="the weight the totals were aggregated with")
    n: int = Field(description="providers whose scored value entered the objective weight")
    note: str | None


class Weighting(Part):
    """The weights of a run whose project declares a combination (indicators/hierarchy.yaml
    `combination:`): AHP, entropy, CRITIC and the combined weights the totals used, from this run's
    scored values."""

    objective_method: Literal["entropy", "critic"]
    combination: dict[str, Any] = Field(description="method, alpha, coefficients, source, declared, used_in_scores")
    providers: int
    indicators: list[WeightingIndicator]


class ScreenedExpert(Part):
    expert: str
    cr: float | None
    action: Literal["flagged", "excluded"]


class ScreenedMatrix(Part):
    matrix: str = Field(description="root (the dimensions) or a dimension code")
    experts: int
    screened: list[ScreenedExpert]


class ExpertScreening(Part):
    """Experts whose own matrix reached the CR threshold: flagged (kept in the geometric mean) or excluded
    (left out), as hierarchy.ahp.expert_cr says."""

    threshold: float
    action: Literal["flag", "exclude"]
    matrices: list[ScreenedMatrix]


class Issue(Part):
    """policy.yaml `report:`: the committee report's title block (null fields: not given)."""

    area: str | None
    issuer: str | None
    document_number: str | None
    date: str | None


class ResultsDocument(Part):
    """results.json, version `SCHEMA_VERSION`."""

    schema_version: str = Field(pattern=r"^[0-9]+\.[0-9]+$")
    pingyi_version: str
    year: int
    system: System
    issue: Issue | None = Field(default=None, description="the committee report's title block (new in 1.5)")
    parameters: dict[str, Any]
    regions: dict[str, str]
    grades: list[Grade]
    primaries: list[Primary]
    indicators: list[CatalogueIndicator]
    budget: Budget
    quality: QualitySummary
    guards: list[RunGuard] = Field(default_factory=list, description="the run guards' warnings that fired")
    graded: GradedSummary | None = None
    casemix_model: CasemixModel | None
    funnels: dict[str, Funnel]
    corrections: list[CorrectionEntry] = Field(
        default_factory=list, description="the values replaced after review (pingyi score --corrections)"
    )
    weighting: Weighting | None = Field(
        default=None, description="null: the totals use the AHP weights (no combination declared)"
    )
    expert_screening: ExpertScreening | None = Field(
        default=None, description="the per-expert CR screening of every AHP matrix (new in 1.5; null in older files)"
    )
    providers: list[Provider]


def check_document(doc: Any, where: str = "results.json") -> ResultsDocument:
    """`doc` checked against the contract; a user error naming the first problems otherwise."""
    version = doc.get("schema_version") if isinstance(doc, dict) else None
    if version is None or str(version).split(".")[0] != SCHEMA_VERSION.split(".")[0]:
        raise PingyiError(
            f"{where}: schema_version {version!r}; this pingyi reads results of schema "
            f"{SCHEMA_VERSION.split('.')[0]}.x; expected results.json written by `pingyi score` of this "
            f"version (re-run it)"
        )
    try:
        return ResultsDocument.model_validate(doc)
    except ValidationError as exc:
        problems = []
        for e in exc.errors(include_url=False)[:5]:
            loc = ".".join(str(part) for part in e["loc"])
            problems.append(f"{loc}: {e['msg']}")
        raise PingyiError(
            f"{where}: does not follow the results contract {SCHEMA_VERSION} ({exc.error_count()} "
            f"problem(s)): {'; '.join(problems)}; expected results.json written by `pingyi score`"
        ) from None


def load_results_document(results_dir: Path | str) -> tuple[dict[str, Any], ResultsDocument]:
    """results.json of a results directory: the parsed JSON and its checked model."""
    path = Path(results_dir) / "results.json"
    raw = read_json_object(path)
    return raw, check_document(raw, str(path))
