"""The evaluation run: project -> weights -> extract -> quality -> measures -> indicators -> scores
-> aggregate -> adjust -> outputs. Each stage keeps its own table; the run records its parameters.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from pingyi import __version__
from pingyi.adjust import Adjustment, Budget, compute_adjustments, money
from pingyi.aggregate import ProviderResult, aggregate_provider, assign_ranks
from pingyi.errors import PingyiError
from pingyi.indicators import IndicatorValue, evaluate_indicator, stable
from pingyi.measures import MeasureSqlError, MeasureTable, compile_measure, run_measures
from pingyi.scoring import score_indicator
from pingyi.spec.models import LEVELS
from pingyi.spec.project import Project, load_project
from pingyi.views import SETTLEMENT_COLUMNS, STAY_COLUMNS, create_settlement_rows, create_stays
from pingyi.weights import WeightTree, compute_weights

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
    from pingyi.extract import TABLES

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


def run(data_dir: Path, project_dir: Path | None = None, year: int | None = None,
        history_dir: Path | None = None, workdir: Path | None = None, progress=None) -> RunResult:
    from pingyi.extract import open_bundle
    from pingyi.quality import run_quality

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
    if "setl_lists" in present:
        create_stays(con, "drg_groups" in present)
        views["setl_lists"] = "stays"
    measures = run_measures(con, compiled, views)

    providers = _providers(con, project)
    reported = _keyed(con, "SELECT fixmedins_code, indicator, year, value FROM clean_reported") \
        if "reported" in present else {}
    expert = _keyed(con, """SELECT fixmedins_code, indicator, year, avg(score) FROM clean_expert_scores
                            GROUP BY ALL""") if "expert_scores" in present else {}

    values: dict[str, dict[str, IndicatorValue]] = {}
    results: list[ProviderResult] = []
    for p in providers:
        cur, pri, pri2 = (measures.get(p.code, y) for y in (year, year - 1, year - 2))
        vals = {code: evaluate_indicator(ind, cur, pri, pri2, reported.get(p.code, {}), expert.get(p.code, {}), year)
                for code, ind in project.indicators.items()}
        values[p.code] = vals
        scores = {}
        for code, ind in project.indicators.items():
            v = vals[code]
            level = p.level if p.level in LEVELS else None
            base = project.baseline(code, p.region, level) if level else None
            bench = project.baseline(code, p.region, level, "benchmark") if level else None
            scores[code] = score_indicator(ind, v.value, base, benchmark=bench, prior=v.prior, volume=v.volume)
        vetoes = [rule.name for rule in project.policy.veto
                  if (cur.get(rule.measure) or 0) >= rule.minimum]
        results.append(aggregate_provider(p.code, scores, tree, project.policy, vetoes))
        if progress is not None:
            progress()
    assign_ranks(results)

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
                       history=history, parameters=parameters)
    result._tmp = tmp  # keep the temp dir alive as long as the result
    return result
