"""The sources of uncertainty beyond the weights, each against a hand-computed or closed-form expectation:
the per-expert bootstrap of the AHP weights (which resamples give which weights, how often), the survey
share's sampling error (grade probabilities from the Jeffreys posterior, strictly between 0 and 1 with a
small denominator, near the deterministic grade with a huge one, one half on the boundary), the derived
baseline's order-statistic draw and its guardrail, the funnel overdispersion mode that moves no score,
and the whole run on the small example (cells reproduce their scores, Sobol first order <= total)."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from conftest import MINI, shipped
from pingyi.score.funnel import FunnelFit
from pingyi.score.indicator import score_indicator
from pingyi.uncertainty.cells import BaselineGroup, Cells, Column, draw_baselines, find_cells
from pingyi.uncertainty.model import Model, monte_carlo
from pingyi.uncertainty.run import build_inputs, combiner, scheme_weights
from pingyi.uncertainty.simulate import Inputs, summarise
from pingyi.validate import validate_project
from pingyi.weights.bootstrap import ExpertBootstrap

BANDS = (("优秀", 90.0), ("良好", 80.0), ("合格", 60.0), ("不合格", 0.0))
# a second D1 expert whose consistent judgements reverse E1's 4 : 2 : 1
E2_REVERSED = (
    '        - ["1/4", "1/2", 1]\nindicators:',
    '        - ["1/4", "1/2", 1]\n    - expert: E2\n      date: 2025-01-11\n      matrix:\n'
    '        - [1, "1/2", "1/4"]\n        - [2, 1, "1/2"]\n        - [4, 2, 1]\nindicators:',
)


def mini_with_two_d1_experts(tmp_path: Path):
    root = tmp_path / "project"
    shutil.copytree(MINI, root)
    path = root / "indicators" / "D1_cost.yaml"
    text = path.read_text(encoding="utf-8")
    assert E2_REVERSED[0] in text
    path.write_text(text.replace(*E2_REVERSED), encoding="utf-8")
    checked = validate_project(root)
    assert checked.tree is not None and not checked.issues.errors
    return checked


def test_expert_resamples_give_the_hand_computed_weights(tmp_path):
    checked = mini_with_two_d1_experts(tmp_path)
    codes = ("D1.01", "D1.02", "D1.03", "D2.01", "D2.02")
    boot = ExpertBootstrap.from_project(checked.project, checked.tree, codes)
    assert boot.panel_sizes() == {"root": 2, "D1": 2, "D2": 1}
    # root: E1 says D1 = 3 x D2 (3/4, 1/4), E2 says 2 x (2/3, 1/3); both: sqrt(6) x
    g = math.sqrt(6)
    root = {(0, 0): 3 / 4, (1, 1): 2 / 3, (0, 1): g / (1 + g)}
    # D1: E1 alone 4/7, 2/7, 1/7; E2 alone 1/7, 2/7, 4/7; both: every geometric mean is 1, so 1/3 each
    d1 = {(0, 0): (4 / 7, 2 / 7, 1 / 7), (1, 1): (1 / 7, 2 / 7, 4 / 7), (0, 1): (1 / 3, 1 / 3, 1 / 3)}
    d2 = [s.local_weight for s in checked.tree.primary[1].secondary]
    for rk, rw in root.items():
        for dk, dw in d1.items():
            got = boot.weights_of({"root": rk, "D1": dk})
            expected = [rw * w for w in dw] + [(1 - rw) * w for w in d2]
            assert got == pytest.approx(expected, abs=1e-9), (rk, dk)
    # the whole panel once each is the tree's own weights
    assert boot.weights_of({"root": (0, 1), "D1": (1, 0)}) == pytest.approx(
        [checked.tree.carried_weights()[c] for c in codes], abs=1e-12
    )
    # drawn with replacement: both experts the same with probability 1/2, (E1, E2) mixed 1/2
    picks, weights = boot.draw(np.random.default_rng(7), 4000)
    assert weights.shape == (4000, 5)
    mixed = np.mean([sorted(p["D1"]) == [0, 1] for p in picks])
    assert mixed == pytest.approx(0.5, abs=0.03)
    assert np.isclose(weights[:, 0] / weights[:, :3].sum(axis=1), 1 / 3).mean() == pytest.approx(0.5, abs=0.03)
    assert "D2" not in picks[0]  # one expert: nothing to resample


def test_excluded_experts_are_not_resampled(tmp_path):
    checked = mini_with_two_d1_experts(tmp_path)
    # E2 inconsistent instead, and the policy excludes such experts: the D1 panel is E1 alone
    root = checked.project.root
    path = root / "indicators" / "D1_cost.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('        - [1, "1/2", "1/4"]\n        - [2, 1, "1/2"]\n        - [4, 2, 1]',
                                 '        - [1, 3, "1/5"]\n        - ["1/3", 1, 3]\n        - [5, "1/3", 1]'),
                    encoding="utf-8")  # fmt: skip
    hier = root / "indicators" / "hierarchy.yaml"
    hier.write_text(hier.read_text(encoding="utf-8").replace("aggregation: aij}", "aggregation: aij, expert_cr: exclude}"),
                    encoding="utf-8")  # fmt: skip
    again = validate_project(root)
    assert again.tree is not None
    boot = ExpertBootstrap.from_project(again.project, again.tree, ("D1.01", "D1.02", "D1.03", "D2.01", "D2.02"))
    assert boot.panel_sizes()["D1"] == 1 and not boot.panels["D1"].varies


def survey_column(value: float, n: float) -> Column:
    spec = shipped().project.indicators["D6.01"]  # up, baseline 0.85, absolute bands, yellow 0: any gap < 80
    nan = np.array([np.nan])
    return Column(0, spec, np.array([0]), np.array([value]), np.array([0.85]), nan, nan, np.array([n]),
                  np.array([n]), None)  # fmt: skip


def survey_grade_probability(value: float, n: float, samples: int = 4000) -> float:
    """P(优秀) of a provider scored on D6.01 alone: 100 points (优秀) at or above 0.85, under 80 below."""
    col = survey_column(value, n)
    recorded = score_indicator(col.spec, value, 0.85, volume=n).score
    inputs = Inputs(("D6.01",), (0,), np.array([[recorded]]), BANDS, (None,))
    model = Model(
        inputs, ("ahp",), {"ahp": np.array([1.0])}, None, None, Cells((col,), 0, ()), False, True, 0.0, ("D6",)
    )
    summary = summarise(inputs, monte_carlo(model, samples, seed=3))
    return float(summary.grade_probability[0, 0])


def test_a_survey_share_near_a_boundary_small_sample_uncertain_large_sample_sure():
    # 87 % satisfied is 优秀 as reported; 100 questionnaires leave P(share >= 0.85) = P(Beta(87.5, 13.5) >= 0.85)
    expected = stats.beta.sf(0.85, 0.87 * 100 + 0.5, 0.13 * 100 + 0.5)  # 0.7043
    small = survey_grade_probability(0.87, 100)
    assert 0 < small < 1 and small == pytest.approx(expected, abs=0.025)
    assert survey_grade_probability(0.87, 1_000_000) >= 0.999  # the reported grade, near certainly


def test_a_survey_share_exactly_on_the_boundary_is_a_coin_toss():
    expected = stats.beta.sf(0.85, 340.5, 60.5)  # 0.4935
    got = survey_grade_probability(0.85, 400)
    assert got == pytest.approx(expected, abs=0.025) and got == pytest.approx(0.5, abs=0.04)


def baseline_column(cap: float | None) -> Column:
    spec = shipped().project.indicators["D1.02"]  # down, relative bands
    # the median of 5 providers (k = 3, U ~ Beta(3, 3)) over a spread whose quantile function is Q(u) = u
    group = BaselineGroup("east", "三级", np.array([0, 1]), statistic=0.5, previous=0.5, ageing=0.0, cap=cap,
                          k=3.0, n=5, spread=np.linspace(0.0, 1.0, 1001))  # fmt: skip
    two = np.array([0.1, 0.2])
    nan = np.full(2, np.nan)
    return Column(0, spec, np.array([0, 1]), two, np.array([0.5, 0.5]), nan, nan, nan, nan, None, (group,))


def test_a_derived_median_is_drawn_from_its_order_statistic():
    draws = draw_baselines(baseline_column(None), np.random.default_rng(1), 20000)
    assert np.all(draws[:, 0] == draws[:, 1])  # one baseline serves the region and level
    moved = draws[:, 0] - 0.5  # = U - 1/2, U ~ Beta(3, 3): mean 0, variance 9 / (36 x 7)
    assert moved.mean() == pytest.approx(0.0, abs=0.005)
    assert moved.std() == pytest.approx(math.sqrt(9 / 252), rel=0.03)
    assert np.quantile(moved, 0.95) == pytest.approx(stats.beta.ppf(0.95, 3, 3) - 0.5, abs=0.01)


def test_a_capped_baseline_stays_within_its_guardrail():
    draws = draw_baselines(baseline_column(0.1), np.random.default_rng(1), 20000)[:, 0]
    assert draws.min() >= 0.4 - 1e-12 and draws.max() <= 0.6 + 1e-12
    at_cap = np.mean(np.isclose(np.abs(draws - 0.5), 0.1))
    assert at_cap == pytest.approx(1 - 0.36512, abs=0.01)  # P(|U - 1/2| >= 0.1), U ~ Beta(3, 3)


def test_the_funnel_overdispersion_mode_moves_no_score_or_light():
    spec = shipped().project.indicators["D2.02"]  # funnel lights, funnel_score beyond_95
    fits = [FunnelFit("D2.02", "proportion", mode, mode, 3.0, 0.002, 20, 0.1, "") for mode in ("none", "phi", "tau2")]
    for value, n in ((0.004, 150.0), (0.02, 900.0), (0.0001, 5000.0)):
        got = {(r.score, r.light) for r in (score_indicator(spec, value, 0.0005, volume=n, funnel=f) for f in fits)}
        assert len(got) == 1, (value, n, got)
        zs = {score_indicator(spec, value, 0.0005, volume=n, funnel=f).detail["funnel_z"] for f in fits}
        assert len(zs) == 3  # while the z-scores do differ


def test_every_survey_cell_of_the_example_reproduces_its_score(small_example):
    valid = shipped()
    doc = small_example.results
    inputs = build_inputs(valid.project, doc)
    cells = find_cells(valid.project, doc, inputs.codes)
    assert cells.frozen == 0 and cells.survey_cells() > 0
    assert cells.funnels == ("D2.02", "D2.03", "D2.04")
    weights, compared = scheme_weights(valid.project, valid.tree, doc, inputs.codes)
    # the combination recomputed from AHP weights is the one `pingyi weights` shows
    assert combiner(compared, inputs.codes)(weights["ahp"]) == pytest.approx(weights["combined"], abs=1e-12)
    boot = ExpertBootstrap.from_project(valid.project, valid.tree, inputs.codes)
    assert boot.weights_of({}) == pytest.approx(weights["ahp"], abs=1e-12)


def test_every_source_in_one_run(cli, small_example, tmp_path):
    r = cli("uncertainty", "--results", small_example.out, "--out", tmp_path / "u", "--samples", "300",
            "--noise", "0", "--schemes", "ahp", "--sobol-samples", "32", "--seed", "5")  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert "expert resampling" in r.stdout and "survey sampling error" in r.stdout
    doc = json.loads((tmp_path / "u" / "uncertainty.json").read_text(encoding="utf-8"))
    assert doc["sources"]["experts"]["sampled"] and doc["sources"]["survey"]["sampled"]
    assert doc["sources"]["experts"]["panels"] == {"root": 5, **{f"D{k}": 3 for k in range(1, 9)}}
    assert doc["sources"]["experts"]["screened"] == []  # every shipped expert's CR is under 0.10
    assert not doc["sources"]["baselines"]["sampled"]  # the shipped baselines are set by policy
    indices = doc["sobol"]["indices"]
    assert list(indices) == ["weighting scheme", "expert judgements", "survey sampling error",
                             "funnel overdispersion mode"]  # fmt: skip
    for name, s in indices.items():
        assert s["consistent"] and s["first_order"] <= s["total"] + 0.05, (name, s)
    assert indices["expert judgements"]["total"] > 0.05  # with AHP only and no noise, the experts move ranks
    assert indices["weighting scheme"]["total"] == 0.0  # one scheme: nothing to choose
    assert "funnel overdispersion mode" in doc["sobol"]["notes"]
    # without the other sources the run's totals come back exactly
    r = cli("uncertainty", "--results", small_example.out, "--out", tmp_path / "none", "--samples", "20",
            "--noise", "0", "--schemes", "ahp", "--sobol-samples", "8", "--sources", "none")  # fmt: skip
    assert r.exit_code == 0, r.stderr
    runs = {p["fixmedins_code"]: p for p in small_example.results["providers"]}
    for p in json.loads((tmp_path / "none" / "uncertainty.json").read_text(encoding="utf-8"))["providers"]:
        if p["total_p5"] is not None:
            assert p["total_p5"] == p["total_p95"] == pytest.approx(runs[p["fixmedins_code"]]["total_score"], abs=1e-3)
    r = cli("uncertainty", "--results", small_example.out, "--out", tmp_path / "bad", "--sources", "magic")
    assert r.exit_code == 2 and "--sources magic" in r.stderr


def test_derived_baselines_are_drawn_and_rescored(cli, small_example, small_bundle, tmp_path):
    """The shipped project with this year's baselines derived from the small example itself (median of
    each region and level, at least 2 providers, moves capped at ±30 %): scored again, every derived cell
    that serves a scored provider is drawn, its indicator re-scored, and the totals move."""
    from pingyi.run.evaluate import evaluate_to
    from pingyi.spec.project import copy_project, default_project_dir

    project_dir = tmp_path / "project"
    copy_project(default_project_dir(), project_dir)
    r = cli("baselines", "derive", "--results", small_example.out, "--year", "2025", "--min-providers", "2",
            "--max-change", "0.3", "--out", tmp_path / "project" / "baselines" / "2025.yaml",
            "--project", tmp_path / "project")  # fmt: skip
    assert r.exit_code == 0, r.stderr
    out = tmp_path / "results"
    evaluate_to(small_bundle, project_dir, None, None, out)
    r = cli("uncertainty", "--results", out, "--out", tmp_path / "u", "--samples", "200", "--noise", "0",
            "--schemes", "ahp", "--sources", "baselines", "--sobol-samples", "32", "--seed", "2")  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert "derived baselines (" in r.stdout
    doc = json.loads((tmp_path / "u" / "uncertainty.json").read_text(encoding="utf-8"))
    assert doc["sources"]["baselines"]["sampled"] and doc["sources"]["baselines"]["cells"] > 0
    assert not doc["sources"]["experts"]["sampled"] and not doc["sources"]["survey"]["sampled"]
    moved = [p for p in doc["providers"] if p["total_p5"] is not None and p["total_p95"] > p["total_p5"]]
    assert moved, "a drawn baseline moves some total"
    s = doc["sobol"]["indices"]["baselines"]
    # one factor: S1 = ST = 1 in theory; the estimates agree within their bootstrap half-widths
    assert s["total"] > 0.5 and s["consistent"]


def test_the_vector_rescoring_equals_score_indicator_on_drawn_inputs(small_example):
    from pingyi.uncertainty.cells import draw_values, rescore, score_cells_scalar

    valid = shipped()
    inputs = build_inputs(valid.project, small_example.results)
    cells = find_cells(valid.project, small_example.results, inputs.codes)
    rng = np.random.default_rng(4)
    for c in cells.columns:
        values = draw_values(c, rng, 50)
        bases = np.tile(c.baseline, (50, 1)) * rng.uniform(0.8, 1.2, size=(50, 1))
        k = values.shape[0]
        expected = score_cells_scalar(c.spec, values, bases, np.tile(c.benchmark, (k, 1)), np.tile(c.prior, (k, 1)),
                                      np.tile(c.volume, (k, 1)), c.fit)  # fmt: skip
        assert np.array_equal(rescore(c, values, bases), expected, equal_nan=True), c.spec.code
