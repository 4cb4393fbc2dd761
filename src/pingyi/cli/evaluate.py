"""Commands of an evaluation: score, quality, verify, example, report."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.progress import TaskID
from rich.table import Table

from pingyi import api
from pingyi.cli import ActorOpt, EncodingOpt, LedgerOpt, ProjectOpt, YearOpt, _columns, app, command, err, out
from pingyi.errors import PingyiError


@command(app)
def score(
    data: Path = typer.Option(..., "--data", "-d", help="Bundle directory: one file per table."),
    out_dir: Path = typer.Option(..., "--out", "-o", help="Directory for the result files."),
    project: Path | None = ProjectOpt,
    year: int | None = YearOpt,
    history: Path | None = typer.Option(
        None,
        help="Last year's results directory (its results.json: year - 1, same catalogue; carries the grade history for revoke_after).",
    ),
    strict: bool = typer.Option(False, "--strict", help="Stop on every run guard's warning too (exit 2)."),
    encoding: str | None = EncodingOpt,
    preview: bool = typer.Option(
        False, "--preview", help="A preview (征求意见稿): reports watermarked, with the review deadline."
    ),
    final: bool = typer.Option(
        False,
        "--final",
        help="The final run: refused while disputes are undecided in --ledger; opens rectification items.",
    ),
    recheck: bool = typer.Option(
        False, "--recheck", help="A re-check (复查) on new data: closes rectification items that are fixed."
    ),
    ledger: Path | None = LedgerOpt,
    day: str | None = typer.Option(
        None,
        "--date",
        help="The run's date (YYYY-MM-DD, default today): review and rectification deadlines count from it.",
    ),
    force: str | None = typer.Option(
        None,
        "--force",
        metavar="REASON",
        help="Publish a final run with undecided disputes; the reason goes to the ledger.",
    ),
    corrections: Path | None = typer.Option(
        None,
        "--corrections",
        help="A corrections table (pingyi disputes corrections) applied before scoring; with --final --ledger "
        "and no table, the ledger's accepted disputes of the year are applied.",
    ),
    actor: str = ActorOpt,
    engine: str = typer.Option(
        "duckdb",
        "--engine",
        help="What reads, checks and measures the bundle: duckdb (in-process) or spark (Parquet tables on a "
        "cluster, pingyi[spark]); the outputs are the same.",
    ),
    spark_master: str | None = typer.Option(
        None,
        "--spark-master",
        metavar="URL",
        help="Spark master for --engine spark: local[4], spark://host:7077, yarn (default: spark-submit's, else local[*]).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as one JSON object (docs/json.md)."),
) -> None:
    """Evaluate every provider: scores, traffic lights, grades, prepayment adjustments, manifest.

    Run guards stop the run (exit 2) when the evaluation year has no settlement, too many rows of a table are
    rejected, a required table is empty or nobody can be graded; other guards warn in the summary, in
    results.json and on the committee report."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from pingyi.cycle.summary import print_cycle
    from pingyi.run.summary import print_summary, summary_record

    with Progress(
        TextColumn("scoring providers"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task("score", total=None)
        stages = [name for name, on in (("preview", preview), ("final", final), ("recheck", recheck)) if on]
        if len(stages) > 1:
            raise PingyiError(f"--{stages[0]} and --{stages[1]} exclude each other; a run is one stage of the cycle")
        cycle = api.score_cycle(
            data,
            out_dir,
            project,
            year,
            history,
            stage=stages[0] if stages else None,
            ledger=ledger,
            actor=actor,
            day=day,
            force=force,
            corrections=corrections,
            progress=lambda: bar.advance(task),
            strict=strict,
            encoding=encoding,
            engine=engine,
            spark_master=spark_master,
        )
    if as_json:
        record = summary_record(cycle.result, out_dir)
        record["cycle"] = {
            "stage": cycle.stage, "date": cycle.date, "review_deadline": cycle.review_deadline,
            "ledger": None if cycle.ledger is None else str(cycle.ledger), "run_id": cycle.run_id,
        }  # fmt: skip
        out.print_json(json.dumps(record, ensure_ascii=False, default=str))
        return
    print_summary(out, cycle.result, out_dir)
    print_cycle(out, cycle)


@command(app)
def quality(
    data: Path = typer.Option(..., "--data", "-d", help="Bundle directory: one file per table."),
    project: Path | None = ProjectOpt,
    year: int | None = YearOpt,
    out_dir: Path | None = typer.Option(None, "--out", "-o", help="Write quality.csv and rejected.csv here."),
    encoding: str | None = EncodingOpt,
    as_json: bool = typer.Option(False, "--json", help="Print the counts and failing checks as JSON (docs/json.md)."),
) -> None:
    """Check a data bundle: rows read, used and rejected per table, the top failing checks (exit 0 even with rejects)."""
    checked = api.check_quality(data, project, year, out_dir, encoding=encoding)
    year = checked.year
    for warning in checked.warnings:
        err.print(f"warning: {warning}", style="yellow", markup=False)
    result = checked.result
    if as_json:
        record = {
            "year": year,
            "window": [f"{year - 1}-01-01", f"{year}-12-31"],
            "warnings": list(checked.warnings),
            "tables": {
                c.table: {"file": c.file, "read": c.read, "used": c.used, "rejected": c.rejected, "flagged": c.flagged}
                for c in result.counts.values()
                if c.file
            },
            "top_failures": [f.as_json() for f in result.top_failures(10)],
            "written": [str(p) for p in checked.written],
        }
        out.print_json(json.dumps(record, ensure_ascii=False))
        return
    table = Table(
        title=f"data quality, evaluation year {year} (window {year - 1}-01-01 to {year}-12-31)", header_style="bold"
    )
    _columns(table, "table", "file", "read>", "used>", "rejected>", "flagged>")
    for c in result.counts.values():
        if c.file:
            table.add_row(c.table, c.file, f"{c.read:,}", f"{c.used:,}", f"{c.rejected:,}", f"{c.flagged:,}")
    out.print(table)
    top = result.top_failures(10)
    if top:
        t2 = Table(title="top failing checks", header_style="bold")
        _columns(t2, "table", "check", "reason", "severity", "failed>", "rate>")
        for f in top:
            t2.add_row(f.table, f.check, f.reason_code, f.severity, f"{f.failed:,}", f"{f.rate:.2%}")
        out.print(t2)
    else:
        out.print("no check failed", markup=False)
    if checked.written:
        out.print(f"wrote {', '.join(str(p) for p in checked.written)}", markup=False)


@command(app)
def verify(
    folder: Path = typer.Argument(
        ...,
        help="Results folder of `pingyi score`, monitoring folder of `pingyi monitor`, or report folder of `pingyi report`.",
    ),
    data: Path | None = typer.Option(None, "--data", help="Bundle directory (default: as recorded in the manifest)."),
    project: Path | None = ProjectOpt,
    results: Path | None = typer.Option(
        None, "--results", help="Report folder only: the results folder it came from (default: as recorded)."
    ),
    rerender: bool = typer.Option(False, "--rerender", help="Report folder only: render again and compare bytes."),
    as_json: bool = typer.Option(
        False, "--json", help="Print {ok, lines} as JSON (docs/json.md); exit codes as without."
    ),
) -> None:
    """Check a folder against its manifest: a results or monitoring folder is re-run from the recorded inputs and
    compared byte for byte; a report folder's PDF, XLSX and HTML files are checked (and re-rendered with --rerender).
    Exit 0 all match, 1 otherwise."""
    report = api.verify(folder, data, project, results=results, rerender=rerender)
    if as_json:
        out.print_json(json.dumps({"folder": str(folder), "ok": report.ok, "lines": report.lines}, ensure_ascii=False))
        if not report.ok:
            raise typer.Exit(1)
        return
    for line in report.lines:
        style = None if line.startswith(("ok", "note", "re-rendered")) else "red"
        out.print(line, style=style, markup=False)
    if report.ok:
        out.print("verified: every output matches its manifest (and a fresh re-run where one was made)", markup=False)
    else:
        out.print("NOT verified: see the lines above", style="red", markup=False)
        raise typer.Exit(1)


@command(app)
def example(
    out_dir: Path = typer.Option(..., "--out", "-o", help="Directory to write the bundle into."),
    providers: int = typer.Option(24, help="Number of providers (at least 9)."),
    rows: int | None = typer.Option(
        None, help="Settlement rows, both years together (planted bad rows included); default: the scale's."
    ),
    seed: int = typer.Option(2025, help="Random seed: the same arguments give byte-identical files."),
    year: int = typer.Option(2025, help="Evaluation year; settlements cover year-1 and year."),
    fmt: str = typer.Option(
        "mixed", "--format", help="csv, parquet, or mixed (providers.xlsx, Parquet extracts, CSV side tables)."
    ),
    project: Path | None = ProjectOpt,
    scale: str = typer.Option(
        "province",
        help="province (real volumes per provider, the shipped example: 440,000 rows) or small (40,000 rows, for tests).",
    ),
) -> None:
    """Write a deterministic synthetic bundle for 浙江/河南/四川 (with planted bad rows listed in _planted.json)."""
    import time

    from pingyi.spec.project import default_project_dir
    from pingyi.tools.example import generate_example

    started = time.perf_counter()
    s = generate_example(
        out_dir,
        providers=providers,
        rows=rows,
        seed=seed,
        year=year,
        project_dir=project or default_project_dir(),
        fmt=fmt,
        scale=scale,
    )
    out.print(
        f"wrote {out_dir}: {s.providers} providers, {s.rows:,} settlements ({year - 1}-{year}), "
        f"{s.table_rows['setl_lists']:,} settlement lists, {s.table_rows['fee_items']:,} fee lines, "
        f"{s.planted} planted bad rows; {s.total_bytes / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s",
        markup=False,
    )
    out.print(
        f"special providers: severe case mix, efficient {s.severe_casemix_provider}; "
        f"confirmed fraud {s.fraud_provider}",
        markup=False,
    )


@command(app)
def report(
    results: Path = typer.Option(..., "--results", "-r", help="Results directory written by `pingyi score`."),
    out_dir: Path = typer.Option(..., "--out", "-o", help="Directory for the reports."),
    formats: str = typer.Option("pdf,xlsx,html", "--format", "-f", help="Comma-separated: pdf, xlsx, html."),
    provider: list[str] | None = typer.Option(
        None,
        "--provider",
        help="fixmedins_code of a provider to report on (repeatable); default all. The committee report needs all.",
    ),
    lang: str = typer.Option("zh", "--lang", help="zh (default) or en."),
    workers: int = typer.Option(0, "--workers", "-w", min=0, help="PDF worker processes (0 = one per CPU)."),
    templates: Path | None = typer.Option(
        None,
        "--templates",
        help="Directory with your own copies of reports/templates/ files (others fall back to the shipped ones).",
    ),
    ledger: Path | None = typer.Option(
        None,
        "--ledger",
        help="The committee's ledger: cards list open rectification items, the committee report the "
        "rectification rate and overdue items (a snapshot is kept as ledger.json).",
    ),
    uncertainty: Path | None = typer.Option(
        None,
        "--uncertainty",
        help="A folder of `pingyi uncertainty` on these results: the committee report lists the providers "
        "whose grade is less than 80 % sure (kept as uncertainty.json).",
    ),
) -> None:
    """Render report cards (A4 PDF per provider), the committee report, an Excel workbook and offline HTML,
    all from one context per provider, so they never disagree."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    names = {"pdf": "PDF cards", "committee": "committee PDF", "xlsx": "Excel workbook", "html": "HTML cards"}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def tick(stage: str, advance: int, total: int | None) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(names.get(stage, stage), total=total)
            if advance:
                bar.advance(tasks[stage], advance)

        run = api.report(
            results,
            out_dir,
            formats=[formats],
            providers=provider,
            lang=lang,
            workers=workers,
            templates=templates,
            progress=tick,
            ledger=ledger,
            uncertainty=uncertainty,
        )
    for warning in run.warnings:
        err.print(f"WARNING {warning}", style="bold yellow")
    took = ", ".join(f"{k} {v:.1f}s" for k, v in run.timings.items())
    out.print(
        f"wrote {len(run.files)} file(s) for {run.cards} provider(s) to {run.out}"
        + (f" ({run.pages} PDF card pages)" if run.pages else "")
        + f"; {took}",
        markup=False,
    )
