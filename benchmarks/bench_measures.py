"""Benchmark: the measure stage against a hand-written DuckDB query, same file, same run.

    .venv/bin/python benchmarks/bench_measures.py [--rows 10000000] [--providers 5000] [--format parquet|csv|both]

Generates N settlement rows (and the providers table) with DuckDB's own generator, then, each in a
fresh subprocess so peak memory is its own:

* reference: ONE hand-written DuckDB query computing the same aggregates as the project's
  settlement measures, straight over the file;
* pingyi measures: the generated measure query (`pingyi.compute.measures`) over the rows that passed the
  data-quality stage (the query the pipeline runs);
* pingyi extract + quality: reading the bundle and checking every row (reported separately).

Prints rows per second, wall time and peak RSS for each. Goals (issue 3): measure stage within
1.3x the reference, peak memory under 1 GB, for Parquet; CSV within 1.3x DuckDB's own CSV scan.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()


def generate(out: Path, rows: int, providers: int, fmt: str) -> None:
    import duckdb

    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(f"""
        CREATE TABLE prov AS
        SELECT 'H' || CASE i % 3 WHEN 0 THEN '330106' WHEN 1 THEN '410105' ELSE '510107' END
                   || lpad(CAST(i AS VARCHAR), 5, '0') AS fixmedins_code,
               '医院' || i AS fixmedins_name,
               CASE WHEN i % 10 = 0 THEN '三级' WHEN i % 3 = 0 THEN '二级' ELSE '一级及基层' END AS hosp_lv,
               '综合医院' AS fixmedins_type, '' AS prepayment, i AS pid
        FROM range(1, {providers} + 1) t(i)""")
    con.execute(f"""
        CREATE TABLE s AS
        WITH g AS (
          SELECT i, (hash(i) % {providers}) + 1 AS p, hash(i * 7) % 1000 AS r, hash(i * 13) % 100000 AS c
          FROM range(0, {rows}) t(i))
        SELECT 'S' || i AS setl_id, 'M' || (i // 2) AS mdtrt_id, 'P' || (hash(i) % 2000000) AS psn_no,
               CASE WHEN r < 700 THEN '310' ELSE '390' END AS insutype,
               CASE WHEN r < 120 THEN '21' WHEN r < 150 THEN '14' ELSE '11' END AS med_type,
               strftime(TIMESTAMP '2024-01-01' + to_seconds(CAST(hash(i * 3) % 63072000 AS BIGINT)),
                        '%Y-%m-%d %H:%M:%S') AS setl_time,
               printf('%.2f', c / 10.0) AS medfee_sumamt, '0.00' AS fulamt_ownpay_amt,
               printf('%.2f', c * 0.06) AS hifp_pay, printf('%.2f', c * 0.06) AS fund_pay_sumamt,
               printf('%.2f', c * 0.04) AS psn_part_amt, printf('%.2f', c * 0.01) AS acct_pay,
               printf('%.2f', c * 0.03) AS psn_cash_pay,
               prov.fixmedins_code,
               CASE WHEN r % 17 = 0 THEN '440106' ELSE substr(prov.fixmedins_code, 2, 6) END AS insuplc_admdvs,
               '0' AS refd_setl_flag, CAST(r % 90 AS VARCHAR) AS age, CASE WHEN r % 2 = 0 THEN '1' ELSE '2' END AS gend,
               CASE WHEN r % 3 = 0 THEN '01' ELSE '03' END AS mdtrt_cert_type
        FROM g JOIN prov ON prov.pid = g.p ORDER BY i""")
    con.execute("ALTER TABLE prov DROP COLUMN pid")
    if fmt == "parquet":
        con.execute(f"COPY prov TO '{out / 'providers.parquet'}' (FORMAT parquet)")
        con.execute(f"COPY s TO '{out / 'settlements.parquet'}' (FORMAT parquet, COMPRESSION zstd)")
    else:
        con.execute(f"COPY prov TO '{out / 'providers.csv'}' (HEADER)")
        con.execute(f"COPY s TO '{out / 'settlements.csv'}' (HEADER)")
    con.close()


def _settlement_measures():
    from pingyi.compute.measures import compile_project_measures
    from pingyi.validate import require_valid

    project = require_valid().project
    return project, compile_project_measures(project.measures, project.data)["settlements"]


def run_reference(data: Path, fmt: str) -> dict:
    """One hand-written query: the same aggregates, straight over the file."""
    import duckdb

    from pingyi.data.bundle import memory_limit

    project, measures = _settlement_measures()
    source = (
        f"read_parquet('{data / 'settlements.parquet'}')"
        if fmt == "parquet"
        else f"read_csv('{data / 'settlements.csv'}', all_varchar=true)"
    )
    select = ",\n  ".join(f"{m.aggregate.sql(dialect='duckdb')} AS {m.name}" for m in measures)
    sql = f"""
        WITH t AS (
          SELECT fixmedins_code, setl_id, mdtrt_id, med_type, mdtrt_cert_type, '1' AS direct_setl_flag,
                 CAST(medfee_sumamt AS DECIMAL(16,2)) AS medfee_sumamt, CAST(hifp_pay AS DECIMAL(16,2)) AS hifp_pay,
                 CAST(fund_pay_sumamt AS DECIMAL(16,2)) AS fund_pay_sumamt,
                 CAST(fulamt_ownpay_amt AS DECIMAL(16,2)) AS fulamt_ownpay_amt,
                 CAST(psn_part_amt AS DECIMAL(16,2)) AS psn_part_amt, refd_setl_flag,
                 CASE WHEN substr(insuplc_admdvs, 1, 4) = substr(fixmedins_code, 2, 4) THEN '0' ELSE '1' END AS offsite_flag,
                 year(CAST(setl_time AS TIMESTAMP)) AS year
          FROM {source})
        SELECT fixmedins_code, year,
          {select}
        FROM t GROUP BY fixmedins_code, year"""
    con = duckdb.connect()
    limit = memory_limit()
    if limit is not None:  # the same cap as pingyi's (its default, or --memory-limit)
        con.execute(f"SET memory_limit = '{limit}'")
    t0 = time.perf_counter()
    n = len(con.execute(sql).fetchall())
    return {"seconds": time.perf_counter() - t0, "groups": n}


def run_scan(data: Path, fmt: str) -> dict:
    """DuckDB's own scan of the file (count of rows), the floor for any query over it."""
    import duckdb

    source = (
        f"read_parquet('{data / 'settlements.parquet'}')"
        if fmt == "parquet"
        else f"read_csv('{data / 'settlements.csv'}', all_varchar=true)"
    )
    con = duckdb.connect()
    t0 = time.perf_counter()
    con.execute(f"SELECT count(*), count(DISTINCT fixmedins_code) FROM {source}").fetchall()
    return {"seconds": time.perf_counter() - t0}


def run_pingyi(data: Path, fmt: str) -> dict:
    from pingyi.compute.measures import run_measures
    from pingyi.data.bundle import open_bundle
    from pingyi.data.quality import run_quality
    from pingyi.data.views import create_settlement_rows

    project, measures = _settlement_measures()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        bundle = open_bundle(data, project.data, 2025, Path(tmp))
        quality = run_quality(bundle, project.data, 2025)
        t1 = time.perf_counter()
        create_settlement_rows(bundle.con)
        table = run_measures(bundle.con, {"settlements": measures}, {"settlements": "settlement_rows"})
        t2 = time.perf_counter()
        counts = quality.counts["settlements"]
        bundle.close()
    return {
        "extract_quality_seconds": t1 - t0,
        "seconds": t2 - t1,
        "groups": len(table.values),
        "read": counts.read,
        "used": counts.used,
        "rejected": counts.rejected,
    }


def _vm_hwm_mb() -> float:
    """Peak RSS of this process's own address space (VmHWM). Not ru_maxrss: on Linux that survives
    exec, so a child would report the benchmark parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # pragma: no cover - non-Linux


def child(kind: str, data: str, fmt: str) -> None:
    fn = {"reference": run_reference, "pingyi": run_pingyi, "scan": run_scan}[kind]
    result = fn(Path(data), fmt)
    result["peak_rss_mb"] = _vm_hwm_mb()
    print(json.dumps(result))


def measure(kind: str, data: Path, fmt: str) -> dict:
    out = subprocess.run(
        [sys.executable, str(HERE), "--child", kind, "--data", str(data), "--format", fmt],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--providers", type=int, default=5000)
    ap.add_argument("--format", default="both", choices=["parquet", "csv", "both"])
    ap.add_argument(
        "--memory-limit",
        help="cap DuckDB memory in every variant, e.g. 1GB, or 'none' "
        "(PINGYI_MEMORY_LIMIT; default: pingyi's DEFAULT_MEMORY_LIMIT)",
    )
    ap.add_argument("--child")
    ap.add_argument("--data")
    args = ap.parse_args()
    if args.child:
        child(args.child, args.data, args.format)
        return
    if args.memory_limit:
        os.environ["PINGYI_MEMORY_LIMIT"] = args.memory_limit
    formats = ["parquet", "csv"] if args.format == "both" else [args.format]
    with tempfile.TemporaryDirectory(prefix="pingyi-bench-") as tmp:
        for fmt in formats:
            data = Path(tmp) / fmt
            t0 = time.perf_counter()
            generate(data, args.rows, args.providers, fmt)
            print(
                f"\n{fmt}: generated {args.rows:,} settlement rows for {args.providers:,} providers "
                f"in {time.perf_counter() - t0:.1f} s"
            )
            scan = measure("scan", data, fmt)
            ref = measure("reference", data, fmt)
            ours = measure("pingyi", data, fmt)
            rows = args.rows
            print(
                f"  {'DuckDB scan of the file':38s} {scan['seconds']:7.2f} s  {rows / scan['seconds']:>13,.0f} rows/s"
                f"  peak {scan['peak_rss_mb']:6.0f} MB"
            )
            print(
                f"  {'reference: one hand-written query':38s} {ref['seconds']:7.2f} s  {rows / ref['seconds']:>13,.0f} rows/s"
                f"  peak {ref['peak_rss_mb']:6.0f} MB"
            )
            print(
                f"  {'pingyi measure stage (query)':38s} {ours['seconds']:7.2f} s  {rows / ours['seconds']:>13,.0f} rows/s"
                f"  ratio {ours['seconds'] / ref['seconds']:.2f}x reference"
            )
            print(
                f"  {'pingyi extract + quality (all checks)':38s} {ours['extract_quality_seconds']:7.2f} s  "
                f"{rows / ours['extract_quality_seconds']:>13,.0f} rows/s  peak (whole process) "
                f"{ours['peak_rss_mb']:6.0f} MB"
            )
            print(
                f"  read {ours['read']:,} = used {ours['used']:,} + rejected {ours['rejected']:,}; "
                f"{ours['groups']:,} provider-years"
            )


if __name__ == "__main__":
    main()
