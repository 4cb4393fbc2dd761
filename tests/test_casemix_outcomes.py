"""Case mix beyond D1.01: the logistic fit of the outcome models (a published example, a saturated fit
by hand, scipy's optimiser), a provider with older patients expected to have more events, Marshall's
shrinkage by hand, the outpatient cost model from covariate cells equal to the fit over the visits,
the fund's case-mix index by hand, the scoring (grey when the adjustment is missing, never raw), and
the example's adjusted rates on a rendered card."""

from __future__ import annotations

import math
import shutil
import subprocess

import duckdb
import numpy as np
import pytest
from scipy.optimize import minimize

from conftest import shipped
from pingyi.compute.casemix import fit_cells, fit_region, fund_deflator
from pingyi.compute.indicators import IndicatorValue, evaluate_indicator
from pingyi.compute.outcomes import compute_outcomes, fit_logistic, fit_outcome_region, marshall_shrinkage
from pingyi.score.casemix import casemix_kind, expected_effect, score_with_casemix
from pingyi.score.indicator import score_indicator
from pingyi.text import Status

# Wikipedia, "Logistic regression", § Example (hours studied and passing an exam, 20 students): the
# fitted model printed there is intercept -4.1 (-4.0777 in the text) and 1.5 per hour (1.5046).
HOURS = [
    0.50,
    0.75,
    1.00,
    1.25,
    1.50,
    1.75,
    1.75,
    2.00,
    2.25,
    2.50,
    2.75,
    3.00,
    3.25,
    3.50,
    4.00,
    4.25,
    4.50,
    4.75,
    5.00,
    5.50,
]
PASSED = [0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1]


def test_logistic_fit_reproduces_the_published_example():
    x = np.column_stack([np.ones(len(HOURS)), HOURS])
    fit = fit_logistic(x, np.array(PASSED, dtype=float))
    assert fit.converged
    b0, b1 = fit.coefficients
    assert (round(b0, 1), round(b1, 1)) == (-4.1, 1.5)  # as printed
    assert b0 == pytest.approx(-4.0777, abs=5e-5) and b1 == pytest.approx(1.5046, abs=5e-5)


def test_logistic_fit_equals_scipy_and_a_saturated_fit_by_hand():
    # one binary covariate: the MLE reproduces each group's rate. Group 0: 1 event in 4 -> logit 1/3;
    # group 1: 3 in 4 -> b1 = ln 3 - ln(1/3) = 2 ln 3.
    g = np.array([0, 0, 0, 0, 1, 1, 1, 1], dtype=float)
    y = np.array([1, 0, 0, 0, 1, 1, 1, 0], dtype=float)
    fit = fit_logistic(np.column_stack([np.ones(8), g]), y)
    assert fit.coefficients == pytest.approx([math.log(1 / 3), 2 * math.log(3)], abs=1e-10)
    # a tiny data set with three covariates against scipy's BFGS on the negative log-likelihood
    rng = np.random.default_rng(3)
    n = 300
    x = np.column_stack([np.ones(n), rng.normal(size=n), rng.integers(0, 2, n), rng.uniform(0, 4, n)])
    p = 1 / (1 + np.exp(-(x @ np.array([-1.0, 0.8, -0.5, 0.3]))))
    y = (rng.random(n) < p).astype(float)

    def nll(b):
        eta = x @ b
        return float(np.sum(np.logaddexp(0, eta) - y * eta))

    ref = minimize(nll, np.zeros(4), method="BFGS", options={"gtol": 1e-10}).x
    got = fit_logistic(x, y)
    assert got.converged and got.coefficients == pytest.approx(ref, abs=1e-5)
    assert got.log_likelihood == pytest.approx(-nll(got.coefficients), rel=1e-12)


def test_separation_is_no_model():
    # age alone separates the events: the likelihood has no maximum
    age = np.arange(200, dtype=float) / 2
    event = (age > 50).astype(float)
    one = np.ones(200)
    model, p, why = fit_outcome_region("readmit", "x", event, np.full(200, "2025", dtype=object), one, age, one, one)
    assert model is None and p is None and "separation" in why


def _stays_table(rows: list[tuple]) -> duckdb.DuckDBPyConnection:
    """A `stays` table with the columns the outcome models read; rows are
    (provider, year, age, dscg_way, readmitted, surgical grade, complication)."""
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE stays (mdtrt_id VARCHAR, fixmedins_code VARCHAR, year INTEGER, drg_code VARCHAR, "
        "low_risk_drg INTEGER, drg_weight DOUBLE, age INTEGER, gend VARCHAR, diag_code_cnt INTEGER, "
        "dscg_way VARCHAR, unplanned_readmit_31 INTEGER, max_oprn_lv INTEGER, oprn_cmpl_flag VARCHAR)"
    )
    con.executemany(
        "INSERT INTO stays VALUES (?, ?, ?, 'A', 1, 1.0, ?, '1', 2, ?, ?, ?, ?)",
        [(f"M{i:05d}", *r) for i, r in enumerate(rows)],
    )
    return con


def test_a_provider_with_older_patients_is_expected_to_have_more_readmissions():
    """Readmission depends on age only, the same at both providers: 1 in 10 at 40, 3 in 10 at 80.
    O (old patients): 40 stays at 80 (12 readmitted) and 20 at 40 (2); Y (young): 20 at 80 (6), 40 at 40 (4).
    The region's rate is 24 / 120 = 0.2. The model (age and age^2 collinear on two ages: one slope) is
    saturated, so each case's expected probability is its age's rate: E(O) = 40 x 0.3 + 20 x 0.1 = 14,
    E(Y) = 6 + 4 = 10. O's raw rate 14/60 is above the region's, its expected rate is too (the patients
    explain it), and its risk-standardised rate O/E x 0.2 = 0.2 is below its raw rate; Y's the reverse."""
    rows = []
    for prov, old, young in (("O", (40, 12), (20, 2)), ("Y", (20, 6), (40, 4))):
        for age, (n, k) in ((80, old), (40, young)):
            rows += [(prov, 2025, age, "1", 1 if i < k else 0, None, None) for i in range(n)]
    con = _stays_table(rows)
    out = compute_outcomes(con, {"O": "east", "Y": "east"}, (2025,))
    assert out.models["readmit"]["east"].cases == 120
    o, y = out.measures[("O", 2025)], out.measures[("Y", 2025)]
    assert o["casemix_readmit_expected"] == pytest.approx(14.0, abs=1e-8)
    assert y["casemix_readmit_expected"] == pytest.approx(10.0, abs=1e-8)
    assert o["casemix_readmit_region_rate"] == pytest.approx(0.2)
    raw_o, raw_y = 14 / 60, 10 / 60
    expected_rate_o = o["casemix_readmit_expected"] / o["casemix_readmit_cases"]
    assert expected_rate_o > o["casemix_readmit_region_rate"]  # sicker patients: more events expected
    ind = shipped().project.indicators["D2.03"]
    assert casemix_kind(ind) == ("rate", "readmit")
    cur_o = {"unplanned_readmissions": 14.0, "alive_discharges": 60.0, **o}
    v = evaluate_indicator(ind, cur_o, {}, {}, {}, {}, 2025)
    assert v.raw_value == pytest.approx(raw_o) and v.adjusted_value == pytest.approx(0.2, abs=1e-9)
    assert v.adjusted_value < v.raw_value and v.value == v.adjusted_value  # adjusted counts
    assert expected_effect(ind, o, {}) == pytest.approx(expected_rate_o / 0.2 - 1)  # +16.7 %
    vy = evaluate_indicator(ind, {"unplanned_readmissions": 10.0, "alive_discharges": 60.0, **y}, {}, {}, {}, {}, 2025)
    assert vy.raw_value == pytest.approx(raw_y) and vy.adjusted_value == pytest.approx(0.2, abs=1e-9)
    # too few events for the model in any region (O's last 10 stays at 80, none readmitted, and its 20 at 40,
    # 2 readmitted: 2 events for one age slope): no measures, nothing invented
    few = compute_outcomes(_stays_table(rows[30:60]), {"O": "east", "Y": "east"}, (2025,))
    assert "readmit" not in few.models and few.measures.get(("O", 2025), {}).get("casemix_readmit_expected") is None
    assert "per risk covariate" in few.skipped["readmit"]["east"]


def test_a_region_with_too_few_events_borrows_the_pooled_slopes():
    """East as in the test above (24 events), west with the same patients at a quarter of the volume
    (6 events, too few alone): west gets the pooled model's age slope with its own intercept, so its
    expected events add up to its 6 observed."""
    rows = []
    for prov, old, young in (("O", (40, 12), (20, 2)), ("Y", (20, 6), (40, 4))):
        for age, (n, k) in ((80, old), (40, young)):
            rows += [(prov, 2025, age, "1", 1 if i < k else 0, None, None) for i in range(n)]
    rows += [("W", 2025, 80, "1", 1 if i < 3 else 0, None, None) for i in range(10)]
    rows += [("W", 2025, 40, "1", 1 if i < 3 else 0, None, None) for i in range(20)]  # W: 3/10 and 3/20
    out = compute_outcomes(_stays_table(rows), {"O": "east", "Y": "east", "W": "west"}, (2025,))
    assert set(out.models["readmit"]) == {"east", "pooled"} and out.models["readmit"]["pooled"].regions == ("west",)
    w = out.measures[("W", 2025)]
    assert w["casemix_readmit_expected"] == pytest.approx(6.0, abs=1e-8)  # calibrated to its own region
    assert w["casemix_readmit_region_rate"] == pytest.approx(6 / 30)
    assert "pooled" in out.skipped["readmit"]["west"]


def test_marshall_shrinkage_by_hand():
    # O = 8, 10, 0; E = 4, 10, 4: m = 18/18 = 1; r = 2, 1, 0; s^2 = (4 + 0 + 4) / 18 = 4/9; mean E = 6;
    # tau^2 = 4/9 - 1/6 = 5/18; shrunk = 1 + (r - 1) x (5/18) / (5/18 + 1/E): for E = 4, (5/18)/(19/36) = 10/19
    shrunk, tau2 = marshall_shrinkage(np.array([8.0, 10.0, 0.0]), np.array([4.0, 10.0, 4.0]))
    assert tau2 == pytest.approx(5 / 18)
    assert shrunk == pytest.approx([29 / 19, 1.0, 9 / 19])
    # no spread beyond chance: every provider is the region
    shrunk, tau2 = marshall_shrinkage(np.array([2.0, 10.0, 0.0]), np.array([1.0, 10.0, 1.0]))
    assert tau2 == 0 and shrunk == pytest.approx([1.0, 1.0, 1.0])


def test_outpatient_cells_fit_equals_the_fit_over_the_visits():
    rng = np.random.default_rng(5)
    n = 400
    age = rng.integers(0, 6, n) * 15.0  # six ages: cells
    male = rng.integers(0, 2, n).astype(float)
    prov = rng.integers(0, 3, n)
    cost = np.exp(5 + 0.1 * (age - 60) / 10 + 0.05 * male + 0.2 * prov + rng.normal(0, 0.5, n))
    one = np.ones(n)
    ref, ref_expected = fit_region("x", cost, one, age, male, np.zeros(n), prov)
    keys = sorted({(int(p), float(a), float(m)) for p, a, m in zip(prov, age, male, strict=True)})
    cell = np.array([keys.index((int(p), float(a), float(m))) for p, a, m in zip(prov, age, male, strict=True)])
    k = len(keys)
    nn, sy, syy, sc = (np.bincount(cell, weights=w, minlength=k) for w in (one, np.log(cost), np.log(cost) ** 2, cost))
    ca, cm, cp = (np.array([key[i] for key in keys]) for i in (1, 2, 0))
    model, expected = fit_cells("x", nn, sy, syy, sc, ca, cm, cp)
    for name in ("intercept", "age_10", "age_10_sq", "male"):
        assert model.coefficients[name] == pytest.approx(ref.coefficients[name], rel=1e-9, abs=1e-12)
    assert model.smearing == pytest.approx(ref.smearing, rel=1e-9)
    assert model.r2 == pytest.approx(ref.r2, rel=1e-9)
    assert expected[cell] == pytest.approx(ref_expected, rel=1e-9)


def test_fund_case_mix_index_by_hand():
    # last year: 100 stays expected 10,000 each (1,000,000) and 1,000 visits expected 250 (250,000): s = 0.8.
    # This year: expected per stay +10 %, per visit +0 %: index = 0.8 x 1.1 + 0.2 x 1.0 = 1.08
    pri = {"casemix_expected_cost": 10_000.0, "casemix_stays": 100.0, "casemix_op_expected_cost": 250.0,
           "casemix_op_visits": 1000.0}  # fmt: skip
    cur = {"casemix_expected_cost": 11_000.0, "casemix_op_expected_cost": 250.0}
    assert fund_deflator(cur, pri, True, True) == pytest.approx(1.08)
    assert fund_deflator(cur, pri, False, True) == pytest.approx(1.0)  # no inpatients: outpatients alone
    assert fund_deflator({"casemix_op_expected_cost": 250.0}, pri, True, True) is None  # inpatient part unknown
    ind = shipped().project.indicators["D1.03"]
    v = evaluate_indicator(ind, {"hifp_paid": 1_296_000.0, "casemix_fund_deflator": 1.08}, {"hifp_paid": 1_000_000.0},
                           {}, {}, {}, 2025)  # fmt: skip
    assert v.raw_value == pytest.approx(0.296) and v.adjusted_value == pytest.approx(0.2)
    assert v.value == v.raw_value  # D1.03 counts the raw growth, the adjusted one is shown


def test_outpatient_growth_is_adjusted_and_counted():
    ind = shipped().project.indicators["D1.02"]
    assert ind.casemix == "adjusted" and casemix_kind(ind) == ("outpatient", None)
    cur = {"outpatient_cost": 110_000.0, "outpatient_visits": 1000.0, "casemix_op_expected_cost": 105.0}
    pri = {"outpatient_cost": 100_000.0, "outpatient_visits": 1000.0, "casemix_op_expected_cost": 100.0}
    v = evaluate_indicator(ind, cur, pri, {}, {}, {}, 2025)
    assert v.raw_value == pytest.approx(0.10) and v.adjusted_value == pytest.approx(1.10 / 1.05 - 1)
    assert v.value == v.adjusted_value


def test_missing_adjustment_is_grey_never_raw():
    project = shipped().project
    ind = project.indicators["D2.03"]
    cur = {"unplanned_readmissions": 30.0, "alive_discharges": 500.0}  # no model for its region
    v = evaluate_indicator(ind, cur, {}, {}, {}, {}, 2025)
    assert v.raw_value == pytest.approx(0.06) and v.adjusted_value is None and v.value is None
    v = IndicatorValue(**{**v.__dict__, "volume": 500.0})
    scored = score_indicator(ind, v.value, 0.02, prior=v.prior, volume=v.volume)
    assert scored.status is Status.INSUFFICIENT
    out, note = score_with_casemix(ind, v, scored, 0.02, None, None, cur, {})
    assert out.status is Status.INSUFFICIENT and out.score is None
    assert note is not None and note.adjusted_value is None and "grey" in out.reason
    assert "too few events" in note.note and "灰灯" in out.reason_zh


@pytest.fixture(scope="module")
def example_results(example):
    return example.results


def test_example_outcome_models_and_adjusted_rates(example_results):
    models = example_results["casemix_model"]["outcomes"]
    assert set(models["readmit"]["regions"]) == {"east", "central", "west"}
    assert set(models["complication"]["regions"]) >= {"east", "central"}
    for code in ("D2.03", "D2.04", "D1.02"):
        rows = [next(i for i in p["indicators"] if i["code"] == code) for p in example_results["providers"]]
        with_both = [r for r in rows if r["raw_value"] is not None and r["adjusted_value"] is not None]
        assert len(with_both) >= 10, code
        assert any(abs(r["adjusted_value"] - r["raw_value"]) > 1e-6 for r in with_both), code
        assert all(r["casemix"] == "adjusted" for r in rows)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) not installed")
def test_adjusted_rates_appear_on_a_rendered_card(example, tmp_path, cli):
    results = example.results
    prov = next(
        p
        for p in results["providers"]
        if p["total_score"] is not None
        and all(
            next(i for i in p["indicators"] if i["code"] == c)["adjusted_value"] is not None for c in ("D2.03", "D2.04")
        )
    )
    code = prov["fixmedins_code"]
    r = cli("report", "--results", str(example.out), "--out", str(tmp_path / "r"), "--provider", code, "--lang", "en")
    assert r.exit_code == 0, r.stdout + r.stderr
    pdf = next((tmp_path / "r").rglob(f"*{code}*.pdf"))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = " ".join(text.split())
    for c in ("D2.03", "D2.04", "D1.02"):
        row = next(i for i in prov["indicators"] if i["code"] == c)
        raw = f"{row['raw_value']:.1%}" if c != "D2.04" else f"{row['raw_value']:.2%}"
        adj = f"{row['adjusted_value']:.1%}" if c != "D2.04" else f"{row['adjusted_value']:.2%}"
        assert f"{c} {raw}→{adj}" in flat or f"raw {raw}" in flat and f"adjusted {adj}" in flat, (c, raw, adj)


def test_raw_and_adjusted_are_judged_with_the_same_funnel():
    """D2.03 counts its adjusted rate under funnel lights. A provider with 150 cases (above the minimum of
    100) whose raw and adjusted rates are both 5/150 = 3.3 % against a 2 % baseline is inside the funnel
    (z ~ 1.2): neither value is red, so the note reports no change of light that the case mix did not
    make (without the funnel the raw value would be red, 67 % worse than the baseline)."""
    from pingyi.score.funnel import FunnelPoint, fit_funnel

    ind = shipped().project.indicators["D2.03"]
    peers = [
        FunnelPoint(f"P{i}", n, k / n, 0.02)
        for i, (k, n) in enumerate([(8, 400), (11, 500), (5, 300), (13, 600), (7, 350), (9, 450), (4, 250), (12, 520)])
    ]
    fit = fit_funnel("D2.03", "percent", [*peers, FunnelPoint("P", 150, 5 / 150, 0.02)], "tau2", 0.1)
    v = IndicatorValue("D2.03", 5 / 150, None, 150.0, {}, raw_value=5 / 150, adjusted_value=5 / 150)
    scored = score_indicator(ind, v.value, 0.02, volume=150.0, funnel=fit)
    _, note = score_with_casemix(ind, v, scored, 0.02, None, fit, {}, {})
    assert note is not None and note.raw_light == note.adjusted_light != "red"
    assert score_indicator(ind, 5 / 150, 0.02, volume=150.0).light.value == "red"
