"""Report cards (issue 5) on the hand-made fixture tests/fixtures/report/results (4 providers, all 35
indicators, written by pingyi's own scoring stages: see tests/fixtures/report/make_results.py).

Done-when checks: every provider gets a PDF whose extracted text holds its name, its grade and the 35
indicator names; the committee PDF and the workbook exist; the workbook's totals equal scores.csv
exactly; a name with <script> or starting with = stays literal text in HTML, PDF and Excel; the
context builder is pure.
"""

from __future__ import annotations

import builtins
import copy
import csv
import io
import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from pingyi.cli import app
from pingyi.errors import PingyiError
from pingyi.report.card_layout import WIDTHS
from pingyi.report.context import build_contexts, prepare, provider_context
from pingyi.report.loader import load_results
from pingyi.report.pdf import PdfRenderer
from pingyi.report.run import WORKBOOK, render_reports
from pingyi.report.textgrid import Col, Light, grid
from pingyi.report.textmetrics import padding, units, wrap
from pingyi.report.xlsx import write_workbook

FIXTURE = Path(__file__).parent / "fixtures" / "report" / "results"
SCRIPT_NAME = "<script>alert(1)</script>示范医院"
FORMULA_NAME = '=HYPERLINK("x")'
needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) not installed")


@pytest.fixture(scope="module")
def fixture():
    return load_results(FIXTURE)


@pytest.fixture(scope="module")
def results(fixture):
    return fixture.results


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The whole `pingyi report` run once: PDF (2 worker processes), xlsx and html."""
    out = tmp_path_factory.mktemp("report")
    run = render_reports(FIXTURE, out, formats=["pdf,xlsx,html"], workers=2)
    return out, run


def pdftext(path: Path) -> str:
    """Text in content order (-raw keeps a wrapped table cell together); whitespace removed."""
    text = subprocess.run(["pdftotext", "-raw", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return re.sub(r"\s+", "", text)


# --------------------------------------------------------------------------- done when


@needs_poppler
def test_every_provider_card_has_name_grade_and_all_35_indicators(rendered, results):
    out, run = rendered
    names = [i["name_zh"] for i in results["indicators"]]
    assert len(names) == 35
    for p in results["providers"]:
        pdf = out / "cards" / f"{p['fixmedins_code']}.pdf"
        assert pdf.is_file(), pdf
        text = pdftext(pdf)
        assert re.sub(r"\s+", "", p["fixmedins_name"]) in text
        assert p["grade"] in text
        missing = [n for n in names if re.sub(r"\s+", "", n) not in text]
        assert missing == [], f"{p['fixmedins_code']}: {missing}"
    assert run.cards == 4


def test_committee_pdf_and_workbook_exist(rendered):
    out, run = rendered
    assert (out / "committee.pdf").stat().st_size > 10_000
    assert (out / WORKBOOK).stat().st_size > 5_000
    assert (out / "html" / "index.html").is_file() and (out / "html" / "committee.html").is_file()
    assert sorted(p.name for p in (out / "html" / "cards").iterdir()) == [
        "H33010600001.html",
        "H33010600002.html",
        "H42010200004.html",
        "H51010400003.html",
    ]


@needs_poppler
def test_committee_pdf_content(rendered, results):
    text = pdftext(rendered[0] / "committee.pdf")
    for word in (
        "等级分布",
        "分地区、分级别比较",
        "各维度红灯情况",
        "预付金调整预算",
        "定点资格风险机构",
        "数据质量概况",
        "分级别、分类型排名",
        "880,000.00",
        "625,000.00",
    ):
        assert word in text, word
    for p in results["providers"]:
        assert re.sub(r"\s+", "", p["fixmedins_name"]) in text


@needs_poppler
def test_committee_sections_are_numbered(rendered):
    text = pdftext(rendered[0] / "committee.pdf")
    heads = re.findall(r"([一二三四五六七八九十]+)、", text)
    assert heads[:3] == ["一", "二", "三"]
    assert "一、等级分布" in text and "二、分地区、分级别比较" in text


def test_committee_counts_agree_with_scores_csv(example):
    """Every count of the committee report's context against the scores.csv and adjustments.csv of the
    same run: providers, grades, region x level groups, level x type ranking groups (each provider in
    exactly one, vetoed ones last and not ranked), penalised and rewarded providers."""
    from pingyi.report.committee import committee_context

    out = example.out
    with open(out / "scores.csv", encoding="utf-8-sig", newline="") as f:
        scores = list(csv.DictReader(f))
    with open(out / "adjustments.csv", encoding="utf-8-sig", newline="") as f:
        money = list(csv.DictReader(f))
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    ctx = committee_context(prepare(doc))
    assert ctx["n"] == len(scores) == 24
    grades = {g["grade"]: g["count"] for g in ctx["distribution"]}
    for grade in grades:
        assert grades[grade] == sum(s["grade"] == grade for s in scores), grade
    assert sum(c["n"] for c in ctx["comparison"]) == len(scores)
    for c in ctx["comparison"]:
        assert sum(g["count"] for g in c["grades"]) == c["n"]
    listed = [r["code"] for g in ctx["ranking_groups"] for r in g["rows"]]
    assert sorted(listed) == sorted(s["fixmedins_code"] for s in scores)  # each provider exactly once
    vetoed = {p["fixmedins_code"] for p in doc["providers"] if p["veto"]}
    assert vetoed  # the example plants a fraud case
    for g in ctx["ranking_groups"]:
        assert g["n"] == len(g["rows"])
        codes = [r["code"] for r in g["rows"]]
        flagged = [c for c in codes if c in vetoed]
        assert codes[len(codes) - len(flagged) :] == flagged  # vetoed last
        for r in g["rows"]:
            if r["code"] in vetoed:
                assert r["rank_display"] == "末位" and "一票否决" in r["note"]
        ranked = [r for r in g["rows"] if r["rank_display"].isdigit()]
        totals = [float(r["total_display"]) for r in ranked]
        assert totals == sorted(totals, reverse=True)
        assert [int(r["rank_display"]) for r in ranked][:1] in ([], [1])
    assert ctx["budget"]["penalised"] == sum(m["amount"].startswith("-") for m in money)
    assert ctx["budget"]["rewarded"] == sum(float(m["amount"]) > 0 for m in money)
    assert ctx["budget"]["unchanged"] == sum(float(m["amount"]) == 0 for m in money)


def test_funnel_notes_are_chinese_in_the_chinese_report(example):
    from pingyi.report.committee import committee_context

    doc = json.loads((example.out / "results.json").read_text(encoding="utf-8"))
    zh = committee_context(prepare(doc))
    en = committee_context(prepare(doc, lang="en"))
    assert zh["funnels"] and all(re.search(r"[a-zA-Z]{3,}", f["note"]) is None for f in zh["funnels"])
    assert [f["note"] for f in en["funnels"]] == [doc["funnels"][f["code"]]["note"] for f in en["funnels"]]


def test_workbook_totals_equal_scores_csv_exactly(rendered, fixture):
    wb = openpyxl.load_workbook(rendered[0] / WORKBOOK)
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]
    col = {h: i for i, h in enumerate(header)}
    rows = {r[0]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    with (FIXTURE / "scores.csv").open(encoding="utf-8", newline="") as fh:
        scores = list(csv.DictReader(fh))
    assert len(rows) == len(scores) == 4
    dims = [h for h in scores[0] if re.fullmatch(r"D\d", h)]
    for s in scores:
        row = rows[s["fixmedins_code"]]
        assert row[col["总分"]] == float(s["total_score"])  # exactly, not approximately
        assert row[col["等级"]] == s["grade"]
        assert row[col["排名"]] == int(s["rank"])
        for d in dims:
            dim_col = next(i for h, i in col.items() if h.startswith(d + " "))
            assert row[dim_col] == float(s[d])


def test_workbook_sheets_formats_and_fills(rendered):
    wb = openpyxl.load_workbook(rendered[0] / WORKBOOK)
    assert wb.sheetnames[:4] == ["汇总", "指标明细", "预付金调整", "说明"]
    assert set(wb.sheetnames[4:]) == {"H33010600001", "H33010600002", "H42010200004", "H51010400003"}
    summary, ind, adj = wb["汇总"], wb["指标明细"], wb["预付金调整"]
    assert summary.freeze_panes == "C2" and summary.auto_filter.ref == "A1:AB5"
    assert ind.max_row == 1 + 4 * 35 and ind.auto_filter.ref == "A1:V141"
    assert ind.freeze_panes == "F2"
    header = [c.value for c in ind[1]]
    units, values = header.index("单位"), header.index("本年值")
    lights, weight = header.index("灯"), header.index("权重")
    for row in ind.iter_rows(min_row=2):
        if row[units].value == "%" and row[values].value is not None:
            assert row[values].number_format == "0.0%"
        if row[lights].value == "红":
            assert row[lights].fill.fgColor.rgb.endswith("FFC7CE")
        if row[weight].value is not None:
            assert row[weight].number_format == "0.00%"
    # effective and nominal weight side by side; a grey indicator's status names its kind of absence
    nominal, status = header.index("名义权重"), header.index("状态")
    assert nominal == weight + 1
    assert any(
        row[nominal].value and row[weight].value and row[weight].value > row[nominal].value
        for row in ind.iter_rows(min_row=2)
    )
    assert any("样本量不足" in (row[status].value or "") for row in ind.iter_rows(min_row=2))
    money = [c for c in adj[2] if c.number_format == "#,##0.00"]
    assert money, "yuan columns use #,##0.00"
    assert summary.column_dimensions["B"].width >= 20  # a Chinese name gets room (two units per character)


def test_workbook_is_deterministic_and_has_no_timestamps(tmp_path, fixture):
    ctx = build_contexts(fixture.results, quality_rows=fixture.quality_rows)
    a = write_workbook(ctx.cards.values(), ctx.committee, tmp_path / "a.xlsx").read_bytes()
    b = write_workbook(ctx.cards.values(), ctx.committee, tmp_path / "b.xlsx").read_bytes()
    assert a == b
    core = zipfile.ZipFile(io.BytesIO(a)).read("docProps/core.xml")
    assert b"dcterms:created" not in core and b"dcterms:modified" not in core


# --------------------------------------------------------------------------- hostile names


def test_script_name_is_escaped_in_html(rendered):
    out = rendered[0] / "html"
    for page in (out / "cards" / "H33010600002.html", out / "index.html", out / "committee.html"):
        html = page.read_text(encoding="utf-8")
        assert "&lt;script&gt;alert(1)&lt;/script&gt;示范医院" in html, page.name
        assert "<script>alert(1)" not in html, page.name
    card = (out / "cards" / "H33010600002.html").read_text(encoding="utf-8")
    assert "<script" not in card  # a card carries no script at all
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//|url\(|@import""", card)  # self-contained, offline


@needs_poppler
def test_hostile_names_are_literal_text_in_pdf(rendered):
    out = rendered[0]
    assert SCRIPT_NAME in pdftext(out / "cards" / "H33010600002.pdf")
    assert FORMULA_NAME in pdftext(out / "cards" / "H51010400003.pdf")


def test_hostile_names_stay_strings_in_excel(rendered):
    path = rendered[0] / WORKBOOK
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.value in (SCRIPT_NAME, FORMULA_NAME):
                    assert cell.data_type == "s", (ws.title, cell.coordinate)
    names = [r[1] for r in wb["汇总"].iter_rows(min_row=2, values_only=True)]
    assert FORMULA_NAME in names and SCRIPT_NAME in names
    # no formula anywhere in the package: the name is an inline string, not <f>HYPERLINK(...)</f>
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in z.read(name) and b"<f " not in z.read(name), name


def test_text_starting_with_plus_minus_at_or_error_code_stays_text(tmp_path, results):
    hostile = copy.deepcopy(results)
    for p, name in zip(hostile["providers"], ("+1+2", "-3-4", "@SUM(A1)", "#N/A")):
        p["fixmedins_name"] = name
    ctx = build_contexts(hostile)
    wb = openpyxl.load_workbook(write_workbook(ctx.cards.values(), ctx.committee, tmp_path / "h.xlsx"))
    cells = {c.value: c for row in wb["汇总"].iter_rows(min_row=2) for c in row[1:2]}
    for name in ("+1+2", "-3-4", "@SUM(A1)", "#N/A"):
        assert cells[name].data_type == "s"


# --------------------------------------------------------------------------- the context


def test_context_builder_is_pure(results, fixture, monkeypatch):
    frozen = json.dumps(results, sort_keys=True)

    def no_io(*args, **kwargs):
        raise AssertionError("the context builder must not do I/O")

    monkeypatch.setattr(builtins, "open", no_io)
    monkeypatch.setattr(io, "open", no_io)
    monkeypatch.setattr(os, "open", no_io)
    monkeypatch.setattr(Path, "open", no_io)
    a = build_contexts(results, quality_rows=fixture.quality_rows, rejected_counts=fixture.rejected_counts)
    b = build_contexts(
        copy.deepcopy(results), quality_rows=fixture.quality_rows, rejected_counts=fixture.rejected_counts
    )
    monkeypatch.undo()
    assert a == b
    assert json.dumps(a.cards, sort_keys=True, ensure_ascii=False) == json.dumps(
        b.cards, sort_keys=True, ensure_ascii=False
    )
    assert json.dumps(results, sort_keys=True) == frozen  # input untouched


def test_fix_first_is_weight_times_score_gap(results):
    prep = prepare(results)
    for p in results["providers"]:
        ctx = provider_context(prep, p["fixmedins_code"])
        gains = sorted(
            (
                (i["weight"] * (100 - i["score"]), i["code"])
                for i in p["indicators"]
                if i["status"] == "scored" and i["score"] < 100
            ),
            key=lambda x: (-x[0], x[1]),
        )[:3]
        assert [f["code"] for f in ctx["fix_first"]] == [c for _, c in gains]
        assert [f["gain"] for f in ctx["fix_first"]] == pytest.approx([g for g, _ in gains])


def test_peers_changes_adjustment_and_quality(results):
    prep = prepare(results)
    hz = provider_context(prep, "H33010600001")
    assert hz["peer_n"] == 2 and hz["peer_rank"] == 1 and "东部·三级" in hz["peer_label"]
    both = [p for p in results["providers"] if p["region"] == "east" and p["level"] == "三级"]
    d1 = [next(x["score"] for x in p["primaries"] if x["code"] == "D1") for p in both]
    assert hz["dimensions"][0]["peer_mean"] == pytest.approx(sum(d1) / 2)
    assert hz["adjustment"]["amount"] == 625000.0 and hz["adjustment"]["rate_display"] == "+5%"
    assert [d["code"] for d in hz["dimensions"]] == [f"D{i}" for i in range(1, 9)]
    assert sum(len(d["indicators"]) for d in hz["dimensions"]) == 35
    # alone in its region and level: averages fall back to all providers, the rank stays within the group
    wh = provider_context(prep, "H42010200004")
    assert wh["peer_rank_display"] == "1/1†" and "全部机构" in wh["peer_label"]  # †: fewer than five peers
    assert wh["adjustment"]["designation"] == "warning" and wh["adjustment"]["prepayment"] is None
    bad = provider_context(prep, "H33010600002")
    assert bad["adjustment"]["designation"] == "revoked"
    assert bad["quality"]["rejected"] == 42 and bad["quality"]["checks"][0]["failed"] == 640
    grey = provider_context(prep, "H51010400003")
    assert grey["lights"]["grey"] == 3
    assert all(r["weight_display"] == "—" for r in grey["indicators"] if r["status"] == "insufficient")
    moved = [r for r in hz["indicators"] if r["trend"] in ("improved", "worsened")]
    assert moved and all(r["prior"] is not None for r in moved)
    committee = build_contexts(results).committee
    assert [g["count"] for g in committee["distribution"]] == [1, 0, 1, 2]
    assert {a["code"] for a in committee["at_risk"]} == {"H33010600002", "H42010200004"}
    # the at-risk list by designation word (revoked first), two providers a row, each exactly once
    groups = committee["at_risk_groups"]
    assert [(g["label"], [a["code"] for a in g["rows"]]) for g in groups] == [
        (bad["adjustment"]["designation_label"], ["H33010600002"]),
        (wh["adjustment"]["designation_label"], ["H42010200004"]),
    ]
    assert [[(a["code"], b) for a, b in g["pairs"]] for g in groups] == [
        [("H33010600002", None)],
        [("H42010200004", None)],
    ]
    assert committee["budget"]["net"] == -255000.0


def test_quality_notes_from_quality_csv_when_results_json_has_none(results, fixture):
    bare = copy.deepcopy(results)
    bare["quality"] = {}
    for p in bare["providers"]:
        p["quality"] = {}
    ctx = build_contexts(bare, quality_rows=fixture.quality_rows, rejected_counts=fixture.rejected_counts)
    assert ctx.cards["H33010600002"]["quality"]["rejected"] == 42
    assert ctx.committee["quality"]["top_failures"][0]["failed"] == 640 + 12  # late uploads, over all providers
    assert {"table": "setlinfo", "reason_code": "negative_money", "rows": 37} in ctx.committee["quality"][
        "rejected_by_reason"
    ]


def test_english_labels_and_names(results):
    ctx = build_contexts(results, lang="en").cards["H33010600001"]
    assert ctx["L"]["total"] == "Total score" and ctx["grade"] == "Excellent"
    assert ctx["indicators"][0]["name"] == "Growth in cost per inpatient stay"
    assert ctx["dimensions"][0]["name"] == results["primaries"][0]["name_en"]
    with pytest.raises(ValueError):
        build_contexts(results, lang="fr")


# --------------------------------------------------------------------------- PDF details


@needs_poppler
def test_pdf_embeds_only_the_cjk_font_and_is_deterministic(tmp_path, rendered, results):
    first = rendered[0] / "cards" / "H51010400003.pdf"  # rendered in a worker process
    ctx = build_contexts(results).cards["H51010400003"]
    PdfRenderer().card(ctx, tmp_path / "again.pdf")  # and again in this one
    assert (tmp_path / "again.pdf").read_bytes() == first.read_bytes()
    data = first.read_bytes()
    assert b"/CreationDate" not in data and b"/ModDate" not in data
    fonts = subprocess.run(["pdffonts", str(first)], capture_output=True, text=True, check=True).stdout
    families = {line.split()[0].split("+", 1)[-1] for line in fonts.splitlines()[2:]}
    # one face, no fallback fonts (SVG included), and no bold: every face is one more font subset per PDF
    assert families == {"Noto-Sans-CJK-SC"}, families
    assert "yes yes yes" in fonts  # embedded, subset, with a ToUnicode map


def pdf_pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


@needs_poppler
def test_every_card_is_one_a4_page(rendered, results, tmp_path):
    out, run = rendered
    assert run.pages == run.cards == 4
    for p in results["providers"]:
        pdf = out / "cards" / f"{p['fixmedins_code']}.pdf"
        assert pdf_pages(pdf) == 1, pdf.name
        info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
        assert "595.276 x 841.89 pts (A4)" in info
    # the English card too (longer names wrap in the grid; it still fits)
    renderer = PdfRenderer()
    for code, ctx in build_contexts(results, lang="en").cards.items():
        assert renderer.card(ctx, tmp_path / f"{code}.pdf") == 1, code
        # fits without trimming its texts (card_layout.FIT_LEVELS; level 1 only leaves out the
        # small-sample intervals note)
        assert renderer.last_fit <= 1, code
    text = pdftext(tmp_path / "H33010600001.pdf")
    for name in (
        "Growth in cost per inpatient stay",
        "Direct-settlement rate for chronic and special-disease outpatient care",
    ):
        assert name.replace(" ", "") in text, name


def test_card_stays_one_page_with_long_texts(tmp_path, results):
    """Long names, reasons, suggestions, rules, vetoes, case-mix notes and many failed checks are cut to
    their room on the PDF card (the HTML card keeps them whole), and a card that would still run over is
    laid out again with less of them: the card stays one page."""
    renderer = PdfRenderer()
    for lang in ("zh", "en"):
        ctx = copy.deepcopy(build_contexts(results, lang=lang).cards["H33010600002"])
        ctx["provider"]["name"] = "某某省某某市某某县人民医院医疗保障定点机构（总院及第一第二第三分院）联合体"
        ctx["veto"] = ["欺诈骗保", "拒不配合检查", "重复收费"]
        for f in ctx["fix_first"]:
            f["name"] += "（补充说明的名称）" * 3
            f["reason"] = "很长的说明文字，检验优先改进部分在最坏情况下仍在一页之内。" * 6
            f["interpretation"] = "核查建议很长很长" * 60
        ctx["quality"]["checks"] = [dict(c, reason=c["reason"] * 4) for c in ctx["quality"]["checks"] * 8]
        ctx["quality"]["other"] = [{"key": f"note{i}", "value": "很长的附注" * 30} for i in range(6)]
        ctx["adjustment"]["rule_text"] *= 5
        ctx["adjustment"]["rule"] *= 8
        ctx["changes"]["note"] *= 3
        for r in ctx["indicators"][:5]:  # a project that adjusts five indicators, each with a long sentence
            r["casemix"], r["adjusted_value_display"], r["casemix_note"] = "adjusted", "1.0%", "病例组合说明" * 40
        assert renderer.card(ctx, tmp_path / f"long-{lang}.pdf") == 1, lang
        assert renderer.last_fit > 0, lang  # it needed the tighter levels


@needs_poppler
def test_card_text_grid_columns_line_up(rendered):
    """The indicator grid is pre-formatted text placed by padding (pingyi.report.textgrid): the right edges of
    the numbers in one column agree to within a point, i.e. the width table matches what Pango lays out."""
    bbox = subprocess.run(
        ["pdftotext", "-bbox", str(rendered[0] / "cards" / "H51010400003.pdf"), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    words = [
        (float(a), float(b), float(c), w)
        for a, b, c, w in re.findall(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)<', bbox)
    ]
    pt = 72 / 25.4
    w = WIDTHS["zh"]["ind"]
    weight_end, light_start = (8 + sum(w[:7])) * pt, (8 + sum(w[:4])) * pt  # page margin 8 mm
    weights = [x1 for x0, y, x1, w in words if re.fullmatch(r"\d+\.\d\d%", w) and abs(x1 - weight_end) < 8]
    assert len(weights) >= 35  # one row per scored indicator of two cards (CMI is monitor-only)
    assert max(weights) - min(weights) < 1.0, sorted(weights)
    lights = [x0 for x0, y, x1, w in words if w in ("绿", "黄", "红", "灰") and 0 < x0 - light_start < 25]
    assert len(lights) >= 35
    assert max(lights) - min(lights) < 1.0, sorted(lights)
    bbox = subprocess.run(
        ["pdftotext", "-bbox", str(rendered[0] / "cards" / "H33010600001.pdf"), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout  # a provider with a peer
    percentiles = [
        float(x1)
        for x1, w in re.findall(r'xMax="([\d.]+)" yMax="[\d.]+">(P\d+†?)<', bbox)
        if 0 < float(x1) - weight_end < 40
    ]  # not the key figures' total
    assert len(percentiles) >= 30
    assert max(percentiles) - min(percentiles) < 1.0, sorted(percentiles)


def test_textgrid_pads_escapes_and_keeps_rows_aligned():
    cols = [Col("编号", 10), Col("指标", 20, wrap=True), Col("值", 15, "r"), Col("灯", 10)]
    rows = [
        {"kind": "group", "cells": ["D1", "<b>&基金", "", Light("red", "红")]},
        {"kind": "row", "cells": ["D1.01", "一个很长很长很长很长很长的指标名称\n第二行", "1.5%", Light("green", "绿")]},
        {"kind": "row", "cells": ["D1.02", "短", ("−0.2", "worsened"), Light("nope", "?")]},
    ]
    g = grid(cols, rows, size=7, line=9, colours={"red": "#d7301f", "green": "#2e9d4a"})
    assert len(g.blocks) == 2  # the name wrapped: the columns after it are a block of their own
    texts = [str(b["text"]) for b in g.blocks]
    assert all(t.count("\n") == g.lines - 1 for t in texts)  # every block has every line
    assert "&lt;b&gt;&amp;基金" in texts[0] and "<b>" not in texts[0]
    assert '<span class="worsened">−0.2</span>' in texts[1]
    assert (
        g.lines == 1 + 1 + len(wrap("一个很长很长很长很长很长的指标名称 第二行", (20 - 1.6) * 72 / 25.4 - 0.6, 7)) + 1
    )
    assert 'stroke="#d7301f"' in str(g.svg) and 'stroke="#9e9e9e"' in str(g.svg)  # unknown light: grey
    assert [r["kind"] for r in g.rows] == ["group", "row", "row"] and "&lt;b&gt;" in str(g.rows[0]["cells"][1])
    for gap in range(1500, 9000, 7):  # spacers: ideographic space, en space, space
        text, width = padding(gap)
        assert width == units(text) and abs(width - gap) <= 50, gap
    assert (
        wrap("按指标导向判断：改善 8 项，退步 8 项。", 40, 7)[1][0] not in "，。："
    )  # no line starts with punctuation


def test_templates_dir_overrides_one_file(tmp_path, results):
    own = tmp_path / "tpl"
    own.mkdir()
    shipped = Path(__file__).resolve().parents[1] / "reports" / "templates" / "index.html"
    (own / "index.html").write_text(
        shipped.read_text(encoding="utf-8").replace(
            "<h1>{{ year_title }} {{ L.index_title }}</h1>", "<h1>委员会自定义模板 {{ year_title }}</h1>"
        ),
        encoding="utf-8",
    )
    render_reports(FIXTURE, tmp_path / "out", formats=["html"], templates=own)
    index = (tmp_path / "out" / "html" / "index.html").read_text(encoding="utf-8")
    assert "委员会自定义模板 2025" in index
    card = (tmp_path / "out" / "html" / "cards" / "H33010600001.html").read_text(encoding="utf-8")
    assert "医保定点医疗机构评议报告卡" in card  # the other templates fall back to the shipped ones


# --------------------------------------------------------------------------- CLI


def test_cli_report_selected_provider_english(tmp_path):
    res = CliRunner().invoke(
        app,
        [
            "report",
            "--results",
            str(FIXTURE),
            "--out",
            str(tmp_path),
            "--format",
            "xlsx,html",
            "--provider",
            "H33010600001",
            "--lang",
            "en",
        ],
    )
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(tmp_path / WORKBOOK)
    assert wb.sheetnames[:4] == ["Summary", "Indicators", "Adjustments", "About"]
    assert [r[0] for r in wb["Summary"].iter_rows(min_row=2, values_only=True)] == ["H33010600001"]
    assert not (tmp_path / "html" / "committee.html").exists()  # the committee report needs every provider
    assert "Growth in cost per inpatient stay" in (tmp_path / "html" / "cards" / "H33010600001.html").read_text("utf-8")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"providers": ["NOPE"]}, "NOPE not in"),
        ({"formats": ["pdf,docx"]}, "unknown format 'docx'"),
        ({"lang": "fr"}, "unknown language"),
    ],
)
def test_report_user_errors(tmp_path, kwargs, message):
    with pytest.raises(PingyiError, match=message):
        render_reports(FIXTURE, tmp_path, **{"formats": ["html"], **kwargs})


def test_report_refuses_results_json_and_scores_csv_that_disagree(tmp_path):
    mixed = tmp_path / "mixed"
    shutil.copytree(FIXTURE, mixed)
    text = (mixed / "scores.csv").read_text(encoding="utf-8").replace("91.8429", "91.8430")
    (mixed / "scores.csv").write_text(text, encoding="utf-8")
    with pytest.raises(PingyiError, match="total_score of H33010600001 is 91.8430"):
        render_reports(mixed, tmp_path / "out", formats=["html"])


def test_cli_report_missing_results(tmp_path):
    with pytest.raises(PingyiError, match="no results.json"):
        render_reports(tmp_path, tmp_path / "out")


# --------------------------------------------------------------------------- fair comparisons (issue 6)


@needs_poppler
def test_card_shows_peer_percentiles_and_both_case_mix_values(rendered, results):
    """The peer view (percentile per indicator and for the total, among the same region and level) and the
    case-mix sentence (raw and adjusted values, which one counted) on the PDF card, the HTML card and the
    workbook. The fixture's H33010600001 has one peer (H33010600002, east 三级) and scores above it on D1.01;
    its expected cost per stay rose 24 %, so raw growth (30.1 %, red) and adjusted (4.9 %, green) differ."""
    out, _ = rendered
    p = next(p for p in results["providers"] if p["fixmedins_code"] == "H33010600001")
    d101 = next(i for i in p["indicators"] if i["code"] == "D1.01")
    assert (p["peer_n"], p["peer_percentile"], d101["peer_percentile"]) == (2, 100.0, 100.0)
    text = pdftext(out / "cards" / "H33010600001.pdf")
    # the total, in the key figures: one peer, so the group's size and the caution instead of a percentile
    assert "1/2†" in text and "东部·三级（2家，仅供参考）" in text
    assert "4.9%*5.0%绿100.06.54%P100†" in text  # D1.01's row: the scored value is marked as adjusted
    assert (
        "*D1.01：原始值30.1%为红灯，但其收治患者病情更重" in text
        and "病例组合调整后为4.9%，绿灯；计分采用调整值" in text
    )
    assert "分位：在同组机构（东部·三级，2家）中优于其他机构的比例" in text
    # a provider without a peer of its region and level shows a dash, not a percentile
    alone = pdftext(out / "cards" / "H42010200004.pdf")
    assert "分位P" not in alone and "·P" not in alone
    html = (out / "html" / "cards" / "H33010600001.html").read_text(encoding="utf-8")
    assert "*D1.01：原始值 30.1% 为红灯" in html and ">P100†<" in html
    wb = openpyxl.load_workbook(out / WORKBOOK)
    summary, ind = wb["汇总"], wb["指标明细"]
    head = [c.value for c in summary[1]]
    rows = {r[0]: r for r in summary.iter_rows(min_row=2, values_only=True)}
    assert rows["H33010600001"][head.index("同组分位")] == 100 and rows["H33010600002"][head.index("同组分位")] == 0
    assert rows["H42010200004"][head.index("同组分位")] is None
    head = [c.value for c in ind[1]]
    row = next(r for r in ind.iter_rows(min_row=2, values_only=True) if r[0] == "H33010600001" and r[3] == "D1.01")
    assert row[head.index("本年值")] == row[head.index("病例组合调整值")] == d101["adjusted_value"] == d101["value"]
    assert row[head.index("原始值")] == d101["raw_value"] == pytest.approx(1.04945 * 1.24 - 1)
    assert row[head.index("计分采用")] == "病例组合调整值" and row[head.index("同组分位")] == 100
    other = next(r for r in ind.iter_rows(min_row=2, values_only=True) if r[0] == "H33010600001" and r[3] == "D1.02")
    assert other[head.index("计分采用")] is None and other[head.index("原始值")] is None


@needs_poppler
def test_committee_report_shows_whose_light_the_case_mix_changed(rendered, results):
    """The fixture's D1.01: H33010600001's patients got sicker (expected cost +24 %): red raw, green adjusted;
    H33010600002's got lighter (−3 %): green raw, red adjusted; the other two keep their light."""
    cm = build_contexts(results).committee["casemix"]
    assert cm["indicators"] == [
        {
            "code": "D1.01",
            "name": "次均住院费用增长率",
            "n": 4,
            "changed": 2,
            "saved": 1,
            "caught": 1,
            "share_display": "50.0%",
        }
    ]
    assert [
        (r["code"], r["raw_light"]["key"], r["adjusted_light"]["key"], r["expected_change_display"])
        for r in cm["changed"]
    ] == [("H33010600001", "red", "green", "+24.0%"), ("H33010600002", "green", "red", "-3.0%")]
    assert cm["regions"] == []  # the fixture has no fitted cost model
    # a change between yellow and green counts as a change, neither "saved" nor "caught"
    edited = copy.deepcopy(results)
    p4 = next(p for p in edited["providers"] if p["fixmedins_code"] == "H51010400003")
    note = next(i for i in p4["indicators"] if i["code"] == "D1.01")["casemix_note"]
    note["raw_light"], note["adjusted_light"] = "yellow", "green"
    cm2 = build_contexts(edited).committee["casemix"]
    assert {k: cm2["indicators"][0][k] for k in ("n", "changed", "saved", "caught")} == {
        "n": 4,
        "changed": 3,
        "saved": 1,
        "caught": 1,
    }
    assert [r["code"] for r in cm2["changed"]] == ["H33010600001", "H33010600002", "H51010400003"]
    text = pdftext(rendered[0] / "committee.pdf")
    assert "D1.01次均住院费用增长率：4家机构有病例组合调整值；调整改变了2家（50.0%）的灯色" in text
    assert "30.1%●红4.9%●绿+24.0%病例组合调整值" in text


@needs_poppler
def test_the_chinese_card_prints_no_english_rule_record(example, tmp_path):
    """The rule record (results.json's `rule`, e.g. "step: 优秀 5%; credit AAA 10%") is a machine field:
    the Chinese card says the rule in words and the credit line says the credit."""
    render_reports(example.out, tmp_path / "r", formats=["pdf"], providers=["H33010200006"], workers=1)
    text = pdftext(tmp_path / "r" / "cards" / "H33010200006.pdf")
    assert "step:" not in text and "credit" not in text and "规则记录" not in text
    assert "按等级定档" in text or "预付金调整" in text


def test_the_committee_report_says_what_the_expert_screening_did(example, tmp_path):
    """results.json carries the per-expert CR screening of every AHP matrix; the committee report says
    it: none flagged in the example, and a flagged or excluded expert by name, matrix and CR."""
    from types import SimpleNamespace

    from tests.test_uncertainty_sources import mini_with_two_d1_experts

    from pingyi.report.committee import committee_context, screening_text
    from pingyi.run.results import _screening_json
    from pingyi.validate import validate_project

    doc = json.loads((example.out / "results.json").read_text(encoding="utf-8"))
    s = doc["expert_screening"]
    assert s["threshold"] == 0.1 and len(s["matrices"]) == 9 and not any(m["screened"] for m in s["matrices"])
    assert "无专家被标记或剔除" in committee_context(prepare(doc))["screening"]
    checked = mini_with_two_d1_experts(tmp_path)
    root = checked.project.root
    path = root / "indicators" / "D1_cost.yaml"  # E2 of D1 with an inconsistent matrix: flagged
    text = path.read_text(encoding="utf-8")
    consistent = '        - [1, "1/2", "1/4"]\n        - [2, 1, "1/2"]\n        - [4, 2, 1]'
    assert consistent in text
    path.write_text(text.replace(consistent, '        - [1, 3, "1/5"]\n        - ["1/3", 1, 3]\n        - [5, "1/3", 1]'),
                    encoding="utf-8")  # fmt: skip
    again = validate_project(root)
    shown = _screening_json(SimpleNamespace(project=again.project, tree=again.tree))
    flagged = [e for m in shown["matrices"] for e in m["screened"]]
    assert flagged and flagged[0]["action"] == "flagged"
    text = screening_text(shown, "zh")
    assert f"D1矩阵专家{flagged[0]['expert']}（CR {flagged[0]['cr']:.3f}）已标记，仍计入几何平均" in text
    excluded = {**shown, "matrices": [{**m, "screened": [{**e, "action": "excluded"} for e in m["screened"]]}
                                      for m in shown["matrices"]]}  # fmt: skip
    assert "excluded from the geometric mean" in screening_text(excluded, "en")


def test_the_committee_report_has_its_title_block(example):
    """policy.yaml `report:` (area, issuer, document number, date) is carried by results.json and printed
    in the committee report's title block; a project without it says where each is missing."""
    from pingyi.report.committee import committee_context

    doc = json.loads((example.out / "results.json").read_text(encoding="utf-8"))
    assert doc["issue"] == {"area": "浙江省、河南省、四川省（示例）", "issuer": "医保定点医疗机构评议委员会（示例）",
                            "document_number": "医保评〔2026〕1号", "date": "2026-03-31"}  # fmt: skip
    block = committee_context(prepare(doc))["issue"]
    assert block["date"] == "2026年3月31日" and block["document_number"] == "医保评〔2026〕1号"
    bare = committee_context(prepare({**doc, "issue": None}))["issue"]
    assert set(bare.values()) == {"（未填写）"}


def test_every_workbook_sheet_prints_landscape_fit_to_width_with_its_header(rendered):
    wb = openpyxl.load_workbook(rendered[0] / WORKBOOK)
    assert len(wb.worksheets) >= 4
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape", ws.title
        assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0, ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert ws.print_title_rows == "$1:$1", ws.title


def test_a_workbook_without_provider_sheets_says_so(tmp_path, monkeypatch):
    import pingyi.report.xlsx as xlsx_module

    monkeypatch.setattr(xlsx_module, "PER_PROVIDER_SHEETS_MAX", 2)
    run = render_reports(FIXTURE, tmp_path / "r", formats=["xlsx"])
    assert any("no sheet per provider" in w and "more than 2" in w for w in run.warnings), run.warnings


def test_risk_model_reasons_are_said_in_chinese_in_the_chinese_report():
    """Why a region has no outcome model is recorded in English in results.json; the Chinese committee
    report says it in Chinese (found in a 1,000-provider report: "4 events in 9872 cases, fewer than 50
    (10 per risk covariate, 5); pooled over all regions: …"). The sentences come from the fitting code."""
    import numpy as np

    from pingyi.compute.outcomes import fit_outcome_region
    from pingyi.report.committee import model_skip_words

    rng = np.random.default_rng(1)
    n = 400
    cov = (
        rng.normal(0, 1, n),
        rng.uniform(20, 90, n),
        rng.integers(0, 2, n).astype(float),
        rng.integers(0, 2, n).astype(float),
    )
    years = np.array(["2025"] * n, dtype=object)
    none_ = fit_outcome_region("death", "east", np.zeros(n), years, *cov)[2]
    few = np.zeros(n)
    few[:4] = 1
    rare = fit_outcome_region("death", "east", few, years, *cov)[2]
    common = fit_outcome_region("death", "east", 1 - few, years, *cov)[2]
    for why in (none_, rare, common, f"{rare}; pooled over all regions: {none_}"):
        zh = model_skip_words(why, "zh")
        assert not re.search(r"[A-Za-z]{3,}", zh), (why, zh)
        assert model_skip_words(why, "en") == why
    assert model_skip_words(rare, "zh").startswith("400 例中发生 4 例，少于所需的")
    assert model_skip_words(common, "zh").startswith("400 例中未发生 4 例")
    assert "全部地区合并模型" in model_skip_words(f"{rare}; pooled over all regions: {none_}", "zh")


def test_every_data_check_name_is_said_in_chinese():
    """The committee report's data-quality table named checks in English ("setl_time in window",
    "unique setl_id", "insutype: code table"). Every check of the example's quality.csv is said in
    Chinese; what stays Latin is field and table codes and formulas."""
    from pingyi import text as tx

    golden = Path(__file__).parent / "golden" / "example" / "quality.csv"
    checks = {r["check"] for r in csv.DictReader(golden.open(encoding="utf-8-sig"))}
    assert len(checks) > 50
    from pingyi.data.contract import TABLES

    # the Latin words a check's Chinese name may keep: the data standard's table and column codes
    names = set(TABLES) | {c.name for t in TABLES.values() for c in t.columns}
    for check in sorted(checks):
        zh = tx.check_words(check, "zh")
        assert tx.check_words(check, "en") == check
        formula = re.fullmatch(r"[a-z0-9_ +]+ (=|<=|>=) [a-z0-9_ +]+", zh)
        assert formula or re.search(r"[\u4e00-\u9fff]", zh), (check, zh)
        assert set(re.findall(r"[A-Za-z][A-Za-z0-9_]*", zh)) <= names, (check, zh)
    assert tx.check_words("setl_time in window") == "setl_time 在评议期内"
    assert tx.check_words("unique fixmedins_code + year + indicator") == "fixmedins_code + year + indicator 唯一"
    assert tx.check_words("acct_pay <= 0 on refunds") == "退费时 acct_pay <= 0"
    assert tx.check_words("fixmedins_code in providers") == "fixmedins_code 存在于 providers 表"
