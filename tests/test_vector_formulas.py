"""Formulas compiled once to closures (pingyi.compute.indicators) give what Formula.evaluate gives: the
same number bit for bit, None in the same places, the same overflow error; random formulas and values."""

from __future__ import annotations

import math
import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from pingyi.compute.indicators import _compiled
from pingyi.spec.formula import FormulaOverflow, parse

NAMES = ("a", "b", "c")


def formulas(depth: int = 3) -> st.SearchStrategy[str]:
    leaf = st.one_of(
        st.sampled_from(NAMES),
        st.sampled_from(["0", "1", "2.5", "100", "1e15", "0.0"]),
        st.sampled_from([f"prior({n})" for n in NAMES]),
    )
    if depth == 0:
        return leaf

    def grow(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(inner, st.sampled_from("+-*/"), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            inner.map(lambda x: f"-{x}"),
            inner.map(lambda x: f"+{x}"),
            inner.map(lambda x: f"abs({x})"),
            st.tuples(st.sampled_from(["min", "max"]), st.lists(inner, min_size=2, max_size=3)).map(
                lambda t: f"{t[0]}({', '.join(t[1])})"
            ),
        )

    return st.recursive(leaf, grow, max_leaves=8)


value = st.one_of(
    st.none(),
    st.sampled_from([0.0, -0.0, 1.0, -1.0, 1e308, -1e308, 3.0, math.nan]),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
)
env = st.fixed_dictionaries({}, optional=dict.fromkeys(NAMES, value))


def outcome(fn):
    try:
        x = fn()
    except FormulaOverflow as exc:
        return ("overflow", str(exc))
    return ("value", None if x is None else struct.pack("<d", x).hex())


@settings(max_examples=300, deadline=None)
@given(text=formulas(), cur=env, pri=env)
def test_compiled_formula_equals_the_tree_walk(text, cur, pri):
    parsed = parse(text)
    assert outcome(lambda: _compiled(text)(cur, pri)) == outcome(lambda: parsed.evaluate(cur, pri))


def test_compiled_by_hand():
    f = _compiled("(a - prior(a)) / prior(a)")
    assert f({"a": 110.0}, {"a": 100.0}) == (110.0 - 100.0) / 100.0
    assert f({"a": 110.0}, {"a": 0.0}) is None  # no denominator
    assert f({"a": None}, {"a": 100.0}) is None
    assert _compiled("min(a, b, 3)")({"a": 5.0, "b": 4.0}, {}) == 3.0
    assert _compiled("max(a, -b)")({"a": 5.0, "b": -7.0}, {}) == 7.0
    try:
        _compiled("a * 1e15")({"a": 1e300}, {})
    except FormulaOverflow as exc:
        assert "1e+300 and 1000000000000000.0 give inf" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("an overflow must raise")


def test_both_operands_are_evaluated_before_the_none_test():
    """The tree walk evaluates both operands first: an overflow on the right raises although the left is None."""
    cur = {"b": 1e308, "c": 10.0}
    for text in ("a * (b * c)", "a + (b * c)", "a - (b * c)", "a / (b * c)", "min(a, b * c)"):
        compiled, walked = (
            outcome(lambda t=text: _compiled(t)(cur, {})),
            outcome(lambda t=text: parse(t).evaluate(cur, {})),
        )
        assert compiled == walked and compiled[0] == "overflow", text
