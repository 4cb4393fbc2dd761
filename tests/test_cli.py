"""The CLI as a user runs it: exit codes, messages, never a traceback for a user mistake. Run in-process
(the `cli` fixture); the smoke tests at the end run the real console entry point."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from conftest import MINI


def pingyi(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pingyi.cli", *args], capture_output=True, text=True, timeout=120)


def test_validate_clean_mini_project(cli):
    r = cli("validate", "--project", str(MINI))
    assert r.exit_code == 0, r.stderr
    assert "OK: 2 primary and 5 secondary indicators" in r.stdout


def test_validate_shipped_project_is_clean(cli):
    r = cli("validate")
    assert r.exit_code == 0, r.stderr
    assert "OK: 8 primary and 35 secondary indicators" in r.stdout
    assert "error" not in r.stderr.lower()


def test_weights_json_contract(cli):
    r = cli("weights", "--json")
    assert r.exit_code == 0, r.stderr
    tree = json.loads(r.stdout)
    primary = tree["primary"]
    assert len(primary) == 8
    secondary = [s for p in primary for s in p["secondary"]]
    assert len(secondary) == 35
    assert abs(sum(s["global_weight"] for s in secondary) - 1) < 1e-9
    assert abs(sum(p["weight"] for p in primary) - 1) < 1e-9
    for p in primary:
        assert {"id", "name", "weight", "cr", "secondary"} <= set(p)
        assert p["cr"] is None or p["cr"] < 0.10
        assert abs(sum(s["local_weight"] for s in p["secondary"]) - 1) < 1e-9
        for s in p["secondary"]:
            assert {"id", "name", "local_weight", "global_weight", "qualitative"} <= set(s)
            assert s["global_weight"] == pytest.approx(p["weight"] * s["local_weight"], abs=1e-12)
    assert tree["root"]["cr"] < 0.10
    assert sum(s["global_weight"] for s in secondary if s["qualitative"]) <= 0.20 + 1e-12


def test_weights_table_prints_every_indicator(cli):
    r = cli("weights")
    assert r.exit_code == 0, r.stderr
    for code in ("D1.01", "D8.04"):
        assert code in r.stdout


def test_broken_project_exit_2_with_locations(cli, tmp_path):
    root = tmp_path / "p"
    shutil.copytree(MINI, root)
    path = root / "indicators" / "D2_service.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("primary: {code: D2,", "primary: {code: D2, ["), encoding="utf-8"
    )
    r = cli("validate", "--project", str(root))
    assert r.exit_code == 2
    assert "indicators/D2_service.yaml:1" in r.stderr and "PY101" in r.stderr
    assert "Traceback" not in r.stdout + r.stderr


def test_validate_json_output(cli, tmp_path):
    r = cli("validate", "--project", str(MINI), "--json")
    assert r.exit_code == 0
    issues = json.loads(r.stdout)
    assert [i["code"] for i in issues] == ["PY206"]


def test_missing_project_dir(cli, tmp_path):
    r = cli("validate", "--project", str(tmp_path / "nope"))
    assert r.exit_code == 2
    assert "PY201" in r.stderr and "Traceback" not in r.stderr


def test_explain_known_and_unknown(cli):
    r = cli("explain", "D1.01", "--project", str(MINI))
    assert r.exit_code == 0, r.stderr
    assert "次均住院费用增长率" in r.stdout and "prior(inpatient_cost)" in r.stdout
    assert "east" in r.stdout and "5.0%" in r.stdout and "7.0%" in r.stdout
    r = cli("explain", "Z9.99", "--project", str(MINI))
    assert r.exit_code == 2
    assert "unknown code 'Z9.99'" in r.stderr and "Traceback" not in r.stderr


def test_debug_lets_the_error_through(cli):
    r = cli("--debug", "explain", "Z9.99", "--project", str(MINI))
    assert r.exit_code == 1  # the exception reaches the runner instead of becoming exit 2
    assert type(r.exception).__name__ == "PingyiError" and "unknown code 'Z9.99'" in str(r.exception)


def test_usage_error_is_exit_2_without_traceback(cli):
    r = cli("validate", "--no-such-option")
    assert r.exit_code == 2
    assert "Traceback" not in r.stderr and "No such option" in r.stderr


def test_init_copies_a_valid_project(cli, tmp_path):
    target = tmp_path / "committee"
    r = cli("init", str(target))
    assert r.exit_code == 0, r.stderr
    assert (target / "indicators" / "hierarchy.yaml").is_file()
    assert (target / "policy.yaml").is_file()
    r = cli("validate", "--project", str(target))
    assert r.exit_code == 0, r.stderr
    r = cli("init", str(target))
    assert r.exit_code == 2 and "not empty" in r.stderr


# --------------------------------------------------------------------------- the console script itself


def test_console_script_user_error_is_exit_2_without_traceback(tmp_path):
    r = pingyi("explain", "Z9.99", "--project", str(MINI))
    assert r.returncode == 2
    assert r.stderr.startswith("error: unknown code 'Z9.99'") and "Traceback" not in r.stderr


def test_console_script_debug_shows_traceback():
    r = pingyi("--debug", "explain", "Z9.99", "--project", str(MINI))
    assert r.returncode == 1
    assert "Traceback" in r.stderr and "PingyiError: unknown code 'Z9.99'" in r.stderr


@pytest.fixture
def committee_results(small_bundle, tmp_path):
    """Results made with a committee's copy of the shipped project whose D1.01 baselines differ from the
    shipped ones (east 4 % instead of 5 %)."""
    from pingyi.run.evaluate import evaluate_to
    from pingyi.spec.project import copy_project, default_project_dir

    project = tmp_path / "committee"
    copy_project(default_project_dir(), project)
    path = project / "baselines" / "2025.yaml"
    text = path.read_text(encoding="utf-8")
    old = "    values: {east: 0.05, central: 0.07, west: 0.07}\n"
    assert old in text
    path.write_text(text.replace(old, "    values: {east: 0.04, central: 0.06, west: 0.06}\n", 1), encoding="utf-8")
    out = tmp_path / "results"
    evaluate_to(small_bundle, project, None, None, out)
    code = json.loads((out / "results.json").read_text(encoding="utf-8"))["providers"][0]["fixmedins_code"]
    return project, out, code


def test_explain_results_uses_the_project_of_the_results(cli, committee_results):
    """Without --project, explain --results reads the project recorded in the results' manifest: the
    manual's baselines are the committee's (4 %), not the shipped project's (5 %), and it says so."""
    project, out, code = committee_results
    r = cli("explain", "D1.01", "--provider", code, "--results", out)
    assert r.exit_code == 0, r.stderr
    assert f"project: {project.resolve()} (from the results' manifest)" in r.stdout
    table = r.stdout.split("基线 baselines", 1)[1].split("\n\n", 1)[0]
    assert "4.0%" in table and "5.0%" not in table, table
    # the same project given explicitly is accepted
    r = cli("explain", "D1.01", "--provider", code, "--results", out, "--project", project)
    assert r.exit_code == 0, r.stderr


def test_explain_results_refuses_another_project(cli, committee_results):
    project, out, code = committee_results
    r = cli("explain", "D1.01", "--provider", code, "--results", out, "--project", MINI)
    assert r.exit_code == 2 and "Traceback" not in r.stderr
    assert str(MINI) in r.stderr and str(project.resolve()) in r.stderr, r.stderr
    assert "manifest.json" in r.stderr


def test_explain_results_refuses_a_changed_project(cli, committee_results):
    project, out, code = committee_results
    path = project / "baselines" / "2025.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("east: 0.04", "east: 0.03", 1), encoding="utf-8")
    r = cli("explain", "D1.01", "--provider", code, "--results", out)
    assert r.exit_code == 2 and "Traceback" not in r.stderr
    assert "baselines/2025.yaml" in r.stderr and "manifest.json" in r.stderr, r.stderr
    assert "changed" in r.stderr


def test_explain_results_refuses_a_missing_project_file(cli, committee_results):
    project, out, code = committee_results
    (project / "policy.yaml").unlink()
    r = cli("explain", "D1.01", "--provider", code, "--results", out)
    assert r.exit_code == 2 and "Traceback" not in r.stderr
    assert "policy.yaml" in r.stderr and "missing" in r.stderr, r.stderr


def test_explain_without_results_uses_the_given_project(cli):
    r = cli("explain", "D1.01", "--project", MINI)
    assert r.exit_code == 0, r.stderr
    assert "from the results' manifest" not in r.stdout


def test_explain_for_people(cli, example):
    """explain finds a provider by name, formats every figure as the card does (no raw floats such as
    `inpatient_stays = 70.0`), names each intermediate step, speaks Chinese with --lang zh, explains a
    dimension, prints JSON, and checks the provider before printing anything."""
    out = example.out
    r = cli("explain", "D1.01", "--results", out, "--provider", "杭州市第一人民医院")
    assert r.exit_code == 0, r.stderr
    walk = r.stdout.split("== H33010200006", 1)[1]
    assert "2025 inpatient_stays = 16,137" in walk and ".0 " not in walk.replace("0.0 ", "")
    assert "2025 inpatient_cost = CNY 210,458,480.33" in walk
    assert "inpatient_cost / inpatient_stays = 13,041.983" in walk  # cost per stay, a named step
    prov = next(q for q in example.results["providers"] if q["fixmedins_code"] == "H33010200006")
    item = next(i for i in prov["indicators"] if i["code"] == "D1.01")
    assert f"contribution to the total: {item['contribution']:.2f} / total {prov['total_score']:.2f}" in walk
    zh = cli("explain", "D1.01", "--results", out, "--provider", "H33010200006", "--lang", "zh")
    assert (
        "计算过程" in zh.stdout and f"对总分的贡献: {item['contribution']:.2f}" in zh.stdout and "信号灯:" in zh.stdout
    )
    dim = cli("explain", "D3", "--results", out, "--provider", "H33010200006")
    assert dim.exit_code == 0 and "D3.01" in dim.stdout and "effective weight" in dim.stdout
    as_json = cli("explain", "D1.01", "--results", out, "--provider", "H33010200006", "--json")
    record = json.loads(as_json.stdout)
    assert record["provider"]["fixmedins_code"] == "H33010200006"
    assert record["steps"][0] == {
        "formula": "formula", "expression": "inpatient_cost / inpatient_stays",
        "value": pytest.approx(210458480.33 / 16137), "final": False,
    }  # fmt: skip
    assert record["contribution"] == item["contribution"]
    bad = cli("explain", "D1.01", "--results", out, "--provider", "人民医院")
    assert bad.exit_code == 2 and bad.stdout == "" and "matches 5 providers" in bad.stderr
    none = cli("explain", "D1.01", "--results", out, "--provider", "H00")
    assert none.exit_code == 2 and none.stdout == "" and "is not among its 24 providers" in none.stderr
    lang = cli("explain", "D1.01", "--lang", "fr")
    assert lang.exit_code == 2 and "--lang 'fr'" in lang.stderr
