"""Funnel-plot lights: hand-computed phi and tau^2, control limits with and without overdispersion,
small providers not red by chance, large ones unable to hide, and the SVG."""

from __future__ import annotations

import math
import re

import pytest

from pingyi.report.funnel_svg import funnel_svg
from pingyi.score.funnel import FunnelFit, FunnelPoint, band, fit_funnel, overdispersion, winsorise
from pingyi.score.indicator import score_indicator
from pingyi.spec.models import IndicatorSpec
from pingyi.text import Light
from pingyi.validate import validate_project

MANUAL = {
    "meaning": "m",
    "meaning_en": "m",
    "formula_text": "f",
    "formula_text_en": "f",
    "inclusions": "i",
    "exclusions": "e",
    "data_source": "d",
}


def rate_indicator(**lights) -> IndicatorSpec:
    return IndicatorSpec.model_validate(
        {
            "code": "D2.03",
            "name_zh": "31日内非计划再住院率",
            "name_en": "Unplanned readmission",
            "manual": MANUAL,
            "formula": "unplanned_readmissions / alive_discharges",
            "direction": "down",
            "unit": "percent",
            "source": "settlement",
            "scoring": {"rule": "threshold", "zero_at": 1.0},
            "lights": {"mode": "relative", "yellow": 0.0, "red": 0.20, "statistical": "funnel", **lights},
            "volume": {"measure": "alive_discharges", "minimum": 10},
        }
    )


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
    z = [
        (math.asin(math.sqrt(p.value)) - math.asin(math.sqrt(0.02))) * 2 * 20 for p in sorted(pts, key=lambda p: p.code)
    ]
    phi, tau2 = overdispersion(z, [1 / 40] * 7, 0.1)
    assert fit.units == 7 and fit.phi == pytest.approx(phi) and fit.tau2 == pytest.approx(tau2)
    assert fit.applied == ("tau2" if tau2 > 0 else "none")
    few = fit_funnel("D2.03", "percent", pts[:4], "tau2", 0.1)
    assert few.phi is None and few.applied == "none" and "fewer than 5" in few.note


def test_small_provider_with_a_bad_rate_is_not_red_but_a_large_one_is():
    """12 stays with 1 event and 5,004 with 417: the same 8.3 % rate against a 2 % baseline. The light is the
    band of the points, so the funnel acts through what is scored: with `funnel_score: beyond_95` the small
    provider (inside the limits: chance explains it) is scored on its baseline, the large one is red."""
    ind = rate_indicator(funnel_score="beyond_95")
    peers = [
        FunnelPoint(f"P{i}", n, k / n, 0.02)
        for i, (k, n) in enumerate([(8, 400), (11, 500), (5, 300), (13, 600), (7, 350), (9, 450), (4, 250), (12, 520)])
    ]
    small, large = FunnelPoint("SMALL", 12, 1 / 12, 0.02), FunnelPoint("LARGE", 5004, 417 / 5004, 0.02)
    fit = fit_funnel("D2.03", "percent", [*peers, small, large], "tau2", 0.1)
    s_small = score_indicator(ind, small.value, 0.02, volume=12, funnel=fit)
    s_large = score_indicator(ind, large.value, 0.02, volume=5004, funnel=fit)
    assert small.value == pytest.approx(large.value)
    assert s_small.light is not Light.RED
    assert s_large.light is Light.RED
    assert "funnel z" in s_large.reason and "99.8 %" in s_large.reason and "漏斗图" in s_large.reason_zh
    # without funnel mode both would be red: 317 % worse than the baseline
    plain = score_indicator(ind, small.value, 0.02, volume=12)
    assert plain.light is Light.RED
    assert fit.applied == "tau2" and fit.tau2 > 0
    # a provider near the baseline stays green
    assert score_indicator(ind, 0.021, 0.02, volume=400, funnel=fit).light is Light.GREEN


def load_with_d104_lights(tmp_path, lights: str):
    """The shipped project with D1.04's lights replaced (D1.04: an index with a target band)."""
    from pingyi.spec.project import copy_project, default_project_dir

    proj = tmp_path / "p"
    copy_project(default_project_dir(), proj)
    path = proj / "indicators" / "D1_fund_efficiency.yaml"
    text = path.read_text(encoding="utf-8")
    old = "lights: {mode: absolute, yellow: 0.05, red: 0.15}"
    assert old in text
    path.write_text(text.replace(old, lights, 1), encoding="utf-8")
    return validate_project(proj)


def test_funnel_lights_need_a_rate(tmp_path):
    ind = rate_indicator()
    assert ind.lights.overdispersion == "tau2" and ind.lights.trim == 0.1  # defaults
    result = load_with_d104_lights(
        tmp_path, "lights: {mode: absolute, yellow: 0.05, red: 0.15, statistical: funnel, overdispersion: phi}"
    )
    assert [i.code for i in result.issues.errors] == ["PY211"]  # D1.04 is an index with a target band
    assert "direction target" in result.issues.errors[0].found and "unit index" in result.issues.errors[0].found


def test_funnel_svg():
    fit = FunnelFit("D2.03", "proportion", "tau2", "tau2", 1.8, 0.001, 7, 0.1, "")
    funnel = {
        "indicator": "D2.03",
        "name_zh": "31日内非计划再住院率",
        "name_en": "Unplanned readmission",
        "unit": "percent",
        **fit.as_json(),
        "points": [
            {
                "fixmedins_code": "H1",
                "fixmedins_name": "甲医院",
                "level": "三级",
                "n": 400,
                "value": 0.0225,
                "target": 0.02,
                "z": 0.2,
                "light": "green",
            },
            {
                "fixmedins_code": "H2",
                "fixmedins_name": "乙医院",
                "level": "三级",
                "n": 154,
                "value": 0.065,
                "target": 0.02,
                "z": 2.2,
                "light": "yellow",
            },
            {
                "fixmedins_code": "H3",
                "fixmedins_name": "丙医院",
                "level": "二级",
                "n": 146,
                "value": 0.007,
                "target": 0.025,
                "z": -1.4,
                "light": "green",
            },
        ],
    }
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
@given(
    p0=st.floats(0.001, 0.6),
    n1=st.integers(5, 5000),
    extra=st.integers(1, 5000),
    tau2=st.sampled_from([0.0, 0.0005, 0.01]),
)
def test_limits_narrow_with_volume_and_bracket_the_target(p0, n1, extra, tau2):
    fit = FunnelFit("X", "proportion", "tau2", "tau2" if tau2 else "none", 1.5, tau2, 10, 0.1, "")
    small, large = fit.limits(n1, p0), fit.limits(n1 + extra, p0)
    for key in ("95", "99.8"):
        assert small[key][0] <= large[key][0] + 1e-12 <= p0 + 1e-12
        assert small[key][1] + 1e-12 >= large[key][1] >= p0 - 1e-12
    assert small["99.8"][1] >= small["95"][1] and small["99.8"][0] <= small["95"][0]


# --------------------------------------------------------------------------- funnel_score: beyond_95


def test_beyond_95_by_hand():
    """Proportion: target 10 %, n 100, no overdispersion: t = asin(sqrt(0.1)) = 0.3217506, s = 0.05, the 95 %
    half-width 1.96 x 0.05 = 0.098. 25 %: y = asin(0.5) = pi/6 = 0.5235988, 0.2018482 beyond the target,
    0.1038482 beyond the limit -> sin(0.3217506 + 0.1038482)^2 = sin(0.4255988)^2 = 0.170459."""
    fit = FunnelFit("X", "proportion", "none", "none", None, None, 0, 0.1, "")
    assert fit.beyond_95(0.25, 100, 0.10, "down") == pytest.approx(math.sin(0.4255988) ** 2, abs=1e-7)
    assert fit.beyond_95(0.25, 100, 0.10, "down") == pytest.approx(0.170459, abs=1e-6)
    assert fit.beyond_95(0.15, 100, 0.10, "down") == 0.10  # inside the 95 % limit (16.6 %): chance explains it
    assert fit.beyond_95(0.05, 100, 0.10, "down") == 0.05  # the good side is left alone
    # direction up: the bad side is below. 0 % of 100 against 10 %: y = 0, 0.3217506 - 0.098 below the limit
    assert fit.beyond_95(0.0, 100, 0.10, "up") == pytest.approx(math.sin(0.098) ** 2, abs=1e-9)
    assert fit.beyond_95(0.30, 100, 0.10, "up") == 0.30
    # rate per 10,000 (Poisson): target 50, n 10,000 -> E 50, s = 0.0707107, 1.96 s = 0.1385929.
    # 80: y = sqrt(80/50) = 1.2649111, 0.2649111 above 1, 0.1263182 beyond -> 50 x 1.1263182^2 = 63.4296
    rate = FunnelFit("Y", "rate", "none", "none", None, None, 0, 0.1, "")
    assert rate.beyond_95(80.0, 10_000, 50.0, "down") == pytest.approx(63.4296, abs=1e-3)
    # with tau^2 the allowance is still 1.96 s: chance is the sampling error only, the overdispersion is
    # the between-provider variation being judged (it widens the light's limits, not what is forgiven)
    tau = FunnelFit("X", "proportion", "tau2", "tau2", 3.0, 0.004, 20, 0.1, "")
    assert tau.beyond_95(0.25, 100, 0.10, "down") == fit.beyond_95(0.25, 100, 0.10, "down")


def test_beyond_95_scores_what_chance_cannot_explain():
    """The 12-stay and the 5,004-stay providers of the light test: with `funnel_score: beyond_95` the small
    one (inside the limits) scores as meeting its baseline; the large one is scored on nearly all of its
    deviation, as before; the reasons say which value was scored."""
    observed, beyond = rate_indicator(), rate_indicator(funnel_score="beyond_95")
    peers = [
        FunnelPoint(f"P{i}", n, k / n, 0.02)
        for i, (k, n) in enumerate([(8, 400), (11, 500), (5, 300), (13, 600), (7, 350), (9, 450), (4, 250), (12, 520)])
    ]
    small, large = FunnelPoint("SMALL", 12, 1 / 12, 0.02), FunnelPoint("LARGE", 5004, 417 / 5004, 0.02)
    fit = fit_funnel("D2.03", "percent", [*peers, small, large], "tau2", 0.1)
    assert band(fit, "down", small.value, 12, 0.02)[1] == "inside"
    s_obs = score_indicator(observed, small.value, 0.02, volume=12, funnel=fit)
    s_new = score_indicator(beyond, small.value, 0.02, volume=12, funnel=fit)
    assert s_obs.score == 0.0  # 317 % worse than the baseline, zero_at 100 % worse
    assert s_new.score == 100.0 and s_new.scored_value == 0.02
    assert s_new.light is Light.GREEN and s_obs.light is Light.RED  # each the band of its points
    assert "deviation beyond the 95 % limit" in s_new.reason and "95%控制限" in s_new.reason_zh
    l_obs = score_indicator(observed, large.value, 0.02, volume=5004, funnel=fit)
    l_new = score_indicator(beyond, large.value, 0.02, volume=5004, funnel=fit)
    assert l_new.light is Light.RED and l_new.score == l_obs.score == 0.0  # 8.3 % is 317 % worse; zero_at 100 %
    allowed = fit.beyond_95(large.value, 5004, 0.02, "down")
    assert 0.02 < allowed < large.value and l_new.scored_value == pytest.approx(allowed)
    # a large provider only a little worse keeps most of its deduction; a small one loses none of its score
    mid_obs = score_indicator(observed, 0.03, 0.02, volume=5004, funnel=fit)
    mid_new = score_indicator(beyond, 0.03, 0.02, volume=5004, funnel=fit)
    assert mid_obs.score < mid_new.score < 100.0
    assert observed.lights.funnel_score == "observed"  # the default


@settings(max_examples=80, deadline=None)
@given(
    p0=st.floats(0.005, 0.5),
    n=st.integers(5, 20_000),
    v1=st.floats(0.0, 1.0),
    v2=st.floats(0.0, 1.0),
    tau2=st.sampled_from([0.0, 0.0005, 0.01]),
    up=st.booleans(),
)
def test_beyond_95_lies_between_target_and_value_and_keeps_order(p0, n, v1, v2, tau2, up):
    fit = FunnelFit("X", "proportion", "tau2", "tau2" if tau2 else "none", 1.5, tau2, 10, 0.1, "")
    direction = "up" if up else "down"
    lo, hi = sorted((v1, v2))
    a, b = fit.beyond_95(lo, n, p0, direction), fit.beyond_95(hi, n, p0, direction)
    assert a <= b + 1e-12  # monotone: a worse value never scores on a better one
    for v, w in ((lo, a), (hi, b)):
        worse = v < p0 if up else v > p0
        if worse:
            assert min(v, p0) - 1e-12 <= w <= max(v, p0) + 1e-12  # moved towards the target, never past it
        else:
            assert w == v


def test_beyond_95_needs_funnel_lights(tmp_path):
    result = load_with_d104_lights(
        tmp_path, "lights: {mode: absolute, yellow: 0.05, red: 0.15, funnel_score: beyond_95}"
    )
    assert [i.code for i in result.issues.errors] == ["PY212"]
    assert "funnel_score beyond_95" in result.issues.errors[0].found


def test_beyond_95_never_forgives_a_large_provider_a_clear_deviation():
    """100,000 discharges, 4.2 % readmissions against a 2.0 % baseline, tau^2 = 0.00109: the deviation is
    statistically clear (sampling s.e. on the arcsine scale 1/(2 sqrt(n)) = 0.0016), so almost all of it is
    scored; before, the tau-inflated limit (1.96 x 0.033) swallowed it and the provider scored at baseline."""
    from pingyi.score.funnel import FunnelFit

    fit = FunnelFit("D2.03", "proportion", "tau2", "tau2", None, 0.00109, 40, 0.1, "")
    scored = fit.beyond_95(0.042, 100_000, 0.02, "down")
    assert scored is not None and 0.040 < scored < 0.042
    s = score_indicator(rate_indicator(funnel_score="beyond_95"), 0.042, 0.02, volume=100_000, funnel=fit)
    assert s.light is Light.RED and s.score < 60
    # a small provider with the same rate: the sampling allowance (1.96 x 1/(2 sqrt(12))) covers it
    assert fit.beyond_95(1 / 12, 12, 0.02, "down") == 0.02
    # the allowance never goes past the raw value nor below the baseline, and shrinks with volume
    last = 0.02
    for n in (50, 500, 5_000, 50_000, 500_000):
        v = fit.beyond_95(0.042, n, 0.02, "down")
        assert 0.02 <= v <= 0.042 and v >= last
        last = v
