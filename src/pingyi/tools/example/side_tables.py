"""The small side tables: the DRG reference (drg_groups), reported and survey values (reported)
and expert scores (expert_scores) for the catalogue's indicators."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from pingyi.tools.example.catalogue import baseline
from pingyi.tools.example.context import Ctx
from pingyi.tools.example.contract import LEVELS, TABLE_COLUMNS
from pingyi.tools.example.drg import DRG_TABLE
from pingyi.tools.example.geography import PROVINCE_ORDER


def drg_table(ctx: Ctx) -> pa.Table:
    return pa.table(
        {
            "drg_code": [g[0] for g in DRG_TABLE],
            "drg_name": [g[1] for g in DRG_TABLE],
            "weight": [f"{g[2]:.4f}" for g in DRG_TABLE],
            "mean_cost": [f"{c:.2f}" for c in ctx.drg_cost],
            "mean_los": [f"{v:.1f}" for v in ctx.drg_los],
        }
    )


def reported_and_expert(ctx: Ctx, rng: np.random.Generator) -> tuple[pa.Table, pa.Table]:
    pv, cat, year = ctx.pv, ctx.cat, ctx.year
    rep_rows: list[dict] = []
    exp_rows: list[dict] = []
    region = [cat.region_of[PROVINCE_ORDER[pv.prov[i]]] for i in range(pv.n)]
    for ind in cat.indicators:
        code, source, unit, direction = ind["code"], ind["source"], ind["unit"], ind["direction"]
        years = [year - 1, year] if (ind["rule"] == "vbp" and ind["improvement"]) else [year]
        if source in ("report", "survey"):
            for i in range(pv.n):
                lvl = LEVELS[pv.level[i]]
                b = baseline(cat, code, region[i], lvl)
                q = float(pv.q[i]) + rng.normal(0, 0.35)
                cur = _draw_value(unit, direction, b, q, ind, rng)
                for y in years:
                    value = cur if y == year else _prior_value(unit, direction, cur, rng)
                    num, den = _num_den(ctx, i, y, unit, source, value, ind, rng)
                    if num is not None and den:
                        value = num / den * (10000 if unit == "per_10k" else 1)
                    rep_rows.append(
                        {
                            "fixmedins_code": pv.code[i],
                            "year": str(y),
                            "indicator": code,
                            "value": _fmt_value(value, unit),
                            "numerator": _fmt_num(num),
                            "denominator": _fmt_num(den),
                            "source": source,
                        }
                    )
        elif source == "expert":
            for i in range(pv.n):
                panel = [f"{PROVINCE_ORDER[pv.prov[i]]}E{k:02d}" for k in range(1, 10)]
                experts = sorted(panel[j] for j in rng.permutation(9)[:3])
                for y in years:
                    shift = 0.0 if y == year else -2.0
                    for e in experts:
                        s = 84 + 7 * float(pv.q[i]) + shift + rng.normal(0, 3.5)
                        if i == pv.special_b:
                            s -= 6  # the agreement audit found the fraud case
                        exp_rows.append(
                            {
                                "fixmedins_code": pv.code[i],
                                "year": str(y),
                                "indicator": code,
                                "expert_id": e,
                                "score": f"{min(100.0, max(0.0, s)):.1f}",
                            }
                        )
    rep_rows.sort(key=lambda r: (r["fixmedins_code"], r["year"], r["indicator"]))
    exp_rows.sort(key=lambda r: (r["fixmedins_code"], r["year"], r["indicator"], r["expert_id"]))
    rep = pa.Table.from_pylist(rep_rows, schema=pa.schema([(c, pa.string()) for c in TABLE_COLUMNS["reported"]]))
    exp = pa.Table.from_pylist(exp_rows, schema=pa.schema([(c, pa.string()) for c in TABLE_COLUMNS["expert_scores"]]))
    return rep, exp


DEFAULT_BASE: dict[str, float | dict[str, float]] = {
    "percent": {"up": 0.85, "down": 0.10},
    "minutes": 20.0,
    "days": 10.0,
    "count": 10.0,
    "score": 80.0,
    "ratio": 1.0,
    "index": 1.0,
    "yuan": 1000.0,
    "per_10k": 5.0,
}


def _draw_value(unit: str, direction: str, b: float | None, q: float, ind: dict, rng) -> float:
    """A value around the baseline; good providers (q > 0) on the good side."""
    if b is None:
        d = DEFAULT_BASE.get(unit, 1.0)
        b = d.get(direction, 0.5) if isinstance(d, dict) else d
    if direction == "target" and ind.get("low") is not None and ind.get("high") is not None:
        lo, hi = float(ind["low"]), float(ind["high"])
        mid, half = (lo + hi) / 2, (hi - lo) / 2
        return mid + half * rng.normal(0, 0.5) - (abs(q) if q < 0 else 0) * half * 0.8
    if direction == "monitor":
        return b * (1 + rng.normal(0, 0.1))
    sign = 1 if direction == "up" else -1
    if unit == "percent" and direction == "up" and b >= 0.99:  # a 100 % target: only weaker providers fall short
        return float(np.clip(b - 0.09 * max(0.0, 0.3 - q), 0.0, 1.0))
    if unit == "percent":
        room = min(b, 1 - b) if direction == "up" else b
        spread = 0.55 * room + 0.01
        if direction == "up":
            spread = min(max(spread, 0.09 * b), 0.2 * b)
        v = b + sign * spread * q
        return float(np.clip(v, 0.0, 1.0))
    v = b * (1 + sign * 0.22 * q)
    if unit == "score":
        return float(np.clip(v, 0.0, 100.0))
    return max(v, 0.0)


def _prior_value(unit: str, direction: str, cur: float, rng) -> float:
    """Last year's value: most providers improved a little."""
    step = abs(rng.normal(0.02, 0.02))
    if unit == "percent":
        v = cur - step if direction == "up" else cur + step * 0.5
        return float(np.clip(v, 0.0, 1.0))
    return cur * (1 - step) if direction == "up" else cur * (1 + step)


def _num_den(ctx: Ctx, i: int, y: int, unit: str, source: str, value: float, ind: dict, rng):
    """Numerator/denominator for rates: survey sample sizes, report counts, per-10k by encounters."""
    level = int(ctx.pv.level[i])
    if unit == "per_10k":
        # denominator: the provider's encounters (outpatient visits + stays) in the bundle, as the
        # insurer fills it in; the bundle is a sample, so the complaint count itself is left empty
        den = int(ctx.encounters[i, 1 if y == ctx.year else 0])
        return None, (den if den > 0 else None)
    if unit != "percent":
        return None, None
    if source == "survey":
        den = int(rng.integers(*[(300, 600), (150, 300), (60, 150)][level]))
    else:
        vmin = ind.get("volume_min") or 0
        den = int(max(rng.integers(*[(40, 200), (15, 80), (5, 30)][level]), vmin))
    num = int(round(value * den))
    return num, den


def _fmt_value(value: float, unit: str) -> str:
    if unit in ("count",):
        return str(int(round(value)))
    if unit == "percent":
        return f"{value:.4f}"
    return f"{value:.2f}"


def _fmt_num(v) -> str | None:
    return None if v is None else str(int(v))
