"""Objective (data-driven) indicator weights and their combination with the AHP weights.

The source plan asks for weights from AHP "combined with historical data and expert scoring" and
criticises weights set by expert meetings without data support [001 §2.2, §5.1]. Two standard objective
methods read the spread of the providers' indicator values:

* Entropy weights (熵权法; Shannon's entropy as used by Zeleny 1982 and Hwang & Yoon 1981): with shares
  p_ij = x_ij / sum_i x_ij, e_j = -(1/ln n_j) sum_i p_ij ln p_ij (0 ln 0 = 0), d_j = 1 - e_j and
  w_j = d_j / sum_k d_k. An indicator on which the providers differ more carries more weight.
* CRITIC (Diakoulaki, Mavrotas & Papayannakis 1995, "Determining objective weights in multiple criteria
  problems: the CRITIC method", Computers & Operations Research 22(7):763-770): C_j = sigma_j
  sum_k (1 - r_jk) with sigma_j the standard deviation of the normalised values and r_jk Pearson's
  correlation, w_j = C_j / sum_k C_k. Spread counts, and so does conflict with the other indicators:
  two indicators that say the same thing share their weight.

Why these choices:

* Values are first normalised by min-max in the good direction (up: (x - min)/(max - min); down:
  (max - x)/(max - min); target band [low, high]: the distance d outside the band, 0 inside, then
  (max d - d)/(max d - min d)), so that 1 is the best provider and 0 the worst on every indicator.
* Missing and grey values (not scored: insufficient volume, missing data, monitor-only) are left out of
  that indicator's column, never imputed as 0 (a 0 would be read as the worst provider and inflate the
  spread): each indicator uses its own n_j providers. CRITIC's r_jk uses the providers that have both
  values; with fewer than 3 of them, or a constant column among them, r_jk is taken as 0 (no evidence
  that the two indicators overlap).
* An indicator whose used values are all equal (zero variance), or that has fewer than 2 values, tells
  the providers apart on nothing: its objective weight is 0 and a note says why; it takes no part in the
  other indicators' CRITIC sums.
* sigma_j is the population standard deviation (divide by n_j); with complete data the choice cancels in
  the normalisation.

Combination with the AHP weights a (the weights each indicator carries in the total) and the objective
weights o, over the same indicators:

* linear: w = alpha a + (1 - alpha) o;
* multiplicative: w_j = a_j o_j / sum_k a_k o_k (an indicator either method gives 0 gets 0);
* game-theory combination (博弈论组合赋权): the coefficients c of w = c_1 a + c_2 o minimise the
  distance of w to both a and o, which gives the 2 x 2 system
  [a.a a.o; o.a o.o] c = [a.a; o.o]; c* = |c| / sum |c| and w = c*_1 a + c*_2 o. When a and o are
  proportional the system is singular and both coefficients are 1/2.

Pure numpy, deterministic: providers are sorted by code before anything is computed, so the order of
the providers in results.json changes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "METHODS",
    "COMBINATIONS",
    "Column",
    "Combined",
    "ObjectiveWeights",
    "combine",
    "critic_from_normalised",
    "entropy_from_shares",
    "normalise",
    "objective_weights",
]

METHODS = ("entropy", "critic")
COMBINATIONS = ("linear", "multiplicative", "game")

_MIN_PAIRS = 3  # fewer shared providers than this: no correlation is estimated (r = 0)


@dataclass(frozen=True)
class Column:
    """One indicator's values across the providers (None: not used), and its good direction."""

    code: str
    direction: str  # "up", "down" or "target"
    values: tuple[float | None, ...]
    band: tuple[float, float] | None = None  # [low, high] of a target indicator


@dataclass(frozen=True)
class ObjectiveWeights:
    method: str
    weights: dict[str, float]
    n: dict[str, int]  # providers whose value the indicator used
    notes: dict[str, str] = field(default_factory=dict)  # why an indicator got 0
    detail: dict[str, dict[str, float]] = field(default_factory=dict)  # entropy / sigma / conflict


@dataclass(frozen=True)
class Combined:
    method: str
    weights: dict[str, float]
    coefficients: tuple[float, float]  # (on AHP, on objective)
    alpha: float | None = None


# ---------------------------------------------------------------------------------------------
# The published steps, on a complete matrix (rows: alternatives, columns: criteria)
# ---------------------------------------------------------------------------------------------


def entropy_from_shares(matrix: Any) -> np.ndarray:
    """Entropy weights of a complete non-negative matrix: p_ij = x_ij / sum_i x_ij, e_j = -(1/ln m)
    sum_i p_ij ln p_ij, w_j = (1 - e_j) / sum (1 - e_k). This is the step the published examples print;
    `objective_weights` feeds it min-max normalised columns. A column summing to 0 gets d_j = 0."""
    x = np.asarray(matrix, dtype=float)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"expected a matrix with at least 2 rows, found shape {x.shape}")
    if np.any(x < 0) or not np.all(np.isfinite(x)):
        raise ValueError("entropy weights need finite non-negative values; normalise the columns first")
    d = np.array([_divergence(x[:, j]) for j in range(x.shape[1])])
    return _share(d)


def critic_from_normalised(matrix: Any) -> np.ndarray:
    """CRITIC weights of a complete normalised matrix: C_j = sigma_j sum_k (1 - r_jk), w = C / sum C.
    Constant columns get 0 and stay out of the other columns' sums."""
    r = np.asarray(matrix, dtype=float)
    if r.ndim != 2 or r.shape[0] < 2:
        raise ValueError(f"expected a matrix with at least 2 rows, found shape {r.shape}")
    return _critic([r[:, j] for j in range(r.shape[1])])[0]


def _divergence(col: np.ndarray) -> float:
    """1 - e_j of one column of non-negative values (NaN already removed)."""
    m = col.size
    total = float(col.sum())
    if m < 2 or total <= 0:
        return 0.0
    p = col / total
    nz = p[p > 0]
    e = -float(np.sum(nz * np.log(nz))) / math.log(m)
    return max(0.0, 1.0 - e)


def _share(d: np.ndarray) -> np.ndarray:
    total = float(d.sum())
    if total <= 0:
        return np.zeros_like(d)
    return d / total


def _critic(cols: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(weights, sigma, conflict) of columns with NaN for missing values."""
    k = len(cols)
    sigma = np.zeros(k)
    alive = np.zeros(k, dtype=bool)
    for j, c in enumerate(cols):
        v = c[~np.isnan(c)]
        if v.size >= 2:
            sigma[j] = float(v.std())
            alive[j] = sigma[j] > 0
    conflict = np.zeros(k)
    for j in range(k):
        if not alive[j]:
            continue
        for m in range(k):
            if m == j or not alive[m]:
                continue
            conflict[j] += 1.0 - _pearson(cols[j], cols[m])
    c = sigma * conflict
    c[~alive] = 0.0
    return _share(c), sigma, conflict


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    both = ~np.isnan(a) & ~np.isnan(b)
    if int(both.sum()) < _MIN_PAIRS:
        return 0.0
    x, y = a[both] - a[both].mean(), b[both] - b[both].mean()
    den = math.sqrt(float(np.sum(x * x)) * float(np.sum(y * y)))
    if den == 0:
        return 0.0
    return float(np.clip(np.sum(x * y) / den, -1.0, 1.0))


# ---------------------------------------------------------------------------------------------
# Indicator columns from the providers' values
# ---------------------------------------------------------------------------------------------


def normalise(col: Column) -> np.ndarray:
    """Min-max in the good direction, NaN where the value is not used; all NaN-or-equal stays as given
    (the caller notes a constant column). Raises ValueError for an unknown direction."""
    x = np.array([np.nan if v is None else float(v) for v in col.values], dtype=float)
    if col.direction == "target":
        if col.band is None:
            raise ValueError(f"{col.code}: a target indicator needs its band [low, high]")
        low, high = col.band
        # NaN compares false with both bounds, so it is put back explicitly: a missing value stays missing
        x = np.where(np.isnan(x), np.nan, np.where(x < low, low - x, np.where(x > high, x - high, 0.0)))
        good_high = False
    elif col.direction in ("up", "down"):
        good_high = col.direction == "up"
    else:
        raise ValueError(f"{col.code}: direction {col.direction!r}; expected up, down or target")
    used = x[~np.isnan(x)]
    if used.size == 0:
        return x
    lo, hi = float(used.min()), float(used.max())
    if hi == lo:
        return np.where(np.isnan(x), np.nan, 0.0)
    return (x - lo) / (hi - lo) if good_high else (hi - x) / (hi - lo)


def objective_weights(columns: Sequence[Column], method: str) -> ObjectiveWeights:
    """Entropy or CRITIC weights of the indicators in `columns` (each with one value per provider, in
    the same provider order). Weights sum to 1 unless no indicator tells the providers apart (all 0)."""
    if method not in METHODS:
        raise ValueError(f"objective weight method {method!r}; expected one of {', '.join(METHODS)}")
    codes = [c.code for c in columns]
    normed = [normalise(c) for c in columns]
    n = {c.code: int(np.sum(~np.isnan(v))) for c, v in zip(columns, normed)}
    notes: dict[str, str] = {}
    for c, v in zip(columns, normed):
        used = v[~np.isnan(v)]
        if used.size < 2:
            notes[c.code] = f"{used.size} provider value(s) used: fewer than 2, weight 0"
        elif float(used.max()) == float(used.min()):
            notes[c.code] = f"constant over its {used.size} providers (zero variance): weight 0"
    detail: dict[str, dict[str, float]] = {}
    if method == "entropy":
        d = np.array([_divergence(v[~np.isnan(v)]) if c not in notes else 0.0 for c, v in zip(codes, normed)])
        w = _share(d)
        for code, dj in zip(codes, d):
            detail[code] = {"entropy": 1.0 - float(dj), "divergence": float(dj)}
    else:
        w, sigma, conflict = _critic(normed)
        for code, s, cf in zip(codes, sigma, conflict):
            detail[code] = {"sigma": float(s), "conflict": float(cf)}
    return ObjectiveWeights(
        method=method,
        weights={code: float(x) for code, x in zip(codes, w)},
        n=n,
        notes=notes,
        detail=detail,
    )


# ---------------------------------------------------------------------------------------------
# Combination with the AHP weights
# ---------------------------------------------------------------------------------------------


def combine(
    ahp: Mapping[str, float], objective: Mapping[str, float], method: str, alpha: float | None = None
) -> Combined:
    """Combined weights over the indicators of `ahp` (an indicator missing from `objective` counts 0
    there). Both inputs are renormalised to sum 1 first. See the module docstring for the formulas."""
    codes = list(ahp)
    a = _unit(np.array([float(ahp[c]) for c in codes]), "AHP")
    o = _unit(np.array([float(objective.get(c, 0.0)) for c in codes]), "objective")
    if method == "linear":
        if alpha is None or not 0.0 <= alpha <= 1.0:
            raise ValueError(f"linear combination needs alpha in [0, 1], found {alpha!r}")
        coef = (float(alpha), 1.0 - float(alpha))
        w = coef[0] * a + coef[1] * o
    elif method == "multiplicative":
        prod = a * o
        if float(prod.sum()) <= 0:
            raise ValueError("multiplicative combination: no indicator has both an AHP and an objective weight")
        w = prod / prod.sum()
        coef = (1.0, 1.0)
    elif method == "game":
        g = np.array([[a @ a, a @ o], [o @ a, o @ o]])
        rhs = np.array([a @ a, o @ o])
        if abs(float(np.linalg.det(g))) <= 1e-12 * float(g[0, 0] * g[1, 1]):
            c = np.array([0.5, 0.5])  # a and o proportional: any split gives the same weights
        else:
            c = np.abs(np.linalg.solve(g, rhs))
            c = c / c.sum()
        coef = (float(c[0]), float(c[1]))
        w = coef[0] * a + coef[1] * o
    else:
        raise ValueError(f"combination method {method!r}; expected one of {', '.join(COMBINATIONS)}")
    w = w / w.sum()
    return Combined(method=method, weights={c: float(x) for c, x in zip(codes, w)}, coefficients=coef, alpha=alpha)


def _unit(v: np.ndarray, what: str) -> np.ndarray:
    if np.any(v < 0) or not np.all(np.isfinite(v)):
        raise ValueError(f"{what} weights must be finite and non-negative")
    total = float(v.sum())
    if total <= 0:
        raise ValueError(f"{what} weights are all 0; nothing to combine")
    return v / total
