"""Indicator values per provider: formulas over measures (with prior-year references), values
reported by providers or surveys, and expert scores.

Measure values are rounded to 12 significant digits before formulas see them: DuckDB adds
floating-point partial sums in whatever order its threads finish, and 12 digits is far below any
displayed precision yet removes that last-bit noise, so results are byte-identical run to run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pingyi.spec import formula as formula_lang
from pingyi.spec.models import DataSource, IndicatorSpec


def stable(x: float | None) -> float | None:
    if x is None:
        return None
    return float(f"{x:.12g}")


@dataclass(frozen=True)
class IndicatorValue:
    code: str
    value: float | None
    prior: float | None  # the same indicator last year (for improvement points and "what changed")
    volume: float | None  # the minimum-volume measure, current year
    inputs: dict  # measure values (current and prior) the formula used
    # case mix (pingyi.compute.casemix): `value`/`prior` are the scored ones; with an adjusted_formula both
    # variants are kept so reports can show them side by side
    raw_value: float | None = None
    adjusted_value: float | None = None
    raw_prior: float | None = None
    adjusted_prior: float | None = None


def evaluate_indicator(ind: IndicatorSpec, current: Mapping[str, float | None], prior: Mapping[str, float | None],
                       before_prior: Mapping[str, float | None], reported: Mapping[tuple[str, int], float],
                       expert: Mapping[tuple[str, int], float], year: int) -> IndicatorValue:
    """`current`/`prior`/`before_prior`: measures of this provider for year, year-1, year-2."""
    volume = stable(current.get(ind.volume.measure)) if ind.volume else None
    if ind.formula:
        value, prior_value, inputs = _evaluate(ind.formula, current, prior, before_prior)
        if ind.adjusted_formula is None:
            return IndicatorValue(ind.code, value, prior_value, volume, inputs, raw_value=value, raw_prior=prior_value)
        adj, adj_prior, adj_inputs = _evaluate(ind.adjusted_formula, current, prior, before_prior)
        for when, ms in adj_inputs.items():
            inputs.setdefault(when, {}).update(ms)
        scored = ind.casemix == "adjusted"
        return IndicatorValue(ind.code, adj if scored else value, adj_prior if scored else prior_value, volume,
                              inputs, raw_value=value, adjusted_value=adj, raw_prior=prior_value,
                              adjusted_prior=adj_prior)
    table = expert if ind.source is DataSource.EXPERT else reported
    value = table.get((ind.code, year))
    prior_value = table.get((ind.code, year - 1))
    return IndicatorValue(ind.code, stable(value), stable(prior_value), volume, {}, raw_value=stable(value),
                          raw_prior=stable(prior_value))


def _evaluate(text: str, current: Mapping[str, float | None], prior: Mapping[str, float | None],
              before_prior: Mapping[str, float | None]) -> tuple[float | None, float | None, dict]:
    parsed = formula_lang.parse(text)
    cur = {k: stable(current.get(k)) for k in parsed.measures}
    pri = {k: stable(prior.get(k)) for k in parsed.prior_measures}
    value = parsed.evaluate(cur, pri)
    # last year's value of the indicator itself: the same formula one year earlier
    cur_prev = {k: stable(prior.get(k)) for k in parsed.measures}
    pri_prev = {k: stable(before_prior.get(k)) for k in parsed.prior_measures}
    prior_value = parsed.evaluate(cur_prev, pri_prev)
    return stable(value), stable(prior_value), {"current": cur, "prior": pri}
