"""Peer percentiles by sort and bisection give the definition's numbers (share of the other peers a
provider does better than, ties counting half), to the last bit."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pingyi.score.peers import percentile_among, percentile_in


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(st.sampled_from([0.0, 1.5, 2.0, 3.25, -1.0, 7.0]) | st.floats(-1e6, 1e6), min_size=1, max_size=30),
    data=st.data(),
)
def test_bisection_is_the_pairwise_count(values, data):
    i = data.draw(st.integers(0, len(values) - 1))
    others = values[:i] + values[i + 1 :]
    assert percentile_in(values[i], sorted(values)) == percentile_among(values[i], others)


def test_hand_computed():
    # 2.0 among [1.0, 2.0, 2.0, 5.0]: one peer below, one tie (half) of three others -> 50
    assert percentile_in(2.0, [1.0, 2.0, 2.0, 5.0]) == 50.0
    assert percentile_in(5.0, [1.0, 2.0, 2.0, 5.0]) == 100.0
    assert percentile_in(1.0, [1.0]) is None  # alone: no peer to compare with
