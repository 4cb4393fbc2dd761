"""Docs that cannot go stale: the generated manual and CLI reference must match what the code
and the YAML say today; every indicator has a manual entry; every command is documented."""

from conftest import shipped
from pingyi.errors import ISSUE_CODES
from pingyi.tools.docsgen import DOCS, cli_reference, indicator_manual, user_guide

HINT = "docs are stale: run `python -m pingyi.tools.docsgen` and commit the result"


def test_indicator_manual_is_current():
    assert (DOCS / "indicator-manual.md").read_text(encoding="utf-8") == indicator_manual(), HINT


def test_cli_reference_is_current():
    assert (DOCS / "cli.md").read_text(encoding="utf-8") == cli_reference(), HINT


def test_user_guide_lists_every_issue_code():
    guide = (DOCS / "user-guide.md").read_text(encoding="utf-8")
    assert guide == user_guide(guide), HINT
    for code, entry in ISSUE_CODES.items():
        assert f"| `{code}` | {entry.severity.value} | {entry.sentence} |" in guide


def test_every_indicator_has_a_manual_entry():
    manual = (DOCS / "indicator-manual.md").read_text(encoding="utf-8")
    project = shipped().project
    for code, ind in project.indicators.items():
        assert f"### {code} {ind.name_zh}" in manual


def test_every_command_is_in_the_user_guide():
    guide = (DOCS / "user-guide.md").read_text(encoding="utf-8")
    reference = (DOCS / "cli.md").read_text(encoding="utf-8")
    for line in reference.splitlines():
        if line.startswith("## pingyi "):
            command = line[3:]
            assert f"`{command}" in guide, f"{command} is not explained in docs/user-guide.md"
