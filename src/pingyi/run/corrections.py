"""Corrections (复核更正): indicator values replaced after review, before scoring.

A corrections table is a CSV with the columns fixmedins_code, indicator, value, dispute_id, reason:
one row per provider and indicator whose computed value the committee replaced (usually the accepted
disputes, `pingyi disputes corrections`). `pingyi score --corrections FILE` applies it between the
indicator values and the score stage, so a corrected value is lighted and scored by the same rules
as any other (funnels and peer standing included); results.json keeps the value it replaced.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pingyi.compute.indicators import IndicatorValue
from pingyi.errors import PingyiError
from pingyi.files import write_atomic
from pingyi.numbers import stable
from pingyi.spec.models import IndicatorSpec

COLUMNS = ("fixmedins_code", "indicator", "value", "dispute_id", "reason")
REQUIRED = ("fixmedins_code", "indicator", "value", "reason")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Correction:
    """One row of a corrections table (`row`: its line in the file, the header being line 1)."""

    fixmedins_code: str
    indicator: str
    value: float
    dispute_id: int | None
    reason: str
    row: int = 0


@dataclass(frozen=True)
class Applied:
    """A correction as applied: the computed value it replaced (None: there was none) and the new one."""

    fixmedins_code: str
    indicator: str
    from_value: float | None
    to_value: float
    dispute_id: int | None
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {"from": self.from_value, "to": self.to_value, "dispute_id": self.dispute_id, "reason": self.reason}


def parse_number(text: str) -> float | None:
    """A finite number written plainly (1.5, -2, 3e-2, 12%); None otherwise. A percent sign divides by
    100, as a spreadsheet shows shares."""
    text = text.strip().replace(",", "")
    scale = 1.0
    if text.endswith("%"):
        text, scale = text[:-1].strip(), 0.01
    try:
        value = float(text) * scale
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def read_corrections(path: Path | str) -> tuple[Correction, ...]:
    """Parse a corrections CSV; every bad row and field is named (all of them, then one error)."""
    path = Path(path)
    if not path.is_file():
        raise PingyiError(f"--corrections {path}: no such file; expected a CSV with columns {', '.join(COLUMNS)}")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise PingyiError(f"{path}: not UTF-8 text; expected a UTF-8 CSV with columns {', '.join(COLUMNS)}") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    lacking = [c for c in REQUIRED if c not in header]
    if lacking:
        raise PingyiError(
            f"{path}:1 (header): found columns {', '.join(header) or 'none'}; expected {', '.join(COLUMNS)} "
            f"(missing {', '.join(lacking)})"
        )
    problems: list[str] = []
    out: list[Correction] = []
    seen: dict[tuple[str, str], int] = {}
    for n, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if isinstance(v, str)}
        code, indicator = row.get("fixmedins_code", ""), row.get("indicator", "")
        value = parse_number(row.get("value", ""))
        dispute_text = row.get("dispute_id", "")
        reason = row.get("reason", "")
        bad = len(problems)
        if not code:
            problems.append(f"{path}:{n} (fixmedins_code): found nothing; expected a provider code")
        if not indicator:
            problems.append(f"{path}:{n} (indicator): found nothing; expected an indicator code")
        if value is None:
            problems.append(f"{path}:{n} (value): found {row.get('value', '')!r}; expected a number")
        dispute_id = None
        if dispute_text:
            if dispute_text.isdigit():
                dispute_id = int(dispute_text)
            else:
                problems.append(
                    f"{path}:{n} (dispute_id): found {dispute_text!r}; expected a dispute number or nothing"
                )
        if not reason:
            problems.append(f"{path}:{n} (reason): found nothing; expected why the value was corrected")
        key = (code, indicator)
        if code and indicator and key in seen:
            problems.append(
                f"{path}:{n} (indicator): found {code} {indicator} again (first on line {seen[key]}); "
                "expected one correction per provider and indicator"
            )
        seen.setdefault(key, n)
        if len(problems) == bad and value is not None:
            out.append(Correction(code, indicator, stable(value) or 0.0, dispute_id, reason, n))
    if problems:
        raise PingyiError(_joined(problems))
    return tuple(out)


def _joined(problems: Sequence[str]) -> str:
    shown = "; ".join(problems[:10])
    more = f"; and {len(problems) - 10} more" if len(problems) > 10 else ""
    return shown + more


def check_corrections(
    corrections: Iterable[Correction], path: Path | str, indicators: Iterable[str], providers: Iterable[str]
) -> None:
    """Every correction names a provider of the run and an indicator of the catalogue."""
    known_ind, known_prov = set(indicators), set(providers)
    problems = []
    for c in corrections:
        if c.fixmedins_code not in known_prov:
            problems.append(
                f"{path}:{c.row} (fixmedins_code): found {c.fixmedins_code!r}; expected a provider of this run"
            )
        if c.indicator not in known_ind:
            problems.append(
                f"{path}:{c.row} (indicator): found {c.indicator!r}; expected an indicator of the catalogue"
            )
    if problems:
        raise PingyiError(_joined(problems))


def apply_corrections(
    values: Mapping[str, Mapping[str, IndicatorValue]],
    corrections: Iterable[Correction],
    indicators: Mapping[str, IndicatorSpec],
) -> tuple[dict[str, dict[str, IndicatorValue]], tuple[Applied, ...]]:
    """The values with each correction's value in place of the computed one (the counted variant of a
    case-mix indicator), no longer absent; and what was replaced, sorted by provider and indicator."""
    out = {code: dict(row) for code, row in values.items()}
    applied = []
    for c in sorted(corrections, key=lambda c: (c.fixmedins_code, c.indicator)):
        old = out[c.fixmedins_code][c.indicator]
        ind = indicators[c.indicator]
        new = dataclasses.replace(old, value=c.value, absence=None, absent=())
        if ind.adjusted_formula is not None and ind.casemix == "adjusted":
            new = dataclasses.replace(new, adjusted_value=c.value)
        else:
            new = dataclasses.replace(new, raw_value=c.value)
        out[c.fixmedins_code][c.indicator] = new
        applied.append(Applied(c.fixmedins_code, c.indicator, old.value, c.value, c.dispute_id, c.reason))
    return out, tuple(applied)


def _safe(text: str) -> str:
    """A cell never starts a formula when the CSV is opened in a spreadsheet (a minus sign of a number
    is a number's, so only text is guarded)."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def corrections_csv(rows: Iterable[Correction]) -> str:
    """A corrections table as `read_corrections` reads it, rows sorted by provider and indicator."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for c in sorted(rows, key=lambda c: (c.fixmedins_code, c.indicator, c.dispute_id or 0)):
        writer.writerow(
            [
                _safe(c.fixmedins_code),
                _safe(c.indicator),
                repr(c.value) if c.value != int(c.value) else str(int(c.value)),
                "" if c.dispute_id is None else c.dispute_id,
                _safe(c.reason),
            ]
        )
    return buf.getvalue()


def write_corrections(path: Path | str, rows: Iterable[Correction]) -> Path:
    return write_atomic(Path(path), corrections_csv(rows))
