"""The report context: everything a report card or the committee report shows, as plain data.

Pure: `prepare(results, ...)` and the functions built on it read only their arguments (the parsed
results.json of `pingyi score`, optionally the rows of quality.csv and the rejected-row counts),
never a file, the clock or the environment, and return new dicts of str / int / float / None /
list / dict. The PDF, Excel and HTML renderers all render these dicts, so they cannot disagree.

Numbers are kept raw (for Excel and charts) next to their display strings (for PDF and HTML).
Percent values are fractions in results.json and stay fractions here (`value`); `*_display` adds
the unit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import fsum
from statistics import median
from typing import Any, Iterable, Mapping

from pingyi import text as tx
from pingyi.report import labels as lb

LEVEL_ORDER = ("三级", "二级", "一级及基层")
GREY_LIGHTS = ("grey", "none")
FIX_FIRST_N = 3
CHANGES_N = 5


def _money_float(x: Any) -> float | None:
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
    lang: str
    L: dict[str, str]
    indicators: dict[str, dict]  # catalogue by code, in catalogue order
    primaries: list[dict]
    providers: dict[str, dict]  # by fixmedins_code, in results order
    groups: dict[tuple, GroupStats]
    quality_by_provider: dict[str, dict]
    quality_summary: dict
    graded: int
    extra: dict = field(default_factory=dict)


def _rank(items: list[tuple[str, float]]) -> dict[str, int]:
    """Competition ranking (1, 2, 2, 4), the same rule as pingyi.aggregate.assign_ranks."""
    ranks: dict[str, int] = {}
    previous: tuple[float, int] | None = None
    for i, (code, total) in enumerate(sorted(items, key=lambda x: (-x[1], x[0])), 1):
        if previous is not None and total == previous[0]:
            ranks[code] = previous[1]
        else:
            ranks[code] = i
            previous = (total, i)
    return ranks


def mean(xs: Iterable[float]) -> float:
    """Arithmetic mean with an exactly rounded sum (statistics.mean is ~20x slower)."""
    xs = list(xs)
    return fsum(xs) / len(xs)


def _mean(xs: Iterable[float | None]) -> float | None:
    vals = [x for x in xs if x is not None]
    return mean(vals) if vals else None


def _group(key: tuple, members: list[dict], primaries: list[dict], indicators: Iterable[str]) -> GroupStats:
    codes = tuple(p["fixmedins_code"] for p in members)
    graded = [(p["fixmedins_code"], p["total_score"]) for p in members if p.get("total_score") is not None]
    dim = {pc["code"]: _mean(next((x["score"] for x in p["primaries"] if x["code"] == pc["code"]), None)
                             for p in members) for pc in primaries}
    ind_values: dict[str, list] = {c: [] for c in indicators}
    for p in members:
        for row in p["indicators"]:
            if row["code"] in ind_values and row.get("value") is not None:
                ind_values[row["code"]].append(row["value"])
    return GroupStats(key=key, n=len(members), codes=codes,
                      total_mean=_mean(t for _, t in graded), dimension_mean=dim,
                      indicator_mean={c: (mean(v) if v else None) for c, v in ind_values.items()},
                      ranks=_rank(graded))


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
        entry["checks"].append({k: r.get(k) for k in ("table", "check", "column", "dimension", "reason_code",
                                                      "severity")} | {"failed": failed, "checked": checked,
                                                                      "rate": failed / checked if checked else None})
        entry["rejected" if r.get("severity") == "reject" else "flagged"] += failed
    return out


def quality_summary_from_rows(rows: Iterable[Mapping[str, Any]], rejected_counts: Iterable[Mapping[str, Any]] = ()) -> dict:
    """Committee quality overview from quality.csv rows and counts of rejected.csv by table and reason."""
    agg: dict[tuple, list[int]] = {}
    sev: dict[tuple, str] = {}
    for r in rows:
        key = (r.get("table") or "", r.get("check") or "", r.get("reason_code") or "")
        a = agg.setdefault(key, [0, 0])
        a[0] += int(float(r.get("failed") or 0))
        a[1] += int(float(r.get("checked") or 0))
        sev[key] = r.get("severity") or ""
    top = [{"table": k[0], "check": k[1], "reason_code": k[2], "severity": sev[k], "failed": v[0], "checked": v[1],
            "rate": v[0] / v[1] if v[1] else None} for k, v in agg.items() if v[0] > 0]
    top.sort(key=lambda x: (-x["failed"], x["table"], x["check"]))
    return {"top_failures": top[:10], "rejected_by_reason": [dict(r) for r in rejected_counts]}


def prepare(results: Mapping[str, Any], *, lang: str = "zh", quality_rows: Iterable[Mapping] | None = None,
            rejected_counts: Iterable[Mapping] | None = None) -> Prepared:
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
    groups[("all",)] = _group(("all",), list(providers.values()), primaries, indicators)
    rows = list(quality_rows or ())
    qbp = {p["fixmedins_code"]: p["quality"] for p in providers.values() if p.get("quality")}
    if not qbp and rows:
        qbp = quality_from_rows(rows)
    summary = dict(results.get("quality") or {})
    if not summary and (rows or rejected_counts):
        summary = quality_summary_from_rows(rows, rejected_counts or ())
    graded = sum(1 for p in providers.values() if p.get("total_score") is not None)
    return Prepared(results=results, lang=lang, L=lb.LABELS[lang], indicators=indicators, primaries=primaries,
                    providers=providers, groups=groups, quality_by_provider=qbp, quality_summary=summary,
                    graded=graded)


# --------------------------------------------------------------------------- small lookups


def _region_label(prep: Prepared, region: str | None) -> str:
    if region is None:
        return "—"
    if prep.lang == "en":
        return tx.REGION_WORDS_EN.get(region, region)
    return (prep.results.get("regions") or {}).get(region, region)


def _level_label(prep: Prepared, level: str | None) -> str:
    if level is None:
        return "—"
    return tx.LEVEL_WORDS[prep.lang].get(level, level)


def _name(prep: Prepared, item: Mapping) -> str:
    return item.get("name_en") if prep.lang == "en" and item.get("name_en") else item.get("name_zh", item.get("code", ""))


def _grade(prep: Prepared, p: Mapping) -> str:
    if prep.lang == "en":
        return p.get("grade_en") or p.get("grade") or tx.NOT_GRADED["en"]
    return p.get("grade") or tx.NOT_GRADED["zh"]


def _light(prep: Prepared, light: str | None) -> dict:
    light = light or "grey"
    return {"key": light, "label": tx.LIGHT_SHORT[prep.lang].get(light, light), "colour": lb.LIGHT_COLOURS.get(light, "#999")}


def peer_group(prep: Prepared, p: Mapping) -> tuple[GroupStats, str]:
    """The comparison group: same region and level if it has another member, else the region, else all."""
    L = prep.L
    rl = prep.groups.get(("rl", p.get("region"), p.get("level")))
    region, level = _region_label(prep, p.get("region")), _level_label(prep, p.get("level"))
    if rl is not None and rl.n >= 2:
        return rl, L["peer_group_region_level"].format(region=region, level=level, n=rl.n)
    r = prep.groups.get(("r", p.get("region")))
    if r is not None and r.n >= 2:
        return r, L["peer_group_region"].format(region=region, n=r.n)
    a = prep.groups[("all",)]
    return a, L["peer_group_all"].format(n=a.n)


def _trend(direction: str, delta: float | None) -> str:
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


def _gap_display(prep: Prepared, row: Mapping, meta: Mapping) -> str:
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


# --------------------------------------------------------------------------- provider context


def _static(prep: Prepared, code: str) -> dict:
    """The parts of an indicator row that do not depend on the provider (computed once per indicator)."""
    cached = prep.extra.get(("static", code))
    if cached is None:
        meta, lang = prep.indicators[code], prep.lang
        unit = meta["unit"]
        cached = prep.extra[("static", code)] = {
            "code": code, "primary": meta["primary"], "name": _name(prep, meta), "name_zh": meta.get("name_zh"),
            "name_en": meta.get("name_en"), "unit": unit, "unit_label": tx.UNIT_WORDS[lang].get(unit, unit),
            "direction": meta.get("direction"), "source": tx.SOURCE_WORDS[lang].get(meta.get("source"), meta.get("source")),
            "qualitative": bool(meta.get("qualitative")), "rule": meta.get("rule"),
            # the manual's interpretation exists in Chinese only (results.json carries no English text)
            "interpretation": (meta.get("interpretation") or "") if lang == "zh" else "",
        }
    return cached


def indicator_row(prep: Prepared, p: Mapping, row: Mapping, peers: GroupStats) -> dict:
    code = row["code"]
    meta = prep.indicators[code]
    unit, lang = meta["unit"], prep.lang
    value, prior = row.get("value"), row.get("prior_value")
    delta = value - prior if value is not None and prior is not None else None
    trend = _trend(meta.get("direction", ""), delta)
    score, weight, status = row.get("score"), row.get("weight"), row.get("status")
    peer = peers.indicator_mean.get(code)
    out = dict(_static(prep, code))
    out.update({
        "value": value, "value_display": tx.format_value(value, unit, lang),
        "baseline": row.get("baseline"), "baseline_display": tx.format_value(row.get("baseline"), unit, lang),
        "benchmark": row.get("benchmark"), "benchmark_display": tx.format_value(row.get("benchmark"), unit, lang),
        "prior": prior, "prior_display": tx.format_value(prior, unit, lang),
        "delta": delta, "delta_display": tx.format_delta(delta, unit, lang), "trend": trend,
        "trend_label": prep.L.get(trend, "") if trend in ("improved", "worsened", "same") else "",
        "peer_mean": peer, "peer_mean_display": tx.format_value(peer, unit, lang),
        "score": score, "score_display": tx.format_score(score),
        "weight": weight, "weight_display": tx.format_weight(weight) if status == "scored" else "—",
        "contribution": row.get("contribution"),
        "gap": row.get("gap"), "gap_display": _gap_display(prep, row, meta),
        "light": _light(prep, row.get("light")), "status": status,
        "status_label": tx.STATUS_WORDS[lang].get(status, status),
        "reason": row.get("reason_zh") if lang == "zh" and row.get("reason_zh") else row.get("reason", ""),
        # where the provider stands among its peers (same region and level), 100 = best [issue 6]
        "peer_percentile": row.get("peer_percentile"), "peer_n": row.get("peer_n"),
        "peer_percentile_display": tx.format_percentile(row.get("peer_percentile"), row.get("peer_n")),
        "peer_percentile_short": tx.format_percentile(row.get("peer_percentile"), row.get("peer_n"), short=True),
        # case mix: both values shown, and which one counted
        "casemix": row.get("casemix") or "raw",
        "raw_value": row.get("raw_value"), "adjusted_value": row.get("adjusted_value"),
        "raw_value_display": tx.format_value(row.get("raw_value"), unit, lang),
        "adjusted_value_display": tx.format_value(row.get("adjusted_value"), unit, lang),
        "casemix_note": ((row.get("casemix_note") or {}).get("text_zh" if lang == "zh" else "text") or ""),
        # the points the total gains if this indicator reached 100 (effective weight x score gap)
        "gain": (weight or 0.0) * (100.0 - score) if score is not None and status == "scored" else 0.0,
    })
    return out


def _quality_notes(prep: Prepared, q: Mapping | None) -> dict:
    L, lang = prep.L, prep.lang
    q = dict(q or {})
    checks = []
    for c in q.get("checks") or []:
        reason = c.get("reason_code") or ""
        rate = c.get("rate")
        if rate is None and c.get("checked"):
            rate = (c.get("failed") or 0) / c["checked"]
        checks.append({
            "table": c.get("table") or "", "check": c.get("check") or "", "column": c.get("column") or "",
            "dimension": tx.QUALITY_DIMENSION_WORDS[lang].get(c.get("dimension"), c.get("dimension") or ""),
            "reason_code": reason, "reason": tx.QUALITY_REASON_WORDS_ZH.get(reason, reason) if lang == "zh" else reason.replace("_", " "),
            "severity": tx.QUALITY_SEVERITY_WORDS[lang].get(c.get("severity"), c.get("severity") or ""),
            "failed": c.get("failed") or 0, "checked": c.get("checked") or 0,
            "rate": rate, "rate_display": "—" if rate is None else f"{rate:.2%}",
        })
    checks.sort(key=lambda c: (-int(c["failed"]), c["table"], c["check"]))
    rejected, flagged = int(q.get("rejected") or 0), int(q.get("flagged") or 0)
    other = {k: v for k, v in q.items() if k not in ("checks", "rejected", "flagged")}
    summary = L["quality_summary"].format(rejected=f"{rejected:,}", flagged=f"{flagged:,}") if checks or rejected or flagged \
        else L["quality_none"]
    return {"checks": checks, "rejected": rejected, "flagged": flagged, "summary": summary,
            "other": [{"key": str(k), "value": str(v)} for k, v in sorted(other.items())]}


def _adjustment(prep: Prepared, a: Mapping | None, grade: str) -> dict:
    lang, L = prep.lang, prep.L
    a = dict(a or {})
    mode = (prep.results.get("budget") or {}).get("mode") or (prep.results.get("parameters") or {}).get("adjustment_mode", "")
    designation = a.get("designation") or "kept"
    rate, amount = tx.to_decimal(a.get("rate")), tx.to_decimal(a.get("amount"))
    mode_text = tx.ADJUSTMENT_MODE_WORDS[lang].get(mode, mode)
    if lang == "zh":
        sentence = f"{mode_text}：评议等级{grade}，预付金调整 {tx.format_rate(a.get('rate'))}，调整金额 {tx.format_money(a.get('amount'), lang, signed=True)}。"
        if a.get("prepayment") is None:
            sentence += "本机构无预付金基数，实际不发生调整。"
    else:
        sentence = (f"{mode_text}: grade {grade}, prepayment {tx.format_rate(a.get('rate'))}, amount "
                    f"{tx.format_money(a.get('amount'), lang, signed=True)}.")
        if a.get("prepayment") is None:
            sentence += " No prepayment base, so nothing moves."
    return {
        "prepayment": _money_float(a.get("prepayment")), "prepayment_display": tx.format_money(a.get("prepayment"), lang),
        "prepayment_source": tx.PREPAYMENT_SOURCE_WORDS[lang].get(a.get("prepayment_source"), a.get("prepayment_source") or "—"),
        "rate": None if rate is None else float(rate), "rate_display": tx.format_rate(a.get("rate")),
        "amount": None if amount is None else float(amount), "amount_display": tx.format_money(a.get("amount"), lang, signed=True),
        "new_prepayment": _money_float(a.get("new_prepayment")),
        "new_prepayment_display": tx.format_money(a.get("new_prepayment"), lang),
        "rule": a.get("rule") or "", "rule_text": sentence, "mode": mode, "mode_label": mode_text,
        "designation": designation, "designation_label": tx.DESIGNATION_WORDS[lang].get(designation, designation),
        "designation_short": tx.DESIGNATION_SHORT[lang].get(designation, designation),
        "at_risk": designation in ("warning", "revoked"),
        "direction": "down" if amount is not None and amount < 0 else ("up" if amount is not None and amount > 0 else "none"),
    }


def common_context(prep: Prepared) -> dict:
    r = prep.results
    system = r.get("system") or {}
    L = prep.L
    year = r.get("year")
    return {
        "lang": prep.lang, "L": L, "year": year,
        "year_title": f"{year}{L['year_suffix']}" if prep.lang == "zh" else str(year),
        "system": system.get("name", ""), "system_version": system.get("version", ""),
        "version": r.get("pingyi_version") or (r.get("parameters") or {}).get("pingyi", ""),
        "footer": L["footer"].format(version=r.get("pingyi_version") or (r.get("parameters") or {}).get("pingyi", ""),
                                     system=system.get("name", ""), system_version=system.get("version", "")),
        "light_colours": dict(lb.LIGHT_COLOURS),
        "light_names": dict(tx.LIGHT_SHORT[prep.lang]),
    }


def provider_context(prep: Prepared, code: str) -> dict:
    """The context of one provider's report card."""
    p = prep.providers[code]
    lang, L = prep.lang, prep.L
    peers, peer_label = peer_group(prep, p)
    same = prep.groups[("rl", p.get("region"), p.get("level"))]
    rows_by_code = {row["code"]: row for row in p["indicators"]}
    rows = [indicator_row(prep, p, rows_by_code[c], peers) for c in prep.indicators if c in rows_by_code]
    prim_by_code = {x["code"]: x for x in p["primaries"]}
    dimensions = []
    for pc in prep.primaries:
        ps = prim_by_code.get(pc["code"], {})
        ind = [r for r in rows if r["primary"] == pc["code"]]
        avg = peers.dimension_mean.get(pc["code"])
        dimensions.append({
            "code": pc["code"], "name": _name(prep, pc), "name_zh": pc.get("name_zh"), "name_en": pc.get("name_en"),
            "description": pc.get("description") or "",
            "score": ps.get("score"), "score_display": tx.format_score(ps.get("score")),
            "light": _light(prep, ps.get("light")),
            "weight": ps.get("effective_weight", ps.get("weight")),
            "weight_display": tx.format_weight(ps.get("effective_weight", ps.get("weight"))),
            "nominal_weight": ps.get("weight"),
            "peer_mean": avg, "peer_mean_display": tx.format_score(avg),
            "insufficient": list(ps.get("insufficient") or []),
            "indicators": ind,
            "reds": sum(1 for r in ind if r["light"]["key"] == "red"),
        })
    fix = sorted((r for r in rows if r["gain"] > 0), key=lambda r: (-r["gain"], r["code"]))[:FIX_FIRST_N]
    fix_first = [{"code": r["code"], "name": r["name"], "score": r["score"], "score_display": r["score_display"],
                  "weight": r["weight"], "weight_display": r["weight_display"], "gain": r["gain"],
                  "gain_display": f"+{r['gain']:.2f}", "light": r["light"], "reason": r["reason"],
                  "value_display": r["value_display"], "baseline_display": r["baseline_display"],
                  "interpretation": r["interpretation"]} for r in fix]
    counts = {k: sum(1 for r in rows if r["trend"] == k) for k in ("improved", "worsened", "same")}
    counts["missing"] = sum(1 for r in rows if r["trend"] == "none")
    moved = [r for r in rows if r["delta"] is not None and r["delta"] != 0]

    def size(r):  # relative size of a move, comparable across units
        ref = abs(r["prior"]) if r["prior"] else 1.0
        return abs(r["delta"]) / ref

    biggest = sorted(moved, key=lambda r: (-size(r), r["code"]))[:CHANGES_N]
    changes = {"counts": counts, "note": L["changes_note"].format(**counts),
               "items": [{"code": r["code"], "name": r["name"], "prior_display": r["prior_display"],
                          "value_display": r["value_display"], "delta_display": r["delta_display"],
                          "trend": r["trend"], "trend_label": r["trend_label"]} for r in biggest]}
    grade = _grade(prep, p)
    total = p.get("total_score")
    lights = {k: sum(1 for r in rows if r["light"]["key"] == k) for k in lb.LIGHT_COLOURS}
    radar = {
        "axes": [{"code": d["code"], "label": d["name"], "value": d["score"], "peer": d["peer_mean"]} for d in dimensions],
        "series_label": L["this_provider"], "peer_label": peer_label,
    }
    ctx = common_context(prep)
    ctx.update({
        "kind": "card",
        "provider": {
            "code": p["fixmedins_code"], "name": p.get("fixmedins_name") or "", "province": p.get("province"),
            "province_name": p.get("province_name") or "", "region": p.get("region"),
            "region_label": _region_label(prep, p.get("region")), "level": p.get("level"),
            "level_label": _level_label(prep, p.get("level")), "type": p.get("type") or "",
        },
        "total": total, "total_display": tx.format_total(total), "grade": grade, "grade_zh": p.get("grade"),
        "light": _light(prep, p.get("light")),
        "rank": p.get("rank"), "rank_of": prep.graded,
        "rank_display": "—" if p.get("rank") is None else f"{p['rank']}{L['of']}{prep.graded}",
        # rank among the providers of the same region and level (even when they are too few for averages)
        "peer_rank": same.ranks.get(code), "peer_n": len(same.ranks), "peer_label": peer_label,
        "peer_rank_display": "—" if same.ranks.get(code) is None else f"{same.ranks[code]}{L['of']}{len(same.ranks)}",
        "peer_total_mean": peers.total_mean, "peer_total_mean_display": tx.format_total(peers.total_mean),
        "peer_percentile": p.get("peer_percentile"),
        "peer_percentile_display": tx.format_percentile(p.get("peer_percentile"), p.get("peer_n")),
        "peer_percentile_short": tx.format_percentile(p.get("peer_percentile"), p.get("peer_n"), short=True),
        "veto": list(p.get("veto") or []),
        "dimensions": dimensions, "indicators": rows, "lights": lights,
        "fix_first": fix_first, "changes": changes, "radar": radar,
        "adjustment": _adjustment(prep, p.get("adjustment"), grade),
        "quality": _quality_notes(prep, prep.quality_by_provider.get(code)),
    })
    return ctx


# --------------------------------------------------------------------------- committee context


def committee_context(prep: Prepared, cards: Mapping[str, dict] | None = None) -> dict:
    """The committee report: ranking, grades, region x level, reds per dimension, budget, risk, quality.
    `cards` (provider contexts by code) avoids rebuilding them when the caller has them already."""
    lang, L = prep.lang, prep.L
    cards = dict(cards or {})
    ctxs = [cards.get(c) or provider_context(prep, c) for c in prep.providers]
    ranking = sorted(ctxs, key=lambda c: (c["rank"] is None, c["rank"] or 0, c["provider"]["code"]))
    rank_rows = [{
        "rank": c["rank"], "rank_display": "—" if c["rank"] is None else str(c["rank"]),
        "code": c["provider"]["code"], "name": c["provider"]["name"], "region_label": c["provider"]["region_label"],
        "level_label": c["provider"]["level_label"], "total": c["total"], "total_display": c["total_display"],
        "peer_percentile": c["peer_percentile"], "peer_percentile_display": c["peer_percentile_short"],
        "grade": c["grade"], "light": c["light"], "reds": c["lights"]["red"],
        "amount": c["adjustment"]["amount"], "amount_display": c["adjustment"]["amount_display"],
        "designation": c["adjustment"]["designation"], "designation_short": c["adjustment"]["designation_short"],
    } for c in ranking]
    # grade distribution, in the policy's band order, plus "not graded" when it occurs
    grades = [g["name_en"] if lang == "en" else g["name"] for g in prep.results.get("grades") or []]
    counts: dict[str, int] = {g: 0 for g in grades}
    for c in ctxs:
        counts[c["grade"]] = counts.get(c["grade"], 0) + 1
    n = len(ctxs)
    grade_colours = {}
    for g in prep.results.get("grades") or []:
        key = g["name_en"] if lang == "en" else g["name"]
        grade_colours[key] = next((c["light"]["colour"] for c in ctxs if c["grade"] == key), None)
    distribution = [{"grade": g, "count": k, "share": k / n if n else 0.0, "share_display": f"{(k / n if n else 0):.1%}",
                     "colour": grade_colours.get(g) or lb.LIGHT_COLOURS["grey"]} for g, k in counts.items()]
    # region x level comparison
    region_order = list((prep.results.get("regions") or {}).keys())
    comparison = []
    keys = sorted({(c["provider"]["region"], c["provider"]["level"]) for c in ctxs},
                  key=lambda k: (region_order.index(k[0]) if k[0] in region_order else 99, str(k[0]),
                                 LEVEL_ORDER.index(k[1]) if k[1] in LEVEL_ORDER else 99, str(k[1])))
    for region, level in keys:
        members = [c for c in ctxs if c["provider"]["region"] == region and c["provider"]["level"] == level]
        totals = [c["total"] for c in members if c["total"] is not None]
        comparison.append({
            "region_label": _region_label(prep, region), "level_label": _level_label(prep, level), "n": len(members),
            "mean": mean(totals) if totals else None, "mean_display": tx.format_total(mean(totals) if totals else None),
            "median_display": tx.format_total(median(totals) if totals else None),
            "min_display": tx.format_total(min(totals) if totals else None),
            "max_display": tx.format_total(max(totals) if totals else None),
            "grades": [{"grade": g, "count": sum(1 for c in members if c["grade"] == g)} for g in counts],
        })
    # red lights per dimension
    reds = []
    for pc in prep.primaries:
        per_ind: dict[str, int] = {}
        red_inds = red_providers = red_dims = 0
        for c in ctxs:
            d = next(d for d in c["dimensions"] if d["code"] == pc["code"])
            red_inds += d["reds"]
            red_providers += 1 if d["reds"] else 0
            red_dims += 1 if d["light"]["key"] == "red" else 0
            for r in d["indicators"]:
                if r["light"]["key"] == "red":
                    per_ind[r["code"]] = per_ind.get(r["code"], 0) + 1
        top = sorted(per_ind.items(), key=lambda x: (-x[1], x[0]))[:1]
        reds.append({"code": pc["code"], "name": _name(prep, pc), "red_indicators": red_inds,
                     "red_providers": red_providers, "red_dimension": red_dims,
                     "top": (f"{top[0][0]} {_name(prep, prep.indicators[top[0][0]])}（{top[0][1]}）" if lang == "zh"
                             else f"{top[0][0]} {_name(prep, prep.indicators[top[0][0]])} ({top[0][1]})") if top else "—"})
    # budget
    b = prep.results.get("budget") or {}
    amounts = [c["adjustment"]["amount"] for c in ctxs if c["adjustment"]["amount"] is not None]
    budget = {
        "mode": b.get("mode"), "mode_label": tx.ADJUSTMENT_MODE_WORDS[lang].get(b.get("mode"), b.get("mode") or "—"),
        "penalties": _money_float(b.get("penalties")), "penalties_display": tx.format_money(b.get("penalties"), lang),
        "rewards": _money_float(b.get("rewards")), "rewards_display": tx.format_money(b.get("rewards"), lang),
        "net": _money_float(b.get("net")), "net_display": tx.format_money(b.get("net"), lang, signed=True),
        "scale": b.get("scale"), "penalised": sum(1 for a in amounts if a < 0),
        "rewarded": sum(1 for a in amounts if a > 0), "unchanged": sum(1 for a in amounts if a == 0),
    }
    at_risk = [{"code": c["provider"]["code"], "name": c["provider"]["name"],
                "region_label": c["provider"]["region_label"], "level_label": c["provider"]["level_label"],
                "total_display": c["total_display"], "grade": c["grade"], "light": c["light"],
                "designation": c["adjustment"]["designation"], "designation_label": c["adjustment"]["designation_label"],
                "veto": ", ".join(c["veto"])}
               for c in ranking if c["adjustment"]["at_risk"] or c["veto"]]
    at_risk.sort(key=lambda x: (x["designation"] != "revoked", x["code"]))
    # data quality
    qs = prep.quality_summary or {}
    # per-table counts: {"tables": {name: {file, format, read, used, rejected, flagged}}} (pingyi score)
    # or a list of rows with a "table" key
    tables = qs.get("tables") or qs.get("counts") or []
    qcounts = [{"table": k, **v} for k, v in tables.items()] if isinstance(tables, dict) else [dict(x) for x in tables]
    top_failures = []
    for f in qs.get("top_failures") or []:
        reason = f.get("reason_code") or ""
        rate = f.get("rate")
        top_failures.append({"table": f.get("table") or "", "check": f.get("check") or "",
                             "reason": tx.QUALITY_REASON_WORDS_ZH.get(reason, reason) if lang == "zh" else reason.replace("_", " "),
                             "severity": tx.QUALITY_SEVERITY_WORDS[lang].get(f.get("severity"), f.get("severity") or ""),
                             "failed": f.get("failed") or 0, "checked": f.get("checked") or 0,
                             "rate_display": "—" if rate is None else f"{rate:.2%}"})
    worst = sorted(((c["quality"]["rejected"], c["quality"]["flagged"], c["provider"]["code"], c["provider"]["name"])
                    for c in ctxs if c["quality"]["rejected"] or c["quality"]["flagged"]),
                   key=lambda x: (-x[0], -x[1], x[2]))[:10]
    quality = {"counts": qcounts, "top_failures": top_failures,
               "rejected_by_reason": [dict(x) for x in qs.get("rejected_by_reason") or []],
               "providers": [{"rejected": w[0], "flagged": w[1], "code": w[2], "name": w[3]} for w in worst],
               "other": [{"key": str(k), "value": str(v)} for k, v in sorted(qs.items())
                         if k not in ("tables", "counts", "top_failures", "rejected_by_reason")]}
    totals = [c["total"] for c in ctxs if c["total"] is not None]
    ctx = common_context(prep)
    ctx.update({
        "kind": "committee", "n": n, "graded": prep.graded,
        "mean_display": tx.format_total(mean(totals) if totals else None),
        "median_display": tx.format_total(median(totals) if totals else None),
        "ranking": rank_rows, "distribution": distribution, "comparison": comparison, "grades": list(counts),
        "reds": reds, "budget": budget, "at_risk": at_risk, "quality": quality,
        # raw vs case-mix-adjusted: whose light the adjustment changed, and the cost models (issue 6)
        "casemix": casemix_overview(prep, ctxs),
        # one funnel plot per indicator in statistical-light mode, with its overdispersion (issue 6)
        "funnels": [{"code": code, "name": _name(prep, prep.indicators[code]) if code in prep.indicators else code,
                     "data": f, "phi": f.get("phi"), "tau2": f.get("tau2"), "note": f.get("note") or ""}
                    for code, f in sorted((prep.results.get("funnels") or {}).items())],
    })
    return ctx


def casemix_overview(prep: Prepared, ctxs: list[dict]) -> dict:
    """For the committee: per indicator with a case-mix variant, how many providers it applied to and
    whose light the adjustment changed (raw red but adjusted not, and the reverse), the providers whose
    light changed, and each region's cost model (stays, R², smearing factor)."""
    by_code = {c["provider"]["code"]: c for c in ctxs}
    tally: dict[str, dict[str, int]] = {}  # indicator -> n, changed, saved (red raw only), caught (red adjusted only)
    changed = []
    for pcode, p in prep.providers.items():
        if pcode not in by_code:
            continue
        for row in p["indicators"]:
            note = row.get("casemix_note")
            if not note or row["code"] not in prep.indicators:
                continue
            t = tally.setdefault(row["code"], {"n": 0, "changed": 0, "saved": 0, "caught": 0})
            t["n"] += 1
            raw, adj = note.get("raw_light"), note.get("adjusted_light")
            if raw == adj:
                continue
            t["changed"] += 1
            t["saved"] += raw == "red"
            t["caught"] += adj == "red"
            change, c, unit = note.get("expected_cost_change"), by_code[pcode], prep.indicators[row["code"]]["unit"]
            changed.append({
                "indicator": row["code"], "code": pcode, "name": c["provider"]["name"],
                "region_label": c["provider"]["region_label"], "level_label": c["provider"]["level_label"],
                "raw_display": tx.format_value(row.get("raw_value"), unit, prep.lang), "raw_light": _light(prep, raw),
                "adjusted_display": tx.format_value(row.get("adjusted_value"), unit, prep.lang),
                "adjusted_light": _light(prep, adj),
                "expected_change_display": "—" if change is None else f"{change:+.1%}",
                "counted": prep.L["adjusted_value"] if note.get("counted") == "adjusted" else prep.L["raw_value"]})
    indicators = [{"code": code, "name": _name(prep, prep.indicators[code]), **t,
                   "share_display": f"{t['changed'] / t['n']:.1%}"}
                  for code, t in sorted(tally.items(), key=lambda kv: list(prep.indicators).index(kv[0]))]
    changed.sort(key=lambda r: (r["indicator"], r["code"]))
    model = prep.results.get("casemix_model") or {}
    regions = [{"region_label": _region_label(prep, r), "stays": m.get("stays"),
                "r2_display": "—" if m.get("r2") is None else f"{m['r2']:.3f}",
                "smearing_display": "—" if m.get("smearing") is None else f"{m['smearing']:.3f}", "skipped": ""}
               for r, m in sorted((model.get("regions") or {}).items())]
    regions += [{"region_label": _region_label(prep, r), "stays": None, "r2_display": "—", "smearing_display": "—",
                 "skipped": why} for r, why in sorted((model.get("skipped") or {}).items())]
    text = prep.L["casemix_model_text"] if prep.lang == "zh" and model.get("model") else model.get("model") or ""
    return {"indicators": indicators, "changed": changed, "regions": regions, "model": text}


@dataclass(frozen=True)
class ReportContexts:
    cards: dict[str, dict]
    committee: dict


def build_contexts(results: Mapping[str, Any], *, lang: str = "zh", providers: Iterable[str] | None = None,
                   quality_rows: Iterable[Mapping] | None = None,
                   rejected_counts: Iterable[Mapping] | None = None) -> ReportContexts:
    """Every card context (or those of `providers`) and the committee context. Pure."""
    prep = prepare(results, lang=lang, quality_rows=quality_rows, rejected_counts=rejected_counts)
    all_cards = {code: provider_context(prep, code) for code in prep.providers}
    wanted = list(prep.providers) if providers is None else list(providers)
    unknown = [c for c in wanted if c not in prep.providers]
    if unknown:
        raise KeyError(f"unknown provider(s): {', '.join(unknown)}")
    return ReportContexts(cards={c: all_cards[c] for c in wanted}, committee=committee_context(prep, all_cards))
