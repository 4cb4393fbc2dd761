"""The evaluation run: project -> weights -> extract -> quality -> measures -> indicators -> scores
-> aggregate -> adjust -> outputs. Each stage keeps its own table; the run records its parameters.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from pingyi import __version__
from pingyi.score.adjust import Adjustment, Budget, compute_adjustments, money
from pingyi.score.aggregate import ProviderResult, aggregate_provider, assign_ranks, peer_view
from pingyi.errors import PingyiError
from pingyi.compute.indicators import IndicatorValue, evaluate_indicator, stable
from pingyi.compute.measures import MeasureSqlError, MeasureTable, compile_measure, run_measures
from pingyi.score.indicator import score_indicator
from pingyi.spec.models import LEVELS
from pingyi.spec.project import Project, load_project
from pingyi.data.views import SETTLEMENT_COLUMNS, STAY_COLUMNS, create_settlement_rows, create_stays
from pingyi.weights.tree import WeightTree, compute_weights

LEVEL_ALIASES = {"一级": "一级及基层", "基层": "一级及基层"}


@dataclass
class ProviderInfo:
    code: str
    name: str
    level: str
    type: str | None
    province: str
    province_name: str
    region: str
    prepayment: Decimal | None


@dataclass
class RunResult:
    project: Project
    tree: WeightTree
    year: int
    providers: list[ProviderInfo]
    values: dict[str, dict[str, IndicatorValue]]
    results: list[ProviderResult]
    adjustments: list[Adjustment]
    budget: Budget
    measures: MeasureTable
    quality: object  # pingyi.quality.QualityResult
    bundle: object  # pingyi.extract.Bundle
    history: dict[str, list[str]] = field(default_factory=dict)
    parameters: dict = field(default_factory=dict)
    casemix: object = None  # pingyi.casemix.CaseMix (None: no indicator uses the case-mix measures)
    casemix_notes: dict[str, dict[str, dict]] = field(default_factory=dict)  # provider -> indicator -> note
    funnels: dict[str, dict] = field(default_factory=dict)  # indicator -> {"fit": FunnelFit, "points": [...]}
    peers: dict[str, dict] = field(default_factory=dict)  # provider -> peer percentiles (aggregate.peer_view)


def load_checked_project(project_dir: Path | None, year: int | None) -> tuple[Project, WeightTree]:
    result = load_project(project_dir, year=year)
    tree = compute_weights(result.project, result.issues) if result.project is not None else None
    if result.issues.errors or tree is None:
        first = result.issues.sorted()
        detail = "; ".join(i.render() for i in first if i.level.value == "error")[:2000]
        raise PingyiError(f"the project has {len(result.issues.errors)} error(s); run `pingyi validate`. {detail}",
                          issues=result.issues.errors)
    return result.project, tree


def table_columns(table: str) -> list[str]:
    from pingyi.data.read import TABLES

    if table not in TABLES:
        raise MeasureSqlError(f"unknown table '{table}'; measures read one of {', '.join(sorted(TABLES))}", table)
    extra = {"setl_lists": list(STAY_COLUMNS), "settlements": list(SETTLEMENT_COLUMNS)}.get(table, [])
    return [*TABLES[table].names, *extra, "year"]


def check_measures(project: Project) -> list:
    """Validation issues for measure SQL (PY603) and policy references to measures (PY604)."""
    from pingyi.errors import Issue, Level

    issues = []
    for name, spec in sorted(project.measures.items()):
        doc = project.docs.get(spec.origin.file) if spec.origin else None
        try:
            compile_measure(spec, table_columns(spec.table), project.data)
        except MeasureSqlError as exc:
            key = "filter" if spec.filter and exc.fragment and exc.fragment.lower() in spec.filter.lower() \
                and exc.fragment.lower() not in spec.aggregate.lower() else "aggregate"
            path = _measure_path(doc, name)[:-1] + (key,)
            issues.append(doc.issue("PY603", path, f"measure SQL is outside the allowed language: {exc}",
                                    found=repr(exc.fragment), expected="aggregates, arithmetic, CASE and comparisons "
                                    "over the table's declared columns (docs/data-bundle.md)")
                          if doc else Issue(file="measures/", line=None, code="PY603", level=Level.ERROR, path=name,
                                            message=str(exc), found=exc.fragment, expected="allowed SQL"))
    if project.measures:
        pdoc = project.docs.get("policy.yaml")
        refs = [(("veto", i, "measure"), v.measure) for i, v in enumerate(project.policy.veto)]
        refs.append((("adjustment", "base_measure"), project.policy.adjustment.base_measure))
        for path, measure in refs:
            if measure not in project.measures and pdoc is not None:
                issues.append(pdoc.issue("PY604", path, "policy names an undefined measure", found=measure,
                                         expected="a measure defined in measures/*.yaml"))
    return issues


def _measure_path(doc, name: str) -> tuple:
    for i, item in enumerate(doc.data.get("measures", []) if doc is not None and isinstance(doc.data, dict) else []):
        if isinstance(item, dict) and item.get("name") == name:
            return ("measures", i, "aggregate")
    return ("measures",)


def compile_project_measures(project: Project):
    """Compile every measure; an invalid one is a user error naming its file and line."""
    compiled: dict[str, list] = {}
    for name, spec in sorted(project.measures.items()):
        try:
            cm = compile_measure(spec, table_columns(spec.table), project.data)
        except MeasureSqlError as exc:
            where = f"{spec.origin.file}:{spec.origin.line}" if spec.origin else name
            raise PingyiError(f"{where} (measure {name}): {exc}; found {exc.fragment!r}; expected only aggregates, "
                              "arithmetic, CASE and comparisons over the table's declared columns") from None
        compiled.setdefault(spec.table, []).append(cm)
    return compiled


def _providers(con, project: Project) -> list[ProviderInfo]:
    rows = con.execute("""SELECT fixmedins_code, fixmedins_name, hosp_lv, fixmedins_type, prepayment
                          FROM clean_providers ORDER BY fixmedins_code""").fetchall()
    scheme = project.baselines.region_scheme
    by_code = {p.code: p for p in project.regions.provinces}
    out = []
    for code, name, level, ptype, prepay in rows:
        prov = by_code.get(code[1:3])
        region = prov.regions.get(scheme) if prov else None
        out.append(ProviderInfo(code=code, name=name, level=LEVEL_ALIASES.get(level, level), type=ptype,
                                province=code[1:3], province_name=prov.name if prov else "?",
                                region=region or "?", prepayment=None if prepay is None else money(prepay)))
    return out


def _keyed(con, sql: str) -> dict[str, dict[tuple[str, int], float]]:
    out: dict[str, dict[tuple[str, int], float]] = {}
    for provider, indicator, year, value in con.execute(sql).fetchall():
        out.setdefault(provider, {})[(indicator, int(year))] = stable(float(value))
    return out


def read_history(history_dir: Path | None) -> dict[str, list[str]]:
    """Earlier grades per provider from a previous run's scores.csv (oldest first)."""
    if history_dir is None:
        return {}
    import csv

    path = Path(history_dir) / "scores.csv"
    if not path.is_file():
        raise PingyiError(f"{history_dir}: no scores.csv from a previous run; expected the --out directory of "
                          "last year's `pingyi score`")
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = {"fixmedins_code", "grade"} - set(reader.fieldnames or [])
        if missing:
            raise PingyiError(f"{path}: column(s) {', '.join(sorted(missing))} missing; expected a pingyi scores.csv")
        return {row["fixmedins_code"]: [row["grade"]] for row in reader}


def _uses_casemix(project: Project) -> bool:
    from pingyi.spec import formula as formula_lang
    from pingyi.spec.models import CASEMIX_MEASURES

    for ind in project.indicators.values():
        for text in (ind.formula, ind.adjusted_formula):
            if text:
                parsed = formula_lang.parse(text)
                if (parsed.measures | parsed.prior_measures) & set(CASEMIX_MEASURES):
                    return True
    return False


def _fit_funnels(project: Project, providers: list[ProviderInfo], values) -> dict[str, dict]:
    """phi / tau^2 per funnel-mode indicator over the providers whose value is scored."""
    from pingyi.score.funnel import FunnelPoint, fit_funnel

    out: dict[str, dict] = {}
    for code, ind in project.indicators.items():
        if ind.lights.statistical != "funnel":
            continue
        pts, rows = [], []
        for p in providers:
            v = values[p.code][code]
            base = project.baseline(code, p.region, p.level) if p.level in LEVELS else None
            if v.value is None or base is None or v.volume is None:
                continue
            if ind.volume is not None and v.volume < ind.volume.minimum:
                continue
            pts.append(FunnelPoint(p.code, v.volume, v.value, base))
            rows.append({"fixmedins_code": p.code, "fixmedins_name": p.name, "region": p.region, "level": p.level,
                         "n": v.volume, "value": v.value, "target": base, "z": None, "light": None})
        fit = fit_funnel(code, ind.unit.value, pts, ind.lights.overdispersion, ind.lights.trim)
        out[code] = {"fit": fit, "points": rows}
    return out


def _casemix_note(ind, v: IndicatorValue, scored, base, bench, fit, cur, pri):
    """Both lights of an indicator with an adjusted formula, and the sentence that says which counted."""
    from dataclasses import replace

    from pingyi.compute.casemix import casemix_note

    adjusted = ind.casemix == "adjusted"
    raw_s = score_indicator(ind, v.raw_value, base, benchmark=bench, prior=v.raw_prior, volume=v.volume,
                            funnel=None if adjusted else fit)
    adj_s = scored if adjusted else score_indicator(ind, v.adjusted_value, base, benchmark=bench,
                                                    prior=v.adjusted_prior, volume=v.volume)
    if raw_s.status != "scored" and adj_s.status != "scored":
        return scored, None  # e.g. below the minimum volume: the grey reason says it all
    missing_adjusted = adjusted and v.adjusted_value is None  # raw scorable, adjustment unavailable
    e1, e0 = cur.get("casemix_expected_cost"), pri.get("casemix_expected_cost")
    change = stable(e1 / e0 - 1) if e1 and e0 else None
    en, zh = casemix_note(ind, v.raw_value, v.adjusted_value, raw_s.light.value, adj_s.light.value, change)
    note = {"counted": ind.casemix, "raw_value": v.raw_value, "adjusted_value": v.adjusted_value,
            "raw_light": raw_s.light.value, "adjusted_light": adj_s.light.value, "raw_score": raw_s.score,
            "adjusted_score": adj_s.score, "expected_cost_change": change, "note": en, "note_zh": zh}
    if scored.status == "insufficient" and missing_adjusted:
        scored = replace(scored, reason=f"{ind.name_en}: {en}; insufficient data (grey), weight redistributed",
                         reason_zh=f"{ind.name_zh}：{zh}，数据不足（灰灯），权重在本维度内重新分配")
    elif scored.status == "scored":
        scored = replace(scored, reason=f"{scored.reason}; {en}", reason_zh=f"{scored.reason_zh}；{zh}")
    return scored, note


def run(data_dir: Path, project_dir: Path | None = None, year: int | None = None,
        history_dir: Path | None = None, workdir: Path | None = None, progress=None) -> RunResult:
    from pingyi.data.read import open_bundle
    from pingyi.data.quality import run_quality

    project, tree = load_checked_project(project_dir, year)
    year = project.year
    compiled = compile_project_measures(project)
    history = read_history(history_dir)
    tmp = None
    if workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="pingyi-")
        workdir = Path(tmp.name)
    bundle = open_bundle(Path(data_dir), project.data, year, workdir)
    quality = run_quality(bundle, project.data, year)
    con = bundle.con
    present = {t for t, info in bundle.tables.items() if info.present}
    views = {t: f"clean_{t}" for t in present if t not in ("setl_lists", "settlements")}
    create_settlement_rows(con)
    views["settlements"] = "settlement_rows"
    providers = _providers(con, project)
    if "setl_lists" in present:  # DRG risk levels per region: the providers' regions
        create_stays(con, "drg_groups" in present, {p.code: p.region for p in providers if p.region != "?"})
        views["setl_lists"] = "stays"
    measures = run_measures(con, compiled, views)

    casemix = None
    if _uses_casemix(project):
        from pingyi.compute.casemix import compute_casemix, merge_into

        if "setl_lists" in present:
            casemix = compute_casemix(con, {p.code: p.region for p in providers}, (year - 1, year))
        merge_into(measures, casemix)
    reported = _keyed(con, "SELECT fixmedins_code, indicator, year, value FROM clean_reported") \
        if "reported" in present else {}
    expert = _keyed(con, """SELECT fixmedins_code, indicator, year, avg(score) FROM clean_expert_scores
                            GROUP BY ALL""") if "expert_scores" in present else {}

    values: dict[str, dict[str, IndicatorValue]] = {}
    results: list[ProviderResult] = []
    for p in providers:
        cur, pri, pri2 = (measures.get(p.code, y) for y in (year, year - 1, year - 2))
        values[p.code] = {code: evaluate_indicator(ind, cur, pri, pri2, reported.get(p.code, {}),
                                                   expert.get(p.code, {}), year)
                          for code, ind in project.indicators.items()}
    # funnel lights need every provider's value first: phi / tau^2 are estimated across providers
    funnels = _fit_funnels(project, providers, values)
    casemix_notes: dict[str, dict[str, dict]] = {}
    for p in providers:
        cur = measures.get(p.code, year)
        vals = values[p.code]
        scores = {}
        for code, ind in project.indicators.items():
            v = vals[code]
            level = p.level if p.level in LEVELS else None
            base = project.baseline(code, p.region, level) if level else None
            bench = project.baseline(code, p.region, level, "benchmark") if level else None
            fit = funnels[code]["fit"] if code in funnels else None
            scores[code] = score_indicator(ind, v.value, base, benchmark=bench, prior=v.prior, volume=v.volume,
                                           funnel=fit)
            if ind.adjusted_formula is not None:
                scores[code], note = _casemix_note(ind, v, scores[code], base, bench, fit, cur,
                                                   measures.get(p.code, year - 1))
                if note is not None:
                    casemix_notes.setdefault(p.code, {})[code] = note
        vetoes = [rule.name for rule in project.policy.veto
                  if (cur.get(rule.measure) or 0) >= rule.minimum]
        results.append(aggregate_provider(p.code, scores, tree, project.policy, vetoes))
        if progress is not None:
            progress()
    assign_ranks(results)
    by_code = {r.fixmedins_code: r for r in results}
    for code, entry in funnels.items():
        for point in entry["points"]:
            s = by_code[point["fixmedins_code"]].indicators[code]
            point["light"] = s.light.value
            point["z"] = s.detail.get("funnel_z")
    peers = peer_view(results, {p.code: (p.region, p.level) for p in providers}, project.indicators)

    base_measure = project.policy.adjustment.base_measure
    rows = []
    for p, r in zip(providers, results):
        prepay, source = p.prepayment, "providers table"
        if prepay is None:
            prior_fund = measures.get(p.code, year - 1).get(base_measure)
            if prior_fund:
                prepay, source = money(Decimal(str(prior_fund)) / 12), f"prior-year {base_measure} / 12"
        rows.append({"fixmedins_code": p.code, "grade": r.grade, "total": r.total, "prepayment": prepay,
                     "prepayment_source": source if prepay is not None else "none",
                     "history": history.get(p.code, [])})
    adjustments, budget = compute_adjustments(rows, project.policy)
    parameters = {"year": year, "region_scheme": project.baselines.region_scheme,
                  "adjustment_mode": project.policy.adjustment.mode, "ri_table": project.hierarchy.ahp.ri_table,
                  "cr_threshold": project.hierarchy.ahp.cr_threshold, "pingyi": __version__}
    result = RunResult(project=project, tree=tree, year=year, providers=providers, values=values, results=results,
                       adjustments=adjustments, budget=budget, measures=measures, quality=quality, bundle=bundle,
                       history=history, parameters=parameters, casemix=casemix, casemix_notes=casemix_notes,
                       funnels=funnels, peers=peers)
    result._tmp = tmp  # keep the temp dir alive as long as the result
    return result
