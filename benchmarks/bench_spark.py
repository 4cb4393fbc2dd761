"""Benchmark: the Spark engine (`--engine spark`) against the DuckDB engine, same bundle, same run.

    .venv/bin/python benchmarks/bench_spark.py [--rows 1000000] [--providers 5000] [--master local[2]]

Generates N settlement rows (and the providers table) in Parquet with bench_measures' generator, then,
each in a fresh subprocess, extract + quality and the settlement measures with each engine (DuckDB
capped as pingyi caps it; Spark on `--master`). The run stops if the two engines' measures or quality
counts differ. Spark's rows/s here feed the cost model of docs/scale.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parent))

from bench_measures import _settlement_measures, _vm_hwm_mb, generate  # noqa: E402


def run_engine(data: Path, engine: str, master: str) -> dict:
    from pingyi.compute.measures import run_measures
    from pingyi.data.bundle import open_bundle
    from pingyi.data.quality import run_quality
    from pingyi.data.views import create_settlement_rows, unique_key
    from pingyi.engine import connection_wrapper

    project, measures = _settlement_measures()
    t0 = time.perf_counter()
    wrap = connection_wrapper(engine, master if engine == "spark" else None)
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        bundle = open_bundle(data, project.data, 2025, Path(tmp), wrap=wrap)
        quality = run_quality(bundle, project.data, 2025)
        t1 = time.perf_counter()
        create_settlement_rows(bundle.con)
        got = run_measures(
            bundle.con,
            {"settlements": measures},
            {"settlements": "settlement_rows"},
            {"settlements": unique_key("settlements")},
        )
        t2 = time.perf_counter()
        counts = quality.counts["settlements"]
        bundle.close()
    values = {f"{p}|{y}": v for (p, y), v in sorted(got.values.items())}
    return {
        "start_seconds": t_start - t0,
        "extract_quality_seconds": t1 - t_start,
        "measures_seconds": t2 - t1,
        "read": counts.read,
        "used": counts.used,
        "rejected": counts.rejected,
        "values": values,
    }


def measure(engine: str, data: Path, master: str) -> dict:
    out = subprocess.run(
        [sys.executable, str(HERE), "--child", engine, "--data", str(data), "--master", master],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--providers", type=int, default=5000)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--child")
    ap.add_argument("--data")
    args = ap.parse_args()
    if args.child:
        result = run_engine(Path(args.data), args.child, args.master)
        result["peak_rss_mb"] = _vm_hwm_mb()  # the Python process; Spark's JVM is another process
        print(json.dumps(result))
        return
    with tempfile.TemporaryDirectory(prefix="pingyi-bench-spark-") as tmp:
        data = Path(tmp) / "parquet"
        t0 = time.perf_counter()
        generate(data, args.rows, args.providers, "parquet")
        print(
            f"generated {args.rows:,} settlement rows for {args.providers:,} providers in {time.perf_counter() - t0:.1f} s"
        )
        print(f"load average before: {os.getloadavg()}")
        duck = measure("duckdb", data, args.master)
        spark = measure("spark", data, args.master)
        print(f"load average after: {os.getloadavg()}")
    if duck["values"] != spark["values"] or duck["rejected"] != spark["rejected"]:
        raise SystemExit("the engines disagree: the benchmark compares different numbers")
    for name, r in (("duckdb", duck), (f"spark {args.master}", spark)):
        work = r["extract_quality_seconds"] + r["measures_seconds"]
        print(
            f"{name:>16}: start {r['start_seconds']:6.1f} s, extract+quality {r['extract_quality_seconds']:7.1f} s, "
            f"measures {r['measures_seconds']:6.1f} s, {args.rows / work:,.0f} rows/s; "
            f"{len(r['values'])} provider-years identical"
        )


if __name__ == "__main__":
    main()
