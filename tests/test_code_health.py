"""The code's own checks, run by the test command: ruff (lint and format), mypy, and the import
contract (stages import only downwards; the spec layer imports no heavy library), all configured in
pyproject.toml."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

CHECKS = {
    "ruff lint": [sys.executable, "-m", "ruff", "check", "--no-cache", "src", "tests", "benchmarks"],
    "ruff format": [sys.executable, "-m", "ruff", "format", "--check", "--no-cache", "src", "tests", "benchmarks"],
    "mypy": [sys.executable, "-m", "mypy", "--no-incremental"],
    "import contract": [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
}


@pytest.mark.parametrize("name", list(CHECKS))
def test_code_check(name):
    r = subprocess.run(CHECKS[name], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"{name} failed:\n{r.stdout[-4000:]}\n{r.stderr[-2000:]}"
