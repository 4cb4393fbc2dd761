"""The Excel workbook (openpyxl, write-only/streaming): summary, indicators, adjustments, about, and
optionally one sheet per provider.

`pingyi report` builds it from the numbers of results.json (`write_results_workbook`): each provider's
rows are made from its record with the same words as its card (the lookups of pingyi.report.prepare and
pingyi.report.card), but without the card's text (displays, charts, notes), which a workbook for 5,000
providers would build for nothing. `write_workbook` renders card contexts instead (the cards are a
superset of the rows); a test checks that both give the same workbook, cell by cell. All sheets are
written in one pass over the providers, one row to each in turn, and spooled (pingyi.report.xlsxbook).

- Numbers are written as the numbers of results.json (the totals equal scores.csv exactly); number
  formats do the display: percent `0.0%`, yuan `#,##0.00`, scores `0.00`.
- Every text cell is written as an inline string (`data_type = "s"`), never as a formula: a provider
  named `=HYPERLINK(...)` stays text (OWASP CSV/formula injection), and so do `+`, `-`, `@` and
  error-code-like values such as `#N/A`.
- Traffic-light fills, frozen header row, autofilter, column widths that count a CJK character as two.
- Deterministic: zip entries carry a fixed date and docProps/core.xml no created/modified time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from pingyi import text as tx
from pingyi.report import labels as lb
from pingyi.report.card import _adjustment, _static, common_context
from pingyi.report.prepare import (
    FIX_FIRST_N,
    Prepared,
    grade_of,
    level_label,
    light_of,
    money_float,
    name_of,
    peer_group,
    peer_ranks,
    prepare,
    prepare_lookups,
    region_label,
)
from pingyi.report.xlsxbook import BookWriter

UNIT_FORMATS = {
    "percent": "0.0%",
    "yuan": "#,##0.00",
    "days": "0.0",
    "minutes": "0.0",
    "count": "#,##0",
    "per_10k": "0.00",
    "score": "0.0",
    "index": "0.000",
    "ratio": "0.000",
}
SCORE_FMT = "0.00"
TOTAL_FMT = "0.0000"
WEIGHT_FMT = "0.00%"
PERCENTILE_FMT = "0"  # 0-100: the share of same region-and-level peers a provider does better than
RATE_FMT = "0.00%"
YUAN_FMT = "#,##0.00"
PER_PROVIDER_SHEETS_MAX = 200  # one sheet per provider up to this many providers ("auto")
BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def _fill(light: Mapping | None) -> str | None:
    return lb.LIGHT_FILLS.get((light or {}).get("key", ""))


def _sheet_title(title: str, used: set[str]) -> str:
    base = BAD_SHEET_CHARS.sub("_", title).strip("'")[:31] or "sheet"
    name, k = base, 2
    while name.lower() in used:
        suffix = f"~{k}"
        name, k = base[: 31 - len(suffix)] + suffix, k + 1
    used.add(name.lower())
    return name


class WorkbookWriter:
    """The workbook's sheets, written side by side one provider at a time (`add`), then the about sheet
    (`finish`). `cards` are card contexts or the rows of `provider_rows`: the keys the sheets read."""

    def __init__(self, L: Mapping[str, str], lang: str, dims: list[tuple[str, str]], per_provider: bool):
        self.L, self.lang, self.per_provider = L, lang, per_provider
        zh = lang == "zh"
        self.book = book = BookWriter()
        self.used: set[str] = set()
        used = self.used
        # ---- summary: one row per provider, in results order (the order of scores.csv)
        self.summary = book.sheet(
            _sheet_title("汇总" if zh else "Summary", used),
            [
                L["code"],
                L["name"],
                L["province"],
                L["region"],
                L["level"],
                L["type"],
                L["total"],
                L["grade"],
                L["rank"],
                L["rank_peers"],
                L["peer_percentile"],
                *[f"{c} {n}" for c, n in dims],
                *(f"{L['light']}:{tx.LIGHT_SHORT[lang][k]}" for k in ("red", "yellow", "green", "grey")),
                L["prepayment"],
                L["rate"],
                L["amount"],
                L["new_prepayment"],
                L["designation"],
            ],
            widths_max=40,
            freeze="C2",
        )
        # ---- indicators: one row per provider x indicator
        self.ind = book.sheet(
            _sheet_title("指标明细" if zh else "Indicators", used),
            [
                L["code"],
                L["name"],
                L["dimension"],
                L["indicator"] + " ID",
                L["indicator"],
                L["unit"],
                L["value"],
                L["baseline"],
                L["benchmark"],
                L["prior"],
                L["change"],
                L["light"],
                L["score"],
                L["weight"],
                L["nominal_weight"],
                L["contribution"],
                L["peer_percentile"],
                L["raw_value"],
                L["adjusted_value"],
                L["counted"],
                L["status"],
                L["reason"],
            ],
            widths_max=36,
            freeze="F2",
        )
        self.counted = {"raw": L["raw_value"], "adjusted": L["adjusted_value"]}  # which value was scored
        ind = self.ind
        unit_ids: dict[str | None, int] = {}

        def num_id(unit: str | None) -> int:  # the style of a value in its unit's number format
            sid = unit_ids.get(unit)
            if sid is None:
                sid = unit_ids[unit] = ind.num(0, UNIT_FORMATS.get(unit))[2]  # type: ignore[arg-type]
            return sid

        self.num_id = num_id
        self.score_id = ind.num(0, SCORE_FMT)[2]
        self.weight_id = ind.num(0, WEIGHT_FMT)[2]
        self.pct_id = ind.num(0, PERCENTILE_FMT)[2]
        # ---- adjustments
        self.adj = book.sheet(
            _sheet_title("预付金调整" if zh else "Adjustments", used),
            [
                L["code"],
                L["name"],
                L["total"],
                L["grade"],
                L["prepayment"],
                L["prepayment_source"],
                L["rate"],
                L["amount"],
                L["new_prepayment"],
                L["rule"],
                L["rule_raw"],
                L["designation"],
                L["credit_rating"],
                L["credit_status"],
                L["credit_amount"],
            ],
            widths_max=50,
            freeze="C2",
        )
        # ---- about: year, system, budget, legend (its rows once every provider is written)
        self.about = book.sheet(
            _sheet_title("说明" if zh else "About", used), [L["name"], L["value"]], widths_max=90, autofilter=False
        )

    def add(self, c: Mapping[str, Any]) -> None:
        """One provider: its row in the summary and adjustments, its indicator rows, and its own sheet."""
        p, a = c["provider"], c["adjustment"]
        summary, ind, adj = self.summary, self.ind, self.adj
        fill = _fill(c["light"])
        summary.add(
            [
                summary.text(p["code"]),
                summary.text(p["name"]),
                summary.text(p["province_name"]),
                summary.text(p["region_label"]),
                summary.text(p["level_label"]),
                summary.text(p["type"]),
                summary.num(c["total"], TOTAL_FMT, fill, bold=True),
                summary.text(c["grade"], fill),
                c["rank"],
                c["peer_rank"],
                summary.num(c["peer_percentile"], PERCENTILE_FMT),
                *[summary.num(d["score"], SCORE_FMT, _fill(d["light"])) for d in c["dimensions"]],
                *(c["lights"][k] for k in ("red", "yellow", "green", "grey")),
                summary.num(a["prepayment"], YUAN_FMT),
                summary.num(a["rate"], RATE_FMT),
                summary.num(a["amount"], YUAN_FMT),
                summary.num(a["new_prepayment"], YUAN_FMT),
                summary.text(a["designation_short"], lb.LIGHT_FILLS["red"] if a["at_risk"] else None),
            ]
        )
        # the hot loop (one row per provider x indicator): number cells are made here, not by ind.num
        code, name, counted = ind.text(p["code"]), ind.text(p["name"]), self.counted
        num_id, score_id, weight_id, pct_id = self.num_id, self.score_id, self.weight_id, self.pct_id
        for d in c["dimensions"]:
            dim = ind.text(f"{d['code']} {d['name']}")
            for r in d["indicators"]:
                f = num_id(r["unit"])
                light = r["light"]
                fill = _fill(light)
                v, b, m, pr, dl, sc = r["value"], r["baseline"], r["benchmark"], r["prior"], r["delta"], r["score"]
                w, nw, ct, pp = r["weight"], r["nominal_weight"], r["contribution"], r["peer_percentile"]
                rv, av = r["raw_value"], r["adjusted_value"]
                ind.add(
                    [
                        code,
                        name,
                        dim,
                        ind.text(r["code"]),
                        ind.text(r["name"]),
                        ind.text(r["unit_label"]),
                        None if v is None else ("n", v, f),
                        None if b is None else ("n", b, f),
                        None if m is None else ("n", m, f),
                        None if pr is None else ("n", pr, f),
                        None if dl is None else ("n", dl, f),
                        ind.text(light["label"], fill),
                        ind.num(sc, SCORE_FMT, fill),
                        None if w is None else ("n", w, weight_id),
                        None if nw is None else ("n", nw, weight_id),
                        None if ct is None else ("n", ct, score_id),
                        None if pp is None else ("n", pp, pct_id),
                        None if rv is None else ("n", rv, f),
                        None if av is None else ("n", av, f),
                        ind.text(counted.get(r["casemix"], "")) if av is not None else None,
                        ind.text(r["status_label"] + (f"（{r['absence_label']}）" if r["absence_label"] else "")),
                        ind.text(r["reason"]),
                    ]
                )
        adj.add(
            [
                adj.text(p["code"]),
                adj.text(p["name"]),
                adj.num(c["total"], TOTAL_FMT),
                adj.text(c["grade"], _fill(c["light"])),
                adj.num(a["prepayment"], YUAN_FMT),
                adj.text(a["prepayment_source"]),
                adj.num(a["rate"], RATE_FMT),
                adj.num(a["amount"], YUAN_FMT),
                adj.num(a["new_prepayment"], YUAN_FMT),
                adj.text(a["rule_text"]),
                adj.text(a["rule"]),
                adj.text(a["designation_label"], lb.LIGHT_FILLS["red"] if a["at_risk"] else None),
                adj.text(a["credit_rating"]),
                adj.text(a["credit_text"]),
                adj.num(a["credit_amount"], YUAN_FMT),
            ]
        )
        if self.per_provider:
            self._provider_sheet(c)

    def _provider_sheet(self, c: Mapping[str, Any]) -> None:
        L, p = self.L, c["provider"]
        sh = self.book.sheet(
            _sheet_title(p["code"], self.used),
            [
                L["indicator"] + " ID",
                L["indicator"],
                L["value"],
                L["baseline"],
                L["prior"],
                L["change"],
                L["light"],
                L["score"],
                L["weight"],
                L["peer_mean"],
                L["peer_percentile"],
                L["reason"],
            ],
            widths_max=40,
            autofilter=False,
        )
        for d in c["dimensions"]:
            sh.add(
                [
                    sh.text(d["code"], lb.LIGHT_FILLS["none"], bold=True),
                    sh.text(d["name"], lb.LIGHT_FILLS["none"], bold=True),
                    None,
                    None,
                    None,
                    None,
                    sh.text(d["light"]["label"], _fill(d["light"])),
                    sh.num(d["score"], SCORE_FMT, _fill(d["light"])),
                    sh.num(d["weight"], WEIGHT_FMT),
                    sh.num(d["peer_mean"], SCORE_FMT),
                    None,
                    None,
                ]
            )
            for r in d["indicators"]:
                fmt = UNIT_FORMATS.get(r["unit"])
                fill = _fill(r["light"])
                sh.add(
                    [
                        sh.text(r["code"]),
                        sh.text(r["name"]),
                        sh.num(r["value"], fmt),
                        sh.num(r["baseline"], fmt),
                        sh.num(r["prior"], fmt),
                        sh.num(r["delta"], fmt),
                        sh.text(r["light"]["label"], fill),
                        sh.num(r["score"], SCORE_FMT, fill),
                        sh.num(r["weight"], WEIGHT_FMT),
                        sh.num(r["peer_mean"], fmt),
                        sh.num(r["peer_percentile"], PERCENTILE_FMT),
                        sh.text(r["reason"]),
                    ]
                )
        sh.add([])
        sh.add([sh.text(L["name"], bold=True), sh.text(p["name"])])
        sh.add([sh.text(L["total"], bold=True), sh.num(c["total"], TOTAL_FMT, _fill(c["light"]), bold=True)])
        sh.add([sh.text(L["grade"], bold=True), sh.text(c["grade"], _fill(c["light"]))])
        sh.add([sh.text(L["adjustment"], bold=True), sh.text(c["adjustment"]["rule_text"])])
        if c["adjustment"]["credit_text"]:
            sh.add([sh.text(L["credit"], bold=True), sh.text(c["adjustment"]["credit_text"])])
        for i, f in enumerate(c["fix_first"], 1):
            sh.add(
                [
                    sh.text(f"{L['fix_first']} {i}", bold=True),
                    sh.text(f"{f['code']} {f['name']}"),
                    sh.num(f["gain"], SCORE_FMT),
                ]
            )
        sh.close()

    def add_uncertainty(self, u: Mapping[str, Any]) -> None:
        """The 评级确定性 sheet of `pingyi uncertainty`'s figures (uncertainty.json): per provider the
        probability of its grade, the 5th-95th percentile of its total and rank, and whether it is listed
        as uncertain; grades whose total does not decide them (vetoed, not graded) are marked fixed."""
        zh, L = self.lang == "zh", self.L
        sh = self.book.sheet(
            _sheet_title("评级确定性" if zh else "Grade certainty", self.used),
            [
                L["code"],
                L["name"],
                L["grade"],
                L["uncertain_p"],
                "总分 P5" if zh else "total P5",
                "总分 P50" if zh else "total P50",
                "总分 P95" if zh else "total P95",
                "名次 P5" if zh else "rank P5",
                "名次 P95" if zh else "rank P95",
                "等级不确定" if zh else "uncertain",
                "等级不由总分决定" if zh else "grade fixed",
            ],  # fmt: skip
            widths_max=30,
            freeze="C2",
        )
        yes, no = ("是", "否") if zh else ("yes", "no")
        for p in u.get("providers") or []:
            sh.add(
                [
                    sh.text(p["fixmedins_code"]),
                    sh.text(p["fixmedins_name"]),
                    sh.text(p["grade"]),
                    sh.num(p["p_assigned_grade"], "0.00"),
                    sh.num(p["total_p5"], TOTAL_FMT),
                    sh.num(p["total_p50"], TOTAL_FMT),
                    sh.num(p["total_p95"], TOTAL_FMT),
                    sh.num(p["rank_p5"], "0"),
                    sh.num(p["rank_p95"], "0"),
                    sh.text(yes if p["uncertain"] else no, lb.LIGHT_FILLS["yellow"] if p["uncertain"] else None),
                    sh.text(yes if p["fixed_grade"] else no),
                ]  # fmt: skip
            )
        sh.close()

    def finish(self, committee: Mapping[str, Any]) -> BookWriter:
        """The about sheet from the committee context (or `about_context`); every sheet closed."""
        L, about, b = self.L, self.about, committee["budget"]
        for k, v in (
            (L["committee_title"], committee["year_title"]),
            ("system", f"{committee['system']} {committee['system_version']}"),
            ("pingyi", committee["version"]),
            (L["providers_n"], committee["n"]),
            (L["mode"], b["mode_label"]),
        ):
            about.add([about.text(k), about.text(v) if isinstance(v, str) else v])
        for key in ("penalties", "rewards", *(("credit",) if b["credit_on"] else ()), "net"):
            label = {"credit": "credit_total", "net": "net_credit" if b["credit_on"] else "net"}.get(key, key)
            about.add([about.text(L[label]), about.num(b[key], YUAN_FMT)])
        for key, label in tx.LIGHT_SHORT[committee["lang"]].items():
            about.add([about.text(f"{L['light']}: {label}", lb.LIGHT_FILLS[key]), about.text(key)])
        about.add([about.text(L["weight"]), about.text(L["weight_note"])])
        about.add([about.text(L["fix_first"]), about.text(L["fix_first_note"])])
        for sh in (self.summary, self.ind, self.adj, about):
            sh.close()
        return self.book


def build_workbook(cards: Iterable[dict], committee: dict, *, per_provider: bool | None = None) -> BookWriter:
    """The workbook of card contexts and the committee context."""
    cards = list(cards)
    if per_provider is None:
        per_provider = len(cards) <= PER_PROVIDER_SHEETS_MAX
    dims = [(d["code"], d["name"]) for d in cards[0]["dimensions"]] if cards else []
    writer = WorkbookWriter(committee["L"], committee["lang"], dims, per_provider)
    for c in cards:
        writer.add(c)
    return writer.finish(committee)


def write_workbook(cards: Iterable[dict], committee: dict, path: Path, *, per_provider: bool | None = None) -> Path:
    return build_workbook(cards, committee, per_provider=per_provider).write(Path(path))


# --------------------------------------------------------------------------- from the numbers


def about_context(prep: Prepared) -> dict[str, Any]:
    """The part of the committee context the about sheet shows: year, system, providers, budget."""
    b, lang = prep.results.get("budget") or {}, prep.lang
    ctx = common_context(prep)
    ctx["n"] = len(prep.providers)
    ctx["budget"] = {
        "mode_label": tx.ADJUSTMENT_MODE_WORDS[lang].get(str(b.get("mode")), b.get("mode") or "—"),
        "penalties": money_float(b.get("penalties")),
        "rewards": money_float(b.get("rewards")),
        "net": money_float(b.get("net")),
        # the credit bonus (信用评价) is on when some provider carries a credit record
        "credit_on": any((p.get("adjustment") or {}).get("credit") is not None for p in prep.providers.values()),
        "credit": money_float(b.get("credit")),
    }
    return ctx


def provider_rows(prep: Prepared, codes: Iterable[str], *, peers: bool = False) -> Iterator[dict[str, Any]]:
    """The workbook's rows of each provider, with the values and words of its card (card.provider_context)
    but none of the card's text. `peers`: also the peer averages and what to fix first (the sheet of one
    provider), which need `prep` made by `prepare` (its peer statistics)."""
    lang = prep.lang
    ranks = peer_ranks(prep.providers.values())
    lights: dict[str | None, dict] = {}
    words: dict[tuple, str] = {}

    def light(key: str | None) -> dict:
        out = lights.get(key)
        if out is None:
            out = lights[key] = light_of(prep, key)
        return out

    def word(kind: str, key: str | None) -> str:
        out = words.get((kind, key))
        if out is None:
            out = tx.status_word(key, lang) if kind == "status" else tx.absence_word(key, lang)
            words[(kind, key)] = out
        return out

    statics = {c: _static(prep, c) for c in prep.indicators}
    for code in codes:
        p = prep.providers[code]
        group = peer_group(prep, p)[0] if peers else None
        rows_by_code = {row["code"]: row for row in p["indicators"]}
        rows = []
        for c, meta in statics.items():
            row = rows_by_code.get(c)
            if row is None:
                continue
            value, prior = row.get("value"), row.get("prior_value")
            score, weight, status = row.get("score"), row.get("weight"), row.get("status")
            absence = row.get("absence")
            out = {
                "code": c,
                "primary": meta["primary"],
                "name": meta["name"],
                "unit": meta["unit"],
                "unit_label": meta["unit_label"],
                "value": value,
                "baseline": row.get("baseline"),
                "benchmark": row.get("benchmark"),
                "prior": prior,
                "delta": value - prior if value is not None and prior is not None else None,
                "light": light(row.get("light")),
                "score": score,
                "weight": weight,
                "nominal_weight": row.get("nominal_weight"),
                "contribution": row.get("contribution"),
                "peer_percentile": row.get("peer_percentile"),
                "raw_value": row.get("raw_value"),
                "adjusted_value": row.get("adjusted_value"),
                "casemix": row.get("casemix") or "raw",
                "status": status,
                "status_label": word("status", status),
                "absence_label": word("absence", absence),
                "reason": row.get("reason_zh") if lang == "zh" and row.get("reason_zh") else row.get("reason", ""),
            }
            if group is not None:
                out["peer_mean"] = group.indicator_mean.get(c)
                out["gain"] = (weight or 0.0) * (100.0 - score) if score is not None and status == "scored" else 0.0
            rows.append(out)
        prim_by_code = {x["code"]: x for x in p["primaries"]}
        dimensions = []
        for pc in prep.primaries:
            ps = prim_by_code.get(pc["code"], {})
            dim = {
                "code": pc["code"],
                "name": name_of(prep, pc),
                "score": ps.get("score"),
                "light": light(ps.get("light")),
                "indicators": [r for r in rows if r["primary"] == pc["code"]],
            }
            if group is not None:
                dim["weight"] = ps.get("effective_weight", ps.get("weight"))
                dim["peer_mean"] = group.dimension_mean.get(pc["code"])
            dimensions.append(dim)
        grade = grade_of(prep, p)
        counts = dict.fromkeys(lb.LIGHT_COLOURS, 0)
        for r in rows:
            key = r["light"]["key"]
            if key in counts:
                counts[key] += 1
        card = {
            "provider": {
                "code": p["fixmedins_code"],
                "name": p.get("fixmedins_name") or "",
                "province_name": p.get("province_name") or "",
                "region_label": region_label(prep, p.get("region")),
                "level_label": level_label(prep, p.get("level")),
                "type": p.get("type") or "",
            },
            "total": p.get("total_score"),
            "grade": grade,
            "light": light(p.get("light")),
            "rank": p.get("rank"),
            "peer_rank": ranks.get(code),
            "peer_percentile": p.get("peer_percentile"),
            "dimensions": dimensions,
            "lights": counts,
            "adjustment": _adjustment(prep, p.get("adjustment"), grade),
        }
        if group is not None:
            fix = sorted((r for r in rows if r["gain"] > 0), key=lambda r: (-r["gain"], r["code"]))
            card["fix_first"] = [{"code": r["code"], "name": r["name"], "gain": r["gain"]} for r in fix[:FIX_FIRST_N]]
        yield card


def write_results_workbook(
    results: Mapping[str, Any],
    path: Path,
    *,
    lang: tx.Lang = "zh",
    providers: Iterable[str] | None = None,
    per_provider: bool | None = None,
    uncertainty: Mapping[str, Any] | None = None,
) -> Path:
    """The workbook of results.json (parsed; its providers, or those of `providers`), built from its
    numbers: the same workbook as `write_workbook` of the card contexts; with `uncertainty` (the figures of
    `pingyi uncertainty` on these results) a 评级确定性 sheet."""
    codes = [p["fixmedins_code"] for p in results["providers"]] if providers is None else list(providers)
    if per_provider is None:
        per_provider = len(codes) <= PER_PROVIDER_SHEETS_MAX
    # the peer averages of a provider's own sheet need every peer group's statistics
    prep = prepare(results, lang=lang) if per_provider else prepare_lookups(results, lang=lang)
    dims = [(pc["code"], name_of(prep, pc)) for pc in prep.primaries] if codes else []
    writer = WorkbookWriter(prep.L, lang, dims, per_provider)
    for card in provider_rows(prep, codes, peers=per_provider):
        writer.add(card)
    if uncertainty is not None:
        chosen = set(codes)
        writer.add_uncertainty({**uncertainty, "providers": [p for p in uncertainty.get("providers") or []
                                                              if p["fixmedins_code"] in chosen]})  # fmt: skip
    return writer.finish(about_context(prep)).write(Path(path))
