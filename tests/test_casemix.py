"""Case mix: the DRG indices and risk levels through the real views and measures on a tiny
hand-computed bundle; the cost model (Duan smearing); the adjusted D1.01; the example's
severe-case-mix tertiary hospital, red on raw cost growth but not once adjusted."""

from __future__ import annotations

import json
import math
from pathlib import Path

import duckdb
import numpy as np
import pytest

from conftest import EXAMPLE, shipped
from pingyi.compute.casemix import compute_casemix, fit_region
from pingyi.compute.indicators import IndicatorValue, evaluate_indicator
from pingyi.compute.measures import compile_project_measures, run_measures
from pingyi.data.contract import TABLES
from pingyi.data.views import create_stays
from pingyi.score.casemix import casemix_sentence, score_with_casemix
from pingyi.score.indicator import score_indicator
from pingyi.spec import project
from pingyi.spec.project import default_project_dir
from pingyi.text import Status
from pingyi.validate import validate_project

SQL_TYPES = {"money": "DECIMAL(16,2)", "datetime": "TIMESTAMP", "int": "INTEGER", "float": "DOUBLE"}
DRGS = [("A", 0.5, 1000, 4), ("B", 1.0, 2000, 8), ("C", 2.0, 4000, 10), ("D", 1.5, 3000, 6)]


def _table(con, name: str, rows: list[dict]) -> None:
    spec = TABLES[name]
    cols = [(c.name, SQL_TYPES.get(c.type, "VARCHAR")) for c in spec.columns]
    if name not in ("providers", "drg_groups"):
        cols.append(("year", "INTEGER"))
    con.execute(f"CREATE TABLE clean_{name} ({', '.join(f'{n} {t}' for n, t in cols)})")
    for r in rows:
        con.execute(f"INSERT INTO clean_{name} VALUES ({', '.join('?' for _ in cols)})", [r.get(n) for n, _ in cols])


def _bundle():
    """Two providers, 2025, one region. Stays: (provider, drg, cost, los, dead).
    H1: A 800/3, A 1200/5 (two settlements 700 + 500), B 2600/8, C 2000/20 dead, plus one ungrouped stay.
    H2: A 1000/4, B 19 x 2000/8 (one dead), C 4000/10, D 4 x 3600/6 (one dead).
    Region mortality: A 0/3, B 1/20, C 1/2, D 1/4."""
    stays = [
        ("H1", "A", 800, 3, 0),
        ("H1", "A", 1200, 5, 0),
        ("H1", "B", 2600, 8, 0),
        ("H1", "C", 2000, 20, 1),
        ("H1", None, 5000, 9, 0),
        ("H2", "A", 1000, 4, 0),
    ]
    stays += [("H2", "B", 2000, 8, 1 if i == 0 else 0) for i in range(19)]
    stays += [("H2", "C", 4000, 10, 0)]
    stays += [("H2", "D", 3600, 6, 1 if i == 0 else 0) for i in range(4)]
    lists, setls = [], []
    for i, (prov, drg, cost, los, dead) in enumerate(stays):
        m = f"M{i:03d}"
        code = "H33010600001" if prov == "H1" else "H33010600002"
        lists.append(
            {
                "mdtrt_id": m,
                "setl_id": f"S{i:03d}",
                "fixmedins_code": code,
                "psn_no": f"P{i:03d}",
                "drg_code": drg,
                "diag_code": "J18.900",
                "diag_code_cnt": 3,
                "adm_time": f"2025-03-{1 + i % 20:02d} 08:00:00",
                "dscg_time": f"2025-04-{1 + i % 20:02d} 08:00:00",
                "act_ipt_days": los,
                "dscg_way": "5" if dead else "1",
                "days_rinp_flag_31": "1",
                "setl_time": "2025-04-25 10:00:00",
                "dcla_time": "2025-04-26 10:00:00",
                "qc_rslt": "1",
                "age": 60,
                "gend": "1",
                "year": 2025,
            }
        )
        parts = [700, 500] if (prov, drg, cost) == ("H1", "A", 1200) else [cost]
        for j, amt in enumerate(parts):
            setls.append(
                {"setl_id": f"S{i:03d}-{j}", "mdtrt_id": m, "medfee_sumamt": amt, "fixmedins_code": code, "year": 2025}
            )
    con = duckdb.connect()
    _table(con, "setl_lists", lists)
    _table(con, "settlements", setls)
    _table(con, "drg_groups", [{"drg_code": c, "weight": w, "mean_cost": mc, "mean_los": ml} for c, w, mc, ml in DRGS])
    create_stays(con, True)
    return con


def copy_project(dest: Path) -> Path:
    project.copy_project(default_project_dir(), dest)
    return dest


@pytest.fixture(scope="module")
def tiny():
    con = _bundle()
    project = shipped().project
    compiled = compile_project_measures(project.measures, project.data)
    table = run_measures(con, {"setl_lists": compiled["setl_lists"]}, {"setl_lists": "stays"})
    return con, project, table


def test_drg_indices_by_hand(tiny):
    _, project, table = tiny
    h1, h2 = table.get("H33010600001", 2025), table.get("H33010600002", 2025)
    assert h1["grouped_stays"] == 4 and h2["grouped_stays"] == 25  # the ungrouped stay is left out
    # CMI = Σ RW·n / N
    assert h1["drg_total_weight"] / h1["grouped_stays"] == pytest.approx((0.5 + 0.5 + 1.0 + 2.0) / 4)
    assert h2["drg_total_weight"] / h2["grouped_stays"] == pytest.approx((0.5 + 19 * 1.0 + 2.0 + 4 * 1.5) / 25)
    # cost index = Σ_i k_i n_i / N, k_i = own mean cost in DRG i / E_i, the same year's mean of DRG i over
    # all providers of the region (one region here). E: A (800 + 1200 + 1000) / 3 = 1000; B (2600 + 19 x 2000)
    # / 20 = 2030; C (2000 + 4000) / 2 = 3000; D 3600. Mean stays: A (3 + 5 + 4) / 3 = 4, B 8, C 15, D 6.
    # H1: A 1000 / 1000 = 1 (n 2), B 2600 / 2030, C 2000 / 3000
    assert h1["cost_index_sum"] / h1["grouped_stays"] == pytest.approx((2 + 2600 / 2030 + 2000 / 3000) / 4)
    assert h2["cost_index_sum"] / h2["grouped_stays"] == pytest.approx((1 + 19 * 2000 / 2030 + 4000 / 3000 + 4) / 25)
    # time index: H1 A mean stay 4 / 4 = 1 (n 2), B 8 / 8, C 20 / 15; H2 A 4 / 4, B 1 (x19), C 10 / 15, D 1 (x4)
    assert h1["time_index_sum"] / h1["grouped_stays"] == pytest.approx((2 + 1 + 20 / 15) / 4)
    assert h2["time_index_sum"] / h2["grouped_stays"] == pytest.approx((1 + 19 + 10 / 15 + 4) / 25)
    # the case-weighted mean of k over all the region's stays is 1 for both indices (E_i is their mean)
    assert (h1["cost_index_sum"] + h2["cost_index_sum"]) / 29 == pytest.approx(1.0)
    assert (h1["time_index_sum"] + h2["time_index_sum"]) / 29 == pytest.approx(1.0)
    # the indicators evaluate the same formulas
    ind = project.indicators
    v = {c: evaluate_indicator(ind[c], h1, {}, {}, {}, {}, 2025).value for c in ("D2.01", "D1.04", "D1.05")}
    assert v == pytest.approx({"D2.01": 1.0, "D1.04": 0.986864, "D1.05": 1.083333}, abs=1e-6)


def test_risk_levels_by_hand(tiny):
    con, project, table = tiny
    # ln mortality of the DRGs with deaths: B ln(1/20), C ln(1/2), D ln(1/4); z over them (sample sd)
    logs = {"B": math.log(1 / 20), "C": math.log(1 / 2), "D": math.log(1 / 4)}
    mu = sum(logs.values()) / 3
    sd = math.sqrt(sum((x - mu) ** 2 for x in logs.values()) / 2)
    z = {k: (x - mu) / sd for k, x in logs.items()}
    assert z["B"] == pytest.approx(-1.10388, abs=1e-5) and z["C"] == pytest.approx(0.84533, abs=1e-5)
    got = dict(con.execute("SELECT drg_code, z FROM drg_mortality WHERE z IS NOT NULL").fetchall())
    assert got == pytest.approx(z)
    low = dict(con.execute("SELECT DISTINCT drg_code, low_risk_drg FROM stays WHERE drg_code IS NOT NULL").fetchall())
    assert low == {"A": 1, "B": 1, "C": 0, "D": 0}  # A: no death -> low; B: z < -1 -> low
    h1, h2 = table.get("H33010600001", 2025), table.get("H33010600002", 2025)
    assert (h1["low_risk_stays"], h1["low_risk_deaths"]) == (3, 0)  # A x2, B x1; the C death is not low-risk
    assert (h2["low_risk_stays"], h2["low_risk_deaths"]) == (20, 1)
    d202 = evaluate_indicator(project.indicators["D2.02"], h2, {}, {}, {}, {}, 2025)
    assert d202.value == pytest.approx(1 / 20)


def test_risk_levels_are_per_region():
    """The same DRGs in two regions: east has the tiny bundle's mortality (B low risk); in west, H2 is
    alone, so its own mortality decides: B 1/19, D 1/4 and no death in C. Put H1 (east) and H2 (west)
    in different regions: per region, only DRGs with deaths are standardised, A and C (no death) are low
    risk in west, and H2's B death counts as a low-risk death only if z(B) < -1 in west."""
    con = _bundle()
    create_stays(con, True, {"H33010600001": "east", "H33010600002": "west"})
    rows = con.execute("SELECT region, drg_code, cases, deaths, z FROM drg_mortality ORDER BY 1, 2").fetchall()
    # east (H1): A 0/2, B 0/1, C 1/1: one DRG with deaths -> sd undefined -> z 0 (not low risk)
    assert [(r, d, c, k) for r, d, c, k, _ in rows if r == "east"] == [
        ("east", "A", 2, 0),
        ("east", "B", 1, 0),
        ("east", "C", 1, 1),
    ]
    assert {d: z for r, d, _, _, z in rows if r == "east"} == {"A": None, "B": None, "C": 0}
    # west (H2): B 1/19, C 0/1, D 1/4: ln(1/19), ln(1/4) -> z = -0.7071, +0.7071 (two values, sample sd)
    west = {d: z for r, d, _, _, z in rows if r == "west"}
    assert (
        west["C"] is None
        and west["B"] == pytest.approx(-1 / math.sqrt(2))
        and west["D"] == pytest.approx(1 / math.sqrt(2))
    )
    low = dict(
        con.execute(
            "SELECT fixmedins_code || drg_code, max(low_risk_drg) FROM stays WHERE drg_code IS NOT NULL GROUP BY 1"
        ).fetchall()
    )
    assert low == {
        "H33010600001A": 1,
        "H33010600001B": 1,
        "H33010600001C": 0,  # east: no-death DRGs are low risk
        "H33010600002A": 1,
        "H33010600002B": 0,
        "H33010600002C": 1,
        "H33010600002D": 0,
    }  # west: B not < -1
    # the efficiency indices' regional means are per region too: H1 alone in east is its own mean (k = 1)
    means = dict(
        con.execute(
            "SELECT fixmedins_code || drg_code, max(drg_region_cost) FROM stays WHERE drg_code IS NOT NULL GROUP BY 1"
        ).fetchall()
    )
    assert means["H33010600001A"] == 1000 and means["H33010600001B"] == 2600 and means["H33010600001C"] == 2000
    assert means["H33010600002B"] == 2000 and means["H33010600002C"] == 4000
    # one region (no mapping) is the bundle-wide rule of test_risk_levels_by_hand
    create_stays(con, True)
    assert con.execute("SELECT count(DISTINCT region) FROM drg_mortality").fetchone()[0] == 1


def test_risk_levels_when_every_drg_has_the_same_mortality():
    """Two DRGs, each 1 death in 4 stays: the spread is exactly 0, so z is 0 for both (not low risk), never
    a ratio of two rounding errors."""
    con = duckdb.connect()
    lists = [
        {
            "mdtrt_id": f"M{d}{i}",
            "setl_id": f"S{d}{i}",
            "fixmedins_code": "H33010600001",
            "psn_no": f"P{d}{i}",
            "drg_code": d,
            "dscg_way": "5" if i == 0 else "1",
            "adm_time": "2025-03-01 08:00:00",
            "dscg_time": "2025-03-05 08:00:00",
            "act_ipt_days": 4,
            "year": 2025,
        }
        for d in "XY"
        for i in range(4)
    ]
    _table(con, "setl_lists", lists)
    _table(
        con,
        "settlements",
        [
            {
                "setl_id": r["setl_id"],
                "mdtrt_id": r["mdtrt_id"],
                "medfee_sumamt": 100,
                "fixmedins_code": "H33010600001",
                "year": 2025,
            }
            for r in lists
        ],
    )
    _table(con, "drg_groups", [{"drg_code": d, "weight": 1.0, "mean_cost": 100, "mean_los": 4} for d in "XY"])
    create_stays(con, True)
    assert con.execute("SELECT drg_code, z FROM drg_mortality ORDER BY 1").fetchall() == [("X", 0.0), ("Y", 0.0)]
    assert con.execute("SELECT DISTINCT low_risk_drg FROM stays").fetchall() == [(0,)]


def test_duan_smearing_by_hand():
    # one covariate pattern, costs 100 and 400: the fit is the mean log (ln 200), residuals ±ln 2,
    # smearing (2 + 1/2) / 2 = 1.25, so the expected cost is 250 = the arithmetic mean
    one = np.ones(2)
    model, expected = fit_region("east", np.array([100.0, 400.0]), one * 1.0, one * 60, one, one * 2)
    assert model.smearing == pytest.approx(1.25)
    assert expected == pytest.approx([250.0, 250.0])
    assert model.coefficients["intercept"] == pytest.approx(math.log(200))
    assert model.coefficients["ln_drg_weight"] is None  # no variation: dropped


def test_cost_model_recovers_exact_costs():
    rng = np.random.default_rng(1)
    n = 200
    rw, age = rng.uniform(0.3, 4, n), rng.integers(20, 90, n).astype(float)
    male, sec = rng.integers(0, 2, n).astype(float), rng.integers(0, 8, n).astype(float)
    a = (age - 60) / 10
    cost = np.exp(8.0 + 1.0 * np.log(rw) + 0.05 * a + 0.01 * a * a + 0.03 * male + 0.02 * sec)
    age[:5] = np.nan  # missing ages take the region mean
    model, expected = fit_region("west", cost, rw, age, male, sec)
    assert model.coefficients["ln_drg_weight"] == pytest.approx(1.0, abs=0.01)
    assert model.imputed["age"] == pytest.approx(float(np.nanmean(age)), rel=1e-9)
    assert np.allclose(expected[5:], cost[5:], rtol=0.05)


def test_slopes_within_providers_are_not_flattened_by_efficient_heavy_providers():
    """Cost = 1000 x RW exactly, times a provider factor: H (heavy cases RW 2-4) is 20 % cheaper than the
    region, L (light cases RW 0.5-1) 20 % dearer. Pooled OLS blames the cases for part of the providers'
    efficiency (slope well below 1) and under-predicts H's expected cost; within providers the slope is
    exactly 1 and H's expected cost is that of its case mix at an average provider."""
    rw = np.array([2.0, 3.0, 4.0, 0.5, 0.75, 1.0])
    factor = np.array([0.8, 0.8, 0.8, 1.2, 1.2, 1.2])
    cost = 1000 * rw * factor
    one = np.ones(6)
    pooled, _ = fit_region("x", cost, rw, one * 60, one, one * 2)
    model, expected = fit_region("x", cost, rw, one * 60, one, one * 2, np.array([0, 0, 0, 1, 1, 1]))
    assert pooled.coefficients["ln_drg_weight"] < 0.9
    assert model.coefficients["ln_drg_weight"] == pytest.approx(1.0, abs=1e-9)  # stored to 12 digits
    # intercept: mean of ln(cost / RW) = ln 1000 + (ln 0.8 + ln 1.2) / 2; residuals ±(ln 1.2 - ln 0.8) / 2
    b0 = math.log(1000) + (math.log(0.8) + math.log(1.2)) / 2
    assert model.coefficients["intercept"] == pytest.approx(b0, abs=1e-9)
    half = (math.log(1.2) - math.log(0.8)) / 2
    smear = (math.exp(half) + math.exp(-half)) / 2
    assert expected == pytest.approx(np.exp(b0) * rw * smear, rel=1e-12)
    assert np.mean(cost[:3] / expected[:3]) < 0.85  # H is seen as efficient for its case mix


def test_casemix_measures_from_the_stays_view(tiny):
    con, _, _ = tiny
    region = {"H33010600001": "east", "H33010600002": "east"}
    import pingyi.compute.casemix as cm

    old = cm.MIN_STAYS
    try:
        cm.MIN_STAYS = 10
        result = compute_casemix(con, region, (2024, 2025))
        h1, h2 = result.measures[("H33010600001", 2025)], result.measures[("H33010600002", 2025)]
        assert h1["casemix_stays"] == 4 and h2["casemix_stays"] == 25  # the ungrouped stay is not modelled
        # all patients have the same age, sex and diagnoses: the model is ln cost = b0 + b1 ln RW, b1 within
        # providers: the slope of ln cost on ln RW after centring both on each provider's means; b0 the mean
        # of ln cost - b1 ln RW over all stays; then Duan's smearing. Recomputed independently here.
        rw = {"A": 0.5, "B": 1.0, "C": 2.0, "D": 1.5}
        h1_stays = [("A", 800), ("A", 1200), ("B", 2600), ("C", 2000)]
        h2_stays = [("A", 1000)] + [("B", 2000)] * 19 + [("C", 4000)] + [("D", 3600)] * 4
        x1, x2 = np.log([rw[d] for d, _ in h1_stays]), np.log([rw[d] for d, _ in h2_stays])
        y1, y2 = np.log([c for _, c in h1_stays]), np.log([c for _, c in h2_stays])
        xw = np.concatenate([x1 - x1.mean(), x2 - x2.mean()])
        yw = np.concatenate([y1 - y1.mean(), y2 - y2.mean()])
        b1 = float(np.sum(xw * yw) / np.sum(xw * xw))
        x, y = np.concatenate([x1, x2]), np.concatenate([y1, y2])
        b0 = float(np.mean(y - b1 * x))
        smear = np.mean(np.exp(y - (b0 + b1 * x)))
        exp_h1 = np.mean([np.exp(b0 + b1 * np.log(rw[d])) * smear for d, _ in h1_stays])
        assert h1["casemix_expected_cost"] == pytest.approx(exp_h1, rel=1e-9)
        assert h1["casemix_observed_cost"] == pytest.approx((800 + 1200 + 2600 + 2000) / 4)
        assert h1["casemix_oe_ratio"] == pytest.approx(h1["casemix_observed_cost"] / h1["casemix_expected_cost"])
        assert result.models["east"].coefficients["ln_drg_weight"] == pytest.approx(b1, rel=1e-9)
        cm.MIN_STAYS = 30
        no_cost = compute_casemix(con, region, (2025,))  # 29 stays: no cost model (nor, with 3 deaths, outcome models)
        assert not any(v.get("casemix_expected_cost") for v in no_cost.measures.values()) and no_cost.models == {}
    finally:
        cm.MIN_STAYS = old


def test_adjusted_growth_deflates_by_the_case_mix_change():
    project = shipped().project
    ind = project.indicators["D1.01"]
    cur = {"inpatient_cost": 1_270_000.0, "inpatient_stays": 100.0, "casemix_expected_cost": 12_400.0}
    pri = {"inpatient_cost": 1_000_000.0, "inpatient_stays": 100.0, "casemix_expected_cost": 10_000.0}
    v = evaluate_indicator(ind, cur, pri, {}, {}, {}, 2025)
    assert v.raw_value == pytest.approx(0.27)
    assert v.adjusted_value == pytest.approx(1.27 / 1.24 - 1)  # cost per case-mix-adjusted stay
    assert v.value == v.adjusted_value  # casemix: adjusted -> the adjusted value is scored
    same = evaluate_indicator(ind, cur, {**pri, "casemix_expected_cost": 12_400.0}, {}, {}, {}, 2025)
    assert same.adjusted_value == pytest.approx(same.raw_value)  # unchanged case mix: equal
    en, zh = casemix_sentence(ind, 0.272, 0.025, "red", "green", 0.241)
    assert "raw 27.2% would be red" in en and "sicker" in en and "2.5%, green" in en and "+24.1%" in en
    assert "原始值 27.2% 为红灯" in zh and "病情更重" in zh and "计分采用调整值" in zh


def test_adjusted_indicator_needs_an_adjusted_formula(tmp_path):
    proj = copy_project(tmp_path / "p")
    path = proj / "indicators" / "D1_fund_efficiency.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("    adjusted_formula:")
    path.write_text(text[:start] + text[text.index("\n", start) + 1 :], encoding="utf-8")
    codes = {i.code for i in validate_project(proj).issues.errors}
    assert "PY210" in codes


@pytest.fixture
def example_results(example):
    return example.results


def test_severe_casemix_tertiary_is_red_raw_but_not_adjusted(example_results):
    info = json.loads((EXAMPLE / "_example.json").read_text(encoding="utf-8"))
    code = info["special_providers"]["severe_casemix_efficient"]
    prov = next(p for p in example_results["providers"] if p["fixmedins_code"] == code)
    assert prov["level"] == "三级"
    d101 = next(i for i in prov["indicators"] if i["code"] == "D1.01")
    assert d101["casemix"] == "adjusted"
    assert d101["raw_value"] >= 0.15 and d101["value"] == d101["adjusted_value"]
    assert d101["adjusted_value"] < d101["baseline"]
    note = d101["casemix_note"]
    assert note["raw_light"] == "red" and note["adjusted_light"] != "red" and d101["light"] != "red"
    assert note["expected_cost_change"] > 0.15  # its patients got sicker
    assert "would be red" in note["text"] and "the adjusted value counts" in note["text"]
    assert "would be red" in d101["reason"] and "计分采用调整值" in d101["reason_zh"]
    model = example_results["casemix_model"]["regions"]
    assert set(model) == {"east", "central", "west"}
    assert 0.9 < model["central"]["coefficients"]["ln_drg_weight"] < 1.1  # cost ~ proportional to RW
    # every indicator carries both values
    for item in prov["indicators"]:
        assert {"raw_value", "adjusted_value", "casemix", "peer_percentile", "peer_n"} <= set(item)
    # the committee report lists it among the providers whose light the adjustment changed, with the models
    from pingyi.report.context import build_contexts

    cm = build_contexts(example_results, lang="en").committee["casemix"]
    assert code in [r["code"] for r in cm["changed"] if r["raw_light"]["key"] == "red"]
    assert cm["indicators"][0]["code"] == "D1.01" and cm["indicators"][0]["saved"] >= 1
    assert [r["region_label"] for r in cm["regions"]] == ["Central", "East", "West"] and "within providers" in cm[
        "model"
    ]


def test_peer_view_in_results(example_results):
    def value(q: dict, key: str) -> str:
        return q["peer_group"]["type"] if key == "type" else q[key]

    for p in example_results["providers"]:
        g = p["peer_group"]
        assert (g["region"], g["level"]) == (p["region"], p["level"])  # the provider's own; `keys` say what peers share
        peers = [
            q
            for q in example_results["providers"]
            if all(value(q, k) == value(p, k) for k in g["keys"]) and q["total_score"] is not None
        ]
        assert p["peer_n"] == len(peers)
        if p["total_score"] is not None and len(peers) > 1:
            better = sum(q["total_score"] < p["total_score"] for q in peers)
            ties = sum(q["total_score"] == p["total_score"] for q in peers) - 1
            assert p["peer_percentile"] == pytest.approx(100 * (better + ties / 2) / (len(peers) - 1), abs=0.01)
    # down indicator: the lower value is the better percentile
    d101 = {
        p["fixmedins_code"]: next(i for i in p["indicators"] if i["code"] == "D1.01")
        for p in example_results["providers"]
        if p["peer_group"]["keys"] == ["level", "type"] and p["level"] == "三级"
    }
    scored = {c: i for c, i in d101.items() if i["status"] == "scored"}
    best = min(scored, key=lambda c: scored[c]["value"])
    assert scored[best]["peer_percentile"] == 100.0 and scored[best]["peer_n"] == len(scored)


def test_missing_adjustment_is_grey_and_says_why():
    ind = shipped().project.indicators["D1.01"]
    v = IndicatorValue("D1.01", None, None, 200.0, {}, raw_value=0.10, adjusted_value=None)
    scored = score_indicator(ind, v.value, 0.07, volume=v.volume)
    assert scored.status is Status.INSUFFICIENT
    scored, note = score_with_casemix(ind, v, scored, 0.07, None, None, {}, {})
    assert "no case-mix-adjusted value" in scored.reason and "无病例组合调整值" in scored.reason_zh
    assert note.raw_light == "red" and note.adjusted_light == "grey"
    # below the minimum volume the grey reason stays the volume one
    small = IndicatorValue("D1.01", None, None, 5.0, {}, raw_value=0.10, adjusted_value=None)
    grey = score_indicator(ind, None, 0.07, volume=5.0)
    assert score_with_casemix(ind, small, grey, 0.07, None, None, {}, {}) == (grey, None)
