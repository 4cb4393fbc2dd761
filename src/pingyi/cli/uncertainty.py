"""The uncertainty command: rank intervals, grade probabilities and Sobol indices of a run."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from pingyi import api
from pingyi.cli import _columns, app, command, out


@command(app, "uncertainty")
def uncertainty(
    results: Path = typer.Option(..., "--results", "-r", help="Results folder of `pingyi score`."),
    out_dir: Path = typer.Option(..., "--out", "-o", help="Folder for uncertainty.csv and uncertainty.json."),
    samples: int = typer.Option(1000, "--samples", help="Monte Carlo samples (default 1000)."),
    seed: int = typer.Option(0, "--seed", help="Random seed: the same seed gives the same files."),
    noise: float = typer.Option(
        0.2, "--noise", help="Each weight times U(1 - noise, 1 + noise), then renormalised (default 0.2: ±20 %)."
    ),
    schemes: str = typer.Option(
        "ahp,entropy,critic,combined",
        "--schemes",
        help="Weighting schemes drawn among (ahp, entropy, critic, combined).",
    ),
    sources: str = typer.Option(
        "experts,baselines,survey",
        "--sources",
        help="Other uncertainties drawn: experts (AHP from a bootstrap of each matrix's experts), baselines "
        "(derived baselines from their order statistic), survey (survey shares from their sampling error); none.",
    ),
    sobol_samples: int = typer.Option(
        128, "--sobol-samples", help="Base samples of the Sobol design (N; N x (k + 2) runs)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print uncertainty.json instead of the summary."),
) -> None:
    """How sure each provider's total, rank and grade are: a Monte Carlo over the weighting scheme, the
    weights, the experts behind the AHP weights, derived baselines and survey sampling error (the last two
    re-score the indicators they move), the 5th-95th percentile of every total and rank, the probability
    of each grade and adjustment, and the Sobol indices of the choices on the ranks. Providers whose
    assigned grade has a probability under 0.8 are listed as uncertain."""
    run = api.uncertainty(
        results, out_dir, samples=samples, seed=seed, noise=noise,
        schemes=tuple(s.strip() for s in schemes.split(",") if s.strip()), sobol_samples=sobol_samples,
        sources=tuple(s.strip() for s in sources.split(",") if s.strip()),
    )  # fmt: skip
    if as_json:
        out.print(run.files[1].read_text(encoding="utf-8"), markup=False, end="")
        return
    out.print(
        f"{len(run.providers)} providers, {run.samples} samples, seed {run.seed}, weights ±{run.noise:.0%}, "
        f"schemes {', '.join(run.schemes)}",
        markup=False,
    )
    drawn = run.sources or {}
    said = [
        f"{name} ({drawn[key]['cells']} cells)" if "cells" in drawn[key] else name
        for key, name in (("experts", "expert resampling"), ("baselines", "derived baselines"), ("survey", "survey sampling error"))
        if drawn.get(key, {}).get("sampled")
    ]  # fmt: skip
    out.print(f"also drawn: {', '.join(said) if said else 'nothing else'}", markup=False)
    uncertain = run.uncertain()
    if uncertain:
        table = Table(title=f"grades less than 80 % sure ({len(uncertain)})")
        _columns(table, "provider", "grade", "P(grade)>", "total p5-p95", "rank p5-p95")
        for p in uncertain:
            table.add_row(p["fixmedins_code"], p["grade"], f"{p['p_assigned_grade']:.2f}",
                          f"{p['total_p5']:.2f}-{p['total_p95']:.2f}", f"{p['rank_p5']:.0f}-{p['rank_p95']:.0f}")  # fmt: skip
        out.print(table)
    else:
        out.print("every assigned grade has a probability of at least 0.8", markup=False)
    table = Table(title=f"Sobol indices on the ranks (mean of {run.sobol_providers} providers whose rank varies)")
    _columns(table, "choice", "first order>", "total>", "± (95 %)>")
    for name, s in run.sobol.items():
        table.add_row(name, f"{s['first_order']:.3f}", f"{s['total']:.3f}",
                      f"{s.get('first_order_conf', 0.0):.3f} / {s.get('total_conf', 0.0):.3f}")  # fmt: skip
    out.print(table)
    out.print(f"written to {out_dir}: {', '.join(f.name for f in run.files)}", markup=False)
