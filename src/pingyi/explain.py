"""`pingyi explain CODE`: one indicator's explanation-manual entry as plain text.

The same text feeds docs/indicator-manual.md, so the manual a hospital reads and the command an
assessor runs can never disagree.
"""

from __future__ import annotations

from pathlib import Path

from pingyi.compute.measures import compile_project_measures, table_sql
from pingyi.data.views import unique_key, view_of
from pingyi.errors import PingyiError, read_json_object
from pingyi.run.manifest import project_files
from pingyi.run.schema import load_results_document
from pingyi.spec import formula as formula_lang
from pingyi.spec.models import LEVELS, Unit
from pingyi.spec.project import Project
from pingyi.spec.rules import scoring_text
from pingyi.text import MANUAL_DIRECTION, MANUAL_SOURCE, format_value
from pingyi.weights.tree import WeightTree


def _fv(value: float | None, unit: Unit | str) -> str:
    """The record form of a value (pingyi.text): what the reasons and the manual print."""
    return format_value(value, unit, display=False)


def explain_indicator(project: Project, tree: WeightTree | None, code: str) -> str:
    ind = project.indicators.get(code) or project.indicators.get(code.upper())
    if ind is None:
        raise PingyiError(f"unknown indicator '{code}'; expected one of {', '.join(project.indicators)}")
    m = ind.manual
    primary = project.primary_of[ind.code]
    dim = next(d for d in project.dimensions if d.primary.code == primary)
    lines = [
        f"{ind.code} {ind.name_zh} ({ind.name_en})",
        f"一级指标 primary: {primary} {dim.primary.name_zh} ({dim.primary.name_en})",
        f"定义 origin: {ind.origin.file}:{ind.origin.line}" if ind.origin else "",
        "",
        f"指标内涵 meaning: {m.meaning}",
        f"  {m.meaning_en}",
        f"计算方法 formula: {m.formula_text}",
        f"  {m.formula_text_en}",
        f"  formula over measures: {ind.formula or '(value from the ' + ind.source.value + ' table)'}",
        (
            f"  case-mix-adjusted formula ({'scored' if ind.casemix == 'adjusted' else 'shown, not scored'}): "
            f"{ind.adjusted_formula}"
        )
        if ind.adjusted_formula
        else None,
        f"纳入范围 inclusions: {m.inclusions}",
        f"排除范围 exclusions: {m.exclusions}",
        f"数据来源 data source: {m.data_source} [{MANUAL_SOURCE[ind.source.value]}]",
        f"单位 unit: {ind.unit.value}; 导向 direction: {MANUAL_DIRECTION[ind.direction.value]}; "
        f"定性 qualitative: {'yes' if ind.qualitative else 'no'}; case mix: {ind.casemix}",
        f"评分 scoring: {scoring_text(ind)}",
    ]
    if ind.volume:
        lines.append(
            f"最小样本量 minimum volume: {ind.volume.measure} >= {ind.volume.minimum:g}, "
            f"otherwise insufficient (grey) and its weight is redistributed within {primary}"
        )
    if m.interpretation:
        lines.append(f"解读 interpretation: {m.interpretation}")
    if m.references:
        lines.append("参照 references: " + "; ".join(m.references))
    if tree is not None:
        for p in tree.primary:
            for s in p.secondary:
                if s.code == ind.code:
                    lines.append(
                        f"权重 weight: local {s.local_weight:.4f} within {primary} "
                        f"(primary weight {p.weight:.4f}), global {s.global_weight:.4f}"
                    )
    entry = project.baselines.baselines.get(ind.code)
    if entry is not None:
        lines.append(f"基线 baselines {project.year} ({'assumed' if entry.assumed else 'documented'}; {entry.source}):")
        regions = project.regions.schemes[project.baselines.region_scheme].regions
        header = "  region      " + "".join(f"{lv:>14}" for lv in LEVELS)
        lines.append(header)
        for region, label in regions.items():
            row = "".join(f"{_fv(project.baseline(ind.code, region, lv), ind.unit):>14}" for lv in LEVELS)
            lines.append(f"  {region:<8}{label:<4}{row}")
            if entry.benchmark is not None:
                bench = "".join(
                    f"{_fv(project.baseline(ind.code, region, lv, 'benchmark'), ind.unit):>14}" for lv in LEVELS
                )
                lines.append(f"  {'  benchmark':<12}{bench}")
    return "\n".join(line for line in lines if line is not None)


def explain_measures(project: Project, code: str) -> str:
    """The generated SQL of the measures an indicator uses (what `pingyi score` runs)."""
    ind = project.indicators.get(code) or project.indicators.get(code.upper())
    if ind is None or not project.measures:
        return ""
    names: set[str] = set()
    if ind.formula:
        parsed = formula_lang.parse(ind.formula)
        names = set(parsed.measures | parsed.prior_measures)
    if ind.volume:
        names.add(ind.volume.measure)
    if not names:
        return "measures: none (the value comes from the reported or expert-score table)"
    compiled = compile_project_measures(project.measures, project.data)
    lines = ["", "生成的SQL generated SQL of its measures (per provider and year, over rows that passed data quality):"]
    for table, measures in sorted(compiled.items()):
        used = [m for m in measures if m.name in names]
        if used:
            lines.append(table_sql(view_of(table), used, unique_key(table)))
    return "\n".join(lines)


def results_project(results_dir: Path | str, given: Path | None = None) -> tuple[Path, str, int | None]:
    """The project a results directory was made with (its manifest.json records the project's path and
    the SHA-256 of each of its files), the line that says so and the run's evaluation year. A user error (exit 2) when that
    project's files no longer match the manifest (naming each file), or when `given` (--project) is
    another project: the manual's baselines and weights would not be the ones the results were scored
    with. A `given` directory elsewhere whose files match the manifest's hashes is the same project."""
    manifest_path = Path(results_dir) / "manifest.json"
    manifest = read_json_object(manifest_path, "the manifest written by `pingyi score`")
    inputs = manifest.get("inputs") if isinstance(manifest, dict) else None
    if (
        not isinstance(inputs, dict)
        or not inputs.get("project_dir")
        or not isinstance(inputs.get("project_files"), dict)
    ):
        raise PingyiError(
            f"{manifest_path}: no inputs.project_dir and inputs.project_files; expected the manifest written by "
            "`pingyi score`, which records the project the results were made with"
        )
    recorded = Path(inputs["project_dir"])
    year = (manifest.get("parameters") or {}).get("year")
    hashes: dict[str, str] = inputs["project_files"]
    if given is not None and Path(given).resolve() != recorded.resolve():
        if Path(given).is_dir() and project_files(Path(given)) == hashes:
            return (
                Path(given),
                f"project: {given} (its files match the results' manifest; recorded as {recorded})",
                year,
            )
        raise PingyiError(
            f"--project {given} is not the project the results were made with: {manifest_path} records "
            f"inputs.project_dir {recorded}; expected --project {recorded} (or leave --project out), or "
            "re-run `pingyi score` with this project"
        )
    if not recorded.is_dir():
        raise PingyiError(
            f"{manifest_path}: the project the results were made with, {recorded} (inputs.project_dir), is not "
            "here; expected that directory, or --project DIR with the same files"
        )
    now = project_files(recorded)
    problems = []
    for name, digest in sorted(hashes.items()):
        if name not in now:
            problems.append(f"{name} is missing")
        elif now[name] != digest:
            problems.append(f"{name} has changed (its SHA-256 differs)")
    problems += [f"{name} was added" for name in sorted(set(now) - set(hashes))]
    if problems:
        raise PingyiError(
            f"{recorded}: the project no longer matches the one the results were made with "
            f"({manifest_path} inputs.project_files): {'; '.join(problems)}; expected the recorded files, so "
            "that the manual's baselines and weights are those the results were scored with. Restore them, or "
            "re-run `pingyi score`"
        )
    return recorded, f"project: {recorded} (from the results' manifest)", year


def explain_provider(project: Project, code: str, provider: str, results_dir: Path | str) -> str:
    """Walk one provider's number: measures, formula, value, baseline, rule, score, light, weight, contribution."""
    path = Path(results_dir) / "results.json"
    data, _ = load_results_document(results_dir)
    prov = next((p for p in data["providers"] if p["fixmedins_code"] == provider), None)
    if prov is None:
        raise PingyiError(
            f"provider {provider} is not in {path}; expected a fixmedins_code such as "
            f"{data['providers'][0]['fixmedins_code'] if data['providers'] else 'H33010600001'}"
        )
    ind = project.indicators[code]
    item = next(i for i in prov["indicators"] if i["code"] == code)
    unit = ind.unit
    entry = project.baselines.baselines.get(code)
    lines = ["", f"== {provider} {prov['fixmedins_name']} ({prov['region']}, {prov['level']}), {data['year']} =="]
    inputs = item.get("inputs") or {}
    for when, label in (("current", f"measures {data['year']}"), ("prior", f"measures {data['year'] - 1}")):
        if inputs.get(when):
            lines.append(f"{label}: " + ", ".join(f"{k} = {v}" for k, v in inputs[when].items()))
    lines += [
        f"formula: {ind.formula or 'value from the ' + ind.source.value + ' table'}",
    ]
    run = data.get("parameters") or {}
    if code in (run.get("annualised") or []) and isinstance(run.get("through"), str):
        # a monitoring run (pingyi.monitor): the value is the formula on the year's sums and counts scaled
        lines.append(
            f"annualised (monitoring through {run['through']}): the formula on the {data['year']} sums and "
            f"counts above x 12/{int(run['through'][5:7])}"
        )
    if ind.adjusted_formula:
        lines += [
            f"adjusted formula ({'scored' if ind.casemix == 'adjusted' else 'not scored'}): {ind.adjusted_formula}",
            f"raw value: {_fv(item.get('raw_value'), unit)}; case-mix-adjusted value: "
            f"{_fv(item.get('adjusted_value'), unit)}",
        ]
        note = item.get("casemix_note")
        if note:
            lines += [f"case mix: {note['text']}", f"          {note['text_zh']}"]
    if item.get("funnel"):
        f = item["funnel"]
        fit = data.get("funnels", {}).get(code, {})
        lim = f.get("limits", {})
        lines.append(
            f"funnel: n = {f['n']:g}, z = {f['z']}, 95 % limits {lim.get('95')}, 99.8 % limits "
            f"{lim.get('99.8')}; phi = {fit.get('phi')}, tau^2 = {fit.get('tau2')} ({fit.get('applied')})"
        )
    if item.get("peer_n"):
        lines.append(
            f"peers ({_peer_words(prov)}): percentile {item.get('peer_percentile')} among {item['peer_n']} (100 = best)"
        )
    lines += [
        f"value: {_fv(item['value'], unit)} (last year {_fv(item['prior_value'], unit)})",
        f"baseline ({prov['region']} / {prov['level']}): {_fv(item['baseline'], unit)}"
        + (f"; benchmark {_fv(item['benchmark'], unit)}" if item.get("benchmark") is not None else "")
        + (f"; source: {entry.source}{' (assumed)' if entry.assumed else ''}" if entry else ""),
        f"rule: {scoring_text(ind)}",
        f"score: {'—' if item['score'] is None else format(item['score'], '.2f')}; light: {item['light']}",
        f"why: {item['reason']}",
        f"     {item['reason_zh']}",
        f"weight in the total: {item['weight']:.4f} (nominal {next(i['nominal_weight'] for i in data['indicators'] if i['code'] == code):.4f}); "
        f"contribution: {item['contribution']:.4f} of the total {prov['total_score']} ({prov['grade']})",
    ]
    if item.get("detail"):
        lines.append(f"detail: {item['detail']}")
    return "\n".join(lines)


def _peer_words(prov: dict) -> str:
    """The values the provider's peers share with it (results.json peer_group keys): east / 二级 / 妇幼."""
    g = prov.get("peer_group") or {}
    keys = g.get("keys") or ["region", "level"]
    shown = [str(g.get("type") if k == "type" else prov.get(k)) for k in keys]
    return " / ".join(shown) if shown else "all providers"
