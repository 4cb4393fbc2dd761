"""Deciding disputes, listing them, and the corrections table of the accepted ones.

An accepted dispute corrects its indicator to a value: the one the decision gives, else the one the
provider claimed. The value is kept in the decision's audit entry (pingyi.ledger.records
.decide_dispute_value). `pingyi disputes corrections` writes a year's accepted disputes as the
corrections table that `pingyi score --corrections` applies (pingyi.run.corrections).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pingyi.errors import PingyiError
from pingyi.ledger import open_ledger
from pingyi.ledger.records import DisputeStatus, accepted_corrections, decide_dispute_value, list_disputes
from pingyi.run.corrections import Correction, parse_number, write_corrections


def decide(
    ledger_path: Path | str,
    dispute_id: int,
    *,
    accept: bool,
    reason: str,
    value: str | None = None,
    actor: str,
    command: str = "pingyi disputes decide",
) -> dict[str, Any]:
    """Record the decision; returns the dispute as it now stands (with its corrected value)."""
    if not reason.strip():
        raise PingyiError("--reason: a decision needs its reason (it is kept in the ledger)")
    corrected = None
    if value is not None:
        if not accept:
            raise PingyiError(f"--value {value}: only an accepted dispute sets a corrected value (--accept)")
        number = parse_number(value)
        if number is None:
            raise PingyiError(f"--value {value!r}: expected a number (the corrected value of the indicator)")
        corrected = repr(number)
    with open_ledger(ledger_path, actor=actor) as ledger:
        row = ledger.conn.execute("SELECT * FROM disputes WHERE id = ?", (dispute_id,)).fetchone()
        if row is None:
            raise PingyiError(f"{ledger_path}: no dispute {dispute_id}; expected an id of `pingyi disputes list`")
        if accept and corrected is None and row["claimed_value"] is None:
            raise PingyiError(
                f"dispute {dispute_id} claims no value; accepting it needs --value X (the corrected value)"
            )
        decide_dispute_value(
            ledger,
            dispute_id,
            accept=accept,
            decided_by=actor,
            reason=reason,
            corrected_value=corrected,
            command=command,
        )
        return next(d for d in list_disputes(ledger) if d["id"] == dispute_id)


def disputes(
    ledger_path: Path | str, *, year: int | None = None, provider: str | None = None, status: str | None = None
) -> list[dict[str, Any]]:
    if status is not None and status not in {s.value for s in DisputeStatus}:
        raise PingyiError(f"--status {status!r}; expected one of {', '.join(s.value for s in DisputeStatus)}")
    with open_ledger(ledger_path) as ledger:
        return list_disputes(ledger, year=year, fixmedins_code=provider, status=status)


@dataclass(frozen=True)
class CorrectionsTable:
    path: Path
    rows: tuple[Correction, ...]
    skipped: tuple[int, ...]  # accepted disputes with no value to correct to


def corrections(ledger_path: Path | str, year: int, out: Path | str) -> CorrectionsTable:
    """The accepted disputes of `year` as a corrections table, written atomically to `out`."""
    with open_ledger(ledger_path) as ledger:
        rows, skipped = accepted_corrections(ledger, year)
    path = write_corrections(Path(out), rows)
    return CorrectionsTable(path, tuple(rows), tuple(skipped))
