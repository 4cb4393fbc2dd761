"""Which year-to-date indicators are heading for red, and what the ledger's warnings become.

An indicator is heading for red when its year-to-date light is already red, or when it is worse than
its baseline by more than `policy.cycle.heading_for_red` (default 0.20: the source's "超过基准值20%"
[001 §5.3]) as a share of the baseline, in the indicator's bad direction (above it for a `down`
indicator, below it for an `up` one). Exactly the threshold is not over it. The share is always
relative, whatever the indicator's light mode: the seed's rule is a share. A `target` or `monitor`
indicator has no one bad direction and is flagged only when red; a zero baseline has no share.

Only scored indicators are judged. Grey ones (too little volume yet, no baseline) and those without
data in the months (a yearly provider report not yet due, a table with none of the provider's rows)
are never flagged: they are listed as no data.

Warnings in the ledger (one per provider, indicator and year while active: open or escalated):
a flagged pair without one gets a new open warning due `warning_deadline_days` after the run's date;
a flagged pair with one keeps it (no duplicate), and an open one past its deadline is escalated; an
active warning whose indicator this run scores and does not flag is resolved; one this run has no
data for stays as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from pingyi.run.pipeline import RunResult
from pingyi.spec.models import CyclePolicy, Direction
from pingyi.text import Light, Status

ACTIVE = ("open", "escalated")


@dataclass(frozen=True)
class Judged:
    """One provider's indicator as this run sees it."""

    provider: str
    provider_name: str
    indicator: str
    indicator_name: str
    indicator_name_en: str
    unit: str
    value: float | None
    baseline: float | None
    over: float | None  # how far worse than the baseline, as a share of it (None: no share)
    light: str
    heading: bool  # heading for red
    annualised: bool
    reason: str  # why there is no data (grey ones)


@dataclass(frozen=True)
class WarningRow:
    """A row of warnings.csv: a flagged pair, or an active ledger warning this run resolves or has no data for."""

    judged: Judged
    deadline: str
    status: str  # open, escalated, resolved
    warning_id: int | None = None  # the ledger row (None: new, or no ledger)
    change: str = ""  # what this run does to the ledger: new, escalate, resolve, "" (nothing)


def over_share(direction: Direction, value: float, baseline: float) -> float | None:
    if baseline == 0 or direction not in (Direction.UP, Direction.DOWN):
        return None
    diff = value - baseline if direction is Direction.DOWN else baseline - value
    # rounded so that a value exactly at the threshold is not pushed over it by binary fractions
    return round(diff / abs(baseline), 9)


def is_heading(light: Light, over: float | None, threshold: float) -> bool:
    """A scored indicator's light and share worse than its baseline: heading for red?"""
    return light is Light.RED or (over is not None and over > threshold)


def judge(run: RunResult, threshold: float, annualised: Iterable[str]) -> list[Judged]:
    """Every indicator of every provider that is not monitor-only, in provider and catalogue order."""
    names = {p.code: p.name for p in run.providers}
    scaled = set(annualised)
    out = []
    for r in sorted(run.results, key=lambda r: r.fixmedins_code):
        for code, ind in run.project.indicators.items():
            s = r.indicators[code]
            if s.status is Status.MONITOR or s.light is Light.NONE:
                continue
            scored = s.status is Status.SCORED and s.light is not Light.GREY
            over = None
            if scored and s.value is not None and s.baseline is not None:
                over = over_share(ind.direction, s.value, s.baseline)
            heading = scored and is_heading(s.light, over, threshold)
            out.append(
                Judged(
                    provider=r.fixmedins_code,
                    provider_name=names.get(r.fixmedins_code, ""),
                    indicator=code,
                    indicator_name=ind.name_zh,
                    indicator_name_en=ind.name_en,
                    unit=ind.unit.value,
                    value=s.value if scored else None,
                    baseline=s.baseline,
                    over=over,
                    light=s.light.value if scored else Light.GREY.value,
                    heading=heading,
                    annualised=code in scaled and scored,
                    reason="" if scored else (s.reason or s.status.value),
                )
            )
    return out


def plan(
    judged: Iterable[Judged], active: Iterable[Mapping[str, Any]], cycle: CyclePolicy, day: date
) -> list[WarningRow]:
    """The warnings.csv rows and the ledger changes, from this run and the year's active ledger warnings
    (`active`: rows of the warnings table, status open or escalated)."""
    today = day.isoformat()
    new_deadline = (day + timedelta(days=cycle.warning_deadline_days)).isoformat()
    existing: dict[tuple[str, str], Mapping[str, Any]] = {}
    for found in sorted(active, key=lambda r: int(r["id"])):
        if found["status"] in ACTIVE:
            existing.setdefault((found["fixmedins_code"], found["indicator"]), found)  # the earliest one stands
    rows = []
    for j in judged:
        row = existing.get((j.provider, j.indicator))
        if j.heading:
            if row is None:
                rows.append(WarningRow(j, new_deadline, "open", None, "new"))
            elif row["status"] == "open" and row["deadline"] < today:
                rows.append(WarningRow(j, row["deadline"], "escalated", int(row["id"]), "escalate"))
            else:
                rows.append(WarningRow(j, row["deadline"], row["status"], int(row["id"])))
        elif row is not None:
            if j.value is not None:  # scored and not heading for red: resolved
                rows.append(WarningRow(j, row["deadline"], "resolved", int(row["id"]), "resolve"))
            else:  # no data this time: the warning stands as it is
                rows.append(WarningRow(j, row["deadline"], row["status"], int(row["id"])))
    return rows
