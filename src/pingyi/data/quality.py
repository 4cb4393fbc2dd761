"""Data-quality checks: every row of a bundle is either used or rejected with a reason.

Each table is checked in five dimensions (completeness, validity, consistency, uniqueness,
timeliness). A check is one SQL boolean over the typed row — TRUE failed, FALSE passed, NULL
not applicable — with a stable reason code, a dimension and a severity:

- `reject`: the row is not used; it is listed in `rejected` with the first failing reason and
  the others in `also`;
- `flag`: the row is used and the failure is counted in `quality` (a late upload feeds an
  indicator). A bad value in an *optional* column is a flag: the row is kept and that value is
  left empty in `clean_<table>`.

All checks of a table run as one SQL statement over `raw_<table>` (one scan); duplicates are then
found by one window pass, so a 10-million-row settlements table never passes through Python. Results
do not depend on the file format (every format is read as the same text) nor on row order: of two
different rows with the same key, the one kept is chosen by its content (smallest hash), not its position.

DuckDB objects created by `run_quality`:

- `qc_<table>`: every row read, with `_row`, the typed values
  `t_<column>`, the result of check i (`QualityResult.checks[table][i]`) as bit i of two masks (words
  `_a<w>`: applied, `_x<w>`: failed, 64 checks a word; checks.applied_sql, checks.failed_sql), `_reject`,
  `_flag`.
- `clean_<table>` (view over qc_<table>): the used rows, typed (DECIMAL(16,2) money, TIMESTAMP,
  INTEGER, DOUBLE, VARCHAR codes) and named as in the bundle, with `_row` (data row number in the
  file) and `year` (from the table's year column; NULL for providers and drg_groups);
  `clean_setl_lists.late_upload` BOOLEAN.
- `quality`: fixmedins_code, table, check, column, dimension, reason_code, severity, failed,
  checked, rate — one row per provider x table x check that applied to at least one row.
- `rejected`: table, row, column, reason_code, message, also — one row per rejected row. No
  PII value is ever part of a message.
- `quality_counts`: table, file, format, read, used, rejected, flagged (read = used + rejected).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pingyi.data.bundle import Bundle
from pingyi.data.checks import (
    CLEAN_TYPES,
    EXPONENT_HINT,
    IN_PROVIDERS,
    TRIM_CHARS,
    Check,
    ValueRanges,
    applied_sql,
    clean_expr,
    f_col,
    failed_sql,
    mask_sql,
    p_col,
    parse_sql,
    provider_sql,
    refund_sql,
    t_col,
    table_checks,
    typed_sql,
    v_col,
)
from pingyi.data.contract import TABLES, TableSpec
from pingyi.data.read import reading_inputs
from pingyi.data.sql import ident, lit
from pingyi.errors import PingyiError
from pingyi.files import copy_atomic
from pingyi.spec.models import DataSettings


@dataclass(frozen=True)
class TableCounts:
    table: str
    file: str
    format: str
    read: int
    used: int
    rejected: int
    flagged: int


@dataclass(frozen=True)
class CheckTotal:
    """One check's failures over all providers (the committee's and the CLI's top failures)."""

    table: str
    check: str
    reason_code: str
    severity: str
    failed: int
    checked: int

    @property
    def rate(self) -> float:
        return self.failed / self.checked if self.checked else 0.0

    def as_json(self) -> dict[str, object]:
        """The check as results.json and `pingyi quality --json` give it."""
        return {
            "table": self.table, "check": self.check, "reason_code": self.reason_code, "severity": self.severity,
            "failed": self.failed, "checked": self.checked, "rate": self.rate,
        }  # fmt: skip


@dataclass(frozen=True)
class ProviderCheck:
    """One check that failed on at least one row of one provider (the card's data-quality notes)."""

    table: str
    check: str
    reason_code: str
    dimension: str
    severity: str
    failed: int
    checked: int


@dataclass(frozen=True)
class ProviderQuality:
    rejected: int
    flagged: int
    checks: tuple[ProviderCheck, ...]


@dataclass(frozen=True)
class QualityResult:
    """What the quality stage found: row counts per table, the checks that ran, the failures per provider
    and overall, and its two result files (quality.csv, rejected.csv), already written to `files`' folder.
    Later stages use these and never query the quality tables in DuckDB."""

    year: int
    settings: DataSettings
    counts: Mapping[str, TableCounts]
    checks: Mapping[str, tuple[Check, ...]]
    top: tuple[CheckTotal, ...]  # the ten checks with the most failures
    by_provider: Mapping[str, ProviderQuality]
    files: tuple[Path, ...]  # quality.csv, rejected.csv
    # rows per year of each dated table's year column, over every row read (the run's year guard)
    years: Mapping[str, Mapping[int, int]] = field(default_factory=dict)

    def top_failures(self, n: int = 10) -> list[CheckTotal]:
        return list(self.top[:n])

    def write(self, out_dir: Path) -> list[Path]:
        """Copy quality.csv and rejected.csv into `out_dir`."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        written = []
        for path in self.files:
            target = out_dir / path.name
            if target.resolve() != path.resolve():
                copy_atomic(path, target)
            written.append(target)
        return written


# --------------------------------------------------------------------------- the run


def run_quality(
    bundle: Bundle,
    settings: DataSettings | None = None,
    year: int | None = None,
    out_dir: Path | None = None,
    value_ranges: ValueRanges | None = None,
) -> QualityResult:
    """Check every table of `bundle`; build clean_<table>, quality, rejected and quality_counts, and write
    quality.csv and rejected.csv (UTF-8, deterministic order) to `out_dir` (default: the bundle's
    working directory, which lives as long as the bundle)."""
    settings = settings or bundle.settings or DataSettings()
    year = int(year if year is not None else bundle.year)  # type: ignore[arg-type]
    con = bundle.con
    con.execute("""CREATE OR REPLACE TABLE quality (fixmedins_code VARCHAR, "table" VARCHAR, "check" VARCHAR,
        "column" VARCHAR, dimension VARCHAR, reason_code VARCHAR, severity VARCHAR, failed BIGINT, checked BIGINT,
        rate DOUBLE)""")
    con.execute("""CREATE OR REPLACE TABLE rejected ("table" VARCHAR, "row" BIGINT, "column" VARCHAR,
        reason_code VARCHAR, message VARCHAR, also VARCHAR)""")
    counts: dict[str, TableCounts] = {}
    all_checks: dict[str, tuple[Check, ...]] = {}
    with reading_inputs(bundle.tables.values()):  # the first scans of the (lazily read) Parquet files
        for spec in TABLES.values():
            _stop_on_unknown_codes(bundle, spec, settings)
        for spec in TABLES.values():
            checks = table_checks(spec, settings, year, value_ranges)
            all_checks[spec.name] = tuple(checks)
            counts[spec.name] = _check_table(bundle, spec, checks, settings)
    rows = [(c.table, c.file, c.format, c.read, c.used, c.rejected, c.flagged) for c in counts.values()]
    con.execute("""CREATE OR REPLACE TABLE quality_counts ("table" VARCHAR, file VARCHAR, format VARCHAR,
        "read" BIGINT, used BIGINT, rejected BIGINT, flagged BIGINT)""")
    con.executemany("INSERT INTO quality_counts VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    folder = Path(out_dir) if out_dir is not None else bundle.workdir / "quality"
    return QualityResult(
        year=year,
        settings=settings,
        counts=counts,
        checks=all_checks,
        top=_top_failures(con),
        by_provider=_by_provider(con),
        files=_write_files(con, folder),
        years=_years(con, counts),
    )


def _years(con: Any, counts: Mapping[str, TableCounts]) -> dict[str, dict[int, int]]:
    out: dict[str, dict[int, int]] = {}
    for spec in TABLES.values():
        if spec.year_column is None or counts[spec.name].read == 0:
            continue
        col = t_col(spec.year_column)
        of = f"year({col})" if spec.column(spec.year_column).type in ("datetime", "date") else col
        rows = con.execute(
            f"SELECT {of} AS y, count(*) FROM qc_{spec.name} WHERE {col} IS NOT NULL GROUP BY y ORDER BY y"
        )
        out[spec.name] = {int(y): int(n) for y, n in rows.fetchall()}
    return out


def _stop_on_unknown_codes(bundle: Bundle, spec: TableSpec, settings: DataSettings, shown_rows: int = 5) -> None:
    """A `stop_unknown` column (providers.hosp_lv) with a value outside its code table and spellings
    stops the run with one error naming the file, each value, its rows and what is expected: rejecting
    the row instead would silently drop the provider and everything it did from the scores."""
    info = bundle.tables[spec.name]
    for col in (c for c in spec.columns if c.stop_unknown):
        codes = col.code_table(settings) or ()
        if info.rows == 0 or not codes:
            continue
        v = v_col(col.name)
        found = bundle.con.execute(f"""SELECT left({v}, 40), count(*), list(_row ORDER BY _row)[1:{shown_rows}]
            FROM ({_values(spec, f"raw_{spec.name}")}) WHERE {v} IS NOT NULL AND {v} NOT IN ({", ".join(map(lit, codes))})
            GROUP BY {v} ORDER BY min(_row) LIMIT 5""").fetchall()
        if not found:
            continue
        parts = []
        for value, n, rows in found:
            listed = ", ".join(str(r) for r in rows) + (", …" if n > len(rows) else "")
            parts.append(f"'{value}' ({n} row{'s' if n != 1 else ''}: data row{'s' if n != 1 else ''} {listed})")
        if len(parts) == 1:
            what = f"{col.name} {parts[0]} is not {col.stop_unknown}"
        else:
            what = f"{col.name} values that are not {col.stop_unknown}: {', '.join(parts)}"
        aliases = col.alias_table(settings)
        base = [c for c in codes if c not in aliases]
        expected = ", ".join(base[:-1]) + " or " + base[-1] if len(base) > 1 else base[0]
        if col.settings_aliases is None:
            raise PingyiError(f"{info.file}: {what}; expected {expected}")
        setting = col.settings_aliases
        raise PingyiError(
            f"{info.file}: {what}; expected {expected}, or a spelling listed in data.yaml {setting} "
            f"(now: {', '.join(aliases) or 'none'}); add the value to {setting} in the project's data.yaml, "
            f"mapped to one of {', '.join(base)}"
        )


def _top_failures(con: Any, n: int = 10) -> tuple[CheckTotal, ...]:
    rows = con.execute(f"""
        SELECT "table", "check", reason_code, severity, sum(failed) AS failed, sum(checked) AS checked
        FROM quality GROUP BY ALL HAVING sum(failed) > 0
        ORDER BY failed DESC, "table", "check" LIMIT {int(n)}""").fetchall()
    return tuple(CheckTotal(t, c, r, s, int(f), int(k)) for t, c, r, s, f, k in rows)


def _by_provider(con: Any) -> dict[str, ProviderQuality]:
    rows = con.execute("""
        SELECT fixmedins_code, "table", "check", reason_code, dimension, severity, failed, checked
        FROM quality WHERE fixmedins_code IS NOT NULL AND failed > 0
        ORDER BY fixmedins_code, "table", "check", reason_code""").fetchall()
    grouped: dict[str, list[ProviderCheck]] = {}
    for code, table, check, reason, dimension, severity, failed, checked in rows:
        grouped.setdefault(code, []).append(
            ProviderCheck(table, check, reason, dimension, severity, int(failed), int(checked))
        )
    return {
        code: ProviderQuality(
            rejected=sum(c.failed for c in checks if c.severity == "reject"),
            flagged=sum(c.failed for c in checks if c.severity != "reject"),
            checks=tuple(checks),
        )
        for code, checks in grouped.items()
    }


def _write_files(con: Any, folder: Path) -> tuple[Path, ...]:
    folder.mkdir(parents=True, exist_ok=True)
    q, r = folder / "quality.csv", folder / "rejected.csv"
    con.execute(f"""COPY (SELECT * FROM quality ORDER BY "table", fixmedins_code NULLS FIRST, "check")
        TO {lit(str(q))} (FORMAT csv, HEADER true)""")
    con.execute(f"""COPY (SELECT * FROM rejected ORDER BY "table", "row")
        TO {lit(str(r))} (FORMAT csv, HEADER true)""")
    return (q, r)


def _trimmed(col: str) -> str:
    """The value without surrounding blanks (incl. full-width and no-break spaces); '' -> NULL.
    Trimming with a character set is slow, so it only runs on rows where `_blanks` (see _values)
    may hold a value that starts or ends with a blank; elsewhere it would change nothing."""
    c = f"CAST({ident(col)} AS VARCHAR)"
    return f"NULLIF(CASE WHEN _blanks THEN trim({c}, {lit(TRIM_CHARS)}) ELSE {c} END, '')"


def _values(spec: TableSpec, source: str, exponent_hint: bool = False) -> str:
    """`_row` and v_<column> (the trimmed text of every declared column) of `source`.

    `_blanks` must be TRUE on every row where some value starts or ends with a character of
    TRIM_CHARS (it may be TRUE elsewhere: trimming such a row changes nothing). The row's values are
    joined with the unit separator, one also at each end, so a space at a value's edge is a space next
    to a separator: two substring searches. The other blanks (tab, CR, LF, full-width and no-break
    spaces) are rare in exports, so any occurrence of one anywhere in the row trims the row. Plain
    substring searches cost a fraction of one regular expression over the row.

    `exponent_hint` adds checks.EXPONENT_HINT: whether some value of the row holds 'e' or 'E' (two
    searches of the joined row instead of two per money value)."""
    joined = (
        "concat(chr(31), concat_ws(chr(31), "
        + ", ".join(f"coalesce(CAST({ident(c)} AS VARCHAR), '')" for c in spec.names)
        + "), chr(31))"
    )
    edge = ["contains(_j, chr(31) || ' ')", "contains(_j, ' ' || chr(31))"]
    rare = [f"contains(_j, chr({ord(ch)}))" for ch in TRIM_CHARS if ch != " "]
    blanks = " OR ".join(edge + rare)
    values = ", ".join(f"{_trimmed(c)} AS {v_col(c)}" for c in spec.names)
    if exponent_hint:
        values += f", (contains(_j, 'e') OR contains(_j, 'E')) AS {EXPONENT_HINT}"
    return f"SELECT _row, {values} FROM (SELECT *, ({blanks}) AS _blanks FROM (SELECT *, {joined} AS _j FROM {source}))"


def _check_table(bundle: Bundle, spec: TableSpec, checks: list[Check], settings: DataSettings) -> TableCounts:
    """One table: qc_<table> (typed values t_*, check results as masks, _reject, _flag) in one statement;
    then quality rows from one aggregate, rejected rows with messages, and the clean_<table> view."""
    con, t = bundle.con, spec.name
    info = bundle.tables[t]
    numbered = list(enumerate(checks))
    assert len({ch.name for ch in checks}) == len(checks), f"check names of {t} must be unique"
    if info.rows == 0:
        return _empty_clean(con, spec, info)
    money = any(c.type == "money" for c in spec.columns)
    hint = EXPONENT_HINT if money else None
    level2 = ", ".join(f"{parse_sql(c, settings, hint)} AS {p_col(c.name)}" for c in spec.columns)
    level2b = ", ".join(f"{typed_sql(c)} AS {t_col(c.name)}" for c in spec.columns)
    phase1 = [(i, ch) for i, ch in numbered if ch.phase == 1]
    phase2 = [(i, ch) for i, ch in numbered if ch.phase == 2]
    level3 = "".join(f", ({ch.sql}) AS {f_col(i)}" for i, ch in phase1)

    def any_true(pairs: list[tuple[int, Check]], severity: str) -> str:
        return " OR ".join(f"{f_col(i)} IS TRUE" for i, ch in pairs if ch.severity == severity) or "false"

    keep_dup = ", NULL::BIGINT AS _dupfirst" if spec.key else ""
    level5 = "".join(f", ({ch.sql}) AS {f_col(i)}" for i, ch in phase2)
    # each list of checks is ORed once, phase 1 in its own level: _rej1 is needed by the phase-2 checks,
    # and the failure mask, _reject and _flag reuse both instead of ORing every check again
    reject_all = f"_rej1 OR ({any_true(phase2, 'reject')})"
    flag_all = f"_flag1 OR ({any_true(phase2, 'flag')})"
    # the provider of a row is its typed fixmedins_code, which is its text (no spellings to map): not
    # stored twice
    if "fixmedins_code" in spec.names:
        assert spec.column("fixmedins_code").settings_aliases is None and spec.column("fixmedins_code").type == "str"
    prov = t_col("fixmedins_code") if "fixmedins_code" in spec.names else "NULL::VARCHAR"
    refund = refund_sql(spec, settings)
    refund = f", {refund} AS _refund" if refund is not None else ""
    in_providers = provider_sql(spec)
    if in_providers is not None:
        refund += f", {in_providers} AS {IN_PROVIDERS}"
    # the check results as two bit masks (applied, failed) of 64 checks per word, not one BOOLEAN column
    # per check: the table holds the typed values and 16 bytes a row per 64 checks
    words = range((len(numbered) + 63) // 64)
    indices = [i for i, _ in numbered]
    applies = {i: ch.applies for i, ch in numbered}
    # most rows fail no check: their failure mask is 0 without building it bit by bit
    masks = [
        f"{mask_sql(indices, w, 'a', applies)} AS _a{w}, "
        f"CASE WHEN _reject OR _flag THEN {mask_sql(indices, w, 'x')} ELSE CAST(0 AS UBIGINT) END AS _x{w}"
        for w in words
    ]
    keep = ", ".join([t_col(c) for c in spec.names] + masks)
    con.execute(f"""CREATE OR REPLACE TABLE qc_{t} AS
        SELECT _row, {keep}{keep_dup}, _reject, _flag FROM (
         SELECT *, ({reject_all}) AS _reject, ({flag_all}) AS _flag FROM (
          SELECT *{level5} FROM (
            SELECT *, ({any_true(phase1, "reject")}) AS _rej1, ({any_true(phase1, "flag")}) AS _flag1 FROM (
              SELECT *{level3} FROM (
                SELECT *, {level2b} FROM (
                  SELECT *, {level2}{refund} FROM (
                    {_values(spec, f"raw_{t}", exponent_hint=money)})))))))""")
    for i, _ch in phase2:
        _mark_duplicates(con, t, spec.key, i, spec.names)

    # quality: rows counted per provider and combination of masks (few), then per check; unpivoted to
    # one row per provider x check
    mask_cols = ", ".join(f"_{k}{w}" for w in words for k in ("a", "x"))
    aggs = ", ".join(
        f"CAST(coalesce(sum(_n) FILTER (WHERE {applied_sql(i)}), 0) AS BIGINT) AS c_{i}, "
        f"CAST(coalesce(sum(_n) FILTER (WHERE {failed_sql(i)}), 0) AS BIGINT) AS x_{i}"
        for i, _ in numbered
    )
    combos = f"(SELECT {prov} AS _prov, {mask_cols}, count(*) AS _n FROM qc_{t} GROUP BY ALL)"
    meta = ", ".join(
        f"({i}, {lit(ch.name)}, {lit(ch.column)}, {lit(ch.dimension)}, {lit(ch.reason_code)}, {lit(ch.severity)})"
        for i, ch in numbered
    )
    cells = ", ".join(f"{{'i': {i}, 'x': x_{i}, 'c': c_{i}}}" for i, _ in numbered)
    con.execute(f"""INSERT INTO quality
        SELECT u._prov, {lit(t)}, m.name, m.col, m.dim, m.reason, m.sev, u.s.x, u.s.c, round(u.s.x / u.s.c, 6)
        FROM (SELECT _prov, unnest([{cells}]) AS s FROM (SELECT _prov, {aggs} FROM {combos} GROUP BY _prov)) u
        JOIN (VALUES {meta}) m(i, name, col, dim, reason, sev) ON m.i = u.s.i
        WHERE u.s.c > 0""")
    failing_names = {
        r[0]
        for r in con.execute(
            f'SELECT "check" FROM quality WHERE "table" = {lit(t)} GROUP BY 1 HAVING sum(failed) > 0'
        ).fetchall()
    }
    if info.malformed:
        con.execute(f"""INSERT INTO quality VALUES (NULL, {lit(t)}, 'row structure', '', 'validity', 'malformed_row',
                        'reject', {info.malformed}, {info.rows}, round({info.malformed} / {info.rows}, 6))""")

    # rejected: first failing reason, the others in `also`. Only checks that failed somewhere take
    # part (the order of reasons is unchanged); messages use the text as read, joined back by _row
    # for the rejected rows only.
    rejects = [(i, ch) for i, ch in numbered if ch.severity == "reject" and ch.name in failing_names]
    if rejects:
        col = "CASE " + " ".join(f"WHEN {failed_sql(i)} THEN {lit(ch.column)}" for i, ch in rejects) + " END"
        code = "CASE " + " ".join(f"WHEN {failed_sql(i)} THEN {lit(ch.reason_code)}" for i, ch in rejects) + " END"
        msg = "CASE " + " ".join(f"WHEN {failed_sql(i)} THEN {ch.message}" for i, ch in rejects) + " END"
        items = ", ".join(
            f"CASE WHEN {failed_sql(i)} THEN {lit(ch.reason_code + ':' + ch.column)} END" for i, ch in rejects
        )
        also = f"array_to_string(list_filter([{items}], lambda x: x IS NOT NULL)[2:], '; ')"
        con.execute(f"""INSERT INTO rejected SELECT {lit(t)}, _row, {col}, {code}, {msg}, {also}
                        FROM (SELECT * FROM qc_{t} WHERE _reject) q
                        JOIN ({_values(spec, f"(SELECT * FROM raw_{t} SEMI JOIN (SELECT _row AS _r FROM qc_{t} WHERE _reject) ON _row = _r)")}) r
                        USING (_row)""")
    # a CSV line DuckDB could not split (error: its error types), a JSON Lines line that is not an object
    # (error: "line N: ..." from read.py); neither shows the line's content, which may hold PII
    what = (
        "the line is not a JSON object: "
        if info.format == "json"
        else "the line cannot be split into the header's columns: "
    )
    con.execute(f"""INSERT INTO rejected SELECT {lit(t)}, _row, '', 'malformed_row',
                    {lit(what)} || error, '' FROM malformed_{t}""")

    # clean: a view of the used rows, typed, named as in the bundle
    year_expr = _clean_prefix(spec)
    cols = ", ".join(f"{clean_expr(c, numbered)} AS {ident(c.name)}" for c in spec.columns)
    extra = ""
    if t == "setl_lists":
        late = next(i for i, ch in numbered if ch.reason_code == "late_upload")
        extra = f", {failed_sql(late)} AS late_upload"
    con.execute(f"""CREATE OR REPLACE VIEW clean_{t} AS
        SELECT _row, {year_expr}{cols}{extra} FROM qc_{t} WHERE NOT _reject""")

    used, flagged = _one(con, f"SELECT count_if(NOT _reject), count_if(NOT _reject AND _flag) FROM qc_{t}")
    (rejected,) = _one(con, f'SELECT count(*) FROM rejected WHERE "table" = {lit(t)}')
    if info.rows != used + rejected:
        raise RuntimeError(f"internal error: {t}: read {info.rows} rows but used {used} + rejected {rejected}")
    return TableCounts(
        table=t, file=info.file, format=info.format or "", read=info.rows, used=used, rejected=rejected, flagged=flagged
    )


def _one(con: Any, sql: str) -> tuple[Any, ...]:
    """The one row an aggregate query returns."""
    row = con.execute(sql).fetchone()
    assert row is not None
    return tuple(row)


def _mark_duplicates(con, t: str, key: tuple[str, ...], check: int, columns: tuple[str, ...]) -> None:
    """Among rows where the uniqueness check (number `check`) applies (every other reject check
    passed, key present), one row per key is kept and the others are rejected.

    The kept row is chosen by its *content* (smallest hash of all its typed values, then row number
    for identical rows), never by its position, so shuffling a file cannot change which row counts."""
    cols = [t_col(k) for k in key]
    content = ", ".join(f"coalesce(CAST({t_col(c)} AS VARCHAR), '')" for c in columns)
    applied = applied_sql(check)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _dups AS
        WITH k AS (  -- the keys that repeat: only their rows need a content hash
            SELECT {", ".join(cols)} FROM qc_{t} WHERE {applied} GROUP BY ALL HAVING count(*) > 1
        ), c AS (
            SELECT _row, {", ".join(cols)}, md5(concat_ws(chr(31), {content})) AS _content
            FROM qc_{t} JOIN k USING ({", ".join(cols)}) WHERE {applied}
        ), ranked AS (
            SELECT _row,
                   row_number() OVER (PARTITION BY {", ".join(cols)} ORDER BY _content, _row) AS _rank,
                   first_value(_row) OVER (PARTITION BY {", ".join(cols)} ORDER BY _content, _row) AS _first
            FROM c
        )
        SELECT _row, _first FROM ranked WHERE _rank > 1""")
    word = f"_x{check // 64}"
    con.execute(f"""UPDATE qc_{t} SET {word} = {word} | CAST({1 << (check % 64)} AS UBIGINT), _reject = true,
        _dupfirst = _dups._first
        FROM _dups WHERE qc_{t}._row = _dups._row""")
    con.execute("DROP TABLE _dups")


def _clean_prefix(spec: TableSpec) -> str:
    if spec.year_column is None:
        return "NULL::INTEGER AS year, "
    return "" if spec.year_column == "year" else f"CAST(year({t_col(spec.year_column)}) AS INTEGER) AS year, "


def _empty_clean(con, spec: TableSpec, info) -> TableCounts:
    """An absent (or empty) table: clean_<table> with the typed columns and no rows."""
    cols = ", ".join(f"NULL::{CLEAN_TYPES[c.type]} AS {ident(c.name)}" for c in spec.columns)
    year = "" if spec.year_column == "year" else "NULL::INTEGER AS year, "
    extra = ", NULL::BOOLEAN AS late_upload" if spec.name == "setl_lists" else ""
    con.execute(f"CREATE OR REPLACE VIEW clean_{spec.name} AS SELECT NULL::BIGINT AS _row, {year}{cols}{extra} LIMIT 0")
    return TableCounts(table=spec.name, file=info.file, format=info.format or "", read=0, used=0, rejected=0, flagged=0)
