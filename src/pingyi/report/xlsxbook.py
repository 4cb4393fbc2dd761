"""The .xlsx package writer under the workbook (pingyi.report.xlsx): openpyxl builds the package and its
styles, and each sheet's cells are written straight to SpreadsheetML text (see BookWriter). Every text
cell is an inline string, never a formula; zip entries carry a fixed date, so the file is deterministic.
"""

from __future__ import annotations

import io
import math
import re
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import IO, BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties

WIDTH_SAMPLE = 400  # rows sampled per sheet to size columns
FIXED_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
ZIP_LEVEL = 3  # deflate level: 6 costs ~2x the time for ~15 % smaller files

HEADER_FILL = PatternFill("solid", fgColor="1F5FA8")
HEADER_FONT = Font(bold=True, color="FFFFFF")
GROUP_FILL = PatternFill("solid", fgColor="EEF3F9")
THIN = Side(style="thin", color="C9D3DF")


def display_width(text: str) -> int:
    """Column width of a text in Excel character units: CJK and full-width characters count as two."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_COLS = [get_column_letter(i) for i in range(1, 200)]
_STYLES_NAMED = 256
_STYLE_ATTR = [""] + [f' s="{i}"' for i in range(1, _STYLES_NAMED)]  # a cell's style attribute by id (0: none)


_TEXT_CACHE: dict[str, str] = {}


def _inline(value: str) -> str:
    """The inline-string body of a text cell, escaped (cached: unit, light and indicator names repeat on
    every row)."""
    out = _TEXT_CACHE.get(value)
    if out is None:
        text = _XML_BAD.sub("\ufffd", value)  # characters XML 1.0 cannot carry
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        space = ' xml:space="preserve"' if value != value.strip() else ""
        out = f"<is><t{space}>{text}</t></is>"
        if len(_TEXT_CACHE) < 50_000:
            _TEXT_CACHE[value] = out
    return out


def _header_style(cell: WriteOnlyCell) -> None:
    cell.fill = HEADER_FILL
    cell.font = HEADER_FONT
    cell.alignment = Alignment(vertical="center", wrap_text=True)
    cell.border = Border(bottom=THIN)


class BookWriter:
    """openpyxl builds the package (workbook, styles, sheet views, column widths, autofilter); the cell
    data of each sheet are serialised here, straight to SpreadsheetML text, and put into the package
    after openpyxl saves it. Per cell this costs well under 1 µs instead of ~40 µs for openpyxl's own cell
    objects (175,000 indicator rows x 22 columns for 5,000 providers). Strings are always inline strings
    (t="inlineStr"): no cell is ever a formula. Floats are written with repr(), which round-trips
    exactly (openpyxl's '%.16g' does not always), so the totals equal scores.csv bit for bit.

    Sheets may be written side by side (one row to each in turn): each keeps its rows in a spool that
    moves to a temporary file past SPOOL_MEMORY, so memory does not grow with the rows."""

    def __init__(self):
        self.wb = Workbook(write_only=True)
        self.sheets: list[SheetWriter] = []
        self._style_ids: dict[tuple, int] = {}
        self._probe = None

    def style_id(self, key: tuple, build) -> int:
        sid = self._style_ids.get(key)
        if sid is None:
            if self._probe is None:
                self._probe = self.wb.create_sheet("_styles")  # removed before saving
            cell = WriteOnlyCell(self._probe, value=None)
            build(cell)
            sid = self._style_ids[key] = cell.style_id  # registers the style in the workbook's styles.xml
        return sid

    def sheet(self, title: str, headers: list[str], **kw) -> SheetWriter:
        sh = SheetWriter(self, title, headers, **kw)
        self.sheets.append(sh)
        return sh

    def save(self) -> bytes:
        out = io.BytesIO()
        self.save_to(out)
        return out.getvalue()

    def write(self, path: Path) -> Path:
        """The package written to `path` as it is built (not held in memory)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            self.save_to(fh)
        return path

    def save_to(self, fh: BinaryIO) -> None:
        if self._probe is not None:
            self.wb._sheets.remove(self._probe)
        buf = io.BytesIO()
        self.wb.save(buf)
        src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
        data = {f"xl/worksheets/sheet{i}.xml": sh for i, sh in enumerate(self.sheets, 1)}
        with zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED, compresslevel=ZIP_LEVEL) as dst:
            for info in src.infolist():
                body = src.read(info.filename)
                zi = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_DATE)
                zi.compress_type = zipfile.ZIP_DEFLATED
                zi.external_attr = 0o644 << 16
                zi._compresslevel = ZIP_LEVEL  # type: ignore[attr-defined]  # a ZipInfo passed in keeps its own level, not the archive's
                if info.filename in data:
                    empty = b"<sheetData></sheetData>" if b"<sheetData></sheetData>" in body else b"<sheetData />"
                    head, tail = body.split(empty, 1)
                    sheet = data[info.filename]
                    head, tail = head + b"<sheetData>", b"</sheetData>" + tail
                    zi.file_size = len(head) + sheet.size + len(tail)  # zip64 when it needs it
                    with dst.open(zi, "w") as out:
                        out.write(head)
                        sheet.copy_to(out)
                        out.write(tail)
                    continue
                if info.filename == "docProps/core.xml":  # no created/modified time: same inputs, same bytes
                    body = re.sub(rb"<dcterms:(created|modified)[^>]*>[^<]*</dcterms:\1>", b"", body)
                dst.writestr(zi, body)


SPOOL_MEMORY = 8 << 20  # bytes of a sheet's rows kept in memory before they move to a temporary file
FLUSH_ROWS = 2000  # rows joined and encoded at a time


class SheetWriter:
    """Rows of one sheet. Cells are ("s", text, style) or ("n", number, style) tuples made by text() and
    num(); a bare int/float is a number without style; None is an empty cell."""

    def __init__(
        self,
        book: BookWriter,
        title: str,
        headers: list[str],
        widths_max: int = 60,
        freeze: str | None = "A2",
        autofilter: bool = True,
    ):
        self.book = book
        self.ws = book.wb.create_sheet(title)
        self.headers = headers
        self.freeze, self.autofilter = freeze, autofilter
        self.widths = [display_width(h) + 2 for h in headers]
        self.widths_max = widths_max
        self.count = 0  # data rows
        self.rows = 0  # rows written, header included
        self.size = 0  # bytes of sheet data written
        self._pending: list[str] = []
        self._spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY)  # noqa: SIM115 (closed by copy_to)
        self._styles = book._style_ids
        hid = book.style_id(("h",), _header_style)
        self._row([("s", h, hid) for h in headers])

    def text(self, value, fill: str | None = None, bold: bool = False, wrap: bool = False) -> tuple:
        """A string cell that can never become a formula (input data: names, codes, reasons)."""
        value = "" if value is None else str(value)
        if fill is None and not bold and not wrap:
            return ("s", value, 0)
        key = ("t", fill, bold, wrap)
        sid = self._styles.get(key)
        if sid is None:

            def build(c):
                if fill:
                    c.fill = PatternFill("solid", fgColor=fill)
                if bold:
                    c.font = Font(bold=True)
                if wrap:
                    c.alignment = Alignment(wrap_text=True, vertical="top")

            sid = self.book.style_id(key, build)
        return ("s", value, sid)

    def num(self, value, fmt: str | None = None, fill: str | None = None, bold: bool = False):
        if value is None:
            return None
        if fmt is None and fill is None and not bold:
            return ("n", value, 0)
        key = ("n", fmt, fill, bold)
        sid = self._styles.get(key)
        if sid is None:

            def build(c):
                if fmt:
                    c.number_format = fmt
                if fill:
                    c.fill = PatternFill("solid", fgColor=fill)
                if bold:
                    c.font = Font(bold=True)

            sid = self.book.style_id(key, build)
        return ("n", value, sid)

    def _row(self, row: list) -> None:
        self.rows += 1
        r = str(self.rows)
        parts = [f'<row r="{r}">']
        append = parts.append
        for i, cell in enumerate(row):
            if cell is None:
                continue
            if cell.__class__ is tuple:
                kind, value, sid = cell
                style = _STYLE_ATTR[sid] if sid < _STYLES_NAMED else f' s="{sid}"'
                if kind == "s":
                    append(f'<c r="{_COLS[i]}{r}"{style} t="inlineStr">{_inline(value)}</c>')
                    continue
            else:
                value, style = cell, ""
            cls = value.__class__
            if cls is float:
                append(f'<c r="{_COLS[i]}{r}"{style} t="n"><v>{value!r}</v></c>')
                continue
            if cls is int:
                text = str(value)
            elif isinstance(value, bool):
                append(f'<c r="{_COLS[i]}{r}"{style} t="b"><v>{int(value)}</v></c>')
                continue
            elif isinstance(value, int):
                text = f"{value}"
            elif isinstance(value, float) and math.isfinite(value):
                text = repr(value)
            else:
                text = repr(float(value))
            append(f'<c r="{_COLS[i]}{r}"{style} t="n"><v>{text}</v></c>')
        append("</row>")
        self._pending.append("".join(parts))
        if len(self._pending) >= FLUSH_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            data = "".join(self._pending).encode("utf-8")
            self._pending = []
            self._spool.write(data)
            self.size += len(data)

    def add(self, row: list) -> None:
        self.count += 1
        if self.count <= WIDTH_SAMPLE:
            for i, cell in enumerate(row):
                if cell is None or i >= len(self.widths):
                    continue
                value = cell[1] if isinstance(cell, tuple) else cell
                w = 12 if isinstance(value, float) else display_width(str(value)) + 2
                if w > self.widths[i]:
                    self.widths[i] = min(w, self.widths_max)
        self._row(row)

    def copy_to(self, out: IO[bytes]) -> None:
        """The sheet data written so far, into `out`; the spool is closed after."""
        self._flush()
        self._spool.seek(0)
        shutil.copyfileobj(self._spool, out, 1 << 20)
        self._spool.close()

    def close(self) -> None:
        ws = self.ws
        for i, w in enumerate(self.widths, 1):
            ws.column_dimensions[get_column_letter(i)].width = max(6, w)
        if self.freeze:
            ws.freeze_panes = self.freeze
        if self.autofilter and self.headers:
            ws.auto_filter.ref = f"A1:{get_column_letter(len(self.headers))}{self.count + 1}"
        # printed as people print these tables: landscape, as wide as the page, the header on every page
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = 9  # A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0  # as many pages down as the rows need
        if self.headers:
            ws.print_title_rows = "1:1"
