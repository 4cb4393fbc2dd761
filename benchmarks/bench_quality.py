"""Benchmark: extract + quality against DuckDB reading every column of the same file, same run.

    .venv/bin/python benchmarks/bench_quality.py [--rows 10000000] [--providers 5000] [--format parquet|csv|both]
        [--old-src DIR] [--repeat 3] [--data DIR]

Generates the settlements bundle of benchmarks/bench_measures.py (`generate`), then, each in a fresh
subprocess so peak memory is its own, alternated `--repeat` times (medians):

* DuckDB reading every column of the file: `SELECT sum(strlen(c))` for every column (CSV as text, the
  way pingyi reads it; not count(c), which Parquet answers from its metadata), under pingyi's memory cap;
* pingyi extract + quality (`open_bundle` + `run_quality`: reading the bundle and checking every row);
* with `--old-src DIR` (the `src` folder of another checkout), the same with that code, and the run
  stops unless both write byte-identical quality.csv and rejected.csv and the same row counts.

Each variant's wall time and CPU time (user + system, all threads) are reported: on a shared machine the
CPU time moves far less between runs than the wall time.

Goal: extract + quality within 2.5x DuckDB's read of every column, CSV and Parquet, at 10 M rows.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
SRC = HERE.parent.parent / "src"


def _cpu() -> float:
    """CPU seconds of this process so far (all threads): beside wall time, as other jobs share the machine."""
    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime + use.ru_stime


def run_scan(data: Path, fmt: str) -> dict:
    """DuckDB reading every value of settlements (the length of each), the floor of any check over it."""
    import duckdb

    from pingyi.data.bundle import memory_limit

    source = (
        f"read_parquet('{data / 'settlements.parquet'}')"
        if fmt == "parquet"
        else f"read_csv('{data / 'settlements.csv'}', all_varchar = true)"
    )
    con = duckdb.connect(":memory:", config={"preserve_insertion_order": True})
    limit = memory_limit()
    if limit is not None:
        con.execute(f"SET memory_limit = '{limit}'")
    cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
    t0, c0 = time.perf_counter(), _cpu()
    # strlen, not count: Parquet answers count(c) from its metadata without reading a value
    con.execute(f"SELECT {', '.join(f'sum(strlen(CAST({c} AS VARCHAR)))' for c in cols)} FROM {source}").fetchall()
    return {"seconds": time.perf_counter() - t0, "cpu": _cpu() - c0}


def run_pingyi(data: Path, fmt: str) -> dict:
    """open_bundle + run_quality, timed; the outputs' hashes and counts to compare two versions."""
    from pingyi.data.bundle import open_bundle
    from pingyi.data.quality import run_quality
    from pingyi.validate import require_valid

    project = require_valid().project
    with tempfile.TemporaryDirectory() as tmp:
        t0, c0 = time.perf_counter(), _cpu()
        bundle = open_bundle(data, project.data, 2025, Path(tmp))
        quality = run_quality(bundle, project.data, 2025)
        seconds, cpu = time.perf_counter() - t0, _cpu() - c0
        files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in quality.files}
        counts = {t: [c.read, c.used, c.rejected, c.flagged] for t, c in quality.counts.items()}
        bundle.close()
    return {"seconds": seconds, "cpu": cpu, "files": files, "counts": counts}


def _vm_hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0  # pragma: no cover - non-Linux


def child(kind: str, data: str, fmt: str) -> None:
    result = {"pingyi": run_pingyi, "scan": run_scan}[kind](Path(data), fmt)
    result["peak_rss_mb"] = _vm_hwm_mb()
    print(json.dumps(result))


def measure(kind: str, data: Path, fmt: str, src: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(src))
    out = subprocess.run(
        [sys.executable, str(HERE), "--child", kind, "--data", str(data), "--format", fmt],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=str(HERE.parent.parent),
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--providers", type=int, default=5000)
    ap.add_argument("--format", default="both", choices=["parquet", "csv", "both"])
    ap.add_argument("--old-src", type=Path, help="the src folder of the code to compare with (outputs must match)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--data", type=Path, help="keep the generated bundles here (reused when present)")
    ap.add_argument("--child")
    args = ap.parse_args()
    if args.child:
        child(args.child, args.data, args.format)
        return
    sys.path.insert(0, str(HERE.parent))
    from bench_measures import generate

    formats = ["parquet", "csv"] if args.format == "both" else [args.format]
    versions = {"new": SRC} | ({"old": args.old_src.resolve()} if args.old_src else {})
    with tempfile.TemporaryDirectory(prefix="pingyi-bench-") as tmp:
        root = args.data or Path(tmp)
        for fmt in formats:
            data = root / f"{fmt}-{args.rows}-{args.providers}"
            if not (data / f"settlements.{fmt}").exists():
                t0 = time.perf_counter()
                generate(data, args.rows, args.providers, fmt)
                print(
                    f"{fmt}: generated {args.rows:,} rows, {args.providers:,} providers in {time.perf_counter() - t0:.1f} s"
                )
            print(f"{fmt}, {args.rows:,} rows: start {uptime()}")
            times: dict[str, list[float]] = {"scan": [], **{v: [] for v in versions}}
            cpus: dict[str, list[float]] = {"scan": [], **{v: [] for v in versions}}
            peaks: dict[str, float] = {}
            outputs: dict[str, dict] = {}
            for _ in range(args.repeat):
                got = measure("scan", data, fmt, SRC)
                times["scan"].append(got["seconds"])
                cpus["scan"].append(got["cpu"])
                for name, src in versions.items():
                    got = measure("pingyi", data, fmt, src)
                    times[name].append(got["seconds"])
                    cpus[name].append(got["cpu"])
                    peaks[name] = max(peaks.get(name, 0.0), got["peak_rss_mb"])
                    outputs[name] = {"files": got["files"], "counts": got["counts"]}
            print(f"{fmt}, {args.rows:,} rows: end   {uptime()}")
            scan, scan_cpu = statistics.median(times["scan"]), statistics.median(cpus["scan"])
            print(
                f"  DuckDB reads every column   {scan:7.2f} s   cpu {scan_cpu:6.2f} s"
                f"   (runs: {', '.join(f'{t:.2f}' for t in times['scan'])})"
            )
            for name in versions:
                t, c = statistics.median(times[name]), statistics.median(cpus[name])
                print(
                    f"  extract + quality ({name:3s})   {t:7.2f} s  {t / scan:5.2f}x  cpu {c:6.2f} s {c / scan_cpu:5.2f}x"
                    f"  peak {peaks[name]:5.0f} MB   (runs: {', '.join(f'{x:.2f}' for x in times[name])})"
                )
            counts = outputs["new"]["counts"]["settlements"]
            print(
                f"  settlements read {counts[0]:,} = used {counts[1]:,} + rejected {counts[2]:,}; flagged {counts[3]:,}"
            )
            if "old" in outputs and outputs["old"] != outputs["new"]:
                raise SystemExit(f"old and new outputs differ: {outputs}")


if __name__ == "__main__":
    main()
