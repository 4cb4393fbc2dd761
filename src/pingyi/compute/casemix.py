"""Case-mix adjustment of cost indicators: expected cost per inpatient stay from patient factors.

Why: a tertiary hospital that treats many severe patients looks like a poor cost controller when
cost per stay is compared raw [001 §2.2]. The DRG indices (CMI, cost and time efficiency, low-risk
mortality) are already standardised by DRG in the measures over the `stays` view (pingyi.data.views);
this module adds a patient-level cost model so that a *growth* or *level* of cost per stay can be
compared after removing what the patients' age, sex, DRG weight and comorbidity explain.

The model (one per region of the project's region scheme, e.g. east / central / west), fitted over
every modelled stay of every provider of the region, both years of the bundle pooled (no year term,
so region-wide price growth stays in the observed/expected ratio and an adjusted growth remains
comparable with the growth baselines)::

    ln(cost) = b0 + b1 ln(RW) + b2 a + b3 a^2 + b4 male + b5 secondary
    a = (age - 60) / 10;  male = 1 for gend '1', 0 for '2';  secondary = max(diag_code_cnt - 1, 0)

The slopes b1..b5 are estimated *within providers* (ordinary least squares on values centred on
each provider's means: the fixed-effects, or within, estimator), and b0 is the region's mean of
ln(cost) - (b1 ln(RW) + ...) over all its stays. Pooled OLS would let providers' efficiency leak
into the slopes: when the providers that treat the heaviest cases are also the cheapest (the very
case this adjustment exists for), pooled OLS flattens b1 and under-predicts their expected cost.
This is what risk-standardised hospital measures do with a provider effect (CMS hierarchical
models); the within estimator needs no distributional assumption about the provider effects. The
expected cost is that of an average provider of the region (no provider effect).

Expected cost of a stay = exp(fitted) x Duan's smearing factor mean(exp(residual)) (Duan 1983:
E[cost | x] = exp(x b) E[exp(e)], estimated from the residuals, so no normality is assumed; the
plain exp(fitted) would be the geometric, not the arithmetic, mean cost). A missing age, sex or diagnosis count takes the region's mean
of the modelled stays (mean imputation); a covariate with no variation in a region is dropped.
Provider characteristics (level, type) are deliberately not in the model: they would explain away
the very differences being evaluated.

A stay is modelled when its settlement list has a DRG weight > 0 and its cost (Σ medfee_sumamt of
the stay's settlements) is > 0. A region needs at least MIN_STAYS modelled stays, else it has no
model and its providers get no case-mix measures (a case-mix-adjusted indicator is then
insufficient, grey; it never silently falls back to the raw value).

Per provider and year the stage adds the measures of `pingyi.spec.models.CASEMIX_MEASURES`:
casemix_stays, casemix_expected_cost (mean expected cost per modelled stay), casemix_observed_cost
and casemix_oe_ratio (Σ observed / Σ expected). Indicator formulas use them like any measure, e.g.
D1.01's adjusted_formula divides each year's cost per stay by that year's expected cost per stay.

Outpatients (D1.02): the same method for the ordinary and emergency visits (med_type 11 and 13,
directly settled, cost Σ medfee_sumamt per mdtrt_id > 0) with the covariates a visit has, age and
sex: ln(visit cost) = b0 + b1 a + b2 a^2 + b3 male, slopes within providers, Duan's smearing. It is
fitted from covariate cells (provider, year, age, sex: count, Σ ln cost, Σ (ln cost)^2, Σ cost),
which gives exactly the estimates over the visits (the regressors are constant within a cell) from
a few thousand rows instead of millions. Measures casemix_op_visits, casemix_op_expected_cost,
casemix_op_observed_cost.

The fund (D1.03): casemix_fund_deflator, the change of the expected cost per case since last year
at last year's mix of inpatient and outpatient expected spending (a Laspeyres index, see
fund_deflator), so volume growth and a shift between the two settings stay in the adjusted growth.

The outcome rates (D2.02-D2.04) have their own logistic models: pingyi.compute.outcomes.

Deterministic: stays are read ordered by mdtrt_id (the key of setl_lists), so a re-run or a
shuffled bundle gives the same coefficients, and every number is rounded to 12 significant digits.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pingyi.compute.measures import MeasureTable
from pingyi.compute.outcomes import Outcomes, compute_outcomes
from pingyi.numbers import stable
from pingyi.spec import formula as formula_lang
from pingyi.spec.models import CASEMIX_MEASURES, IndicatorSpec

MIN_STAYS = 30
AGE_CENTRE = 60.0
COVARIATES = ("intercept", "ln_drg_weight", "age_10", "age_10_sq", "male", "secondary_diagnoses")

STAYS_FOR_MODEL_SQL = """
SELECT fixmedins_code, CAST(year AS INTEGER) AS year, CAST(stay_cost AS DOUBLE) AS cost,
       CAST(drg_weight AS DOUBLE) AS rw, CAST(age AS DOUBLE) AS age,
       CASE gend WHEN '1' THEN 1.0 WHEN '2' THEN 0.0 END AS male,
       CASE WHEN diag_code_cnt IS NOT NULL THEN CAST(greatest(diag_code_cnt - 1, 0) AS DOUBLE) END AS secondary
FROM stays
WHERE drg_weight > 0 AND stay_cost > 0 AND year IN ({years})
ORDER BY mdtrt_id
"""


# ordinary and emergency outpatient visits (D1.02's population, med_type 11 and 13, directly settled),
# one row per provider, year and covariate cell: the OLS and the smearing factor need only the cells'
# counts and sums, so millions of visits are fitted from a few thousand rows, exactly. The sums are
# DECIMAL (exact, so independent of the order DuckDB's threads add the rows in: a shuffled bundle gives
# the same coefficients); ln(cost) is kept to 15 decimals
VISIT_CELLS_SQL = """
WITH visits AS (
    SELECT fixmedins_code, CAST(year AS INTEGER) AS year, mdtrt_id, sum(medfee_sumamt) AS cost,
           min(age) AS age, min(gend) AS gend
    FROM settlement_rows
    WHERE direct_setl_flag = '1' AND med_type IN ('11', '13') AND year IN ({years})
    GROUP BY ALL
)
SELECT fixmedins_code, year, CAST(age AS DOUBLE) AS age,
       CASE gend WHEN '1' THEN 1.0 WHEN '2' THEN 0.0 END AS male,
       CAST(count(*) AS DOUBLE) AS n, CAST(sum(CAST(ln(cost) AS DECIMAL(38, 15))) AS DOUBLE) AS sy,
       CAST(sum(CAST(ln(cost) * ln(cost) AS DECIMAL(38, 15))) AS DOUBLE) AS syy, CAST(sum(cost) AS DOUBLE) AS sc
FROM visits WHERE cost > 0
GROUP BY ALL
ORDER BY fixmedins_code, year, age NULLS LAST, male NULLS LAST
"""
VISIT_COVARIATES = ("intercept", "age_10", "age_10_sq", "male")


@dataclass(frozen=True)
class RegionModel:
    region: str
    stays: int
    coefficients: dict[str, float | None]  # None: covariate dropped (no variation)
    smearing: float
    r2: float
    imputed: dict[str, float]  # covariate -> mean used for missing values

    def as_json(self) -> dict:
        return {
            "stays": self.stays,
            "coefficients": dict(self.coefficients),
            "smearing": self.smearing,
            "r2": self.r2,
            "imputed_means": dict(self.imputed),
        }


@dataclass(frozen=True)
class CaseMix:
    models: Mapping[str, RegionModel]
    measures: Mapping[tuple[str, int], Mapping[str, float | None]]  # (provider, year) -> case-mix measures
    skipped: Mapping[str, str] = field(default_factory=dict)  # region -> why it has no model
    visit_models: Mapping[str, RegionModel] = field(default_factory=dict)  # the outpatient cost models
    visit_skipped: Mapping[str, str] = field(default_factory=dict)
    outcomes: Outcomes | None = None  # the outcome-rate models (pingyi.compute.outcomes)

    def as_json(self) -> dict:
        return {
            "model": "ln(stay cost) on ln(DRG weight), (age-60)/10 and its square, male, secondary "
            "diagnoses (diag_code_cnt - 1), per region, both years pooled; slopes by least squares "
            "within providers (fixed effects), intercept = the region's mean; expected cost (an "
            "average provider) = exp(fit) x Duan smearing factor; missing covariates take the region mean",
            "min_stays": MIN_STAYS,
            "regions": {r: m.as_json() for r, m in sorted(self.models.items())},
            "skipped": dict(sorted(self.skipped.items())),
            "outpatient": {
                "model": "ln(visit cost) of ordinary and emergency outpatient visits (med_type 11, 13) on "
                "(age-60)/10 and its square and male, per region, both years pooled, slopes within "
                "providers, Duan smearing; the same rules as the inpatient model",
                "regions": {r: m.as_json() for r, m in sorted(self.visit_models.items())},
                "skipped": dict(sorted(self.visit_skipped.items())),
            },
            "outcomes": self.outcomes.as_json() if self.outcomes is not None else {},
        }


def design(rw: np.ndarray, age: np.ndarray, male: np.ndarray, secondary: np.ndarray) -> np.ndarray:
    """Design matrix in the order of COVARIATES (missing values must already be imputed)."""
    a = (age - AGE_CENTRE) / 10.0
    return np.column_stack([np.ones_like(rw), np.log(rw), a, a * a, male, secondary])


def fit_region(
    region: str,
    cost: np.ndarray,
    rw: np.ndarray,
    age: np.ndarray,
    male: np.ndarray,
    secondary: np.ndarray,
    provider: np.ndarray | None = None,
) -> tuple[RegionModel, np.ndarray]:
    """Fit one region's model; returns it and the expected cost of each of its stays. `provider`: each
    stay's provider (an integer or code per stay) for the within-provider slopes; None: one provider."""
    imputed: dict[str, float] = {}
    cols = {"age": age, "male": male, "secondary": secondary}
    filled = {}
    for name, values in cols.items():
        values = values.astype(float)
        missing = np.isnan(values)
        if missing.any():
            mean = float(np.mean(values[~missing])) if (~missing).any() else 0.0
            imputed[name] = stable(mean)
            values = np.where(missing, mean, values)
        filled[name] = values
    x = design(rw, filled["age"], filled["male"], filled["secondary"])
    y = np.log(cost)
    groups = np.zeros(len(y), dtype=np.int64) if provider is None else np.unique(provider, return_inverse=True)[1]
    counts = np.bincount(groups)

    def within(v: np.ndarray) -> np.ndarray:  # v centred on its provider's mean
        return v - (np.bincount(groups, weights=v) / counts)[groups]

    xw = np.column_stack([within(x[:, j]) for j in range(1, x.shape[1])])
    # a covariate with no variation within providers cannot be estimated: dropped (coefficient None)
    keep = [j for j in range(1, x.shape[1]) if np.ptp(xw[:, j - 1]) > 1e-12]
    beta = np.zeros(x.shape[1])
    if keep:
        slopes, *_ = np.linalg.lstsq(xw[:, [j - 1 for j in keep]], within(y), rcond=None)
        beta[keep] = slopes
    beta[0] = float(np.mean(y - x[:, 1:] @ beta[1:]))
    keep = [0] + keep
    fitted = x @ beta
    resid = y - fitted
    smearing = float(np.mean(np.exp(resid)))
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(np.sum(resid**2)) / ss_tot if ss_tot > 0 else 0.0
    expected = np.exp(fitted) * smearing
    coefficients = {name: (stable(float(beta[j])) if j in keep else None) for j, name in enumerate(COVARIATES)}
    model = RegionModel(
        region=region,
        stays=int(len(y)),
        coefficients=coefficients,
        smearing=stable(smearing),
        r2=stable(r2),
        imputed=imputed,
    )
    return model, expected


def fit_cells(
    region: str,
    n: np.ndarray,
    sy: np.ndarray,
    syy: np.ndarray,
    sc: np.ndarray,
    age: np.ndarray,
    male: np.ndarray,
    provider: np.ndarray,
) -> tuple[RegionModel, np.ndarray]:
    """The outpatient model of one region from covariate cells: per cell its visits n, Σ ln cost, Σ (ln
    cost)^2 and Σ cost, its age and sex (NaN: missing) and its provider. The regressors are constant
    within a cell, so the within-provider least squares on the visits equals the n-weighted one on the
    cells' mean ln cost, and Duan's factor mean(exp(residual)) = Σ_cells exp(-fit) Σ cost / N: the
    same numbers as a fit over the visits themselves. Returns the model and each cell's expected cost
    per visit."""
    imputed: dict[str, float] = {}
    filled = {}
    for name, values in (("age", age), ("male", male)):
        values = values.astype(float)
        missing = np.isnan(values)
        if missing.any():
            mean = float(np.sum((n * values)[~missing]) / np.sum(n[~missing])) if (~missing).any() else 0.0
            imputed[name] = stable(mean)
            values = np.where(missing, mean, values)
        filled[name] = values
    a = (filled["age"] - AGE_CENTRE) / 10.0
    x = np.column_stack([np.ones_like(a), a, a * a, filled["male"]])
    ybar = sy / n
    groups = np.unique(provider, return_inverse=True)[1]
    weight = np.bincount(groups, weights=n)

    def within(v: np.ndarray) -> np.ndarray:  # v centred on its provider's visit-weighted mean
        return v - (np.bincount(groups, weights=n * v) / weight)[groups]

    xw = np.column_stack([within(x[:, j]) for j in range(1, x.shape[1])])
    keep = [j for j in range(1, x.shape[1]) if np.sum(n * xw[:, j - 1] ** 2) > 1e-12 * float(n.sum())]
    beta = np.zeros(x.shape[1])
    if keep:
        cols = xw[:, [j - 1 for j in keep]]
        xtx = (cols * n[:, None]).T @ cols
        xty = (cols * n[:, None]).T @ within(ybar)
        beta[keep] = np.linalg.lstsq(xtx, xty, rcond=None)[0]
    total = float(n.sum())
    beta[0] = float(np.sum(sy - n * (x[:, 1:] @ beta[1:])) / total)
    keep = [0] + keep
    fitted = x @ beta
    smearing = float(np.sum(sc * np.exp(-fitted)) / total)
    ssr = float(np.sum(syy - 2 * fitted * sy + n * fitted**2))
    sst = float(np.sum(syy) - np.sum(sy) ** 2 / total)
    r2 = 1.0 - ssr / sst if sst > 0 else 0.0
    coefficients = {name: (stable(float(beta[j])) if j in keep else None) for j, name in enumerate(VISIT_COVARIATES)}
    model = RegionModel(
        region=region,
        stays=int(total),
        coefficients=coefficients,
        smearing=stable(smearing),
        r2=stable(r2),
        imputed=imputed,
    )
    return model, np.exp(fitted) * smearing


def _visit_measures(
    con: Any, region_of: Mapping[str, str], years: tuple[int, ...]
) -> tuple[
    dict[str, RegionModel], dict[str, str], dict[tuple[str, int], dict[str, float | None]], set[tuple[str, int]]
]:
    """The outpatient models and measures; also every provider-year with a modelled visit (a region
    without a model leaves them without measures)."""
    sql = VISIT_CELLS_SQL.format(years=", ".join(str(int(y)) for y in years))
    data = con.execute(sql).fetchnumpy()
    codes, prov_idx = np.unique(np.asarray(data["fixmedins_code"], dtype=object), return_inverse=True)
    year = np.asarray(data["year"], dtype=np.int64)
    n, sy, syy, sc, age, male = (_column(data, c) for c in ("n", "sy", "syy", "sc", "age", "male"))
    regions = (
        np.array([region_of.get(code, "?") for code in codes], dtype=object)[prov_idx]
        if len(codes)
        else np.zeros(0, dtype=object)
    )
    seen = {(str(codes[j]), int(y)) for j, y in zip(prov_idx.tolist(), year.tolist(), strict=True)}
    models: dict[str, RegionModel] = {}
    skipped: dict[str, str] = {}
    measures: dict[tuple[str, int], dict[str, float | None]] = {}
    for region in sorted(set(regions.tolist()) - {"?"}):
        m = regions == region
        count = int(n[m].sum())
        if count < MIN_STAYS:
            skipped[region] = f"{count} modelled visits, fewer than {MIN_STAYS}"
            continue
        model, expected = fit_cells(region, n[m], sy[m], syy[m], sc[m], age[m], male[m], prov_idx[m])
        models[region] = model
        y0 = int(year.min())
        keys = prov_idx[m].astype(np.int64) * 100 + (year[m] - y0)
        uniq, inverse = np.unique(keys, return_inverse=True)
        visits = np.bincount(inverse, weights=n[m])
        obs = np.bincount(inverse, weights=sc[m])
        exp_ = np.bincount(inverse, weights=n[m] * expected)
        for k, key in enumerate(uniq):
            code, y = str(codes[key // 100]), y0 + int(key % 100)
            measures[(code, y)] = {
                "casemix_op_visits": float(visits[k]),
                "casemix_op_expected_cost": stable(float(exp_[k] / visits[k])),
                "casemix_op_observed_cost": stable(float(obs[k] / visits[k])),
            }
    return models, skipped, measures, seen


def fund_deflator(
    cur: Mapping[str, float | None], pri: Mapping[str, float | None], ip_seen: bool, op_seen: bool
) -> float | None:
    """The change of the expected cost of a provider's patients since last year at last year's mix of
    inpatient and outpatient spending (a Laspeyres index of the two settings' expected cost per case):
    s E_ip / E_ip' + (1 - s) E_op / E_op', s = E_ip' n_ip' / (E_ip' n_ip' + E_op' n_op') (' = last year).
    A setting the provider had no modelled case of in either year takes no part; one it had cases of
    but that has no expected cost in both years (no model for its region, or cases in one year only)
    leaves the index unknown (None)."""
    parts: list[tuple[float, float]] = []  # (last year's expected total, change of expected cost per case)
    for seen, cost, count in (
        (ip_seen, "casemix_expected_cost", "casemix_stays"),
        (op_seen, "casemix_op_expected_cost", "casemix_op_visits"),
    ):
        if not seen:
            continue
        e1, e0, n0 = cur.get(cost), pri.get(cost), pri.get(count)
        if not e1 or not e0 or not n0:
            return None
        parts.append((e0 * n0, e1 / e0))
    total = sum(t for t, _ in parts)
    if not parts or total <= 0:
        return None
    return stable(sum(t * change for t, change in parts) / total)


def _column(data: dict, name: str) -> np.ndarray:
    col = data[name]
    if isinstance(col, np.ma.MaskedArray):
        return np.ma.filled(col.astype(float), np.nan)
    return np.asarray(col, dtype=float)


def compute_casemix(
    con: Any, region_of: Mapping[str, str], years: tuple[int, ...], views: Collection[str] | None = None
) -> CaseMix:
    """Fit every case-mix model (inpatient and outpatient cost, the outcome rates) and aggregate per
    provider and year; without settlement lists (no `stays` view) only the outpatient model. `views`: the
    views the pipeline made (pingyi.data.views.create_views); asked of the database when not given (an
    engine whose views live elsewhere, e.g. Spark, must say)."""

    def has(name: str) -> bool:
        return name in views if views is not None else _has_view(con, name)

    if has("stays"):
        stays = _stay_casemix(con, region_of, years)
        outcomes = compute_outcomes(con, region_of, years)
    else:
        stays, outcomes = _Stays(models={}, measures={}, skipped={}), None
    ip_seen = set(stays.seen)
    visit_models, visit_skipped, visit_measures, op_seen = (
        _visit_measures(con, region_of, years) if has("settlement_rows") else ({}, {}, {}, set())
    )
    measures: dict[tuple[str, int], dict[str, float | None]] = {}
    for source in (stays.measures, visit_measures, outcomes.measures if outcomes is not None else {}):
        for key, slot in source.items():
            measures.setdefault(key, {}).update(slot)
    y = max(years)
    providers = {code for code, _ in measures} | {code for code, _ in ip_seen | op_seen}
    for code in sorted(providers):
        cur, pri = measures.get((code, y), {}), measures.get((code, y - 1), {})
        seen_ip = (code, y) in ip_seen or (code, y - 1) in ip_seen
        seen_op = (code, y) in op_seen or (code, y - 1) in op_seen
        value = fund_deflator(cur, pri, seen_ip, seen_op)
        if value is not None:
            measures.setdefault((code, y), {})["casemix_fund_deflator"] = value
    return CaseMix(
        models=stays.models,
        measures=measures,
        skipped=stays.skipped,
        visit_models=visit_models,
        visit_skipped=visit_skipped,
        outcomes=outcomes,
    )


def _has_view(con: Any, name: str) -> bool:
    return bool(
        con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchone()[0]
    )


@dataclass(frozen=True)
class _Stays(CaseMix):
    seen: frozenset[tuple[str, int]] = frozenset()  # provider-years with a modelled stay


def _stay_casemix(con: Any, region_of: Mapping[str, str], years: tuple[int, ...]) -> _Stays:
    """The inpatient cost model per region over the `stays` view, aggregated per provider and year."""
    sql = STAYS_FOR_MODEL_SQL.format(years=", ".join(str(int(y)) for y in years))
    data = con.execute(sql).fetchnumpy()
    codes, prov_idx = np.unique(np.asarray(data["fixmedins_code"], dtype=object), return_inverse=True)
    year = np.asarray(data["year"], dtype=np.int64)
    cost, rw, age, male, secondary = (_column(data, c) for c in ("cost", "rw", "age", "male", "secondary"))
    regions = (
        np.array([region_of.get(code, "?") for code in codes], dtype=object)[prov_idx]
        if len(codes)
        else np.zeros(0, dtype=object)
    )
    models: dict[str, RegionModel] = {}
    skipped: dict[str, str] = {}
    measures: dict[tuple[str, int], dict[str, float | None]] = {}
    for region in sorted(set(regions.tolist()) - {"?"}):
        m = regions == region
        count = int(m.sum())
        if count < MIN_STAYS:
            skipped[region] = f"{count} modelled stays, fewer than {MIN_STAYS}"
            continue
        model, expected = fit_region(region, cost[m], rw[m], age[m], male[m], secondary[m], prov_idx[m])
        models[region] = model
        y0 = int(year.min())
        keys = prov_idx[m].astype(np.int64) * 100 + (year[m] - y0)
        uniq, inverse = np.unique(keys, return_inverse=True)
        n = np.bincount(inverse)
        obs = np.bincount(inverse, weights=cost[m])
        exp_ = np.bincount(inverse, weights=expected)
        for k, key in enumerate(uniq):
            code, y = str(codes[key // 100]), y0 + int(key % 100)
            measures[(code, y)] = {
                "casemix_stays": float(n[k]),
                "casemix_expected_cost": stable(float(exp_[k] / n[k])),
                "casemix_observed_cost": stable(float(obs[k] / n[k])),
                "casemix_oe_ratio": stable(float(obs[k] / exp_[k])) if exp_[k] > 0 else None,
            }
    seen = frozenset((str(codes[j]), int(y)) for j, y in zip(prov_idx.tolist(), year.tolist(), strict=True))
    return _Stays(models=models, measures=measures, skipped=skipped, seen=seen)


def uses_casemix(indicators: Mapping[str, IndicatorSpec]) -> bool:
    """Whether any formula reads a case-mix measure (only then is the model fitted)."""
    for ind in indicators.values():
        for text in (ind.formula, ind.adjusted_formula):
            if text:
                parsed = formula_lang.parse(text)
                if (parsed.measures | parsed.prior_measures) & set(CASEMIX_MEASURES):
                    return True
    return False


def add_casemix(measures: MeasureTable, casemix: CaseMix | None) -> MeasureTable:
    """A new measure table with the case-mix measures of every provider-year (None where not modelled)."""
    return measures.with_measures(CASEMIX_MEASURES, casemix.measures if casemix is not None else {})
