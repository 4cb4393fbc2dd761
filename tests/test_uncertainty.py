"""`pingyi uncertainty`: the Monte Carlo re-aggregates the run's indicator scores exactly as the score
stage does (no noise, AHP only, no other source: every total and rank is the run's), is byte-identical for a seed,
gives a provider on a grade boundary a probability near one half, keeps grades the total does not
decide, and reports Sobol indices with first order <= total."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from pingyi.uncertainty.simulate import Inputs, draw, ranks, sobol_indices, summarise, totals

BANDS = (("优秀", 90.0), ("良好", 80.0), ("合格", 60.0), ("不合格", 0.0))


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_without_noise_the_ahp_totals_and_ranks_are_the_runs(cli, small_example, tmp_path):
    r = cli("uncertainty", "--results", small_example.out, "--out", tmp_path / "u", "--samples", "50",
            "--noise", "0", "--schemes", "ahp", "--sobol-samples", "16", "--sources", "none")  # fmt: skip
    assert r.exit_code == 0, r.stderr
    doc = json.loads((small_example.out / "results.json").read_text(encoding="utf-8"))
    runs = {p["fixmedins_code"]: p for p in doc["providers"]}
    got = json.loads((tmp_path / "u" / "uncertainty.json").read_text(encoding="utf-8"))["providers"]
    assert len(got) == len(runs)
    for p in got:
        run = runs[p["fixmedins_code"]]
        if run["total_score"] is None:
            assert p["total_p50"] is None
            continue
        for q in ("total_p5", "total_p50", "total_p95"):
            assert p[q] == pytest.approx(run["total_score"], abs=1e-3), (p["fixmedins_code"], q)
        assert p["rank_p5"] == p["rank_p95"] == run["rank"], p["fixmedins_code"]
        assert p["p_assigned_grade"] == 1.0 and not p["uncertain"]


def test_same_seed_same_bytes_another_seed_other_numbers(cli, small_example, tmp_path):
    args = ("uncertainty", "--results", small_example.out, "--samples", "200", "--sobol-samples", "16")
    for name, seed in (("a", "3"), ("b", "3"), ("c", "4")):
        assert cli(*args, "--out", tmp_path / name, "--seed", seed).exit_code == 0
    for f in ("uncertainty.csv", "uncertainty.json"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()
    assert (tmp_path / "a" / "uncertainty.csv").read_bytes() != (tmp_path / "c" / "uncertainty.csv").read_bytes()
    table = rows(tmp_path / "a" / "uncertainty.csv")
    for row in table:  # every provider with a total has an interval and grade probabilities summing to 1
        if row["total_score"]:
            assert float(row["total_p5"]) <= float(row["total_p50"]) <= float(row["total_p95"])
            assert float(row["rank_p5"]) <= float(row["rank_p95"])
        assert sum(float(row[f"p_{b}"]) for b, _ in BANDS) == pytest.approx(1.0, abs=1e-6)


def boundary_inputs() -> Inputs:
    # one dimension, two indicators scoring 80 and 100: with equal weights the total is exactly 90, and
    # swapping the two i.i.d. multipliers mirrors the total around 90, so P(total >= 90) = 1/2
    scores = np.array([[80.0, 100.0], [100.0, 100.0], [40.0, 50.0]])
    return Inputs(("A", "B"), (0, 0), scores, BANDS, (None, None, "不合格"))


def test_a_provider_on_a_grade_boundary_is_a_coin_toss():
    inputs = boundary_inputs()
    draws = draw([np.array([0.5, 0.5])], 4000, 0.2, seed=11)
    total = totals(inputs, draws.weights)
    summary = summarise(inputs, total)
    assert summary.grade_probability[0, 0] == pytest.approx(0.5, abs=0.03)  # 优秀 or 良好, half each
    assert summary.grade_probability[0, 0] + summary.grade_probability[0, 1] == pytest.approx(1.0)
    assert summary.grade_probability[1, 0] == 1.0  # 100 whatever the weights
    # a grade the total does not decide (here: set as if vetoed) is certain
    assert list(summary.grade_probability[2]) == [0.0, 0.0, 0.0, 1.0]
    assert summary.total[0, 1] == pytest.approx(90.0, abs=0.2)


def test_totals_follow_the_aggregation_rule_by_hand():
    # two dimensions; provider 0 lacks indicator B, so dimension 0 is A alone; dimension weights are the
    # sums of their indicators' weights (0.5 + 0.2 and 0.3)
    scores = np.array([[70.0, np.nan, 90.0]])
    inputs = Inputs(("A", "B", "C"), (0, 0, 1), scores, BANDS, (None,))
    w = np.array([[0.5, 0.2, 0.3]])
    assert totals(inputs, w)[0, 0] == pytest.approx((0.7 * 70 + 0.3 * 90) / 1.0)


def test_sobol_first_order_at_most_total():
    rng = np.random.default_rng(0)
    scores = rng.uniform(40, 100, size=(30, 6))
    inputs = Inputs(tuple("ABCDEF"), (0, 0, 1, 1, 2, 2), scores, BANDS, (None,) * 30)
    schemes = {"ahp": np.full(6, 1 / 6), "other": np.array([0.4, 0.1, 0.1, 0.1, 0.2, 0.1])}
    indices, used = sobol_indices(inputs, schemes, ["D1", "D2", "D3"], 0.3, 64, seed=5)
    assert used > 0
    for name, s in indices.items():
        assert -0.05 <= s["first_order"] <= s["total"] + 0.05, (name, s)
    assert sum(s["first_order"] for s in indices.values()) <= 1.1


def test_edited_results_are_refused(cli, small_copy, tmp_path):
    scores = small_copy / "scores.csv"
    scores.write_bytes(scores.read_bytes() + b"\n")
    r = cli("uncertainty", "--results", small_copy, "--out", tmp_path / "u")
    assert r.exit_code == 2 and "scores.csv" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize(
    "args,fragment",
    [
        (("--samples", "3"), "--samples 3"),
        (("--noise", "1.5"), "--noise 1.5"),
        (("--schemes", "magic"), "--schemes magic"),
    ],
)
def test_bad_options(cli, small_example, tmp_path, args, fragment):
    r = cli("uncertainty", "--results", small_example.out, "--out", tmp_path / "u", *args)
    assert r.exit_code == 2 and fragment in r.stderr, r.stderr


def test_the_committee_report_lists_the_uncertain_grades(cli, small_example, tmp_path):
    from pypdf import PdfReader

    u = tmp_path / "u"
    assert cli("uncertainty", "--results", small_example.out, "--out", u, "--samples", "300",
               "--noise", "0.5", "--sobol-samples", "16", "--seed", "2").exit_code == 0  # fmt: skip
    figures = json.loads((u / "uncertainty.json").read_text(encoding="utf-8"))
    unsure = sorted((p for p in figures["providers"] if p["uncertain"]), key=lambda p: p["p_assigned_grade"])
    rep = tmp_path / "rep"
    r = cli("report", "--results", small_example.out, "--out", rep, "--format", "pdf,html,xlsx", "--uncertainty", u)
    assert r.exit_code == 0, r.stderr
    # the workbook carries the figures: a 评级确定性 sheet, a row per provider
    import openpyxl

    sheet = openpyxl.load_workbook(rep / "pingyi-report.xlsx")["评级确定性"]
    rows = {r[0]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert set(rows) == {p["fixmedins_code"] for p in figures["providers"]}
    for p in figures["providers"]:
        row = rows[p["fixmedins_code"]]
        assert row[3] == p["p_assigned_grade"] and row[4] == p["total_p5"] and row[8] == p["rank_p95"]
        assert row[9] == ("是" if p["uncertain"] else "否")
    # every ranked provider's card gives its rank interval and the probability of its grade
    for p in figures["providers"]:
        if p["rank_p5"] is not None:
            card = (rep / "html" / "cards" / f"{p['fixmedins_code']}.html").read_text(encoding="utf-8")
            expected = f"区间{p['rank_p5']:.0f}–{p['rank_p95']:.0f}，本等级概率{p['p_assigned_grade']:.2f}"
            assert expected in card, p["fixmedins_code"]
    # and a share with a small denominator its 95 % interval (results.json interval, n < 400)
    doc = json.loads((small_example.out / "results.json").read_text(encoding="utf-8"))
    small = [
        (q["fixmedins_code"], i)
        for q in doc["providers"]
        for i in q["indicators"]
        if i.get("interval") and i["interval"]["n"] < 400
    ]
    assert small, "the small example has a share with a small denominator"
    code, row = small[0]
    card = (rep / "html" / "cards" / f"{code}.html").read_text(encoding="utf-8")
    assert "小样本95%区间" in card and f"n={row['interval']['n']:,.0f}" in card
    text = "".join(page.extract_text() for page in PdfReader(rep / "committee.pdf").pages).replace("\n", "")
    assert "评级确定性" in text and "300" in text
    if unsure:
        assert f"{len(unsure)}家机构的评定等级概率低于0.8" in text
        assert unsure[0]["fixmedins_code"] in text and f"{unsure[0]['p_assigned_grade']:.2f}" in text
    else:
        assert "每家机构的评定等级概率均不低于0.8" in text
    manifest = json.loads((rep / "manifest.json").read_text(encoding="utf-8"))
    assert "uncertainty.json" in manifest["outputs"]
    assert cli("verify", rep, "--rerender").exit_code == 0
    # figures of other results are refused
    other = json.loads((u / "uncertainty.json").read_text(encoding="utf-8"))
    other["results_sha256"] = "0" * 64
    (u / "uncertainty.json").write_text(json.dumps(other), encoding="utf-8")
    r = cli("report", "--results", small_example.out, "--out", tmp_path / "rep2", "--format", "pdf", "--uncertainty", u)
    assert r.exit_code == 2 and "results_sha256" in r.stderr


def test_sobol_analysis_equals_salib_provider_by_provider():
    """sobol_analyse applies SALib's estimators to every provider at once; one SALib analyze call per
    provider (the same seed for its resamples) gives the same indices and half-widths."""
    from SALib.analyze import sobol as salib

    from pingyi.uncertainty.simulate import RESAMPLES, problem_of, sobol_analyse, sobol_design

    problem = problem_of(["a", "b", "c"], [(0.0, 1.0)] * 3)
    x = sobol_design(problem, 64, seed=3)
    rng = np.random.default_rng(0)
    coef = rng.uniform(0.5, 2.0, size=(3, 5))
    y = x @ coef + 0.5 * np.sin(6 * x[:, :1]) * x[:, 1:2]  # rows x 5 providers, each its own model
    got, used = sobol_analyse(problem, y, seed=9)
    assert used == 5
    for key, field in (
        ("S1", "first_order"),
        ("ST", "total"),
        ("S1_conf", "first_order_conf"),
        ("ST_conf", "total_conf"),
    ):
        one = np.mean([salib.analyze(problem, y[:, j], calc_second_order=False, num_resamples=RESAMPLES, seed=9)[key]
                       for j in range(5)], axis=0)  # fmt: skip
        assert [got[n][field] for n in "abc"] == pytest.approx(list(one), abs=1e-12), key


def test_ranks_put_the_providers_marked_last_after_the_others():
    """The Monte Carlo ranks as the score stage ranks: a vetoed provider after every other, whatever its total."""
    total = np.array([[90.0, 80.0, 70.0, np.nan], [60.0, 80.0, 85.0, 50.0]])
    last = np.array([True, False, False, False])
    assert ranks(total, last).tolist()[0][:3] == [3.0, 1.0, 2.0]
    assert ranks(total, last).tolist()[1] == [4.0, 2.0, 1.0, 3.0]
    assert ranks(total).tolist()[1] == [3.0, 2.0, 1.0, 4.0]
