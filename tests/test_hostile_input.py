"""Hostile or damaged input: report templates that try to run code, YAML bombs, broken JSON Lines lines,
damaged Parquet and XLSX files, manifests of the wrong shape. Each is a user error (exit 2) with one
message naming the file, never an internal error (exit 1) or a traceback, and never runs for minutes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import EXAMPLE, MINI, REPORT_FIXTURE
from pingyi.errors import PingyiError
from pingyi.score.baselines import load_ageing
from test_extract import valid_tables, write_bundle

SHIPPED_TEMPLATES = Path(__file__).resolve().parents[1] / "reports" / "templates"


def pingyi(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pingyi.cli", *map(str, args)], capture_output=True, text=True, timeout=timeout
    )


def assert_user_error(r, *needles: str) -> str:
    """Exit 2, one `error:` message, no traceback; returns the message."""
    stderr = r.stderr
    code = r.exit_code if hasattr(r, "exit_code") else r.returncode  # in-process (cli fixture) or subprocess
    assert code == 2, stderr
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    assert stderr.lstrip().startswith("error:"), stderr
    for needle in needles:
        assert needle in stderr, stderr
    return stderr


# --------------------------------------------------------------------------- 1. templates are sandboxed

PAYLOAD = '{{ cycler.__init__.__globals__.os.popen("touch MARKER").read() }}'


def _own_card(tmp_path: Path, first_lines: str) -> Path:
    """A templates directory whose card.html is the shipped one with `first_lines` in front."""
    own = tmp_path / "tpl"
    own.mkdir()
    shipped = (SHIPPED_TEMPLATES / "card.html").read_text(encoding="utf-8")
    (own / "card.html").write_text(first_lines + shipped, encoding="utf-8")
    return own


@pytest.mark.parametrize("fmt", ["html", "pdf"])
def test_template_reaching_python_internals_is_refused(cli, tmp_path, fmt):
    marker = tmp_path / "marker"
    own = _own_card(tmp_path, "<!-- a committee's card -->\n" + PAYLOAD.replace("MARKER", str(marker)) + "\n")
    args = ["report", "--results", REPORT_FIXTURE, "--out", tmp_path / "out", "--format", fmt, "--templates", own]
    if fmt == "pdf":
        args += ["--workers", "2"]  # the PDF worker processes too
    r = cli(*args)
    message = assert_user_error(r, f"{own / 'card.html'}:2:", "Python internals")
    assert "expected" in message
    assert not marker.exists(), "the template ran a shell command"


def test_template_syntax_error_names_template_and_line(cli, tmp_path):
    own = _own_card(tmp_path, "line one\n{% if %}\n")
    r = cli("report", "--results", REPORT_FIXTURE, "--out", tmp_path / "out", "--format", "html", "--templates", own)
    assert_user_error(r, f"{own / 'card.html'}:2:", "template syntax error")


def test_template_with_an_unknown_value_names_template_and_line(cli, tmp_path):
    own = _own_card(tmp_path, "a\nb\n{{ no_such_value.x }}\n")
    r = cli("report", "--results", REPORT_FIXTURE, "--out", tmp_path / "out", "--format", "html", "--templates", own)
    assert_user_error(r, f"{own / 'card.html'}:3:", "no_such_value")


def test_shipped_templates_render_in_the_sandbox():
    import jinja2.sandbox

    from pingyi.report.templates import make_env

    assert isinstance(make_env(), jinja2.sandbox.SandboxedEnvironment)
    assert make_env().autoescape is True


# --------------------------------------------------------------------------- 2. YAML is bounded


def _mini(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(MINI, root)
    return root


BILLION_LAUGHS = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{','.join([f'*{chr(97 + i)}'] * 9)}]" for i in range(8)]
    + ["upload_deadline_days: 15", ""]
)


def test_billion_laughs_data_yaml_is_refused_quickly(tmp_path):
    root = _mini(tmp_path)
    (root / "data.yaml").write_text(BILLION_LAUGHS, encoding="utf-8")
    start = time.monotonic()
    r = pingyi("validate", "--project", root, timeout=60)
    assert time.monotonic() - start < 30
    assert r.returncode == 2, r.stderr
    assert "data.yaml:1" in r.stderr and "PY108" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize(
    "text, code, line",
    [
        ("version: 1\nx: &a [*a]\n", "PY108", 2),  # a recursive alias
        ("version: 1\nupload_deadline_days: " + "9" * 5000 + "\n", "PY110", 2),  # a 5,000-digit integer
        ("version: 1\ndescription: " + "x" * 20000 + "\n", "PY110", 2),  # a 20,000-character scalar
        ("version: 1\nx: " + "[" * 5000 + "]" * 5000 + "\n", "PY109", 2),  # a 5,000-deep list
        ("version: 1\nx: " + "[" * 100 + "]" * 100 + "\n", "PY109", 2),  # within libyaml's limit
        ("version: 1\nx:\n" + "".join(" " * i + "- \n" for i in range(1, 200, 2)), "PY109", 66),  # block: level 65
    ],
    ids=["recursive-alias", "long-integer", "long-string", "deep-flow", "deep-flow-100", "deep-block"],
)
def test_yaml_bombs_are_user_errors(cli, tmp_path, text, code, line):
    root = _mini(tmp_path)
    (root / "data.yaml").write_text(text, encoding="utf-8")
    r = cli("validate", "--project", root)
    assert r.exit_code == 2, (r.stdout, r.stderr, r.exception)
    assert f"data.yaml:{line}" in r.stderr and code in r.stderr, r.stderr
    assert "internal error" not in r.stderr


def test_ageing_file_goes_through_the_bounded_loader(tmp_path):
    path = tmp_path / "ageing.yaml"
    path.write_text("ageing_change: &x {east: 0.008}\nelasticity: {}\ndescription: *x\n", encoding="utf-8")
    with pytest.raises(PingyiError, match=r"ageing.yaml:1.*PY108"):
        load_ageing(path, ["east"], [])
    path.write_text("ageing_change: {east: 0.00" + "8" * 5000 + "}\nelasticity: {}\n", encoding="utf-8")
    with pytest.raises(PingyiError, match=r"ageing.yaml:1.*PY110"):
        load_ageing(path, ["east"], [])
    path.write_text("ageing_change: {east: 0.008}\nelasticity: {D1.01: {absolute: 0.002}}\n", encoding="utf-8")
    ageing = load_ageing(path, ["east"], ["D1.01"])
    assert ageing.change == {"east": 0.008} and ageing.elasticity == {"D1.01": ("absolute", 0.002)}


# --------------------------------------------------------------------------- 3. a broken JSON Lines line


def _jsonl_bundle(tmp_path: Path) -> Path:
    d = write_bundle(tmp_path / "b", valid_tables())
    (d / "drg_groups.csv").unlink()
    (d / "drg_groups.json").write_text(
        '{"drg_code": "ES31", "weight": 0.85, "mean_cost": "8200.00", "mean_los": 7.2}\n'
        '{"drg_code": "ES32", "weight": 1, "mean_cost": 9000, "mean_los": "6", broken\n'
        '{"drg_code": "ES33", "weight": 1.2, "mean_cost": 9500, "mean_los": 5}\n'
        "[1, 2]\n"
        '{"drg_code": "ES34", "weight": 1.3, "mean_cost": 9900, "mean_los": 6}\n',
        encoding="utf-8",
    )
    return d


def test_broken_json_lines_line_is_a_rejected_row(cli, tmp_path):
    d = _jsonl_bundle(tmp_path)
    project = tmp_path / "project"
    (project / "baselines").mkdir(parents=True)
    (project / "baselines" / "2024.yaml").write_text("year: 2024\nregion_scheme: x\nbaselines: {}\n", encoding="utf-8")
    (project / "data.yaml").write_text("upload_deadline_days: 15\n", encoding="utf-8")
    r = cli("quality", "--data", d, "--project", project, "--out", tmp_path / "out")
    assert r.exit_code == 0, (r.stderr, r.exception)
    import csv

    with open(tmp_path / "out" / "rejected.csv", encoding="utf-8", newline="") as fh:
        rejected = [row for row in csv.DictReader(fh) if row["table"] == "drg_groups"]
    assert [(row["row"], row["reason_code"]) for row in rejected] == [("2", "malformed_row"), ("4", "malformed_row")]
    assert "line 2" in rejected[0]["message"] and "JSON" in rejected[0]["message"]
    assert "broken" not in rejected[0]["message"]  # the line's content is never shown (PII)
    assert "line 4" in rejected[1]["message"] and "object" in rejected[1]["message"]
    with open(tmp_path / "out" / "quality.csv", encoding="utf-8", newline="") as fh:
        quality = [row for row in csv.DictReader(fh) if row["table"] == "drg_groups"]
    (structure,) = [row for row in quality if row["reason_code"] == "malformed_row"]
    assert (structure["failed"], structure["checked"]) == ("2", "5"), structure


def test_broken_json_lines_rows_reconcile(tmp_path):
    from pingyi.data.quality import run_quality
    from test_extract import open_test_bundle

    d = _jsonl_bundle(tmp_path)
    with open_test_bundle(d, tmp_path) as b:
        info = b.tables["drg_groups"]
        assert (info.rows, info.malformed) == (5, 2)
        assert b.con.execute("SELECT _row, drg_code FROM raw_drg_groups ORDER BY _row").fetchall() == [
            (1, "ES31"),
            (3, "ES33"),
            (5, "ES34"),
        ]
        result = run_quality(b)
        counts = result.counts["drg_groups"]
        assert counts.read == counts.used + counts.rejected == 5
        assert counts.rejected == 2


def test_json_lines_with_no_valid_line_is_still_a_file_error(tmp_path):
    from test_extract import open_test_bundle

    d = write_bundle(tmp_path / "b", valid_tables())
    (d / "drg_groups.csv").unlink()
    (d / "drg_groups.json").write_text("{not json\n{also not\n", encoding="utf-8")
    with pytest.raises(PingyiError, match="drg_groups.json"):
        open_test_bundle(d, tmp_path)


# --------------------------------------------------------------------------- 4. damaged input files


def _example_copy(tmp_path: Path) -> Path:
    d = tmp_path / "bundle"
    shutil.copytree(EXAMPLE, d)
    return d


def _flip_middle(path: Path, at: float = 0.5, n: int = 2000) -> None:
    data = bytearray(path.read_bytes())
    start = int(len(data) * at)
    for i in range(start, start + n):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))


def test_parquet_with_a_damaged_data_page_is_a_user_error(cli, tmp_path):
    d = _example_copy(tmp_path)
    _flip_middle(d / "settlements.parquet")
    r = cli("quality", "--data", d, "--out", tmp_path / "out")
    assert_user_error(r, "settlements.parquet", "damaged", "re-export")


def test_truncated_parquet_is_a_user_error(cli, tmp_path):
    d = _example_copy(tmp_path)
    data = (d / "settlements.parquet").read_bytes()
    (d / "settlements.parquet").write_bytes(data[: len(data) // 3])
    r = cli("quality", "--data", d, "--out", tmp_path / "out")
    assert_user_error(r, "settlements.parquet", "damaged", "re-export")


@pytest.mark.parametrize("damage", ["not-a-zip", "truncated", "flipped"])
def test_damaged_xlsx_is_a_user_error(cli, tmp_path, damage):
    d = _example_copy(tmp_path)
    path = d / "providers.xlsx"
    if damage == "not-a-zip":
        path.write_text("fixmedins_code,hosp_lv\nH1,三级\n", encoding="utf-8")
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    else:
        _flip_middle(path, n=200)
    r = cli("quality", "--data", d, "--out", tmp_path / "out")
    assert_user_error(r, "providers.xlsx", "re-export")


# --------------------------------------------------------------------------- 5. manifests of the wrong shape


@pytest.mark.parametrize("text", ["[]", '"manifest"', "3", '{"outputs": [], "inputs": {}}', '{"outputs": {}}'])
def test_verify_manifest_of_the_wrong_shape(cli, tmp_path, text):
    results = tmp_path / "results"
    shutil.copytree(REPORT_FIXTURE, results)
    (results / "manifest.json").write_text(text, encoding="utf-8")
    r = cli("verify", results)
    assert_user_error(r, str(results / "manifest.json"), "expected")


@pytest.mark.parametrize("text", ["[]", "null"])
def test_report_results_json_of_the_wrong_shape(cli, tmp_path, text):
    results = tmp_path / "results"
    shutil.copytree(REPORT_FIXTURE, results)
    (results / "results.json").write_text(text, encoding="utf-8")
    (results / "manifest.json").unlink(missing_ok=True)  # a bad manifest is refused first (test_faults)
    r = cli("report", "--results", results, "--out", tmp_path / "out", "--format", "xlsx")
    assert_user_error(r, str(results / "results.json"), "a JSON object")


def test_explain_manifest_of_the_wrong_shape(cli, tmp_path):
    results = tmp_path / "results"
    shutil.copytree(REPORT_FIXTURE, results)
    (results / "manifest.json").write_text(json.dumps([{"inputs": {}}]), encoding="utf-8")
    r = cli("explain", "D1.01", "--results", results, "--provider", "H33010600001")
    assert_user_error(r, str(results / "manifest.json"), "a JSON object")
