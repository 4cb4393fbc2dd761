"""`pingyi explain CODE`: one indicator's explanation-manual entry as plain text.

The same text feeds docs/indicator-manual.md, so the manual a hospital reads and the command an
assessor runs can never disagree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pingyi.compute.measures import compile_project_measures, table_sql
from pingyi.data.views import unique_key, view_of
from pingyi.errors import PingyiError, read_json_object
from pingyi.run.manifest import project_files
from pingyi.spec import formula as formula_lang
from pingyi.spec.models import LEVELS, Unit
from pingyi.spec.project import Project
from pingyi.spec.rules import scoring_text
from pingyi.text import (
    MANUAL_DIRECTION,
    MANUAL_SOURCE,
    Lang,
    format_figure,
    format_percentile,
    format_score,
    format_total,
    format_value,
    format_weight,
    light_word,
)
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
    if not recorded.is_absolute():  # a provider package (pingyi share) carries its own copy of the project
        recorded = (Path(results_dir) / recorded).resolve()
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


def find_provider(data: dict[str, Any], query: str, path: Path | str) -> dict[str, Any]:
    """A provider of a results document by fixmedins_code, by exact name, or by a part of its name that
    only one provider's name contains."""
    providers = data.get("providers") or []
    q = query.strip()
    for p in providers:
        if p["fixmedins_code"] == q or p["fixmedins_code"] == q.upper() or p["fixmedins_name"] == q:
            return p
    partial = [p for p in providers if q and q in p["fixmedins_name"]]
    if len(partial) == 1:
        return partial[0]
    if len(partial) > 1:
        names = ", ".join(f"{p['fixmedins_code']} {p['fixmedins_name']}" for p in partial[:8])
        raise PingyiError(
            f"{path}: --provider {query!r} matches {len(partial)} providers ({names}); expected a fixmedins_code "
            "or a name that only one provider has"
        )
    example = f"{providers[0]['fixmedins_code']} or {providers[0]['fixmedins_name']}" if providers else "a code"
    raise PingyiError(
        f"{path}: --provider {query!r} is not among its {len(providers)} providers; expected a fixmedins_code "
        f"or a provider name, e.g. {example}"
    )


def _measure_rows(project: Project, names: dict[str, float | None], year: int) -> list[dict[str, Any]]:
    rows = []
    for name, value in names.items():
        spec = project.measures.get(name)
        rows.append({
            "name": name, "year": year, "value": value, "unit": spec.unit if spec else None,
            "description": spec.description if spec else CASEMIX_WORDS.get(name, ""),
        })  # fmt: skip
    return rows


CASEMIX_WORDS = {
    "casemix_expected_cost": "病例组合模型的次均期望费用（患者年龄、性别、DRG权重与合并症）",
    "casemix_observed_cost": "纳入病例组合模型病例的次均实际费用",
    "casemix_oe_ratio": "实际费用与期望费用之比（O/E）",
    "casemix_stays": "纳入病例组合模型的住院人次",
}


def provider_record(project: Project, code: str, prov: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """One provider's number walked from its measures to its contribution to the total: the shape of
    `pingyi explain CODE --provider P --results DIR --json` (every figure a number or null)."""
    ind = project.indicators[code]
    item = next(i for i in prov["indicators"] if i["code"] == code)
    year = data["year"]
    inputs = item.get("inputs") or {}
    current, prior = inputs.get("current") or {}, inputs.get("prior") or {}
    steps: list[dict[str, Any]] = []
    shown: set[str] = set()  # a quotient both formulas share is shown once, under the plain formula
    for label, text in (("formula", ind.formula), ("adjusted_formula", ind.adjusted_formula)):
        if text and (current or prior):
            parsed = formula_lang.parse(text).steps(current, prior)
            for n, (expression, value) in enumerate(parsed, 1):
                if expression not in shown:
                    shown.add(expression)
                    steps.append(
                        {"formula": label, "expression": expression, "value": value, "final": n == len(parsed)}
                    )
    nominal = next((i["nominal_weight"] for i in data["indicators"] if i["code"] == code), None)
    entry = project.baselines.baselines.get(code)
    return {
        "year": year,
        "provider": {k: prov.get(k) for k in ("fixmedins_code", "fixmedins_name", "region", "level", "type")},
        "indicator": {
            "code": ind.code, "name_zh": ind.name_zh, "name_en": ind.name_en, "primary": project.primary_of[code],
            "unit": ind.unit.value, "direction": ind.direction.value, "formula": ind.formula,
            "adjusted_formula": ind.adjusted_formula, "casemix": ind.casemix, "rule": scoring_text(ind),
        },
        "measures": _measure_rows(project, current, year) + _measure_rows(project, prior, year - 1),
        "steps": steps,
        "value": item["value"], "raw_value": item.get("raw_value"), "adjusted_value": item.get("adjusted_value"),
        "prior_value": item.get("prior_value"), "volume": item.get("volume"),
        "minimum_volume": ind.volume.minimum if ind.volume else None,
        "baseline": item["baseline"], "benchmark": item.get("benchmark"),
        "baseline_source": (entry.source + (" (assumed)" if entry.assumed else "")) if entry else None,
        "gap": item.get("gap"), "score": item["score"], "light": item["light"], "status": item["status"],
        "absence": item.get("absence", ""), "reason": item["reason"], "reason_zh": item["reason_zh"],
        "interval": item.get("interval"), "casemix_note": item.get("casemix_note"), "funnel": item.get("funnel"),
        "peer_group": _peer_words(prov), "peer_n": item.get("peer_n"), "peer_percentile": item.get("peer_percentile"),
        "weight": item["weight"], "nominal_weight": nominal, "contribution": item["contribution"],
        "total_score": prov["total_score"], "grade": prov["grade"], "rank": prov.get("rank"),
        "annualised_through": (data.get("parameters") or {}).get("through")
        if code in ((data.get("parameters") or {}).get("annualised") or []) else None,
    }  # fmt: skip


WORDS = {
    "measures": {"zh": "计算用数据", "en": "measures"},
    "steps": {"zh": "计算过程", "en": "steps"},
    "value": {"zh": "指标值", "en": "value"},
    "last_year": {"zh": "上年", "en": "last year"},
    "raw": {"zh": "原始值", "en": "raw value"},
    "adjusted": {"zh": "病例组合调整值", "en": "case-mix-adjusted value"},
    "baseline": {"zh": "基线", "en": "baseline"},
    "benchmark": {"zh": "标杆值", "en": "benchmark"},
    "rule": {"zh": "评分规则", "en": "rule"},
    "score": {"zh": "得分", "en": "score"},
    "light": {"zh": "信号灯", "en": "light"},
    "why": {"zh": "原因", "en": "why"},
    "volume": {"zh": "样本量", "en": "volume"},
    "interval": {"zh": "95%置信区间", "en": "95 % interval"},
    "peers": {"zh": "同类机构", "en": "peers"},
    "percentile": {"zh": "百分位", "en": "percentile"},
    "weight": {"zh": "在总分中的权重", "en": "weight in the total"},
    "nominal": {"zh": "名义权重", "en": "nominal"},
    "contribution": {"zh": "对总分的贡献", "en": "contribution to the total"},
    "total": {"zh": "总分", "en": "total"},
    "formula": {"zh": "计算公式", "en": "formula"},
    "adjusted_formula": {"zh": "病例组合调整公式", "en": "case-mix-adjusted formula"},
    "dimension": {"zh": "一级指标", "en": "dimension"},
    "insufficient": {"zh": "数据不足、权重重新分配的指标", "en": "insufficient, weight redistributed"},
    "effective": {"zh": "有效权重", "en": "effective weight"},
    "annualised": {"zh": "年化（监测截至", "en": "annualised (monitoring through"},
}


def _w(key: str, lang: Lang) -> str:
    return WORDS[key][lang]


def render_provider(rec: dict[str, Any], lang: Lang = "zh") -> str:
    """The record of `provider_record` as text, every figure in the card's formatter."""
    p, ind = rec["provider"], rec["indicator"]
    unit = ind["unit"]
    name = ind["name_zh"] if lang == "zh" else ind["name_en"]

    def fv(x: float | None) -> str:
        return format_value(x, unit, lang)

    lines = [
        "",
        f"== {p['fixmedins_code']} {p['fixmedins_name']} ({p['region']}, {p['level']}), {rec['year']}: "
        f"{ind['code']} {name} ==",
    ]
    if rec["measures"]:
        lines.append(f"{_w('measures', lang)}:")
        for m in rec["measures"]:
            lines.append(
                f"  {m['year']} {m['name']} = {format_figure(m['value'], m['unit'], lang)}"
                + (f"  ({m['description']})" if m["description"] else "")
            )
    lines.append(f"{_w('formula', lang)}: {ind['formula'] or '—'}")
    if ind["adjusted_formula"]:
        lines.append(f"{_w('adjusted_formula', lang)}: {ind['adjusted_formula']}")
    if rec["steps"]:
        lines.append(f"{_w('steps', lang)}:")
        for s in rec["steps"]:
            mark = "" if s["formula"] == "formula" else " [" + _w("adjusted", lang) + "]"
            figure = fv(s["value"]) if s["final"] else format_figure(s["value"])  # the value: in its unit
            lines.append(f"  {s['expression']} = {figure}{mark}")
    if rec["annualised_through"]:
        lines.append(
            f"{_w('annualised', lang)} {rec['annualised_through']}): x 12/{int(rec['annualised_through'][5:7])}"
        )
    lines.append(f"{_w('value', lang)}: {fv(rec['value'])} ({_w('last_year', lang)} {fv(rec['prior_value'])})")
    if rec["adjusted_value"] is not None or ind["adjusted_formula"]:
        lines.append(f"  {_w('raw', lang)} {fv(rec['raw_value'])}; {_w('adjusted', lang)} {fv(rec['adjusted_value'])}")
        note = rec.get("casemix_note")
        if note:
            lines.append(f"  {note['text_zh'] if lang == 'zh' else note['text']}")
    if rec["volume"] is not None:
        minimum = f" (>= {format_figure(rec['minimum_volume'])})" if rec["minimum_volume"] is not None else ""
        lines.append(f"{_w('volume', lang)}: {format_figure(rec['volume'])}{minimum}")
    if rec.get("interval"):
        i = rec["interval"]
        lines.append(f"{_w('interval', lang)} (Wilson, n = {format_figure(i['n'])}): {fv(i['low'])} – {fv(i['high'])}")
    base = f"{_w('baseline', lang)} ({p['region']} / {p['level']}): {fv(rec['baseline'])}"
    if rec["benchmark"] is not None:
        base += f"; {_w('benchmark', lang)} {fv(rec['benchmark'])}"
    if rec["baseline_source"]:
        base += f"; {rec['baseline_source']}"
    lines.append(base)
    if rec.get("funnel"):
        f = rec["funnel"]
        lines.append(f"funnel: n = {format_figure(f.get('n'))}, z = {f.get('z')}")
    if rec["peer_n"]:
        lines.append(
            f"{_w('peers', lang)} ({rec['peer_group']}): {_w('percentile', lang)} "
            f"{format_percentile(rec['peer_percentile'], rec['peer_n'])}"
        )
    lines += [
        f"{_w('rule', lang)}: {ind['rule']}",
        f"{_w('score', lang)}: {format_score(rec['score'])}; {_w('light', lang)}: {light_word(rec['light'], lang)}",
        f"{_w('why', lang)}: {rec['reason_zh'] if lang == 'zh' else rec['reason']}",
        f"{_w('weight', lang)}: {format_weight(rec['weight'])} ({_w('nominal', lang)} {format_weight(rec['nominal_weight'])}); "
        f"{_w('contribution', lang)}: {format_total(rec['contribution'])} / {_w('total', lang)} "
        f"{format_total(rec['total_score'])} ({rec['grade']})",
    ]
    return "\n".join(lines)


def dimension_record(
    project: Project, tree: WeightTree | None, code: str, prov: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A dimension (一级指标): its weight and indicators; with a provider, its score, light, effective
    weight, the indicators without enough data, and what each indicator adds to the total."""
    dim = next(d for d in project.dimensions if d.primary.code == code)
    weights = {s.code: s for p in tree.primary for s in p.secondary} if tree else {}
    weight = tree.primary_weights().get(code) if tree else None
    rec: dict[str, Any] = {
        "dimension": {
            "code": code, "name_zh": dim.primary.name_zh, "name_en": dim.primary.name_en,
            "description": dim.primary.description, "weight": weight,
        },
        "indicators": [
            {
                "code": i.code, "name_zh": i.name_zh, "name_en": i.name_en,
                "local_weight": weights[i.code].local_weight if i.code in weights else None,
                "global_weight": weights[i.code].global_weight if i.code in weights else None,
            }
            for i in dim.indicators
        ],
    }  # fmt: skip
    if prov is not None:
        part = next(d for d in prov["primaries"] if d["code"] == code)
        items = {i["code"]: i for i in prov["indicators"]}
        rec["provider"] = {k: prov.get(k) for k in ("fixmedins_code", "fixmedins_name", "region", "level", "type")}
        rec.update({
            "score": part["score"], "light": part["light"], "effective_weight": part["effective_weight"],
            "insufficient": part["insufficient"], "total_score": prov["total_score"], "grade": prov["grade"],
        })  # fmt: skip
        for row in rec["indicators"]:
            item = items[row["code"]]
            row.update({k: item.get(k) for k in ("value", "score", "light", "status", "weight", "contribution")})
    return rec


def render_dimension(rec: dict[str, Any], lang: Lang = "zh") -> str:
    d = rec["dimension"]
    name = d["name_zh"] if lang == "zh" else d["name_en"]
    lines = [f"{d['code']} {name}" + (f" ({d['name_en']})" if lang == "zh" else ""), d["description"]]
    lines.append(f"{_w('weight', lang)}: {format_weight(d['weight'])}")
    prov = rec.get("provider")
    if prov is not None:
        lines += [
            "",
            f"== {prov['fixmedins_code']} {prov['fixmedins_name']} ({prov['region']}, {prov['level']}) ==",
            f"{_w('score', lang)}: {format_score(rec['score'])}; {_w('light', lang)}: {light_word(rec['light'], lang)}; "
            f"{_w('effective', lang)}: {format_weight(rec['effective_weight'])}",
        ]
        if rec["insufficient"]:
            lines.append(f"{_w('insufficient', lang)}: {', '.join(rec['insufficient'])}")
    for i in rec["indicators"]:
        label = i["name_zh"] if lang == "zh" else i["name_en"]
        row = f"  {i['code']} {label}: local {format_weight(i['local_weight'])}, global {format_weight(i['global_weight'])}"
        if prov is not None:
            row += (
                f"; {_w('score', lang)} {format_score(i['score'])}, {light_word(i['light'], lang)}, "
                f"{_w('contribution', lang)} {format_total(i['contribution'])}"
            )
        lines.append(row)
    if prov is not None:
        lines.append(f"{_w('total', lang)}: {format_total(rec['total_score'])} ({rec['grade']})")
    return "\n".join(lines)


def _peer_words(prov: dict) -> str:
    """The values the provider's peers share with it (results.json peer_group keys): east / 二级 / 妇幼."""
    g = prov.get("peer_group") or {}
    keys = g.get("keys") or ["region", "level"]
    shown = [str(g.get("type") if k == "type" else prov.get(k)) for k in keys]
    return " / ".join(shown) if shown else "all providers"
