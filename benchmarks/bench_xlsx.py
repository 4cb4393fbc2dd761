"""Benchmark of reading an .xlsx table: pingyi's reader (python-calamine) against openpyxl's read-only
mode (the reader pingyi used before), both turning every cell into the same canonical text.

    .venv/bin/python benchmarks/bench_xlsx.py [--rows 100000]

The workbook is the example's settlements table (examples/province), repeated to --rows rows, written
once with openpyxl. Each reader runs in this process, alternately, best of --repeat.
"""

from __future__ import annotations

import argparse
import os
import platform
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
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
