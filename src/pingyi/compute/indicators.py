"""Indicator values per provider: formulas over measures (with prior-year references), values
reported by providers or surveys, and expert scores.

Three kinds of absence are kept apart. *Zero*: the provider's table holds rows but none match (a sum
or count over them is 0, so the value is 0 and scored). *Insufficient*: no fault of the provider (a
denominator of 0 or below the minimum volume, no survey, no expert score): grey. *Missing*: a table the
provider must supply (PROVIDER_TABLES) holds none of its rows although it had the activity, or a report
it must file is absent: scored as the worst value, so withholding data never raises a score. What an
absent *insurer-side* table means (audit flags: no flag = zero events) is the indicator's `on_empty`.

Measure values are rounded to 12 significant digits before formulas see them (pingyi.numbers.stable),
so results are byte-identical run to run.
"""

from __future__ import annotations

import ast
import functools
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pingyi.compute.measures import MeasureTable
from pingyi.errors import PingyiError
from pingyi.numbers import stable
from pingyi.spec import formula as formula_lang
from pingyi.spec.models import REPORTED_DENOMINATOR, DataSource, IndicatorSpec

# Tables the provider itself supplies: their absence is the provider's doing, never "no data" (grey).
PROVIDER_TABLES = frozenset({"settlements", "setl_lists", "fee_items", "reported"})
# A provider-supplied table is owed only with the activity it records: settlement lists for inpatient stays.
OWED_WHEN = {"setl_lists": "inpatient_stays"}

Keyed = Mapping[str, Mapping[tuple[str, int], float]]  # provider -> (indicator, year) -> value


@dataclass(frozen=True)
class SideValues:
    """Values that do not come from measures: provider reports and surveys (`reported`), and the expert
    panel's score per provider, indicator and year (`expert_scores`: the mean without the highest and the
    lowest score)."""

    reported: Keyed = field(default_factory=dict)
    expert: Keyed = field(default_factory=dict)
    # the reported rows' denominators (valid questionnaires, complaints due …): the volume of a reported or
    # survey indicator whose minimum-volume rule names `denominator`
    denominators: Keyed = field(default_factory=dict)


def _keyed(con: Any, sql: str) -> dict[str, dict[tuple[str, int], float]]:
    out: dict[str, dict[tuple[str, int], float]] = {}
    for provider, indicator, year, value in con.execute(sql).fetchall():
        out.setdefault(provider, {})[(indicator, int(year))] = stable(float(value))
    return out


# The panel's score (manual of D7.04): the mean after dropping one highest and one lowest score; with fewer
# than 3 experts nothing can be dropped and it is the plain mean. Exact decimals, so the order of the rows
# cannot change the last digit.
EXPERT_SCORE_SQL = """
SELECT fixmedins_code, indicator, year,
       CASE WHEN count(score) >= 3
            THEN (sum(CAST(score AS DECIMAL(38, 12))) - max(CAST(score AS DECIMAL(38, 12)))
                  - min(CAST(score AS DECIMAL(38, 12)))) / (count(score) - 2)
            ELSE avg(CAST(score AS DECIMAL(38, 12))) END AS score
FROM clean_expert_scores GROUP BY fixmedins_code, indicator, year
"""


def read_side_values(con: Any, present: Iterable[str]) -> SideValues:
    """The reported and expert-score tables' used rows (their clean views), when the bundle has them.
    Expert scores: the trimmed mean per provider, indicator and year (EXPERT_SCORE_SQL)."""
    present = set(present)
    reported = (
        _keyed(con, "SELECT fixmedins_code, indicator, year, value FROM clean_reported")
        if "reported" in present
        else {}
    )
    expert = _keyed(con, EXPERT_SCORE_SQL) if "expert_scores" in present else {}
    denominators = (
        _keyed(
            con,
            "SELECT fixmedins_code, indicator, year, denominator FROM clean_reported WHERE denominator IS NOT NULL",
        )
        if "reported" in present
        else {}
    )
    return SideValues(reported, expert, denominators)


@dataclass(frozen=True)
class IndicatorValue:
    code: str
    value: float | None
    prior: float | None  # the same indicator last year (for improvement points and "what changed")
    volume: float | None  # the minimum-volume measure, current year
    inputs: Mapping[str, Mapping[str, float | None]]  # measure values ("current", "prior") the formula used
    # case mix (pingyi.compute.casemix): `value`/`prior` are the scored ones; with an adjusted_formula both
    # variants are kept so reports can show them side by side
    raw_value: float | None = None
    adjusted_value: float | None = None
    raw_prior: float | None = None
    adjusted_prior: float | None = None
    absence: str | None = None  # "missing" (mandatory data not supplied) or "insufficient" (a source is empty)
    absent: tuple[str, ...] = ()  # the tables (or "reported") with none of this provider's rows


def _absent_tables(
    ind: IndicatorSpec,
    tables: Mapping[str, str],
    present: frozenset[str],
    current: Mapping[str, float | None],
    reads: tuple[str, ...] | None = None,
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(absent tables the indicator's current-year measures read, those the provider owed); `reads`:
    _tables_read(ind, tables) when the caller computed it once for all providers."""
    if not ind.formula:
        return (), ()
    absent = tuple(t for t in (reads if reads is not None else _tables_read(ind, tables)) if t not in present)
    owed = []
    for t in absent:
        if t not in PROVIDER_TABLES:
            continue
        gate = OWED_WHEN.get(t)
        activity = (current.get(gate) or 0.0) if gate is not None and "settlements" in present else None
        if activity is not None and activity <= 0:
            continue  # no inpatient stay, no settlement list owed
        if ind.volume is not None:
            # below the minimum volume the indicator would be grey with the data too: no gain in withholding
            vm = ind.volume.measure
            if tables.get(vm) in present and (current.get(vm) or 0.0) < ind.volume.minimum:
                continue
            if tables.get(vm) == t and activity is not None and activity < ind.volume.minimum:
                continue
        owed.append(t)
    return absent, tuple(owed)


def _tables_read(ind: IndicatorSpec, tables: Mapping[str, str]) -> tuple[str, ...]:
    """The tables the indicator's formulas read (sorted): the same for every provider."""
    if not ind.formula:
        return ()
    used = {tables[m] for m in _parse(ind.formula).measures if m in tables}
    if ind.adjusted_formula:
        used |= {tables[m] for m in _parse(ind.adjusted_formula).measures if m in tables}
    return tuple(sorted(used))


def evaluate_indicator(
    ind: IndicatorSpec,
    current: Mapping[str, float | None],
    prior: Mapping[str, float | None],
    before_prior: Mapping[str, float | None],
    reported: Mapping[tuple[str, int], float],
    expert: Mapping[tuple[str, int], float],
    year: int,
    tables: Mapping[str, str] | None = None,
    present: frozenset[str] | None = None,
    denominators: Mapping[tuple[str, int], float] | None = None,
    reads: tuple[str, ...] | None = None,
) -> IndicatorValue:
    """`current`/`prior`/`before_prior`: measures of this provider for year, year-1, year-2; `tables`:
    measure -> table, `present`: the tables holding this provider's rows this year (None: not known,
    absence is not judged); `reads`: the tables the formulas read (_tables_read), when the caller
    computed them once for every provider."""
    if (
        ind.volume is not None
        and ind.volume.measure == REPORTED_DENOMINATOR
        and ind.source is not DataSource.SETTLEMENT
    ):
        # the reported row's own denominator (a survey's valid questionnaires): no row, no volume
        n = (denominators or {}).get((ind.code, year))
        volume = stable(n) if n is not None else None
    else:
        volume = stable(current.get(ind.volume.measure)) if ind.volume else None
    if ind.formula and tables is not None and present is not None:
        absent, owed = _absent_tables(ind, tables, present, current, reads)
        if owed or (absent and ind.empty_means == "missing" and not set(absent) & PROVIDER_TABLES):
            return IndicatorValue(ind.code, None, None, volume, {}, absence="missing", absent=owed or absent)
        if absent and (ind.empty_means != "zero" or set(absent) & PROVIDER_TABLES):
            return IndicatorValue(ind.code, None, None, volume, {}, absence="insufficient", absent=absent)
        if absent:  # on_empty: zero: the measures of a table with none of the provider's rows count nothing
            current = {**current, **{m: 0.0 for m, t in tables.items() if t in absent and current.get(m) is None}}
    if ind.formula:
        value, prior_value, inputs = _evaluate(ind.formula, current, prior, before_prior)
        if ind.adjusted_formula is None:
            return IndicatorValue(ind.code, value, prior_value, volume, inputs, raw_value=value, raw_prior=prior_value)
        adj, adj_prior, adj_inputs = _evaluate(ind.adjusted_formula, current, prior, before_prior)
        for when, ms in adj_inputs.items():
            inputs.setdefault(when, {}).update(ms)
        scored = ind.casemix == "adjusted"
        return IndicatorValue(
            ind.code,
            adj if scored else value,
            adj_prior if scored else prior_value,
            volume,
            inputs,
            raw_value=value,
            adjusted_value=adj,
            raw_prior=prior_value,
            adjusted_prior=adj_prior,
        )
    table = expert if ind.source is DataSource.EXPERT else reported
    value = table.get((ind.code, year))
    prior_value = table.get((ind.code, year - 1))
    if value is None and present is not None:
        kind = ind.empty_means
        if kind == "missing":
            return IndicatorValue(ind.code, None, None, volume, {}, absence="missing", absent=("reported",))
        if kind == "insufficient":
            return IndicatorValue(ind.code, None, stable(prior_value), volume, {}, absence="insufficient")
    return IndicatorValue(
        ind.code, stable(value), stable(prior_value), volume, {}, raw_value=stable(value), raw_prior=stable(prior_value)
    )


@functools.lru_cache(maxsize=1024)
def _parse(text: str) -> formula_lang.Formula:
    """Formulas are parsed once per run, not once per provider (a parsed formula is immutable)."""
    return formula_lang.parse(text)


Env = Mapping[str, float | None]
Compiled = Callable[[Env, Env], float | None]


@functools.lru_cache(maxsize=1024)
def _compiled(text: str) -> Compiled:
    """A formula as nested Python closures, built once per run: evaluating it per provider then costs no
    tree walk or method lookup per node. The closures do exactly what Formula.evaluate does, node for
    node and in the same order (both operands before the None test, an overflow raised as it is there);
    tests/test_vector_formulas.py checks that they agree on random formulas and values."""
    return _closure(_parse(text).tree)


def _number(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else number


def _closure(node: ast.AST) -> Compiled:
    if isinstance(node, ast.Constant):
        constant = float(node.value)  # type: ignore[arg-type]  # the checker admits only numbers
        return lambda cur, pri: constant
    if isinstance(node, ast.Name):
        name = node.id
        return lambda cur, pri: _number(cur.get(name))
    if isinstance(node, ast.UnaryOp):
        operand = _closure(node.operand)
        if isinstance(node.op, ast.USub):
            return lambda cur, pri: None if (v := operand(cur, pri)) is None else -v
        return operand
    if isinstance(node, ast.BinOp):
        return _binop(node.op, _closure(node.left), _closure(node.right))
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    fn = node.func.id
    if fn == "prior":
        name = node.args[0].id  # type: ignore[attr-defined]
        return lambda cur, pri: _number(pri.get(name))
    args = [_closure(a) for a in node.args]

    def call(cur: Env, pri: Env) -> float | None:
        values = [a(cur, pri) for a in args]
        if any(v is None for v in values):
            return None
        if fn == "abs":
            return abs(values[0])  # type: ignore[arg-type]
        return min(values) if fn == "min" else max(values)  # type: ignore[type-var]

    return call


def _binop(op: ast.operator, left: Compiled, right: Compiled) -> Compiled:
    def checked(a: float, b: float, value: float) -> float:
        if not math.isfinite(value):
            # an infinity would be scored (red, or "inf % better"); it is a broken formula, not a value
            raise formula_lang.FormulaOverflow(f"formula overflows: {a!r} and {b!r} give {value!r}")
        return value

    def add(cur: Env, pri: Env) -> float | None:
        a, b = left(cur, pri), right(cur, pri)
        return None if a is None or b is None else checked(a, b, a + b)

    def sub(cur: Env, pri: Env) -> float | None:
        a, b = left(cur, pri), right(cur, pri)
        return None if a is None or b is None else checked(a, b, a - b)

    def mul(cur: Env, pri: Env) -> float | None:
        a, b = left(cur, pri), right(cur, pri)
        return None if a is None or b is None else checked(a, b, a * b)

    def div(cur: Env, pri: Env) -> float | None:
        a, b = left(cur, pri), right(cur, pri)
        if a is None or b is None or b == 0:
            return None  # no denominator: insufficient data, never infinity
        return checked(a, b, a / b)

    return {ast.Add: add, ast.Sub: sub, ast.Mult: mul, ast.Div: div}[type(op)]


def _evaluate(
    text: str,
    current: Mapping[str, float | None],
    prior: Mapping[str, float | None],
    before_prior: Mapping[str, float | None],
) -> tuple[float | None, float | None, dict]:
    parsed, run = _parse(text), _compiled(text)
    cur = {k: stable(current.get(k)) for k in parsed.measures}
    pri = {k: stable(prior.get(k)) for k in parsed.prior_measures}
    value = run(cur, pri)
    # last year's value of the indicator itself: the same formula one year earlier
    cur_prev = {k: stable(prior.get(k)) for k in parsed.measures}
    pri_prev = {k: stable(before_prior.get(k)) for k in parsed.prior_measures}
    prior_value = run(cur_prev, pri_prev)
    return stable(value), stable(prior_value), {"current": cur, "prior": pri}


def evaluate_all(
    indicators: Mapping[str, IndicatorSpec],
    providers: Iterable[str],
    measures: MeasureTable,
    side: SideValues,
    year: int,
) -> dict[str, dict[str, IndicatorValue]]:
    """Every indicator of every provider: provider -> indicator code -> value."""
    out: dict[str, dict[str, IndicatorValue]] = {}
    reads = {c: _tables_read(ind, measures.tables) for c, ind in indicators.items()}
    for code in providers:
        cur, pri, pri2 = (measures.get(code, y) for y in (year, year - 1, year - 2))
        present = measures.tables_of(code, year)
        row: dict[str, IndicatorValue] = {}
        for c, ind in indicators.items():
            try:
                row[c] = evaluate_indicator(
                    ind,
                    cur,
                    pri,
                    pri2,
                    side.reported.get(code, {}),
                    side.expert.get(code, {}),
                    year,
                    measures.tables,
                    present,
                    side.denominators.get(code, {}),
                    reads[c],
                )
            except formula_lang.FormulaOverflow as exc:
                where = f"{ind.origin.file}:{ind.origin.line}" if ind.origin else c
                raise PingyiError(
                    f"{where} ({c} formula): {exc} for provider {code}; expected a finite value: "
                    "fix the formula (an infinity would be scored)"
                ) from None
        out[code] = row
    return out
