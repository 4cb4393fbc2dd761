"""A pingyi project: the indicator catalogue, AHP judgments, baselines, regions, policy, data settings
and measures, loaded and located (every object knows its file and line). `pingyi.spec.load` reads a
project directory; `pingyi.validate` checks it.
"""

from __future__ import annotations

import importlib.resources
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from pingyi.errors import PingyiError, Severity
from pingyi.spec.modelcheck import load_model
from pingyi.spec.models import (
    BaselinesFile,
    DataSettings,
    DimensionFile,
    HierarchyFile,
    IndicatorSpec,
    MeasureSpec,
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


def load_data_settings(root: Path | None = None) -> DataSettings:
    """The project's `data.yaml` (code sets, money tolerance, upload deadline).

    A project without data.yaml gets the defaults of `DataSettings`; an invalid one is a user
    error listing every issue."""
    root = Path(root) if root is not None else default_project_dir()
    if not root.is_dir():
        raise PingyiError(
            f"{root}: project directory not found; expected a directory with data.yaml, indicators/ "
            f"and baselines/ (create one with `pingyi init DIR`)"
        )
    path = root / DATA
    if not path.is_file():
        return DataSettings()
    obj, _doc, found = load_model(path, DataSettings, DATA)
    if obj is None or any(i.severity is Severity.ERROR for i in found):
        issues = sorted(found, key=lambda i: (i.line or 0, i.code))
        raise PingyiError(f"{path}: invalid data settings: " + " | ".join(i.render() for i in issues), issues)
    return obj


def evaluation_year(root: Path | None = None) -> int | None:
    """The year the project evaluates: policy.yaml's `evaluation_year`, else the year of its only
    baselines file; None when neither tells (several baselines years and no evaluation_year)."""
    root = Path(root) if root is not None else default_project_dir()
    policy = load_yaml(root / POLICY, POLICY).data if (root / POLICY).is_file() else None
    if isinstance(policy, dict) and isinstance(policy.get("evaluation_year"), int):
        return int(policy["evaluation_year"])
    years = set()
    for path in sorted((root / "baselines").glob("*.yaml")) if (root / "baselines").is_dir() else []:
        if path.name == "regions.yaml":
            continue
        data = load_yaml(path, f"baselines/{path.name}").data
        if isinstance(data, dict) and isinstance(data.get("year"), int):
            years.add(data["year"])
    return years.pop() if len(years) == 1 else None


PROJECT_PARTS = ("indicators", "baselines", "measures", "policy.yaml", "data.yaml")


def copy_project(src: Path, dest: Path) -> list[str]:
    """Copy a project's parts (what `pingyi init` gives a committee to edit); returns what was copied."""
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


@dataclass(frozen=True)
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
