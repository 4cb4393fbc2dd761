"""The one validation entry point: `validate_project()` loads a project and runs every rule over it,
collecting all issues (file:line, stable code from pingyi.errors.ISSUE_CODES); `require_valid()` is
what every command that uses a project calls (score, verify, explain, baselines derive): any error
stops it with exit 2.

Rules, each in its module: the files' own schemas (pingyi.spec.load), the catalogue
(validate.catalogue), regions and baselines (validate.baselines), AHP judgments and weights
(pingyi.weights.tree) and their combination (validate.weights), measure SQL (validate.measures) and the policy's references (validate.policy).
Issues that only follow from a dimension file that failed to parse are folded into its one error
(validate.followon).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pingyi.errors import IssueList, PingyiError, Severity
from pingyi.spec.load import load_project
from pingyi.spec.project import HIERARCHY, REGIONS, Project
from pingyi.validate.baselines import check_baselines, check_regions
from pingyi.validate.catalogue import check_formulas, check_indicators
from pingyi.validate.followon import fold_follow_ons
from pingyi.validate.measures import check_measures
from pingyi.validate.policy import check_policy
from pingyi.validate.weights import check_combination
from pingyi.weights.tree import WeightTree, compute_weights


@dataclass(frozen=True)
class Validation:
    project: Project | None  # None: the project could not be assembled (see issues)
    tree: WeightTree | None  # None: the weights could not be computed
    issues: IssueList

    @property
    def ok(self) -> bool:
        return self.project is not None and self.tree is not None and not self.issues.errors


@dataclass(frozen=True)
class ValidProject:
    """A project with no error and its weights: what the evaluation and the reports start from."""

    project: Project
    tree: WeightTree


def validate_project(root: Path | None = None, year: int | None = None) -> Validation:
    """Every problem of the project at `root` (default: the shipped project) for evaluation year `year`
    (default: the latest baselines file)."""
    loaded = load_project(root, year)
    issues = loaded.issues
    parts = loaded.parts
    if parts is None:
        return Validation(None, None, issues)
    check_indicators(parts.indicators, parts.docs, issues)
    check_formulas(parts.indicators, parts.measures, parts.docs, issues)
    if parts.regions is not None:
        check_regions(parts.regions, parts.docs[REGIONS], issues)
        if parts.baselines is not None and parts.indicators:
            check_baselines(parts.baselines, parts.regions, parts.indicators, parts.docs, issues)
    check_measures(parts.measures, parts.data, parts.docs, issues)
    check_policy(parts.policy, parts.measures, parts.docs, issues)
    check_combination(parts.hierarchy, parts.docs.get(HIERARCHY), issues)
    tree = compute_weights(loaded.project, issues) if loaded.project is not None else None
    return Validation(loaded.project, tree, fold_follow_ons(parts.root, parts.docs, issues))


def require_valid(root: Path | None = None, year: int | None = None) -> ValidProject:
    """The project and its weights, or a user error (exit 2) that lists the errors."""
    checked = validate_project(root, year)
    errors = checked.issues.errors
    if errors or checked.project is None or checked.tree is None:
        detail = "; ".join(i.render() for i in checked.issues.sorted() if i.severity is Severity.ERROR)[:2000]
        raise PingyiError(f"the project has {len(errors)} error(s); run `pingyi validate`. {detail}", issues=errors)
    return ValidProject(checked.project, checked.tree)
