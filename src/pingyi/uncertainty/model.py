"""Every declared uncertainty of a run as one model: the factors a sample draws, the Monte Carlo, and the
Sobol design over the same factors.

Factors (each independent, each drawn from its own random stream of the seed, so switching one source
off leaves the draws of the others as they were):

* **weighting scheme** — AHP, entropy, CRITIC or the combination, uniformly among those chosen;
* **weights** — each indicator's weight x U(1 - noise, 1 + noise), renormalised (in the Sobol design one
  multiplier per dimension, so the factors stay few and named);
* **expert judgements** — the AHP weights from a bootstrap of each matrix's experts (pingyi.weights.
  bootstrap); the combination is recomputed from the resampled AHP weights;
* **baselines** — derived baselines drawn from their order statistic's distribution (cells.py);
* **survey sampling error** — survey shares drawn from their Jeffreys posterior (cells.py).

The last three are random realisations rather than numbers on an axis; in the Sobol design each is one
factor in [0, 1) that picks one of POOL pre-drawn realisations: a "trigger" factor, the usual way to put
a stochastic input into a variance-based analysis (Crosetto & Tarantola 2001, Int. J. Geographical
Information Science 15(5):415-437; the OECD/JRC Handbook on composite indicators, 2008, step 7).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pingyi.uncertainty.cells import Cells, draw_baselines, draw_values, rescore
from pingyi.uncertainty.simulate import Inputs, Varied, problem_of, ranks, sobol_analyse, sobol_design, totals
from pingyi.weights.bootstrap import ExpertBootstrap

SOURCES = ("experts", "baselines", "survey")
POOL = 64  # realisations a Sobol trigger factor picks among
FUNNEL_FACTOR = "funnel overdispersion mode"
FUNNEL_NOTE = (
    "not sampled: the overdispersion mode (none, phi, tau^2) moves the funnel's limits and z-scores, "
    "but a funnel light is the band of the indicator's points and funnel_score beyond_95 forgives only the "
    "sampling error at the provider's volume, so no score, total, rank or grade depends on it (S1 = ST = 0)"
)


@dataclass(frozen=True)
class Model:
    inputs: Inputs
    schemes: tuple[str, ...]
    vectors: Mapping[str, np.ndarray]  # scheme -> the run's weights over inputs.codes
    combine: Callable[[np.ndarray], np.ndarray] | None  # AHP weights -> the combination's (None: not chosen)
    boot: ExpertBootstrap | None  # None: the experts are not resampled
    cells: Cells
    baselines: bool
    survey: bool
    noise: float
    names: tuple[str, ...]  # the dimensions, in inputs.dimension order

    @property
    def experts(self) -> bool:
        return self.boot is not None and self.boot.varies and any(s in ("ahp", "combined") for s in self.schemes)

    @property
    def draws_baselines(self) -> bool:
        return self.baselines and self.cells.has_baselines()

    @property
    def draws_survey(self) -> bool:
        return self.survey and self.cells.has_survey()

    def scheme_rows(self, scheme: np.ndarray, ahp_rows: np.ndarray | None) -> np.ndarray:
        """samples x indicators: each sample's scheme weights, the AHP and combined ones from its expert
        resample when there is one."""
        base = np.stack([self.vectors[s] for s in self.schemes])[scheme]
        if ahp_rows is None:
            return base
        cache: dict[bytes, np.ndarray] = {}
        for k, s in enumerate(self.schemes):
            for r in np.flatnonzero(scheme == k):
                if s == "ahp":
                    base[r] = ahp_rows[r]
                elif s == "combined" and self.combine is not None:
                    key = ahp_rows[r].tobytes()
                    if key not in cache:
                        cache[key] = self.combine(ahp_rows[r])
                    base[r] = cache[key]
        return base

    def varied(self, values: Sequence[np.ndarray | None], bases: Sequence[np.ndarray | None], k: int) -> list[Varied]:
        out: list[Varied] = []
        for c, v, b in zip(self.cells.columns, values, bases, strict=True):
            if v is None and b is None:
                continue
            vv = v if v is not None else np.tile(c.value, (k, 1))
            bb = b if b is not None else np.tile(c.baseline, (k, 1))
            out.append((c.j, c.rows, rescore(c, vv, bb)))
        return out


def _normalise(w: np.ndarray) -> np.ndarray:
    sums = w.sum(axis=1, keepdims=True)
    return np.divide(w, sums, out=np.zeros_like(w), where=sums > 0)


def _streams(seed: int, n: int) -> list[np.random.Generator]:
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(n)]


def monte_carlo(model: Model, samples: int, seed: int) -> np.ndarray:
    """samples x providers totals under every declared uncertainty; deterministic for `seed`."""
    r_w, r_e, r_s, r_b = _streams(seed, 4)
    n = len(model.inputs.codes)
    scheme = r_w.choice(len(model.schemes), size=samples)
    mult = r_w.uniform(1 - model.noise, 1 + model.noise, size=(samples, n))
    ahp_rows = model.boot.draw(r_e, samples)[1] if model.experts and model.boot is not None else None
    weights = _normalise(model.scheme_rows(scheme, ahp_rows) * mult)
    cols = model.cells.columns
    values = [draw_values(c, r_s, samples) if model.draws_survey and c.surveyed else None for c in cols]
    bases = [draw_baselines(c, r_b, samples) if model.draws_baselines and c.groups else None for c in cols]
    return totals(model.inputs, weights, model.varied(values, bases, samples))


def sobol(model: Model, base_samples: int, seed: int) -> tuple[dict[str, dict[str, Any]], int, list[str]]:
    """Sobol first-order and total indices of every factor on the ranks (simulate.sobol_analyse), the
    providers they average over, and the factors in the design."""
    dims = list(model.names) if model.noise > 0 else []
    labels = ["weighting scheme", *dims]
    bounds: list[tuple[float, float]] = [(0.0, 1.0)] + [(1 - model.noise, 1 + model.noise)] * len(dims)
    triggers = [
        name
        for name, on in (
            ("expert judgements", model.experts),
            ("baselines", model.draws_baselines),
            ("survey sampling error", model.draws_survey),
        )
        if on
    ]
    labels += triggers
    bounds += [(0.0, 1.0)] * len(triggers)
    problem = problem_of(labels, bounds)
    x = sobol_design(problem, base_samples, seed)
    rows = x.shape[0]
    col = {name: i for i, name in enumerate(labels)}

    def pick(name: str) -> np.ndarray:
        return np.minimum((x[:, col[name]] * POOL).astype(int), POOL - 1)

    k = len(model.schemes)
    scheme = np.minimum((x[:, 0] * k).astype(int), k - 1)
    if dims:
        mult = x[:, 1 : 1 + len(dims)][:, list(model.inputs.dimension)]
    else:
        mult = np.ones((rows, len(model.inputs.codes)))
    r_e, r_s, r_b = _streams(seed + 1, 3)  # the pools: independent of the design's scrambling
    ahp_rows = None
    if "expert judgements" in col and model.boot is not None:
        ahp_rows = model.boot.draw(r_e, POOL)[1][pick("expert judgements")]
    weights = _normalise(model.scheme_rows(scheme, ahp_rows) * mult)
    varied: list[Varied] = []
    for c in model.cells.columns:
        sv = "survey sampling error" in col and c.surveyed
        sb = "baselines" in col and bool(c.groups)
        # drawn in the same order as before whether or not the other source is on, so each stays put
        vpool = draw_values(c, r_s, POOL) if sv else None
        bpool = draw_baselines(c, r_b, POOL) if sb else None
        if vpool is None and bpool is None:
            continue
        # a row's scores depend only on its (survey, baseline) realisations: score each pair once
        key = (pick("survey sampling error") if sv else 0) * POOL + (pick("baselines") if sb else 0)
        uniq, inverse = np.unique(key, return_inverse=True)
        vv = vpool[uniq // POOL] if vpool is not None else np.tile(c.value, (uniq.size, 1))
        bb = bpool[uniq % POOL] if bpool is not None else np.tile(c.baseline, (uniq.size, 1))
        varied.append((c.j, c.rows, rescore(c, vv, bb)[inverse]))
    rank = ranks(totals(model.inputs, weights, varied), model.inputs.last or None)
    indices, used = sobol_analyse(problem, rank, seed)
    if model.cells.funnels:
        indices[FUNNEL_FACTOR] = {"first_order": 0.0, "total": 0.0, "first_order_conf": 0.0, "total_conf": 0.0,
                                  "consistent": True}  # fmt: skip
    return indices, used, labels
