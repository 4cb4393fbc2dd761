"""The measure planner: the planned query (one pass for sums and counts, one pre-aggregation per column
counted distinct with a bit per filter, the view's key counted without DISTINCT) returns exactly the
numbers of the measures as written (naive_sql), on random rows and filters and on the example bundle."""

from __future__ import annotations

import duckdb
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import shipped
from pingyi.compute.measures import compile_measure, compile_project_measures, run_measures, table_sql
from pingyi.data.bundle import open_bundle
from pingyi.data.quality import run_quality
from pingyi.data.views import create_views, unique_key, view_of
from pingyi.spec.models import DataSettings, MeasureSpec
from pingyi.tools.example import generate_example

COLS = ["fixmedins_code", "year", "mdtrt_id", "setl_id", "med_type", "refd_setl_flag", "medfee_sumamt", "amt"]
FILTERS = [
    None,
    "med_type = '21'",
    "med_type IN ('11', '13')",
    "refd_setl_flag = '1'",
    "NOT refd_setl_flag IN ('1')",
    "medfee_sumamt > 50",
    "med_type = '99'",  # no row passes: every count 0, never missing
    "amt IS NULL",
]
AGGREGATES = [
    "count(DISTINCT mdtrt_id)",
    "count(DISTINCT setl_id)",
    "count(DISTINCT med_type)",
    "count(*)",
    "sum(medfee_sumamt)",
    "sum(amt)",
    "avg(medfee_sumamt)",
    "max(amt)",
    "count(DISTINCT mdtrt_id) - count(*)",
    "sum(medfee_sumamt) / count(DISTINCT mdtrt_id)",
    "count(DISTINCT mdtrt_id) + count(DISTINCT setl_id)",
]


def spec(i: int, aggregate: str, filter: str | None) -> MeasureSpec:
    return MeasureSpec(name=f"m{i}", table="settlements", description="d", aggregate=aggregate, filter=filter)


rows_strategy = st.lists(
    st.tuples(
        st.sampled_from(["H1", "H2", "H3"]),
        st.sampled_from([2024, 2025]),
        st.sampled_from(["M1", "M2", "M3", "M4", None]),
        st.sampled_from(["11", "13", "21", None]),
        st.sampled_from(["0", "1", None]),
        st.integers(-100, 300),
        st.one_of(st.none(), st.integers(0, 1000)),
    ),
    min_size=0,
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(
    rows=rows_strategy,
    chosen=st.lists(st.tuples(st.sampled_from(AGGREGATES), st.sampled_from(FILTERS)), min_size=1, max_size=12),
)
def test_planned_equals_naive_on_random_rows(rows, chosen):
    con = duckdb.connect()
    table = pa.table(
        {
            "fixmedins_code": [r[0] for r in rows],
            "year": pa.array([r[1] for r in rows], pa.int32()),
            "mdtrt_id": [r[2] for r in rows],
            "setl_id": [f"S{i}" for i in range(len(rows))],  # the key: unique, as the quality stage leaves it
            "med_type": [r[3] for r in rows],
            "refd_setl_flag": [r[4] for r in rows],
            "medfee_sumamt": [r[5] for r in rows],
            "amt": [r[6] for r in rows],
        }
    )
    con.register("arrow_rows", table)
    con.execute(
        "CREATE TABLE clean_settlements AS SELECT * REPLACE (CAST(medfee_sumamt / 4 AS DECIMAL(16, 2)) "
        "AS medfee_sumamt, CAST(amt AS DOUBLE) / 8 AS amt) FROM arrow_rows"
    )
    compiled = {
        "settlements": [compile_measure(spec(i, a, f), COLS, DataSettings()) for i, (a, f) in enumerate(chosen)]
    }
    views = {"settlements": "clean_settlements"}
    naive = run_measures(con, compiled, views, plan=False)
    planned = run_measures(con, compiled, views, {"settlements": "setl_id"})
    assert same(planned.values, naive.values)
    assert planned.present == naive.present


def same(a, b) -> bool:
    """Equal to the last bit (repr), NaN (0/0 in both) included."""
    return {k: {n: repr(v) for n, v in d.items()} for k, d in a.items()} == {
        k: {n: repr(v) for n, v in d.items()} for k, d in b.items()
    }


def test_the_shipped_measures_planned_and_naive_agree_on_the_example(tmp_path):
    """Every table of the example: the same numbers, and the assumption the plan makes about each view
    (its key names one row) holds on it."""
    project = shipped().project
    compiled = compile_project_measures(project.measures, project.data)
    bundle_dir = tmp_path / "b"
    generate_example(bundle_dir, providers=9, rows=3000, seed=11)
    with open_bundle(bundle_dir, project.data, project.year, tmp_path / "w") as bundle:
        run_quality(bundle, project.data, project.year)
        views = create_views(bundle.con, bundle.present, {})
        keys = {t: unique_key(t) for t in views}
        for t, key in keys.items():
            if key:
                n, distinct = bundle.con.execute(f"SELECT count(*), count(DISTINCT {key}) FROM {views[t]}").fetchone()
                assert n == distinct and n > 0, (t, key, n, distinct)
        naive = run_measures(bundle.con, compiled, views, plan=False)
        planned = run_measures(bundle.con, compiled, views, keys)
    assert planned.values and same(planned.values, naive.values)
    assert planned.present == naive.present


def test_the_plan_hashes_each_distinct_column_once():
    project = shipped().project
    compiled = compile_project_measures(project.measures, project.data)
    sql = table_sql(view_of("settlements"), compiled["settlements"], unique_key("settlements"))
    naive = table_sql(view_of("settlements"), compiled["settlements"], plan=False)
    assert naive.count("COUNT(DISTINCT mdtrt_id)") == 7 and naive.count("COUNT(DISTINCT setl_id)") == 2
    assert "DISTINCT mdtrt_id" not in sql and "DISTINCT setl_id" not in sql
    assert sql.count("GROUP BY fixmedins_code, year, mdtrt_id") == 1  # one pre-aggregation for seven counts
    assert "COUNT(setl_id) FILTER" in sql  # the key: no hash table at all
    # money sums in their own exact DECIMAL type, a ratio still cast to DECIMAL(38, 12)
    assert "SUM(medfee_sumamt) FILTER" in sql and "CAST(medfee_sumamt" not in sql


def test_a_lone_unfiltered_distinct_count_counts_every_value():
    con = duckdb.connect()
    con.execute("""CREATE TABLE clean_settlements AS SELECT * FROM (VALUES
        ('H1', 2025, 'M1', 'S1', '21', '0', 1.00, 1.0),
        ('H1', 2025, 'M1', 'S2', '21', '0', 1.00, 1.0),
        ('H1', 2025, NULL, 'S3', '11', '0', 1.00, 1.0),
        ('H2', 2025, NULL, 'S4', '11', '0', 1.00, 1.0)
        ) t(fixmedins_code, year, mdtrt_id, setl_id, med_type, refd_setl_flag, medfee_sumamt, amt)""")
    compiled = {"settlements": [compile_measure(spec(0, "count(DISTINCT mdtrt_id)", None), COLS, DataSettings())]}
    table = run_measures(con, compiled, {"settlements": "clean_settlements"}, {"settlements": "setl_id"})
    # H2 has rows but no encounter id: 0 encounters (a count), not missing; NULL ids are not counted
    assert table.get("H1", 2025) == {"m0": 1.0} and table.get("H2", 2025) == {"m0": 0.0}
