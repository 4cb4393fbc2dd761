"""Prepayment (预付金) rewards and penalties, and designation status.

Money is computed in Decimal and rounded half-up to the fen, so every run and every assessor gets
the same yuan. The committee sees the budget: total penalties, total rewards, net effect.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from pingyi.numbers import money
from pingyi.spec.models import PolicyFile
from pingyi.text import Designation, rate_text


@dataclass(frozen=True)
class AdjustmentInput:
    """What the adjustment of one provider depends on."""

    fixmedins_code: str
    grade: str
    total: float | None
    prepayment: Decimal | None
    prepayment_source: str  # providers table | prior-year <measure> / 12 | none
    history: tuple[str, ...] = field(default_factory=tuple)  # earlier years' grades, most recent last
    veto: tuple[str, ...] = ()  # 一票否决 rules that fired: the worst outcome of every mode


@dataclass(frozen=True)
class Adjustment:
    fixmedins_code: str
    prepayment: Decimal | None
    prepayment_source: str  # providers table | prior-year fund payments / 12 | none
    rate: Decimal
    amount: Decimal
    new_prepayment: Decimal | None
    rule: str
    designation: Designation


@dataclass(frozen=True)
class Budget:
    penalties: Decimal  # total cut (positive number)
    rewards: Decimal  # total added
    net: Decimal  # rewards - penalties: the effect on the providers (negative = fund saves)
    scale: Decimal | None  # budget-neutral scaling factor applied to rewards


def designation_status(grade: str, history: Sequence[str], policy: PolicyFile) -> Designation:
    """`history` holds earlier years' grades, most recent last."""
    if grade != policy.fail_grade:
        return Designation.KEPT
    run = 1
    for g in reversed(history):
        if g == policy.fail_grade:
            run += 1
        else:
            break
    return Designation.REVOKED if run >= policy.adjustment.revoke_after else Designation.WARNING


def compute_adjustments(rows: Sequence[AdjustmentInput], policy: PolicyFile) -> tuple[list[Adjustment], Budget]:
    cfg = policy.adjustment
    raw: list[tuple[AdjustmentInput, Decimal, str]] = []
    for r in rows:
        grade, total = r.grade, r.total
        if cfg.mode == "per_point":
            pp = cfg.per_point
            if r.veto:  # a veto is the worst outcome whatever the points: all of the withheld share
                rate = -Decimal(str(pp.withhold))
                rule = f"per_point: veto {'、'.join(r.veto)}, all withheld {rate_text(-rate)} deducted"
            elif total is None:
                rate, rule = Decimal(0), "per_point: not graded, no adjustment"
            elif total < pp.forfeit_below:
                rate = -Decimal(str(pp.withhold))
                rule = f"per_point: score {total:.2f} < {pp.forfeit_below:g}, all withheld {rate_text(-rate)} deducted"
            elif total < pp.below:
                points = Decimal(str(pp.below)) - Decimal(str(round(total, 6)))
                rate = -(Decimal(str(pp.withhold)) * Decimal(str(pp.per_point)) * points)
                rule = (
                    f"per_point: {points.normalize():f} points below {pp.below:g} x {pp.per_point:.0%} "
                    f"of the withheld {pp.withhold:.0%}"
                )
            else:
                rate, rule = Decimal(0), f"per_point: score {total:.2f} >= {pp.below:g}, withheld amount returned"
        else:  # step and budget-neutral: a vetoed provider has the veto grade already, never a reward
            rate = Decimal(str(cfg.step_rates.get(grade, 0.0)))
            if r.veto and rate > 0:
                rate = Decimal(0)
            rule = f"step: {grade} {rate_text(rate)}" if rate else f"step: {grade} no change"
        raw.append((r, rate, rule))
    scale = None
    if cfg.mode == "budget_neutral":
        penalties = sum((-(r.prepayment or 0) * rate for r, rate, _ in raw if rate < 0), Decimal(0))
        rewards = sum(((r.prepayment or 0) * rate for r, rate, _ in raw if rate > 0), Decimal(0))
        scale = Decimal(0) if rewards == 0 else min(Decimal(str(cfg.max_scale)), penalties / rewards)
        scale = scale.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
        raw = [
            (
                r,
                rate * scale if rate > 0 else rate,
                rule + (f" x budget-neutral scale {scale.normalize():f}" if rate > 0 else ""),
            )
            for r, rate, rule in raw
        ]
    out = []
    for r, rate, rule in raw:
        base = r.prepayment
        status = designation_status(r.grade, r.history, policy)
        if base is None:
            out.append(
                Adjustment(
                    r.fixmedins_code, None, "none", rate, Decimal("0.00"), None, rule + "; no prepayment base", status
                )
            )
            continue
        amount = money(base * rate)
        out.append(
            Adjustment(
                r.fixmedins_code, money(base), r.prepayment_source, rate, amount, money(base) + amount, rule, status
            )
        )
    penalties = -sum((a.amount for a in out if a.amount < 0), Decimal(0))
    rewards = sum((a.amount for a in out if a.amount > 0), Decimal(0))
    return out, Budget(penalties=penalties, rewards=rewards, net=rewards - penalties, scale=scale)
