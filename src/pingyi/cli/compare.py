"""The compare command: what changed between two runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from pingyi import api
from pingyi.cli import _columns, app, command, out


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return format(value, ".10g")
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _print_wide(table: Table) -> None:
    """A table at its natural width when stdout is a file or a pipe (nothing cut to 80 columns); a
    terminal's width otherwise."""
    if out.is_terminal:
        out.print(table)
        return
    width = max(out.width, Measurement.get(out, out.options.update_width(1000), table).maximum)
    Console(file=out.file, width=width, highlight=False, markup=False, emoji=False).print(table)


@command(app, "compare")
def compare(
    run_a: str = typer.Argument(..., metavar="RUN_A", help="A results folder, or a run id of --ledger."),
    run_b: str = typer.Argument(..., metavar="RUN_B", help="Another results folder or run id (compared against A)."),
    ledger: Path | None = typer.Option(
        None, "--ledger", "-l", help="The committee's ledger: RUN_A and RUN_B may then be run ids (pingyi ledger runs)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the comparison as JSON (shape: docs of pingyi.compare)."),
    xlsx: Path | None = typer.Option(
        None,
        "--xlsx",
        help="Also write a workbook: a 汇总 sheet (runs, money, counts) and a 变化 sheet (one row per change).",
    ),
    lang: str = typer.Option("zh", "--lang", help="Language of the workbook: zh (default) or en."),
) -> None:
    """What changed from RUN_A to RUN_B, per provider: indicator values, lights and scores, total, grade,
    rank, adjustment and designation; providers and indicators in one run only; the money moved. Each
    run's outputs must match its manifest. Runs of different years or catalogues are compared with a
    note. Exit 0 whether or not anything changed."""
    cmp = api.compare(run_a, run_b, ledger=ledger, xlsx=xlsx, lang=lang)
    if as_json:
        out.print(json.dumps(cmp.to_json(), ensure_ascii=False, indent=1, sort_keys=True), markup=False)
        return
    for tag, s in (("A", cmp.a), ("B", cmp.b)):
        stage = f", {s.stage} {s.date}" if s.stage else ""
        where = f"run {s.run_id} ({s.run_kind}): {s.results_dir}" if s.run_id is not None else s.results_dir
        out.print(
            f"{tag}: {where} (year {s.year}{stage}, {s.providers} providers, manifest {s.manifest_sha256[:12]})",
            markup=False,
        )
    for note in cmp.notes:
        out.print(f"note: {note.text}", markup=False)
    for what, files in (("project", cmp.project_files), ("data", cmp.data_files)):
        names = [*files.changed, *(f"+{n}" for n in files.added), *(f"-{n}" for n in files.removed)]
        if names:
            out.print(f"{what} files that differ: {', '.join(names)}", markup=False)
    for c in cmp.parameters:
        out.print(f"parameter {c.field}: {_show(c.a)} -> {_show(c.b)}", markup=False)
    if cmp.indicators_removed or cmp.indicators_added:
        out.print(
            f"indicators only in A: {', '.join(cmp.indicators_removed) or 'none'}; "
            f"only in B: {', '.join(cmp.indicators_added) or 'none'}",
            markup=False,
        )
    for c in cmp.definitions:
        out.print(f"definition of {c.indicator} {c.field}: {_show(c.a)} -> {_show(c.b)}", markup=False)
    for tag, only in (("only in A", cmp.providers_removed), ("only in B", cmp.providers_added)):
        for p in only:
            out.print(f"provider {tag}: {p.code} {p.name} {p.grade} amount {p.amount}", markup=False)
    if cmp.identical:
        out.print(f"no change: the {cmp.totals.providers_compared} providers' results are the same", markup=False)
    if cmp.changes:
        # the provider's code and name once, on its first row: the table stays narrow enough for 80 columns
        table = Table(title="changes (B against A)", box=box.SIMPLE_HEAD)
        _columns(table, "provider", "indicator", "field", "A>", "B>", "change>")
        last = None
        for c in cmp.changes:
            if c.provider != last:
                if last is not None:
                    table.add_section()
                table.add_row(c.provider, "", c.name, "", "", "")
                last = c.provider
            delta = "" if c.delta is None else _show(c.delta)
            table.add_row("", c.indicator or "", c.field, _show(c.a), _show(c.b), delta)
        _print_wide(table)
    t = cmp.totals
    money = Table(title="money (yuan)", box=box.SIMPLE_HEAD)
    _columns(money, "", "A>", "B>", "change>")
    money.add_row("penalties", str(t.a.penalties), str(t.b.penalties), str(t.b.penalties - t.a.penalties))
    money.add_row("rewards", str(t.a.rewards), str(t.b.rewards), str(t.b.rewards - t.a.rewards))
    money.add_row("net", str(t.a.net), str(t.b.net), str(t.net_change))
    money.add_row("sum of per-provider differences (providers in both)", "", "", str(t.amount_difference))
    money.add_row("sum of absolute differences (providers in both)", "", "", str(t.amount_moved))
    if t.added_amount or t.removed_amount or cmp.providers_added or cmp.providers_removed:
        money.add_row("providers only in A / only in B", str(t.removed_amount), str(t.added_amount), "")
    _print_wide(money)
    out.print(
        f"providers: {t.providers_compared} in both, {t.providers_changed} changed; grade changed {t.grade_changed}, "
        f"designation changed {t.designation_changed}, rank changed {t.rank_changed}, amount changed {t.amount_changed}",
        markup=False,
    )
    if cmp.xlsx is not None:
        out.print(f"workbook written: {cmp.xlsx}", markup=False)
