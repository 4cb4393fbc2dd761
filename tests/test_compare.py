"""`pingyi compare RUN_A RUN_B`: identical runs, a policy edit of the 不合格 step rate on the same data (the
money moved summed by hand from both adjustments.csv), a grade band edit (the grades changed counted by
hand), a corrections run (the corrected indicator's light), the final run against its preview by ledger
run ids, the --json shape, the workbook (no formula, deterministic bytes), an edited results.json
refused by name, runs of two years compared with a note, another catalogue, providers in one run only,
and new adjustment fields compared without code changes."""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import FrozenInstanceError, dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pingyi import api
from pingyi.compare.diff import diff_fields
from pingyi.ledger import init_ledger, record_run
from pingyi.run.evaluate import evaluate_to
from pingyi.run.manifest import sha256
from pingyi.spec.project import copy_project, default_project_dir
from pingyi.tools.example import generate_example


def adjustments(folder: Path) -> dict[str, dict[str, str]]:
    with (folder / "adjustments.csv").open(encoding="utf-8-sig", newline="") as fh:
        return {r["fixmedins_code"]: r for r in csv.DictReader(fh)}


def results(folder: Path) -> dict:
    return json.loads((folder / "results.json").read_text(encoding="utf-8"))


def as_json(cli, *args) -> dict:
    r = cli("compare", *args, "--json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


@dataclass(frozen=True)
class Runs:
    root: Path
    bundle: Path
    project: Path
    a: Path  # the shipped policy
    b: Path  # the same data, 不合格 step rate -15 % instead of -10 %


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    root = tmp_path_factory.mktemp("compare")
    project, edited = root / "project", root / "project-15"
    copy_project(default_project_dir(), project)
    copy_project(default_project_dir(), edited)
    policy = edited / "policy.yaml"
    text = policy.read_text(encoding="utf-8")
    assert "不合格: -0.10" in text
    policy.write_text(text.replace("不合格: -0.10", "不合格: -0.15"), encoding="utf-8")
    bundle = root / "bundle"
    generate_example(bundle, providers=9, rows=6000, scale="small", fmt="csv", year=2025)
    evaluate_to(bundle, project, 2025, None, root / "a")
    evaluate_to(bundle, edited, 2025, None, root / "b")
    return Runs(root, bundle, project, root / "a", root / "b")


def test_identical_runs_show_no_change(runs: Runs, cli, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(runs.a, copy)
    r = cli("compare", runs.a, copy)
    assert r.exit_code == 0, r.stderr
    assert "no change: the 9 providers' results are the same" in r.stdout
    assert "changes (B against A)" not in r.stdout
    doc = as_json(cli, runs.a, copy)
    assert doc["identical"] is True and doc["changes"] == [] and doc["providers"]["changed"] == []
    assert [n["kind"] for n in doc["notes"]] == ["same_run"]
    t = doc["totals"]
    assert (t["net_change"], t["amount_difference"], t["providers_changed"]) == ("0.00", "0.00", 0)


def test_policy_edit_money_moved_equals_the_hand_sum(runs: Runs, cli):
    before, after = adjustments(runs.a), adjustments(runs.b)
    assert sorted(before) == sorted(after)
    failing = [c for c, row in before.items() if row["rate"] == "-0.100000"]
    assert failing, "the generated bundle has providers graded 不合格"
    # by hand, from the two tables: each failing provider's amount and their sum
    diffs = {c: Decimal(after[c]["amount"]) - Decimal(before[c]["amount"]) for c in before}
    hand = sum(diffs.values(), Decimal(0))
    assert {c for c, d in diffs.items() if d != 0} == set(failing)
    for c in failing:  # -15 % of the same prepayment, to the cent
        assert after[c]["rate"] == "-0.150000"
        assert abs(Decimal(after[c]["amount"]) - Decimal(before[c]["prepayment"]) * Decimal("-0.15")) <= Decimal(
            "0.005"
        )
    penalties_a = -sum((Decimal(r["amount"]) for r in before.values() if Decimal(r["amount"]) < 0), Decimal(0))
    penalties_b = -sum((Decimal(r["amount"]) for r in after.values() if Decimal(r["amount"]) < 0), Decimal(0))
    rewards_a = sum((Decimal(r["amount"]) for r in before.values() if Decimal(r["amount"]) > 0), Decimal(0))

    doc = as_json(cli, runs.a, runs.b)
    t = doc["totals"]
    assert Decimal(t["amount_difference"]) == hand < 0
    assert Decimal(t["amount_moved"]) == -hand
    assert Decimal(t["net_change"]) == hand  # no provider added or removed: the net moves by the same sum
    assert Decimal(t["a"]["penalties"]) == penalties_a == Decimal(results(runs.a)["budget"]["penalties"])
    assert Decimal(t["b"]["penalties"]) == penalties_b == penalties_a - hand
    assert Decimal(t["a"]["rewards"]) == rewards_a == Decimal(t["b"]["rewards"])  # rewards untouched
    assert (t["amount_changed"], t["providers_changed"], t["grade_changed"], t["designation_changed"]) == (
        len(failing),
        len(failing),
        0,
        0,
    )
    assert doc["providers"]["changed"] == sorted(failing)
    assert doc["inputs"]["project_files"] == {"changed": ["policy.yaml"], "added": [], "removed": []}
    assert doc["inputs"]["data_files"] == {"changed": [], "added": [], "removed": []}
    # the changes: only the adjustment moved, and only for the failing providers
    fields = {(c["provider"], c["field"]) for c in doc["changes"]}
    assert fields == {
        (p, f)
        for p in failing
        for f in ("adjustment.rate", "adjustment.amount", "adjustment.new_prepayment", "adjustment.rule")
    }
    amount = {c["provider"]: c for c in doc["changes"] if c["field"] == "adjustment.amount"}
    for p in failing:
        assert (amount[p]["a"], amount[p]["b"]) == (before[p]["amount"], after[p]["amount"])
        assert Decimal(amount[p]["delta"]) == diffs[p]
    rate = next(c for c in doc["changes"] if c["field"] == "adjustment.rate")
    assert (rate["a"], rate["b"], rate["delta"]) == ("-0.100000", "-0.150000", "-0.050000")

    r = cli("compare", runs.a, runs.b)
    assert r.exit_code == 0, r.stderr
    assert "project files that differ: policy.yaml" in r.stdout
    assert f"amount changed {len(failing)}" in r.stdout and "no change" not in r.stdout
    net = next(line for line in r.stdout.splitlines() if line.strip().startswith("net "))
    assert str(hand) in net  # the change of net, to the cent


def test_corrections_run_shows_the_corrected_light(runs: Runs, cli, tmp_path):
    doc = results(runs.a)
    hit = next(
        (p, i)
        for p in doc["providers"]
        for i in p["indicators"]
        if i["code"] == "D1.03" and i["light"] == "red" and i["score"] == 0 and p["total_score"] is not None
    )
    provider, ind = hit[0]["fixmedins_code"], hit[1]
    fixed = ind["baseline"] / 2  # at half the baseline D1.03 scores 100, green (threshold rule)
    table = tmp_path / "corrections.csv"
    table.write_text(
        f"fixmedins_code,indicator,value,dispute_id,reason\n{provider},D1.03,{fixed!r},4,转院病例被计入\n",
        encoding="utf-8",
    )
    out = tmp_path / "corrected"
    args = ("--data", runs.bundle, "--out", out, "--project", runs.project, "--year", "2025")
    r = cli("score", *args, "--corrections", table)
    assert r.exit_code == 0, r.stderr

    cmp = as_json(cli, runs.a, out)
    mine = {(c["indicator"], c["field"]): c for c in cmp["changes"] if c["provider"] == provider}
    light = mine[("D1.03", "light")]
    assert (light["a"], light["b"], light["delta"]) == ("red", "green", None)
    assert (mine[("D1.03", "score")]["a"], mine[("D1.03", "score")]["b"]) == (0.0, 100.0)
    assert mine[("D1.03", "value")]["b"] == pytest.approx(fixed)
    corrected = mine[("D1.03", "corrected")]
    assert corrected["a"] is None and corrected["b"]["dispute_id"] == 4 and corrected["b"]["from"] == ind["value"]
    total = mine[(None, "total_score")]
    assert total["delta"] == pytest.approx(total["b"] - total["a"]) and total["b"] > total["a"]
    # only this provider's results changed (the other providers keep their values and lights)
    assert {c["provider"] for c in cmp["changes"] if c["indicator"] is not None} == {provider}
    assert cmp["inputs"]["project_files"]["changed"] == []

    r = cli("compare", runs.a, out)
    assert r.exit_code == 0, r.stderr
    row = next(line for line in r.stdout.splitlines() if "D1.03" in line and " light " in line)
    assert row.split()[-2:] == ["red", "green"]


def test_ledger_run_ids(runs: Runs, cli, tmp_path):
    ledger = tmp_path / "committee.ledger"
    moved = tmp_path / "rescored"
    shutil.copytree(runs.a, moved)
    with init_ledger(ledger, committee="某市医疗保障局", actor="secretary") as book:
        assert record_run(book, runs.a, "preview", "secretary", "pingyi score --preview") == 1
        assert record_run(book, runs.b, "final", "secretary", "pingyi score --final") == 2
        assert record_run(book, moved, "recheck", "secretary", "pingyi score --recheck") == 3
    by_id = as_json(cli, "1", "2", "--ledger", ledger)
    by_folder = as_json(cli, runs.a, runs.b)
    assert (by_id["a"]["run_id"], by_id["a"]["run_kind"], by_id["b"]["run_id"], by_id["b"]["run_kind"]) == (
        1,
        "preview",
        2,
        "final",
    )
    assert by_id["a"]["label"] == "run 1" and by_id["a"]["results_dir"] == str(runs.a.resolve())
    assert by_id["changes"] == by_folder["changes"] and by_id["totals"] == by_folder["totals"]
    # a run id and a folder mixed
    assert as_json(cli, "1", runs.b, "--ledger", ledger)["totals"] == by_folder["totals"]

    r = cli("compare", "1", "2")
    assert r.exit_code == 2 and "needs --ledger" in r.stderr
    r = cli("compare", "1", "9", "--ledger", ledger)
    assert r.exit_code == 2 and "no run 9" in r.stderr and "runs 1-3" in r.stderr
    # a recorded folder scored again after it was recorded: its manifest is not the recorded one
    shutil.rmtree(moved)
    shutil.copytree(runs.b, moved)
    r = cli("compare", "1", "3", "--ledger", ledger)
    assert r.exit_code == 2 and str(moved.resolve() / "manifest.json") in r.stderr
    assert "differs from the one the ledger recorded for run 3" in r.stderr


def test_json_shape(runs: Runs, cli):
    doc = as_json(cli, runs.a, runs.b)
    assert doc["format"] == "pingyi-compare/1" and doc["identical"] is False
    assert set(doc) == {
        "format",
        "identical",
        "a",
        "b",
        "notes",
        "inputs",
        "parameters",
        "indicators",
        "providers",
        "changes",
        "totals",
    }
    side = {"label", "results_dir", "run_id", "run_kind", "year", "stage", "date", "manifest_sha256", "providers"}
    assert set(doc["a"]) == set(doc["b"]) == side
    assert (doc["a"]["year"], doc["a"]["providers"], doc["a"]["run_id"], doc["a"]["stage"]) == (2025, 9, None, None)
    assert set(doc["indicators"]) == {"added", "removed", "definitions"}
    assert doc["indicators"] == {"added": [], "removed": [], "definitions": []}
    assert set(doc["providers"]) == {"added", "removed", "changed"}
    assert set(doc["totals"]) == {
        "a",
        "b",
        "net_change",
        "amount_difference",
        "amount_moved",
        "added_amount",
        "removed_amount",
        "providers_compared",
        "providers_changed",
        "grade_changed",
        "designation_changed",
        "rank_changed",
        "amount_changed",
    }
    assert set(doc["totals"]["a"]) == {"penalties", "rewards", "net"}
    for c in doc["changes"]:
        assert set(c) == {"provider", "name", "indicator", "field", "a", "b", "delta"}
    # changes come by provider code, provider fields before indicators
    codes = [c["provider"] for c in doc["changes"]]
    assert codes == sorted(codes)


def test_workbook_has_no_formula_and_is_deterministic(runs: Runs, cli, tmp_path):
    first, second = tmp_path / "one.xlsx", tmp_path / "two.xlsx"
    r = cli("compare", runs.a, runs.b, "--xlsx", first)
    assert r.exit_code == 0, r.stderr
    assert f"workbook written: {first}" in r.stdout
    assert cli("compare", runs.a, runs.b, "--xlsx", second).exit_code == 0
    assert first.read_bytes() == second.read_bytes()
    assert as_json(cli, runs.a, runs.b) == as_json(cli, runs.a, runs.b)

    doc = as_json(cli, runs.a, runs.b)
    book = load_workbook(first)
    assert book.sheetnames == ["汇总", "变化"]
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f" and not (isinstance(cell.value, str) and cell.value.startswith("="))
    changes = book["变化"]
    assert changes.max_row == 1 + len(doc["parameters"]) + len(doc["indicators"]["definitions"]) + len(doc["changes"])
    amounts = [r for r in changes.iter_rows(min_row=2, values_only=True) if r[4] == "adjustment.amount"]
    assert sum(Decimal(str(r[7])) for r in amounts) == Decimal(doc["totals"]["amount_difference"])
    summary = {r[0]: r[1:] for r in book["汇总"].iter_rows(min_row=2, values_only=True)}
    assert summary["净额（元）"][2] == pytest.approx(float(doc["totals"]["net_change"]))
    assert summary["等级变化的机构"][2] == 0

    english = tmp_path / "en.xlsx"
    assert cli("compare", runs.a, runs.b, "--xlsx", english, "--lang", "en").exit_code == 0
    assert load_workbook(english).sheetnames == ["Summary", "Changes"]
    r = cli("compare", runs.a, runs.b, "--xlsx", english, "--lang", "fr")
    assert r.exit_code == 2 and "--lang 'fr'" in r.stderr


def test_edited_results_are_refused_by_name(runs: Runs, cli, tmp_path):
    edited = tmp_path / "edited"
    shutil.copytree(runs.a, edited)
    path = edited / "results.json"
    text = path.read_text(encoding="utf-8")
    assert '"grade": "不合格"' in text
    path.write_text(text.replace('"grade": "不合格"', '"grade": "合格"', 1), encoding="utf-8")
    r = cli("compare", runs.a, edited)
    assert r.exit_code == 2 and "Traceback" not in r.stderr
    assert str(path) in r.stderr and "SHA-256 differs from its manifest" in r.stderr and "RUN_B" in r.stderr
    (edited / "manifest.json").unlink()
    r = cli("compare", edited, runs.a)
    assert r.exit_code == 2 and "manifest.json" in r.stderr
    r = cli("compare", tmp_path / "nowhere", runs.a)
    assert r.exit_code == 2 and "is not a folder" in r.stderr


def test_two_years_are_compared_with_a_note(runs: Runs, cli, tmp_path):
    project = tmp_path / "project"
    copy_project(default_project_dir(), project)
    text = (project / "baselines" / "2025.yaml").read_text(encoding="utf-8")
    (project / "baselines" / "2026.yaml").write_text(text.replace("\nyear: 2025\n", "\nyear: 2026\n"), encoding="utf-8")
    policy = project / "policy.yaml"
    policy.write_text(policy.read_text(encoding="utf-8").replace("evaluation_year: 2025\n", ""), encoding="utf-8")
    bundle = tmp_path / "b2026"
    generate_example(bundle, providers=9, rows=6000, scale="small", fmt="csv", year=2026, project_dir=project)
    evaluate_to(bundle, project, 2026, None, tmp_path / "r2026")
    r = cli("compare", runs.a, tmp_path / "r2026")
    assert r.exit_code == 0, r.stderr
    assert "note: A is of 2025 and B of 2026: a comparison across years" in r.stdout
    doc = as_json(cli, runs.a, tmp_path / "r2026")
    assert [n["kind"] for n in doc["notes"]] == ["years"]
    assert "跨年度比较" in doc["notes"][0]["text_zh"]
    assert doc["inputs"]["data_files"]["changed"]  # another year's data


def test_new_adjustment_fields_need_no_code_change():
    # a credit sub-record added to the adjustment: compared one level down, scalars as they are
    a = {"rate": "0.050000", "amount": "500.00", "credit": {"rate": "0.10", "rating": "AA"}}
    b = {"rate": "0.150000", "amount": "1500.00", "credit": {"rate": "0.00", "rating": "AA"}, "bonus": "x"}
    assert diff_fields(a, b, ("rate", "amount"), "adjustment.") == [
        ("adjustment.rate", "0.050000", "0.150000"),
        ("adjustment.amount", "500.00", "1500.00"),
        ("adjustment.bonus", None, "x"),
        ("adjustment.credit.rate", "0.10", "0.00"),
    ]
    assert diff_fields({"credit": None}, {"credit": {"rate": "0.10"}}) == [("credit.rate", None, "0.10")]
    assert diff_fields({"x": {"deep": {"k": 1}}}, {"x": {"deep": {"k": 2}}}) == [("x.deep", {"k": 1}, {"k": 2})]


def test_api_returns_a_frozen_record(runs: Runs, tmp_path):
    cmp = api.compare(runs.a, runs.b, xlsx=tmp_path / "c.xlsx")
    assert cmp.xlsx == tmp_path / "c.xlsx" and cmp.xlsx.is_file()
    with pytest.raises(FrozenInstanceError):
        cmp.totals = None  # type: ignore[misc]
    assert not cmp.identical and cmp.a.year == cmp.b.year == 2025


def test_catalogue_and_definition_changes_are_listed(runs: Runs, cli, tmp_path):
    # B as a run of another catalogue would write it: D8.04 gone, D1.01's weight and lights edited
    catalogue = {i["code"]: i for i in results(runs.a)["indicators"]}
    old_weight, old_red = catalogue["D1.01"]["nominal_weight"], catalogue["D1.01"]["lights"]["red"]

    def edit(doc: dict) -> None:
        doc["indicators"] = [i for i in doc["indicators"] if i["code"] != "D8.04"]
        d101 = next(i for i in doc["indicators"] if i["code"] == "D1.01")
        d101["nominal_weight"], d101["lights"]["red"] = 0.5, old_red + 0.1
        d101["meaning"] = "reworded"  # wording is not a definition change
        for p in doc["providers"]:
            p["indicators"] = [i for i in p["indicators"] if i["code"] != "D8.04"]

    other = forged(runs.a, tmp_path / "other", edit)
    cmp = as_json(cli, runs.a, other)
    assert cmp["indicators"]["removed"] == ["D8.04"] and cmp["indicators"]["added"] == []
    assert [(c["indicator"], c["field"], c["a"], c["b"]) for c in cmp["indicators"]["definitions"]] == [
        ("D1.01", "lights.red", old_red, old_red + 0.1),
        ("D1.01", "nominal_weight", old_weight, 0.5),
    ]
    assert [n["kind"] for n in cmp["notes"]] == ["catalogue", "definitions"]
    assert "indicators only in A: D8.04" in cmp["notes"][0]["text"]
    assert cmp["identical"] is False and cmp["changes"] == []  # no provider's values changed
    r = cli("compare", runs.a, other)
    assert r.exit_code == 0, r.stderr
    assert "indicators only in A: D8.04; only in B: none" in r.stdout
    assert f"definition of D1.01 nominal_weight: {old_weight} -> 0.5" in r.stdout


def test_preview_against_final_by_run_id(runs: Runs, cli, tmp_path):
    """The committee's use: the final run (with one accepted correction) against its preview, by the
    run ids of the ledger; the stage and date show as parameters, the correction as a change."""
    ledger = tmp_path / "committee.ledger"
    assert cli("ledger", "init", ledger, "--committee", "某市医疗保障局", "--actor", "secretary").exit_code == 0
    args = ("--data", runs.bundle, "--project", runs.project, "--year", "2025", "--ledger", ledger)
    preview, final = tmp_path / "preview", tmp_path / "final"
    r = cli("score", *args, "--out", preview, "--preview", "--date", "2026-03-02")
    assert r.exit_code == 0, r.stderr
    p = next(
        p
        for p in results(preview)["providers"]
        if p["total_score"] is not None and any(i["code"] == "D1.03" and i["light"] == "red" for i in p["indicators"])
    )
    ind = next(i for i in p["indicators"] if i["code"] == "D1.03")
    table = tmp_path / "corrections.csv"
    table.write_text(
        f"fixmedins_code,indicator,value,dispute_id,reason\n{p['fixmedins_code']},D1.03,{ind['baseline'] / 2!r},1,复核\n",
        encoding="utf-8",
    )
    r = cli("score", *args, "--out", final, "--final", "--date", "2026-04-10", "--corrections", table)
    assert r.exit_code == 0, r.stderr
    doc = as_json(cli, "1", "2", "--ledger", ledger)
    assert (doc["a"]["stage"], doc["a"]["date"], doc["b"]["stage"], doc["b"]["date"]) == (
        "preview",
        "2026-03-02",
        "final",
        "2026-04-10",
    )
    params = {c["field"]: (c["a"], c["b"]) for c in doc["parameters"]}
    assert params["stage"] == ("preview", "final") and params["review_deadline"] == ("2026-04-01", None)
    light = next(
        c
        for c in doc["changes"]
        if (c["provider"], c["indicator"], c["field"]) == (p["fixmedins_code"], "D1.03", "light")
    )
    assert (light["a"], light["b"]) == ("red", "green")
    r = cli("compare", "1", "2", "--ledger", ledger)
    assert r.exit_code == 0, r.stderr
    assert "A: run 1 (preview)" in r.stdout and "B: run 2 (final)" in r.stdout
    assert "parameter stage: preview -> final" in r.stdout


def test_a_grade_band_edit_counts_the_grades_changed(runs: Runs, cli, tmp_path):
    project = tmp_path / "project-95"
    copy_project(default_project_dir(), project)
    policy = project / "policy.yaml"
    text = policy.read_text(encoding="utf-8")
    assert "{name: 优秀, name_en: Excellent, min_score: 90}" in text
    policy.write_text(text.replace("min_score: 90}", "min_score: 95}"), encoding="utf-8")
    out = tmp_path / "r95"
    evaluate_to(runs.bundle, project, 2025, None, out)
    with (runs.a / "scores.csv").open(encoding="utf-8-sig", newline="") as fh:
        scores = list(csv.DictReader(fh))
    # by hand: 优秀 at 90 to 95 becomes 良好 (80 and up), and loses its +5 %
    demoted = sorted(r["fixmedins_code"] for r in scores if r["grade"] == "优秀" and float(r["total_score"]) < 95)
    assert demoted, "the generated bundle has a provider graded 优秀 below 95"
    before = adjustments(runs.a)
    doc = as_json(cli, runs.a, out)
    grades = {c["provider"]: (c["a"], c["b"]) for c in doc["changes"] if c["field"] == "grade"}
    assert grades == dict.fromkeys(demoted, ("优秀", "良好"))
    t = doc["totals"]
    assert (t["grade_changed"], t["designation_changed"], t["rank_changed"]) == (len(demoted), 0, 0)
    lost = sum((Decimal(before[c]["amount"]) for c in demoted), Decimal(0))
    assert Decimal(t["b"]["rewards"]) == Decimal(t["a"]["rewards"]) - lost
    assert Decimal(t["amount_difference"]) == -lost
    assert any(c["field"] == "grades" for c in doc["parameters"])  # the bands themselves, as a parameter


def forged(src: Path, dst: Path, edit) -> Path:
    """A copy of a results folder with results.json edited by `edit(doc)` and the manifest rewritten to
    match: a folder as consistent as `pingyi score` writes one, whose content differs."""
    shutil.copytree(src, dst)
    doc = results(dst)
    edit(doc)
    path = dst / "results.json"
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    manifest = json.loads((dst / "manifest.json").read_text(encoding="utf-8"))
    manifest["outputs"]["results.json"] = sha256(path)
    (dst / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return dst


def test_providers_in_one_run_only(runs: Runs, cli, tmp_path):
    doc = results(runs.b)
    gone = next(p for p in doc["providers"] if p["adjustment"]["amount"] != "0.00")
    code = gone["fixmedins_code"]

    def drop(d: dict) -> None:
        d["providers"] = [p for p in d["providers"] if p["fixmedins_code"] != code]

    fewer = forged(runs.b, tmp_path / "fewer", drop)
    cmp = as_json(cli, runs.a, fewer)
    assert [p["code"] for p in cmp["providers"]["removed"]] == [code] and cmp["providers"]["added"] == []
    assert cmp["providers"]["removed"][0]["amount"] == adjustments(runs.a)[code]["amount"]
    t = cmp["totals"]
    assert t["providers_compared"] == 8 and Decimal(t["removed_amount"]) == Decimal(adjustments(runs.a)[code]["amount"])
    # the net moves by the differences of the providers in both, less the amount of the one gone
    assert Decimal(t["net_change"]) == Decimal(t["amount_difference"]) - Decimal(t["removed_amount"])
    assert code not in cmp["providers"]["changed"]
    back = as_json(cli, fewer, runs.a)
    assert [p["code"] for p in back["providers"]["added"]] == [code]
    r = cli("compare", runs.a, fewer)
    assert r.exit_code == 0 and f"provider only in A: {code}" in r.stdout
