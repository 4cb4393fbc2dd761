"""direct_setl_flag: which encounters were settled at the provider and which reimbursed by hand
(手工/零星报销) afterwards, per provider-year around its D5.01/D5.05 targets."""

from __future__ import annotations

import numpy as np

from pingyi.tools.example.context import Ctx
from pingyi.tools.example.sampling import pick_per_group, sround


def direct_flags(
    ctx: Ctx,
    rng: np.random.Generator,
    kind: np.ndarray,
    prov: np.ndarray,
    yi: np.ndarray,
    admdvs: np.ndarray,
    med_type: np.ndarray,
    refunded: np.ndarray,
) -> np.ndarray:
    """direct_setl_flag of each settlement (True = 1, settled at the provider).

    The others are 手工（零星）报销: the patient paid in full and the insured area's agency settled the
    claim afterwards. First 门诊慢特病 visits (offsite ones four times as likely), as many per
    provider-year as its D5.05 target says; then other 异地 encounters (inpatient stays half as likely
    as visits) up to its D5.01 target. Refunds, visits a refund reverses and registrations (12) are
    always settled directly."""
    rt = ctx.rates
    n = len(kind)
    direct = np.ones(n, dtype=bool)
    if n == 0:
        return direct
    G = 2 * ctx.pv.n
    group = prov.astype(np.int64) * 2 + yi
    own = rt.div4[prov]
    # offsite exactly as views.settlement_rows: another province, or another prefecture unless a
    # province-level pooling code (XX99xx)
    offsite = (admdvs // 10000 != own // 100) | ((admdvs // 100 % 100 != 99) & (admdvs // 100 != own))
    encounter = kind != 2
    eligible = encounter & (med_type != 12)
    eligible[refunded] = False
    chronic = encounter & (med_type == 14)
    k = sround(rng, (1 - rt.direct_chronic.reshape(-1)) * np.bincount(group[chronic], minlength=G))
    manual = pick_per_group(rng, group, np.where(chronic & eligible, np.where(offsite, 4.0, 1.0), 0.0), k)
    off = encounter & offsite
    k = sround(rng, (1 - rt.direct_offsite.reshape(-1)) * np.bincount(group[off], minlength=G))
    k = np.maximum(k - np.bincount(group[manual & off], minlength=G), 0)
    weight = np.where(off & eligible & ~chronic, np.where(kind == 0, 0.5, 1.0), 0.0)  # chronic: done above
    manual |= pick_per_group(rng, group, weight, k)
    return ~manual
