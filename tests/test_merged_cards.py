"""All cards in one PDF in the committee's order, one bookmark per provider under its group."""

from __future__ import annotations

import json

from pypdf import PdfReader

import pingyi.api as p
from pingyi.report.committee import committee_context
from pingyi.report.context import prepare
from pingyi.report.merge import committee_order, merged_cards


def test_one_bookmark_per_provider_in_the_committee_order(example, tmp_path):
    reports = tmp_path / "reports"
    p.report(example.out, reports, formats=("pdf",), workers=1)
    doc = json.loads((example.out / "results.json").read_text(encoding="utf-8"))
    order = committee_order(committee_context(prepare(doc)))
    assert sorted(m.code for m in order) == sorted(q["fixmedins_code"] for q in doc["providers"])
    data, pages = merged_cards(reports / "cards", order)
    assert data == merged_cards(reports / "cards", order)[0]  # deterministic
    out = tmp_path / "all.pdf"
    out.write_bytes(data)
    reader = PdfReader(out)
    singles = {m.code: len(PdfReader(reports / "cards" / f"{m.code}.pdf").pages) for m in order}
    assert pages == len(reader.pages) == sum(singles.values())
    groups = [o for o in reader.outline if not isinstance(o, list)]
    children = [c for o in reader.outline if isinstance(o, list) for c in o]
    assert [g.title for g in groups] == list(dict.fromkeys(m.group for m in order))
    assert [c.title for c in children] == [m.title for m in order]
    start = 0
    for mark, child in zip(order, children, strict=True):  # each bookmark opens its provider's first page
        assert reader.get_destination_page_number(child) == start
        assert mark.code in reader.pages[start].extract_text()
        start += singles[mark.code]
    vetoed = [m for m in order if m.title.startswith("H51012100004")]
    assert vetoed and "不合格" in vetoed[0].title
    # `pingyi report` writes the same file beside the committee report
    assert (reports / "cards-all.pdf").read_bytes() == data
