"""A generated block as Arrow tables: settlements, settlement lists (4101) and fee lines, all
columns as strings in the contract's order."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from pingyi.tools.example.arrow_columns import code_array, masked, money_array, str_array, time_array
from pingyi.tools.example.context import Ctx
from pingyi.tools.example.contract import MONEY_COLS
from pingyi.tools.example.drg import DRG_DIAG, DRG_TABLE
from pingyi.tools.example.fee_codes import CODE_LUT, IP_FEE_COLUMNS

# A refund (冲销) settlement could carry negative fee lines mirroring the visit it reverses, as the
# platform's 5204 detail does. docs/data-bundle.md gives fee_items.amt no sign rule and the quality
# stage rejects amt < 0, so the example leaves refunds without fee lines (the reversed visit keeps
# its lines). Switch on once the contract allows negative lines on refund settlements.
MIRROR_REFUND_FEE_LINES = False


def settlement_table(ctx: Ctx, b: dict) -> pa.Table:
    pv = ctx.pv
    codes = pa.array(pv.code, pa.string())
    m = b["money"]
    return pa.table(
        {
            "setl_id": b["ids"]["setl_id"],
            "mdtrt_id": b["ids"]["mdtrt_id"],
            "psn_no": b["ids"]["psn_no"],
            "insutype": str_array(b["insutype"]),
            "med_type": str_array(b["med_type"]),
            "setl_time": time_array(b["setl_time"]),
            **{c: money_array(m[c]) for c in MONEY_COLS},
            "fixmedins_code": codes.take(pa.array(b["prov"])),
            "insuplc_admdvs": str_array(b["admdvs"]),
            "refd_setl_flag": code_array(["0", "1"], b["kind"] == 2),
            "age": str_array(b["age"]),
            "gend": str_array(b["gend"]),
            "mdtrt_cert_type": code_array(["01", "02", "03"], b["cert"]),
            "direct_setl_flag": code_array(["0", "1"], b["direct"]),
        }
    )


def list_table(ctx: Ctx, b: dict) -> pa.Table:
    ip = b["ip"]
    rows = ip["row"]
    order = np.argsort(rows, kind="stable")  # settlement order
    r = rows[order]
    drg_codes = [g[0] for g in DRG_TABLE]
    drg = code_array(drg_codes, ip["g"][order])
    drg = masked(drg, ~ip["grouped"][order])
    diag_lut = [DRG_DIAG[c][k] for c in drg_codes for k in range(2)]
    grade = ip["op_grade"][order]
    cmpl = np.where(grade > 0, np.where(ip["cmpl"][order], 1, 0), 2)
    return pa.table(
        {
            "mdtrt_id": b["ids"]["mdtrt_id"].take(r),
            "setl_id": b["ids"]["setl_id"].take(r),
            "fixmedins_code": code_array(ctx.pv.code, b["prov"][r]),
            "psn_no": b["ids"]["psn_no"].take(r),
            "drg_code": drg,
            "diag_code": code_array(diag_lut, ip["g"][order] * 2 + ip["diag"][order]),
            "diag_code_cnt": str_array(ip["diag_cnt"][order]),
            "adm_time": time_array(ip["adm"][order]),
            "dscg_time": time_array(ip["dscg"][order]),
            "act_ipt_days": str_array(ip["los"][order]),
            "dscg_way": str_array(ip["dscg_way"][order]),
            "days_rinp_flag_31": code_array(["1", "2"], ip["planned"][order]),
            "max_oprn_lv": masked(str_array(grade), grade == 0),
            "oprn_cmpl_flag": code_array(["0", "1", None], cmpl),
            "setl_time": time_array(b["setl_time"][r]),
            "dcla_time": time_array(ip["dcla"][order]),
            "qc_rslt": code_array(["0", "1"], ip["qc"][order]),
            "age": str_array(b["age"][r]),
            "gend": str_array(b["gend"][r]),
        }
    )


def fee_table(ctx: Ctx, b: dict) -> pa.Table:
    """Fee lines aggregated by category per encounter, in settlement order (each line placed
    directly at its final position: no sort)."""
    ip, op = b["ip"], b["op"]
    N = b["N"]
    # inpatient: one line per non-zero category, categories in IP_FEE_COLUMNS order
    nz = ip["amt"] > 0
    si, ki = np.nonzero(nz)
    per_stay = nz.sum(axis=1)
    stay_start = np.cumsum(per_stay) - per_stay
    ip_within = np.arange(len(si)) - stay_start[si]
    ip_rows = ip["row"][si]
    # outpatient: the drug line, then the non-drug line; a refund mirrors the lines of the visit it
    # reverses only when MIRROR_REFUND_FEE_LINES (negative fee lines: see the constant)
    d_nz = op["drug"] > 0
    n_nz = op["non"] > 0
    rf = b["rf_rows"] if MIRROR_REFUND_FEE_LINES else b["rf_rows"][:0]
    visit_of = np.concatenate([np.arange(op["O"]), b["ref"][rf]])  # op visits, then refunds
    row_of = np.concatenate([op["row"], rf])
    sign = np.concatenate([np.ones(op["O"], np.int64), -np.ones(len(rf), np.int64)])
    dm = d_nz[visit_of]
    nm = n_nz[visit_of]
    di = np.nonzero(dm)[0]
    ni = np.nonzero(nm)[0]

    count = np.bincount(ip_rows, minlength=N) + np.bincount(row_of, weights=dm.astype(np.int64) + nm, minlength=N)
    count = count.astype(np.int64)
    offset = np.cumsum(count) - count
    total = int(count.sum())
    dest_ip = offset[ip_rows] + ip_within
    dest_d = offset[row_of[di]]
    dest_n = offset[row_of[ni]] + dm[ni]

    def scatter(ip_vals, d_vals, n_vals, dtype=np.int64):
        out = np.empty(total, dtype=dtype)
        out[dest_ip] = ip_vals
        out[dest_d] = d_vals
        out[dest_n] = n_vals
        return out

    vd, vn = visit_of[di], visit_of[ni]
    flag_lut = {None: 2, "0": 0, "1": 1}
    cat_lut = np.array([int(c[0]) for c in IP_FEE_COLUMNS])
    vbp_lut = np.array([flag_lut[c[1]] for c in IP_FEE_COLUMNS])
    nego_lut = np.array([flag_lut[c[2]] for c in IP_FEE_COLUMNS])
    gen_lut = np.array([flag_lut[c[3]] for c in IP_FEE_COLUMNS])
    west = op["drug_cat"][vd] == 9
    cat = scatter(cat_lut[ki], op["drug_cat"][vd], op["non_cat"][vn])
    amt = scatter(ip["amt"][si, ki], op["drug"][vd] * sign[di], op["non"][vn] * sign[ni])
    own = scatter(ip["own"][si, ki], op["own_drug"][vd] * sign[di], op["own_non"][vn] * sign[ni])
    vbp = scatter(vbp_lut[ki], np.where(west, op["vbp"][vd], 0), np.full(len(ni), 2))
    nego = scatter(nego_lut[ki], np.where(west, op["nego"][vd], 0), np.full(len(ni), 2))
    gen = scatter(gen_lut[ki], np.where(west, op["vbp"][vd] | op["gen"][vd], 0), np.full(len(ni), 2))
    cnt = scatter(ip["cnt"][si, ki], op["drug_cnt"][vd] * sign[di], op["non_cnt"][vn] * sign[ni])
    code = scatter(ip["code"][si, ki], op["drug_code"][vd], op["non_code"][vn])
    natl = scatter(ip["natl"][si, ki], op["drug_natl"][vd], op["non_natl"][vn], dtype=bool)
    setl_time = b["setl_time"]
    ftime = scatter(
        ip["dscg"][si] - 1800,  # category totals are posted at discharge
        setl_time[row_of[di]] - np.where(sign[di] > 0, 300, 0),
        setl_time[row_of[ni]] - np.where(sign[ni] > 0, 300, 0),
    )
    row = np.repeat(np.arange(N), count)
    return pa.table(
        {
            "mdtrt_id": b["ids"]["mdtrt_id"].take(row),
            "setl_id": b["ids"]["setl_id"].take(row),
            "fixmedins_code": code_array(ctx.pv.code, b["prov"][row]),
            "fee_ocur_time": time_array(ftime),
            "med_chrgitm": code_array([f"{i:02d}" for i in range(15)], cat),
            "amt": money_array(amt),
            "fulamt_ownpay_amt": money_array(own),
            "vbp_flag": code_array(["0", "1", None], vbp),
            "nego_flag": code_array(["0", "1", None], nego),
            "med_list_codg": code_array(CODE_LUT, code),
            "cnt": str_array(cnt),
            "vbp_generic_flag": code_array(["0", "1", None], gen),
            "natl_code_flag": code_array(["0", "1"], natl),
        }
    )
