"""Vetoes (一票否决) apply in every adjustment mode: the fraud case of the shipped example (H51012100004,
total 89.31, graded 不合格 by veto) never gets its withheld share back nor a reward."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pingyi.score.adjust import AdjustmentInput, compute_adjustments
from pingyi.spec.models import PolicyFile


def policy(mode: str) -> PolicyFile:
    return PolicyFile.model_validate({"adjustment": {"mode": mode}})


def rows(veto: tuple[str, ...]) -> list[AdjustmentInput]:
    return [
        AdjustmentInput(
            "VETOED", "不合格" if veto else "良好", 89.31, Decimal("100000.00"), "providers table", veto=veto
        ),
        AdjustmentInput("TOP", "优秀", 95.0, Decimal("100000.00"), "providers table"),
        AdjustmentInput("LOW", "不合格", 50.0, Decimal("100000.00"), "providers table"),
    ]


@pytest.mark.parametrize(
    "mode,expected",
    [
        ("step", Decimal("-10000.00")),  # the 不合格 rate, -10 %
        ("per_point", Decimal("-5000.00")),  # all of the 5 % withheld, as below forfeit_below
        ("budget_neutral", Decimal("-10000.00")),  # the penalty rate, never a (scaled) reward
    ],
)
def test_a_vetoed_provider_gets_the_worst_outcome_of_every_mode(mode, expected):
    adjustments, _ = compute_adjustments(rows(("欺诈骗保",)), policy(mode))
    vetoed = adjustments[0]
    assert vetoed.amount == expected, (mode, vetoed.rule)
    without, _ = compute_adjustments(rows(()), policy(mode))
    assert without[0].amount >= 0  # the same score without the veto: nothing deducted
    if mode == "per_point":
        assert "veto" in vetoed.rule


def test_the_example_fraud_case_is_vetoed_in_per_point_mode(tmp_path, cli):
    """End to end: per-point mode on the shipped example; the planted fraud case scores ~89 (>= 80, where
    per-point returns the withheld amount) but is vetoed, so the whole withheld 5 % is deducted."""
    import csv

    from conftest import EXAMPLE

    project = tmp_path / "project"
    assert cli("init", str(project)).exit_code == 0
    text = (project / "policy.yaml").read_text(encoding="utf-8").replace("mode: step", "mode: per_point")
    (project / "policy.yaml").write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    result = cli("score", "--data", str(EXAMPLE), "--project", str(project), "--out", str(out))
    assert result.exit_code == 0, result.stdout + result.stderr
    with (out / "adjustments.csv").open(encoding="utf-8") as fh:
        adj = {r["fixmedins_code"]: r for r in csv.DictReader(fh)}
    fraud = adj["H51012100004"]
    assert Decimal(fraud["rate"]) == Decimal("-0.05"), fraud
    assert "veto" in fraud["rule"]
