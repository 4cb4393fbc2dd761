"""A score run's place in the evaluation cycle (评议-反馈-整改-复查) [001 §3.2, §6.3].

- A **preview** (征求意见稿) is a run whose cards and committee report say so, with the date the
  review closes (`policy.cycle.review_days` after the run's date). Providers dispute it meanwhile.
- A **final** run is refused while disputes of its year are undecided in the ledger, unless forced
  with a reason (kept in the audit log). It takes last year's final results from the ledger as its
  grade history when no `--history` is given, so `revoke_after` counts years the ledger knows.
- Recording a final run in the ledger also, in the same transaction: closes the open rectification
  items whose indicator is no longer in `policy.cycle.rectify_lights` (复查), keeps the others open,
  opens an item (整改, due `rectification_days` after the run's date) for every light of
  `rectify_lights` that has none, and marks items past their deadline overdue.
- A **recheck** run (复查 on new data, between two years) only closes and flags items; it opens none.

The run's date is a parameter (`--date`, default today), not the clock at writing time, so the same
inputs give the same files and `pingyi verify` re-runs with it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from pingyi.errors import PingyiError, read_json
from pingyi.ledger import open_ledger, record_run, undecided_disputes
from pingyi.ledger.records import RectificationStatus, RunKind, accepted_corrections
from pingyi.ledger.store import Tx
from pingyi.run.corrections import write_corrections
from pingyi.run.evaluate import evaluate_to
from pingyi.run.pipeline import RunResult
from pingyi.spec.models import CyclePolicy
from pingyi.validate import require_valid

STAGES = ("preview", "final", "recheck")


@dataclass(frozen=True)
class Rectified:
    """What recording a run did to the rectification items."""

    opened: tuple[tuple[str, str], ...] = ()  # (provider, indicator)
    closed: tuple[tuple[str, str], ...] = ()
    still: tuple[tuple[str, str], ...] = ()  # open items whose light is still one to rectify
    overdue: tuple[int, ...] = ()


@dataclass(frozen=True)
class CycleRun:
    result: RunResult
    stage: str | None
    date: str
    review_deadline: str | None
    run_id: int | None = None
    history_from: Path | None = None
    forced: str | None = None
    rectified: Rectified = field(default_factory=Rectified)
    ledger: Path | None = None  # where the run was recorded (--ledger, else the project's policy.cycle.ledger)
    # corrections applied from the ledger's accepted disputes (a final run with --ledger and no
    # --corrections); None when the run did not look there
    from_disputes: int | None = None


def parse_day(text: str | None, what: str = "--date") -> date:
    if text is None:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PingyiError(f"{what} {text!r} is not a date; expected YYYY-MM-DD, e.g. 2026-03-01") from None


def cycle_parameters(stage: str | None, day: date, cycle: CyclePolicy) -> dict[str, Any]:
    """The parameters a run records about its place in the cycle (none for a plain run)."""
    if stage is None:
        return {}
    params: dict[str, Any] = {"stage": stage, "date": day.isoformat()}
    if stage == "preview":
        params["review_deadline"] = (day + timedelta(days=cycle.review_days)).isoformat()
    return params


def last_final_results(ledger_path: Path, year: int) -> Path | None:
    """The results directory of the latest final run of `year` in the ledger, if it is still there."""
    with open_ledger(ledger_path) as ledger:
        row = ledger.conn.execute(
            "SELECT results_dir FROM runs WHERE kind = 'final' AND year = ? ORDER BY id DESC LIMIT 1", (year,)
        ).fetchone()
    if row is None:
        return None
    folder = Path(row[0])
    if not (folder / "results.json").is_file():
        raise PingyiError(
            f"{ledger_path}: the final run of {year} was recorded from {folder}, which no longer holds results.json; "
            "restore it or pass --history DIR"
        )
    return folder


def score_in_cycle(
    data: Path,
    out: Path,
    project: Path | None,
    year: int | None,
    history: Path | None,
    *,
    stage: str | None,
    ledger_path: Path | None,
    actor: str,
    day: str | None,
    force: str | None,
    command: str,
    progress: Callable[[], None] | None = None,
    strict: bool = False,
    encoding: str | None = None,
    corrections: Path | None = None,
    engine: str = "duckdb",
    spark_master: str | None = None,
) -> CycleRun:
    if stage is not None and stage not in STAGES:
        raise PingyiError(f"stage {stage!r}; expected one of {', '.join(STAGES)}")
    if ledger_path is not None and stage is None:
        raise PingyiError("--ledger records a preview, final or recheck run; add --preview, --final or --recheck")
    if force is not None and (stage != "final" or not force.strip()):
        raise PingyiError("--force REASON only applies to --final and needs a reason (it is kept in the ledger)")
    valid = require_valid(project, year)
    policy, year = valid.project.policy, valid.project.year
    if ledger_path is None and stage is not None and policy.cycle.ledger:
        ledger_path = valid.project.root / policy.cycle.ledger  # the project's ledger (policy.cycle.ledger)
    run_day = parse_day(day)
    forced = None
    if ledger_path is not None:
        with open_ledger(ledger_path) as ledger:  # refused before any work when it is not a ledger
            undecided = undecided_disputes(ledger, year) if stage == "final" else 0
        if undecided and force is None:
            raise PingyiError(
                f"{ledger_path}: {undecided} dispute(s) of {year} are undecided; decide them first "
                "(pingyi disputes list / decide) or pass --force REASON to publish anyway"
            )
        if undecided:
            forced = force
        if history is None and stage in ("final", "recheck"):
            history = last_final_results(ledger_path, year - 1)
    from_disputes = None
    if ledger_path is not None and stage == "final" and corrections is None:
        corrections, from_disputes = disputes_corrections(ledger_path, year, Path(out))
    params = cycle_parameters(stage, run_day, policy.cycle)
    result = evaluate_to(
        data,
        project,
        year,
        history,
        out,
        progress=progress,
        strict=strict,
        encoding=encoding,
        cycle=params,
        corrections=corrections,
        engine=engine,
        spark_master=spark_master,
    )
    run = CycleRun(
        result=result,
        stage=stage,
        date=run_day.isoformat(),
        review_deadline=params.get("review_deadline"),
        history_from=history,
        forced=forced,
        from_disputes=from_disputes,
    )
    if ledger_path is None:
        return run
    results = read_json(Path(out) / "results.json")
    rectified: list[Rectified] = []

    def rectify(tx: Tx, run_id: int) -> None:
        rectified.append(apply_rectification(tx, run_id, results, policy.cycle, run_day, stage or ""))

    note = {"forced": forced, "undecided_disputes": undecided} if forced else {}
    with open_ledger(ledger_path) as ledger:
        run_id = record_run(
            ledger,
            out,
            stage or "",
            actor,
            command,
            note=note,
            then=rectify if stage in ("final", "recheck") else None,
        )
    return CycleRun(
        **{
            **run.__dict__,
            "run_id": run_id,
            "rectified": rectified[0] if rectified else Rectified(),
            "ledger": Path(ledger_path),
        }
    )


def disputes_corrections(ledger_path: Path, year: int, out: Path) -> tuple[Path | None, int]:
    """The ledger's accepted disputes of `year` written as a corrections table beside the out folder
    (`<out>.corrections.csv`: a recorded input, so `pingyi verify` re-runs with it), and their count;
    no file when there are none."""
    with open_ledger(ledger_path) as ledger:
        rows, _skipped = accepted_corrections(ledger, year)
    if not rows:
        return None, 0
    return write_corrections(out.parent / f"{out.name}.corrections.csv", rows), len(rows)


def lights_of(results: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """provider -> indicator -> light, from results.json."""
    return {
        p["fixmedins_code"]: {i["code"]: i.get("light") or "" for i in p.get("indicators", [])}
        for p in results.get("providers", [])
    }


def apply_rectification(
    tx: Tx, run_id: int, results: Mapping[str, Any], cycle: CyclePolicy, day: date, stage: str
) -> Rectified:
    """Close, keep, open and mark overdue the rectification items for a final or recheck run (inside
    the transaction recording the run). An item is closed only when the indicator has a light in this
    run that is not one to rectify: a provider or indicator absent from the run (no data) closes nothing."""
    lights = lights_of(results)
    to_fix = set(cycle.rectify_lights)
    today = day.isoformat()
    R = RectificationStatus
    open_rows = [
        dict(r)
        for r in tx.conn.execute(
            "SELECT * FROM rectification WHERE status != 'closed' AND run_opened < ? ORDER BY id", (run_id,)
        )
    ]
    closed, still, overdue = [], [], []
    has_item = set()
    for row in open_rows:
        key = (row["fixmedins_code"], row["indicator"])
        light = lights.get(key[0], {}).get(key[1], "")
        if light and light != "grey" and light not in to_fix:
            note = f"{tx.at} {stage} run {run_id}: light {light} on {today}"
            tx.update(
                "rectification",
                row["id"],
                {
                    "status": R.CLOSED.value,
                    "closed_by_run": run_id,
                    "notes": (row["notes"] + "\n" if row["notes"] else "") + note,
                    "updated_at": tx.at,
                },
            )
            closed.append(key)
            continue
        has_item.add(key)
        if light in to_fix:
            still.append(key)
        if row["status"] in (R.OPEN.value, R.SUBMITTED.value) and row["deadline"] < today:
            tx.update("rectification", row["id"], {"status": R.OVERDUE.value, "updated_at": tx.at})
            overdue.append(int(row["id"]))
    opened = []
    if stage == RunKind.FINAL.value:
        deadline = (day + timedelta(days=cycle.rectification_days)).isoformat()
        year = int(results["year"])
        for code in sorted(lights):
            for indicator, light in sorted(lights[code].items()):
                if light in to_fix and (code, indicator) not in has_item:
                    tx.insert(
                        "rectification",
                        {
                            "fixmedins_code": code,
                            "indicator": indicator,
                            "year_opened": year,
                            "run_opened": run_id,
                            "deadline": deadline,
                            "status": R.OPEN.value,
                            "notes": "",
                            "opened_at": tx.at,
                            "updated_at": tx.at,
                        },
                    )
                    opened.append((code, indicator))
    return Rectified(tuple(opened), tuple(closed), tuple(still), tuple(overdue))
