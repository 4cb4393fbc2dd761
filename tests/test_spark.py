"""The Spark engine (`pingyi score --engine spark`): the same outputs as the DuckDB engine, byte for byte,
on the shipped example (its large tables in Parquet); the SQL semantics it renders (division, averages, rounding,
text to timestamp and number, IN over a subquery) checked value by value against DuckDB; and the user
errors when Spark cannot run. Skipped only where pyspark or a Java runtime is missing (CI installs
both: scripts/setup.sh --test)."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest

from conftest import EXAMPLE
from pingyi.engine.sparksql import java_pattern, to_spark
from pingyi.run.evaluate import evaluate_to

HAVE_PYSPARK = importlib.util.find_spec("pyspark") is not None
HAVE_JAVA = bool(
    shutil.which("java") or (os.environ.get("JAVA_HOME") and Path(os.environ["JAVA_HOME"], "bin", "java").exists())
)
needs_spark = pytest.mark.skipif(
    not (HAVE_PYSPARK and HAVE_JAVA),
    reason="the Spark engine needs pyspark and a Java runtime (pip install 'pingyi[spark]'; apt-get install "
    "openjdk-17-jre-headless)",
)


@pytest.fixture(scope="module")
def spark():
    from pingyi.engine.spark import spark_session

    # two cores, two shuffle partitions, no UI: the settings of a test, not of a cluster
    return spark_session("local[2]")


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@needs_spark
def test_spark_engine_writes_the_duckdb_engines_files_byte_for_byte(spark, example, tmp_path):
    """The shipped example (Parquet settlements, settlement lists and fee lines; planted defects: rejected
    rows, duplicates, late uploads) scored with Spark on local[2]: every output file is the DuckDB
    engine's (the session's `example` run), the manifest included (the engine is recorded nowhere)."""
    assert {p.name for p in EXAMPLE.glob("*.parquet")} == {
        "settlements.parquet",
        "setl_lists.parquet",
        "fee_items.parquet",
    }
    sparked = evaluate_to(EXAMPLE, None, None, None, tmp_path / "spark", engine="spark", spark_master="local[2]")
    a, b = _files(example.out), _files(tmp_path / "spark")
    assert sorted(a) == sorted(b)
    assert {"results.json", "quality.csv", "rejected.csv", "manifest.json", "indicators.csv"} <= set(a)
    differing = [name for name in a if a[name] != b[name]]
    assert differing == []
    # the run was not trivially empty: rows were rejected (in Spark's tables too) and providers graded
    assert sparked.quality.counts["settlements"].rejected > 0 and sparked.quality.counts["fee_items"].read > 10**6
    assert len(sparked.results) == len(example.results["providers"]) > 20
    # the engine is not a parameter of the run (it would break the identity, and `pingyi verify` re-runs
    # with DuckDB), nor is pyspark a dependency the manifest lists
    manifest, results = json.loads(b["manifest.json"]), json.loads(b["results.json"])
    assert "engine" not in manifest["parameters"] and "engine" not in results["parameters"]
    assert "pyspark" not in manifest["dependencies"]


def _duck_values(sql: str) -> list[tuple]:
    con = duckdb.connect()
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _spark_values(spark, sql: str) -> list[tuple]:
    return [tuple(r) for r in spark.sql(to_spark(sql)).collect()]


CASES = [
    # DuckDB's / is floating point, IEEE at zero; Spark's would be a decimal, or NULL
    "SELECT CAST(7 AS BIGINT) / 2, 1.5::DECIMAL(16,2) / 3::DECIMAL(16,2), 1 / 0, -1 / 0, CAST(2 AS DOUBLE) / 3",
    # avg of integers and decimals: a DOUBLE (Spark: a DECIMAL with more digits)
    "SELECT avg(x), avg(CAST(x AS DECIMAL(38, 12))), avg(y) FROM (VALUES (1, 0.1::DECIMAL(16,2)), (2, 0.2::DECIMAL(16,2)), (4, NULL)) t(x, y)",
    # round of a DOUBLE: half away from zero on x * 10^n
    "SELECT round(1 / 8, 2), round(5 / 2000000, 6), round(-5 / 2000000, 6), round(2 / 3, 6), round(1 / 0, 2)",
    # text to timestamp: the shapes both read, the declared formats for the rest, NULL for the others
    "SELECT v, coalesce(TRY_CAST(v AS TIMESTAMP), try_strptime(v, ['%Y-%m-%d %H:%M:%S', '%Y-%m-%d %H:%M', "
    "'%Y/%m/%d %H:%M:%S', '%Y/%m/%d', '%Y%m%d%H%M%S', '%Y%m%d'])) FROM (VALUES ('2025-03-01 08:00:00'), "
    "('2025-03-01'), ('2025-03-01T08:00:00.5'), ('2025-03-01 08:00'), ('2025/03/01 08:00:00'), ('2025/3/1'), "
    "('20250301080000'), ('20250301'), ('2025-02-30 08:00:00'), ('abc'), (NULL)) t(v) ORDER BY v NULLS FIRST",
    # text to a number: Java would read 1d and 1f, DuckDB does not
    "SELECT v, TRY_CAST(v AS DOUBLE), TRY_CAST(v AS DECIMAL(16,2)) FROM (VALUES ('1.5'), ('-2'), ('1e3'), ('1d'), "
    "('.5'), ('x'), ('154.465')) t(v) ORDER BY v",
    # IN over a subquery in a select list: SQL's three values
    "SELECT v, v IN (SELECT k FROM (VALUES ('a'), ('b')) r(k)), v IN (SELECT k FROM (VALUES ('a'), (NULL)) r(k)), "
    "v IN (SELECT k FROM (VALUES ('a')) r(k) WHERE false) FROM (VALUES ('a'), ('z'), (NULL)) t(v) ORDER BY v NULLS FIRST",
    # date_diff counts boundaries: 23:00 to 01:00 the next day is 1 day, 31 Jan to 1 Feb 1 month
    "SELECT date_diff('day', TIMESTAMP '2025-01-31 23:00:00', TIMESTAMP '2025-02-01 01:00:00'), "
    "date_diff('month', TIMESTAMP '2025-01-31 23:00:00', TIMESTAMP '2025-02-01 01:00:00'), "
    "date_diff('year', DATE '2024-12-31', DATE '2025-01-01'), date_diff('day', CAST(TIMESTAMP '2025-03-02 08:00:00' AS DATE), "
    "CAST(TIMESTAMP '2025-03-01 09:00:00' AS DATE))",
    # masks: UBIGINT bits as BIGINT, full matches, byte lengths, list slices
    "SELECT (CAST(5 AS UBIGINT) & CAST(4 AS UBIGINT)) <> 0, regexp_full_match('H123', 'H[0-9]+'), "
    "regexp_full_match('xH123', 'H[0-9]+'), strlen('12.5'), array_to_string(list_filter(['a', NULL, 'b', 'c'], "
    "lambda x: x IS NOT NULL)[2:], '; '), array_to_string(list_filter(['a'], lambda x: x IS NOT NULL)[2:], '; ')",
]


@needs_spark
@pytest.mark.parametrize(
    "sql", CASES, ids=["division", "avg", "round", "timestamps", "numbers", "in_subquery", "date_diff", "masks"]
)
def test_rendered_sql_computes_as_duckdb(spark, sql):
    assert _spark_values(spark, sql) == _duck_values(sql)


def test_strptime_formats_become_java_patterns():
    assert java_pattern("%Y-%m-%d %H:%M:%S") == "yyyy-M-d H:m:s"
    assert java_pattern("%Y%m%d%H%M%S") == "yyyyMMddHHmmss"
    assert java_pattern("%Y-%m-%dT%H:%M:%S.%f") == "yyyy-M-d'T'H:m:s.SSSSSS"


def test_unknown_engine_and_a_master_without_spark_are_user_errors(cli, tmp_path):
    r = cli("score", "--data", tmp_path, "--out", tmp_path / "o", "--engine", "impala")
    assert r.exit_code == 2 and "--engine 'impala'" in r.stderr and "duckdb, spark" in r.stderr
    r = cli("score", "--data", tmp_path, "--out", tmp_path / "o", "--spark-master", "local[2]")
    assert r.exit_code == 2 and "needs --engine spark" in r.stderr


def test_missing_pyspark_or_java_names_what_to_install(cli, tmp_path, monkeypatch):
    import sys

    import pingyi.engine.spark as sparkmod

    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    r = cli("score", "--data", tmp_path, "--out", tmp_path / "o", "--engine", "spark")
    assert r.exit_code == 2 and "pyspark is not installed" in r.stderr and "pingyi[spark]" in r.stderr
    assert "Traceback" not in r.stderr
    monkeypatch.undo()
    if not HAVE_PYSPARK:
        return
    monkeypatch.setattr(sparkmod, "_java_found", lambda: False)
    r = cli("score", "--data", tmp_path, "--out", tmp_path / "o", "--engine", "spark")
    assert r.exit_code == 2 and "no Java runtime" in r.stderr and "openjdk-17-jre-headless" in r.stderr
