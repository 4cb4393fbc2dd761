"""Dynamic baselines (动态调整, [001 §2.1, §5.3]): next year's baselines from this year's results.

`pingyi baselines derive --results DIR --year NEXT` reads a results directory of `pingyi score`
and writes a normal baselines file (it validates like any baselines/YEAR.yaml) in which every
region x level value of every up/down indicator is:

1. **statistic**: the regional median (default) or `pNN`, the NN-th percentile *in the good
   direction* (p75 = better than 75 % of the region's providers of that level, i.e. the 75th
   percentile of an up indicator and the 25th of a down one; linear interpolation), of the
   *scored* values (grey and monitor values never count; for a case-mix-adjusted indicator the
   adjusted value, the one that was scored) of the providers of that region and level. With fewer
   than `min_providers` values the current baseline is carried forward (method `carried`);
2. **ageing**: plus, when an ageing factor file is given, elasticity x the region's change in the
   ageing rate (see `load_ageing`);
3. **guardrail**: the move from the current baseline is capped, like the CMS Medicare Advantage
   Star Ratings cut-point guardrail (±5 points a year): at most `max_change` x |current| (relative,
   default 10 %), and for percent indicators, when `max_change_pp` is given, at most that many
   percentage points (absolute, as a fraction: 0.01 = 1 point); where both apply the tighter wins.
   A relative cap is undefined at a current baseline of 0: there only the absolute cap applies,
   and without one the value is kept.

Target-band and monitor indicators keep their baselines (the band is a definition, not a
distribution); benchmarks are carried forward. Every cell carries its provenance (method, n,
raw statistic, previous value, ageing adjustment, which guardrail bound, resulting value) in the
entry's optional `provenance` field.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from pingyi.errors import PingyiError
from pingyi.files import write_atomic
from pingyi.spec.models import LEVELS, BaselinesFile, Direction, Unit
from pingyi.spec.project import Project, resolve_baseline
from pingyi.spec.yamlsrc import load_yaml

METHOD_PATTERN = re.compile(r"^(median|p([1-9][0-9]?))$")


@dataclass(frozen=True)
class Ageing:
    """Change in the ageing rate per region (fraction: 0.006 = +0.6 percentage points) and, per
    indicator, how a baseline responds to +1 percentage point: `absolute` (indicator units added)
    or `relative` (share of the baseline added)."""

    change: dict[str, float]
    elasticity: dict[str, tuple[str, float]]  # code -> (absolute|relative, per percentage point)
    source: str = ""

    def adjustment(self, code: str, region: str, value: float) -> float:
        if code not in self.elasticity:
            return 0.0
        mode, per_point = self.elasticity[code]
        points = self.change.get(region, 0.0) * 100.0
        return per_point * points if mode == "absolute" else value * per_point * points


def load_ageing(path: Path, regions: list[str], indicators: list[str]) -> Ageing:
    """Read an ageing factor file.

    YAML::

        ageing_change: {east: 0.008, central: 0.006, west: 0.005}   # next year minus this year, fraction
        elasticity:
          D1.01: {absolute: 0.002}   # +0.2 percentage points of growth per +1 point of ageing rate
          D2.03: {relative: 0.01}    # +1 % of the baseline per +1 point of ageing rate

    CSV (header ``kind,key,value,mode``)::

        kind,key,value,mode
        region,east,0.008,
        indicator,D1.01,0.002,absolute
    """
    path = Path(path)
    if not path.is_file():
        raise PingyiError(f"{path}: ageing factor file not found; expected YAML or CSV (docs/user-guide.md)")
    change: dict[str, float] = {}
    elasticity: dict[str, tuple[str, float]] = {}
    try:
        if path.suffix.lower() == ".csv":
            with path.open(encoding="utf-8-sig", newline="") as fh:
                reader = csv.DictReader(fh)
                if not {"kind", "key", "value"} <= set(reader.fieldnames or []):
                    raise PingyiError(f"{path}: expected the header kind,key,value,mode")
                for i, row in enumerate(reader, 2):
                    kind, key = (row.get("kind") or "").strip(), (row.get("key") or "").strip()
                    value = float(row["value"])
                    if kind == "region":
                        change[key] = value
                    elif kind == "indicator":
                        elasticity[key] = ((row.get("mode") or "relative").strip(), value)
                    else:
                        raise PingyiError(f"{path}:{i}: kind must be region or indicator, found {kind!r}")
        else:
            doc = load_yaml(path, str(path))  # bounded, as every project file (no aliases, depth, sizes)
            if doc.issues:
                raise PingyiError(" | ".join(issue.render() for issue in doc.issues), doc.issues)
            data = doc.data or {}
            if not isinstance(data, dict) or set(data) - {"ageing_change", "elasticity", "description"}:
                raise PingyiError(
                    f"{path}: expected a mapping with ageing_change and elasticity "
                    f"(found keys {sorted(data) if isinstance(data, dict) else type(data).__name__})"
                )
            change = {str(k): float(v) for k, v in (data.get("ageing_change") or {}).items()}
            for code, spec in (data.get("elasticity") or {}).items():
                if not isinstance(spec, dict) or len(spec) != 1:
                    raise PingyiError(f"{path}: elasticity.{code} must be {{absolute: X}} or {{relative: X}}")
                ((mode, value),) = spec.items()
                elasticity[str(code)] = (str(mode), float(value))
    except (ValueError, TypeError, yaml.YAMLError) as exc:
        raise PingyiError(f"{path}: cannot read the ageing factors: {exc}") from None
    for region in change:
        if region not in regions:
            raise PingyiError(f"{path}: unknown region {region!r}; expected one of {regions}")
    for code, (mode, _) in elasticity.items():
        if code not in indicators:
            raise PingyiError(f"{path}: unknown indicator {code!r} in the elasticities")
        if mode not in ("absolute", "relative"):
            raise PingyiError(f"{path}: elasticity of {code} has mode {mode!r}; expected absolute or relative")
    return Ageing(change=change, elasticity=elasticity, source=path.name)


def statistic(values: list[float], method: str, direction: Direction) -> float:
    """The median, or pNN in the good direction (see the module docstring)."""
    m = METHOD_PATTERN.match(method)
    if m is None:
        raise PingyiError(f"unknown method {method!r}; expected median or pNN (e.g. p75)")
    if method == "median":
        return float(np.median(values))
    q = int(m.group(2))
    return float(np.percentile(values, q if direction is Direction.UP else 100 - q))


def guardrail(
    previous: float | None, candidate: float, unit: Unit, max_change: float, max_change_pp: float | None
) -> tuple[float, str]:
    """(value, which cap bound): caps the move from `previous` (see the module docstring)."""
    if previous is None:
        return candidate, "none"
    caps = []
    if previous != 0:
        caps.append((max_change * abs(previous), "relative"))
    if max_change_pp is not None and unit is Unit.PERCENT:
        caps.append((max_change_pp, "absolute"))
    if not caps:
        return previous, ("kept" if candidate != previous else "none")
    cap, kind = min(caps, key=lambda c: c[0])
    move = candidate - previous
    if abs(move) <= cap + 1e-15:
        return candidate, "none"
    return previous + (cap if move > 0 else -cap), kind


def _round(x: float) -> float:
    return float(f"{x:.6g}")


@dataclass
class Derived:
    data: dict
    year: int
    from_year: int
    counts: dict[str, int] = field(default_factory=dict)
    header: list[str] = field(default_factory=list)

    def yaml_text(self) -> str:
        body = yaml.dump(self.data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100000)
        return "".join(f"# {line}\n" if line else "#\n" for line in self.header) + body


class _Flow(dict):
    pass


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True  # a value used twice is written twice: project files refuse anchors and aliases (PY108)


_Dumper.add_representer(
    _Flow, lambda d, data: d.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=True)
)


def check_options(method: str, max_change: float, max_change_pp: float | None, min_providers: int) -> None:
    if METHOD_PATTERN.match(method) is None:
        raise PingyiError(f"unknown method {method!r}; expected median or pNN (e.g. p75)")
    if max_change < 0 or (max_change_pp is not None and max_change_pp < 0) or min_providers < 1:
        raise PingyiError("--max-change and --max-change-pp must be >= 0 and --min-providers >= 1")


def derive_baselines(
    results: Mapping[str, Any],
    source: str,
    project: Project,
    year: int,
    *,
    method: str = "median",
    ageing_file: Path | None = None,
    max_change: float = 0.10,
    max_change_pp: float | None = None,
    min_providers: int = 3,
) -> Derived:
    """Next year's baselines from `results` (a parsed results.json; `source` names it in the file's
    header) for `project` as it was in the results' year."""
    check_options(method, max_change, max_change_pp, min_providers)
    from_year = int(results["year"])
    regions = project.region_codes()
    ageing = load_ageing(ageing_file, regions, list(project.indicators)) if ageing_file is not None else None

    groups: dict[tuple[str, str, str], list[float]] = {}
    for p in results["providers"]:
        for item in p["indicators"]:
            if item.get("status") == "scored" and item.get("value") is not None:
                groups.setdefault((item["code"], p["region"], p["level"]), []).append(float(item["value"]))

    counts = {"derived": 0, "carried": 0, "capped": 0, "ageing": 0}
    out: dict[str, dict] = {}
    for code, ind in project.indicators.items():
        entry = project.baselines.baselines.get(code)
        if entry is None:
            continue
        fixed = ind.direction in (Direction.TARGET, Direction.MONITOR)
        values: dict[str, _Flow] = {}
        provenance: dict[str, dict[str, _Flow]] = {}
        derived_any = False
        for region in regions:
            values[region] = _Flow()
            provenance[region] = {}
            for level in LEVELS:
                previous = resolve_baseline(entry.values, region, level)
                vals = sorted(groups.get((code, region, level), []))
                note = None
                if fixed:
                    stat, candidate, used = None, previous, "carried"
                    note = "target band or monitor indicator: kept"
                elif len(vals) >= min_providers:
                    stat = _round(statistic(vals, method, ind.direction))
                    candidate, used = stat, method
                else:
                    stat, candidate, used = None, previous, "carried"
                    note = f"{len(vals)} scored provider(s), fewer than {min_providers}: {from_year} value carried"
                if candidate is None:
                    continue
                adj = 0.0 if fixed or ageing is None else ageing.adjustment(code, region, candidate)
                value, bound = (
                    (candidate, "none")
                    if fixed
                    else guardrail(previous, candidate + adj, ind.unit, max_change, max_change_pp)
                )
                value = _round(value)
                if entry.benchmark is not None and not fixed:
                    bench = resolve_baseline(entry.benchmark, region, level)
                    if bench is not None and (
                        (ind.direction is Direction.UP and value >= bench)
                        or (ind.direction is Direction.DOWN and value <= bench)
                    ):
                        note = (note + "; " if note else "") + "at or beyond the (carried) benchmark: review it"
                values[region][level] = value
                cell = {
                    "method": used,
                    "n": len(vals),
                    "statistic": stat,
                    "previous": previous,
                    "ageing": _round(adj),
                    "guardrail": bound,
                    "value": value,
                }
                if note:
                    cell["note"] = note
                provenance[region][level] = _Flow(cell)
                derived_any |= used != "carried"
                counts["derived" if used != "carried" else "carried"] += 1
                counts["capped"] += bound in ("relative", "absolute", "kept")
                counts["ageing"] += adj != 0
        if fixed:
            source = f"carried from {from_year} (target band or monitor indicator). {from_year}: {entry.source}"
        else:
            source = _source_text(from_year, method, min_providers, max_change, max_change_pp, ageing, ind, entry)
        entry_out: dict[str, Any] = {"values": values}
        if entry.benchmark is not None:
            entry_out["benchmark"] = (
                entry.benchmark
                if not isinstance(entry.benchmark, dict)
                else {r: (_Flow(v) if isinstance(v, dict) else v) for r, v in entry.benchmark.items()}
            )
        entry_out["source"] = source
        entry_out["assumed"] = bool(entry.assumed and not derived_any)
        entry_out["provenance"] = provenance
        out[code] = entry_out
    data = {
        "year": int(year),
        "region_scheme": project.baselines.region_scheme,
        "description": f"{year}年度基准值：由 pingyi baselines derive 按{from_year}年度评议结果（"
        f"{'中位数' if method == 'median' else method + '（按指标导向）'}，分地区分级别）推导，"
        f"含老龄化调整与年度变动上限；逐值来源见 provenance。",
        "baselines": out,
    }
    try:
        BaselinesFile.model_validate(data)
    except Exception as exc:  # pragma: no cover - a bug, not a user error
        raise PingyiError(f"derived baselines do not validate: {exc}") from exc
    header = [
        f"baselines/{year}.yaml — derived by `pingyi baselines derive` from {source} (evaluation year {from_year})",
        f"method: {method}; min providers per region x level: {min_providers}; guardrail: ±{max_change:.0%} of the "
        f"{from_year} baseline"
        + (f", ±{max_change_pp * 100:g} percentage points for percent indicators" if max_change_pp is not None else ""),
        f"ageing factors: {ageing.source if ageing else 'none'}",
        f"cells: {counts['derived']} derived, {counts['carried']} carried forward, {counts['capped']} capped by the "
        f"guardrail, {counts['ageing']} ageing-adjusted. Per cell: baselines.CODE.provenance.REGION.LEVEL",
        "",
    ]
    return Derived(data=data, year=int(year), from_year=from_year, counts=counts, header=header)


def _source_text(from_year, method, min_providers, max_change, max_change_pp, ageing, ind, entry) -> str:
    how = "median" if method == "median" else f"{method} in the good direction"
    text = (
        f"derived from the {from_year} results: {how} of the scored values of each region and level "
        f"(at least {min_providers} providers, otherwise the {from_year} value is carried forward)"
    )
    if ageing is not None and ind.code in ageing.elasticity:
        mode, per = ageing.elasticity[ind.code]
        text += f"; ageing-adjusted ({mode} {per:g} per percentage point of ageing-rate change, {ageing.source})"
    text += f"; moves capped at ±{max_change:.0%} of the {from_year} baseline"
    if max_change_pp is not None and ind.unit is Unit.PERCENT:
        text += f" and ±{max_change_pp * 100:g} percentage points"
    return text + f". {from_year} source: {entry.source}"


def write_derived(derived: Derived, out: Path) -> Path:
    return write_atomic(Path(out), derived.yaml_text())
