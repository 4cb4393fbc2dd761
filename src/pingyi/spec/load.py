"""Reading a project directory: every file parsed with its locations, every model validated, and
*all* problems found collected as issues; it never stops at the first. What makes the parts fit together
(catalogue rules, baselines, weights, measures, policy references) is checked by `pingyi.validate`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from pingyi.errors import Issue, IssueList
from pingyi.spec.modelcheck import load_model, validate_model
from pingyi.spec.models import (
    BaselinesFile,
    DataSettings,
    DimensionFile,
    HierarchyFile,
    IndicatorSpec,
    Judgments,
    MeasuresFile,
    MeasureSpec,
    Origin,
    PolicyFile,
    PrimarySpec,
    RegionsFile,
)
from pingyi.spec.project import DATA, HIERARCHY, POLICY, REGIONS, Project, default_project_dir
from pingyi.spec.yamlsrc import LocatedDoc, load_yaml

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class ProjectParts:
    """Whatever could be loaded, even when the project as a whole cannot (validation checks the parts
    it has, so one missing file does not hide the problems in the others)."""

    root: Path
    hierarchy: HierarchyFile | None
    regions: RegionsFile | None
    baselines: BaselinesFile | None
    policy: PolicyFile
    data: DataSettings
    measures: dict[str, MeasureSpec]
    dimensions: list[DimensionFile]
    dimension_files: dict[str, str]  # primary code -> display path
    indicators: dict[str, IndicatorSpec]
    primary_of: dict[str, str]
    docs: dict[str, LocatedDoc]


@dataclass(frozen=True)
class LoadResult:
    project: Project | None  # None: an essential part (hierarchy, regions, baselines, indicators) is missing
    parts: ProjectParts | None  # None: the project directory itself is missing
    issues: IssueList


def load_project(root: Path | None = None, year: int | None = None) -> LoadResult:
    root = Path(root) if root is not None else default_project_dir()
    issues = IssueList()
    docs: dict[str, LocatedDoc] = {}

    if not root.is_dir():
        issues.add(
            Issue(
                file=str(root),
                line=None,
                code="PY201",
                path="",
                message="project directory not found",
                found=str(root),
                expected="a directory with indicators/, baselines/ and policy.yaml",
                hint="create one with `pingyi init DIR`",
            )
        )
        return LoadResult(None, None, issues)

    def load(display: str, model: type[M]) -> M | None:
        path = root / display
        if not path.is_file():
            issues.add(
                Issue(
                    file=display,
                    line=None,
                    code="PY201",
                    path="",
                    message="required project file is missing",
                    found="no such file",
                    expected=f"{display} in {root}",
                    hint="copy it from `pingyi init`",
                )
            )
            return None
        obj, doc, found = load_model(path, model, display)
        docs[display] = doc
        issues.extend(found)
        return obj

    hierarchy = load(HIERARCHY, HierarchyFile)
    regions = load(REGIONS, RegionsFile)
    policy = _optional(root, POLICY, PolicyFile, issues, docs, load)
    data = _optional(root, DATA, DataSettings, issues, docs, load)
    measures = _load_measures(root, issues, docs)

    # dimension files: everything in indicators/ except hierarchy.yaml
    dimensions: list[DimensionFile] = []
    dimension_files: dict[str, str] = {}
    ind_dir = root / "indicators"
    files = sorted(p for p in ind_dir.glob("*.yaml") if p.name != "hierarchy.yaml") if ind_dir.is_dir() else []
    if not files:
        issues.add(
            Issue(
                file="indicators/",
                line=None,
                code="PY201",
                path="",
                message="no indicator files found",
                found="0 files",
                expected="one YAML file per primary dimension in indicators/",
            )
        )
    for path in files:
        display = f"indicators/{path.name}"
        obj, doc, found = _load_dimension(path, display)
        docs[display] = doc
        issues.extend(found)
        if obj is None:
            continue
        if obj.primary.code in dimension_files:
            issues.add(
                doc.issue(
                    "PY203",
                    ("primary", "code"),
                    "primary code defined twice",
                    found=f"{obj.primary.code} also in {dimension_files[obj.primary.code]}",
                    expected="each primary dimension in one file",
                )
            )
            continue
        dimension_files[obj.primary.code] = display
        dimensions.append(obj)

    if year is None and policy is not None:
        year = policy.evaluation_year
    baselines = _load_baselines(root, year, issues, docs)

    indicators, primary_of = _assemble_catalogue(hierarchy, dimensions, dimension_files, docs, issues)
    if hierarchy is not None:
        order = {code: i for i, code in enumerate(hierarchy.judgments.items)}
        dimensions.sort(key=lambda d: order.get(d.primary.code, len(order)))
    parts = ProjectParts(
        root=root,
        hierarchy=hierarchy,
        regions=regions,
        baselines=baselines,
        policy=policy or PolicyFile(),
        data=data or DataSettings(),
        measures=measures,
        dimensions=dimensions,
        dimension_files=dimension_files,
        indicators=indicators,
        primary_of=primary_of,
        docs=docs,
    )
    if hierarchy is None or regions is None or baselines is None or not dimensions:
        return LoadResult(None, parts, issues)
    project = Project(
        root=root,
        hierarchy=hierarchy,
        dimensions=dimensions,
        indicators=indicators,
        primary_of=primary_of,
        regions=regions,
        baselines=baselines,
        policy=parts.policy,
        data=parts.data,
        measures=measures,
        docs=docs,
        dimension_files=dimension_files,
    )
    return LoadResult(project, parts, issues)


def _optional(
    root: Path,
    display: str,
    model: type[M],
    issues: IssueList,
    docs: dict[str, LocatedDoc],
    load: Callable[[str, type[M]], M | None],
) -> M | None:
    """policy.yaml and data.yaml may be absent: the documented defaults apply, with a warning."""
    if (root / display).is_file():
        return load(display, model)
    issues.add(
        Issue(
            file=display,
            line=None,
            code="PY213",
            path="",
            message=f"{display} is missing; the defaults are used",
            found="no such file",
            expected=display,
            hint="`pingyi init` writes one to edit",
        )
    )
    return model()


def _load_measures(root: Path, issues: IssueList, docs: dict[str, LocatedDoc]) -> dict[str, MeasureSpec]:
    measures: dict[str, MeasureSpec] = {}
    mdir = root / "measures"
    for path in sorted(mdir.glob("*.yaml")) if mdir.is_dir() else []:
        display = f"measures/{path.name}"
        obj, doc, found = load_model(path, MeasuresFile, display)
        docs[display] = doc
        issues.extend(found)
        if obj is None:
            continue
        for i, m in enumerate(obj.measures):
            if m.name in measures:
                issues.add(
                    doc.issue(
                        "PY601",
                        ("measures", i, "name"),
                        "measure defined twice",
                        found=f"{m.name} (first in {_origin_file(measures[m.name].origin)})",
                        expected="unique names",
                    )
                )
                continue
            measures[m.name] = m.model_copy(update={"origin": Origin(file=display, line=doc.line(("measures", i)))})
    return measures


def _load_dimension(path: Path, display: str) -> tuple[DimensionFile | None, LocatedDoc, list[Issue]]:
    """Validate a dimension file part by part, so one bad indicator does not hide the problems
    in the others or in the judgments."""
    doc = load_yaml(path, display)
    found = list(doc.issues)
    data = doc.data
    if data is None or not isinstance(data, dict):
        if not found:
            found.append(
                doc.issue(
                    "PY106",
                    (),
                    "a dimension file must be a mapping with primary, judgments, indicators",
                    found=type(data).__name__,
                    expected="primary:, judgments:, indicators:",
                )
            )
        return None, doc, found
    for key in data:
        if key not in DimensionFile.model_fields:
            found.append(
                doc.issue(
                    "PY104",
                    (key,),
                    f"unknown field '{key}'",
                    found=repr(key),
                    expected="one of: indicators, judgments, primary",
                )
            )
    for key in ("primary", "judgments", "indicators"):
        if key not in data:
            found.append(
                doc.issue(
                    "PY105", (), f"required field is missing: '{key}'", found="nothing", expected=f"a value for '{key}'"
                )
            )
    if any(key not in data for key in ("primary", "judgments", "indicators")):
        return None, doc, found
    primary, more = validate_model(doc, PrimarySpec, ("primary",))
    found += more
    judgments, more = validate_model(doc, Judgments, ("judgments",))
    found += more
    raw = data["indicators"]
    indicators = []
    if not isinstance(raw, list) or not raw:
        found.append(
            doc.issue(
                "PY106",
                ("indicators",),
                "indicators must be a non-empty list",
                found=type(raw).__name__,
                expected="a list of indicator mappings",
            )
        )
        raw = []
    for i in range(len(raw)):
        ind, more = validate_model(doc, IndicatorSpec, ("indicators", i))
        found += more
        if ind is not None:
            indicators.append(ind.model_copy(update={"origin": Origin(file=display, line=doc.line(("indicators", i)))}))
    if primary is None or judgments is None or not indicators:
        return None, doc, found
    declared = tuple(str(item.get("code")) for item in raw if isinstance(item, dict))
    dim = DimensionFile.model_construct(
        primary=primary, judgments=judgments, indicators=indicators, declared_codes=declared
    )
    return dim, doc, found


def _load_baselines(
    root: Path, year: int | None, issues: IssueList, docs: dict[str, LocatedDoc]
) -> BaselinesFile | None:
    bdir = root / "baselines"
    candidates = sorted(p for p in bdir.glob("*.yaml") if p.name != "regions.yaml") if bdir.is_dir() else []
    if not candidates:
        issues.add(
            Issue(
                file="baselines/",
                line=None,
                code="PY201",
                path="",
                message="no baselines file found",
                found="0 files",
                expected="baselines/YEAR.yaml",
                hint="copy one from `pingyi init`",
            )
        )
        return None
    loaded = []
    for path in candidates:
        display = f"baselines/{path.name}"
        doc = load_yaml(path, display)
        docs[display] = doc
        loaded.append((display, doc))
    chosen = None
    years = {}
    for display, doc in loaded:
        if doc.issues:
            issues.extend(doc.issues)
            continue
        data_year = doc.data.get("year") if isinstance(doc.data, dict) else None
        years[display] = data_year
        if year is None or data_year == year:
            chosen = (display, doc, data_year)
    if year is None and len(years) > 1:
        # never "the newest file": a baselines file derived for next year would switch the evaluation
        issues.add(
            Issue(
                file=POLICY,
                line=None,
                code="PY409",
                path="evaluation_year",
                message="cannot tell the evaluation year: several baselines files and no evaluation_year",
                found=", ".join(f"{d} (year {y})" for d, y in sorted(years.items())),
                expected="evaluation_year: YYYY in policy.yaml, or --year YYYY",
            )
        )
        return None
    if chosen is None:
        if year is not None:
            issues.add(
                Issue(
                    file="baselines/",
                    line=None,
                    code="PY401",
                    path="",
                    message=f"no baselines for evaluation year {year}",
                    found=str(year),
                    expected=f"a baselines/*.yaml with year: {year}",
                )
            )
        return None
    display, doc, _ = chosen
    if not isinstance(doc.data, dict):
        issues.add(doc.issue("PY106", (), "the top level must be a mapping", found=type(doc.data).__name__))
        return None
    obj, found = validate_model(doc, BaselinesFile)
    issues.extend(found)
    return obj


def _assemble_catalogue(
    hierarchy: HierarchyFile | None,
    dimensions: list[DimensionFile],
    dimension_files: dict[str, str],
    docs: dict[str, LocatedDoc],
    issues: IssueList,
) -> tuple[dict[str, IndicatorSpec], dict[str, str]]:
    indicators: dict[str, IndicatorSpec] = {}
    primary_of: dict[str, str] = {}
    for dim in dimensions:
        display = dimension_files[dim.primary.code]
        doc = docs[display]
        for i, ind in enumerate(dim.indicators):
            path = ("indicators", i)
            if ind.code in indicators:
                issues.add(
                    doc.issue(
                        "PY202",
                        path + ("code",),
                        "indicator code defined twice",
                        found=f"{ind.code} (first in {_origin_file(indicators[ind.code].origin)})",
                        expected="unique codes",
                        hint="codes are stable identifiers; give each indicator its own",
                    )
                )
                continue
            if not ind.code.startswith(dim.primary.code + "."):
                issues.add(
                    doc.issue(
                        "PY209",
                        path + ("code",),
                        "indicator code does not belong to this dimension",
                        found=ind.code,
                        expected=f"{dim.primary.code}.NN",
                    )
                )
            indicators[ind.code] = ind
            primary_of[ind.code] = dim.primary.code
    if hierarchy is not None:
        hdoc = docs[HIERARCHY]
        declared = set(hierarchy.judgments.items)
        defined = set(dimension_files)
        for code in sorted(declared - defined):
            issues.add(
                hdoc.issue(
                    "PY203",
                    ("judgments", "items"),
                    "primary dimension has no indicator file",
                    found=code,
                    expected=f"an indicators/*.yaml with primary.code {code}",
                )
            )
        for code in sorted(defined - declared):
            issues.add(
                docs[dimension_files[code]].issue(
                    "PY203",
                    ("primary", "code"),
                    "primary dimension is not in the hierarchy's judgments",
                    found=code,
                    expected=f"one of {sorted(declared)}",
                    hint=f"add {code} to {HIERARCHY} judgments.items",
                )
            )
    if dimensions and (len(dimensions) != 8 or len(indicators) != 35):
        issues.add(
            Issue(
                file="indicators/",
                line=None,
                code="PY206",
                path="",
                message="the catalogue differs from the national plan's 8 primary x 35 secondary indicators",
                found=f"{len(dimensions)} primary, {len(indicators)} secondary",
                expected="8 and 35 [001 §3.2]",
            )
        )
    return indicators, primary_of


def _origin_file(origin: Origin | None) -> str:
    return origin.file if origin is not None else "?"
