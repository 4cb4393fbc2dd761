"""A monitoring run (`pingyi monitor`): the evaluation pipeline on the months of the year up to
`--through` (pingyi.monitor.window), the annual totals annualised (pingyi.monitor.annualise), the
indicators heading for red judged and the ledger's warnings planned (pingyi.monitor.flags), then the
outputs written in one folder and, with a ledger, the run and its warnings recorded in one transaction.

The folder holds the year-to-date run's result files as `pingyi score` writes them (results.json,
indicators.csv …), warnings.csv (the committee's table), no_data.csv, notices/<code>.html and .pdf, and
manifest.json (kind `pingyi monitor`: inputs, parameters with `through`, and every output's SHA-256).
Outputs are written before the ledger is touched; recording checks that the year's active warnings are
still those the run planned with, so two monitoring runs at once cannot both open the same warning.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pingyi.errors import PingyiError
from pingyi.files import output_folder
from pingyi.ledger import open_ledger, record_run
from pingyi.ledger.records import RunKind
from pingyi.ledger.store import Tx
from pingyi.monitor.annualise import annualise, annualised_codes
from pingyi.monitor.flags import ACTIVE, WarningRow, judge, plan
from pingyi.monitor.labels import NO_DATA_COLUMNS, WARNING_COLUMNS
from pingyi.monitor.notice import notice_context, parse_notice_formats, write_notices
from pingyi.monitor.window import keep_through, month_text, parse_through
from pingyi.report.manifest import tree_hashes
from pingyi.run.manifest import build_manifest, write_manifest
from pingyi.run.outputs import RESULT_FILES, safe_text, write_results
from pingyi.run.pipeline import Window, run
from pingyi.spec.project import default_project_dir
from pingyi.text import significant
from pingyi.validate import require_valid

KIND = "pingyi monitor"
LEDGER_SNAPSHOT = "ledger.json"
OWNED = (*RESULT_FILES, "warnings.csv", "no_data.csv", LEDGER_SNAPSHOT, "notices", "manifest.json")
LANGS = ("zh", "en")


@dataclass(frozen=True)
class MonitorRun:
    year: int
    through: str  # YYYY-MM
    date: str  # the run's date (deadlines count from it)
    out: Path
    providers: int
    rows: tuple[
        WarningRow, ...
    ]  # warnings.csv: heading for red, and the active ledger warnings resolved or without data
    no_data: int  # (provider, indicator) pairs not judged for want of data
    annualised: tuple[str, ...]  # the indicators whose values were annualised
    notices: tuple[Path, ...]
    guards: tuple[str, ...] = ()  # the run guards' warnings (as `pingyi score` prints them)
    ledger: Path | None = None
    run_id: int | None = None

    @property
    def heading(self) -> tuple[WarningRow, ...]:
        """The rows heading for red (an active warning this run has no data for is not one)."""
        return tuple(w for w in self.rows if w.judged.heading)

    def count(self, change: str) -> int:
        return sum(w.change == change for w in self.rows)


def _csv(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(list(header))
    writer.writerows(rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")  # with a BOM: Excel then reads the Chinese names


def warnings_csv(rows: Iterable[WarningRow]) -> bytes:
    return _csv(
        WARNING_COLUMNS,
        (
            [
                w.judged.provider,
                safe_text(w.judged.provider_name),
                w.judged.indicator,
                safe_text(w.judged.indicator_name),
                significant(w.judged.value),
                significant(w.judged.baseline),
                "" if w.judged.over is None else f"{w.judged.over:.4f}",
                w.judged.light,
                "yes" if w.judged.annualised else "",
                w.deadline,
                w.status,
                "" if w.warning_id is None else w.warning_id,
            ]
            for w in rows
        ),
    )


def parse_day(text: str | None) -> date:
    if text is None:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PingyiError(f"--date {text!r} is not a date; expected YYYY-MM-DD, e.g. 2025-07-05") from None


def active_warnings(ledger_path: Path, year: int) -> tuple[list[dict[str, Any]], str]:
    with open_ledger(ledger_path) as ledger:
        marks = ", ".join("?" * len(ACTIVE))
        rows = [
            dict(r)
            for r in ledger.conn.execute(
                f"SELECT * FROM warnings WHERE year = ? AND status IN ({marks}) ORDER BY id", (year, *ACTIVE)
            )
        ]
        committee = ledger.conn.execute("SELECT committee FROM meta").fetchone()
    return rows, (committee[0] if committee else "")


def monitor(
    data: Path,
    through: str,
    out: Path,
    project: Path | None = None,
    year: int | None = None,
    *,
    ledger_path: Path | None = None,
    day: str | None = None,
    actor: str = "committee",
    lang: str = "zh",
    formats: str | Iterable[str] = ("html", "pdf"),
    encoding: str | None = None,
    command: str = KIND,
) -> MonitorRun:
    """Monitor through a month, write the outputs and, with a ledger (or the project's), record them."""
    valid = require_valid(project, year)
    spec = valid.project
    if ledger_path is None and spec.policy.cycle.ledger:
        ledger_path = spec.root / spec.policy.cycle.ledger  # the project's ledger (policy.cycle.ledger)
    state = None
    if ledger_path is not None:  # refused before any work when it is not a ledger
        state = ledger_state(Path(ledger_path), spec.year)
    done = write_monitor(
        data, through, out, project, spec.year, day=day, lang=lang, formats=formats, encoding=encoding, state=state
    )
    if ledger_path is None or state is None:
        return done
    month = int(done.through[5:])
    run_id = record(
        Path(ledger_path),
        Path(out),
        done.rows,
        state["warnings"],
        done.year,
        month,
        parse_day(done.date),
        actor,
        command,
    )
    return dataclasses.replace(done, ledger=Path(ledger_path), run_id=run_id)


def ledger_state(ledger_path: Path, year: int) -> dict[str, Any]:
    """What a monitoring run reads of the ledger: the committee and the year's active warnings (kept in
    the output folder as ledger.json, so that `pingyi verify` re-plans from the same state)."""
    active, committee = active_warnings(ledger_path, year)
    keep = ("id", "fixmedins_code", "indicator", "status", "deadline")
    return {"committee": committee, "year": year, "warnings": [{k: r[k] for k in keep} for r in active]}


def write_monitor(
    data: Path,
    through: str,
    out: Path,
    project: Path | None,
    year: int | None,
    *,
    day: str | None,
    lang: str,
    formats: str | Iterable[str],
    encoding: str | None,
    state: Mapping[str, Any] | None,
) -> MonitorRun:
    """The monitoring run to files (no ledger written): `state` is the ledger's (ledger_state), None
    without a ledger."""
    if lang not in LANGS:
        raise PingyiError(f"--lang {lang!r}; expected zh or en")
    shown_formats = parse_notice_formats(formats)
    valid = require_valid(project, year)
    spec = valid.project
    year, cycle = spec.year, spec.policy.cycle
    month = parse_through(through, year)
    run_day = parse_day(day)
    active = list(state["warnings"]) if state is not None else []
    committee = str(state.get("committee") or "") if state is not None else ""
    codes = annualised_codes(spec)
    window = Window(
        months=month,
        prepare=lambda bundle: keep_through(bundle, year, month),
        revalue=lambda values, measures: annualise(spec, values, measures, month),
        warn_only=frozenset({"none_graded"}),
    )
    project_dir = Path(project) if project is not None else default_project_dir()
    result = run(Path(data), project_dir, year=year, encoding=encoding, window=window)
    parameters = {
        **result.parameters,
        "stage": RunKind.MONITOR.value,
        "through": month_text(year, month),
        "date": run_day.isoformat(),
        "heading_for_red": cycle.heading_for_red,
        "warning_deadline_days": cycle.warning_deadline_days,
        "annualised": list(codes),
        "lang": lang,
        "formats": list(shown_formats),
        "ledger": state is not None,
    }
    result = dataclasses.replace(result, parameters=parameters)
    judged = judge(result, cycle.heading_for_red, codes)
    rows = plan(judged, active, cycle, run_day)
    by_provider: dict[str, list[WarningRow]] = {}
    for w in rows:
        if w.judged.heading:
            by_provider.setdefault(w.judged.provider, []).append(w)
    contexts = [
        notice_context(
            by_provider[code],
            year=year,
            through=month_text(year, month),
            issued=run_day.isoformat(),
            threshold=cycle.heading_for_red,
            committee=committee,
            lang=lang,
        )
        for code in sorted(by_provider)
    ]
    no_data = [j for j in judged if j.value is None]
    try:
        with output_folder(Path(out), owned=OWNED, command=KIND) as stage:
            write_results(result, stage)
            (stage / "warnings.csv").write_bytes(warnings_csv(rows))
            (stage / "no_data.csv").write_bytes(
                _csv(
                    NO_DATA_COLUMNS,
                    (
                        [j.provider, safe_text(j.provider_name), j.indicator, safe_text(j.indicator_name), j.reason]
                        for j in no_data
                    ),
                )
            )
            if state is not None:
                text = json.dumps(state, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
                (stage / LEDGER_SNAPSHOT).write_text(text, encoding="utf-8")
            notices = write_notices(contexts, stage / "notices", shown_formats)
            manifest = build_manifest(
                data_dir=Path(data), project_dir=project_dir, history_dir=None, parameters=parameters, outputs=[]
            )
            manifest = {"kind": KIND, **manifest, "outputs": tree_hashes(stage)}
            write_manifest(stage, manifest)
    finally:
        if result.scratch is not None:
            result.scratch.cleanup()
    return MonitorRun(
        year=year,
        through=month_text(year, month),
        date=run_day.isoformat(),
        out=Path(out),
        providers=len(result.results),
        rows=tuple(rows),
        no_data=len(no_data),
        annualised=codes,
        notices=tuple(Path(out) / "notices" / p.name for p in notices),
        guards=tuple(f"[{g.code}] {g.message}" for g in result.guards),
    )


def record(
    ledger_path: Path,
    out: Path,
    rows: Iterable[WarningRow],
    planned_from: Iterable[Mapping[str, Any]],
    year: int,
    month: int,
    day: date,
    actor: str,
    command: str,
) -> int:
    """The monitoring run and its warnings in one transaction (record_run's `then`)."""
    rows = list(rows)
    expected = sorted((int(r["id"]), r["status"]) for r in planned_from)
    note = {
        "through": month_text(year, month),
        "date": day.isoformat(),
        "warnings_new": [[w.judged.provider, w.judged.indicator] for w in rows if w.change == "new"],
        "warnings_escalated": [w.warning_id for w in rows if w.change == "escalate"],
        "warnings_resolved": [w.warning_id for w in rows if w.change == "resolve"],
    }

    def warn(tx: Tx, run_id: int) -> None:
        marks = ", ".join("?" * len(ACTIVE))
        now = sorted(
            (int(r[0]), r[1])
            for r in tx.conn.execute(
                f"SELECT id, status FROM warnings WHERE year = ? AND status IN ({marks})", (year, *ACTIVE)
            )
        )
        if now != expected:
            raise PingyiError(
                f"{ledger_path}: the warnings of {year} changed while this monitoring run was computed "
                "(another run recorded some); nothing was recorded: run it again"
            )
        for w in rows:
            if w.change == "new":
                tx.insert(
                    "warnings",
                    {
                        "fixmedins_code": w.judged.provider,
                        "indicator": w.judged.indicator,
                        "year": year,
                        "through_month": month,
                        "deadline": w.deadline,
                        "status": "open",
                        "run_id": run_id,
                        "created_at": tx.at,
                    },
                )
            elif w.change in ("escalate", "resolve") and w.warning_id is not None:
                tx.update("warnings", w.warning_id, {"status": "escalated" if w.change == "escalate" else "resolved"})

    with open_ledger(ledger_path, actor=actor) as ledger:
        return record_run(ledger, out, RunKind.MONITOR.value, actor, command, note=note, then=warn)
