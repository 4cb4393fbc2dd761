"""Inpatient stays of one block: DRG group and dates, the patient, readmissions, discharge outcome,
money and settlement, and the settlement-list fields (upload, quality control, diagnoses,
operations).

`draw_stays` runs the steps in a fixed order and each step draws from the block's `rng` in turn:
reordering the steps, or the draws inside one, changes every file of the example."""

from __future__ import annotations

import numpy as np

from pingyi.tools.example.context import Frame
from pingyi.tools.example.drg import DRG_CHEMO, DRG_TABLE, DRG_URGENT
from pingyi.tools.example.payments import split_payments
from pingyi.tools.example.people import employee_share, local_pool_lut, pick_area, pick_person
from pingyi.tools.example.sampling import allocate, sample_days, strat_normal


class Stays:
    """The block's inpatient stays, one element per stay, laid out provider by provider and year by
    year (later sorted into settlement order through `ip_row` of the block). The attributes are set
    step by step: by `draw_stays`, then the fee lines by `fee_lines.stay_fee_lines`."""

    n: int  # number of stays
    p: np.ndarray  # provider index
    y: np.ndarray  # year index: 0 prior year, 1 evaluation year
    g: np.ndarray  # index into DRG_TABLE
    lvl: np.ndarray  # the provider's level
    sizes: np.ndarray  # stays per provider-year, in layout order
    los: np.ndarray
    dscg: np.ndarray  # discharge time, epoch seconds
    adm: np.ndarray  # admission time
    area: np.ndarray  # the patient's pool (insured area)
    pos: np.ndarray  # the patient's position in the pool
    employee: np.ndarray
    planned: np.ndarray  # the readmission after this stay is planned
    readmit_src: np.ndarray  # the stay this one readmits after, -1 if none
    is_src: np.ndarray  # a readmission follows this stay
    dscg_way: np.ndarray
    total: np.ndarray  # cents
    ownpay: np.ndarray  # 全自费 part, cents
    med_type: np.ndarray
    pay: dict[str, np.ndarray]  # the money columns, cents
    setl: np.ndarray  # settlement time
    insutype: np.ndarray
    late: np.ndarray  # settlement list uploaded after the deadline
    dcla: np.ndarray  # upload time
    qc: np.ndarray  # passed quality control
    grouped: np.ndarray  # has a DRG group
    diag: np.ndarray  # which of the group's two main diagnoses
    diag_cnt: np.ndarray
    op_grade: np.ndarray  # grade of the main operation, 0 none
    cmpl: np.ndarray  # operation complication
    amt: np.ndarray  # fee lines (stays x IP_FEE_COLUMNS): amount, cents
    own: np.ndarray  # fee lines: 全自费 part, cents
    cnt: np.ndarray  # fee lines: quantity
    code: np.ndarray  # fee lines: index into CODE_LUT


def draw_stays(fr: Frame, n_ip: np.ndarray) -> Stays:
    """The stays of the block, n_ip[j, y] for member j in year y."""
    st = Stays()
    _lay_out(fr, st, n_ip)
    _dates(fr, st)
    _patients(fr, st)
    _readmissions(fr, st, n_ip)
    _discharge_outcomes(fr, st)
    _money(fr, st)
    _list_fields(fr, st)
    _operations(fr, st)
    return st


def _lay_out(fr: Frame, st: Stays, n_ip: np.ndarray) -> None:
    """Provider, year and DRG group of each stay: each provider-year's DRG mix, in random order."""
    par, rng, members = fr.ctx.params, fr.rng, fr.members
    parts_p: list[np.ndarray] = []
    parts_y: list[np.ndarray] = []
    parts_g: list[np.ndarray] = []
    for j, p in enumerate(members):
        for y in range(2):
            k = int(n_ip[j, y])
            if k == 0:
                continue
            counts = allocate(k, par.drg_p[p, y])
            g = np.repeat(np.arange(len(DRG_TABLE)), counts)
            parts_g.append(g[rng.permutation(k)])
            parts_p.append(np.full(k, p))
            parts_y.append(np.full(k, y))
    st.n = int(n_ip.sum())
    st.p = np.concatenate(parts_p) if parts_p else np.zeros(0, np.int64)
    st.y = np.concatenate(parts_y) if parts_y else np.zeros(0, np.int64)
    st.g = np.concatenate(parts_g) if parts_g else np.zeros(0, np.int64)
    st.lvl = fr.ctx.pv.level[st.p]
    st.sizes = n_ip.reshape(-1)  # stays are laid out provider by provider, year by year


def _dates(fr: Frame, st: Stays) -> None:
    """Length of stay, discharge and admission times (urgent groups admitted at any hour)."""
    ctx, rng, years, y_start = fr.ctx, fr.rng, fr.years, fr.y_start
    par = ctx.params
    S, st_p, st_y, st_g, ip_sizes = st.n, st.p, st.y, st.g, st.sizes
    los = ctx.drg_los[st_g] * par.los[st_p] * np.exp(-0.06 + 0.35 * strat_normal(rng, ip_sizes))
    los = np.maximum(1, np.round(los)).astype(np.int64)
    day = sample_days(rng, S, years[st_y], 0.5)
    dscg = y_start[st_y] + day * 86400 + rng.integers(9 * 3600, 12 * 3600, S)
    urgent_g = DRG_URGENT
    adm_hour = np.where(
        urgent_g[st_g] & (rng.random(S) < 0.4), rng.integers(0, 86400, S), rng.integers(8 * 3600, 18 * 3600, S)
    )
    adm = (dscg // 86400 - los) * 86400 + adm_hour
    st.los, st.dscg, st.adm = los, dscg, adm


def _patients(fr: Frame, st: Stays) -> None:
    """The patient of each stay: insured area, employee or resident, age and sex fitting the group."""
    ctx, rng = fr.ctx, fr.rng
    pv, par = ctx.pv, ctx.params
    S, st_p, st_g = st.n, st.p, st.g
    area = pick_area(rng, pv, par, ctx.pools, st_p, inpatient=True)
    age_mu = np.array([g[6] for g in DRG_TABLE], dtype=float)
    age_sd = np.array([g[7] for g in DRG_TABLE], dtype=float)
    female_only = np.array([g[8] for g in DRG_TABLE])
    target_age = np.clip(rng.normal(age_mu[st_g], age_sd[st_g]), 0, 99)
    p_emp = employee_share(pv, st_p)
    employee = (rng.random(S) < p_emp) & (target_age >= 18)
    female = np.where(female_only[st_g], True, rng.random(S) < 0.48)
    pos = pick_person(rng, ctx.pools, area, employee, target_age, female)
    st.area, st.pos, st.employee = area, pos, employee


def _readmissions(fr: Frame, st: Stays, n_ip: np.ndarray) -> None:
    """Readmissions: pairs (source -> readmission) inside one provider-year. The readmission is
    moved to 2-28 days after its source's discharge and given the source's patient; chemotherapy
    groups are readmitted more often, and mostly as planned."""
    par, rng, members, y_end = fr.ctx.params, fr.rng, fr.members, fr.y_end
    S, st_g, los, dscg, adm = st.n, st.g, st.los, st.dscg, st.adm
    area, pos, employee = st.area, st.pos, st.employee  # changed in place, as are adm and dscg
    planned_flag = np.zeros(S, dtype=bool)
    readmit_src = np.full(S, -1)
    chemo = DRG_CHEMO
    offset = 0
    for j, p in enumerate(members):
        for y in range(2):
            k = int(n_ip[j, y])
            if k < 4:
                offset += k
                continue
            rate = par.readmit[p] + 0.25 * chemo[st_g[offset : offset + k]].mean()
            m = min(int(rng.binomial(k, min(rate, 0.4))), k // 2)
            if m:
                idx = offset + rng.permutation(k)[: 2 * m]
                src, dst = idx[:m], idx[m:]
                gap = rng.integers(2, 29, m)
                new_adm_day = dscg[src] // 86400 + gap
                new_dscg = (new_adm_day + los[dst]) * 86400 + rng.integers(9 * 3600, 12 * 3600, m)
                ok = new_dscg <= y_end[y]
                src, dst = src[ok], dst[ok]
                adm[dst] = new_adm_day[ok] * 86400 + rng.integers(8 * 3600, 18 * 3600, len(dst))
                dscg[dst] = new_dscg[ok]
                area[dst], pos[dst] = area[src], pos[src]
                employee[dst] = employee[src]
                readmit_src[dst] = src
                planned_flag[src] = rng.random(len(src)) < np.where(chemo[st_g[src]], 0.85, 0.12)
            offset += k
    is_src = np.zeros(S, dtype=bool)
    is_src[readmit_src[readmit_src >= 0]] = True
    st.planned, st.readmit_src, st.is_src = planned_flag, readmit_src, is_src


def _discharge_outcomes(fr: Frame, st: Stays) -> None:
    """dscg_way: died (5), transferred to another hospital (2) or to primary care (3), left against
    advice (4), other (9), else discharged as ordered (1); a stay a readmission follows is always 1."""
    ctx = fr.ctx
    par, rng = ctx.params, fr.rng
    S, st_p, st_g, is_src = st.n, st.p, st.g, st.is_src
    mort = np.where(ctx.drg_lowrisk[st_g], par.lowrisk_death[st_p], ctx.drg_mort[st_g] * par.death[st_p])
    u = rng.random(S)
    dscg_way = np.full(S, 1)
    dscg_way[u < mort] = 5
    v = rng.random(S)
    alive = dscg_way != 5
    down = par.transfer_down[st_p]
    dscg_way[alive & (v < 0.012)] = 2
    dscg_way[alive & (v >= 0.012) & (v < 0.012 + down)] = 3
    dscg_way[alive & (v >= 0.012 + down) & (v < 0.027 + down)] = 4
    dscg_way[alive & (v >= 0.027 + down) & (v < 0.030 + down)] = 9
    dscg_way[is_src] = 1
    st.dscg_way = dscg_way


def _money(fr: Frame, st: Stays) -> None:
    """Total and 全自费 amounts, medical category, the payment split, settlement time, insurance type."""
    ctx, rng, y_end = fr.ctx, fr.rng, fr.y_end
    par = ctx.params
    S, st_p, st_y, st_g, ip_sizes, lvl = st.n, st.p, st.y, st.g, st.sizes, st.lvl
    los, dscg, area, employee = st.los, st.dscg, st.area, st.employee
    urgent_g = DRG_URGENT
    growth = np.where(st_y == 1, 1.0, 1.0 / (1.0 + par.g_ip[st_p]))
    exp_los = ctx.drg_los[st_g] * par.los[st_p]
    cost = (
        ctx.drg_cost[st_g]
        * par.cost[st_p]
        * growth
        * (los / exp_los) ** 0.4
        * np.exp(-0.03 + 0.25 * strat_normal(rng, ip_sizes))
    )
    total = np.maximum(30000, np.round(cost * 100)).astype(np.int64)
    ownpay = np.round(total * np.clip(par.ownpay_ip[st_p] * rng.uniform(0.4, 1.6, S), 0, 0.6)).astype(np.int64)
    obst = np.array([g[0][0] == "O" for g in DRG_TABLE])[st_g]
    trauma = np.array([g[0].startswith("IR") for g in DRG_TABLE])[st_g]
    med_type = np.full(S, 21)
    w = rng.random(S)
    med_type[urgent_g[st_g] & (w < 0.10)] = 24
    med_type[trauma] = 22
    med_type[(w > 0.995)] = 92
    med_type[(w > 0.990) & (w <= 0.995) & (area != local_pool_lut(ctx.pv, ctx.pools)[st_p])] = 23
    med_type[obst] = 52
    pay = split_payments(rng, total, ownpay, employee, np.ones(S, bool), lvl, med_type, ip_sizes)
    ip_setl = dscg + rng.integers(600, 4 * 3600, S)
    late_settle = rng.random(S) < par.settle_delay[st_p]
    ip_setl = np.where(late_settle, ip_setl + rng.integers(1, 15, S) * 86400, ip_setl)
    ip_setl = np.minimum(ip_setl, y_end[st_y])
    insutype = np.where(employee, np.where(obst, 510, 310), 390)
    st.total, st.ownpay, st.med_type, st.pay, st.setl, st.insutype = total, ownpay, med_type, pay, ip_setl, insutype


def _list_fields(fr: Frame, st: Stays) -> None:
    """Settlement-list fields: late upload and upload time, QC result, grouping, diagnoses."""
    par, rng = fr.ctx.params, fr.rng
    S, st_p, st_g, lvl, ip_setl = st.n, st.p, st.g, st.lvl, st.setl
    late = rng.random(S) < par.late[st_p]
    delay = np.where(late, rng.integers(31, 100, S), np.minimum(rng.geometric(0.25, S), 29)) * 86400
    dcla = ip_setl + delay + rng.integers(0, 86400, S)
    qc = rng.random(S) >= par.qc_fail[st_p]
    grouped = rng.random(S) >= par.ungroup[st_p]
    diag_pick = rng.integers(0, 2, S)
    rw = np.array([g[2] for g in DRG_TABLE])
    diag_cnt = 1 + rng.poisson(1.2 + 1.5 * np.sqrt(rw[st_g]) + np.array([1.0, 0.4, 0.0])[lvl])
    diag_cnt = np.minimum(diag_cnt, 16)
    st.late, st.dcla, st.qc, st.grouped, st.diag, st.diag_cnt = late, dcla, qc, grouped, diag_pick, diag_cnt


def _operations(fr: Frame, st: Stays) -> None:
    """Grade of the main operation (the group's profile; one grade lower more often below 三级 and at
    weaker providers) and operation complications."""
    pv, par, rng = fr.ctx.pv, fr.ctx.params, fr.rng
    S, st_p, st_g, lvl = st.n, st.p, st.g, st.lvl
    op_prof = [g[5] for g in DRG_TABLE]
    op_grade = np.zeros(S, dtype=np.int64)
    for gi, prof in enumerate(op_prof):
        m = st_g == gi
        cnt = int(m.sum())
        if not cnt:
            continue
        if prof is None:
            op_grade[m] = np.where(rng.random(cnt) < 0.12, rng.integers(1, 3, cnt), 0)
        else:
            gr = int(prof)
            down_ = rng.random(cnt) < np.clip(np.where(lvl[m] == 0, 0.12, 0.35) - 0.05 * pv.q[st_p[m]], 0, 0.9)
            op_grade[m] = np.maximum(1, gr - down_.astype(np.int64))
    if "IR25" in [g[0] for g in DRG_TABLE]:
        m = st_g == [g[0] for g in DRG_TABLE].index("IR25")
        op_grade[m] = np.where(rng.random(int(m.sum())) < 0.45, 0, op_grade[m])
    cmpl = (op_grade > 0) & (rng.random(S) < par.cmpl[st_p] * (0.5 + 0.15 * op_grade))
    st.op_grade, st.cmpl = op_grade, cmpl
