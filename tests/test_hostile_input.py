"""Hostile or damaged input: report templates that try to run code, YAML bombs, broken JSON Lines lines,
damaged Parquet and XLSX files, manifests of the wrong shape. Each is a user error (exit 2) with one
message naming the file, never an internal error (exit 1) or a traceback, and never runs for minutes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPORT_FIXTURE

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
