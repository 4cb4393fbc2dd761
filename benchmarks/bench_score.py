"""Benchmark: `pingyi score` end to end, stage by stage, at 500 and 5,000 providers over the same rows.

    .venv/bin/python benchmarks/bench_score.py [--rows 10000000] [--providers 500 5000] [--format parquet]
        [--data-root /tmp/pingyi-bench-score] [--repeat 1]

The bundles (settlements and providers only) come from bench_measures.generate (DuckDB's generator),
written once under --data-root and reused by later runs (10 M rows take minutes to generate). Each run
of `pingyi score` (evaluate_to, what the command calls, with the shipped project) is its own
subprocess, so its peak memory (VmHWM) is its own; the stage times come from wrapping the pipeline's
stage functions in that process:

* quality: opening the bundle (extract) and the quality stage (run_quality);
* measures: providers, views, measures, case mix and the side tables (up to the bundle's close);
* evaluate: indicator values (compute.indicators.evaluate_all);
* score: the score stage (score_all: funnels, indicator scores, aggregation, ranks, peers) and the
  prepayment adjustments;
* outputs: the result files and the manifest (write_results, build_manifest, write_manifest);
* wall: the subprocess from start to exit (imports and validation included).

Peak RSS after each stage (VmHWM so far) shows which stage sets the peak. Goal (speed issue): 5,000
providers x 10 M settlements <= 50 s wall and <= 1.5 GB peak; peak flat from 500 to 5,000 (+-20 %).
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

STAGES = ("quality", "measures", "evaluate", "score", "outputs")


def _status(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")  # pragma: no cover - non-Linux


def child(data: Path, out: Path) -> dict:
    """One `pingyi score` in this process, the stage functions wrapped with timers."""
    import pingyi.run.evaluate as evaluate
    import pingyi.run.pipeline as pipeline

    times: dict[str, float] = dict.fromkeys(STAGES, 0.0)
    cpu: dict[str, float] = dict.fromkeys(STAGES, 0.0)  # CPU time of the process (all threads): less load-bound
    peaks: dict[str, float] = {}
    marks = {"t": time.perf_counter(), "cpu": time.process_time()}

    def upto(stage: str) -> None:
        now, now_cpu = time.perf_counter(), time.process_time()
        times[stage] = times.get(stage, 0.0) + now - marks["t"]
        cpu[stage] = cpu.get(stage, 0.0) + now_cpu - marks["cpu"]
        marks["t"], marks["cpu"] = now, now_cpu
        peaks[stage] = _status("VmHWM")

    def wrap(module, name: str, before: str | None = None, after: str | None = None) -> None:
        fn = getattr(module, name)

        def wrapped(*args, **kwargs):
            if before is not None:
                upto(before)
            result = fn(*args, **kwargs)
            if after is not None:
                upto(after)
            return result

        setattr(module, name, wrapped)

    # the pipeline's calls in order: everything before a boundary is charged to the stage it closes
    wrap(pipeline, "open_bundle", before="validate")
    wrap(pipeline, "data_guards", before="quality")  # after run_quality
    wrap(pipeline, "evaluate_all", before="measures", after="evaluate")
    wrap(pipeline, "adjust_all", after="score")
    wrap(evaluate, "output_folder", before="score")
    start = time.perf_counter()
    marks["t"], marks["cpu"] = start, time.process_time()
    evaluate.evaluate_to(data, HERE.parents[1], 2025, None, out)
    upto("outputs")
    return {
        "stages": {k: round(v, 2) for k, v in times.items()},
        "cpu": {k: round(v, 2) for k, v in cpu.items()},
        "peak_after_mb": {k: round(v) for k, v in peaks.items()},
        "seconds": round(time.perf_counter() - start, 2),
        "peak_rss_mb": round(_status("VmHWM")),
        "results_json_mb": round((out / "results.json").stat().st_size / 2**20, 1),
    }


def run_once(data: Path, src: str | None = None) -> dict:
    """One `pingyi score` of `data` in a subprocess; `src`: the pingyi source tree it imports (another
    checkout's src, to compare code before and after a change under the same load)."""
    env = {**os.environ, "PYTHONPATH": src} if src else None
    with tempfile.TemporaryDirectory(prefix="pingyi-bench-score-out-") as tmp:
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, str(HERE), "--child", str(data), "--out", str(Path(tmp) / "out")],
            capture_output=True,
            text=True,
            env=env,
        )
        wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"pingyi score failed on {data}:\n{proc.stderr[-4000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall"] = round(wall, 2)
    return result


def bundle(root: Path, rows: int, providers: int, fmt: str) -> Path:
    from bench_measures import generate

    data = root / f"{providers}p-{rows}r-{fmt}"
    if not (data / ".complete").is_file():
        t0 = time.perf_counter()
        generate(data, rows, providers, fmt)
        (data / ".complete").write_text("")
        print(f"generated {rows:,} rows for {providers:,} providers in {time.perf_counter() - t0:.0f} s", flush=True)
    return data


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--providers", type=int, nargs="+", default=[500, 5000])
    ap.add_argument("--format", default="parquet", choices=["parquet", "csv"])
    ap.add_argument("--data-root", default="/tmp/pingyi-bench-score")
    ap.add_argument("--repeat", type=int, default=1, help="runs per bundle, alternated between the bundles")
    ap.add_argument(
        "--compare-src",
        help="another pingyi src directory (e.g. a copy of the previous commit's): each run is alternated with "
        "one importing it, same bundle, same load",
    )
    ap.add_argument(
        "--data", help="an existing bundle to use instead of generating one (its rows and providers as they are)"
    )
    ap.add_argument("--child")
    ap.add_argument("--out")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(Path(args.child), Path(args.out))))
        return
    root = Path(args.data_root)
    if args.data:
        datas = {Path(args.data).name: Path(args.data)}
    else:
        datas = {
            f"{n:,} providers x {args.rows:,} rows": bundle(root, args.rows, n, args.format) for n in args.providers
        }
    variants = [("this code", None)] + ([("compared", args.compare_src)] if args.compare_src else [])
    for i in range(args.repeat):
        for label, data in datas.items():
            for name, src in variants:
                load = os.getloadavg()
                r = run_once(data, src)
                after = os.getloadavg()
                stages = "  ".join(f"{k} {v:5.1f}" for k, v in r["stages"].items())
                print(
                    f"run {i + 1} ({name}): {label} ({args.format}): wall {r['wall']:6.1f} s, "
                    f"peak {r['peak_rss_mb']:5,} MB; {stages}; results.json {r['results_json_mb']} MB; "
                    f"load {load[0]:.2f} before, {after[0]:.2f} after",
                    flush=True,
                )
                print(f"        peak after each stage (MB): {r['peak_after_mb']}", flush=True)
                if "cpu" in r:
                    print("        CPU time per stage (s): " + "  ".join(f"{k} {v:.1f}" for k, v in r["cpu"].items()))


if __name__ == "__main__":
    main()
