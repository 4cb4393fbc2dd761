"""The `pingyi` command line. It maps errors to exit codes and one-line messages and holds no
domain logic: every command calls one function of pingyi.api.

Exit codes: 0 success, 2 user error (bad project, bad data, bad arguments), 1 internal error.
No traceback is shown unless --debug is given. The mapping happens inside each command (`_guarded`),
so the app behaves the same run as `pingyi`, as `python -m pingyi.cli` or in-process (tests).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import typer
from rich.console import Console
from rich.progress import TaskID
from rich.table import Table

from pingyi import __version__, api
from pingyi.errors import IssueList, PingyiError, Severity
from pingyi.files import user_fault

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    help="pingyi (评议): performance scorecards for medical-insurance designated providers.",
)
# no markup and no emoji codes: messages quote input (column names, file names) literally
out = Console(soft_wrap=True, highlight=False, markup=False, emoji=False)
err = Console(stderr=True, soft_wrap=True, highlight=False, markup=False, emoji=False)
_state = {"debug": False}

F = TypeVar("F", bound=Callable[..., Any])


def _guarded(fn: F) -> F:
    """User errors (PingyiError) -> one line and exit 2; a bug -> one line and exit 1; with --debug the
    exception propagates with its traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, click.exceptions.ClickException):
            raise
        except PingyiError as exc:
            if _state["debug"]:
                raise
            err.print(f"error: {exc.message}", markup=False)
            raise typer.Exit(2) from None
        except OSError as exc:
            message = user_fault(exc)
            if _state["debug"] or message is None:
                _bug(exc)
            err.print(f"error: {message}")
            raise typer.Exit(2) from None
        except Exception as exc:  # a bug, not a user mistake
            _bug(exc)

    return wrapper  # type: ignore[return-value]


def _bug(exc: BaseException) -> None:
    if _state["debug"]:
        raise exc
    err.print(
        f"internal error (a bug in pingyi, not in your input): {type(exc).__name__}: {exc}. "
        "Please report it with the output of the same command run with --debug."
    )
    raise typer.Exit(1) from None


def command(group: typer.Typer, name: str | None = None) -> Callable[[F], F]:
    def register(fn: F) -> F:
        group.command(name)(_guarded(fn))
        return fn

    return register


ProjectOpt = typer.Option(None, "--project", "-p", help="Project directory (default: the project shipped with pingyi).")
YearOpt = typer.Option(
    None, help="Evaluation year (default: evaluation_year in policy.yaml, else the only baselines year)."
)
EncodingOpt = typer.Option(
    None, "--encoding", help="Encoding of non-UTF-8 CSV/JSON files: gbk, big5 (default: detected)."
)


def _version(value: bool) -> None:
    if value:
        out.print(f"pingyi {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show Python tracebacks for errors."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    _state["debug"] = debug


def _columns(table: Table, *names: str) -> None:
    """Add columns; a name ending in '>' is right-aligned (numbers)."""
    for name in names:
        right = name.endswith(">")
        table.add_column(name.rstrip(">"), justify="right" if right else "left")


def _print_issues(issues: IssueList) -> None:
    for issue in issues.sorted():
        style = "red" if issue.severity is Severity.ERROR else "yellow"
        err.print(issue.render(), style=style, markup=False)


@command(app)
def validate(
    project: Path | None = ProjectOpt,
    year: int | None = YearOpt,
    as_json: bool = typer.Option(False, "--json", help="Print issues as JSON."),
) -> None:
    """Check a project (indicators, AHP judgments, baselines, regions, policy); report every problem at once."""
    checked = api.validate(project, year)
    issues, tree = checked.issues, checked.tree
    if as_json:
        out.print_json(json.dumps([i.as_dict() for i in issues.sorted()], ensure_ascii=False))
    else:
        _print_issues(issues)
    n_err, n_warn = len(issues.errors), len(issues.warnings)
    if n_err:
        err.print(f"{n_err} error(s), {n_warn} warning(s): the project is not valid.", markup=False)
        raise typer.Exit(2)
    p = checked.project
    assert p is not None
    summary = (
        f"OK: {len(p.dimensions)} primary and {len(p.indicators)} secondary indicators, "
        f"baselines {p.year} ({p.baselines.region_scheme}), {n_warn} warning(s)"
    )
    if tree is not None:
        summary += f", qualitative weight {tree.qualitative_share():.1%}"
    (err if as_json else out).print(summary, markup=False)


@command(app)
def weights(
    project: Path | None = ProjectOpt,
    as_json: bool = typer.Option(False, "--json", help="Print the weight tree as JSON."),
) -> None:
    """Print the indicator hierarchy with local and global weights and each matrix's consistency ratio."""
    from pingyi.weights.display import monitor_sentence

    valid = api.weights(project)
    tree = valid.tree
    if as_json:
        out.print_json(json.dumps(tree.as_json(), ensure_ascii=False))
        return
    root = tree.root
    cr = f"CR {root.cr:.3f}" if root.cr is not None else "direct"
    out.print(
        f"{valid.project.hierarchy.name} {valid.project.hierarchy.version}: primary matrix {cr}; {root.provenance()}",
        markup=False,
    )
    table = Table(show_lines=False, header_style="bold")
    _columns(table, "code", "indicator", "local>", "global>", "carries>", "CR>", "note")
    carried = tree.carried_weights()
    for p in tree.primary:
        pcr = f"{p.matrix.cr:.3f}" if p.matrix.cr is not None else "direct"
        w = f"{p.weight:.4f}"
        table.add_row(p.code, f"{p.name_zh} {p.name_en}", w, w, w, pcr, "", style="bold")
        for s in p.secondary:
            nominal = "{:.4f}" if s.scored else "({:.4f})"  # a monitor-only indicator's weight is nominal
            table.add_row(
                f"  {s.code}",
                f"  {s.name_zh}",
                nominal.format(s.local_weight),
                nominal.format(s.global_weight),
                f"{carried[s.code]:.4f}",
                "",
                " ".join(x for x in ("qualitative" if s.qualitative else "", "" if s.scored else "监测 monitor") if x),
            )
    out.print(table)
    for s in (s for p in tree.primary for s in p.secondary if not s.scored):
        out.print(monitor_sentence(tree, s.code), markup=False)
    total = sum(tree.global_weights().values())
    out.print(
        f"global weights sum to {total:.12f}; qualitative (expert-scored) share {tree.qualitative_share():.1%}",
        markup=False,
    )


@command(app)
def explain(
    code: str = typer.Argument(..., help="Indicator code, e.g. D1.01."),
    project: Path | None = typer.Option(
        None,
        "--project",
        "-p",
        help="Project directory (default: with --results, the project recorded in its manifest.json; "
        "otherwise the project shipped with pingyi).",
    ),
    provider: str | None = typer.Option(
        None, "--provider", help="fixmedins_code: walk this provider's number end to end."
    ),
    results: Path | None = typer.Option(
        None,
        "--results",
        help="Results directory of `pingyi score` (with --provider); the project it was made with is read "
        "from its manifest.json.",
    ),
) -> None:
    """Print one indicator's explanation-manual entry (指标解释手册) and the SQL of its measures; with
    --provider and --results, walk that provider's number from measures to its contribution to the total,
    with the project the results were made with (from their manifest.json; an error if its files changed
    since, or if --project names another project)."""
    out.print(api.explain(code, project, provider, results), markup=False)


@command(app)
def init(
    directory: Path = typer.Argument(..., help="New project directory to create."),
    force: bool = typer.Option(False, help="Write into an existing non-empty directory."),
) -> None:
    """Copy the shipped project (indicators, baselines, measures, policy) into DIRECTORY for a committee to edit."""
    copied = api.init_project(directory, force)
    out.print(
        f"created project {directory} ({', '.join(copied)}); check it with `pingyi validate --project {directory}`",
        markup=False,
    )


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
) -> None:
    """Evaluate every provider: scores, traffic lights, grades, prepayment adjustments, manifest.

    Run guards stop the run (exit 2) when the evaluation year has no settlement, too many rows of a table are
    rejected, a required table is empty or nobody can be graded; other guards warn in the summary, in
    results.json and on the committee report."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from pingyi.run.summary import print_summary

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
        run = api.evaluate(
            data, out_dir, project, year, history, progress=lambda: bar.advance(task), strict=strict, encoding=encoding
        )
    print_summary(out, run, out_dir)


@command(app)
def quality(
    data: Path = typer.Option(..., "--data", "-d", help="Bundle directory: one file per table."),
    project: Path | None = ProjectOpt,
    year: int | None = YearOpt,
    out_dir: Path | None = typer.Option(None, "--out", "-o", help="Write quality.csv and rejected.csv here."),
    encoding: str | None = EncodingOpt,
) -> None:
    """Check a data bundle: rows read, used and rejected per table, the top failing checks (exit 0 even with rejects)."""
    checked = api.check_quality(data, project, year, out_dir, encoding=encoding)
    year = checked.year
    for warning in checked.warnings:
        err.print(f"warning: {warning}", style="yellow", markup=False)
    result = checked.result
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
    folder: Path = typer.Argument(..., help="Results folder of `pingyi score`, or report folder of `pingyi report`."),
    data: Path | None = typer.Option(None, "--data", help="Bundle directory (default: as recorded in the manifest)."),
    project: Path | None = ProjectOpt,
    results: Path | None = typer.Option(
        None, "--results", help="Report folder only: the results folder it came from (default: as recorded)."
    ),
    rerender: bool = typer.Option(False, "--rerender", help="Report folder only: render again and compare bytes."),
) -> None:
    """Check a folder against its manifest: a results folder is re-run from the recorded inputs and compared byte
    for byte; a report folder's PDF, XLSX and HTML files are checked (and re-rendered with --rerender).
    Exit 0 all match, 1 otherwise."""
    report = api.verify(folder, data, project, results=results, rerender=rerender)
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


def main() -> None:
    """Console-script entry point (typer's standalone mode turns usage errors into exit 2)."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
