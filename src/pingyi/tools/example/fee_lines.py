"""Fee lines (fee_items), aggregated by category per encounter: a drug and a non-drug line per
visit, one line per non-zero category of a stay (IP_FEE_COLUMNS); amounts, 全自费 parts,
quantities, 集采/谈判 flags and catalogue codes, and the lines without a valid national code.

The visit lines draw before the stay lines, from both of the block's streams; reordering them
changes the output."""

from __future__ import annotations

import numpy as np

from pingyi.tools.example.context import Ctx, Frame
from pingyi.tools.example.drg import DRG_CHEMO, drg_idx
from pingyi.tools.example.fee_codes import (
    CODE_GAP_WEIGHT,
    IP_FEE_COLUMNS,
    IP_GENERIC,
    IP_NEGO,
    IP_WEST,
    IP_WIN,
    LOCAL_CODES,
    pick_codes,
)
from pingyi.tools.example.sampling import pick_per_group, sround, strat_uniform
from pingyi.tools.example.stays import Stays
from pingyi.tools.example.visits import Visits

OTHER_FEE_SHARE = 0.3  # stays with an 其他费 (14) line, at the province scale
OTHER_FEE_COL = 14  # its column in IP_FEE_COLUMNS


def visit_fee_lines(fr: Frame, vs: Visits) -> None:
    """A drug line and a non-drug line per visit: amounts, categories, the drug line's main item
    (集采 winning product, non-winning product of a 集采 generic name, negotiated or other drug),
    quantities and codes."""
    ctx, rng, xrng = fr.ctx, fr.rng, fr.xrng
    pv, par = ctx.pv, ctx.params
    V, op_p, op_y, op_mt, olvl, op_sizes = vs.n, vs.p, vs.y, vs.mt, vs.lvl, vs.sizes
    ototal, oown = vs.total, vs.own
    o_drug_share = np.clip(
        par.drug_op[op_p]
        * np.where(op_mt == 14, 1.35, np.where(op_mt == 13, 0.8, 1.0))
        * np.exp(rng.normal(0, 0.25, V)),
        0.0,
        0.97,
    )
    o_drug_share = np.where(op_mt == 12, 0.0, o_drug_share)
    o_drug = np.round(ototal * o_drug_share).astype(np.int64)
    o_non = ototal - o_drug
    tcm = np.array([pv.profile[p] == "tcm" for p in range(pv.n)])
    o_drug_cat = np.where(tcm[op_p] & (rng.random(V) < 0.5), 11, np.where(rng.random(V) < 0.12, 11, 9))
    o_non_cat = np.where(
        op_mt == 12,
        13,
        np.where(olvl == 2, np.where(rng.random(V) < 0.6, 12, 4), np.array([2, 3, 4, 5])[rng.integers(0, 4, V)]),
    )
    # the main item of a western-drug line: a 集采 winning product, a non-winning product of the same
    # generic name, or another drug. A non-winning product costs `price_ratio` times as much per unit,
    # so for the provider's winners' quantity share r it takes p_gen = p_win x ratio x (1 - r) / r lines.
    rt = ctx.rates
    rng.random(V)  # the draw that once decided o_vbp, kept so that the later draws of `rng` stay the same
    u_vbp = strat_uniform(xrng, op_sizes)  # stratified per provider-year: small providers land near target
    r_qty = rt.vbp_qty[op_p, op_y]
    p_win = rt.op_win[op_p]
    p_gen = np.minimum(p_win * rt.price_ratio[op_p] * (1 - r_qty) / r_qty, 0.95 - p_win)
    o_west = o_drug_cat == 9
    o_vbp = o_west & (u_vbp < p_win)
    o_nego = o_west & ~o_vbp & (rng.random(V) < 0.03)
    o_gen = o_west & ~o_vbp & ~o_nego & (u_vbp < p_win + p_gen)
    o_own_drug = np.minimum(oown, o_drug)  # self-paid drugs first, the rest on the other line
    o_own_non = oown - o_own_drug
    # quantities in minimum units (tablets, capsules, vials; one consultation / registration)
    unit = rt.op_unit_price[op_p] * np.exp(xrng.normal(0, 0.2, V))
    o_type = np.select([o_drug_cat == 11, o_vbp, o_gen, o_nego], [11, 16, 17, 15], 9)
    o_price = np.select(
        [o_drug_cat == 11, o_vbp, o_gen, o_nego],
        [1.5 * unit, unit, unit * rt.price_ratio[op_p], 60.0 * unit / rt.op_unit_price[op_p]],
        3.0 * unit,
    )
    o_drug_cnt = np.maximum(1, np.round(o_drug / 100 / o_price)).astype(np.int64)
    o_drug_cnt = np.minimum(o_drug_cnt, np.where(op_mt == 14, 360, 120))  # prescriptions are capped by days
    non_price = np.select([o_non_cat == 3, o_non_cat == 4, o_non_cat == 5], [80.0, 20.0, 30.0], 1.0)
    non_price = non_price * np.exp(xrng.normal(0, 0.3, V))
    o_non_cnt = np.where(np.isin(o_non_cat, (3, 4, 5)), np.maximum(1, np.round(o_non / 100 / non_price)), 1)
    o_non_cnt = o_non_cnt.astype(np.int64)
    o_drug_code = pick_codes(xrng, o_type)
    o_non_code = pick_codes(xrng, o_non_cat)
    vs.drug, vs.non, vs.drug_cat, vs.non_cat = o_drug, o_non, o_drug_cat, o_non_cat
    vs.vbp, vs.gen, vs.nego, vs.own_drug, vs.own_non = o_vbp, o_gen, o_nego, o_own_drug, o_own_non
    vs.drug_cnt, vs.non_cnt, vs.drug_code, vs.non_code = o_drug_cnt, o_non_cnt, o_drug_code, o_non_code


def stay_fee_lines(fr: Frame, st: Stays) -> None:
    """One line per category of each stay (zero amounts are left out when the table is built)."""
    amt, ratio = _stay_amounts(fr, st)
    st.amt = amt
    st.cnt, st.code = _stay_quantities(fr, st, amt, ratio)
    st.own = _stay_ownpay(st, amt)


def _stay_amounts(fr: Frame, st: Stays) -> tuple[np.ndarray, np.ndarray]:
    """The stay's total split over the categories (drug share by provider and group; 饮片 and 中成药
    more at TCM hospitals; western drugs split into 集采 winners, non-winners, other and negotiated
    drugs). Also returns each stay's price ratio of non-winning to winning products."""
    ctx, rng, xrng = fr.ctx, fr.rng, fr.xrng
    pv, par, rt = ctx.pv, ctx.params, ctx.rates
    S, st_p, st_y, st_g, lvl, op_grade, total = st.n, st.p, st.y, st.g, st.lvl, st.op_grade, st.total
    chemo = DRG_CHEMO
    tcm = np.array([pv.profile[p] == "tcm" for p in range(pv.n)])
    # inpatient: one line per category with a non-zero amount
    K = len(IP_FEE_COLUMNS)
    surgical = op_grade >= 2
    nondrug_cols = [k for k, c in enumerate(IP_FEE_COLUMNS) if c[1] is None]  # 01-08 and 14
    base = np.array([0.04, 0.02, 0.10, 0.12, 0.12, 0.0, 0.04, 0.06, 0.02])
    # one noise column per line of the earlier 14-line layout (its 5 drug columns unused), so that the
    # later draws of `rng` stay what they were
    noise = np.exp(rng.normal(0, 0.25, (S, 14)))
    props = np.zeros((S, K))
    props[:, nondrug_cols] = base * noise[:, [0, 1, 2, 3, 4, 5, 6, 7, 13]]
    props[:, 5] = np.where(surgical, 0.12 * np.exp(rng.normal(0, 0.2, S)), 0.0)
    props[:, 7] = np.where(surgical, 0.18, 0.06) * par.material[st_p] * np.exp(rng.normal(0, 0.25, S))
    nondrug = props.sum(axis=1)
    drug_share = np.clip(
        par.drug_ip[st_p] * np.where(chemo[st_g], 1.6, 1.0) * np.exp(rng.normal(0, 0.15, S)), 0.05, 0.8
    )
    props *= ((1 - drug_share) / nondrug)[:, None]
    tcm_s = tcm[st_p]
    yinpian = np.where(tcm_s, 0.15, np.where(rng.random(S) < 0.2, 0.03, 0.0))
    zcy = np.where(tcm_s, 0.30, 0.10)
    west = 1 - yinpian - zcy
    nego = np.clip(
        par.nego[st_p] * np.where(chemo[st_g] | np.isin(st_g, drg_idx("ER11", "JA29", "NA19")), 3, 1), 0, 0.6
    )
    if ctx.scale.sparse_fee_lines:
        # a stay has a 谈判 line only when it uses a negotiated drug (then a larger share), and an
        # 其他费 line only sometimes: the same expected amounts in fewer fee lines
        p_nego = np.minimum(1.0, 2.5 * nego)
        nego = np.where(xrng.random(S) < p_nego, nego / np.maximum(p_nego, 1e-9), 0.0)
        other = xrng.random(S) < OTHER_FEE_SHARE
        props[:, OTHER_FEE_COL] *= np.where(other, 1 / OTHER_FEE_SHARE, 0.0)
    # western drugs outside 谈判: a share on 集采 generic names, split between winning and non-winning
    # products so that the quantities give the stay's winners' share r_qty (D3.03)
    r_qty = np.clip(rt.vbp_qty[st_p, st_y] + 0.5 * rng.normal(0, 0.05, S), 0.3, 0.995)
    gen_share = np.clip(np.array([0.35, 0.42, 0.5])[lvl] * np.exp(xrng.normal(0, 0.25, S)), 0.05, 0.85)
    ratio = rt.price_ratio[st_p] * np.exp(xrng.normal(0, 0.15, S))
    win_amt = r_qty / (r_qty + (1 - r_qty) * ratio)  # winners' share of the amount on 集采 generic names
    west_rest = drug_share * west * (1 - nego)
    props[:, IP_WIN] = west_rest * gen_share * win_amt
    props[:, IP_GENERIC] = west_rest * gen_share * (1 - win_amt)
    props[:, IP_WEST] = west_rest * (1 - gen_share)
    props[:, IP_NEGO] = drug_share * west * nego
    props[:, IP_NEGO + 1] = drug_share * yinpian
    props[:, IP_NEGO + 2] = drug_share * zcy
    props /= props.sum(axis=1, keepdims=True)
    amt = np.floor(props * total[:, None]).astype(np.int64)
    big = np.argmax(amt, axis=1)
    amt[np.arange(S), big] += total - amt.sum(axis=1)
    return amt, ratio


def _stay_quantities(fr: Frame, st: Stays, amt: np.ndarray, ratio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Quantity and catalogue code of each line."""
    xrng = fr.xrng
    S, los = st.n, st.los
    K = len(IP_FEE_COLUMNS)
    # quantities: days for bed, consultation and nursing, operations, else amount / unit price
    unit_price = np.ones((S, K))
    for k, c in enumerate(IP_FEE_COLUMNS):
        if isinstance(c[4], float):
            unit_price[:, k] = c[4]
    unit_price *= np.exp(xrng.normal(0, 0.25, (S, K)))
    win_price = 2.0 * np.exp(xrng.normal(0, 0.3, S))
    unit_price[:, IP_WIN] = win_price
    unit_price[:, IP_GENERIC] = win_price * ratio
    ip_cnt = np.maximum(1, np.round(amt / 100 / unit_price)).astype(np.int64)
    for k, c in enumerate(IP_FEE_COLUMNS):
        if c[4] == "day":
            ip_cnt[:, k] = los
        elif c[4] == "op":
            ip_cnt[:, k] = 1 + (xrng.random(S) < 0.12)
    ip_code = pick_codes(xrng, np.tile(np.array([c[5] for c in IP_FEE_COLUMNS]), S)).reshape(S, K)
    return ip_cnt, ip_code


def _stay_ownpay(st: Stays, amt: np.ndarray) -> np.ndarray:
    """The stay's 全自费 amount spread over its lines."""
    S, ownpay = st.n, st.ownpay
    K = len(IP_FEE_COLUMNS)
    # out-of-catalogue (全自费) spending sits in a few categories: consumables, other western drugs,
    # treatment, exams
    own_w = np.zeros((S, K))
    for k, w in ((7, 0.45), (IP_WEST, 0.30), (4, 0.15), (2, 0.10)):
        own_w[:, k] = w * (amt[:, k] > 0)
    cap = np.floor(own_w / np.maximum(own_w.sum(axis=1, keepdims=True), 1e-9) * ownpay[:, None]).astype(np.int64)
    own = np.minimum(cap, amt)
    short = ownpay - own.sum(axis=1)  # rounding, or a category too small: fill from the largest lines
    for k in np.argsort(-amt.sum(axis=0)):
        add = np.minimum(short, amt[:, k] - own[:, k])
        own[:, k] += add
        short -= add
    return own


def assign_code_gaps(ctx: Ctx, b: dict, rng: np.random.Generator) -> None:
    """Fee lines without a valid national code (D8.03): per provider-year exactly its share of its
    lines, consumables and decoction pieces most likely, never a line of a 集采 generic name (its
    flags derive from the code). Such a line gets a hospital-internal code. Sets ip["natl"],
    op["drug_natl"], op["non_natl"] and replaces the codes in place; a mirrored refund line would
    repeat its original's. (On the main thread: the fee-table writer is the slowest at scale.)"""
    ip, op = b["ip"], b["op"]
    nz = ip["amt"] > 0
    si, ki = np.nonzero(nz)
    od_lines, on_lines = np.nonzero(op["drug"] > 0)[0], np.nonzero(op["non"] > 0)[0]
    cat_lut = np.array([int(c[0]) for c in IP_FEE_COLUMNS])
    gen_lut = np.array([c[3] == "1" for c in IP_FEE_COLUMNS])
    src_row = np.concatenate([ip["row"][si], op["row"][od_lines], op["row"][on_lines]])
    src_cat = np.concatenate([cat_lut[ki], op["drug_cat"][od_lines], op["non_cat"][on_lines]])
    src_gen = np.concatenate(
        [gen_lut[ki], op["vbp"][od_lines] | op["gen"][od_lines], np.zeros(len(on_lines), dtype=bool)]
    )
    group = b["prov"][src_row].astype(np.int64) * 2 + b["yi"][src_row]
    k = sround(rng, ctx.rates.code_gap.reshape(-1) * np.bincount(group, minlength=2 * ctx.pv.n))
    gap = pick_per_group(rng, group, np.where(src_gen, 0.0, CODE_GAP_WEIGHT[src_cat]), k)
    local = LOCAL_CODES[src_cat, rng.integers(0, LOCAL_CODES.shape[1], len(src_cat))]
    n_ip, n_od = len(si), len(od_lines)
    ip["natl"] = np.ones(ip["amt"].shape, dtype=bool)
    ip["natl"][si[gap[:n_ip]], ki[gap[:n_ip]]] = False
    ip["code"][si, ki] = np.where(gap[:n_ip], local[:n_ip], ip["code"][si, ki])
    for name, lines, part, loc in (
        ("drug", od_lines, gap[n_ip : n_ip + n_od], local[n_ip : n_ip + n_od]),
        ("non", on_lines, gap[n_ip + n_od :], local[n_ip + n_od :]),
    ):
        natl = np.ones(op["O"], dtype=bool)
        natl[lines[part]] = False
        op[f"{name}_natl"] = natl
        op[f"{name}_code"][lines] = np.where(part, loc, op[f"{name}_code"][lines])
