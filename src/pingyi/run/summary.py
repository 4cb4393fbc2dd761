"""The short summary `pingyi score` prints: grades by region, red lights per dimension, budget."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Table

from pingyi.run.pipeline import RunResult
from pingyi.text import Designation, Light


def print_summary(console: Console, run: RunResult, out_dir: Path) -> None:
    project = run.project
    info = {p.code: p for p in run.providers}
    grades = [g.name for g in project.policy.grades] + [project.policy.insufficient_grade]
    regions = list(project.regions.schemes[project.baselines.region_scheme].regions.items())
    counts = Counter((info[r.fixmedins_code].region, r.grade) for r in run.results)

    t = Table(title=f"{project.hierarchy.name} {run.year}: providers per grade and region", header_style="bold")
    t.add_column("region")
    for g in grades:
        t.add_column(g, justify="right")
    t.add_column("total", justify="right")
    for code, label in regions:
        row = [counts.get((code, g), 0) for g in grades]
        t.add_row(f"{label} {code}", *map(str, row), str(sum(row)))
    t.add_row("all", *(str(sum(counts.get((c, g), 0) for c, _ in regions)) for g in grades), str(len(run.results)))
    console.print(t)

    reds = Table(title="red lights per dimension", header_style="bold")
    reds.add_column("dimension")
    reds.add_column("red indicators", justify="right")
    reds.add_column("grey (insufficient)", justify="right")
    for p in run.tree.primary:
        codes = [s.code for s in p.secondary]
        n_red = sum(1 for r in run.results for c in codes if r.indicators[c].light is Light.RED)
        n_grey = sum(1 for r in run.results for c in codes if r.indicators[c].light is Light.GREY)
        reds.add_row(f"{p.code} {p.name_zh}", str(n_red), str(n_grey))
    console.print(reds)

    b = run.budget
    designation = Counter(a.designation for a in run.adjustments)
    scale = f", reward scale {b.scale}" if b.scale is not None else ""
    granted = sum(1 for a in run.adjustments if a.credit is not None and a.credit.granted)
    credit = f"credit bonus {b.credit:,} 元 ({granted} granted), " if project.policy.credit.ratings else ""
    console.print(
        f"prepayment adjustments ({project.policy.adjustment.mode}{scale}): penalties {b.penalties:,} 元, "
        f"rewards {b.rewards:,} 元, {credit}net effect on providers {b.net:,} 元; designation: "
        f"{designation.get(Designation.REVOKED, 0)} revoked, {designation.get(Designation.WARNING, 0)} at risk",
        markup=False,
    )
    rows = Table(title="rows per table (read = used + rejected)", header_style="bold")
    for col in ("table", "file", "read", "used", "rejected"):
        rows.add_column(col, justify="left" if col in ("table", "file") else "right")
    for name, c in run.quality.counts.items():
        if c.file or c.read:
            rows.add_row(name, c.file, f"{c.read:,}", f"{c.used:,}", f"{c.rejected:,}")
    console.print(rows)
    ungraded = project.policy.insufficient_grade
    not_graded = Counter(r.eligibility or "no scored indicator" for r in run.results if r.grade == ungraded)
    graded = len(run.results) - sum(not_graded.values())
    why = "; ".join(f"{n}: {reason}" for reason, n in sorted(not_graded.items()))
    console.print(
        f"providers: {graded} graded, {sum(not_graded.values())} not graded ({ungraded})" + (f": {why}" if why else ""),
        markup=False,
    )
    for guard in run.guards:
        console.print(f"WARNING [{guard.code}] {guard.message}", style="bold yellow", markup=False, highlight=False)
    if run.guards:
        console.print(
            f"{len(run.guards)} run guard warning(s): recorded in results.json (guards) and on the committee "
            "report's first page; --strict stops on them",
            style="bold yellow",
            markup=False,
        )
    if run.corrections:
        fixed = ", ".join(f"{c.fixmedins_code} {c.indicator}" for c in run.corrections[:5])
        more = f" and {len(run.corrections) - 5} more" if len(run.corrections) > 5 else ""
        console.print(f"corrected after review (复核更正): {fixed}{more}", markup=False)
    console.print(
        f"results written to {out_dir}/ (scores.csv, indicators.csv, adjustments.csv, quality.csv, "
        "rejected.csv, results.json, manifest.json)",
        markup=False,
    )


def summary_record(run: RunResult, out_dir: Path) -> dict:
    """What `pingyi score --json` prints: the summary above as one JSON object (docs/json.md)."""
    project = run.project
    info = {p.code: p for p in run.providers}
    grades = [g.name for g in project.policy.grades] + [project.policy.insufficient_grade]
    counts = Counter((info[r.fixmedins_code].region, r.grade) for r in run.results)
    regions = list(project.regions.schemes[project.baselines.region_scheme].regions)
    b = run.budget
    designation = Counter(a.designation for a in run.adjustments)
    ungraded = project.policy.insufficient_grade
    return {
        "year": run.year,
        "system": {"name": project.hierarchy.name, "version": project.hierarchy.version},
        "providers": len(run.results),
        "graded": sum(1 for r in run.results if r.grade != ungraded),
        "grades": {g: sum(1 for r in run.results if r.grade == g) for g in grades},
        "grades_by_region": {rg: {g: counts.get((rg, g), 0) for g in grades} for rg in regions},
        "lights": {
            p.code: {
                "red": sum(1 for r in run.results for s in p.secondary if r.indicators[s.code].light is Light.RED),
                "grey": sum(1 for r in run.results for s in p.secondary if r.indicators[s.code].light is Light.GREY),
            }
            for p in run.tree.primary
        },
        "budget": {
            "mode": project.policy.adjustment.mode,
            "penalties": str(b.penalties),
            "rewards": str(b.rewards),
            "credit": str(b.credit),
            "net": str(b.net),
            "scale": None if b.scale is None else str(b.scale),
        },  # fmt: skip
        "designation": {d.value: designation.get(d, 0) for d in Designation},
        "rows": {
            name: {"file": c.file, "read": c.read, "used": c.used, "rejected": c.rejected}
            for name, c in run.quality.counts.items()
            if c.file or c.read
        },
        "guards": [{"code": g.code, "action": g.action, "message": g.message} for g in run.guards],
        "corrections": len(run.corrections),
        "out": str(out_dir),
    }
