"""The evaluation cycle end to end (评议-反馈-整改-复查): two years of generated bundles recorded in one
ledger — in-year monitoring with warnings and notices, a preview with its watermark and review
deadline, disputes from two providers (one accepted, one rejected) and a final run refused until both
are decided, the final run compared with the preview (the corrected light, the money moved),
rectification items opened by the final run and closed or kept by the next year's, a provider revoked
after two failing years and others earning the credit bonus, `pingyi ledger verify` passing and then
failing after one edited ledger row or one edited output file; and a kill during a ledger-writing
command."""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader

from pingyi.ledger import add_dispute, open_ledger, verify_ledger
from pingyi.spec.project import copy_project, default_project_dir
from pingyi.tools.example import generate_example
from test_disputes import fill

ACTOR = ("--actor", "secretary")


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def results(folder: Path) -> dict:
    return json.loads((folder / "results.json").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Years:
    root: Path
    project: Path
    b2025: Path
    b2026: Path
    ledger: Path


@pytest.fixture(scope="module")
def years(tmp_path_factory: pytest.TempPathFactory) -> Years:
    """A project that can evaluate 2025 and 2026 (the 2025 baselines copied as 2026's) and a bundle each."""
    root = tmp_path_factory.mktemp("cycle")
    project = root / "project"
    copy_project(default_project_dir(), project)
    text = (project / "baselines" / "2025.yaml").read_text(encoding="utf-8")
    (project / "baselines" / "2026.yaml").write_text(text.replace("\nyear: 2025\n", "\nyear: 2026\n"), encoding="utf-8")
    policy = project / "policy.yaml"
    policy.write_text(policy.read_text(encoding="utf-8").replace("evaluation_year: 2025\n", ""), encoding="utf-8")
    b2025, b2026 = root / "b2025", root / "b2026"
    generate_example(b2025, providers=9, rows=6000, scale="small", fmt="csv", year=2025, project_dir=project)
    # another seed so that 2026's values differ, then the 2025 providers' codes put back (a seed also
    # draws the codes; both lists sort the same way: province, city, level)
    generate_example(b2026, providers=9, rows=6000, scale="small", fmt="csv", year=2026, seed=7, project_dir=project)
    codes = {
        new: old
        for old, new in zip(
            sorted(r["fixmedins_code"] for r in rows(b2025 / "providers.csv")),
            sorted(r["fixmedins_code"] for r in rows(b2026 / "providers.csv")),
            strict=True,
        )
    }
    for f in b2026.iterdir():
        text = f.read_text(encoding="utf-8-sig")
        for new, old in codes.items():
            text = text.replace(new, old)
        f.write_text(text, encoding="utf-8")
    rate_for_credit(b2026)
    return Years(root, project, b2025, b2026, root / "committee.ledger")


def write_rows(path: Path, table: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(table[0]))
        w.writeheader()
        w.writerows(table)


def rate_for_credit(bundle: Path) -> None:
    """2026: every provider rated AA (providers.credit_rating), and every provider without a confirmed
    violation in 2026 given one unconfirmed audit flag, so that its violation count is known (0) rather
    than missing: the providers that pass and are not vetoed or revoked then earn the credit bonus."""
    providers = rows(bundle / "providers.csv")
    for p in providers:
        p["credit_rating"] = "AA"
    write_rows(bundle / "providers.csv", providers)
    flags = rows(bundle / "audit_flags.csv")
    confirmed = {f["fixmedins_code"] for f in flags if f["flag_time"].startswith("2026") and f["confirmed"] == "1"}
    setl = {}
    for r in rows(bundle / "settlements.csv"):
        if r["setl_time"].startswith("2026"):
            setl.setdefault(r["fixmedins_code"], r["setl_id"])
    extra = [
        {**flags[0], "flag_id": f"ZN2026900{i:04d}", "fixmedins_code": code, "setl_id": setl[code], "confirmed": "0",
         "fraud": "0", "flag_time": "2026-06-01 10:00:00", "handled_time": "2026-06-03 10:00:00"}
        for i, code in enumerate(sorted(set(setl) - confirmed))
    ]  # fmt: skip
    write_rows(bundle / "audit_flags.csv", flags + extra)


def indicator(provider: dict, code: str) -> dict:
    return next(i for i in provider["indicators"] if i["code"] == code)


def lights(folder: Path, colour: str) -> set[tuple[str, str]]:
    return {
        (p["fixmedins_code"], i["code"])
        for p in results(folder)["providers"]
        for i in p["indicators"]
        if i.get("light") == colour
    }


def test_two_years_of_the_cycle(years: Years, cli, tmp_path):
    y, ledger = years, years.ledger
    p = ("--project", str(years.project))
    assert cli("ledger", "init", ledger, "--committee", "浙江省医疗保障局", *ACTOR).exit_code == 0
    assert cli("ledger", "init", ledger, "--committee", "x", *ACTOR).exit_code == 2  # never over a ledger

    # --- 2025 in-year monitoring (预警) through June: warnings recorded with a deadline 30 days on
    watch = y.root / "2025-06-monitor"
    r = cli("monitor", "--data", y.b2025, "--through", "2025-06", "--out", watch, *p, "--year", "2025",
            "--ledger", ledger, "--date", "2025-07-05", "--format", "html", *ACTOR)  # fmt: skip
    assert r.exit_code == 0, r.stderr
    warned = {(w["fixmedins_code"], w["indicator"]) for w in rows(watch / "warnings.csv")}
    assert warned and "recorded in" in r.stdout
    with open_ledger(ledger) as book:
        stored = book.conn.execute("SELECT fixmedins_code, indicator, deadline, status FROM warnings").fetchall()
    assert {(c, i) for c, i, *_ in stored} == warned
    assert {(d, st) for *_, d, st in stored} == {("2025-08-04", "open")}
    assert {f.stem for f in (watch / "notices").glob("*.html")} == {c for c, _ in warned}

    # --- 2025: the preview, watermarked, with its review deadline (30 days after its date)
    prev = y.root / "2025-preview"
    r = cli("score", "--data", y.b2025, "--out", prev, *p, "--year", "2025", "--preview", "--ledger", ledger,
            "--date", "2026-03-02", *ACTOR)  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert "review closes on 2026-04-01" in r.stdout and "recorded in" in r.stdout
    params = results(prev)["parameters"]
    assert (params["stage"], params["date"], params["review_deadline"]) == ("preview", "2026-03-02", "2026-04-01")
    reports = y.root / "2025-preview-reports"
    assert cli("report", "--results", prev, "--out", reports, "--format", "pdf,html").exit_code == 0
    card = sorted((reports / "cards").glob("*.pdf"))[0]
    text = PdfReader(card).pages[0].extract_text()
    assert "征求意见稿" in text and "2026-04-01" in text
    committee = PdfReader(reports / "committee.pdf").pages[0].extract_text()
    assert "征求意见稿" in committee and "2026-04-01" in committee
    html = next((reports / "html").rglob("*.html")).read_text(encoding="utf-8")
    assert "征求意见稿" in html
    assert len(PdfReader(card).pages) == 1  # the mark and the deadline do not push the card to a second page

    # --- disputes from two providers through the templates; the final run is refused until both are
    # decided; one is accepted (its corrected value is scored), the other rejected
    templates = y.root / "templates"
    assert cli("disputes", "template", "--results", prev, "--out", templates).exit_code == 0
    graded = [q for q in results(prev)["providers"] if q["total_score"] is not None and q["grade"] != "不合格"]
    hit = next(q for q in graded if indicator(q, "D1.03")["light"] == "red" and indicator(q, "D1.03")["score"] == 0)
    code, other = hit["fixmedins_code"], next(q["fixmedins_code"] for q in graded if q is not hit)
    fixed = indicator(hit, "D1.03")["baseline"] / 2  # at half the baseline: green 100 (threshold rule)
    a = fill(templates / f"{code}.xlsx", y.root / "a.xlsx", {"D1.03": (fixed, "转院病例被计入本院", "附件1")})
    b = fill(templates / f"{other}.xlsx", y.root / "b.xlsx", {"D1.01": (0.0, "不认可增长率", None)})
    r = cli("disputes", "import", a, b, "--ledger", ledger, "--date", "2026-03-20", *ACTOR)
    assert r.exit_code == 0 and "2 dispute(s) recorded" in r.stdout, r.stderr
    final = y.root / "2025-final"
    args = ("score", "--data", y.b2025, "--out", final, *p, "--year", "2025", "--final", "--ledger", ledger,
            "--date", "2026-04-10", *ACTOR)  # fmt: skip
    r = cli(*args)
    assert r.exit_code == 2 and "2 dispute(s) of 2025 are undecided" in r.stderr, r.stderr
    assert not final.exists()
    ids = {
        d["fixmedins_code"]: d["id"] for d in json.loads(cli("disputes", "list", "--ledger", ledger, "--json").stdout)
    }
    decide = ("disputes", "decide", "--ledger", ledger, "--id")
    assert cli(*decide, ids[code], "--accept", "--reason", "转院记录属实", *ACTOR).exit_code == 0
    assert cli(*decide, ids[other], "--reject", "--reason", "无佐证", *ACTOR).exit_code == 0

    # --- 2025 final: every red light opens a rectification item due 90 days later
    r = cli(*args)
    assert r.exit_code == 0, r.stderr
    assert "1 correction(s) from accepted disputes applied" in r.stdout
    corrected = indicator(next(q for q in results(final)["providers"] if q["fixmedins_code"] == code), "D1.03")
    assert (corrected["light"], corrected["score"], corrected["corrected"]["dispute_id"]) == ("green", 100.0, ids[code])
    assert [(c["fixmedins_code"], c["indicator"]) for c in results(final)["corrections"]] == [(code, "D1.03")]
    # what the final run changed against the preview (ledger run ids): the accepted correction's light
    # and score, and the money it moved
    with open_ledger(ledger) as book:
        run_ids = dict(book.conn.execute("SELECT kind, MAX(id) FROM runs GROUP BY kind").fetchall())
    compared = cli("compare", run_ids["preview"], run_ids["final"], "--ledger", ledger, "--json")
    assert compared.exit_code == 0, compared.stderr
    diff = json.loads(compared.stdout)
    mine = {(c["indicator"], c["field"]): (c["a"], c["b"]) for c in diff["changes"] if c["provider"] == code}
    assert mine[("D1.03", "light")] == ("red", "green") and mine[("D1.03", "score")] == (0.0, 100.0)
    # the rejected dispute changed nothing: other providers at most move in rank (the corrected total
    # passed theirs)
    assert {c["field"] for c in diff["changes"] if c["provider"] != code} <= {"rank"}, diff["changes"]
    amount = {q["fixmedins_code"]: q["adjustment"]["amount"] for q in results(prev)["providers"]}
    moved = sum(
        float(q["adjustment"]["amount"]) - float(amount[q["fixmedins_code"]]) for q in results(final)["providers"]
    )
    assert float(diff["totals"]["amount_difference"]) == pytest.approx(moved, abs=0.005)
    assert float(diff["totals"]["net_change"]) == pytest.approx(moved, abs=0.005)

    red_2025 = lights(final, "red")
    assert red_2025, "the generated year has red lights"
    assert f"rectification: {len(red_2025)} opened, 0 closed" in r.stdout
    items = json.loads(cli("rectify", "list", "--ledger", ledger, "--json").stdout)
    assert {(i["fixmedins_code"], i["indicator"]) for i in items} == red_2025
    assert {i["deadline"] for i in items} == {"2026-07-09"}
    assert "stage" in results(final)["parameters"] and "review_deadline" not in results(final)["parameters"]
    final_reports = y.root / "2025-final-reports"
    assert cli("report", "--results", final, "--out", final_reports, "--format", "pdf").exit_code == 0
    for pdf in [final_reports / "committee.pdf", *sorted((final_reports / "cards").glob("*.pdf"))[:2]]:
        assert "征求意见稿" not in PdfReader(pdf).pages[0].extract_text()

    # a provider reports one item fixed
    first = items[0]["id"]
    assert (
        cli("rectify", "submit", "--ledger", ledger, "--item", first, "--notes", "已整改，见附件3", *ACTOR).exit_code
        == 0
    )

    # --- 2026 final: the history comes from the ledger's 2025 final run; fixed items close, others stay
    final26 = y.root / "2026-final"
    r = cli("score", "--data", y.b2026, "--out", final26, *p, "--year", "2026", "--final", "--ledger", ledger,
            "--date", "2027-04-12", *ACTOR)  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert f"grade history from {final}" in r.stdout
    red_2026, now = lights(final26, "red"), {}
    for prov in results(final26)["providers"]:
        now.update({(prov["fixmedins_code"], i["code"]): i.get("light") for i in prov["indicators"]})
    closable = {k for k in red_2025 if now.get(k) not in (None, "", "grey", "red")}
    assert closable and closable != red_2025, "some 2025 items are fixed in 2026 and some are not"
    with open_ledger(ledger) as book:
        state = {
            (r["fixmedins_code"], r["indicator"]): dict(r) for r in book.conn.execute("SELECT * FROM rectification")
        }
        final26_id = book.conn.execute("SELECT MAX(id) FROM runs").fetchone()[0]
    assert {k for k, v in state.items() if v["status"] == "closed"} == closable
    assert all(state[k]["closed_by_run"] == final26_id for k in closable)
    kept = red_2025 - closable
    assert {state[k]["status"] for k in kept} == {"overdue"}  # past 2026-07-09 on 2027-04-12
    opened = {k for k, v in state.items() if v["year_opened"] == 2026}
    assert opened == red_2026 - red_2025
    assert f"{len(closable)} closed" in r.stdout

    # the reports given the ledger: the committee sees the rectification rate and the overdue items,
    # each card the provider's open items; the snapshot they came from is in the report manifest
    rep26 = y.root / "2026-final-reports"
    r = cli("report", "--results", final26, "--out", rep26, "--format", "pdf,html", "--ledger", ledger)
    assert r.exit_code == 0, r.stderr
    committee = "".join(p.extract_text() for p in PdfReader(rep26 / "committee.pdf").pages).replace("\n", "")
    rate = f"{len(closable) / len(red_2025):.1%}"
    expected = (f"上年及以前整改事项{len(red_2025)}项，已关闭{len(closable)}项，整改率{rate}；"
                f"仍未关闭{len(kept)}项，其中逾期{len(kept)}项；本年新开{len(opened)}项。")  # fmt: skip
    assert expected in committee, committee[:2000]
    late = sorted(kept)[0]
    assert "逾期整改事项" in committee and late[0] in committee
    html = (rep26 / "html" / "cards" / f"{late[0]}.html").read_text(encoding="utf-8")
    assert "整改事项" in html and late[1] in html and "逾期" in html
    clean = sorted({c for c, _ in red_2025 | red_2026} ^ {q["fixmedins_code"] for q in results(final26)["providers"]})
    if clean:  # a provider with nothing to rectify has no such box
        assert "整改事项" not in (rep26 / "html" / "cards" / f"{clean[0]}.html").read_text(encoding="utf-8")
    assert "ledger.json" in json.loads((rep26 / "manifest.json").read_text(encoding="utf-8"))["outputs"]
    assert cli("verify", rep26, "--rerender").exit_code == 0
    snap = rep26 / "ledger.json"
    snap.write_text(snap.read_text(encoding="utf-8").replace('"overdue"', '"closed"'), encoding="utf-8")
    r = cli("verify", rep26)
    assert r.exit_code == 1 and "ledger.json" in r.stdout, r.stdout + r.stderr

    # two failing years revoke designation; the card shows last year's grade
    g25 = {q["fixmedins_code"]: q["grade"] for q in results(final)["providers"]}
    g26 = {q["fixmedins_code"]: q for q in results(final26)["providers"]}
    revoked = set()
    for code, prov in g26.items():
        assert prov["grade_history"] == [g25[code]]
        if prov["adjustment"]["designation"] == "revoked":
            revoked.add(code)
        assert (code in revoked) == (g25[code] == "不合格" and prov["grade"] == "不合格"), code
    assert revoked, "some provider fails both years and loses its designation"
    with open_ledger(ledger) as book:
        designation = dict(
            book.conn.execute("SELECT fixmedins_code, designation FROM provider_years WHERE year = 2026")
        )
    assert {c for c, d in designation.items() if d == "revoked"} == revoked

    # the credit bonus (信用评价): every 2026 provider is rated AA; those with no confirmed violation that
    # pass and are neither vetoed nor revoked get +10 % of their prepayment on top of their grade's rate
    granted = set()
    for code, prov in g26.items():
        credit = prov["adjustment"]["credit"]
        eligible = (prov["grade"] in ("优秀", "良好", "合格") and not prov["veto"]
                    and prov["adjustment"]["designation"] != "revoked")  # fmt: skip
        if credit["status"] == "granted":
            granted.add(code)
            assert eligible and credit["violations"] == 0 and Decimal(credit["rate"]) == Decimal("0.10"), code
            tenth = Decimal(prov["adjustment"]["prepayment"]) * Decimal("0.10")
            assert credit["amount"] == str(tenth.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)), code
        else:
            assert not eligible or credit["violations"], (code, credit)
    assert granted, "some 2026 provider earns the credit bonus"
    assert not granted & revoked
    with open_ledger(ledger) as book:
        status = dict(book.conn.execute("SELECT fixmedins_code, credit_status FROM provider_years WHERE year = 2026"))
    assert {c for c, st in status.items() if st == "granted"} == granted

    # --- the ledger verifies, then fails after one edited row or one edited output
    key = y.root / "committee.pem"
    assert cli("ledger", "keygen", key).exit_code == 0
    assert cli("ledger", "sign", "--ledger", ledger, "--run", final26_id, "--key", key, *ACTOR).exit_code == 0
    r = cli("ledger", "verify", ledger, "--public-key", f"{key}.pub")
    assert r.exit_code == 0 and "OK" in r.stdout, r.stdout + r.stderr
    runs = json.loads(cli("ledger", "runs", "--ledger", ledger, "--json").stdout)
    assert [x["kind"] for x in runs] == ["monitor", "preview", "final", "final"] and runs[3]["signature"]

    edited = tmp_path / "edited.ledger"
    edited.write_bytes(ledger.read_bytes())
    con = sqlite3.connect(edited)
    con.execute("UPDATE rectification SET status = 'closed', closed_by_run = ? WHERE id = ?", (final26_id, first))
    con.commit()
    con.close()
    r = cli("ledger", "verify", edited, "--no-files")
    assert r.exit_code == 2 and "rectification" in r.stderr, r.stdout + r.stderr

    scores = final / "scores.csv"
    original = scores.read_bytes()
    scores.write_bytes(original.replace(b"\xe4\xb8\x8d\xe5\x90\x88\xe6\xa0\xbc", b"\xe5\x90\x88\xe6\xa0\xbc", 1))
    try:
        r = cli("ledger", "verify", ledger)
        assert r.exit_code == 2 and "scores.csv" in r.stderr, r.stdout + r.stderr
    finally:
        scores.write_bytes(original)
    assert cli("ledger", "verify", ledger).exit_code == 0

    # the cycle parameters are part of what `pingyi verify` re-runs
    r = cli("verify", prev)
    assert r.exit_code == 0, r.stdout + r.stderr


def test_cycle_options_are_checked(years: Years, cli, tmp_path):
    base = ("score", "--data", years.b2025, "--out", tmp_path / "o", "--project", years.project, "--year", "2025")
    r = cli(*base, "--preview", "--final")
    assert r.exit_code == 2 and "exclude each other" in r.stderr
    r = cli(*base, "--ledger", tmp_path / "none.ledger")
    assert r.exit_code == 2 and "add --preview, --final or --recheck" in r.stderr
    r = cli(*base, "--preview", "--date", "2026-02-30")
    assert r.exit_code == 2 and "--date '2026-02-30' is not a date" in r.stderr
    r = cli(*base, "--preview", "--force", "why")
    assert r.exit_code == 2 and "--force REASON only applies to --final" in r.stderr
    r = cli(*base, "--final", "--ledger", tmp_path / "none.ledger")
    assert r.exit_code == 2 and "none.ledger: no such file" in r.stderr
    assert not (tmp_path / "o").exists()


def test_forced_final_keeps_its_reason_in_the_audit_log(years: Years, cli, tmp_path):
    ledger = tmp_path / "l.ledger"
    assert cli("ledger", "init", ledger, "--committee", "c", *ACTOR).exit_code == 0
    prev = tmp_path / "prev"
    common = (
        "--data",
        years.b2025,
        "--project",
        years.project,
        "--year",
        "2025",
        "--ledger",
        ledger,
        "--date",
        "2026-03-02",
    )
    assert cli("score", *common, "--out", prev, "--preview", *ACTOR).exit_code == 0
    with open_ledger(ledger) as book:
        add_dispute(book, fixmedins_code="H33010200006", indicator="D1.01", year=2025, reason="r", actor="h")
    r = cli("score", *common, "--out", tmp_path / "fin", "--final", "--force", "省局批准按期发布", *ACTOR)
    assert r.exit_code == 0 and "undecided disputes; reason recorded: 省局批准按期发布" in r.stdout, r.stderr
    with open_ledger(ledger) as book:
        detail = book.conn.execute("SELECT detail FROM audit WHERE action = 'record_run' ORDER BY id DESC").fetchone()[
            0
        ]
    assert json.loads(detail)["forced"] == "省局批准按期发布"
    assert verify_ledger(ledger).ok


def test_the_project_names_its_ledger(years: Years, cli, tmp_path):
    project = tmp_path / "project"
    copy_project(years.project, project)
    policy = project / "policy.yaml"
    policy.write_text(
        policy.read_text(encoding="utf-8").replace("  # ledger: committee.ledger", "  ledger: c.ledger"),
        encoding="utf-8",
    )
    assert cli("ledger", "init", project / "c.ledger", "--committee", "c", *ACTOR).exit_code == 0
    out = tmp_path / "prev"
    r = cli("score", "--data", years.b2025, "--project", project, "--year", "2025", "--out", out, "--preview", *ACTOR)
    assert r.exit_code == 0, r.stderr
    assert f"recorded in {project / 'c.ledger'} as run 1" in r.stdout
    # without a stage nothing is recorded, even when the project names a ledger
    r = cli("score", "--data", years.b2025, "--project", project, "--year", "2025", "--out", tmp_path / "plain")
    assert r.exit_code == 0 and "recorded in" not in r.stdout
    with open_ledger(project / "c.ledger") as book:
        assert book.conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 1


WRITER = """
import sys
from pingyi.cli import app
sys.argv = ["pingyi", *sys.argv[1:]]
app()
"""


def test_a_kill_while_recording_leaves_the_ledger_consistent(years: Years, cli, tmp_path):
    """SIGKILL `pingyi score --final --ledger` at moments across its run (most land in the scoring, some in
    the recording transaction): the ledger always verifies, and holds the final run with all its
    rectification items or neither."""
    ledger = tmp_path / "k.ledger"
    assert cli("ledger", "init", ledger, "--committee", "c", *ACTOR).exit_code == 0
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    cmd = [sys.executable, "-c", WRITER, "score", "--data", str(years.b2025), "--project", str(years.project),
           "--year", "2025", "--final", "--ledger", str(ledger), "--date", "2026-04-10", "--actor", "s"]  # fmt: skip
    start = time.monotonic()
    done = subprocess.run([*cmd, "--out", str(tmp_path / "ref")], env=env, capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode()
    full = time.monotonic() - start
    with open_ledger(ledger) as book:
        per_run = book.conn.execute("SELECT COUNT(*) FROM rectification").fetchone()[0]
    assert per_run > 0
    for k, fraction in enumerate((0.55, 0.75, 0.85, 0.9, 0.95, 0.98)):
        proc = subprocess.Popen([*cmd, "--out", str(tmp_path / f"o{k}")], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        time.sleep(full * fraction)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert verify_ledger(ledger, check_files=False).ok
        with open_ledger(ledger) as book:
            finals = book.conn.execute("SELECT id FROM runs WHERE kind = 'final'").fetchall()
            for (run_id,) in finals:
                n = book.conn.execute("SELECT COUNT(*) FROM rectification WHERE run_opened = ?", (run_id,)).fetchone()[
                    0
                ]
                # the first final run opens every red item; a later one opens none (all still open)
                assert n == (per_run if run_id == finals[0][0] else 0)
