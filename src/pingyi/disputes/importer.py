"""`pingyi disputes import FILE…`: filled dispute templates checked against the ledger, then recorded.

Each file must name (in its header block) a provider and year of a preview run recorded in the ledger,
by that run's manifest SHA-256. A row is a claim when any of its claim cells (申诉值, 理由, 证据编号) is
filled; a claim needs an indicator of the run's catalogue and a reason, and its claimed value, when
given, must be a number (a formula is refused: the file is data, not a calculation). Every bad row of
every file is named (FILE:row (field): found …; expected …) and then nothing is recorded; otherwise
all the claims are recorded in one ledger transaction. A claim after the preview's review deadline is
refused unless the import is marked late with a reason, which the audit entry keeps.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pingyi.errors import PingyiError, read_json
from pingyi.ledger import open_ledger
from pingyi.ledger.records import add_disputes
from pingyi.ledger.store import Ledger
from pingyi.report import labels as lb
from pingyi.run.corrections import parse_number


# labels of either language, as the template writes them: a template written with --lang en is read too
def _labels(key: str) -> set[str]:
    return {lb.LABELS[lang][key] for lang in lb.LANGS}


MAX_PROBLEMS = 20


@dataclass(frozen=True)
class Claim:
    file: Path
    row: int
    fixmedins_code: str
    indicator: str
    year: int
    run_id: int
    claimed_value: str | None
    reason: str
    evidence_ref: str


@dataclass(frozen=True)
class Imported:
    ids: tuple[int, ...]
    claims: tuple[Claim, ...]
    late: str | None
    deadline: str


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _is_formula(cell: Any) -> bool:
    return getattr(cell, "data_type", None) == "f"


def _read_sheet(path: Path) -> list[list[Any]]:
    """The first sheet's cells, row by row (openpyxl cells: their value and data type)."""
    from openpyxl import load_workbook

    if not path.is_file():
        raise PingyiError(f"{path}: no such file; expected a dispute template filled in (.xlsx)")
    try:
        book = load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise PingyiError(
            f"{path}: cannot be read as an .xlsx workbook ({type(exc).__name__}); expected a dispute template"
        ) from None
    try:
        sheet = book.worksheets[0]
        return [list(r) for r in sheet.iter_rows()]
    finally:
        book.close()


def _value(cell: Any) -> Any:
    return getattr(cell, "value", None)


@dataclass
class _Header:
    """A template's header block: provider code, year, preview manifest SHA-256, and their rows."""

    code: str = ""
    year: str = ""
    manifest: str = ""
    rows: dict[str, int] = field(default_factory=dict)


def parse_file(path: Path, problems: list[str]) -> tuple[_Header, list[dict[str, Any]]]:
    """The header block and the claim rows of one filled template (problems appended, not raised)."""
    rows = _read_sheet(path)
    head = _Header()
    wanted = {"code": _labels("code"), "year": _labels("dispute_year"), "manifest": _labels("dispute_manifest")}
    table_at = None
    ind_labels = _labels("dispute_indicator")
    for n, row in enumerate(rows, start=1):
        first = _cell_text(_value(row[0])) if row else ""
        if first in ind_labels:
            table_at = n
            break
        for name, labels in wanted.items():
            if first in labels and not getattr(head, name):
                setattr(head, name, _cell_text(_value(row[1])) if len(row) > 1 else "")
                head.rows[name] = n
    for name, key in (("code", "code"), ("year", "dispute_year"), ("manifest", "dispute_manifest")):
        if not getattr(head, name):
            label = lb.LABELS["zh"][key]
            problems.append(
                f"{path}: header block ({label}): found nothing; expected the value the template was written with"
            )
    if table_at is None:
        problems.append(
            f"{path}: table header: found no row starting with {lb.LABELS['zh']['dispute_indicator']!r}; "
            "expected a dispute template written by `pingyi disputes template`"
        )
        return head, []
    header = [_cell_text(_value(c)) for c in rows[table_at - 1]]
    cols: dict[str, int] = {}
    for key in ("dispute_indicator", "dispute_claimed", "dispute_claim_reason", "dispute_evidence"):
        labels = _labels(key)
        at = next((i for i, h in enumerate(header) if h in labels), None)
        if at is None:
            problems.append(
                f"{path}:{table_at} ({lb.LABELS['zh'][key]}): found no such column; expected the template's columns"
            )
        else:
            cols[key] = at
    if len(cols) < 4:
        return head, []
    claims = []
    for n, row in enumerate(rows[table_at:], start=table_at + 1):
        cells = {k: (row[i] if i < len(row) else None) for k, i in cols.items()}
        texts = {k: _cell_text(_value(c)) for k, c in cells.items()}
        if not (texts["dispute_claimed"] or texts["dispute_claim_reason"] or texts["dispute_evidence"]):
            continue  # no claim on this row
        claim: dict[str, Any] = {"row": n, "indicator": texts["dispute_indicator"]}
        claimed_cell = cells["dispute_claimed"]
        if _is_formula(claimed_cell):
            problems.append(f"{path}:{n} (申诉值): found a formula {texts['dispute_claimed']!r}; expected a number")
        elif texts["dispute_claimed"]:
            raw = _value(claimed_cell)
            number = (
                float(raw) if isinstance(raw, int | float) and not isinstance(raw, bool) else parse_number(str(raw))
            )
            if number is None:
                problems.append(f"{path}:{n} (申诉值): found {texts['dispute_claimed']!r}; expected a number")
            else:
                claim["claimed_value"] = repr(number)
        for key, label in (("dispute_claim_reason", "理由"), ("dispute_evidence", "证据编号")):
            if _is_formula(cells[key]):
                problems.append(f"{path}:{n} ({label}): found a formula; expected text")
        if not texts["dispute_claim_reason"]:
            problems.append(f"{path}:{n} (理由): found nothing; expected the reason for the claim")
        claim["reason"] = texts["dispute_claim_reason"]
        claim["evidence_ref"] = texts["dispute_evidence"]
        claims.append(claim)
    return head, claims


def _preview_run(ledger: Ledger, manifest: str) -> dict[str, Any] | None:
    row = ledger.conn.execute(
        "SELECT * FROM runs WHERE kind = 'preview' AND manifest_sha256 = ? ORDER BY id DESC LIMIT 1", (manifest,)
    ).fetchone()
    return dict(row) if row else None


def _run_results(ledger: Ledger, run: dict[str, Any]) -> dict[str, Any]:
    path = Path(run["results_dir"]) / "results.json"
    if not path.is_file():
        raise PingyiError(
            f"{ledger.path}: preview run {run['id']} was recorded from {run['results_dir']}, which no longer holds "
            "results.json; restore it (its catalogue and review deadline are needed)"
        )
    return read_json(path, "results.json of the preview run")


def check_files(ledger: Ledger, files: Sequence[Path]) -> tuple[list[Claim], str, list[str]]:
    """Every claim of every file, checked; (claims, review deadline, problems)."""
    problems: list[str] = []
    claims: list[Claim] = []
    deadlines: set[str] = set()
    seen: dict[tuple[str, str], str] = {}
    open_now = {
        (r[0], r[1], int(r[2])): int(r[3])
        for r in ledger.conn.execute("SELECT fixmedins_code, indicator, year, id FROM disputes WHERE status = 'open'")
    }
    for path in files:
        head, rows = parse_file(path, problems)
        if not head.manifest or not head.code or not head.year:
            continue
        at = head.rows
        run = _preview_run(ledger, head.manifest)
        if run is None:
            problems.append(
                f"{path}:{at.get('manifest')} (预览运行清单 SHA-256): found {head.manifest[:16]}…; expected the manifest "
                f"SHA-256 of a preview run recorded in {ledger.path}"
            )
            continue
        if head.year != str(run["year"]):
            problems.append(
                f"{path}:{at.get('year')} (年度): found {head.year!r}; expected {run['year']} (the year of preview run {run['id']})"
            )
            continue
        member = ledger.conn.execute(
            "SELECT 1 FROM provider_years WHERE run_id = ? AND fixmedins_code = ?", (run["id"], head.code)
        ).fetchone()
        if member is None:
            problems.append(
                f"{path}:{at.get('code')} (机构编码): found {head.code!r}; expected a provider of preview run {run['id']}"
            )
            continue
        results = _run_results(ledger, run)
        deadlines.add(str((results.get("parameters") or {}).get("review_deadline") or ""))
        catalogue = {i["code"] for i in results.get("indicators", [])}
        for c in rows:
            n, code = c["row"], c["indicator"]
            if code not in catalogue:
                problems.append(f"{path}:{n} (指标编码): found {code!r}; expected an indicator of the catalogue")
                continue
            key = (head.code, code)
            if key in seen:
                problems.append(
                    f"{path}:{n} (指标编码): found {code} again (also claimed in {seen[key]}); expected one claim per indicator"
                )
                continue
            seen[key] = f"{path}:{n}"
            existing = open_now.get((head.code, code, int(run["year"])))
            if existing is not None:
                problems.append(
                    f"{path}:{n} (指标编码): found {code}, already disputed (dispute {existing}, undecided); "
                    "expected a claim not yet filed"
                )
                continue
            # a row with a bad value or no reason is among the problems, which refuse the whole import
            claim = Claim(
                path,
                n,
                head.code,
                code,
                int(run["year"]),
                int(run["id"]),
                c.get("claimed_value"),
                c["reason"],
                c["evidence_ref"],
            )
            claims.append(claim)
    deadline = max(d for d in deadlines if d) if any(deadlines) else ""
    return claims, deadline, problems


def import_disputes(
    files: Iterable[Path | str],
    ledger_path: Path | str,
    *,
    actor: str,
    late: str | None = None,
    day: date | None = None,
    command: str = "pingyi disputes import",
) -> Imported:
    """Check every file, then record every claim in one transaction (or nothing, with every problem named)."""
    paths = [Path(f) for f in files]
    if not paths:
        raise PingyiError("no file given; expected one or more filled dispute templates (.xlsx)")
    if late is not None and not late.strip():
        raise PingyiError("--late REASON: the reason is required (it is kept in the ledger's audit log)")
    today = (day or date.today()).isoformat()
    with open_ledger(ledger_path, actor=actor) as ledger:
        claims, deadline, problems = check_files(ledger, paths)
        if problems:
            more = f"; and {len(problems) - MAX_PROBLEMS} more" if len(problems) > MAX_PROBLEMS else ""
            raise PingyiError(
                f"{len(problems)} problem(s), nothing recorded: " + "; ".join(problems[:MAX_PROBLEMS]) + more
            )
        if not claims:
            raise PingyiError(
                f"{', '.join(str(f) for f in paths)}: found no claim (no row with 申诉值, 理由 or 证据编号 filled); "
                "nothing recorded"
            )
        if deadline and today > deadline and late is None:
            raise PingyiError(
                f"the review closed on {deadline} and today is {today}: the claims are late; nothing recorded "
                "(a late claim needs --late REASON, kept in the audit log)"
            )
        detail: dict[str, Any] = {"files": [f.name for f in paths], "date": today, "review_deadline": deadline}
        if late is not None:
            detail["late"] = late
        ids = add_disputes(
            ledger,
            [
                {
                    "fixmedins_code": c.fixmedins_code,
                    "indicator": c.indicator,
                    "year": c.year,
                    "run_id": c.run_id,
                    "claimed_value": c.claimed_value,
                    "reason": c.reason,
                    "evidence_ref": c.evidence_ref,
                }
                for c in claims
            ],
            actor=actor,
            command=command,
            detail=detail,
        )
    return Imported(tuple(ids), tuple(claims), late if (deadline and today > deadline) else None, deadline)
