"""Weighted aggregation: indicator scores -> dimension (primary) scores -> total, grade, rank.

Primary score = Σ local weight × score over the primary's *scored* indicators, divided by the sum
of those local weights: the weight of an insufficient (grey) or monitor-only indicator is
redistributed proportionally within its primary dimension, never scored as 0 or 100 (CMS star
ratings re-normalise missing groups the same way). A primary with no scored indicator is itself
insufficient and its weight is redistributed across the other primaries. Both levels are 0-100.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from pingyi.score.indicator import IndicatorScore
from pingyi.score.lights import dimension_light, grade_light
from pingyi.spec.models import PolicyFile
from pingyi.text import NOT_GRADED, Light, Status
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


@dataclass(frozen=True)
class ProviderResult:
    fixmedins_code: str
    total: float | None
    grade: str
    grade_en: str
    light: Light
    primaries: tuple[PrimaryScore, ...]
    indicators: Mapping[str, IndicatorScore]
    effective_weight: Mapping[str, float]  # indicator -> effective global weight (0 if not scored)
    contribution: Mapping[str, float]  # indicator -> effective global weight × score
    veto: tuple[str, ...] = ()
    rank: int | None = None  # set by rank_results, over every graded provider
    eligibility: str = ""  # why the provider was not graded, or graded as failing for missing data ("": eligible)
    eligibility_zh: str = ""


def grade_for(total: float | None, policy: PolicyFile) -> tuple[str, str]:
    """Bands are inclusive at their lower edge: 90.0 is 优秀 with the default bands."""
    if total is None:
        return policy.insufficient_grade, NOT_GRADED["en"]
    for band in policy.grades:
        if total >= band.min_score:
            return band.name, band.name_en
    return policy.grades[-1].name, policy.grades[-1].name_en  # pragma: no cover - lowest band starts at 0


def vetoes_of(policy: PolicyFile, current: Mapping[str, float | None]) -> tuple[str, ...]:
    """一票否决 rules whose measure (this year) reaches its minimum."""
    return tuple(rule.name for rule in policy.veto if (current.get(rule.measure) or 0) >= rule.minimum)


def aggregate_provider(
    code: str, scores: Mapping[str, IndicatorScore], tree: WeightTree, policy: PolicyFile, vetoes: Iterable[str] = ()
) -> ProviderResult:
    primaries: list[PrimaryScore] = []
    within: dict[str, float] = {}  # indicator -> effective local weight
    for p in tree.primary:
        scored = [s for s in p.secondary if scores[s.code].score is not None]
        denom = sum(s.local_weight for s in scored)
        insufficient = tuple(s.code for s in p.secondary if scores[s.code].status is Status.INSUFFICIENT)
        if not scored or denom <= 0:
            primaries.append(PrimaryScore(p.code, None, Light.GREY, p.weight, 0.0, 0, insufficient))
            continue
        value = sum(s.local_weight * (scores[s.code].score or 0.0) for s in scored) / denom
        for s in scored:
            within[s.code] = s.local_weight / denom
        primaries.append(
            PrimaryScore(p.code, value, dimension_light(value, policy), p.weight, p.weight, len(scored), insufficient)
        )
    available = sum(ps.weight for ps in primaries if ps.score is not None)
    total = None
    effective: dict[str, float] = {}
    contribution: dict[str, float] = {}
    if available > 0:
        primaries = [
            replace(ps, effective_weight=ps.weight / available if ps.score is not None else 0.0) for ps in primaries
        ]
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
    why, why_zh = _ineligible(scores, effective, tree, policy) if total is not None else ("", "")
    missing = sorted(c for c, s in scores.items() if s.status is Status.MISSING)
    if total is None and missing:
        why, why_zh = "every scored indicator lacks data", "全部计分指标无数据"
    if why:
        if missing:  # not reporting never escapes a cut: the fail grade, for money and designation
            grade = policy.fail_grade
            grade_en = next((b.name_en for b in policy.grades if b.name == grade), grade)
            why = f"{why}; mandatory data missing for {', '.join(missing)}: graded {grade} (failure to report)"
            why_zh = f"{why_zh}；{('、'.join(missing))} 应报数据缺失：按未报送处理，评为{grade}"
        else:  # no fault of the provider's (too little volume): not graded, no money moves
            total = None
            grade, grade_en = policy.insufficient_grade, NOT_GRADED["en"]
            why, why_zh = f"not graded: {why}", f"不予评级：{why_zh}"
    veto = tuple(vetoes)
    if veto and total is not None:
        grade = policy.veto_grade
        grade_en = next((b.name_en for b in policy.grades if b.name == policy.veto_grade), policy.veto_grade)
    return ProviderResult(
        code,
        total,
        grade,
        grade_en,
        grade_light(grade, policy),
        tuple(primaries),
        dict(scores),
        effective,
        contribution,
        veto,
        eligibility=why,
        eligibility_zh=why_zh,
    )


def _ineligible(
    scores: Mapping[str, IndicatorScore], effective: Mapping[str, float], tree: WeightTree, policy: PolicyFile
) -> tuple[str, str]:
    """The first eligibility rule of the policy the provider fails, in English and Chinese ("": none)."""
    rules = policy.eligibility
    scored = [c for c, s in scores.items() if s.score is not None]
    if len(scored) < rules.min_scored:
        return (
            f"{len(scored)} scored indicators, fewer than the {rules.min_scored} required",
            f"计分指标 {len(scored)} 项，少于要求的 {rules.min_scored} 项",
        )
    if rules.max_weight_ratio is not None:
        nominal = tree.global_weights()
        ratios = {c: effective.get(c, 0.0) / nominal[c] for c in scored if nominal.get(c)}
        if ratios:
            code = max(sorted(ratios), key=lambda c: ratios[c])
            if ratios[code] > rules.max_weight_ratio + 1e-9:
                return (
                    f"{code} would carry {ratios[code]:.1f}x its nominal weight after redistribution "
                    f"(cap {rules.max_weight_ratio:g}x)",
                    f"{code}有效权重为名义的{ratios[code]:.1f}倍（上限{rules.max_weight_ratio:g}倍，权重重新分配后）",
                )
    return "", ""


def competition_ranks(items: Iterable[tuple[str, float, bool]]) -> dict[str, int]:
    """Competition ranks (1, 2, 2, 4) of (code, total, last) on unrounded totals, highest first, ties
    broken for listing by code. An item marked `last` (a veto: graded 不合格 whatever its total) ranks
    after every unmarked one, among the marked by total."""
    ranks: dict[str, int] = {}
    previous: tuple[tuple[bool, float], int] | None = None
    for i, (code, total, last) in enumerate(sorted(items, key=lambda x: (x[2], -x[1], x[0])), 1):
        if previous is not None and (last, total) == previous[0]:
            ranks[code] = previous[1]
        else:
            ranks[code] = i
            previous = ((last, total), i)
    return ranks


def rank_results(results: Iterable[ProviderResult]) -> list[ProviderResult]:
    """The same results with their competition rank (`competition_ranks`: a vetoed provider after
    every provider without a veto); ungraded providers get no rank. Order is kept."""
    results = list(results)
    ranks = competition_ranks((r.fixmedins_code, r.total, bool(r.veto)) for r in results if r.total is not None)
    return [replace(r, rank=ranks.get(r.fixmedins_code)) for r in results]
