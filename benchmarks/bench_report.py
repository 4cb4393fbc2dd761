"""Benchmark of `pingyi report` (issue 5): PDF cards per second and the Excel workbook for 5,000 providers.

    .venv/bin/python benchmarks/bench_report.py [--cards 40] [--batch 200] [--workers 2] [--providers 5000]

Not a test: it prints a Markdown table for benchmarks/README.md. Inputs are synthetic results.json files
made by replicating the test fixture's 4 providers (tests/fixtures/report/results) under new codes, so
every card has the full content (35 indicators, radar, fix-first, changes, adjustment, data quality) on
its one A4 page. Card runs are wall-clock times of render_cards() as `pingyi report` calls it, worker
start-up included (about a second per worker process: importing weasyprint, configuring fonts, the
first cards filling its caches); the --batch run shows the rate of a province-sized batch, where that
start-up is spread over many cards. The reference measured in the same run is a minimal one-page
weasyprint document with one CJK heading and one paragraph (same fonts, same FontConfiguration reuse),
i.e. weasyprint's fixed cost per PDF (its bold heading embeds a second face; a card embeds one).
"""

from __future__ import annotations

import argparse
import copy
import ctypes.util
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "report" / "results"


def synthetic_results(n: int) -> dict:
    """results.json with n providers: the fixture's providers repeated under new codes and names."""
    base = json.loads((FIXTURE / "results.json").read_text(encoding="utf-8"))
    providers = []
    for i in range(n):
        p = copy.deepcopy(base["providers"][i % len(base["providers"])])
        code = f"{p['fixmedins_code'][:7]}{i:05d}"
        p["fixmedins_code"] = code
        p["fixmedins_name"] = f"{p['fixmedins_name']}（{i + 1}号）"
        p["rank"] = i + 1
        providers.append(p)
    base["providers"] = providers
    return base


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import openpyxl
    import weasyprint

    hb = ctypes.util.find_library("harfbuzz-subset")
    return (
        f"{cpu}; {os.cpu_count()} CPUs; Python {platform.python_version()}; weasyprint {weasyprint.__version__}; "
        f"openpyxl {openpyxl.__version__}; libharfbuzz-subset: {'yes' if hb else 'NO (CJK ~25x slower)'}"
    )


def bench_reference(repeat: int = 10) -> float:
    """Pages per second of a minimal CJK page in this process (fixed cost per PDF: fonts, subsetting)."""
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    fc = FontConfiguration()
    html = (
        '<html><head><style>@page{size:A4;font-family:"Noto Sans CJK SC"} body{font-family:"Noto Sans CJK SC"}'
        "</style></head><body><h1>杭州市第一人民医院</h1><p>2025年度 医保定点医疗机构评议报告卡 总分 92.92 优秀</p>"
        "</body></html>"
    )
    with tempfile.TemporaryDirectory() as tmp:
        HTML(string=html).write_pdf(f"{tmp}/warm.pdf", font_config=fc)
        t = time.perf_counter()
        for i in range(repeat):
            HTML(string=html).write_pdf(f"{tmp}/{i}.pdf", font_config=fc)
        return repeat / (time.perf_counter() - t)


def bench_cards(n: int, workers: int) -> dict:
    from pingyi.report.context import build_contexts
    from pingyi.report.pdf import render_cards

    ctxs = build_contexts(synthetic_results(n))
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        c0, k0 = time.process_time(), resource.getrusage(resource.RUSAGE_CHILDREN)
        done = render_cards(list(ctxs.cards.values()), Path(tmp), workers=workers)
        wall = time.perf_counter() - t
        k1 = resource.getrusage(resource.RUSAGE_CHILDREN)  # the worker processes, joined by now
        cpu = time.process_time() - c0 + (k1.ru_utime + k1.ru_stime) - (k0.ru_utime + k0.ru_stime)
    pages = sum(d.pages for d in done)
    return {
        "cards": n,
        "workers": workers,
        "seconds": wall,
        "cards_per_s": n / wall,
        "pages": pages,
        "pages_per_s": pages / wall,
        "cpu_s": cpu,
    }


def bench_card_cpu(repeat: int = 5) -> float:
    """CPU seconds of one card in one process (render + write), best of `repeat`."""
    from pingyi.report.context import build_contexts
    from pingyi.report.pdf import PdfRenderer

    ctx = build_contexts(synthetic_results(4)).cards
    ctx = ctx[sorted(ctx)[1]]
    r = PdfRenderer()
    best = float("inf")
    with tempfile.TemporaryDirectory() as tmp:
        r.card(ctx, Path(tmp) / "warm.pdf")
        for i in range(repeat):
            t = time.process_time()
            r.card(ctx, Path(tmp) / f"{i}.pdf")
            best = min(best, time.process_time() - t)
    return best


def bench_workbook(n: int) -> dict:
    from pingyi.report.context import build_contexts
    from pingyi.report.xlsx import write_workbook

    results = synthetic_results(n)
    t, c = time.perf_counter(), time.process_time()
    ctxs = build_contexts(results)
    t_ctx, c_ctx = time.perf_counter() - t, time.process_time() - c
    with tempfile.TemporaryDirectory() as tmp:
        t, c = time.perf_counter(), time.process_time()
        path = write_workbook(ctxs.cards.values(), ctxs.committee, Path(tmp) / "bench.xlsx")
        t_xlsx, c_xlsx = time.perf_counter() - t, time.process_time() - c
        size = path.stat().st_size
    return {
        "providers": n,
        "rows": n * 35,
        "context_s": t_ctx,
        "workbook_s": t_xlsx,
        "total_s": t_ctx + t_xlsx,
        "cpu_s": c_ctx + c_xlsx,
        "mb": size / 1e6,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cards", type=int, default=40)
    ap.add_argument("--batch", type=int, default=200, help="a larger run with --workers (0: skip)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--providers", type=int, default=5000)
    ap.add_argument("--skip-pdf", action="store_true")
    ap.add_argument("--skip-xlsx", action="store_true")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    print(f"machine: {machine()}")
    if os.path.exists("/proc/loadavg"):
        print(f"load average before: {Path('/proc/loadavg').read_text().split()[:3]}")
    rows = []
    if not args.skip_pdf:
        ref = bench_reference()
        rows.append(("reference: minimal 1-page CJK PDF, 1 process", f"{ref:.1f} pages/s", ""))
        cpu = bench_card_cpu()
        rows.append(
            ("one card, CPU time in 1 process (best of 5)", f"{cpu:.2f} s", f"= {1 / cpu:.2f} cards/s per core")
        )
        runs = [(args.cards, w) for w in sorted({1, args.workers})] + (
            [(args.batch, args.workers)] if args.batch else []
        )
        for n, w in runs:
            r = bench_cards(n, w)
            rows.append(
                (
                    f"{r['cards']} cards, {w} worker process(es)",
                    f"{r['cards_per_s']:.2f} cards/s",
                    f"{r['pages']} pages, {r['seconds']:.1f} s wall; {r['cpu_s']:.1f} s CPU in all processes "
                    f"= {r['cpu_s'] / r['cards']:.2f} s per card, start-up included",
                )
            )
    if not args.skip_xlsx:
        r = bench_workbook(args.providers)
        rows.append(
            (
                f"workbook, {r['providers']:,} providers ({r['rows']:,} indicator rows)",
                f"{r['total_s']:.1f} s",
                f"wall: contexts {r['context_s']:.1f} s + workbook {r['workbook_s']:.1f} s; "
                f"CPU {r['cpu_s']:.1f} s; {r['mb']:.1f} MB",
            )
        )
    if os.path.exists("/proc/loadavg"):
        print(f"load average after: {Path('/proc/loadavg').read_text().split()[:3]}")
    print()
    print("| measurement | result | detail |")
    print("|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
