"""Which year-to-date values are annualised, and how.

The rule, read from each indicator's formula (the manual's 计算方法 in the formula language): a value is
annualised when it is not a ratio of quantities of the same months. Each measure that is a sum or a
count over the year (`sum(...)`, `count(...)`: it grows with the months of data) has degree 1 in the
months; `prior(...)` (last year, whole), numbers and the case-mix means (expected and observed cost per
stay, observed/expected) have degree 0; `*` adds degrees, `/` subtracts them, `+ - min max` need equal
degrees. A formula of degree 0 (every ratio, rate, share, mean and index of the catalogue: 药品费用占比,
次均费用, 消耗指数 …) is compared with its annual baseline as it is. Any other formula (an annual total,
an amount per year, or a total compared with last year's whole total such as 统筹基金支出增长率
hifp_paid / prior(hifp_paid) − 1) is annualised: evaluated again with the evaluation year's sums and
counts multiplied by 12 / months, so that it compares the same span as its annual baseline. In the
shipped catalogue that is D1.03 alone. Reported, survey and expert values are yearly and never scaled.

Only the value is annualised: the minimum-volume rule still sees the counts of the months (a volume
floor is about how much evidence there is, and extrapolated cases are not evidence), and last year's
value stays the whole year's. Straight-line annualising ignores seasonality (December's settlements
run high); the notice says the value is annualised.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Mapping

from pingyi.compute.indicators import IndicatorValue, SideValues, evaluate_all
from pingyi.compute.measures import MeasureTable
from pingyi.spec.formula import parse
from pingyi.spec.models import DataSource, IndicatorSpec
from pingyi.spec.project import Project

ADDITIVE_AGGREGATES = ("sum(", "count(")
ADDITIVE_CASEMIX = frozenset({"casemix_stays"})  # a count; the other case-mix measures are means


class _Mixed(Exception):
    """A sum of terms of different degrees: not homogeneous in the months."""


def additive_measures(project: Project) -> frozenset[str]:
    """The measures that grow with the months of data: sums and counts (and the case-mix stay count)."""
    names = {
        name
        for name, m in project.measures.items()
        if m.aggregate.strip().lower().replace(" ", "").startswith(ADDITIVE_AGGREGATES)
    }
    return frozenset(names) | ADDITIVE_CASEMIX


def degree(node: ast.AST, additive: frozenset[str]) -> int:
    """The formula's degree in the months (raises _Mixed when there is none)."""
    if isinstance(node, ast.Constant):
        return 0
    if isinstance(node, ast.Name):
        return 1 if node.id in additive else 0
    if isinstance(node, ast.UnaryOp):
        return degree(node.operand, additive)
    if isinstance(node, ast.BinOp):
        a, b = degree(node.left, additive), degree(node.right, additive)
        if isinstance(node.op, ast.Mult):
            return a + b
        if isinstance(node.op, ast.Div):
            return a - b
        if a != b:
            raise _Mixed
        return a
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        if node.func.id == "prior":
            return 0
        degrees = {degree(arg, additive) for arg in node.args}
        if len(degrees) > 1:
            raise _Mixed
        return degrees.pop() if degrees else 0
    raise _Mixed  # the checked language has no other node; be safe rather than silently unscaled


def is_annualised(ind: IndicatorSpec, additive: frozenset[str]) -> bool:
    if ind.source is not DataSource.SETTLEMENT or not ind.formula:
        return False
    for text in (ind.formula, ind.adjusted_formula):
        if text is None:
            continue
        try:
            if degree(parse(text).tree, additive) != 0:
                return True
        except _Mixed:
            return True
    return False


def annualised_codes(project: Project) -> tuple[str, ...]:
    additive = additive_measures(project)
    return tuple(c for c, ind in project.indicators.items() if is_annualised(ind, additive))


def scaled(measures: MeasureTable, year: int, names: frozenset[str], factor: float) -> MeasureTable:
    """The measure table with the evaluation year's `names` multiplied by `factor` (other years as they are)."""
    values: dict[tuple[str, int], dict[str, float | None]] = {}
    for key, slot in measures.values.items():
        if key[1] == year:
            values[key] = {n: (v * factor if v is not None and n in names else v) for n, v in slot.items()}
        else:
            values[key] = dict(slot)
    return dataclasses.replace(measures, values=values)


def annualise(
    project: Project,
    values: Mapping[str, Mapping[str, IndicatorValue]],
    measures: MeasureTable,
    months: int,
) -> dict[str, dict[str, IndicatorValue]]:
    """`values` with the annualised indicators' values (raw and adjusted) evaluated on the year's sums and
    counts times 12 / months; everything else as it was."""
    out = {code: dict(row) for code, row in values.items()}
    codes = annualised_codes(project)
    if not codes or months == 12:
        return out
    chosen = {c: project.indicators[c] for c in codes}
    again = evaluate_all(
        chosen,
        list(values),
        scaled(measures, project.year, additive_measures(project), 12 / months),
        SideValues(),
        project.year,
    )
    for provider, row in again.items():
        for code, new in row.items():
            old = out[provider][code]
            if old.value is None:
                continue  # no value to annualise: the run's own judgement (no data, missing) stands
            out[provider][code] = dataclasses.replace(
                old, value=new.value, raw_value=new.raw_value, adjusted_value=new.adjusted_value
            )
    return out
