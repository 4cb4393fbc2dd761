"""Objective weights (entropy, CRITIC), their combination with the AHP weights and
`pingyi weights --results`: published worked examples to their printed digits, hand-computed small
cases, properties, and the command on an evaluated bundle."""

from __future__ import annotations

import hashlib
import json
import math
import random
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pingyi.weights.objective import (
    Column,
    combine,
    critic_from_normalised,
    entropy_from_shares,
    normalise,
    objective_weights,
)

# --------------------------------------------------------------------------------------------------
# Published worked examples
# --------------------------------------------------------------------------------------------------


def test_entropy_xu_2004():
    """Xu, X. (2004). "A note on the subjective and objective integrated approach to determine attribute
    weights." European Journal of Operational Research 156(2):530-532, the 4 x 4 example; printed entropy
    weights 0.4630, 0.3992, 0.1378, 0.0000 (the data and weights as transcribed in the tests of
    pyrepo-mcda, energyinpython/pyrepo-mcda, test_weighting_methods.py). The entropy step works on the
    shares p_ij = x_ij / sum_i x_ij of the raw values, as the paper does."""
    x = [[30, 30, 38, 29], [19, 54, 86, 29], [19, 15, 85, 28.9], [68, 70, 60, 29]]
    assert [round(float(w), 4) for w in entropy_from_shares(x)] == [0.4630, 0.3992, 0.1378, 0.0000]


def test_entropy_zavadskas_podvezko_2016():
    """Zavadskas, E. K. & Podvezko, V. (2016). "Integrated determination of objective criteria weights
    in MCDM." International Journal of Information Technology & Decision Making 15(2):267-283, the 4
    alternatives x 4 criteria example; printed entropy weights 0.1146, 0.1981, 0.4185, 0.2689 (as
    transcribed in pyrepo-mcda's tests). Shares of the raw values, as in the paper."""
    x = [[3.0, 100, 10, 7], [2.5, 80, 8, 5], [1.8, 50, 20, 11], [2.2, 70, 12, 9]]
    assert [round(float(w), 4) for w in entropy_from_shares(x)] == [0.1146, 0.1981, 0.4185, 0.2689]


TUS_ADALI = [
    [5000, 3, 3, 4, 3, 2],
    [680, 5, 3, 2, 2, 1],
    [2000, 3, 2, 3, 4, 3],
    [600, 4, 3, 1, 2, 2],
    [800, 2, 4, 3, 3, 4],
]


def test_critic_tus_aytac_adali_2019():
    """Tuş, A. & Aytaç Adalı, E. (2019). "The new combination with CRITIC and WASPAS methods for the time
    and attendance software selection problem." Opsearch 56(2):528-538, doi:10.1007/s12597-019-00371-6:
    5 alternatives x 6 criteria; printed CRITIC weights 0.157, 0.249, 0.168, 0.121, 0.154, 0.151 (data and
    weights as transcribed in pyrepo-mcda's tests). Those digits come out when every column is min-max
    normalised as higher-is-better, which is what this test does; with the price column (C1) normalised
    as a cost the weights would be 0.184, 0.213, ... (not what the paper prints)."""
    cols = [Column(f"C{j + 1}", "up", tuple(float(r[j]) for r in TUS_ADALI)) for j in range(6)]
    w = objective_weights(cols, "critic").weights
    assert [round(w[f"C{j + 1}"], 3) for j in range(6)] == [0.157, 0.249, 0.168, 0.121, 0.154, 0.151]


def test_critic_reference_implementation_mcdm_crate():
    """The CRITIC test of the Rust crate mcdm 0.4.0 (akrutsinger/mcdm, tests/weighting.rs, critic_tests):
    3 x 4 matrix, min-max normalised as profits, expected weights 0.22514451, 0.21769531, 0.24375671,
    0.31340347 (epsilon 1e-5 there; they agree to all 8 printed digits here)."""
    x = np.array([[2.9, 2.31, 0.56, 1.89], [1.2, 1.34, 0.21, 2.48], [0.3, 2.48, 1.75, 1.69]])
    r = (x - x.min(axis=0)) / (x.max(axis=0) - x.min(axis=0))
    assert [round(float(v), 8) for v in critic_from_normalised(r)] == [0.22514451, 0.21769531, 0.24375671, 0.31340347]


# --------------------------------------------------------------------------------------------------
# Hand-computed cases: normalisation, missing values, constant indicators
# --------------------------------------------------------------------------------------------------


def test_normalise_directions_and_target_band():
    # up: (x - min) / (max - min); down: (max - x) / (max - min); None stays out
    assert normalise(Column("U", "up", (1.0, 2.0, 3.0, None))).tolist()[:3] == [0.0, 0.5, 1.0]
    assert math.isnan(normalise(Column("U", "up", (1.0, 2.0, 3.0, None)))[3])
    assert normalise(Column("D", "down", (10.0, 10.0, 30.0, 20.0))).tolist() == [1.0, 1.0, 0.0, 0.5]
    # target band [0.8, 1.0]: distances 0, 0.1, 0.2, 0 -> (0.2 - d) / 0.2
    got = normalise(Column("T", "target", (0.9, 0.7, 1.2, 0.8), band=(0.8, 1.0))).tolist()
    assert got == pytest.approx([1.0, 0.5, 0.0, 1.0], abs=1e-12)
    # a missing value of a target indicator stays missing (NaN is neither below nor above the band)
    assert math.isnan(normalise(Column("T", "target", (0.9, None, 1.2), band=(0.8, 1.0)))[1])


def test_entropy_min_max_missing_left_out_constant_zero():
    """A (up) 1, 2, 3, missing -> 0, 1/2, 1 over n = 3: shares 0, 1/3, 2/3, -sum p ln p = ln 3 - (2/3) ln 2,
    so d_A = (2/3) ln 2 / ln 3. B (down) 10, 10, 30, 20 -> 1, 1, 0, 1/2: shares 0.4, 0.4, 0, 0.2 over n = 4,
    d_B = 1 - (0.8 ln 2.5 + 0.2 ln 5) / ln 4. C constant -> 0 with a note."""
    cols = [
        Column("A", "up", (1.0, 2.0, 3.0, None)),
        Column("B", "down", (10.0, 10.0, 30.0, 20.0)),
        Column("C", "up", (5.0, 5.0, 5.0, 5.0)),
    ]
    res = objective_weights(cols, "entropy")
    d_a = (2 / 3) * math.log(2) / math.log(3)
    d_b = 1 - (0.8 * math.log(2.5) + 0.2 * math.log(5)) / math.log(4)
    assert res.weights["A"] == pytest.approx(d_a / (d_a + d_b), abs=1e-12)
    assert res.weights["B"] == pytest.approx(d_b / (d_a + d_b), abs=1e-12)
    assert round(res.weights["A"], 6) == 0.637635
    assert res.weights["C"] == 0.0 and "zero variance" in res.notes["C"]
    assert res.n == {"A": 3, "B": 4, "C": 4}
    # imputing the missing value as 0 would have made A's worst provider the missing one: not done
    imputed = objective_weights([Column("A", "up", (1.0, 2.0, 3.0, 0.0)), cols[1], cols[2]], "entropy")
    assert imputed.weights["A"] != pytest.approx(res.weights["A"], abs=1e-3)


def test_critic_pairs_with_too_few_shared_providers_count_as_uncorrelated():
    """X is known for providers 1-3, Y for 3-5 (one shared provider, fewer than 3): r = 0, so C = sigma.
    X -> 0, 1, 1/2: sigma_X = sqrt(1/6). Y 0, 1, 1/4: mean 5/12, sigma_Y^2 = ((5/12)^2 + (7/12)^2 +
    (2/12)^2) / 3 = 78/432."""
    nan = None
    x = Column("X", "up", (0.0, 1.0, 0.5, nan, nan))
    y = Column("Y", "up", (nan, nan, 0.0, 1.0, 0.25))
    res = objective_weights([x, y], "critic")
    sx, sy = math.sqrt(1 / 6), math.sqrt(78 / 432)
    assert res.weights["X"] == pytest.approx(sx / (sx + sy), abs=1e-12)
    assert res.n == {"X": 3, "Y": 3}


def test_critic_constant_indicator_gets_zero_and_stays_out_of_the_sums():
    cols = [Column(f"C{j + 1}", "up", tuple(float(r[j]) for r in TUS_ADALI)) for j in range(6)]
    flat = Column("K", "down", (2.0,) * 5)
    res = objective_weights([*cols, flat], "critic")
    assert res.weights["K"] == 0.0 and "zero variance" in res.notes["K"]
    # the other weights are those of the published example without K
    assert [round(res.weights[f"C{j + 1}"], 3) for j in range(6)] == [0.157, 0.249, 0.168, 0.121, 0.154, 0.151]


# --------------------------------------------------------------------------------------------------
# Combination with AHP
# --------------------------------------------------------------------------------------------------

AHP = {"a": 0.6, "b": 0.4}
OBJ = {"a": 0.2, "b": 0.8}


def test_linear_combination():
    c = combine(AHP, OBJ, "linear", 0.25)  # 0.25 * 0.6 + 0.75 * 0.2 = 0.3
    assert c.weights == pytest.approx({"a": 0.3, "b": 0.7}, abs=1e-15)
    assert c.coefficients == (0.25, 0.75)
    with pytest.raises(ValueError, match="alpha"):
        combine(AHP, OBJ, "linear", None)


def test_multiplicative_combination():
    c = combine(AHP, OBJ, "multiplicative")  # 0.12 and 0.32 over 0.44
    assert c.weights == pytest.approx({"a": 0.12 / 0.44, "b": 0.32 / 0.44}, abs=1e-15)


def test_game_theory_combination():
    """a = (0.6, 0.4), o = (0.2, 0.8): a.a = 0.52, a.o = 0.44, o.o = 0.68; [0.52 0.44; 0.44 0.68] c =
    [0.52; 0.68] gives det 0.16, c = (0.34, 0.78), normalised (17/56, 39/56); w_a = (17 x 0.6 + 39 x 0.2)
    / 56 = 18/56."""
    c = combine(AHP, OBJ, "game")
    assert c.coefficients == pytest.approx((17 / 56, 39 / 56), abs=1e-12)
    assert c.weights == pytest.approx({"a": 18 / 56, "b": 38 / 56}, abs=1e-12)
    # identical inputs: the system is singular, both coefficients 1/2, the weights unchanged
    same = combine(AHP, AHP, "game")
    assert same.coefficients == (0.5, 0.5) and same.weights == pytest.approx(AHP, abs=1e-15)


# --------------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------------

values = st.one_of(st.none(), st.floats(min_value=-1e3, max_value=1e3, allow_nan=False).map(lambda v: round(v, 3)))


@st.composite
def matrices(draw):
    n = draw(st.integers(min_value=3, max_value=10))
    k = draw(st.integers(min_value=2, max_value=5))
    cols = []
    for j in range(k):
        direction = draw(st.sampled_from(["up", "down", "target"]))
        vals = tuple(draw(st.lists(values, min_size=n, max_size=n)))
        cols.append(Column(f"I{j}", direction, vals, band=(0.0, 10.0) if direction == "target" else None))
    perm = draw(st.permutations(range(n)))
    return cols, perm


@settings(max_examples=150, deadline=None)
@given(matrices(), st.sampled_from(["entropy", "critic"]))
def test_weights_sum_to_one_non_negative_and_ignore_provider_order(case, method):
    cols, perm = case
    res = objective_weights(cols, method)
    w = np.array(list(res.weights.values()))
    assert np.all(w >= 0)
    assert w.sum() == pytest.approx(1.0, abs=1e-12) or w.sum() == 0.0
    for c in cols:
        used = [v for v in c.values if v is not None]
        if c.code in res.notes:
            assert res.weights[c.code] == 0.0
        if len(set(used)) <= 1:  # constant or too few: weight 0
            assert res.weights[c.code] == 0.0 and c.code in res.notes
    shuffled = [Column(c.code, c.direction, tuple(c.values[i] for i in perm), c.band) for c in cols]
    again = objective_weights(shuffled, method)
    assert again.weights == pytest.approx(res.weights, abs=1e-12)
    assert again.n == res.n


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.floats(min_value=0.01, max_value=1.0), min_size=2, max_size=8),
    st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=8, max_size=8),
    st.sampled_from(["linear", "multiplicative", "game"]),
    st.floats(min_value=0.0, max_value=1.0),
)
def test_combined_weights_sum_to_one_and_non_negative(a, o, method, alpha):
    ahp = {f"I{j}": v for j, v in enumerate(a)}
    obj = {f"I{j}": o[j] for j in range(len(a))}
    if sum(obj.values()) == 0:
        obj["I0"] = 1.0
    c = combine(ahp, obj, method, alpha if method == "linear" else None)
    w = np.array(list(c.weights.values()))
    assert np.all(w >= 0) and w.sum() == pytest.approx(1.0, abs=1e-12)


# --------------------------------------------------------------------------------------------------
# `pingyi weights --results`
# --------------------------------------------------------------------------------------------------


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _weights_json(cli, *args) -> dict:
    r = cli("weights", "--json", *args)
    assert r.exit_code == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


def test_weights_results_side_by_side(cli, small_example):
    out = small_example.out
    doc = _weights_json(cli, "--results", out)
    c = doc["compared"]
    src = c["source"]
    results = small_example.results
    assert src["results_sha256"] == _sha(out / "results.json")
    assert src["manifest_sha256"] == _sha(out / "manifest.json") and src["manifest_lists_this_results"] is True
    assert src["year"] == results["year"] and src["providers"] == len(results["providers"])
    rows = {r["id"]: r for r in c["indicators"]}
    assert len(rows) == 35
    for key in ("ahp", "entropy", "critic", "combined"):
        assert sum(r[key] for r in rows.values()) == pytest.approx(1.0, abs=1e-9)
    # n: the providers whose value of the indicator was scored, counted here from results.json
    for code, row in rows.items():
        n = sum(
            1
            for p in results["providers"]
            for i in p["indicators"]
            if i["code"] == code and i["status"] == "scored" and i["value"] is not None
        )
        assert row["n"] == (0 if code == "D2.01" else n), code
    assert rows["D2.01"]["ahp"] == rows["D2.01"]["entropy"] == rows["D2.01"]["combined"] == 0.0
    assert "monitor only" in rows["D2.01"]["note"]
    # no combination declared: game theory, reported as such and not used in scores
    assert c["combination"]["declared"] is False and c["combination"]["method"] == "game"
    assert c["combination"]["used_in_scores"] is False
    text = cli("weights", "--results", out, "--method", "critic")
    assert text.exit_code == 0, text.stderr
    assert "entropy" in text.stdout and "CRITIC" in text.stdout and src["results_sha256"] in text.stdout
    assert "with critic weights" in text.stdout


def test_weights_results_ignore_provider_order(cli, small_example, tmp_path):
    out = tmp_path / "shuffled"
    shutil.copytree(small_example.out, out)
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    random.Random(7).shuffle(doc["providers"])
    (out / "results.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    base = _weights_json(cli, "--results", small_example.out)["compared"]
    moved = _weights_json(cli, "--results", out)["compared"]
    assert moved["indicators"] == base["indicators"]
    assert moved["source"]["manifest_lists_this_results"] is False  # the edited file is not the one scored


def test_declared_linear_combination(cli, small_example, tmp_path):
    project = tmp_path / "project"
    assert cli("init", project).exit_code == 0
    h = project / "indicators" / "hierarchy.yaml"
    h.write_text(
        h.read_text(encoding="utf-8")
        + "combination: {objective: critic, method: linear, alpha: 0.7, source: committee minutes 2025-03}\n",
        encoding="utf-8",
    )
    c = _weights_json(cli, "--project", project, "--results", small_example.out)["compared"]
    assert c["objective_method"] == "critic" and c["combination"]["declared"] is True
    assert c["combination"]["alpha"] == 0.7
    for row in c["indicators"]:
        assert row["combined"] == pytest.approx(0.7 * row["ahp"] + 0.3 * row["critic"], abs=1e-12), row["id"]


def test_weights_method_errors(cli, small_example):
    r = cli("weights", "--method", "critic")
    assert r.exit_code == 2 and "--results" in r.stderr
    r = cli("weights", "--results", small_example.out, "--method", "topsis")
    assert r.exit_code == 2 and "entropy, critic" in r.stderr


def test_weights_results_output_is_deterministic(cli, small_example):
    first = cli("weights", "--json", "--results", small_example.out)
    second = cli("weights", "--json", "--results", small_example.out)
    assert first.exit_code == second.exit_code == 0
    assert first.stdout == second.stdout
