"""In-year monitoring (`pingyi monitor`, 预警): a bundle cut at a month gives the numbers of the pipeline run
on a bundle holding only those months, the annual totals annualised (hand-computed from the CSV), the
heading-for-red threshold, warnings recorded once and resolved or escalated by a later run with the
ledger still verifying, bad --through refused, the notice's text, and byte-identical outputs."""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader

from pingyi.errors import PingyiError
from pingyi.monitor.annualise import additive_measures, annualised_codes, is_annualised
from pingyi.monitor.flags import is_heading, over_share
from pingyi.spec.models import CyclePolicy, Direction
from pingyi.spec.project import copy_project, default_project_dir
from pingyi.text import Light, format_figure
from pingyi.tools.example import generate_example
from pingyi.validate import require_valid

DATED = {
    "settlements": "setl_time",
    "setl_lists": "setl_time",
    "fee_items": "fee_ocur_time",
    "audit_flags": "flag_time",
}


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def cut(src: Path, dst: Path, year: int, month: int) -> Path:
    """A copy of the bundle holding only the months of `year` up to `month` (and the prior year whole),
    made by hand from the CSV text."""
    dst.mkdir(parents=True)
    for f in sorted(src.iterdir()):
        column = DATED.get(f.stem)
        if column is None:
            shutil.copy(f, dst / f.name)
            continue
        with f.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            i = header.index(column)
            kept = [r for r in reader if not (r[i][:4] == str(year) and int(r[i][5:7]) > month)]
        with (dst / f.name).open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, quoting=csv.QUOTE_ALL, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(kept)
    return dst


@dataclass(frozen=True)
class Setup:
    root: Path
    bundle: Path


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Setup:
    root = tmp_path_factory.mktemp("monitor")
    bundle = root / "bundle"
    generate_example(bundle, providers=9, rows=6000, scale="small", fmt="csv", year=2025)
    return Setup(root, bundle)


@pytest.fixture(scope="module")
def june(setup: Setup) -> Path:
    """`pingyi monitor --through 2025-06` of the bundle, without a ledger."""
    from pingyi import api

    out = setup.root / "june"
    api.monitor(setup.bundle, "2025-06", out, day="2025-07-05")
    return out


def by_key(path: Path) -> dict[tuple[str, str], dict[str, str]]:
    return {(r["fixmedins_code"], r["indicator"]): r for r in rows(path)}


def test_cut_at_a_month_is_the_pipeline_on_those_months(setup: Setup, june: Path, cli) -> None:
    bundle = cut(setup.bundle, setup.root / "cut06", 2025, 6)
    plain = setup.root / "cut06-score"
    assert cli("score", "--data", bundle, "--out", plain).exit_code == 0
    ytd, ref = by_key(june / "indicators.csv"), by_key(plain / "indicators.csv")
    assert ytd.keys() == ref.keys() and len(ytd) > 100
    for key, r in ref.items():
        if key[1] == "D1.03":
            continue  # annualised (below)
        for field in ("value", "baseline", "score", "light", "status"):
            assert ytd[key][field] == r[field], (key, field)
    # the only annualised indicator of the catalogue: (12/6 * current) / prior - 1 = 2 (v + 1) - 1
    assert annualised_codes(require_valid().project) == ("D1.03",)
    checked = 0
    for key, r in ref.items():
        if key[1] == "D1.03" and r["value"]:
            assert float(ytd[key]["value"]) == pytest.approx(2 * (float(r["value"]) + 1) - 1, abs=1e-8)
            checked += 1
    assert checked >= 5
    # the quality stage saw what it sees in the cut bundle: the same rows read, used and rejected
    assert (june / "quality.csv").read_bytes() == (plain / "quality.csv").read_bytes()


def test_annualised_growth_hand_computed_from_the_csv(setup: Setup, june: Path, cli) -> None:
    """D1.03 统筹基金支出增长率 = (12/6 × hifp_pay Jan–Jun 2025) / hifp_pay 2024 − 1, over the provider's
    settlements settled directly (direct_setl_flag 1 or empty) and not rejected, refunds included."""
    rejected = {int(r["row"]) for r in rows(june / "rejected.csv") if r["table"] == "settlements"}
    ytd = by_key(june / "indicators.csv")
    provider = sorted(k[0] for k, r in ytd.items() if k[1] == "D1.03" and r["value"])[0]
    cur = prior = Decimal(0)
    for n, r in enumerate(rows(setup.bundle / "settlements.csv"), start=1):
        if n in rejected or r["fixmedins_code"] != provider or r["direct_setl_flag"] not in ("1", ""):
            continue
        when = r["setl_time"]
        if when.startswith("2025-") and int(when[5:7]) <= 6:
            cur += Decimal(r["hifp_pay"])
        elif when.startswith("2024-"):
            prior += Decimal(r["hifp_pay"])
    expected = float(Decimal(12) / Decimal(6) * cur / prior - 1)
    assert float(ytd[(provider, "D1.03")]["value"]) == pytest.approx(expected, rel=1e-8)
    warned = by_key(june / "warnings.csv")
    if (provider, "D1.03") in warned:
        assert warned[(provider, "D1.03")]["annualised"] == "yes"
    # `pingyi explain` on the monitoring folder says the value is not the formula on the raw sums
    told = cli("explain", "D1.03", "--provider", provider, "--results", june)
    assert told.exit_code == 0 and "annualised (monitoring through 2025-06)" in told.stdout
    unit = require_valid().project.measures["hifp_paid"].unit
    assert f"2025 hifp_paid = {format_figure(float(cur), unit, 'en')}" in told.stdout  # the card's formatter


def test_annualisation_rule_per_formula() -> None:
    """Ratios of the same months stay as they are; annual totals and totals against last year's are scaled."""
    project = require_valid().project
    additive = additive_measures(project)
    assert {"hifp_paid", "inpatient_stays", "violation_amount", "casemix_stays"} <= additive
    assert "casemix_expected_cost" not in additive  # a mean per stay
    base = project.indicators["D3.01"]  # a settlement indicator to vary the formula of
    cases = {
        "drug_fee / fee_total": False,  # a share
        "(inpatient_cost / inpatient_stays) / (prior(inpatient_cost) / prior(inpatient_stays)) - 1": False,
        "inpatient_cost / inpatient_stays / casemix_expected_cost": False,  # cost per case over a mean
        "min(drug_fee / fee_total, 1)": False,
        "violation_amount": True,  # an annual total (yuan per year)
        "violation_amount * 10000 / inpatient_stays / inpatient_stays": True,  # degree -1: per stay squared
        "hifp_paid / prior(hifp_paid) - 1": True,  # this year's total against last year's whole total
        "hifp_paid - prior(hifp_paid)": True,
    }
    for formula, expected in cases.items():
        ind = base.model_copy(update={"formula": formula, "adjusted_formula": None})
        assert is_annualised(ind, additive) is expected, formula
    reported = project.indicators["D4.04"]  # a yearly provider report: never scaled
    assert not is_annualised(reported, additive)


def test_heading_for_red_threshold_exactly_and_just_over() -> None:
    # down: 0.06 against 0.05 is exactly 20 % worse; up: 0.64 against 0.80 too (a binary 0.19999…)
    assert over_share(Direction.DOWN, 0.06, 0.05) == 0.2
    assert over_share(Direction.UP, 0.64, 0.80) == 0.2
    assert over_share(Direction.DOWN, 0.0600001, 0.05) > 0.2
    assert over_share(Direction.UP, 0.6399, 0.80) > 0.2
    assert over_share(Direction.UP, 0.9, 0.8) < 0  # better than the baseline
    assert over_share(Direction.TARGET, 2.0, 1.0) is None and over_share(Direction.DOWN, 1.0, 0.0) is None
    threshold = CyclePolicy().heading_for_red
    assert threshold == 0.20
    at, over = over_share(Direction.DOWN, 0.06, 0.05), over_share(Direction.DOWN, 0.0600001, 0.05)
    assert not is_heading(Light.YELLOW, at, threshold)  # exactly 20 % worse: not flagged
    assert is_heading(Light.YELLOW, over, threshold)  # just over: flagged
    assert not is_heading(Light.YELLOW, over_share(Direction.UP, 0.64, 0.80), threshold)
    assert is_heading(Light.YELLOW, over_share(Direction.UP, 0.6399, 0.80), threshold)
    assert is_heading(Light.RED, None, threshold) and is_heading(Light.RED, -0.3, threshold)  # already red
    assert not is_heading(Light.GREEN, -0.1, threshold) and not is_heading(Light.YELLOW, None, threshold)


def test_flags_follow_the_rule(june: Path) -> None:
    """Every row of warnings.csv is red or more than 20 % over; every scored indicator that is red or more
    than 20 % over is in it; no grey one is."""
    warned = by_key(june / "warnings.csv")
    assert warned
    for r in warned.values():
        assert r["light"] == "red" or float(r["over_baseline"]) > 0.2
        assert r["status"] == "open" and r["deadline"] == "2025-08-04" and r["warning_id"] == ""
    no_data = by_key(june / "no_data.csv")
    assert no_data and not set(no_data) & set(warned)
    for key, r in by_key(june / "indicators.csv").items():
        if r["status"] != "scored" or r["light"] in ("grey", "none"):
            continue
        if r["light"] == "red":
            assert key in warned, key


def test_policy_threshold_is_used(setup: Setup, cli) -> None:
    project = setup.root / "strict-project"
    copy_project(default_project_dir(), project)
    policy = project / "policy.yaml"
    policy.write_text(
        policy.read_text(encoding="utf-8").replace("heading_for_red: 0.20", "heading_for_red: 9.0"), encoding="utf-8"
    )
    out = setup.root / "strict"
    args = ("monitor", "--data", setup.bundle, "--through", "2025-06", "--out", out, "--date", "2025-07-05")
    assert cli(*args, "--project", project, "--format", "html").exit_code == 0
    warned = rows(out / "warnings.csv")
    assert warned and all(r["light"] == "red" for r in warned)  # only the red ones at 900 %


def test_warnings_recorded_once_then_resolved_and_escalated(setup: Setup, cli, tmp_path: Path) -> None:
    ledger = tmp_path / "committee.ledger"
    assert cli("ledger", "init", ledger, "--committee", "某市医疗保障局", "--actor", "secretary").exit_code == 0
    base = ("monitor", "--data", setup.bundle, "--ledger", ledger, "--actor", "secretary", "--format", "html")
    audit = sqlite3.connect(ledger).execute("SELECT count(*) FROM audit").fetchone()[0]
    first = cli(*base, "--through", "2025-03", "--out", tmp_path / "m1", "--date", "2025-04-05")
    assert first.exit_code == 0, first.stderr
    assert "recorded in" in first.stdout
    flagged = by_key(tmp_path / "m1" / "warnings.csv")
    assert flagged
    notice = next((tmp_path / "m1" / "notices").glob("*.html")).read_text(encoding="utf-8")
    assert "某市医疗保障局" in notice and "2025-05-05" in notice  # the committee and the deadline
    con = sqlite3.connect(ledger)
    stored = con.execute(
        "SELECT fixmedins_code, indicator, status, deadline, through_month, year FROM warnings"
    ).fetchall()
    assert sorted((p, i) for p, i, *_ in stored) == sorted(flagged)
    assert {(s, d, m, y) for *_, s, d, m, y in stored} == {("open", "2025-05-05", 3, 2025)}
    kinds = con.execute("SELECT kind FROM runs").fetchall()
    assert kinds == [("monitor",)]
    # the run and all its warnings in one transaction: one audit entry, naming the new warnings
    entries = con.execute("SELECT action, detail FROM audit WHERE id > ?", (audit,)).fetchall()
    assert [e[0] for e in entries] == ["record_run"]
    assert len(json.loads(entries[0][1])["warnings_new"]) == len(flagged)
    assert cli("ledger", "verify", ledger).exit_code == 0

    # the same month again: no warning is duplicated; the rows now name their ledger warning
    again = cli(*base, "--through", "2025-03", "--out", tmp_path / "m2", "--date", "2025-04-20")
    assert again.exit_code == 0, again.stderr
    assert con.execute("SELECT count(*) FROM warnings").fetchone()[0] == len(stored)
    second = rows(tmp_path / "m2" / "warnings.csv")
    assert {r["status"] for r in second} == {"open"} and all(r["warning_id"] for r in second)
    assert {r["deadline"] for r in second} == {"2025-05-05"}  # the deadline first given stands

    # after the deadline, with a committee that only warns on red (threshold 900 %): the red ones are
    # escalated, the others (yellow or green now judged not heading for red) resolved
    project = tmp_path / "project"
    copy_project(default_project_dir(), project)
    policy = project / "policy.yaml"
    policy.write_text(
        policy.read_text(encoding="utf-8").replace("heading_for_red: 0.20", "heading_for_red: 9.0"), encoding="utf-8"
    )
    late = cli(*base, "--through", "2025-03", "--out", tmp_path / "m3", "--date", "2025-05-06", "--project", project)
    assert late.exit_code == 0, late.stderr
    third = by_key(tmp_path / "m3" / "warnings.csv")
    status = dict(con.execute("SELECT fixmedins_code || ' ' || indicator, status FROM warnings").fetchall())
    escalated = {k for k, r in third.items() if r["status"] == "escalated"}
    resolved = {k for k, r in third.items() if r["status"] == "resolved"}
    assert escalated and resolved
    assert all(third[k]["light"] == "red" for k in escalated)
    assert all(third[k]["light"] != "red" for k in resolved)
    assert {f"{p} {i}" for p, i in escalated} == {k for k, s in status.items() if s == "escalated"}
    assert {f"{p} {i}" for p, i in resolved} == {k for k, s in status.items() if s == "resolved"}
    assert con.execute("SELECT count(*) FROM warnings").fetchone()[0] == len(stored)  # nothing new: all known
    assert con.execute("SELECT count(*) FROM runs WHERE kind = 'monitor'").fetchone()[0] == 3
    verified = cli("ledger", "verify", ledger)
    assert verified.exit_code == 0, verified.stdout + verified.stderr
    # an assessor re-runs the recorded monitoring run from its inputs and the ledger state it planned from
    # (ledger.json): the same bytes, though the ledger has moved on since
    rerun = cli("verify", tmp_path / "m1")
    assert rerun.exit_code == 0, rerun.stdout
    assert "ok warnings.csv" in rerun.stdout and "ok ledger.json" in rerun.stdout
    # one recorded output edited: the ledger no longer verifies, nor does the folder
    table = tmp_path / "m3" / "warnings.csv"
    table.write_bytes(table.read_bytes().replace(b"escalated", b"resolved!", 1))
    assert cli("ledger", "verify", ledger).exit_code == 2
    edited = cli("verify", tmp_path / "m3")
    assert edited.exit_code == 1 and "EDITED warnings.csv" in edited.stdout
    con.close()


def test_nothing_recorded_when_the_ledger_moved_meanwhile(setup: Setup, tmp_path: Path) -> None:
    """Two monitoring runs at once: the one recording second planned from a state that is gone, and records
    nothing (no run, no warning, no audit entry)."""
    from pingyi.ledger import add_warning, init_ledger, open_ledger
    from pingyi.monitor.run import ledger_state, record, write_monitor

    path = tmp_path / "l.ledger"
    init_ledger(path, committee="c", actor="x").close()
    state = ledger_state(path, 2025)
    out = tmp_path / "o"
    done = write_monitor(
        setup.bundle,
        "2025-04",
        out,
        None,
        2025,
        day="2025-05-05",
        lang="zh",
        formats="html",
        encoding=None,
        state=state,
    )
    assert done.heading
    with open_ledger(path) as book:
        add_warning(
            book,
            fixmedins_code="H33010200006",
            indicator="D1.01",
            year=2025,
            through_month=3,
            deadline="2025-05-01",
            actor="other run",
        )
        before = [book.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("runs", "warnings", "audit")]
    with pytest.raises(PingyiError, match="changed while this monitoring run was computed"):
        record(path, out, done.rows, state["warnings"], 2025, 4, date(2025, 5, 5), "x", "pingyi monitor")
    with open_ledger(path) as book:
        after = [book.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("runs", "warnings", "audit")]
    assert after == before


def test_bad_through_refused(setup: Setup, cli, tmp_path: Path) -> None:
    base = ("monitor", "--data", setup.bundle, "--out", tmp_path / "o")
    outside = cli(*base, "--through", "2024-06")
    assert outside.exit_code == 2
    assert "--through 2024-06 is outside the evaluation year 2025" in outside.stderr
    assert "Traceback" not in outside.stderr
    for text in ("2025-13", "June", "2025-6"):
        bad = cli(*base, "--through", text)
        assert bad.exit_code == 2 and "is not a month; expected YYYY-MM" in bad.stderr, text
    nine = cut(setup.bundle, tmp_path / "nine", 2025, 9)
    empty = cli("monitor", "--data", nine, "--out", tmp_path / "o", "--through", "2025-11")
    assert empty.exit_code == 2
    assert "holds no settlements dated in that month" in empty.stderr
    assert "2025-01, 2025-02" in empty.stderr and "2025-09;" in empty.stderr and "2025-10" not in empty.stderr
    assert not (tmp_path / "o").exists()


def test_january_runs(setup: Setup, tmp_path: Path, cli) -> None:
    """One month of the year against a whole prior year: the year-window guard expects a month's share,
    and no provider being gradable yet is a warning, not a stop (a monitoring run does not grade)."""
    out = tmp_path / "jan"
    done = cli("monitor", "--data", setup.bundle, "--through", "2025-01", "--out", out, "--format", "html")
    assert done.exit_code == 0, done.stderr
    assert "annualised (x 12/1): D1.03" in done.stdout
    assert json.loads((out / "results.json").read_text(encoding="utf-8"))["parameters"]["through"] == "2025-01"


def test_notice_pdf_says_warning_and_deadline(setup: Setup, tmp_path: Path, cli) -> None:
    out = tmp_path / "n"
    args = ("monitor", "--data", setup.bundle, "--through", "2025-06", "--out", out, "--date", "2025-07-05")
    done = cli(*args, "--format", "pdf")
    assert done.exit_code == 0, done.stderr
    pdfs = sorted((out / "notices").glob("*.pdf"))
    warned = {r["fixmedins_code"] for r in rows(out / "warnings.csv")}
    assert [p.stem for p in pdfs] == sorted(warned) and not list((out / "notices").glob("*.html"))
    text = PdfReader(pdfs[0]).pages[0].extract_text()
    assert "预警" in text and "2025-08-04" in text and "限期整改" in text and "2025-06" in text
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["kind"] == "pingyi monitor" and manifest["parameters"]["through"] == "2025-06"
    assert f"notices/{pdfs[0].name}" in manifest["outputs"] and "warnings.csv" in manifest["outputs"]
    # no patient identifier in any output
    psn = {r["psn_no"] for r in rows(setup.bundle / "settlements.csv")[:200]}
    for f in out.rglob("*"):
        if f.is_file() and f.suffix in (".csv", ".html", ".json"):
            body = f.read_text(encoding="utf-8-sig")
            assert not any(p in body for p in psn), f


def test_english_notice(setup: Setup, tmp_path: Path, cli) -> None:
    out = tmp_path / "en"
    args = ("monitor", "--data", setup.bundle, "--through", "2025-06", "--out", out, "--date", "2025-07-05")
    assert cli(*args, "--format", "html", "--lang", "en").exit_code == 0
    html = next((out / "notices").glob("*.html")).read_text(encoding="utf-8")
    assert "Warning notice" in html and "2025-08-04" in html
    assert cli(*args, "--lang", "fr").exit_code == 2


def test_deterministic(setup: Setup, tmp_path: Path, cli) -> None:
    outs = [tmp_path / "a", tmp_path / "b"]
    for out in outs:
        args = ("monitor", "--data", setup.bundle, "--through", "2025-05", "--out", out, "--date", "2025-06-03")
        assert cli(*args).exit_code == 0
    a, b = outs
    assert (a / "warnings.csv").read_bytes() == (b / "warnings.csv").read_bytes()
    assert (a / "warnings.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM
    names = sorted(p.name for p in (a / "notices").iterdir())
    assert names and names == sorted(p.name for p in (b / "notices").iterdir())
    for name in names:
        assert (a / "notices" / name).read_bytes() == (b / "notices" / name).read_bytes(), name
