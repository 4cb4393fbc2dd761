"""Review and appeal (申诉复核) between a preview and the final run: the dispute template written per
provider and read back filled in, bad rows refused with nothing recorded, late claims, decisions, the
corrections table, a corrected value re-lighted and re-scored, the final run applying the accepted
dispute and not the rejected one, and `pingyi verify` on a corrected run."""

from __future__ import annotations

import csv
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pingyi import api
from pingyi.ledger import init_ledger, open_ledger, record_run
from pingyi.run.evaluate import evaluate_to
from pingyi.tools.example import generate_example

ACTOR = ("--actor", "secretary")
PREVIEW_DAY = "2026-03-02"  # the review closes 30 days later (policy cycle.review_days)
DEADLINE = "2026-04-01"


def results(folder: Path) -> dict:
    return json.loads((folder / "results.json").read_text(encoding="utf-8"))


def provider(doc: dict, code: str) -> dict:
    return next(p for p in doc["providers"] if p["fixmedins_code"] == code)


def indicator(p: dict, code: str) -> dict:
    return next(i for i in p["indicators"] if i["code"] == code)


@dataclass(frozen=True)
class Preview:
    bundle: Path
    out: Path  # the preview run's results (score --preview, dated PREVIEW_DAY)
    code: str  # a graded provider whose D1.03 is red with score 0 (the one that disputes and is right)
    other: str  # a second graded provider (its dispute is rejected)
    baseline: float  # `code`'s D1.03 baseline

    @property
    def doc(self) -> dict:
        return results(self.out)


@pytest.fixture(scope="module")
def preview(tmp_path_factory: pytest.TempPathFactory) -> Preview:
    root = tmp_path_factory.mktemp("disputes")
    bundle = root / "bundle"
    generate_example(bundle, providers=9, rows=6000, scale="small", fmt="csv", year=2025)
    out = root / "preview"
    evaluate_to(
        bundle, None, 2025, None, out, cycle={"stage": "preview", "date": PREVIEW_DAY, "review_deadline": DEADLINE}
    )
    doc = results(out)
    graded = [p for p in doc["providers"] if p["total_score"] is not None]
    # D1.03 (统筹基金支出增长率) is scored by the threshold rule: 100 at or below the baseline, 0 at twice
    # the baseline's gap (zero_at 1.0); a red 0 corrected to half the baseline becomes a green 100
    hits = [
        p
        for p in graded
        if indicator(p, "D1.03")["light"] == "red" and indicator(p, "D1.03")["score"] == 0 and p["grade"] != "不合格"
    ]
    assert hits, "the generated bundle has a graded provider with D1.03 red at 0"
    code = hits[0]["fixmedins_code"]
    other = next(p["fixmedins_code"] for p in graded if p["fixmedins_code"] != code)
    return Preview(bundle, out, code, other, indicator(hits[0], "D1.03")["baseline"])


@pytest.fixture
def ledger(preview: Preview, tmp_path: Path) -> Path:
    """A new ledger with the preview recorded as run 1."""
    path = tmp_path / "committee.ledger"
    with init_ledger(path, committee="某市医疗保障局", actor="secretary") as book:
        assert record_run(book, preview.out, "preview", "secretary", "pingyi score --preview") == 1
    return path


def fill(template: Path, target: Path, claims: dict[str, tuple]) -> Path:
    """The template with claims (indicator -> (申诉值, 理由, 证据编号)) typed in, as a provider would."""
    book = load_workbook(template)
    sheet = book.worksheets[0]
    header_row = next(r for r in range(1, 20) if sheet.cell(r, 1).value == "指标编码")
    heads = [c.value for c in sheet[header_row]]
    cols = {k: heads.index(k) + 1 for k in ("申诉值", "理由", "证据编号")}
    rows = {sheet.cell(r, 1).value: r for r in range(header_row + 1, sheet.max_row + 1)}
    for code, (value, reason, evidence) in claims.items():
        r = rows.get(code)
        if r is None:  # an indicator code the template does not list: a new row
            r = sheet.max_row + 1
            sheet.cell(r, 1).value = code
        for key, v in zip(("申诉值", "理由", "证据编号"), (value, reason, evidence), strict=True):
            if v is not None:
                sheet.cell(r, cols[key]).value = v
    book.save(target)
    return target


def counts(ledger: Path) -> tuple[int, int]:
    conn = sqlite3.connect(ledger)
    try:
        return (
            conn.execute("SELECT COUNT(*) FROM disputes").fetchone()[0],
            conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0],
        )
    finally:
        conn.close()


def test_corrected_value_is_lighted_and_scored_and_verifies(preview: Preview, tmp_path: Path, cli):
    fixed = preview.baseline / 2
    table = tmp_path / "corrections.csv"
    table.write_text(
        f"fixmedins_code,indicator,value,dispute_id,reason\n{preview.code},D1.03,{fixed!r},7,转院病例被计入\n",
        encoding="utf-8",
    )
    out = tmp_path / "corrected"
    r = cli("score", "--data", preview.bundle, "--out", out, "--year", "2025", "--corrections", table)
    assert r.exit_code == 0, r.stderr
    assert f"corrected after review (复核更正): {preview.code} D1.03" in r.stdout
    before, after = provider(preview.doc, preview.code), provider(results(out), preview.code)
    old, new = indicator(before, "D1.03"), indicator(after, "D1.03")
    assert (old["light"], old["score"]) == ("red", 0.0)
    assert (new["value"], new["light"], new["score"]) == (pytest.approx(fixed), "green", 100.0)
    assert new["corrected"] == {
        "from": old["value"],
        "to": pytest.approx(fixed),
        "dispute_id": 7,
        "reason": "转院病例被计入",
    }
    # the weight stays (the indicator was scored before too): the total gains 100 x its effective weight
    assert new["weight"] == old["weight"]
    assert after["total_score"] == pytest.approx(before["total_score"] + 100 * old["weight"], abs=2e-4)
    assert results(out)["corrections"] == [{"fixmedins_code": preview.code, "indicator": "D1.03", **new["corrected"]}]
    # nobody else's value or total moved, and no other indicator carries a correction
    for p in results(out)["providers"]:
        if p["fixmedins_code"] != preview.code:
            assert p["total_score"] == provider(preview.doc, p["fixmedins_code"])["total_score"]
        assert [i["code"] for i in p["indicators"] if "corrected" in i] == (
            ["D1.03"] if p["fixmedins_code"] == preview.code else []
        )
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["inputs"]["corrections"]["path"] == str(table.resolve())
    assert cli("verify", out).exit_code == 0
    # a corrections file changed after the run: verify names it and fails
    table.write_text(table.read_text(encoding="utf-8").replace(repr(fixed), "0"), encoding="utf-8")
    r = cli("verify", out)
    assert r.exit_code == 1 and "corrections file differs from the one recorded" in r.stdout  # not verified


def test_bad_corrections_file_names_row_and_field(preview: Preview, tmp_path: Path, cli):
    table = tmp_path / "bad.csv"
    table.write_text(
        "fixmedins_code,indicator,value,dispute_id,reason\n"
        f"{preview.code},D1.03,abc,,x\n"
        f"{preview.code},D1.01,0.1,one,x\n",
        encoding="utf-8",
    )
    r = cli("score", "--data", preview.bundle, "--out", tmp_path / "o", "--year", "2025", "--corrections", table)
    assert r.exit_code == 2
    assert f"{table}:2 (value): found 'abc'; expected a number" in r.stderr
    assert f"{table}:3 (dispute_id): found 'one'" in r.stderr
    table.write_text(f"fixmedins_code,indicator,value,dispute_id,reason\n{preview.code},D9.99,1,,x\n", encoding="utf-8")
    r = cli("score", "--data", preview.bundle, "--out", tmp_path / "o", "--year", "2025", "--corrections", table)
    assert r.exit_code == 2 and f"{table}:2 (indicator): found 'D9.99'" in r.stderr
    table.write_text("fixmedins_code,indicator,value,dispute_id,reason\nH00000000000,D1.03,1,,x\n", encoding="utf-8")
    r = cli("score", "--data", preview.bundle, "--out", tmp_path / "o", "--year", "2025", "--corrections", table)
    assert r.exit_code == 2 and f"{table}:2 (fixmedins_code): found 'H00000000000'" in r.stderr
    assert not (tmp_path / "o").exists()


def test_template_lists_the_indicators_and_is_deterministic(preview: Preview, tmp_path: Path, cli):
    r = cli("disputes", "template", "--results", preview.out, "--out", tmp_path / "t")
    assert r.exit_code == 0, r.stderr
    files = sorted((tmp_path / "t").glob("*.xlsx"))
    assert [f.stem for f in files] == sorted(p["fixmedins_code"] for p in preview.doc["providers"])
    one = tmp_path / "t" / f"{preview.code}.xlsx"
    assert (
        cli(
            "disputes", "template", "--results", preview.out, "--out", tmp_path / "u", "--provider", preview.code
        ).exit_code
        == 0
    )
    assert (tmp_path / "u" / one.name).read_bytes() == one.read_bytes()  # same preview, same bytes
    assert [f.name for f in (tmp_path / "u").iterdir()] == [one.name]
    sheet = load_workbook(one).worksheets[0]
    cells = list(sheet.iter_rows(values_only=True))
    head = {row[0]: row[1] for row in cells[1:7]}
    manifest_sha = __import__("hashlib").sha256((preview.out / "manifest.json").read_bytes()).hexdigest()
    assert head["机构编码"] == preview.code and head["年度"] == 2025
    assert head["预览运行清单 SHA-256"] == manifest_sha and head["复核截止日"] == DEADLINE
    at = next(i for i, row in enumerate(cells) if row[0] == "指标编码")
    assert list(cells[at]) == ["指标编码", "指标名称", "数值", "基线", "灯", "说明", "申诉值", "理由", "证据编号"]
    rows = {row[0]: row for row in cells[at + 1 :]}
    p = provider(preview.doc, preview.code)
    assert list(rows) == [i["code"] for i in p["indicators"]]
    d103 = indicator(p, "D1.03")
    assert rows["D1.03"][2:5] == (d103["value"], d103["baseline"], "红灯")
    assert rows["D1.03"][6:] == (None, None, None)
    # no cell is a formula
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    en = cli(
        "disputes",
        "template",
        "--results",
        preview.out,
        "--out",
        tmp_path / "en",
        "--provider",
        preview.code,
        "--lang",
        "en",
    )
    assert en.exit_code == 0
    en_cells = list(load_workbook(tmp_path / "en" / one.name).worksheets[0].iter_rows(values_only=True))
    assert "Claimed value" in next(row for row in en_cells if row[0] == "Indicator")
    # a results folder that is not a preview is refused
    final_like = tmp_path / "plain"
    evaluate_to(preview.bundle, None, 2025, None, final_like)
    r = cli("disputes", "template", "--results", final_like, "--out", tmp_path / "x")
    assert r.exit_code == 2 and "expected 'preview'" in r.stderr


def test_template_round_trip_import(preview: Preview, ledger: Path, tmp_path: Path, cli):
    assert cli("disputes", "template", "--results", preview.out, "--out", tmp_path / "t").exit_code == 0
    filled = fill(
        tmp_path / "t" / f"{preview.code}.xlsx",
        tmp_path / "filled.xlsx",
        {"D1.03": (0.05, "转院病例被计入本院", "附件1-3"), "D1.01": ("12%", "DRG 分组错误", None)},
    )
    r = cli("disputes", "import", filled, "--ledger", ledger, "--date", "2026-03-20", *ACTOR)
    assert r.exit_code == 0, r.stderr
    assert "2 dispute(s) recorded" in r.stdout
    rows = json.loads(cli("disputes", "list", "--ledger", ledger, "--json").stdout)
    got = {
        d["indicator"]: (
            d["fixmedins_code"],
            d["claimed_value"],
            d["reason"],
            d["evidence_ref"],
            d["run_id"],
            d["status"],
        )
        for d in rows
    }
    assert got == {
        "D1.01": (preview.code, "0.12", "DRG 分组错误", "", 1, "open"),
        "D1.03": (preview.code, "0.05", "转院病例被计入本院", "附件1-3", 1, "open"),
    }
    # one transaction, one audit entry for both claims
    with open_ledger(ledger) as book:
        audit = [dict(a) for a in book.conn.execute("SELECT * FROM audit WHERE action = 'add_disputes'")]
    assert len(audit) == 1 and len(json.loads(audit[0]["detail"])["rows"]) == 2
    # the same claims again: refused while the first ones are undecided
    r = cli("disputes", "import", filled, "--ledger", ledger, "--date", "2026-03-21", *ACTOR)
    assert r.exit_code == 2 and "already disputed (dispute" in r.stderr
    assert cli("ledger", "verify", ledger).exit_code == 0


def test_bad_rows_refuse_the_whole_import(preview: Preview, ledger: Path, tmp_path: Path, cli):
    assert cli("disputes", "template", "--results", preview.out, "--out", tmp_path / "t").exit_code == 0
    good = fill(tmp_path / "t" / f"{preview.other}.xlsx", tmp_path / "good.xlsx", {"D1.03": (0.01, "ok", "E1")})
    bad = fill(
        tmp_path / "t" / f"{preview.code}.xlsx",
        tmp_path / "bad.xlsx",
        {
            "D1.01": ("about ten", "too high", None),  # not a number
            "D1.02": (0.02, None, "E2"),  # no reason
            "D9.99": (1, "no such indicator", None),
            "D1.04": ("=1+1", "a formula", None),
        },
    )
    before = counts(ledger)
    r = cli("disputes", "import", good, bad, "--ledger", ledger, "--date", "2026-03-20", *ACTOR)
    assert r.exit_code == 2
    sheet = load_workbook(bad).worksheets[0]
    row_of = {sheet.cell(r, 1).value: r for r in range(1, sheet.max_row + 1)}
    assert f"{bad}:{row_of['D1.01']} (申诉值): found 'about ten'; expected a number" in r.stderr
    assert f"{bad}:{row_of['D1.02']} (理由): found nothing" in r.stderr
    assert f"{bad}:{row_of['D9.99']} (指标编码): found 'D9.99'; expected an indicator of the catalogue" in r.stderr
    assert f"{bad}:{row_of['D1.04']} (申诉值): found a formula" in r.stderr
    assert "nothing recorded" in r.stderr and "4 problem(s)" in r.stderr
    assert counts(ledger) == before  # not even the good file's claim
    # a template of a preview the ledger does not know
    other = tmp_path / "other.ledger"
    init_ledger(other, committee="c", actor="x").close()
    r = cli("disputes", "import", good, "--ledger", other, "--date", "2026-03-20", *ACTOR)
    assert (
        r.exit_code == 2
        and "(预览运行清单 SHA-256)" in r.stderr
        and "expected the manifest SHA-256 of a preview run" in r.stderr
    )
    # an edited provider code
    book = load_workbook(good)
    book.worksheets[0].cell(2, 2).value = "H99999999999"
    book.save(tmp_path / "edited.xlsx")
    r = cli("disputes", "import", tmp_path / "edited.xlsx", "--ledger", ledger, "--date", "2026-03-20", *ACTOR)
    assert r.exit_code == 2 and ":2 (机构编码): found 'H99999999999'; expected a provider of preview run 1" in r.stderr
    assert counts(ledger) == before


def test_late_claims_need_a_reason(preview: Preview, ledger: Path, tmp_path: Path, cli):
    assert (
        cli(
            "disputes", "template", "--results", preview.out, "--out", tmp_path / "t", "--provider", preview.code
        ).exit_code
        == 0
    )
    filled = fill(tmp_path / "t" / f"{preview.code}.xlsx", tmp_path / "f.xlsx", {"D1.03": (0.05, "r", None)})
    before = counts(ledger)
    r = cli("disputes", "import", filled, "--ledger", ledger, "--date", "2026-04-02", *ACTOR)
    assert r.exit_code == 2 and f"the review closed on {DEADLINE} and today is 2026-04-02" in r.stderr
    assert counts(ledger) == before
    # on the deadline itself it is in time
    ontime = tmp_path / "ontime.ledger"
    with init_ledger(ontime, committee="c", actor="x") as book:
        record_run(book, preview.out, "preview", "x", "pingyi score --preview")
    assert cli("disputes", "import", filled, "--ledger", ontime, "--date", DEADLINE, *ACTOR).exit_code == 0
    r = cli(
        "disputes",
        "import",
        filled,
        "--ledger",
        ledger,
        "--date",
        "2026-04-02",
        "--late",
        "邮寄延误，邮戳为4月1日",
        *ACTOR,
    )
    assert r.exit_code == 0, r.stderr
    assert "reason recorded: 邮寄延误，邮戳为4月1日" in r.stdout
    with open_ledger(ledger) as book:
        detail = json.loads(book.conn.execute("SELECT detail FROM audit WHERE action = 'add_disputes'").fetchone()[0])
    assert detail["late"] == "邮寄延误，邮戳为4月1日" and detail["review_deadline"] == DEADLINE


def test_decide_accept_reject_and_the_corrections_table(preview: Preview, ledger: Path, tmp_path: Path, cli):
    assert cli("disputes", "template", "--results", preview.out, "--out", tmp_path / "t").exit_code == 0
    a = fill(
        tmp_path / "t" / f"{preview.code}.xlsx",
        tmp_path / "a.xlsx",
        {"D1.03": (0.05, "r1", None), "D1.01": (0.3, "r2", None)},
    )
    b = fill(tmp_path / "t" / f"{preview.other}.xlsx", tmp_path / "b.xlsx", {"D1.03": (0.01, "r3", None)})
    assert cli("disputes", "import", a, b, "--ledger", ledger, "--date", "2026-03-20", *ACTOR).exit_code == 0
    ids = {(d["fixmedins_code"], d["indicator"]): d["id"] for d in api.disputes_list(ledger)}
    d_a103, d_a101, d_b = ids[(preview.code, "D1.03")], ids[(preview.code, "D1.01")], ids[(preview.other, "D1.03")]
    ok = cli(
        "disputes",
        "decide",
        "--ledger",
        ledger,
        "--id",
        d_a103,
        "--accept",
        "--reason",
        "核实属实",
        "--actor",
        "评议委员会",
    )
    assert ok.exit_code == 0 and f"dispute {d_a103} accepted, corrected value 0.05" in ok.stdout
    r = cli(
        "disputes",
        "decide",
        "--ledger",
        ledger,
        "--id",
        d_a101,
        "--accept",
        "--reason",
        "部分属实",
        "--value",
        "0.2",
        *ACTOR,
    )
    assert r.exit_code == 0 and "corrected value 0.2" in r.stdout
    r = cli(
        "disputes",
        "decide",
        "--ledger",
        ledger,
        "--id",
        d_b,
        "--reject",
        "--reason",
        "证据不足",
        "--value",
        "1",
        *ACTOR,
    )
    assert r.exit_code == 2 and "only an accepted dispute sets a corrected value" in r.stderr
    assert (
        cli("disputes", "decide", "--ledger", ledger, "--id", d_b, "--reject", "--reason", "证据不足", *ACTOR).exit_code
        == 0
    )
    r = cli("disputes", "decide", "--ledger", ledger, "--id", d_b, "--accept", "--reason", "again", *ACTOR)
    assert r.exit_code == 2 and "already decided (rejected)" in r.stderr
    assert cli("disputes", "decide", "--ledger", ledger, "--id", 99, "--accept", "--reason", "x", *ACTOR).exit_code == 2
    assert (
        cli("disputes", "decide", "--ledger", ledger, "--id", d_b, "--accept", "--reject", "--reason", "x").exit_code
        == 2
    )
    listed = json.loads(cli("disputes", "list", "--ledger", ledger, "--status", "accepted", "--json").stdout)
    assert d_a101 < d_a103  # filed in the template's row order
    assert [(d["id"], d["corrected_value"], d["decided_by"]) for d in listed] == [
        (d_a101, "0.2", "secretary"),  # the decision's value, not the claimed 0.3
        (d_a103, "0.05", "评议委员会"),  # the claimed value
    ]
    assert [d["id"] for d in api.disputes_list(ledger, provider=preview.other)] == [d_b]
    assert api.disputes_list(ledger, year=2024) == []
    table = tmp_path / "corrections.csv"
    r = cli("disputes", "corrections", "--ledger", ledger, "--year", "2025", "--out", table)
    assert r.exit_code == 0 and "2 correction(s) written" in r.stdout
    with table.open(encoding="utf-8", newline="") as fh:
        assert list(csv.reader(fh)) == [
            ["fixmedins_code", "indicator", "value", "dispute_id", "reason"],
            [preview.code, "D1.01", "0.2", str(d_a101), "部分属实"],
            [preview.code, "D1.03", "0.05", str(d_a103), "核实属实"],
        ]
    assert cli("ledger", "verify", ledger).exit_code == 0


def test_final_run_applies_the_accepted_dispute_not_the_rejected_one(
    preview: Preview, ledger: Path, tmp_path: Path, cli
):
    assert cli("disputes", "template", "--results", preview.out, "--out", tmp_path / "t").exit_code == 0
    fixed = preview.baseline / 2
    a = fill(tmp_path / "t" / f"{preview.code}.xlsx", tmp_path / "a.xlsx", {"D1.03": (fixed, "转院病例", "E1")})
    b = fill(tmp_path / "t" / f"{preview.other}.xlsx", tmp_path / "b.xlsx", {"D1.01": (0.0, "不认可", None)})
    assert cli("disputes", "import", a, b, "--ledger", ledger, "--date", "2026-03-20", *ACTOR).exit_code == 0
    ids = {d["fixmedins_code"]: d["id"] for d in api.disputes_list(ledger)}
    final = tmp_path / "final"
    args = ("score", "--data", preview.bundle, "--out", final, "--year", "2025", "--final", "--ledger", ledger,
            "--date", "2026-04-10", *ACTOR)  # fmt: skip
    assert cli(*args).exit_code == 2  # two undecided disputes
    assert (
        cli(
            "disputes", "decide", "--ledger", ledger, "--id", ids[preview.code], "--accept", "--reason", "属实", *ACTOR
        ).exit_code
        == 0
    )
    assert (
        cli(
            "disputes", "decide", "--ledger", ledger, "--id", ids[preview.other], "--reject", "--reason", "无据", *ACTOR
        ).exit_code
        == 0
    )
    r = cli(*args)
    assert r.exit_code == 0, r.stderr
    assert "1 correction(s) from accepted disputes applied" in r.stdout
    doc = results(final)
    assert [(c["fixmedins_code"], c["indicator"], c["dispute_id"]) for c in doc["corrections"]] == [
        (preview.code, "D1.03", ids[preview.code])
    ]
    new = indicator(provider(doc, preview.code), "D1.03")
    assert (new["light"], new["score"], new["corrected"]["reason"]) == ("green", 100.0, "属实")
    old_other = indicator(provider(preview.doc, preview.other), "D1.01")
    assert indicator(provider(doc, preview.other), "D1.01")["value"] == old_other["value"]
    assert "corrected" not in indicator(provider(doc, preview.other), "D1.01")
    before = provider(preview.doc, preview.code)
    assert provider(doc, preview.code)["total_score"] == pytest.approx(
        before["total_score"] + 100 * indicator(before, "D1.03")["weight"], abs=2e-4
    )
    assert cli("verify", final).exit_code == 0
    assert cli("ledger", "verify", ledger).exit_code == 0


def test_card_notes_the_corrected_indicators(preview: Preview, tmp_path: Path, cli):
    table = tmp_path / "c.csv"
    table.write_text(
        f"fixmedins_code,indicator,value,dispute_id,reason\n{preview.code},D1.03,0.01,3,r\n", encoding="utf-8"
    )
    out = tmp_path / "r"
    assert cli("score", "--data", preview.bundle, "--out", out, "--year", "2025", "--corrections", table).exit_code == 0
    for lang, title, item in (("zh", "复核更正", "（申诉 3）"), ("en", "Corrected after review", " (dispute 3)")):
        reports = tmp_path / f"rep-{lang}"
        r = cli("report", "--results", out, "--out", reports, "--format", "html", "--lang", lang)
        assert r.exit_code == 0, r.stderr
        pages = {p.stem: p.read_text(encoding="utf-8") for p in (reports / "html").rglob("H*.html")}
        assert title in pages[preview.code] and "D1.03" in pages[preview.code] and item in pages[preview.code]
        assert title not in pages[preview.other]
