"""Per-provider targets of the optional columns (direct settlement, 集采 quantities, national
codes), drawn around the catalogue's baselines."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pingyi.tools.example.catalogue import Catalogue, baseline
from pingyi.tools.example.contract import LEVELS
from pingyi.tools.example.geography import PROVINCE_ORDER
from pingyi.tools.example.params import Params
from pingyi.tools.example.providers import Providers


@dataclass
class Rates:
    """Per-provider targets of the optional columns (arrays (providers, 2) are per year: prior, current).

    Drawn from their own stream, so adding them left every other column of the example unchanged."""

    direct_offsite: np.ndarray  # (p, 2) share of 异地 encounters settled directly (D5.01)
    direct_chronic: np.ndarray  # (p, 2) share of 门诊慢特病 visits settled directly (D5.05)
    vbp_qty: np.ndarray  # (p, 2) winners' share of the quantity of 集采 generic names (D3.03)
    price_ratio: np.ndarray  # (p,) unit price of a non-winning product / the winning one
    op_unit_price: np.ndarray  # (p,) outpatient unit price of a winning product, yuan
    op_win: np.ndarray  # (p,) share of outpatient western-drug lines whose main item is a winning product
    code_gap: np.ndarray  # (p, 2) share of fee lines without a valid national code (D8.03)
    div4: np.ndarray  # (p,) the provider's prefecture, first 4 digits of its division code


def make_rates(rng: np.random.Generator, pv: Providers, par: Params, cat: Catalogue) -> Rates:
    """Targets around the catalogue's baselines (benchmarks where given): east and tertiary better,
    poor providers worse. Fallbacks apply when the catalogue has no baseline for the indicator."""
    n = pv.n
    q = pv.q
    region = [cat.region_of[PROVINCE_ORDER[pv.prov[i]]] for i in range(n)]
    levels = [LEVELS[v] for v in pv.level]

    def base(code: str, default: float, kind: str = "values") -> np.ndarray:
        vals = [baseline(cat, code, region[i], levels[i], kind) for i in range(n)]
        return np.array([default if v is None else v for v in vals])

    def direct(code: str, default: float, reg: np.ndarray, lvl: np.ndarray) -> np.ndarray:
        b = np.clip(base(code, default), 0.3, 0.995)
        top = base(code, -1.0, "benchmark")
        top = np.where(top > b, top, b + 0.8 * (1 - b))
        cur = (
            b
            + (top - b) * (0.35 + 0.6 * q)
            + (1 - b) * (reg[pv.prov] + lvl[pv.level])
            + rng.normal(0, 0.15, n) * (1 - b)
        )
        cur = np.clip(cur, 0.5, 0.995)
        prior = np.clip(cur - (1 - b) * rng.uniform(0.1, 0.4, n), 0.45, 0.995)  # most improved a little
        return np.stack([prior, cur], axis=1)

    # 异地直接结算: east and tertiary hospitals opened more settlement types earlier
    direct_offsite = direct("D5.01", 0.90, np.array([0.25, 0.0, -0.3]), np.array([0.15, 0.0, -0.3]))
    direct_chronic = direct("D5.05", 0.95, np.array([0.3, 0.0, -0.3]), np.array([0.2, 0.0, -0.3]))

    b = base("D3.03", 0.80)
    top = base("D3.03", -1.0, "benchmark")
    top = np.where(top > b, top, b + 0.75 * (1 - b))
    cur = np.clip(b + (top - b) * (par.vbp - 0.72) / 0.15, 0.55, 0.99)  # average: 40 % of the way to the benchmark
    vbp_qty = np.stack([np.clip(cur - 0.04, 0.5, 0.99), cur], axis=1)
    price_ratio = 2.6 * np.exp(rng.normal(0, 0.15, n))
    op_unit_price = np.array([1.4, 1.2, 1.0])[pv.level] * np.exp(rng.normal(0, 0.15, n))
    op_win = np.clip(np.array([0.36, 0.40, 0.45])[pv.level] * np.exp(rng.normal(0, 0.1, n)), 0.2, 0.6)

    b = np.clip(base("D8.03", 0.99), 0.5, 0.9995)
    gap = (1 - b) * 0.8 * np.exp(-1.1 * q) * np.array([0.8, 1.0, 1.5])[pv.level] * np.exp(rng.normal(0, 0.25, n))
    gap = np.clip(gap, 0.0003, 0.2)
    code_gap = np.stack([np.clip(gap * 1.4, 0.0003, 0.25), gap], axis=1)
    div4 = np.array([int(c[1:5]) for c in pv.code], dtype=np.int64)
    return Rates(
        direct_offsite=direct_offsite,
        direct_chronic=direct_chronic,
        vbp_qty=vbp_qty,
        price_ratio=price_ratio,
        op_unit_price=op_unit_price,
        op_win=op_win,
        code_gap=code_gap,
        div4=div4,
    )
