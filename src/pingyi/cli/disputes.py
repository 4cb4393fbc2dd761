"""The disputes commands (申诉复核): template, import, decide, list, corrections."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from pingyi import api
from pingyi.cli import ActorOpt, _columns, app, command, out
from pingyi.errors import PingyiError

disputes_app = typer.Typer(
    no_args_is_help=True,
    help="Review and appeal (申诉复核) between `score --preview` and `score --final`: templates, claims, decisions.",
)
app.add_typer(disputes_app, name="disputes")

LedgerArg = typer.Option(..., "--ledger", "-l", help="The committee's ledger file.")


@command(disputes_app, "template")
def disputes_template(
    results: Path = typer.Option(..., "--results", help="The preview run's results folder (score --preview)."),
    out_dir: Path = typer.Option(..., "--out", "-o", help="Folder for the templates (one .xlsx per provider)."),
    provider: str | None = typer.Option(None, "--provider", help="Only this provider's template."),
    lang: str = typer.Option("zh", "--lang", help="zh (default) or en."),
) -> None:
    """Write one dispute template per provider: its indicators with value, baseline, light and reason, and
    empty columns 申诉值 (claimed value), 理由 (reason) and 证据编号 (evidence reference)."""
    files = api.disputes_template(results, out_dir, provider=provider, lang=lang)
    out.print(f"{len(files)} template(s) written to {out_dir}", markup=False)


@command(disputes_app, "import")
def disputes_import(
    files: list[Path] = typer.Argument(..., help="Filled dispute templates (.xlsx)."),
    ledger: Path = LedgerArg,
    late: str | None = typer.Option(
        None, "--late", metavar="REASON", help="Let in claims filed after the review deadline; kept in the audit log."
    ),
    day: str | None = typer.Option(None, "--date", help="Today's date for the deadline (YYYY-MM-DD, default today)."),
    actor: str = ActorOpt,
) -> None:
    """Check filled templates against the preview run in the ledger and record every claim, in one
    transaction; any bad row (named FILE:row (field)) refuses the whole import (exit 2), nothing recorded."""
    done = api.disputes_import(files, ledger, actor=actor, late=late, day=day)
    ids = ", ".join(str(i) for i in done.ids)
    out.print(f"{len(done.ids)} dispute(s) recorded in {ledger}: {ids}", markup=False)
    if done.late:
        out.print(f"filed after the review deadline {done.deadline}; reason recorded: {done.late}", markup=False)


@command(disputes_app, "decide")
def disputes_decide(
    ledger: Path = LedgerArg,
    dispute: int = typer.Option(..., "--id", help="The dispute id (pingyi disputes list)."),
    accept: bool = typer.Option(False, "--accept", help="Accept the dispute."),
    reject: bool = typer.Option(False, "--reject", help="Reject the dispute."),
    reason: str = typer.Option(..., "--reason", help="Why (kept in the ledger)."),
    value: str | None = typer.Option(
        None, "--value", help="Accepted only: the corrected value (default: the value claimed)."
    ),
    actor: str = ActorOpt,
) -> None:
    """Record the committee's decision on one dispute."""
    if accept == reject:
        raise PingyiError("give exactly one of --accept and --reject")
    d = api.disputes_decide(ledger, dispute, accept=accept, reason=reason, value=value, actor=actor)
    extra = f", corrected value {d['corrected_value']}" if d["corrected_value"] is not None else ""
    out.print(f"dispute {dispute} {d['status']}{extra}", markup=False)


@command(disputes_app, "list")
def disputes_list(
    ledger: Path = LedgerArg,
    year: int | None = typer.Option(None, "--year", help="Only this year's disputes."),
    provider: str | None = typer.Option(None, "--provider", help="Only this provider's disputes."),
    status: str | None = typer.Option(None, "--status", help="open, accepted or rejected."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List disputes in filing order."""
    rows = api.disputes_list(ledger, year=year, provider=provider, status=status)
    if as_json:
        out.print(json.dumps(rows, ensure_ascii=False, indent=1, sort_keys=True), markup=False)
        return
    table = Table()
    _columns(table, "id>", "provider", "indicator", "year>", "claimed>", "status", "corrected>", "reason", "decided by")
    for d in rows:
        table.add_row(
            str(d["id"]),
            d["fixmedins_code"],
            d["indicator"],
            str(d["year"]),
            d["claimed_value"] or "",
            d["status"],
            d["corrected_value"] or "",
            d["reason"],
            d["decided_by"] or "",
        )
    out.print(table)
    out.print(f"{len(rows)} dispute(s)", markup=False)


@command(disputes_app, "corrections")
def disputes_corrections(
    ledger: Path = LedgerArg,
    year: int = typer.Option(..., "--year", help="The evaluation year."),
    out_file: Path = typer.Option(..., "--out", "-o", help="The corrections table to write (CSV)."),
) -> None:
    """Write the year's accepted disputes as a corrections table (fixmedins_code, indicator, value,
    dispute_id, reason) for `pingyi score --corrections`."""
    table = api.disputes_corrections(ledger, year, out_file)
    out.print(f"{len(table.rows)} correction(s) written to {table.path}", markup=False)
    if table.skipped:
        ids = ", ".join(str(i) for i in table.skipped)
        out.print(f"accepted without a value to correct to (not in the table): {ids}", markup=False)
