"""The months a monitoring run looks at: `--through YYYY-MM` read and checked, the months of the
evaluation year the bundle's settlements hold, and the raw rows of later months taken out before the
quality stage (so the run sees exactly what a bundle holding only those months would hold).

Rows are dated by each table's year column (docs/data-bundle.md): settlements and settlement lists by
setl_time, fee items by fee_ocur_time, audit flags by flag_time, parsed as the quality stage parses
them. Only rows of the evaluation year dated after the month are taken out: the prior year stays whole
(it is the year the growth indicators compare with), and a row whose time does not parse stays to be
rejected by the quality stage as it would be in any bundle. Provider reports and expert scores are
yearly (an int year column) and stay as they are.
"""

from __future__ import annotations

import re

from pingyi.data.bundle import Bundle
from pingyi.data.checks import parse_sql
from pingyi.data.contract import TABLES
from pingyi.data.sql import ident
from pingyi.errors import PingyiError
from pingyi.spec.models import DataSettings

MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")
# table -> the datetime column that dates its rows
DATED: dict[str, str] = {
    name: spec.year_column
    for name, spec in TABLES.items()
    if spec.year_column is not None and spec.column(spec.year_column).type in ("datetime", "date")
}


def parse_through(text: str, year: int) -> int:
    """The month of `--through YYYY-MM`, which must lie in the evaluation year."""
    m = MONTH.match(text.strip()) if isinstance(text, str) else None
    if m is None or not 1 <= int(m.group(2)) <= 12:
        raise PingyiError(f"--through {text!r} is not a month; expected YYYY-MM, e.g. {year}-06")
    if int(m.group(1)) != year:
        raise PingyiError(
            f"--through {text} is outside the evaluation year {year}; expected a month {year}-01 to {year}-12 "
            "(or pass --year)"
        )
    return int(m.group(2))


def month_text(year: int, month: int) -> str:
    return f"{year}-{month:02d}"


def _parsed(table: str, settings: DataSettings) -> str:
    """SELECT of `_row` and the parsed time `p` of every raw row of a dated table."""
    col = DATED[table]
    spec = TABLES[table].column(col)
    return (
        f"SELECT _row, {parse_sql(spec, settings)} AS p "
        f"FROM (SELECT _row, {ident(col)} AS {ident('v_' + col)} FROM raw_{table})"
    )


def _dated(bundle: Bundle, table: str) -> str:
    """A temp table `_monitor_dated_<table>` (_row, y, m) of the parsed year and month of every raw row,
    parsed once (the quality stage parses again: the data's own checks stay its own)."""
    name = f"_monitor_dated_{table}"
    assert bundle.settings is not None
    bundle.con.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {name} AS "
        f"SELECT _row, year(p) AS y, month(p) AS m FROM ({_parsed(table, bundle.settings)}) WHERE p IS NOT NULL"
    )
    return name


def months_held(bundle: Bundle, year: int) -> list[int]:
    """The months of `year` in which the bundle's settlements are dated."""
    rows = bundle.con.execute(
        f"SELECT DISTINCT m FROM {_dated(bundle, 'settlements')} WHERE y = ? ORDER BY 1", [year]
    ).fetchall()
    return [int(r[0]) for r in rows]


def held_text(year: int, months: list[int]) -> str:
    if not months:
        return f"no settlements dated in {year}"
    return "settlements of " + ", ".join(month_text(year, m) for m in months)


def keep_through(bundle: Bundle, year: int, month: int) -> None:
    """Take out the raw rows of `year` dated after `month`; refused when the month has no settlements."""
    con = bundle.con
    # these statements scan whole tables: DuckDB would draw its progress bar on the command's output
    con.execute("SET enable_progress_bar = false")
    try:
        _keep_through(bundle, year, month)
    finally:
        con.execute("RESET enable_progress_bar")


def _keep_through(bundle: Bundle, year: int, month: int) -> None:
    held = months_held(bundle, year)
    if month not in held:
        raise PingyiError(
            f"--through {month_text(year, month)}: {bundle.data_dir} holds no settlements dated in that month; "
            f"it holds {held_text(year, held)}; expected a month with data"
        )
    con = bundle.con
    for table in sorted(DATED):
        info = bundle.tables.get(table)
        if info is None or not info.present:
            continue
        dated = _dated(bundle, table)
        gone = f"_monitor_gone_{table}"
        con.execute(f"CREATE TEMP TABLE {gone} AS SELECT _row FROM {dated} WHERE y = {int(year)} AND m > {int(month)}")
        count = con.execute(f"SELECT count(*) FROM {gone}").fetchone()
        if not count or not count[0]:
            continue
        # raw_<table> is a view over the file or a table, depending on the format: replaced by a table of
        # the rows kept, in file order
        kind = con.execute(
            "SELECT table_type FROM information_schema.tables WHERE table_name = ?", [f"raw_{table}"]
        ).fetchone()
        con.execute(
            f"CREATE TABLE _monitor_{table} AS SELECT r.* FROM raw_{table} r ANTI JOIN {gone} g ON r._row = g._row "
            "ORDER BY r._row"
        )
        con.execute(f"DROP {'VIEW' if kind and kind[0] == 'VIEW' else 'TABLE'} raw_{table}")
        con.execute(f"ALTER TABLE _monitor_{table} RENAME TO raw_{table}")
        # the quality stage reports rows read from these counts: as a bundle cut at the month would
        info.rows -= int(count[0])
