"""Guards before money moves: each case a careless or hostile committee member tried on the shipped
project and example, which used to validate and change money with exit 0 (or crash as an internal
error), is now a validation error with file:line and an issue code, or a run stopped with exit 2 and one
clear message, or a warning shown in the summary and in results.json.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import MINI
from pingyi.spec.project import copy_project, default_project_dir
from pingyi.validate import validate_project

P = "policy.yaml"


def project_copy(tmp_path: Path, src: Path | None = None) -> Path:
    root = tmp_path / "project"
    copy_project(src or default_project_dir(), root)
    return root


def edit(root: Path, name: str, old: str, new: str) -> None:
    path = root / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def errors_of(root: Path, code: str):
    issues = validate_project(root).issues
    hits = [i for i in issues.errors if i.code == code]
    assert hits, f"{code} not reported; got {[i.render() for i in issues.items]}"
    return hits


def line_of(root: Path, name: str, needle: str) -> int:
    text = (root / name).read_text(encoding="utf-8")
    return text.count("\n", 0, text.index(needle)) + 1


# --------------------------------------------------------------------------- policy


def test_misspelt_grade_in_step_rates_is_an_error(tmp_path):
    root = project_copy(tmp_path)
    edit(root, P, "step_rates: {优秀: 0.05, 不合格: -0.10}", "step_rates: {优秀: 0.05, 不及格: -0.10}")
    (hit,) = errors_of(root, "PY605")
    assert hit.file == P and hit.line == line_of(root, P, "step_rates:") and "不及格" in hit.found


def test_two_grades_with_one_name_is_an_error(tmp_path):
    root = project_copy(tmp_path)
    edit(root, P, "{name: 良好, name_en: Good, min_score: 80}", "{name: 优秀, name_en: Good, min_score: 80}")
    (hit,) = errors_of(root, "PY606")
    assert hit.line == line_of(root, P, "{name: 优秀, name_en: Good")


@pytest.mark.parametrize("rate", ["-1.5", "1e308", "-0.5"])
def test_rate_out_of_range_is_an_error(tmp_path, rate):
    root = project_copy(tmp_path)
    edit(root, P, "不合格: -0.10}", f"不合格: {rate}}}")
    (hit,) = errors_of(root, "PY607")
    assert hit.file == P and hit.line == line_of(root, P, "step_rates:") and "不合格" in hit.found


def test_a_large_rate_is_accepted_when_the_committee_says_so(tmp_path):
    root = project_copy(tmp_path)
    edit(root, P, "不合格: -0.10}", "不合格: -0.5}\n  allow_large_rates: true")
    assert not validate_project(root).issues.errors


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
def test_non_finite_rate_is_an_error_not_an_internal_error(tmp_path, cli, value):
    root = project_copy(tmp_path)
    edit(root, P, "不合格: -0.10}", f"不合格: {value}}}")
    (hit,) = errors_of(root, "PY107")
    assert hit.line == line_of(root, P, "step_rates:")
    r = cli("score", "--data", tmp_path / "no-bundle", "--out", tmp_path / "out", "--project", root)
    assert r.exit_code == 2 and "PY107" in r.stderr and "internal error" not in r.stderr


# --------------------------------------------------------------------------- weights and baselines


def _direct(root: Path, weights: str) -> None:
    path = root / "indicators/D1_cost.yaml"
    text = path.read_text(encoding="utf-8")
    start, end = text.index("  experts:"), text.index("indicators:")
    path.write_text(text[:start] + f"  weights: {weights}\n  source: test scheme\n" + text[end:], encoding="utf-8")


def test_nan_direct_weight_is_an_error(tmp_path):
    root = tmp_path / "mini"
    shutil.copytree(MINI, root)
    _direct(root, "{D1.01: .nan, D1.02: 0.5, D1.03: 0.5}")
    (hit,) = errors_of(root, "PY107")
    assert hit.file == "indicators/D1_cost.yaml" and hit.line == line_of(root, "indicators/D1_cost.yaml", "weights:")


def test_negative_direct_weight_says_negative(tmp_path):
    root = tmp_path / "mini"
    shutil.copytree(MINI, root)
    _direct(root, "{D1.01: -0.2, D1.02: 0.6, D1.03: 0.6}")
    hits = errors_of(root, "PY309")
    assert [h.message for h in hits] == ["a direct weight is negative"]
    assert hits[0].found == "D1.01: -0.2" and hits[0].expected == "a weight >= 0"


@pytest.mark.parametrize("value", [".nan", "-.inf"])
def test_non_finite_baseline_is_an_error(tmp_path, value):
    root = project_copy(tmp_path)
    b = "baselines/2025.yaml"
    edit(root, b, "    values: 0.85\n", f"    values: {value}\n")
    (hit,) = errors_of(root, "PY107")
    assert hit.file == b and hit.line == line_of(root, b, f"    values: {value}")


def test_baseline_outside_the_indicators_range_is_an_error(tmp_path):
    root = project_copy(tmp_path)
    b = "baselines/2025.yaml"
    edit(root, b, "    values: 0.85\n", "    values: 85\n")  # D6.01 satisfaction is a fraction
    (hit,) = errors_of(root, "PY408")
    assert hit.line == line_of(root, b, "    values: 85") and "D6.01" in hit.found


# --------------------------------------------------------------------------- formulas


OVERFLOW = "drug_fee" + " * 1e14" * 22  # 1e12 x 1e308: finite constants, an infinite value


@pytest.mark.parametrize(
    "formula,code,why",
    [
        ("drug_fee / 0", "PY214", "constant 0"),
        ("drug_fee / (2 - 2)", "PY214", "constant 0"),
        (OVERFLOW, "PY214", "overflows"),
        ("drug_fee * 1e308", "PY204", "finite number below 1e15"),
        ("drug_fee * 1e309", "PY204", "finite number below 1e15"),
    ],
)
def test_formula_never_usable_is_an_error(tmp_path, formula, code, why):
    root = project_copy(tmp_path)
    f = "indicators/D3_cost_structure.yaml"
    text = (root / f).read_text(encoding="utf-8")
    old = next(line for line in text.splitlines() if line.strip().startswith("formula:"))
    edit(root, f, old, f'    formula: "{formula}"')
    (hit,) = errors_of(root, code)
    assert hit.file == f and hit.line == line_of(root, f, f'formula: "{formula}"') and why in hit.message


# --------------------------------------------------------------------------- runs


def _bundle(small_bundle: Path, tmp_path: Path) -> Path:
    out = tmp_path / "bundle"
    shutil.copytree(small_bundle, out)
    return out


@pytest.mark.parametrize("value", ["1e308", "50", "-3"])
def test_reported_value_outside_its_range_is_a_rejected_row(small_bundle, tmp_path, cli, value):
    bundle = _bundle(small_bundle, tmp_path)
    path = bundle / "reported.csv"
    rows = list(csv.reader(path.open(encoding="utf-8")))
    at = next(i for i, r in enumerate(rows) if r[2] == "D6.01")
    code = rows[at][0]
    rows[at][3] = value
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, quoting=csv.QUOTE_ALL).writerows(rows)
    r = cli("score", "--data", bundle, "--out", tmp_path / "out")
    assert r.exit_code == 0, r.stderr
    rejected = list(csv.DictReader((tmp_path / "out/rejected.csv").open(encoding="utf-8")))
    (row,) = [x for x in rejected if x["table"] == "reported"]
    assert row["row"] == str(at) and row["reason_code"] == "out_of_range" and "[0, 1]" in row["message"]
    doc = json.loads((tmp_path / "out/results.json").read_text(encoding="utf-8"))
    prov = next(p for p in doc["providers"] if p["fixmedins_code"] == code)
    d601 = next(i for i in prov["indicators"] if i["code"] == "D6.01")
    assert d601["value"] is None and d601["light"] == "grey"


def test_derived_baselines_do_not_switch_the_year(small_bundle, small_example, tmp_path, cli):
    """`pingyi init`, then `baselines derive` into its baselines folder as the guide says: later runs
    still score the year the project was told to (2025), never the newest baselines file."""
    root = tmp_path / "proj"
    assert cli("init", root).exit_code == 0
    r = cli(
        "baselines", "derive", "--results", small_example.out, "--year", "2026", "--out", root / "baselines/2026.yaml"
    )
    assert r.exit_code == 0, r.stderr
    r = cli("score", "--data", small_bundle, "--out", tmp_path / "out", "--project", root)
    assert r.exit_code == 0, r.stderr
    doc = json.loads((tmp_path / "out/results.json").read_text(encoding="utf-8"))
    assert doc["year"] == 2025 and doc["graded"]["graded"] == 24


def test_no_evaluation_year_and_two_baselines_is_an_error(small_example, tmp_path, cli):
    root = tmp_path / "proj"
    assert cli("init", root).exit_code == 0
    edit(root, P, "evaluation_year: 2025\n", "")
    cli("baselines", "derive", "--results", small_example.out, "--year", "2026", "--out", root / "baselines/2026.yaml")
    (hit,) = errors_of(root, "PY409")
    assert "2025" in hit.found and "2026" in hit.found


def test_wrong_year_for_the_data_stops(small_bundle, small_example, tmp_path, cli):
    root = tmp_path / "proj"
    assert cli("init", root).exit_code == 0
    cli("baselines", "derive", "--results", small_example.out, "--year", "2026", "--out", root / "baselines/2026.yaml")
    r = cli("score", "--data", small_bundle, "--out", tmp_path / "out", "--project", root, "--year", "2026")
    assert r.exit_code == 2, r.stdout
    assert "[year_window]" in r.stderr and "2026" in r.stderr and "2025: " in r.stderr
    assert not (tmp_path / "out" / "results.json").exists()


def test_header_only_settlements_stops(small_bundle, tmp_path, cli):
    import duckdb

    bundle = _bundle(small_bundle, tmp_path)
    path = bundle / "settlements.parquet"
    con = duckdb.connect()
    con.execute(f"COPY (SELECT * FROM '{path}' LIMIT 0) TO '{tmp_path / 's.parquet'}' (FORMAT parquet)")
    shutil.move(tmp_path / "s.parquet", path)
    r = cli("score", "--data", bundle, "--out", tmp_path / "out")
    assert r.exit_code == 2
    assert "[empty_table] settlements.parquet: the settlements table has no rows" in r.stderr
    assert "internal error" not in r.stderr


def test_most_rows_rejected_stops(small_bundle, tmp_path, cli):
    """All providers rejected (as a Big5 file decoded as GBK did): the run stops, naming the file."""
    import openpyxl

    bundle = _bundle(small_bundle, tmp_path)
    book = openpyxl.load_workbook(bundle / "providers.xlsx")
    sheet = book.active
    header = [c.value for c in sheet[1]]
    col = header.index("fixmedins_name") + 1
    for row in range(2, sheet.max_row + 1):
        sheet.cell(row, col).value = None  # a required column lost, as a mis-decoded file loses it
    book.save(bundle / "providers.xlsx")
    r = cli("score", "--data", bundle, "--out", tmp_path / "out")
    assert r.exit_code == 2
    assert "[rejected_share] providers.xlsx: 24 of 24 providers rows rejected (100.0%)" in r.stderr


def test_provider_without_rows_warns_everywhere(small_bundle, tmp_path, cli):
    import duckdb

    bundle = _bundle(small_bundle, tmp_path)
    code = "H33010200006"
    for table in ("settlements", "setl_lists", "fee_items"):
        path = bundle / f"{table}.parquet"
        con = duckdb.connect()
        con.execute(
            f"COPY (SELECT * FROM '{path}' WHERE fixmedins_code <> '{code}') TO '{tmp_path / 't.parquet'}' "
            "(FORMAT parquet)"
        )
        shutil.move(tmp_path / "t.parquet", path)
    r = cli("score", "--data", bundle, "--out", tmp_path / "out")
    assert r.exit_code == 0, r.stderr
    assert "WARNING [provider_without_rows]" in r.stdout and code in r.stdout
    doc = json.loads((tmp_path / "out/results.json").read_text(encoding="utf-8"))
    (guard,) = doc["guards"]
    assert guard["code"] == "provider_without_rows" and guard["action"] == "warn" and code in guard["message_zh"]
    # and on the committee report's first page, before any number
    r = cli("report", "--results", tmp_path / "out", "--format", "pdf", "--out", tmp_path / "rep")
    assert r.exit_code == 0, r.stderr
    first = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(tmp_path / "rep/committee.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    flat = "".join(first.split())
    assert "运行警告（1项）" in flat and "[provider_without_rows]" in flat and code in flat
    r = cli("score", "--data", bundle, "--out", tmp_path / "strict", "--strict")
    assert r.exit_code == 2 and "--strict" in r.stderr and code in r.stderr


def test_summary_says_what_happened(small_example):
    doc = small_example.results
    assert doc["graded"] == {"graded": 24, "not_graded": {}}
    assert doc["guards"] == []
    t = doc["quality"]["tables"]["settlements"]
    assert t["read"] == t["used"] + t["rejected"]


def test_unsized_prepayment_and_nobody_graded_are_guards():
    """A penalty that cannot be sized (no prepayment, no prior-year fund payments: withholding last
    year's rows cancelled the cut) warns; nobody graded stops."""
    from conftest import shipped
    from pingyi.run.guards import result_guards

    project = shipped().project
    (warn,) = result_guards(project, {"H1": "不合格", "H2": "合格"}, ["H1"])
    assert warn.code == "prepayment_unsized" and warn.action == "warn" and "H1" in warn.message
    (stop,) = result_guards(project, {"H1": "不予评级", "H2": "不予评级"}, [])
    assert stop.code == "none_graded" and stop.action == "stop"


def test_providers_json_by_columns_is_refused(small_bundle, tmp_path, cli):
    """providers.json written as an object of column arrays was read as one record."""
    import openpyxl

    bundle = _bundle(small_bundle, tmp_path)
    rows = list(openpyxl.load_workbook(bundle / "providers.xlsx").active.values)
    by_column = {h: [str(r[i]) if r[i] is not None else None for r in rows[1:]] for i, h in enumerate(rows[0])}
    (bundle / "providers.json").write_text(json.dumps(by_column, ensure_ascii=False), encoding="utf-8")
    (bundle / "providers.xlsx").unlink()
    r = cli("score", "--data", bundle, "--out", tmp_path / "out")
    assert r.exit_code == 2
    assert (
        "providers.json: found one object whose fields are arrays" in r.stderr and "JSON array of records" in r.stderr
    )
