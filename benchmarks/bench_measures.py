"""Benchmark: the measure stage against a hand-written DuckDB query, same file, same run.

    .venv/bin/python benchmarks/bench_measures.py [--rows 10000000] [--providers 5000] [--format parquet|csv|both]

Generates N settlement rows (and the providers table) with DuckDB's own generator, then, each in a
fresh subprocess so peak memory is its own:

* DuckDB's scan of the file (the floor of any query over it);
* pingyi extract + quality: reading the bundle and checking every row;
* then, in that process over the same typed view (`settlement_rows`, what `pingyi score` reads), three
  measure queries alternated three times (medians): the hand-written one-pass query (hand_sql: one
  pre-aggregation per encounter with a bit per filter), the measures as written (naive_sql, the
  query pingyi ran before it planned) and pingyi's planned query (table_sql). The run stops if
  their numbers differ.

Goal: the planned query within 1.3x the hand-written one, at 1 M and 10 M rows.
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


# The best-effort hand-written query of the shipped settlement measures over the same typed view: ONE
# hash aggregate per (provider, year, encounter) carrying the partial sums and counts and a bit per
# encounter filter, then one small aggregate per provider and year. Written by hand from the measures'
# words (measures/settlements.yaml), not generated; the benchmark checks it returns pingyi's numbers.
DIRECT, NOT_REFUND = "direct_setl_flag = '1'", "NOT refd_setl_flag IN ('1')"
INPATIENT, OUTPATIENT = "med_type IN ('21', '22', '23', '24', '52', '92')", "med_type IN ('11', '13')"
HAND_SUMS = {  # measure -> (column, filter)
    "fund_paid": ("fund_pay_sumamt", DIRECT),
    "hifp_paid": ("hifp_pay", DIRECT),
    "inpatient_cost": ("medfee_sumamt", f"{DIRECT} AND {INPATIENT}"),
    "inpatient_ownpay_amt": ("fulamt_ownpay_amt", f"{DIRECT} AND {INPATIENT}"),
    "inpatient_psn_part_amt": ("psn_part_amt", f"{DIRECT} AND {INPATIENT}"),
    "outpatient_cost": ("medfee_sumamt", f"{DIRECT} AND {OUTPATIENT}"),
}
HAND_SETTLEMENTS = {  # counted by setl_id, the view's key
    "direct_settlements": f"{DIRECT} AND {NOT_REFUND}",
    "ecert_settlements": f"{DIRECT} AND {NOT_REFUND} AND mdtrt_cert_type IN ('01')",
}
HAND_ENCOUNTERS = {  # counted by distinct mdtrt_id
    "chronic_direct_visits": f"med_type IN ('14') AND {DIRECT} AND {NOT_REFUND}",
    "chronic_visits": f"med_type IN ('14') AND {NOT_REFUND}",
    "inpatient_stays": f"{DIRECT} AND {NOT_REFUND} AND {INPATIENT}",
    "offsite_direct_visits": f"offsite_flag = '1' AND {DIRECT} AND {NOT_REFUND}",
    "offsite_visits": f"offsite_flag = '1' AND {NOT_REFUND}",
    "outpatient_visits": f"{DIRECT} AND {NOT_REFUND} AND {OUTPATIENT}",
    "timely_listed_stays": f"{DIRECT} AND {NOT_REFUND} AND {INPATIENT} AND list_timely = '1'",
}


def hand_sql(view: str) -> str:
    inner = [f"sum({col}) FILTER (WHERE {cond}) AS {name}" for name, (col, cond) in HAND_SUMS.items()]
    inner += [f"count(*) FILTER (WHERE {cond}) AS {name}" for name, cond in HAND_SETTLEMENTS.items()]
    bits = " | ".join(f"CASE WHEN {cond} THEN {1 << i} ELSE 0 END" for i, cond in enumerate(HAND_ENCOUNTERS.values()))
    inner.append(f"bit_or({bits}) AS mask")
    outer = [f"coalesce(sum({name}), 0) AS {name}" for name in HAND_SUMS]
    outer += [f"sum({name}) AS {name}" for name in HAND_SETTLEMENTS]
    outer += [
        f"count(*) FILTER (WHERE mdtrt_id IS NOT NULL AND mask & {1 << i} <> 0) AS {name}"
        for i, name in enumerate(HAND_ENCOUNTERS)
    ]
    return (
        f"SELECT fixmedins_code, year, {', '.join(outer)} FROM ("
        f" SELECT fixmedins_code, year, mdtrt_id, {', '.join(inner)} FROM {view}"
        " GROUP BY fixmedins_code, year, mdtrt_id) GROUP BY fixmedins_code, year"
    )


def run_pingyi(data: Path, fmt: str, repeat: int = 3) -> dict:
    """Extract + quality once, then the three measure queries over the same typed view, alternated
    `repeat` times in this process (medians): pingyi's planned query, the measures as written (the
    previous query, naive_sql) and the hand-written one-pass query; their numbers must be identical."""
    import statistics

    from pingyi.compute.measures import run_measures
    from pingyi.data.bundle import open_bundle
    from pingyi.data.quality import run_quality
    from pingyi.data.views import create_settlement_rows, unique_key

    project, measures = _settlement_measures()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        bundle = open_bundle(data, project.data, 2025, Path(tmp))
        quality = run_quality(bundle, project.data, 2025)
        t1 = time.perf_counter()
        create_settlement_rows(bundle.con)
        compiled, views, keys = (
            {"settlements": measures},
            {"settlements": "settlement_rows"},
            {"settlements": unique_key("settlements")},
        )
        times: dict[str, list[float]] = {"planned": [], "naive": [], "hand": []}
        results: dict[str, dict] = {}
        for _ in range(repeat):
            for kind in times:
                start = time.perf_counter()
                if kind == "hand":
                    cur = bundle.con.execute(hand_sql("settlement_rows"))
                    names = [d[0] for d in cur.description]
                    got = {
                        (r[0], int(r[1])): {
                            n: None if v is None else float(v) for n, v in zip(names[2:], r[2:], strict=True)
                        }
                        for r in cur.fetchall()
                    }
                else:
                    got = dict(run_measures(bundle.con, compiled, views, keys, plan=kind == "planned").values)
                times[kind].append(time.perf_counter() - start)
                results[kind] = got
        counts = quality.counts["settlements"]
        bundle.close()
    if not (results["planned"] == results["naive"] == results["hand"]):
        raise SystemExit("the three measure queries disagree: the benchmark compares different numbers")
    return {
        "extract_quality_seconds": t1 - t0,
        "seconds": statistics.median(times["planned"]),
        "naive_seconds": statistics.median(times["naive"]),
        "hand_seconds": statistics.median(times["hand"]),
        "groups": len(results["planned"]),
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
    fn = {"pingyi": run_pingyi, "scan": run_scan}[kind]
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
            ours = measure("pingyi", data, fmt)
            rows = args.rows
            print(
                f"  {'DuckDB scan of the file':38s} {scan['seconds']:7.2f} s  {rows / scan['seconds']:>13,.0f} rows/s"
                f"  peak {scan['peak_rss_mb']:6.0f} MB"
            )
            for label, key in (
                ("measures: hand-written one-pass query", "hand_seconds"),
                ("measures: as written (previous query)", "naive_seconds"),
                ("measures: pingyi planned query", "seconds"),
            ):
                print(
                    f"  {label:38s} {ours[key]:7.2f} s  {rows / ours[key]:>13,.0f} rows/s"
                    f"  {ours[key] / ours['hand_seconds']:.2f}x hand-written (same view, same process, medians)"
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
