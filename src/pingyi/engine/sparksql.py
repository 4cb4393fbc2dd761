"""DuckDB SQL text rendered as Spark SQL with DuckDB's semantics, through sqlglot.

sqlglot translates the syntax (quoting, EXPLODE for unnest, FILTER(..., x -> ...) for list_filter, SEMI
JOIN, null ordering). What it translates by name but Spark computes differently is rewritten here on
the DuckDB syntax tree first, so both engines give the same values on the same rows:

- `/` is DuckDB's floating-point division (integers and decimals too), IEEE at a zero divisor
  (x / 0 is ±inf, 0 / 0 NaN) where Spark returns a decimal or NULL;
- `avg` of integers and decimals is a DOUBLE in DuckDB (Spark: a DECIMAL with 4 more digits);
- `round` of a division (a DOUBLE) rounds x * 10^n half away from zero, as DuckDB does, not the decimal
  text as Spark does;
- `TRY_CAST(text AS TIMESTAMP | DOUBLE)` only for the shapes both read alike (DuckDB reads
  '2025-1-5', Spark '2025', Java's parser '1d'); the other spellings go to the declared formats;
  `try_strptime(v, [formats])` tries each format with the Java pattern of the same meaning;
- `date_diff` counts day, month and year boundaries as DuckDB does (Spark: whole units elapsed);
- `regexp_full_match` anchors the pattern; `strlen` counts bytes; `isfinite`; UBIGINT bit masks become
  BIGINT (the same bits, two's complement); `list[2:]` slices.

`SELECT t.* EXCLUDE (...)` / `* REPLACE (...)` are expanded with the columns Spark reports for `t`
(`columns_of`), as Spark has neither.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlglot
from sqlglot import exp

Columns = Callable[[exp.Expression], list[str]]

# the text shapes DuckDB's TRY_CAST reads as the same timestamp Spark's CAST reads
_ISO_TIMESTAMP = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?)?$"
# the numbers both read alike (DuckDB also reads inf and nan, which `isfinite` rejects after it)
_PLAIN_NUMBER = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
# strptime directives -> Java DateTimeFormatter letters (one letter: one or two digits, as %m reads)
_STRPTIME = {"%Y": "yyyy", "%m": "M", "%d": "d", "%H": "H", "%M": "m", "%S": "s", "%f": "SSSSSS"}
_COMPACT = {"%Y": "yyyy", "%m": "MM", "%d": "dd", "%H": "HH", "%M": "mm", "%S": "ss"}


def java_pattern(fmt: str) -> str:
    """The Java pattern of a strptime format: fixed widths when no separator splits the fields."""
    compact = not any(ch in fmt for ch in "-/: .T")
    table = _COMPACT if compact else _STRPTIME
    out, i = [], 0
    while i < len(fmt):
        pair = fmt[i : i + 2]
        if pair in table:
            out.append(table[pair])
            i += 2
        else:
            out.append("'T'" if fmt[i] == "T" else fmt[i])
            i += 1
    return "".join(out)


def _fn(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _double(node: exp.Expression) -> exp.Expression:
    return exp.Cast(this=node, to=exp.DataType.build("DOUBLE"))


_INF = exp.Cast(this=exp.Literal.string("Infinity"), to=exp.DataType.build("DOUBLE"))


def _ieee_div(num: exp.Expression, den: exp.Expression) -> exp.Expression:
    n, d = _double(num), _double(den)
    case = exp.Case(
        ifs=[
            exp.If(
                this=exp.EQ(this=d.copy(), expression=exp.Literal.number(0)),
                true=exp.Mul(this=n.copy(), expression=_INF.copy()),
            )
        ],
        default=exp.Div(this=n, expression=d),
    )
    case.meta["double"] = True  # round() of it rounds as DuckDB rounds a DOUBLE
    return case


def _duck_round(value: exp.Expression, digits: int) -> exp.Expression:
    """DuckDB's round(DOUBLE, n): std::round(x * 10^n) / 10^n (half away from zero on the double)."""
    scale = exp.Literal.number(repr(float(10**digits)))
    v = exp.Paren(this=exp.Mul(this=exp.Paren(this=value), expression=scale))
    a = exp.Abs(this=v.copy())
    whole = exp.Case(
        ifs=[
            exp.If(
                this=exp.GTE(
                    this=exp.Sub(this=a.copy(), expression=exp.Floor(this=a.copy())), expression=exp.Literal.number(0.5)
                ),
                true=exp.Ceil(this=a.copy()),
            )
        ],
        default=exp.Floor(this=a.copy()),
    )
    rounded = exp.Div(this=exp.Mul(this=_fn("SIGNUM", v.copy()), expression=whole), expression=scale.copy())
    return exp.Case(
        ifs=[
            exp.If(
                this=exp.or_(_fn("ISNAN", v.copy()), exp.EQ(this=a.copy(), expression=_INF.copy())), true=value.copy()
            ),
            exp.If(
                this=exp.GTE(this=a.copy(), expression=exp.Literal.number("4.5E15")),
                true=exp.Div(this=v.copy(), expression=scale.copy()),
            ),
        ],
        default=rounded,
    )


def _guarded_cast(value: exp.Expression, pattern: str, to: exp.DataType) -> exp.Expression:
    return exp.Case(
        ifs=[
            exp.If(
                this=exp.RegexpLike(this=value.copy(), expression=exp.Literal.string(pattern)),
                true=exp.TryCast(this=value, to=to),
            )
        ]
    )


def _literal_strings(node: exp.Expression) -> list[str] | None:
    items = node.expressions if isinstance(node, exp.Array) else [node]
    if all(isinstance(i, exp.Literal) and i.is_string for i in items):
        return [i.this for i in items]
    return None


_TIMESTAMPS = (exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPNTZ)


def _in_query(node: exp.In) -> exp.Expression | None:
    """`x IN (SELECT k FROM r WHERE w)` with SQL's three values (NULL when x is NULL or only a NULL k could
    match, unless r is empty), as correlated EXISTS tests Spark runs as hash joins; Spark's own IN in a
    select list is FALSE where SQL says NULL."""
    query = node.args.get("query")
    query = query.this if isinstance(query, exp.Subquery) else query
    if not isinstance(query, exp.Select) or len(query.expressions) != 1 or query.args.get("group"):
        return None
    key = query.expressions[0]
    key = key.this if isinstance(key, exp.Alias) else key
    where = query.args.get("where")
    cond = where.this if where is not None else exp.true()
    from_ = query.args.get("from_") or query.args.get("from")
    if from_ is None or query.args.get("joins"):
        return None

    def exists(extra: exp.Expression | None) -> exp.Expression:
        test = cond.copy() if extra is None else exp.and_(exp.Paren(this=cond.copy()), extra)
        return exp.Exists(this=exp.select("1").from_(from_.this.copy()).where(test))

    x = node.this
    return exp.Case(
        ifs=[
            exp.If(this=exists(exp.EQ(this=key.copy(), expression=x.copy())), true=exp.true()),
            exp.If(this=exp.not_(exists(None)), true=exp.false()),
            exp.If(this=exp.Is(this=x.copy(), expression=exp.Null()), true=exp.Null()),
            exp.If(this=exists(exp.Is(this=key.copy(), expression=exp.Null())), true=exp.Null()),
        ],
        default=exp.false(),
    )


def _date_diff(node: exp.DateDiff) -> Any:
    """DuckDB's date_diff counts boundaries crossed (days between the dates, months between the months),
    Spark's whole units elapsed: the boundary count for day, month and year; other units unchanged."""
    unit_node: Any = node.args.get("unit")
    unit = str(unit_node.name if unit_node is not None else "DAY").upper()
    end, start = node.this, node.expression
    if unit in ("DAY", "DAYS"):
        return _fn(
            "DATEDIFF",
            exp.Cast(this=end, to=exp.DataType.build("DATE")),
            exp.Cast(this=start, to=exp.DataType.build("DATE")),
        )
    if unit in ("MONTH", "MONTHS", "YEAR", "YEARS"):
        years = exp.Sub(this=_fn("YEAR", end.copy()), expression=_fn("YEAR", start.copy()))
        if unit.startswith("YEAR"):
            return years
        months = exp.Sub(this=_fn("MONTH", end.copy()), expression=_fn("MONTH", start.copy()))
        return exp.Add(this=exp.Mul(this=exp.Paren(this=years), expression=exp.Literal.number(12)), expression=months)
    return node


def _rewrite(node: Any) -> Any:
    if isinstance(node, exp.DateDiff):
        return _date_diff(node)
    if isinstance(node, exp.In) and node.args.get("query") is not None:
        return _in_query(node) or node
    if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.UBIGINT:
        return exp.DataType.build("BIGINT")
    if isinstance(node, exp.Cast) and node.to.this == exp.DataType.Type.UBIGINT and isinstance(node.this, exp.Literal):
        n = int(node.this.this)
        return exp.Cast(this=exp.Literal.number(n - (1 << 64) if n >= 1 << 63 else n), to=exp.DataType.build("BIGINT"))
    if isinstance(node, exp.Div):
        return _ieee_div(node.this, node.expression)
    if isinstance(node, exp.Avg) and not isinstance(node.this, exp.Distinct):
        return _ieee_div(exp.Sum(this=node.this.copy()), exp.Count(this=node.this.copy()))
    if isinstance(node, exp.Round) and node.args.get("decimals") is not None and node.this.meta.get("double"):
        return _duck_round(node.this, int(node.args["decimals"].this))
    if isinstance(node, exp.TryCast) and node.to.this in (*_TIMESTAMPS, exp.DataType.Type.DOUBLE):
        pattern = _ISO_TIMESTAMP if node.to.this in _TIMESTAMPS else _PLAIN_NUMBER
        return _guarded_cast(node.this, pattern, node.to)
    if isinstance(node, exp.RegexpFullMatch) and isinstance(node.expression, exp.Literal):
        return exp.RegexpLike(this=node.this, expression=exp.Literal.string(f"^(?:{node.expression.this})$"))
    if isinstance(node, exp.Anonymous):
        name = str(node.this).upper()
        args = node.expressions
        if name == "STRLEN":
            return _fn("OCTET_LENGTH", args[0])
        if name == "ISFINITE":
            x = args[0]
            return exp.and_(
                exp.not_(_fn("ISNAN", x.copy())), exp.NEQ(this=exp.Abs(this=x.copy()), expression=_INF.copy())
            )
        if name == "TRY_STRPTIME":
            formats = _literal_strings(args[1])
            if formats is not None:
                tries = [_fn("TRY_TO_TIMESTAMP", args[0].copy(), exp.Literal.string(java_pattern(f))) for f in formats]
                return exp.Coalesce(this=tries[0], expressions=tries[1:]) if len(tries) > 1 else tries[0]
    if isinstance(node, exp.StrToTime) and node.args.get("safe"):
        formats = _literal_strings(node.args["format"])
        if formats is not None:
            tries = [_fn("TRY_TO_TIMESTAMP", node.this.copy(), exp.Literal.string(java_pattern(f))) for f in formats]
            return exp.Coalesce(this=tries[0], expressions=tries[1:]) if len(tries) > 1 else tries[0]
    if isinstance(node, exp.Bracket) and len(node.expressions) == 1 and isinstance(node.expressions[0], exp.Slice):
        sl = node.expressions[0]
        start = sl.this if sl.this is not None else exp.Literal.number(1)
        arr = node.this
        length: Any
        if sl.expression is None:
            length = exp.Greatest(
                this=exp.Add(
                    this=exp.Sub(this=exp.ArraySize(this=arr.copy()), expression=start.copy()),
                    expression=exp.Literal.number(1),
                ),
                expressions=[exp.Literal.number(0)],
            )
        else:
            length = exp.Add(
                this=exp.Sub(this=sl.expression.copy(), expression=start.copy()), expression=exp.Literal.number(1)
            )
        return _fn("SLICE", arr, start, length)
    return node


def _expand_stars(tree: exp.Expression, columns_of: Columns) -> None:
    """`t.* EXCLUDE (a)` and `t.* REPLACE (e AS a)` as explicit column lists, in the relation's order."""
    for star_col in list(tree.find_all(exp.Column, exp.Star)):
        if isinstance(star_col, exp.Star) and isinstance(star_col.parent, exp.Column):
            continue  # t.*: handled as its column
        star = star_col.this if isinstance(star_col, exp.Column) else star_col
        if not isinstance(star, exp.Star) or not (star.args.get("except") or star.args.get("replace")):
            continue
        select = star_col.find_ancestor(exp.Select)
        assert select is not None
        qualifier = star_col.table if isinstance(star_col, exp.Column) else ""
        names = columns_of(_source_of(select, qualifier))
        excluded = {e.name.lower() for e in star.args.get("except") or []}
        replaced = {r.alias_or_name.lower(): r for r in star.args.get("replace") or []}
        items: list[exp.Expression] = []
        for name in names:
            if name.lower() in excluded:
                continue
            if name.lower() in replaced:
                items.append(replaced[name.lower()].copy())
            else:
                items.append(exp.column(name, table=qualifier or None, quoted=True))
        position = select.expressions.index(star_col)
        select.set("expressions", [*select.expressions[:position], *items, *select.expressions[position + 1 :]])


def _source_of(select: exp.Select, qualifier: str) -> exp.Expression:
    """A query over the relation `qualifier` names in `select` (its CTEs included), for its columns."""
    sources = []
    from_ = select.args.get("from_") or select.args.get("from")
    if from_ is not None:
        sources.append(from_.this)
    sources += [j.this for j in select.args.get("joins") or []]
    for src in sources:
        if not qualifier or src.alias_or_name == qualifier:
            query = exp.select("*").from_(src.copy())
            outer: Any = select
            while outer is not None:
                w = outer.args.get("with_") or outer.args.get("with")
                if w is not None:
                    query.set("with_" if "with_" in exp.Select.arg_types else "with", w.copy())
                    break
                outer = outer.parent.find_ancestor(exp.Select) if outer.parent is not None else None
            return query
    raise ValueError(f"cannot resolve {qualifier}.* in {select.sql('duckdb')[:200]}")


def to_spark_tree(tree: Any, columns_of: Columns | None = None) -> Any:
    """The DuckDB syntax tree `tree` rewritten for Spark (a copy)."""
    tree = tree.copy()
    if columns_of is not None:
        _expand_stars(tree, columns_of)
    # children first: a rewrite builds its node from arguments already rewritten
    for node in reversed(list(tree.walk(bfs=False))):
        new = _rewrite(node)
        if new is not node:
            if node is tree:
                tree = new
            else:
                node.replace(new)
    return tree


def to_spark(sql: str, columns_of: Columns | None = None) -> str:
    """One DuckDB statement (a query) as Spark SQL."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    return to_spark_tree(tree, columns_of).sql(dialect="spark")
