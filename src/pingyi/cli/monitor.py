"""The monitor command: in-year warnings (预警)."""

from __future__ import annotations

from pathlib import Path

import typer

from pingyi import api
from pingyi.cli import ActorOpt, EncodingOpt, LedgerOpt, ProjectOpt, YearOpt, app, command, out


@command(app, "monitor")
def monitor(
    data: Path = typer.Option(..., "--data", "-d", help="The data bundle (settlements of the year so far)."),
    through: str = typer.Option(..., "--through", help="The last month to look at, YYYY-MM (in the evaluation year)."),
    out_dir: Path = typer.Option(..., "--out", "-o", help="Folder for warnings.csv, notices/ and the run's files."),
    project: Path | None = ProjectOpt,
    year: int | None = YearOpt,
    ledger: Path | None = LedgerOpt,
    day: str | None = typer.Option(
        None, "--date", help="The run's date; deadlines count from it (YYYY-MM-DD, default today)."
    ),
    actor: str = ActorOpt,
    lang: str = typer.Option("zh", "--lang", help="Language of the notices: zh (default) or en."),
    formats: str = typer.Option("html,pdf", "--format", help="Notice formats: html, pdf or both (default)."),
    encoding: str | None = EncodingOpt,
) -> None:
    """Year-to-date indicators and lights through a month; flag those heading for red (already red, or
    worse than the baseline by more than policy.cycle.heading_for_red) and write the committee's table
    and a warning notice (预警通知书) per provider; with --ledger, record the warnings with their deadline."""
    run = api.monitor(
        data,
        through,
        out_dir,
        project,
        year,
        ledger=ledger,
        day=day,
        actor=actor,
        lang=lang,
        formats=formats,
        encoding=encoding,
    )
    out.print(f"monitoring {run.year} through {run.through}, dated {run.date}", markup=False)
    if run.annualised:
        out.print(f"annualised (x 12/{int(run.through[5:])}): {', '.join(run.annualised)}", markup=False)
    warned = {w.judged.provider for w in run.heading}
    out.print(
        f"providers: {run.providers}; warnings: {len(run.heading)} heading for red at {len(warned)} provider(s) "
        f"({run.count('new')} new, {run.count('escalate')} escalated), {run.count('resolve')} resolved; "
        f"{run.no_data} indicator(s) without data",
        markup=False,
    )
    for guard in run.guards:
        out.print(f"WARNING {guard}", style="bold yellow", markup=False)
    out.print(f"written to {run.out}: warnings.csv, no_data.csv, {len(run.notices)} notice file(s)", markup=False)
    if run.ledger is None:
        out.print("not recorded in a ledger (no --ledger, and the project names none)", markup=False)
    else:
        out.print(f"recorded in {run.ledger} as run {run.run_id}", markup=False)
