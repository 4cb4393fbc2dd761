"""The CLI as a user runs it: exit codes, messages, never a traceback for a user mistake."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

MINI = Path(__file__).parent / "fixtures" / "mini"


def pingyi(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pingyi.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


def test_validate_clean_mini_project():
    r = pingyi("validate", "--project", str(MINI))
    assert r.returncode == 0, r.stderr
    assert "OK: 2 primary and 5 secondary indicators" in r.stdout


def test_validate_shipped_project_is_clean():
    r = pingyi("validate")
    assert r.returncode == 0, r.stderr
    assert "OK: 8 primary and 35 secondary indicators" in r.stdout
    assert "error" not in r.stderr.lower()


def test_weights_json_contract():
    r = pingyi("weights", "--json")
    assert r.returncode == 0, r.stderr
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


def test_weights_table_prints_every_indicator():
    r = pingyi("weights")
    assert r.returncode == 0, r.stderr
    for code in ("D1.01", "D8.04"):
        assert code in r.stdout


def test_broken_project_exit_2_with_locations(tmp_path):
    root = tmp_path / "p"
    shutil.copytree(MINI, root)
    path = root / "indicators" / "D2_service.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("primary: {code: D2,", "primary: {code: D2, ["),
                    encoding="utf-8")
    r = pingyi("validate", "--project", str(root))
    assert r.returncode == 2
    assert "indicators/D2_service.yaml:1" in r.stderr and "PY101" in r.stderr
    assert "Traceback" not in r.stdout + r.stderr


def test_validate_json_output(tmp_path):
    r = pingyi("validate", "--project", str(MINI), "--json")
    assert r.returncode == 0
    issues = json.loads(r.stdout)
    assert [i["code"] for i in issues] == ["PY206"]


def test_missing_project_dir(tmp_path):
    r = pingyi("validate", "--project", str(tmp_path / "nope"))
    assert r.returncode == 2
    assert "PY201" in r.stderr and "Traceback" not in r.stderr


def test_explain_known_and_unknown():
    r = pingyi("explain", "D1.01", "--project", str(MINI))
    assert r.returncode == 0, r.stderr
    assert "次均住院费用增长率" in r.stdout and "prior(inpatient_cost)" in r.stdout
    assert "east" in r.stdout and "5.0%" in r.stdout and "7.0%" in r.stdout
    r = pingyi("explain", "Z9.99", "--project", str(MINI))
    assert r.returncode == 2
    assert "unknown indicator 'Z9.99'" in r.stderr and "Traceback" not in r.stderr


def test_debug_shows_traceback():
    r = pingyi("--debug", "explain", "Z9.99", "--project", str(MINI))
    assert r.returncode != 0
    assert "Traceback" in r.stderr


def test_usage_error_is_exit_2_without_traceback():
    r = pingyi("validate", "--no-such-option")
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and "No such option" in r.stderr


def test_init_copies_a_valid_project(tmp_path):
    target = tmp_path / "committee"
    r = pingyi("init", str(target))
    assert r.returncode == 0, r.stderr
    assert (target / "indicators" / "hierarchy.yaml").is_file()
    assert (target / "policy.yaml").is_file()
    r = pingyi("validate", "--project", str(target))
    assert r.returncode == 0, r.stderr
    r = pingyi("init", str(target))
    assert r.returncode == 2 and "not empty" in r.stderr
