"""The console lines `pingyi score` adds about the run's place in the cycle."""

from __future__ import annotations

from typing import Any

from pingyi.cycle.score import CycleRun


def print_cycle(console: Any, run: CycleRun) -> None:
    if run.stage is None:
        return
    line = f"stage: {run.stage}, dated {run.date}"
    if run.review_deadline:
        line += f"; reports are marked 征求意见稿 and the review closes on {run.review_deadline}"
    console.print(line, markup=False)
    if run.history_from is not None:
        console.print(f"grade history from {run.history_from}", markup=False)
    if run.from_disputes is not None:
        console.print(f"{run.from_disputes} correction(s) from accepted disputes applied", markup=False)
    if run.forced:
        console.print(
            f"WARNING final run published with undecided disputes; reason recorded: {run.forced}",
            style="bold yellow",
            markup=False,
        )
    if run.ledger is None:
        console.print("not recorded in a ledger (no --ledger, and the project names none)", markup=False)
        return
    r = run.rectified
    console.print(f"recorded in {run.ledger} as run {run.run_id}", markup=False)
    if run.stage in ("final", "recheck"):
        console.print(
            f"rectification: {len(r.opened)} opened, {len(r.closed)} closed, {len(r.still)} still "
            f"to rectify and open, {len(r.overdue)} newly overdue",
            markup=False,
        )
