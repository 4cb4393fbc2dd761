"""Prepayment (预付金) rewards and penalties, and designation status.

Money is computed in Decimal and rounded half-up to the fen, so every run and every assessor gets
the same yuan. The committee sees the budget: total penalties, total rewards, the credit bonuses, net effect.

The credit bonus (信用评价) [002]: a provider whose credit rating is one of `credit.ratings` and whose
violation count (`credit.violation_measure`) is known and 0 for the year gets `credit.rate` of its
prepayment on top of its grade's adjustment. The two are additive on the rate (优秀 +5 % and credit +10 %
is +15 %; in per_point mode the credit is added to the per-point result); each part is rounded to the fen
on its own and the amount is their sum. In budget_neutral mode the credit is *not* scaled: the scale
moves the grade rewards the penalties fund, while the credit bonus is a fixed rate the credit rule
promises; the budget shows it as its own total, outside the neutral pot. Never for a vetoed, failing,
not graded or revoked provider; a missing violation count (measure or data absent) gives no bonus,
since withheld data must never raise a score.
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
    credit_rating: str | None = None  # providers.credit_rating, trimmed; None: not rated
    violations: float | None = None  # the year's confirmed violations; None: not known


class CreditStatus:
    """The values of a credit outcome's `status` (`not eligible: <why>` carries its reason)."""

    GRANTED = "granted"
    NOT_RATED = "not rated"
    VIOLATIONS = "violations"
    NO_DATA = "no violation data"
    NOT_ELIGIBLE = "not eligible"


@dataclass(frozen=True)
class Credit:
    """The credit bonus of one provider: granted (rate > 0) or the reason it is not."""

    rating: str | None
    status: str  # CreditStatus, `not eligible: vetoed` etc.
    violations: float | None
    rate: Decimal
    amount: Decimal

    @property
    def granted(self) -> bool:
        return self.status == CreditStatus.GRANTED


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
    credit: Credit | None = None  # None: the policy has no credit ratings (the bonus is off)

    @property
    def grade_amount(self) -> Decimal:
        """The amount of the grade's adjustment alone (the credit bonus taken out)."""
        return self.amount - (self.credit.amount if self.credit is not None else Decimal(0))


@dataclass(frozen=True)
class Budget:
    penalties: Decimal  # total cut by grades (positive number)
    rewards: Decimal  # total added by grades
    net: Decimal  # rewards + credit - penalties: the effect on the providers (negative = fund saves)
    scale: Decimal | None  # budget-neutral scaling factor applied to the grade rewards (never to credit)
    credit: Decimal = Decimal("0.00")  # total credit bonuses


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


def credit_outcome(r: AdjustmentInput, status: Designation, policy: PolicyFile, base: Decimal | None) -> Credit | None:
    """The credit bonus of one provider (None when the policy names no rating: the bonus is off)."""
    rule = policy.credit
    ratings = {x.strip() for x in rule.ratings if x.strip()}
    if not ratings:
        return None
    rating = (r.credit_rating or "").strip() or None
    why = None
    if rating not in ratings:
        why = CreditStatus.NOT_RATED
    elif r.veto:
        why = f"{CreditStatus.NOT_ELIGIBLE}: vetoed ({'、'.join(r.veto)})"
    elif status is Designation.REVOKED:
        why = f"{CreditStatus.NOT_ELIGIBLE}: designation revoked"
    elif r.grade == policy.fail_grade:
        why = f"{CreditStatus.NOT_ELIGIBLE}: failing grade {r.grade}"
    elif r.total is None or r.grade == policy.insufficient_grade:
        why = f"{CreditStatus.NOT_ELIGIBLE}: not graded"
    elif r.violations is None:
        why = CreditStatus.NO_DATA
    elif r.violations > 0:
        why = CreditStatus.VIOLATIONS
    if why is not None:
        return Credit(rating, why, r.violations, Decimal(0), Decimal("0.00"))
    rate = Decimal(str(rule.rate))
    amount = Decimal("0.00") if base is None else money(base * rate)
    return Credit(rating, CreditStatus.GRANTED, r.violations, rate, amount)


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
        base = None if r.prepayment is None else money(r.prepayment)
        status = designation_status(r.grade, r.history, policy)
        credit = credit_outcome(r, status, policy, base)
        if credit is not None and credit.granted:
            rule += f"; credit {credit.rating} {rate_text(credit.rate)}"
        total_rate = rate + (credit.rate if credit is not None else Decimal(0))
        if base is None:
            out.append(
                Adjustment(
                    r.fixmedins_code,
                    None,
                    "none",
                    total_rate,
                    Decimal("0.00"),
                    None,
                    rule + "; no prepayment base",
                    status,
                    credit,
                )
            )
            continue
        # each part rounded to the fen on its own, so the grade part and the credit part add up exactly
        amount = money(base * rate) + (credit.amount if credit is not None else Decimal(0))
        out.append(
            Adjustment(
                r.fixmedins_code, base, r.prepayment_source, total_rate, amount, base + amount, rule, status, credit
            )
        )
    penalties = -sum((a.grade_amount for a in out if a.grade_amount < 0), Decimal(0))
    rewards = sum((a.grade_amount for a in out if a.grade_amount > 0), Decimal(0))
    credit_total = sum((a.credit.amount for a in out if a.credit is not None), Decimal("0.00"))
    return out, Budget(
        penalties=penalties, rewards=rewards, net=rewards + credit_total - penalties, scale=scale, credit=credit_total
    )
