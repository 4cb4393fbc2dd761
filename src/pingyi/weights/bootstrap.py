"""Per-expert resampling of the AHP weights: the uncertainty that comes from *which* experts judged.

One draw takes, for every pairwise matrix of the hierarchy, as many experts as the matrix kept (the
per-expert CR screening's survivors: all of them under `ahp.expert_cr: flag`, the consistent ones under
`exclude`) with replacement from those experts — a nonparametric bootstrap over the panel (Efron &
Tibshirani 1993, An Introduction to the Bootstrap) — aggregates their judgements as the project does (the cell-by-cell geometric
mean, AIJ; Forman & Peniwati 1998) and takes the principal eigenvector (Saaty 1977). Matrices of
direct weights and matrices judged by one expert do not vary. The global weight each indicator then
carries is the tree's rule (WeightTree.carried_weights): primary weight x local weight, a monitor-only
indicator 0 and its local weight shared by its primary's scored indicators.

A panel of m experts has C(2m - 1, m) distinct resamples (10 for three experts, 126 for five), so the
eigenvector of each is computed once and reused.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pingyi.spec.models import Judgments
from pingyi.spec.project import Project
from pingyi.weights import ahp
from pingyi.weights.tree import MatrixResult, WeightTree, parse_judgment


@dataclass(frozen=True)
class Panel:
    """One matrix: its items and the kept experts' judgements (NaN: not judged)."""

    group: str  # "root" or the primary's code
    items: tuple[str, ...]
    experts: tuple[str, ...]
    matrices: tuple[np.ndarray, ...]
    fixed: dict[str, float]  # the matrix's weights as the tree has them (used when it cannot vary)

    @property
    def varies(self) -> bool:
        return len(self.experts) >= 2


class ExpertBootstrap:
    """Draws of the carried AHP weights of `codes` (indicator order) over resampled expert panels."""

    def __init__(self, tree: WeightTree, panels: dict[str, Panel], codes: tuple[str, ...], ri_table: str) -> None:
        self.tree = tree
        self.panels = panels
        self.codes = codes
        self.ri_table = ri_table
        self._cache: dict[tuple[str, tuple[int, ...]], dict[str, float]] = {}

    @classmethod
    def from_project(cls, project: Project, tree: WeightTree, codes: tuple[str, ...]) -> ExpertBootstrap:
        panels = {"root": _panel("root", project.hierarchy.judgments, tree.root)}
        by_code = {d.primary.code: d for d in project.dimensions}
        for p in tree.primary:
            panels[p.code] = _panel(p.code, by_code[p.code].judgments, p.matrix)
        return cls(tree, panels, codes, project.hierarchy.ahp.ri_table)

    @property
    def varies(self) -> bool:
        return any(p.varies for p in self.panels.values())

    def panel_sizes(self) -> dict[str, int]:
        return {g: len(p.experts) for g, p in self.panels.items()}

    def weights_of(self, picks: dict[str, tuple[int, ...]]) -> np.ndarray:
        """The carried weights of `codes` when matrix `group` aggregates the experts `picks[group]`
        (indices into its kept experts, repeats allowed; a group left out keeps the tree's weights)."""
        local = {g: self._matrix_weights(g, picks.get(g)) for g in self.panels}
        root = local["root"]
        out: dict[str, float] = {}
        for p in self.tree.primary:
            w = local[p.code]
            denom = sum(w[s.code] for s in p.secondary if s.scored)
            for s in p.secondary:
                out[s.code] = root[p.code] * w[s.code] / denom if s.scored and denom > 0 else 0.0
        return np.array([out.get(c, 0.0) for c in self.codes])

    def draw(self, rng: np.random.Generator, samples: int) -> tuple[list[dict[str, tuple[int, ...]]], np.ndarray]:
        """`samples` resamples of every panel (the picks, and samples x indicators carried weights)."""
        picks: list[dict[str, tuple[int, ...]]] = []
        for _ in range(samples):
            pick: dict[str, tuple[int, ...]] = {}
            for g, panel in self.panels.items():  # panels in hierarchy order: the draws do not depend on dict luck
                if panel.varies:
                    m = len(panel.experts)
                    pick[g] = tuple(int(i) for i in rng.integers(0, m, size=m))
            picks.append(pick)
        return picks, np.stack([self.weights_of(p) for p in picks]) if picks else np.zeros((0, len(self.codes)))

    def _matrix_weights(self, group: str, pick: tuple[int, ...] | None) -> dict[str, float]:
        panel = self.panels[group]
        if pick is None or not panel.varies:
            return panel.fixed
        key = (group, tuple(sorted(pick)))  # the geometric mean does not depend on the order of the experts
        hit = self._cache.get(key)
        if hit is None:
            combined = ahp.aggregate_aij([panel.matrices[i] for i in key[1]])
            res = ahp.analyze(combined, ri_table=self.ri_table)
            hit = dict(zip(panel.items, res.weights, strict=True))
            self._cache[key] = hit
        return hit


def _panel(group: str, judgments: Judgments, matrix: MatrixResult) -> Panel:
    kept = [e for e, _date in matrix.experts]
    by_id = {ex.expert: ex for ex in judgments.experts}
    mats = []
    if matrix.method != "direct":
        for e in kept:
            rows = by_id[e].matrix
            mats.append(np.array([[np.nan if (v := parse_judgment(x)) is None else v for x in row] for row in rows]))
    return Panel(group, tuple(judgments.items), tuple(kept) if mats else (), tuple(mats), dict(matrix.weights))
