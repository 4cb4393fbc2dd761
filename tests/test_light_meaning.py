"""One meaning of a light, for every rule: an indicator's light is the band of its points (green >= 80,
yellow >= 60, red below), and for the gap rules that is also the light of its gap against the bounds."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import shipped
from pingyi.score.indicator import score_indicator
from pingyi.spec.rules import banded_points
from pingyi.text import Light, Status

CATALOGUE = shipped().project.indicators
SCORED = sorted(c for c, i in CATALOGUE.items() if i.scoring.scored)


def band(points: float) -> Light:
    return Light.GREEN if points >= 80 else Light.YELLOW if points >= 60 else Light.RED


@settings(max_examples=400, deadline=None)
@given(
    code=st.sampled_from(SCORED),
    value=st.floats(0, 3, allow_nan=False),
    baseline=st.floats(0.001, 2, allow_nan=False),
    benchmark_share=st.floats(0, 1),
    prior=st.one_of(st.none(), st.floats(0, 3, allow_nan=False)),
)
def test_light_is_the_band_of_the_points(code, value, baseline, benchmark_share, prior):
    ind = CATALOGUE[code]
    bench = baseline * (1 + benchmark_share) if ind.direction.value != "down" else baseline * (1 - benchmark_share)
    s = score_indicator(ind, value, baseline, benchmark=bench, prior=prior, volume=1e9)
    assert s.status is Status.SCORED
    assert s.light is band(s.score), (code, value, baseline, s)


@given(
    gap=st.floats(-1, 5, allow_nan=False),
    yellow=st.floats(0, 0.5),
    extra=st.floats(0.01, 1),
    beyond=st.floats(0.01, 2),
)
def test_banded_points_put_the_band_edges_at_the_light_bounds(gap, yellow, extra, beyond):
    red = yellow + extra
    pts = banded_points(gap, yellow, red, red + beyond)
    light = Light.GREEN if gap <= yellow else Light.YELLOW if gap <= red else Light.RED
    assert band(pts) is light
    assert 0 <= pts <= 100
    assert banded_points(gap + 0.01, yellow, red, red + beyond) <= pts  # monotone: worse never scores more


def test_hand_computed_threshold_points():
    # yellow 10 %, red 20 %, zero at 40 %: 5 % worse -> 90, 15 % -> 70, 30 % -> 30, 12.5 % -> 75 (yellow)
    assert banded_points(0.05, 0.10, 0.20, 0.40) == 90.0
    assert banded_points(0.15, 0.10, 0.20, 0.40) == 70.0
    assert banded_points(0.30, 0.10, 0.20, 0.40) == pytest.approx(30.0)
    assert banded_points(0.125, 0.10, 0.20, 0.40) == 75.0
    # yellow bound 0 (any gap is yellow): just worse than the baseline is below 80
    assert banded_points(1e-9, 0.0, 0.005, 0.015) < 80
