"""The context of one provider's report card: its numbers, lights and reasons, its dimensions against
its peers, what to fix first, what changed since last year, its adjustment and data-quality notes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pingyi import text as tx
from pingyi.report import labels as lb
from pingyi.report.prepare import (
    CHANGES_N,
    FIX_FIRST_N,
    PEER_CAUTION,
    GroupStats,
    Prepared,
    gap_display,
    grade_of,
    level_label,
    light_of,
    money_float,
    name_of,
    peer_group,
    peer_group_name,
    peer_rank_group,
    region_label,
    trend_of,
)


def _static(prep: Prepared, code: str) -> dict:
    """The parts of an indicator row that do not depend on the provider (computed once per indicator)."""
    cached = prep.extra.get(("static", code))
    if cached is None:
        meta, lang = prep.indicators[code], prep.lang
        unit = meta["unit"]
        cached = prep.extra[("static", code)] = {
            "code": code,
            "primary": meta["primary"],
            "name": name_of(prep, meta),
            "name_zh": meta.get("name_zh"),
            "name_en": meta.get("name_en"),
            "unit": unit,
            "unit_label": tx.UNIT_WORDS[lang].get(unit, unit),
            "direction": meta.get("direction"),
            "source": tx.SOURCE_WORDS[lang].get(str(meta.get("source")), str(meta.get("source"))),
            "qualitative": bool(meta.get("qualitative")),
            "rule": meta.get("rule"),
            # the manual's interpretation exists in Chinese only (results.json carries no English text)
            "interpretation": (meta.get("interpretation") or "") if lang == "zh" else "",
        }
    return cached


def percentile_displays(prep: Prepared, value: float | None, n: int | None) -> dict[str, str]:
    """'P75 (12)' and 'P75'; with fewer than PEER_CAUTION peers compared both carry the caution mark."""
    mark = prep.L["peer_caution_mark"] if value is not None and n and n < PEER_CAUTION else ""
    return {
        "peer_percentile_display": tx.format_percentile(value, n) + mark,
        "peer_percentile_short": tx.format_percentile(value, n, short=True) + mark,
    }


def peer_notes(prep: Prepared, p: Mapping, ranked: int) -> dict[str, Any]:
    """The card's words on the peer group: its name and size, the percentile note with both, the
    caution under PEER_CAUTION peers, and results.json's note on a merge or an unknown type."""
    L, g = prep.L, p.get("peer_group") or {}
    name = peer_group_name(prep, p)
    n = g.get("n") or ranked
    note = (g.get("note_zh") if prep.lang == "zh" else g.get("note")) or ""
    return {
        "peer_group_name": name,
        "peer_group_n": n,
        "peer_caution": L["peer_caution"] if ranked < PEER_CAUTION else "",
        "peer_group_note": note,
        "percentile_note": L["peer_percentile_note"].format(group=name, n=n, min=PEER_CAUTION),
    }


def indicator_row(prep: Prepared, p: Mapping, row: Mapping, peers: GroupStats) -> dict:
    code = row["code"]
    meta = prep.indicators[code]
    unit, lang = meta["unit"], prep.lang
    value, prior = row.get("value"), row.get("prior_value")
    delta = value - prior if value is not None and prior is not None else None
    trend = trend_of(meta.get("direction", ""), delta)
    score, weight, status = row.get("score"), row.get("weight"), row.get("status")
    peer = peers.indicator_mean.get(code)
    out = dict(_static(prep, code))
    out.update(
        {
            "value": value,
            "value_display": tx.format_value(value, unit, lang),
            "baseline": row.get("baseline"),
            "baseline_display": tx.format_value(row.get("baseline"), unit, lang),
            "benchmark": row.get("benchmark"),
            "benchmark_display": tx.format_value(row.get("benchmark"), unit, lang),
            "prior": prior,
            "prior_display": tx.format_value(prior, unit, lang),
            "delta": delta,
            "delta_display": tx.format_delta(delta, unit, lang),
            "trend": trend,
            "trend_label": prep.L.get(trend, "") if trend in ("improved", "worsened", "same") else "",
            "peer_mean": peer,
            "peer_mean_display": tx.format_value(peer, unit, lang),
            "score": score,
            # an unscored or worst-scored indicator says which kind of absence it is
            "score_display": tx.absence_word(row.get("absence"), lang) or tx.format_score(score),
            "absence": row.get("absence") or "",
            "absence_label": tx.absence_word(row.get("absence"), lang),
            "nominal_weight": row.get("nominal_weight"),
            "weight": weight,
            "weight_display": tx.format_weight(weight) if status == "scored" else "—",
            "contribution": row.get("contribution"),
            "gap": row.get("gap"),
            "gap_display": gap_display(prep, row, meta),
            "light": light_of(prep, row.get("light")),
            "status": status,
            "status_label": tx.status_word(status, lang),
            "reason": row.get("reason_zh") if lang == "zh" and row.get("reason_zh") else row.get("reason", ""),
            # where the provider stands among its peers (its peer group in results.json), 100 = best
            "peer_percentile": row.get("peer_percentile"),
            "peer_n": row.get("peer_n"),
            **percentile_displays(prep, row.get("peer_percentile"), row.get("peer_n")),
            # case mix: both values shown, and which one counted
            "casemix": row.get("casemix") or "raw",
            "raw_value": row.get("raw_value"),
            "adjusted_value": row.get("adjusted_value"),
            "raw_value_display": tx.format_value(row.get("raw_value"), unit, lang),
            "adjusted_value_display": tx.format_value(row.get("adjusted_value"), unit, lang),
            "casemix_note": ((row.get("casemix_note") or {}).get("text_zh" if lang == "zh" else "text") or ""),
            # the adjustment changed the light: the sentence the PDF card shows first
            "casemix_changed": bool(
                row.get("casemix_note")
                and row.get("raw_value") is not None
                and row.get("adjusted_value") is not None
                and row["casemix_note"].get("raw_light") != row["casemix_note"].get("adjusted_light")
            ),
            # the points the total gains if this indicator reached 100 (effective weight x score gap)
            "gain": (weight or 0.0) * (100.0 - score) if score is not None and status == "scored" else 0.0,
        }
    )
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
        checks.append(
            {
                "table": c.get("table") or "",
                "check": c.get("check") or "",
                "column": c.get("column") or "",
                "dimension": tx.QUALITY_DIMENSION_WORDS[lang].get(c.get("dimension"), c.get("dimension") or ""),
                "reason_code": reason,
                "reason": tx.QUALITY_REASON_WORDS_ZH.get(reason, reason) if lang == "zh" else reason.replace("_", " "),
                "severity": tx.QUALITY_SEVERITY_WORDS[lang].get(c.get("severity"), c.get("severity") or ""),
                "failed": c.get("failed") or 0,
                "checked": c.get("checked") or 0,
                "rate": rate,
                "rate_display": "—" if rate is None else f"{rate:.2%}",
            }
        )
    checks.sort(key=lambda c: (-int(c["failed"]), c["table"], c["check"]))
    rejected, flagged = int(q.get("rejected") or 0), int(q.get("flagged") or 0)
    other = {k: v for k, v in q.items() if k not in ("checks", "rejected", "flagged")}
    summary = (
        L["quality_summary"].format(rejected=f"{rejected:,}", flagged=f"{flagged:,}")
        if checks or rejected or flagged
        else L["quality_none"]
    )
    return {
        "checks": checks,
        "rejected": rejected,
        "flagged": flagged,
        "summary": summary,
        "other": [{"key": str(k), "value": str(v)} for k, v in sorted(other.items())],
    }


def credit_line(c: Mapping | None, grade: str, lang: tx.Lang) -> str:
    """The card's one line on the credit bonus: granted and how much, or why not ('' when it is off)."""
    if not c:
        return ""
    L = lb.LABELS[lang]
    status, rating = str(c.get("status") or ""), c.get("rating") or ""
    if status == "granted":
        amount = tx.format_money(c.get("amount"), lang, signed=True)
        return L["credit_granted"].format(rating=rating, rate=tx.format_rate(c.get("rate")), amount=amount)
    if status == "not rated":
        return L["credit_other_rating"].format(rating=rating) if rating else L["credit_not_rated"]
    if status == "violations":
        return L["credit_violations"].format(n=c.get("violations") if c.get("violations") is not None else "?")
    if status == "no violation data":
        return L["credit_no_data"]
    why = status.partition(":")[2].strip()
    if why.startswith("vetoed"):
        return L["credit_vetoed"].format(why=why.removeprefix("vetoed").strip(" ()") or "—")
    if why == "designation revoked":
        return L["credit_revoked"]
    if why.startswith("failing grade"):
        return L["credit_failing"].format(grade=grade)
    if why == "not graded":
        return L["credit_not_graded"]
    return status


def _adjustment(prep: Prepared, a: Mapping | None, grade: str) -> dict:
    lang = prep.lang
    a = dict(a or {})
    mode = (prep.results.get("budget") or {}).get("mode") or (prep.results.get("parameters") or {}).get(
        "adjustment_mode", ""
    )
    designation = a.get("designation") or "kept"
    rate, amount = tx.to_decimal(a.get("rate")), tx.to_decimal(a.get("amount"))
    mode_text = tx.ADJUSTMENT_MODE_WORDS[lang].get(mode, mode)
    if lang == "zh":
        sentence = f"{mode_text}：评议等级{grade}，预付金调整 {tx.format_rate(a.get('rate'))}，调整金额 {tx.format_money(a.get('amount'), lang, signed=True)}。"
        if a.get("prepayment") is None:
            sentence += "本机构无预付金基数，实际不发生调整。"
    else:
        sentence = (
            f"{mode_text}: grade {grade}, prepayment {tx.format_rate(a.get('rate'))}, amount "
            f"{tx.format_money(a.get('amount'), lang, signed=True)}."
        )
        if a.get("prepayment") is None:
            sentence += " No prepayment base, so nothing moves."
    return {
        "prepayment": money_float(a.get("prepayment")),
        "prepayment_display": tx.format_money(a.get("prepayment"), lang),
        "prepayment_source": tx.PREPAYMENT_SOURCE_WORDS[lang].get(
            str(a.get("prepayment_source")), a.get("prepayment_source") or "—"
        ),
        "rate": None if rate is None else float(rate),
        "rate_display": tx.format_rate(a.get("rate")),
        "amount": None if amount is None else float(amount),
        "amount_display": tx.format_money(a.get("amount"), lang, signed=True),
        "new_prepayment": money_float(a.get("new_prepayment")),
        "new_prepayment_display": tx.format_money(a.get("new_prepayment"), lang),
        "rule": a.get("rule") or "",
        "rule_text": sentence,
        "mode": mode,
        "mode_label": mode_text,
        "designation": designation,
        "designation_label": tx.designation_word(designation, lang),
        "designation_short": tx.designation_word(designation, lang, short=True),
        "credit": a.get("credit"),
        "credit_rating": (a.get("credit") or {}).get("rating") or "",
        "credit_amount": money_float((a.get("credit") or {}).get("amount")),
        "credit_text": credit_line(a.get("credit"), grade, lang),
        "credit_granted": (a.get("credit") or {}).get("status") == "granted",
        "at_risk": designation in ("warning", "revoked"),
        "direction": "down"
        if amount is not None and amount < 0
        else ("up" if amount is not None and amount > 0 else "none"),
    }


def common_context(prep: Prepared) -> dict:
    r = prep.results
    system = r.get("system") or {}
    L = prep.L
    year = r.get("year")
    return {
        "lang": prep.lang,
        "L": L,
        "year": year,
        "year_title": f"{year}{L['year_suffix']}" if prep.lang == "zh" else str(year),
        "system": system.get("name", ""),
        "system_version": system.get("version", ""),
        "version": r.get("pingyi_version") or (r.get("parameters") or {}).get("pingyi", ""),
        "footer": L["footer"].format(
            version=r.get("pingyi_version") or (r.get("parameters") or {}).get("pingyi", ""),
            system=system.get("name", ""),
            system_version=system.get("version", ""),
        ),
        "light_colours": dict(lb.LIGHT_COLOURS),
        "light_names": dict(tx.LIGHT_SHORT[prep.lang]),
        "draft": draft_context(r, L),
    }


def draft_context(results: Mapping[str, Any], L: Mapping[str, str]) -> dict[str, str] | None:
    """A preview run's reports say so on every page, with the date its review closes (pingyi.cycle)."""
    params = results.get("parameters") or {}
    if params.get("stage") != "preview":
        return None
    line = L["draft_line"].format(deadline=params.get("review_deadline", ""), date=params.get("date", ""))
    return {"mark": L["draft_mark"], "line": line}


RECTIFY_NAMED = 3  # up to this many open items are named on the card; more are listed by code


def rectification_items(prep: Prepared, code: str) -> dict | None:
    """The provider's rectification items not yet closed, from the ledger the report was given (none
    without one): what the hospital still has to fix, and by when."""
    if prep.ledger is None:
        return None
    L = prep.L
    items = [i for i in prep.ledger.get("items", ()) if i["fixmedins_code"] == code and i["status"] != "closed"]
    items.sort(key=lambda i: (i["deadline"], i["indicator"], i["id"]))
    if not items:
        return None
    overdue = sum(1 for i in items if i["status"] == "overdue")
    sep = "；" if prep.lang == "zh" else "; "
    if len(items) > RECTIFY_NAMED:  # many items: their codes, grouped by status and deadline
        groups: dict[tuple[str, str], list[str]] = {}
        for i in items:
            groups.setdefault((i["status"], i["deadline"]), []).append(i["indicator"])
        comma = "、" if prep.lang == "zh" else ", "
        lines = [
            L["rectify_group"].format(status=L[f"rectify_status_{st}"], deadline=dl, codes=comma.join(codes))
            for (st, dl), codes in sorted(groups.items(), key=lambda g: (g[0][1], g[0][0]))
        ]
    else:
        lines = [
            L["rectify_item"].format(
                code=i["indicator"],
                name=name_of(prep, prep.indicators.get(i["indicator"], {"code": i["indicator"]})),
                year=i["year_opened"],
                status=L[f"rectify_status_{i['status']}"],
                deadline=i["deadline"],
            )
            for i in items
        ]
    head = L["rectify_card"].format(
        n=len(items), overdue=L["rectify_card_overdue"].format(n=overdue) if overdue else ""
    )
    return {"n": len(items), "overdue": overdue, "items": items, "text": head + sep.join(lines)}


def provider_context(prep: Prepared, code: str) -> dict:
    """The context of one provider's report card."""
    p = prep.providers[code]
    L = prep.L
    peers, peer_label = peer_group(prep, p)
    same = peer_rank_group(prep, p)
    rows_by_code = {row["code"]: row for row in p["indicators"]}
    rows = [indicator_row(prep, p, rows_by_code[c], peers) for c in prep.indicators if c in rows_by_code]
    prim_by_code = {x["code"]: x for x in p["primaries"]}
    dimensions = []
    for pc in prep.primaries:
        ps = prim_by_code.get(pc["code"], {})
        ind = [r for r in rows if r["primary"] == pc["code"]]
        avg = peers.dimension_mean.get(pc["code"])
        weight, nominal = ps.get("effective_weight", ps.get("weight")), ps.get("weight")
        lacking = sum(1 for r in ind if r["status"] == "insufficient")  # grey: its weight went elsewhere
        dimensions.append(
            {
                "code": pc["code"],
                "name": name_of(prep, pc),
                "name_zh": pc.get("name_zh"),
                "name_en": pc.get("name_en"),
                "description": pc.get("description") or "",
                "score": ps.get("score"),
                "score_display": tx.format_score(ps.get("score")),
                "light": light_of(prep, ps.get("light")),
                "weight": weight,
                "weight_display": tx.format_weight(weight),
                "nominal_weight": nominal,
                "nominal_weight_display": tx.format_weight(nominal),
                "lacking": lacking,
                # the line under the dimension: how many of its indicators lack data, its two weights
                "weights_line": (L["dimension_lacking"].format(n=len(ind), m=lacking) if lacking else "")
                + L["dimension_weights"].format(effective=tx.format_weight(weight), nominal=tx.format_weight(nominal)),
                "peer_mean": avg,
                "peer_mean_display": tx.format_score(avg),
                "insufficient": list(ps.get("insufficient") or []),
                "indicators": ind,
                "reds": sum(1 for r in ind if r["light"]["key"] == "red"),
            }
        )
    fix = sorted((r for r in rows if r["gain"] > 0), key=lambda r: (-r["gain"], r["code"]))[:FIX_FIRST_N]
    fix_first = [
        {
            "code": r["code"],
            "name": r["name"],
            "score": r["score"],
            "score_display": r["score_display"],
            "weight": r["weight"],
            "weight_display": r["weight_display"],
            "gain": r["gain"],
            "gain_display": f"+{r['gain']:.2f}",
            "light": r["light"],
            "reason": r["reason"],
            "value_display": r["value_display"],
            "baseline_display": r["baseline_display"],
            "interpretation": r["interpretation"],
        }
        for r in fix
    ]
    counts = {k: sum(1 for r in rows if r["trend"] == k) for k in ("improved", "worsened", "same")}
    counts["missing"] = sum(1 for r in rows if r["trend"] == "none")
    moved = [r for r in rows if r["delta"] is not None and r["delta"] != 0]

    def size(r):  # relative size of a move, comparable across units
        ref = abs(r["prior"]) if r["prior"] else 1.0
        return abs(r["delta"]) / ref

    biggest = sorted(moved, key=lambda r: (-size(r), r["code"]))[:CHANGES_N]
    changes = {
        "counts": counts,
        "note": L["changes_note"].format(**counts),
        "items": [
            {
                "code": r["code"],
                "name": r["name"],
                "prior_display": r["prior_display"],
                "value_display": r["value_display"],
                "delta_display": r["delta_display"],
                "trend": r["trend"],
                "trend_label": r["trend_label"],
            }
            for r in biggest
        ],
    }
    grade = grade_of(prep, p)
    total = p.get("total_score")
    lights = {k: sum(1 for r in rows if r["light"]["key"] == k) for k in lb.LIGHT_COLOURS}
    radar = {
        "axes": [
            {"code": d["code"], "label": d["name"], "value": d["score"], "peer": d["peer_mean"]} for d in dimensions
        ],
        "series_label": L["this_provider"],
        "peer_label": peer_label,
    }
    ctx = common_context(prep)
    ctx.update(
        {
            "kind": "card",
            "rectification": rectification_items(prep, code),
            "provider": {
                "code": p["fixmedins_code"],
                "name": p.get("fixmedins_name") or "",
                "province": p.get("province"),
                "province_name": p.get("province_name") or "",
                "region": p.get("region"),
                "region_label": region_label(prep, p.get("region")),
                "level": p.get("level"),
                "level_label": level_label(prep, p.get("level")),
                "type": p.get("type") or "",
            },
            "total": total,
            "total_display": tx.format_total(total),
            "grade": grade,
            "grade_zh": p.get("grade"),
            "light": light_of(prep, p.get("light")),
            "rank": p.get("rank"),
            "rank_of": prep.graded,
            "rank_display": "—" if p.get("rank") is None else f"{p['rank']}{L['of']}{prep.graded}",
            # rank among the provider's peer group (even when they are too few for averages)
            "peer_rank": same.ranks.get(code),
            "peer_n": len(same.ranks),
            "peer_label": peer_label,
            "peer_rank_display": "—"
            if same.ranks.get(code) is None
            else f"{same.ranks[code]}{L['of']}{len(same.ranks)}"
            + (L["peer_caution_mark"] if len(same.ranks) < PEER_CAUTION else ""),
            **peer_notes(prep, p, len(same.ranks)),
            "peer_total_mean": peers.total_mean,
            "peer_total_mean_display": tx.format_total(peers.total_mean),
            "peer_percentile": p.get("peer_percentile"),
            **percentile_displays(prep, p.get("peer_percentile"), p.get("peer_n")),
            "veto": list(p.get("veto") or []),
            # earlier years' grades, most recent first: (year, grade) (results.json grade_history, oldest first)
            "grade_history": [
                (int(prep.results["year"]) - i - 1, g) for i, g in enumerate(reversed(p.get("grade_history") or []))
            ],
            # why not graded, or graded failing for missing data (policy eligibility), in the card's language
            "eligibility": (p.get("eligibility_zh") if prep.lang == "zh" else p.get("eligibility")) or "",
            "dimensions": dimensions,
            "indicators": rows,
            "lights": lights,
            "fix_first": fix_first,
            "changes": changes,
            "radar": radar,
            "adjustment": _adjustment(prep, p.get("adjustment"), grade),
            "quality": _quality_notes(prep, prep.quality_by_provider.get(code)),
            "corrections": corrections_note(prep, rows_by_code),
            "rank_interval": rank_interval(prep, code),
            "interval_note": interval_note(prep, p),
        }
    )
    return ctx


SMALL_N = 400  # a share's interval is printed on the card below this denominator (±5 points at 50 %)


def interval_note(prep: Prepared, p: Mapping) -> str:
    """The 95 % intervals of the shares whose denominator is small (results.json `interval`), in one
    line: D6.01 参保人满意度 80.3%（95%区间 69.9%–87.7%，n=76）."""
    items = []
    for row in p.get("indicators") or []:
        iv = row.get("interval")
        if not iv or iv["n"] >= SMALL_N or row.get("value") is None:
            continue
        name = name_of(prep, prep.indicators.get(row["code"], {"code": row["code"]}))
        low, high = (tx.format_value(iv[k], "percent", prep.lang) for k in ("low", "high"))
        value = tx.format_value(row["value"], "percent", prep.lang)
        if prep.lang == "zh":
            items.append(f"{row['code']} {name} {value}（{low}–{high}，n={iv['n']:,.0f}）")
        else:
            items.append(f"{row['code']} {name} {value} ({low}–{high}, n = {iv['n']:,.0f})")
    return prep.L["interval_note"].format(items=("；" if prep.lang == "zh" else "; ").join(items)) if items else ""


def rank_interval(prep: Prepared, code: str) -> str:
    """The rank's 5th–95th percentile and the probability of the assigned grade, when the report was
    given `pingyi uncertainty`'s figures of these results."""
    u = prep.uncertainty
    if u is None:
        return ""
    mine = next((q for q in u["providers"] if q["fixmedins_code"] == code), None)
    if mine is None or mine["rank_p5"] is None:
        return ""
    return prep.L["rank_interval"].format(
        low=f"{mine['rank_p5']:.0f}", high=f"{mine['rank_p95']:.0f}", p=f"{mine['p_assigned_grade']:.2f}"
    )


def corrections_note(prep: Prepared, rows_by_code: Mapping[str, Mapping]) -> list[dict[str, Any]]:
    """The indicators whose value a correction replaced after review (复核更正, results.json `corrected`),
    in catalogue order, each as one short text: code, name, the computed value and the corrected one."""
    L, out = prep.L, []
    for c in prep.indicators:
        fix = (rows_by_code.get(c) or {}).get("corrected")
        if not fix:
            continue
        unit = prep.indicators[c]["unit"]
        text = L["corrections_item"].format(
            code=c,
            name=_static(prep, c)["name"],
            before=tx.format_value(fix.get("from"), unit, prep.lang),
            after=tx.format_value(fix.get("to"), unit, prep.lang),
        )
        if fix.get("dispute_id") is not None:
            text += L["corrections_dispute"].format(id=fix["dispute_id"])
        out.append({"code": c, "text": text, "dispute_id": fix.get("dispute_id")})
    return out
