"""The committee report's context: ranking, grade distribution, region x level comparison, red lights per
dimension, the budget, providers at risk, data quality, the case-mix overview and the funnels."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from statistics import median
from typing import Any

from pingyi import text as tx
from pingyi.report import labels as lb
from pingyi.report.card import common_context, provider_context
from pingyi.report.prepare import (
    LEVEL_ORDER,
    Prepared,
    level_label,
    light_of,
    mean,
    money_float,
    name_of,
    region_label,
)
from pingyi.score.aggregate import competition_ranks

OVERDUE_SHOWN = 20  # overdue items listed in the committee report; the rest are counted


def rectification_summary(prep: Prepared, cards: Mapping[str, dict]) -> dict | None:
    """The closed loop (整改-复查) as the committee sees it: of the items opened before this year, how
    many are closed (the rectification rate [001 §3.2: 100 %]), how many are still open and overdue,
    and how many this year's run opened. None when the report was not given a ledger."""
    snap = prep.ledger
    if snap is None:
        return None
    L, year = prep.L, snap["year"]
    items = list(snap.get("items") or ())
    due = [i for i in items if i["year_opened"] < year]
    closed = sum(1 for i in due if i["status"] == "closed")
    overdue = sorted((i for i in items if i["status"] == "overdue"), key=lambda i: (i["deadline"], i["id"]))
    rate = f"{closed / len(due):.1%}" if due else "—"
    summary = L["rectify_summary"].format(
        due=len(due),
        closed=closed,
        rate=rate,
        still=len(due) - closed,
        overdue=len(overdue),
        new=sum(1 for i in items if i["year_opened"] == year),
    )
    head = snap.get("audit_head") or {}
    rows = []
    for i in overdue[:OVERDUE_SHOWN]:
        card = cards.get(i["fixmedins_code"])
        indicator = prep.indicators.get(i["indicator"], {"code": i["indicator"]})
        rows.append(
            {
                "code": i["fixmedins_code"],
                "name": card["provider"]["name"] if card else "",
                "indicator": f"{i['indicator']} {name_of(prep, indicator)}",
                "year_opened": i["year_opened"],
                "deadline": i["deadline"],
            }
        )
    return {
        "due": len(due),
        "closed": closed,
        "rate": closed / len(due) if due else None,
        "rate_display": rate,
        "overdue_n": len(overdue),
        "summary": summary if items else L["rectify_none"],
        "overdue": rows,
        "more": L["rectify_more"].format(n=len(overdue) - OVERDUE_SHOWN) if len(overdue) > OVERDUE_SHOWN else "",
        "source": L["rectify_source"].format(ledger=snap.get("ledger_id", ""), audit=head.get("id", "—")),
    }


def uncertain_grades(prep: Prepared, cards: Mapping[str, dict]) -> dict | None:
    """The providers whose assigned grade is less than `uncertain_below` sure under the uncertainty run's
    weightings (pingyi uncertainty), most uncertain first; None when the report was not given it."""
    u = prep.uncertainty
    if u is None:
        return None
    L = prep.L
    rows = []
    for p in sorted(
        (p for p in u["providers"] if p["uncertain"]), key=lambda p: (p["p_assigned_grade"], p["fixmedins_code"])
    ):
        card = cards.get(p["fixmedins_code"])
        rows.append(
            {
                "code": p["fixmedins_code"],
                "name": card["provider"]["name"] if card else p["fixmedins_name"],
                "grade": card["grade"] if card else p["grade"],
                "p": f"{p['p_assigned_grade']:.2f}",
                "total": f"{p['total_p5']:.2f}–{p['total_p95']:.2f}" if p["total_p5"] is not None else "—",
                "rank": f"{p['rank_p5']:.0f}–{p['rank_p95']:.0f}" if p["rank_p5"] is not None else "—",
            }
        )
    words = {
        "noise": f"{u['noise']:.0%}",
        "samples": u["samples"],
        "seed": u["seed"],
        "threshold": f"{u['uncertain_below']:g}",
        "n": len(rows),
        "drawn": "".join(
            L["uncertain_source_" + k]
            for k in ("experts", "baselines", "survey")
            if ((u.get("sources") or {}).get(k) or {}).get("sampled")
        ),  # fmt: skip
    }
    return {"rows": rows, "summary": (L["uncertain_summary"] if rows else L["uncertain_none"]).format(**words)}


def committee_context(prep: Prepared, cards: Mapping[str, dict] | None = None) -> dict:
    """The committee report: ranking, grades, region x level, reds per dimension, budget, risk, quality.
    `cards` (provider contexts by code) avoids rebuilding them when the caller has them already."""
    lang = prep.lang
    cards = dict(cards or {})
    ctxs = [cards.get(c) or provider_context(prep, c) for c in prep.providers]
    ranking = sorted(ctxs, key=lambda c: (c["rank"] is None, c["rank"] or 0, c["provider"]["code"]))
    rank_rows = [
        {
            **_provider_row(c),
            "rank": c["rank"],
            "rank_display": "—" if c["rank"] is None else str(c["rank"]),
            "total": c["total"],
            "peer_percentile": c["peer_percentile"],
            "peer_percentile_display": c["peer_percentile_short"],
            "reds": c["lights"]["red"],
            "amount": c["adjustment"]["amount"],
            "amount_display": c["adjustment"]["amount_display"],
            "designation_short": c["adjustment"]["designation_short"],
        }
        for c in ranking
    ]
    # grade distribution, in the policy's band order, plus "not graded" when it occurs
    grades = [g["name_en"] if lang == "en" else g["name"] for g in prep.results.get("grades") or []]
    counts: dict[str, int] = dict.fromkeys(grades, 0)
    for c in ctxs:
        counts[c["grade"]] = counts.get(c["grade"], 0) + 1
    n = len(ctxs)
    grade_colours = {}
    for g in prep.results.get("grades") or []:
        key = g["name_en"] if lang == "en" else g["name"]
        grade_colours[key] = next((c["light"]["colour"] for c in ctxs if c["grade"] == key), None)
    distribution = [
        {
            "grade": g,
            "count": k,
            "share": k / n if n else 0.0,
            "share_display": f"{(k / n if n else 0):.1%}",
            "colour": grade_colours.get(g) or lb.LIGHT_COLOURS["grey"],
        }
        for g, k in counts.items()
    ]
    # region x level comparison
    region_order = list((prep.results.get("regions") or {}).keys())
    comparison = []
    keys = sorted(
        {(c["provider"]["region"], c["provider"]["level"]) for c in ctxs},
        key=lambda k: (
            region_order.index(k[0]) if k[0] in region_order else 99,
            str(k[0]),
            LEVEL_ORDER.index(k[1]) if k[1] in LEVEL_ORDER else 99,
            str(k[1]),
        ),
    )
    for region, level in keys:
        members = [c for c in ctxs if c["provider"]["region"] == region and c["provider"]["level"] == level]
        totals = [c["total"] for c in members if c["total"] is not None]
        comparison.append(
            {
                "region_label": region_label(prep, region),
                "level_label": level_label(prep, level),
                "n": len(members),
                "mean": mean(totals) if totals else None,
                "mean_display": tx.format_total(mean(totals) if totals else None),
                "median_display": tx.format_total(median(totals) if totals else None),
                "min_display": tx.format_total(min(totals) if totals else None),
                "max_display": tx.format_total(max(totals) if totals else None),
                "grades": [{"grade": g, "count": sum(1 for c in members if c["grade"] == g)} for g in counts],
            }
        )
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
        reds.append(
            {
                "code": pc["code"],
                "name": name_of(prep, pc),
                "red_indicators": red_inds,
                "red_providers": red_providers,
                "red_dimension": red_dims,
                "top": (
                    f"{top[0][0]} {name_of(prep, prep.indicators[top[0][0]])}（{top[0][1]}）"
                    if lang == "zh"
                    else f"{top[0][0]} {name_of(prep, prep.indicators[top[0][0]])} ({top[0][1]})"
                )
                if top
                else "—",
            }
        )
    # budget
    b = prep.results.get("budget") or {}
    amounts = [c["adjustment"]["amount"] for c in ctxs if c["adjustment"]["amount"] is not None]
    budget = {
        "mode": b.get("mode"),
        "mode_label": tx.ADJUSTMENT_MODE_WORDS[lang].get(str(b.get("mode")), b.get("mode") or "—"),
        "penalties": money_float(b.get("penalties")),
        "penalties_display": tx.format_money(b.get("penalties"), lang),
        "rewards": money_float(b.get("rewards")),
        "rewards_display": tx.format_money(b.get("rewards"), lang),
        "net": money_float(b.get("net")),
        "net_display": tx.format_money(b.get("net"), lang, signed=True),
        "scale": b.get("scale"),
        # the credit bonus (信用评价): shown when the policy has it on (some provider carries a credit record)
        "credit_on": any(c["adjustment"]["credit"] is not None for c in ctxs),
        "credit": money_float(b.get("credit")),
        "credit_display": tx.format_money(b.get("credit") or "0.00", lang),
        "credited": sum(1 for c in ctxs if c["adjustment"]["credit_granted"]),
        "penalised": sum(1 for a in amounts if a < 0),
        "rewarded": sum(1 for a in amounts if a > 0),
        "unchanged": sum(1 for a in amounts if a == 0),
    }
    at_risk = [
        {
            **_provider_row(c),
            "designation_label": c["adjustment"]["designation_label"],
            "veto": ", ".join(c["veto"]),
        }
        for c in ranking
        if c["adjustment"]["at_risk"] or c["veto"]
    ]
    at_risk.sort(key=lambda x: (x["designation"] != "revoked", x["code"]))
    # one heading per designation word (the long warning is said once, not on every row) and two
    # providers side by side, so the list stays a few pages at thousands of providers
    at_risk_groups: list[dict] = []
    for a in at_risk:
        if not at_risk_groups or at_risk_groups[-1]["label"] != a["designation_label"]:
            at_risk_groups.append({"label": a["designation_label"], "rows": []})
        at_risk_groups[-1]["rows"].append(a)
    for g in at_risk_groups:
        g["n"] = len(g["rows"])
        for i, a in enumerate(g["rows"], 1):
            a["seq"] = i
        half = (len(g["rows"]) + 1) // 2
        g["pairs"] = [(g["rows"][i], g["rows"][half + i] if half + i < len(g["rows"]) else None) for i in range(half)]
    # not graded (不予评级), or graded failing for missing mandatory data: the policy's eligibility reason
    ineligible = [
        {
            "n": i,
            "code": c["provider"]["code"],
            "name": c["provider"]["name"],
            "level_label": c["provider"]["level_label"],
            "grade": c["grade"],
            "reason": c["eligibility"],
        }
        for i, c in enumerate(sorted((c for c in ctxs if c["eligibility"]), key=lambda c: c["provider"]["code"]), 1)
    ]
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
        top_failures.append(
            {
                "table": f.get("table") or "",
                "check": tx.check_words(f.get("check") or "", lang),
                "reason": tx.QUALITY_REASON_WORDS_ZH.get(reason, reason) if lang == "zh" else reason.replace("_", " "),
                "severity": tx.QUALITY_SEVERITY_WORDS[lang].get(f.get("severity"), f.get("severity") or ""),
                "failed": f.get("failed") or 0,
                "checked": f.get("checked") or 0,
                "rate_display": "—" if rate is None else f"{rate:.2%}",
            }
        )
    worst = sorted(
        (
            (c["quality"]["rejected"], c["quality"]["flagged"], c["provider"]["code"], c["provider"]["name"])
            for c in ctxs
            if c["quality"]["rejected"] or c["quality"]["flagged"]
        ),
        key=lambda x: (-x[0], -x[1], x[2]),
    )[:10]
    quality = {
        "counts": qcounts,
        "top_failures": top_failures,
        "rejected_by_reason": [dict(x) for x in qs.get("rejected_by_reason") or []],
        "providers": [{"rejected": w[0], "flagged": w[1], "code": w[2], "name": w[3]} for w in worst],
        "other": [
            {"key": str(k), "value": str(v)}
            for k, v in sorted(qs.items())
            if k not in ("tables", "counts", "top_failures", "rejected_by_reason")
        ],
    }
    totals = [c["total"] for c in ctxs if c["total"] is not None]
    ctx = common_context(prep)
    ctx.update(
        {
            "kind": "committee",
            "n": n,
            "graded": prep.graded,
            "mean_display": tx.format_total(mean(totals) if totals else None),
            "median_display": tx.format_total(median(totals) if totals else None),
            "ranking": rank_rows,
            "ranking_groups": ranking_groups(prep, ranking),
            "numerals": SECTION_NUMERALS[lang],
            "screening": screening_text(prep.results.get("expert_screening"), lang),
            "issue": issue_block(prep.results.get("issue"), lang),
            "distribution": distribution,
            "comparison": comparison,
            "grades": list(counts),
            "reds": reds,
            "rectification": rectification_summary(prep, {c["provider"]["code"]: c for c in ctxs}),
            "uncertain": uncertain_grades(prep, {c["provider"]["code"]: c for c in ctxs}),
            "budget": budget,
            "at_risk": at_risk,
            "at_risk_groups": at_risk_groups,
            "ineligible": ineligible,
            # the run guards' warnings (pingyi.run.guards): on the first page, before any number
            "guards": [
                {"code": g["code"], "message": g["message_zh"] if lang == "zh" else g["message"]}
                for g in prep.results.get("guards") or []
            ],
            "quality": quality,
            # raw vs case-mix-adjusted: whose light the adjustment changed, and the cost models (issue 6)
            "casemix": casemix_overview(prep, ctxs),
            # one funnel plot per indicator in statistical-light mode, with its overdispersion (issue 6)
            "funnels": [
                {
                    "code": code,
                    "name": name_of(prep, prep.indicators[code]) if code in prep.indicators else code,
                    "data": f,
                    "phi": f.get("phi"),
                    "tau2": f.get("tau2"),
                    "note": funnel_note(f, lang),
                }
                for code, f in sorted((prep.results.get("funnels") or {}).items())
            ],
        }
    )
    return ctx


SECTION_NUMERALS = {
    "zh": [f"{n}、" for n in "一二三四五六七八九十"] + [f"十{n}、" for n in "一二三四五六七八九"],
    "en": [f"{n}. " for n in range(1, 20)],
}


def issue_block(issue: Mapping[str, Any] | None, lang: str) -> dict[str, str]:
    """The title block's four fields (policy.yaml `report:`), each said as missing when not given."""
    missing = "（未填写）" if lang == "zh" else "(not given)"
    issue = issue or {}
    day = issue.get("date")
    if day and lang == "zh":
        y, m, d = day.split("-")
        day = f"{y}年{int(m)}月{int(d)}日"
    return {
        "area": issue.get("area") or missing,
        "issuer": issue.get("issuer") or missing,
        "document_number": issue.get("document_number") or missing,
        "date": day or missing,
    }


def screening_text(s: Mapping[str, Any] | None, lang: str) -> str:
    """What the per-expert CR screening of the AHP matrices did, in one sentence ('' for results without it)."""
    if not s:
        return ""
    matrices = s.get("matrices") or []
    judged = sum(m["experts"] for m in matrices)
    threshold = f"{s['threshold']:.2f}"
    screened = [(m["matrix"], e) for m in matrices for e in m["screened"]]
    if not screened:
        if lang == "zh":
            return (f"专家判断一致性筛查：{len(matrices)}个判断矩阵共{judged}份专家判断，单个专家的CR均低于"
                    f"{threshold}，无专家被标记或剔除。")  # fmt: skip
        return (f"Expert consistency screening: {judged} expert judgements over {len(matrices)} matrices, every "
                f"expert's own CR below {threshold}; none flagged or excluded.")  # fmt: skip

    def matrix(name: str) -> str:
        return ("一级指标" if lang == "zh" else "the dimensions") if name == "root" else name

    if lang == "zh":
        parts = [
            f"{matrix(m)}矩阵专家{e['expert']}（CR {e['cr']:.3f}）"
            + ("已剔除，不计入几何平均" if e["action"] == "excluded" else "已标记，仍计入几何平均")
            for m, e in screened
        ]
        return f"专家判断一致性筛查（单个专家CR ≥ {threshold}）：" + "；".join(parts) + "。"
    parts = [
        f"expert {e['expert']} of {matrix(m)} (CR {e['cr']:.3f}) "
        + ("excluded from the geometric mean" if e["action"] == "excluded" else "flagged, kept in the geometric mean")
        for m, e in screened
    ]
    return f"Expert consistency screening (own CR >= {threshold}): " + "; ".join(parts) + "."


def funnel_note(f: Mapping[str, Any], lang: str) -> str:
    """What the funnel's overdispersion estimate did, in the report's language (results.json keeps the
    English note of the score stage)."""
    applied, phi, tau2, units = f.get("applied"), f.get("phi"), f.get("tau2"), f.get("units") or 0
    mode = f.get("overdispersion")
    if lang != "zh":
        return str(f.get("note") or "")
    if phi is None and tau2 is None:
        return f"漏斗图仅含 {units} 家机构，样本过少，未估计过度离散，控制限未作校正。"
    if mode == "none":
        return "按配置不作过度离散校正。"
    if applied == "phi" and phi is not None:
        return f"乘法校正：控制限按 √φ = {math.sqrt(phi):.3f} 放宽。"
    if applied == "tau2" and tau2 is not None:
        return f"加法随机效应校正：变换尺度上 τ = {math.sqrt(tau2):.4f}，控制限相应放宽。"
    return "未见过度离散（φ ≤ 1 或 τ² = 0），控制限未作校正。"


def ranking_groups(prep: Prepared, ranking: list[dict]) -> list[dict]:
    """The ranking within each level and provider type (三级综合 is not ranked against 社区卫生服务中心):
    providers ranked by total (competition ranks, as the overall rank); a provider with a veto (一票否决)
    is listed last in its group, not ranked, with the rule that fired; one not graded after it."""
    lang = prep.lang
    by_code = prep.providers
    groups: dict[tuple[str, str], list[dict]] = {}
    for c in ranking:
        raw = by_code.get(c["provider"]["code"]) or {}
        kind = (raw.get("peer_group") or {}).get("type") or c["provider"]["type"] or "—"
        groups.setdefault((c["provider"]["level"] or "", kind), []).append(c)
    order = sorted(groups, key=lambda k: (LEVEL_ORDER.index(k[0]) if k[0] in LEVEL_ORDER else 99, k[0], k[1]))
    out = []
    for level, kind in order:
        members = groups[(level, kind)]
        ranked = [c for c in members if not c["veto"] and c["total"] is not None]
        ranks = competition_ranks((c["provider"]["code"], c["total"], False) for c in ranked)
        vetoed = sorted((c for c in members if c["veto"]), key=lambda c: c["provider"]["code"])
        unranked = sorted(
            (c for c in members if not c["veto"] and c["total"] is None), key=lambda c: c["provider"]["code"]
        )
        rows = []
        for c in sorted(ranked, key=lambda c: (ranks[c["provider"]["code"]], c["provider"]["code"])):
            rows.append(_group_row(c, str(ranks[c["provider"]["code"]]), ""))
        for c in vetoed:
            why = "、".join(c["veto"]) if lang == "zh" else ", ".join(c["veto"])
            rows.append(
                _group_row(
                    c, prep.L["veto_rank"], f"{prep.L['veto']}：{why}" if lang == "zh" else f"{prep.L['veto']}: {why}"
                )
            )
        for c in unranked:
            rows.append(_group_row(c, "—", c["eligibility"] or ""))
        label = f"{level_label(prep, level)} · {kind}"
        out.append({"label": label, "n": len(members), "rows": rows, "small": len(members) < 5})
    return out


def _provider_row(c: dict) -> dict:
    """What every provider row of the committee report shows, from the provider's card context."""
    return {
        "code": c["provider"]["code"],
        "name": c["provider"]["name"],
        "region_label": c["provider"]["region_label"],
        "level_label": c["provider"]["level_label"],
        "total_display": c["total_display"],
        "grade": c["grade"],
        "light": c["light"],
        "designation": c["adjustment"]["designation"],
    }


def _group_row(c: dict, rank: str, note: str) -> dict:
    return {
        **_provider_row(c),
        "rank_display": rank,
        "overall": "—" if c["rank"] is None or c["veto"] else str(c["rank"]),
        "reds": c["lights"]["red"],
        "amount_display": c["adjustment"]["amount_display"],
        "note": note,
    }


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
            if row.get("raw_value") is None or row.get("adjusted_value") is None:
                continue  # one value only: nothing the adjustment could have changed
            t = tally.setdefault(row["code"], {"n": 0, "changed": 0, "saved": 0, "caught": 0})
            t["n"] += 1
            raw, adj = note.get("raw_light"), note.get("adjusted_light")
            if raw == adj:
                continue
            t["changed"] += 1
            t["saved"] += raw == "red"
            t["caught"] += adj == "red"
            change, c, unit = note.get("expected_cost_change"), by_code[pcode], prep.indicators[row["code"]]["unit"]
            changed.append(
                {
                    "indicator": row["code"],
                    "code": pcode,
                    "name": c["provider"]["name"],
                    "region_label": c["provider"]["region_label"],
                    "level_label": c["provider"]["level_label"],
                    "raw_display": tx.format_value(row.get("raw_value"), unit, prep.lang),
                    "raw_light": light_of(prep, raw),
                    "adjusted_display": tx.format_value(row.get("adjusted_value"), unit, prep.lang),
                    "adjusted_light": light_of(prep, adj),
                    "expected_change_display": "—" if change is None else f"{change:+.1%}",
                    "counted": prep.L["adjusted_value"] if note.get("counted") == "adjusted" else prep.L["raw_value"],
                }
            )
    indicators = [
        {
            "code": code,
            "name": name_of(prep, prep.indicators[code]),
            **t,
            "share_display": f"{t['changed'] / t['n']:.1%}",
        }
        for code, t in sorted(tally.items(), key=lambda kv: list(prep.indicators).index(kv[0]))
    ]
    changed.sort(key=lambda r: (r["indicator"], r["code"]))
    model = prep.results.get("casemix_model") or {}
    regions = [
        {
            "region_label": region_label(prep, r),
            "stays": m.get("stays"),
            "r2_display": "—" if m.get("r2") is None else f"{m['r2']:.3f}",
            "smearing_display": "—" if m.get("smearing") is None else f"{m['smearing']:.3f}",
            "skipped": "",
        }
        for r, m in sorted((model.get("regions") or {}).items())
    ]
    regions += [
        {
            "region_label": region_label(prep, r),
            "stays": None,
            "r2_display": "—",
            "smearing_display": "—",
            "skipped": why,
        }
        for r, why in sorted((model.get("skipped") or {}).items())
    ]
    text = prep.L["casemix_model_text"] if prep.lang == "zh" and model.get("model") else model.get("model") or ""
    return {
        "indicators": indicators,
        "changed": changed,
        "regions": regions,
        "model": text,
        "risk_models": risk_models(prep, model.get("outcomes") or {}),
    }


_SKIP_FORMS = (
    (re.compile(r"(\d+) events? in (\d+) cases: nothing to model"), "{1} 例中发生 {0} 例：无法建模"),
    (
        re.compile(r"(\d+) events? in (\d+) cases, fewer than (\d+) \((\d+) per risk covariate, (\d+)\)"),
        "{1} 例中发生 {0} 例，少于所需的 {2} 例（每个风险协变量 {3} 例，协变量 {4} 个）",
    ),
    (
        re.compile(
            r"(\d+) cases without the event in (\d+) cases, fewer than (\d+) \((\d+) per risk covariate, (\d+)\)"
        ),
        "{1} 例中未发生 {0} 例，少于所需的 {2} 例（每个风险协变量 {3} 例，协变量 {4} 个）",
    ),
    (
        re.compile(r"the logistic fit did not converge in (\d+) iterations \(separation\)"),
        "logistic 回归迭代 {0} 次未收敛（完全分离）",
    ),
)


def model_skip_words(why: str, lang: str) -> str:
    """Why a region has no outcome model (compute.outcomes' English sentence, kept in results.json), in
    the report's language: each of the sentences compute.outcomes writes, and their pooled-model form
    ("<region's reason>; pooled over all regions: <pooled reason>")."""
    if lang != "zh":
        return why
    parts = why.split("; pooled over all regions: ", 1)
    words = []
    for part in parts:
        for pattern, zh in _SKIP_FORMS:
            m = pattern.fullmatch(part.strip())
            if m:
                words.append(zh.format(*(f"{int(g):,}" for g in m.groups())))
                break
        else:
            return why  # a sentence this version does not know: shown as recorded rather than guessed
    return words[0] if len(words) == 1 else f"{words[0]}；全部地区合并模型：{words[1]}"


def risk_models(prep: Prepared, outcomes: Mapping) -> list[dict]:
    """One row per outcome model (its indicator, region or `pooled`, cases, events), then the regions
    without one and why: the committee sees on how many events each risk-standardised rate rests."""
    rows = []
    for outcome, m in outcomes.items():
        for key, r in sorted((m.get("regions") or {}).items()):
            label = (
                prep.L["pooled_model"].format(
                    regions=("、" if prep.lang == "zh" else ", ").join(
                        region_label(prep, x) for x in r.get("regions") or []
                    )
                )
                if key == "pooled"
                else region_label(prep, key)
            )
            rows.append(
                {
                    "indicator": m.get("indicator", outcome),
                    "region_label": label,
                    "cases": f"{r.get('cases', 0):,}",
                    "events": f"{r.get('events', 0):,}",
                    "skipped": "",
                }
            )
        for key, why in sorted((m.get("skipped") or {}).items()):
            if "pooled model's slopes are used" in why:
                continue  # shown as the pooled model's row
            rows.append(
                {
                    "indicator": m.get("indicator", outcome),
                    "region_label": region_label(prep, key),
                    "cases": "—",
                    "events": "—",
                    "skipped": model_skip_words(why, prep.lang),
                }
            )
    return rows
