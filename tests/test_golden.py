"""The example's outputs, pinned: the session's fresh `pingyi score` of examples/province must equal the golden
copies in tests/golden/example byte for byte (README there says how to regenerate them)."""

from __future__ import annotations

import difflib
import os
import shutil
from pathlib import Path

import pytest

from conftest import ROOT

GOLDEN = ROOT / "tests" / "golden" / "example"
FILES = ("scores.csv", "indicators.csv", "adjustments.csv", "quality.csv", "rejected.csv", "results.json")


@pytest.fixture
def fresh(example) -> Path:
    out = example.out  # the session's evaluation of the example (conftest.py)
    if os.environ.get("PINGYI_UPDATE_GOLDEN") == "1":
        for name in FILES:
            shutil.copyfile(out / name, GOLDEN / name)
    return out


@pytest.mark.parametrize("name", FILES)
def test_example_output_equals_golden(fresh, name):
    expected = (GOLDEN / name).read_bytes()
    actual = (fresh / name).read_bytes()
    if actual != expected:
        diff = difflib.unified_diff(
            expected.decode("utf-8").splitlines(),
            actual.decode("utf-8").splitlines(),
            f"golden/{name}",
            f"fresh/{name}",
            lineterm="",
            n=1,
        )
        shown = "\n".join(list(diff)[:40])
        pytest.fail(f"{name} differs from tests/golden/example/{name} (PINGYI_UPDATE_GOLDEN=1 regenerates):\n{shown}")
