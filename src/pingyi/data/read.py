"""The readers of one table file (CSV, JSON, Parquet; XLSX and XML in pingyi.data.sheets) into
`raw_<table>` (text columns, `_row` in file order) and `malformed_<table>` (CSV lines that cannot be
split into the header's columns, JSON Lines lines that are not a JSON object), with the file's hash, encoding and columns in its `TableInfo`.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pingyi.data.contract import CONTRACT, TABLES, TableSpec
from pingyi.data.encoding import utf8_source
from pingyi.data.sql import ident, lit
from pingyi.errors import PingyiError


@dataclass
class TableInfo:
    """What was read for one table. `rows` counts every data row in the file (malformed included)."""

    table: str
    path: Path | None = None
    format: str | None = None
    rows: int = 0
    sha256: str | None = None
    encoding: str | None = None
    columns: tuple[str, ...] = ()  # declared columns present in the file
    extra_columns: tuple[str, ...] = ()  # columns in the file that are not in the schema (not read)
    malformed: int = 0  # CSV lines not split into the header's columns, JSON Lines lines not an object

    @property
    def present(self) -> bool:
        return self.path is not None

    @property
    def file(self) -> str:
        return self.path.name if self.path is not None else ""


def match_columns(spec: TableSpec, found: list[str], file: str, check_required: bool = True) -> dict[str, str]:
    """Map declared column -> column name in the file (case-insensitive, surrounding blanks ignored)."""
    wanted = {c.lower(): c for c in spec.names}
    mapping: dict[str, str] = {}
    for name in found:
        key = str(name).strip().lstrip("\ufeff").lower()
        declared = wanted.get(key)
        if declared is None:
            continue
        if declared in mapping:
            raise PingyiError(
                f"{file}: column '{declared}' appears twice (as '{mapping[declared]}' and '{name}'); "
                f"expected each column once"
            )
        mapping[declared] = name
    if check_required:
        missing = [c for c in spec.required_columns if c not in mapping]
        if missing:
            quoted = ", ".join(f"'{c}'" for c in missing)
            what = f"required column {quoted} is" if len(missing) == 1 else f"required columns {quoted} are"
            shown = ", ".join(str(f) for f in found) or "none"
            raise PingyiError(
                f"{file}: {what} missing; found columns: {shown}; expected the platform field codes in {CONTRACT}"
            )
    return mapping


def extra_columns(spec: TableSpec, found: Iterable[str], mapping: dict[str, str]) -> tuple[str, ...]:
    used = set(mapping.values())
    return tuple(str(f) for f in found if f not in used)


def select_list(spec: TableSpec, mapping: dict[str, str]) -> str:
    return ", ".join(
        f"CAST({ident(mapping[c])} AS VARCHAR) AS {ident(c)}" if c in mapping else f"NULL::VARCHAR AS {ident(c)}"
        for c in spec.names
    )


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def damaged(path: Path, fmt: str, exc: BaseException) -> PingyiError:
    """The message for an input file its reader cannot decode (a corrupt page, a truncated file)."""
    return PingyiError(
        f"{path.name}: the file is damaged and cannot be read as {fmt.upper()} ({first_line(exc)}); "
        f"expected a complete {fmt.upper()} file: re-export it from the platform (or copy it again)"
    )


@contextmanager
def reading_inputs(tables: Iterable[TableInfo]) -> Iterator[None]:
    """Around a statement that scans the input files: Parquet is read lazily (a view), so a damaged data
    page shows only when a later statement decodes it. DuckDB's error for that names the file; any
    other error (a bug in pingyi's SQL) goes through unchanged."""
    try:
        yield
    except (duckdb.IOException, duckdb.InvalidInputException) as exc:
        text = str(exc)
        for info in tables:
            if info.path is not None and str(info.path) in text:
                raise damaged(info.path, info.format or info.path.suffix.lstrip("."), exc) from exc
        raise


# --------------------------------------------------------------------------- text encodings


def _utf8_source(path: Path, tmp: Path, info: TableInfo, encoding: str | None) -> Path:
    """The UTF-8 file to read for a text table (pingyi.data.encoding); records its hash and encoding."""
    source = utf8_source(path, tmp / f"{info.table}.utf8{path.suffix.lower()}", encoding)
    info.sha256, info.encoding = source.sha256, source.encoding
    return source.path


# --------------------------------------------------------------------------- readers


def read_csv(con, spec: TableSpec, path: Path, tmp: Path, info: TableInfo, encoding: str | None = None) -> None:
    """The dialect comes from the header line alone (delimiter , tab ; or |, double quotes), so a
    few bad data lines never change how the good ones are split. `encoding` overrides the detection
    of a file that is not UTF-8 (pingyi.data.encoding)."""
    src = _utf8_source(path, tmp, info, encoding)
    if src.stat().st_size == 0 or not _has_text(src):
        raise PingyiError(
            f"{path.name}: the file is empty; expected a header row with the platform field codes ({CONTRACT})"
        )
    with open(src, encoding="utf-8-sig", newline="") as fh:
        first = fh.readline()
    delim = max(",\t;|", key=lambda d: (first.count(d), d == ","))
    found = next(csv.reader([first.rstrip("\r\n")], delimiter=delim, quotechar='"'))
    mapping = match_columns(spec, found, path.name)
    info.columns = tuple(c for c in spec.names if c in mapping)
    info.extra_columns = extra_columns(spec, found, mapping)
    # positional names for DuckDB (the file's own names may repeat or be empty)
    positional = [f"c{i}" for i in range(len(found))]
    by_pos = {c: positional[found.index(mapping[c])] for c in info.columns}
    columns = "{" + ", ".join(f"'{p}': 'VARCHAR'" for p in positional) + "}"
    opts = (
        f"header = true, auto_detect = false, delim = {lit(delim)}, quote = '\"', escape = '\"', "
        f"columns = {columns}, null_padding = false"
    )
    t = spec.name
    rej = f"_rej_{t}"
    con.execute(
        f"CREATE TABLE _load_{t} AS SELECT {select_list(spec, by_pos)} FROM read_csv({lit(str(src))}, "
        f"{opts}, store_rejects = true, rejects_table = '{rej}', rejects_scan = '_rejscan_{t}')"
    )
    # DuckDB records one line per error; a line is one data row when no quoted value spans lines
    con.execute(
        f"CREATE TABLE malformed_{t} AS SELECT CAST(line - 1 AS BIGINT) AS _row, "
        f"string_agg(DISTINCT lower(CAST(error_type AS VARCHAR)), ', ' ORDER BY lower(CAST(error_type AS VARCHAR))) "
        f"AS error FROM {rej} GROUP BY line"
    )
    con.execute(f"DROP TABLE {rej}")
    con.execute(f"DROP TABLE _rejscan_{t}")
    _number_rows(con, t)


def _has_text(path: Path) -> bool:
    with open(path, "rb") as fh:
        return bool(fh.read(4096).strip(b" \t\r\n\xef\xbb\xbf"))


def _number_rows(con, t: str) -> None:
    """raw_<t> = _load_<t> numbered in insertion (= file) order, skipping the numbers of malformed rows.

    The k-th accepted row sits at data row k + #{j : r_j - j < k}, r_1 < r_2 < … the malformed rows.
    """
    cols = ", ".join(ident(c) for c in TABLES[t].names)
    if con.execute(f"SELECT count(*) FROM malformed_{t}").fetchone()[0] == 0:
        con.execute(f"CREATE VIEW raw_{t} AS SELECT CAST(rowid + 1 AS BIGINT) AS _row, {cols} FROM _load_{t}")
        return
    con.execute(f"""CREATE TABLE raw_{t} AS
        WITH shifts AS (
            SELECT _row - j AS below, max(j) AS shift
            FROM (SELECT _row, row_number() OVER (ORDER BY _row) AS j FROM malformed_{t})
            GROUP BY _row - j),
        loaded AS (SELECT rowid + 1 AS k, * FROM _load_{t})
        SELECT CAST(loaded.k + coalesce(shifts.shift, 0) AS BIGINT) AS _row, {", ".join("loaded." + ident(c) for c in TABLES[t].names)}
        FROM loaded ASOF LEFT JOIN shifts ON loaded.k > shifts.below
        ORDER BY _row""")
    con.execute(f"DROP TABLE _load_{t}")


def read_json(con, spec: TableSpec, path: Path, tmp: Path, info: TableInfo, encoding: str | None = None) -> None:
    """A JSON array of records, or JSON Lines: there a line that is not a JSON object is a malformed row
    (`malformed_<table>`, rejected with its line number) and the other lines are read, as for a CSV."""
    src = _utf8_source(path, tmp, info, encoding)
    if not _has_text(src):
        raise PingyiError(f"{path.name}: the file is empty; expected a JSON array of records or JSON Lines")
    broken: list[tuple[int, str]] = []
    try:
        described, n = _describe_json(con, src)
    except (duckdb.InvalidInputException, duckdb.BinderException):
        if not _json_lines(src):
            raise  # a JSON document that does not parse: the file's fault (read_table's message)
        src, broken = _good_json_lines(src, tmp / f"{spec.name}.good.json")
        if _count_lines(src) == 0:
            raise  # no line is a JSON object: not JSON Lines gone wrong in places, a wrong file
        described, n = _describe_json(con, src)
    t = spec.name
    if n == 0:
        empty_loaded(con, spec, info)
        return
    found = [r[0] for r in described]
    if found == ["json"] and "json" not in spec.names:
        raise PingyiError(f"{path.name}: expected a JSON array of objects (records) or JSON Lines, one object per row")
    mapping = match_columns(spec, found, path.name)
    arrays = [name for name, kind, *_ in described if name in mapping.values() and str(kind).endswith("[]")]
    if n == 1 and arrays and len(arrays) == len(mapping):
        # {"fixmedins_code": [...], "hosp_lv": [...]} (pandas' to_json(orient="list")) would be read as one
        # row holding every provider's values
        raise PingyiError(
            f"{path.name}: found one object whose fields are arrays ({', '.join(arrays[:3])} …: a table by columns); "
            "expected a JSON array of records, one object per row ([{...}, {...}]), or JSON Lines"
        )
    info.columns = tuple(c for c in spec.names if c in mapping)
    info.extra_columns = extra_columns(spec, found, mapping)
    columns = "{" + ", ".join(f"{lit(mapping[c])}: 'VARCHAR'" for c in info.columns) + "}"
    fn_text = f"read_json({lit(str(src))}, format = 'auto', records = 'true', columns = {columns})"
    con.execute(f"CREATE TABLE _load_{t} AS SELECT {select_list(spec, mapping)} FROM {fn_text}")
    con.execute(f"CREATE TABLE malformed_{t} (_row BIGINT, error VARCHAR)")
    if broken:
        con.executemany(f"INSERT INTO malformed_{t} VALUES (?, ?)", broken)
    _number_rows(con, t)


def _describe_json(con, src: Path) -> tuple[list, int]:
    fn = f"read_json({lit(str(src))}, format = 'auto', records = 'true', sample_size = -1)"
    described = con.execute(f"DESCRIBE SELECT * FROM {fn}").fetchall()
    return described, con.execute(f"SELECT count(*) FROM {fn}").fetchone()[0]


def _json_lines(path: Path) -> bool:
    """JSON Lines (one object per line), not one JSON document: the first non-blank character is `{`."""
    with open(path, "rb") as fh:
        head = fh.read(4096).lstrip(b" \t\r\n\xef\xbb\xbf")
    return head.startswith(b"{")


def _count_lines(path: Path) -> int:
    with open(path, "rb") as fh:
        return sum(1 for line in fh if line.strip())


def _good_json_lines(src: Path, good: Path) -> tuple[Path, list[tuple[int, str]]]:
    """The JSON objects of a JSON Lines file copied to `good`, and (row, reason) for each other
    non-blank line: `row` counts non-blank lines as DuckDB numbers records, so the good rows keep their
    numbers (`_number_rows`); the reason names the file's line, never its content (it may hold PII)."""
    broken: list[tuple[int, str]] = []
    row = 0
    with open(src, "rb") as fh, open(good, "wb") as out:
        for lineno, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            row += 1
            text = raw.decode("utf-8", errors="replace").lstrip("\ufeff")
            try:
                value = json.loads(text, parse_constant=_no_constant)
            except (json.JSONDecodeError, ValueError) as exc:
                reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
                where = f", column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
                broken.append((row, f"line {lineno}: not valid JSON ({reason}{where})"))
                continue
            if not isinstance(value, dict):
                broken.append((row, f"line {lineno}: a JSON {_json_kind(value)}, not a JSON object"))
                continue
            out.write(raw if raw.endswith(b"\n") else raw + b"\n")
    return good, broken


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if value is None or isinstance(value, bool):
        return "literal"
    return "number"


def empty_loaded(con, spec: TableSpec, info: TableInfo) -> None:
    cols = ", ".join(f"NULL::VARCHAR AS {ident(c)}" for c in spec.names)
    con.execute(f"CREATE TABLE raw_{spec.name} AS SELECT NULL::BIGINT AS _row, {cols} LIMIT 0")
    con.execute(f"CREATE TABLE malformed_{spec.name} (_row BIGINT, error VARCHAR)")


def read_parquet(con, spec: TableSpec, path: Path, tmp: Path, info: TableInfo, found_override=None) -> None:
    fn = f"read_parquet({lit(str(path))}, file_row_number = true)"
    described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({lit(str(path))})").fetchall()
    found = [r[0] for r in described]
    if found_override is not None:  # a converted XLSX/XML file: `_row` is stored, columns already matched
        mapping = {c: c for c in found_override}
        info.columns = tuple(c for c in spec.names if c in mapping)
        row = "_row"
    else:
        mapping = match_columns(spec, found, path.name)
        info.columns = tuple(c for c in spec.names if c in mapping)
        info.extra_columns = extra_columns(spec, found, mapping)
        row = "file_row_number + 1"
    con.execute(
        f"CREATE VIEW raw_{spec.name} AS SELECT CAST({row} AS BIGINT) AS _row, {select_list(spec, mapping)} FROM {fn}"
    )
