"""Who a provider is compared with and where it stands among them.

Peer groups follow policy.yaml `peers`: the providers sharing region, level and provider type (the
`keys`); a group with fewer than `min_size` providers drops the `merge` keys in order (by default
region, then level; never type, so a 妇幼保健院 is not ranked among general hospitals) and says so in a
note. A provider whose type is blank or not in `peers.type_aliases` is compared without the type key,
with a note. Percentiles of the total and of each scored indicator are in the indicator's good
direction (100 = best)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pingyi.score.aggregate import ProviderResult
from pingyi.score.indicator import IndicatorScore
from pingyi.spec.models import Direction, IndicatorSpec, PeerPolicy
from pingyi.text import Status


@dataclass(frozen=True)
class PeerStanding:
    n: int  # peers compared, the provider included
    percentile: float | None  # None: the provider has no comparable value


KEY_ZH = {"region": "地区", "level": "级别", "type": "类型"}


@dataclass(frozen=True)
class PeerMember:
    """What peer groups read of a provider: its region, level and provider type (None: not known)."""

    code: str
    region: str
    level: str
    type: str | None
    fixmedins_type: str | None = None  # as the export wrote it, for the note when it is not mapped

    def value(self, key: str) -> str | None:
        return {"region": self.region, "level": self.level, "type": self.type}[key]


@dataclass(frozen=True)
class PeerGroup:
    """A provider's peer group: the keys its peers share with it, how many they are (it included),
    the keys dropped to reach the minimum, and the note that says so (None: no merge, type known)."""

    keys: tuple[str, ...]
    values: tuple[str, ...]  # the provider's value of each key
    n: int
    merged: tuple[str, ...]
    note: str | None = None
    note_zh: str | None = None


@dataclass(frozen=True)
class PeerView:
    region: str
    level: str
    total: PeerStanding
    indicators: Mapping[str, PeerStanding]
    group: PeerGroup | None = None
    type: str | None = None  # the provider type (policy.yaml peers.type_aliases), None: not known


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


def _keys_en(keys: Sequence[str]) -> str:
    return ", ".join(keys) if keys else "all providers"


def _keys_zh(keys: Sequence[str]) -> str:
    return "同" + "同".join(KEY_ZH[k] for k in keys) if keys else "全部机构"


def assign_peer_groups(members: Sequence[PeerMember], policy: PeerPolicy) -> dict[str, PeerGroup]:
    """Per provider: its peer group under `policy` (see the module docstring). Deterministic: only the
    members' values matter, not their order."""
    counts: dict[tuple[str, ...], dict[tuple[str | None, ...], int]] = {}

    def size(keys: tuple[str, ...], m: PeerMember) -> int:
        if keys not in counts:
            table: dict[tuple[str | None, ...], int] = {}
            for other in members:
                vals = tuple(other.value(k) for k in keys)
                table[vals] = table.get(vals, 0) + 1
            counts[keys] = table
        return counts[keys].get(tuple(m.value(k) for k in keys), 0)

    out: dict[str, PeerGroup] = {}
    for m in members:
        keys = tuple(policy.keys)
        notes_en: list[str] = []
        notes_zh: list[str] = []
        if "type" in keys and m.type is None:
            keys = tuple(k for k in keys if k != "type")
            shown = (m.fixmedins_type or "").strip()
            notes_en.append(
                f"provider type unknown (fixmedins_type '{shown}' is not in policy.yaml peers.type_aliases): "
                "compared without the type"
                if shown
                else "provider type unknown (fixmedins_type is blank): compared without the type"
            )
            notes_zh.append(
                f"机构类型未知（fixmedins_type“{shown}”不在 policy.yaml peers.type_aliases 中），不分类型比较"
                if shown
                else "机构类型未知（fixmedins_type 为空），不分类型比较"
            )
        first, first_n = keys, size(keys, m)
        merged: list[str] = []
        for key in policy.merge:
            if size(keys, m) >= policy.min_size:
                break
            if key in keys:
                keys = tuple(k for k in keys if k != key)
                merged.append(key)
        n = size(keys, m)
        if merged:
            notes_en.append(
                f"fewer than {policy.min_size} providers share {_keys_en(first)} ({first_n}): "
                f"compared within {_keys_en(keys)} ({n})"
            )
            notes_zh.append(
                f"{_keys_zh(first)}机构不足{policy.min_size}家（{first_n}家），合并为{_keys_zh(keys)}比较（{n}家）"
            )
        if n < policy.min_size:
            notes_en.append(f"only {n} peers (fewer than {policy.min_size}): read ranks and percentiles with caution")
            notes_zh.append(f"同组仅{n}家（不足{policy.min_size}家），排名与分位仅供参考")
        out[m.code] = PeerGroup(
            keys=keys,
            values=tuple(m.value(k) or "" for k in keys),
            n=n,
            merged=tuple(merged),
            note="; ".join(notes_en) or None,
            note_zh="；".join(notes_zh) or None,
        )
    return out


def peer_view(
    results: Sequence[ProviderResult],
    group_of: Mapping[str, tuple[str, str]] | Sequence[PeerMember],
    indicators: Mapping[str, IndicatorSpec],
    policy: PeerPolicy | None = None,
) -> dict[str, PeerView]:
    """Per provider: its percentile among its peers for the total score and for every scored indicator,
    in the good direction (the scored value; the score for target-band indicators), with the number of
    peers compared (the provider included). Peers are the members of its peer group (assign_peer_groups
    under `policy`); a mapping code -> (region, level) compares same region and level, without merging."""
    if isinstance(group_of, Mapping):
        members = [PeerMember(code, region, level, None) for code, (region, level) in group_of.items()]
        policy = PeerPolicy(keys=["region", "level"], merge=[], min_size=1)
    else:
        members = list(group_of)
    policy = policy or PeerPolicy()
    assigned = assign_peer_groups(members, policy)
    info = {m.code: m for m in members}
    by_code = {r.fixmedins_code: r for r in results}
    # each distinct group once: its members (in results order) and the providers it is the group of
    assigned_to: dict[tuple[tuple[str, ...], tuple[str, ...]], list[str]] = {}
    for me, group in assigned.items():
        if me in by_code:
            assigned_to.setdefault((group.keys, group.values), []).append(me)
    index: dict[tuple[str, ...], dict[tuple[str, ...], list[ProviderResult]]] = {}
    out: dict[str, PeerView] = {}
    for (keys, values), mine in sorted(assigned_to.items()):
        if keys not in index:  # results by their values of these keys: one pass per distinct key set
            index[keys] = {}
            for r in results:
                vals = tuple(info[r.fixmedins_code].value(k) or "" for k in keys)
                index[keys].setdefault(vals, []).append(r)
        roster = index[keys].get(values, [])
        totals = {m.fixmedins_code: m.total for m in roster if m.total is not None}
        goods = {
            code: {m.fixmedins_code: g for m in roster if (g := _goodness(ind, m.indicators[code])) is not None}
            for code, ind in indicators.items()
        }
        ordered_totals = sorted(totals.values())
        ordered = {code: sorted(vals.values()) for code, vals in goods.items()}
        for me in mine:
            total = PeerStanding(len(totals), percentile_in(totals[me], ordered_totals) if me in totals else None)
            standings = {
                code: PeerStanding(len(vals), percentile_in(vals[me], ordered[code]) if me in vals else None)
                for code, vals in goods.items()
            }
            out[me] = PeerView(info[me].region, info[me].level, total, standings, assigned[me], info[me].type)
    return out
