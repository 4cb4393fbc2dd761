"""Measures: the restricted SQL language, the generated query (golden files), hand-computed values."""

from __future__ import annotations

import functools
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from conftest import shipped
from pingyi.compute.measures import MeasureSqlError, compile_measure, compile_project_measures, run_measures, table_sql
from pingyi.data.views import unique_key
from pingyi.spec.models import DataSettings, MeasureSpec

GOLDEN = Path(__file__).parent / "golden"
COLS = ["fixmedins_code", "year", "mdtrt_id", "setl_id", "med_type", "refd_setl_flag", "medfee_sumamt", "amt"]


def m(aggregate, filter=None, name="x"):
    return MeasureSpec(name=name, table="settlements", description="d", aggregate=aggregate, filter=filter)


@pytest.mark.parametrize(
    "aggregate,filter,fragment",
    [
        ("sum(read_csv('/etc/passwd'))", None, "READ_CSV"),
        ("count(*)", "fixmedins_code IN (SELECT 1)", "SELECT 1"),
        ("sum(secret_column)", None, "secret_column"),
        ("medfee_sumamt", None, "medfee_sumamt"),
        ("sum(amt); DROP TABLE t", None, ";"),
        ("sum(t.amt)", None, "t.amt"),
        ("count(*)", "sum(amt) > 0", "SUM(amt)"),
        ("sum(sum(amt))", None, "SUM(SUM(amt))"),
        ("current_setting('threads')", None, "CURRENT_SETTING"),
        ("sum(amt) AS y", None, "AS"),
        ("count(*)", "med_type IN (:no_such_set)", ":no_such_set"),
    ],
)
def test_rejected_sql(aggregate, filter, fragment):
    with pytest.raises(MeasureSqlError) as err:
        compile_measure(m(aggregate, filter), COLS, DataSettings())
    assert fragment.lower() in err.value.fragment.lower()


def test_filter_applies_to_every_aggregate_including_a_lone_one():
    single = compile_measure(m("count(*)", "med_type = '21'"), COLS, DataSettings())
    assert single.aggregate.sql(dialect="duckdb") == "COUNT(*) FILTER(WHERE med_type = '21')"
    ratio = compile_measure(
        m("sum(medfee_sumamt) / count(DISTINCT mdtrt_id)", "med_type IN (:inpatient_med_types)"),
        COLS,
        DataSettings(inpatient_med_types=["21", "28"]),
    )
    assert ratio.aggregate.sql(dialect="duckdb") == (
        "COALESCE(SUM(medfee_sumamt) FILTER(WHERE med_type IN ('21', '28')), 0) / "
        "COUNT(DISTINCT mdtrt_id) FILTER(WHERE med_type IN ('21', '28'))"
    )


from hypothesis import example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@functools.cache
def _ratio_sum():
    return compile_measure(m("sum(medfee_sumamt / amt)"), COLS, DataSettings())


@example(pairs=[(3.8125, 227330.125), (3.8125, 227330.125), (0.125, 115.0)], seed=0)  # found by hypothesis
@settings(max_examples=40, deadline=None)
@given(
    pairs=st.lists(st.tuples(st.floats(0.01, 1e6), st.floats(0.01, 1e6)), min_size=2, max_size=40),
    seed=st.integers(0, 10_000),
)
def test_sums_do_not_depend_on_row_order(pairs, seed):
    """A sum of ratios (the DRG cost index: Σ cost / regional mean) is the same whatever order the rows
    arrive in: sums are taken in DECIMAL(38, 12) (measures.exact_sums), not in floating point."""
    import random

    measure = _ratio_sum()
    con = duckdb.connect()
    results = []
    for order in range(2):
        rows = list(pairs)
        random.Random(seed + order).shuffle(rows)
        loaded = pa.table({"medfee_sumamt": [a for a, _ in rows], "amt": [b for _, b in rows]})
        con.register("loaded", loaded)
        sql = measure.aggregate.sql(dialect="duckdb")
        results.append(
            con.execute(f"SELECT {sql} FROM (SELECT 'H1' AS fixmedins_code, * FROM loaded)").fetchall()[0][0]
        )
        con.unregister("loaded")
    assert results[0] == results[1]
    # each term is taken to 12 decimals (measures.EXACT), so a sum of small ratios is exact to n x 1e-12
    assert float(results[0]) == pytest.approx(sum(a / b for a, b in pairs), rel=1e-9, abs=len(pairs) * 1e-12)


def test_hand_computed_values():
    con = duckdb.connect()
    con.execute("""CREATE TABLE clean_settlements AS SELECT * FROM (VALUES
        ('H1', 2025, 'M1', 'S1', '21', '0', 100.00),
        ('H1', 2025, 'M1', 'S2', '21', '0', 50.00),   -- mid-stay settlement of the same stay
        ('H1', 2025, 'M2', 'S3', '21', '0', 200.00),
        ('H1', 2025, 'M2', 'S4', '21', '1', -20.00),  -- refund nets the cost, not the count
        ('H1', 2025, 'M3', 'S5', '11', '0', 30.00),
        ('H1', 2024, 'M9', 'S9', '21', '0', 300.00),
        ('H2', 2025, 'M4', 'S6', '11', '0', 10.00)
        ) t(fixmedins_code, year, mdtrt_id, setl_id, med_type, refd_setl_flag, medfee_sumamt)""")
    settings = DataSettings()
    specs = [
        m(
            "count(DISTINCT mdtrt_id)",
            "med_type IN (:inpatient_med_types) AND refd_setl_flag NOT IN (:refund_flag_values)",
            "stays",
        ),
        m("sum(medfee_sumamt)", "med_type IN (:inpatient_med_types)", "cost"),
    ]
    compiled = {"settlements": [compile_measure(s, COLS, settings) for s in specs]}
    table = run_measures(con, compiled, {"settlements": "clean_settlements"})
    assert table.get("H1", 2025) == {"stays": 2.0, "cost": 330.0}
    assert table.get("H1", 2024) == {"stays": 1.0, "cost": 300.0}
    # H2 has settlements but no inpatient rows: zero stays and zero cost (a sum over no rows is 0, not
    # "no data"), while the table itself is present for H2 and absent for a provider with no rows at all
    assert table.get("H2", 2025) == {"stays": 0.0, "cost": 0.0}
    assert table.tables_of("H2", 2025) == {"settlements"}
    assert table.tables_of("H3", 2025) == frozenset()
    assert table.tables == {"stays": "settlements", "cost": "settlements"}


def test_avg_min_max_over_no_rows_stay_undefined():
    con = duckdb.connect()
    con.execute("""CREATE TABLE clean_settlements AS SELECT * FROM (VALUES
        ('H1', 2025, 'M1', 'S1', '11', '0', 10.00)) t(fixmedins_code, year, mdtrt_id, setl_id, med_type,
        refd_setl_flag, medfee_sumamt)""")
    specs = [m("avg(medfee_sumamt)", "med_type = '21'", "mean"), m("max(medfee_sumamt)", "med_type = '21'", "top")]
    compiled = {"settlements": [compile_measure(s, COLS, DataSettings()) for s in specs]}
    assert run_measures(con, compiled, {"settlements": "clean_settlements"}).get("H1", 2025) == {
        "mean": None,
        "top": None,
    }


def test_golden_sql_of_the_shipped_measures():
    """The SQL pingyi runs is pinned; regenerate with PINGYI_UPDATE_GOLDEN=1 after a deliberate change."""
    import os

    project = shipped().project
    compiled = compile_project_measures(project.measures, project.data)
    views = {"setl_lists": "stays", "settlements": "settlement_rows"}
    for table, measures in sorted(compiled.items()):
        sql = table_sql(views.get(table, f"clean_{table}"), measures, unique_key(table)) + "\n"
        path = GOLDEN / f"measures_{table}.sql"
        if os.environ.get("PINGYI_UPDATE_GOLDEN"):
            path.write_text(sql, encoding="utf-8")
        assert path.read_text(encoding="utf-8") == sql, f"{path.name} changed; review and regenerate"


def test_explain_shows_generated_sql():
    from pingyi.explain import explain_measures

    text = explain_measures(shipped().project, "D1.01")
    assert "FROM settlement_rows" in text and "AS inpatient_stays" in text and "FILTER(WHERE" in text


# --------------------------------------------------------------------------- the manual's words decide
# Tiny hand-made bundles run through the whole pipeline (quality, views, measures, formulas): each test
# is one sentence of the indicator manual (indicators/*.yaml `manual`) with the number it implies.

import csv  # noqa: E402

from pingyi.run.pipeline import run  # noqa: E402

H1 = "H33010600001"


def _settlement(setl_id, mdtrt_id, time, *, med_type="21", amount=1000.00, direct="1", refund="0", psn="P1"):
    return {
        "setl_id": setl_id, "mdtrt_id": mdtrt_id, "psn_no": psn, "insutype": "310", "med_type": med_type,
        "setl_time": time, "medfee_sumamt": f"{amount:.2f}", "fulamt_ownpay_amt": "0.00",
        "hifp_pay": f"{amount * 0.6:.2f}", "fund_pay_sumamt": f"{amount * 0.6:.2f}",
        "psn_part_amt": f"{amount * 0.4:.2f}", "acct_pay": "0.00", "psn_cash_pay": f"{amount * 0.4:.2f}",
        "fixmedins_code": H1, "insuplc_admdvs": "330106", "refd_setl_flag": refund, "direct_setl_flag": direct,
    }  # fmt: skip


def _stay(mdtrt_id, adm, dscg, setl, psn="P1", dcla=None, *, plan="1", way="1"):
    return {
        "mdtrt_id": mdtrt_id, "setl_id": "S" + mdtrt_id, "fixmedins_code": H1, "psn_no": psn, "diag_code": "J18.900",
        "adm_time": adm, "dscg_time": dscg, "act_ipt_days": "3", "dscg_way": way, "days_rinp_flag_31": plan,
        "setl_time": setl, "dcla_time": dcla or setl, "qc_rslt": "1",
    }  # fmt: skip


def _write(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _values(tmp_path: Path, **tables: list[dict]):
    """Run the shipped project over a bundle of one provider (H1) and return its indicator values."""
    _write(tmp_path / "providers.csv", [{"fixmedins_code": H1, "fixmedins_name": "测试医院", "hosp_lv": "二级"}])
    for name, rows in tables.items():
        _write(tmp_path / f"{name}.csv", rows)
    result = run(tmp_path, year=2025, workdir=tmp_path / "work")
    return result.values[H1]


def _stays_with_settlements(stays: list[dict]) -> list[dict]:
    return [_settlement("S" + s["mdtrt_id"], s["mdtrt_id"], s["setl_time"], psn=s["psn_no"]) for s in stays]


def test_d2_03_readmission_within_31_days_counts_32_does_not_and_one_starting_before_discharge_does_not(tmp_path):
    """D2.03: 同一人员出院后31日内再次入住本机构 (an admission on the 31st day after the discharge date counts,
    on the 32nd not); an admission that starts before this stay's discharge is not a readmission."""
    stays = [
        _stay("A1", "2025-03-01 08:00:00", "2025-03-05 10:00:00", "2025-03-05 12:00:00", psn="P1"),
        _stay("A2", "2025-04-05 23:00:00", "2025-04-08 10:00:00", "2025-04-08 12:00:00", psn="P1"),  # day 31
        _stay("B1", "2025-03-01 08:00:00", "2025-03-05 10:00:00", "2025-03-05 12:00:00", psn="P2"),
        _stay("B2", "2025-04-06 08:00:00", "2025-04-08 10:00:00", "2025-04-08 12:00:00", psn="P2"),  # day 32
        # C2 starts (Jun 3) before C1's discharge (Jun 10): overlapping records, not a readmission of C1
        _stay("C1", "2025-06-01 08:00:00", "2025-06-10 10:00:00", "2025-06-10 12:00:00", psn="P3"),
        _stay("C2", "2025-06-03 08:00:00", "2025-06-04 10:00:00", "2025-06-04 12:00:00", psn="P3"),
        _stay("D1", "2025-07-01 08:00:00", "2025-07-10 10:00:00", "2025-07-10 12:00:00", psn="P4"),
        _stay("D2", "2025-07-10 09:00:00", "2025-07-12 10:00:00", "2025-07-12 12:00:00", psn="P4"),
    ]
    values = _values(tmp_path, settlements=_stays_with_settlements(stays), setl_lists=stays)
    d203 = values["D2.03"]
    raw = {k: v for k, v in d203.inputs["current"].items() if not k.startswith("casemix_")}
    assert raw == {"unplanned_readmissions": 1.0, "alive_discharges": 8.0}
    # the risk-adjusted formula's measures are there too, without a value: 8 stays fit no risk model
    assert {k: v for k, v in d203.inputs["current"].items() if k.startswith("casemix_")} == {
        "casemix_readmit_expected": None, "casemix_readmit_observed": None, "casemix_readmit_region_rate": None,
    }  # fmt: skip
    # the manual's rate is the raw value; the adjusted one counts, and without a model it is none (grey)
    assert d203.raw_value == pytest.approx(1 / 8)
    assert d203.adjusted_value is None and d203.value is None


def test_d5_02_excludes_manual_claims(tmp_path):
    """D5.02 排除 经办机构手工（零星）报销: a stay whose settlement is a manual claim (direct_setl_flag 0)
    is neither in the days nor in the count."""
    stays = [
        _stay("A1", "2025-03-01 08:00:00", "2025-03-05 10:00:00", "2025-03-07 12:00:00"),  # 2 days
        _stay("A2", "2025-05-01 08:00:00", "2025-05-05 10:00:00", "2025-05-05 12:00:00", psn="P2"),  # 0 days
        _stay("M1", "2025-06-01 08:00:00", "2025-06-05 10:00:00", "2025-07-20 12:00:00", psn="P3"),  # claim
    ]
    settlements = _stays_with_settlements(stays)
    settlements[2]["direct_setl_flag"] = "0"
    values = _values(tmp_path, settlements=settlements, setl_lists=stays)
    assert values["D5.02"].inputs["current"] == {"dscg_to_setl_days": 2.0, "settled_lists": 2.0}
    assert values["D5.02"].value == pytest.approx(1.0)


def test_d8_01_counts_only_lists_of_stays_in_its_denominator_without_a_cap(tmp_path):
    """D8.01: numerator = stays of the denominator (inpatient stays settled directly at the provider in the
    year) whose list was uploaded in time; a list of a manual claim or of a stay settled last year is not
    counted, so the rate needs no cap. The limit is data.yaml upload_deadline_days (30 days)."""
    stays = [
        _stay("A1", "2025-03-01 08:00:00", "2025-03-05 10:00:00", "2025-03-05 12:00:00", dcla="2025-04-04 11:00:00"),
        # A2: uploaded 30 days and 1 hour after its settlement: late
        _stay("A2", "2025-03-01 08:00:00", "2025-03-05 10:00:00", "2025-03-05 12:00:00", "P2", "2025-04-04 13:00:00"),
        _stay("M1", "2025-06-01 08:00:00", "2025-06-05 10:00:00", "2025-06-05 12:00:00", psn="P3"),  # claim
    ]
    settlements = _stays_with_settlements(stays)
    settlements[2]["direct_setl_flag"] = "0"
    settlements.append(_settlement("SX", "X1", "2025-08-01 10:00:00", psn="P4"))  # a stay without a list
    values = _values(tmp_path, settlements=settlements, setl_lists=stays)
    d801 = values["D8.01"]
    assert d801.inputs["current"] == {"timely_listed_stays": 1.0, "inpatient_stays": 3.0}
    assert d801.value == pytest.approx(1 / 3)


def test_d8_01_manual_states_the_data_yaml_deadline():
    """The time limit the manual states is the one data.yaml sets (and DataSettings' default)."""
    import re

    project = shipped().project
    days = project.data.upload_deadline_days
    manual = project.indicators["D8.01"].manual
    stated = {int(d) for d in re.findall(r"(\d+)日内", manual.formula_text)}
    assert stated == {days}, f"indicators/D8_data_quality.yaml D8.01 formula_text: found {stated}, expected {days}"
    assert f"within {days} days" in manual.formula_text_en
    assert DataSettings().upload_deadline_days == days
    assert "min(" not in project.indicators["D8.01"].formula


@pytest.mark.parametrize(
    "scores,expected",
    [
        ([60, 80, 90, 100], 85.0),  # the highest (100) and the lowest (60) dropped: (80 + 90) / 2
        ([70, 70, 90], 70.0),  # one of the two lowest is dropped, the other stays
        ([80, 90], 85.0),  # fewer than 3 experts: the plain mean (the manual says so)
        ([77], 77.0),
    ],
)
def test_d7_04_drops_the_highest_and_the_lowest_expert_score(tmp_path, scores, expected):
    rows = [
        {"fixmedins_code": H1, "year": "2025", "indicator": "D7.04", "expert_id": f"E{i}", "score": str(s)}
        for i, s in enumerate(scores)
    ]
    values = _values(tmp_path, settlements=[_settlement("S1", "M1", "2025-03-01 10:00:00")], expert_scores=rows)
    assert values["D7.04"].value == expected
