"""Intervals on small numbers: the Wilson score interval (published values: Newcombe 1998, Statistics
in Medicine 17:857, Table II, method 3 "score method without continuity correction"), and its place
in results.json for D6.01 (valid questionnaires) and the funnel-lighted shares."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pingyi.numbers import wilson_interval


@pytest.mark.parametrize(
    "x,n,low,high",
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)],
)
def test_newcombe_1998_table_ii(x, n, low, high):
    got = wilson_interval(x / n, n)
    assert (round(got[0], 4), round(got[1], 4)) == (low, high)


@given(x=st.integers(0, 500), extra=st.integers(0, 500))
def test_inside_unit_interval_and_around_p(x, extra):
    n = x + extra
    if n == 0:
        return
    low, high = wilson_interval(x / n, n)
    assert 0 <= low <= x / n <= high <= 1
    if 0 < x < n:
        assert low < x / n < high


def test_results_carry_the_interval_where_the_denominator_is_known(small_example):
    doc = json.loads((small_example.out / "results.json").read_text(encoding="utf-8"))
    funnel = {i["code"] for i in doc["indicators"] if i.get("statistical_lights") == "funnel"}
    seen = set()
    for p in doc["providers"]:
        for i in p["indicators"]:
            iv = i.get("interval")
            if i["code"] == "D6.01" and i["value"] is not None and i["volume"]:
                assert iv is not None and iv["n"] == i["volume"]
            if iv is None:
                continue
            seen.add(i["code"])
            assert i["code"] in funnel or i["code"] == "D6.01"
            assert iv["low"] <= i["value"] <= iv["high"]
            assert (iv["low"], iv["high"]) == pytest.approx(wilson_interval(i["value"], iv["n"]), abs=1e-9)
    assert "D6.01" in seen and seen & funnel
