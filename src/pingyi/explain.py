"""`pingyi explain CODE`: one indicator's explanation-manual entry as plain text.

The same text feeds docs/indicator-manual.md, so the manual a hospital reads and the command an
assessor runs can never disagree.
"""

from __future__ import annotations

from pingyi.errors import PingyiError
from pingyi.spec.models import LEVELS, IndicatorSpec, Unit
from pingyi.spec.project import Project

DIRECTION_TEXT = {
    "up": "逐步提高 higher is better",
    "down": "逐步降低 lower is better",
    "target": "目标区间 inside the target band is best",
    "monitor": "监测比较 monitor only (not scored)",
}
SOURCE_TEXT = {
    "settlement": "医保信息平台结算数据 settlement records",
    "report": "机构填报 provider report",
    "survey": "满意度调查 survey",
    "expert": "专家评分 expert score",
}


def format_value(value: float | None, unit: Unit | str) -> str:
    """Human display of a value in its unit (percent values are stored as fractions)."""
    if value is None:
        return "—"
    unit = Unit(unit)
    if unit is Unit.PERCENT:
        return f"{value * 100:.1f}%"
    if unit is Unit.YUAN:
        return f"{value:,.2f} 元"
    if unit in (Unit.DAYS, Unit.MINUTES):
        return f"{value:.1f} {'天' if unit is Unit.DAYS else '分钟'}"
    if unit is Unit.COUNT:
        return f"{value:,.0f}"
    if unit is Unit.PER_10K:
        return f"{value:.2f} /万人次"
    if unit is Unit.SCORE:
        return f"{value:.1f} 分"
    return f"{value:.3f}"


def scoring_text(ind: IndicatorSpec) -> str:
    rule = ind.scoring
    lights = ind.lights
    if lights.mode == "relative":
        bounds = f"green when not worse than baseline by more than {lights.yellow:.0%}, red when worse by more than {lights.red:.0%}"
    else:
        bounds = (f"green when within {format_value(lights.yellow, ind.unit)} of the baseline, "
                  f"red when worse by more than {format_value(lights.red, ind.unit)}")
    if rule.rule == "threshold":
        zero = rule.zero_at if rule.zero_at is not None else lights.red
        text = f"threshold: meets baseline -> 100, linear to 0 at {zero:.0%} worse" if lights.mode == "relative" else \
            f"threshold: meets baseline -> 100, linear to 0 at {format_value(zero, ind.unit)} worse"
    elif rule.rule == "vbp":
        text = "vbp: achievement points between baseline and benchmark" + (
            "; improvement points against own prior year; the higher counts" if rule.improvement else "")
    elif rule.rule == "target_range":
        text = (f"target range [{format_value(rule.low, ind.unit)}, {format_value(rule.high, ind.unit)}] -> 100, "
                f"linear to 0 at {format_value(rule.zero_at, ind.unit)} outside")
    else:
        text = "none: monitored, shown with a neutral mark, no weight in the total"
    if lights.statistical == "funnel":
        od = {"tau2": "additive tau^2", "phi": "multiplicative phi", "none": "no"}[lights.overdispersion]
        bounds += (f"; funnel lights: red only when beyond the 99.8 % control limit at the provider's volume AND "
                   f"worse than the red bound; yellow beyond the 95 % limit or materially worse inside it; "
                   f"{od} overdispersion correction after {lights.trim:.0%} winsorisation of z-scores")
        if lights.funnel_score == "beyond_95":
            bounds += ("; scored on the deviation beyond the 95 % limit only (inside it: as meeting the "
                       "baseline)")
    return f"{text}; lights: {bounds}"


def explain_indicator(project: Project, tree, code: str) -> str:
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
        (f"  case-mix-adjusted formula ({'scored' if ind.casemix == 'adjusted' else 'shown, not scored'}): "
         f"{ind.adjusted_formula}") if ind.adjusted_formula else None,
        f"纳入范围 inclusions: {m.inclusions}",
        f"排除范围 exclusions: {m.exclusions}",
        f"数据来源 data source: {m.data_source} [{SOURCE_TEXT[ind.source.value]}]",
        f"单位 unit: {ind.unit.value}; 导向 direction: {DIRECTION_TEXT[ind.direction.value]}; "
        f"定性 qualitative: {'yes' if ind.qualitative else 'no'}; case mix: {ind.casemix}",
        f"评分 scoring: {scoring_text(ind)}",
    ]
    if ind.volume:
        lines.append(f"最小样本量 minimum volume: {ind.volume.measure} >= {ind.volume.minimum:g}, "
                     f"otherwise insufficient (grey) and its weight is redistributed within {primary}")
    if m.interpretation:
        lines.append(f"解读 interpretation: {m.interpretation}")
    if m.references:
        lines.append("参照 references: " + "; ".join(m.references))
    if tree is not None:
        for p in tree.primary:
            for s in p.secondary:
                if s.code == ind.code:
                    lines.append(f"权重 weight: local {s.local_weight:.4f} within {primary} "
                                 f"(primary weight {p.weight:.4f}), global {s.global_weight:.4f}")
    entry = project.baselines.baselines.get(ind.code)
    if entry is not None:
        lines.append(f"基线 baselines {project.year} ({'assumed' if entry.assumed else 'documented'}; {entry.source}):")
        regions = project.regions.schemes[project.baselines.region_scheme].regions
        header = "  region      " + "".join(f"{lv:>14}" for lv in LEVELS)
        lines.append(header)
        for region, label in regions.items():
            row = "".join(f"{format_value(project.baseline(ind.code, region, lv), ind.unit):>14}" for lv in LEVELS)
            lines.append(f"  {region:<8}{label:<4}{row}")
            if entry.benchmark is not None:
                bench = "".join(f"{format_value(project.baseline(ind.code, region, lv, 'benchmark'), ind.unit):>14}"
                                for lv in LEVELS)
                lines.append(f"  {'  benchmark':<12}{bench}")
    return "\n".join(line for line in lines if line is not None)


def explain_measures(project: Project, code: str) -> str:
    """The generated SQL of the measures an indicator uses (what `pingyi score` runs)."""
    from pingyi.compute.measures import table_sql
    from pingyi.run.pipeline import compile_project_measures
    from pingyi.spec import formula as formula_lang

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
    compiled = compile_project_measures(project)
    views = {"setl_lists": "stays", "settlements": "settlement_rows"}
    lines = ["", "生成的SQL generated SQL of its measures (per provider and year, over rows that passed data quality):"]
    for table, measures in sorted(compiled.items()):
        used = [m for m in measures if m.name in names]
        if used:
            lines.append(table_sql(views.get(table, f"clean_{table}"), used))
    return "\n".join(lines)


def explain_provider(project: Project, code: str, provider: str, results_dir) -> str:
    """Walk one provider's number: measures, formula, value, baseline, rule, score, light, weight, contribution."""
    from pathlib import Path

    from pingyi.errors import read_json

    path = Path(results_dir) / "results.json"
    data = read_json(path)
    prov = next((p for p in data["providers"] if p["fixmedins_code"] == provider), None)
    if prov is None:
        raise PingyiError(f"provider {provider} is not in {path}; expected a fixmedins_code such as "
                          f"{data['providers'][0]['fixmedins_code'] if data['providers'] else 'H33010600001'}")
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
    if ind.adjusted_formula:
        lines += [f"adjusted formula ({'scored' if ind.casemix == 'adjusted' else 'not scored'}): {ind.adjusted_formula}",
                  f"raw value: {format_value(item.get('raw_value'), unit)}; case-mix-adjusted value: "
                  f"{format_value(item.get('adjusted_value'), unit)}"]
        note = item.get("casemix_note")
        if note:
            lines += [f"case mix: {note['text']}", f"          {note['text_zh']}"]
    if item.get("funnel"):
        f = item["funnel"]
        fit = data.get("funnels", {}).get(code, {})
        lim = f.get("limits", {})
        lines.append(f"funnel: n = {f['n']:g}, z = {f['z']}, 95 % limits {lim.get('95')}, 99.8 % limits "
                     f"{lim.get('99.8')}; phi = {fit.get('phi')}, tau^2 = {fit.get('tau2')} ({fit.get('applied')})")
    if item.get("peer_n"):
        lines.append(f"peers ({prov['region']} / {prov['level']}): percentile {item.get('peer_percentile')} "
                     f"among {item['peer_n']} (100 = best)")
    lines += [
        f"value: {format_value(item['value'], unit)} (last year {format_value(item['prior_value'], unit)})",
        f"baseline ({prov['region']} / {prov['level']}): {format_value(item['baseline'], unit)}"
        + (f"; benchmark {format_value(item['benchmark'], unit)}" if item.get("benchmark") is not None else "")
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
