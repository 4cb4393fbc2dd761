"""`--engine spark`: the bundle's large Parquet tables read, checked and measured by Spark SQL.

The data stage and the measures talk to one connection through DuckDB SQL text (`con.execute`).
`SparkRouted` is that connection for a Spark run: it holds the bundle's DuckDB connection and a
SparkSession, and sends each statement to the engine that holds the relations it reads.

- The settlements, setl_lists and fee_items files in Parquet are read by Spark (`raw_<table>`, with
  `_row` from Parquet's row index), so everything derived from them (`qc_`, `clean_`, the duplicate
  marks, the `settlement_rows` and `stays` views, the measure queries, the case-mix rows) runs in
  Spark; their SQL is rendered by pingyi.engine.sparksql. A Spark table is a cached DataFrame
  registered as a temporary view; `UPDATE ... FROM` becomes a new DataFrame (a left join).
- The small tables (providers, reported, expert scores, audit flags, DRG groups, and any table not in
  Parquet) are read and checked by DuckDB as in a DuckDB run. When a Spark statement reads one of
  them (`clean_providers` in the provider check, `provider_regions` in the stays), it is copied to
  Spark once (Arrow) and copied again after DuckDB changes it.
- What the quality stage collects (`quality`, `rejected`: one row per provider x check and per
  rejected row) is inserted into DuckDB's tables, so the quality files are written by the same
  DuckDB `COPY` as in a DuckDB run, and every later stage gets the same Python values.

The outputs are the DuckDB engine's, byte for byte (tests/test_spark.py); the engine is recorded
nowhere in them. Spark reads the Parquet files at the bundle's paths, so on a cluster the bundle sits
on storage every node mounts at the same place (docs/scale.md).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import sqlglot
from sqlglot import exp

from pingyi.engine.sparksql import to_spark_tree
from pingyi.errors import PingyiError

# the tables Spark reads when their file is Parquet: the ones that grow with a region's volume
BIG_TABLES = ("settlements", "setl_lists", "fee_items")

TRACE = bool(os.environ.get("PINGYI_SPARK_TRACE"))  # each statement and its time on stderr
INSTALL = "install it with pip install 'pingyi[spark]' (pyspark 3.5 or 4.x)"


def spark_session(master: str | None = None) -> Any:
    """The SparkSession for a run: `master` (a URL: local[2], spark://host:7077, yarn, k8s://...), or the
    one spark-submit configured, or local[*]. The settings make Spark SQL compute as DuckDB does
    (non-ANSI casts, UTC, exact decimal products, timestamps without time zone)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise PingyiError(f"--engine spark: the Python package pyspark is not installed; {INSTALL}") from exc
    if not _java_found():
        raise PingyiError(
            "--engine spark: no Java runtime found (java on PATH or JAVA_HOME); expected Java 17 or 21, "
            "e.g. apt-get install openjdk-17-jre-headless"
        )
    builder = SparkSession.builder.appName("pingyi")
    configured = os.environ.get("PYSPARK_SUBMIT_ARGS", "") or os.environ.get("SPARK_ENV_LOADED", "")
    if master:
        builder = builder.master(master)
    elif not configured:
        builder = builder.master("local[*]")
    settings = {
        "spark.sql.ansi.enabled": "false",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.timestampType": "TIMESTAMP_NTZ",
        "spark.sql.decimalOperations.allowPrecisionLoss": "false",
        "spark.sql.caseSensitive": "false",
        "spark.ui.showConsoleProgress": "false",
    }
    if master is None or master.startswith("local"):
        settings["spark.ui.enabled"] = "false"
        cores = (master or "local[*]").partition("[")[2].rstrip("]")
        settings["spark.sql.shuffle.partitions"] = cores if cores.isdigit() else str(os.cpu_count() or 2)
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # the JVM did not start: a wrong Java, a bad master URL
        raise PingyiError(
            f"--engine spark: Spark did not start ({_first_line(exc)}); expected Java 17 or 21 and a master URL "
            f"Spark accepts (local[2], spark://host:7077, yarn); found master {master or 'local[*]'}"
        ) from exc
    session.sparkContext.setLogLevel("ERROR")
    for key, value in settings.items():
        if not key.startswith("spark.ui") and not key.startswith("spark.sql.shuffle"):
            session.conf.set(key, value)  # a session reused by getOrCreate keeps its old settings
    return session


def _java_found() -> bool:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return True
    return shutil.which("java") is not None


def _first_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


class SparkSqlError(RuntimeError):
    """A statement Spark could not run (a bug in its rendering): the DuckDB text and the Spark text."""


@dataclass
class _Rows:
    """A Spark result, fetched like DuckDB's."""

    columns: list[str]
    table: Any  # pyarrow.Table
    _pos: int = 0
    _rows: list[tuple] | None = field(default=None, repr=False)

    def _all(self) -> list[tuple]:
        if self._rows is None:
            data = [c.to_pylist() for c in self.table.columns]
            self._rows = list(zip(*data, strict=True)) if data else []
        return self._rows

    def fetchall(self) -> list[tuple]:
        rows = self._all()[self._pos :]
        self._pos = len(self._all())
        return rows

    def fetchone(self) -> tuple | None:
        rows = self._all()
        if self._pos >= len(rows):
            return None
        self._pos += 1
        return rows[self._pos - 1]

    def fetchnumpy(self) -> dict[str, np.ndarray]:
        """As DuckDB's: numbers with NULLs as masked arrays, text as object arrays."""
        import pyarrow as pa

        out: dict[str, np.ndarray] = {}
        for name, col in zip(self.columns, self.table.columns, strict=True):
            col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
            if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
                out[name] = np.array(col.to_pylist(), dtype=object)
            elif col.null_count:
                mask = np.asarray(col.is_null().to_numpy(zero_copy_only=False))
                filled = col.fill_null(0).to_numpy(zero_copy_only=False)
                out[name] = np.ma.masked_array(filled, mask=mask)
            else:
                out[name] = col.to_numpy(zero_copy_only=False)
        return out


def _names(tree: Any) -> set[str]:
    """The relations a statement reads (CTE names left out)."""
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    return {t.name.lower() for t in tree.find_all(exp.Table) if t.name and t.name.lower() not in ctes}


def _parquet_nodes(tree: exp.Expression) -> list[exp.Table]:
    return [t for t in tree.find_all(exp.Table) if isinstance(t.this, exp.ReadParquet)]


def _parquet_path(node: exp.Table) -> str:
    read = node.this
    first = read.this if read.this is not None else read.expressions[0]
    return str(first.this)


class SparkRouted:
    """A DuckDB connection and a SparkSession behind DuckDB's `execute` (see the module's docstring)."""

    def __init__(self, duck: Any, spark: Any, big_tables: Iterable[str] = BIG_TABLES):
        self.duck = duck
        self.spark = spark
        self.big = {t.lower() for t in big_tables}
        self.in_spark: set[str] = set()  # relations Spark holds (created there)
        self.mirrored: set[str] = set()  # DuckDB relations copied to Spark, current
        self.cached: dict[str, Any] = {}  # Spark tables (checkpointed DataFrames) by name
        self._ids = itertools.count(1)
        self._views: set[str] = set()
        self._paths: list[str] = []  # the Parquet files Spark reads

    # ------------------------------------------------------------------ DuckDB's connection API

    def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> Any:
        if parameters:
            return self._duck(sql, None, parameters)
        try:
            trees = [t for t in sqlglot.parse(sql, read="duckdb") if t is not None]
        except sqlglot.errors.ParseError:
            trees = []
        if not trees or any(isinstance(t, (exp.Command, exp.Copy, exp.Set)) for t in trees):
            return self._duck(sql, trees)
        result: Any = None
        for tree in trees:
            text = sql if len(trees) == 1 else tree.sql(dialect="duckdb")
            result = self._one(text, tree)
        return result

    def executemany(self, sql: str, rows: Any) -> Any:
        tree = sqlglot.parse_one(sql, read="duckdb")
        self._forget_mirrors(_names(tree))
        return self.duck.executemany(sql, rows)

    def close(self) -> None:
        try:
            self.cached.clear()
            for name in self.in_spark | self.mirrored | self._views:
                with contextlib.suppress(Exception):
                    self.spark.catalog.dropTempView(name)
        finally:
            self.duck.close()

    # ------------------------------------------------------------------ routing

    def _spark_side(self, tree: Any) -> bool:
        if any(self._big_parquet(n) for n in _parquet_nodes(tree)):
            return True
        return bool(_names(tree) & self.in_spark)

    def _big_parquet(self, node: exp.Table) -> bool:
        stem = Path(_parquet_path(node).rstrip("/")).name.partition(".")[0].lower()
        return stem in self.big

    def _one(self, sql: str, tree: Any) -> Any:
        if not TRACE:
            return self._route(sql, tree)
        started = time.perf_counter()
        try:
            return self._route(sql, tree)
        finally:
            print(f"[spark-trace] {time.perf_counter() - started:7.2f}s {' '.join(sql.split())[:110]}", file=sys.stderr)

    def _route(self, sql: str, tree: Any) -> Any:
        if isinstance(tree, exp.Describe):
            inner = tree.this
            if isinstance(inner, exp.Expression) and self._spark_side(inner):
                df = self._spark_df(inner)
                return _Rows(["column_name", "column_type"], _arrow_of(df.schema))
            return self._duck(sql, [tree])
        if isinstance(tree, exp.Create):
            target = tree.this.name.lower() if isinstance(tree.this, exp.Table) else tree.this.this.name.lower()
            body = tree.expression
            if body is not None and self._spark_side(body):
                self._create_in_spark(target, body, kind=str(tree.args.get("kind") or "").upper())
                return _Rows([], _empty_arrow())
            self._release(target)
            return self._duck(sql, [tree])
        if isinstance(tree, exp.Drop):
            dropped = [t.name.lower() for t in tree.args.get("tables") or [] if isinstance(t, exp.Table)]
            if dropped and all(t in self.in_spark for t in dropped):
                for target in dropped:
                    self._release(target)
                return _Rows([], _empty_arrow())
            return self._duck(sql, [tree])
        if isinstance(tree, exp.Update):
            target = tree.this.name.lower()
            if target in self.in_spark:
                self._update_in_spark(target, tree)
                return _Rows([], _empty_arrow())
            return self._duck(sql, [tree])
        if isinstance(tree, exp.Insert):
            body = tree.expression
            target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
            if target.name.lower() in self.in_spark:
                raise SparkSqlError(f"INSERT INTO {target.name}: a Spark table; the data stage inserts into DuckDB's")
            if body is not None and self._spark_side(body):
                table = self._collect(body)
                name = f"__from_spark_{next(self._ids)}"
                self.duck.register(name, table)
                try:
                    # the target with its column list, when the statement names one
                    self.duck.execute(f"INSERT INTO {tree.this.sql(dialect='duckdb')} SELECT * FROM {name}")
                finally:
                    self.duck.unregister(name)
                self._forget_mirrors({target.name.lower()})
                return _Rows([], _empty_arrow())
            return self._duck(sql, [tree])
        if isinstance(tree, exp.Query) and self._spark_side(tree):
            table = self._collect(tree)
            return _Rows(list(table.column_names), table)
        return self._duck(sql, [tree])

    def _duck(self, sql: str, trees: list[Any] | None, parameters: Any = None) -> Any:
        for tree in trees or []:
            if isinstance(tree, exp.Drop):
                self._forget_mirrors({t.name.lower() for t in tree.args.get("tables") or []})
            elif isinstance(tree, (exp.Create, exp.Insert, exp.Update)):
                node = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
                if isinstance(node, exp.Table):
                    self._forget_mirrors({node.name.lower()})
        return self.duck.execute(sql, parameters) if parameters else self.duck.execute(sql)

    # ------------------------------------------------------------------ Spark side

    def _prepare(self, tree: exp.Expression) -> exp.Expression:
        """`tree` with read_parquet calls replaced by Spark views of the files and DuckDB relations it reads
        copied to Spark."""
        tree = tree.copy()
        for node in _parquet_nodes(tree):
            name = f"__parquet_{next(self._ids)}"
            path = _parquet_path(node)
            try:
                df = self.spark.read.parquet(path)
            except Exception as exc:
                raise PingyiError(
                    f"{Path(path).name}: Spark cannot read it as Parquet ({_first_line(exc)}); expected a complete "
                    "Parquet file (or a directory of Parquet part files) at that path"
                ) from exc
            from pyspark.sql import functions as F

            df.select("*", F.col("_metadata.row_index").alias("file_row_number")).createOrReplaceTempView(name)
            self._views.add(name)
            self._paths.append(path)
            alias = node.args.get("alias")
            node.replace(exp.Table(this=exp.to_identifier(name), alias=alias.copy() if alias else None))
        for name in _names(tree) - self.in_spark - self.mirrored - self._views:
            self._mirror(name)
        return tree

    def _spark_text(self, tree: exp.Expression) -> str:
        prepared = self._prepare(tree)
        return to_spark_tree(prepared, self._columns_of).sql(dialect="spark")

    def _columns_of(self, query: exp.Expression) -> list[str]:
        return list(self.spark.sql(to_spark_tree(query, self._columns_of).sql(dialect="spark")).columns)

    def _spark_df(self, tree: exp.Expression) -> Any:
        text = self._spark_text(tree)
        try:
            return self.spark.sql(text)
        except Exception as exc:
            raise SparkSqlError(
                f"Spark rejected a statement: {_first_line(exc)}\n-- DuckDB:\n{tree.sql(dialect='duckdb')}\n-- Spark:\n{text}"
            ) from exc

    def _collect(self, tree: Any) -> Any:
        df = self._spark_df(tree)
        try:
            return df.toArrow()
        except Exception as exc:
            raise self._failure(exc) from exc

    def _failure(self, exc: BaseException) -> Exception:
        """A statement that failed while running: a damaged input file is the user's (named), else ours."""
        text = str(exc)
        for path in self._paths:
            if path in text or Path(path).name in text:
                return PingyiError(
                    f"{Path(path).name}: the file is damaged and cannot be read as PARQUET ({_first_line(exc)}); "
                    "expected a complete PARQUET file: re-export it from the platform (or copy it again)"
                )
        return SparkSqlError(f"Spark failed running a statement: {_first_line(exc)}")

    def _materialised(self, df: Any) -> Any:
        try:
            return _materialised(df)
        except Exception as exc:
            raise self._failure(exc) from exc

    def _create_in_spark(self, name: str, body: exp.Expression, kind: str) -> None:
        df = self._spark_df(body)
        self._release(name)
        if kind == "TABLE":
            df = self._materialised(df)
            self.cached[name] = df
        df.createOrReplaceTempView(name)
        self.in_spark.add(name)
        if name in self._duck_relations():
            self.duck.execute(f'DROP {self._duck_kind(name)} "{name}"')

    def _update_in_spark(self, name: str, tree: exp.Update) -> None:
        """UPDATE t SET c = e, ... FROM s WHERE <join> as t LEFT JOIN s: e where a row of s matches, else c."""
        from_ = tree.args.get("from_") or tree.args.get("from")
        assert from_ is not None, "UPDATE without FROM runs in DuckDB"
        source = from_.this
        s_name = source.alias_or_name
        marker = "__matched"
        columns = list(self.spark.table(name).columns)
        sets = {}
        for eq in tree.expressions:
            col = eq.this.name.lower()
            value = eq.expression.copy()
            for c in value.find_all(exp.Column):
                if not c.table:
                    c.set("table", exp.to_identifier(name))
            sets[col] = value
        items = []
        for c in columns:
            own = exp.column(c, table=name, quoted=True)
            if c.lower() in sets:
                items.append(
                    exp.alias_(
                        exp.Case(
                            ifs=[exp.If(this=exp.column(marker, table=s_name), true=sets[c.lower()])], default=own
                        ),
                        c,
                        quoted=True,
                    )
                )
            else:
                items.append(own)
        joined = exp.Subquery(
            this=exp.select("*", exp.alias_(exp.true(), marker)).from_(source.copy()),
            alias=exp.TableAlias(this=exp.to_identifier(s_name)),
        )
        query = (
            exp.select(*items)
            .from_(exp.to_table(name))
            .join(joined, on=tree.args["where"].this.copy(), join_type="LEFT")
        )
        df = self._materialised(self._spark_df(query))
        self.cached.pop(name, None)
        df.createOrReplaceTempView(name)
        self.cached[name] = df

    def _release(self, name: str) -> None:
        if name in self.in_spark:
            self.in_spark.discard(name)
            self.cached.pop(name, None)
            with contextlib.suppress(Exception):
                self.spark.catalog.dropTempView(name)

    def _mirror(self, name: str) -> None:
        """Copy DuckDB's relation `name` to Spark (a small table: providers, regions)."""
        if name not in self._duck_relations():
            return  # not a relation of ours (e.g. a Spark view registered by the caller)
        rel = self.duck.sql(f'SELECT * FROM "{name}"')
        table = rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else rel.arrow()
        df = (
            self.spark.createDataFrame(table)
            if table.num_rows
            else self.spark.createDataFrame([], _spark_schema(table.schema))
        )
        df.createOrReplaceTempView(name)
        self.mirrored.add(name)

    def _forget_mirrors(self, names: set[str]) -> None:
        """Drop the Spark copies of DuckDB relations a statement changed. A copy of a DuckDB view is not
        dropped when only its base table changes: the data stage creates each view after its table's
        last change (clean_<table> after the duplicate marks), which this relies on."""
        for name in names & self.mirrored:
            self.mirrored.discard(name)
            with contextlib.suppress(Exception):
                self.spark.catalog.dropTempView(name)

    def _duck_relations(self) -> set[str]:
        rows = self.duck.execute("SELECT lower(table_name) FROM information_schema.tables").fetchall()
        return {r[0] for r in rows}

    def _duck_kind(self, name: str) -> str:
        row = self.duck.execute(
            "SELECT table_type FROM information_schema.tables WHERE lower(table_name) = ?", [name]
        ).fetchone()
        return "VIEW" if row and row[0] == "VIEW" else "TABLE"


def _materialised(df: Any) -> Any:
    """A table computed once, as DuckDB's CREATE TABLE does, and cut from the plan that made it: a query over
    `qc_settlements` then plans a scan of its rows, not the thousands of expressions of the checks again
    (measured: planning such a lineage took longer than running it)."""
    return df.localCheckpoint(eager=True)


def _pa() -> Any:
    import pyarrow

    return pyarrow


def _empty_arrow() -> Any:
    return _pa().table({})


def _arrow_of(schema: Any) -> Any:
    pa = _pa()
    return pa.table(
        {
            "column_name": pa.array([f.name for f in schema.fields], pa.string()),
            "column_type": pa.array([f.dataType.simpleString() for f in schema.fields], pa.string()),
        }
    )


def _spark_schema(schema: Any) -> Any:
    """A Spark schema for an empty Arrow table (createDataFrame cannot infer one from no rows)."""
    from pyspark.sql import types as T

    pa = _pa()

    def kind(t: Any) -> Any:
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            return T.StringType()
        if pa.types.is_integer(t):
            return T.LongType()
        if pa.types.is_floating(t):
            return T.DoubleType()
        if pa.types.is_decimal(t):
            return T.DecimalType(t.precision, t.scale)
        if pa.types.is_boolean(t):
            return T.BooleanType()
        if pa.types.is_timestamp(t):
            return T.TimestampNTZType()
        if pa.types.is_date(t):
            return T.DateType()
        return T.StringType()

    return T.StructType([T.StructField(f.name, kind(f.type), True) for f in schema])


def spark_connection(master: str | None = None) -> Any:
    """A function wrapping the bundle's DuckDB connection (pingyi.data.bundle.open_bundle's `wrap`)."""
    session = spark_session(master)
    return lambda duck: SparkRouted(duck, session)
