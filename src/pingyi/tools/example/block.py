"""One block of consecutive providers, generated as numpy arrays: encounters per provider-year,
the stays, visits and refunds, their assembly into settlements (sorted by provider, year and time,
numbered, with money and patients), the fee lines and direct settlement.

The steps of `generate_block` draw from the block's two streams in a fixed order; reordering them
changes the output."""

from __future__ import annotations

import numpy as np

from pingyi.tools.example.context import Ctx, Frame
from pingyi.tools.example.contract import MONEY_COLS
from pingyi.tools.example.direct_settlement import direct_flags
from pingyi.tools.example.fee_lines import stay_fee_lines, visit_fee_lines
from pingyi.tools.example.people import person_age
from pingyi.tools.example.sampling import epoch
from pingyi.tools.example.stays import Stays, draw_stays
from pingyi.tools.example.visits import Visits, draw_refunds, draw_visits


class Settlements:
    """The block's settlements in their final order (provider, year, time, kind); set by `_assemble`."""

    n: int
    kind: np.ndarray  # 0 inpatient, 1 outpatient, 2 refund
    ref: np.ndarray  # index into the stays, the visits, or (refunds) the visit reversed
    prov: np.ndarray
    yi: np.ndarray  # year index
    setl_time: np.ndarray
    setl_id: np.ndarray
    mdtrt_id: np.ndarray
    ip_row: np.ndarray  # row of each stay
    op_row: np.ndarray  # row of each visit
    rf_rows: np.ndarray  # rows of the refunds
    money: dict[str, np.ndarray]
    med_type: np.ndarray
    insutype: np.ndarray
    admdvs: np.ndarray
    psn_no: np.ndarray
    age: np.ndarray
    gend: np.ndarray
    cert: np.ndarray  # 0 / 1 / 2: mdtrt_cert_type 01 / 02 / 03


def generate_block(
    ctx: Ctx, members: np.ndarray, n_rows: np.ndarray, rng: np.random.Generator, xrng: np.random.Generator
) -> dict:
    """Generate all records of a block of providers. Returns numpy arrays (not yet strings).

    `xrng` draws what the optional columns need (direct settlement, quantities, catalogue codes);
    being a stream of its own, it leaves the draws of `rng` as they were before those columns."""
    year = ctx.year
    years = np.array([year - 1, year])
    y_start = np.array([epoch(year - 1), epoch(year)])
    y_end = np.array([epoch(year), epoch(year + 1)]) - 1
    fr = Frame(ctx=ctx, members=members, rng=rng, xrng=xrng, years=years, y_start=y_start, y_end=y_end)

    n_ip, n_op, n_ref = _count_encounters(fr, n_rows)
    st = draw_stays(fr, n_ip)
    vs = draw_visits(fr, n_op)
    rf_src, rf_setl = draw_refunds(fr, vs, n_op, n_ref)
    s = _assemble(fr, st, vs, rf_src, rf_setl)
    visit_fee_lines(fr, vs)
    stay_fee_lines(fr, st)
    direct = direct_flags(ctx, xrng, s.kind, s.prov, s.yi, s.admdvs, s.med_type, s.op_row[s.ref[s.rf_rows]])
    return _as_dict(s, st, vs, direct)


def _count_encounters(fr: Frame, n_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stays, visits and refunds per provider-year (members x 2 years) out of each member's rows."""
    par, rng, members = fr.ctx.params, fr.rng, fr.members
    n_py = np.zeros((len(members), 2), dtype=np.int64)
    for j, p in enumerate(members):
        prior = int(round(n_rows[j] / (2.0 + par.vol_growth[p])))
        n_py[j] = (prior, n_rows[j] - prior)
    n_ref = rng.binomial(n_py, 0.003)
    n_ip = np.round((n_py - n_ref) * par.ip_share[members][:, None]).astype(np.int64)
    n_op = n_py - n_ref - n_ip
    n_ref = np.where(n_op > 0, n_ref, 0)
    n_op = n_py - n_ref - n_ip
    return n_ip, n_op, n_ref


def _assemble(fr: Frame, st: Stays, vs: Visits, rf_src: np.ndarray, rf_setl: np.ndarray) -> Settlements:
    """Stays, visits and refunds as one settlement order, with ids, money and patients."""
    s = Settlements()
    _sort(s, st, vs, rf_src, rf_setl)
    _number(fr, s, st, vs)
    _money(s, st, vs)
    _patients(fr, s, st, vs)
    return s


def _sort(s: Settlements, st: Stays, vs: Visits, rf_src: np.ndarray, rf_setl: np.ndarray) -> None:
    """Stays, visits and refunds in one order: by provider, year, settlement time and kind."""
    S, V, R = st.n, vs.n, len(rf_src)
    st_p, st_y, ip_setl, op_p, op_y, op_setl = st.p, st.y, st.setl, vs.p, vs.y, vs.setl
    # kinds: 0 inpatient, 1 outpatient, 2 refund; "ref" = index into its own array
    kind = np.concatenate([np.zeros(S, np.int8), np.ones(V, np.int8), np.full(R, 2, np.int8)])
    ref = np.concatenate([np.arange(S), np.arange(V), rf_src])
    prov = np.concatenate([st_p, op_p, op_p[rf_src]])
    yi = np.concatenate([st_y, op_y, op_y[rf_src]])
    setl_time = np.concatenate([ip_setl, op_setl, rf_setl])
    order = np.lexsort((kind, setl_time, yi, prov))
    kind, ref, prov, yi, setl_time = kind[order], ref[order], prov[order], yi[order], setl_time[order]
    N = len(order)
    s.n, s.kind, s.ref, s.prov, s.yi, s.setl_time = N, kind, ref, prov, yi, setl_time


def _number(fr: Frame, s: Settlements, st: Stays, vs: Visits) -> None:
    """setl_id and mdtrt_id (a refund keeps the mdtrt_id of the visit it reverses); rows of stays and visits."""
    ctx, years = fr.ctx, fr.years
    S, V, N, kind, ref, yi = st.n, vs.n, s.n, s.kind, s.ref, s.yi
    # ids: per year running sequences; encounters numbered in settlement order
    setl_id = np.empty(N, dtype=np.int64)
    for y in range(2):
        m = yi == y
        cnt = int(m.sum())
        setl_id[m] = years[y] * 10**15 + 1 * 10**14 + ctx.next_setl[y] + np.arange(cnt)
        ctx.next_setl[y] += cnt
    enc = kind != 2
    mdtrt_id = np.zeros(N, dtype=np.int64)
    for y in range(2):
        m = enc & (yi == y)
        cnt = int(m.sum())
        mdtrt_id[m] = years[y] * 10**15 + 2 * 10**14 + ctx.next_mdtrt[y] + np.arange(cnt)
        ctx.next_mdtrt[y] += cnt
    # position of each stay / visit in the sorted settlements
    ip_row = np.empty(S, dtype=np.int64)
    ip_row[ref[kind == 0]] = np.nonzero(kind == 0)[0]
    op_row = np.empty(V, dtype=np.int64)
    op_row[ref[kind == 1]] = np.nonzero(kind == 1)[0]
    rf_rows = np.nonzero(kind == 2)[0]
    mdtrt_id[rf_rows] = mdtrt_id[op_row[ref[rf_rows]]]
    s.setl_id, s.mdtrt_id, s.ip_row, s.op_row, s.rf_rows = setl_id, mdtrt_id, ip_row, op_row, rf_rows


def _money(s: Settlements, st: Stays, vs: Visits) -> None:
    """The money columns; a refund negates the visit it reverses."""
    N, kind, ref, pay, opay = s.n, s.kind, s.ref, st.pay, vs.pay
    money: dict[str, np.ndarray] = {}
    for col in MONEY_COLS:
        arr = np.empty(N, dtype=np.int64)
        arr[kind == 0] = pay[col][ref[kind == 0]]
        arr[kind == 1] = opay[col][ref[kind == 1]]
        arr[kind == 2] = -opay[col][ref[kind == 2]]
        money[col] = arr
    s.money = money


def _pick(s: Settlements, ip_vals: np.ndarray, op_vals: np.ndarray) -> np.ndarray:
    """Per settlement: the stay's value, or the visit's (refunds: the reversed visit's)."""
    N, kind, ref = s.n, s.kind, s.ref
    out = np.empty(N, dtype=np.result_type(ip_vals, op_vals))
    out[kind == 0] = ip_vals[ref[kind == 0]]
    out[kind != 0] = op_vals[ref[kind != 0]]
    return out


def _patients(fr: Frame, s: Settlements, st: Stays, vs: Visits) -> None:
    """Patient columns (psn_no, age, sex, insurance type) and the credential type."""
    ctx, rng = fr.ctx, fr.rng
    par = ctx.params
    N, prov, yi, op_row, ref, rf_rows = s.n, s.prov, s.yi, s.op_row, s.ref, s.rf_rows
    area_all = _pick(s, st.area, vs.area)
    pos_all = _pick(s, st.pos, vs.pos)
    med_type_all = _pick(s, st.med_type, vs.mt)
    insutype_all = _pick(s, st.insutype, vs.insutype)
    admdvs = ctx.pools.admdvs[area_all]
    psn_no = admdvs * 10**10 + pos_all
    age0 = person_age(ctx.pools, area_all, pos_all)
    age = np.maximum(0, age0 - (1 - yi))
    gend = np.where(pos_all & 1, 2, 1)
    insutype_all = np.where((insutype_all == 310) & (age0 >= 88) & (pos_all % 7 == 0), 340, insutype_all)
    ecert_p = par.ecert[prov] - np.where(yi == 0, 0.10, 0.0)
    cert_u = rng.random(N)
    cert = np.where(cert_u < ecert_p, 0, np.where(rng.random(N) < 0.75, 2, 1))  # 01 / 03 / 02
    if N:  # a refund uses the credential of the settlement it reverses
        cert[rf_rows] = cert[op_row[ref[rf_rows]]]
    s.med_type, s.insutype, s.admdvs, s.psn_no, s.age, s.gend, s.cert = (
        med_type_all,
        insutype_all,
        admdvs,
        psn_no,
        age,
        gend,
        cert,
    )


def _as_dict(s: Settlements, st: Stays, vs: Visits, direct: np.ndarray) -> dict:
    """The block as the table builders, the audit flags and the planted defects read it."""
    return {
        "N": s.n,
        "kind": s.kind,
        "ref": s.ref,
        "prov": s.prov,
        "yi": s.yi,
        "setl_time": s.setl_time,
        "setl_id": s.setl_id,
        "mdtrt_id": s.mdtrt_id,
        "money": s.money,
        "med_type": s.med_type,
        "insutype": s.insutype,
        "psn_no": s.psn_no,
        "admdvs": s.admdvs,
        "age": s.age,
        "gend": s.gend,
        "cert": s.cert,
        "direct": direct,
        "ip": {
            "S": st.n,
            "row": s.ip_row,
            "p": st.p,
            "y": st.y,
            "g": st.g,
            "adm": st.adm,
            "dscg": st.dscg,
            "los": st.los,
            "dscg_way": st.dscg_way,
            "planned": st.planned,
            "op_grade": st.op_grade,
            "cmpl": st.cmpl,
            "setl": st.setl,
            "dcla": st.dcla,
            "late": st.late,
            "qc": st.qc,
            "grouped": st.grouped,
            "diag": st.diag,
            "diag_cnt": st.diag_cnt,
            "amt": st.amt,
            "own": st.own,
            "cnt": st.cnt,
            "code": st.code,
            "readmit_src": st.readmit_src,
        },
        "op": {
            "O": vs.n,
            "row": s.op_row,
            "drug": vs.drug,
            "non": vs.non,
            "drug_cat": vs.drug_cat,
            "non_cat": vs.non_cat,
            "vbp": vs.vbp,
            "gen": vs.gen,
            "nego": vs.nego,
            "own_drug": vs.own_drug,
            "own_non": vs.own_non,
            "mt": vs.mt,
            "drug_cnt": vs.drug_cnt,
            "non_cnt": vs.non_cnt,
            "drug_code": vs.drug_code,
            "non_code": vs.non_code,
        },
        "rf_rows": s.rf_rows,
    }
