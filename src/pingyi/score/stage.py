"""The score stage as the pipeline calls it: every provider's indicators scored against their baselines
(with funnel lights and case-mix notes), aggregated to dimensions and a total, graded and ranked,
placed among their peers; then the prepayment adjustments.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from pingyi.compute.indicators import IndicatorValue
from pingyi.compute.measures import MeasureTable
from pingyi.data.providers import ProviderInfo
from pingyi.numbers import money
from pingyi.score.adjust import Adjustment, AdjustmentInput, Budget, compute_adjustments
from pingyi.score.aggregate import ProviderResult, aggregate_provider, rank_results, vetoes_of
from pingyi.score.casemix import CasemixNote, score_with_casemix
from pingyi.score.funnel import FunnelSet, fit_funnels
from pingyi.score.indicator import IndicatorScore, score_indicator
from pingyi.score.peers import PeerMember, PeerView, peer_view
from pingyi.score.vector import score_column
from pingyi.spec.models import LEVELS
from pingyi.spec.project import Project
from pingyi.text import Status
from pingyi.weights.combined import DataSource, SideBySide, weigh_values
from pingyi.weights.tree import WeightTree


@dataclass(frozen=True)
class Scored:
    """What the score stage made of the indicator values."""

    results: tuple[ProviderResult, ...]  # in provider order, ranked
    casemix_notes: Mapping[str, Mapping[str, CasemixNote]]  # provider -> indicator -> both judgements
    funnels: Mapping[str, FunnelSet]  # funnel-mode indicator -> its fit and points
    peers: Mapping[str, PeerView]  # provider -> its peer group (policy.yaml peers) and its standing in it
    tree: WeightTree | None = None  # the weights the totals were aggregated with (None: the project's AHP tree)
    weighting: SideBySide | None = None  # AHP, objective and combined weights, when a combination is declared


def score_provider(
    project: Project,
    p: ProviderInfo,
    values: Mapping[str, IndicatorValue],
    measures: MeasureTable,
    funnels: Mapping[str, FunnelSet],
) -> tuple[dict[str, IndicatorScore], dict[str, CasemixNote]]:
    """Every indicator of one provider, and the case-mix notes of those with an adjusted formula."""
    year = project.year
    level = p.level if p.level in LEVELS else None
    cur, pri = measures.get(p.code, year), measures.get(p.code, year - 1)
    scores: dict[str, IndicatorScore] = {}
    notes: dict[str, CasemixNote] = {}
    for code, ind in project.indicators.items():
        v = values[code]
        base = project.baseline(code, p.region, level) if level else None
        bench = project.baseline(code, p.region, level, "benchmark") if level else None
        fit = funnels[code].fit if code in funnels else None
        scores[code] = score_indicator(
            ind,
            v.value,
            base,
            benchmark=bench,
            prior=v.prior,
            volume=v.volume,
            funnel=fit,
            absence=v.absence,
            absent=v.absent,
        )
        if ind.adjusted_formula is not None:
            scores[code], note = score_with_casemix(ind, v, scores[code], base, bench, fit, cur, pri)
            if note is not None:
                notes[code] = note
    return scores, notes


def score_columns(
    project: Project,
    providers: Sequence[ProviderInfo],
    values: Mapping[str, Mapping[str, IndicatorValue]],
    measures: MeasureTable,
    funnels: Mapping[str, FunnelSet],
) -> tuple[list[dict[str, IndicatorScore]], list[dict[str, CasemixNote]]]:
    """score_provider for every provider, one indicator at a time over all providers (the numbers by
    pingyi.score.vector); the same scores and notes, in the same order."""
    year = project.year
    groups = [(p.region, p.level if p.level in LEVELS else None) for p in providers]
    scores: list[dict[str, IndicatorScore]] = [{} for _ in providers]
    notes: list[dict[str, CasemixNote]] = [{} for _ in providers]
    for code, ind in project.indicators.items():
        known: dict[tuple[str, str | None], tuple[float | None, float | None]] = {}
        for region, level in dict.fromkeys(groups):  # a baseline per region and level, not per provider
            known[(region, level)] = (
                (project.baseline(code, region, level), project.baseline(code, region, level, "benchmark"))
                if level
                else (None, None)
            )
        base = [known[g][0] for g in groups]
        bench = [known[g][1] for g in groups]
        vals = [values[p.code][code] for p in providers]
        fit = funnels[code].fit if code in funnels else None
        column = score_column(
            ind, [v.value for v in vals], base, bench, [v.prior for v in vals], [v.volume for v in vals], fit,
            [v.absence for v in vals], [v.absent for v in vals],
        )  # fmt: skip
        for i, s in enumerate(column):
            scores[i][code] = s
        if ind.adjusted_formula is not None:
            for i, p in enumerate(providers):
                cur, pri = measures.get(p.code, year), measures.get(p.code, year - 1)
                adjusted, note = score_with_casemix(ind, vals[i], column[i], base[i], bench[i], fit, cur, pri)
                scores[i][code] = adjusted
                if note is not None:
                    notes[i][code] = note
    return scores, notes


def score_all(
    project: Project,
    tree: WeightTree,
    providers: Sequence[ProviderInfo],
    values: Mapping[str, Mapping[str, IndicatorValue]],
    measures: MeasureTable,
    progress: Callable[[], None] | None = None,
) -> Scored:
    # funnel lights need every provider's value first: phi / tau^2 are estimated across providers
    funnels = fit_funnels(project, providers, values)
    columns, column_notes = score_columns(project, providers, values, measures, funnels)
    scored: list[tuple[ProviderInfo, dict[str, IndicatorScore]]] = list(zip(providers, columns, strict=True))
    notes: dict[str, Mapping[str, CasemixNote]] = {
        p.code: provider_notes for p, provider_notes in zip(providers, column_notes, strict=True) if provider_notes
    }
    # a declared combination weighs the indicators by this year's scored values as well as by AHP:
    # the objective part needs every provider's values before any total is aggregated
    weighting = combined_weighting(project, tree, scored) if project.hierarchy.combination is not None else None
    used = tree.reweighted(weighting.combined.weights) if weighting is not None else tree
    results: list[ProviderResult] = []
    for p, scores in scored:
        vetoes = vetoes_of(project.policy, measures.get(p.code, project.year))
        results.append(aggregate_provider(p.code, scores, used, project.policy, vetoes))
        if progress is not None:
            progress()
    ranked = tuple(rank_results(results))
    peer_policy = project.policy.peers
    members = [PeerMember(p.code, p.region, p.level, peer_policy.type_of(p.type), p.type) for p in providers]
    peers = peer_view(ranked, members, project.indicators, peer_policy)
    return Scored(results=ranked, casemix_notes=notes, funnels=funnels, peers=peers, tree=used, weighting=weighting)


def combined_weighting(
    project: Project, tree: WeightTree, scored: Sequence[tuple[ProviderInfo, Mapping[str, IndicatorScore]]]
) -> SideBySide:
    """The AHP, objective and combined weights of this run's scored values (the value each provider is
    scored on, status scored only), providers in code order as `pingyi weights --results` reads them."""
    ordered = sorted(scored, key=lambda ps: ps[0].code)
    values = {
        code: [s[code].value if s[code].status is Status.SCORED else None for _p, s in ordered]
        for code in project.indicators
    }
    source = DataSource(
        results="this run's scored values", results_sha256="", manifest_sha256=None, manifest_match=None,
        year=project.year, providers=len(ordered),
    )  # fmt: skip
    return replace(weigh_values(project, tree, values, source), used_in_scores=True)


def adjust_all(
    project: Project,
    providers: Sequence[ProviderInfo],
    results: Sequence[ProviderResult],
    measures: MeasureTable,
    history: Mapping[str, Sequence[str]],
) -> tuple[list[Adjustment], Budget]:
    """Prepayment adjustments; a provider without a prepayment is sized at its prior-year `base_measure`
    / 12 (about one month)."""
    base_measure = project.policy.adjustment.base_measure
    violation_measure = project.policy.credit.violation_measure
    rows = []
    for p, r in zip(providers, results, strict=True):
        prepay, source = p.prepayment, "providers table"
        if prepay is None:
            prior_fund = measures.get(p.code, project.year - 1).get(base_measure)
            if prior_fund:
                prepay, source = money(Decimal(str(prior_fund)) / 12), f"prior-year {base_measure} / 12"
        rows.append(
            AdjustmentInput(
                fixmedins_code=p.code,
                grade=r.grade,
                total=r.total,
                prepayment=prepay,
                prepayment_source=source if prepay is not None else "none",
                history=tuple(history.get(p.code, ())),
                veto=r.veto,
                credit_rating=p.credit_rating,
                # None when the measure is not defined or the provider has no rows in its table: unknown
                violations=measures.get(p.code, project.year).get(violation_measure),
            )
        )
    return compute_adjustments(rows, project.policy)
