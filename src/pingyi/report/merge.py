"""All cards in one PDF, in the committee's order, with one bookmark per provider (cards-all.pdf).

The committee reads the cards the way its report ranks them: within each level and provider type
(pingyi.report.committee.ranking_groups), best first, vetoed providers last. The PDF's outline has a
bookmark per group and, under it, one per provider ("H33010200006 杭州市第一人民医院 · 优秀 95.48"),
each pointing at the provider's first page. The pages are the cards' own (copied, not re-rendered,
so the merged file shows exactly what each provider received). Deterministic: pypdf writes no
date and derives the file identifier from the content.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfReader, PdfWriter

MERGED = "cards-all.pdf"


@dataclass(frozen=True)
class Bookmark:
    group: str  # e.g. "三级 · 综合（6家）"
    code: str
    title: str  # e.g. "H33010200006 杭州市第一人民医院 · 优秀 95.48"


def merged_cards(cards: Path, order: Sequence[Bookmark]) -> tuple[bytes, int]:
    """The cards of `order` (cards/<code>.pdf under `cards`) as one PDF and its page count."""
    writer = PdfWriter()
    parents: dict[str, object] = {}
    for mark in order:
        path = Path(cards) / f"{mark.code}.pdf"
        start = len(writer.pages)
        for page in PdfReader(path).pages:
            writer.add_page(page)
        if mark.group not in parents:
            parents[mark.group] = writer.add_outline_item(mark.group, start)
        writer.add_outline_item(mark.title, start, parent=parents[mark.group])  # type: ignore[arg-type]
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue(), len(writer.pages)


def committee_order(committee: dict, lang: str = "zh") -> list[Bookmark]:
    """The bookmarks of the committee context's ranking groups, in its order."""
    marks = []
    for g in committee["ranking_groups"]:
        group = f"{g['label']}（{g['n']}家）" if lang == "zh" else f"{g['label']} ({g['n']})"
        for r in g["rows"]:
            marks.append(Bookmark(group, r["code"], f"{r['code']} {r['name']} · {r['grade']} {r['total_display']}"))
    return marks
