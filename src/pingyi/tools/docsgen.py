"""Generate the docs that must never go stale: the indicator explanation manual (from the YAML)
and the CLI reference (from `--help`). Tests regenerate both and fail when docs/ differs.

    python -m pingyi.tools.docsgen          # rewrite docs/indicator-manual.md and docs/cli.md
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
    return written


if __name__ == "__main__":
    for path in write_all():
        print(f"wrote {path}", file=sys.stderr)
