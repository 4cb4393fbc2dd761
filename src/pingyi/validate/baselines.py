"""Regions and baselines: every province in every scheme, a baseline for every indicator, region and
level, a benchmark where the rule needs one, and derived provenance that agrees with its value."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pingyi.errors import IssueList
from pingyi.spec.models import LEVELS, BaselinesFile, DataSource, IndicatorSpec, RegionsFile
from pingyi.spec.project import REGIONS, resolve_baseline
from pingyi.spec.yamlsrc import LocatedDoc


def check_regions(regions: RegionsFile, doc: LocatedDoc, issues: IssueList) -> None:
    if regions.default_scheme not in regions.schemes:
        issues.add(
            doc.issue(
                "PY404",
                ("default_scheme",),
                "unknown region scheme",
                found=regions.default_scheme,
                expected=f"one of {sorted(regions.schemes)}",
            )
        )
    seen: dict[str, int] = {}
    for i, prov in enumerate(regions.provinces):
        if prov.code in seen:
            issues.add(
                doc.issue(
                    "PY405",
                    ("provinces", i, "code"),
                    "province listed twice",
                    found=prov.code,
                    expected="each GB/T 2260 province code once",
                )
            )
        seen[prov.code] = i
        for scheme, code in regions.schemes.items():
            region = prov.regions.get(scheme)
            if region is None:
                issues.add(
                    doc.issue(
                        "PY405",
                        ("provinces", i, "regions"),
                        f"province has no region in scheme '{scheme}'",
                        found="nothing",
                        expected=f"one of {sorted(code.regions)}",
                    )
                )
            elif region not in code.regions:
                issues.add(
                    doc.issue(
                        "PY405",
                        ("provinces", i, "regions", scheme),
                        "unknown region",
                        found=region,
                        expected=f"one of {sorted(code.regions)}",
                    )
                )
    if len(seen) != 31:
        issues.add(
            doc.issue(
                "PY405",
                ("provinces",),
                "the regions file must map all 31 provinces",
                found=f"{len(seen)} provinces",
                expected="31 (GB/T 2260 codes 11-65)",
            )
        )


def check_baselines(
    baselines: BaselinesFile,
    regions: RegionsFile,
    indicators: Mapping[str, IndicatorSpec],
    docs: Mapping[str, LocatedDoc],
    issues: IssueList,
) -> None:
    display = next(
        d
        for d, doc in docs.items()
        if d.startswith("baselines/")
        and d != REGIONS
        and isinstance(doc.data, dict)
        and doc.data.get("year") == baselines.year
    )
    doc = docs[display]
    scheme = regions.schemes.get(baselines.region_scheme)
    if scheme is None:
        issues.add(
            doc.issue(
                "PY404",
                ("region_scheme",),
                "unknown region scheme",
                found=baselines.region_scheme,
                expected=f"one of {sorted(regions.schemes)}",
            )
        )
        return
    region_codes = list(scheme.regions)
    for code in baselines.baselines:
        if code not in indicators:
            issues.add(
                doc.issue(
                    "PY402",
                    ("baselines", code),
                    "baseline for an indicator that is not in the catalogue",
                    found=code,
                    expected="a code from indicators/",
                )
            )
    for code, ind in indicators.items():
        entry = baselines.baselines.get(code)
        if entry is None:
            issues.add(
                doc.issue(
                    "PY401",
                    ("baselines",),
                    "indicator has no baseline",
                    found=f"nothing for {code} ({ind.name_zh})",
                    expected=f"baselines.{code}.values for regions {region_codes} x levels {list(LEVELS)}",
                    hint="add a value and a source note; mark it assumed: true if not from a document",
                )
            )
            continue
        for kind in ("values", "benchmark"):
            values = getattr(entry, kind)
            if values is None:
                if kind == "benchmark" and ind.scoring.uses_benchmark:
                    issues.add(
                        doc.issue(
                            "PY406",
                            ("baselines", code),
                            f"{ind.scoring.rule} scoring needs a benchmark",
                            found="no benchmark",
                            expected="benchmark: per region (and level)",
                        )
                    )
                continue
            if isinstance(values, dict):
                for region, sub in values.items():
                    if region not in region_codes:
                        issues.add(
                            doc.issue(
                                "PY403",
                                ("baselines", code, kind, region),
                                "unknown region",
                                found=region,
                                expected=f"one of {region_codes}",
                            )
                        )
                    elif isinstance(sub, dict):
                        for level in sub:
                            if level not in LEVELS:
                                issues.add(
                                    doc.issue(
                                        "PY403",
                                        ("baselines", code, kind, region, level),
                                        "unknown level",
                                        found=level,
                                        expected=f"one of {list(LEVELS)}",
                                    )
                                )
            _check_range(ind, kind, values, doc, ("baselines", code, kind), issues)
            for region in region_codes:
                missing = [lv for lv in LEVELS if resolve_baseline(values, region, lv) is None]
                if not missing:
                    continue
                at = ("baselines", code, kind) + ((region,) if isinstance(values, dict) and region in values else ())
                issues.add(
                    doc.issue(
                        "PY401",
                        at,
                        f"{kind} missing for some region x level",
                        found=f"no value for {region} / {', '.join(missing)}",
                        expected=f"a value for every region {region_codes} and level {list(LEVELS)}",
                    )
                )
    for code, entry in baselines.baselines.items():
        for region, by_level in (entry.provenance or {}).items():
            if region not in region_codes:
                issues.add(
                    doc.issue(
                        "PY403",
                        ("baselines", code, "provenance", region),
                        "unknown region",
                        found=region,
                        expected=f"one of {region_codes}",
                    )
                )
                continue
            for level, prov in by_level.items():
                if level not in LEVELS:
                    issues.add(
                        doc.issue(
                            "PY403",
                            ("baselines", code, "provenance", region, level),
                            "unknown level",
                            found=level,
                            expected=f"one of {list(LEVELS)}",
                        )
                    )
                elif resolve_baseline(entry.values, region, level) != prov.value:
                    issues.add(
                        doc.issue(
                            "PY407",
                            ("baselines", code, "provenance", region, level),
                            "provenance disagrees with the baseline value",
                            found=f"provenance value {prov.value:g}, baseline "
                            f"{resolve_baseline(entry.values, region, level)}",
                            expected="the same number in values and provenance",
                        )
                    )


def _check_range(ind: IndicatorSpec, kind: str, values: Any, doc: LocatedDoc, at: tuple, issues: IssueList) -> None:
    """A baseline outside the values its indicator can take (a satisfaction share of 85 instead of 0.85)
    would make every provider's gap meaningless. Settlement rates without a declared valid_range are not
    bounded here: a growth rate may be negative."""
    if ind.source is DataSource.SETTLEMENT and ind.valid_range is None:
        return
    lo, hi = ind.value_range
    leaves: list[tuple[tuple[str, ...], Any]] = [((), values)] if not isinstance(values, dict) else []
    if isinstance(values, dict):
        for region, sub in values.items():
            items = sub.items() if isinstance(sub, dict) else [(None, sub)]
            leaves += [((region,) if lv is None else (region, lv), v) for lv, v in items]
    for path, value in leaves:
        if value < lo or (hi is not None and value > hi):
            issues.add(
                doc.issue(
                    "PY408",
                    at + path,
                    f"{kind} is outside the indicator's valid range",
                    found=f"{value!r} for {ind.code} ({ind.unit.value})",
                    expected=f"a value in [{lo:g}, {hi:g}]" if hi is not None else f"a value >= {lo:g}",
                    hint="a percent is written as a fraction (0.85 for 85 %)" if ind.unit.value == "percent" else None,
                )
            )
