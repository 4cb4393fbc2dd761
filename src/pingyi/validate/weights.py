"""The weight combination declared in indicators/hierarchy.yaml (`combination:`): its fields' types are
the schema's; here, what only makes sense together (a linear combination needs its alpha, the other
methods take none)."""

from __future__ import annotations

from pingyi.errors import IssueList
from pingyi.spec.models import HierarchyFile
from pingyi.spec.yamlsrc import LocatedDoc


def check_combination(hierarchy: HierarchyFile | None, doc: LocatedDoc | None, issues: IssueList) -> None:
    if hierarchy is None or doc is None or hierarchy.combination is None:
        return
    c = hierarchy.combination
    if c.method == "linear" and c.alpha is None:
        issues.add(
            doc.issue(
                "PY314",
                ("combination",),
                "a linear weight combination needs its alpha (the AHP share)",
                found="method linear and no alpha",
                expected="alpha between 0 and 1, e.g. alpha: 0.5 for half AHP, half objective",
            )
        )
    elif c.method != "linear" and c.alpha is not None:
        issues.add(
            doc.issue(
                "PY314",
                ("combination", "alpha"),
                f"alpha is for the linear combination only; the {c.method} combination has no free share",
                found=f"method {c.method} with alpha {c.alpha:g}",
                expected="no alpha, or method: linear",
            )
        )
