"""The Python API: one function per command, the ones the CLI calls. Each validates what it is given
through the one entry point (pingyi.validate) and raises `PingyiError` for a user mistake.

    from pingyi import api
    run = api.evaluate("examples/province", "out/results")
    print(run.budget.net)

For analysis in pandas: `load_project`, `score` and `load_results` (pingyi.run.frames), e.g.

    r = api.load_results("out/results")
    r.scores.sort_values("total_score").head()
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pingyi.compare import Comparison, compare_runs, workbook_bytes
from pingyi.cycle.score import CycleRun, parse_day, score_in_cycle
from pingyi.data.bundle import open_bundle
from pingyi.data.quality import QualityResult, run_quality
from pingyi.disputes.decisions import CorrectionsTable, corrections, decide
from pingyi.disputes.decisions import disputes as dispute_rows
from pingyi.disputes.importer import Imported, import_disputes
from pingyi.disputes.template import write_templates
from pingyi.errors import PingyiError, read_json
from pingyi.explain import (
    dimension_record,
    explain_indicator,
    explain_measures,
    find_provider,
    provider_record,
    render_dimension,
    render_provider,
    results_project,
)
from pingyi.files import write_atomic
from pingyi.ledger import (
    KeyFiles,
    close_rectification,
    generate_key,
    init_ledger,
    open_ledger,
    rectification_snapshot,
    sign_run,
    submit_rectification,
    verify_ledger,
)
from pingyi.ledger import VerifyReport as LedgerReport
from pingyi.ledger.records import unedited_results
from pingyi.monitor.run import KIND as MONITOR_KIND
from pingyi.monitor.run import MonitorRun
from pingyi.monitor.run import monitor as run_monitor
from pingyi.report.run import Progress, ReportRun, render_reports
from pingyi.run.evaluate import evaluate_to
from pingyi.run.frames import Results
from pingyi.run.frames import load_results as read_frames
from pingyi.run.manifest import sha256 as file_sha256
from pingyi.run.pipeline import RunResult
from pingyi.run.schema import load_results_document
from pingyi.run.verify import VerifyReport
from pingyi.run.verify import verify as verify_results
from pingyi.score.baselines import Derived, check_options, write_derived
from pingyi.score.baselines import derive_baselines as derive
from pingyi.share import SHARE_KIND, Shared, verify_package
from pingyi.share import share as share_packages
from pingyi.spec.project import Project, copy_project, default_project_dir, evaluation_year, load_data_settings
from pingyi.text import LANGS, Lang
from pingyi.uncertainty import SCHEMES, SOURCES, Uncertainty, run_uncertainty, write_outputs
from pingyi.validate import Validation, require_valid, validate_project
from pingyi.weights.combined import DataSource, SideBySide, side_by_side
from pingyi.weights.tree import WeightTree


def validate(project: Path | None = None, year: int | None = None) -> Validation:
    """Every problem of a project, collected (never stops at the first)."""
    return validate_project(project, year)


# --- Weights: AHP, objective (entropy, CRITIC) and their combination ---------------------------------


@dataclass(frozen=True)
class Weights:
    project: Project
    tree: WeightTree
    compared: SideBySide | None  # with `results`: AHP, entropy, CRITIC and combined side by side


def weights(project: Path | None = None, results: Path | None = None, method: str | None = None) -> Weights:
    """A valid project and its weight tree (AHP or direct weights per matrix); with `results` (a folder
    written by `pingyi score`), the entropy and CRITIC weights of its indicator values and their
    combination with the AHP weights (`method`: the objective method combined; default the project's
    combination's, else entropy)."""
    valid = require_valid(project)
    if results is None:
        if method is not None:
            raise PingyiError("--method needs --results DIR: objective weights are computed from a results folder")
        return Weights(valid.project, valid.tree, None)
    doc, _ = load_results_document(results)
    path = Path(results) / "results.json"
    digest = file_sha256(path)
    manifest_path = Path(results) / "manifest.json"
    manifest_digest = match = None
    if manifest_path.is_file():
        manifest_digest = file_sha256(manifest_path)
        manifest = read_json(manifest_path, "the manifest written by `pingyi score`")
        outputs = manifest.get("outputs") if isinstance(manifest, dict) else None
        match = isinstance(outputs, dict) and outputs.get("results.json") == digest
    source = DataSource(
        results=str(path),
        results_sha256=digest,
        manifest_sha256=manifest_digest,
        manifest_match=match,
        year=int(doc["year"]),
        providers=len(doc.get("providers") or []),
    )
    try:
        compared = side_by_side(valid.project, valid.tree, doc, source, method)
    except ValueError as exc:
        raise PingyiError(f"{path}: {exc}") from None
    return Weights(valid.project, valid.tree, compared)


# --- end of weights -----------------------------------------------------------------------------------


def share(
    results: Path | str,
    reports: Path | str,
    out: Path | str,
    providers: list[str] | None = None,
    zipped: bool = False,
) -> Shared:
    """One private package per provider (pingyi.share): its card, its own results, peer aggregates and the
    project's definitions, so that `explain` works on it and nothing of another provider is in it."""
    return share_packages(results, reports, out, providers, zipped)


def load_project(project: Path | str | None = None, year: int | None = None) -> Project:
    """The project (indicators, baselines, policy) at `project` (default: the shipped one), validated."""
    return require_valid(Path(project) if project is not None else None, year).project


def load_results(results: Path | str, *, verify: bool = True) -> Results:
    """A results folder as pandas DataFrames: `.scores`, `.indicators`, `.adjustments` (money as Decimal),
    `.quality`. Refused when its files no longer match their manifest, unless `verify=False`."""
    return read_frames(results, verify=verify)


def score(
    data: Path | str, out: Path | str, project: Path | str | None = None, year: int | None = None, **options: Any
) -> Results:
    """`pingyi score` from Python: score the bundle `data` into `out` (DuckDB does the work), then return
    the written results as DataFrames. `options`: those of `evaluate` (history, strict, encoding)."""
    evaluate(data, out, Path(project) if project is not None else None, year, **options)
    return read_frames(out)


def evaluate(
    data: Path | str,
    out: Path | str,
    project: Path | None = None,
    year: int | None = None,
    history: Path | None = None,
    progress: Callable[[], None] | None = None,
    strict: bool = False,
    encoding: str | None = None,
) -> RunResult:
    """Score every provider of the bundle `data`; write the result files and the manifest to `out`.
    A run guard that fires stops it (PingyiError); `strict`: its warnings stop it too. `encoding`: of the
    bundle's CSV and JSON files that are not UTF-8 (default: detected, GBK or Big5)."""
    return evaluate_to(
        Path(data), project, year, history, Path(out), progress=progress, strict=strict, encoding=encoding
    )


@dataclass(frozen=True)
class QualityCheck:
    year: int
    warnings: tuple[str, ...]  # about the bundle's files (unknown files, columns not read)
    result: QualityResult
    written: tuple[Path, ...]  # quality.csv and rejected.csv, when an output directory was given


def check_quality(
    data: Path | str,
    project: Path | None = None,
    year: int | None = None,
    out: Path | None = None,
    encoding: str | None = None,
) -> QualityCheck:
    """The data-quality stage alone: rows read, used and rejected per table, and every failed check."""
    settings = load_data_settings(project)
    if year is None:
        year = evaluation_year(project)
        if year is None:
            raise PingyiError(
                "cannot tell the evaluation year: policy.yaml has no evaluation_year and the project has not "
                "exactly one baselines/*.yaml year; pass --year YYYY"
            )
    with open_bundle(Path(data), settings, year, encoding=encoding) as bundle:
        result = run_quality(bundle, settings, year)
        written = tuple(result.write(out)) if out is not None else ()
        return QualityCheck(year, tuple(bundle.warnings), result, written)


def verify(
    folder: Path,
    data: Path | None = None,
    project: Path | None = None,
    *,
    results: Path | None = None,
    rerender: bool = False,
    workers: int = 0,
) -> VerifyReport:
    """Check a results folder against its manifest and a fresh re-run, byte for byte; a monitoring folder
    (`pingyi monitor`) the same way; or a report folder against its manifest (and, with `rerender`, a
    fresh rendering)."""
    from pingyi.report.manifest import is_report_manifest
    from pingyi.run.verify import read_manifest

    manifest = read_manifest(folder)
    if manifest.get("kind") == SHARE_KIND:
        ok, lines = verify_package(folder)
        return VerifyReport(ok, lines)
    if manifest.get("kind") == MONITOR_KIND:
        from pingyi.monitor.verify import verify_monitor

        return verify_monitor(folder, manifest, data, project)
    if is_report_manifest(manifest):
        from pingyi.report.verify import verify_report

        return verify_report(folder, manifest, results_dir=results, rerender=rerender, workers=workers)
    return verify_results(folder, data, project, manifest=manifest)


def report(
    results: Path,
    out: Path,
    *,
    formats: Iterable[str] = ("pdf", "xlsx", "html"),
    providers: Iterable[str] | None = None,
    lang: str = "zh",
    workers: int = 0,
    templates: Path | None = None,
    progress: Progress | None = None,
    ledger: Path | None = None,
    uncertainty: Path | None = None,
) -> ReportRun:
    """PDF cards and committee report, the Excel workbook and offline HTML from a results directory.
    With `ledger`, the cards list each provider's open rectification items and the committee report the
    rectification rate and the overdue items of the results' year, as the ledger holds them now. With
    `uncertainty` (a folder of `pingyi uncertainty` on these results), the committee report lists the
    providers whose grade is less than 80 % sure before the money."""
    figures = None
    if uncertainty is not None:
        figures = read_json(
            Path(uncertainty) / "uncertainty.json", "the uncertainty.json written by `pingyi uncertainty`"
        )
        expected = file_sha256(Path(results) / "results.json")
        if not isinstance(figures, dict) or figures.get("results_sha256") != expected:
            raise PingyiError(
                f"{Path(uncertainty) / 'uncertainty.json'}: was not computed from {Path(results) / 'results.json'} "
                "(its results_sha256 differs); expected `pingyi uncertainty --results` of the same results"
            )
    snapshot = None
    if ledger is not None:
        doc = read_json(Path(results) / "results.json", "the results.json written by `pingyi score`")
        year = doc.get("year") if isinstance(doc, dict) else None
        if not isinstance(year, int):
            raise PingyiError(f"{results}/results.json: no evaluation year; expected the one `pingyi score` writes")
        with open_ledger(ledger) as book:
            snapshot = rectification_snapshot(book, year)
    return render_reports(
        results,
        out,
        formats=formats,
        providers=providers,
        lang=lang,
        workers=workers,
        templates=templates,
        progress=progress,
        ledger=snapshot,
        uncertainty=figures,
    )


@dataclass(frozen=True)
class Explanation:
    text: str  # what `pingyi explain` prints
    record: dict[str, Any]  # what `pingyi explain --json` prints (docs/cli.md gives its shape)


def explain(
    code: str,
    project: Path | None = None,
    provider: str | None = None,
    results: Path | None = None,
    lang: str = "en",
) -> Explanation:
    """An indicator's manual entry and measure SQL, or a dimension's indicators and weights; with
    `provider` (a code or a name) and `results`, that provider's number walked from its measures through
    every intermediate figure to its contribution to the total. Everything is checked (the project, the
    provider, the code) before any text is made, so an error never follows half an explanation."""
    if lang not in LANGS:
        raise PingyiError(f"--lang {lang!r}: expected one of {', '.join(LANGS)}")
    if (provider is None) != (results is None):
        raise PingyiError("--provider and --results go together: give both to explain one provider's number")
    said = ""
    year = None
    if results is not None:
        # the project the results were made with, not the shipped one: its baselines and weights are the
        # ones the results were scored with
        project, said, year = results_project(results, project)
    valid = require_valid(project, year)
    proj, tree = valid.project, valid.tree
    key = code.strip().upper()
    dimensions = [d.primary.code for d in proj.dimensions]
    if key not in proj.indicators and key not in dimensions:
        raise PingyiError(
            f"unknown code {code!r}; expected an indicator ({', '.join(proj.indicators)}) or a dimension "
            f"({', '.join(dimensions)})"
        )
    prov = None
    if results is not None and provider is not None:
        data, _doc = load_results_document(results)
        prov = find_provider(data, provider, Path(results) / "results.json")
    lang_: Lang = "zh" if lang == "zh" else "en"
    record: dict[str, Any]
    if key in dimensions:
        record = dimension_record(proj, tree, key, prov)
        parts = [said, render_dimension(record, lang_)]
    else:
        record = {"manual": explain_indicator(proj, tree, key), "sql": explain_measures(proj, key)}
        parts = [said, record["manual"], record["sql"]]
        if prov is not None:
            record = {**provider_record(proj, key, prov, data), "manual": record["manual"], "sql": record["sql"]}
            parts.append(render_provider(record, lang_))
    if said:
        record["project"] = said
    return Explanation("\n".join(p for p in parts if p), record)


def derive_baselines(
    results: Path,
    year: int,
    project: Path | None = None,
    *,
    method: str = "median",
    ageing: Path | None = None,
    max_change: float = 0.10,
    max_change_pp: float | None = None,
    min_providers: int = 3,
    out: Path | None = None,
) -> tuple[Derived, Path | None]:
    """Next year's baselines from a results directory (and, with `out`, the YAML written there)."""
    check_options(method, max_change, max_change_pp, min_providers)
    doc, _ = load_results_document(results)
    from_year = int(doc["year"])
    try:
        valid = require_valid(project, from_year)
    except PingyiError as exc:
        raise PingyiError(
            f"the project's {from_year} baselines cannot be loaded; run `pingyi validate --year {from_year}`",
            issues=exc.issues,
        ) from None
    derived = derive(
        doc,
        f"{Path(results).name}/results.json",
        valid.project,
        year,
        method=method,
        ageing_file=ageing,
        max_change=max_change,
        max_change_pp=max_change_pp,
        min_providers=min_providers,
    )
    return derived, (write_derived(derived, out) if out is not None else None)


def init_project(directory: Path, force: bool = False) -> list[str]:
    """Copy the shipped project into `directory` for a committee to edit; returns what was copied."""
    if directory.exists() and any(directory.iterdir()) and not force:
        raise PingyiError(
            f"{directory}: directory is not empty; expected a new or empty directory (use --force to write into it)"
        )
    return copy_project(default_project_dir(), directory)


def score_cycle(
    data: Path | str,
    out: Path | str,
    project: Path | None = None,
    year: int | None = None,
    history: Path | None = None,
    *,
    stage: str | None = None,
    ledger: Path | None = None,
    actor: str = "committee",
    day: str | None = None,
    force: str | None = None,
    corrections: Path | None = None,
    progress: Callable[[], None] | None = None,
    strict: bool = False,
    encoding: str | None = None,
    engine: str = "duckdb",
    spark_master: str | None = None,
) -> CycleRun:
    """`evaluate` as one stage of the cycle (pingyi.cycle.score): a preview, final or recheck run dated
    `day`, recorded in `ledger` when given (a final run is refused while disputes are undecided, unless
    `force` gives a reason). `corrections`: a corrections table applied before scoring; a final run
    recorded in a ledger without one applies the ledger's accepted disputes of the year. `engine`: duckdb
    (default) or spark (`spark_master`: a Spark master URL; default local[*] or spark-submit's), which
    read, check and measure the bundle with the same outputs (pingyi.engine)."""
    command = "pingyi score" + (f" --{stage}" if stage else "")
    return score_in_cycle(
        Path(data),
        Path(out),
        project,
        year,
        history,
        stage=stage,
        ledger_path=Path(ledger) if ledger is not None else None,
        actor=actor,
        day=day,
        force=force,
        command=command,
        corrections=Path(corrections) if corrections is not None else None,
        progress=progress,
        strict=strict,
        encoding=encoding,
        engine=engine,
        spark_master=spark_master,
    )


def monitor(
    data: Path | str,
    through: str,
    out: Path | str,
    project: Path | None = None,
    year: int | None = None,
    *,
    ledger: Path | str | None = None,
    day: str | None = None,
    actor: str = "committee",
    lang: str = "zh",
    formats: str | Iterable[str] = ("html", "pdf"),
    encoding: str | None = None,
) -> MonitorRun:
    """In-year monitoring (预警, pingyi.monitor): the year-to-date indicators and lights from the months of
    `data` up to `through` (YYYY-MM), the indicators heading for red, warnings.csv, a notice per provider
    warned and the manifest in `out`; with `ledger` (or the project's policy.cycle.ledger), the run and its
    warnings recorded, due `warning_deadline_days` after `day` (YYYY-MM-DD, default today)."""
    return run_monitor(
        Path(data),
        through,
        Path(out),
        project,
        year,
        ledger_path=Path(ledger) if ledger is not None else None,
        day=day,
        actor=actor,
        lang=lang,
        formats=formats,
        encoding=encoding,
        command="pingyi monitor",
    )


def ledger_init(path: Path | str, *, committee: str, actor: str) -> None:
    """Create a new ledger (refused if the file exists)."""
    init_ledger(path, committee=committee, actor=actor).close()


def ledger_verify(path: Path | str, *, public_keys: Iterable[Path] = (), check_files: bool = True) -> LedgerReport:
    return verify_ledger(path, public_keys=list(public_keys), check_files=check_files)


def ledger_keygen(path: Path | str) -> KeyFiles:
    return generate_key(path)


def ledger_sign(ledger: Path | str, run_id: int, key: Path | str, *, actor: str) -> str:
    with open_ledger(ledger, actor=actor) as book:
        return sign_run(book, run_id, key, actor=actor, command="pingyi ledger sign")


def ledger_runs(ledger: Path | str) -> list[dict[str, Any]]:
    with open_ledger(ledger) as book:
        return [dict(r) for r in book.conn.execute("SELECT * FROM runs ORDER BY id")]


RECTIFY_STATUSES = ("open", "submitted", "overdue", "closed")


def rectify_list(ledger: Path | str, *, provider: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
    """Rectification items, earliest deadline first: not closed ones, or those of `status`."""
    if status is not None and status not in RECTIFY_STATUSES:
        raise PingyiError(f"--status {status!r}; expected one of {', '.join(RECTIFY_STATUSES)}")
    sql = "SELECT * FROM rectification WHERE " + ("status = ?" if status else "status != 'closed'")
    args: list[Any] = [status] if status else []
    if provider is not None:
        sql += " AND fixmedins_code = ?"
        args.append(provider)
    with open_ledger(ledger) as book:
        return [dict(r) for r in book.conn.execute(sql + " ORDER BY deadline, id", args)]


def rectify_submit(ledger: Path | str, item: int, *, notes: str, actor: str) -> None:
    with open_ledger(ledger, actor=actor) as book:
        submit_rectification(book, item, actor=actor, notes=notes, command="pingyi rectify submit")


def rectify_close(ledger: Path | str, item: int, *, run_id: int, notes: str, actor: str) -> None:
    if not notes.strip():
        raise PingyiError("--notes: closing an item by hand needs the reason (e.g. the re-check's finding)")
    with open_ledger(ledger, actor=actor) as book:
        close_rectification(book, item, run_id=run_id, actor=actor, notes=notes, command="pingyi rectify close")


# --------------------------------------------------------------------------- disputes (申诉复核)
# Between `score --preview` and `score --final`: templates per provider, their import into the ledger,
# the committee's decisions, and the corrections table of the accepted ones (pingyi.disputes).


def disputes_template(
    results: Path | str, out: Path | str, *, provider: str | None = None, lang: str = "zh"
) -> list[Path]:
    """One dispute template (.xlsx) per provider of a preview run (or only `provider`)."""
    return write_templates(results, out, provider=provider, lang=lang)


def disputes_import(
    files: Iterable[Path | str], ledger: Path | str, *, actor: str, late: str | None = None, day: str | None = None
) -> Imported:
    """Check filled templates and record their claims in one transaction, or nothing with every bad row named."""
    return import_disputes(files, ledger, actor=actor, late=late, day=parse_day(day) if day else None)


def disputes_decide(
    ledger: Path | str, dispute_id: int, *, accept: bool, reason: str, value: str | None = None, actor: str
) -> dict[str, Any]:
    """Accept (with the corrected value: `value`, default the claimed one) or reject a dispute."""
    return decide(ledger, dispute_id, accept=accept, reason=reason, value=value, actor=actor)


def disputes_list(
    ledger: Path | str, *, year: int | None = None, provider: str | None = None, status: str | None = None
) -> list[dict[str, Any]]:
    return dispute_rows(ledger, year=year, provider=provider, status=status)


def disputes_corrections(ledger: Path | str, year: int, out: Path | str) -> CorrectionsTable:
    """The accepted disputes of `year` as a corrections table for `pingyi score --corrections`."""
    return corrections(ledger, year, out)


# --------------------------------------------------------------------------- compare
# Two runs side by side: a preview against the final run, or a policy edit tried on the same data.


def compare(
    run_a: Path | str,
    run_b: Path | str,
    *,
    ledger: Path | str | None = None,
    xlsx: Path | str | None = None,
    lang: str = "zh",
) -> Comparison:
    """What changed from run A to run B (results folders, or with `ledger` run ids of it), per provider
    and in money (pingyi.compare); with `xlsx`, the 汇总 and 变化 workbook written there atomically."""
    if lang not in LANGS:
        raise PingyiError(f"--lang {lang!r}; expected one of {', '.join(LANGS)}")
    result = compare_runs(run_a, run_b, ledger=Path(ledger) if ledger is not None else None)
    if xlsx is None:
        return result
    path = write_atomic(Path(xlsx), workbook_bytes(result, lang))
    return replace(result, xlsx=path)


def uncertainty(
    results: Path | str,
    out: Path | str,
    *,
    samples: int = 1000,
    seed: int = 0,
    noise: float = 0.2,
    schemes: tuple[str, ...] = SCHEMES,
    sobol_samples: int = 128,
    sources: tuple[str, ...] = SOURCES,
) -> Uncertainty:
    """How sure each provider's rank and grade are (pingyi.uncertainty): a Monte Carlo over the weighting
    scheme, the weights and the declared `sources` (expert resampling, derived baselines, survey sampling
    error) of a results folder written by `pingyi score` (refused if its outputs were edited), with the
    project it was scored with; uncertainty.csv and uncertainty.json written to `out`."""
    folder = Path(results)
    unedited_results(folder, "--results")
    project_dir, _said, _year = results_project(folder, None)
    valid = require_valid(project_dir)
    doc, _ = load_results_document(folder)
    run = run_uncertainty(valid.project, valid.tree, doc, folder, samples=samples, seed=seed, noise=noise,
                          schemes=schemes, sobol_samples=sobol_samples, sources=sources)  # fmt: skip
    run = replace(run, results_sha256=file_sha256(folder / "results.json"))
    files = write_outputs(run, Path(out), [g["name"] for g in doc["grades"]])
    return replace(run, files=files)
