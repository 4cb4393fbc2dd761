"""Funnel-plot lights: hand-computed phi and tau^2, control limits with and without overdispersion,
small providers not red by chance, large ones unable to hide, and the SVG."""

from __future__ import annotations

import math
import re

import pytest

from pingyi.funnel import FunnelFit, FunnelPoint, fit_funnel, overdispersion, winsorise
from pingyi.report.funnel_svg import funnel_svg
from pingyi.scoring import Light, score_indicator
from pingyi.spec.models import IndicatorSpec

MANUAL = {"meaning": "m", "meaning_en": "m", "formula_text": "f", "formula_text_en": "f", "inclusions": "i",
          "exclusions": "e", "data_source": "d"}


def rate_indicator(**lights) -> IndicatorSpec:
    return IndicatorSpec.model_validate({
        "code": "D2.03", "name_zh": "31日内非计划再住院率", "name_en": "Unplanned readmission", "manual": MANUAL,
        "formula": "unplanned_readmissions / alive_discharges", "direction": "down", "unit": "percent",
        "source": "settlement", "scoring": {"rule": "threshold", "zero_at": 1.0},
        "lights": {"mode": "relative", "yellow": 0.0, "red": 0.20, "statistical": "funnel", **lights},
        "volume": {"measure": "alive_discharges", "minimum": 10}})


def test_phi_and_tau2_by_hand():
    z = [-2.0, -1.0, 0.0, 1.0, 2.0, 6.0]
    s = [0.1, 0.1, 0.2, 0.2, 0.5, 0.5]
    # 10 % winsorisation, type-7 quantiles: position 0.1 x 5 = 0.5 -> -1.5; 0.9 x 5 = 4.5 -> 2 + 0.5 x 4 = 4
    assert list(winsorise(z, 0.1)) == [-1.5, -1.0, 0.0, 1.0, 2.0, 4.0]
    phi, tau2 = overdispersion(z, s, 0.1)
    assert phi == pytest.approx((2.25 + 1 + 0 + 1 + 4 + 16) / 6)  # 4.041667
    # w = 1/s^2 = 100, 100, 25, 25, 4, 4: Σw = 258, Σw^2 = 21282
    assert tau2 == pytest.approx((6 * phi - 5) / (258 - 21282 / 258))  # 19.25 / 175.5116 = 0.109679
    assert tau2 == pytest.approx(0.109679, abs=1e-6)
    # no overdispersion: I phi < I - 1 gives tau^2 = 0
    assert overdispersion([0.1, -0.2, 0.3, -0.1, 0.2], [0.1] * 5, 0.1)[1] == 0.0


def test_limits_without_overdispersion_by_hand():
    fit = FunnelFit("X", "proportion", "none", "none", None, None, 0, 0.1, "")
    lim = fit.limits(100, 0.10)
    t = math.asin(math.sqrt(0.10))  # 0.3217506
    assert lim["95"][1] == pytest.approx(math.sin(t + 1.96 * 0.05) ** 2)
    assert lim["95"] == pytest.approx((0.04923, 0.16608), abs=5e-5)
    assert lim["99.8"] == pytest.approx((0.02771, 0.21018), abs=5e-5)
    # rate per 10,000 (Poisson, CQC): target 50 per 10k, n 10,000 -> E = 50, s = 1/(2 sqrt 50)
    rate = FunnelFit("Y", "rate", "none", "none", None, None, 0, 0.1, "")
    lo, hi = rate.limits(10_000, 50.0)["95"]
    s = 1 / (2 * math.sqrt(50))
    assert (lo, hi) == pytest.approx((50 * (1 - 1.96 * s) ** 2, 50 * (1 + 1.96 * s) ** 2))
    assert (lo, hi) == pytest.approx((37.10, 64.82), abs=0.01)


def test_limits_with_overdispersion_by_hand():
    t, s = math.asin(math.sqrt(0.10)), 0.05
    tau = FunnelFit("X", "proportion", "tau2", "tau2", 4.0, 0.01, 20, 0.1, "")
    assert tau.limits(100, 0.10)["95"][1] == pytest.approx(math.sin(t + 1.96 * math.sqrt(s * s + 0.01)) ** 2)
    phi = FunnelFit("X", "proportion", "phi", "phi", 4.0, 0.01, 20, 0.1, "")
    assert phi.limits(100, 0.10)["95"][1] == pytest.approx(math.sin(t + 1.96 * s * 2) ** 2)  # sqrt(phi) = 2
    # tau^2 widens small providers' limits relatively less than large ones'
    none = FunnelFit("X", "proportion", "none", "none", None, None, 20, 0.1, "")
    ratio = lambda f, n: f.limits(n, 0.1)["99.8"][1] - 0.1  # noqa: E731
    assert ratio(tau, 10_000) / ratio(none, 10_000) > ratio(tau, 50) / ratio(none, 50)


def test_fit_funnel_estimates_over_providers():
    pts = [FunnelPoint(f"H{i}", 400, p, 0.02) for i, p in enumerate([0.01, 0.015, 0.02, 0.025, 0.03, 0.06, 0.02])]
    fit = fit_funnel("D2.03", "percent", pts, "tau2", 0.1)
    z = [(math.asin(math.sqrt(p.value)) - math.asin(math.sqrt(0.02))) * 2 * 20 for p in sorted(pts, key=lambda p: p.code)]
    phi, tau2 = overdispersion(z, [1 / 40] * 7, 0.1)
    assert fit.units == 7 and fit.phi == pytest.approx(phi) and fit.tau2 == pytest.approx(tau2)
    assert fit.applied == ("tau2" if tau2 > 0 else "none")
    few = fit_funnel("D2.03", "percent", pts[:4], "tau2", 0.1)
    assert few.phi is None and few.applied == "none" and "fewer than 5" in few.note


def test_small_provider_with_a_bad_rate_is_not_red_but_a_large_one_is():
    """12 stays with 1 event and 5,004 with 417: the same 8.3 % rate against a 2 % baseline."""
    ind = rate_indicator()
    peers = [FunnelPoint(f"P{i}", n, k / n, 0.02) for i, (k, n) in enumerate(
        [(8, 400), (11, 500), (5, 300), (13, 600), (7, 350), (9, 450), (4, 250), (12, 520)])]
    small, large = FunnelPoint("SMALL", 12, 1 / 12, 0.02), FunnelPoint("LARGE", 5004, 417 / 5004, 0.02)
    fit = fit_funnel("D2.03", "percent", [*peers, small, large], "tau2", 0.1)
    s_small = score_indicator(ind, small.value, 0.02, volume=12, funnel=fit)
    s_large = score_indicator(ind, large.value, 0.02, volume=5004, funnel=fit)
    assert small.value == pytest.approx(large.value)
    assert s_small.light is not Light.RED and s_small.light is Light.YELLOW  # materially worse, inside the limits
    assert s_large.light is Light.RED
    assert "funnel z" in s_large.reason and "99.8 %" in s_large.reason and "漏斗图" in s_large.reason_zh
    # without funnel mode both would be red: 317 % worse than the baseline
    plain = score_indicator(ind, small.value, 0.02, volume=12)
    assert plain.light is Light.RED
    assert fit.applied == "tau2" and fit.tau2 > 0
    # significantly but not materially worse (within the 20 % red bound) is yellow, not red
    # (without overdispersion: with tau^2 the limits never get narrower than ±z tau)
    plain_fit = fit_funnel("D2.03", "percent", [*peers, small, large], "none", 0.1)
    near = score_indicator(ind, 0.0235, 0.02, volume=200_000, funnel=plain_fit)
    assert near.light is Light.YELLOW and near.detail["funnel_z"] > 3.09
    assert score_indicator(ind, 0.0235, 0.02, volume=200_000, funnel=fit).light is Light.GREEN
    # a provider near the baseline stays green
    assert score_indicator(ind, 0.021, 0.02, volume=400, funnel=fit).light is Light.GREEN


def test_funnel_lights_need_a_rate(tmp_path):
    import shutil

    from pingyi.spec.project import default_project_dir, load_project

    ind = rate_indicator()
    assert ind.lights.overdispersion == "tau2" and ind.lights.trim == 0.1  # defaults
    proj, src = tmp_path / "p", default_project_dir()
    for name in ("indicators", "baselines", "measures"):
        shutil.copytree(src / name, proj / name)
    for name in ("policy.yaml", "data.yaml"):
        shutil.copy(src / name, proj / name)
    path = proj / "indicators" / "D1_fund_efficiency.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("lights: {mode: absolute, yellow: 0.05, red: 0.15}",
                        "lights: {mode: absolute, yellow: 0.05, red: 0.15, statistical: funnel, overdispersion: phi}", 1)
    path.write_text(text, encoding="utf-8")
    result = load_project(proj)
    assert [i.code for i in result.issues.errors] == ["PY211"]  # D1.04 is an index with a target band
    assert "direction target" in result.issues.errors[0].found and "unit index" in result.issues.errors[0].found


def test_funnel_svg():
    fit = FunnelFit("D2.03", "proportion", "tau2", "tau2", 1.8, 0.001, 7, 0.1, "")
    funnel = {"indicator": "D2.03", "name_zh": "31日内非计划再住院率", "name_en": "Unplanned readmission",
              "unit": "percent", **fit.as_json(), "points": [
                  {"fixmedins_code": "H1", "fixmedins_name": "甲医院", "level": "三级", "n": 400, "value": 0.0225,
                   "target": 0.02, "z": 0.2, "light": "green"},
                  {"fixmedins_code": "H2", "fixmedins_name": "乙医院", "level": "三级", "n": 154, "value": 0.065,
                   "target": 0.02, "z": 2.2, "light": "yellow"},
                  {"fixmedins_code": "H3", "fixmedins_name": "丙医院", "level": "二级", "n": 146, "value": 0.007,
                   "target": 0.025, "z": -1.4, "light": "green"}]}
    svg = funnel_svg(funnel)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert 'font-family="Noto Sans CJK SC"' in svg.split(">", 1)[0]
    assert svg.count("<circle") == 3 and "φ = 1.800" in svg and "τ² = 0.001000" in svg
    assert svg.count("<clipPath") == 2  # one panel per target (三级 2.0 %, 二级 2.5 %)
    assert "#f9a825" in svg and "漏斗图" in svg
    en = funnel_svg(funnel, lang="en")
    assert "funnel plot" in en and "tertiary" in en
    assert funnel_svg(funnel) == svg  # deterministic
    empty = funnel_svg({**funnel, "points": []})
    assert "没有样本量达标的机构" in empty
    import xml.dom.minidom

    xml.dom.minidom.parseString(svg)  # well-formed
    assert not re.search(r"nan|inf", svg)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(p0=st.floats(0.001, 0.6), n1=st.integers(5, 5000), extra=st.integers(1, 5000),
       tau2=st.sampled_from([0.0, 0.0005, 0.01]))
def test_limits_narrow_with_volume_and_bracket_the_target(p0, n1, extra, tau2):
    fit = FunnelFit("X", "proportion", "tau2", "tau2" if tau2 else "none", 1.5, tau2, 10, 0.1, "")
    small, large = fit.limits(n1, p0), fit.limits(n1 + extra, p0)
    for key in ("95", "99.8"):
        assert small[key][0] <= large[key][0] + 1e-12 <= p0 + 1e-12
        assert small[key][1] + 1e-12 >= large[key][1] >= p0 - 1e-12
    assert small["99.8"][1] >= small["95"][1] and small["99.8"][0] <= small["95"][0]
