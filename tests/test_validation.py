"""Every code of the issue catalogue (pingyi.errors.ISSUE_CODES) has a broken fixture that triggers it
through the one validation entry point, with the right file, line and severity.

The fixture project in tests/fixtures/mini is small and valid; each case copies it and breaks one
thing by a text edit (or a deleted or re-encoded file), the way a committee member would by hand.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import MINI
from pingyi.errors import ISSUE_CODES, IssueList, Severity
from pingyi.validate import validate_project

D1 = "indicators/D1_cost.yaml"
D2 = "indicators/D2_service.yaml"
H = "indicators/hierarchy.yaml"
B = "baselines/2025.yaml"
R = "baselines/regions.yaml"
P = "policy.yaml"
M = "measures/mini.yaml"
E, W = Severity.ERROR, Severity.WARNING


def run(root: Path) -> IssueList:
    return validate_project(root).issues


def copy_mini(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(MINI, root)
    return root


def edit(root: Path, name: str, old: str, new: str, count: int = 1) -> None:
    path = root / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text not found in {name}: {old!r}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def line_of(root: Path, name: str, needle: str) -> int:
    """1-based line where `needle` (possibly spanning lines) starts."""
    text = (root / name).read_text(encoding="utf-8")
    at = text.find(needle)
    assert at >= 0, f"{needle!r} not in {name}"
    return text.count("\n", 0, at) + 1


def test_mini_project_is_valid():
    issues = run(MINI)
    assert not issues.errors, [i.render() for i in issues.errors]
    assert [i.code for i in issues.warnings] == ["PY206"]  # 2 x 5 is not the national 8 x 35


# (code, file edited, old text, new text, file expected in the issue, line needle or None, level)
CASES = [
    ("PY101", D2, "primary: {code: D2,", "primary: {code: D2, [", D2, "primary: {code: D2, [", E),
    # an unclosed [ on the last line: reported where the [ is, not past the end of the file
    (
        "PY101",
        D2,
        "    qualitative: true\n    scoring: {rule: threshold}\n",
        "    qualitative: true\n    scoring: [rule: threshold\n",
        D2,
        "scoring: [rule: threshold",
        E,
    ),
    # an unclosed { in the middle of a file: reported where the { is
    (
        "PY101",
        D1,
        "scoring: {rule: threshold, zero_at: 0.5}",
        "scoring: {rule: threshold, zero_at: 0.5",
        D1,
        "scoring: {rule: threshold, zero_at: 0.5",
        E,
    ),
    # a tab used for indentation: reported on the tab's line
    ("PY101", D1, "    direction: up\n", "\tdirection: up\n", D1, "\tdirection: up", E),
    (
        "PY103",
        D1,
        "    direction: down\n    unit: percent\n    source: settlement\n    scoring: {rule: threshold}\n",
        "    direction: down\n    direction: up\n    unit: percent\n    source: settlement\n    scoring: {rule: threshold}\n",
        D1,
        "direction: up",
        E,
    ),
    ("PY104", D1, "    scoring: {rule: vbp}", "    scoring: {rule: vbp}\n    colour: red", D1, "colour: red", E),
    (
        "PY104",
        D1,
        "scoring: {rule: threshold, zero_at: 0.5}",
        "scoring: {rule: threshold, zero_att: 0.5}",
        D1,
        "zero_att",
        E,
    ),
    ("PY105", D1, "    direction: up\n", "", D1, "code: D1.03", E),
    ("PY106", D1, "    direction: up\n", "    direction: sideways\n", D1, "sideways", E),
    ("PY107", P, "不合格: -0.10}", "不合格: .nan}", P, "step_rates:", E),
    ("PY107", B, "D2.01: {values: 85,", "D2.01: {values: -.inf,", B, "D2.01: {values: -.inf", E),
    # anchors and aliases are refused (an alias bomb expands to 10^9 values); nesting and sizes are bounded
    ("PY108", D1, "scoring: {rule: threshold, zero_at: 0.5}", "scoring: &s {rule: threshold}", D1, "scoring: &s", E),
    ("PY108", D2, "    qualitative: true\n", "    qualitative: *q\n", D2, "qualitative: *q", E),
    (
        "PY109",
        D1,
        "scoring: {rule: threshold, zero_at: 0.5}",
        "scoring: {rule: threshold, zero_at: 0.5, x: " + "[" * 70 + "]" * 70 + "}",
        D1,
        "scoring: {rule: threshold, zero_at: 0.5, x: [[",
        E,
    ),
    ("PY110", B, "D2.01: {values: 85,", "D2.01: {values: 8" + "5" * 40 + ",", B, "D2.01: {values: 8555", E),
    ("PY110", P, "version: 1\n", "version: 1\ndescription: " + "长" * 10_001 + "\n", P, "description: 长", E),
    ("PY202", D1, "code: D1.02", "code: D1.01", D1, "code: D1.01\n    name_zh: 药品", E),
    ("PY203", D2, "code: D2,", "code: D9,", D2, "code: D9,", E),
    ("PY204", D1, '"drug_cost / total_item_cost"', "\"__import__('os').system('ls')\"", D1, "__import__", E),
    ("PY204", D1, '"drug_cost / total_item_cost"', '"drug_cost.real / 2"', D1, "drug_cost.real", E),
    ("PY205", D1, '    formula: "drug_cost / total_item_cost"\n', "", D1, "code: D1.02", E),
    ("PY207", D1, "scoring: {rule: threshold, zero_at: 0.5}", "scoring: {rule: none}", D1, "rule: none", E),
    ("PY208", D2, "    qualitative: true\n", "", D2, "code: D2.02", W),
    ("PY209", D1, "code: D1.03", "code: D2.03", D1, "code: D2.03", E),
    ("PY301", D1, "items: [D1.01, D1.02, D1.03]", "items: [D1.01, D1.02, D1.09]", D1, "items:", E),
    ("PY302", D1, '        - ["1/4", "1/2", 1]\n', "", D1, "matrix:", E),
    ("PY303", D1, "        - [1, 2, 4]", "        - [1, 2, 12]", D1, "[1, 2, 12]", E),
    ("PY303", D1, "        - [1, 2, 4]", "        - [1, 2, abc]", D1, "[1, 2, abc]", E),
    ("PY304", D1, "        - [1, 2, 4]", "        - [2, 2, 4]", D1, "[2, 2, 4]", E),
    ("PY305", D1, '        - ["1/2", 1, 2]', '        - ["1/3", 1, 2]', D1, '["1/3", 1, 2]', E),
    (
        "PY306",
        D1,
        '        - [1, 2, 4]\n        - ["1/2", 1, 2]\n        - ["1/4", "1/2", 1]',
        '        - [1, 2, "1/4"]\n        - ["1/2", 1, 2]\n        - [4, "1/2", 1]',
        D1,
        "judgments:",
        E,
    ),
    ("PY308", D1, "    - expert: E1", "    - expert: E7", D1, "expert: E7", E),
    (
        "PY309",
        D1,
        "  experts:\n    - expert: E1\n      date: 2025-01-10\n      matrix:\n        - [1, 2, 4]\n"
        '        - ["1/2", 1, 2]\n        - ["1/4", "1/2", 1]',
        "  weights: {D1.01: 0.5, D1.02: 0.3, D1.03: 0.3}\n  source: published scheme",
        D1,
        "weights:",
        E,
    ),
    (
        "PY310",
        D1,
        '        - [1, 2, 4]\n        - ["1/2", 1, 2]\n        - ["1/4", "1/2", 1]',
        '        - [1, 2, null]\n        - ["1/2", 1, null]\n        - [null, null, 1]',
        D1,
        "matrix:",
        E,
    ),
    (
        "PY311",
        D1,
        "  experts:\n    - expert: E1\n      date: 2025-01-10\n      matrix:\n        - [1, 2, 4]\n"
        '        - ["1/2", 1, 2]\n        - ["1/4", "1/2", 1]',
        "",
        D1,
        "judgments:",
        E,
    ),
    ("PY312", H, "qualitative_cap: 0.20", "qualitative_cap: 0.05", H, "qualitative_cap", E),
    ("PY314", H, "qualitative_cap: 0.20", "qualitative_cap: 0.20\ncombination: {method: linear}", H, "combination:", E),
    (
        "PY314",
        H,
        "qualitative_cap: 0.20",
        "qualitative_cap: 0.20\ncombination: {method: game, alpha: 0.5}",
        H,
        "combination:",
        E,
    ),
    ("PY401", B, "  D2.01: {values: 85, source: assumed, assumed: true}\n", "", B, "baselines:", E),
    (
        "PY401",
        B,
        "      west: {三级: 0.33, 二级: 0.38, 一级及基层: 0.48}",
        "      west: {三级: 0.33, 二级: 0.38}",
        B,
        "west: {三级: 0.33",
        E,
    ),
    ("PY402", B, "baselines:\n", "baselines:\n  D9.99: {values: 1, source: x}\n", B, "D9.99", W),
    (
        "PY403",
        B,
        "values: {east: 0.05, central: 0.07, west: 0.07}",
        "values: {east: 0.05, central: 0.07, wst: 0.07}",
        B,
        "wst",
        E,
    ),
    ("PY404", B, "region_scheme: three_way", "region_scheme: five_way", B, "five_way", E),
    ("PY405", R, '  - {code: "65", name: 新疆, regions: {three_way: west, four_way: west}}\n', "", R, "provinces:", E),
    (
        "PY405",
        R,
        '{code: "51", name: 四川, regions: {three_way: west,',
        '{code: "51", name: 四川, regions: {three_way: far_west,',
        R,
        "far_west",
        E,
    ),
    ("PY406", B, "    benchmark: 0.90\n", "", B, "D1.03:", E),
    ("PY408", B, "D2.01: {values: 85,", "D2.01: {values: 850,", B, "D2.01: {values: 850", E),
    ("PY214", D1, '"drug_cost / total_item_cost"', '"drug_cost / 0"', D1, "drug_cost / 0", E),
    ("PY206", D1, "", "", "indicators/", None, W),  # the mini project itself: 2 x 5
    (
        "PY210",
        D1,
        "    scoring: {rule: threshold}\n    volume:",
        "    scoring: {rule: threshold}\n    casemix: adjusted\n    volume:",
        D1,
        "casemix: adjusted",
        E,
    ),
    (
        "PY211",
        D1,
        "    scoring: {rule: threshold, zero_at: 0.5}",
        "    scoring: {rule: threshold, zero_at: 0.5}\n    lights: {statistical: funnel}",
        D1,
        "lights: {statistical: funnel}",
        E,
    ),
    (
        "PY212",
        D1,
        "    scoring: {rule: threshold, zero_at: 0.5}",
        "    scoring: {rule: threshold, zero_at: 0.5}\n    lights: {funnel_score: beyond_95}",
        D1,
        "lights: {funnel_score: beyond_95}",
        E,
    ),
    ("PY313", D1, "        - [1, 2, 4]", "        - [1, 2, 4.5]", D1, "[1, 2, 4.5]", W),
    (
        "PY407",
        B,
        "  D1.03:\n    values: 0.70\n",
        "  D1.03:\n    values: 0.70\n    provenance:\n      east:\n        三级: {method: median, n: 5, value: 0.72}\n",
        B,
        "三级: {method: median",
        E,
    ),
    ("PY601", M, "- name: fund_paid\n", "- name: drug_cost\n", M, "- name: drug_cost\n  table: settlements", E),
    ("PY602", D1, '"drug_cost / total_item_cost"', '"drug_costs / total_item_cost"', D1, "drug_costs", E),
    ("PY603", M, "aggregate: sum(fund_pay_sumamt)", "aggregate: sum(fund_pay_total)", M, "sum(fund_pay_total)", E),
    (
        "PY603",
        M,
        "aggregate: sum(fund_pay_sumamt)",
        'aggregate: "sum(fund_pay_sumamt) + (SELECT 1)"',
        M,
        "(SELECT 1)",
        E,
    ),
    (
        "PY608",
        M,
        "aggregate: sum(fund_pay_sumamt)",
        'aggregate: "max(CAST(psn_no AS BIGINT))"',
        M,
        "max(CAST(psn_no",
        E,
    ),
    ("PY604", P, "measure: fraud_cases", "measure: fraud_case", P, "measure: fraud_case", E),
    ("PY604", P, "base_measure: fund_paid", "base_measure: fund_payd", P, "base_measure: fund_payd", E),
    (
        "PY605",
        P,
        "step_rates: {优秀: 0.05, 不合格: -0.10}",
        "step_rates: {优秀: 0.05, 不及格: -0.10}",
        P,
        "step_rates:",
        E,
    ),
    ("PY605", P, "veto_grade: 不合格", "veto_grade: 不及格", P, "veto_grade:", E),
    ("PY607", P, "不合格: -0.10}", "不合格: -1.5}", P, "step_rates:", E),
    ("PY609", P, "version: 1\n", "version: 1\npeers:\n  type_aliases: {妇幼保健院: 妇产}\n", P, "type_aliases:", E),
    (
        "PY606",
        P,
        "{name: 合格, name_en: Pass, min_score: 60}",
        "{name: 良好, name_en: Pass, min_score: 60}",
        P,
        "{name: 良好, name_en: Pass",
        E,
    ),
]


# codes whose fixture is not a text edit: a test of its own below
OWN_TESTS = {
    "PY102": "test_non_utf8_file",
    "PY201": "test_missing_hierarchy",
    "PY213": "test_missing_policy",
    "PY307": "test_expert_cr_warning_names_worst_judgment",
    "PY315": "test_expert_cr_exclude_leaves_no_expert",
    "PY409": "test_two_baselines_years_and_no_evaluation_year",
}


def test_every_catalogue_code_has_a_broken_fixture():
    covered = {c[0] for c in CASES} | set(OWN_TESTS)
    assert covered == set(ISSUE_CODES), (
        f"no fixture for {sorted(set(ISSUE_CODES) - covered)}; unknown codes {sorted(covered - set(ISSUE_CODES))}"
    )
    for code, name in OWN_TESTS.items():
        assert callable(globals()[name]), code


@pytest.mark.parametrize(
    "code,name,old,new,file,needle,severity", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_each_code_has_a_fixture(tmp_path, code, name, old, new, file, needle, severity):
    root = copy_mini(tmp_path)
    if old or new:
        edit(root, name, old, new)
    issues = run(root)
    hits = [i for i in issues.items if i.code == code]
    assert hits, f"{code} not reported; got {[i.render() for i in issues.items]}"
    hit = next((i for i in hits if i.file == file), hits[0])
    assert hit.severity is severity is ISSUE_CODES[code].severity
    assert hit.file == file
    if needle is not None:
        assert hit.line == line_of(root, file, needle), hit.render()
    assert hit.found is not None and hit.expected is not None, hit.render()


def test_two_baselines_years_and_no_evaluation_year(tmp_path):
    root = copy_mini(tmp_path)
    edit(root, P, "evaluation_year: 2025\n", "")
    assert not run(root).errors  # one baselines file: its year is the evaluation year
    text = (root / B).read_text(encoding="utf-8").replace("year: 2025", "year: 2026")
    (root / "baselines/2026.yaml").write_text(text, encoding="utf-8")
    (hit,) = [i for i in run(root).errors if i.code == "PY409"]
    assert hit.found == "baselines/2025.yaml (year 2025), baselines/2026.yaml (year 2026)"
    assert hit.file == P and hit.expected is not None
    edit(root, P, "version: 1\n", "version: 1\nevaluation_year: 2026\n")
    assert validate_project(root).project.year == 2026  # type: ignore[union-attr]


def test_non_utf8_file(tmp_path):
    root = copy_mini(tmp_path)
    (root / D2).write_bytes((root / D2).read_text(encoding="utf-8").encode("gbk"))
    codes = {i.code for i in run(root).errors}
    assert "PY102" in codes


def test_missing_hierarchy(tmp_path):
    root = copy_mini(tmp_path)
    (root / H).unlink()
    hits = [i for i in run(root).errors if i.code == "PY201"]
    assert hits and hits[0].file == H


def test_missing_policy(tmp_path):
    root = copy_mini(tmp_path)
    (root / P).unlink()
    issues = run(root)
    hits = [i for i in issues.items if i.code == "PY213"]
    assert hits and hits[0].file == P and hits[0].severity is W
    assert not issues.errors  # the documented defaults apply


def test_expert_cr_warning_names_worst_judgment(tmp_path):
    root = copy_mini(tmp_path)
    # a second expert whose D1.01 vs D1.03 judgment contradicts the chain D1.01 > D1.02 > D1.03
    edit(
        root,
        D1,
        '        - ["1/4", "1/2", 1]\nindicators:',
        '        - ["1/4", "1/2", 1]\n    - expert: E2\n      date: 2025-01-11\n      matrix:\n'
        '        - [1, 3, "1/5"]\n        - ["1/3", 1, 3]\n        - [5, "1/3", 1]\nindicators:',
    )
    issues = run(root)
    warn = [i for i in issues.items if i.code == "PY307"]
    assert warn and "from E2" in warn[0].found
    assert "D1.01 vs D1.03" in warn[0].hint


INCONSISTENT_E2 = (
    '        - ["1/4", "1/2", 1]\nindicators:',
    '        - ["1/4", "1/2", 1]\n    - expert: E2\n      date: 2025-01-11\n      matrix:\n'
    '        - [1, 3, "1/5"]\n        - ["1/3", 1, 3]\n        - [5, "1/3", 1]\nindicators:',
)


def test_expert_cr_exclude_drops_the_inconsistent_expert(tmp_path):
    """ahp.expert_cr: exclude leaves E2 (own CR far above 0.10) out of D1's geometric mean, so D1's weights
    are E1's consistent 4/7, 2/7, 1/7; the warning and the weight tree say so. flag keeps E2 in."""
    root = copy_mini(tmp_path)
    edit(root, D1, *INCONSISTENT_E2)
    flagged = validate_project(root)
    d1 = next(p for p in flagged.tree.primary if p.code == "D1")
    assert [e for e, _ in d1.matrix.experts] == ["E1", "E2"]
    assert [(e, how) for e, _, how in d1.matrix.screened] == [("E2", "flagged")]
    assert round(d1.secondary[0].local_weight, 6) != round(4 / 7, 6)  # E2 moves the weights
    edit(root, H, "aggregation: aij}", "aggregation: aij, expert_cr: exclude}")
    checked = validate_project(root)
    warn = [i for i in checked.issues.items if i.code == "PY307"]
    assert warn and "excluded from the aggregate" in warn[0].message and "from E2" in warn[0].found
    d1 = next(p for p in checked.tree.primary if p.code == "D1")
    assert [e for e, _ in d1.matrix.experts] == ["E1"]
    assert [round(s.local_weight, 9) for s in d1.secondary] == [round(4 / 7, 9), round(2 / 7, 9), round(1 / 7, 9)]
    (note,) = d1.matrix.screening_notes()
    assert note.startswith("expert E2 excluded: own CR ") and "left out" in note
    doc = checked.tree.as_json()["primary"][0]["matrix"]
    assert [(x["id"], x["action"]) for x in doc["screened_experts"]] == [("E2", "excluded")]


def test_expert_cr_exclude_leaves_no_expert(tmp_path):
    root = copy_mini(tmp_path)
    edit(
        root,
        D1,
        '        - [1, 2, 4]\n        - ["1/2", 1, 2]\n        - ["1/4", "1/2", 1]',
        '        - [1, 3, "1/5"]\n        - ["1/3", 1, 3]\n        - [5, "1/3", 1]',
    )
    edit(root, H, "aggregation: aij}", "aggregation: aij, expert_cr: exclude}")
    issues = run(root)
    (hit,) = [i for i in issues.items if i.code == "PY315"]
    assert hit.severity is Severity.ERROR and hit.file == D1 and "E1 CR" in hit.found
    assert hit.line == line_of(root, D1, "judgments:")


def test_harker_completion_is_accepted(tmp_path):
    root = copy_mini(tmp_path)
    edit(
        root,
        D1,
        '        - [1, 2, 4]\n        - ["1/2", 1, 2]\n        - ["1/4", "1/2", 1]',
        '        - [1, 2, null]\n        - ["1/2", 1, 2]\n        - [null, "1/2", 1]',
    )
    checked = validate_project(root)
    tree = checked.tree
    assert not checked.issues.errors
    d1 = next(p for p in tree.primary if p.code == "D1")
    assert d1.matrix.missing == 1
    # the completed matrix is consistent: 4/7, 2/7, 1/7
    assert [round(s.local_weight, 9) for s in d1.secondary] == [round(4 / 7, 9), round(2 / 7, 9), round(1 / 7, 9)]


def test_done_when_all_problems_in_one_run(tmp_path):
    """Issue 2 'Done when': syntax error, unknown field, non-reciprocal matrix, CR above the
    threshold and a missing baseline are all reported in one run, each with file:line."""
    root = copy_mini(tmp_path)
    edit(root, D2, "primary: {code: D2,", "primary: {code: D2, [")
    edit(root, D1, "    scoring: {rule: vbp}", "    scoring: {rule: vbp}\n    colour: red")
    edit(root, H, '        - ["1/2", 1]', '        - ["1/3", 1]')
    edit(
        root,
        D1,
        '        - [1, 2, 4]\n        - ["1/2", 1, 2]\n        - ["1/4", "1/2", 1]',
        '        - [1, 2, "1/4"]\n        - ["1/2", 1, 2]\n        - [4, "1/2", 1]',
    )
    edit(root, B, '  D1.01:\n    values: {east: 0.05, central: 0.07, west: 0.07}\n    source: "001 §5.1"\n', "")
    issues = run(root)
    codes = {i.code for i in issues.errors}
    assert {"PY101", "PY104", "PY305", "PY306", "PY401"} <= codes, codes
    for issue in issues.errors:
        if issue.code in {"PY101", "PY104", "PY305", "PY306", "PY401"}:
            assert issue.line is not None and issue.render().startswith(f"{issue.file}:{issue.line}")


def _replace_last_line(root: Path, name: str, new: str, *, newline: bool = True) -> int:
    path = root / name
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[-1] = new
    path.write_text("\n".join(lines) + ("\n" if newline else ""), encoding="utf-8")
    return len(lines)


@pytest.mark.parametrize("newline", [True, False], ids=["newline-at-end", "no-newline-at-end"])
def test_unclosed_bracket_on_last_line_is_one_error_at_that_line(tmp_path, newline):
    """An unclosed [ on a dimension file's last line: one error, PY101, at that line (PyYAML notices it
    at the stream end, one line further), and nothing about the dimension and indicators the file
    would have defined (no PY203 'no indicator file', no PY402 'baseline not in the catalogue')."""
    root = copy_mini(tmp_path)
    last = _replace_last_line(root, D2, "    scoring: [rule: threshold", newline=newline)
    issues = run(root)
    assert [(i.code, i.file, i.line) for i in issues.items] == [("PY101", D2, last)], [i.render() for i in issues.items]
    (hit,) = issues.items
    assert f"starts at line {last}" in hit.message, hit.message
    assert f"noticed at the end of the file (after line {last}, its last)" in hit.message, hit.message
    assert hit.found == repr("scoring: [rule: threshold")
    assert "']'" in hit.expected
    # the hidden follow-on issues are counted on the one error
    assert "not shown" in hit.message and "PY203" in hit.message and "PY402" in hit.message, hit.message


def test_unclosed_brace_in_the_middle_names_both_lines(tmp_path):
    root = copy_mini(tmp_path)
    edit(root, D1, "scoring: {rule: threshold, zero_at: 0.5}", "scoring: {rule: threshold, zero_at: 0.5")
    start = line_of(root, D1, "scoring: {rule: threshold, zero_at: 0.5")
    errors = run(root).errors
    assert [(i.code, i.file, i.line) for i in errors] == [("PY101", D1, start)], [i.render() for i in errors]
    message = errors[0].message
    assert f"starts at line {start}; noticed at line {start + 1}" in message, message


def test_tab_indentation_is_named(tmp_path):
    root = copy_mini(tmp_path)
    edit(root, D1, "    direction: up\n", "\tdirection: up\n")
    at = line_of(root, D1, "\tdirection: up")
    errors = run(root).errors
    assert [(i.code, i.file, i.line) for i in errors] == [("PY101", D1, at)], [i.render() for i in errors]
    assert "tab" in errors[0].expected and "spaces" in (errors[0].hint or ""), errors[0].render()


def test_no_issue_points_past_the_end_of_its_file(tmp_path):
    root = copy_mini(tmp_path)
    for name in (D1, D2, H, B, R, P, M):
        path = root / name
        path.write_text(path.read_text(encoding="utf-8") + "zz: [a\n", encoding="utf-8")
    issues = run(root)
    for issue in issues.items:
        if issue.line is not None:
            assert issue.line <= len((root / issue.file).read_text(encoding="utf-8").splitlines()), issue.render()
    # one error per broken file, nothing else
    assert sorted((i.code, i.file) for i in issues.items) == sorted(("PY101", n) for n in (D1, D2, H, B, R, P, M))
