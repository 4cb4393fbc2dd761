"""Shared fixtures: the paths of the shipped example and fixtures, one evaluation of the example for the
whole session (tests copy it before changing anything), a small generated bundle and its evaluation for
the tests that do not need the shipped example's size, and the CLI run in-process."""

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
from pingyi.tools.example import generate_example
from pingyi.validate import ValidProject, require_valid

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "province"
MINI = ROOT / "tests" / "fixtures" / "mini"
REPORT_FIXTURE = ROOT / "tests" / "fixtures" / "report" / "results"
# `pingyi example --scale small`: the compact layout (40,000 settlements, ~5,000 stays), quick to
# generate, evaluate and read row by row; the shipped example has a province's volumes
SMALL = {"scale": "small", "seed": 2025}


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


def _once_per_session(
    tmp_path_factory: pytest.TempPathFactory, worker_id: str, name: str, done: str, build: Callable[[Path], Any]
) -> Path:
    """`build(path)` once per test session: with pytest-xdist the workers share one result (the first to
    take the lock builds it, the others wait); `done` is the file whose presence says it was built."""
    if worker_id == "master":  # not distributed
        out = tmp_path_factory.mktemp(name) / name
        build(out)
        return out
    shared = tmp_path_factory.getbasetemp().parent  # this session's directory, common to its workers
    out = shared / name
    with FileLock(str(shared / f"{name}.lock")):
        if not (out / done).is_file():
            build(out)
    return out


@pytest.fixture(scope="session")
def example(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Evaluated:
    """`pingyi score --data examples/province` with the shipped project, once per test session."""
    build = lambda out: evaluate_to(EXAMPLE, None, None, None, out)  # noqa: E731
    return Evaluated(_once_per_session(tmp_path_factory, worker_id, "example-results", "manifest.json", build))


@pytest.fixture(scope="session")
def small_bundle(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """`pingyi example --scale small`, once per test session (read-only: copy it before editing)."""
    build = lambda out: generate_example(out, **SMALL)  # noqa: E731
    return _once_per_session(tmp_path_factory, worker_id, "small-bundle", "_example.json", build)


@pytest.fixture(scope="session")
def small_example(small_bundle: Path, tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Evaluated:
    """`pingyi score` of the small bundle with the shipped project, once per test session."""
    build = lambda out: evaluate_to(small_bundle, None, None, None, out)  # noqa: E731
    return Evaluated(_once_per_session(tmp_path_factory, worker_id, "small-results", "manifest.json", build))


@pytest.fixture
def small_copy(small_example: Evaluated, tmp_path: Path) -> Path:
    """A copy of the session's results of the small bundle that a test may change."""
    target = tmp_path / "results"
    shutil.copytree(small_example.out, target)
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
