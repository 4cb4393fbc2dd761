"""Weighted aggregation: indicator scores -> primary scores -> total, grades, ranks.

Primary score = Σ local weight × score over the primary's *scored* indicators, divided by the sum
of those local weights: the weight of an insufficient (grey) or monitor-only indicator is
redistributed proportionally within its primary dimension, never scored as 0 or 100 (CMS star
ratings re-normalise missing groups the same way). A primary with no scored indicator is itself
insufficient and its weight is redistributed across the other primaries. Both levels are 0-100.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pingyi.score.indicator import IndicatorScore, Light
from pingyi.spec.models import PolicyFile
from pingyi.weights.tree import WeightTree


@dataclass(frozen=True)
class PrimaryScore:
    code: str
    score: float | None
    light: Light
    weight: float  # nominal AHP weight
    effective_weight: float  # after redistribution across primaries
    scored: int
    insufficient: tuple[str, ...]  # indicator codes whose weight was redistributed


@dataclass
class ProviderResult:
    fixmedins_code: str
    total: float | None
    grade: str
    grade_en: str
    light: Light
    primaries: list[PrimaryScore]
    indicators: dict[str, IndicatorScore]
    effective_weight: dict[str, float]  # indicator -> effective global weight (0 if not scored)
    contribution: dict[str, float]  # indicator -> effective global weight × score
    veto: list[str] = field(default_factory=list)
    rank: int | None = None


def primary_light(score: float | None, policy: PolicyFile) -> Light:
    if score is None:
        return Light.GREY
    if score >= policy.lights.green_min:
        return Light.GREEN
    if score >= policy.lights.yellow_min:
        return Light.YELLOW
    return Light.RED


def grade_for(total: float | None, policy: PolicyFile) -> tuple[str, str]:
    """Bands are inclusive at their lower edge: 90.0 is 优秀 with the default bands."""
    if total is None:
        return policy.insufficient_grade, "Not graded"
    for band in policy.grades:
        if total >= band.min_score:
            return band.name, band.name_en
    return policy.grades[-1].name, policy.grades[-1].name_en  # pragma: no cover - lowest band starts at 0


def aggregate_provider(code: str, scores: dict[str, IndicatorScore], tree: WeightTree, policy: PolicyFile,
                       vetoes: list[str] | None = None) -> ProviderResult:
    primaries: list[PrimaryScore] = []
    within: dict[str, float] = {}  # indicator -> effective local weight
    for p in tree.primary:
        scored = [s for s in p.secondary if scores[s.code].score is not None]
        denom = sum(s.local_weight for s in scored)
        insufficient = tuple(s.code for s in p.secondary if scores[s.code].status == "insufficient")
        if not scored or denom <= 0:
            primaries.append(PrimaryScore(p.code, None, Light.GREY, p.weight, 0.0, 0, insufficient))
            continue
        value = sum(s.local_weight * scores[s.code].score for s in scored) / denom
        for s in scored:
            within[s.code] = s.local_weight / denom
        primaries.append(PrimaryScore(p.code, value, primary_light(value, policy), p.weight, p.weight,
                                      len(scored), insufficient))
    available = sum(ps.weight for ps in primaries if ps.score is not None)
    total = None
    effective: dict[str, float] = {}
    contribution: dict[str, float] = {}
    if available > 0:
        primaries = [PrimaryScore(ps.code, ps.score, ps.light, ps.weight,
                                  ps.weight / available if ps.score is not None else 0.0, ps.scored, ps.insufficient)
                     for ps in primaries]
        total = sum(ps.effective_weight * ps.score for ps in primaries if ps.score is not None)
        peff = {ps.code: ps.effective_weight for ps in primaries}
        for p in tree.primary:
            for s in p.secondary:
                w = peff[p.code] * within.get(s.code, 0.0)
                effective[s.code] = w
                sc = scores[s.code].score
                contribution[s.code] = w * sc if sc is not None else 0.0
    else:
        for p in tree.primary:
            for s in p.secondary:
                effective[s.code] = 0.0
                contribution[s.code] = 0.0
    grade, grade_en = grade_for(total, policy)
    veto = list(vetoes or [])
    if veto and total is not None:
        grade, grade_en = policy.veto_grade, next((b.name_en for b in policy.grades if b.name == policy.veto_grade),
                                                  policy.veto_grade)
    light = policy_light_for_grade(grade, policy)
    return ProviderResult(code, total, grade, grade_en, light, primaries, scores, effective, contribution, veto)


def policy_light_for_grade(grade: str, policy: PolicyFile) -> Light:
    return Light(policy.grade_lights.get(grade, "grey"))


def assign_ranks(results: list[ProviderResult]) -> None:
    """Competition ranking (1, 2, 2, 4) on unrounded totals; ungraded providers get no rank."""
    ranked = sorted((r for r in results if r.total is not None), key=lambda r: (-r.total, r.fixmedins_code))
    previous = None
    for i, r in enumerate(ranked, 1):
        if previous is not None and r.total == previous.total:
            r.rank = previous.rank
        else:
            r.rank = i
        previous = r


def percentile_among(own: float, others: list[float]) -> float | None:
    """Share of the other peers this provider does better than, ties counting half, 0-100 (100 = best)."""
    if not others:
        return None
    below = sum(1 for o in others if o < own)
    ties = sum(1 for o in others if o == own)
    return 100.0 * (below + 0.5 * ties) / len(others)


def _goodness(ind, s: IndicatorScore) -> float | None:
    """A number that grows in the indicator's good direction, or None when not comparable."""
    from pingyi.spec.models import Direction

    if s.status != "scored" or s.value is None:
        return None
    if ind.direction is Direction.UP:
        return s.value
    if ind.direction is Direction.DOWN:
        return -s.value
    if ind.direction is Direction.TARGET:
        return s.score
    return None


def peer_view(results: list[ProviderResult], group_of: dict[str, tuple[str, str]], indicators: dict) -> dict:
    """Per provider: its percentile among its peers (same region and level) for the total score and for
    every scored indicator, in the good direction (the scored value; the score for target-band
    indicators), with the number of peers compared (`peer_n`, the provider included)."""
    groups: dict[tuple[str, str], list[ProviderResult]] = {}
    for r in results:
        groups.setdefault(group_of[r.fixmedins_code], []).append(r)
    out: dict[str, dict] = {}
    for (region, level), members in groups.items():
        totals = {m.fixmedins_code: m.total for m in members if m.total is not None}
        goods = {code: {m.fixmedins_code: g for m in members
                        if (g := _goodness(ind, m.indicators[code])) is not None}
                 for code, ind in indicators.items()}
        for r in members:
            me = r.fixmedins_code
            entry = {"region": region, "level": level, "peer_n": len(totals),
                     "peer_percentile": percentile_among(totals[me], [t for c, t in totals.items() if c != me])
                     if me in totals else None, "indicators": {}}
            for code, values in goods.items():
                entry["indicators"][code] = {
                    "peer_n": len(values),
                    "peer_percentile": percentile_among(values[me], [g for c, g in values.items() if c != me])
                    if me in values else None}
            out[me] = entry
    return out
