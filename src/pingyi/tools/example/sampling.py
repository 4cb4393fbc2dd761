"""Random-draw helpers (largest-remainder allocation, stratified uniforms and normals, stochastic
rounding, weighted choice of exact counts per group) and calendar helpers."""

from __future__ import annotations

import calendar
import datetime as dt

import numpy as np


def allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Largest-remainder rounding of total x weights / sum(weights)."""
    if total <= 0:
        return np.zeros(len(weights), dtype=np.int64)
    raw = total * weights / weights.sum()
    base = np.floor(raw).astype(np.int64)
    rest = total - base.sum()
    if rest > 0:
        order = np.argsort(-(raw - base), kind="stable")
        base[order[:rest]] += 1
    return base


def strat_uniform(rng: np.random.Generator, sizes: np.ndarray) -> np.ndarray:
    """Uniforms on [0, 1), one from each of k equal strata per consecutive group of `sizes`."""
    sizes = np.asarray(sizes, dtype=np.int64)
    n = int(sizes.sum())
    if n == 0:
        return np.zeros(0)
    group = np.repeat(np.arange(len(sizes)), sizes)
    start = np.cumsum(sizes) - sizes
    order = np.argsort(group + rng.random(n), kind="stable")  # a random order inside each group
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - start[group[order]]
    return (rank + rng.random(n)) / sizes[group]


def strat_normal(rng: np.random.Generator, sizes: np.ndarray) -> np.ndarray:
    """Standard normals, stratified within each consecutive group of `sizes` elements.

    Each group gets one draw from each of its k equal-probability strata, in random order: the
    distribution is the same, but a provider's mean cost is not at the mercy of one extreme draw
    (the example is downscaled, so groups are small)."""
    from scipy.special import ndtri

    return ndtri(np.clip(strat_uniform(rng, sizes), 1e-9, 1 - 1e-9))


def sround(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    """Stochastic rounding: floor(x + U), unbiased for small expected counts."""
    return np.floor(x + rng.random(len(x))).astype(np.int64)


def pick_per_group(rng: np.random.Generator, group: np.ndarray, weight: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Choose exactly k[g] elements of each group g (0 <= g < len(k)), without replacement, more
    likely the heavier ones (Efraimidis-Spirakis keys); weight 0 is never chosen. Exact counts keep
    a small provider's rate close to its target."""
    n = len(group)
    if n == 0:
        return np.zeros(0, dtype=bool)
    e = -np.log1p(-rng.random(n))  # Exp(1): the smallest e / weight are chosen first
    pos = weight > 0
    # one float sort instead of a lexsort: group + a key in [0, 1) increasing in e / weight
    key = np.full(n, 1 - 2.0**-30)
    key[pos] = np.minimum(-np.expm1(-e[pos] / weight[pos]), 1 - 2.0**-29)
    counts = np.bincount(group, minlength=len(k))
    k = np.minimum(k, np.bincount(group[pos], minlength=len(k)))
    order = np.argsort(group + key)
    g_sorted = group[order]
    rank = np.arange(n) - (np.cumsum(counts) - counts)[g_sorted]
    chosen = np.zeros(n, dtype=bool)
    chosen[order] = rank < k[g_sorted]
    return chosen


def epoch(year: int, month: int = 1, day: int = 1) -> int:
    return calendar.timegm((year, month, day, 0, 0, 0))


def sample_days(rng, n: int, year: np.ndarray, weekend: float) -> np.ndarray:
    """Day-of-year (0-based) with fewer encounters on weekends."""
    out = np.empty(n, dtype=np.int64)
    for y in np.unique(year):
        m = year == y
        ndays = 366 if calendar.isleap(int(y)) else 365
        first_wd = dt.date(int(y), 1, 1).weekday()
        wd = (np.arange(ndays) + first_wd) % 7
        w = np.where(wd >= 5, weekend, 1.0)
        cdf = np.cumsum(w) / w.sum()
        out[m] = np.searchsorted(cdf, rng.random(int(m.sum())), side="right")
    return np.minimum(out, 365)
