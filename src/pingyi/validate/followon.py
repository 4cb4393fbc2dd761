"""Issues that only follow from a file that failed to parse: folded into that file's one error.

A dimension file that cannot be read (PY101 syntax error, PY102 not UTF-8) defines no dimension and
no indicator, so the hierarchy reports its dimension as having no file (PY203), the baselines report
its indicators' baselines as not in the catalogue (PY402) and the catalogue's size is wrong (PY206).
None of these is a problem of its own: fixing the broken file removes them. They are left out and
counted on the broken file's error, so the user sees one error per broken file.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from pathlib import Path

from pingyi.errors import Issue, IssueList
from pingyi.spec.project import HIERARCHY
from pingyi.spec.yamlsrc import LocatedDoc

UNREADABLE = {"PY101", "PY102"}
_CODE = re.compile(r"""\bcode:\s*["']?([A-Za-z][A-Za-z0-9_.]*)""")


def _broken_dimension_files(root: Path, docs: dict[str, LocatedDoc]) -> dict[str, set[str]]:
    """Each dimension file that failed to parse -> the codes (primary and indicators) it mentions."""
    out: dict[str, set[str]] = {}
    for display, doc in docs.items():
        if not display.startswith("indicators/") or display == HIERARCHY or doc.data is not None:
            continue
        if not any(i.code in UNREADABLE for i in doc.issues):
            continue
        try:
            text = (root / display).read_bytes().decode("utf-8", errors="replace")
        except OSError:
            text = ""
        out[display] = set(_CODE.findall(text))
    return out


def _cause(issue: Issue, broken: dict[str, set[str]]) -> str | None:
    """The broken file this issue only follows from, if any."""
    if issue.file in broken:
        return None
    if issue.code == "PY206":  # the catalogue's size, counted without the broken files
        return next(iter(sorted(broken)))
    subject = (issue.found or "").split(" ")[0]
    follows = (issue.code == "PY203" and issue.file == HIERARCHY and issue.path.startswith("judgments")) or (
        issue.code == "PY402"
    )
    if follows:
        return next((display for display, codes in sorted(broken.items()) if subject in codes), None)
    return None


def fold_follow_ons(root: Path, docs: dict[str, LocatedDoc], issues: IssueList) -> IssueList:
    """`issues` without those that only follow from a dimension file that failed to parse; that file's
    error says how many were left out and of which codes."""
    broken = _broken_dimension_files(root, docs)
    if not broken:
        return issues
    hidden: dict[str, Counter[str]] = {display: Counter() for display in broken}
    kept: list[Issue] = []
    for issue in issues.items:
        cause = _cause(issue, broken)
        if cause is None:
            kept.append(issue)
        else:
            hidden[cause][issue.code] += 1
    out = IssueList()
    for issue in kept:
        counts = hidden.get(issue.file)
        if counts and issue.code in UNREADABLE:
            n = sum(counts.values())
            codes = ", ".join(f"{code} x{k}" for code, k in sorted(counts.items()))
            issue = replace(
                issue,
                message=f"{issue.message}; {n} issue(s) that follow from this file not parsing are not shown "
                f"({codes}): they go away when it parses",
            )
            counts.clear()  # counted on the file's first error only
        out.add(issue)
    return out
