"""Dense tables that weasyprint lays out cheaply: a table as a few pre-formatted text blocks.

weasyprint's cost is per layout box and per line box, not per glyph: a 43-row × 7-column HTML table is
~300 cells, each a block, a line box and a text box laid out through Pango, and that was most of a
card's time. A `Grid` draws the same table as one `white-space: pre` text per block of columns, one
line per table line: the cells of a line are placed by padding with spaces whose widths are known
(ideographic space U+3000 = 1 em, space = 0.224 em in Noto Sans CJK SC), so columns line up to a
fraction of a point, right-aligned numbers included (digits are tabular). Widths come from the
advance widths of Noto Sans CJK SC Regular, the only face the PDF uses, with kerning and ligatures
off (card.css), so what is computed here is what Pango lays out.

A column that wraps (an indicator name) ends a block: its continuation lines follow its first line in
the text, so extracted text (pdftotext) keeps a wrapped name together; the columns after it start a
new block, padded with empty lines so the rows stay aligned. Lights are drawn as discs by one small
SVG under the text (one path per colour) next to their name, which stays text. Row colours
(header, group rows, zebra stripes) are paths in that same SVG, drawn before the text.

For the screen (the offline HTML card) the same Grid renders as an ordinary table (`head`, `rows`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Mapping, Sequence

from markupsafe import Markup, escape

# Advance widths (per 1000 em) of U+0020..U+007E in Noto Sans CJK SC Regular.
_ASCII = (224, 323, 474, 555, 555, 921, 680, 278, 338, 338, 467, 555, 278, 347, 278, 392, 555, 555, 555, 555,
          555, 555, 555, 555, 555, 555, 278, 278, 555, 555, 555, 474, 946, 608, 657, 638, 688, 589, 552, 689,
          728, 293, 535, 646, 543, 812, 723, 742, 633, 742, 635, 596, 599, 721, 575, 878, 573, 531, 603, 338,
          392, 338, 555, 559, 606, 563, 618, 510, 620, 554, 325, 564, 607, 275, 275, 552, 284, 926, 610, 606,
          620, 620, 388, 468, 377, 607, 521, 802, 498, 521, 475, 338, 270, 338, 555)
# U+00A0..U+00FF (Latin-1 supplement) and the General Punctuation block (U+2000..U+206F) that the font has.
_LATIN1 = (224, 323, 555, 555, 555, 555, 270, 1000, 606, 832, 386, 479, 555, 347, 473, 606, 370, 1000, 411, 411,
          606, 628, 1000, 1000, 606, 411, 407, 479, 873, 903, 889, 474, 608, 608, 608, 608, 608, 608, 918, 638,
          589, 589, 589, 589, 293, 293, 293, 293, 712, 723, 742, 742, 742, 742, 742, 1000, 742, 721, 721, 721,
          721, 531, 652, 643, 563, 563, 563, 563, 563, 563, 877, 510, 554, 554, 554, 554, 275, 275, 275, 275,
          608, 610, 606, 606, 606, 606, 606, 1000, 606, 607, 607, 607, 607, 521, 620, 521)
_PUNCT = {0x2002: 500, 0x2011: 347, 0x2012: 536, 0x2013: 536, 0x2014: 894, 0x201A: 278, 0x201E: 474,
          0x2032: 278, 0x2033: 474, 0x2039: 302, 0x203A: 302, 0x203C: 613, 0x2047: 910, 0x2048: 758,
          0x2049: 758}
# U+2070..U+2E7F that are not 1 em wide (the minus sign among them); everything else from U+2000 on is 1 em
# (CJK, full-width forms, symbols) but Hangul syllables and half-width forms (see char_width)
_SYMBOLS = {0x2074: 411, 0x20A9: 555, 0x20AB: 555, 0x20AC: 555, 0x20DD: 0, 0x20DE: 0, 0x2113: 457, 0x2116: 997,
            0x2122: 711, 0x212E: 894, 0x2212: 555, 0x2713: 683, 0x2E3A: 1676, 0x2E3B: 2459}
# no line starts with these (closing punctuation), none ends with the opening ones
_NO_START = set("）)]｝}」』】〕》〉，,。.、：:；;！!？?％%…—·")
_NO_END = set("（([｛{「『【〔《〈")
MM = 72 / 25.4  # points per millimetre
# Spacers: ideographic space (1000 units), en space (500) and space (224). Any gap over 1.5 em is within
# about 35 units (0.035 em) of a sum of these with at most 8 spaces and 1 en space. (The en space has a high glyph id, which makes weasyprint's
# font subset a little larger, but so do the full-width punctuation marks every Chinese card has anyway.)
EM_SPACE, EN_SPACE, SPACE = "\u3000", "\u2002", " "
DOT = 1000  # units a light's disc takes before its name


# The font's localised forms ("locl"), which Pango applies by the document's language: in Chinese (zh-CN)
# the em dash is full width, otherwise the ellipsis is 1.059 em.
_LOCL = {"zh": {"—": 1000}, "en": {"…": 1059, "⋯": 1059}}


def char_width(ch: str, lang: str = "zh") -> int:
    """Advance width of one character in 1/1000 em (Noto Sans CJK SC Regular, text in language `lang`)."""
    local = _LOCL.get(lang)
    if local and ch in local:
        return local[ch]
    o = ord(ch)
    if 0x20 <= o < 0x7F:
        return _ASCII[o - 0x20]
    if 0xA0 <= o < 0x100:
        return _LATIN1[o - 0xA0]
    if 0x2000 <= o < 0x2070:
        return _PUNCT.get(o, 1000)
    if o in _SYMBOLS:
        return _SYMBOLS[o]
    if o < 0x2000:  # other Latin, Greek, Cyrillic: about an average Latin letter
        return 620
    if 0xAC00 <= o < 0xD7A4:  # Hangul syllables
        return 920
    if 0xFF61 <= o < 0xFFDD:  # half-width forms
        return 500
    return 1000  # CJK, full-width forms, symbols


@lru_cache(maxsize=8192)
def units(text: str, lang: str = "zh") -> int:
    """Advance width of `text` in 1/1000 em."""
    return sum(char_width(ch, lang) for ch in text)


def text_width(text: str, size: float, lang: str = "zh") -> float:
    """Advance width of `text` at `size` pt, in pt."""
    return units(text, lang) * size / 1000


def _pieces(text: str) -> list[str]:
    """Unbreakable pieces: a Latin word (with its trailing punctuation), a space, or one CJK character."""
    pieces: list[str] = []
    word = ""
    for ch in text:
        if ch == " ":
            if word:
                pieces.append(word)
                word = ""
            pieces.append(" ")
        elif ord(ch) < 0x2E80 and ch not in "·—…":
            word += ch
        else:
            if word:
                pieces.append(word)
                word = ""
            pieces.append(ch)
    if word:
        pieces.append(word)
    # glue closing punctuation to what precedes it and opening punctuation to what follows
    glued: list[str] = []
    for u in pieces:
        if glued and glued[-1] != " " and (u[0] in _NO_START or glued[-1][-1] in _NO_END):
            glued[-1] += u
        else:
            glued.append(u)
    return glued


def wrap(text: str, width: float, size: float, max_lines: int = 0, lang: str = "zh") -> list[str]:
    """Break `text` into lines no wider than `width` pt at `size` pt: at spaces and between CJK
    characters (never before closing punctuation); a word wider than a line is cut. With `max_lines`,
    the last kept line ends with an ellipsis."""
    text = " ".join(str(text).split())
    if not text:
        return [""]
    if text_width(text, size, lang) <= width:
        return [text]
    lines: list[str] = []
    cur, cur_w = "", 0.0
    for u in _pieces(text):
        w = text_width(u, size, lang)
        if u == " ":
            if cur:
                cur, cur_w = cur + u, cur_w + w
            continue
        if cur and cur_w + w > width:
            lines.append(cur.rstrip())
            cur, cur_w = "", 0.0
        while w > width and len(u) > 1:  # a single piece longer than the line: cut it
            cut = 1
            while cut < len(u) and text_width(u[:cut + 1], size, lang) <= width:
                cut += 1
            lines.append(u[:cut])
            u = u[cut:]
            w = text_width(u, size, lang)
        cur, cur_w = cur + u, cur_w + w
    if cur.strip():
        lines.append(cur.rstrip())
    if max_lines and len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and text_width(last + "…", size, lang) > width:
            last = last[:-1]
        lines = [*lines[:max_lines - 1], last.rstrip() + "…"]
    return lines


def clip(text: str, width: float, size: float, lines: int = 1, lang: str = "zh") -> str:
    """`text` cut (with an ellipsis) to what fits in `lines` lines `width` mm wide at `size` pt, for text
    that weasyprint or the browser wraps itself (with a 5 % margin for their line breaking)."""
    text = " ".join(str(text).split())
    full = wrap(text, width * MM * 0.95, size, 0, lang)
    if len(full) <= lines:
        return text
    end = 0
    for line in full[:lines]:
        end = text.find(line, end) + len(line)
    return text[:max(0, end - 2)].rstrip() + "…"


def balanced_wrap(text: str, width: float, size: float, max_lines: int = 0, lang: str = "zh") -> list[str]:
    """Like wrap(), in as many lines, but as narrow as that allows (参保人满意 / 度 becomes 参保人 / 满意度)."""
    lines = wrap(text, width, size, max_lines, lang)
    if len(lines) < 2 or (max_lines and len(lines) >= max_lines):
        return lines
    lo, hi = max(text_width(x, size, lang) for x in _pieces(text)), width
    while hi - lo > 0.5:
        mid = (lo + hi) / 2
        if len(wrap(text, mid, size, 0, lang)) <= len(lines):
            hi = mid
        else:
            lo = mid
    return wrap(text, hi, size, max_lines, lang)


def padding(gap: float) -> tuple[str, int]:
    """Ideographic spaces and spaces that come closest to `gap` units (at least one space): (text, width)."""
    return _padding(max(SPACE_W, round(gap)))


@lru_cache(maxsize=4096)
def _padding(gap: int) -> tuple[str, int]:
    best = (float("inf"), 0, 0, 0)
    for spaces in range(0, 9):
        for ens in range(0, 2):
            rest = gap - spaces * SPACE_W - ens * EN_W
            if rest < -SPACE_W:
                break
            ems = max(0, round(rest / 1000))
            err = abs(rest - ems * 1000) + 3 * (spaces + ens)  # a glyph less is worth 3 units
            if err < best[0] - 1e-9:
                best = (err, ems, ens, spaces)
    _, ems, ens, spaces = best
    return EM_SPACE * ems + EN_SPACE * ens + SPACE * spaces, ems * 1000 + ens * EN_W + spaces * SPACE_W


SPACE_W, EN_W = 224, 500


@dataclass(frozen=True)
class Col:
    """A grid column: its heading, width in mm (padding included), alignment (l, r, c) and whether long
    text wraps (otherwise a cell is one line; a wrapping column ends a text block)."""

    head: str
    width: float
    align: str = "l"
    wrap: bool = False
    max_lines: int = 0
    indent: float = 0.0  # mm more before left-aligned content: a gap of 1.5 em or more is padded precisely


@dataclass(frozen=True)
class Light:
    """A traffic-light cell: a disc in the light's colour, then its name."""

    key: str
    label: str


@dataclass
class Grid:
    cols: list[Col]
    head: list[str]
    rows: list[dict]  # {"kind": "row" | "group", "cls": str, "cells": [Markup, ...]}: the HTML table
    size: float  # font size, pt
    line: float  # pt between lines
    width: float = 0.0  # mm
    lines: int = 0
    blocks: list[dict] = field(default_factory=list)  # {"left": mm, "width": mm, "text": Markup}: the PDF
    svg: Markup = Markup("")  # the row colours and the lights' discs, drawn under the text

    @property
    def height(self) -> float:
        """Height in pt."""
        return round(self.lines * self.line, 3)


BANDS = {"head": "#dfe7f1", "group": "#e9eff7", "odd": "#ffffff", "even": "#f4f6f9"}


def _cell_html(cell) -> Markup:
    if isinstance(cell, list):
        return Markup("<br>").join(_cell_html(x) for x in cell)
    if isinstance(cell, Light):
        return Markup('<span class="d {}">●</span>{}').format(cell.key, cell.label)
    if isinstance(cell, tuple):
        return Markup('<span class="{}">{}</span>').format(cell[1], cell[0]) if cell[1] else escape(cell[0])
    return escape(cell)


def grid(cols: Sequence[Col], rows: Sequence[Mapping], *, size: float, line: float, pad: float = 0.8,
         head: bool = True, bands: Mapping | None = None, colours: Mapping[str, str] | None = None,
         dot_r: float = 0.34, lang: str = "zh") -> Grid:
    """Lay out `rows` ({"kind": "row" | "group", "cls": optional class, "cells": [...]}) in `cols` for
    text of `size` pt on lines `line` pt apart, with `pad` mm of padding at both sides of a cell. A cell
    is text (wrapped if its column wraps), a Light, (text, css class) for coloured text, or a list of
    those for explicit lines. `colours`:
    light key -> disc colour; `dot_r`: disc radius in em; `lang`: the document's language (zh or en), which
    changes a few glyph widths (see _LOCL)."""
    bands = {**BANDS, **(bands or {})}
    colours = dict(colours or {})
    cols = list(cols)
    heads = [c.head for c in cols]
    em_mm = size / MM  # mm per em
    to_u = 1000 / em_mm  # units per mm
    starts = [sum(c.width for c in cols[:i]) for i in range(len(cols))]
    html_rows: list[dict] = []
    table_rows = ([{"kind": "head", "cells": heads}] if head else []) + list(rows)
    # 1. every cell as lines of (plain text, css class or None, disc colour or None)
    prepared: list[tuple[str, list[list[tuple[str, str | None, str | None]]], int]] = []
    for row in table_rows:
        kind = row.get("kind", "row")
        cells = list(row["cells"]) + [""] * (len(cols) - len(row["cells"]))
        if kind != "head":
            html_rows.append({"kind": kind, "cls": row.get("cls", ""), "cells": [_cell_html(x) for x in cells]})
        split: list[list[tuple[str, str | None, str | None]]] = []
        for c, cell in zip(cols, cells):
            if isinstance(cell, Light):
                split.append([(cell.label, None, colours.get(cell.key, "#9e9e9e"))])
                continue
            if isinstance(cell, list):  # explicit lines, each text or (text, css class)
                split.append([(" ".join(str(x[0] if isinstance(x, tuple) else x).split()),
                               (x[1] or None) if isinstance(x, tuple) else None, None) for x in cell] or [("", None, None)])
                continue
            cls = None
            if isinstance(cell, tuple):
                cell, cls = cell[0], (cell[1] or None)
            text = " ".join(str(cell).split())
            lines = wrap(text, (c.width - 2 * pad) * MM - 0.6, size, c.max_lines, lang) if c.wrap else [text]
            split.append([(x, cls, None) for x in lines])
        prepared.append((kind, split, max(len(x) for x in split)))
    # 2. blocks of columns: a column that wrapped somewhere is the last of its block
    wrapped = {i for _, split, _ in prepared for i, lines in enumerate(split) if len(lines) > 1}
    block_cols: list[list[int]] = [[]]
    for i in range(len(cols)):
        block_cols[-1].append(i)
        if i in wrapped and i < len(cols) - 1:
            block_cols.append([])
    # 3. the text of each block, line by line; the discs; the row colours
    block_lines: list[list[Markup]] = [[] for _ in block_cols]
    dots: dict[str, list[tuple[float, int]]] = {}  # colour -> (x mm, line index)
    stops: list[tuple[str, int]] = []  # (colour, number of lines)
    stripe = 0
    y = 0
    for kind, split, n in prepared:
        for b, idx in enumerate(block_cols):
            x0 = starts[idx[0]]
            for k in range(n):
                pos = 0  # units from the block's left edge
                out: list[Markup] = []
                for i in idx:
                    if k >= len(split[i]):
                        continue
                    text, cls, dot = split[i][k]
                    if not text and not dot:
                        continue
                    c = cols[i]
                    w = units(text, lang) + (DOT if dot else 0)
                    # (a block's text starts `pad` into its first column, where the indent is left out)
                    left = (starts[i] - x0 + (c.indent if i != idx[0] else 0)) * to_u
                    right = (starts[i] - x0 + c.width - 2 * pad) * to_u
                    target = right - w if c.align == "r" else (left + right - w) / 2 if c.align == "c" else left
                    if pos or target > 0:
                        gap_text, gap_w = padding(target - pos)
                        out.append(Markup(gap_text))
                        pos += gap_w
                    if dot:
                        dots.setdefault(dot, []).append((x0 + pad + pos / to_u + 0.5 * em_mm, y + k))
                        out.append(Markup(EM_SPACE))
                        pos += DOT
                    out.append(Markup('<span class="{}">{}</span>').format(cls, text) if cls else escape(text))
                    pos += units(text, lang)
                block_lines[b].append(Markup("").join(out))
        y += n
        if kind in ("head", "group"):
            colour = bands[kind]
            stripe = 0
        else:
            colour = bands["odd" if stripe % 2 == 0 else "even"]
            stripe += 1
        if stops and stops[-1][0] == colour:
            stops[-1] = (colour, stops[-1][1] + n)
        else:
            stops.append((colour, n))
    g = Grid(cols=cols, head=heads, rows=html_rows, size=size, line=line, width=sum(c.width for c in cols), lines=y)
    for idx, lines in zip(block_cols, block_lines):
        g.blocks.append({"left": round(starts[idx[0]] + pad, 3), "width": round(sum(cols[i].width for i in idx) - pad, 3),
                         "text": Markup("\n").join(lines)})
    # one SVG under the text: the row colours (a path per colour), then the lights' discs
    w, h = g.width, g.height / MM
    shapes: list[Markup] = []
    bands_by_colour: dict[str, list[str]] = {}
    at = 0
    for colour, n in stops:
        if colour.lower() not in ("#fff", "#ffffff", "white", "none", "transparent"):
            y0, y1 = at * line / MM, (at + n) * line / MM
            bands_by_colour.setdefault(colour, []).append(f"M0,{y0:.2f}H{w:.2f}V{y1:.2f}H0Z")
        at += n
    for colour, ds in bands_by_colour.items():
        shapes.append(Markup('<path fill="{}" d="{}"/>').format(colour, "".join(ds)))
    r = dot_r * em_mm
    for colour, pts in dots.items():  # discs as round caps of zero-length strokes: cheaper to parse than arcs
        d = "".join(f"M{x:.2f},{(k + 0.5) * line / MM:.2f}h0" for x, k in pts)
        shapes.append(Markup('<path stroke="{}" stroke-width="{:.2f}" stroke-linecap="round" d="{}"/>').format(
            colour, 2 * r, d))
    if shapes:
        g.svg = Markup('<svg xmlns="http://www.w3.org/2000/svg" class="bands" width="{w:.2f}mm" height="{h:.2f}mm" '
                       'viewBox="0 0 {w:.2f} {h:.2f}">{p}</svg>').format(w=w, h=h, p=Markup("").join(shapes))
    return g


def place(segments: Sequence[tuple], size: float, lang: str = "zh") -> Markup:
    """One line of text at `size` pt with pieces placed by padding: segments are (x mm, align l|r|c,
    [(text, css class or ""), ...]), x the left edge, right edge or centre of the piece."""
    to_u = 1000 / (size / MM)
    out: list[Markup] = []
    pos = 0.0
    for x, align, pieces in sorted(segments, key=lambda s: s[0]):
        w = sum(units(t, lang) for t, _ in pieces)
        target = x * to_u - (w if align == "r" else w / 2 if align == "c" else 0)
        if pos or target > 0:
            pad_text, pad_w = padding(target - pos)
            out.append(Markup(pad_text))
            pos += pad_w
        for t, cls in pieces:
            out.append(Markup('<span class="{}">{}</span>').format(cls, t) if cls else escape(t))
            pos += units(t, lang)
    return Markup("").join(out)
