"""What the example reads from the project: indicators, baselines, region scheme and data
settings, as plain YAML without validation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from pingyi.errors import PingyiError


@dataclass
class Catalogue:
    indicators: list[dict]
    baselines: dict[str, dict]
    region_of: dict[str, str]  # province code -> region code of the baselines' scheme
    data: dict


def read_catalogue(project_dir: Path, year: int) -> Catalogue:
    """Read indicator codes/sources/units/baselines straight from the project's YAML.

    Deliberately tolerant (plain YAML, no validation): the example must be writable while a
    committee's catalogue is still being edited; `pingyi validate` is the place for errors."""
    ind_dir = project_dir / "indicators"
    if not ind_dir.is_dir():
        raise PingyiError(f"{project_dir}: no indicators/ directory; expected a pingyi project (see `pingyi init`)")
    indicators: list[dict] = []
    for path in sorted(ind_dir.glob("*.yaml")):
        if path.name == "hierarchy.yaml":
            continue
        doc = _yaml(path)
        for ind in (doc or {}).get("indicators") or []:
            if not isinstance(ind, dict) or "code" not in ind:
                continue
            scoring = ind.get("scoring") or {}
            indicators.append(
                {
                    "code": str(ind["code"]),
                    "source": str(ind.get("source", "")),
                    "unit": str(ind.get("unit", "")),
                    "direction": str(ind.get("direction", "up")),
                    "rule": str(scoring.get("rule", "threshold")),
                    "improvement": bool(scoring.get("improvement", True)),
                    "low": scoring.get("low"),
                    "high": scoring.get("high"),
                    "qualitative": bool(ind.get("qualitative", False)),
                    "volume_min": (ind.get("volume") or {}).get("minimum"),
                }
            )
    indicators.sort(key=lambda d: d["code"])

    baselines: dict[str, dict] = {}
    scheme = None
    bdir = project_dir / "baselines"
    chosen = None
    if bdir.is_dir():
        docs = []
        for path in sorted(bdir.glob("*.yaml")):
            if path.name == "regions.yaml":
                continue
            doc = _yaml(path)
            if isinstance(doc, dict):
                docs.append(doc)
        exact = [d for d in docs if d.get("year") == year]
        earlier = sorted(
            (d for d in docs if isinstance(d.get("year"), int) and d["year"] <= year), key=lambda d: d["year"]
        )
        chosen = exact[0] if exact else (earlier[-1] if earlier else (docs[-1] if docs else None))
    if chosen is not None:
        baselines = chosen.get("baselines") or {}
        scheme = chosen.get("region_scheme")

    region_of = {"33": "east", "41": "central", "51": "west"}
    regions_path = bdir / "regions.yaml"
    if regions_path.is_file():
        doc = _yaml(regions_path) or {}
        scheme = scheme or doc.get("default_scheme")
        for prov in doc.get("provinces") or []:
            code = str(prov.get("code"))
            if code in region_of and scheme in (prov.get("regions") or {}):
                region_of[code] = str(prov["regions"][scheme])

    data: dict = {}
    data_path = project_dir / "data.yaml"
    if data_path.is_file():
        data = _yaml(data_path) or {}
    return Catalogue(indicators, baselines, region_of, data)


def _yaml(path: Path):
    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - a safe loader
    except (OSError, yaml.YAMLError) as exc:
        raise PingyiError(f"{path}: cannot read YAML ({exc}); run `pingyi validate`") from None


def baseline(cat: Catalogue, code: str, region: str, level: str, kind: str = "values") -> float | None:
    entry = cat.baselines.get(code)
    if not isinstance(entry, dict):
        return None
    values = entry.get(kind)
    if values is None:
        return None
    if isinstance(values, (int, float)):
        return float(values)
    if not isinstance(values, dict):
        return None
    sub = values.get(region)
    if isinstance(sub, (int, float)):
        return float(sub)
    if isinstance(sub, dict) and isinstance(sub.get(level), (int, float)):
        return float(sub[level])
    return None
