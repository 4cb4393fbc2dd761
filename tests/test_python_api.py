"""The Python API (pingyi.api with pandas): docs/python-api.md executed top to bottom, and the frames
checked against the CSV files the same run wrote."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

import pingyi.api as p
from pingyi.errors import PingyiError

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "python-api.md"


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", PAGE.read_text(encoding="utf-8"), flags=re.S)


def test_the_documented_example_runs(example, tmp_path, monkeypatch):
    """Every python block of the page, in order, in one namespace, in a directory holding out/results
    (the session's scored example) and the example bundle, as the page says."""
    shutil.copytree(example.out, tmp_path / "out" / "results")
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    blocks = _blocks()
    assert len(blocks) >= 5
    namespace: dict = {}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for block in blocks:
            exec(compile(block, str(PAGE), "exec"), namespace)  # noqa: S102 - the docs page is the test
    out = printed.getvalue()
    assert "24 providers" in out
    assert "杭州市第一人民医院" in out or "H33010200006" in out


def test_the_one_liner_of_the_issue_works(example):
    """`python -c "import pingyi.api as p; r = p.load_results('out/results'); print(r.scores.head())"`."""
    code = f"import pingyi.api as p; r = p.load_results({str(example.out)!r}); print(r.scores.head())"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "fixmedins_code" in done.stdout and "H33010200006" in done.stdout and "[5 rows" in done.stdout


def test_frames_hold_the_numbers_of_the_csv_files(example):
    r = p.load_results(example.out)
    with open(example.out / "scores.csv", encoding="utf-8-sig", newline="") as f:
        scores = list(csv.DictReader(f))
    assert list(r.scores["fixmedins_code"]) == [s["fixmedins_code"] for s in scores]
    for row, s in zip(r.scores.itertuples(), scores, strict=True):
        if s["total_score"]:
            assert round(row.total_score, 4) == float(s["total_score"])
        else:
            assert row.total_score != row.total_score  # NaN where the CSV is blank
        assert row.grade == s["grade"]
        if s["D3"]:
            assert float(s["D3"]) == row.D3
        else:
            assert row.D3 != row.D3
    with open(example.out / "adjustments.csv", encoding="utf-8-sig", newline="") as f:
        adjustments = {a["fixmedins_code"]: a for a in csv.DictReader(f)}
    for row in r.adjustments.itertuples():
        assert isinstance(row.amount, Decimal)  # exact: never a float
        assert str(row.amount) == adjustments[row.fixmedins_code]["amount"]
    budget = json.loads((example.out / "results.json").read_text(encoding="utf-8"))["budget"]
    assert sum(r.adjustments["amount"]) == Decimal(budget["net"])
    assert len(r.indicators) == len(r.scores) * len(r.document.indicators)
    with open(example.out / "indicators.csv", encoding="utf-8-sig", newline="") as f:
        lights = {(i["fixmedins_code"], i["indicator"]): i["light"] for i in csv.DictReader(f)}
    assert {(x.fixmedins_code, x.indicator): x.light for x in r.indicators.itertuples()} == lights
    assert (r.quality["failed"] <= r.quality["checked"]).all()


def test_an_edited_results_file_is_refused(example, tmp_path):
    folder = tmp_path / "results"
    shutil.copytree(example.out, folder)
    path = folder / "results.json"
    path.write_text(path.read_text(encoding="utf-8").replace('"优秀"', '"良好"', 1), encoding="utf-8")
    with pytest.raises(PingyiError, match=r"EDITED results\.json"):
        p.load_results(folder)
    assert len(p.load_results(folder, verify=False).scores) == 24


def test_an_unknown_provider_names_what_was_expected(example):
    with pytest.raises(PingyiError, match=r"provider 'H00' not found; expected a fixmedins_code or fixmedins_name"):
        p.load_results(example.out).provider("H00")
