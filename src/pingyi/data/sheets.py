"""XLSX and XML tables: converted to a Parquet file of text columns (with `_row`), then read like
Parquet, so every format gives the same text for the same cell."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from pathlib import Path

from pingyi.data.contract import CONTRACT, TableSpec
from pingyi.data.read import TableInfo, extra_columns, first_line, match_columns, read_parquet
from pingyi.errors import PingyiError
from pingyi.files import sha256_file


class _ParquetSink:
    """Writes rows (dicts of declared column -> text) to a Parquet file of string columns + `_row`."""

    BATCH = 50_000

    def __init__(self, path: Path, columns: tuple[str, ...]):
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.pa = pa
        self.path = path
        self.columns = columns
        self.schema = pa.schema([("_row", pa.int64())] + [(c, pa.string()) for c in columns])
        self.writer = pq.ParquetWriter(str(path), self.schema)
        self.buf: dict[str, list] = {c: [] for c in ("_row", *columns)}
        self.n = 0

    def add(self, row_no: int, values: dict[str, str | None]) -> None:
        self.buf["_row"].append(row_no)
        for c in self.columns:
            self.buf[c].append(values.get(c))
        self.n += 1
        if len(self.buf["_row"]) >= self.BATCH:
            self.flush()

    def flush(self) -> None:
        if self.buf["_row"]:
            self.writer.write_table(self.pa.table(self.buf, schema=self.schema))
            self.buf = {c: [] for c in ("_row", *self.columns)}

    def close(self) -> None:
        self.flush()
        self.writer.close()


def cell_text(value) -> str | None:
    """Canonical text of a spreadsheet cell: codes stay text, integers lose '.0', times are ISO."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        value = (value + dt.timedelta(microseconds=500_000)).replace(microsecond=0)  # Excel float jitter
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S")
    return str(value)


def _xlsx_cell(value) -> str | None:
    """cell_text of a value as python-calamine gives it: an empty cell is '', and a date-time cell at
    midnight is a date (Excel has only date-times: it is the same value openpyxl reads as a datetime)."""
    if value == "":
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    return cell_text(value)


def read_xlsx(con, spec: TableSpec, path: Path, tmp: Path, info: TableInfo) -> None:
    """Read with python-calamine (Rust), about 20x faster than openpyxl's read-only mode and giving the
    same text for every cell (a test compares the two). Cached values of formulas are read, never the
    formulas. Rows keep the sheet's numbering (`_row` = sheet row - 1): calamine yields rows from the
    sheet's first row, and blank rows are skipped but counted."""
    from python_calamine import CalamineError, CalamineWorkbook

    info.sha256 = sha256_file(path)
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except (CalamineError, OSError, ValueError) as exc:
        raise PingyiError(
            f"{path.name}: not a readable .xlsx workbook ({first_line(exc)}); expected an Excel "
            f"2007+ workbook with a sheet named '{spec.name}': the file is damaged or not .xlsx, re-export it"
        ) from exc
    try:
        sheets = list(wb.sheet_names)
        if spec.name in sheets:
            title = spec.name
        elif len(sheets) == 1:
            title = sheets[0]
        else:
            raise PingyiError(
                f"{path.name}: no sheet named '{spec.name}'; found sheets: {', '.join(sheets)}; "
                f"expected a sheet named '{spec.name}' (or a workbook with a single sheet)"
            )
        try:
            rows = iter(wb.get_sheet_by_name(title).iter_rows())
        except CalamineError as exc:
            raise PingyiError(
                f"{path.name}: sheet '{title}' cannot be read ({first_line(exc)}); expected an Excel 2007+ "
                "worksheet: the file is damaged, re-export it"
            ) from exc
        header = next(rows, None)
        if header is None or all(_xlsx_cell(v) is None for v in header):
            raise PingyiError(
                f"{path.name}: the first row of sheet '{title}' is empty; expected a header row "
                f"with the platform field codes ({CONTRACT})"
            )
        found = [_xlsx_cell(v) or "" for v in header]
        mapping = match_columns(spec, [f for f in found if f], path.name)
        info.columns = tuple(c for c in spec.names if c in mapping)
        info.extra_columns = extra_columns(spec, [f for f in found if f], mapping)
        index = {c: found.index(mapping[c]) for c in info.columns}
        sink = _ParquetSink(tmp / f"{spec.name}.xlsx.parquet", info.columns)
        try:
            for n, row in enumerate(rows, start=1):
                if all(v == "" or (isinstance(v, str) and not v.strip()) for v in row):
                    continue  # blank spreadsheet row; `_row` keeps the sheet's numbering (sheet row - 1)
                sink.add(n, {c: _xlsx_cell(row[i]) if i < len(row) else None for c, i in index.items()})
        finally:
            sink.close()
    finally:
        wb.close()
    read_parquet(con, spec, sink.path, tmp, info, found_override=info.columns)


def _local(tag) -> str:
    tag = str(tag)
    return tag.rsplit("}", 1)[-1] if tag.startswith("{") else tag


def read_xml(con, spec: TableSpec, path: Path, tmp: Path, info: TableInfo) -> None:
    """`<table><row><column>value</column>…</row>…</table>`; element names of the root and the rows are
    free; a row's attributes count as columns too. Parsed with defusedxml (no entity expansion,
    no external entities)."""
    from xml.etree.ElementTree import ParseError

    import defusedxml
    from defusedxml.ElementTree import iterparse

    info.sha256 = sha256_file(path)
    wanted = {c.lower(): c for c in spec.names}
    seen_declared: dict[str, str] = {}
    found: dict[str, None] = {}
    sink = _ParquetSink(tmp / f"{spec.name}.xml.parquet", spec.names)
    depth, n, root = 0, 0, None
    try:
        for event, elem in iterparse(str(path), events=("start", "end")):
            if event == "start":
                depth += 1
                if depth == 1:
                    root = elem
                continue
            depth -= 1
            if depth != 1:
                continue
            n += 1  # a row element closed
            values: dict[str, str | None] = {}
            items = [(k, v) for k, v in elem.attrib.items()] + [(child.tag, child.text) for child in elem]
            for tag, text in items:
                name = _local(tag)
                found.setdefault(name, None)
                declared = wanted.get(name.strip().lower())
                if declared is None:
                    continue
                if declared in values or seen_declared.get(declared, name) != name:
                    raise PingyiError(
                        f"{path.name}: row {n} has column '{declared}' twice; expected each column once per row"
                    )
                seen_declared[declared] = name
                values[declared] = text
            sink.add(n, values)
            elem.clear()
            if root is not None:
                root.clear()
    except ParseError as exc:
        line, col = getattr(exc, "position", (None, None))
        raise PingyiError(
            f"{path.name}: not well-formed XML at line {line}, column {col}; expected "
            f"<table><row><column>value</column>…</row>…</table>"
        ) from exc
    except defusedxml.DefusedXmlException as exc:
        raise PingyiError(
            f"{path.name}: XML with a DTD, entities or external references is refused "
            f"({type(exc).__name__}); expected plain <table><row>… XML"
        ) from exc
    finally:
        sink.close()
    if n:
        match_columns(spec, list(found), path.name)
    info.extra_columns = tuple(f for f in found if f.strip().lower() not in wanted)
    read_parquet(con, spec, sink.path, tmp, info, found_override=tuple(seen_declared))
    info.columns = tuple(c for c in spec.names if c in seen_declared)
