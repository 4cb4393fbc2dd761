"""The indicator cells (provider x indicator) whose score a sample may change, how each source of
uncertainty draws their inputs, and their re-scoring.

Two sources change an indicator's inputs, so its score:

* **survey sampling error** — a share measured on a sample of questionnaires (source `survey`, volume
  rule on the reported `denominator`, unit percent): the reported rate p on n valid questionnaires is
  one draw of a binomial; a sample draws the rate from its Jeffreys posterior Beta(x + 1/2, n - x + 1/2),
  x = p n (Brown, Cai & DasGupta 2001, Statistical Science 16:101-133, who recommend the Jeffreys
  interval for a binomial share), whose spread is that of the Wilson/Jeffreys interval the card shows:
  wide at n = 100, negligible at n = 100,000.
* **baselines derived from a reference year** (`pingyi baselines derive`, a `provenance` cell of method
  median or pNN over n providers): the statistic is the k-th of n order statistics (k = 1 + h (n - 1),
  h the percentile level; numpy's linear rule), and the population quantile it sits at is Beta(k, n + 1 -
  k) distributed (David & Nagaraja 2003, Order Statistics, 3rd ed.; the basis of distribution-free
  quantile intervals). A sample draws that level U, reads the spread of the quantile function at U from this
  run's scored values of the same region and level (the reference year's values are not kept), and
  moves the recorded statistic by Q(U) - Q(E[U]); then the recorded ageing adjustment is added and the
  guardrail re-applied: a capped cell's cap is |value - previous| (the cap is symmetric), an uncapped
  cell's cap is not recorded and is not applied. Providers of one region and level share the draw (one
  baseline serves them all). Baselines set by policy (`assumed`, or without provenance) are not drawn.

A cell varies only if re-scoring its recorded inputs reproduces its recorded score (to the 4 decimals
results.json keeps): a cell scored in a way this module does not re-create (for instance a case-mix
note that changed the score) keeps its score in every sample, and their number is reported.

The funnel's overdispersion mode (none / phi / tau^2) is a methodological choice too, but here it moves
neither a score nor a light: a funnel light is the band of the indicator's points, and under
`funnel_score: beyond_95` the allowance is the sampling error at the provider's volume alone (see
pingyi.score.funnel). Its Sobol indices are therefore exactly 0; it is reported with that reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from pingyi.score.funnel import FunnelFit
from pingyi.score.indicator import score_indicator
from pingyi.score.vector import score_vector
from pingyi.spec.models import REPORTED_DENOMINATOR, DataSource, Direction, IndicatorSpec, Unit
from pingyi.spec.project import Project

REPRODUCE_TOL = 0.5e-4 + 1e-9  # results.json rounds scores to 4 decimals


@dataclass(frozen=True)
class BaselineGroup:
    """One derived baseline cell (indicator x region x level) and the providers it serves."""

    region: str
    level: str
    pos: np.ndarray  # positions into the column's rows
    statistic: float
    previous: float | None
    ageing: float
    cap: float | None  # |value - previous| when the guardrail bound it, else None (no cap applied)
    k: float  # the order statistic's position (1-based, may be fractional)
    n: int
    spread: np.ndarray  # this run's scored values of the region and level, sorted


@dataclass(frozen=True)
class Column:
    """One indicator's cells that may vary."""

    j: int  # index into the indicators
    spec: IndicatorSpec
    rows: np.ndarray  # provider indices
    value: np.ndarray
    baseline: np.ndarray
    benchmark: np.ndarray
    prior: np.ndarray
    volume: np.ndarray
    survey_n: np.ndarray  # valid questionnaires (NaN: no sampling error)
    fit: FunnelFit | None
    groups: tuple[BaselineGroup, ...] = ()

    @property
    def surveyed(self) -> bool:
        return bool(np.any(~np.isnan(self.survey_n)))


@dataclass(frozen=True)
class Cells:
    columns: tuple[Column, ...]
    frozen: int  # scored cells kept at their score: re-scoring did not reproduce it
    funnels: tuple[str, ...]  # funnel-lit indicators (their overdispersion mode moves no score)
    notes: dict[str, str] = field(default_factory=dict)

    def has_survey(self) -> bool:
        return any(c.surveyed for c in self.columns)

    def has_baselines(self) -> bool:
        return any(c.groups for c in self.columns)

    def survey_cells(self) -> int:
        return int(sum(np.sum(~np.isnan(c.survey_n)) for c in self.columns))

    def baseline_cells(self) -> int:
        return sum(len(c.groups) for c in self.columns)


def _f(x: Any) -> float:
    return float("nan") if x is None else float(x)


def _none(x: float) -> float | None:
    return None if np.isnan(x) else float(x)


def score_cells(
    spec: IndicatorSpec,
    value: np.ndarray,
    baseline: np.ndarray,
    benchmark: np.ndarray,
    prior: np.ndarray,
    volume: np.ndarray,
    fit: FunnelFit | None,
) -> np.ndarray:
    """The points of one indicator for arrays of inputs of any shape (NaN = None): NaN where not scored.
    pingyi.score.vector's twin of score_indicator, equal to it bit for bit, over the flattened arrays."""
    got = score_vector(spec, value.ravel(), baseline.ravel(), benchmark=benchmark.ravel(), prior=prior.ravel(),
                       volume=volume.ravel(), funnel=fit)  # fmt: skip
    return got.points.reshape(value.shape)


def score_cells_scalar(
    spec: IndicatorSpec,
    value: np.ndarray,
    baseline: np.ndarray,
    benchmark: np.ndarray,
    prior: np.ndarray,
    volume: np.ndarray,
    fit: FunnelFit | None,
) -> np.ndarray:
    """score_cells one cell at a time with score_indicator itself (the reference the tests compare with)."""
    out = np.full(value.shape, np.nan)
    for i in range(value.size):
        r = score_indicator(
            spec, _none(value.flat[i]), _none(baseline.flat[i]), benchmark=_none(benchmark.flat[i]),
            prior=_none(prior.flat[i]), volume=_none(volume.flat[i]), funnel=fit,
        )  # fmt: skip
        if r.score is not None:
            out.flat[i] = r.score
    return out


def _surveyed(spec: IndicatorSpec) -> bool:
    return (
        spec.source is DataSource.SURVEY
        and spec.unit is Unit.PERCENT
        and spec.volume is not None
        and spec.volume.measure == REPORTED_DENOMINATOR
    )


def _order_position(method: str, direction: Direction, n: int) -> float | None:
    if method == "median":
        h = 0.5
    elif method.startswith("p") and method[1:].isdigit():
        q = int(method[1:]) / 100.0
        h = q if direction is Direction.UP else 1.0 - q
    else:
        return None
    return 1.0 + h * (n - 1)


def find_cells(project: Project, doc: Mapping[str, Any], codes: Sequence[str]) -> Cells:
    """The cells of a parsed results.json (providers in fixmedins_code order) that survey sampling or a
    derived baseline can move."""
    providers = sorted(doc["providers"], key=lambda p: p["fixmedins_code"])
    funnels = doc.get("funnels") or {}
    columns: list[Column] = []
    frozen = 0
    for j, code in enumerate(codes):
        spec = project.indicators.get(code)
        if spec is None or not spec.scoring.scored:
            continue
        entry = project.baselines.baselines.get(code)
        provenance = entry.provenance if entry is not None and spec.scoring.uses_baseline else None
        survey = _surveyed(spec)
        if not survey and not provenance:
            continue
        fit = _fit(funnels.get(code)) if spec.lights.statistical == "funnel" else None
        cells = []
        for k, p in enumerate(providers):
            item = next((i for i in p["indicators"] if i["code"] == code), None)
            if item is None or item.get("status") != "scored" or item.get("score") is None:
                continue
            cells.append((k, p, item))
        if not cells:
            continue
        value = np.array([_f(i.get("value")) for _, _, i in cells])
        baseline = np.array([_f(i.get("baseline")) for _, _, i in cells])
        benchmark = np.array([_f(i.get("benchmark")) for _, _, i in cells])
        prior = np.array([_f(i.get("prior_value")) for _, _, i in cells])
        volume = np.array([_f(i.get("volume")) for _, _, i in cells])
        recorded = np.array([float(i["score"]) for _, _, i in cells])
        again = score_cells(spec, value, baseline, benchmark, prior, volume, fit)
        ok = np.abs(again - recorded) <= REPRODUCE_TOL
        frozen += int(np.sum(~ok))
        keep = np.flatnonzero(ok)
        if keep.size == 0:
            continue
        survey_n = np.full(keep.size, np.nan)
        if survey:
            n = volume[keep]
            v = value[keep]
            good = (n > 0) & (v >= 0) & (v <= 1)
            survey_n[good] = n[good]
        groups = _groups(spec, provenance, [cells[i][1] for i in keep], baseline[keep], providers, code)
        # only the cells a source moves are re-scored: a drawn survey share or a drawn baseline
        moves = ~np.isnan(survey_n)
        for g in groups:
            moves[g.pos] = True
        if not moves.any():
            continue
        where = np.flatnonzero(moves)
        renumber = np.full(keep.size, -1)
        renumber[where] = np.arange(where.size)
        groups = tuple(replace(g, pos=renumber[g.pos]) for g in groups)
        sub = keep[where]
        columns.append(
            Column(
                j,
                spec,
                np.array([cells[i][0] for i in sub]),
                value[sub],
                baseline[sub],
                benchmark[sub],
                prior[sub],
                volume[sub],
                survey_n[where],
                fit,
                groups,
            )  # fmt: skip
        )
    funnel_codes = tuple(
        c for c in codes if c in project.indicators and project.indicators[c].lights.statistical == "funnel"
    )
    return Cells(tuple(columns), frozen, funnel_codes)


def _fit(doc: Mapping[str, Any] | None) -> FunnelFit | None:
    if doc is None:
        return None
    return FunnelFit(doc["indicator"], doc["method"], doc["overdispersion"], doc["applied"], doc.get("phi"),
                     doc.get("tau2"), int(doc["units"]), float(doc["trim"]), doc.get("note", ""))  # fmt: skip


def _groups(
    spec: IndicatorSpec,
    provenance: Mapping[str, Mapping[str, Any]] | None,
    kept: Sequence[Mapping[str, Any]],
    baseline: np.ndarray,
    providers: Sequence[Mapping[str, Any]],
    code: str,
) -> tuple[BaselineGroup, ...]:
    if not provenance:
        return ()
    out: list[BaselineGroup] = []
    keys = sorted({(p["region"], p["level"]) for p in kept})
    for region, level in keys:
        cell = (provenance.get(region) or {}).get(level)
        if cell is None or cell.statistic is None or cell.n < 2:
            continue
        k = _order_position(cell.method, spec.direction, cell.n)
        if k is None:
            continue
        pos = np.array([i for i, p in enumerate(kept) if (p["region"], p["level"]) == (region, level)])
        if not np.allclose(baseline[pos], cell.value, rtol=0, atol=1e-9):
            continue  # the run was not scored with this derived value: nothing to draw around
        spread = sorted(
            float(i["value"])
            for p in providers
            if (p["region"], p["level"]) == (region, level)
            for i in p["indicators"]
            if i["code"] == code and i.get("status") == "scored" and i.get("value") is not None
        )
        if len(spread) < 2:
            continue
        capped = cell.guardrail in ("relative", "absolute") and cell.previous is not None
        cap = abs(cell.value - cell.previous) if capped else None
        out.append(BaselineGroup(region, level, pos, float(cell.statistic), cell.previous, float(cell.ageing), cap, k,
                                 int(cell.n), np.array(spread)))  # fmt: skip
    return tuple(out)


def draw_values(col: Column, rng: np.random.Generator, samples: int) -> np.ndarray:
    """samples x cells: the survey shares from their Jeffreys posterior (other cells as recorded)."""
    out = np.tile(col.value, (samples, 1))
    has = ~np.isnan(col.survey_n)
    if np.any(has):
        n = col.survey_n[has]
        x = col.value[has] * n
        out[:, has] = rng.beta(x + 0.5, n - x + 0.5, size=(samples, int(has.sum())))
    return out


def draw_baselines(col: Column, rng: np.random.Generator, samples: int) -> np.ndarray:
    """samples x cells: each derived baseline from the order statistic's distribution (see the module)."""
    out = np.tile(col.baseline, (samples, 1))
    for g in col.groups:
        u = rng.beta(g.k, g.n + 1 - g.k, size=samples)
        centre = g.k / (g.n + 1)
        move = np.quantile(g.spread, u) - np.quantile(g.spread, centre)
        candidate = g.statistic + move + g.ageing
        if g.cap is not None and g.previous is not None:
            candidate = g.previous + np.clip(candidate - g.previous, -g.cap, g.cap)
        out[:, g.pos] = candidate[:, None]
    return out


def rescore(col: Column, values: np.ndarray, baselines: np.ndarray) -> np.ndarray:
    """samples x cells scores for drawn values and baselines; a cell the rule leaves unscored keeps its
    recorded inputs' score (the volume and status do not move, only the numbers)."""
    k = values.shape[0]
    tile = lambda a: np.tile(a, (k, 1))  # noqa: E731
    got = score_cells(col.spec, values, baselines, tile(col.benchmark), tile(col.prior), tile(col.volume), col.fit)
    if np.isnan(got).any():
        base = score_cells(col.spec, col.value, col.baseline, col.benchmark, col.prior, col.volume, col.fit)
        got = np.where(np.isnan(got), np.tile(base, (k, 1)), got)
    return got
