"""Generate the docs that must never go stale: the indicator explanation manual (from the YAML),
the CLI reference (from `--help`), the results schema, the user guide's issue codes and the Methods
page's tables (AHP matrices, random index, lights and funnels, the expert bootstrap). Tests
regenerate them and fail when docs/ differs.

    python -m pingyi.tools.docsgen          # rewrite the generated docs and sections
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from pingyi.spec.models import LEVELS
from pingyi.spec.rules import scoring_text
from pingyi.text import MANUAL_DIRECTION, MANUAL_SOURCE, format_value
from pingyi.weights.display import manual_weight

DOCS = Path(__file__).resolve().parents[3] / "docs"


def indicator_manual(project_dir: Path | None = None) -> str:
    from pingyi.validate import validate_project

    checked = validate_project(project_dir)
    project, tree = checked.project, checked.tree
    if project is None:
        raise SystemExit("the project does not load; run `pingyi validate`")
    pweights = {p.code: p.weight for p in tree.primary} if tree else {}
    regions = project.regions.schemes[project.baselines.region_scheme].regions
    out = [
        f"# 指标解释手册 Indicator explanation manual — {project.hierarchy.name} {project.hierarchy.version}",
        "",
        "Generated from `indicators/*.yaml` and `baselines/` by `python -m pingyi.tools.docsgen`; do not edit by hand.",
        "`pingyi explain CODE` prints the same entry.",
        "",
    ]
    for dim in project.dimensions:
        p = dim.primary
        out += [f"## {p.code} {p.name_zh} ({p.name_en}) — weight {pweights.get(p.code, 0):.4f}", "", p.description, ""]
        for ind in dim.indicators:
            m = ind.manual
            out += [
                f"### {ind.code} {ind.name_zh} ({ind.name_en})",
                "",
                "| item | content |",
                "|---|---|",
                f"| 指标内涵 meaning | {m.meaning}<br>{m.meaning_en} |",
                f"| 计算方法 formula | {m.formula_text}<br>{m.formula_text_en} |",
                f"| formula over measures | `{ind.formula}` |"
                if ind.formula
                else f"| formula over measures | value from the {ind.source.value} table |",
                f"| 纳入范围 inclusions | {m.inclusions} |",
                f"| 排除范围 exclusions | {m.exclusions} |",
                f"| 数据来源 data source | {m.data_source} ({MANUAL_SOURCE[ind.source.value]}) |",
                f"| 单位 unit / 导向 direction | {ind.unit.value} / {MANUAL_DIRECTION[ind.direction.value]} |",
                f"| 定性 qualitative | {'yes' if ind.qualitative else 'no'} |",
                f"| 评分 scoring | {scoring_text(ind)} |",
                f"| 最小样本量 minimum volume | {ind.volume.measure} ≥ {ind.volume.minimum:g} |"
                if ind.volume
                else "| 最小样本量 minimum volume | none |",
                f"| case mix | adjusted, scored on `{ind.adjusted_formula}` (raw value shown beside it) |"
                if ind.casemix == "adjusted"
                else "| case mix | raw |",
                f"| 权重 weight | {manual_weight(tree, ind.code)} |"
                if tree
                else "| 权重 weight | local 0.0000, global 0.0000 |",
            ]
            if m.interpretation:
                out.append(f"| 解读 interpretation | {m.interpretation} |")
            if m.references:
                out.append(f"| 参照 references | {'; '.join(m.references)} |")
            entry = project.baselines.baselines.get(ind.code)
            out.append("")
            if entry is not None:
                out += [
                    f"Baselines {project.year} ({'assumed' if entry.assumed else 'documented'}): {entry.source}",
                    "",
                    "| region | " + " | ".join(LEVELS) + " |",
                    "|---|" + "---|" * len(LEVELS),
                ]
                for region, label in regions.items():
                    cells = [
                        format_value(project.baseline(ind.code, region, lv), ind.unit, display=False) for lv in LEVELS
                    ]
                    out.append(f"| {region} {label} | " + " | ".join(cells) + " |")
                out.append("")
    return "\n".join(out).rstrip() + "\n"


def cli_reference() -> str:
    from typer.main import get_command
    from typer.testing import CliRunner

    from pingyi.cli import app

    os.environ["COLUMNS"] = "100"
    runner = CliRunner()
    command: Any = get_command(app)
    out = [
        "# CLI reference",
        "",
        "Generated from `pingyi --help` by `python -m pingyi.tools.docsgen`; do not edit by hand.",
        "",
    ]

    def section(title: str, args: list[str]) -> None:
        result = runner.invoke(
            app, args, prog_name="pingyi", env={"COLUMNS": "100", "NO_COLOR": "1"}, terminal_width=100
        )
        out.extend([f"## {title}", "", "```text", result.output.rstrip(), "```", ""])

    section("pingyi", ["--help"])
    for name in command.list_commands(None):
        sub = command.get_command(None, name)
        if hasattr(sub, "list_commands"):  # a group of commands (typer's own click classes)
            section(f"pingyi {name}", [name, "--help"])
            for inner in sub.list_commands(None):
                section(f"pingyi {name} {inner}", [name, inner, "--help"])
        else:
            section(f"pingyi {name}", [name, "--help"])
    return "\n".join(out).rstrip() + "\n"


def results_schema() -> str:
    """The JSON Schema of results.json (pingyi.run.schema.ResultsDocument)."""
    import json

    from pingyi.run.schema import SCHEMA_VERSION, ResultsDocument

    schema = ResultsDocument.model_json_schema()
    schema["description"] = f"results.json written by `pingyi score`, schema_version {SCHEMA_VERSION}. " + (
        schema.get("description") or ""
    )
    return json.dumps(schema, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


CODES_START = "<!-- issue codes: generated from pingyi.errors.ISSUE_CODES by `python -m pingyi.tools.docsgen` -->"
CODES_END = "<!-- end of issue codes -->"


def issue_codes() -> str:
    """The issue-code catalogue as a table (docs/user-guide.md)."""
    from pingyi.errors import ISSUE_CODES

    rows = ["| code | severity | what it means |", "|---|---|---|"]
    rows += [f"| `{c.code}` | {c.severity.value} | {c.sentence} |" for c in ISSUE_CODES.values()]
    return "\n".join(["Validation codes (every message starts `file:line (yaml.path): severity CODE: …`):", "", *rows])


def user_guide(current: str) -> str:
    """docs/user-guide.md with its generated section (the issue codes) brought up to date."""
    start, end = current.index(CODES_START), current.index(CODES_END)
    return current[: start + len(CODES_START)] + "\n" + issue_codes() + "\n" + current[end:]


METHODS_START = "<!-- generated: {name} — `python -m pingyi.tools.docsgen` writes this table; do not edit by hand -->"
METHODS_END = "<!-- end of {name} -->"
BOOTSTRAP_DRAWS, BOOTSTRAP_SEED = 2000, 2026


def _ahp_matrices(project: Any, tree: Any) -> list[str]:
    rows = [
        "| matrix | items | experts kept | λmax | CR of the aggregate | each expert's own CR | screened |",
        "|---|---|---|---|---|---|---|",
    ]
    matrices = [("root (primaries)", tree.root), *((f"{p.code} {p.name_zh}", p.matrix) for p in tree.primary)]
    for name, m in matrices:
        if m.method == "direct":
            rows.append(f"| {name} | {len(m.items)} | direct weights | — | — | — | — |")
            continue
        own = ", ".join(f"{e} {cr:.4f}" for e, cr in m.expert_cr.items())
        screened = "; ".join(f"{e} {how} (CR {cr:.3f})" for e, cr, how in m.screened) or "none"
        rows.append(
            f"| {name} | {len(m.items)} | {len(m.experts)} | {m.lambda_max:.4f} | {m.cr:.4f} | {own} | {screened} |"
        )
    ahp = project.hierarchy.ahp
    return [
        f"The shipped hierarchy (`indicators/`; RI table `{ahp.ri_table}`, CR threshold {ahp.cr_threshold:g}, "
        f"`expert_cr: {ahp.expert_cr}`):",
        "",
        *rows,
    ]


def _random_index() -> list[str]:
    from pingyi.weights.ahp import RANDOM_INDEX

    values = RANDOM_INDEX["saaty"]
    return [
        "| n | " + " | ".join(str(n) for n in range(1, len(values) + 1)) + " |",
        "|---|" + "---|" * len(values),
        "| RI(n) | " + " | ".join(f"{v:.2f}" for v in values) + " |",
    ]


def _lights(project: Any) -> list[str]:
    from pingyi.score.funnel import MIN_UNITS, Z95, Z998
    from pingyi.spec.rules import GREEN_POINTS, YELLOW_POINTS

    rows = [
        f"Points and lights: 100 at the baseline (gap ≤ 0), {GREEN_POINTS:g} at the yellow bound, "
        f"{YELLOW_POINTS:g} at the red bound, 0 at `zero_at`; green ≥ {GREEN_POINTS:g} points, yellow ≥ "
        f"{YELLOW_POINTS:g}, red below. Funnel limits: z = {Z95} (95 %) and {Z998} (99.8 %); phi and tau² "
        f"are estimated from at least {MIN_UNITS} providers.",
        "",
        "| funnel-lit indicator | unit | transform | overdispersion | trim | score |",
        "|---|---|---|---|---|---|",
    ]
    for code, ind in project.indicators.items():
        if ind.lights.statistical != "funnel":
            continue
        transform = "rate (Poisson, sqrt(O/E))" if ind.unit.value == "per_10k" else "proportion (asin sqrt p)"
        rows.append(
            f"| {code} {ind.name_zh} | {ind.unit.value} | {transform} | {ind.lights.overdispersion} | "
            f"{ind.lights.trim:g} | {ind.lights.funnel_score} |"
        )
    return rows


def _expert_bootstrap(project: Any, tree: Any) -> list[str]:
    import numpy as np

    from pingyi.weights.bootstrap import ExpertBootstrap

    codes = tuple(s.code for p in tree.primary for s in p.secondary)
    boot = ExpertBootstrap.from_project(project, tree, codes)
    _picks, draws = boot.draw(np.random.default_rng(BOOTSTRAP_SEED), BOOTSTRAP_DRAWS)
    carried = tree.carried_weights()
    rows = [
        f"The shipped weights under {BOOTSTRAP_DRAWS:,} resamples of every panel (seed {BOOTSTRAP_SEED}); a "
        "dimension's weight is the sum of its indicators' carried weights:",
        "",
        "| dimension | experts | AHP weight | 5th percentile | median | 95th percentile | widest indicator (5th–95th) |",
        "|---|---|---|---|---|---|---|",
    ]
    sizes = boot.panel_sizes()
    for p in tree.primary:
        cols = [codes.index(s.code) for s in p.secondary]
        w = draws[:, cols].sum(axis=1)
        lo, mid, hi = np.percentile(w, [5, 50, 95])
        spans = {codes[c]: np.percentile(draws[:, c], [5, 95]) for c in cols}
        code = max(spans, key=lambda c: (spans[c][1] - spans[c][0], c))
        own = sum(carried[s.code] for s in p.secondary)
        rows.append(
            f"| {p.code} {p.name_zh} | {sizes[p.code]} | {own:.4f} | {lo:.4f} | {mid:.4f} | {hi:.4f} | "
            f"{code} {spans[code][0]:.4f}–{spans[code][1]:.4f} |"
        )
    return rows


def methods_tables(project_dir: Path | None = None) -> dict[str, str]:
    """The generated tables of docs/methods.md, by name."""
    from pingyi.validate import validate_project

    checked = validate_project(project_dir)
    project, tree = checked.project, checked.tree
    if project is None or tree is None:
        raise SystemExit("the project does not load; run `pingyi validate`")
    return {
        "AHP matrices": "\n".join(_ahp_matrices(project, tree)),
        "random index": "\n".join(_random_index()),
        "lights and funnels": "\n".join(_lights(project)),
        "expert bootstrap": "\n".join(_expert_bootstrap(project, tree)),
    }


def methods_page(current: str, tables: dict[str, str] | None = None) -> str:
    """docs/methods.md with every generated table brought up to date (each between its two markers)."""
    for name, text in (tables if tables is not None else methods_tables()).items():
        start, end = METHODS_START.format(name=name), METHODS_END.format(name=name)
        if start not in current or end not in current:
            raise SystemExit(f"docs/methods.md has no {start!r} ... {end!r} pair")
        i, j = current.index(start), current.index(end)
        current = current[: i + len(start)] + "\n" + text + "\n" + current[j:]
    return current


def write_all(docs: Path = DOCS) -> list[Path]:
    docs.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (
        ("indicator-manual.md", indicator_manual()),
        ("cli.md", cli_reference()),
        ("results-schema.json", results_schema()),
    ):
        path = docs / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    guide = docs / "user-guide.md"
    guide.write_text(user_guide(guide.read_text(encoding="utf-8")), encoding="utf-8")
    written.append(guide)
    methods = docs / "methods.md"
    methods.write_text(methods_page(methods.read_text(encoding="utf-8")), encoding="utf-8")
    written.append(methods)
    return written


if __name__ == "__main__":
    for path in write_all():
        print(f"wrote {path}", file=sys.stderr)
