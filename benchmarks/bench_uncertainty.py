"""Benchmark: `pingyi uncertainty`'s Monte Carlo on 1,000 providers x 1,000 samples, 35 indicators in 8
dimensions, four weighting schemes, against a plain reference (one numpy aggregation per sample, the
same rule) checked to give the same totals; then the Sobol design (SALib) on the ranks.

    .venv/bin/python benchmarks/bench_uncertainty.py [--providers 1000] [--samples 1000] [--sobol-samples 128]

With `--results DIR` (a results folder of `pingyi score`, e.g. of a 1,000-provider generated bundle
scored with baselines derived from its own results, see benchmarks/README.md) it times the whole
analysis with every source on — schemes, weights, expert resampling, derived baselines, survey
sampling error — stage by stage, and the command itself.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from pingyi.uncertainty.simulate import Inputs, draw, sobol_indices, summarise, totals

BANDS = (("优秀", 90.0), ("良好", 80.0), ("合格", 60.0), ("不合格", 0.0))


def reference_totals(inputs: Inputs, weights: np.ndarray) -> np.ndarray:
    """The aggregation rule written plainly: per sample, per dimension."""
    dims = np.array(inputs.dimension)
    has = ~np.isnan(inputs.scores)
    out = np.full((weights.shape[0], inputs.scores.shape[0]), np.nan)
    for k, w in enumerate(weights):
        num = np.zeros(inputs.scores.shape[0])
        den = np.zeros(inputs.scores.shape[0])
        for d in range(inputs.dimensions):
            cols = dims == d
            wd = w[cols]
            sw = (has[:, cols] * wd).sum(axis=1)
            ok = sw > 0
            sd = np.where(ok, (np.nan_to_num(inputs.scores[:, cols]) * wd).sum(axis=1) / np.where(ok, sw, 1), 0.0)
            num += np.where(ok, wd.sum() * sd, 0.0)
            den += np.where(ok, wd.sum(), 0.0)
        out[k] = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
    return out


def every_source(results: Path, samples: int, sobol_samples: int) -> None:
    from pingyi import api
    from pingyi.run.schema import load_results_document
    from pingyi.uncertainty.cells import find_cells
    from pingyi.uncertainty.model import Model, monte_carlo, sobol
    from pingyi.uncertainty.run import build_inputs, combiner, scheme_weights
    from pingyi.validate import require_valid
    from pingyi.weights.bootstrap import ExpertBootstrap

    t0 = time.perf_counter()
    project_dir, _said, _year = api.results_project(results, None)
    valid = require_valid(project_dir)
    doc, _ = load_results_document(results)
    inputs = build_inputs(valid.project, doc)
    weights, compared = scheme_weights(valid.project, valid.tree, doc, inputs.codes)
    t1 = time.perf_counter()
    cells = find_cells(valid.project, doc, inputs.codes)
    boot = ExpertBootstrap.from_project(valid.project, valid.tree, inputs.codes)
    names = tuple(dict.fromkeys(i["primary"] for i in doc["indicators"]))
    schemes = ("ahp", "entropy", "critic", "combined")
    model = Model(inputs, schemes, weights, combiner(compared, inputs.codes), boot, cells, True, True, 0.2, names)
    t2 = time.perf_counter()
    total = monte_carlo(model, samples, 1)
    t3 = time.perf_counter()
    summarise(inputs, total)
    t4 = time.perf_counter()
    _indices, used, factors = sobol(model, sobol_samples, 1)
    t5 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        api.uncertainty(results, Path(tmp), samples=samples, seed=1, sobol_samples=sobol_samples)
    t6 = time.perf_counter()
    varied = sum(c.rows.size for c in cells.columns)
    print(
        f"{inputs.scores.shape[0]:,} providers x {samples:,} samples x {len(inputs.codes)} indicators, every source on"
    )
    print(
        f"  re-scored cells: {cells.survey_cells()} survey shares, {cells.baseline_cells()} derived baseline cells "
        f"over {varied:,} provider cells in {len(cells.columns)} indicators; {cells.frozen} kept fixed"
    )
    print(f"  read results, weights            {t1 - t0:7.2f} s")
    print(f"  find cells, expert panels        {t2 - t1:7.2f} s")
    print(f"  Monte Carlo (draws, re-scoring, totals) {t3 - t2:7.2f} s")
    print(f"  ranks, percentiles, P(grade)     {t4 - t3:7.2f} s")
    print(
        f"  Sobol ({sobol_samples} x {len(factors) + 2} runs, {len(factors)} factors, {used} providers) {t5 - t4:7.2f} s"
    )
    print(f"  `pingyi uncertainty` end to end  {t6 - t5:7.2f} s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--providers", type=int, default=1000)
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--sobol-samples", type=int, default=128)
    ap.add_argument("--results", type=Path, default=None)
    args = ap.parse_args()
    if args.results is not None:
        every_source(args.results, args.samples, args.sobol_samples)
        return
    rng = np.random.default_rng(0)
    n_ind = 35
    scores = rng.uniform(30, 100, size=(args.providers, n_ind))
    scores[rng.uniform(size=scores.shape) < 0.08] = np.nan  # some indicators without data
    dims = tuple(int(d) for d in np.sort(rng.integers(0, 8, size=n_ind)))
    dims = tuple(list(range(8)) + list(dims[8:]))
    inputs = Inputs(tuple(f"I{i}" for i in range(n_ind)), dims, scores, BANDS, (None,) * args.providers)
    schemes = [rng.dirichlet(np.ones(n_ind)) for _ in range(4)]
    t0 = time.perf_counter()
    d = draw(schemes, args.samples, 0.2, seed=1)
    total = totals(inputs, d.weights)
    t1 = time.perf_counter()
    summarise(inputs, total)
    t2 = time.perf_counter()
    ref = reference_totals(inputs, d.weights)
    t3 = time.perf_counter()
    if not np.allclose(total, ref, rtol=0, atol=1e-9, equal_nan=True):
        raise SystemExit("the vectorised totals differ from the reference")
    indices, used = sobol_indices(inputs, dict(zip("abcd", schemes, strict=True)), [f"D{i}" for i in range(1, 9)],
                                  0.2, args.sobol_samples, seed=1)  # fmt: skip
    t4 = time.perf_counter()
    print(f"{args.providers:,} providers x {args.samples:,} samples x {n_ind} indicators")
    print(f"  totals (vectorised)          {t1 - t0:7.2f} s")
    print(f"  totals (reference, per sample) {t3 - t2:5.2f} s   same totals to 1e-9")
    print(f"  ranks, percentiles, P(grade) {t2 - t1:7.2f} s")
    print(f"  Sobol ({args.sobol_samples} x 11 runs, {used} providers analysed) {t4 - t3:6.2f} s")
    print(f"  Monte Carlo + Sobol in all   {t1 - t0 + t2 - t1 + t4 - t3:7.2f} s")


if __name__ == "__main__":
    main()
