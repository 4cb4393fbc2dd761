"""Case mix of the outcome rates: expected events per stay from a logistic regression on patient
factors, observed / expected per provider and the risk-standardised rate.

Why: a provider that treats older patients with more comorbidity has more deaths, readmissions and
complications for reasons that are not its quality of care [001 §2.2]. CMS's Hospital Readmissions
Reduction Program and its mortality and complication measures compare each hospital's
observed outcomes with those expected for its own patients from a model fitted over all hospitals
(Krumholz et al. 2006, Circulation 113:1683; CMS/Yale CORE measure methodology reports; see
../shared/reference/western.md). This module does the same per region of the project's region scheme.

The model, one per outcome and region, fitted over every provider's cases of the region, both years
of the bundle pooled with one intercept per year (so Σ expected = Σ observed in each year of the
region: the logistic likelihood's score equation for an intercept)::

    logit P(event) = b0 + b_year [year = evaluation year] + b1 ln(RW) + b2 a + b3 a^2 + b4 male
                     + b5 secondary (+ b6 operation grade, complications only)
    a = (age - 60) / 10;  male = 1 for gend '1', 0 for '2';  secondary = max(diag_code_cnt - 1, 0)

fitted by maximum likelihood with iteratively reweighted least squares (Newton-Raphson on the
log-likelihood; McCullagh & Nelder 1989, §4.4). Provider characteristics are deliberately not in
the model: they would explain away the differences being evaluated. A missing covariate (a stay
without a DRG weight, age, sex or diagnosis count) takes the region's mean over the outcome's cases,
so the modelled cases are exactly the indicator's denominator; a covariate with no variation is
dropped. Outcomes and their cases (the indicators' populations, OUTCOME_SQL):

    death         D2.02  grouped stays of a low-risk DRG (low_risk_drg = 1); event dscg_way = '5'
    readmit       D2.03  alive discharges (dscg_way <> '5'); event unplanned_readmit_31 = 1
    complication  D2.04  stays with a graded operation (max_oprn_lv 1-4); event oprn_cmpl_flag = '1'

A model needs at least MIN_EVENTS_PER_COEFFICIENT (10) events (and as many non-events) per risk
covariate (Peduzzi et al. 1996, J Clin Epidemiol 49:1373: fewer events per variable bias the
coefficients and their variances; the per-year intercepts are calibration terms and not counted).
A region with fewer borrows the slopes of one model fitted over every region's cases with an
intercept per region and year (`pooled` in results.json: its calibration stays its own, so its
expected events still add up to its observed ones each year). When the pooled model cannot be fitted
either, or a fit does not converge (complete separation), the region has no model and its providers'
adjusted rates are unavailable: an indicator that counts its adjusted value is then insufficient
(grey), never silently raw.

Per provider and year: O = observed events, E = Σ of the expected probabilities of its cases,
the regional rate R = Σ O / Σ cases over the region's cases of that year, and the risk-standardised
rate O / E x R (indirect standardisation, as CMS's RSRR = predicted / expected x national rate).

Small providers. CMS's hierarchical model shrinks each hospital's ratio toward 1 by its volume
(the random intercept's posterior). Here the scored formulas use the unshrunk O / E, because the
outcome indicators already carry funnel-plot lights whose scores count only the deviation beyond
the 95 % limit at the provider's volume (pingyi.score.funnel; Spiegelhalter 2005, Stat Med 24:1185,
for funnel plots of indirectly standardised ratios): shrinking as well would forgive a small
provider twice. The shrunk ratio is computed too, for information and for a committee that scores
it instead (it is a measure, casemix_<outcome>_oe_shrunk): the empirical-Bayes estimate of a
Poisson-gamma model, per region and year, with the between-provider variance tau^2 by Marshall's
method of moments (Marshall 1991, Biometrics 47:479; Clayton & Kaldor 1987, Biometrics 43:671):

    r_i = O_i / E_i;  m = Σ O / Σ E;  s^2 = Σ E_i (r_i - m)^2 / Σ E_i;  tau^2 = max(s^2 - m / mean(E), 0)
    shrunk_i = m + (r_i - m) x tau^2 / (tau^2 + m / E_i)

so a provider with few expected events is pulled to the regional ratio, a large one keeps its own.

Deterministic: cases are read ordered by mdtrt_id and every number is rounded to 12 significant digits.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from pingyi.numbers import stable

AGE_CENTRE = 60.0
MIN_EVENTS_PER_COEFFICIENT = 10
MAX_ITERATIONS = 50
TOLERANCE = 1e-10  # on the largest change of a coefficient between iterations
MAX_COEFFICIENT = 30.0  # |b| beyond this on a standardised scale: separation, the MLE does not exist

# outcome -> (indicator, SQL condition for its cases, SQL expression of its event, extra covariate)
OUTCOME_SQL: dict[str, tuple[str, str, str, str | None]] = {
    "death": ("D2.02", "drg_code IS NOT NULL AND low_risk_drg = 1", "dscg_way = '5'", None),
    "readmit": ("D2.03", "coalesce(dscg_way, '') <> '5'", "unplanned_readmit_31 = 1", None),
    "complication": (
        "D2.04",
        "max_oprn_lv BETWEEN 1 AND 4",
        "oprn_cmpl_flag = '1'",
        "CAST(max_oprn_lv AS DOUBLE)",
    ),
}
POOLED = "pooled"  # the key of the model over every region (for the regions with too few events)

# every stay with its covariates and, per outcome, whether it is a case and whether the event happened:
# one pass over the `stays` view (a view with joins, recomputed by each query) for all three models
CASES_SQL = """
SELECT fixmedins_code, CAST(year AS INTEGER) AS year,
       CASE WHEN drg_weight > 0 THEN ln(CAST(drg_weight AS DOUBLE)) END AS ln_rw,
       CAST(age AS DOUBLE) AS age,
       CASE gend WHEN '1' THEN 1.0 WHEN '2' THEN 0.0 END AS male,
       CASE WHEN diag_code_cnt IS NOT NULL THEN CAST(greatest(diag_code_cnt - 1, 0) AS DOUBLE) END AS secondary,
       {flags}
FROM stays
WHERE year IN ({years})
ORDER BY mdtrt_id
"""


def _cases_sql(years: tuple[int, ...]) -> str:
    flags = []
    for outcome, (_code, cases, event, extra) in OUTCOME_SQL.items():
        flags.append(f"coalesce({cases}, false) AS case_{outcome}")
        flags.append(f"CASE WHEN {event} THEN 1.0 ELSE 0.0 END AS event_{outcome}")
        if extra:
            flags.append(f"{extra} AS extra_{outcome}")
    return CASES_SQL.format(flags=",\n       ".join(flags), years=", ".join(str(int(y)) for y in years))


@dataclass(frozen=True)
class LogisticFit:
    coefficients: np.ndarray  # in the order of the design's columns
    iterations: int
    converged: bool
    log_likelihood: float


def fit_logistic(x: np.ndarray, y: np.ndarray) -> LogisticFit:
    """Maximum-likelihood logistic regression of y (0/1) on the columns of x (include a constant
    column for an intercept) by iteratively reweighted least squares. The columns are scaled to unit
    spread for the iterations (the coefficients are returned on the original scale)."""
    const = np.ptp(x, axis=0) == 0
    scale = np.where(const, 1.0, np.std(x, axis=0))
    xs = x / scale
    beta = np.zeros(x.shape[1])
    # start at the mean rate on the constant column(s), which keeps the first step well inside
    rate = float(np.clip(np.mean(y), 1e-6, 1 - 1e-6))
    if const.any():
        first = int(np.flatnonzero(const)[0])
        beta[first] = np.log(rate / (1 - rate)) / xs[0, first]
    converged, iterations = False, 0
    for iterations in range(1, MAX_ITERATIONS + 1):  # noqa: B007 (the count is reported)
        eta = xs @ beta
        p = 1.0 / (1.0 + np.exp(-eta))
        w = p * (1.0 - p)
        grad = xs.T @ (y - p)
        hess = (xs * w[:, None]).T @ xs
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            break
        beta = beta + step
        if not np.all(np.isfinite(beta)) or np.max(np.abs(beta)) > MAX_COEFFICIENT * 10:
            break
        if np.max(np.abs(step)) < TOLERANCE:
            # a huge coefficient on the unit scale means the likelihood has no maximum (separation)
            converged = bool(np.max(np.abs(beta[~const])) <= MAX_COEFFICIENT) if (~const).any() else True
            break
    eta = xs @ beta
    ll = float(np.sum(y * eta - np.logaddexp(0.0, eta))) if np.all(np.isfinite(eta)) else float("-inf")
    return LogisticFit(coefficients=beta / scale, iterations=iterations, converged=converged, log_likelihood=ll)


def _impute(values: np.ndarray) -> tuple[np.ndarray, float | None]:
    missing = np.isnan(values)
    if not missing.any():
        return values, None
    mean = float(np.mean(values[~missing])) if (~missing).any() else 0.0
    return np.where(missing, mean, values), stable(mean)


@dataclass(frozen=True)
class OutcomeModel:
    outcome: str
    region: str
    cases: int
    events: int
    coefficients: dict[str, float | None]  # None: covariate dropped (no variation)
    iterations: int
    imputed: dict[str, float]  # covariate -> the region mean used for missing values
    tau2: dict[str, float]  # "region year" -> between-provider variance of O/E (Marshall), for the shrunk ratio
    regions: tuple[str, ...] = ()  # the regions whose expected events it gives (more than one: the pooled model)

    def as_json(self) -> dict:
        return {
            "regions": list(self.regions),
            "cases": self.cases,
            "events": self.events,
            "coefficients": dict(self.coefficients),
            "iterations": self.iterations,
            "imputed_means": dict(self.imputed),
            "tau2": dict(sorted(self.tau2.items())),
        }


def fit_outcome_region(
    outcome: str,
    region: str,
    event: np.ndarray,
    stratum: np.ndarray,
    ln_rw: np.ndarray,
    age: np.ndarray,
    male: np.ndarray,
    secondary: np.ndarray,
    extra: np.ndarray | None = None,
) -> tuple[OutcomeModel | None, np.ndarray | None, str]:
    """One region's model of one outcome; returns it and each case's expected probability, or
    (None, None, why) when the region cannot have one. `stratum`: each case's calibration stratum (its
    year; region and year in the pooled model), one intercept each."""
    imputed: dict[str, float] = {}
    cols: dict[str, np.ndarray] = {}
    for name, values in (("ln_drg_weight", ln_rw), ("age", age), ("male", male), ("secondary_diagnoses", secondary)):
        filled, mean = _impute(values.astype(float))
        if mean is not None:
            imputed[name] = mean
        cols[name] = filled
    a = (cols["age"] - AGE_CENTRE) / 10.0
    named = {
        "ln_drg_weight": cols["ln_drg_weight"],
        "age_10": a,
        "age_10_sq": a * a,
        "male": cols["male"],
        "secondary_diagnoses": cols["secondary_diagnoses"],
    }
    if extra is not None:
        filled, mean = _impute(extra.astype(float))
        if mean is not None:
            imputed["operation_grade"] = mean
        named["operation_grade"] = filled
    strata = sorted(set(stratum.tolist()))
    columns = {"intercept": np.ones(len(event))}
    for label in strata[1:]:  # one intercept per stratum: Σ expected = Σ observed in each
        columns[f"stratum_{label}"] = (stratum == label).astype(float)
    columns.update(named)
    names = list(columns)
    keep = [n for n in names if n == "intercept" or np.ptp(columns[n]) > 1e-12]
    events = int(event.sum())
    slopes = sum(1 for n in keep if n in named)  # risk covariates (Peduzzi's events per variable)
    if events == 0 or events == len(event):
        return None, None, f"{_events(events)} in {len(event)} cases: nothing to model"
    need = MIN_EVENTS_PER_COEFFICIENT * max(slopes, 1)
    if min(events, len(event) - events) < need:
        rarer = min(events, len(event) - events)
        what = _events(rarer) if rarer == events else f"{rarer} cases without the event"
        return (
            None,
            None,
            f"{what} in {len(event)} cases, fewer than {need} "
            f"({MIN_EVENTS_PER_COEFFICIENT} per risk covariate, {max(slopes, 1)})",
        )
    x = np.column_stack([columns[n] for n in keep])
    fit = fit_logistic(x, event)
    if not fit.converged:
        return None, None, f"the logistic fit did not converge in {MAX_ITERATIONS} iterations (separation)"
    p = 1.0 / (1.0 + np.exp(-(x @ fit.coefficients)))
    coef = dict(zip(keep, fit.coefficients.tolist(), strict=True))
    model = OutcomeModel(
        outcome=outcome,
        region=region,
        cases=int(len(event)),
        events=events,
        coefficients={n: (stable(coef[n]) if n in coef else None) for n in names},
        iterations=fit.iterations,
        imputed=imputed,
        tau2={},
        regions=(region,),
    )
    return model, p, ""


def _events(k: int) -> str:
    return f"{k} event" if k == 1 else f"{k} events"


def marshall_shrinkage(observed: np.ndarray, expected: np.ndarray) -> tuple[np.ndarray, float]:
    """Empirical-Bayes O/E of each provider (Marshall 1991's moment estimator of a Poisson-gamma
    model) and tau^2; providers with E = 0 get the regional ratio."""
    pos = expected > 0
    if not pos.any():
        return np.full(len(observed), np.nan), 0.0
    o, e = observed[pos], expected[pos]
    m = float(o.sum() / e.sum())
    r = o / e
    s2 = float(np.sum(e * (r - m) ** 2) / e.sum())
    tau2 = max(s2 - m / float(e.mean()), 0.0)
    out = np.full(len(observed), m)
    if tau2 > 0:
        out[pos] = m + (r - m) * tau2 / (tau2 + m / e)
    return out, tau2


def _column(data: dict, name: str) -> np.ndarray:
    col = data[name]
    if isinstance(col, np.ma.MaskedArray):
        return np.ma.filled(col.astype(float), np.nan)
    return np.asarray(col, dtype=float)


@dataclass(frozen=True)
class Outcomes:
    models: Mapping[str, Mapping[str, OutcomeModel]]  # outcome -> region -> model
    measures: Mapping[tuple[str, int], Mapping[str, float | None]]
    skipped: Mapping[str, Mapping[str, str]]  # outcome -> region -> why it has no model

    def as_json(self) -> dict:
        return {
            outcome: {
                "indicator": OUTCOME_SQL[outcome][0],
                "regions": {r: m.as_json() for r, m in sorted(self.models.get(outcome, {}).items())},
                "skipped": dict(sorted(self.skipped.get(outcome, {}).items())),
            }
            for outcome in OUTCOME_SQL
        }


def outcome_measures(outcome: str) -> tuple[str, str, str, str, str]:
    """The measure names of one outcome: cases, observed, expected, regional rate, shrunk O/E."""
    return (
        f"casemix_{outcome}_cases",
        f"casemix_{outcome}_observed",
        f"casemix_{outcome}_expected",
        f"casemix_{outcome}_region_rate",
        f"casemix_{outcome}_oe_shrunk",
    )


def compute_outcomes(con: Any, region_of: Mapping[str, str], years: tuple[int, ...]) -> Outcomes:
    """Fit every outcome's per-region models over the `stays` view and aggregate per provider and year."""
    models: dict[str, dict[str, OutcomeModel]] = {}
    skipped: dict[str, dict[str, str]] = {}
    measures: dict[tuple[str, int], dict[str, float | None]] = {}
    data = con.execute(_cases_sql(years)).fetchnumpy()
    codes, all_prov = np.unique(np.asarray(data["fixmedins_code"], dtype=object), return_inverse=True)
    all_year = np.asarray(data["year"], dtype=np.int64)
    covariates = {c: _column(data, c) for c in ("ln_rw", "age", "male", "secondary")}
    all_regions = (
        np.array([region_of.get(code, "?") for code in codes], dtype=object)[all_prov]
        if len(codes)
        else np.zeros(0, dtype=object)
    )
    for outcome, (_code, _cases, _event, extra_sql) in OUTCOME_SQL.items():
        case = np.asarray(data[f"case_{outcome}"], dtype=bool)
        prov_idx, year, regions = all_prov[case], all_year[case], all_regions[case]
        event = _column(data, f"event_{outcome}")[case]
        ln_rw, age, male, secondary = (covariates[c][case] for c in ("ln_rw", "age", "male", "secondary"))
        extra = _column(data, f"extra_{outcome}")[case] if extra_sql else None
        names = outcome_measures(outcome)
        years_s = year.astype(str).astype(object)
        expected = np.full(len(event), np.nan)
        failed: dict[str, str] = {}
        for region in sorted(set(regions.tolist()) - {"?"}):
            m = regions == region
            args = (ln_rw[m], age[m], male[m], secondary[m], extra[m] if extra is not None else None)
            model, p, why = fit_outcome_region(outcome, region, event[m], years_s[m], *args)
            if model is None or p is None:
                failed[region] = why
                continue
            models.setdefault(outcome, {})[region] = model
            expected[m] = p
        if failed:
            # a region with too few events borrows the slopes of one model over every region's cases,
            # keeping its own intercept per year (so its expected events still add up to its observed)
            m = regions != "?"
            stratum = (regions[m] + " " + years_s[m]).astype(object)
            args = (ln_rw[m], age[m], male[m], secondary[m], extra[m] if extra is not None else None)
            model, p, why = fit_outcome_region(outcome, POOLED, event[m], stratum, *args)
            if model is None or p is None:
                skipped[outcome] = {r: f"{w}; pooled over all regions: {why}" for r, w in failed.items()}
            else:
                in_failed = np.isin(regions[m], list(failed))
                expected[np.flatnonzero(m)[in_failed]] = p[in_failed]
                models.setdefault(outcome, {})[POOLED] = dataclasses.replace(model, regions=tuple(sorted(failed)))
                skipped[outcome] = {r: f"{w}: the pooled model's slopes are used" for r, w in failed.items()}
        tau2: dict[str, dict[str, float]] = {}
        for region in sorted(set(regions.tolist()) - {"?"}):
            for y in sorted(set(year[regions == region].tolist())):
                m = (regions == region) & (year == y)
                if np.isnan(expected[m]).any():
                    continue  # no model for the region
                idx, inverse = np.unique(prov_idx[m], return_inverse=True)
                n = np.bincount(inverse).astype(float)
                obs = np.bincount(inverse, weights=event[m])
                exp_ = np.bincount(inverse, weights=expected[m])
                rate = float(obs.sum() / n.sum())
                shrunk, t2 = marshall_shrinkage(obs, exp_)
                tau2.setdefault(region, {})[str(y)] = stable(t2)
                for k, j in enumerate(idx):
                    slot = measures.setdefault((str(codes[j]), int(y)), {})
                    slot[names[0]] = float(n[k])
                    slot[names[1]] = float(obs[k])
                    slot[names[2]] = stable(float(exp_[k]))
                    slot[names[3]] = stable(rate)
                    slot[names[4]] = stable(float(shrunk[k])) if np.isfinite(shrunk[k]) else None
        for key, model in list(models.get(outcome, {}).items()):
            t = {f"{r} {y}": v for r in model.regions for y, v in tau2.get(r, {}).items()}
            models[outcome][key] = dataclasses.replace(model, tau2=t)
    return Outcomes(models=models, measures=measures, skipped=skipped)
