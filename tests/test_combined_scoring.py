"""Scores with the combined weights: a project that declares `combination:` in indicators/hierarchy.yaml
aggregates its totals with the combination of its AHP weights and the objective (entropy or CRITIC)
weights of the run's own scored values; results.json says which weights were used, and `pingyi
weights --results` on the run reports the same combined weights and that the scores used them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from test_objective_weights import _weights_json


def project_with(cli, tmp_path: Path, combination: str | None) -> Path:
    project = tmp_path / "project"
    assert cli("init", project).exit_code == 0
    if combination:
        h = project / "indicators" / "hierarchy.yaml"
        h.write_text(h.read_text(encoding="utf-8") + f"combination: {combination}\n", encoding="utf-8")
    return project


def score(cli, bundle: Path, project: Path, out: Path) -> dict:
    r = cli("score", "--data", bundle, "--project", project, "--out", out)
    assert r.exit_code == 0, r.stderr
    return json.loads((out / "results.json").read_text(encoding="utf-8"))


def recomputed_total(doc: dict, provider: dict, weights: dict[str, float]) -> float | None:
    """The total from the manual's aggregation with the combined weights w results.json reports: a
    dimension's score is Σ w_i s_i / Σ w_i over its scored indicators; the total is Σ W_d S_d / Σ W_d
    over the dimensions with a score, W_d the sum of the weights of the dimension's indicators."""
    dimension = {i["code"]: i["primary"] for i in doc["indicators"]}
    scores = {i["code"]: i["score"] for i in provider["indicators"]}
    weight_of: dict[str, float] = {}
    sums: dict[str, list[float]] = {}
    for code, w in weights.items():
        d = dimension[code]
        weight_of[d] = weight_of.get(d, 0.0) + w
        if scores.get(code) is not None and w > 0:
            acc = sums.setdefault(d, [0.0, 0.0])
            acc[0] += w * scores[code]
            acc[1] += w
    scored = {d: num / den for d, (num, den) in sums.items() if den > 0}
    total_weight = sum(weight_of[d] for d in scored)
    if not scored or total_weight <= 0:
        return None
    return sum(weight_of[d] * v for d, v in scored.items()) / total_weight


def test_no_combination_keeps_the_ahp_weights(cli, small_example):
    doc = json.loads((small_example.out / "results.json").read_text(encoding="utf-8"))
    assert doc["weighting"] is None
    c = _weights_json(cli, "--results", small_example.out)["compared"]
    assert c["combination"]["used_in_scores"] is False


@pytest.mark.parametrize(
    "combination",
    [
        "{objective: entropy, method: linear, alpha: 0.0, source: test}",
        "{objective: critic, method: linear, alpha: 0.6, source: test}",
        "{objective: entropy, method: multiplicative, source: test}",
        "{objective: critic, method: game, source: test}",
    ],
)
def test_totals_use_the_combined_weights(cli, small_bundle, tmp_path, combination):
    project = project_with(cli, tmp_path, combination)
    out = tmp_path / "results"
    doc = score(cli, small_bundle, project, out)
    weighting = doc["weighting"]
    assert weighting["combination"]["used_in_scores"] is True and weighting["providers"] == len(doc["providers"])
    weights = {i["id"]: i["combined"] for i in weighting["indicators"]}
    assert sum(weights.values()) == pytest.approx(1.0, abs=1e-8)
    # the catalogue's nominal weights are the combined ones
    assert {i["code"]: i["nominal_weight"] for i in doc["indicators"]} == pytest.approx(weights, abs=1e-6)
    checked = 0
    for p in doc["providers"]:
        expected = recomputed_total(doc, p, weights)
        if expected is not None and p["total_score"] is not None:
            assert p["total_score"] == pytest.approx(expected, abs=1e-3), p["fixmedins_code"]
            checked += 1
    assert checked, "some provider has every weighted indicator scored"
    # pingyi weights --results computes the same combination from the same values, and says it was used
    c = _weights_json(cli, "--project", project, "--results", out)["compared"]
    assert c["combination"]["used_in_scores"] is True
    for row in c["indicators"]:
        assert row["combined"] == pytest.approx(weights[row["id"]], abs=1e-6), row["id"]


def test_alpha_one_is_the_ahp_scoring(cli, small_bundle, small_example, tmp_path):
    project = project_with(cli, tmp_path, "{objective: entropy, method: linear, alpha: 1.0, source: test}")
    doc = score(cli, small_bundle, project, tmp_path / "results")
    ahp = json.loads((small_example.out / "results.json").read_text(encoding="utf-8"))
    got = {p["fixmedins_code"]: (p["total_score"], p["grade"]) for p in doc["providers"]}
    for p in ahp["providers"]:
        total, grade = got[p["fixmedins_code"]]
        assert grade == p["grade"]
        assert (total is None) == (p["total_score"] is None)
        if total is not None:
            assert total == pytest.approx(p["total_score"], abs=1e-6)


def test_a_combined_run_verifies(cli, small_bundle, tmp_path):
    project = project_with(cli, tmp_path, "{objective: entropy, method: linear, alpha: 0.5, source: test}")
    out = tmp_path / "results"
    score(cli, small_bundle, project, out)
    r = cli("verify", out)
    assert r.exit_code == 0, r.stdout + r.stderr
