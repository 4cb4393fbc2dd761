"""How a settlement's total splits into the pooled fund, other funds, the personal account and
cash, by insurance type, level and medical category."""

from __future__ import annotations

import numpy as np

from pingyi.tools.example.sampling import strat_uniform


def split_payments(
    rng,
    total: np.ndarray,
    ownpay: np.ndarray,
    employee: np.ndarray,
    inpatient: np.ndarray,
    level: np.ndarray,
    med_type_code: np.ndarray,
    sizes: np.ndarray,
) -> dict[str, np.ndarray]:
    """All money in int64 cents; identities hold exactly. Draws are stratified within each group
    of `sizes` (provider-years), so a small provider's fund share is not a coin toss."""
    n = len(total)
    u_ded = strat_uniform(rng, sizes)  # the share under the deductible moves a provider's fund total most
    u_ratio, u = rng.random(n), rng.random(n)
    policy = total - ownpay
    ded = np.where(inpatient, np.array([80000, 50000, 20000])[level], 0)
    ratio_ip = np.where(employee, np.array([0.85, 0.88, 0.92])[level], np.array([0.60, 0.70, 0.85])[level])
    ratio_op = np.where(employee, np.array([0.60, 0.65, 0.75])[level], np.array([0.45, 0.50, 0.60])[level])
    chronic = med_type_code == 14
    ratio_op = np.where(chronic, np.where(employee, 0.80, 0.65), ratio_op)
    under_deductible = (~inpatient) & (med_type_code == 11) & (u_ded < 0.3)
    ratio_op = np.where(under_deductible | (med_type_code == 12), 0.0, ratio_op)
    ratio = np.where(inpatient, ratio_ip, ratio_op) * (0.96 + 0.04 * u_ratio)
    base = np.maximum(policy - ded, 0)
    hifp = np.floor(base * ratio).astype(np.int64)
    rest = np.maximum(base - hifp, 0)
    big = inpatient & (total > 3_000_000)
    other = np.where(big, np.floor(rest * 0.5), 0).astype(np.int64)
    assist = inpatient & ~employee & (rng.random(n) < 0.03)
    other += np.where(assist, np.floor((policy - hifp - other).clip(0) * 0.3), 0).astype(np.int64)
    fund = hifp + other
    psn = total - fund
    acct = np.where(employee & ~inpatient & (u < 0.45), psn, 0)
    acct = np.where(employee & ~inpatient & (u >= 0.45) & (u < 0.6), np.floor(psn * rng.random(n)), acct)
    acct = np.where(employee & inpatient & (u < 0.35), np.minimum(psn, rng.integers(0, 300000, n)), acct)
    acct = acct.astype(np.int64)
    return {
        "medfee_sumamt": total,
        "fulamt_ownpay_amt": ownpay,
        "hifp_pay": hifp,
        "fund_pay_sumamt": fund,
        "psn_part_amt": psn,
        "acct_pay": acct,
        "psn_cash_pay": psn - acct,
    }
