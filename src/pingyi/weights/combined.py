"""AHP, entropy and CRITIC weights side by side, and the combination the project declares, from one
results folder's indicator values (`pingyi weights --results DIR`).

The values are the ones each provider was scored on (results.json `providers[].indicators[].value`,
the case-mix-adjusted value where the indicator counts it); only status `scored` values are used, so
grey (insufficient volume), missing and monitor-only values are left out per indicator. Directions and
target bands come from the project's catalogue (direction up / down / target and the target_range
rule's [low, high]). The AHP column is the weight each indicator carries in the total (a monitor-only
indicator carries 0): that is what an objective weight can be compared and combined with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from pingyi.spec.models import Direction, WeightCombination
from pingyi.spec.project import Project
from pingyi.weights.objective import METHODS, Column, Combined, ObjectiveWeights, combine, objective_weights
from pingyi.weights.tree import WeightTree


@dataclass(frozen=True)
class DataSource:
    """Where the values came from."""

    results: str  # the results.json read
    results_sha256: str
    manifest_sha256: str | None  # of manifest.json beside it (None: no manifest)
    manifest_match: bool | None  # the manifest lists results.json with this SHA-256 (None: no manifest)
    year: int
    providers: int


@dataclass(frozen=True)
class SideBySide:
    source: DataSource
    codes: tuple[str, ...]  # every indicator, in catalogue order
    ahp: dict[str, float]  # carried weight (0 for monitor-only)
    objective: dict[str, ObjectiveWeights]  # by method
    method: str  # the objective method combined
    combination: WeightCombination | None  # as declared (None: the project declares none)
    combined: Combined
    notes: dict[str, str]  # indicator -> why it has no objective weight
    used_in_scores: bool = False  # the scores were computed with `combined` (a declared combination)

    def as_json(self) -> dict[str, Any]:
        s = self.source
        return {
            "source": {
                "results": s.results,
                "results_sha256": s.results_sha256,
                "manifest_sha256": s.manifest_sha256,
                "manifest_lists_this_results": s.manifest_match,
                "year": s.year,
                "providers": s.providers,
            },
            "objective_method": self.method,
            "combination": {
                "declared": self.combination is not None,
                "method": self.combined.method,
                "alpha": self.combined.alpha,
                # a product has no coefficients: None rather than a pair that reads like shares
                "coefficients": None
                if self.combined.method == "multiplicative"
                else {"ahp": self.combined.coefficients[0], "objective": self.combined.coefficients[1]},
                "source": self.combination.source if self.combination is not None else None,
                "used_in_scores": self.used_in_scores,
            },
            "indicators": [
                {
                    "id": code,
                    "ahp": self.ahp[code],
                    **{m: self.objective[m].weights.get(code, 0.0) for m in METHODS},
                    "combined": self.combined.weights.get(code, 0.0),
                    "n": self.objective[self.method].n.get(code, 0),
                    "note": self.notes.get(code),
                }
                for code in self.codes
            ],
        }


def side_by_side(
    project: Project, tree: WeightTree, results: Mapping[str, Any], source: DataSource, method: str | None
) -> SideBySide:
    """The comparison for `project` over the values of a parsed results.json. `method`: the objective
    method to combine (default: the declared combination's, else entropy). Without a declared
    combination the game-theory combination is shown, because it has no free parameter to choose."""
    providers = sorted(results.get("providers") or [], key=lambda p: str(p.get("fixmedins_code")))
    values: dict[str, list[float | None]] = {}
    for p in providers:
        got = {
            i.get("code"): float(i["value"])
            for i in p.get("indicators") or []
            if i.get("status") == "scored" and isinstance(i.get("value"), (int, float))
        }
        for code in project.indicators:
            values.setdefault(code, []).append(got.get(code))
    used = results.get("weighting") is not None  # the run scored with its declared combination
    return replace(weigh_values(project, tree, values, source, method), used_in_scores=used)


def weigh_values(
    project: Project,
    tree: WeightTree,
    values: Mapping[str, list[float | None]],
    source: DataSource,
    method: str | None = None,
) -> SideBySide:
    """The comparison over `values`: indicator -> the providers' scored values (None where a provider's
    indicator is not scored), providers in fixmedins_code order. `pingyi weights --results` reads them
    from results.json; `pingyi score` passes the values it has just scored, when the project declares
    a combination, and then scores with the combined weights."""
    declared = project.hierarchy.combination
    method = method or (declared.objective if declared is not None else "entropy")
    if method not in METHODS:
        raise ValueError(f"objective method {method!r}; expected one of {', '.join(METHODS)}")
    carried = tree.carried_weights()
    codes = tuple(s.code for p in tree.primary for s in p.secondary)
    notes: dict[str, str] = {}
    columns: list[Column] = []
    for code in codes:
        ind = project.indicators[code]
        if not ind.scoring.scored or ind.direction is Direction.MONITOR:
            notes[code] = "monitor only: carries no weight, not weighted from data"
            continue
        band = None
        if ind.direction is Direction.TARGET:
            low, high = getattr(ind.scoring, "low", None), getattr(ind.scoring, "high", None)
            if low is None or high is None:
                notes[code] = "target indicator without a target_range band: not weighted from data"
                continue
            band = (float(low), float(high))
        columns.append(Column(code, ind.direction.value, tuple(values.get(code, [])), band))
    objective = {m: objective_weights(columns, m) for m in METHODS}
    for code, note in objective[method].notes.items():
        notes.setdefault(code, note)
    ahp = {c: carried[c] for c in codes}
    base = {c: w for c, w in ahp.items() if w > 0}  # what the total weighs: the scored indicators
    if declared is not None:
        combined = combine(base, objective[method].weights, declared.method, declared.alpha)
    else:
        combined = combine(base, objective[method].weights, "game")
    return SideBySide(
        source=source,
        codes=codes,
        ahp=ahp,
        objective=objective,
        method=method,
        combination=declared,
        combined=combined,
        notes=notes,
    )
