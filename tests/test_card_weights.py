"""What the weights are, where people read them: the line under each dimension of a card (how many of its
indicators lack data, its effective and nominal weight), the committee report's list of the providers not
graded or failed for missing mandatory data, and a monitor-only indicator (D2.01 CMI) shown as carrying no
weight in `pingyi weights` and the manual - on real renders of the small example.
"""

from __future__ import annotations

import csv
import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import Evaluated
from pingyi.report.run import render_reports
from pingyi.run.evaluate import evaluate_to
from pingyi.spec.project import default_project_dir
from pingyi.text import format_weight
from pingyi.tools.docsgen import indicator_manual

needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) not installed")
WEAK = "H33010600002"  # a 一级 provider of the small example: D2 has no data (D2.01 is monitor-only)


def pdftext(path: Path) -> str:
    text = subprocess.run(["pdftotext", "-raw", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return re.sub(r"\s+", "", text)


def htmltext(path: Path) -> str:
    """The text of an HTML page, tags removed, entities decoded, whitespace removed."""
    raw = re.sub(r"<style.*?</style>|<script.*?</script>", "", path.read_text(encoding="utf-8"), flags=re.S)
    return re.sub(r"\s+", "", html.unescape(re.sub(r"<[^>]+>", " ", raw)))


def nospace(s: str) -> str:
    return re.sub(r"\s+", "", s)


@pytest.fixture(scope="module")
def small_cards(small_example: Evaluated, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("small-cards")
    render_reports(small_example.out, out / "zh", formats=["pdf,html"], providers=[WEAK], workers=1)
    render_reports(small_example.out, out / "en", formats=["pdf,html"], providers=[WEAK], lang="en", workers=1)
    return out


def _expected_lines(provider: dict, lang: str) -> list[str]:
    """The line under each dimension, from results.json alone."""
    lines = []
    for ps in provider["primaries"]:
        n = sum(1 for i in provider["indicators"] if i["code"].startswith(ps["code"] + "."))
        m = len(ps["insufficient"])
        eff, nom = format_weight(ps["effective_weight"]), format_weight(ps["weight"])
        if lang == "zh":
            head = f"本维度{n}项中{m}项数据不足; " if m else ""
            lines.append(f"{head}有效权重 {eff} / 名义权重 {nom}")
        else:
            head = f"{m} of {n} indicators in this dimension lack data; " if m else ""
            lines.append(f"{head}effective weight {eff} / nominal weight {nom}")
    return lines


@needs_poppler
def test_card_says_under_each_dimension_how_many_lack_data_and_its_weights(small_cards, small_example):
    p = next(p for p in small_example.results["providers"] if p["fixmedins_code"] == WEAK)
    pdf = pdftext(small_cards / "zh" / "cards" / f"{WEAK}.pdf")
    page = htmltext(small_cards / "zh" / "html" / "cards" / f"{WEAK}.html")
    # the real numbers of this card: D1 3 of 5 grey, D2 all four scored ones grey (its weight goes to the
    # other dimensions), D6 complete (no 数据不足 half)
    for line in (
        "本维度5项中3项数据不足; 有效权重 27.35% / 名义权重 21.40%",
        "本维度5项中4项数据不足; 有效权重 0.00% / 名义权重 21.74%",
        "有效权重 12.23% / 名义权重 9.57%",
    ):
        assert nospace(line) in page, line
    # the PDF card (one A4 page) has one note for the dimensions that lack data, where the weights differ
    # (the largest weight move first; a note longer than its one line loses the smallest moves)
    assert nospace("数据不足（权重移至其他指标）：D2 4/5项（有效权重 0.00%，名义 21.74%）；") in pdf
    assert nospace("D1 3/5项（有效权重 27.35%，名义 21.40%）") in pdf
    assert "9.57%" not in pdf.split("数据不足（权重移至其他指标）")[1]  # D6 is complete: not in the note
    expected = _expected_lines(p, "zh")
    assert len(expected) == 8
    for line in expected:
        assert nospace(line) in page, line
    # each line sits under its dimension: after the dimension's last indicator, before the next dimension
    assert page.index("D1.05") < page.index(nospace(expected[0])) < page.index("D2医疗服务质量")


@needs_poppler
def test_card_dimension_lines_in_english(small_cards, small_example):
    p = next(p for p in small_example.results["providers"] if p["fixmedins_code"] == WEAK)
    pdf = pdftext(small_cards / "en" / "cards" / f"{WEAK}.pdf")
    page = htmltext(small_cards / "en" / "html" / "cards" / f"{WEAK}.html")
    assert nospace("D2 4/5 (effective 0.00%, nominal 21.74%)") in pdf
    for line in _expected_lines(p, "en"):
        assert nospace(line) in page, line
    res = subprocess.run(["pdfinfo", str(small_cards / "en" / "cards" / f"{WEAK}.pdf")], capture_output=True, text=True)
    assert re.search(r"Pages:\s+1\b", res.stdout), res.stdout  # the card stays one page


# --------------------------------------------------------------------------- committee: not graded


@pytest.fixture(scope="module")
def ineligible(small_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The small example scored with `min_scored: 17` (four 一级 providers score only 16 indicators, two
    more since fewer than 100 valid questionnaires leave their D6.01 grey) and one of them without its
    reports of the year (mandatory data missing: graded 不合格, not 不予评级)."""
    t = tmp_path_factory.mktemp("ineligible")
    project, bundle = t / "project", t / "bundle"
    shutil.copytree(default_project_dir(), project)
    policy = project / "policy.yaml"
    text = policy.read_text(encoding="utf-8")
    assert "eligibility: {min_scored: 10," in text
    policy.write_text(text.replace("eligibility: {min_scored: 10,", "eligibility: {min_scored: 17,"), encoding="utf-8")
    shutil.copytree(small_bundle, bundle)
    with (bundle / "reported.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    kept = [r for r in rows if not (r[0] == "H51011200008" and r[1] == "2025")]
    assert len(kept) < len(rows)
    with (bundle / "reported.csv").open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n", quoting=csv.QUOTE_ALL).writerows(kept)
    evaluate_to(bundle, project, None, None, t / "results")
    render_reports(t / "results", t / "zh", formats=["pdf,html"], workers=1)
    render_reports(t / "results", t / "en", formats=["html"], lang="en", workers=1)
    return t, json.loads((t / "results" / "results.json").read_text(encoding="utf-8"))


@needs_poppler
def test_committee_lists_providers_not_graded_or_failed_for_missing_data(ineligible):
    t, results = ineligible
    out = [p for p in results["providers"] if p["eligibility"]]
    assert {p["fixmedins_code"]: p["grade"] for p in out} == {
        "H33010600002": "不予评级",
        "H33020600004": "不予评级",
        "H41031100005": "不予评级",
        "H41160200002": "不予评级",
        "H51011200008": "不合格",
        "H51070300005": "不予评级",
    }
    pdf = pdftext(t / "zh" / "committee.pdf")
    page = htmltext(t / "zh" / "html" / "committee.html")
    for text in (pdf, page):
        assert "不予评级或因应报数据缺失评为不合格的机构" in text
        assert "序号机构编码机构名称级别原因" in text
        for n, p in enumerate(out, 1):  # numbered, in code order, one row each: code, name, level, reason
            row = nospace(f"{n}{p['fixmedins_code']}{p['fixmedins_name']}{p['level']}{p['eligibility_zh']}")
            assert row in text, row
    assert nospace("不予评级：计分指标 16 项，少于要求的 17 项") in pdf
    assert nospace("应报数据缺失：按未报送处理，评为不合格") in pdf
    en = htmltext(t / "en" / "html" / "committee.html")
    assert nospace("Providers not graded or failed for missing mandatory data") in en
    for n, p in enumerate(out, 1):
        assert nospace(f"{n}{p['fixmedins_code']}{p['fixmedins_name']}Primary&community{p['eligibility']}") in en


def test_committee_says_when_every_provider_was_graded(small_example, tmp_path):
    assert not any(p["eligibility"] for p in small_example.results["providers"])
    render_reports(small_example.out, tmp_path, formats=["html"], workers=1)
    page = htmltext(tmp_path / "html" / "committee.html")
    assert "不予评级或因应报数据缺失评为不合格的机构" in page
    assert "无：全部机构均已评级。" in page


# --------------------------------------------------------------------------- monitor-only weights


def test_weights_json_says_the_monitor_indicator_carries_no_weight(cli, example):
    r = cli("weights", "--json")
    assert r.exit_code == 0, r.stderr
    d2 = next(p for p in json.loads(r.stdout)["primary"] if p["id"] == "D2")
    by = {s["id"]: s for s in d2["secondary"]}
    assert by["D2.01"]["scored"] is False and by["D2.01"]["carried_weight"] == 0.0
    assert by["D2.01"]["global_weight"] > 0.03  # the nominal AHP weight is kept, and said to be nominal
    # what the score stage does: the monitor's local weight goes to D2's scored indicators in proportion,
    # so a provider with data on all of them carries exactly `carried_weight` (indicators.csv `weight`)
    assert sum(s["carried_weight"] for s in d2["secondary"]) == pytest.approx(d2["weight"], abs=1e-12)
    # the shipped example: the small bundle has too few complications for D2.04's risk model (grey for all)
    full = next(p for p in example.results["providers"] if p["fixmedins_code"] == "H33010200006")
    assert all(ps["effective_weight"] == ps["weight"] for ps in full["primaries"])
    for row in full["indicators"]:
        if row["code"].startswith("D2."):
            assert row["weight"] == pytest.approx(by[row["code"]]["carried_weight"], abs=1e-6), row["code"]
    assert by["D2.02"]["carried_weight"] > by["D2.02"]["global_weight"]


def test_weights_table_marks_the_monitor_indicator(cli):
    r = cli("weights")
    assert r.exit_code == 0, r.stderr
    line = next(x for x in r.stdout.splitlines() if "D2.01" in x)
    assert "(0.1589)" in line and "(0.0345)" in line and "0.0000" in line, line
    assert "监测" in line, line
    flat = nospace(r.stdout)
    assert nospace("D2.01 病例组合指数（CMI）: 监测指标，不计分 / monitor only, not scored") in flat
    assert nospace("carries 0 in the total; its nominal weight 0.0345 goes to the scored indicators of D2") in flat


def test_manual_shows_the_monitor_indicator_as_carrying_no_weight():
    manual = indicator_manual()
    entry = manual[manual.index("### D2.01") : manual.index("### D2.02")]
    row = next(x for x in entry.splitlines() if x.startswith("| 权重 weight"))
    assert "监测指标，不计分 monitor only, not scored" in row
    assert "carries 0 in the total" in row and "nominal local 0.1589, global 0.0345" in row
    d202 = manual[manual.index("### D2.02") : manual.index("### D2.03")]
    assert "local 0.3004, global 0.0653; carries 0.0777" in d202
