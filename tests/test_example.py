"""The synthetic example bundle (`pingyi example`): determinism, contract, realism, planted defects.

Row-by-row checks run on the small bundle (`--scale small`, conftest.py), generated once per session;
determinism runs use smaller ones still. The shipped example's size (a province's volumes) is checked
on examples/province itself with DuckDB, and one test regenerates it and compares. Row checks here
are an independent re-statement of docs/data-bundle.md, so the example and the quality stage are held
to the same contract from two sides.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from pingyi.cli import app
from pingyi.spec.project import default_project_dir
from pingyi.tools.example import LEVELS, TABLE_COLUMNS, generate_example

YEAR = 2025
PROJECT = default_project_dir()
DATA = yaml.safe_load((PROJECT / "data.yaml").read_text(encoding="utf-8"))
MED_TYPES = set(DATA["inpatient_med_types"]) | set(DATA["outpatient_med_types"])
INSUTYPES = {"310", "320", "330", "340", "390", "392", "510"}
MONEY_RE = re.compile(r"^-?\d+\.\d{2}$")
TIME_FMT = "%Y-%m-%d %H:%M:%S"
REQUIRED = [
    "setl_id",
    "mdtrt_id",
    "psn_no",
    "insutype",
    "med_type",
    "setl_time",
    "medfee_sumamt",
    "fulamt_ownpay_amt",
    "hifp_pay",
    "fund_pay_sumamt",
    "psn_part_amt",
    "acct_pay",
    "psn_cash_pay",
    "fixmedins_code",
    "insuplc_admdvs",
    "refd_setl_flag",
]
MONEY = [
    "medfee_sumamt",
    "fulamt_ownpay_amt",
    "hifp_pay",
    "fund_pay_sumamt",
    "psn_part_amt",
    "acct_pay",
    "psn_cash_pay",
]


# --------------------------------------------------------------------------- helpers


def read_table(bundle: Path, name: str) -> list[dict]:
    """Rows of one table as dicts of strings (None for empty), whatever the file format."""
    files = [p for p in bundle.iterdir() if p.stem == name and not p.name.startswith("_")]
    assert len(files) == 1, f"expected one file for {name}, found {files}"
    path = files[0]
    if path.suffix == ".parquet":
        table = pq.read_table(path)
    elif path.suffix == ".csv":
        opts = pacsv.ConvertOptions(
            column_types={c: pa.string() for c in TABLE_COLUMNS[name]}, strings_can_be_null=True
        )
        table = pacsv.read_csv(path, convert_options=opts)
    else:
        from openpyxl import load_workbook

        ws = load_workbook(path, read_only=True).active
        values = list(ws.values)
        width = len(values[0])
        return [dict(zip(values[0], tuple(row) + (None,) * (width - len(row)))) for row in values[1:]]
    assert table.column_names == TABLE_COLUMNS[name]
    assert all(t == pa.string() for t in table.schema.types), f"{name}: every column is text"
    return table.to_pylist()


def hashes(bundle: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(bundle.iterdir())}


def cents(value: str) -> int:
    d = Decimal(value)
    return int(d * 100)


def is_money(value) -> bool:
    return isinstance(value, str) and bool(MONEY_RE.match(value))


def settlement_defects(row: dict, providers: set[str], year: int = YEAR) -> set[str]:
    """Reasons a settlement row breaks docs/data-bundle.md (duplicates are checked separately)."""
    found: set[str] = set()
    missing = [c for c in REQUIRED if row[c] in (None, "")]
    if missing:
        found.add("missing_required")
    m: dict[str, Decimal | int] = {}
    for c in MONEY:
        v = row[c]
        if v in (None, ""):
            continue
        if MONEY_RE.match(v):  # fast path: exact cents
            m[c] = int(v.replace(".", ""))
            continue
        try:
            d = Decimal(v)
        except InvalidOperation:
            found.add("bad_type")
            continue
        if d.as_tuple().exponent < -2:
            found.add("money_precision")
        m[c] = d * 100
    if row["age"] not in (None, "") and not row["age"].isdigit():
        found.add("bad_type")
    if row["setl_time"]:
        try:
            t = datetime.strptime(row["setl_time"], TIME_FMT)
            if not (year - 1 <= t.year <= year):
                found.add("outside_window")
        except ValueError:
            found.add("bad_type")
    if row["med_type"] and not re.match(r"^[0-9]{2,6}$", row["med_type"]):  # local codes allowed: a format rule
        found.add("bad_format")
    if row["med_type"] and re.match(r"^[0-9]{2,6}$", row["med_type"]):
        assert row["med_type"] in MED_TYPES, "the example uses data.yaml's med_types only"
    if row["insutype"] and row["insutype"] not in INSUTYPES:
        found.add("bad_code")
    if row["gend"] not in (None, "1", "2", "9") or row["mdtrt_cert_type"] not in (None, "01", "02", "03"):
        found.add("bad_code")
    if row["refd_setl_flag"] not in ("0", "1"):
        found.add("bad_code")
    code = row["fixmedins_code"]
    if code and not re.match(r"^H[0-9]{11}$", code):
        found.add("bad_format")
    elif code and code not in providers:
        found.add("unknown_provider")
    if row["insuplc_admdvs"] and not re.match(r"^[0-9]{6}$", row["insuplc_admdvs"]):
        found.add("bad_format")
    if len(m) < len(MONEY):
        return found
    refund = row["refd_setl_flag"] == "1"
    if not refund and any(v < 0 for v in m.values()):
        found.add("negative_money")
    if refund and any(v > 0 for v in m.values()):
        found.add("negative_money")
    sign = -1 if refund else 1
    if sign * m["fund_pay_sumamt"] > sign * m["medfee_sumamt"]:
        found.add("fund_exceeds_total")
    tol = 1  # cent (data.yaml money_tolerance 0.01 yuan)
    if (
        abs(m["fund_pay_sumamt"] + m["psn_part_amt"] - m["medfee_sumamt"]) > tol
        or abs(m["acct_pay"] + m["psn_cash_pay"] - m["psn_part_amt"]) > tol
    ):
        found.add("payments_do_not_add_up")
    if sign * m["hifp_pay"] > sign * m["fund_pay_sumamt"]:
        found.add("hifp_exceeds_fund")
    return found


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def bundle(small_bundle) -> Path:
    return small_bundle  # `pingyi example --scale small`: the compact layout (40,000 settlements)


@pytest.fixture(scope="session")
def tables(bundle):
    return {name: read_table(bundle, name) for name in TABLE_COLUMNS}


@pytest.fixture(scope="session")
def planted(bundle):
    return json.loads((bundle / "_planted.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def info(bundle):
    return json.loads((bundle / "_example.json").read_text(encoding="utf-8"))


def planted_rows(planted, table: str) -> set[int]:
    return {e["row"] for e in planted["rows"] if e["table"] == table}


# --------------------------------------------------------------------------- determinism


def test_same_seed_gives_identical_files_and_other_seed_differs(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate_example(a, providers=12, rows=6000, seed=7)
    generate_example(b, providers=12, rows=6000, seed=7)
    generate_example(c, providers=12, rows=6000, seed=8)
    ha, hb, hc = hashes(a), hashes(b), hashes(c)
    assert ha == hb
    assert set(ha) == set(hc)
    differing = [name for name in ha if ha[name] != hc[name]]
    assert "settlements.parquet" in differing and "providers.xlsx" in differing


def test_formats_hold_the_same_rows(tmp_path):
    generate_example(tmp_path / "csv", providers=9, rows=3000, seed=3, fmt="csv")
    generate_example(tmp_path / "pq", providers=9, rows=3000, seed=3, fmt="parquet")
    generate_example(tmp_path / "mixed", providers=9, rows=3000, seed=3)
    assert sorted(p.name for p in (tmp_path / "mixed").iterdir()) == sorted(
        [
            "_example.json",
            "_planted.json",
            "providers.xlsx",
            "settlements.parquet",
            "setl_lists.parquet",
            "fee_items.parquet",
            "audit_flags.csv",
            "reported.csv",
            "expert_scores.csv",
            "drg_groups.csv",
        ]
    )
    for name in TABLE_COLUMNS:
        rows = read_table(tmp_path / "csv", name)
        assert rows == read_table(tmp_path / "pq", name), name
        assert rows == read_table(tmp_path / "mixed", name), name


def test_regenerating_in_another_format_leaves_no_second_copy(tmp_path):
    generate_example(tmp_path, providers=9, rows=2000, fmt="csv")
    generate_example(tmp_path, providers=9, rows=2000, fmt="parquet")
    assert not list(tmp_path.glob("*.csv"))


# --------------------------------------------------------------------------- contract


def test_columns_and_row_counts(bundle, tables, info):
    assert len(tables["settlements"]) == 40000
    assert info["table_rows"] == {name: len(rows) for name, rows in tables.items()}
    assert len(tables["drg_groups"]) >= 35


def test_money_identities_on_every_clean_settlement(tables, planted):
    bad = planted_rows(planted, "settlements")
    providers = {p["fixmedins_code"] for p in tables["providers"]}
    problems = []
    refunds = 0
    for i, row in enumerate(tables["settlements"], start=1):
        if i in bad:
            continue
        found = settlement_defects(row, providers)
        if found:
            problems.append((i, found))
        assert all(is_money(row[c]) for c in MONEY), (i, row)
        refunds += row["refd_setl_flag"] == "1"
    assert problems == []
    assert 20 <= refunds <= 400


def test_refunds_mirror_an_earlier_settlement(tables):
    rows = tables["settlements"]
    by_mdtrt = {}
    for r in rows:
        if r["refd_setl_flag"] == "0":
            by_mdtrt.setdefault(r["mdtrt_id"], r)
    for r in rows:
        if r["refd_setl_flag"] != "1":
            continue
        orig = by_mdtrt[r["mdtrt_id"]]
        assert orig["setl_time"] <= r["setl_time"]
        for c in MONEY:
            assert cents(r[c]) == -cents(orig[c])
        assert (orig["psn_no"], orig["fixmedins_code"]) == (r["psn_no"], r["fixmedins_code"])


def test_codes_match_their_patterns(tables, planted):
    providers = tables["providers"]
    codes = [p["fixmedins_code"] for p in providers]
    assert len(set(codes)) == len(codes)
    assert all(re.match(r"^H[0-9]{11}$", c) for c in codes)
    assert {p["hosp_lv"] for p in providers} == set(LEVELS)
    assert {c[1:3] for c in codes} == {"33", "41", "51"}
    for lv in LEVELS:  # every level in every province
        assert {p["fixmedins_code"][1:3] for p in providers if p["hosp_lv"] == lv} == {"33", "41", "51"}
    prepay = [p["prepayment"] for p in providers]
    assert 2 <= sum(v is None for v in prepay) <= len(prepay) // 4
    assert all(is_money(v) and Decimal(v) > 0 for v in prepay if v is not None)

    bad = planted_rows(planted, "settlements")
    setl_ids = [r["setl_id"] for i, r in enumerate(tables["settlements"], 1) if i not in bad]
    assert len(set(setl_ids)) == len(setl_ids)
    assert all(
        re.match(r"^[0-9]{6}$", r["insuplc_admdvs"]) for i, r in enumerate(tables["settlements"], 1) if i not in bad
    )

    drg = {g["drg_code"]: g for g in tables["drg_groups"]}
    assert all(re.match(r"^[A-Z]{2}[0-9]{2}$", c) for c in drg)
    weights = [float(g["weight"]) for g in drg.values()]
    assert min(weights) >= 0.3 and max(weights) <= 5
    for g in drg.values():  # regional mean cost and stay consistent with the weight
        assert abs(float(g["mean_cost"]) / float(g["weight"]) - 11000) < 1
        assert float(g["mean_los"]) > 0

    lists = tables["setl_lists"]
    bad_lists = planted_rows(planted, "setl_lists")
    inpatient = {r["setl_id"] for r in tables["settlements"] if r["med_type"] in DATA["inpatient_med_types"]}
    assert len({r["mdtrt_id"] for r in lists}) == len(lists)
    for i, r in enumerate(lists, 1):
        assert r["setl_id"] in inpatient
        assert r["drg_code"] is None or r["drg_code"] in drg
        assert re.match(r"^[A-Z][0-9]{2}\.[0-9]{3}$", r["diag_code"])
        assert r["dscg_way"] in {"1", "2", "3", "4", "5", "9"}
        assert r["days_rinp_flag_31"] in {"1", "2"} and r["qc_rslt"] in {"0", "1"}
        assert r["max_oprn_lv"] in {None, "1", "2", "3", "4"}
        assert (r["max_oprn_lv"] is None) == (r["oprn_cmpl_flag"] is None)
        if i not in bad_lists:
            adm, dscg = datetime.strptime(r["adm_time"], TIME_FMT), datetime.strptime(r["dscg_time"], TIME_FMT)
            assert dscg > adm
            assert int(r["act_ipt_days"]) == (dscg.date() - adm.date()).days >= 1
            assert r["setl_time"] >= r["dscg_time"] and r["dcla_time"] > r["setl_time"]

    fee = tables["fee_items"]
    assert {r["med_chrgitm"] for r in fee} <= {f"{i:02d}" for i in range(1, 15)}
    assert all(is_money(r["amt"]) and is_money(r["fulamt_ownpay_amt"]) for r in fee)
    total_by_setl: dict[str, int] = {}
    for r in fee:
        total_by_setl[r["setl_id"]] = total_by_setl.get(r["setl_id"], 0) + cents(r["amt"])
        assert abs(cents(r["fulamt_ownpay_amt"])) <= abs(cents(r["amt"]))
        assert (r["vbp_flag"] is None) == (r["med_chrgitm"] not in ("09", "10", "11"))
    clean = [r for i, r in enumerate(tables["settlements"], 1) if i not in bad]
    for r in clean:  # fee lines add up to the settlement total; refunds carry none (see MIRROR_REFUND_FEE_LINES)
        if r["refd_setl_flag"] == "1":
            assert r["setl_id"] not in total_by_setl
        else:
            assert total_by_setl[r["setl_id"]] == cents(r["medfee_sumamt"])
    assert all(cents(r["amt"]) >= 0 for r in fee)

    flags = tables["audit_flags"]
    setl_set = set(setl_ids)
    assert len({f["flag_id"] for f in flags}) == len(flags)
    for f in flags:
        assert f["setl_id"] in setl_set and is_money(f["amount"]) and f["confirmed"] in ("0", "1")
        assert f["handled_time"] is None or f["handled_time"] > f["flag_time"]


def test_reported_and_expert_follow_the_catalogue(tables):
    indicators = []
    for path in sorted((PROJECT / "indicators").glob("*.yaml")):
        if path.name != "hierarchy.yaml":
            indicators += yaml.safe_load(path.read_text(encoding="utf-8"))["indicators"]
    codes = [p["fixmedins_code"] for p in tables["providers"]]
    reported = {(r["fixmedins_code"], r["year"], r["indicator"]): r for r in tables["reported"]}
    expert = tables["expert_scores"]
    for ind in indicators:
        source, rule = ind["source"], ind["scoring"]
        years = ["2025"]
        if rule["rule"] == "vbp" and rule.get("improvement", True):
            years.append("2024")
        for code in codes:
            if source in ("report", "survey"):
                for y in years:
                    r = reported[(code, y, ind["code"])]
                    assert r["source"] == source
                    v = float(r["value"])
                    if ind["unit"] == "percent":
                        assert 0 <= v <= 1
                        assert int(r["numerator"]) <= int(r["denominator"])
                    assert v >= 0
            elif source == "expert":
                scores = [
                    e
                    for e in expert
                    if e["fixmedins_code"] == code and e["indicator"] == ind["code"] and e["year"] == "2025"
                ]
                assert len({e["expert_id"] for e in scores}) == 3
                assert all(0 <= float(e["score"]) <= 100 for e in scores)
    catalogue = {i["code"] for i in indicators}
    assert {r["indicator"] for r in tables["reported"]} <= catalogue


# --------------------------------------------------------------------------- realism and special providers


def _duck(bundle: Path, planted) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    bad = sorted(planted_rows(planted, "settlements")) or [0]
    con.execute(f"""create view s as select * from read_parquet('{bundle}/settlements.parquet', file_row_number=true)
                    where file_row_number + 1 not in ({",".join(map(str, bad))})""")
    bad_l = sorted(planted_rows(planted, "setl_lists")) or [0]
    con.execute(f"""create view l as select * from read_parquet('{bundle}/setl_lists.parquet', file_row_number=true)
                    where file_row_number + 1 not in ({",".join(map(str, bad_l))})""")
    con.execute(f"create view g as select * from read_csv('{bundle}/drg_groups.csv', all_varchar=true)")
    return con


def test_severe_casemix_provider_is_efficient_within_drgs(bundle, planted, info):
    code = info["special_providers"]["severe_casemix_efficient"]
    con = _duck(bundle, planted)
    inpatient = ",".join(f"'{m}'" for m in DATA["inpatient_med_types"])
    cps = dict(
        con.execute(f"""select year(setl_time::timestamp),
            sum(medfee_sumamt::decimal(16,2)) / count(distinct mdtrt_id)
        from s where fixmedins_code = '{code}' and med_type in ({inpatient}) and refd_setl_flag = '0'
        group by 1""").fetchall()
    )
    raw_growth = float(cps[YEAR] / cps[YEAR - 1] - 1)
    assert raw_growth >= 0.15, raw_growth  # looks like poor cost control ...
    rows = con.execute(f"""select year(l.setl_time::timestamp) y,
            sum(s.medfee_sumamt::double / g.mean_cost::double) / count(*) cost_index,
            sum(g.weight::double) / count(*) cmi
        from l join s using (setl_id) join g on g.drg_code = l.drg_code
        where l.fixmedins_code = '{code}' group by 1 order by 1""").fetchall()
    (y0, ci0, cmi0), (y1, ci1, cmi1) = rows
    assert ci1 < 0.95 and ci0 < 0.95  # ... but is cheaper than the region in every DRG mix
    assert cmi1 / cmi0 - 1 > 0.12  # because the case mix got heavier
    assert cmi1 > 1.5
    # the regional mean measured from the data (all providers, same year) agrees
    ratio = con.execute(f"""with c as (select l.drg_code, l.fixmedins_code, s.medfee_sumamt::double cost
                from l join s using (setl_id) where l.drg_code is not null and year(l.setl_time::timestamp) = {YEAR}),
            r as (select drg_code, avg(cost) m from c group by 1)
        select avg(cost / m) from c join r using (drg_code) where fixmedins_code = '{code}'""").fetchone()[0]
    assert ratio < 0.95


def test_fraud_provider_has_a_confirmed_fraud_case(tables, info):
    code = info["special_providers"]["fraud"]
    fraud = [f for f in tables["audit_flags"] if f["fraud"] == "1"]
    assert [f["fixmedins_code"] for f in fraud] == [code]
    assert fraud[0]["confirmed"] == "1" and fraud[0]["flag_time"].startswith(str(YEAR))
    level = {p["fixmedins_code"]: p["hosp_lv"] for p in tables["providers"]}
    assert level[code] == "二级"


def test_levels_and_regions_differ_the_way_real_ones_do(bundle, planted, info):
    con = _duck(bundle, planted)
    con.execute(f"create view f as select * from read_parquet('{bundle}/fee_items.parquet')")
    lv = {p["fixmedins_code"]: p["hosp_lv"] for p in info["providers_detail"]}
    con.execute("create table lv(code varchar, lv varchar)")
    con.executemany("insert into lv values (?, ?)", list(lv.items()))
    stays = dict(
        con.execute("""select lv.lv, count(*) filter (where med_type like '2%' or med_type in ('52','92'))
        / count(distinct s.fixmedins_code) from s join lv on lv.code = s.fixmedins_code group by 1""").fetchall()
    )
    assert stays["三级"] > 2 * stays["二级"] and stays["二级"] > 3 * stays["一级及基层"]
    drug = dict(
        con.execute("""select lv.lv, sum(amt::double) filter (where med_chrgitm in ('09','10','11'))
        / sum(amt::double) from f join lv on lv.code = f.fixmedins_code group by 1""").fetchall()
    )
    assert drug["一级及基层"] > drug["二级"] > drug["三级"]
    cost = dict(
        con.execute("""select substr(fixmedins_code, 2, 2), avg(medfee_sumamt::double)
        from s where med_type = '11' and refd_setl_flag = '0' group by 1""").fetchall()
    )
    assert cost["33"] > cost["41"] and cost["33"] > cost["51"]
    cross = dict(
        con.execute("""select substr(fixmedins_code, 2, 2),
        avg(case when substr(insuplc_admdvs, 1, 2) <> substr(fixmedins_code, 2, 2) then 1.0 else 0 end)
        from s group by 1""").fetchall()
    )
    assert cross["33"] > cross["41"] and cross["33"] > cross["51"]
    ecert = dict(
        con.execute("""select year(setl_time::timestamp),
        avg(case when mdtrt_cert_type = '01' then 1.0 else 0 end)
        from s group by 1""").fetchall()
    )
    assert ecert[YEAR] > ecert[YEAR - 1]
    cmi = dict(
        con.execute("""select lv.lv, avg(g.weight::double) from l join g using (drg_code)
        join lv on lv.code = l.fixmedins_code group by 1""").fetchall()
    )
    assert cmi["三级"] > 1.0 > cmi["二级"] > cmi["一级及基层"]
    # low-risk groups exist: some DRGs almost never end in death
    deaths = con.execute("""select drg_code, avg(case when dscg_way = '5' then 1.0 else 0 end) m, count(*) n
        from l where drg_code is not null group by 1""").fetchall()
    assert sum(1 for _, m, n in deaths if m == 0 and n >= 50) >= 5


def test_good_and_poor_providers_differ(bundle, planted, info):
    con = _duck(bundle, planted)
    good, poor = info["good_providers"], info["poor_providers"]
    assert len(good) >= 3 and len(poor) >= 3 and not set(good) & set(poor)

    def mean(sql, codes):
        values = [con.execute(sql, [c]).fetchone()[0] for c in codes]
        values = [v for v in values if v is not None]
        return sum(values) / len(values)

    late = """select
               avg(case when date_diff('day', setl_time::timestamp, dcla_time::timestamp) > 30 then 1.0 else 0 end)
               + avg(case when qc_rslt = '0' then 1.0 else 0 end) from l where fixmedins_code = ?"""
    assert mean(late, poor) > mean(late, good)
    ecert = "select avg(case when mdtrt_cert_type = '01' then 1.0 else 0 end) from s where fixmedins_code = ?"
    assert mean(ecert, good) > mean(ecert, poor)
    growth = f"""select sum(medfee_sumamt::double) filter (where year(setl_time::timestamp) = {YEAR})
                 / count(*) filter (where year(setl_time::timestamp) = {YEAR} and refd_setl_flag = '0')
                 / (sum(medfee_sumamt::double) filter (where year(setl_time::timestamp) = {YEAR - 1})
                 / count(*) filter (where year(setl_time::timestamp) = {YEAR - 1} and refd_setl_flag = '0')) - 1
                 from s where fixmedins_code = ? and med_type in ('11', '13')"""
    assert mean(growth, poor) > mean(growth, good) + 0.05


NATL_CODE = re.compile(r"^(X[0-9A-Z]{22}|Z[0-9A-Z]{19}|T[0-9]{9}|C[0-9]{19}|[0-9]{9})$")
BASELINES = yaml.safe_load((PROJECT / "baselines" / f"{YEAR}.yaml").read_text(encoding="utf-8"))["baselines"]
OFFSITE = """CASE WHEN substr(insuplc_admdvs, 1, 2) <> substr(fixmedins_code, 2, 2) THEN 1
                   WHEN substr(insuplc_admdvs, 3, 2) = '99' THEN 0
                   WHEN substr(insuplc_admdvs, 1, 4) = substr(fixmedins_code, 2, 4) THEN 0 ELSE 1 END"""


def test_optional_columns_are_filled_consistently(tables, planted):
    settlements = tables["settlements"]
    assert {r["direct_setl_flag"] for r in settlements} == {"0", "1"}
    manual = [r for r in settlements if r["direct_setl_flag"] == "0"]
    assert 0.005 < len(manual) / len(settlements) < 0.05
    assert all(r["refd_setl_flag"] == "0" and r["med_type"] != "12" for r in manual)
    refunded = {r["mdtrt_id"] for r in settlements if r["refd_setl_flag"] == "1"}
    assert not refunded & {r["mdtrt_id"] for r in manual}, "a refunded visit was settled directly"

    fee = tables["fee_items"]
    generic_only = 0
    for r in fee:
        assert float(r["cnt"]) > 0 and r["med_list_codg"]  # no refund lines (MIRROR_REFUND_FEE_LINES)
        assert (r["natl_code_flag"] == "1") == bool(NATL_CODE.match(r["med_list_codg"])), r
        assert (r["vbp_generic_flag"] is None) == (r["vbp_flag"] is None)
        if r["vbp_flag"] == "1":
            assert r["vbp_generic_flag"] == "1" and r["med_chrgitm"] == "09"
        if r["vbp_generic_flag"] == "1":
            assert r["med_chrgitm"] == "09" and r["nego_flag"] == "0" and r["natl_code_flag"] == "1"
            assert r["med_list_codg"].startswith("X")
            generic_only += r["vbp_flag"] == "0"
        if r["med_chrgitm"] == "11" and r["natl_code_flag"] == "1":
            assert r["med_list_codg"].startswith("Z")
    assert generic_only > 1000  # non-winning products of 集采 generic names


def test_direct_settlement_rates(bundle, planted, info):
    con = _duck(bundle, planted)
    rows = con.execute(f"""select fixmedins_code, year(setl_time::timestamp) y,
            count(*) filter (where {OFFSITE} = 1) off_n,
            avg(case when direct_setl_flag = '1' then 1.0 else 0 end) filter (where {OFFSITE} = 1) off_rate,
            count(*) filter (where med_type = '14') chr_n,
            avg(case when direct_setl_flag = '1' then 1.0 else 0 end) filter (where med_type = '14') chr_rate,
            count(*) filter (where direct_setl_flag = '0' and {OFFSITE} = 0 and med_type <> '14') local_manual
        from s where refd_setl_flag = '0' group by 1, 2""").fetchall()
    assert sum(r[6] for r in rows) == 0, "manual (零星) rows are offsite or chronic visits"
    cur = {r[0]: r for r in rows if r[1] == YEAR}
    prior = {r[0]: r for r in rows if r[1] == YEAR - 1}
    off = {c: r[3] for c, r in cur.items() if r[2] >= 30}
    chronic = {c: r[5] for c, r in cur.items() if r[4] >= 30}
    assert len(off) >= 10 and len(chronic) >= 18
    assert all(0.70 <= v <= 1.0 for v in off.values()) and all(0.80 <= v <= 1.0 for v in chronic.values())
    med = sorted(off.values())[len(off) // 2]
    assert 0.85 <= med <= 0.99 and min(off.values()) < BASELINES["D5.01"]["values"] < max(off.values())
    assert min(chronic.values()) < BASELINES["D5.05"]["values"] < max(chronic.values())
    good, poor = info["good_providers"], info["poor_providers"]
    for rates in (off, chronic):
        g = [rates[c] for c in good if c in rates]
        p = [rates[c] for c in poor if c in rates]
        assert g and p and sum(g) / len(g) > sum(p) / len(p) + 0.03
    # most providers settle more offsite encounters directly than last year
    both = [c for c in off if c in prior and prior[c][2] >= 30]
    assert sum(prior[c][3] < off[c] for c in both) > len(both) / 2


def test_vbp_quantities_and_national_codes(bundle, info):
    con = duckdb.connect()
    con.execute(f"create view f as select * from read_parquet('{bundle}/fee_items.parquet')")
    vbp = dict(
        con.execute(f"""select fixmedins_code,
            sum(cnt::double) filter (where vbp_flag = '1') / sum(cnt::double) filter (where vbp_generic_flag = '1')
        from f where med_chrgitm in ('09', '11') and year(fee_ocur_time::timestamp) = {YEAR} group by 1""").fetchall()
    )
    coded = dict(
        con.execute(f"""select fixmedins_code, avg(case when natl_code_flag = '1' then 1.0 else 0 end)
        from f where amt::double >= 0 and year(fee_ocur_time::timestamp) = {YEAR} group by 1""").fetchall()
    )
    assert len(vbp) == len(coded) == len(info["providers_detail"])
    base, bench = BASELINES["D3.03"]["values"], BASELINES["D3.03"]["benchmark"]
    assert all(0.6 <= v <= 1.0 for v in vbp.values())
    med = sorted(vbp.values())[len(vbp) // 2]
    assert base < med < bench and min(vbp.values()) < base
    good, poor = info["good_providers"], info["poor_providers"]
    assert sum(vbp[c] for c in good) / len(good) > sum(vbp[c] for c in poor) / len(poor) + 0.08
    # 贯标: good providers code (almost) every line, poor ones miss 5-15 %
    assert all(coded[c] >= 0.99 for c in good)
    assert all(0.80 <= coded[c] <= 0.97 for c in poor)
    assert max(coded[c] for c in poor) < min(coded[c] for c in good)
    # the quantity is in minimum units: a stay's bed-fee line counts its days
    days = con.execute(f"""select count(*), count(*) filter (where f.cnt::int = l.act_ipt_days::int)
        from f join read_parquet('{bundle}/setl_lists.parquet') l using (mdtrt_id)
        where f.med_chrgitm = '01'""").fetchone()
    assert days[0] > 1000 and days[1] >= 0.99 * days[0]


# --------------------------------------------------------------------------- planted defects


def test_every_reason_is_planted(planted):
    reasons = {e["reason"] for e in planted["rows"]}
    assert reasons == {
        "missing_required",
        "bad_type",
        "bad_code",
        "bad_format",
        "negative_money",
        "money_precision",
        "fund_exceeds_total",
        "payments_do_not_add_up",
        "discharge_before_admission",
        "unknown_provider",
        "duplicate_key",
        "outside_window",
        "late_upload",
    }
    counts = {}
    for e in planted["rows"]:
        counts[e["reason"]] = counts.get(e["reason"], 0) + 1
    assert all(2 <= n <= 3 for n in counts.values()), counts


def test_planted_rows_have_exactly_their_defect(tables, planted):
    providers = {p["fixmedins_code"] for p in tables["providers"]}
    settlements = tables["settlements"]
    first_row = {}
    for i, r in enumerate(settlements, 1):
        first_row.setdefault(r["setl_id"], i)
    deadline = DATA["upload_deadline_days"]
    for e in planted["rows"]:
        row = tables[e["table"]][e["row"] - 1]
        assert row[e["column"]] == e.get("value", row[e["column"]])
        if e["table"] == "settlements":
            assert row["setl_id"] == e["key"]
            if e["reason"] == "duplicate_key":
                assert first_row[row["setl_id"]] < e["row"]
                original = settlements[first_row[row["setl_id"]] - 1]
                assert original == row and not settlement_defects(row, providers)
                continue
            found = settlement_defects(row, providers)
            allowed = {e["reason"], *e.get("also_violates", [])}
            if e["reason"] == "bad_format" and e["column"] == "fixmedins_code":
                allowed.add("unknown_provider")  # a malformed code is never in providers
            assert e["reason"] in found and found <= allowed, (e, found)
        elif e["reason"] == "discharge_before_admission":
            assert row["dscg_time"] < row["adm_time"] and row["setl_time"] > row["adm_time"]
        elif e["reason"] == "late_upload":
            setl = datetime.strptime(row["setl_time"], TIME_FMT)
            dcla = datetime.strptime(row["dcla_time"], TIME_FMT)
            assert (dcla - setl).days > deadline
            assert row["dscg_time"] > row["adm_time"]


# --------------------------------------------------------------------------- the committed example


COMMITTED = Path(__file__).resolve().parents[1] / "examples" / "province"
STAYS = "med_type IN ('21', '22', '23', '24', '52', '92')"  # data.yaml's inpatient_med_types


def test_committed_example_is_what_the_generator_writes(tmp_path):
    """examples/province must be regenerated when the generator changes (`pingyi example --out
    examples/province`). Tables that follow the catalogue (reported, expert_scores) are left out
    so that a catalogue edit does not fail this test; the README says to regenerate then too."""
    if not COMMITTED.is_dir():
        pytest.skip("examples/province is not present in this installation")
    fresh_dir = tmp_path / "province"
    generate_example(fresh_dir)  # the defaults: what examples/province is
    for name in ("settlements", "setl_lists", "fee_items"):  # large: compare as Arrow tables
        assert pq.read_table(COMMITTED / f"{name}.parquet").equals(pq.read_table(fresh_dir / f"{name}.parquet")), (
            f"{name}: regenerate examples/province"
        )
    for name in ("providers", "audit_flags", "drg_groups"):
        assert read_table(COMMITTED, name) == read_table(fresh_dir, name), f"{name}: regenerate examples/province"
    fresh = json.loads((fresh_dir / "_planted.json").read_text(encoding="utf-8"))
    assert json.loads((COMMITTED / "_planted.json").read_text(encoding="utf-8")) == fresh


def test_committed_example_has_a_provinces_volumes():
    """The shipped example's providers have real volumes: 三级 hospitals thousands to tens of thousands
    of stays a year, 二级 ones about two thousand, community centres none, and prepayments of about one
    month of last year's pooled-fund spending in whole 万元 (examples/README.md states these figures)."""
    if not COMMITTED.is_dir():
        pytest.skip("examples/province is not present in this installation")
    info = json.loads((COMMITTED / "_example.json").read_text(encoding="utf-8"))
    assert info["table_rows"]["settlements"] == 440_000 and len(info["providers_detail"]) == 24
    con = duckdb.connect()
    con.execute(f"create view s as select * from read_parquet('{COMMITTED}/settlements.parquet')")
    per = {}  # code -> (stays, visits, pooled fund in the prior year)
    for code, stays, visits, hifp in con.execute(f"""select fixmedins_code,
            count(*) filter (where {STAYS} and year(setl_time::timestamp) = {YEAR}),
            count(*) filter (where not ({STAYS}) and year(setl_time::timestamp) = {YEAR}),
            sum(try_cast(hifp_pay as decimal(18, 2))) filter (where year(try_cast(setl_time as timestamp)) = {YEAR - 1})
        from s where refd_setl_flag = '0' and fixmedins_code is not null group by 1""").fetchall():
        per[code] = (stays, visits, float(hifp or 0))
    providers = read_table(COMMITTED, "providers")
    level = {p["fixmedins_code"]: p["hosp_lv"] for p in providers}

    def of(lv):
        return [per[c] for c, v in level.items() if v == lv]

    tertiary, secondary, primary = of("三级"), of("二级"), of("一级及基层")
    assert len(tertiary) == 6 and len(secondary) == 8 and len(primary) == 10
    assert all(6_000 <= st <= 25_000 for st, _, _ in tertiary)
    assert 11_000 <= sum(st for st, _, _ in tertiary) / 6 <= 16_000
    assert all(1_000 <= st <= 3_000 for st, _, _ in secondary)
    assert all(per[p["fixmedins_code"]][0] == 0 for p in providers if p["fixmedins_type"] == "社区卫生服务中心")
    assert all(st <= 500 and 1_000 <= v <= 6_000 for st, v, _ in primary)
    for group in (tertiary, secondary):  # more outpatient settlements than stays, level by level
        assert sum(v for _, v, _ in group) > sum(st for st, _, _ in group)
    for p in providers:
        if p["prepayment"] is None:
            continue
        prepay, month = float(p["prepayment"]), per[p["fixmedins_code"]][2] / 12
        assert 0.85 * month - 5_000 <= prepay <= 1.15 * month + 5_000, p  # ±10 % drawn, then rounded
        if p["hosp_lv"] != "一级及基层":
            assert prepay >= 100_000 and prepay % 10_000 == 0, p  # whole 万元, at least 10万


def test_hospitals_have_enough_stays_for_every_quality_indicator(example):
    """The purpose of the example's size: no D2 (quality of care) indicator of a 二级 or 三级 hospital
    falls below its minimum volume (before, with ~70 stays a year at a 二级 hospital, 33 of 70 did)."""
    info = json.loads((COMMITTED / "_example.json").read_text(encoding="utf-8"))
    level = {p["fixmedins_code"]: p["hosp_lv"] for p in info["providers_detail"]}
    with (example.out / "indicators.csv").open(encoding="utf-8", newline="") as fh:
        cells = [r for r in csv.DictReader(fh) if r["indicator"].startswith("D2.")]
    hospital = [r for r in cells if level[r["fixmedins_code"]] in ("三级", "二级")]
    assert len(hospital) == 14 * 5
    # D2.01 (CMI) is monitor-only: never scored, never grey
    expected = {r["indicator"]: "monitor" if r["indicator"] == "D2.01" else "scored" for r in hospital}
    assert [(r["fixmedins_code"], r["indicator"]) for r in hospital if r["status"] != expected[r["indicator"]]] == []


# --------------------------------------------------------------------------- command line


def test_cli_writes_a_bundle(tmp_path):
    out = tmp_path / "b"
    result = CliRunner().invoke(
        app, ["example", "--out", str(out), "--providers", "9", "--rows", "2000", "--seed", "5", "--format", "csv"]
    )
    assert result.exit_code == 0, result.output
    assert "planted bad rows" in result.output
    assert (out / "settlements.csv").is_file() and (out / "_planted.json").is_file()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--providers", "5"], "error: --providers 5: too few; expected at least 9"),
        (["--rows", "10"], "error: --rows 10: too few for 24 providers; expected at least 480"),
        (["--format", "xml"], "error: --format xml: unknown; expected one of mixed, csv, parquet"),
    ],
)
def test_cli_rejects_bad_arguments(cli, tmp_path, args, message):
    result = cli("example", "--out", tmp_path / "x", *args)
    assert result.exit_code == 2
    assert result.stderr.startswith(message)
    assert not (tmp_path / "x").exists()
