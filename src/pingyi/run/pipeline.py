"""The evaluation run, stage by stage, in the order of the data flow:

    validate -> read the bundle -> data quality -> providers and views -> measures -> case mix
    -> indicator values -> scores, lights, aggregation, ranks, peers -> prepayment adjustments

Each stage returns a new frozen record and never changes an earlier one's; `RunResult` holds them all.
The bundle's DuckDB database is closed once the measures are computed: nothing after that stage reads
it (the quality stage hands over its counts, failures and files).
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pingyi import __version__
from pingyi.compute.casemix import CaseMix, add_casemix, compute_casemix, uses_casemix
from pingyi.compute.indicators import IndicatorValue, evaluate_all, read_side_values
from pingyi.compute.measures import MeasureTable, compile_project_measures, run_measures
from pingyi.data.bundle import Bundle, open_bundle
from pingyi.data.providers import UNKNOWN, ProviderInfo, read_providers
from pingyi.data.quality import QualityResult, run_quality
from pingyi.data.views import create_views, unique_key
from pingyi.engine import connection_wrapper
from pingyi.errors import PingyiError
from pingyi.run.corrections import Applied, apply_corrections, check_corrections, read_corrections
from pingyi.run.guards import Guard, data_guards, enforce, provider_guards, result_guards
from pingyi.run.schema import load_results_document
from pingyi.score.adjust import Adjustment, Budget
from pingyi.score.aggregate import ProviderResult
from pingyi.score.stage import Scored, adjust_all, score_all
from pingyi.spec.models import DataSource
from pingyi.spec.project import Project
from pingyi.validate import require_valid
from pingyi.weights.tree import WeightTree


@dataclass(frozen=True)
class RunResult:
    """Every stage's record of one evaluation."""

    project: Project
    tree: WeightTree
    year: int
    parameters: Mapping[str, Any]  # what the run was asked to do (results.json and the manifest record it)
    history: Mapping[str, tuple[str, ...]]  # provider -> earlier grades, oldest first
    quality: QualityResult
    providers: tuple[ProviderInfo, ...]
    measures: MeasureTable  # with the case-mix measures when a formula uses them
    casemix: CaseMix | None  # None: no formula uses the case-mix measures, or no settlement lists
    values: Mapping[str, Mapping[str, IndicatorValue]]  # provider -> indicator -> value
    scored: Scored
    adjustments: tuple[Adjustment, ...]
    budget: Budget
    guards: tuple[Guard, ...] = ()  # the warnings that fired (a stop ends the run before a result exists)
    corrections: tuple[Applied, ...] = ()  # values replaced after review (pingyi.run.corrections)
    # the scratch directory that holds the quality stage's files until the outputs are written
    scratch: tempfile.TemporaryDirectory[str] | None = field(default=None, repr=False, compare=False)

    @property
    def results(self) -> tuple[ProviderResult, ...]:
        return self.scored.results


Values = Mapping[str, Mapping[str, IndicatorValue]]


@dataclass(frozen=True)
class Window:
    """A year-to-date run (in-year monitoring, pingyi.monitor) through the same stages: `prepare` keeps
    the months it looks at in the bundle's raw tables before the quality stage (so the run sees what a
    bundle holding only those months would hold), `revalue` replaces indicator values before they are
    scored (annualised totals), and `months` is how many months of the evaluation year the data covers.
    `warn_only`: guard codes that warn instead of stopping (early in the year no provider may be gradable
    yet, and a monitoring run does not grade: `none_graded`)."""

    months: int
    prepare: Callable[[Bundle], None]
    revalue: Callable[[Values, MeasureTable], Values]
    warn_only: frozenset[str] = frozenset()


def _relaxed(guards: list[Guard], window: Window | None) -> list[Guard]:
    if window is None or not window.warn_only:
        return guards
    return [dataclasses.replace(g, action="warn") if g.code in window.warn_only else g for g in guards]


def run(
    data_dir: Path,
    project_dir: Path | None = None,
    year: int | None = None,
    history_dir: Path | None = None,
    workdir: Path | None = None,
    progress: Callable[[], None] | None = None,
    strict: bool = False,
    encoding: str | None = None,
    corrections: Path | None = None,
    window: Window | None = None,
    engine: str = "duckdb",
    spark_master: str | None = None,
) -> RunResult:
    """Evaluate the bundle at `data_dir` with the project at `project_dir` (default: the shipped one).
    `workdir`: where temporary files go (default: a new temporary directory kept with the result).
    The run guards (pingyi.run.guards) stop it with a user error; `strict`: their warnings stop it too.
    `encoding`: the encoding of the bundle's text files that are not UTF-8 (default: detected).
    `corrections`: a corrections table (pingyi.run.corrections) applied to the indicator values before
    they are scored. `window`: a year-to-date run (Window). `engine`: what reads, checks and measures the
    bundle (pingyi.engine: duckdb, or spark with `spark_master`); the outputs do not depend on it."""
    valid = require_valid(project_dir, year)
    project, tree = valid.project, valid.tree
    year = project.year
    # read before the long part of the run: a bad table stops it at once
    table = read_corrections(corrections) if corrections is not None else ()
    check_corrections(table, corrections or "", project.indicators, [c.fixmedins_code for c in table])
    compiled = compile_project_measures(project.measures, project.data)
    history = read_history(history_dir, project)
    scratch = tempfile.TemporaryDirectory(prefix="pingyi-") if workdir is None else None
    work = Path(scratch.name) if scratch is not None else Path(workdir)  # type: ignore[arg-type]
    wrap = connection_wrapper(engine, spark_master)
    with open_bundle(Path(data_dir), project.data, year, work, encoding=encoding, wrap=wrap) as bundle:
        con = bundle.con
        if window is not None:
            window.prepare(bundle)
        ranges = {c: i.value_range for c, i in project.indicators.items() if i.source is not DataSource.SETTLEMENT}
        quality = run_quality(bundle, project.data, year, out_dir=work / "quality", value_ranges=ranges)
        guards = data_guards(project, year, quality, window.months if window is not None else 12)
        enforce(guards, strict)
        providers = tuple(read_providers(con, project))
        views = create_views(con, bundle.present, {p.code: p.region for p in providers if p.region != UNKNOWN})
        measures = run_measures(con, compiled, views, {t: unique_key(t) for t in views})
        casemix = None
        if uses_casemix(project.indicators):  # without settlement lists, only the outpatient model
            casemix = compute_casemix(
                con, {p.code: p.region for p in providers}, (year - 1, year), views=set(views.values())
            )
            measures = add_casemix(measures, casemix)
        side = read_side_values(con, bundle.present)
    codes = [p.code for p in providers]
    guards += provider_guards(codes, {c: measures.tables_of(c, year) for c in codes})
    enforce(guards, strict)
    with gc_paused():
        values: Values = evaluate_all(project.indicators, codes, measures, side, year)
    if window is not None:
        values = window.revalue(values, measures)
    applied: tuple[Applied, ...] = ()
    if table:
        check_corrections(table, corrections or "", project.indicators, codes)
        values, applied = apply_corrections(values, table, project.indicators)
    with gc_paused():
        scored = score_all(project, tree, providers, values, measures, progress)
    adjustments, budget = adjust_all(project, providers, scored.results, measures, history)
    unsized = [a.fixmedins_code for a in adjustments if a.prepayment is None and a.rate != 0]
    guards += result_guards(project, {r.fixmedins_code: r.grade for r in scored.results}, unsized)
    guards = _relaxed(guards, window)
    enforce(guards, strict)
    return RunResult(
        project=project,
        tree=scored.tree or tree,  # the combined weights, when the project declares a combination
        year=year,
        parameters=run_parameters(project, encoding),
        history=history,
        quality=quality,
        providers=providers,
        measures=measures,
        casemix=casemix,
        values=values,
        scored=scored,
        adjustments=tuple(adjustments),
        budget=budget,
        guards=tuple(guards),
        corrections=applied,
        scratch=scratch,
    )


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a stage builds objects per provider and indicator: they are
    acyclic (freed by reference counting), but each full collection would walk every object alive, the
    measures and values of all providers included, and at 5,000 providers those walks cost more than the
    work (a third of the score stage, measured). Back on afterwards, when it collects any cycle left."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def run_parameters(project: Project, encoding: str | None = None) -> dict[str, Any]:
    """What the run was asked to do; `encoding` only when given (`pingyi verify` re-runs with it)."""
    parameters: dict[str, Any] = {
        "year": project.year,
        "region_scheme": project.baselines.region_scheme,
        "adjustment_mode": project.policy.adjustment.mode,
        "ri_table": project.hierarchy.ahp.ri_table,
        "cr_threshold": project.hierarchy.ahp.cr_threshold,
        "pingyi": __version__,
    }
    if encoding is not None:
        parameters["encoding"] = encoding
    return parameters


def read_history(history_dir: Path | None, project: Project) -> dict[str, tuple[str, ...]]:
    """Earlier grades per provider (oldest first) from last year's results: its grade and the grades it
    carried from the years before (results.json `grade_history`), so chaining each year's results gives
    `revoke_after` as many years as it needs. The history must be year - 1 of the same indicator system
    and catalogue: anything else would revoke designations on the wrong grounds."""
    if history_dir is None:
        return {}
    path = Path(history_dir) / "results.json"
    if not path.is_file():
        raise PingyiError(
            f"{history_dir}: no results.json from a previous run; expected the --out directory of last year's "
            "`pingyi score`"
        )
    raw, _doc = load_results_document(history_dir)
    expected_year = project.year - 1
    if raw.get("year") != expected_year:
        raise PingyiError(
            f"{path}: field year: found {raw.get('year')!r}; expected {expected_year} (the year before the "
            f"evaluation year {project.year}); --history takes last year's results"
        )
    system = {"name": project.hierarchy.name, "version": project.hierarchy.version}
    found_system = raw.get("system") or {}
    if found_system.get("name") != system["name"]:
        raise PingyiError(
            f"{path}: field system.name: found {found_system.get('name')!r}; expected {system['name']!r} "
            "(history from another indicator system)"
        )
    codes = sorted(i["code"] for i in raw.get("indicators") or [])
    if codes != sorted(project.indicators):
        extra = sorted(set(codes) - set(project.indicators))
        lacking = sorted(set(project.indicators) - set(codes))
        raise PingyiError(
            f"{path}: field indicators: found a catalogue with {len(codes)} indicators (not in this project: "
            f"{', '.join(extra) or 'none'}; missing: {', '.join(lacking) or 'none'}); expected this project's "
            f"{len(project.indicators)} indicators"
        )
    return {p["fixmedins_code"]: (*p.get("grade_history", ()), p["grade"]) for p in raw["providers"]}
