"""The engines that read, check and measure a bundle: DuckDB (the default, in-process) or Spark
(`--engine spark`, national volumes on a cluster). Both run the same DuckDB SQL text of the data
stage and the measures (pingyi.engine.spark routes and renders it for Spark) and give the same outputs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pingyi.errors import PingyiError

ENGINES = ("duckdb", "spark")


def check_engine(engine: str, spark_master: str | None = None) -> None:
    if engine not in ENGINES:
        raise PingyiError(f"--engine {engine!r}; expected one of {', '.join(ENGINES)}")
    if spark_master is not None and engine != "spark":
        raise PingyiError(f"--spark-master {spark_master!r} needs --engine spark; found --engine {engine}")


def connection_wrapper(engine: str = "duckdb", spark_master: str | None = None) -> Callable[[Any], Any] | None:
    """None for DuckDB; for Spark the wrapper of the bundle's connection (pingyi.data.bundle.open_bundle)."""
    check_engine(engine, spark_master)
    if engine == "duckdb":
        return None
    from pingyi.engine.spark import spark_connection

    return spark_connection(spark_master)
