"""Commands about the project: validate, weights, explain, init."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from pingyi import api
from pingyi.cli import ProjectOpt, YearOpt, _columns, _print_issues, app, command, err, out


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
