"""Measures: named SQL aggregates over one table, per provider and year, run in DuckDB.

A measure definition (measures/*.yaml) is untrusted text from a committee's project, so its SQL is
*parsed* with sqlglot and only a small language is allowed: aggregate functions, arithmetic,
CASE, comparisons, IN lists, a few scalar functions, over the declared columns of its table.
A definition cannot read files, write, call other functions or run another statement. It reads an
identifier or key column (pingyi.data.contract: psn_no, setl_id, mdtrt_id …) only as
`count(DISTINCT col)`, so that no measure value can carry (or rebuild) a patient's identifier.

All measures of a table are compiled into ONE query over the table's cleaned view, planned rather
than written one aggregate per measure (table_sql): sums and plain counts in one pass, each column
counted distinct pre-aggregated once with a bit per filter, the view's unique key counted without
DISTINCT. Readable, commented SQL that `pingyi explain` shows and golden files pin; the unplanned
query (naive_sql) is the reference tests and benchmarks check it against.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp

from pingyi.data.contract import TABLES
from pingyi.data.views import DERIVED_COLUMNS
from pingyi.errors import PingyiError
from pingyi.spec.models import DataSettings, MeasureSpec

# Aggregates a measure may use; each is given its measure's FILTER clause.
AGGREGATES: tuple[type[exp.Expression], ...] = (exp.Count, exp.Sum, exp.Avg, exp.Min, exp.Max)
# Scalar expression nodes allowed anywhere in a measure.
SCALARS: tuple[type[exp.Expression], ...] = (
    exp.Column,
    exp.Identifier,
    exp.Literal,
    exp.Null,
    exp.Boolean,
    exp.Paren,
    exp.Neg,
    exp.Star,
    exp.Add,
    exp.Sub,
    exp.Mul,
    exp.Div,
    exp.Mod,
    exp.EQ,
    exp.NEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.Is,
    exp.In,
    exp.Between,
    exp.Not,
    exp.And,
    exp.Or,
    exp.Case,
    exp.If,
    exp.Coalesce,
    exp.Nullif,
    exp.Abs,
    exp.Round,
    exp.Greatest,
    exp.Least,
    exp.Distinct,
    exp.Placeholder,
    exp.DateDiff,
    exp.Var,
    exp.Cast,
    exp.DataType,
    exp.Floor,
    exp.Ceil,
)
CAST_TYPES = {"DOUBLE", "DECIMAL", "INT", "BIGINT", "VARCHAR", "DATE", "TIMESTAMP"}


class MeasureSqlError(ValueError):
    """A measure's SQL is outside the allowed language; `fragment` names the offending text, `part`
    which expression of the measure holds it ("aggregate" or "filter"; "" when not known)."""

    def __init__(self, message: str, fragment: str = "", part: str = ""):
        super().__init__(message)
        self.fragment = fragment
        self.part = part


class MeasureIdentifierError(MeasureSqlError):
    """A measure reads an identifier or key column other than as count(DISTINCT col): its value could
    reach an output. `column` is the column, `fragment` the smallest expression around it."""

    def __init__(self, column: str, fragment: str, part: str = ""):
        super().__init__(
            f"{column} is a patient identifier or record key ({IDENTIFIER_RULE}); it is used in {fragment}",
            fragment,
            part,
        )
        self.column = column

    @property
    def expected(self) -> str:
        return f"only count(DISTINCT {self.column})"


IDENTIFIER_RULE = "never output: a measure may only count its distinct values, count(DISTINCT col)"


@dataclass(frozen=True)
class CompiledMeasure:
    name: str
    table: str
    aggregate: exp.Expression  # with FILTER applied, code sets substituted
    description: str


def _codeset_literal(name: str, settings: DataSettings) -> list[exp.Expression]:
    value = getattr(settings, name, None)
    if value is None or name not in DataSettings.model_fields:
        raise MeasureSqlError(
            f"unknown code set :{name}; known: {', '.join(sorted(DataSettings.model_fields))}", f":{name}"
        )
    if isinstance(value, (list, tuple)):
        return [exp.Literal.string(str(v)) for v in value]
    return [exp.Literal.number(value)]


def parse_restricted(
    sql: str,
    columns: Iterable[str],
    settings: DataSettings,
    *,
    aggregate: bool,
    identifiers: Iterable[str] = (),
) -> exp.Expression:
    """Parse one SQL expression and check it against the allowed language.

    `aggregate=True`: it must contain an aggregate and no column outside an aggregate.
    `aggregate=False` (filters): it must contain no aggregate.
    `identifiers`: columns that may only appear as `count(DISTINCT col)` (so never in a filter).
    Placeholders `:name` are replaced by the project's data.yaml code sets (lists or numbers).
    A MeasureSqlError raised says which `part` it is in ("aggregate" or "filter").
    """
    try:
        return _parse_restricted(sql, columns, settings, aggregate=aggregate, identifiers=frozenset(identifiers))
    except MeasureSqlError as exc:
        exc.part = exc.part or ("aggregate" if aggregate else "filter")
        raise


def _counted_distinct(col: exp.Column) -> bool:
    """`col` is the whole argument of count(DISTINCT col)."""
    distinct = col.parent
    return (
        isinstance(distinct, exp.Distinct)
        and distinct.expressions == [col]
        and isinstance(distinct.parent, exp.Count)
        and distinct.arg_key == "this"
    )


def _identifier_uses(expr: exp.Expression, identifiers: frozenset[str]) -> None:
    """Refuse any reference to an identifier or key column but count(DISTINCT col), naming the column and
    the expression that uses it: its aggregate, else (in a filter) the nearest enclosing expression."""
    for col in expr.find_all(exp.Column):
        if col.name not in identifiers or _counted_distinct(col):
            continue
        aggregate = col.find_ancestor(*AGGREGATES)
        shown: Any = col if aggregate is None else aggregate
        if aggregate is None:
            while shown.parent is not None and (isinstance(shown.parent, (exp.Paren, exp.Not)) or shown is col):
                shown = shown.parent
        raise MeasureIdentifierError(col.name, shown.sql(dialect="duckdb"))


def _parse_restricted(
    sql: str, columns: Iterable[str], settings: DataSettings, *, aggregate: bool, identifiers: frozenset[str]
) -> exp.Expression:
    if not isinstance(sql, str) or not sql.strip():
        raise MeasureSqlError("empty SQL expression", "")
    if ";" in sql:
        raise MeasureSqlError("a measure is one expression; ';' is not allowed", ";")
    try:
        tree = sqlglot.parse_one(f"SELECT {sql}", dialect="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise MeasureSqlError(f"not a valid SQL expression: {str(exc).splitlines()[0]}", sql) from None
    if (
        not isinstance(tree, exp.Select)
        or len(tree.expressions) != 1
        or any(tree.args.get(k) for k in ("from", "where", "group", "having", "joins", "order", "limit", "with"))
    ):
        raise MeasureSqlError("a measure is one expression, not a query", sql)
    expr = tree.expressions[0]
    if isinstance(expr, exp.Alias):
        raise MeasureSqlError("aliases are not allowed; the measure's name is its alias", expr.sql())
    # first: an identifier used any other way is the more useful message, whatever else is wrong
    _identifier_uses(expr, identifiers)
    allowed_columns = set(columns)
    for node in list(expr.walk()):
        if isinstance(node, AGGREGATES):
            if not aggregate:
                raise MeasureSqlError("a filter cannot contain an aggregate", node.sql(dialect="duckdb"))
            if any(isinstance(inner, AGGREGATES) for inner in node.find_all(*AGGREGATES) if inner is not node):
                raise MeasureSqlError("nested aggregates are not allowed", node.sql(dialect="duckdb"))
            continue
        if not isinstance(node, SCALARS):
            raise MeasureSqlError(
                f"'{type(node).__name__}' is not allowed in a measure (only aggregates, "
                "arithmetic, CASE, comparisons over declared columns)",
                node.sql(dialect="duckdb"),
            )
        if isinstance(node, exp.Column) and (node.table or node.name not in allowed_columns):
            raise MeasureSqlError(
                f"unknown column; declared columns: {', '.join(sorted(allowed_columns))}",
                node.sql(dialect="duckdb"),
            )
        if isinstance(node, exp.DataType) and node.this.name not in CAST_TYPES:
            raise MeasureSqlError(f"cast type not allowed; allowed: {', '.join(sorted(CAST_TYPES))}", node.sql())
        if isinstance(node, exp.Star) and not isinstance(node.parent, exp.Count):
            raise MeasureSqlError("'*' is only allowed in count(*)", node.parent.sql() if node.parent else "*")
    if aggregate:
        if not any(isinstance(n, AGGREGATES) for n in expr.walk()):
            raise MeasureSqlError("a measure must aggregate (count, sum, avg, min, max)", expr.sql(dialect="duckdb"))
        for col in expr.find_all(exp.Column):
            if col.find_ancestor(*AGGREGATES) is None:
                raise MeasureSqlError("column outside an aggregate", col.sql(dialect="duckdb"))
    # substitute code sets
    for ph in list(expr.find_all(exp.Placeholder)):
        values = _codeset_literal(ph.name, settings)
        parent = ph.parent
        if isinstance(parent, exp.In) and len(values) >= 1 and len(parent.expressions) == 1:
            parent.set("expressions", values)
        elif len(values) == 1:
            ph.replace(values[0])
        else:
            raise MeasureSqlError(f"code set :{ph.name} is a list; use it as `IN (:{ph.name})`", f":{ph.name}")
    return expr


def with_filter(aggregate: exp.Expression, condition: exp.Expression | None) -> exp.Expression:
    """Attach `FILTER (WHERE condition)` to every aggregate inside the measure expression."""
    if condition is None:
        return aggregate

    def wrap(node: exp.Expression) -> exp.Expression:
        return exp.Filter(this=node.copy(), expression=exp.Where(this=condition.copy()))

    if isinstance(aggregate, AGGREGATES):  # the whole measure is one aggregate: replace() cannot swap a root
        return wrap(aggregate)
    copy = aggregate.copy()
    for node in list(copy.find_all(*AGGREGATES)):
        node.replace(wrap(node))
    return copy


EXACT = "DECIMAL(38, 12)"  # the type sums and means are taken in (see exact_sums)


def exact_sums(aggregate: exp.Expression, decimal: Iterable[str] = ()) -> exp.Expression:
    """SUM(x) and AVG(x) over CAST(x AS DECIMAL(38, 12)): floating-point addition is not associative, and
    DuckDB's parallel aggregation feeds rows in an order that depends on the file's format and layout, so
    a sum of ratios could differ in its last bits between two runs on the same data. Decimal sums are
    exact, hence the same in any order. (12 decimals per term; money and counts are exact already.)
    `decimal`: columns the view holds as DECIMAL already (money): their SUM is exact in its own type,
    so it is left uncast (the cast costs a fifth of the pass and changes no digit)."""
    exact = frozenset(decimal)

    def cast(node: exp.Expression) -> exp.Expression:
        if isinstance(node, (exp.Sum, exp.Avg)) and not isinstance(node.this, (exp.Distinct, exp.Cast)):
            if isinstance(node, exp.Sum) and isinstance(node.this, exp.Column) and node.this.name in exact:
                return node
            node.set("this", exp.Cast(this=node.this, to=exp.DataType.build(EXACT, dialect="duckdb")))
        return node

    return aggregate.copy().transform(cast)


def zero_sums(aggregate: exp.Expression) -> exp.Expression:
    """SUM over no matching rows is 0, not NULL: a provider with settlements but no confirmed violation,
    no consumables line or no audit flag has *zero* of them (scored), which is not *no data* (grey).
    COUNT is 0 already; AVG, MIN and MAX over no rows stay NULL (undefined)."""

    def fill(node: exp.Expression) -> exp.Expression:
        inner = node.this if isinstance(node, exp.Filter) else node
        if isinstance(inner, exp.Sum) and not isinstance(node.parent, exp.Filter):
            return exp.Coalesce(this=node, expressions=[exp.Literal.number(0)])
        return node

    if isinstance(aggregate, (exp.Filter, exp.Sum)):
        return fill(aggregate)
    return aggregate.transform(fill)


def compile_measure(spec, columns: Iterable[str], settings: DataSettings) -> CompiledMeasure:
    columns = list(columns)
    protected = identifier_columns(spec.table)
    agg = exact_sums(
        parse_restricted(spec.aggregate, columns, settings, aggregate=True, identifiers=protected),
        decimal_columns(spec.table),
    )
    cond = (
        parse_restricted(spec.filter, columns, settings, aggregate=False, identifiers=protected)
        if spec.filter
        else None
    )
    return CompiledMeasure(
        name=spec.name, table=spec.table, aggregate=zero_sums(with_filter(agg, cond)), description=spec.description
    )


def naive_sql(view: str, measures: list[CompiledMeasure]) -> str:
    """One aggregate per measure in one GROUP BY: the measures as written. Kept as the reference the
    planned query is checked against (tests, benchmarks): DuckDB runs each COUNT(DISTINCT x) FILTER (c)
    as its own hash aggregate over every row, the filter part of its key."""
    lines = [f"-- measures over {view}: one row per provider and year", "SELECT", "  fixmedins_code,", "  year,"]
    for i, m in enumerate(measures):
        comma = "," if i < len(measures) - 1 else ""
        lines.append(f"  {m.aggregate.sql(dialect='duckdb')} AS {m.name}{comma}  -- {m.description}")
    lines += [f"FROM {view}", "GROUP BY fixmedins_code, year", "ORDER BY fixmedins_code, year"]
    return "\n".join(lines)


MASK_BITS = 62  # filters per mask column (BIGINT, the sign bit left alone)


@dataclass
class _Plan:
    """The aggregates of a table's measures sorted into the passes that compute them."""

    plain: dict[str, tuple[str, exp.Expression]] = field(default_factory=dict)  # sql -> (slot, aggregate)
    # column counted distinct -> condition sql -> (slot, condition or None for every row)
    distinct: dict[str, dict[str, tuple[str, exp.Expression | None]]] = field(default_factory=dict)

    def slot(self, unit: exp.Expression, key: str | None) -> exp.Expression:
        """The column that will hold `unit` (an aggregate, maybe with its FILTER)."""
        agg, cond = (unit.this, unit.expression.this) if isinstance(unit, exp.Filter) else (unit, None)
        col = _distinct_column(agg)
        if col is not None and col != key:
            conds = self.distinct.setdefault(col, {})
            text = "" if cond is None else cond.sql(dialect="duckdb")
            if text not in conds:
                conds[text] = (f"_{col}_{len(conds) + 1}", cond)
            # no row of a provider-year passes the filter: its pre-aggregate has no row, the count is 0
            return exp.Coalesce(this=exp.column(conds[text][0]), expressions=[exp.Literal.number(0)])
        if col is not None:  # the view's key: one row per value already, COUNT(DISTINCT key) = COUNT(key)
            plain_agg: exp.Expression = exp.Count(this=exp.column(col))
            unit = plain_agg if cond is None else exp.Filter(this=plain_agg, expression=exp.Where(this=cond.copy()))
        text = unit.sql(dialect="duckdb")
        if text not in self.plain:
            self.plain[text] = (f"_a{len(self.plain) + 1}", unit.copy())
        return exp.column(self.plain[text][0])


def _distinct_column(agg: exp.Expression) -> str | None:
    """`x` when `agg` is COUNT(DISTINCT x) of one column, else None."""
    inner = agg.this if isinstance(agg, exp.Count) else None
    if isinstance(inner, exp.Distinct) and len(inner.expressions) == 1 and isinstance(inner.expressions[0], exp.Column):
        return str(inner.expressions[0].name)
    return None


def _is_unit(node: exp.Expression) -> bool:
    return (isinstance(node, exp.Filter) and isinstance(node.this, AGGREGATES)) or (
        isinstance(node, AGGREGATES) and not isinstance(node.parent, exp.Filter)
    )


def table_sql(view: str, measures: list[CompiledMeasure], key: str | None = None, *, plan: bool = True) -> str:
    """One query computing every measure of a table per provider and year.

    Planned (the default): every aggregate but the distinct counts in one pass over the view; every
    column counted distinct pre-aggregated ONCE per provider, year and value, with one bit per
    filter that some row of that value passes (`bit_or`), then the bits counted; `key`, the view's
    unique column (pingyi.data.views.unique_key), counted without DISTINCT. Each measure's expression
    is then evaluated over those columns. The numbers are those of `naive_sql`; the work is one hash
    table per distinct column instead of one per distinct measure."""
    if not plan:
        return naive_sql(view, measures)
    p = _Plan()
    finals = []
    for m in measures:
        expr = m.aggregate.copy()
        if _is_unit(expr):
            expr = p.slot(expr, key)
        else:
            expr = expr.transform(lambda n: p.slot(n, key) if _is_unit(n) else n)
        finals.append((m, expr))
    lines = [
        f"-- measures over {view}: one row per provider and year",
        "-- planned: one pass for sums and counts, one pre-aggregation per column counted distinct",
        "WITH plain AS (",
        "  SELECT fixmedins_code, year" + ("," if p.plain else ""),
    ]
    for i, (slot, unit) in enumerate(p.plain.values()):
        lines.append(f"    {unit.sql(dialect='duckdb')} AS {slot}" + ("," if i < len(p.plain) - 1 else ""))
    lines += [f"  FROM {view}", "  GROUP BY fixmedins_code, year", ")"]
    joins = []
    for col, conds in sorted(p.distinct.items()):
        cte = f"distinct_{col}"
        slots = list(conds.values())
        chunks = [slots[i : i + MASK_BITS] for i in range(0, len(slots), MASK_BITS)]
        masks = []
        for n, chunk in enumerate(chunks):
            bits = " | ".join(
                str(1 << b) if cond is None else f"(CASE WHEN {cond.sql(dialect='duckdb')} THEN {1 << b} ELSE 0 END)"
                for b, (_slot, cond) in enumerate(chunk)
            )
            masks.append(f"bit_or({bits}) AS _mask{n}")
        counts = [
            f"count(*) FILTER (WHERE _mask{n} & {1 << b} <> 0) AS {slot}"
            for n, chunk in enumerate(chunks)
            for b, (slot, _cond) in enumerate(chunk)
        ]
        # rows that pass no filter make no group: only values some measure counts are hashed
        where = f"{col} IS NOT NULL"
        if all(cond is not None for _slot, cond in slots):
            where += " AND (" + " OR ".join(f"({cond.sql(dialect='duckdb')})" for _s, cond in slots if cond) + ")"
        lines += [
            f", {cte} AS (  -- {len(slots)} distinct count(s) of {col}",
            "  SELECT fixmedins_code, year,",
            *(f"    {c}" + ("," if i < len(counts) - 1 else "") for i, c in enumerate(counts)),
            "  FROM (",
            f"    SELECT fixmedins_code, year, {col}, {', '.join(masks)}",
            f"    FROM {view}",
            f"    WHERE {where}",
            f"    GROUP BY fixmedins_code, year, {col}",
            "  )",
            "  GROUP BY fixmedins_code, year",
            ")",
        ]
        joins.append(
            f"LEFT JOIN {cte} ON {cte}.fixmedins_code IS NOT DISTINCT FROM plain.fixmedins_code "
            f"AND {cte}.year IS NOT DISTINCT FROM plain.year"
        )
    lines += ["SELECT", "  plain.fixmedins_code,", "  plain.year,"]
    for i, (m, expr) in enumerate(finals):
        comma = "," if i < len(finals) - 1 else ""
        lines.append(f"  {expr.sql(dialect='duckdb')} AS {m.name}{comma}  -- {m.description}")
    lines += ["FROM plain", *joins, "ORDER BY plain.fixmedins_code, plain.year"]
    return "\n".join(lines)


@dataclass(frozen=True)
class MeasureTable:
    """provider x year x measure values (None where the provider has no rows in the measure's table), the
    SQL per table, and which tables hold rows of each provider-year (an absent table is *missing* data,
    not zero events: the indicator stage decides what that means for each indicator)."""

    values: Mapping[tuple[str, int], Mapping[str, float | None]]
    sql: Mapping[str, str]  # table -> SQL text that produced it
    present: Mapping[tuple[str, int], frozenset[str]] = field(default_factory=dict)  # tables with rows
    tables: Mapping[str, str] = field(default_factory=dict)  # measure -> its table

    def tables_of(self, provider: str, year: int) -> frozenset[str]:
        return self.present.get((provider, year), frozenset())

    def get(self, provider: str, year: int) -> Mapping[str, float | None]:
        return self.values.get((provider, year), {})

    def rows(self, names: list[str]) -> list[tuple]:
        return [(p, y, *(vals.get(n) for n in names)) for (p, y), vals in sorted(self.values.items())]

    def with_measures(
        self, names: Iterable[str], extra: Mapping[tuple[str, int], Mapping[str, float | None]]
    ) -> MeasureTable:
        """A new table with the measures `names` added to every provider-year (None where `extra` has
        no value for it), and the provider-years of `extra` that this table lacks."""
        names = list(names)
        values: dict[tuple[str, int], dict[str, float | None]] = {}
        for key, slot in self.values.items():
            more = extra.get(key, {})
            values[key] = {**slot, **{n: more.get(n) for n in names}}
        for key, more in extra.items():
            if key not in values:
                values[key] = dict(more)
        return MeasureTable(values=values, sql=self.sql, present=self.present, tables=self.tables)


def run_measures(
    con: Any,
    compiled: Mapping[str, list[CompiledMeasure]],
    views: Mapping[str, str],
    keys: Mapping[str, str | None] | None = None,
    *,
    plan: bool = True,
) -> MeasureTable:
    """Run one query per table. `views` maps table name -> the DuckDB view holding its used rows;
    `keys` table name -> the column unique in that view (none given: every distinct count hashed);
    `plan=False` runs the measures as written (naive_sql), the reference of the planned query."""
    values: dict[tuple[str, int], dict[str, float | None]] = {}
    present: dict[tuple[str, int], set[str]] = {}
    sql_by_table: dict[str, str] = {}
    all_names = [m.name for ms in compiled.values() for m in ms]
    for table, measures in sorted(compiled.items()):
        if not measures:
            continue
        view = views.get(table)
        sql = table_sql(view or table, measures, (keys or {}).get(table), plan=plan)
        sql_by_table[table] = sql
        if view is None:
            continue  # table not in the bundle: its measures stay missing (insufficient data)
        try:
            result = con.execute(sql).fetchall()
        except Exception as exc:  # duckdb raises its own error types
            raise PingyiError(f"measures over {table} failed in DuckDB: {exc}") from exc
        for row in result:
            key = (row[0], int(row[1]))
            present.setdefault(key, set()).add(table)
            slot = values.setdefault(key, dict.fromkeys(all_names))
            for m, value in zip(measures, row[2:], strict=False):
                slot[m.name] = None if value is None else float(value)
    for slot in values.values():
        for name in all_names:
            slot.setdefault(name, None)
    return MeasureTable(
        values=values,
        sql=sql_by_table,
        present={k: frozenset(v) for k, v in present.items()},
        tables={m.name: table for table, ms in compiled.items() for m in ms},
    )


def identifier_columns(table: str) -> frozenset[str]:
    """The identifier and key columns of `table` (pingyi.data.contract): count(DISTINCT col) only."""
    spec = TABLES.get(table)
    return frozenset(spec.pii_columns) if spec else frozenset()


def decimal_columns(table: str) -> frozenset[str]:
    """The money columns of `table`: DECIMAL(16, 2) in its cleaned view (pingyi.data.checks.CLEAN_TYPES)."""
    spec = TABLES.get(table)
    return frozenset(c.name for c in spec.columns if c.type == "money") if spec else frozenset()


def table_columns(table: str) -> list[str]:
    """The columns a measure over `table` may read: the contract's columns, the derived columns of its
    view (settlement_rows, stays) and `year`."""
    if table not in TABLES:
        raise MeasureSqlError(f"unknown table '{table}'; measures read one of {', '.join(sorted(TABLES))}", table)
    extra = list(DERIVED_COLUMNS.get(table, {}))
    return [*TABLES[table].names, *extra, "year"]


def compile_project_measures(
    measures: Mapping[str, MeasureSpec], settings: DataSettings
) -> dict[str, list[CompiledMeasure]]:
    """Compile every measure, grouped by table; an invalid one is a user error naming its file and line
    (validation reports all of them as PY603 first)."""
    compiled: dict[str, list[CompiledMeasure]] = {}
    for name, spec in sorted(measures.items()):
        try:
            cm = compile_measure(spec, table_columns(spec.table), settings)
        except MeasureSqlError as exc:
            where = f"{spec.origin.file}:{spec.origin.line}" if spec.origin else name
            expected = (
                exc.expected
                if isinstance(exc, MeasureIdentifierError)
                else "only aggregates, arithmetic, CASE and comparisons over the table's declared columns"
            )
            raise PingyiError(f"{where} (measure {name}): {exc}; found {exc.fragment!r}; expected {expected}") from None
        compiled.setdefault(spec.table, []).append(cm)
    return compiled
