"""`pingyi uncertainty`: how sure each provider's rank, grade and adjustment are, given every declared
uncertainty (pingyi.uncertainty.model).

Reads a results folder (its results.json, checked against its manifest by `load_results_document`'s
caller) and the project it was scored with; writes `uncertainty.csv` (one row per provider) and
`uncertainty.json` (the parameters, the schemes' weights, every provider's figures and the Sobol
indices), both deterministic for a seed.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from pingyi.errors import PingyiError
from pingyi.files import write_atomic
from pingyi.spec.project import Project
from pingyi.uncertainty.cells import find_cells
from pingyi.uncertainty.model import FUNNEL_FACTOR, FUNNEL_NOTE, SOURCES, Model, monte_carlo
from pingyi.uncertainty.model import sobol as sobol_indices
from pingyi.uncertainty.simulate import Inputs, Summary, grades, summarise
from pingyi.weights.bootstrap import ExpertBootstrap
from pingyi.weights.combined import DataSource, SideBySide, side_by_side
from pingyi.weights.objective import combine
from pingyi.weights.tree import WeightTree

SCHEMES = ("ahp", "entropy", "critic", "combined")
UNCERTAIN_BELOW = 0.8  # P(assigned grade) under this: the grade is listed as uncertain


@dataclass(frozen=True)
class Uncertainty:
    results: Path
    samples: int
    seed: int
    noise: float
    schemes: tuple[str, ...]
    providers: tuple[dict[str, Any], ...]  # per provider, as in uncertainty.json
    sobol: Mapping[str, Mapping[str, Any]]
    sobol_providers: int
    results_sha256: str = ""
    files: tuple[Path, ...] = ()
    sources: Mapping[str, Any] | None = None  # what each declared source drew (uncertainty.json "sources")

    def uncertain(self) -> list[dict[str, Any]]:
        return [p for p in self.providers if p["uncertain"]]


def build_inputs(project: Project, doc: Mapping[str, Any]) -> Inputs:
    codes = tuple(i["code"] for i in doc["indicators"])
    primaries = list(dict.fromkeys(i["primary"] for i in doc["indicators"]))
    dimension = tuple(primaries.index(i["primary"]) for i in doc["indicators"])
    providers = sorted(doc["providers"], key=lambda p: p["fixmedins_code"])
    scores = np.full((len(providers), len(codes)), np.nan)
    col = {c: k for k, c in enumerate(codes)}
    fixed: list[str | None] = []
    for j, p in enumerate(providers):
        for i in p["indicators"]:
            if i.get("score") is not None and i["code"] in col:
                scores[j, col[i["code"]]] = float(i["score"])
        # the total does not decide a vetoed provider's grade, nor one failed or not graded for its data
        fixed.append(p["grade"] if (p["veto"] or p.get("eligibility") or p["total_score"] is None) else None)
    bands = tuple((g["name"], float(g["min_score"])) for g in doc["grades"])
    last = tuple(bool(p["veto"]) for p in providers)
    return Inputs(codes, dimension, scores, bands, tuple(fixed), last)


def scheme_weights(
    project: Project, tree: WeightTree, doc: Mapping[str, Any], codes: tuple[str, ...]
) -> tuple[dict[str, np.ndarray], SideBySide]:
    source = DataSource(results="", results_sha256="", manifest_sha256=None, manifest_match=None,
                        year=int(doc["year"]), providers=len(doc["providers"]))  # fmt: skip
    compared = side_by_side(project, tree, doc, source, None)
    out = {
        "ahp": [compared.ahp.get(c, 0.0) for c in codes],
        "entropy": [compared.objective["entropy"].weights.get(c, 0.0) for c in codes],
        "critic": [compared.objective["critic"].weights.get(c, 0.0) for c in codes],
        "combined": [compared.combined.weights.get(c, 0.0) for c in codes],
    }
    return {k: np.asarray(v, dtype=float) for k, v in out.items()}, compared


def combiner(compared: SideBySide, codes: tuple[str, ...]) -> Callable[[np.ndarray], np.ndarray]:
    """AHP weights over `codes` -> the combination's, as `pingyi weights` combines them (the declared
    method, else the game-theory one) with the run's objective weights."""
    objective = compared.objective[compared.method].weights
    how = compared.combination.method if compared.combination is not None else "game"
    alpha = compared.combination.alpha if compared.combination is not None else None

    def combined(ahp_weights: np.ndarray) -> np.ndarray:
        base = {c: float(w) for c, w in zip(codes, ahp_weights, strict=True) if w > 0}
        got = combine(base, objective, how, alpha).weights
        return np.array([got.get(c, 0.0) for c in codes])

    return combined


def parse_sources(sources: tuple[str, ...]) -> tuple[str, ...]:
    chosen = tuple(s for s in sources if s != "none")
    unknown = [s for s in chosen if s not in SOURCES]
    if unknown:
        raise PingyiError(f"--sources {','.join(sources)}: expected some of {', '.join(SOURCES)}, or none")
    return chosen


def run_uncertainty(
    project: Project,
    tree: WeightTree,
    doc: Mapping[str, Any],
    results: Path,
    *,
    samples: int,
    seed: int,
    noise: float,
    schemes: tuple[str, ...] = SCHEMES,
    sobol_samples: int = 128,
    sources: tuple[str, ...] = SOURCES,
) -> Uncertainty:
    if samples < 10:
        raise PingyiError(f"--samples {samples}: expected at least 10 (1,000 is a usual choice)")
    if not 0 <= noise < 1:
        raise PingyiError(f"--noise {noise}: expected a share of the weight in [0, 1), e.g. 0.2 for ±20 %")
    unknown = [s for s in schemes if s not in SCHEMES]
    if unknown or not schemes:
        raise PingyiError(f"--schemes {','.join(schemes)}: expected some of {', '.join(SCHEMES)}")
    chosen_sources = parse_sources(sources)
    inputs = build_inputs(project, doc)
    weights, compared = scheme_weights(project, tree, doc, inputs.codes)
    names = tuple(dict.fromkeys(i["primary"] for i in doc["indicators"]))
    boot = ExpertBootstrap.from_project(project, tree, inputs.codes) if "experts" in chosen_sources else None
    model = Model(
        inputs=inputs,
        schemes=tuple(schemes),
        vectors={s: weights[s] for s in schemes},
        combine=combiner(compared, inputs.codes) if "combined" in schemes else None,
        boot=boot,
        cells=find_cells(project, doc, inputs.codes),
        baselines="baselines" in chosen_sources,
        survey="survey" in chosen_sources,
        noise=noise,
        names=names,
    )
    total = monte_carlo(model, samples, seed)
    summary = summarise(inputs, total)
    g = grades(inputs, total)
    sobol, used, _factors = sobol_indices(model, sobol_samples, seed)
    step = project.policy.adjustment.step_rates if project.policy.adjustment.mode == "step" else None
    providers = tuple(
        _provider(p, j, inputs, summary, g, step)
        for j, p in enumerate(sorted(doc["providers"], key=lambda p: p["fixmedins_code"]))
    )
    return Uncertainty(results, samples, seed, noise, tuple(schemes), providers, sobol, used,
                       sources=_sources_json(model, tree, chosen_sources))  # fmt: skip


def _sources_json(model: Model, tree: WeightTree, chosen: tuple[str, ...]) -> dict[str, Any]:
    cells = model.cells
    boot = model.boot
    return {
        "chosen": list(chosen),
        "experts": {
            "sampled": model.experts,
            "method": "bootstrap of each matrix's kept experts, AIJ geometric mean, principal eigenvector",
            "panels": boot.panel_sizes() if boot is not None else None,
            # the per-expert CR screening: who was flagged (kept, resampled) or excluded (never drawn)
            "screened": [
                {"matrix": group, "expert": e, "cr": round(cr, 6), "action": how}
                for group, m in (("root", tree.root), *((p.code, p.matrix) for p in tree.primary))
                for e, cr, how in m.screened
            ],
        },
        "baselines": {
            "sampled": model.draws_baselines,
            "cells": cells.baseline_cells(),
            "method": "derived baselines: order statistic Beta(k, n + 1 - k), spread from this run's values, "
            "guardrail re-applied; baselines set by policy are not drawn",
        },
        "survey": {
            "sampled": model.draws_survey,
            "cells": cells.survey_cells(),
            "method": "Jeffreys posterior Beta(x + 1/2, n - x + 1/2) of each survey share",
        },
        "funnel_overdispersion": {"sampled": False, "indicators": list(cells.funnels), "note": FUNNEL_NOTE},
        "cells_kept_fixed": cells.frozen,
    }


def _provider(
    p: Mapping[str, Any], j: int, inputs: Inputs, s: Summary, g: np.ndarray, step: Mapping[str, float] | None
) -> dict[str, Any]:
    prob = {name: round(float(s.grade_probability[j, b]), 6) for b, (name, _) in enumerate(inputs.bands)}
    assigned = p["grade"]
    p_assigned = prob.get(assigned, 1.0 if inputs.fixed[j] is not None else 0.0)
    adjustment = None
    if step is not None:
        rates: dict[str, float] = {}
        for name, q in prob.items():
            if q > 0:
                key = str(Decimal(str(step.get(name, 0.0))))
                rates[key] = round(rates.get(key, 0.0) + q, 6)
        adjustment = dict(sorted(rates.items()))
    return {
        "fixmedins_code": p["fixmedins_code"],
        "fixmedins_name": p["fixmedins_name"],
        "grade": assigned,
        "total_score": p["total_score"],
        "rank": p["rank"],
        "fixed_grade": inputs.fixed[j] is not None,
        "total_p5": _r(s.total[j, 0]),
        "total_p50": _r(s.total[j, 1]),
        "total_p95": _r(s.total[j, 2]),
        "rank_p5": _r(s.rank[j, 0]),
        "rank_p95": _r(s.rank[j, 2]),
        "grade_probability": prob,
        "p_assigned_grade": round(float(p_assigned), 6),
        "uncertain": bool(p_assigned < UNCERTAIN_BELOW),
        "adjustment_probability": adjustment,
    }


def _r(x: float) -> float | None:
    return None if np.isnan(x) else round(float(x), 4)


def write_outputs(u: Uncertainty, out: Path, bands: list[str]) -> tuple[Path, ...]:
    out.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["fixmedins_code", "fixmedins_name", "grade", "total_score", "rank", "total_p5", "total_p50",
                "total_p95", "rank_p5", "rank_p95", "p_assigned_grade", "uncertain",
                *[f"p_{b}" for b in bands]])  # fmt: skip
    for p in u.providers:
        w.writerow([p["fixmedins_code"], p["fixmedins_name"], p["grade"], _blank(p["total_score"]), _blank(p["rank"]),
                    _blank(p["total_p5"]), _blank(p["total_p50"]), _blank(p["total_p95"]), _blank(p["rank_p5"]),
                    _blank(p["rank_p95"]), p["p_assigned_grade"], "1" if p["uncertain"] else "0",
                    *[p["grade_probability"].get(b, 0.0) for b in bands]])  # fmt: skip
    doc = {
        "results": str(u.results),
        "results_sha256": u.results_sha256,
        "samples": u.samples,
        "seed": u.seed,
        "noise": u.noise,
        "schemes": list(u.schemes),
        "sources": u.sources,
        "uncertain_below": UNCERTAIN_BELOW,
        "sobol": {
            "output": "each provider's rank, averaged over the providers whose rank varies",
            "providers": u.sobol_providers,
            "indices": u.sobol,
            "notes": {FUNNEL_FACTOR: FUNNEL_NOTE} if FUNNEL_FACTOR in u.sobol else {},
        },  # fmt: skip
        "providers": list(u.providers),
    }
    paths = (out / "uncertainty.csv", out / "uncertainty.json")
    write_atomic(paths[0], buf.getvalue().encode("utf-8"))
    write_atomic(paths[1], (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))
    return paths


def _blank(x: Any) -> Any:
    return "" if x is None else x
