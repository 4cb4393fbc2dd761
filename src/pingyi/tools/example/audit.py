"""Smart-audit flags (audit_flags): split-admission flags on real unplanned readmissions, other
rules on random settlements (inpatient ones more often), the confirmed fraud case, and the
table of all blocks' flags in time order. The credit-clean providers' flags of the evaluation year
are none of them confirmed."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from pingyi.tools.example.context import Ctx
from pingyi.tools.example.sampling import epoch
from pingyi.tools.example.writers import fmt_time

# Smart-audit rules: (rule_code, rule_type, inpatient only, weight).
AUDIT_RULES = [
    ("ZN0101", "分解住院", True, 1.0),
    ("ZN0201", "超标准收费", False, 2.0),
    ("ZN0301", "重复收费", False, 2.0),
    ("ZN0401", "串换项目", False, 1.2),
    ("ZN0501", "过度诊疗", True, 1.5),
    ("ZN0601", "超限定支付范围", False, 1.5),
    ("ZN0701", "挂床住院", True, 0.3),
]
FRAUD_RULE = ("ZN0801", "虚构医疗服务")


def audit_rows(ctx: Ctx, b: dict, rng: np.random.Generator) -> list[dict]:
    """Smart-audit flags of one block (small: built as Python rows).

    分解住院 (split admission) flags point at real unplanned readmissions; the other rules at random
    settlements, inpatient ones more often (that is where the money is)."""
    pv, par = ctx.pv, ctx.params
    rows: list[dict] = []
    kind, prov, yi = b["kind"], b["prov"], b["yi"]
    y_end = np.array([epoch(ctx.year), epoch(ctx.year + 1)]) - 1
    ip = b["ip"]
    readmit = ip["readmit_src"] >= 0
    unplanned = np.zeros(ip["S"], bool)
    unplanned[readmit] = ~ip["planned"][ip["readmit_src"][readmit]]
    split = unplanned & (rng.random(ip["S"]) < par.split_flag[ip["p"]])
    is_split = np.zeros(b["N"], bool)
    is_split[ip["row"][split]] = True
    rules = [r for r in AUDIT_RULES if r[1] != "分解住院"]
    split_rule = next(r for r in AUDIT_RULES if r[1] == "分解住院")
    weights = np.array([r[3] for r in rules])
    weights = weights / weights.sum()
    key = prov.astype(np.int64) * 2 + yi  # settlements are sorted by provider, then year
    for p in np.unique(prov):
        for y in range(2):
            lo, hi = np.searchsorted(key, [p * 2 + y, p * 2 + y + 1])
            cand = lo + np.nonzero(kind[lo:hi] != 2)[0]
            if len(cand) == 0:
                continue
            ip_cand = cand[kind[cand] == 0]
            for row in lo + np.nonzero(is_split[lo:hi])[0]:
                rows.append(_flag(ctx, b, rng, int(row), split_rule[0], split_rule[1], p, y, y_end, fraud=False))
            for _ in range(int(rng.poisson(len(cand) * par.audit[p]))):
                code, rtype, ip_only, _w = rules[int(rng.choice(len(rules), p=weights))]
                if ip_only and len(ip_cand) == 0:
                    code, rtype, ip_only, _w = rules[0]
                use_ip = len(ip_cand) > 0 and (ip_only or rng.random() < 0.6)
                pool = ip_cand if use_ip else cand
                rows.append(
                    _flag(ctx, b, rng, int(pool[rng.integers(len(pool))]), code, rtype, p, y, y_end, fraud=False)
                )
            if p == pv.special_b and y == 1 and len(ip_cand):
                row = int(ip_cand[rng.integers(len(ip_cand))])
                rows.append(_flag(ctx, b, rng, row, FRAUD_RULE[0], FRAUD_RULE[1], p, y, y_end, fraud=True))
    return rows


def _flag(ctx, b, rng, row, code, rtype, p, y, y_end, fraud: bool) -> dict:
    total = int(b["money"]["medfee_sumamt"][row])
    if fraud:
        amount = total * 6 + int(rng.integers(0, 100000))  # several fictitious stays
    elif rtype == "分解住院":  # the avoidable part of the second stay
        amount = max(100, int(total * rng.uniform(0.2, 0.5)))
    else:
        amount = max(100, int(total * rng.uniform(0.03, 0.25)))
    ftime = min(int(b["setl_time"][row] + rng.integers(1, 40) * 86400 + rng.integers(0, 86400)), int(y_end[y]))
    q = float(ctx.pv.q[p])
    unhandled = (not fraud) and rng.random() < float(np.clip(0.015 * np.exp(-1.2 * q), 0.002, 0.45))
    slow = rng.random() < float(np.clip(0.025 * np.exp(-1.0 * q), 0.005, 0.7))
    handled = None if unhandled else ftime + int((rng.integers(31, 90) if slow else rng.integers(1, 25)) * 86400)
    confirmed = fraud or rng.random() < float(np.clip(0.35 - 0.12 * q, 0.1, 0.8))
    if y == 1 and p in ctx.pv.clean:  # after the draw, so every other flag stays as it was
        confirmed = False  # no confirmed violation this year: these providers earn the credit bonus
    return {
        "prov": int(p),
        "y": y,
        "time": ftime,
        "setl_id": str(b["setl_id"][row]),
        "rule_code": code,
        "rule_type": rtype,
        "amount": amount,
        "handled": handled,
        "confirmed": "1" if confirmed else "0",
        "fraud": "1" if fraud else "0",
    }


def audit_table(ctx: Ctx, audit: list[dict], schema: pa.Schema) -> pa.Table:
    """The flags of all blocks in time order per year, with flag ids numbered per year."""
    pv, year = ctx.pv, ctx.year
    audit.sort(key=lambda r: (r["y"], r["time"], r["prov"], r["setl_id"]))
    counters = {0: 0, 1: 0}
    flag_rows = []
    for r in audit:
        counters[r["y"]] += 1
        yy = year - 1 + r["y"]
        flag_rows.append(
            {
                "flag_id": f"ZN{yy}{counters[r['y']]:07d}",
                "fixmedins_code": pv.code[r["prov"]],
                "setl_id": r["setl_id"],
                "rule_code": r["rule_code"],
                "rule_type": r["rule_type"],
                "amount": f"{r['amount'] // 100}.{r['amount'] % 100:02d}",
                "flag_time": fmt_time(r["time"]),
                "handled_time": None if r["handled"] is None else fmt_time(r["handled"]),
                "confirmed": r["confirmed"],
                "fraud": r["fraud"],
            }
        )
    return pa.Table.from_pylist(flag_rows, schema=schema)
