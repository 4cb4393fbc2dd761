"""The Excel workbook (openpyxl, write-only/streaming): summary, indicators, adjustments, about, and
optionally one sheet per provider — all rendered from the same contexts as the PDF and HTML.

- Numbers are written as the numbers of results.json (the totals equal scores.csv exactly); number
  formats do the display: percent `0.0%`, yuan `#,##0.00`, scores `0.00`.
- Every text cell is written as an inline string (`data_type = "s"`), never as a formula: a provider
  named `=HYPERLINK(...)` stays text (OWASP CSV/formula injection), and so do `+`, `-`, `@` and
  error-code-like values such as `#N/A`.
- Traffic-light fills, frozen header row, autofilter, column widths that count a CJK character as two.
- Deterministic: zip entries carry a fixed date and docProps/core.xml no created/modified time.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from pathlib import Path
from typing import Iterable, Mapping

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from pingyi import text as tx
from pingyi.report import labels as lb

UNIT_FORMATS = {"percent": "0.0%", "yuan": "#,##0.00", "days": "0.0", "minutes": "0.0", "count": "#,##0",
                "per_10k": "0.00", "score": "0.0", "index": "0.000", "ratio": "0.000"}
SCORE_FMT = "0.00"
TOTAL_FMT = "0.0000"
WEIGHT_FMT = "0.00%"
PERCENTILE_FMT = "0"  # 0-100: the share of same region-and-level peers a provider does better than
RATE_FMT = "0.00%"
YUAN_FMT = "#,##0.00"
PER_PROVIDER_SHEETS_MAX = 200  # one sheet per provider up to this many providers ("auto")
WIDTH_SAMPLE = 400  # rows sampled per sheet to size columns
FIXED_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
ZIP_LEVEL = 3  # deflate level: 6 costs ~2x the time for ~15 % smaller files
BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")

HEADER_FILL = PatternFill("solid", fgColor="1F5FA8")
HEADER_FONT = Font(bold=True, color="FFFFFF")
GROUP_FILL = PatternFill("solid", fgColor="EEF3F9")
THIN = Side(style="thin", color="C9D3DF")


def display_width(text: str) -> int:
    """Column width of a text in Excel character units: CJK and full-width characters count as two."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_COLS = [get_column_letter(i) for i in range(1, 200)]


_TEXT_CACHE: dict[str, str] = {}


def _xml_text(value: str) -> str:
    """Escaped cell text (cached: unit, light and indicator names repeat on every row)."""
    out = _TEXT_CACHE.get(value)
    if out is None:
        out = _XML_BAD.sub("\ufffd", value)  # characters XML 1.0 cannot carry
        out = out.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        if len(_TEXT_CACHE) < 50_000:
            _TEXT_CACHE[value] = out
    return out


class BookWriter:
    """openpyxl builds the package (workbook, styles, sheet views, column widths, autofilter); the cell
    data of each sheet are serialised here, straight to SpreadsheetML text, and put into the package
    after openpyxl saves it. Per cell this costs ~1 µs instead of ~40 µs for openpyxl's own cell objects
    (175,000 indicator rows x 17 columns for 5,000 providers). Strings are always inline strings
    (t="inlineStr"): no cell is ever a formula. Floats are written with repr(), which round-trips
    exactly (openpyxl's '%.16g' does not always), so the totals equal scores.csv bit for bit."""

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

    def sheet(self, title: str, headers: list[str], **kw) -> "SheetWriter":
        sh = SheetWriter(self, title, headers, **kw)
        self.sheets.append(sh)
        return sh

    def save(self) -> bytes:
        if self._probe is not None:
            self.wb._sheets.remove(self._probe)
        buf = io.BytesIO()
        self.wb.save(buf)
        src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
        data = {f"xl/worksheets/sheet{i}.xml": sh for i, sh in enumerate(self.sheets, 1)}
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=ZIP_LEVEL) as dst:
            for info in src.infolist():
                body = src.read(info.filename)
                if info.filename in data:
                    head, tail = body.split(b"<sheetData></sheetData>", 1) if b"<sheetData></sheetData>" in body \
                        else body.split(b"<sheetData />", 1)
                    body = head + b"<sheetData>" + "".join(data[info.filename].chunks).encode("utf-8") + \
                        b"</sheetData>" + tail
                elif info.filename == "docProps/core.xml":  # no created/modified time: same inputs, same bytes
                    body = re.sub(rb"<dcterms:(created|modified)[^>]*>[^<]*</dcterms:\1>", b"", body)
                zi = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_DATE)
                zi.compress_type = zipfile.ZIP_DEFLATED
                zi.external_attr = 0o644 << 16
                dst.writestr(zi, body)
        return out.getvalue()


class SheetWriter:
    """Rows of one sheet. Cells are ("s", text, style) or ("n", number, style) tuples made by text() and
    num(); a bare int/float is a number without style; None is an empty cell."""

    def __init__(self, book: BookWriter, title: str, headers: list[str], widths_max: int = 60,
                 freeze: str | None = "A2", autofilter: bool = True):
        self.book = book
        self.ws = book.wb.create_sheet(title)
        self.headers = headers
        self.freeze, self.autofilter = freeze, autofilter
        self.widths = [display_width(h) + 2 for h in headers]
        self.widths_max = widths_max
        self.count = 0  # data rows
        self.chunks: list[str] = []
        hid = book.style_id(("h",), lambda c: (setattr(c, "fill", HEADER_FILL), setattr(c, "font", HEADER_FONT),
                                                setattr(c, "alignment", Alignment(vertical="center", wrap_text=True)),
                                                setattr(c, "border", Border(bottom=THIN))))
        self._row([("s", h, hid) for h in headers])

    def text(self, value, fill: str | None = None, bold: bool = False, wrap: bool = False) -> tuple:
        """A string cell that can never become a formula (input data: names, codes, reasons)."""
        value = "" if value is None else str(value)
        if fill is None and not bold and not wrap:
            return ("s", value, 0)

        def build(c):
            if fill:
                c.fill = PatternFill("solid", fgColor=fill)
            if bold:
                c.font = Font(bold=True)
            if wrap:
                c.alignment = Alignment(wrap_text=True, vertical="top")
        return ("s", value, self.book.style_id(("t", fill, bold, wrap), build))

    def num(self, value, fmt: str | None = None, fill: str | None = None, bold: bool = False):
        if value is None:
            return None
        if fmt is None and fill is None and not bold:
            return ("n", value, 0)

        def build(c):
            if fmt:
                c.number_format = fmt
            if fill:
                c.fill = PatternFill("solid", fgColor=fill)
            if bold:
                c.font = Font(bold=True)
        return ("n", value, self.book.style_id(("n", fmt, fill, bold), build))

    def _row(self, row: list) -> None:
        r = len(self.chunks) + 1
        parts = [f'<row r="{r}">']
        for i, cell in enumerate(row):
            if cell is None:
                continue
            if not isinstance(cell, tuple):
                cell = ("n", cell, 0)
            kind, value, sid = cell
            ref = f"{_COLS[i]}{r}"
            style = f' s="{sid}"' if sid else ""
            if kind == "s":
                space = ' xml:space="preserve"' if value != value.strip() else ""
                parts.append(f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{_xml_text(value)}</t></is></c>')
            elif isinstance(value, bool):
                parts.append(f'<c r="{ref}"{style} t="b"><v>{int(value)}</v></c>')
            elif isinstance(value, int):
                parts.append(f'<c r="{ref}"{style} t="n"><v>{value}</v></c>')
            elif isinstance(value, float) and math.isfinite(value):
                parts.append(f'<c r="{ref}"{style} t="n"><v>{value!r}</v></c>')
            else:
                parts.append(f'<c r="{ref}"{style} t="n"><v>{float(value)!r}</v></c>')
        parts.append("</row>")
        self.chunks.append("".join(parts))

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

    def close(self) -> None:
        ws = self.ws
        for i, w in enumerate(self.widths, 1):
            ws.column_dimensions[get_column_letter(i)].width = max(6, w)
        if self.freeze:
            ws.freeze_panes = self.freeze
        if self.autofilter and self.headers:
            ws.auto_filter.ref = f"A1:{get_column_letter(len(self.headers))}{self.count + 1}"


def _fill(light: Mapping | None) -> str | None:
    return lb.LIGHT_FILLS.get((light or {}).get("key", ""))


def _sheet_title(title: str, used: set[str]) -> str:
    base = BAD_SHEET_CHARS.sub("_", title).strip("'")[:31] or "sheet"
    name, k = base, 2
    while name.lower() in used:
        suffix = f"~{k}"
        name, k = base[:31 - len(suffix)] + suffix, k + 1
    used.add(name.lower())
    return name


def build_workbook(cards: Iterable[dict], committee: dict, *, per_provider: bool | None = None) -> BookWriter:
    cards = list(cards)
    L = committee["L"]
    zh = committee["lang"] == "zh"
    book = BookWriter()
    used: set[str] = set()
    dims = [(d["code"], d["name"]) for d in cards[0]["dimensions"]] if cards else []

    # ---- summary: one row per provider, in results order (the order of scores.csv)
    summary = book.sheet(_sheet_title("汇总" if zh else "Summary", used),
                          [L["code"], L["name"], L["province"], L["region"], L["level"], L["type"], L["total"],
                           L["grade"], L["rank"], L["rank_peers"], L["peer_percentile"], *[f"{c} {n}" for c, n in dims],
                           *(f"{L['light']}:{tx.LIGHT_SHORT[committee['lang']][k]}" for k in ("red", "yellow", "green", "grey")),
                           L["prepayment"], L["rate"], L["amount"], L["new_prepayment"], L["designation"]],
                          widths_max=40, freeze="C2")
    for c in cards:
        p, a = c["provider"], c["adjustment"]
        fill = _fill(c["light"])
        summary.add([
            summary.text(p["code"]), summary.text(p["name"]), summary.text(p["province_name"]),
            summary.text(p["region_label"]), summary.text(p["level_label"]), summary.text(p["type"]),
            summary.num(c["total"], TOTAL_FMT, fill, bold=True), summary.text(c["grade"], fill), c["rank"],
            c["peer_rank"], summary.num(c["peer_percentile"], PERCENTILE_FMT),
            *[summary.num(d["score"], SCORE_FMT, _fill(d["light"])) for d in c["dimensions"]],
            *(c["lights"][k] for k in ("red", "yellow", "green", "grey")),
            summary.num(a["prepayment"], YUAN_FMT), summary.num(a["rate"], RATE_FMT),
            summary.num(a["amount"], YUAN_FMT), summary.num(a["new_prepayment"], YUAN_FMT),
            summary.text(a["designation_short"], lb.LIGHT_FILLS["red"] if a["at_risk"] else None),
        ])
    summary.close()

    # ---- indicators: one row per provider x indicator
    ind = book.sheet(_sheet_title("指标明细" if zh else "Indicators", used),
                      [L["code"], L["name"], L["dimension"], L["indicator"] + " ID", L["indicator"], L["unit"],
                       L["value"], L["baseline"], L["benchmark"], L["prior"], L["change"], L["light"], L["score"],
                       L["weight"], L["contribution"], L["peer_percentile"], L["raw_value"], L["adjusted_value"],
                       L["counted"], L["status"], L["reason"]], widths_max=36, freeze="F2")
    counted = {"raw": L["raw_value"], "adjusted": L["adjusted_value"]}  # which value was scored
    for c in cards:
        p = c["provider"]
        for d in c["dimensions"]:
            dim = f"{d['code']} {d['name']}"
            for r in d["indicators"]:
                fmt = UNIT_FORMATS.get(r["unit"])
                fill = _fill(r["light"])
                ind.add([  # a cell object is written once: never share one between rows (openpyxl reuses it)
                    ind.text(p["code"]), ind.text(p["name"]), ind.text(dim), ind.text(r["code"]), ind.text(r["name"]), ind.text(r["unit_label"]),
                    ind.num(r["value"], fmt), ind.num(r["baseline"], fmt), ind.num(r["benchmark"], fmt),
                    ind.num(r["prior"], fmt), ind.num(r["delta"], fmt), ind.text(r["light"]["label"], fill),
                    ind.num(r["score"], SCORE_FMT, fill), ind.num(r["weight"], WEIGHT_FMT),
                    ind.num(r["contribution"], SCORE_FMT), ind.num(r["peer_percentile"], PERCENTILE_FMT),
                    ind.num(r["raw_value"], fmt), ind.num(r["adjusted_value"], fmt),
                    ind.text(counted.get(r["casemix"], "")) if r["adjusted_value"] is not None else None,
                    ind.text(r["status_label"]), ind.text(r["reason"]),
                ])
    ind.close()

    # ---- adjustments
    adj = book.sheet(_sheet_title("预付金调整" if zh else "Adjustments", used),
                      [L["code"], L["name"], L["total"], L["grade"], L["prepayment"], L["prepayment_source"], L["rate"],
                       L["amount"], L["new_prepayment"], L["rule"], L["rule_raw"], L["designation"]], widths_max=50,
                      freeze="C2")
    for c in cards:
        p, a = c["provider"], c["adjustment"]
        adj.add([adj.text(p["code"]), adj.text(p["name"]), adj.num(c["total"], TOTAL_FMT),
                 adj.text(c["grade"], _fill(c["light"])), adj.num(a["prepayment"], YUAN_FMT),
                 adj.text(a["prepayment_source"]), adj.num(a["rate"], RATE_FMT), adj.num(a["amount"], YUAN_FMT),
                 adj.num(a["new_prepayment"], YUAN_FMT), adj.text(a["rule_text"]), adj.text(a["rule"]),
                 adj.text(a["designation_label"], lb.LIGHT_FILLS["red"] if a["at_risk"] else None)])
    adj.close()

    # ---- about: year, system, budget, legend
    b = committee["budget"]
    about = book.sheet(_sheet_title("说明" if zh else "About", used), [L["name"], L["value"]], widths_max=90,
                        autofilter=False)
    for k, v in ((L["committee_title"], committee["year_title"]), ("system", f"{committee['system']} {committee['system_version']}"),
                 ("pingyi", committee["version"]), (L["providers_n"], committee["n"]), (L["mode"], b["mode_label"])):
        about.add([about.text(k), about.text(v) if isinstance(v, str) else v])
    for key in ("penalties", "rewards", "net"):
        about.add([about.text(L[key]), about.num(b[key], YUAN_FMT)])
    for key, label in tx.LIGHT_SHORT[committee["lang"]].items():
        about.add([about.text(f"{L['light']}: {label}", lb.LIGHT_FILLS[key]), about.text(key)])
    about.add([about.text(L["weight"]), about.text(L["weight_note"])])
    about.add([about.text(L["fix_first"]), about.text(L["fix_first_note"])])
    about.close()

    # ---- one sheet per provider
    if per_provider is None:
        per_provider = len(cards) <= PER_PROVIDER_SHEETS_MAX
    if per_provider:
        for c in cards:
            p = c["provider"]
            sh = book.sheet(_sheet_title(p["code"], used),
                             [L["indicator"] + " ID", L["indicator"], L["value"], L["baseline"], L["prior"],
                              L["change"], L["light"], L["score"], L["weight"], L["peer_mean"], L["peer_percentile"],
                              L["reason"]],
                             widths_max=40, autofilter=False)
            for d in c["dimensions"]:
                sh.add([sh.text(d["code"], lb.LIGHT_FILLS["none"], bold=True),
                        sh.text(d["name"], lb.LIGHT_FILLS["none"], bold=True), None, None, None, None,
                        sh.text(d["light"]["label"], _fill(d["light"])), sh.num(d["score"], SCORE_FMT, _fill(d["light"])),
                        sh.num(d["weight"], WEIGHT_FMT), sh.num(d["peer_mean"], SCORE_FMT), None, None])
                for r in d["indicators"]:
                    fmt = UNIT_FORMATS.get(r["unit"])
                    fill = _fill(r["light"])
                    sh.add([sh.text(r["code"]), sh.text(r["name"]), sh.num(r["value"], fmt), sh.num(r["baseline"], fmt),
                            sh.num(r["prior"], fmt), sh.num(r["delta"], fmt), sh.text(r["light"]["label"], fill),
                            sh.num(r["score"], SCORE_FMT, fill), sh.num(r["weight"], WEIGHT_FMT),
                            sh.num(r["peer_mean"], fmt), sh.num(r["peer_percentile"], PERCENTILE_FMT),
                            sh.text(r["reason"])])
            sh.add([])
            sh.add([sh.text(L["name"], bold=True), sh.text(p["name"])])
            sh.add([sh.text(L["total"], bold=True), sh.num(c["total"], TOTAL_FMT, _fill(c["light"]), bold=True)])
            sh.add([sh.text(L["grade"], bold=True), sh.text(c["grade"], _fill(c["light"]))])
            sh.add([sh.text(L["adjustment"], bold=True), sh.text(c["adjustment"]["rule_text"])])
            for i, f in enumerate(c["fix_first"], 1):
                sh.add([sh.text(f"{L['fix_first']} {i}", bold=True), sh.text(f"{f['code']} {f['name']}"),
                        sh.num(f["gain"], SCORE_FMT)])
            sh.close()
    return book


def write_workbook(cards: Iterable[dict], committee: dict, path: Path, *, per_provider: bool | None = None) -> Path:
    data = build_workbook(cards, committee, per_provider=per_provider).save()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
