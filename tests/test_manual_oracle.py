"""The manual is the contract: on bundles generated with several seeds, every indicator value of every
provider that `pingyi score` writes equals the independent recomputation of tests/oracle.py (written from
the manual's words and docs/data-bundle.md, not from pingyi's SQL).

Compared per provider and indicator: the value printed in indicators.csv (10 significant digits; an
indicator with `casemix: adjusted` (D1.01, D1.02, D2.03, D2.04) is case-mix adjusted there, so its *raw*
value, results.json `raw_value`, is compared: the adjusted one is a model fit that the manual describes
but an assessor does not redo by hand; tests/test_casemix*.py check it against hand-computed fits), the minimum-volume count (results.json `volume`) and the status: no
value where the oracle's denominator is 0, `insufficient` where its volume is below the declared minimum.
Zero events are 0 in both, never empty.
"""

from __future__ import annotations

import csv
import json
from fractions import Fraction

import pytest

from oracle import Oracle, read_project
from pingyi.tools.example import generate_example

YEAR = 2025
SEEDS = [7, 11, 2025, 31337]
PROJECT = read_project()


def _printed(x: Fraction | float) -> str:
    return f"{float(x):.10g}"


def _agrees(found: str, expected: Fraction) -> bool:
    """Equal as printed (10 significant digits), or one unit of the 10th digit apart: pingyi rounds its
    measures to 12 significant digits before the formula, which can flip a printed last digit."""
    if found == _printed(expected):
        return True
    unit = 10 ** (int(f"{abs(float(expected)):e}".split("e")[1]) - 9) if expected else 1e-12
    return abs(float(found) - float(expected)) <= unit


def _within(found: float, expected: Fraction | None, decimals_unit: float) -> bool:
    return expected is not None and abs(Fraction(str(found)) - expected) <= Fraction(decimals_unit) / 2 + Fraction(
        1, 10**15
    )


@pytest.fixture(scope="module", params=SEEDS)
def scored(request, tmp_path_factory, cli_in_process):
    seed = request.param
    base = tmp_path_factory.mktemp(f"oracle-{seed}")
    generate_example(base / "bundle", providers=9, rows=12000, seed=seed, year=YEAR, fmt="csv")
    result = cli_in_process("score", "--data", str(base / "bundle"), "--out", str(base / "out"))
    assert result.exit_code == 0, result.stdout + result.stderr
    with (base / "out" / "indicators.csv").open(encoding="utf-8") as f:
        rows = {(r["fixmedins_code"], r["indicator"]): r for r in csv.DictReader(f)}
    doc = json.loads((base / "out" / "results.json").read_text(encoding="utf-8"))
    detail = {(p["fixmedins_code"], i["code"]): i for p in doc["providers"] for i in p["indicators"]}
    return seed, Oracle(base / "bundle", YEAR, PROJECT), rows, detail


@pytest.fixture(scope="module")
def cli_in_process():
    """`pingyi ARGS` in-process, once per module (conftest's `cli` is per test)."""
    from typer.testing import CliRunner

    from pingyi.cli import app

    runner = CliRunner()

    def run(*args):
        return runner.invoke(app, list(args))

    return run


def mismatches(seed, oracle: Oracle, rows, detail) -> list[str]:
    out = []
    for provider in oracle.providers:
        for code in PROJECT.indicators:
            exp = oracle.expected(code, provider)
            row, info = rows[(provider, code)], detail[(provider, code)]
            where = f"seed {seed}, {provider} {code}"
            # a monitor-only indicator (the manual: 监测指标，不计分) is never grey, whatever its volume
            grey = "monitor" if PROJECT.indicators[code]["direction"] == "monitor" else "insufficient"
            found = row["value"]
            if PROJECT.indicators[code].get("casemix") == "adjusted":  # the raw value (see the module docstring),
                # which results.json rounds to 10 decimals
                raw = info["raw_value"]
                found = "" if raw is None else _printed(exp.value if _within(raw, exp.value, 1e-10) else raw)
            if exp.value is None:
                if found != "":
                    out.append(f"{where}: value found {found}, expected none (zero denominator or no data)")
                elif row["status"] != grey:
                    out.append(f"{where}: status found {row['status']}, expected {grey}")
                continue
            if found == "" or not _agrees(found, exp.value):
                out.append(f"{where}: value found {found or 'none'}, expected {_printed(exp.value)}")
            if exp.minimum is not None:
                vol = info["volume"]
                if vol is None or Fraction(str(vol)) != exp.volume:
                    out.append(f"{where}: volume found {vol}, expected {exp.volume}")
                if exp.volume < exp.minimum and row["status"] != grey:
                    out.append(f"{where}: status found {row['status']}, expected {grey} (volume {exp.volume})")
    return out


def test_every_indicator_of_every_provider_equals_the_manuals_recomputation(scored):
    seed, oracle, rows, detail = scored
    assert rows, "indicators.csv is empty"
    assert len(rows) == len(oracle.providers) * len(PROJECT.indicators)
    found = mismatches(seed, oracle, rows, detail)
    assert not found, f"{len(found)} disagreement(s) with the manual:\n" + "\n".join(found[:40])


def test_zero_events_are_zero_not_missing(scored):
    """A provider with stays but no low-risk death, no complication or no readmission has the rate 0 in
    both the oracle and indicators.csv (zero events are not missing data)."""
    seed, oracle, rows, detail = scored
    zeros = [(p, c) for p in oracle.providers for c in PROJECT.indicators if oracle.expected(c, p).value == 0]
    assert zeros, f"seed {seed}: no zero-event indicator in the bundle, the property is untested"

    def value(k):  # the raw value of a case-mix-adjusted indicator (its adjusted one needs a regional model)
        return (
            str(detail[k]["raw_value"]) if PROJECT.indicators[k[1]].get("casemix") == "adjusted" else rows[k]["value"]
        )

    assert all(value(k) in ("0", "0.0") for k in zeros), [(k, value(k)) for k in zeros if value(k) not in ("0", "0.0")]


def test_the_oracle_reads_what_the_contract_says(tmp_path):
    """Planted bad rows are handled from their documented reason: the oracle drops exactly the rows the
    quality stage rejects (rejected.csv of the same bundle)."""
    from oracle import FLAG_REASONS, _contract_columns

    generate_example(tmp_path / "b", providers=9, rows=3000, seed=5, year=YEAR, fmt="csv")
    planted = json.loads((tmp_path / "b" / "_planted.json").read_text(encoding="utf-8"))["rows"]
    columns = _contract_columns()
    assert {"settlements", "setl_lists", "fee_items", "providers"} <= set(columns)
    assert columns["settlements"]["setl_id"] is True and columns["settlements"]["age"] is False
    dropped = {(p["table"], p["row"]) for p in planted if p["reason"] not in FLAG_REASONS}
    assert dropped, "the example planted no rejected row"
    from pingyi.run.pipeline import run

    result = run(tmp_path / "b", year=YEAR, workdir=tmp_path / "w")
    assert result.quality is not None
    with (tmp_path / "w" / "quality" / "rejected.csv").open(encoding="utf-8") as f:
        rejected = {(r["table"], int(r["row"])) for r in csv.DictReader(f)}
    assert rejected == dropped
