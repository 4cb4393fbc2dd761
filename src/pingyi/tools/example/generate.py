"""`generate_example`: check the arguments, draw the providers and their behaviour, generate the
settlements block by block while writer threads build and write the big tables, then write the
providers, audit flags and side tables, and the two JSON files (_planted.json, _example.json).

Every random stream is seeded from `seed`: PCG64(seed) draws the providers and their behaviour,
SeedSequence([seed, tag]) the rest, by tag: 1 a block's records, audit flags and planted lists
(with the block number), 2 prepayments, 3 reported and expert values, 4 planted settlements,
5 the optional columns' targets, 6 a block's optional columns, 7 a block's national-code gaps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from pingyi.errors import PingyiError
from pingyi.tools.example.arrow_columns import money_array, str_array
from pingyi.tools.example.audit import audit_rows, audit_table
from pingyi.tools.example.block import generate_block
from pingyi.tools.example.catalogue import Catalogue, read_catalogue
from pingyi.tools.example.context import Ctx
from pingyi.tools.example.contract import FORMATS, LEVELS, MIXED_FORMATS, TABLE_COLUMNS, TABLE_ORDER
from pingyi.tools.example.drg import DRG_BASE_COST, DRG_TABLE, LOW_RISK_MORTALITY
from pingyi.tools.example.fee_lines import assign_code_gaps
from pingyi.tools.example.geography import GEOGRAPHY, PROVINCE_ORDER
from pingyi.tools.example.params import SCALES, Scale, make_params
from pingyi.tools.example.people import make_pools
from pingyi.tools.example.planted import plant_lists, plant_settlements
from pingyi.tools.example.providers import make_providers
from pingyi.tools.example.rates import make_rates
from pingyi.tools.example.sampling import allocate
from pingyi.tools.example.side_tables import drg_table, reported_and_expert
from pingyi.tools.example.summary import ExampleSummary
from pingyi.tools.example.tables import fee_table, list_table, settlement_table
from pingyi.tools.example.writers import Sink, Workers, write_json

CHUNK_ROWS = 600_000  # settlements generated per block of providers


def generate_example(
    out_dir: Path,
    providers: int = 24,
    rows: int | None = None,
    seed: int = 2025,
    year: int = 2025,
    project_dir: Path | None = None,
    fmt: str = "mixed",
    scale: str = "province",
) -> ExampleSummary:
    """Write a deterministic synthetic bundle to `out_dir` and return what was written. `scale`
    sets the volumes per level (SCALES); `rows` defaults to the scale's."""
    if scale not in SCALES:
        raise PingyiError(f"--scale {scale}: unknown; expected one of {', '.join(SCALES)}")
    if rows is None:
        rows = SCALES[scale].rows
    _check_arguments(providers, rows, year, fmt)
    if project_dir is None:
        from pingyi.spec.project import default_project_dir

        project_dir = default_project_dir()
    cat = read_catalogue(Path(project_dir), year)
    out_dir = _prepare_out_dir(Path(out_dir))
    ctx = _make_context(providers, rows, seed, year, cat, SCALES[scale])
    pv, params = ctx.pv, ctx.params

    n_planted_settlements = 28 if rows >= 2000 else 0
    clean_rows = rows - n_planted_settlements
    per_provider = allocate(clean_rows, params.vol)

    ext = {name: (MIXED_FORMATS[name] if fmt == "mixed" else fmt) for name in TABLE_ORDER}
    level = 9 if rows <= 2_000_000 else None  # level 9 saves ~7 % on the committed example; too slow at scale
    sinks = {
        name: Sink(out_dir / f"{name}.{ext[name]}", ext[name], TABLE_COLUMNS[name], year, level) for name in TABLE_ORDER
    }

    planted, audit = _generate_blocks(ctx, seed, per_provider, sinks)
    _write_providers(ctx, seed, sinks["providers"])
    sinks["audit_flags"].write(audit_table(ctx, audit, sinks["audit_flags"].schema))

    rrng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 3])))
    rep, expt = reported_and_expert(ctx, rrng)
    sinks["reported"].write(rep)
    sinks["expert_scores"].write(expt)
    sinks["drg_groups"].write(drg_table(ctx))
    for name in TABLE_ORDER:
        sinks[name].close()

    for entry in planted:
        entry.pop("stay", None)
    planted.sort(key=lambda e: (TABLE_ORDER.index(e["table"]), e["row"]))
    summary = ExampleSummary(
        out_dir=out_dir,
        providers=pv.n,
        rows=sinks["settlements"].rows,
        seed=seed,
        year=year,
        format=fmt,
        table_rows={name: sinks[name].rows for name in TABLE_ORDER},
        severe_casemix_provider=pv.code[pv.special_a],
        fraud_provider=pv.code[pv.special_b],
        good_providers=[pv.code[i] for i in pv.good],
        poor_providers=[pv.code[i] for i in pv.poor],
        credit_clean_providers=[pv.code[i] for i in pv.clean],
        planted=len(planted),
    )
    files = {name: f"{name}.{ext[name]}" for name in TABLE_ORDER}
    _write_planted(out_dir, planted, files, seed, year)
    _write_info(out_dir, ctx, summary, files)
    summary.files = {
        p.name: p.stat().st_size
        for p in sorted(out_dir.iterdir())
        if p.is_file() and (p.stem in TABLE_COLUMNS or p.name in ("_planted.json", "_example.json"))
    }
    return summary


def _check_arguments(providers: int, rows: int, year: int, fmt: str) -> None:
    """Refuse arguments the generator cannot honour (every level must exist in all three provinces)."""
    if fmt not in FORMATS:
        raise PingyiError(f"--format {fmt}: unknown; expected one of {', '.join(FORMATS)}")
    if providers < 9:
        raise PingyiError(f"--providers {providers}: too few; expected at least 9 (every level in all three provinces)")
    if rows < 20 * providers:
        raise PingyiError(f"--rows {rows}: too few for {providers} providers; expected at least {20 * providers}")
    if not 2000 <= year <= 2100:
        raise PingyiError(f"--year {year}: expected a year between 2000 and 2100")


def _prepare_out_dir(out_dir: Path) -> Path:
    """The output directory, created, without tables of a previous run."""
    if out_dir.exists() and not out_dir.is_dir():
        raise PingyiError(f"{out_dir}: exists and is not a directory")
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in TABLE_ORDER:  # a previous run in another format must not leave a second copy of a table
        for ext in ("csv", "parquet", "xlsx", "json", "xml"):
            stale = out_dir / f"{name}.{ext}"
            if stale.exists():
                stale.unlink()
    return out_dir


def _make_context(providers: int, rows: int, seed: int, year: int, cat: Catalogue, scale: Scale) -> Ctx:
    """Providers, their behaviour and targets, person pools and the DRG arrays."""
    rng = np.random.Generator(np.random.PCG64(seed))
    pv = make_providers(rng, providers)
    params = make_params(rng, pv, scale)
    rates = make_rates(np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 5]))), pv, params, cat)
    pools = make_pools(rows, pv, params)
    drg_rw = np.array([g[2] for g in DRG_TABLE])
    drg_mort = np.array([g[4] for g in DRG_TABLE])
    return Ctx(
        year=year,
        pv=pv,
        params=params,
        pools=pools,
        cat=cat,
        deadline=int(cat.data.get("upload_deadline_days", 30) or 30),
        drg_cost=np.round(drg_rw * DRG_BASE_COST, 2),
        drg_los=np.array([g[3] for g in DRG_TABLE]),
        drg_mort=drg_mort,
        drg_lowrisk=drg_mort <= LOW_RISK_MORTALITY,
        next_setl={0: 0, 1: 0},
        next_mdtrt={0: 0, 1: 0},
        prior_hifp=np.zeros(pv.n, np.int64),
        encounters=np.zeros((pv.n, 2), np.int64),
        rates=rates,
        scale=scale,
    )


def _blocks(per_provider: np.ndarray) -> list[list[int]]:
    """Blocks of consecutive providers, about CHUNK_ROWS settlements each."""
    blocks: list[list[int]] = [[]]
    acc = 0
    for p in range(len(per_provider)):
        if acc >= CHUNK_ROWS and blocks[-1]:
            blocks.append([])
            acc = 0
        blocks[-1].append(p)
        acc += int(per_provider[p])
    return blocks


def _generate_blocks(
    ctx: Ctx, seed: int, per_provider: np.ndarray, sinks: dict[str, Sink]
) -> tuple[list[dict], list[dict]]:
    """Generate the blocks; settlements, settlement lists and fee lines are written on three threads.
    Returns the planted defects and the audit-flag rows."""
    blocks = _blocks(per_provider)
    planted_setl: list[dict] = []
    planted_lists: list[dict] = []
    audit: list[dict] = []
    plant_rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 4])))

    def settlements_job(b: dict, first: bool):
        def job():
            tab = settlement_table(ctx, b)
            if first:
                tab, found = plant_settlements(ctx, b, tab, plant_rng)
                planted_setl.extend(found)
            sinks["settlements"].write(tab)

        return job

    workers = Workers(["settlements", "setl_lists", "fee_items"])
    try:
        for bi, members in enumerate(blocks):
            brng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 1, bi])))
            xrng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 6, bi])))
            m = np.array(members)
            b = generate_block(ctx, m, per_provider[m], brng, xrng)
            assign_code_gaps(ctx, b, np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 7, bi]))))
            if bi == 0:
                planted_lists = plant_lists(ctx, b, brng)
            audit.extend(audit_rows(ctx, b, brng))
            # provider totals used by prepayment and reported denominators (clean rows only)
            prior = b["yi"] == 0
            np.add.at(ctx.prior_hifp, b["prov"][prior], b["money"]["hifp_pay"][prior])
            enc = b["kind"] != 2
            np.add.at(ctx.encounters, (b["prov"][enc], b["yi"][enc]), 1)
            # id strings once, shared by the three tables (Arrow arrays are immutable)
            b["ids"] = {c: str_array(b[c]) for c in ("setl_id", "mdtrt_id", "psn_no")}
            # b is read-only from here on: the workers build and write its tables
            workers.submit("settlements", settlements_job(b, bi == 0))
            workers.submit("setl_lists", lambda b=b: sinks["setl_lists"].write(list_table(ctx, b)))
            workers.submit("fee_items", lambda b=b: sinks["fee_items"].write(fee_table(ctx, b)))
            del b
    finally:
        workers.close()
    return planted_setl + planted_lists, audit


def _write_providers(ctx: Ctx, seed: int, sink: Sink) -> None:
    """providers, with a prepayment of about one month of last year's pooled-fund spending and a credit
    rating (信用评价) for most."""
    pv = ctx.pv
    prng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 2])))
    month = ctx.prior_hifp / 12.0 * prng.uniform(0.9, 1.1, pv.n)
    # in cents: whole 万元, as agencies set them; under 1万 (small providers) whole hundreds of yuan
    prepay = np.where(
        month >= 1_000_000, np.round(month / 1_000_000) * 1_000_000, np.maximum(np.round(month / 10_000), 1) * 10_000
    ).astype(np.int64)
    prepay_str = money_array(prepay).to_pylist()
    for i in pv.no_prepay:
        prepay_str[i] = None
    sink.write(
        pa.table(
            {
                "fixmedins_code": pv.code,
                "fixmedins_name": pv.name,
                "hosp_lv": [LEVELS[v] for v in pv.level],
                "fixmedins_type": pv.ftype,
                "prepayment": pa.array(prepay_str, pa.string()),
                "credit_rating": pa.array(pv.credit_rating, pa.string()),
            }
        )
    )


def _write_planted(out_dir: Path, planted: list[dict], files: dict[str, str], seed: int, year: int) -> None:
    """_planted.json: the planted rows, each with its file, row, column and reason."""
    planted_doc = {
        "about": "Rows planted with exactly one defect each, for the data-quality stage. row = 1-based data row "
        "(header excluded) in the file named; reason = the code the quality stage should report.",
        "year": year,
        "seed": seed,
        "files": files,
        "natural": {
            "late_upload": "late uploads also occur naturally (realistic, more at poor providers); "
            "only the planted ones are listed"
        },
        "rows": planted,
    }
    write_json(out_dir / "_planted.json", planted_doc)


def _write_info(out_dir: Path, ctx: Ctx, summary: ExampleSummary, files: dict[str, str]) -> None:
    """_example.json: the summary, the files and every provider's profile."""
    pv, cat = ctx.pv, ctx.cat
    info = summary.as_dict()
    info["about"] = (
        "Synthetic pingyi example bundle (pingyi example). Names and people are invented; codes use real "
        "GB/T 2260 divisions of 浙江/河南/四川. Regenerate with the same arguments for identical files."
    )
    info["files"] = files
    info["providers_detail"] = [
        {
            "fixmedins_code": pv.code[i],
            "fixmedins_name": pv.name[i],
            "hosp_lv": LEVELS[pv.level[i]],
            "province": GEOGRAPHY[PROVINCE_ORDER[pv.prov[i]]]["name"],
            "region": cat.region_of[PROVINCE_ORDER[pv.prov[i]]],
            "profile": (
                "good"
                if i in pv.good
                else "poor"
                if i in pv.poor
                else "severe_casemix_efficient"
                if i == pv.special_a
                else "fraud"
                if i == pv.special_b
                else "average"
            ),
            "credit_rating": pv.credit_rating[i],
        }
        for i in range(pv.n)
    ]
    write_json(out_dir / "_example.json", info)
