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
    as_json: bool = typer.Option(False, "--json", help="Print the weight tree (and the comparison) as JSON."),
    results: Path | None = typer.Option(
        None,
        "--results",
        help="Results directory of `pingyi score`: also compute entropy and CRITIC weights from its indicator "
        "values and show them beside the AHP weights, with the combination the project declares.",
    ),
    method: str | None = typer.Option(
        None,
        "--method",
        help="Objective method to combine with AHP: entropy or critic (default: the project's combination, "
        "else entropy).",
    ),
) -> None:
    """Print the indicator hierarchy with local and global weights and each matrix's consistency ratio;
    with --results, AHP, entropy, CRITIC and combined weights side by side and where the data came from."""
    from pingyi.weights.display import monitor_sentence, screening_lines

    view = api.weights(project, results, method)
    tree = view.tree
    if as_json:
        doc = tree.as_json()
        if view.compared is not None:
            doc["compared"] = view.compared.as_json()
        out.print_json(json.dumps(doc, ensure_ascii=False))
        return
    root = tree.root
    cr = f"CR {root.cr:.3f}" if root.cr is not None else "direct"
    out.print(
        f"{view.project.hierarchy.name} {view.project.hierarchy.version}: primary matrix {cr}; {root.provenance()}",
        markup=False,
    )
    if view.compared is not None:
        _comparison(view)
        return
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
    for line in screening_lines(tree):
        out.print(line, markup=False)
    for s in (s for p in tree.primary for s in p.secondary if not s.scored):
        out.print(monitor_sentence(tree, s.code), markup=False)
    total = sum(tree.global_weights().values())
    out.print(
        f"global weights sum to {total:.12f}; qualitative (expert-scored) share {tree.qualitative_share():.1%}",
        markup=False,
    )


def _comparison(view: api.Weights) -> None:
    from pingyi.weights.display import comparison_lines, screening_lines

    c = view.compared
    assert c is not None
    table = Table(show_lines=False, header_style="bold")
    _columns(table, "code", "indicator", "AHP>", "entropy>", "CRITIC>", "combined>", "n>", "note")
    for p in view.tree.primary:
        table.add_row(p.code, p.name_zh, "", "", "", "", "", "", style="bold")
        for s in p.secondary:
            table.add_row(
                f"  {s.code}",
                f"  {s.name_zh}",
                f"{c.ahp[s.code]:.4f}",
                f"{c.objective['entropy'].weights.get(s.code, 0.0):.4f}",
                f"{c.objective['critic'].weights.get(s.code, 0.0):.4f}",
                f"{c.combined.weights.get(s.code, 0.0):.4f}",
                str(c.objective[c.method].n.get(s.code, 0)),
                c.notes.get(s.code, ""),
            )
    out.print(table)
    for line in (*screening_lines(view.tree), *comparison_lines(c)):
        out.print(line, markup=False)


@command(app)
def explain(
    code: str = typer.Argument(..., help="Indicator code (e.g. D1.01) or dimension code (e.g. D1)."),
    project: Path | None = typer.Option(
        None,
        "--project",
        "-p",
        help="Project directory (default: with --results, the project recorded in its manifest.json; "
        "otherwise the project shipped with pingyi).",
    ),
    provider: str | None = typer.Option(
        None,
        "--provider",
        help="A fixmedins_code, a provider's name, or a part of a name only one provider has: walk this "
        "provider's number end to end.",
    ),
    results: Path | None = typer.Option(
        None,
        "--results",
        help="Results directory of `pingyi score` (with --provider); the project it was made with is read "
        "from its manifest.json.",
    ),
    lang: str = typer.Option("en", "--lang", help="Language of the provider's walk-through: en or zh."),
    as_json: bool = typer.Option(
        False,
        "--json",
        help="Print the explanation as one JSON object: the manual text and SQL; with --provider the "
        "measures, each intermediate step, value, baseline, score, light, weight and contribution.",
    ),
) -> None:
    """Print one indicator's explanation-manual entry (指标解释手册) and the SQL of its measures, or a
    dimension's indicators and weights; with --provider and --results, walk that provider's number from
    its measures through every intermediate figure to its contribution to the total, formatted as on its
    card, with the project the results were made with (from their manifest.json; an error if its files
    changed since, or if --project names another project). Every check runs before anything is printed."""
    done = api.explain(code, project, provider, results, lang)
    if as_json:
        out.print_json(json.dumps(done.record, ensure_ascii=False, sort_keys=True))
    else:
        out.print(done.text, markup=False)


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
