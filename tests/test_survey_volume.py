"""D6.01's manual: 有效问卷少于100份的机构记为样本不足（不计分）. The reported row's own denominator (valid
questionnaires) is the indicator's volume: under 100 it is grey (insufficient, no fault of the
provider), from 100 it is scored; a row that gives no denominator is scored as reported."""

from __future__ import annotations

import pytest

from conftest import shipped
from pingyi.compute.indicators import evaluate_indicator
from pingyi.errors import IssueList
from pingyi.score.indicator import score_indicator
from pingyi.text import Status


def judged(n: float | None, value: float = 0.95):
    project = shipped().project
    ind = project.indicators["D6.01"]
    denominators = {} if n is None else {("D6.01", 2025): n}
    v = evaluate_indicator(ind, {}, {}, {}, {("D6.01", 2025): value}, {}, 2025, denominators=denominators)
    base = project.baseline("D6.01", "east", "三级")
    return v, score_indicator(ind, v.value, base, volume=v.volume, absence=v.absence)


@pytest.mark.parametrize("n,status", [(99, Status.INSUFFICIENT), (100, Status.SCORED), (381, Status.SCORED)])
def test_valid_questionnaires_below_100_are_too_few(n, status):
    v, s = judged(n)
    assert v.volume == n and s.status is status
    if status is Status.INSUFFICIENT:
        assert s.score is None and "100" in s.reason_zh


def test_a_row_without_its_denominator_is_scored_as_reported():
    v, s = judged(None)
    assert v.volume is None and s.status is Status.SCORED and s.score is not None


def test_denominator_is_not_a_measure_of_a_settlement_indicator(tmp_path):
    from pingyi.spec.project import copy_project, default_project_dir
    from pingyi.validate import validate_project

    project = tmp_path / "p"
    copy_project(default_project_dir(), project)
    f = project / "indicators" / "D1_fund_efficiency.yaml"
    text = f.read_text(encoding="utf-8")
    first = text.index("    casemix:")
    f.write_text(text[:first] + "    volume: {measure: denominator, minimum: 10}\n" + text[first:], encoding="utf-8")
    issues: IssueList = validate_project(project).issues
    assert any(i.code == "PY602" and "denominator" in str(i.found) for i in issues.sorted()), issues.sorted()
