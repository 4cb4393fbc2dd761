"""Measures: the restricted SQL language, the generated query (golden files), hand-computed values."""

from __future__ import annotations

import functools
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from conftest import shipped
from pingyi.compute.measures import MeasureSqlError, compile_measure, compile_project_measures, run_measures, table_sql
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
        "COALESCE(SUM(CAST(medfee_sumamt AS DECIMAL(38, 12))) FILTER(WHERE med_type IN ('21', '28')), 0) / "
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
        sql = table_sql(views.get(table, f"clean_{table}"), measures) + "\n"
        path = GOLDEN / f"measures_{table}.sql"
        if os.environ.get("PINGYI_UPDATE_GOLDEN"):
            path.write_text(sql, encoding="utf-8")
        assert path.read_text(encoding="utf-8") == sql, f"{path.name} changed; review and regenerate"


def test_explain_shows_generated_sql():
    from pingyi.explain import explain_measures

    text = explain_measures(shipped().project, "D1.01")
    assert "FROM settlement_rows" in text and "AS inpatient_stays" in text and "FILTER(WHERE" in text
