"""Shared fixtures: the paths of the shipped example and fixtures, one evaluation of the example for the
whole session (tests copy it before changing anything), and the CLI run in-process."""

from __future__ import annotations

import functools
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock
from typer.testing import CliRunner

from pingyi.cli import _state, app
from pingyi.run.evaluate import evaluate_to
from pingyi.validate import ValidProject, require_valid

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "province"
MINI = ROOT / "tests" / "fixtures" / "mini"
REPORT_FIXTURE = ROOT / "tests" / "fixtures" / "report" / "results"


@functools.cache
def shipped() -> ValidProject:
    """The shipped project, validated once per session (treat it as read-only: it is shared)."""
    return require_valid()


@dataclass(frozen=True)
class Evaluated:
    out: Path  # the results directory (read-only: copy it before editing)

    @functools.cached_property
    def results(self) -> dict[str, Any]:
        """results.json, parsed (shared: do not change it)."""
        return json.loads((self.out / "results.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def example(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Evaluated:
    """`pingyi score --data examples/province` with the shipped project, once per test session: with
    pytest-xdist the workers share one run (the first to take the lock writes it, the others wait)."""
    if worker_id == "master":  # not distributed
        out = tmp_path_factory.mktemp("example-results")
        evaluate_to(EXAMPLE, None, None, None, out)
        return Evaluated(out)
    shared = tmp_path_factory.getbasetemp().parent  # this session's directory, common to its workers
    out = shared / "example-results"
    with FileLock(str(shared / "example-results.lock")):
        if not (out / "manifest.json").is_file():
            evaluate_to(EXAMPLE, None, None, None, out)
    return Evaluated(out)


@pytest.fixture
def example_copy(example: Evaluated, tmp_path: Path) -> Path:
    """A copy of the session's example results that a test may change."""
    target = tmp_path / "results"
    shutil.copytree(example.out, target)
    return target


@dataclass(frozen=True)
class CliResult:
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None


@pytest.fixture
def cli() -> Callable[..., CliResult]:
    """Run `pingyi ARGS` in-process: the same exit codes and messages as the console script."""
    runner = CliRunner()

    def invoke(*args: str) -> CliResult:
        try:
            result = runner.invoke(app, [str(a) for a in args], prog_name="pingyi")
        finally:
            _state["debug"] = False
        return CliResult(result.exit_code, result.stdout, result.stderr, result.exception)

    return invoke
