"""Result files: scores.csv, indicators.csv, adjustments.csv, results.json (plus quality.csv and
rejected.csv from the quality stage). Byte-identical across runs: stable sorting, fixed number
formatting, no timestamps. Patient identifiers never reach this module.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

from pingyi.run.pipeline import RunResult

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def fmt(x, digits: int = 4) -> str:
    if x is None:
        return ""
    if isinstance(x, Decimal):
        return f"{x:.2f}"
    return f"{x:.{digits}f}"


def fmt_value(x: float | None) -> str:
    """Indicator values keep 10 significant digits (they mix fractions, yuan and counts)."""
    return "" if x is None else f"{x:.10g}"


def safe_text(text: str | None) -> str:
    """Text from input data never starts a spreadsheet formula when a CSV is opened in Excel (OWASP CSV
    injection guidance: prefix with an apostrophe)."""
    if text is None:
        return ""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _csv(path: Path, header: list[str], rows: list[list]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def write_results(run: RunResult, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    project = run.project
    primaries = [p.code for p in run.tree.primary]
    info = {p.code: p for p in run.providers}
    results = sorted(run.results, key=lambda r: r.fixmedins_code)

    score_rows = []
    for r in results:
        p = info[r.fixmedins_code]
        pscore = {ps.code: ps.score for ps in r.primaries}
        score_rows.append([r.fixmedins_code, safe_text(p.name), p.region, p.level, fmt(r.total), r.grade,
                           "" if r.rank is None else r.rank, *(fmt(pscore[c]) for c in primaries)])
    _csv(out / "scores.csv", ["fixmedins_code", "fixmedins_name", "region", "level", "total_score", "grade", "rank",
                              *primaries], score_rows)

    ind_rows = []
    for r in results:
        vals = run.values[r.fixmedins_code]
        for code in project.indicators:
            s = r.indicators[code]
            ind_rows.append([r.fixmedins_code, code, fmt_value(s.value), fmt_value(s.baseline), fmt(s.score),
                             s.light.value, fmt(r.effective_weight[code], 6), fmt(r.contribution[code], 6),
                             fmt_value(vals[code].prior), fmt_value(s.benchmark), s.status, s.reason])
    _csv(out / "indicators.csv", ["fixmedins_code", "indicator", "value", "baseline", "score", "light", "weight",
                                  "contribution", "prior_value", "benchmark", "status", "reason"], ind_rows)

    adj_rows = [[a.fixmedins_code, fmt(a.prepayment), f"{a.rate:.6f}", fmt(a.amount), fmt(a.new_prepayment), a.rule,
                 a.designation, a.prepayment_source] for a in sorted(run.adjustments, key=lambda a: a.fixmedins_code)]
    _csv(out / "adjustments.csv", ["fixmedins_code", "prepayment", "rate", "amount", "new_prepayment", "rule",
                                   "designation", "prepayment_source"], adj_rows)

    run.quality.write(out)
    (out / "results.json").write_text(json.dumps(results_json(run), ensure_ascii=False, indent=1, sort_keys=False)
                                      + "\n", encoding="utf-8")
    return [out / n for n in ("scores.csv", "indicators.csv", "adjustments.csv", "quality.csv", "rejected.csv",
                              "results.json")]


def _num(x, digits=6):
    if x is None:
        return None
    if isinstance(x, Decimal):
        return str(x)
    return round(x, digits)


def results_json(run: RunResult) -> dict:
    """Everything above, nested per provider; the report cards are rendered from this alone."""
    project = run.project
    info = {p.code: p for p in run.providers}
    adj = {a.fixmedins_code: a for a in run.adjustments}
    dims = {d.primary.code: d for d in project.dimensions}
    quality_by_provider = _quality_by_provider(run)
    providers = []
    for r in sorted(run.results, key=lambda r: r.fixmedins_code):
        p = info[r.fixmedins_code]
        a = adj[r.fixmedins_code]
        vals = run.values[r.fixmedins_code]
        peers = run.peers.get(r.fixmedins_code, {})
        notes = run.casemix_notes.get(r.fixmedins_code, {})
        providers.append({
            "fixmedins_code": p.code, "fixmedins_name": p.name, "province": p.province,
            "province_name": p.province_name, "region": p.region, "level": p.level, "type": p.type,
            "total_score": _num(r.total, 4), "grade": r.grade, "grade_en": r.grade_en, "light": r.light.value,
            "rank": r.rank, "veto": r.veto,
            "peer_group": {"region": p.region, "level": p.level}, "peer_n": peers.get("peer_n"),
            "peer_percentile": _num(peers.get("peer_percentile"), 2),
            "primaries": [{"code": ps.code, "score": _num(ps.score, 4), "light": ps.light.value,
                           "weight": _num(ps.weight), "effective_weight": _num(ps.effective_weight),
                           "insufficient": list(ps.insufficient)} for ps in r.primaries],
            "indicators": [{
                "code": code, "value": _num(s.value, 10), "prior_value": _num(vals[code].prior, 10),
                "baseline": _num(s.baseline, 10), "benchmark": _num(s.benchmark, 10), "score": _num(s.score, 4),
                "light": s.light.value, "status": s.status, "gap": _num(s.gap), "reason": s.reason,
                "reason_zh": s.reason_zh, "weight": _num(r.effective_weight[code]),
                "contribution": _num(r.contribution[code]), "volume": _num(vals[code].volume, 10),
                "detail": {k: _num(v, 4) for k, v in s.detail.items()},
                "inputs": {when: {m: _num(v, 10) for m, v in sorted(ms.items())}
                           for when, ms in vals[code].inputs.items()},
                **_casemix_fields(project.indicators[code], vals[code], notes.get(code)),
                "peer_n": peers.get("indicators", {}).get(code, {}).get("peer_n"),
                "peer_percentile": _num(peers.get("indicators", {}).get(code, {}).get("peer_percentile"), 2),
                **({"funnel": _funnel_point(run, code, r.fixmedins_code)} if code in run.funnels else {}),
                **({"scored_value": _num(s.scored_value, 10)} if s.scored_value is not None else {}),
            } for code, s in ((c, r.indicators[c]) for c in project.indicators)],
            "adjustment": {"prepayment": _num(a.prepayment), "prepayment_source": a.prepayment_source,
                           "rate": str(a.rate.quantize(Decimal("0.000001"))), "amount": _num(a.amount),
                           "new_prepayment": _num(a.new_prepayment), "rule": a.rule, "designation": a.designation},
            "quality": quality_by_provider.get(p.code, {}),
        })
    return {
        "pingyi_version": run.parameters["pingyi"],
        "year": run.year,
        "system": {"name": project.hierarchy.name, "version": project.hierarchy.version},
        "parameters": run.parameters,
        "regions": {code: label for code, label in project.regions.schemes[project.baselines.region_scheme].regions.items()},
        "grades": [{"name": g.name, "name_en": g.name_en, "min_score": g.min_score} for g in project.policy.grades],
        "primaries": [{"code": p.code, "name_zh": p.name_zh, "name_en": p.name_en, "weight": _num(p.weight),
                       "description": dims[p.code].primary.description} for p in run.tree.primary],
        "indicators": [{"code": code, "primary": project.primary_of[code], "name_zh": ind.name_zh,
                        "name_en": ind.name_en, "unit": ind.unit.value, "direction": ind.direction.value,
                        "source": ind.source.value, "qualitative": ind.qualitative, "rule": ind.scoring.rule,
                        "casemix": ind.casemix, "adjusted_formula": ind.adjusted_formula,
                        "statistical_lights": ind.lights.statistical,
                        "nominal_weight": _num(run.tree.global_weights()[code]),
                        "local_weight": _num(run.tree.local_weights()[code]),
                        "meaning": ind.manual.meaning, "interpretation": ind.manual.interpretation}
                       for code, ind in project.indicators.items()],
        "budget": {"mode": run.project.policy.adjustment.mode, "penalties": str(run.budget.penalties),
                   "rewards": str(run.budget.rewards), "net": str(run.budget.net),
                   "scale": None if run.budget.scale is None else str(run.budget.scale)},
        "quality": {"tables": {t: {"file": c.file, "format": c.format, "read": c.read, "used": c.used,
                                   "rejected": c.rejected, "flagged": c.flagged}
                               for t, c in sorted(run.quality.counts.items())},
                    "top_failures": run.quality.top_failures(10)},
        "casemix_model": run.casemix.as_json() if run.casemix is not None else None,
        "funnels": {code: _funnel_json(run, code) for code in run.funnels},
        "providers": providers,
    }


def _casemix_fields(ind, v, note: dict | None) -> dict:
    """`value` is the scored value; raw and adjusted are both kept, with the sentence that says which counted."""
    out = {"casemix": ind.casemix, "raw_value": _num(v.raw_value, 10), "adjusted_value": _num(v.adjusted_value, 10)}
    if note is not None:
        out["casemix_note"] = {"counted": note["counted"], "raw_light": note["raw_light"],
                               "adjusted_light": note["adjusted_light"], "raw_score": _num(note["raw_score"], 4),
                               "adjusted_score": _num(note["adjusted_score"], 4),
                               "expected_cost_change": _num(note["expected_cost_change"], 6),
                               "text": note["note"], "text_zh": note["note_zh"]}
    return out


def _funnel_point(run: RunResult, code: str, provider: str) -> dict | None:
    """This provider's place in the indicator's funnel: z-score and the limits at its volume."""
    entry = run.funnels[code]
    point = next((pt for pt in entry["points"] if pt["fixmedins_code"] == provider), None)
    if point is None:
        return None
    limits = entry["fit"].limits(point["n"], point["target"]) or {}
    return {"n": _num(point["n"], 10), "target": _num(point["target"], 10), "z": _num(point["z"], 4),
            "limits": {k: [_num(lo, 10), _num(hi, 10)] for k, (lo, hi) in limits.items()}}


def _funnel_json(run: RunResult, code: str) -> dict:
    """One funnel plot per indicator: target(s), phi, tau^2, method and every provider's point."""
    ind = run.project.indicators[code]
    entry = run.funnels[code]
    fit = entry["fit"]
    targets = sorted({pt["target"] for pt in entry["points"]})
    return {"indicator": code, "name_zh": ind.name_zh, "name_en": ind.name_en, "unit": ind.unit.value,
            "direction": ind.direction.value, "target": targets[0] if len(targets) == 1 else None,
            "targets": targets, **{k: (_num(v, 10) if isinstance(v, float) else v) for k, v in fit.as_json().items()},
            "red_bound": ind.lights.red, "lights_mode": ind.lights.mode,
            "points": [{"fixmedins_code": pt["fixmedins_code"], "fixmedins_name": pt["fixmedins_name"],
                        "region": pt["region"], "level": pt["level"], "n": _num(pt["n"], 10),
                        "value": _num(pt["value"], 10), "target": _num(pt["target"], 10), "z": _num(pt["z"], 4),
                        "light": pt["light"]} for pt in sorted(entry["points"], key=lambda x: x["fixmedins_code"])]}


def _quality_by_provider(run: RunResult) -> dict[str, dict]:
    """Per provider: rows rejected or flagged per check (the card's data-quality notes)."""
    rows = run.quality.con.execute("""
        SELECT fixmedins_code, "table", "check", reason_code, dimension, severity, failed, checked
        FROM quality WHERE fixmedins_code IS NOT NULL AND failed > 0
        ORDER BY fixmedins_code, "table", "check", reason_code""").fetchall()
    out: dict[str, dict] = {}
    for code, table, check, reason, dimension, severity, failed, checked in rows:
        entry = out.setdefault(code, {"rejected": 0, "flagged": 0, "checks": []})
        entry["rejected" if severity == "reject" else "flagged"] += int(failed)
        entry["checks"].append({"table": table, "check": check, "reason_code": reason, "dimension": dimension,
                                "severity": severity, "failed": int(failed), "checked": int(checked)})
    return out
