"""The credit bonus (信用评价) [002]: +credit.rate of the prepayment for a provider whose credit rating is one
of credit.ratings and whose confirmed violations are known and 0 for the year, added to the grade's
adjustment; never when vetoed, failing, not graded or revoked; no bonus when the violation count is
missing. Yuan hand-computed (half-up to the fen, each part on its own)."""

from __future__ import annotations

import csv
import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from pingyi.ledger import verify_ledger
from pingyi.report.card import credit_line
from pingyi.report.context import build_contexts
from pingyi.score.adjust import AdjustmentInput, compute_adjustments
from pingyi.spec.models import PolicyFile
from pingyi.spec.project import copy_project, default_project_dir
from pingyi.text import Designation
from pingyi.tools.example import generate_example

ACTOR = ("--actor", "secretary")
D = Decimal


def policy(mode: str = "step", **credit) -> PolicyFile:
    return PolicyFile.model_validate(
        {"adjustment": {"mode": mode}, "credit": {"ratings": ["A", "AA", "AAA"], **credit}}
    )


def one(row: AdjustmentInput, pol: PolicyFile | None = None):
    (a,), budget = compute_adjustments([row], pol or policy())
    return a, budget


def row(grade="优秀", total=92.0, base="100000.00", rating="AA", violations=0.0, **kw) -> AdjustmentInput:
    return AdjustmentInput(
        "H33010200006",
        grade,
        total,
        None if base is None else D(base),
        "providers table",
        credit_rating=rating,
        violations=violations,
        **kw,
    )


# --------------------------------------------------------------------------- the rule


def test_granted_with_excellent_adds_to_the_grade_rate():
    # 优秀 +5 %: 1,234,567.89 x 0.05 = 61,728.3945 -> 61,728.39; credit 10 %: 123,456.789 -> 123,456.79
    a, budget = one(row(base="1234567.89", rating="AAA"))
    assert a.credit is not None and a.credit.status == "granted" and a.credit.rating == "AAA"
    assert a.credit.amount == D("123456.79") and a.credit.rate == D("0.1")
    assert a.rate == D("0.15") and a.amount == D("185185.18") and a.new_prepayment == D("1419753.07")
    assert a.grade_amount == D("61728.39")
    assert a.rule == "step: 优秀 5%; credit AAA 10%"
    assert (budget.rewards, budget.credit, budget.penalties, budget.net) == (
        D("61728.39"),
        D("123456.79"),
        D(0),
        D("185185.18"),
    )


def test_granted_with_pass_is_the_credit_alone():
    # 合格 moves nothing; 80,000.05 x 0.10 = 8,000.005 -> 8,000.01 (half-up)
    a, budget = one(row(grade="合格", total=65.0, base="80000.05", rating="A"))
    assert a.credit.status == "granted"
    assert (a.rate, a.amount, a.new_prepayment) == (D("0.1"), D("8000.01"), D("88000.06"))
    assert budget.rewards == 0 and budget.credit == D("8000.01")


def test_the_rating_is_trimmed_and_other_ratings_do_not_qualify():
    assert one(row(rating="  AA ", base="50000.00"))[0].amount == D("7500.00")  # 2,500 + 5,000
    for rating in ("B", "aa", "AA+", None, "", "   "):
        a, _ = one(row(rating=rating))
        assert a.credit.status == "not rated", rating
        assert a.amount == D("5000.00") and a.credit.amount == 0  # the 优秀 5 % only
    assert one(row(rating="B"))[0].credit.rating == "B"
    assert one(row(rating="  "))[0].credit.rating is None


def test_refused_for_a_confirmed_violation():
    a, _ = one(row(violations=2.0))
    assert a.credit.status == "violations" and a.credit.violations == 2
    assert (a.rate, a.amount, a.credit.amount) == (D("0.05"), D("5000.00"), D("0.00"))


def test_refused_when_the_violation_count_is_missing():
    """Withheld data never raises a score: no audit records (or no such measure) means no bonus."""
    a, _ = one(row(violations=None))
    assert a.credit.status == "no violation data"
    assert a.amount == D("5000.00")


def test_refused_for_a_veto_even_without_violations():
    a, budget = one(row(grade="不合格", total=89.31, rating="AAA", veto=("欺诈骗保",)))
    assert a.credit.status == "not eligible: vetoed (欺诈骗保)"
    assert (a.rate, a.amount) == (D("-0.1"), D("-10000.00"))  # the 不合格 step rate, nothing added
    assert budget.credit == 0 and budget.penalties == D("10000.00") and budget.net == D("-10000.00")


def test_refused_for_a_failing_grade():
    a, _ = one(row(grade="不合格", total=55.0, rating="A"))
    assert a.designation is Designation.WARNING
    assert a.credit.status == "not eligible: failing grade 不合格"
    assert a.amount == D("-10000.00")


def test_refused_when_revoked():
    a, _ = one(row(grade="不合格", total=55.0, rating="A", history=("良好", "不合格")))
    assert a.designation is Designation.REVOKED
    assert a.credit.status == "not eligible: designation revoked"
    assert a.amount == D("-10000.00")


def test_refused_when_not_graded():
    a, _ = one(row(grade="不予评级", total=None, rating="AA"))
    assert a.credit.status == "not eligible: not graded"
    assert a.amount == D("0.00") and a.rate == 0


def test_per_point_adds_the_credit_to_the_per_point_result():
    # score 75: 5 points below 80 x 3 % of the withheld 5 % = -0.75 %; 1,000,000 x -0.0075 = -7,500;
    # credit +100,000 -> +92,500 (rate +9.25 %)
    a, budget = one(row(grade="合格", total=75.0, base="1000000.00"), policy("per_point"))
    assert a.credit.status == "granted"
    assert (a.rate, a.amount, a.grade_amount) == (D("0.0925"), D("92500.00"), D("-7500.00"))
    assert (budget.penalties, budget.rewards, budget.credit, budget.net) == (
        D("7500.00"),
        D(0),
        D("100000.00"),
        D("92500.00"),
    )


def test_budget_neutral_scales_the_rewards_but_not_the_credit():
    """Penalties 10,000 fund rewards of 0.05 x 400,000 = 20,000: scale 0.5. The rated provider gets its
    scaled 2.5 % (2,500) plus the whole 10 % credit (10,000)."""
    rows = [
        AdjustmentInput("FAIL", "不合格", 50.0, D("100000.00"), "providers table", violations=0.0),
        row(base="100000.00", rating="AA"),
        AdjustmentInput("TOP", "优秀", 95.0, D("300000.00"), "providers table", credit_rating=None, violations=0.0),
    ]
    (fail, rated, top), budget = compute_adjustments(rows, policy("budget_neutral"))
    assert budget.scale == D("0.5")
    assert (fail.amount, rated.amount, top.amount) == (D("-10000.00"), D("12500.00"), D("7500.00"))
    assert rated.rate == D("0.125") and rated.credit.amount == D("10000.00")
    assert top.credit.status == "not rated"
    assert (budget.penalties, budget.rewards, budget.credit, budget.net) == (
        D("10000.00"),
        D("10000.00"),
        D("10000.00"),
        D("10000.00"),
    )


def test_no_prepayment_base_grants_nothing_in_yuan():
    a, _ = one(row(base=None))
    assert a.credit.status == "granted" and a.credit.amount == 0 and a.amount == 0
    assert a.rule.endswith("; no prepayment base")


def test_off_without_ratings_and_the_rate_is_the_policys():
    a, budget = one(row(), PolicyFile())  # the default policy names no rating: the bonus is off
    assert a.credit is None and a.amount == D("5000.00") and budget.credit == 0
    a, _ = one(row(), policy(rate=0.08))
    assert a.amount == D("13000.00")  # 5,000 + 8,000


# --------------------------------------------------------------------------- the card line


@pytest.mark.parametrize(
    "credit, grade, zh, en",
    [
        (
            {"rating": "AA", "status": "granted", "violations": 0, "rate": "0.100000", "amount": "12345.60"},
            "优秀",
            "信用评价AA，本年度无经确认违规：预付金+10%，+12,345.60 元（与等级调整相加）",
            "Credit rating AA, no confirmed violation this year: prepayment +10%, CNY +12,345.60",
        ),
        ({"rating": None, "status": "not rated"}, "良好", "未获：无信用评价等级", "no credit rating"),
        ({"rating": "B", "status": "not rated"}, "良好", "未获：信用评价B不属于加分等级", "rating B is not"),
        ({"rating": "A", "status": "violations", "violations": 3}, "良好", "未获：本年度经确认违规3起", "3 confirmed"),
        ({"rating": "A", "status": "no violation data"}, "良好", "数据缺失不加分", "missing data never"),
        (
            {"rating": "A", "status": "not eligible: vetoed (欺诈骗保)"},
            "不合格",
            "未获：一票否决（欺诈骗保）",
            "vetoed",
        ),
        ({"rating": "A", "status": "not eligible: designation revoked"}, "不合格", "未获：取消定点资格", "revoked"),
        ({"rating": "A", "status": "not eligible: failing grade 不合格"}, "不合格", "未获：评议等级不合格", "grade"),
        ({"rating": "A", "status": "not eligible: not graded"}, "不予评级", "未获：不予评级", "not graded"),
    ],
)
def test_card_line_says_the_bonus_or_why_not(credit, grade, zh, en):
    assert zh in credit_line(credit, grade, "zh")
    assert en in credit_line(credit, grade, "en")


def test_no_card_line_when_the_bonus_is_off():
    assert credit_line(None, "优秀", "zh") == ""


# --------------------------------------------------------------------------- end to end


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def write_rows(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A small bundle (12 providers) edited so that the credit cases are known: one graded provider rated
    ' AA ' (blanks) with only unconfirmed flags in 2025 (granted), one rated 'AAA' with a confirmed
    violation (refused), one rated 'A' without any 2025 flag (no violation data), the fraud case rated
    'AA' (vetoed), everyone else blank."""
    root = tmp_path_factory.mktemp("credit")
    project = root / "project"
    copy_project(default_project_dir(), project)
    data = root / "b2025"
    summary = generate_example(data, providers=12, rows=8400, scale="small", fmt="csv", year=2025, project_dir=project)
    providers = read_rows(data / "providers.csv")
    flags = read_rows(data / "audit_flags.csv")
    fraud = summary.fraud_provider
    # a first run says which providers are graded and not failing (a small bundle leaves some not graded)
    from typer.testing import CliRunner

    from pingyi.cli import app

    first = root / "first"
    r = CliRunner().invoke(app, ["score", "--data", str(data), "--project", str(project), "--out", str(first)])
    assert r.exit_code == 0, r.stderr
    grade = {
        p["fixmedins_code"]: p["grade"] for p in json.loads((first / "results.json").read_text("utf-8"))["providers"]
    }
    prepaid = {p["fixmedins_code"] for p in providers if p["prepayment"]}
    passing = [c for c in sorted(grade) if grade[c] in ("优秀", "良好", "合格") and c != fraud]
    granted = next(c for c in passing if c in prepaid)
    violating, no_data = [c for c in passing if c != granted][:2]
    template = dict(flags[0])
    setl = {}  # a 2025 settlement of each provider, for the flags added below
    for r in read_rows(data / "settlements.csv"):
        if r["setl_time"].startswith("2025"):
            setl.setdefault(r["fixmedins_code"], r["setl_id"])
    kept = []
    for f in flags:
        if f["flag_id"].startswith("ZN2025") and f["fixmedins_code"] in (granted, no_data):
            if f["fixmedins_code"] == no_data:
                continue  # no 2025 flag at all: the violation count is unknown
            f = {**f, "confirmed": "0"}
        kept.append(f)
    extra = [
        {**template, "flag_id": "ZN20259000001", "fixmedins_code": granted, "setl_id": setl[granted],
         "confirmed": "0", "fraud": "0",
         "flag_time": "2025-06-01 10:00:00", "handled_time": "2025-06-03 10:00:00"},
        {**template, "flag_id": "ZN20259000002", "fixmedins_code": violating, "setl_id": setl[violating],
         "confirmed": "1", "fraud": "0",
         "flag_time": "2025-06-01 10:00:00", "handled_time": "2025-06-03 10:00:00"},
    ]  # fmt: skip
    write_rows(data / "audit_flags.csv", kept + extra)
    ratings = {granted: " AA ", violating: "AAA", no_data: "A", fraud: "AA"}
    for p in providers:
        p["credit_rating"] = ratings.get(p["fixmedins_code"], "")
    write_rows(data / "providers.csv", providers)
    return {"root": root, "project": project, "data": data, "granted": granted, "violating": violating,
            "no_data": no_data, "fraud": fraud}  # fmt: skip


@pytest.fixture(scope="module")
def final(bundle: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """`pingyi score --final --ledger` of the bundle."""
    from typer.testing import CliRunner

    from pingyi.cli import app

    runner = CliRunner()
    ledger, out = bundle["root"] / "c.ledger", bundle["root"] / "final"
    r = runner.invoke(app, ["ledger", "init", str(ledger), "--committee", "c", *ACTOR])
    assert r.exit_code == 0, r.stderr
    args = ["score", "--data", str(bundle["data"]), "--project", str(bundle["project"]), "--out", str(out),
            "--year", "2025", "--final", "--ledger", str(ledger), "--date", "2026-04-10", *ACTOR]  # fmt: skip
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.stderr
    return {**bundle, "out": out, "ledger": ledger, "stdout": r.stdout}


def test_a_final_run_grants_and_refuses_and_the_ledger_keeps_the_status(final: dict):
    doc = json.loads((final["out"] / "results.json").read_text(encoding="utf-8"))
    assert doc["schema_version"] == "1.5"
    by_code = {p["fixmedins_code"]: p for p in doc["providers"]}
    g = by_code[final["granted"]]
    if g["grade"] in ("不合格", "不予评级"):
        pytest.fail(f"the bundle's provider {final['granted']} is {g['grade']}: pick another one for 'granted'")
    base = Decimal(g["adjustment"]["prepayment"])
    step = {"优秀": D("0.05")}.get(g["grade"], D(0))
    credit = (base * D("0.10")).quantize(D("0.01"), rounding="ROUND_HALF_UP")
    grade_part = (base * step).quantize(D("0.01"), rounding="ROUND_HALF_UP")
    assert g["adjustment"]["credit"] == {
        "rating": "AA",
        "status": "granted",
        "violations": 0,
        "rate": "0.100000",
        "amount": str(credit),
    }
    assert g["credit_status"] == "granted" and Decimal(g["adjustment"]["amount"]) == grade_part + credit
    assert by_code[final["violating"]]["credit_status"] == "violations"
    assert by_code[final["no_data"]]["credit_status"] == "no violation data"
    assert by_code[final["fraud"]]["credit_status"] == "not eligible: vetoed (欺诈骗保)"
    others = set(by_code) - {final["granted"], final["violating"], final["no_data"], final["fraud"]}
    assert {by_code[c]["credit_status"] for c in others} == {"not rated"}
    assert Decimal(doc["budget"]["credit"]) == credit
    assert f"credit bonus {credit:,} 元 (1 granted)" in final["stdout"]

    # adjustments.csv: the credit columns
    rows = {r["fixmedins_code"]: r for r in read_rows(final["out"] / "adjustments.csv")}
    assert list(next(iter(rows.values())))[-4:] == ["credit_rating", "credit_status", "credit_rate", "credit_amount"]
    assert (rows[final["granted"]]["credit_rating"], rows[final["granted"]]["credit_status"]) == ("AA", "granted")
    assert (rows[final["granted"]]["credit_rate"], rows[final["granted"]]["credit_amount"]) == ("0.100000", str(credit))
    assert rows[final["violating"]]["credit_amount"] == "0.00" and rows[final["violating"]]["credit_rate"] == "0.000000"

    # the ledger's provider_years.credit_status, as recorded from the final run
    con = sqlite3.connect(final["ledger"])
    try:
        status = dict(con.execute("SELECT fixmedins_code, credit_status FROM provider_years").fetchall())
    finally:
        con.close()
    assert status == {c: p["credit_status"] for c, p in by_code.items()}
    assert status[final["granted"]] == "granted"
    assert verify_ledger(final["ledger"]).ok


def test_the_card_committee_and_workbook_show_the_credit(final: dict, tmp_path):
    doc = json.loads((final["out"] / "results.json").read_text(encoding="utf-8"))
    ctx = build_contexts(doc)
    card = ctx.cards[final["granted"]]["adjustment"]
    assert card["credit_text"].startswith("信用评价AA，本年度无经确认违规：预付金+10%")
    assert ctx.cards[final["violating"]]["adjustment"]["credit_text"].startswith("未获：本年度经确认违规")
    budget = ctx.committee["budget"]
    assert budget["credit_on"] and budget["credited"] == 1
    assert budget["credit"] == float(doc["budget"]["credit"])
    en = build_contexts(doc, lang="en").cards[final["granted"]]["adjustment"]["credit_text"]
    assert en.startswith("Credit rating AA, no confirmed violation this year")

    # the PDF card: the line is on it and the card stays one page
    from pypdf import PdfReader

    from pingyi.report.pdf import PdfRenderer

    pdf = tmp_path / "card.pdf"
    assert PdfRenderer().card(ctx.cards[final["granted"]], pdf) == 1
    text = PdfReader(pdf).pages[0].extract_text().replace(" ", "").replace("\n", "")
    assert "信用加分" in text and "本年度无经确认违规" in text

    from openpyxl import load_workbook

    from pingyi.report.run import render_reports

    out = tmp_path / "reports"
    render_reports(final["out"], out, formats=["xlsx,html"])
    html = (out / "html" / "cards" / f"{final['granted']}.html").read_text(encoding="utf-8")
    assert "信用加分" in html and "信用评价AA，本年度无经确认违规" in html
    committee = next((out / "html").rglob("committee*.html")).read_text(encoding="utf-8")
    assert "信用加分合计" in committee
    book = load_workbook(next(out.glob("*.xlsx")))
    sheet = book["预付金调整"]
    header = [c.value for c in sheet[1]]
    assert header[-3:] == ["信用评价", "信用加分结果", "信用加分金额"]
    row = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == final["granted"])
    own = {r[0]: r[1] for r in book[final["granted"]].iter_rows(values_only=True) if r and r[0]}
    assert own["信用加分"].startswith("信用评价AA，本年度无经确认违规")
    about = {r[0]: r[1] for r in book["说明"].iter_rows(values_only=True)}
    assert about["信用加分合计"] == pytest.approx(float(doc["budget"]["credit"]))
    assert about["净额（奖励 + 信用加分 − 扣减）"] == pytest.approx(float(doc["budget"]["net"]))
    assert (
        row[-3] == "AA"
        and row[-2].startswith("信用评价AA")
        and row[-1] == pytest.approx(float(doc["budget"]["credit"]))
    )


def test_a_results_document_of_schema_1_2_still_reads():
    """1.3 only adds fields: a 1.2 results.json (no credit anywhere) passes the same reader."""
    from conftest import REPORT_FIXTURE
    from pingyi.run.schema import check_document

    doc = json.loads((REPORT_FIXTURE / "results.json").read_text(encoding="utf-8"))
    assert doc["schema_version"] == "1.5" and "credit" in doc["budget"]
    doc["schema_version"] = "1.2"
    del doc["budget"]["credit"]
    for p in doc["providers"]:
        del p["credit_status"], p["adjustment"]["credit"]
    checked = check_document(doc)
    assert checked.budget.credit == "0.00" and checked.providers[0].adjustment.credit is None
    assert build_contexts(doc).committee["budget"]["credit_on"] is False
