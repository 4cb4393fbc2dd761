"""The prepared results every report context starts from: lookups by code, peer-group statistics
(each provider's peer group as results.json names it, region, all), the data-quality notes, and the small label lookups the card and the
committee contexts share. Pure: it reads only its arguments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from math import fsum
from typing import Any

from pingyi import text as tx
from pingyi.report import labels as lb
from pingyi.score.aggregate import competition_ranks

LEVEL_ORDER = ("三级", "二级", "一级及基层")
PEER_CAUTION = 5  # fewer peers than this: every rank and percentile on a card carries a caution
PEER_KEYS_OLD = ("region", "level")  # a results.json before 1.4 compared same region and level
GREY_LIGHTS = ("grey", "none")
FIX_FIRST_N = 3
CHANGES_N = 5


def money_float(x: Any) -> float | None:
    d = tx.to_decimal(x)
    return None if d is None else float(d)


# --------------------------------------------------------------------------- prepared results


@dataclass(frozen=True)
class GroupStats:
    """Averages of a peer group (providers of one region and level, or one region, or all)."""

    key: tuple
    n: int
    codes: tuple[str, ...]
    total_mean: float | None
    dimension_mean: dict[str, float | None]
    indicator_mean: dict[str, float | None]
    ranks: dict[str, int]  # competition rank by total inside the group


@dataclass(frozen=True)
class Prepared:
    """The results with the lookups and peer statistics every context needs (computed once)."""

    results: Mapping[str, Any]
    lang: tx.Lang
    L: dict[str, str]
    indicators: dict[str, dict]  # catalogue by code, in catalogue order
    primaries: list[dict]
    providers: dict[str, dict]  # by fixmedins_code, in results order
    groups: dict[tuple, GroupStats]
    quality_by_provider: dict[str, dict]
    quality_summary: dict
    graded: int
    extra: dict = field(default_factory=dict)
    # the committee ledger's rectification items as read for this report (ledger.rectification_snapshot)
    ledger: Mapping[str, Any] | None = None
    # pingyi uncertainty's figures of these results (uncertainty.json), when the report was given them
    uncertainty: Mapping[str, Any] | None = None


def mean(xs: Iterable[float]) -> float:
    """Arithmetic mean with an exactly rounded sum (statistics.mean is ~20x slower)."""
    xs = list(xs)
    return fsum(xs) / len(xs)


def mean_or_none(xs: Iterable[float | None]) -> float | None:
    vals = [x for x in xs if x is not None]
    return mean(vals) if vals else None


def _group(key: tuple, members: list[dict], primaries: list[dict], indicators: Iterable[str]) -> GroupStats:
    codes = tuple(p["fixmedins_code"] for p in members)
    graded = [(p["fixmedins_code"], p["total_score"], bool(p.get("veto"))) for p in members
              if p.get("total_score") is not None]  # fmt: skip
    dim = {
        pc["code"]: mean_or_none(
            next((x["score"] for x in p["primaries"] if x["code"] == pc["code"]), None) for p in members
        )
        for pc in primaries
    }
    ind_values: dict[str, list] = {c: [] for c in indicators}
    for p in members:
        for row in p["indicators"]:
            if row["code"] in ind_values and row.get("value") is not None:
                ind_values[row["code"]].append(row["value"])
    return GroupStats(
        key=key,
        n=len(members),
        codes=codes,
        total_mean=mean_or_none(t for _, t, _veto in graded),
        dimension_mean=dim,
        indicator_mean={c: (mean(v) if v else None) for c, v in ind_values.items()},
        ranks=competition_ranks(graded),
    )


def quality_from_rows(rows: Iterable[Mapping[str, Any]]) -> dict[str, dict]:
    """Per-provider quality notes from quality.csv rows (used when results.json carries none)."""
    out: dict[str, dict] = {}
    for r in rows:
        failed = int(float(r.get("failed") or 0))
        code = r.get("fixmedins_code") or ""
        if not failed or not code:
            continue
        checked = int(float(r.get("checked") or 0))
        entry = out.setdefault(code, {"checks": [], "rejected": 0, "flagged": 0})
        entry["checks"].append(
            {k: r.get(k) for k in ("table", "check", "column", "dimension", "reason_code", "severity")}
            | {"failed": failed, "checked": checked, "rate": failed / checked if checked else None}
        )
        entry["rejected" if r.get("severity") == "reject" else "flagged"] += failed
    return out


def quality_summary_from_rows(
    rows: Iterable[Mapping[str, Any]], rejected_counts: Iterable[Mapping[str, Any]] = ()
) -> dict:
    """Committee quality overview from quality.csv rows and counts of rejected.csv by table and reason."""
    agg: dict[tuple, list[int]] = {}
    sev: dict[tuple, str] = {}
    for r in rows:
        key = (r.get("table") or "", r.get("check") or "", r.get("reason_code") or "")
        a = agg.setdefault(key, [0, 0])
        a[0] += int(float(r.get("failed") or 0))
        a[1] += int(float(r.get("checked") or 0))
        sev[key] = r.get("severity") or ""
    top = [
        {
            "table": k[0],
            "check": k[1],
            "reason_code": k[2],
            "severity": sev[k],
            "failed": v[0],
            "checked": v[1],
            "rate": v[0] / v[1] if v[1] else None,
        }
        for k, v in agg.items()
        if v[0] > 0
    ]
    top.sort(key=lambda x: (-x["failed"], x["table"], x["check"]))
    return {"top_failures": top[:10], "rejected_by_reason": [dict(r) for r in rejected_counts]}


def prepare(
    results: Mapping[str, Any],
    *,
    lang: tx.Lang = "zh",
    quality_rows: Iterable[Mapping] | None = None,
    rejected_counts: Iterable[Mapping] | None = None,
    ledger: Mapping[str, Any] | None = None,
    uncertainty: Mapping[str, Any] | None = None,
) -> Prepared:
    if lang not in tx.LANGS:
        raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(tx.LANGS)}")
    indicators = {i["code"]: i for i in results["indicators"]}
    primaries = list(results["primaries"])
    providers = {p["fixmedins_code"]: p for p in results["providers"]}
    by_rl: dict[tuple, list[dict]] = {}
    by_r: dict[tuple, list[dict]] = {}
    for p in providers.values():
        by_rl.setdefault(("rl", p.get("region"), p.get("level")), []).append(p)
        by_r.setdefault(("r", p.get("region")), []).append(p)
    groups = {k: _group(k, v, primaries, indicators) for k, v in (*by_rl.items(), *by_r.items())}
    wanted = {peer_key(p) for p in providers.values()}
    by_peer: dict[tuple, list[dict]] = {k: [] for k in wanted}
    for p in providers.values():
        for key in wanted:
            if all(_peer_value(p, k) == v for k, v in zip(key[1], key[2], strict=True)):
                by_peer[key].append(p)
    groups.update({k: _group(k, v, primaries, indicators) for k, v in by_peer.items()})
    groups[("all",)] = _group(("all",), list(providers.values()), primaries, indicators)
    rows = list(quality_rows or ())
    qbp = {p["fixmedins_code"]: p["quality"] for p in providers.values() if p.get("quality")}
    if not qbp and rows:
        qbp = quality_from_rows(rows)
    summary = dict(results.get("quality") or {})
    if not summary and (rows or rejected_counts):
        summary = quality_summary_from_rows(rows, rejected_counts or ())
    graded = sum(1 for p in providers.values() if p.get("total_score") is not None)
    return Prepared(
        results=results,
        lang=lang,
        L=lb.LABELS[lang],
        indicators=indicators,
        primaries=primaries,
        providers=providers,
        groups=groups,
        quality_by_provider=qbp,
        quality_summary=summary,
        graded=graded,
        ledger=ledger,
        uncertainty=uncertainty,
    )


def prepare_lookups(results: Mapping[str, Any], *, lang: tx.Lang = "zh") -> Prepared:
    """The lookups of `prepare` without its peer statistics and data-quality notes (the workbook's
    summary, indicator and adjustment sheets need only these): proportional to the providers."""
    if lang not in tx.LANGS:
        raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(tx.LANGS)}")
    providers = {p["fixmedins_code"]: p for p in results["providers"]}
    return Prepared(
        results=results,
        lang=lang,
        L=lb.LABELS[lang],
        indicators={i["code"]: i for i in results["indicators"]},
        primaries=list(results["primaries"]),
        providers=providers,
        groups={},
        quality_by_provider={},
        quality_summary={},
        graded=sum(1 for p in providers.values() if p.get("total_score") is not None),
    )


def peer_ranks(providers: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Each graded provider's rank by total inside its peer group (the group's `ranks` in `prepare`):
    the group of `peer_key(p)` holds every provider with the same values of its keys. Providers are
    indexed by the values of each distinct list of keys, so this is linear in the providers."""
    providers = list(providers)
    keys = {peer_key(p)[1] for p in providers}
    index: dict[tuple, list[Mapping[str, Any]]] = {}
    for p in providers:
        for k in keys:
            index.setdefault((k, tuple(_peer_value(p, x) for x in k)), []).append(p)
    ranked: dict[tuple, dict[str, int]] = {}
    out: dict[str, int] = {}
    for p in providers:
        key = peer_key(p)
        ranks = ranked.get(key)
        if ranks is None:
            members = index.get((key[1], key[2]), [])
            graded = [(m["fixmedins_code"], m["total_score"], bool(m.get("veto"))) for m in members
                      if m.get("total_score") is not None]  # fmt: skip
            ranks = ranked[key] = competition_ranks(graded)
        if p["fixmedins_code"] in ranks:
            out[p["fixmedins_code"]] = ranks[p["fixmedins_code"]]
    return out


# --------------------------------------------------------------------------- small lookups


def region_label(prep: Prepared, region: str | None) -> str:
    if region is None:
        return "—"
    if prep.lang == "en":
        return tx.REGION_WORDS_EN.get(region, region)
    return (prep.results.get("regions") or {}).get(region, region)


def level_label(prep: Prepared, level: str | None) -> str:
    if level is None:
        return "—"
    return tx.LEVEL_WORDS[prep.lang].get(level, level)


def name_of(prep: Prepared, item: Mapping) -> str:
    if prep.lang == "en" and item.get("name_en"):
        return str(item["name_en"])
    return str(item.get("name_zh", item.get("code", "")))


def grade_of(prep: Prepared, p: Mapping) -> str:
    if prep.lang == "en":
        return p.get("grade_en") or p.get("grade") or tx.NOT_GRADED["en"]
    return p.get("grade") or tx.NOT_GRADED["zh"]


def light_of(prep: Prepared, light: str | None) -> dict:
    light = light or "grey"
    return {
        "key": light,
        "label": tx.LIGHT_SHORT[prep.lang].get(light, light),
        "colour": lb.LIGHT_COLOURS.get(light, "#999"),
    }


def _peer_value(p: Mapping, key: str) -> str:
    if key == "type":
        return str((p.get("peer_group") or {}).get("type") or "")
    return str(p.get(key) or "")


def peer_key(p: Mapping) -> tuple:
    """The key of the provider's peer group in Prepared.groups: the keys its peers share and its values."""
    keys = tuple((p.get("peer_group") or {}).get("keys") or PEER_KEYS_OLD)
    return ("peer", keys, tuple(_peer_value(p, k) for k in keys))


def peer_group_name(prep: Prepared, p: Mapping) -> str:
    """The peer group in words: 东部·二级·妇幼 (the values of its keys), or all providers."""
    keys = (p.get("peer_group") or {}).get("keys") or PEER_KEYS_OLD
    words = {
        "region": lambda: region_label(prep, p.get("region")),
        "level": lambda: level_label(prep, p.get("level")),
        "type": lambda: lb.provider_type_label(_peer_value(p, "type"), prep.lang),
    }
    return "·".join(words[k]() for k in keys) if keys else prep.L["all_providers"]


def peer_rank_group(prep: Prepared, p: Mapping) -> GroupStats:
    """The provider's peer group (results.json peer_group), whatever its size: peer rank and counts."""
    return prep.groups[peer_key(p)]


def peer_group(prep: Prepared, p: Mapping) -> tuple[GroupStats, str]:
    """The comparison group for averages: the provider's peer group if it has another member, else the
    region, else all."""
    L = prep.L
    own = prep.groups.get(peer_key(p))
    region = region_label(prep, p.get("region"))
    if own is not None and own.n >= 2:
        return own, L["peer_group_peers"].format(group=peer_group_name(prep, p), n=own.n)
    r = prep.groups.get(("r", p.get("region")))
    if r is not None and r.n >= 2:
        return r, L["peer_group_region"].format(region=region, n=r.n)
    a = prep.groups[("all",)]
    return a, L["peer_group_all"].format(n=a.n)


def trend_of(direction: str, delta: float | None) -> str:
    """improved / worsened / same / none (target and monitor indicators have no single good direction)."""
    if delta is None:
        return "none"
    if delta == 0:
        return "same"
    if direction == "up":
        return "improved" if delta > 0 else "worsened"
    if direction == "down":
        return "improved" if delta < 0 else "worsened"
    return "moved"


def gap_display(prep: Prepared, row: Mapping, meta: Mapping) -> str:
    """How far from the baseline (or, for a target band, from the band's nearer edge), as the scoring rule
    measured it: a share of that reference in relative-mode lights (when it is not 0), else in the unit."""
    gap = row.get("gap")
    if gap is None:
        return "—"
    zh = prep.lang == "zh"
    reference = row.get("baseline")
    if meta["rule"] == "target_range":
        low, high, value = meta["rule_params"]["low"], meta["rule_params"]["high"], row.get("value")
        reference = low if value is not None and value < low else high
    relative = meta["lights"]["mode"] == "relative" and reference not in (None, 0)
    amount = f"{abs(gap):.0%}" if relative else tx.format_value(abs(gap), meta.get("unit", ""), prep.lang)
    if gap > 0:
        return f"差 {amount}" if zh else f"{amount} worse"
    if gap < 0:
        return f"优 {amount}" if zh else f"{amount} better"
    return "持平" if zh else "equal"
