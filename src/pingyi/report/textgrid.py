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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from pingyi.report.textmetrics import DOT, EM_SPACE, MM, padding, units, wrap


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
    rows: list[
        dict
    ]  # {"kind": "row" | "group" | "note", "cls": str, "cells": [Markup, ...], "span": n}: the HTML table
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


BANDS = {"head": "#dfe7f1", "group": "#e9eff7", "odd": "#ffffff", "even": "#f4f6f9", "note": "#ffffff"}


def _cell_html(cell) -> Markup:
    if isinstance(cell, list):
        return Markup("<br>").join(_cell_html(x) for x in cell)
    if isinstance(cell, Light):
        return Markup('<span class="d {}">●</span>{}').format(cell.key, cell.label)
    if isinstance(cell, tuple):
        return Markup('<span class="{}">{}</span>').format(cell[1], cell[0]) if cell[1] else escape(cell[0])
    return escape(cell)


def grid(
    cols: Sequence[Col],
    rows: Sequence[Mapping],
    *,
    size: float,
    line: float,
    pad: float = 0.8,
    head: bool = True,
    bands: Mapping | None = None,
    colours: Mapping[str, str] | None = None,
    dot_r: float = 0.34,
    lang: str = "zh",
) -> Grid:
    """Lay out `rows` ({"kind": "row" | "group" | "note", "cls": optional class, "cells": [...]}) in `cols` for
    text of `size` pt on lines `line` pt apart, with `pad` mm of padding at both sides of a cell. A cell
    is text (wrapped if its column wraps), a Light, (text, css class) for coloured text, or a list of
    those for explicit lines. A "note" row has one cell, one line across the whole grid (the caller keeps it
    within the grid's width; in the PDF it runs from the first column over the others' empty line). `colours`:
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
        kind = str(row.get("kind", "row"))
        cells = list(row["cells"]) + [""] * (len(cols) - len(row["cells"]))
        if kind == "note":
            cells = [row["cells"][0]] + [""] * (len(cols) - 1)
            html_rows.append(
                {"kind": kind, "cls": row.get("cls", ""), "cells": [_cell_html(cells[0])], "span": len(cols)}
            )
        elif kind != "head":
            html_rows.append(
                {"kind": kind, "cls": row.get("cls", ""), "cells": [_cell_html(x) for x in cells], "span": 0}
            )
        split: list[list[tuple[str, str | None, str | None]]] = []
        for c, cell in zip(cols, cells):
            if isinstance(cell, Light):
                split.append([(cell.label, None, colours.get(cell.key, "#9e9e9e"))])
                continue
            if isinstance(cell, list):  # explicit lines, each text or (text, css class)
                split.append(
                    [
                        (
                            " ".join(str(x[0] if isinstance(x, tuple) else x).split()),
                            (x[1] or None) if isinstance(x, tuple) else None,
                            None,
                        )
                        for x in cell
                    ]
                    or [("", None, None)]
                )
                continue
            cls = None
            if isinstance(cell, tuple):
                cell, cls = cell[0], (cell[1] or None)
            text = " ".join(str(cell).split())
            wraps = c.wrap and kind != "note"
            lines = wrap(text, (c.width - 2 * pad) * MM - 0.6, size, c.max_lines, lang) if wraps else [text]
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
        elif kind == "note":
            colour = bands["note"]
        else:
            colour = bands["odd" if stripe % 2 == 0 else "even"]
            stripe += 1
        if stops and stops[-1][0] == colour:
            stops[-1] = (colour, stops[-1][1] + n)
        else:
            stops.append((colour, n))
    g = Grid(cols=cols, head=heads, rows=html_rows, size=size, line=line, width=sum(c.width for c in cols), lines=y)
    for idx, texts in zip(block_cols, block_lines):
        g.blocks.append(
            {
                "left": round(starts[idx[0]] + pad, 3),
                "width": round(sum(cols[i].width for i in idx) - pad, 3),
                "text": Markup("\n").join(texts),
            }
        )
    # one SVG under the text: the row colours (a path per colour), then the lights' discs
    width_mm, height_mm = g.width, g.height / MM
    shapes: list[Markup] = []
    bands_by_colour: dict[str, list[str]] = {}
    at = 0
    for colour, n in stops:
        if colour.lower() not in ("#fff", "#ffffff", "white", "none", "transparent"):
            y0, y1 = at * line / MM, (at + n) * line / MM
            bands_by_colour.setdefault(colour, []).append(f"M0,{y0:.2f}H{width_mm:.2f}V{y1:.2f}H0Z")
        at += n
    for colour, ds in bands_by_colour.items():
        shapes.append(Markup('<path fill="{}" d="{}"/>').format(colour, "".join(ds)))
    r = dot_r * em_mm
    for colour, pts in dots.items():  # discs as round caps of zero-length strokes: cheaper to parse than arcs
        d = "".join(f"M{x:.2f},{(k + 0.5) * line / MM:.2f}h0" for x, k in pts)
        shapes.append(
            Markup('<path stroke="{}" stroke-width="{:.2f}" stroke-linecap="round" d="{}"/>').format(colour, 2 * r, d)
        )
    if shapes:
        g.svg = Markup(
            '<svg xmlns="http://www.w3.org/2000/svg" class="bands" width="{w:.2f}mm" height="{h:.2f}mm" '
            'viewBox="0 0 {w:.2f} {h:.2f}">{p}</svg>'
        ).format(w=width_mm, h=height_mm, p=Markup("").join(shapes))
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
