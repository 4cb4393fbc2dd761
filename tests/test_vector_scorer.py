"""pingyi.score.vector equals score_indicator element by element, bit for bit: random indicators of
every rule kind (threshold, vbp continuous and hvbp, target_range, none), light modes, volume rules,
funnels and absences, and every indicator of the shipped project at its own baselines."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pingyi.score.funnel import FunnelFit
from pingyi.score.indicator import IndicatorScore, score_indicator
from pingyi.score.vector import (
    ABSENCE_CODES,
    ABSENCE_KIND,
    BANDS,
    LIGHTS,
    STATUSES,
    WHY,
    score_column,
    score_vector,
)
from pingyi.spec.models import IndicatorSpec, ProviderLevel
from pingyi.text import Light, Status

MANUAL = dict.fromkeys(
    ("meaning", "meaning_en", "formula_text", "formula_text_en", "inclusions", "exclusions", "data_source"), "x"
)


def spec(**kw) -> IndicatorSpec:
    base = {
        "code": "D1.01",
        "name_zh": "指标",
        "name_en": "Indicator",
        "manual": MANUAL,
        "formula": "a / b",
        "direction": "down",
        "unit": "percent",
        "source": "settlement",
        "scoring": {"rule": "threshold"},
    }
    base.update(kw)
    return IndicatorSpec.model_validate(base)


def bits(x: float | None) -> str:
    """None, or the float's exact bits (so 0.0 and -0.0 differ)."""
    return "None" if x is None else struct.pack("<d", x).hex()


def opt(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


def assert_same(ind, value, baseline, benchmark, prior, volume, funnel, absence):
    """Every element of score_vector against score_indicator on the same inputs."""
    codes = np.array([ABSENCE_CODES[a] for a in absence])
    arr = lambda xs: np.array([np.nan if x is None else x for x in xs], dtype=float)  # noqa: E731
    vec = score_vector(
        ind, arr(value), arr(baseline), benchmark=arr(benchmark), prior=arr(prior), volume=arr(volume),
        funnel=funnel, absence=codes,
    )  # fmt: skip
    assert len(vec) == len(value)
    column = score_column(ind, value, baseline, benchmark, prior, volume, funnel, absence, [("reported",)] * len(value))
    for i in range(len(value)):
        s: IndicatorScore = score_indicator(
            ind, value[i], baseline[i], benchmark=benchmark[i], prior=prior[i], volume=volume[i],
            funnel=funnel, absence=absence[i], absent=("reported",),
        )  # fmt: skip
        where = f"element {i}: value {value[i]!r} baseline {baseline[i]!r} benchmark {benchmark[i]!r} " \
            f"prior {prior[i]!r} volume {volume[i]!r} absence {absence[i]!r} -> {s}"  # fmt: skip
        assert column[i] == s, where  # reasons included
        assert STATUSES[vec.status[i]] is s.status, where
        assert LIGHTS[vec.light[i]] is s.light, where
        assert bits(opt(vec.points[i])) == bits(s.score), where
        assert bits(opt(vec.gap[i])) == bits(s.gap), where
        assert bits(opt(vec.scored_value[i])) == bits(s.scored_value), where
        assert ABSENCE_KIND[vec.why[i]] == s.absence, where
        if s.status is Status.INSUFFICIENT:
            assert WHY[vec.why[i]] != "", where
        detail = {
            "funnel_z": vec.funnel_z[i], "achievement": vec.achievement[i],
            "improvement": vec.improvement[i], "distance": vec.distance[i],
        }  # fmt: skip
        assert {k: bits(float(x)) for k, x in detail.items() if not math.isnan(x)} == {
            k: bits(x) for k, x in s.detail.items()
        }, where
        assert (vec.funnel_band[i] >= 0) == ("funnel_z" in s.detail), where
        if "funnel_z" in s.detail:
            assert BANDS[vec.funnel_band[i]] in ("worse998", "worse95", "inside", "better95", "better998")


# ------------------------------------------------------------------------------- strategies

# values from a few landmarks (exact equalities with the baseline, bounds, halves) and anywhere
LANDMARKS = [0.0, -0.0, 0.05, 0.1, 0.2, 0.5, 0.8, 1.0, 1.5, 2.0, 100.0]
number = st.one_of(st.sampled_from(LANDMARKS), st.floats(-5, 200, allow_nan=False, width=64))
maybe = st.one_of(st.none(), number)


@st.composite
def indicators(draw):
    kind = draw(st.sampled_from(["threshold", "vbp", "hvbp", "target_range", "none"]))
    mode = draw(st.sampled_from(["relative", "absolute"]))
    yellow = draw(st.sampled_from([0.0, 0.05, 0.1]))
    red = draw(st.sampled_from([0.005, 0.1, 0.2, 0.5]).filter(lambda r: r > yellow))
    lights: dict = {"mode": mode, "yellow": yellow, "red": red}
    direction = draw(st.sampled_from(["up", "down"]))
    unit = draw(st.sampled_from(["percent", "per_10k", "yuan"]))
    if kind == "threshold":
        scoring: dict = {"rule": "threshold"}
        if draw(st.booleans()):
            scoring["zero_at"] = draw(st.sampled_from([0.05, 0.3, 1.0]))
    elif kind in ("vbp", "hvbp"):
        scoring = {
            "rule": "vbp",
            "improvement": draw(st.booleans()),
            "points": "hvbp" if kind == "hvbp" else "continuous",
        }
    elif kind == "target_range":
        low = draw(st.sampled_from([0.0, 0.5, 0.8]))
        scoring = {"rule": "target_range", "low": low, "high": low + draw(st.sampled_from([0.0, 0.2])),
                   "zero_at": draw(st.sampled_from([0.1, 0.3]))}  # fmt: skip
        direction = "target"
    else:
        scoring, direction = {"rule": "none"}, "monitor"
    if kind in ("threshold", "vbp", "hvbp") and unit in ("percent", "per_10k") and draw(st.booleans()):
        lights["statistical"] = "funnel"
        lights["funnel_score"] = draw(st.sampled_from(["observed", "beyond_95"]))
    volume = draw(
        st.sampled_from([None, {"measure": "stays", "minimum": 30}, {"measure": "denominator", "minimum": 100}])
    )
    return spec(scoring=scoring, lights=lights, direction=direction, unit=unit, volume=volume)


fits = st.one_of(
    st.none(),
    st.builds(
        lambda method, applied, phi, tau2: FunnelFit("X", method, applied, applied, phi, tau2, 20, 0.1, ""),
        st.sampled_from(["proportion", "rate"]),
        st.sampled_from(["none", "phi", "tau2"]),
        st.sampled_from([None, 0.5, 1.0, 3.7]),
        st.sampled_from([None, 0.0, 0.0004, 0.02]),
    ),
)


@st.composite
def cases(draw):
    ind = draw(indicators())
    size = draw(st.integers(1, 12))
    rows = [
        (
            draw(maybe),
            draw(maybe),
            draw(maybe),
            draw(maybe),
            draw(st.one_of(st.none(), st.sampled_from([0.0, 29.0, 30.0, 99.0, 100.0, 2500.0]), st.floats(0, 1e5))),
            draw(st.sampled_from([None, None, None, "missing", "insufficient"])),
        )
        for _ in range(size)
    ]
    columns = [list(c) for c in zip(*rows, strict=True)]
    # values, benchmarks and priors often close to (or equal to) the baseline or each other: the rules'
    # edges live there
    near = st.sampled_from([0.0, 0.05, -0.1, 0.2, 0.2000001, -0.5, 1.0])
    for i, b in enumerate(columns[1]):
        if b is None:
            continue
        if draw(st.booleans()):
            columns[2][i] = b * (1 + draw(near))  # benchmark
        if draw(st.booleans()):
            columns[0][i] = b * (1 + draw(near))  # value
        pick = draw(st.sampled_from(["keep", "benchmark", "value", "near"]))
        if pick == "benchmark":
            columns[3][i] = columns[2][i]
        elif pick == "value":
            columns[3][i] = columns[0][i]
        elif pick == "near":
            columns[3][i] = b * (1 + draw(near))
    return ind, *columns


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(), funnel=fits)
def test_vector_equals_scalar_for_every_rule_kind(case, funnel):
    ind, value, baseline, benchmark, prior, volume, absence = case
    assert_same(ind, value, baseline, benchmark, prior, volume, funnel, absence)


@settings(max_examples=300, deadline=None)
@given(
    g=st.floats(0, 1, allow_nan=False),
    b=st.sampled_from([0.5, 0.6, 0.7]),
    bm=st.sampled_from([0.8, 0.9, 0.95]),
    direction=st.sampled_from(["up", "down"]),
)
def test_hvbp_halves_round_as_the_scalar_rule(g, b, bm, direction):
    """Values at (and a hair beside) the half points of 9 r + 0.5 and 10 r - 0.5 round alike."""
    ind = spec(scoring={"rule": "vbp", "points": "hvbp"}, direction=direction, lights={"mode": "absolute", "red": 0.1})
    sign = 1 if direction == "up" else -1
    b, bm = sign * b, sign * bm
    halves = [b + (bm - b) * (k + 0.5 - 0.5) / 9 for k in range(10)] + [b + (bm - b) * k / 10 for k in range(11)]
    value = [x + d for x in halves for d in (0.0, 1e-12, -1e-12)] + [b + (bm - b) * g]
    prior = [b - (bm - b) * g] * len(value)
    n = len(value)
    assert_same(ind, value, [b] * n, [bm] * n, prior, [None] * n, None, [None] * n)


# ------------------------------------------------------------------ the shipped project's indicators


def shipped_cases():
    from tests.conftest import shipped

    project = shipped().project
    regions = project.region_codes()
    levels = [level.value for level in ProviderLevel]
    for code, ind in project.indicators.items():
        pairs = [(r, lv) for r in regions for lv in levels]
        base = [project.baseline(code, r, lv) for r, lv in pairs]
        bench = [project.baseline(code, r, lv, "benchmark") for r, lv in pairs]
        yield pytest.param(ind, base, bench, id=code)


@pytest.mark.parametrize("ind,base,bench", list(shipped_cases()))
def test_vector_equals_scalar_on_the_shipped_indicators(ind: IndicatorSpec, base, bench):
    rng = np.random.default_rng(7)
    funnel = None
    if ind.lights.statistical == "funnel":
        method = "rate" if ind.unit.value == "per_10k" else "proportion"
        funnel = FunnelFit(ind.code, method, "tau2", "tau2", 2.0, 0.0003, 40, 0.1, "")
    minimum = ind.volume.minimum if ind.volume is not None else 30.0
    value, baseline, benchmark, prior, volume, absence = [], [], [], [], [], []
    for b, bm in zip(base, bench, strict=True):
        for _ in range(12):
            ref = b if b is not None else 0.1
            value.append(None if rng.random() < 0.05 else float(ref * rng.uniform(0.0, 2.0) + rng.normal(0, 0.01)))
            baseline.append(b)
            benchmark.append(bm)
            prior.append(float(ref * rng.uniform(0.5, 1.5)) if rng.random() < 0.8 else None)
            volume.append(None if rng.random() < 0.05 else float(rng.choice([minimum - 1, minimum, minimum * 30])))
            absence.append(rng.choice(np.array([None, None, None, None, "missing", "insufficient"], dtype=object)))
    assert_same(ind, value, baseline, benchmark, prior, volume, funnel, absence)


def test_codes_by_hand():
    """A threshold indicator, baseline 5 %: 4 % green 100, 5.5 % yellow 70 (10 % worse), 9.1 % red 0,
    none: grey (no value), a volume below the minimum: grey, missing: red 0."""
    ind = spec(volume={"measure": "stays", "minimum": 30})
    vec = score_vector(
        ind, np.array([0.04, 0.055, 0.091, np.nan, 0.05, 0.05]), np.full(6, 0.05),
        volume=np.array([50, 50, 50, 50, 10, 50.0]), absence=np.array([0, 0, 0, 0, 0, 1]),
    )  # fmt: skip
    assert [LIGHTS[c] for c in vec.light] == [Light.GREEN, Light.YELLOW, Light.RED, Light.GREY, Light.GREY, Light.RED]
    assert vec.points[:3].tolist() == pytest.approx([100.0, 70.0, 0.0])
    assert np.isnan(vec.points[3:5]).all() and vec.points[5] == 0.0
    assert [WHY[c] for c in vec.why] == ["", "", "", "no value", "volume", "missing"]
    assert vec.gap[2] == pytest.approx(0.82)
