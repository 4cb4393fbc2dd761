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


def evaluate_indicator(ind: IndicatorSpec, current: Mapping[str, float | None], prior: Mapping[str, float | None],
                       before_prior: Mapping[str, float | None], reported: Mapping[tuple[str, int], float],
                       expert: Mapping[tuple[str, int], float], year: int) -> IndicatorValue:
    """`current`/`prior`/`before_prior`: measures of this provider for year, year-1, year-2."""
    volume = stable(current.get(ind.volume.measure)) if ind.volume else None
    if ind.formula:
        parsed = formula_lang.parse(ind.formula)
        cur = {k: stable(current.get(k)) for k in parsed.measures}
        pri = {k: stable(prior.get(k)) for k in parsed.prior_measures}
        value = parsed.evaluate(cur, pri)
        # last year's value of the indicator itself: the same formula one year earlier
        cur_prev = {k: stable(prior.get(k)) for k in parsed.measures}
        pri_prev = {k: stable(before_prior.get(k)) for k in parsed.prior_measures}
        prior_value = parsed.evaluate(cur_prev, pri_prev)
        inputs = {"current": cur, "prior": pri}
        return IndicatorValue(ind.code, stable(value), stable(prior_value), volume, inputs)
    table = expert if ind.source is DataSource.EXPERT else reported
    value = table.get((ind.code, year))
    prior_value = table.get((ind.code, year - 1))
    return IndicatorValue(ind.code, stable(value), stable(prior_value), volume, {})
