"""What the cycle writes to the ledger and asks of it: runs (with their providers' grades), signatures,
in-year warnings, disputes and their decisions, rectification items, and the few queries the
commands need. Each write is one transaction ending in one audit entry (pingyi.ledger.store).

A run's hash covers every column but its hash and signature (`RUN_HASHED`), including the digest of
its provider_years rows and the audit head it was recorded after; a final run chains to the
previous final run through `prev_hash`. Other kinds of run have no `prev_hash`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

from pingyi.errors import PingyiError, read_json
from pingyi.files import member
from pingyi.ledger import schema
from pingyi.ledger.keys import key_id, load_private_key, load_public_key, public_pem, sign_hash
from pingyi.ledger.store import Ledger, Tx, canonical, read_row, sha256_hex
from pingyi.run.corrections import Correction, parse_number
from pingyi.run.manifest import sha256
from pingyi.run.verify import read_manifest


class RunKind(StrEnum):
    PREVIEW = "preview"  # 征求意见稿: opens the review window
    FINAL = "final"  # the published result; final runs form their own chain
    MONITOR = "monitor"  # in-year monitoring
    RECHECK = "recheck"  # 复查: closes rectification items


class DisputeStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class WarningStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    ESCALATED = "escalated"


class RectificationStatus(StrEnum):
    OPEN = "open"
    SUBMITTED = "submitted"
    CLOSED = "closed"
    OVERDUE = "overdue"


RUN_HASHED = (
    "id",
    "kind",
    "year",
    "manifest_sha256",
    "project_files_hash",
    "results_dir",
    "providers_digest",
    "provider_count",
    "created_at",
    "actor",
    "command",
    "audit_anchor_id",
    "audit_anchor",
    "prev_hash",
)
PROVIDER_HASHED = ("fixmedins_code", "year", "grade", "total", "designation", "credit_status")


def run_hash(run: Mapping[str, Any]) -> str:
    return sha256_hex(canonical({k: run[k] for k in RUN_HASHED}))


def providers_digest(conn: sqlite3.Connection, run_id: int) -> tuple[str, int]:
    """The digest of a run's provider_years rows as stored (sorted by provider), and their count."""
    cols = ", ".join(PROVIDER_HASHED)
    rows = [
        dict(r)
        for r in conn.execute(
            f"SELECT {cols} FROM provider_years WHERE run_id = ? ORDER BY fixmedins_code", (run_id,)
        ).fetchall()
    ]
    return sha256_hex(canonical(rows)), len(rows)


def output_problems(results_dir: Path, manifest: Mapping[str, Any]) -> list[str]:
    """The outputs listed in a manifest that are missing or no longer hash to what it says."""
    problems = []
    for name, digest in sorted(manifest.get("outputs", {}).items()):
        path = results_dir / name
        if not path.is_file():
            problems.append(f"{path}: listed in the manifest but missing")
        elif sha256(path) != digest:
            problems.append(f"{path}: SHA-256 differs from its manifest (changed after the run)")
    return problems


def unedited_results(folder: Path, which: str, label: str | None = None) -> dict[str, Any]:
    """The manifest of a results folder of `pingyi score`, refused (naming the file) unless every output
    it lists is still there with the SHA-256 it records: what an analysis of a run (compare,
    uncertainty) reads must be the run as it was written. The evaluation is not re-run (`pingyi verify`)."""
    if not folder.is_dir():
        raise PingyiError(
            f"{which}: {folder} is not a folder; expected a results folder written by `pingyi score`"
            + (" (or a ledger run id with --ledger)" if which != "--results" else "")
        )
    mpath = folder / "manifest.json"
    manifest = read_manifest(folder)
    outputs = manifest.get("outputs")
    if not isinstance(outputs, dict) or "results.json" not in outputs:
        raise PingyiError(f"{mpath}: lists no results.json; expected the manifest of `pingyi score`")
    for name in outputs:
        member(folder, name, mpath)
    problems = output_problems(folder, manifest)
    if problems:
        raise PingyiError(
            "; ".join(problems)
            + f"; {which} ({label or folder}) refused: expected the outputs exactly as `pingyi score` wrote them"
        )
    return manifest


def project_files_hash(manifest: Mapping[str, Any]) -> str:
    return sha256_hex(canonical(manifest.get("inputs", {}).get("project_files", {})))


def _enum(kind: type[StrEnum], value: str, what: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        allowed = " | ".join(m.value for m in kind)
        raise PingyiError(f"{what} {value!r}: expected one of {allowed}") from None


def _day(value: str, what: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except (TypeError, ValueError):
        raise PingyiError(f"{what} {value!r}: expected a date YYYY-MM-DD") from None


def _row(ledger: Ledger, table: str, row_id: int) -> dict[str, Any]:
    row = read_row(ledger.conn, table, row_id)
    if row is None:
        raise PingyiError(f"{ledger.path}: no {table} row {row_id}")
    return row


def _require_table(ledger: Ledger, table: str) -> None:
    if not ledger.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone():
        raise PingyiError(f"{ledger.path}: schema version {ledger.version} has no {table} table; open it with migrate")


# --------------------------------------------------------------------------- runs and signatures


def record_run(
    ledger: Ledger,
    results_dir: Path | str,
    kind: str,
    actor: str,
    command: str,
    *,
    at: Any = None,
    note: Mapping[str, Any] | None = None,
    then: Callable[[Tx, int], None] | None = None,
) -> int:
    """Record a `pingyi score` results directory as a run of `kind` with its providers' grades; the
    outputs must still match their manifest. Returns the run's id.

    `note`: more for the audit entry (e.g. why a final run was forced); `then(tx, run_id)`: more rows
    written in the SAME transaction (the rectification items a final run opens and closes), so a kill
    leaves the run with all of them or none."""
    run_kind = _enum(RunKind, kind, "run kind")
    results_dir = Path(results_dir).resolve()
    manifest_path = results_dir / "manifest.json"
    manifest = read_json(manifest_path, "manifest.json written by `pingyi score`")
    if "results.json" not in manifest.get("outputs", {}):
        raise PingyiError(f"{manifest_path}: lists no results.json; expected the manifest of `pingyi score`")
    problems = output_problems(results_dir, manifest)
    if problems:
        raise PingyiError("; ".join(problems) + "; expected the outputs exactly as `pingyi score` wrote them")
    results = read_json(results_dir / "results.json")
    year = int(results["year"])
    providers = sorted(results.get("providers", []), key=lambda p: p["fixmedins_code"])
    detail = {**(note or {}), "kind": run_kind.value, "year": year, "results_dir": str(results_dir)}
    with ledger.transaction(actor=actor, command=command, action="record_run", detail=detail, at=at) as tx:
        run_id = tx.next_id("runs")
        for p in providers:
            tx.insert(
                "provider_years",
                {
                    "run_id": run_id,
                    "fixmedins_code": p["fixmedins_code"],
                    "year": year,
                    "grade": p.get("grade"),
                    "total": p.get("total_score"),
                    "designation": (p.get("adjustment") or {}).get("designation"),
                    "credit_status": p.get("credit_status"),
                },
            )
        digest, count = providers_digest(tx.conn, run_id)
        prev = None
        if run_kind is RunKind.FINAL:
            last = tx.conn.execute("SELECT hash FROM runs WHERE kind = 'final' ORDER BY id DESC LIMIT 1").fetchone()
            prev = last[0] if last else schema.GENESIS
        run: dict[str, Any] = {
            "id": run_id,
            "kind": run_kind.value,
            "year": year,
            "manifest_sha256": sha256(manifest_path),
            "project_files_hash": project_files_hash(manifest),
            "results_dir": str(results_dir),
            "providers_digest": digest,
            "provider_count": count,
            "created_at": tx.at,
            "actor": actor,
            "command": command,
            "audit_anchor_id": tx.head_id,
            "audit_anchor": tx.head_hash,
            "prev_hash": prev,
        }
        run["hash"] = run_hash(run)
        tx.insert("runs", run)
        if then is not None:
            then(tx, run_id)
    return run_id


def add_key(ledger: Ledger, public_key_path: Path | str, *, actor: str, label: str = "", at: Any = None) -> str:
    """Register a committee's public key in the ledger's keys table; returns its key id."""
    public = load_public_key(public_key_path)
    kid = key_id(public)
    with ledger.transaction(actor=actor, command="add key", action="add_key", detail={"key_id": kid}, at=at) as tx:
        if not tx.conn.execute("SELECT 1 FROM keys WHERE key_id = ?", (kid,)).fetchone():
            tx.insert("keys", {"key_id": kid, "public_key_pem": public_pem(public), "label": label, "added_at": tx.at})
    return kid


def sign_run(
    ledger: Ledger,
    run_id: int,
    private_key_pem_path: Path | str,
    *,
    actor: str = "pingyi",
    command: str = "sign",
    at: Any = None,
) -> str:
    """Sign a run's hash with an Ed25519 private key; the public key is stored in the keys table. A run
    that no longer matches its hash is refused (it would sign a changed row). Returns the signature."""
    key = load_private_key(private_key_pem_path)
    kid = key_id(key.public_key())
    detail = {"run": run_id, "key_id": kid}
    with ledger.transaction(actor=actor, command=command, action="sign_run", detail=detail, at=at) as tx:
        run = _row(ledger, "runs", run_id)
        if run["signature"]:
            raise PingyiError(f"{ledger.path}: run {run_id} is already signed (by key {run['signer_key_id']})")
        if run_hash(run) != run["hash"] or providers_digest(tx.conn, run_id)[0] != run["providers_digest"]:
            raise PingyiError(f"{ledger.path}: run {run_id} no longer matches its hash; run verify_ledger first")
        if not tx.conn.execute("SELECT 1 FROM keys WHERE key_id = ?", (kid,)).fetchone():
            pem = public_pem(key.public_key())
            tx.insert("keys", {"key_id": kid, "public_key_pem": pem, "label": "", "added_at": tx.at})
        signature = sign_hash(key, run["hash"])
        tx.update("runs", run_id, {"signature": signature, "signer_key_id": kid})
    return signature


# --------------------------------------------------------------------------- warnings and disputes


def add_warning(
    ledger: Ledger,
    *,
    fixmedins_code: str,
    indicator: str,
    year: int,
    through_month: int,
    deadline: str,
    actor: str,
    run_id: int | None = None,
    command: str = "warn",
    at: Any = None,
) -> int:
    """An in-year monitoring warning (data through `through_month`), to be answered by `deadline`."""
    if not 1 <= through_month <= 12:
        raise PingyiError(f"through_month {through_month}: expected a month 1-12")
    values = {
        "fixmedins_code": fixmedins_code,
        "indicator": indicator,
        "year": int(year),
        "through_month": through_month,
        "deadline": _day(deadline, "deadline"),
        "status": WarningStatus.OPEN.value,
        "run_id": run_id,
    }
    with ledger.transaction(actor=actor, command=command, action="add_warning", at=at) as tx:
        return tx.insert("warnings", {**values, "created_at": tx.at})


def set_warning_status(
    ledger: Ledger, warning_id: int, status: str, *, actor: str, command: str = "warn", at: Any = None
) -> None:
    new = _enum(WarningStatus, status, "warning status")
    with ledger.transaction(actor=actor, command=command, action="set_warning_status", at=at) as tx:
        _row(ledger, "warnings", warning_id)
        tx.update("warnings", warning_id, {"status": new.value})


def add_dispute(
    ledger: Ledger,
    *,
    fixmedins_code: str,
    indicator: str,
    year: int,
    reason: str,
    actor: str,
    claimed_value: str | None = None,
    evidence_ref: str = "",
    run_id: int | None = None,
    command: str = "dispute",
    at: Any = None,
) -> int:
    """A provider's dispute of one indicator (usually of a preview run), open until decided."""
    if not reason.strip():
        raise PingyiError(f"dispute of {fixmedins_code} {indicator}: a reason is required")
    values = {
        "fixmedins_code": fixmedins_code,
        "indicator": indicator,
        "year": int(year),
        "run_id": run_id,
        "claimed_value": None if claimed_value is None else str(claimed_value),
        "reason": reason,
        "evidence_ref": evidence_ref,
        "status": DisputeStatus.OPEN.value,
        "filed_by": actor,
    }
    with ledger.transaction(actor=actor, command=command, action="add_dispute", at=at) as tx:
        return tx.insert("disputes", {**values, "filed_at": tx.at})


def decide_dispute(
    ledger: Ledger,
    dispute_id: int,
    *,
    accept: bool,
    decided_by: str,
    reason: str,
    command: str = "decide",
    at: Any = None,
) -> None:
    """Accept or reject an open dispute, with the reason; a decided dispute is never re-decided."""
    if not reason.strip():
        raise PingyiError(f"dispute {dispute_id}: a decision needs its reason")
    status = DisputeStatus.ACCEPTED if accept else DisputeStatus.REJECTED
    with ledger.transaction(actor=decided_by, command=command, action="decide_dispute", at=at) as tx:
        row = _row(ledger, "disputes", dispute_id)
        if row["status"] != DisputeStatus.OPEN:
            raise PingyiError(f"dispute {dispute_id} was already decided ({row['status']}) by {row['decided_by']}")
        tx.update(
            "disputes",
            dispute_id,
            {"status": status.value, "decided_by": decided_by, "decision_reason": reason, "decided_at": tx.at},
        )


# --------------------------------------------------------------------------- rectification


def open_rectification(
    ledger: Ledger,
    *,
    fixmedins_code: str,
    indicator: str,
    year: int,
    run_id: int,
    deadline: str,
    actor: str,
    notes: str = "",
    command: str = "rectify",
    at: Any = None,
) -> int:
    """A rectification item (整改) opened by a run for one provider and indicator."""
    _require_table(ledger, "rectification")
    _row(ledger, "runs", run_id)
    values = {
        "fixmedins_code": fixmedins_code,
        "indicator": indicator,
        "year_opened": int(year),
        "run_opened": run_id,
        "deadline": _day(deadline, "deadline"),
        "status": RectificationStatus.OPEN.value,
        "notes": notes,
    }
    with ledger.transaction(actor=actor, command=command, action="open_rectification", at=at) as tx:
        return tx.insert("rectification", {**values, "opened_at": tx.at, "updated_at": tx.at})


def _note(old: str, at: str, actor: str, text: str) -> str:
    if not text:
        return old
    return (old + "\n" if old else "") + f"{at} {actor}: {text}"


def _move(ledger: Ledger, item_id: int, allowed: set[RectificationStatus], new: RectificationStatus) -> dict[str, Any]:
    _require_table(ledger, "rectification")
    row = _row(ledger, "rectification", item_id)
    if row["status"] not in allowed:
        raise PingyiError(f"rectification item {item_id} is {row['status']}; it cannot become {new.value}")
    return row


def submit_rectification(
    ledger: Ledger, item_id: int, *, actor: str, notes: str = "", command: str = "rectify", at: Any = None
) -> None:
    """The provider says the item is fixed (evidence in `notes`); a later run closes it."""
    R = RectificationStatus
    with ledger.transaction(actor=actor, command=command, action="submit_rectification", at=at) as tx:
        row = _move(ledger, item_id, {R.OPEN, R.OVERDUE}, R.SUBMITTED)
        new = {"status": R.SUBMITTED.value, "notes": _note(row["notes"], tx.at, actor, notes), "updated_at": tx.at}
        tx.update("rectification", item_id, new)


def close_rectification(
    ledger: Ledger,
    item_id: int,
    *,
    run_id: int,
    actor: str,
    notes: str = "",
    command: str = "rectify",
    at: Any = None,
) -> None:
    """Close an item by a later recheck or final run (复查) that shows it fixed."""
    R = RectificationStatus
    with ledger.transaction(actor=actor, command=command, action="close_rectification", at=at) as tx:
        row = _move(ledger, item_id, {R.OPEN, R.SUBMITTED, R.OVERDUE}, R.CLOSED)
        run = _row(ledger, "runs", run_id)
        if run["kind"] not in (RunKind.RECHECK, RunKind.FINAL) or run_id <= row["run_opened"]:
            raise PingyiError(
                f"run {run_id} ({run['kind']}) cannot close rectification item {item_id}: "
                f"expected a recheck or final run recorded after run {row['run_opened']}"
            )
        new = {
            "status": R.CLOSED.value,
            "closed_by_run": run_id,
            "notes": _note(row["notes"], tx.at, actor, notes),
            "updated_at": tx.at,
        }
        tx.update("rectification", item_id, new)


def mark_overdue(ledger: Ledger, *, today: str, actor: str, command: str = "rectify", at: Any = None) -> list[int]:
    """Mark open and submitted items whose deadline is before `today` overdue; returns their ids."""
    _require_table(ledger, "rectification")
    day = _day(today, "today")
    sql = "SELECT id FROM rectification WHERE status IN ('open', 'submitted') AND deadline < ? ORDER BY id"
    if not ledger.conn.execute(sql, (day,)).fetchone():
        return []
    with ledger.transaction(actor=actor, command=command, action="mark_overdue", detail={"today": day}, at=at) as tx:
        ids = [int(r[0]) for r in tx.conn.execute(sql, (day,)).fetchall()]
        for item_id in ids:
            tx.update("rectification", item_id, {"status": RectificationStatus.OVERDUE.value, "updated_at": tx.at})
    return ids


# --------------------------------------------------------------------------- queries


def grades_by_provider(
    ledger: Ledger, fixmedins_code: str | None = None, *, kind: str = "final"
) -> dict[str, list[dict[str, Any]]]:
    """Each provider's grade per year from the latest run of `kind` for that year, oldest year first."""
    run_kind = _enum(RunKind, kind, "run kind")
    sql = (
        "SELECT py.fixmedins_code, py.year, py.grade, py.total, py.designation, py.credit_status, py.run_id "
        "FROM provider_years py JOIN runs r ON r.id = py.run_id "
        "WHERE r.kind = ? AND r.id = (SELECT MAX(r2.id) FROM runs r2 WHERE r2.kind = r.kind AND r2.year = r.year)"
    )
    args: list[Any] = [run_kind.value]
    if fixmedins_code is not None:
        sql += " AND py.fixmedins_code = ?"
        args.append(fixmedins_code)
    out: dict[str, list[dict[str, Any]]] = {}
    for r in ledger.conn.execute(sql + " ORDER BY py.fixmedins_code, py.year", args):
        row = dict(r)
        out.setdefault(row.pop("fixmedins_code"), []).append(row)
    return out


def open_items(ledger: Ledger, fixmedins_code: str | None = None) -> list[dict[str, Any]]:
    """Rectification items not closed (open, submitted, overdue), earliest deadline first."""
    _require_table(ledger, "rectification")
    sql = "SELECT * FROM rectification WHERE status != 'closed'"
    args: list[Any] = []
    if fixmedins_code is not None:
        sql += " AND fixmedins_code = ?"
        args.append(fixmedins_code)
    return [dict(r) for r in ledger.conn.execute(sql + " ORDER BY deadline, id", args)]


def rectification_snapshot(ledger: Ledger, year: int) -> dict[str, Any]:
    """What a year's reports show of rectification (整改): every item opened up to `year`, its status now,
    and the ledger's identity and audit head at the time of reading, so that a report folder records the
    exact state it was rendered from. Notes are left out: they are the provider's free text."""
    _require_table(ledger, "rectification")
    meta = dict(ledger.conn.execute("SELECT ledger_id, committee FROM meta").fetchone())
    head = ledger.conn.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    items = [
        dict(r)
        for r in ledger.conn.execute(
            "SELECT id, fixmedins_code, indicator, year_opened, deadline, status, closed_by_run "
            "FROM rectification WHERE year_opened <= ? ORDER BY id",
            (year,),
        )
    ]
    return {
        "ledger_id": meta["ledger_id"],
        "committee": meta["committee"],
        "year": year,
        "audit_head": {"id": head["id"], "hash": head["hash"]} if head else None,
        "items": items,
    }


def open_warnings(ledger: Ledger, year: int | None = None) -> list[dict[str, Any]]:
    sql = "SELECT * FROM warnings WHERE status = 'open'" + ("" if year is None else " AND year = ?")
    return [dict(r) for r in ledger.conn.execute(sql + " ORDER BY deadline, id", () if year is None else (year,))]


def undecided_disputes(ledger: Ledger, year: int | None = None) -> int:
    sql = "SELECT COUNT(*) FROM disputes WHERE status = 'open'" + ("" if year is None else " AND year = ?")
    return int(ledger.conn.execute(sql, () if year is None else (year,)).fetchone()[0])


# --------------------------------------------------------------------------- review and appeal (申诉复核)


def add_disputes(
    ledger: Ledger,
    claims: list[Mapping[str, Any]],
    *,
    actor: str,
    command: str = "dispute",
    detail: Mapping[str, Any] | None = None,
    at: Any = None,
) -> list[int]:
    """Several disputes (each a mapping of add_dispute's fields) in ONE transaction and one audit entry,
    so an import records all of its claims or none; `detail` goes to the audit entry (e.g. why a claim
    filed after the review deadline was let in). Returns their ids, in order."""
    for c in claims:
        if not str(c.get("reason") or "").strip():
            raise PingyiError(f"dispute of {c.get('fixmedins_code')} {c.get('indicator')}: a reason is required")
    ids = []
    with ledger.transaction(actor=actor, command=command, action="add_disputes", detail=detail, at=at) as tx:
        for c in claims:
            claimed = c.get("claimed_value")
            values = {
                "fixmedins_code": c["fixmedins_code"],
                "indicator": c["indicator"],
                "year": int(c["year"]),
                "run_id": c.get("run_id"),
                "claimed_value": None if claimed is None else str(claimed),
                "reason": c["reason"],
                "evidence_ref": c.get("evidence_ref") or "",
                "status": DisputeStatus.OPEN.value,
                "filed_by": actor,
            }
            ids.append(tx.insert("disputes", {**values, "filed_at": tx.at}))
    return ids


def decide_dispute_value(
    ledger: Ledger,
    dispute_id: int,
    *,
    accept: bool,
    decided_by: str,
    reason: str,
    corrected_value: str | None = None,
    command: str = "decide",
    at: Any = None,
) -> None:
    """decide_dispute, with the value an accepted dispute corrects the indicator to kept in the decision's
    audit entry (`corrected_value`; the disputes table has no column for it, and the audit log is the
    tamper-evident record of the decision)."""
    if not reason.strip():
        raise PingyiError(f"dispute {dispute_id}: a decision needs its reason")
    if corrected_value is not None and not accept:
        raise PingyiError(f"dispute {dispute_id}: a rejected dispute corrects nothing; expected no value")
    status = DisputeStatus.ACCEPTED if accept else DisputeStatus.REJECTED
    detail = {"dispute": dispute_id, "status": status.value}
    if corrected_value is not None:
        detail["corrected_value"] = str(corrected_value)
    with ledger.transaction(actor=decided_by, command=command, action="decide_dispute", detail=detail, at=at) as tx:
        row = _row(ledger, "disputes", dispute_id)
        if row["status"] != DisputeStatus.OPEN:
            raise PingyiError(f"dispute {dispute_id} was already decided ({row['status']}) by {row['decided_by']}")
        tx.update(
            "disputes",
            dispute_id,
            {"status": status.value, "decided_by": decided_by, "decision_reason": reason, "decided_at": tx.at},
        )


def corrected_values(ledger: Ledger) -> dict[int, str]:
    """dispute id -> the corrected value its decision recorded (decide_dispute_value's audit entries)."""
    out: dict[int, str] = {}
    for (text,) in ledger.conn.execute("SELECT detail FROM audit WHERE action = 'decide_dispute' ORDER BY id"):
        detail = json.loads(text)
        if isinstance(detail.get("dispute"), int) and detail.get("corrected_value") is not None:
            out[detail["dispute"]] = str(detail["corrected_value"])
    return out


def list_disputes(
    ledger: Ledger, *, year: int | None = None, fixmedins_code: str | None = None, status: str | None = None
) -> list[dict[str, Any]]:
    """Disputes in filing order, each with `corrected_value`: the value an accepted one corrects to (the
    one its decision recorded, else the claimed one; None for open and rejected ones)."""
    sql, args = "SELECT * FROM disputes WHERE 1 = 1", list[Any]()
    if year is not None:
        sql, args = sql + " AND year = ?", [*args, int(year)]
    if fixmedins_code is not None:
        sql, args = sql + " AND fixmedins_code = ?", [*args, fixmedins_code]
    if status is not None:
        sql, args = sql + " AND status = ?", [*args, _enum(DisputeStatus, status, "dispute status").value]
    decided = corrected_values(ledger)
    rows = []
    for r in ledger.conn.execute(sql + " ORDER BY id", args):
        row = dict(r)
        accepted = row["status"] == DisputeStatus.ACCEPTED
        row["corrected_value"] = decided.get(row["id"], row["claimed_value"]) if accepted else None
        rows.append(row)
    return rows


def accepted_corrections(ledger: Ledger, year: int) -> tuple[list[Correction], list[int]]:
    """The accepted disputes of `year` as corrections (pingyi.run.corrections), one per provider
    and indicator (a later accepted dispute replaces an earlier one); and the ids of accepted disputes
    without a value to correct to (accepted by a decision that gave none and with no claimed value)."""
    latest: dict[tuple[str, str], Correction] = {}
    skipped = []
    for d in list_disputes(ledger, year=year, status=DisputeStatus.ACCEPTED.value):
        number = parse_number(d["corrected_value"]) if d["corrected_value"] is not None else None
        if number is None:
            skipped.append(int(d["id"]))
            continue
        reason = d["decision_reason"] or d["reason"]
        latest[(d["fixmedins_code"], d["indicator"])] = Correction(
            d["fixmedins_code"], d["indicator"], number, int(d["id"]), reason
        )
    return [latest[k] for k in sorted(latest)], skipped
