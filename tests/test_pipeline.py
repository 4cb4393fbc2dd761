"""The whole evaluation on the shipped example: contract of the result files, byte-identical
re-runs, independence from row order, verify, explain. Tests that re-run an evaluation use the
small generated bundle (conftest.py), which exercises the same code in a fraction of the time."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from conftest import EXAMPLE, shipped
from pingyi.compute.measures import compile_project_measures, run_measures
from pingyi.data.bundle import open_bundle
from pingyi.data.quality import run_quality
from pingyi.data.views import create_views
from pingyi.data.write import save_bundle
from pingyi.run.evaluate import evaluate_to
from pingyi.run.verify import verify
from pingyi.spec.project import copy_project, default_project_dir
from pingyi.tools.example import generate_example

OUTPUTS = (
    "scores.csv",
    "indicators.csv",
    "adjustments.csv",
    "quality.csv",
    "rejected.csv",
    "results.json",
    "manifest.json",
)


@pytest.fixture
def results(example) -> Path:
    return example.out


def rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_result_files_and_contract(results):
    for name in OUTPUTS:
        assert (results / name).is_file(), name
    scores = rows(results / "scores.csv")
    assert list(scores[0])[:7] == [
        "fixmedins_code",
        "fixmedins_name",
        "region",
        "level",
        "total_score",
        "grade",
        "rank",
    ]
    assert list(scores[0])[7:] == [f"D{i}" for i in range(1, 9)]
    indicators = rows(results / "indicators.csv")
    assert list(indicators[0])[:9] == [
        "fixmedins_code",
        "indicator",
        "value",
        "baseline",
        "score",
        "light",
        "weight",
        "nominal_weight",
        "contribution",
    ]
    assert len(indicators) == 35 * len(scores)
    assert {r["light"] for r in indicators} <= {"green", "yellow", "red", "grey", "none"}
    adjustments = rows(results / "adjustments.csv")
    assert list(adjustments[0])[:7] == [
        "fixmedins_code",
        "prepayment",
        "rate",
        "amount",
        "new_prepayment",
        "rule",
        "designation",
    ]
    # the total is the sum of contributions, and each contribution is weight x score
    by_provider: dict[str, float] = {}
    for r in indicators:
        by_provider[r["fixmedins_code"]] = by_provider.get(r["fixmedins_code"], 0.0) + float(r["contribution"])
        if r["score"]:
            assert float(r["contribution"]) == pytest.approx(float(r["weight"]) * float(r["score"]), abs=1e-4)
    for s in scores:
        if s["total_score"]:
            assert by_provider[s["fixmedins_code"]] == pytest.approx(float(s["total_score"]), abs=1e-3)
            assert 0 <= float(s["total_score"]) <= 100


def test_grades_spread_and_special_providers(results):
    data = json.loads((results / "results.json").read_text(encoding="utf-8"))
    grades = {p["grade"] for p in data["providers"]}
    assert {"优秀", "良好", "不合格"} <= grades
    vetoed = [p for p in data["providers"] if p["veto"]]
    assert vetoed and all(p["grade"] == "不合格" for p in vetoed)


def test_no_patient_identifiers_in_any_output(results):
    con = duckdb.connect()
    psn = {
        r[0]
        for r in con.execute(
            f"SELECT DISTINCT psn_no FROM read_parquet('{EXAMPLE / 'settlements.parquet'}') WHERE psn_no IS NOT NULL"
        ).fetchall()
    }
    sample = sorted(psn)[:2000]
    for name in OUTPUTS:
        text = (results / name).read_text(encoding="utf-8")
        assert not any(p in text for p in sample if len(p) >= 6), name


def test_row_order_and_format_do_not_matter(small_bundle, small_example, tmp_path):
    """Shuffle every table's rows and save them in another format: every result is the same. Only
    rejected.csv row numbers move with the rows (they point into the new files) and the manifest's
    input hashes change."""
    results = small_example.out
    shuffled = tmp_path / "bundle"
    shuffled.mkdir()
    con = duckdb.connect()
    for src in sorted(small_bundle.iterdir()):
        if src.name.startswith("_"):
            continue
        table = src.stem
        if src.suffix == ".xlsx":
            shutil.copy(src, shuffled / src.name)
            continue
        reader = f"read_parquet('{src}')" if src.suffix == ".parquet" else f"read_csv('{src}', all_varchar=true)"
        target = shuffled / (table + (".csv" if src.suffix == ".parquet" else ".parquet"))
        fmt = "FORMAT csv, HEADER" if target.suffix == ".csv" else "FORMAT parquet"
        con.execute("SELECT setseed(0.42)")
        con.execute(f"COPY (SELECT * FROM {reader} ORDER BY random()) TO '{target}' ({fmt})")
    out = tmp_path / "out"
    evaluate_to(shuffled, None, None, None, out)
    for name in ("scores.csv", "indicators.csv", "adjustments.csv", "quality.csv"):
        assert (out / name).read_bytes() == (results / name).read_bytes(), name

    # results.json names each input file and its format; everything else is identical
    def without_files(path: Path) -> dict:
        data = json.loads(path.read_text(encoding="utf-8"))
        for entry in data["quality"]["tables"].values():
            entry.pop("file"), entry.pop("format")
        return data

    assert without_files(out / "results.json") == without_files(results / "results.json")
    strip = lambda p: sorted((r["table"], r["column"], r["reason_code"]) for r in rows(p))  # noqa: E731
    assert strip(out / "rejected.csv") == strip(results / "rejected.csv")


def test_verify_passes_then_detects_an_edit(cli, small_copy):
    """verify re-runs the evaluation: its passing is also the proof that a re-run is byte-identical."""
    copy = small_copy
    report = verify(copy)
    assert report.ok, report.lines
    text = (copy / "scores.csv").read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    target = lines[3]
    i = next(k for k, ch in enumerate(target) if ch.isdigit() and k > target.index(",", 20))
    lines[3] = target[:i] + ("1" if target[i] != "1" else "2") + target[i + 1 :]
    (copy / "scores.csv").write_text("".join(lines), encoding="utf-8")
    r = cli("verify", copy)
    assert r.exit_code == 1 and "NOT verified" in r.stdout
    assert "EDITED scores.csv" in r.stdout and "provider H" in r.stdout


def test_explain_walks_one_number(cli, results):
    data = json.loads((results / "results.json").read_text(encoding="utf-8"))
    code = data["providers"][0]["fixmedins_code"]
    r = cli("explain", "D1.01", "--provider", code, "--results", results)
    assert r.exit_code == 0, r.stderr
    for needle in ("inpatient_cost", "FILTER(WHERE", "baseline", "score:", "light:", "contribution"):
        assert needle in r.stdout, needle


def test_score_bad_data_dir_is_exit_2(cli, tmp_path):
    r = cli("score", "--data", tmp_path / "nope", "--out", tmp_path / "o")
    assert r.exit_code == 2
    assert r.stderr.startswith(f"error: {tmp_path / 'nope'}: data directory not found")


def test_every_planted_bad_row_is_rejected_with_its_reason(cli, tmp_path):
    """rejected.csv lists each planted row with the right reason and column."""
    planted = json.loads((EXAMPLE / "_planted.json").read_text(encoding="utf-8"))["rows"]
    r = cli("quality", "--data", EXAMPLE, "--out", tmp_path)
    assert r.exit_code == 0, r.stderr
    rejected = {(row["table"], int(row["row"])): row for row in rows(tmp_path / "rejected.csv")}
    quality = rows(tmp_path / "quality.csv")
    for p in planted:
        if p["reason"] == "late_upload":  # a flag: the row is used and counted in quality.csv
            assert any(q["reason_code"] == "late_upload" and int(q["failed"]) > 0 for q in quality)
            assert (p["table"], p["row"]) not in rejected
            continue
        got = rejected.get((p["table"], p["row"]))
        assert got is not None, p
        assert (got["reason_code"], got["column"]) == (p["reason"], p["column"]), (p, got)
    assert len(rejected) == sum(1 for p in planted if p["reason"] != "late_upload")


def test_bundle_in_every_format_gives_identical_measures(tmp_path):
    """The same bundle saved as CSV, XLSX, Parquet and JSON gives identical measure tables."""
    project = shipped().project
    compiled = compile_project_measures(project.measures, project.data)
    small = tmp_path / "small"  # a small province keeps the XLSX round trip quick
    generate_example(small, providers=9, rows=800, seed=7)
    tables = {}
    for fmt in ("csv", "xlsx", "parquet", "json"):
        target = tmp_path / fmt
        save_bundle(small, target, fmt)
        with open_bundle(target, project.data, project.year, tmp_path / f"w-{fmt}") as bundle:
            run_quality(bundle, project.data, project.year)
            views = create_views(bundle.con, bundle.present, {})
            tables[fmt] = run_measures(bundle.con, compiled, views).values
    assert tables["csv"] and tables["csv"] == tables["xlsx"] == tables["parquet"] == tables["json"]


def _last_year(results: Path, out: Path, grades: dict[str, list[str]], year: int = 2024) -> Path:
    """Last year's results, made from this year's results.json: `grades` maps a provider to its grades
    from the oldest year to last year (the last one is its grade, the others its grade_history)."""
    doc = json.loads((results / "results.json").read_text(encoding="utf-8"))
    doc["year"] = year
    for p in doc["providers"]:
        chain = grades.get(p["fixmedins_code"], ["合格"])
        p["grade"], p["grade_history"] = chain[-1], chain[:-1]
    out.mkdir()
    (out / "results.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return out


def test_score_with_history_revokes_after_two_failing_years(cli, small_bundle, small_example, tmp_path):
    """`pingyi score --history`: a provider failing this year and last year loses its designation; the
    command prints its summary; the new results carry the grade history for next year."""
    results = small_example.out
    failing = [r for r in rows(results / "scores.csv") if r["grade"] == "不合格"]
    assert failing
    last_year = _last_year(results, tmp_path / "last-year", {failing[0]["fixmedins_code"]: ["不合格"]})
    out = tmp_path / "out"
    r = cli("score", "--data", small_bundle, "--out", out, "--history", last_year)
    assert r.exit_code == 0, r.stderr
    assert "providers per grade and region" in r.stdout and "penalties" in r.stdout
    assert "designation: 1 revoked" in r.stdout
    designation = {r["fixmedins_code"]: r["designation"] for r in rows(out / "adjustments.csv")}
    assert designation[failing[0]["fixmedins_code"]] == "revoked"
    assert all(designation[r["fixmedins_code"]] == "warning" for r in failing[1:])
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    carried = {p["fixmedins_code"]: p["grade_history"] for p in doc["providers"]}
    assert carried[failing[0]["fixmedins_code"]] == ["不合格"]


def test_history_of_the_wrong_year_or_catalogue_is_refused(cli, small_bundle, small_example, tmp_path):
    """This year's own results as history would revoke designations from one year of data: exit 2."""
    results = small_example.out
    out = tmp_path / "out"
    r = cli("score", "--data", small_bundle, "--out", out, "--history", results)
    assert r.exit_code == 2
    assert "field year: found 2025; expected 2024" in r.stderr and "results.json" in r.stderr
    other = _last_year(results, tmp_path / "other", {})
    doc = json.loads((other / "results.json").read_text(encoding="utf-8"))
    doc["indicators"] = doc["indicators"][1:]
    (other / "results.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    r = cli("score", "--data", small_bundle, "--out", out, "--history", other)
    assert r.exit_code == 2 and "field indicators" in r.stderr and "missing: D1.01" in r.stderr


def test_revoke_after_three_needs_three_consecutive_failing_years(cli, small_bundle, small_example, tmp_path):
    """With `revoke_after: 3`, the grade history chained through last year's results gives the three
    years: failing 2023, 2024 and 2025 revokes; failing only 2024 and 2025 is a warning."""
    results = small_example.out
    failing = [r["fixmedins_code"] for r in rows(results / "scores.csv") if r["grade"] == "不合格"]
    assert len(failing) >= 2
    project = tmp_path / "project"
    copy_project(default_project_dir(), project)
    policy = project / "policy.yaml"
    policy.write_text(policy.read_text(encoding="utf-8").replace("revoke_after: 2", "revoke_after: 3"), "utf-8")
    last_year = _last_year(
        results, tmp_path / "last", {failing[0]: ["不合格", "不合格"], failing[1]: ["合格", "不合格"]}
    )
    out = tmp_path / "out"
    r = cli("score", "--data", small_bundle, "--project", project, "--out", out, "--history", last_year)
    assert r.exit_code == 0, r.stderr
    designation = {r["fixmedins_code"]: r["designation"] for r in rows(out / "adjustments.csv")}
    assert designation[failing[0]] == "revoked"
    assert designation[failing[1]] == "warning"


def test_measure_that_reads_a_file_is_refused(cli, tmp_path):
    """A measure whose SQL tries read_csv('/etc/passwd') gives one clear message, exit 2."""
    project = tmp_path / "p"
    copy_project(default_project_dir(), project)
    path = project / "measures" / "fee_items.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "aggregate: sum(amt)", "aggregate: sum(amt) + count(read_csv('/etc/passwd'))", 1
        ),
        encoding="utf-8",
    )
    for args in (
        ["validate", "--project", project],
        ["score", "--data", EXAMPLE, "--out", tmp_path / "o", "--project", project],
    ):
        r = cli(*args)
        assert r.exit_code == 2, r.stderr
        assert "measures/fee_items.yaml:" in r.stderr and "READ_CSV" in r.stderr and "Traceback" not in r.stderr
        assert "root:" not in r.stdout + r.stderr  # nothing of /etc/passwd leaked
    assert not (tmp_path / "o").exists()


def test_score_refuses_a_misspelt_veto_measure(cli, tmp_path):
    """A policy whose veto names a measure that does not exist would veto nobody: validate and score both
    stop with the policy's file and line, and nothing is written."""
    project = tmp_path / "p"
    copy_project(default_project_dir(), project)
    path = project / "policy.yaml"
    text = path.read_text(encoding="utf-8")
    assert "measure: fraud_cases" in text
    path.write_text(text.replace("measure: fraud_cases", "measure: fraud_case", 1), encoding="utf-8")
    line = text[: text.index("measure: fraud_cases")].count("\n") + 1
    for args in (
        ["validate", "--project", project],
        ["score", "--data", EXAMPLE, "--out", tmp_path / "o", "--project", project],
    ):
        r = cli(*args)
        assert r.exit_code == 2, r.stdout
        assert (
            f"policy.yaml:{line} (veto[0].measure): error PY604: policy names an undefined measure; "
            "found fraud_case" in r.stderr
        )
    assert not (tmp_path / "o").exists()
