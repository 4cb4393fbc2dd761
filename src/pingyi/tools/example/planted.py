"""Planted defects, one per row, of every kind the quality stage rejects: fresh defective
settlements (and duplicates) inserted into the first block, and settlement lists of the first
block changed in place. `_planted.json` lists them with the reason the quality stage should give."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from pingyi.tools.example.context import Ctx

# (reason, column, how): one planted settlement each, in this order
SETTLEMENT_DEFECTS: list[tuple[str, str, object]] = [
    ("missing_required", "psn_no", None),
    ("missing_required", "insutype", None),
    ("missing_required", "setl_time", None),
    # defects go into required columns: a bad value in an optional column is only flagged
    ("bad_type", "medfee_sumamt", "abc"),
    ("bad_type", "acct_pay", "abc"),
    ("bad_type", "psn_cash_pay", "abc"),
    ("bad_code", "insutype", "399"),
    ("bad_code", "insutype", "399"),
    ("bad_code", "refd_setl_flag", "2"),
    ("bad_format", "fixmedins_code", "H3301"),  # malformed, hence also not in providers: report bad_format
    ("bad_format", "insuplc_admdvs", "3301"),
    ("bad_format", "med_type", "XX"),  # med_type admits local codes, so it has a format rule, not a code table
    ("negative_money", "fulamt_ownpay_amt", "neg"),
    ("negative_money", "fulamt_ownpay_amt", "neg"),
    ("negative_money", "acct_pay", "neg_acct"),
    ("money_precision", "fulamt_ownpay_amt", "3dp"),
    ("money_precision", "hifp_pay", "3dp"),
    ("fund_exceeds_total", "fund_pay_sumamt", "exceed"),
    ("fund_exceeds_total", "fund_pay_sumamt", "exceed"),
    ("payments_do_not_add_up", "psn_cash_pay", "cash"),
    ("payments_do_not_add_up", "medfee_sumamt", "total"),
    ("unknown_provider", "fixmedins_code", "unknown"),
    ("unknown_provider", "fixmedins_code", "unknown"),
    ("duplicate_key", "setl_id", "dup"),
    ("duplicate_key", "setl_id", "dup"),
    ("outside_window", "setl_time", -2),
    ("outside_window", "setl_time", -2),
    ("outside_window", "setl_time", 1),
]


def plant_settlements(ctx: Ctx, b: dict, tab: pa.Table, rng: np.random.Generator) -> tuple[pa.Table, list[dict]]:
    """Insert fresh defective rows (and duplicates) at random positions of the first block."""
    N = tab.num_rows
    op_rows = np.nonzero(
        (b["kind"] == 1)
        & (b["money"]["medfee_sumamt"] >= 1000)
        & (b["money"]["acct_pay"] < b["money"]["psn_part_amt"])
        & (b["money"]["hifp_pay"] > 0)
        & (b["money"]["fulamt_ownpay_amt"] > 0)
    )[0]
    if len(op_rows) < 40 or N < 200:
        return tab, []
    seq = [0]
    known = set(ctx.pv.code)
    inserts: list[tuple[int, int, dict, dict[str, Any]]] = []  # (position, tie, row, planted entry)
    for tie, (reason, col, how) in enumerate(SETTLEMENT_DEFECTS):
        tmpl = int(op_rows[rng.integers(len(op_rows))])
        entry: dict[str, Any] = {"table": "settlements", "column": col, "reason": reason}
        if how == "dup":
            row = _template_row(tab, tmpl)
            pos = int(rng.integers(tmpl + 1, N + 1))
            entry["duplicate_of_key"] = row["setl_id"]
        else:
            row = _fresh(tab, tmpl, seq)
            pos = int(rng.integers(0, N + 1))
            _apply_defect(row, entry, reason, col, how, known, ctx.year, rng)
        entry["value"] = row[entry["column"]]
        entry["key"] = row["setl_id"]
        inserts.append((pos, tie, row, entry))
    return _insert(tab, inserts)


def _template_row(tab: pa.Table, template_row: int) -> dict:
    return {k: v[0] for k, v in tab.slice(template_row, 1).to_pydict().items()}


def _fresh(tab: pa.Table, template_row: int, seq: list[int]) -> dict:
    """A copy of the template row with new setl_id and mdtrt_id (numbered by seq)."""
    row = _template_row(tab, template_row)
    seq[0] += 1
    yy = row["setl_id"][:4]
    row["setl_id"] = f"{yy}19{seq[0]:013d}"
    row["mdtrt_id"] = f"{yy}29{seq[0]:013d}"
    return row


def _cents(row: dict, col: str) -> int:
    return int(round(float(row[col]) * 100))


def _fmt_cents(c: int) -> str:
    return f"{'-' if c < 0 else ''}{abs(c) // 100}.{abs(c) % 100:02d}"


def _apply_defect(
    row: dict,
    entry: dict[str, Any],
    reason: str,
    col: str,
    how: object,
    known: set[str],
    year: int,
    rng: np.random.Generator,
) -> None:
    """Give a fresh row its one defect; notes for the quality stage go into its planted entry."""
    if how is None:
        row[col] = None
    elif reason in ("bad_type", "bad_code", "bad_format"):
        row[col] = how
    elif how == "neg":
        row[col] = _fmt_cents(-_cents(row, col))
    elif how == "neg_acct":
        delta = 1000  # acct_pay -10.00; cash takes the difference, so the parts still add up
        cash = _cents(row, "psn_cash_pay") + _cents(row, "acct_pay") + delta
        row["acct_pay"] = _fmt_cents(-delta)
        row["psn_cash_pay"] = _fmt_cents(cash)
    elif how == "3dp":  # hifp_pay goes down by half a cent so that hifp_pay <= fund_pay_sumamt still holds
        mills = _cents(row, col) * 10 - (5 if col == "hifp_pay" else -5)
        row[col] = f"{mills // 1000}.{mills % 1000:03d}"
    elif how == "exceed":
        row[col] = _fmt_cents(_cents(row, "medfee_sumamt") + 1000 + _cents(row, "medfee_sumamt") // 5)
        entry["also_violates"] = ["payments_do_not_add_up"]
        entry["note"] = (
            "fund_pay_sumamt > medfee_sumamt cannot hold together with fund + personal = total "
            "and non-negative personal parts; the reason to report is fund_exceeds_total"
        )
    elif how == "cash":
        row[col] = _fmt_cents(_cents(row, col) + 500)
        # the quality stage reports a broken identity against the total it checks
        entry["column"] = "psn_part_amt"
    elif how == "total":
        row[col] = _fmt_cents(_cents(row, col) + 1000)
    elif how == "unknown":
        div = row["fixmedins_code"][1:7]
        code = f"H{div}99999"
        k = 99999
        while code in known:
            k -= 1
            code = f"H{div}{k:05d}"
        row[col] = code
    elif isinstance(how, int):  # -2: two years before the evaluation year; 1: the year after
        t = row["setl_time"]
        if how < 0:
            md = t[5:10] if t[5:10] != "02-29" else "02-28"
            row[col] = f"{year + how}-{md}{t[10:]}"
        else:
            row[col] = f"{year + how}-01-0{1 + int(rng.integers(0, 5))}{t[10:]}"


def _insert(tab: pa.Table, inserts: list[tuple[int, int, dict, dict[str, Any]]]) -> tuple[pa.Table, list[dict]]:
    """The table with the planted rows at their positions, and the planted entries with their final rows."""
    inserts.sort(key=lambda x: (x[0], x[1]))
    pieces, planted, last = [], [], 0
    for i, (pos, _tie, row, entry) in enumerate(inserts):
        pieces.append(tab.slice(last, pos - last))
        pieces.append(pa.Table.from_pylist([row], schema=tab.schema))
        entry["row"] = pos + i + 1  # 1-based data row after insertion
        planted.append(entry)
        last = pos
    pieces.append(tab.slice(last))
    return pa.concat_tables(pieces), planted


def plant_lists(ctx: Ctx, b: dict, rng: np.random.Generator) -> list[dict]:
    """Modify a few stays of the first block in place (rows counted in settlement order)."""
    ip = b["ip"]
    S = ip["S"]
    if S < 50:
        return []
    order = np.argsort(ip["row"], kind="stable")
    rank = np.empty(S, dtype=np.int64)
    rank[order] = np.arange(S)
    cand = np.nonzero(~ip["late"] & (ip["los"] >= 2))[0]
    if len(cand) < 10:
        return []
    chosen = cand[rng.permutation(len(cand))[:5]]
    out = []
    for k, s in enumerate(chosen):
        if k < 2:
            ip["adm"][s], ip["dscg"][s] = ip["dscg"][s], ip["adm"][s]
            out.append(
                {
                    "table": "setl_lists",
                    "row": int(rank[s]) + 1,
                    "column": "dscg_time",
                    "reason": "discharge_before_admission",
                    "stay": int(s),
                }
            )
        else:
            ip["dcla"][s] = ip["setl"][s] + int(rng.integers(ctx.deadline + 15, ctx.deadline + 90)) * 86400
            ip["late"][s] = True
            out.append(
                {
                    "table": "setl_lists",
                    "row": int(rank[s]) + 1,
                    "column": "dcla_time",
                    "reason": "late_upload",
                    "stay": int(s),
                }
            )
    return out
