"""A pingyi project directory: indicators/, baselines/, policy.yaml (and measures/).

`load_project` reads every file, validates everything it can, and returns the project together
with *all* issues found — it never stops at the first problem.
"""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass, field
from pathlib import Path

from pingyi.errors import Issue, IssueList, Level
from pingyi.spec import formula as formula_lang
from pingyi.spec.loader import load_model, validate_model
from pingyi.spec.models import (
    CASEMIX_MEASURES,
    LEVELS,
    BaselinesFile,
    DataSettings,
    DataSource,
    DimensionFile,
    Direction,
    Judgments,
    PrimarySpec,
    HierarchyFile,
    IndicatorSpec,
    MeasureSpec,
    MeasuresFile,
    Origin,
    PolicyFile,
    RegionsFile,
)
from pingyi.spec.yamlsrc import LocatedDoc, load_yaml

HIERARCHY = "indicators/hierarchy.yaml"
REGIONS = "baselines/regions.yaml"
POLICY = "policy.yaml"
DATA = "data.yaml"


def default_project_dir() -> Path:
    """The project shipped with pingyi: inside the wheel, or the repository root in a checkout."""
    packaged = Path(str(importlib.resources.files("pingyi"))) / "default_project"
    if (packaged / "indicators").is_dir():
        return packaged
    repo = Path(__file__).resolve().parents[3]
    if (repo / "indicators").is_dir():
        return repo
    raise FileNotFoundError("the default project is missing from this installation")


def load_data_settings(root: Path | None = None) -> "DataSettings":
    """The project's `data.yaml` (code sets, money tolerance, upload deadline).

    A project without data.yaml gets the defaults of `DataSettings`; an invalid one is a user
    error listing every issue."""
    from pingyi.errors import PingyiError
    from pingyi.spec.models import DataSettings

    root = Path(root) if root is not None else default_project_dir()
    if not root.is_dir():
        raise PingyiError(f"{root}: project directory not found; expected a directory with data.yaml, indicators/ "
                          f"and baselines/ (create one with `pingyi init DIR`)")
    path = root / DATA
    if not path.is_file():
        return DataSettings()
    obj, _doc, found = load_model(path, DataSettings, DATA)
    if obj is None or any(i.level is Level.ERROR for i in found):
        issues = sorted(found, key=lambda i: (i.line or 0, i.code))
        raise PingyiError(f"{path}: invalid data settings: " + " | ".join(i.render() for i in issues), issues)
    return obj


def baselines_year(root: Path | None = None) -> int | None:
    """The latest `year:` among the project's baselines/*.yaml (the default evaluation year)."""
    root = Path(root) if root is not None else default_project_dir()
    years = []
    for path in sorted((root / "baselines").glob("*.yaml")) if (root / "baselines").is_dir() else []:
        if path.name == "regions.yaml":
            continue
        data = load_yaml(path, f"baselines/{path.name}").data
        if isinstance(data, dict) and isinstance(data.get("year"), int):
            years.append(data["year"])
    return max(years) if years else None


PROJECT_PARTS = ("indicators", "baselines", "measures", "policy.yaml", "data.yaml")


def copy_project(src: Path, dest: Path) -> list[str]:
    """Copy a project's parts (what `pingyi init` gives a committee to edit); returns what was copied."""
    import shutil

    dest.mkdir(parents=True, exist_ok=True)
    copied = []
    for name in PROJECT_PARTS:
        source = src / name
        if source.is_dir():
            shutil.copytree(source, dest / name, dirs_exist_ok=True)
            copied.append(f"{name}/")
        elif source.is_file():
            shutil.copy2(source, dest / name)
            copied.append(name)
    return copied


@dataclass
class Project:
    root: Path
    hierarchy: HierarchyFile
    dimensions: list[DimensionFile]
    indicators: dict[str, IndicatorSpec]
    primary_of: dict[str, str]
    regions: RegionsFile
    baselines: BaselinesFile
    policy: PolicyFile
    data: DataSettings = field(default_factory=DataSettings)
    measures: dict[str, MeasureSpec] = field(default_factory=dict)
    docs: dict[str, LocatedDoc] = field(default_factory=dict)
    dimension_files: dict[str, str] = field(default_factory=dict)  # primary code -> display path

    @property
    def year(self) -> int:
        return self.baselines.year

    def region_codes(self) -> list[str]:
        return list(self.regions.schemes[self.baselines.region_scheme].regions)

    def baseline(self, code: str, region: str, level: str, kind: str = "values") -> float | None:
        entry = self.baselines.baselines.get(code)
        if entry is None:
            return None
        return resolve_baseline(getattr(entry, kind), region, level)


def resolve_baseline(values, region: str, level: str) -> float | None:
    """A baseline value may be one number, per region, or per region x level."""
    if values is None:
        return None
    if isinstance(values, (int, float)):
        return float(values)
    by_region = values.get(region)
    if by_region is None:
        return None
    if isinstance(by_region, (int, float)):
        return float(by_region)
    value = by_region.get(level)
    return None if value is None else float(value)


@dataclass
class LoadResult:
    project: Project | None
    issues: IssueList

    @property
    def ok(self) -> bool:
        return self.project is not None and not self.issues.errors


def load_project(root: Path | None = None, year: int | None = None) -> LoadResult:
    root = Path(root) if root is not None else default_project_dir()
    issues = IssueList()
    docs: dict[str, LocatedDoc] = {}

    if not root.is_dir():
        issues.add(Issue(file=str(root), line=None, code="PY201", level=Level.ERROR, path="",
                         message="project directory not found", found=str(root),
                         expected="a directory with indicators/, baselines/ and policy.yaml",
                         hint="create one with `pingyi init DIR`"))
        return LoadResult(None, issues)

    def load(display: str, model):
        path = root / display
        if not path.is_file():
            issues.add(Issue(file=display, line=None, code="PY201", level=Level.ERROR, path="",
                             message="required project file is missing", found="no such file",
                             expected=f"{display} in {root}", hint="copy it from `pingyi init`"))
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
        issues.add(Issue(file="indicators/", line=None, code="PY201", level=Level.ERROR, path="",
                         message="no indicator files found", found="0 files",
                         expected="one YAML file per primary dimension in indicators/"))
    for path in files:
        display = f"indicators/{path.name}"
        obj, doc, found = _load_dimension(path, display)
        docs[display] = doc
        issues.extend(found)
        if obj is None:
            continue
        if obj.primary.code in dimension_files:
            issues.add(doc.issue("PY203", ("primary", "code"), "primary code defined twice",
                                 found=f"{obj.primary.code} also in {dimension_files[obj.primary.code]}",
                                 expected="each primary dimension in one file"))
            continue
        dimension_files[obj.primary.code] = display
        dimensions.append(obj)

    baselines = _load_baselines(root, year, issues, docs)

    indicators, primary_of = _check_catalogue(hierarchy, dimensions, dimension_files, docs, issues)
    if regions is not None:
        _check_regions(regions, docs[REGIONS], issues)
    if baselines is not None and regions is not None and indicators:
        _check_baselines(baselines, regions, indicators, docs, issues)

    _check_formulas(indicators, measures, docs, issues)
    if hierarchy is None or regions is None or baselines is None or not dimensions:
        return LoadResult(None, issues)
    order = {code: i for i, code in enumerate(hierarchy.judgments.items)}
    dimensions.sort(key=lambda d: order.get(d.primary.code, len(order)))
    project = Project(root=root, hierarchy=hierarchy, dimensions=dimensions, indicators=indicators,
                      primary_of=primary_of, regions=regions, baselines=baselines, policy=policy or PolicyFile(),
                      data=data or DataSettings(), measures=measures, docs=docs, dimension_files=dimension_files)
    return LoadResult(project, issues)


def _optional(root: Path, display: str, model, issues: IssueList, docs, load):
    """policy.yaml and data.yaml may be absent: the documented defaults apply, with a warning."""
    if (root / display).is_file():
        return load(display, model)
    issues.add(Issue(file=display, line=None, code="PY201", level=Level.WARNING, path="",
                     message=f"{display} is missing; the defaults are used", found="no such file",
                     expected=display, hint="`pingyi init` writes one to edit"))
    return model()


def _load_measures(root: Path, issues: IssueList, docs) -> dict[str, MeasureSpec]:
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
                issues.add(doc.issue("PY601", ("measures", i, "name"), "measure defined twice",
                                     found=f"{m.name} (first in {measures[m.name].origin.file})", expected="unique names"))
                continue
            measures[m.name] = m.model_copy(update={"origin": Origin(file=display, line=doc.line(("measures", i)))})
    return measures


def _check_formulas(indicators: dict[str, IndicatorSpec], measures: dict[str, MeasureSpec], docs,
                    issues: IssueList) -> None:
    """Every measure a formula or volume rule names must be defined (once measures exist).
    Adjusted formulas may also use the case-mix measures (CASEMIX_MEASURES)."""
    if not measures:
        return
    for code, ind in indicators.items():
        doc = docs[ind.origin.file]
        base = _indicator_path(doc, code)
        for key, text in (("formula", ind.formula), ("adjusted_formula", ind.adjusted_formula)):
            names: set[str] = set()
            if text:
                try:
                    parsed = formula_lang.parse(text)
                    names = set(parsed.measures | parsed.prior_measures)
                except formula_lang.FormulaError:
                    pass  # reported as PY204
            known = set(measures) | (set(CASEMIX_MEASURES) if key == "adjusted_formula" else set())
            for name in sorted(names - known):
                issues.add(doc.issue("PY602", base + (key,), f"{key.replace('_', ' ')} uses an undefined measure",
                                     found=name, expected="a measure defined in measures/*.yaml"
                                     + (" or a case-mix measure (" + ", ".join(CASEMIX_MEASURES) + ")"
                                        if key == "adjusted_formula" else ""),
                                     hint="define it or fix the spelling"))
        if ind.volume and ind.volume.measure not in measures:
            issues.add(doc.issue("PY602", base + ("volume", "measure"), "minimum-volume rule uses an undefined measure",
                                 found=ind.volume.measure, expected="a measure defined in measures/*.yaml"))


def _indicator_path(doc: LocatedDoc, code: str) -> tuple:
    for i, item in enumerate(doc.data.get("indicators", []) if isinstance(doc.data, dict) else []):
        if isinstance(item, dict) and item.get("code") == code:
            return ("indicators", i)
    return ("indicators",)


def _load_dimension(path: Path, display: str) -> tuple[DimensionFile | None, LocatedDoc, list[Issue]]:
    """Validate a dimension file part by part, so one bad indicator does not hide the problems
    in the others or in the judgments."""
    doc = load_yaml(path, display)
    found = list(doc.issues)
    data = doc.data
    if data is None or not isinstance(data, dict):
        if not found:
            found.append(doc.issue("PY106", (), "a dimension file must be a mapping with primary, judgments, indicators",
                                   found=type(data).__name__, expected="primary:, judgments:, indicators:"))
        return None, doc, found
    for key in data:
        if key not in DimensionFile.model_fields:
            found.append(doc.issue("PY104", (key,), f"unknown field '{key}'", found=repr(key),
                                   expected="one of: indicators, judgments, primary"))
    for key in ("primary", "judgments", "indicators"):
        if key not in data:
            found.append(doc.issue("PY105", (), f"required field is missing: '{key}'", found="nothing",
                                   expected=f"a value for '{key}'"))
    if any(key not in data for key in ("primary", "judgments", "indicators")):
        return None, doc, found
    primary, more = validate_model(doc, PrimarySpec, ("primary",))
    found += more
    judgments, more = validate_model(doc, Judgments, ("judgments",))
    found += more
    raw = data["indicators"]
    indicators = []
    if not isinstance(raw, list) or not raw:
        found.append(doc.issue("PY106", ("indicators",), "indicators must be a non-empty list",
                               found=type(raw).__name__, expected="a list of indicator mappings"))
        raw = []
    for i in range(len(raw)):
        ind, more = validate_model(doc, IndicatorSpec, ("indicators", i))
        found += more
        if ind is not None:
            indicators.append(ind.model_copy(update={"origin": Origin(file=display, line=doc.line(("indicators", i)))}))
    if primary is None or judgments is None or not indicators:
        return None, doc, found
    declared = tuple(str(item.get("code")) for item in raw if isinstance(item, dict))
    dim = DimensionFile.model_construct(primary=primary, judgments=judgments, indicators=indicators,
                                        declared_codes=declared)
    return dim, doc, found


def _load_baselines(root: Path, year: int | None, issues: IssueList, docs) -> BaselinesFile | None:
    bdir = root / "baselines"
    candidates = sorted(p for p in bdir.glob("*.yaml") if p.name != "regions.yaml") if bdir.is_dir() else []
    if not candidates:
        issues.add(Issue(file="baselines/", line=None, code="PY201", level=Level.ERROR, path="",
                         message="no baselines file found", found="0 files",
                         expected="baselines/YEAR.yaml", hint="copy one from `pingyi init`"))
        return None
    loaded = []
    for path in candidates:
        display = f"baselines/{path.name}"
        doc = load_yaml(path, display)
        docs[display] = doc
        loaded.append((display, doc))
    chosen = None
    for display, doc in loaded:
        if doc.issues:
            issues.extend(doc.issues)
            continue
        data_year = doc.data.get("year") if isinstance(doc.data, dict) else None
        if year is None or data_year == year:
            chosen = (display, doc, data_year)
    if chosen is None:
        if year is not None:
            issues.add(Issue(file="baselines/", line=None, code="PY401", level=Level.ERROR, path="",
                             message=f"no baselines for evaluation year {year}", found=str(year),
                             expected=f"a baselines/*.yaml with year: {year}"))
        return None
    display, doc, _ = chosen
    if not isinstance(doc.data, dict):
        issues.add(doc.issue("PY106", (), "the top level must be a mapping", found=type(doc.data).__name__))
        return None
    obj, found = validate_model(doc, BaselinesFile)
    issues.extend(found)
    return obj


def _check_catalogue(hierarchy, dimensions, dimension_files, docs, issues: IssueList):
    indicators: dict[str, IndicatorSpec] = {}
    primary_of: dict[str, str] = {}
    for dim in dimensions:
        display = dimension_files[dim.primary.code]
        doc = docs[display]
        for i, ind in enumerate(dim.indicators):
            path = ("indicators", i)
            if ind.code in indicators:
                issues.add(doc.issue("PY202", path + ("code",), "indicator code defined twice",
                                     found=f"{ind.code} (first in {indicators[ind.code].origin.file})",
                                     expected="unique codes", hint="codes are stable identifiers; give each indicator its own"))
                continue
            if not ind.code.startswith(dim.primary.code + "."):
                issues.add(doc.issue("PY209", path + ("code",), "indicator code does not belong to this dimension",
                                     found=ind.code, expected=f"{dim.primary.code}.NN"))
            indicators[ind.code] = ind
            primary_of[ind.code] = dim.primary.code
            _check_indicator(ind, doc, path, issues)
    if hierarchy is not None:
        hdoc = docs[HIERARCHY]
        declared = set(hierarchy.judgments.items)
        defined = set(dimension_files)
        for code in sorted(declared - defined):
            issues.add(hdoc.issue("PY203", ("judgments", "items"), "primary dimension has no indicator file",
                                  found=code, expected=f"an indicators/*.yaml with primary.code {code}"))
        for code in sorted(defined - declared):
            issues.add(docs[dimension_files[code]].issue(
                "PY203", ("primary", "code"), "primary dimension is not in the hierarchy's judgments",
                found=code, expected=f"one of {sorted(declared)}", hint=f"add {code} to {HIERARCHY} judgments.items"))
    if dimensions and (len(dimensions) != 8 or len(indicators) != 35):
        issues.add(Issue(file="indicators/", line=None, code="PY206", level=Level.WARNING, path="",
                         message="the catalogue differs from the national plan's 8 primary x 35 secondary indicators",
                         found=f"{len(dimensions)} primary, {len(indicators)} secondary", expected="8 and 35 [001 §3.2]"))
    return indicators, primary_of


def _check_indicator(ind: IndicatorSpec, doc: LocatedDoc, path, issues: IssueList) -> None:
    rule = ind.scoring.rule
    if ind.formula is not None:
        try:
            formula_lang.parse(ind.formula)
        except formula_lang.FormulaError as exc:
            issues.add(doc.issue("PY204", path + ("formula",), f"formula is not in the formula language: {exc}",
                                 found=repr(exc.fragment), expected="measures, numbers, + - * /, prior(), min(), max(), abs()"))
    elif ind.source is DataSource.SETTLEMENT:
        issues.add(doc.issue("PY205", path + ("formula",), "settlement-sourced indicator needs a formula",
                             found="no formula", expected="an expression over measures"))
    if ind.adjusted_formula is not None:
        try:
            formula_lang.parse(ind.adjusted_formula)
        except formula_lang.FormulaError as exc:
            issues.add(doc.issue("PY204", path + ("adjusted_formula",), f"adjusted formula is not in the formula "
                                 f"language: {exc}", found=repr(exc.fragment),
                                 expected="measures, numbers, + - * /, prior(), min(), max(), abs()"))
        if ind.formula is None:
            issues.add(doc.issue("PY210", path + ("adjusted_formula",), "an adjusted formula needs the raw formula "
                                 "it adjusts", found="adjusted_formula without formula",
                                 expected="formula: (the raw definition) next to adjusted_formula"))
    if ind.casemix == "adjusted" and ind.adjusted_formula is None:
        issues.add(doc.issue("PY210", path + ("casemix",), "a case-mix-adjusted indicator needs an adjusted formula",
                             found="casemix: adjusted without adjusted_formula",
                             expected="adjusted_formula: an expression over measures and case-mix measures "
                                      "(" + ", ".join(CASEMIX_MEASURES) + ")",
                             hint="or declare casemix: raw"))
    if ind.lights.statistical == "funnel":
        problems = []
        if ind.direction not in (Direction.UP, Direction.DOWN):
            problems.append(f"direction {ind.direction.value}")
        if ind.unit.value not in ("percent", "per_10k"):
            problems.append(f"unit {ind.unit.value}")
        if ind.volume is None:
            problems.append("no volume rule")
        if problems:
            issues.add(doc.issue("PY211", path + ("lights", "statistical"), "funnel lights need a rate: a share "
                                 "(percent) or a rate per 10,000 of the volume measure, direction up or down",
                                 found=", ".join(problems),
                                 expected="direction up|down, unit percent|per_10k, volume: {measure: the denominator}"))
    if ind.lights.funnel_score != "observed" and ind.lights.statistical != "funnel":
        issues.add(doc.issue("PY212", path + ("lights", "funnel_score"), "scoring beyond the funnel's 95 % limit "
                             "needs funnel lights", found=f"funnel_score {ind.lights.funnel_score}, statistical "
                             f"{ind.lights.statistical}", expected="statistical: funnel, or funnel_score: observed"))
    if ind.direction is Direction.MONITOR and rule != "none":
        issues.add(doc.issue("PY207", path + ("scoring", "rule"), "monitor-only indicators are never scored",
                             found=rule, expected="none"))
    if rule == "none" and ind.direction is not Direction.MONITOR:
        issues.add(doc.issue("PY207", path + ("scoring", "rule"), "only monitor indicators may have no scoring rule",
                             found=f"rule none with direction {ind.direction.value}", expected="direction monitor"))
    if (ind.direction is Direction.TARGET) != (rule == "target_range"):
        issues.add(doc.issue("PY207", path + ("scoring", "rule"), "target direction and target_range rule go together",
                             found=f"direction {ind.direction.value}, rule {rule}",
                             expected="direction target with rule target_range"))
    if rule == "target_range" and ind.scoring.low > ind.scoring.high:
        issues.add(doc.issue("PY207", path + ("scoring", "low"), "target band is empty",
                             found=f"low {ind.scoring.low} > high {ind.scoring.high}", expected="low <= high"))
    if ind.lights.yellow >= ind.lights.red:
        issues.add(doc.issue("PY207", path + ("lights",), "yellow bound must be below the red bound",
                             found=f"yellow {ind.lights.yellow}, red {ind.lights.red}", expected="yellow < red"))
    if ind.qualitative != (ind.source is DataSource.EXPERT):
        issues.add(doc.issue("PY208", path + ("qualitative",), "qualitative indicators are the expert-scored ones",
                             level=Level.WARNING, found=f"qualitative {ind.qualitative}, source {ind.source.value}",
                             expected="qualitative: true exactly when source: expert"))


def _check_regions(regions: RegionsFile, doc: LocatedDoc, issues: IssueList) -> None:
    if regions.default_scheme not in regions.schemes:
        issues.add(doc.issue("PY404", ("default_scheme",), "unknown region scheme",
                             found=regions.default_scheme, expected=f"one of {sorted(regions.schemes)}"))
    seen: dict[str, int] = {}
    for i, prov in enumerate(regions.provinces):
        if prov.code in seen:
            issues.add(doc.issue("PY405", ("provinces", i, "code"), "province listed twice",
                                 found=prov.code, expected="each GB/T 2260 province code once"))
        seen[prov.code] = i
        for scheme, code in regions.schemes.items():
            region = prov.regions.get(scheme)
            if region is None:
                issues.add(doc.issue("PY405", ("provinces", i, "regions"), f"province has no region in scheme '{scheme}'",
                                     found="nothing", expected=f"one of {sorted(code.regions)}"))
            elif region not in code.regions:
                issues.add(doc.issue("PY405", ("provinces", i, "regions", scheme), "unknown region",
                                     found=region, expected=f"one of {sorted(code.regions)}"))
    if len(seen) != 31:
        issues.add(doc.issue("PY405", ("provinces",), "the regions file must map all 31 provinces",
                             found=f"{len(seen)} provinces", expected="31 (GB/T 2260 codes 11-65)"))


def _check_baselines(baselines: BaselinesFile, regions: RegionsFile, indicators, docs, issues: IssueList) -> None:
    display = next(d for d, doc in docs.items() if d.startswith("baselines/") and d != REGIONS
                   and isinstance(doc.data, dict) and doc.data.get("year") == baselines.year)
    doc = docs[display]
    scheme = regions.schemes.get(baselines.region_scheme)
    if scheme is None:
        issues.add(doc.issue("PY404", ("region_scheme",), "unknown region scheme",
                             found=baselines.region_scheme, expected=f"one of {sorted(regions.schemes)}"))
        return
    region_codes = list(scheme.regions)
    for code in baselines.baselines:
        if code not in indicators:
            issues.add(doc.issue("PY402", ("baselines", code), "baseline for an indicator that is not in the catalogue",
                                 level=Level.WARNING, found=code, expected="a code from indicators/"))
    for code, ind in indicators.items():
        entry = baselines.baselines.get(code)
        if entry is None:
            issues.add(doc.issue("PY401", ("baselines",), "indicator has no baseline",
                                 found=f"nothing for {code} ({ind.name_zh})",
                                 expected=f"baselines.{code}.values for regions {region_codes} x levels {list(LEVELS)}",
                                 hint="add a value and a source note; mark it assumed: true if not from a document"))
            continue
        for kind in ("values", "benchmark"):
            values = getattr(entry, kind)
            if values is None:
                if kind == "benchmark" and ind.scoring.rule == "vbp":
                    issues.add(doc.issue("PY406", ("baselines", code), "vbp scoring needs a benchmark",
                                         found="no benchmark", expected="benchmark: per region (and level)"))
                continue
            if isinstance(values, dict):
                for region, sub in values.items():
                    if region not in region_codes:
                        issues.add(doc.issue("PY403", ("baselines", code, kind, region), "unknown region",
                                             found=region, expected=f"one of {region_codes}"))
                    elif isinstance(sub, dict):
                        for level in sub:
                            if level not in LEVELS:
                                issues.add(doc.issue("PY403", ("baselines", code, kind, region, level), "unknown level",
                                                     found=level, expected=f"one of {list(LEVELS)}"))
            for region in region_codes:
                missing = [lv for lv in LEVELS if resolve_baseline(values, region, lv) is None]
                if not missing:
                    continue
                at = ("baselines", code, kind) + ((region,) if isinstance(values, dict) and region in values else ())
                issues.add(doc.issue("PY401", at, f"{kind} missing for some region x level",
                                     found=f"no value for {region} / {', '.join(missing)}",
                                     expected=f"a value for every region {region_codes} and level {list(LEVELS)}"))
    for code, entry in baselines.baselines.items():
        for region, by_level in (entry.provenance or {}).items():
            if region not in region_codes:
                issues.add(doc.issue("PY403", ("baselines", code, "provenance", region), "unknown region",
                                     found=region, expected=f"one of {region_codes}"))
                continue
            for level, prov in by_level.items():
                if level not in LEVELS:
                    issues.add(doc.issue("PY403", ("baselines", code, "provenance", region, level), "unknown level",
                                         found=level, expected=f"one of {list(LEVELS)}"))
                elif resolve_baseline(entry.values, region, level) != prov.value:
                    issues.add(doc.issue("PY407", ("baselines", code, "provenance", region, level),
                                         "provenance disagrees with the baseline value",
                                         found=f"provenance value {prov.value:g}, baseline "
                                               f"{resolve_baseline(entry.values, region, level)}",
                                         expected="the same number in values and provenance"))
