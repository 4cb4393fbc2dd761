"""Outpatient visits of one block (category, time, patient, money) and the refunds (冲销) that
reverse some of them.

Like the stays, the steps draw from the block's `rng` in a fixed order; reordering them changes
the output."""

from __future__ import annotations

import numpy as np

from pingyi.tools.example.context import Frame
from pingyi.tools.example.payments import split_payments
from pingyi.tools.example.people import employee_share, pick_area, pick_person
from pingyi.tools.example.sampling import sample_days, strat_normal, strat_uniform

MT_CODES = np.array([11, 12, 13, 14, 51, 91])  # outpatient med_type codes


class Visits:
    """The block's outpatient visits, one element per visit, laid out provider by provider and year
    by year. Set by `draw_visits`, then the fee lines by `fee_lines.visit_fee_lines`."""

    n: int  # number of visits
    p: np.ndarray  # provider index
    y: np.ndarray  # year index
    lvl: np.ndarray  # the provider's level
    sizes: np.ndarray  # visits per provider-year, in layout order
    mt: np.ndarray  # med_type
    setl: np.ndarray  # settlement time
    area: np.ndarray  # the patient's pool
    employee: np.ndarray
    pos: np.ndarray  # the patient's position in the pool
    total: np.ndarray  # cents
    own: np.ndarray  # 全自费 part, cents
    pay: dict[str, np.ndarray]
    insutype: np.ndarray
    # fee lines: a drug line and a non-drug line per visit
    drug: np.ndarray  # amounts, cents
    non: np.ndarray
    drug_cat: np.ndarray  # med_chrgitm
    non_cat: np.ndarray
    vbp: np.ndarray  # main item a 集采 winning product
    gen: np.ndarray  # main item a non-winning product of a 集采 generic name
    nego: np.ndarray  # main item a negotiated drug
    own_drug: np.ndarray
    own_non: np.ndarray
    drug_cnt: np.ndarray
    non_cnt: np.ndarray
    drug_code: np.ndarray  # index into CODE_LUT
    non_code: np.ndarray


def draw_visits(fr: Frame, n_op: np.ndarray) -> Visits:
    """The visits of the block, n_op[j, y] for member j in year y."""
    vs = Visits()
    _lay_out(fr, vs, n_op)
    _times_and_patients(fr, vs)
    _money(fr, vs)
    return vs


def _lay_out(fr: Frame, vs: Visits, n_op: np.ndarray) -> None:
    """Provider, year and medical category of each visit (categories stratified per provider-year)."""
    pv, rng, members = fr.ctx.pv, fr.rng, fr.members
    parts_p: list[np.ndarray] = []
    parts_y: list[np.ndarray] = []
    for j, p in enumerate(members):
        for y in range(2):
            k = int(n_op[j, y])
            if k:
                parts_p.append(np.full(k, p))
                parts_y.append(np.full(k, y))
    V = int(n_op.sum())
    op_p = np.concatenate(parts_p) if parts_p else np.zeros(0, np.int64)
    op_y = np.concatenate(parts_y) if parts_y else np.zeros(0, np.int64)
    olvl = pv.level[op_p]
    mix = np.array(
        [[0.78, 0.01, 0.10, 0.09, 0.02, 0.0], [0.80, 0.01, 0.07, 0.10, 0.02, 0.0], [0.80, 0.03, 0.0, 0.17, 0.0, 0.0]]
    )
    mix[:, 5] = 0.005
    mix = mix / mix.sum(axis=1, keepdims=True)
    mt_codes = MT_CODES
    cdf = np.cumsum(mix, axis=1)[olvl]
    op_sizes = n_op.reshape(-1)
    op_mt = mt_codes[(strat_uniform(rng, op_sizes)[:, None] > cdf).sum(axis=1).clip(0, 5)]
    vs.n, vs.p, vs.y, vs.lvl, vs.sizes, vs.mt = V, op_p, op_y, olvl, op_sizes, op_mt


def _times_and_patients(fr: Frame, vs: Visits) -> None:
    """Settlement time (mornings and afternoons; emergencies at any hour) and the patient."""
    ctx, rng, years, y_start = fr.ctx, fr.rng, fr.years, fr.y_start
    pv, par = ctx.pv, ctx.params
    V, op_p, op_y, op_mt = vs.n, vs.p, vs.y, vs.mt
    oday = sample_days(rng, V, years[op_y], 0.6)
    hour = np.where(
        rng.random(V) < 0.62, rng.integers(8 * 3600, 12 * 3600, V), rng.integers(14 * 3600, 17 * 3600 + 1800, V)
    )
    hour = np.where(op_mt == 13, rng.integers(0, 86400, V), hour)
    op_setl = y_start[op_y] + oday * 86400 + hour
    oarea = pick_area(rng, pv, par, ctx.pools, op_p, inpatient=False)
    oemployee = rng.random(V) < employee_share(pv, op_p)
    ofemale = op_mt == 51
    opos = pick_person(rng, ctx.pools, oarea, oemployee, None, ofemale)
    oemployee = opos < ctx.pools.emp[oarea]
    vs.setl, vs.area, vs.employee, vs.pos = op_setl, oarea, oemployee, opos


def _money(fr: Frame, vs: Visits) -> None:
    """Total (cost noise stratified per provider-year and category), 全自费 part, payment split."""
    par, rng = fr.ctx.params, fr.rng
    V, op_p, op_y, op_mt, olvl, op_sizes, oemployee = vs.n, vs.p, vs.y, vs.mt, vs.lvl, vs.sizes, vs.employee
    mt_codes = MT_CODES
    ogrowth = np.where(op_y == 1, 1.0, 1.0 / (1.0 + par.g_op[op_p]))
    mt_mult = np.select([op_mt == 13, op_mt == 14, op_mt == 51], [1.4, 1.7, 1.2], 1.0)
    # cost noise stratified within provider-year x medical category (D1.02 uses 11 and 13 only)
    mt_key = np.repeat(np.arange(len(op_sizes)), op_sizes) * 8 + np.searchsorted(mt_codes, op_mt)
    by_key = np.argsort(mt_key, kind="stable")
    noise = np.empty(V)
    noise[by_key] = strat_normal(rng, np.unique(mt_key, return_counts=True)[1])
    ocost = par.op_cost[op_p] * ogrowth * mt_mult * np.exp(-0.28 + 0.75 * noise)
    ocost = np.where(op_mt == 12, rng.uniform(5, 50, V), ocost)
    ototal = np.maximum(100, np.round(ocost * 100)).astype(np.int64)
    oown = np.round(ototal * np.clip(par.ownpay_op[op_p] * rng.uniform(0, 2, V), 0, 0.9)).astype(np.int64)
    oown = np.where(op_mt == 12, 0, oown)
    opay = split_payments(rng, ototal, oown, oemployee, np.zeros(V, bool), olvl, op_mt, op_sizes)
    oinsutype = np.where(oemployee, np.where(op_mt == 51, 510, 310), 390)
    vs.total, vs.own, vs.pay, vs.insutype = ototal, oown, opay, oinsutype


def draw_refunds(fr: Frame, vs: Visits, n_op: np.ndarray, n_ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Refunds, n_ref[j, y] per provider-year, each reversing a random visit of that provider-year
    within 10 days: the visit each reverses, and the refund's settlement time."""
    rng, members, y_end = fr.rng, fr.members, fr.y_end
    op_setl, op_y = vs.setl, vs.y
    parts: list[np.ndarray] = []
    start = 0
    for j in range(len(members)):
        for y in range(2):
            k, r = int(n_op[j, y]), int(n_ref[j, y])
            if r:
                parts.append(start + rng.integers(0, k, r))
            start += k
    rf_src = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    R = len(rf_src)
    rf_setl = np.minimum(op_setl[rf_src] + rng.integers(1800, 10 * 86400, R), y_end[op_y[rf_src]])
    return rf_src, rf_setl
