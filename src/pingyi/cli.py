"""The `pingyi` command line. It maps errors to exit codes and one-line messages and holds no
domain logic: every command calls one function of the library.

Exit codes: 0 success, 2 user error (bad project, bad data, bad arguments), 1 internal error.
No traceback is shown unless --debug is given.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from pingyi import __version__
from pingyi.errors import IssueList, Level, PingyiError

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None, pretty_exceptions_enable=False,
                  help="pingyi (评议): performance scorecards for medical-insurance designated providers.")
out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)
_state = {"debug": False}

ProjectOpt = typer.Option(None, "--project", "-p", help="Project directory (default: the project shipped with pingyi).")


def _version(value: bool) -> None:
    if value:
        out.print(f"pingyi {__version__}")
        raise typer.Exit()


@app.callback()
def _root(debug: bool = typer.Option(False, "--debug", help="Show Python tracebacks for errors."),
          version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    _state["debug"] = debug


def _load(project: Optional[Path], year: Optional[int] = None):
    """Load and validate a project; print every issue; exit 2 if any error."""
    from pingyi.spec.project import load_project
    from pingyi.weights.tree import compute_weights

    result = load_project(project, year=year)
    tree = None
    if result.project is not None:
        from pingyi.run.pipeline import check_measures

        tree = compute_weights(result.project, result.issues)
        result.issues.extend(check_measures(result.project))
    return result, tree


def _print_issues(issues: IssueList) -> None:
    for issue in issues.sorted():
        style = "red" if issue.level is Level.ERROR else "yellow"
        err.print(issue.render(), style=style, markup=False)


@app.command()
def validate(project: Optional[Path] = ProjectOpt,
             year: Optional[int] = typer.Option(None, help="Evaluation year whose baselines to check (default: latest)."),
             as_json: bool = typer.Option(False, "--json", help="Print issues as JSON.")) -> None:
    """Check a project (indicators, AHP judgments, baselines, regions, policy); report every problem at once."""
    result, tree = _load(project, year)
    issues = result.issues
    if as_json:
        out.print_json(json.dumps([i.as_dict() for i in issues.sorted()], ensure_ascii=False))
    else:
        _print_issues(issues)
    n_err, n_warn = len(issues.errors), len(issues.warnings)
    if n_err:
        err.print(f"{n_err} error(s), {n_warn} warning(s): the project is not valid.", markup=False)
        raise typer.Exit(2)
    p = result.project
    summary = (f"OK: {len(p.dimensions)} primary and {len(p.indicators)} secondary indicators, "
               f"baselines {p.year} ({p.baselines.region_scheme}), {n_warn} warning(s)")
    if tree is not None:
        summary += f", qualitative weight {tree.qualitative_share():.1%}"
    (err if as_json else out).print(summary, markup=False)


@app.command()
def weights(project: Optional[Path] = ProjectOpt,
            as_json: bool = typer.Option(False, "--json", help="Print the weight tree as JSON.")) -> None:
    """Print the indicator hierarchy with local and global weights and each matrix's consistency ratio."""
    result, tree = _load(project)
    if result.issues.errors or tree is None:
        _print_issues(result.issues)
        raise PingyiError("the project has errors; run `pingyi validate` for the full list")
    if as_json:
        out.print_json(json.dumps(tree.as_json(), ensure_ascii=False))
        return
    root = tree.root
    cr = f"CR {root.cr:.3f}" if root.cr is not None else "direct"
    out.print(f"{result.project.hierarchy.name} {result.project.hierarchy.version}: primary matrix {cr}; "
              f"{root.provenance()}", markup=False)
    table = Table(show_lines=False, header_style="bold")
    for col, justify in (("code", "left"), ("indicator", "left"), ("local", "right"), ("global", "right"),
                         ("CR", "right"), ("note", "left")):
        table.add_column(col, justify=justify)
    for p in tree.primary:
        pcr = f"{p.matrix.cr:.3f}" if p.matrix.cr is not None else "direct"
        table.add_row(p.code, f"{p.name_zh} {p.name_en}", f"{p.weight:.4f}", f"{p.weight:.4f}", pcr, "", style="bold")
        for s in p.secondary:
            table.add_row(f"  {s.code}", f"  {s.name_zh}", f"{s.local_weight:.4f}", f"{s.global_weight:.4f}", "",
                          "qualitative" if s.qualitative else "")
    out.print(table)
    total = sum(tree.global_weights().values())
    out.print(f"global weights sum to {total:.12f}; qualitative (expert-scored) share {tree.qualitative_share():.1%}",
              markup=False)


@app.command()
def explain(code: str = typer.Argument(..., help="Indicator code, e.g. D1.01."),
            project: Optional[Path] = ProjectOpt,
            provider: Optional[str] = typer.Option(None, "--provider", help="fixmedins_code: walk this provider's number end to end."),
            results: Optional[Path] = typer.Option(None, "--results", help="Results directory of `pingyi score` (with --provider).")) -> None:
    """Print one indicator's explanation-manual entry (指标解释手册) and the SQL of its measures; with
    --provider and --results, walk that provider's number from measures to its contribution to the total."""
    from pingyi.explain import explain_indicator, explain_measures, explain_provider

    result, tree = _load(project)
    if result.project is None:
        _print_issues(result.issues)
        raise PingyiError("the project cannot be loaded; run `pingyi validate` for the full list")
    out.print(explain_indicator(result.project, tree, code), markup=False)
    out.print(explain_measures(result.project, code), markup=False)
    if provider is not None or results is not None:
        if provider is None or results is None:
            raise PingyiError("--provider and --results go together: give both to explain one provider's number")
        out.print(explain_provider(result.project, code, provider, results), markup=False)


@app.command()
def init(directory: Path = typer.Argument(..., help="New project directory to create."),
         force: bool = typer.Option(False, help="Write into an existing non-empty directory.")) -> None:
    """Copy the shipped project (indicators, baselines, measures, policy) into DIRECTORY for a committee to edit."""
    from pingyi.spec.project import copy_project, default_project_dir

    if directory.exists() and any(directory.iterdir()) and not force:
        raise PingyiError(f"{directory}: directory is not empty; expected a new or empty directory "
                          f"(use --force to write into it)")
    copied = copy_project(default_project_dir(), directory)
    out.print(f"created project {directory} ({', '.join(copied)}); check it with `pingyi validate --project {directory}`",
              markup=False)


@app.command()
def score(data: Path = typer.Option(..., "--data", "-d", help="Bundle directory: one file per table."),
          out_dir: Path = typer.Option(..., "--out", "-o", help="Directory for the result files."),
          project: Optional[Path] = ProjectOpt,
          year: Optional[int] = typer.Option(None, help="Evaluation year (default: the project's baselines year)."),
          history: Optional[Path] = typer.Option(None, help="Last year's results directory (for the two-year rule).")) -> None:
    """Evaluate every provider: scores, traffic lights, grades, prepayment adjustments, manifest."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from pingyi.run.evaluate import evaluate_to
    from pingyi.run.summary import print_summary

    with Progress(TextColumn("scoring providers"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("score", total=None)
        run = evaluate_to(data, project, year, history, out_dir, progress=lambda: bar.advance(task))
    print_summary(out, run, out_dir)


@app.command()
def quality(data: Path = typer.Option(..., "--data", "-d", help="Bundle directory: one file per table."),
            project: Optional[Path] = ProjectOpt,
            year: Optional[int] = typer.Option(None, help="Evaluation year (default: the project's baselines year)."),
            out_dir: Optional[Path] = typer.Option(None, "--out", "-o", help="Write quality.csv and rejected.csv here.")) -> None:
    """Check a data bundle: rows read, used and rejected per table, the top failing checks (exit 0 even with rejects)."""
    from pingyi.data.read import open_bundle
    from pingyi.data.quality import run_quality
    from pingyi.spec.project import baselines_year, load_data_settings

    settings = load_data_settings(project)
    if year is None:
        year = baselines_year(project)
        if year is None:
            raise PingyiError("cannot tell the evaluation year: the project has no baselines/*.yaml with a year; "
                              "pass --year YYYY")
    with open_bundle(data, settings, year) as bundle:
        for warning in bundle.warnings:
            err.print(f"warning: {warning}", style="yellow", markup=False)
        result = run_quality(bundle, settings, year)
        table = Table(title=f"data quality, evaluation year {year} (window {year - 1}-01-01 to {year}-12-31)",
                      header_style="bold")
        for col, justify in (("table", "left"), ("file", "left"), ("read", "right"), ("used", "right"),
                             ("rejected", "right"), ("flagged", "right")):
            table.add_column(col, justify=justify)
        for c in result.counts.values():
            if c.file:
                table.add_row(c.table, c.file, f"{c.read:,}", f"{c.used:,}", f"{c.rejected:,}", f"{c.flagged:,}")
        out.print(table)
        top = result.top_failures(10)
        if top:
            t2 = Table(title="top failing checks", header_style="bold")
            for col, justify in (("table", "left"), ("check", "left"), ("reason", "left"), ("severity", "left"),
                                 ("failed", "right"), ("rate", "right")):
                t2.add_column(col, justify=justify)
            for f in top:
                t2.add_row(f["table"], f["check"], f["reason_code"], f["severity"], f"{f['failed']:,}", f"{f['rate']:.2%}")
            out.print(t2)
        else:
            out.print("no check failed", markup=False)
        if out_dir is not None:
            written = result.write(out_dir)
            out.print(f"wrote {', '.join(str(p) for p in written)}", markup=False)


@app.command()
def verify(results: Path = typer.Argument(..., help="Results directory written by `pingyi score`."),
           data: Optional[Path] = typer.Option(None, "--data", help="Bundle directory (default: as recorded in the manifest)."),
           project: Optional[Path] = ProjectOpt) -> None:
    """Re-run an evaluation from the inputs its manifest names and check every output byte for byte (exit 0 all match, 1 otherwise)."""
    from pingyi.run.manifest import verify as verify_results

    report = verify_results(results, data, project)
    for line in report.lines:
        style = None if line.startswith(("ok", "note")) else "red"
        out.print(line, style=style, markup=False)
    if report.ok:
        out.print("verified: every output matches a fresh re-run and the manifest", markup=False)
    else:
        out.print("NOT verified: see the lines above", style="red", markup=False)
        raise typer.Exit(1)


@app.command()
def example(out_dir: Path = typer.Option(..., "--out", "-o", help="Directory to write the bundle into."),
            providers: int = typer.Option(24, help="Number of providers (at least 9)."),
            rows: int = typer.Option(40000, help="Settlement rows, both years together (planted bad rows included)."),
            seed: int = typer.Option(2025, help="Random seed: the same arguments give byte-identical files."),
            year: int = typer.Option(2025, help="Evaluation year; settlements cover year-1 and year."),
            fmt: str = typer.Option("mixed", "--format", help="csv, parquet, or mixed (providers.xlsx, Parquet extracts, CSV side tables)."),
            project: Optional[Path] = ProjectOpt) -> None:
    """Write a deterministic synthetic bundle for 浙江/河南/四川 (with planted bad rows listed in _planted.json)."""
    import time

    from pingyi.tools.example import generate_example
    from pingyi.spec.project import default_project_dir

    started = time.perf_counter()
    s = generate_example(out_dir, providers=providers, rows=rows, seed=seed, year=year,
                         project_dir=project or default_project_dir(), fmt=fmt)
    out.print(f"wrote {out_dir}: {s.providers} providers, {s.rows:,} settlements ({year - 1}-{year}), "
              f"{s.table_rows['setl_lists']:,} settlement lists, {s.table_rows['fee_items']:,} fee lines, "
              f"{s.planted} planted bad rows; {s.total_bytes / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s",
              markup=False)
    out.print(f"special providers: severe case mix, efficient {s.severe_casemix_provider}; "
              f"confirmed fraud {s.fraud_provider}", markup=False)


@app.command()
def report(results: Path = typer.Option(..., "--results", "-r", help="Results directory written by `pingyi score`."),
           out_dir: Path = typer.Option(..., "--out", "-o", help="Directory for the reports."),
           formats: str = typer.Option("pdf,xlsx,html", "--format", "-f", help="Comma-separated: pdf, xlsx, html."),
           provider: Optional[list[str]] = typer.Option(None, "--provider", help="fixmedins_code of a provider to report "
                                                         "on (repeatable); default all. The committee report needs all."),
           lang: str = typer.Option("zh", "--lang", help="zh (default) or en."),
           workers: int = typer.Option(0, "--workers", "-w", min=0, help="PDF worker processes (0 = one per CPU)."),
           templates: Optional[Path] = typer.Option(None, "--templates", help="Directory with your own copies of "
                                                    "reports/templates/ files (others fall back to the shipped ones).")) -> None:
    """Render report cards (A4 PDF per provider), the committee report, an Excel workbook and offline HTML,
    all from one context per provider, so they never disagree."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from pingyi.report.run import render_reports

    names = {"pdf": "PDF cards", "committee": "committee PDF", "xlsx": "Excel workbook", "html": "HTML cards"}
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TimeRemainingColumn(), console=err, transient=True, disable=not err.is_terminal) as bar:
        tasks: dict[str, int] = {}

        def tick(stage: str, advance: int, total: Optional[int]) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(names.get(stage, stage), total=total)
            if advance:
                bar.advance(tasks[stage], advance)

        run = render_reports(results, out_dir, formats=[formats], providers=provider, lang=lang, workers=workers,
                             templates=templates, progress=tick)
    took = ", ".join(f"{k} {v:.1f}s" for k, v in run.timings.items())
    out.print(f"wrote {len(run.files)} file(s) for {run.cards} provider(s) to {run.out}"
              + (f" ({run.pages} PDF card pages)" if run.pages else "") + f"; {took}", markup=False)


baselines_app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                            help="Baselines: derive next year's from this year's results (动态调整).")
app.add_typer(baselines_app, name="baselines")


@baselines_app.command("derive")
def baselines_derive(results: Path = typer.Option(..., "--results", "-r", help="Results directory of `pingyi score`."),
                     year: int = typer.Option(..., "--year", help="The year the new baselines are for (usually next year)."),
                     out_file: Path = typer.Option(..., "--out", "-o", help="Baselines YAML to write, e.g. baselines/2026.yaml."),
                     ageing: Optional[Path] = typer.Option(None, "--ageing", help="Ageing factor file (YAML or CSV): "
                                                           "change in ageing rate per region, elasticity per indicator."),
                     method: str = typer.Option("median", "--method", help="median, or pNN: the NN-th percentile in "
                                                "the indicator's good direction (p75 = better than 75 % of peers)."),
                     max_change: float = typer.Option(0.10, "--max-change", help="Guardrail: at most this share of "
                                                      "the current baseline per year (0.10 = ±10 %)."),
                     max_change_pp: Optional[float] = typer.Option(None, "--max-change-pp", help="Guardrail for "
                                                                   "percent indicators: at most this many percentage "
                                                                   "points, as a fraction (0.01 = 1 point)."),
                     min_providers: int = typer.Option(3, "--min-providers", help="Fewer scored providers in a region "
                                                       "and level: the current baseline is carried forward."),
                     project: Optional[Path] = ProjectOpt) -> None:
    """Write next year's baselines from this year's results by region and level, with ageing adjustment and a
    guardrail on the yearly move; every value carries its provenance. The file validates like any baselines file."""
    from pingyi.score.baselines import derive_baselines, write_derived

    derived = derive_baselines(results, year, project, method=method, ageing_file=ageing, max_change=max_change,
                               max_change_pp=max_change_pp, min_providers=min_providers)
    path = write_derived(derived, out_file)
    c = derived.counts
    out.print(f"wrote {path}: baselines {derived.year} from the {derived.from_year} results ({method}); "
              f"{c['derived']} region x level values derived, {c['carried']} carried forward, {c['capped']} capped by "
              f"the guardrail, {c['ageing']} ageing-adjusted", markup=False)


def main() -> None:
    """Console-script entry point: user errors exit 2 without a traceback (unless --debug).

    typer's standalone mode already turns usage errors into exit 2 and typer.Exit into its code;
    we add PingyiError (exit 2) and a one-line message for genuine bugs (exit 1)."""
    debug = "--debug" in sys.argv[1:]
    try:
        app()
    except PingyiError as exc:
        if debug:
            raise
        err.print(f"error: {exc.message}", markup=False)
        sys.exit(2)
    except Exception as exc:  # a bug, not a user mistake
        if debug:
            raise
        err.print(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", markup=False)
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
