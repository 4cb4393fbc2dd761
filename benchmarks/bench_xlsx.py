"""Benchmarks of .xlsx: reading an input table, and writing the report workbook.

    .venv/bin/python benchmarks/bench_xlsx.py [--rows 100000]
    .venv/bin/python benchmarks/bench_xlsx.py --providers 5000 [--old main] [--repeat 2]

Reading (the default): pingyi's reader (python-calamine) against openpyxl's read-only mode (the reader
pingyi used before), both turning every cell into the same canonical text. The workbook is the
example's settlements table (examples/province), repeated to --rows rows, written once with openpyxl.
Each reader runs in this process, alternately, best of --repeat.

Writing (--providers N): `pingyi report --format xlsx` (render_reports) of a synthetic results folder of
N providers, by this checkout's code and by the code of git revision --old (extracted with `git archive`
into a temporary folder), alternately, each run in a fresh process; wall time of render_reports and the
process's peak RSS, with the load averages before and after each run. The folder is what `pingyi
score` writes, made up: results.json repeats the 4 providers of tests/fixtures/report/results under new
codes (bench_report.synthetic_results), scores.csv carries their totals, quality.csv
--quality-rows rows per provider (about 74 MB at 5,000 providers, as a 10 M-settlement run writes) and
rejected.csv 10 rows per provider; manifest.json records the SHA-256 of results.json and scores.csv.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def write_workbook(path: Path, rows: int) -> int:
    import openpyxl
    import pyarrow.parquet as pq

    table = pq.read_table(ROOT / "examples" / "province" / "settlements.parquet").to_pylist()
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("settlements")
    ws.append(list(table[0]))
    for i in range(rows):
        ws.append(list(table[i % len(table)].values()))
    wb.save(path)
    return len(table[0])


def read_openpyxl(path: Path) -> int:
    import openpyxl

    from pingyi.data.sheets import cell_text

    wb = openpyxl.load_workbook(str(path), read_only=True, data_only=True)
    n = sum(1 for row in wb["settlements"].iter_rows(values_only=True) for _ in [[cell_text(v) for v in row]])
    wb.close()
    return n


def read_calamine(path: Path) -> int:
    from python_calamine import CalamineWorkbook

    from pingyi.data.sheets import _xlsx_cell

    wb = CalamineWorkbook.from_path(str(path))
    n = sum(1 for row in wb.get_sheet_by_name("settlements").iter_rows() for _ in [[_xlsx_cell(v) for v in row]])
    wb.close()
    return n


CHILD = """
import json, resource, sys, time
from pathlib import Path
from pingyi.report.run import render_reports
t = time.perf_counter()
run = render_reports(Path(sys.argv[1]), Path(sys.argv[2]), formats=["xlsx"])
wall = time.perf_counter() - t
use = resource.getrusage(resource.RUSAGE_SELF)
peak, cpu = use.ru_maxrss * 1024, use.ru_utime + use.ru_stime
print(json.dumps({"wall": wall, "timings": run.timings, "peak": peak, "cpu": cpu}))
"""


def results_folder(folder: Path, providers: int, quality_rows: int) -> None:
    """A results folder of `providers` providers, as `pingyi score` writes one (see the module's text)."""
    sys.path.insert(0, str(HERE))
    from bench_report import FIXTURE, synthetic_results

    folder.mkdir(parents=True)
    results = synthetic_results(providers)
    (folder / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    codes = [p["fixmedins_code"] for p in results["providers"]]
    with (folder / "scores.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["fixmedins_code", "total_score"])
        w.writerows([p["fixmedins_code"], repr(p["total_score"])] for p in results["providers"])
    with (FIXTURE / "quality.csv").open(encoding="utf-8", newline="") as fh:
        checks = list(csv.DictReader(fh))
    with (folder / "quality.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(checks[0]))
        w.writeheader()
        for code in codes:
            for i in range(quality_rows):
                w.writerow({**checks[i % len(checks)], "fixmedins_code": code, "check": f"check {i}"})
    with (FIXTURE / "rejected.csv").open(encoding="utf-8", newline="") as fh:
        rejected = list(csv.DictReader(fh))
    with (folder / "rejected.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rejected[0]))
        w.writeheader()
        for k in range(providers * 10):
            w.writerow({**rejected[k % len(rejected)], "row": str(k + 2)})
    outputs = {
        name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in ("results.json", "scores.csv")
    }
    (folder / "manifest.json").write_text(json.dumps({"outputs": outputs}, indent=1) + "\n", encoding="utf-8")


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def bench_workbook(args) -> None:
    print(
        f"machine: {platform.processor() or platform.machine()}; {os.cpu_count()} CPUs; Python {sys.version.split()[0]}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t = time.perf_counter()
        results_folder(root / "results", args.providers, args.quality_rows)
        sizes = {f.name: f.stat().st_size for f in (root / "results").iterdir()}
        print(
            f"results folder of {args.providers:,} providers in {time.perf_counter() - t:.1f} s: "
            + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in sorted(sizes.items()))
        )
        old = root / "old"
        old.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", args.old, "src", "reports"], check=True, capture_output=True
        )
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive.stdout, check=True)
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", args.old], check=True, capture_output=True, text=True
        ).stdout.strip()
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], check=True, capture_output=True, text=True
        ).stdout.strip()
        codes = {f"old ({args.old} {commit})": old / "src", f"new ({head} + working tree)": ROOT / "src"}
        runs: dict[str, list[dict]] = {name: [] for name in codes}
        for k in range(args.repeat):
            for name, src in codes.items():
                before = load()
                env = {**os.environ, "PYTHONPATH": str(src)}
                t = time.perf_counter()
                r = subprocess.run(
                    [sys.executable, "-c", CHILD, str(root / "results"), str(root / f"out-{k}-{len(runs[name])}")],
                    env=env,
                    capture_output=True,
                    text=True,
                )
                if r.returncode:
                    raise SystemExit(f"{name} failed:\n{r.stderr[-3000:]}")
                process = time.perf_counter() - t
                row = json.loads(r.stdout.strip().splitlines()[-1]) | {"process": process, "load": (before, load())}
                book = next((root / f"out-{k}-{len(runs[name])}").glob("*.xlsx"))
                row["mb"] = book.stat().st_size / 1e6
                runs[name].append(row)
                print(
                    f"  {name}: render_reports {row['wall']:.2f} s ("
                    + ", ".join(f"{s} {v:.2f} s" for s, v in row["timings"].items())
                    + f"), process {process:.2f} s (CPU {row['cpu']:.2f} s), peak RSS {row['peak'] / 1e9:.2f} GB, {row['mb']:.1f} MB; "
                    f"load {row['load'][0]} before, {row['load'][1]} after",
                    flush=True,
                )
        print()
        print(
            "| code | render_reports (best / median) | of which loading + contexts | workbook | process wall "
            "| process CPU | peak RSS |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|")
        for name, rows in runs.items():
            walls = sorted(r["wall"] for r in rows)
            best = min(rows, key=lambda r: r["wall"])
            print(
                f"| {name} | {walls[0]:.1f} s / {walls[len(walls) // 2]:.1f} s | {best['timings']['context']:.1f} s | "
                f"{best['timings']['xlsx']:.1f} s | {best['process']:.1f} s | {min(r['cpu'] for r in rows):.1f} s "
                f"| {max(r['peak'] for r in rows) / 1e9:.2f} GB |"
            )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--providers", type=int, default=0, help="benchmark the report workbook of this many providers")
    ap.add_argument("--old", default="main", help="the git revision whose code is the 'old' workbook writer")
    ap.add_argument("--quality-rows", type=int, default=150, help="rows of quality.csv per provider")
    args = ap.parse_args()
    if args.providers:
        bench_workbook(args)
        return
    print(
        f"machine: {platform.processor() or platform.machine()}; {os.cpu_count()} CPUs; Python {sys.version.split()[0]}; "
        f"load average before: {os.getloadavg()[0]:.2f}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "settlements.xlsx"
        t = time.perf_counter()
        cols = write_workbook(path, args.rows)
        print(
            f"wrote {args.rows:,} rows x {cols} columns ({path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t:.1f} s"
        )
        best = {"openpyxl read-only (reference)": [], "pingyi reader (python-calamine)": []}
        for _ in range(args.repeat):
            for name, fn in zip(best, (read_openpyxl, read_calamine)):
                t = time.perf_counter()
                n = fn(path)
                best[name].append(time.perf_counter() - t)
                assert n == args.rows + 1, n
        ref = min(best["openpyxl read-only (reference)"])
        for name, times in best.items():
            s = min(times)
            print(f"  {name:34s} {s:7.2f} s  {args.rows / s:>10,.0f} rows/s  {ref / s:5.1f}x the reference's speed")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
