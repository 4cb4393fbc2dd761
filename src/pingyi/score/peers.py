"""Where a provider stands among its peers (same region and level): percentiles of its total and of
each scored indicator, in the indicator's good direction (100 = best)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pingyi.score.aggregate import ProviderResult
from pingyi.score.indicator import IndicatorScore
from pingyi.spec.models import Direction, IndicatorSpec
from pingyi.text import Status


@dataclass(frozen=True)
class PeerStanding:
    n: int  # peers compared, the provider included
    percentile: float | None  # None: the provider has no comparable value


@dataclass(frozen=True)
class PeerView:
    region: str
    level: str
    total: PeerStanding
    indicators: Mapping[str, PeerStanding]


def percentile_among(own: float, others: Sequence[float]) -> float | None:
    """Share of the other peers this provider does better than, ties counting half, 0-100 (100 = best)."""
    if not others:
        return None
    below = sum(1 for o in others if o < own)
    ties = sum(1 for o in others if o == own)
    return 100.0 * (below + 0.5 * ties) / len(others)


def percentile_in(own: float, ordered: Sequence[float]) -> float | None:
    """percentile_among(own, the others) from the sorted values of the whole group, `own` among them:
    two bisections instead of a pass over the group, so a group of n costs n log n, not n squared."""
    if len(ordered) < 2:
        return None
    below = bisect_left(ordered, own)
    ties = bisect_right(ordered, own) - below - 1  # the provider itself is not its own peer
    return 100.0 * (below + 0.5 * ties) / (len(ordered) - 1)


def _goodness(ind: IndicatorSpec, s: IndicatorScore) -> float | None:
    """A number that grows in the indicator's good direction, or None when not comparable."""
    if s.status is not Status.SCORED or s.value is None:
        return None
    if ind.direction is Direction.UP:
        return s.value
    if ind.direction is Direction.DOWN:
        return -s.value
    if ind.direction is Direction.TARGET:
        return s.score
    return None


def peer_view(
    results: Sequence[ProviderResult], group_of: Mapping[str, tuple[str, str]], indicators: Mapping[str, IndicatorSpec]
) -> dict[str, PeerView]:
    """Per provider: its percentile among its peers (same region and level) for the total score and for
    every scored indicator, in the good direction (the scored value; the score for target-band
    indicators), with the number of peers compared (the provider included)."""
    groups: dict[tuple[str, str], list[ProviderResult]] = {}
    for r in results:
        groups.setdefault(group_of[r.fixmedins_code], []).append(r)
    out: dict[str, PeerView] = {}
    for (region, level), members in groups.items():
        totals = {m.fixmedins_code: m.total for m in members if m.total is not None}
        goods = {
            code: {m.fixmedins_code: g for m in members if (g := _goodness(ind, m.indicators[code])) is not None}
            for code, ind in indicators.items()
        }
        ordered_totals = sorted(totals.values())
        ordered = {code: sorted(values.values()) for code, values in goods.items()}
        for r in members:
            me = r.fixmedins_code
            total = PeerStanding(len(totals), percentile_in(totals[me], ordered_totals) if me in totals else None)
            standings = {
                code: PeerStanding(len(values), percentile_in(values[me], ordered[code]) if me in values else None)
                for code, values in goods.items()
            }
            out[me] = PeerView(region, level, total, standings)
    return out
