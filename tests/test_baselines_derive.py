"""Dynamic baselines: statistic, ageing adjustment and guardrail by hand; the derived file validates
as a normal baselines file; the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from conftest import REPORT_FIXTURE
from pingyi.api import derive_baselines
from pingyi.errors import PingyiError
from pingyi.score.baselines import guardrail, load_ageing, statistic, write_derived
from pingyi.spec import project
from pingyi.spec.models import Direction, Unit
from pingyi.spec.project import default_project_dir
from pingyi.validate import validate_project


def copy_project(dest: Path) -> Path:
    project.copy_project(default_project_dir(), dest)
    return dest


def results_dir(tmp_path: Path) -> Path:
    """A results.json (the report fixture's, following the results contract) with these providers only:
    central 二级 has three scored D1.01 values (0.02, 0.05, 0.09) and one grey; east 一级及基层 has three
    D2.05 values (baseline 0); east 三级 one CMI value."""
    doc = json.loads((REPORT_FIXTURE / "results.json").read_text(encoding="utf-8"))
    template = doc["providers"][0]
    rows = {row["code"]: row for row in template["indicators"]}

    def prov(code, region, level, items):
        return {
            **template,
            "fixmedins_code": code,
            "region": region,
            "level": level,
            "indicators": [{**rows[c], "status": st, "value": v} for c, st, v in items],
        }

    providers = [
        prov("H41000000001", "central", "二级", [("D1.01", "scored", 0.02), ("D2.05", "scored", 0.04)]),
        prov("H41000000002", "central", "二级", [("D1.01", "scored", 0.09), ("D2.05", "scored", 0.06)]),
        prov("H41000000003", "central", "二级", [("D1.01", "scored", 0.05), ("D2.05", "scored", 0.08)]),
        prov("H41000000004", "central", "二级", [("D1.01", "insufficient", 0.50)]),
        prov("H33000000001", "east", "一级及基层", [("D2.05", "scored", 0.1)]),
        prov("H33000000002", "east", "一级及基层", [("D2.05", "scored", 0.2)]),
        prov("H33000000003", "east", "一级及基层", [("D2.05", "scored", 0.3)]),
        prov("H33000000004", "east", "三级", [("D2.01", "scored", 1.5)]),
    ]
    out = tmp_path / "results"
    out.mkdir()
    (out / "results.json").write_text(json.dumps({**doc, "year": 2025, "providers": providers}), encoding="utf-8")
    return out


def cell(derived, code, region, level):
    return derived.data["baselines"][code]["provenance"][region][level]


def test_statistic_and_guardrail_by_hand():
    vals = [0.02, 0.05, 0.09]
    assert statistic(vals, "median", Direction.DOWN) == 0.05
    assert statistic(vals, "p75", Direction.DOWN) == pytest.approx(0.035)  # 25th percentile: lower is better
    assert statistic(vals, "p75", Direction.UP) == pytest.approx(0.07)  # 75th percentile
    with pytest.raises(PingyiError):
        statistic(vals, "mean", Direction.UP)
    # relative cap 10 % of 0.07 = 0.007
    assert guardrail(0.07, 0.0512, Unit.PERCENT, 0.10, None) == (pytest.approx(0.063), "relative")
    assert guardrail(0.07, 0.0512, Unit.PERCENT, 0.50, None) == (0.0512, "none")
    # absolute cap for percent indicators (0.5 point) is tighter than 50 % of 0.07
    assert guardrail(0.07, 0.0512, Unit.PERCENT, 0.50, 0.005) == (pytest.approx(0.065), "absolute")
    assert guardrail(0.07, 0.0512, Unit.INDEX, 0.50, 0.005) == (0.0512, "none")  # not a percent: no pp cap
    # a baseline of 0: the relative cap is undefined; kept without an absolute cap
    assert guardrail(0.0, 0.2, Unit.PERCENT, 0.10, None) == (0.0, "kept")
    assert guardrail(0.0, 0.2, Unit.PERCENT, 0.10, 0.01) == (0.01, "absolute")
    assert guardrail(None, 0.2, Unit.PERCENT, 0.10, None) == (0.2, "none")


def test_derived_values_with_ageing_and_guardrail(tmp_path):
    res = results_dir(tmp_path)
    ageing = tmp_path / "ageing.yaml"
    ageing.write_text(
        "ageing_change: {east: 0.008, central: 0.006, west: 0.005}\n"
        "elasticity:\n  D1.01: {absolute: 0.002}\n  D2.01: {relative: 0.01}\n",
        encoding="utf-8",
    )
    d = derive_baselines(res, 2026, method="median", ageing=ageing, max_change=0.10)[0]
    c = cell(d, "D1.01", "central", "二级")
    # median 0.05 (the grey 0.50 does not count) + 0.002 x 0.6 points = 0.0512; capped at 0.07 - 10 % = 0.063
    assert c["method"] == "median" and c["n"] == 3 and c["statistic"] == 0.05 and c["previous"] == 0.07
    assert c["ageing"] == pytest.approx(0.0012) and c["guardrail"] == "relative" and c["value"] == 0.063
    assert d.data["baselines"]["D1.01"]["values"]["central"]["二级"] == 0.063
    # too few providers: carried forward (plus ageing) — east 三级 CMI, one provider
    c = cell(d, "D2.01", "east", "三级")
    assert c["method"] == "carried" and c["n"] == 1 and c["statistic"] is None
    # CMI is monitor-only: it has no good direction for ageing to push, so it is carried as it was
    assert c["value"] == pytest.approx(1.1)
    # up indicator with a baseline of 0 (D2.05 primary care): kept
    c = cell(d, "D2.05", "east", "一级及基层")
    assert c["statistic"] == 0.2 and c["value"] == 0.0 and c["guardrail"] == "kept"
    # target-band indicators keep their definition
    assert cell(d, "D1.04", "west", "二级")["method"] == "carried"
    assert d.data["baselines"]["D1.04"]["values"]["west"]["二级"] == 1.0
    # with a wider cap and a pp cap
    d2 = derive_baselines(res, 2026, method="median", max_change=0.5, max_change_pp=0.01)[0]
    assert cell(d2, "D1.01", "central", "二级")["value"] == 0.06  # 0.05 is 2 points below 0.07: capped at 1 point
    assert cell(d2, "D2.05", "east", "一级及基层")["value"] == 0.01
    d3 = derive_baselines(res, 2026, method="p75", max_change=1.0)[0]
    assert cell(d3, "D1.01", "central", "二级")["value"] == pytest.approx(0.035)
    assert cell(d3, "D2.05", "central", "二级")["value"] == pytest.approx(0.07)


def test_derived_file_validates_as_a_baselines_file(tmp_path):
    res = results_dir(tmp_path)
    proj = copy_project(tmp_path / "proj")
    d = derive_baselines(res, 2026, max_change_pp=0.01)[0]
    path = write_derived(d, proj / "baselines" / "2026.yaml")
    assert path.read_text(encoding="utf-8").startswith("# baselines/2026.yaml")
    loaded = validate_project(proj, year=2026)
    assert not loaded.issues.errors, [i.render() for i in loaded.issues.errors]
    assert loaded.project.year == 2026
    assert loaded.project.baseline("D1.01", "central", "二级") == 0.063
    entry = loaded.project.baselines.baselines["D1.01"]
    assert entry.provenance["central"]["二级"].guardrail == "relative" and not entry.assumed
    # the provenance is checked against the values
    text = yaml.safe_load(path.read_text(encoding="utf-8"))
    text["baselines"]["D1.01"]["values"]["central"]["二级"] = 0.064
    path.write_text(yaml.safe_dump(text, allow_unicode=True), encoding="utf-8")
    assert "PY407" in {i.code for i in validate_project(proj, year=2026).issues.errors}


def test_ageing_csv_and_errors(tmp_path):
    csv_file = tmp_path / "ageing.csv"
    csv_file.write_text("kind,key,value,mode\nregion,east,0.008,\nindicator,D1.01,0.002,absolute\n", encoding="utf-8")
    a = load_ageing(csv_file, ["east", "central", "west"], ["D1.01"])
    assert a.change == {"east": 0.008} and a.elasticity == {"D1.01": ("absolute", 0.002)}
    assert a.adjustment("D1.01", "east", 0.05) == pytest.approx(0.0016)
    assert a.adjustment("D1.01", "west", 0.05) == 0.0
    bad = tmp_path / "bad.yaml"
    bad.write_text("ageing_change: {north: 0.01}\n", encoding="utf-8")
    with pytest.raises(PingyiError, match="unknown region"):
        load_ageing(bad, ["east"], [])


def test_cli_derive_then_validate(cli, tmp_path):
    res = results_dir(tmp_path)
    proj = copy_project(tmp_path / "proj")
    out = proj / "baselines" / "2026.yaml"
    r = cli(
        "baselines",
        "derive",
        "--results",
        res,
        "--year",
        "2026",
        "--out",
        out,
        "--method",
        "p60",
        "--max-change",
        "0.2",
    )
    assert r.exit_code == 0, r.stderr
    assert "derived" in r.stdout and "carried forward" in r.stdout
    r = cli("validate", "--project", proj, "--year", "2026")
    assert r.exit_code == 0, r.stderr
    r = cli("baselines", "derive", "--results", tmp_path / "no", "--year", "2026", "--out", out)
    assert r.exit_code == 2
    assert r.stderr.startswith(f"error: {tmp_path / 'no'}: no results.json")
