"""results.json: everything the result CSVs hold, nested per provider, with the catalogue (rules,
parameters, lights), weights, budget, data quality, case-mix model and funnels. The report cards are
rendered from this alone. Its contract is pingyi.run.schema.

Numbers are rounded once here (`_num`) so the file is byte-identical run to run; money stays a
decimal string.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pingyi.compute.indicators import IndicatorValue
from pingyi.data.quality import ProviderQuality
from pingyi.numbers import wilson_interval
from pingyi.run.corrections import Applied
from pingyi.run.schema import SCHEMA_VERSION
from pingyi.score.adjust import Credit
from pingyi.score.casemix import CasemixNote
from pingyi.score.funnel import FunnelFit, FunnelPoint
from pingyi.score.indicator import IndicatorScore
from pingyi.score.peers import PeerView
from pingyi.spec.models import REPORTED_DENOMINATOR, IndicatorSpec

if TYPE_CHECKING:
    from pingyi.run.pipeline import RunResult


def _credit_json(c: Credit | None) -> dict[str, Any] | None:
    if c is None:
        return None
    return {
        "rating": c.rating,
        "status": c.status,
        "violations": None if c.violations is None else int(c.violations),
        "rate": str(c.rate.quantize(Decimal("0.000001"))),
        "amount": str(c.amount),
    }


def _num(x: Any, digits: int = 6) -> Any:
    if x is None:
        return None
    if isinstance(x, Decimal):
        return str(x)
    return round(x, digits)


def results_document(run: RunResult) -> dict[str, Any]:
    """The whole document at once; the writer streams `document_fields` and `provider_documents` instead,
    so a province's providers are never all held as dictionaries together."""
    return {**document_fields(run), "providers": list(provider_documents(run))}


def provider_documents(run: RunResult) -> Iterator[dict[str, Any]]:
    """The `providers` of results.json, one provider at a time, in code order."""
    project = run.project
    info = {p.code: p for p in run.providers}
    nominal = run.tree.global_weights()
    adj = {a.fixmedins_code: a for a in run.adjustments}
    funnel_points = {code: {pt.code: pt for pt in fs.points} for code, fs in run.scored.funnels.items()}
    corrected = {(c.fixmedins_code, c.indicator): c for c in run.corrections}
    # what is the same for every provider, computed once per indicator
    specs = [(code, ind) for code, ind in project.indicators.items()]
    nominal_num = {code: _num(nominal[code]) for code in project.indicators}
    with_interval = {code: _may_have_interval(ind) for code, ind in specs}
    for r in sorted(run.scored.results, key=lambda r: r.fixmedins_code):
        p = info[r.fixmedins_code]
        a = adj[r.fixmedins_code]
        vals = run.values[r.fixmedins_code]
        peers = run.scored.peers.get(r.fixmedins_code)
        notes = run.scored.casemix_notes.get(r.fixmedins_code, {})
        yield (
            {
                "fixmedins_code": p.code,
                "fixmedins_name": p.name,
                "province": p.province,
                "province_name": p.province_name,
                "region": p.region,
                "level": p.level,
                "type": p.type,
                "total_score": _num(r.total, 4),
                "grade": r.grade,
                "grade_en": r.grade_en,
                "light": r.light.value,
                "rank": r.rank,
                "veto": list(r.veto),
                "grade_history": list(run.history.get(r.fixmedins_code, ())),
                "eligibility": r.eligibility,
                "eligibility_zh": r.eligibility_zh,
                "peer_group": _peer_group_json(p.region, p.level, peers),
                "peer_n": peers.total.n if peers else None,
                "peer_percentile": _num(peers.total.percentile if peers else None, 2),
                "primaries": [
                    {
                        "code": ps.code,
                        "score": _num(ps.score, 4),
                        "light": ps.light.value,
                        "weight": _num(ps.weight),
                        "effective_weight": _num(ps.effective_weight),
                        "insufficient": list(ps.insufficient),
                    }
                    for ps in r.primaries
                ],
                "indicators": [
                    {
                        "code": code,
                        "value": _num(s.value, 10),
                        "prior_value": _num(vals[code].prior, 10),
                        "baseline": _num(s.baseline, 10),
                        "benchmark": _num(s.benchmark, 10),
                        "score": _num(s.score, 4),
                        "light": s.light.value,
                        "status": s.status.value,
                        "absence": s.absence,
                        "gap": _num(s.gap),
                        "reason": s.reason,
                        "reason_zh": s.reason_zh,
                        "weight": _num(r.effective_weight[code]),
                        "nominal_weight": nominal_num[code],
                        "contribution": _num(r.contribution[code]),
                        "volume": _num(vals[code].volume, 10),
                        "interval": _interval(ind, s.value, vals[code].volume) if with_interval[code] else None,
                        "detail": {k: _num(v, 4) for k, v in s.detail.items()},
                        "inputs": {
                            when: {m: _num(v, 10) for m, v in sorted(ms.items())}
                            for when, ms in vals[code].inputs.items()
                        },
                        **_casemix_fields(ind, vals[code], notes.get(code)),
                        "peer_n": peers.indicators[code].n if peers and code in peers.indicators else None,
                        "peer_percentile": _num(
                            peers.indicators[code].percentile if peers and code in peers.indicators else None, 2
                        ),
                        **(
                            {"funnel": _funnel_point(run.scored.funnels[code].fit, funnel_points[code].get(p.code), s)}
                            if code in run.scored.funnels
                            else {}
                        ),
                        **({"scored_value": _num(s.scored_value, 10)} if s.scored_value is not None else {}),
                        **(
                            {"corrected": _correction_json(corrected[(p.code, code)])}
                            if (p.code, code) in corrected
                            else {}
                        ),
                    }
                    for code, ind, s in ((c, i, r.indicators[c]) for c, i in specs)
                ],
                "adjustment": {
                    "prepayment": _num(a.prepayment),
                    "prepayment_source": a.prepayment_source,
                    "rate": str(a.rate.quantize(Decimal("0.000001"))),
                    "amount": _num(a.amount),
                    "new_prepayment": _num(a.new_prepayment),
                    "rule": a.rule,
                    "designation": a.designation.value,
                    "credit": _credit_json(a.credit),
                },
                "credit_status": None if a.credit is None else a.credit.status,
                "quality": _quality_json(run.quality.by_provider.get(p.code)),
            }
        )


def document_fields(run: RunResult) -> dict[str, Any]:
    """Every field of results.json but `providers` (which comes last: provider_documents)."""
    project = run.project
    dims = {d.primary.code: d for d in project.dimensions}
    quality = run.quality
    scheme = project.regions.schemes[project.baselines.region_scheme]
    weights, local = run.tree.global_weights(), run.tree.local_weights()
    return {
        "schema_version": SCHEMA_VERSION,
        "pingyi_version": run.parameters["pingyi"],
        "year": run.year,
        "system": {"name": project.hierarchy.name, "version": project.hierarchy.version},
        "issue": project.policy.report.model_dump(mode="json"),
        "parameters": dict(run.parameters),
        "regions": dict(scheme.regions.items()),
        "grades": [{"name": g.name, "name_en": g.name_en, "min_score": g.min_score} for g in project.policy.grades],
        "primaries": [
            {
                "code": p.code,
                "name_zh": p.name_zh,
                "name_en": p.name_en,
                "weight": _num(p.weight),
                "description": dims[p.code].primary.description,
            }
            for p in run.tree.primary
        ],
        "indicators": [
            {
                "code": code,
                "primary": project.primary_of[code],
                "name_zh": ind.name_zh,
                "name_en": ind.name_en,
                "unit": ind.unit.value,
                "direction": ind.direction.value,
                "source": ind.source.value,
                "qualitative": ind.qualitative,
                "rule": ind.scoring.rule,
                "rule_params": ind.scoring.model_dump(mode="json", exclude={"rule"}, by_alias=True),
                "lights": ind.lights.model_dump(mode="json"),
                "casemix": ind.casemix,
                "adjusted_formula": ind.adjusted_formula,
                "statistical_lights": ind.lights.statistical,
                "nominal_weight": _num(weights[code]),
                "local_weight": _num(local[code]),
                "meaning": ind.manual.meaning,
                "interpretation": ind.manual.interpretation,
            }
            for code, ind in project.indicators.items()
        ],
        "budget": {
            "mode": project.policy.adjustment.mode,
            "penalties": str(run.budget.penalties),
            "rewards": str(run.budget.rewards),
            "net": str(run.budget.net),
            "scale": None if run.budget.scale is None else str(run.budget.scale),
            "credit": str(run.budget.credit),
        },
        "quality": {
            "tables": {
                t: {
                    "file": c.file,
                    "format": c.format,
                    "read": c.read,
                    "used": c.used,
                    "rejected": c.rejected,
                    "flagged": c.flagged,
                }
                for t, c in sorted(quality.counts.items())
            },
            "top_failures": [f.as_json() for f in quality.top_failures(10)],
        },
        "guards": [g.as_json() for g in run.guards],
        "graded": _graded(run),
        "casemix_model": run.casemix.as_json() if run.casemix is not None else None,
        "funnels": {code: _funnel_json(run, code) for code in run.scored.funnels},
        "corrections": [
            {"fixmedins_code": c.fixmedins_code, "indicator": c.indicator, **_correction_json(c)}
            for c in run.corrections
        ],
        "weighting": _weighting_json(run),
        "expert_screening": _screening_json(run),
    }


def _screening_json(run: RunResult) -> dict[str, Any]:
    """Each AHP matrix's experts and those the per-expert CR screening flagged or excluded (policy
    `hierarchy.ahp.expert_cr`): the committee report says so."""
    ahp = run.project.hierarchy.ahp
    matrices = [run.tree.root, *(p.matrix for p in run.tree.primary)]
    return {
        "threshold": ahp.cr_threshold,
        "action": ahp.expert_cr,
        "matrices": [
            {
                "matrix": m.group,
                "experts": len(m.experts),
                "screened": [{"expert": e, "cr": _num(cr, 4), "action": how} for e, cr, how in m.screened],
            }
            for m in matrices
            if m.method != "direct"
        ],
    }


def _may_have_interval(ind: IndicatorSpec) -> bool:
    """Whether `_interval` can give this indicator an interval at all (it is None for every provider if not)."""
    by_denominator = ind.volume is not None and ind.volume.measure == REPORTED_DENOMINATOR
    return ind.unit == "percent" and (by_denominator or ind.lights.statistical == "funnel")


def _interval(ind: IndicatorSpec, value: float | None, n: float | None) -> dict[str, Any] | None:
    """The 95 % Wilson interval of a share whose denominator is known to be its volume: a survey or
    reported share under a `denominator` volume rule (valid questionnaires), or a funnel-lighted share
    (its volume is the denominator by the funnel's definition). None otherwise."""
    if value is None or n is None or n <= 0 or ind.unit != "percent" or not 0 <= value <= 1:
        return None
    by_denominator = ind.volume is not None and ind.volume.measure == REPORTED_DENOMINATOR
    if not (by_denominator or ind.lights.statistical == "funnel"):
        return None
    low, high = wilson_interval(value, n)
    return {"method": "wilson", "level": 0.95, "n": _num(n, 10), "low": _num(low, 10), "high": _num(high, 10)}


def _weighting_json(run: RunResult) -> dict[str, Any] | None:
    w = run.scored.weighting
    if w is None:
        return None
    doc = w.as_json()
    return {
        "objective_method": doc["objective_method"],
        "combination": doc["combination"],
        "providers": w.source.providers,
        "indicators": [
            {**i, **{k: _num(i[k], 10) for k in ("ahp", "entropy", "critic", "combined")}} for i in doc["indicators"]
        ],
    }


def _peer_group_json(region: str, level: str, view: PeerView | None) -> dict[str, Any]:
    """The provider's region, level and provider type, the keys its peers share after merging, how many
    they are and the note on a merge, an unknown type or a group under five."""
    g = view.group if view else None
    return {
        "region": region,
        "level": level,
        "type": view.type if view else None,
        "keys": list(g.keys) if g else ["region", "level"],
        "n": g.n if g else None,
        "merged": list(g.merged) if g else [],
        "note": g.note if g else None,
        "note_zh": g.note_zh if g else None,
    }


def _correction_json(c: Applied) -> dict[str, Any]:
    """A value replaced after review (复核更正): what was computed, what replaced it, and why."""
    return {"from": _num(c.from_value, 10), "to": _num(c.to_value, 10), "dispute_id": c.dispute_id, "reason": c.reason}


def _graded(run: RunResult) -> dict[str, Any]:
    ungraded = run.project.policy.insufficient_grade
    reasons = Counter(_not_graded_kind(r.eligibility) for r in run.results if r.grade == ungraded)
    return {"graded": sum(1 for r in run.results if r.grade != ungraded), "not_graded": dict(sorted(reasons.items()))}


def _not_graded_kind(why: str) -> str:
    if "scored indicators" in why:
        return "too few scored indicators (eligibility.min_scored)"
    if "nominal weight" in why:
        return "one indicator above eligibility.max_weight_ratio"
    return why or "no scored indicator"


def _quality_json(q: ProviderQuality | None) -> dict[str, Any]:
    if q is None:
        return {}
    return {
        "rejected": q.rejected,
        "flagged": q.flagged,
        "checks": [
            {
                "table": c.table,
                "check": c.check,
                "reason_code": c.reason_code,
                "dimension": c.dimension,
                "severity": c.severity,
                "failed": c.failed,
                "checked": c.checked,
            }
            for c in q.checks
        ],
    }


def _casemix_fields(ind: IndicatorSpec, v: IndicatorValue, note: CasemixNote | None) -> dict[str, Any]:
    """`value` is the scored value; raw and adjusted are both kept, with the sentence that says which counted."""
    out: dict[str, Any] = {
        "casemix": ind.casemix,
        "raw_value": _num(v.raw_value, 10),
        "adjusted_value": _num(v.adjusted_value, 10),
    }
    if note is not None:
        out["casemix_note"] = {
            "counted": note.counted,
            "raw_light": note.raw_light,
            "adjusted_light": note.adjusted_light,
            "raw_score": _num(note.raw_score, 4),
            "adjusted_score": _num(note.adjusted_score, 4),
            "expected_cost_change": _num(note.expected_cost_change, 6),
            "text": note.note,
            "text_zh": note.note_zh,
        }
    return out


def _funnel_point(fit: FunnelFit, point: FunnelPoint | None, score: IndicatorScore) -> dict[str, Any] | None:
    """This provider's place in the indicator's funnel (None: not among the funnel's providers): z-score
    and the limits at its volume."""
    if point is None:
        return None
    limits = fit.limits(point.n, point.target) or {}
    z = score.detail.get("funnel_z")
    return {
        "n": _num(point.n, 10),
        "target": _num(point.target, 10),
        "z": _num(z, 4),
        "limits": {k: [_num(lo, 10), _num(hi, 10)] for k, (lo, hi) in limits.items()},
    }


def _funnel_json(run: RunResult, code: str) -> dict[str, Any]:
    """One funnel plot per indicator: target(s), phi, tau^2, method and every provider's point."""
    ind = run.project.indicators[code]
    entry = run.scored.funnels[code]
    info = {p.code: p for p in run.providers}
    by_code = {r.fixmedins_code: r for r in run.scored.results}
    targets = sorted({pt.target for pt in entry.points})
    points = []
    for pt in sorted(entry.points, key=lambda x: x.code):
        p, s = info[pt.code], by_code[pt.code].indicators[code]
        points.append(
            {
                "fixmedins_code": pt.code,
                "fixmedins_name": p.name,
                "region": p.region,
                "level": p.level,
                "n": _num(pt.n, 10),
                "value": _num(pt.value, 10),
                "target": _num(pt.target, 10),
                "z": _num(s.detail.get("funnel_z"), 4),
                "light": s.light.value,
            }
        )
    return {
        "indicator": code,
        "name_zh": ind.name_zh,
        "name_en": ind.name_en,
        "unit": ind.unit.value,
        "direction": ind.direction.value,
        "target": targets[0] if len(targets) == 1 else None,
        "targets": targets,
        **{k: (_num(v, 10) if isinstance(v, float) else v) for k, v in entry.fit.as_json().items()},
        "red_bound": ind.lights.red,
        "lights_mode": ind.lights.mode,
        "points": points,
    }
