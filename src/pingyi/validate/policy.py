"""The policy's references: every measure it names (veto rules, the prepayment base) is defined, every
grade it names (step rates, grade lights, the fail and veto grades) is one of its grade bands, and no
two bands share a name. A typo here would otherwise veto nobody or cancel a penalty without a word."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pingyi.errors import IssueList
from pingyi.spec.models import MeasureSpec, PolicyFile
from pingyi.spec.project import POLICY
from pingyi.spec.yamlsrc import LocatedDoc


def check_policy(
    policy: PolicyFile, measures: Mapping[str, MeasureSpec], docs: Mapping[str, LocatedDoc], issues: IssueList
) -> None:
    doc = docs.get(POLICY)
    if doc is None:  # no policy.yaml: the documented defaults, which are consistent
        return
    if measures:
        refs: list[tuple[tuple[Any, ...], str]] = [
            (("veto", i, "measure"), v.measure) for i, v in enumerate(policy.veto)
        ]
        refs.append((("adjustment", "base_measure"), policy.adjustment.base_measure))
        if policy.credit.ratings:  # the credit bonus is on: its violation count must exist
            refs.append((("credit", "violation_measure"), policy.credit.violation_measure))
        for path, measure in refs:
            if measure not in measures:
                issues.add(
                    doc.issue(
                        "PY604",
                        path,
                        "policy names an undefined measure",
                        found=measure,
                        expected="a measure defined in measures/*.yaml",
                        hint="fix the spelling or define the measure",
                    )
                )
    _check_rates(policy, doc, issues)
    _check_peers(policy, doc, issues)
    names = [g.name for g in policy.grades]
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen:
            issues.add(
                doc.issue(
                    "PY606",
                    ("grades", i, "name"),
                    "two grade bands share a name",
                    found=name,
                    expected="each grade name once",
                )
            )
        seen.add(name)
    known = set(names)
    expected = f"one of the grade bands {', '.join(names)}"
    grade_refs: list[tuple[tuple[Any, ...], str, str]] = [
        (("fail_grade",), policy.fail_grade, expected),
        (("veto_grade",), policy.veto_grade, expected),
    ]
    # a step rate or a light may also be given to the ungraded (不予评级)
    with_ungraded = f"{expected}, or the insufficient grade {policy.insufficient_grade}"
    grade_refs += [(("adjustment", "step_rates", g), g, with_ungraded) for g in policy.adjustment.step_rates]
    grade_refs += [(("grade_lights", g), g, with_ungraded) for g in policy.grade_lights]
    for path, grade, exp in grade_refs:
        allowed = known | ({policy.insufficient_grade} if exp is with_ungraded else set())
        if grade not in allowed:
            issues.add(
                doc.issue(
                    "PY605",
                    path,
                    "policy names a grade its grade bands do not define",
                    found=grade,
                    expected=exp,
                    hint="a misspelt grade would silently get no rate or light",
                )
            )


def _check_rates(policy: PolicyFile, doc: LocatedDoc, issues: IssueList) -> None:
    """A step rate moves a share of the prepayment: it lies in [-1, 1] (a rate of -1.5 would make the
    prepayment negative), and beyond `max_rate` only when the committee says so."""
    adj = policy.adjustment
    for grade, rate in adj.step_rates.items():
        if -1 <= rate <= 1 and (abs(rate) <= adj.max_rate or adj.allow_large_rates):
            continue
        large = -1 <= rate <= 1
        issues.add(
            doc.issue(
                "PY607",
                ("adjustment", "step_rates", grade),
                "a prepayment rate is outside its allowed range",
                found=f"{rate!r} for {grade}",
                expected=(
                    f"a rate within +-{adj.max_rate:g} (adjustment.max_rate)"
                    if large
                    else "a rate between -1 and 1 (a share of the prepayment)"
                ),
                hint="set adjustment.allow_large_rates: true to accept it" if large else "write -0.10 for -10 %",
            )
        )


def _check_peers(policy: PolicyFile, doc: LocatedDoc, issues: IssueList) -> None:
    """A type alias must name a declared type, and the peer keys, merge keys and types each appear once,
    the merge keys among the peer keys: otherwise a provider would silently be compared with the wrong
    group, or a group never merged."""
    peers = policy.peers
    declared = ", ".join(peers.types)

    def bad(path: tuple[Any, ...], message: str, found: str, expected: str) -> None:
        issues.add(doc.issue("PY609", ("peers", *path), message, found=found, expected=expected))

    for field in ("keys", "merge", "types"):
        seen: set[str] = set()
        for i, item in enumerate(getattr(peers, field)):
            if item in seen:
                bad((field, i), f"peers.{field} lists a value twice", item, "each value once")
            seen.add(item)
    for i, key in enumerate(peers.merge):
        if key not in peers.keys:
            bad(("merge", i), "a merge key is not a peer key", key, f"one of peers.keys {', '.join(peers.keys)}")
    for spelling, ptype in peers.type_aliases.items():
        if ptype not in peers.types:
            bad(
                ("type_aliases", spelling),
                "a type alias names an undeclared type",
                ptype,
                f"one of peers.types {declared}",
            )
        elif spelling in peers.types and spelling != ptype:
            bad(("type_aliases", spelling), "a type name is aliased to another type", spelling, f"{spelling} itself")
