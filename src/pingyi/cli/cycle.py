"""Commands of the evaluation cycle: `pingyi ledger …` (the committee's ledger) and `pingyi rectify …`
(rectification items, 整改)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from pingyi import api
from pingyi.cli import ActorOpt, _columns, app, command, err, out

ledger_app = typer.Typer(
    no_args_is_help=True,
    help="The committee's ledger: runs, disputes, warnings and rectification in a tamper-evident log.",
)
rectify_app = typer.Typer(no_args_is_help=True, help="Rectification items (整改) opened by final runs.")
app.add_typer(ledger_app, name="ledger")
app.add_typer(rectify_app, name="rectify")

LedgerArg = typer.Option(..., "--ledger", "-l", help="The committee's ledger file.")


@command(ledger_app, "init")
def ledger_init(
    path: Path = typer.Argument(..., help="The ledger file to create (refused if it exists)."),
    committee: str = typer.Option(..., "--committee", help="The committee, e.g. 浙江省医疗保障局."),
    actor: str = ActorOpt,
) -> None:
    """Create a new, empty ledger."""
    api.ledger_init(path, committee=committee, actor=actor)
    out.print(f"ledger created: {path} (committee {committee})", markup=False)


@command(ledger_app, "verify")
def ledger_verify(
    path: Path = typer.Argument(..., help="The ledger file."),
    public_key: list[Path] = typer.Option(
        [], "--public-key", help="The committee's public key file(s) (.pub); default: the keys stored in the ledger."
    ),
    no_files: bool = typer.Option(False, "--no-files", help="Do not check the recorded results folders."),
) -> None:
    """Check the audit chain, every row, the run chain, the signatures and every recorded run's files.
    Exit 0 when everything holds, 2 when anything differs (each problem on one line)."""
    report = api.ledger_verify(path, public_keys=public_key, check_files=not no_files)
    for line in report.lines:
        (out if report.ok else err).print(line, markup=False)
    if not report.ok:
        raise typer.Exit(2)


@command(ledger_app, "keygen")
def ledger_keygen(path: Path = typer.Argument(..., help="Private key file to write (PATH.pub beside it).")) -> None:
    """Write a new Ed25519 key pair for signing final runs (keep the private key off shared disks)."""
    key = api.ledger_keygen(path)
    out.print(f"private key {key.private} (mode 0600), public key {key.public}, key id {key.key_id}", markup=False)


@command(ledger_app, "sign")
def ledger_sign(
    ledger: Path = LedgerArg,
    run: int = typer.Option(..., "--run", help="The run id to sign (pingyi ledger runs)."),
    key: Path = typer.Option(..., "--key", help="The committee's private key (pingyi ledger keygen)."),
    actor: str = ActorOpt,
) -> None:
    """Sign a recorded run with the committee's Ed25519 key."""
    signature = api.ledger_sign(ledger, run, key, actor=actor)
    out.print(f"run {run} signed: {signature[:16]}…", markup=False)


@command(ledger_app, "runs")
def ledger_runs(
    ledger: Path = LedgerArg,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List the recorded runs."""
    runs = api.ledger_runs(ledger)
    if as_json:
        out.print(json.dumps(runs, ensure_ascii=False, indent=1, sort_keys=True), markup=False)
        return
    table = Table()
    _columns(table, "run>", "kind", "year>", "providers>", "recorded", "by", "signed", "results")
    for r in runs:
        table.add_row(
            str(r["id"]),
            r["kind"],
            str(r["year"]),
            str(r["provider_count"]),
            r["created_at"],
            r["actor"],
            "yes" if r["signature"] else "",
            r["results_dir"],
        )
    out.print(table)


@command(rectify_app, "list")
def rectify_list(
    ledger: Path = LedgerArg,
    provider: str | None = typer.Option(None, "--provider", help="One provider's items."),
    status: str | None = typer.Option(
        None, "--status", help="open, submitted, overdue or closed (default: not closed)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List rectification items, earliest deadline first."""
    items = api.rectify_list(ledger, provider=provider, status=status)
    if as_json:
        out.print(json.dumps(items, ensure_ascii=False, indent=1, sort_keys=True), markup=False)
        return
    table = Table()
    _columns(table, "item>", "provider", "indicator", "opened>", "deadline", "status", "closed by run>")
    for i in items:
        table.add_row(
            str(i["id"]),
            i["fixmedins_code"],
            i["indicator"],
            str(i["year_opened"]),
            i["deadline"],
            i["status"],
            str(i["closed_by_run"] or ""),
        )
    out.print(table)
    out.print(f"{len(items)} item(s)", markup=False)


@command(rectify_app, "submit")
def rectify_submit(
    ledger: Path = LedgerArg,
    item: int = typer.Option(..., "--item", help="The item id (pingyi rectify list)."),
    notes: str = typer.Option(..., "--notes", help="What was done and where the evidence is."),
    actor: str = ActorOpt,
) -> None:
    """A provider reports an item fixed; the next final or recheck run closes it if the light agrees."""
    api.rectify_submit(ledger, item, notes=notes, actor=actor)
    out.print(f"item {item} submitted", markup=False)


@command(rectify_app, "close")
def rectify_close(
    ledger: Path = LedgerArg,
    item: int = typer.Option(..., "--item", help="The item id."),
    run: int = typer.Option(..., "--run", help="The recheck or final run that shows it fixed."),
    notes: str = typer.Option(..., "--notes", help="Why it is closed (e.g. the on-site re-check's finding)."),
    actor: str = ActorOpt,
) -> None:
    """Close an item by hand on a later recheck or final run (e.g. after an on-site re-check)."""
    api.rectify_close(ledger, item, run_id=run, notes=notes, actor=actor)
    out.print(f"item {item} closed by run {run}", markup=False)
