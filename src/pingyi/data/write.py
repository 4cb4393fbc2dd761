"""Writing a bundle in another format (`save_bundle`): the text that was read, in file order, with the
columns the source file had (codes keep leading zeros, money keeps its decimals)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

from pingyi.data.bundle import Bundle, open_bundle
from pingyi.data.contract import FORMATS
from pingyi.data.sql import ident, lit
from pingyi.errors import PingyiError
from pingyi.spec.models import DataSettings


def read_raw(data_dir: Path, workdir: Path | None = None) -> Bundle:
    """Read a bundle without settings (format conversion, inspection)."""
    return open_bundle(data_dir, DataSettings(), 0, workdir)


def save_bundle(bundle_dir: Path, out_dir: Path, fmt: str, workdir: Path | None = None) -> list[Path]:
    """Write every table present in the bundle at `bundle_dir` to `out_dir` as `<table>.<fmt>`.

    Values are written as the text that was read (codes keep leading zeros, money keeps its
    decimals), in file order, with the columns the source file had.
    """
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise PingyiError(f"unknown bundle format {fmt!r}; expected one of {', '.join(FORMATS)}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with read_raw(bundle_dir, workdir) as bundle:
        for name, info in bundle.tables.items():
            if not info.present:
                continue
            target = out_dir / f"{name}.{fmt}"
            cols = info.columns
            query = f"SELECT {', '.join(ident(c) for c in cols)} FROM raw_{name} ORDER BY _row"
            con = bundle.con
            if fmt == "csv":
                con.execute(f"COPY ({query}) TO {lit(str(target))} (FORMAT csv, HEADER true)")
            elif fmt == "parquet":
                con.execute(f"COPY ({query}) TO {lit(str(target))} (FORMAT parquet)")
            elif fmt == "json":
                _write_json(con.execute(query), cols, target)
            elif fmt == "xlsx":
                _write_xlsx(con.execute(query), cols, target, name)
            else:
                _write_xml(con.execute(query), cols, target, name)
            written.append(target)
    return written


def _batches(cursor, size: int = 10_000) -> Iterator[tuple]:
    while True:
        rows = cursor.fetchmany(size)
        if not rows:
            return
        yield from rows


def _write_json(cursor, cols, target: Path) -> None:
    with open(target, "w", encoding="utf-8") as fh:
        fh.write("[")
        for i, row in enumerate(_batches(cursor)):
            record = {c: v for c, v in zip(cols, row) if v is not None}
            fh.write(("," if i else "") + "\n" + json.dumps(record, ensure_ascii=False))
        fh.write("\n]\n")


def _write_xlsx(cursor, cols, target: Path, sheet: str) -> None:
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    ws.append(list(cols))
    for row in _batches(cursor):
        cells = []
        for v in row:
            if isinstance(v, str) and v.startswith("="):  # text, never a formula
                cell = WriteOnlyCell(ws, value=v)
                cell.data_type = "s"
                cells.append(cell)
            else:
                cells.append(v)
        ws.append(cells)
    wb.save(str(target))


_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _write_xml(cursor, cols, target: Path, root: str) -> None:
    from xml.sax.saxutils import escape

    with open(target, "w", encoding="utf-8") as fh:
        fh.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<{root}>\n')
        for row in _batches(cursor):
            fields = "".join(f"<{c}>{escape(_XML_BAD.sub('', v))}</{c}>" for c, v in zip(cols, row) if v is not None)
            fh.write(f"  <row>{fields}</row>\n")
        fh.write(f"</{root}>\n")
