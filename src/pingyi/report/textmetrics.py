"""Text measurement for the PDF card: advance widths of Noto Sans CJK SC Regular (the only face the PDF
uses, kerning and ligatures off), so a text's width in points is known before weasyprint lays it out;
wrapping and clipping to a width (with the Chinese line-break rules), and padding with spaces of known
width. pingyi.report.textgrid builds its aligned tables on these.
"""

from __future__ import annotations

from functools import lru_cache

# Advance widths (per 1000 em) of U+0020..U+007E in Noto Sans CJK SC Regular.
_ASCII = (
    224,
    323,
    474,
    555,
    555,
    921,
    680,
    278,
    338,
    338,
    467,
    555,
    278,
    347,
    278,
    392,
    555,
    555,
    555,
    555,
    555,
    555,
    555,
    555,
    555,
    555,
    278,
    278,
    555,
    555,
    555,
    474,
    946,
    608,
    657,
    638,
    688,
    589,
    552,
    689,
    728,
    293,
    535,
    646,
    543,
    812,
    723,
    742,
    633,
    742,
    635,
    596,
    599,
    721,
    575,
    878,
    573,
    531,
    603,
    338,
    392,
    338,
    555,
    559,
    606,
    563,
    618,
    510,
    620,
    554,
    325,
    564,
    607,
    275,
    275,
    552,
    284,
    926,
    610,
    606,
    620,
    620,
    388,
    468,
    377,
    607,
    521,
    802,
    498,
    521,
    475,
    338,
    270,
    338,
    555,
)
# U+00A0..U+00FF (Latin-1 supplement) and the General Punctuation block (U+2000..U+206F) that the font has.
_LATIN1 = (
    224,
    323,
    555,
    555,
    555,
    555,
    270,
    1000,
    606,
    832,
    386,
    479,
    555,
    347,
    473,
    606,
    370,
    1000,
    411,
    411,
    606,
    628,
    1000,
    1000,
    606,
    411,
    407,
    479,
    873,
    903,
    889,
    474,
    608,
    608,
    608,
    608,
    608,
    608,
    918,
    638,
    589,
    589,
    589,
    589,
    293,
    293,
    293,
    293,
    712,
    723,
    742,
    742,
    742,
    742,
    742,
    1000,
    742,
    721,
    721,
    721,
    721,
    531,
    652,
    643,
    563,
    563,
    563,
    563,
    563,
    563,
    877,
    510,
    554,
    554,
    554,
    554,
    275,
    275,
    275,
    275,
    608,
    610,
    606,
    606,
    606,
    606,
    606,
    1000,
    606,
    607,
    607,
    607,
    607,
    521,
    620,
    521,
)
_PUNCT = {
    0x2002: 500,
    0x2011: 347,
    0x2012: 536,
    0x2013: 536,
    0x2014: 894,
    0x201A: 278,
    0x201E: 474,
    0x2032: 278,
    0x2033: 474,
    0x2039: 302,
    0x203A: 302,
    0x203C: 613,
    0x2047: 910,
    0x2048: 758,
    0x2049: 758,
}
# U+2070..U+2E7F that are not 1 em wide (the minus sign among them); everything else from U+2000 on is 1 em
# (CJK, full-width forms, symbols) but Hangul syllables and half-width forms (see char_width)
_SYMBOLS = {
    0x2074: 411,
    0x20A9: 555,
    0x20AB: 555,
    0x20AC: 555,
    0x20DD: 0,
    0x20DE: 0,
    0x2113: 457,
    0x2116: 997,
    0x2122: 711,
    0x212E: 894,
    0x2212: 555,
    0x2713: 683,
    0x2E3A: 1676,
    0x2E3B: 2459,
}
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
            while cut < len(u) and text_width(u[: cut + 1], size, lang) <= width:
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
        lines = [*lines[: max_lines - 1], last.rstrip() + "…"]
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
    return text[: max(0, end - 2)].rstrip() + "…"


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
    for spaces in range(9):
        for ens in range(2):
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
