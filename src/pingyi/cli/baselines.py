"""`pingyi baselines derive`: next year's baselines from this year's results."""

from __future__ import annotations

from pathlib import Path

import typer

from pingyi import api
from pingyi.cli import ProjectOpt, app, command, out

baselines_app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Baselines: derive next year's from this year's results (动态调整).",
)
app.add_typer(baselines_app, name="baselines")


@command(baselines_app, "derive")
def baselines_derive(
    results: Path = typer.Option(..., "--results", "-r", help="Results directory of `pingyi score`."),
    year: int = typer.Option(..., "--year", help="The year the new baselines are for (usually next year)."),
    out_file: Path = typer.Option(..., "--out", "-o", help="Baselines YAML to write, e.g. baselines/2026.yaml."),
    ageing: Path | None = typer.Option(
        None,
        "--ageing",
        help="Ageing factor file (YAML or CSV): change in ageing rate per region, elasticity per indicator.",
    ),
    method: str = typer.Option(
        "median",
        "--method",
        help="median, or pNN: the NN-th percentile in "
        "the indicator's good direction (p75 = better than 75 % of peers).",
    ),
    max_change: float = typer.Option(
        0.10, "--max-change", help="Guardrail: at most this share of the current baseline per year (0.10 = ±10 %)."
    ),
    max_change_pp: float | None = typer.Option(
        None,
        "--max-change-pp",
        help="Guardrail for percent indicators: at most this many percentage points, as a fraction (0.01 = 1 point).",
    ),
    min_providers: int = typer.Option(
        3,
        "--min-providers",
        help="Fewer scored providers in a region and level: the current baseline is carried forward.",
    ),
    project: Path | None = ProjectOpt,
) -> None:
    """Write next year's baselines from this year's results by region and level, with ageing adjustment and a
    guardrail on the yearly move; every value carries its provenance. The file validates like any baselines file."""
    derived, path = api.derive_baselines(
        results,
        year,
        project,
        method=method,
        ageing=ageing,
        max_change=max_change,
        max_change_pp=max_change_pp,
        min_providers=min_providers,
        out=out_file,
    )
    c = derived.counts
    out.print(
        f"wrote {path}: baselines {derived.year} from the {derived.from_year} results ({method}); "
        f"{c['derived']} region x level values derived, {c['carried']} carried forward, {c['capped']} capped by "
        f"the guardrail, {c['ageing']} ageing-adjusted",
        markup=False,
    )
