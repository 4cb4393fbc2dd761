"""The Monte Carlo of the totals, ranks and grades, vectorised over providers x indicators.

A sample is one weighting of the indicators: a scheme (AHP, entropy, CRITIC, combined) and a
multiplier per indicator (`noise`: U(1 - noise, 1 + noise), then the weights renormalised). The
indicator scores do not depend on the weights, so they are read once (results.json) and every sample
only re-aggregates them by the score stage's rules: a dimension's score is Σ w_i s_i / Σ w_i over its
scored indicators; the total is Σ W_d S_d / Σ W_d over the dimensions with a score, W_d the sum of the
weights of the dimension's indicators. Providers whose grade does not come from the total (vetoed,
failing for missing data, not graded) keep it in every sample.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

CHUNK = 256  # samples aggregated at once: a (chunk x providers x indicators) array stays small


@dataclass(frozen=True)
class Inputs:
    codes: tuple[str, ...]  # indicators, in catalogue order
    dimension: tuple[int, ...]  # each indicator's dimension index
    scores: np.ndarray  # providers x indicators, NaN where not scored
    bands: tuple[tuple[str, float], ...]  # (grade, min_score), descending
    fixed: tuple[str | None, ...]  # per provider: the grade that the total does not decide, else None
    last: tuple[bool, ...] = ()  # per provider: ranked after every other (a veto), as the score stage ranks

    @property
    def dimensions(self) -> int:
        return max(self.dimension) + 1 if self.dimension else 0


def membership(inputs: Inputs) -> np.ndarray:
    m = np.zeros((len(inputs.codes), inputs.dimensions))
    m[np.arange(len(inputs.codes)), list(inputs.dimension)] = 1.0
    return m


# one indicator's varied cells: (indicator index, provider indices, samples x cells scores)
Varied = tuple[int, np.ndarray, np.ndarray]


def totals(inputs: Inputs, weights: np.ndarray, varied: Sequence[Varied] = ()) -> np.ndarray:
    """samples x providers totals for `weights` (samples x indicators); NaN: no dimension has a score.
    `varied`: cells whose score differs from sample to sample (a scored cell stays scored)."""
    m = membership(inputs)
    has = ~np.isnan(inputs.scores)  # providers x indicators
    filled = np.where(has, inputs.scores, 0.0)
    out = np.empty((weights.shape[0], inputs.scores.shape[0]))
    # with varied cells every sample has its own score matrix: keep a chunk of them near 32 MB
    chunk = CHUNK if not varied else max(1, min(CHUNK, 4_000_000 // max(1, inputs.scores.size)))
    for start in range(0, weights.shape[0], chunk):
        w = weights[start : start + chunk]  # k x I
        wm = w[:, :, None] * m[None, :, :]  # k x I x D: each sample's weights, split by dimension
        if varied:
            scores = np.repeat(filled[None], w.shape[0], axis=0)  # k x P x I: this chunk's own scores
            for j, rows, s in varied:
                scores[:, rows, j] = s[start : start + chunk]
            num = np.matmul(scores, wm)
        else:
            num = np.matmul(filled[None], wm)  # k x P x D: weighted scores per dimension (BLAS, batched)
        den = np.matmul(has.astype(float)[None], wm)  # the weights with data per dimension
        dim_weight = w @ m  # k x D: the dimension's whole weight
        scored = den > 0
        dim_score = np.divide(num, den, out=np.zeros_like(num), where=scored)
        carried = np.where(scored, dim_weight[:, None, :], 0.0)
        total_weight = carried.sum(axis=2)
        total = np.divide((carried * dim_score).sum(axis=2), total_weight, out=np.full(total_weight.shape, np.nan),
                          where=total_weight > 0)  # fmt: skip
        out[start : start + chunk] = total
    return out


def ranks(total: np.ndarray, last: np.ndarray | Sequence[bool] | None = None) -> np.ndarray:
    """Competition ranks (1, 2, 2, 4) by total, highest first, per sample; NaN totals rank NaN. The
    providers marked in `last` (a veto) rank after every other, among themselves by total."""
    out = np.full(total.shape, np.nan)
    # totals lie in [0, 100]: lowering the marked ones by more than that range keeps their order
    # among themselves and puts them below every unmarked total
    key = total if last is None or not np.any(last) else total - 1000.0 * np.asarray(last, dtype=float)
    for k in range(total.shape[0]):
        row = key[k]
        ok = ~np.isnan(row)
        vals = row[ok]
        ordered = np.sort(-vals)
        out[k, ok] = np.searchsorted(ordered, -vals, side="left") + 1
    return out


def grades(inputs: Inputs, total: np.ndarray) -> np.ndarray:
    """samples x providers grade indices into `inputs.bands` (-1: a fixed or no grade)."""
    mins = np.array([b[1] for b in inputs.bands])
    idx = np.full(total.shape, -1, dtype=int)
    ok = ~np.isnan(total)
    # the first band whose min_score the total reaches (bands descend; the last starts at 0)
    idx[ok] = np.argmax(total[ok][:, None] >= mins[None, :], axis=1)
    fixed = np.array([f is not None for f in inputs.fixed])
    idx[:, fixed] = -1
    return idx


@dataclass(frozen=True)
class Draws:
    scheme: np.ndarray  # samples: index into the schemes
    weights: np.ndarray  # samples x indicators, each row summing to 1


def draw(
    schemes: Sequence[np.ndarray], samples: int, noise: float, seed: int, choose: Sequence[float] | None = None
) -> Draws:
    """`samples` weightings: a scheme drawn uniformly (or with the probabilities `choose`) and a
    multiplier per indicator U(1 - noise, 1 + noise); deterministic for a seed."""
    rng = np.random.default_rng(seed)
    n = len(schemes[0])
    p = None if choose is None else np.asarray(choose, dtype=float) / sum(choose)
    scheme = rng.choice(len(schemes), size=samples, p=p)
    mult = rng.uniform(1 - noise, 1 + noise, size=(samples, n))
    base = np.stack(schemes)[scheme]  # samples x I
    w = base * mult
    sums = w.sum(axis=1, keepdims=True)
    return Draws(scheme=scheme, weights=np.divide(w, sums, out=np.zeros_like(w), where=sums > 0))


@dataclass(frozen=True)
class Summary:
    """Per provider: the total's and the rank's 5th, 50th and 95th percentiles and P(grade)."""

    total: np.ndarray  # providers x 3 (p5, p50, p95), NaN when never totalled
    rank: np.ndarray  # providers x 3
    grade_probability: np.ndarray  # providers x bands


def summarise(inputs: Inputs, total: np.ndarray) -> Summary:
    rank = ranks(total, inputs.last or None)
    g = grades(inputs, total)
    qs = (5, 50, 95)
    with np.errstate(all="ignore"):
        t = np.array([_percentiles(total[:, j], qs) for j in range(total.shape[1])])
        r = np.array([_percentiles(rank[:, j], qs) for j in range(total.shape[1])])
    prob = np.zeros((total.shape[1], len(inputs.bands)))
    for b in range(len(inputs.bands)):
        prob[:, b] = (g == b).mean(axis=0)
    for j, f in enumerate(inputs.fixed):
        if f is not None:
            prob[j, :] = [1.0 if name == f else 0.0 for name, _ in inputs.bands]
    return Summary(t, r, prob)


def _percentiles(x: np.ndarray, qs: Sequence[int]) -> list[float]:
    x = x[~np.isnan(x)]
    if x.size == 0:
        return [float("nan")] * len(qs)
    # "inverted_cdf": every percentile is one of the sampled values, no interpolation to argue about
    return [float(v) for v in np.percentile(x, qs, method="inverted_cdf")]


def factor_weights(schemes: Sequence[np.ndarray], inputs: Inputs, x: np.ndarray, noise: float) -> np.ndarray:
    """Weights for Sobol factor rows `x` (rows of [scheme selector in [0, 1), one multiplier per
    dimension in [1 - noise, 1 + noise]])."""
    k = len(schemes)
    scheme = np.minimum((x[:, 0] * k).astype(int), k - 1)
    base = np.stack(schemes)[scheme]
    mult = x[:, 1:][:, list(inputs.dimension)]
    w = base * mult
    sums = w.sum(axis=1, keepdims=True)
    return np.divide(w, sums, out=np.zeros_like(w), where=sums > 0)


def problem_of(labels: Sequence[str], bounds: Sequence[tuple[float, float]]) -> dict[str, Any]:
    return {"num_vars": len(labels), "names": list(labels), "bounds": [list(b) for b in bounds]}


def sobol_design(problem: Mapping[str, Any], base_samples: int, seed: int) -> np.ndarray:
    """Saltelli's design (SALib's Sobol sequence, scrambled by `seed`): N x (k + 2) rows of factors."""
    from SALib.sample import sobol as sample

    return np.asarray(sample.sample(dict(problem), base_samples, calc_second_order=False, seed=seed))


RESAMPLES = 20  # bootstrap resamples behind each index's 95 % half-width


def sobol_analyse(problem: Mapping[str, Any], rank: np.ndarray, seed: int) -> tuple[dict[str, dict[str, Any]], int]:
    """First-order and total indices of every provider's rank over the design's rows (`rank`: rows x
    providers), averaged over the providers whose rank varies (their number is returned too), with the
    mean of the bootstrap 95 % half-widths. The estimators are SALib's own (Saltelli et al. 2010, CPC
    181:259-270: S_i = mean(f_B (f_ABi - f_A)) / V, S_Ti = mean((f_A - f_ABi)^2) / 2V, each provider's
    output standardised first), applied to all providers at once rather than through one
    SALib.analyze.sobol.analyze call per provider: the same numbers (tested), a hundred times fewer
    calls. The estimates are noisy, so first order <= total is checked within the half-widths
    (`consistent`)."""
    from SALib.analyze.sobol import first_order, total_order
    from scipy.stats import norm

    labels = list(problem["names"])
    d = len(labels)
    ok = ~np.isnan(rank).any(axis=0) & (np.var(rank, axis=0) > 0)
    used = int(ok.sum())
    acc = {key: np.zeros(d) for key in ("S1", "ST", "S1_conf", "ST_conf")}
    if used:
        y = rank[:, ok]
        y = (y - y.mean(axis=0)) / y.std(axis=0)  # as SALib normalises each output
        step = d + 2
        n = y.shape[0] // step
        a, b = y[0::step], y[step - 1 :: step]
        r = np.random.default_rng(seed).integers(n, size=(n, RESAMPLES))
        z = float(norm.ppf(0.975))
        with warnings.catch_warnings():  # a constant subset of one provider's runs is expected, not news
            warnings.simplefilter("ignore", UserWarning)
            for i in range(d):
                ab = y[i + 1 :: step]
                acc["S1"][i] = first_order(a, ab, b).mean()
                acc["ST"][i] = total_order(a, ab, b).mean()
                acc["S1_conf"][i] = (z * first_order(a[r], ab[r], b[r]).std(axis=0, ddof=1)).mean()
                acc["ST_conf"][i] = (z * total_order(a[r], ab[r], b[r]).std(axis=0, ddof=1)).mean()
    out: dict[str, dict[str, Any]] = {}
    for i, name in enumerate(labels):
        s1, st = float(acc["S1"][i]), float(acc["ST"][i])
        c1, ct = float(acc["S1_conf"][i]), float(acc["ST_conf"][i])
        out[name] = {"first_order": s1, "total": st, "first_order_conf": c1, "total_conf": ct,
                     "consistent": bool(s1 <= st + c1 + ct)}  # fmt: skip
    return out, used


def sobol_indices(
    inputs: Inputs, schemes: Mapping[str, np.ndarray], names: Sequence[str], noise: float, base_samples: int, seed: int
) -> tuple[dict[str, dict[str, float]], int]:
    """Sobol indices of the weighting choices alone — the scheme and the weight of each dimension — on
    every provider's rank (see sobol_analyse). A factor with ST near 0 does not move the ranks."""
    varied = list(names) if noise > 0 else []  # without noise the dimension weights are not uncertain
    problem = problem_of(["weighting scheme", *varied], [(0.0, 1.0)] + [(1 - noise, 1 + noise)] * len(varied))
    x = sobol_design(problem, base_samples, seed)
    if not varied:
        x = np.hstack([x, np.ones((x.shape[0], len(names)))])
    rank = ranks(totals(inputs, factor_weights(list(schemes.values()), inputs, x, noise)), inputs.last or None)
    return sobol_analyse(problem, rank, seed)
