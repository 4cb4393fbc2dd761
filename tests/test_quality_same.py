"""The quality stage's outputs are pinned byte for byte: every reject reason of tests/test_quality.py's
planted bundle plus the values the fast paths of the checks must not misjudge (blanks of every kind
around and inside values, a unit separator inside a value, money with trailing zeros or a third
decimal, codes that almost match their format). quality.csv, rejected.csv and every clean_<table>
(as CSV) must stay identical to tests/fixtures/quality_same/, written by the stage before it was
rewritten for speed (`PINGYI_WRITE_QUALITY_SAME=1` rewrites them: only for a deliberate change)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pingyi.data.contract import TABLES
from pingyi.data.quality import run_quality
from test_extract import fee_item, open_test_bundle, settlement, write_bundle
from test_quality import planted_tables

FIXTURES = Path(__file__).parent / "fixtures" / "quality_same"

BLANKS = (" ", "\t", "\r", "\n", "\u3000", "\u00a0", "\f", "\v", "\u2003")


def tricky_settlements() -> list[dict]:
    """Rows past the planted ones: each is valid, or fails one check, depending only on how its
    blanks and digits are read."""
    rows = []
    i = 500
    for b in BLANKS:
        for where in ("lead", "trail", "both", "inside"):

            def put(v: str, b: str = b, where: str = where) -> str:
                return {"lead": b + v, "trail": v + b, "both": b + v + b, "inside": v[:1] + b + v[1:]}[where]

            i += 1
            column = ("insutype", "med_type", "insuplc_admdvs", "fulamt_ownpay_amt", "age", "gend")[i % 6]
            base = settlement(i)
            rows.append(settlement(i, **{column: put(base[column])}))
    for value in ("50.000", "50.0001", "50.", ".50", "50.1", "50.10", "0050.00", "+50.00", "5e1", "50.00.0", "５０.00"):
        i += 1
        rows.append(settlement(i, fulamt_ownpay_amt=value))
    for column, value in (
        ("med_type", "2"),
        ("med_type", "1234567"),
        ("med_type", "2a"),
        ("med_type", "99"),
        ("insuplc_admdvs", "33010６"),
        ("insuplc_admdvs", "3301066"),
        ("fixmedins_code", "h33010600001"),
        ("mdtrt_id", "M1\x1f 2"),
        ("psn_no", "\u3000\u00a0 "),
        ("age", " 4 5 "),
        ("age", "45.0"),
        ("age", "45.5"),
        ("setl_time", "2024/03/01"),
        ("setl_time", " 2024-03-01 10:00:00\t"),
        ("setl_time", "20240301"),
    ):
        i += 1
        rows.append(settlement(i, **{column: value}))
    return rows


def _outputs(directory: Path, tmp: Path) -> dict[str, bytes]:
    bundle = open_test_bundle(directory, tmp)
    try:
        result = run_quality(bundle, out_dir=tmp / "out")
        got = {p.name: p.read_bytes() for p in result.files}
        for table in TABLES:
            path = tmp / f"clean_{table}.csv"
            bundle.con.execute(
                f"COPY (SELECT * FROM clean_{table} ORDER BY _row) TO '{path}' (FORMAT csv, HEADER true)"
            )
            got[path.name] = path.read_bytes()
    finally:
        bundle.close()
    return got


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, bytes]:
    tmp = tmp_path_factory.mktemp("same")
    tables, _ = planted_tables()
    tables["settlements"] += tricky_settlements()
    tables["fee_items"].append(fee_item(121, amt=" 3.10\u3000"))
    directory = write_bundle(tmp / "bundle", tables)
    with open(directory / "settlements.csv", "a", encoding="utf-8", newline="") as fh:  # a malformed line
        fh.write("S99999,M99999,P1,310,21,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,extra\n")
    got = _outputs(directory, tmp)
    if os.environ.get("PINGYI_WRITE_QUALITY_SAME"):
        FIXTURES.mkdir(parents=True, exist_ok=True)
        for name, data in got.items():
            (FIXTURES / name).write_bytes(data)
    return got


def test_every_reason_is_in_the_pinned_rejected_rows(outputs):
    from pingyi.data.checks import REASONS

    text = outputs["rejected.csv"].decode()
    missing = [r for r, (_, _) in REASONS.items() if f",{r}," not in text and f",{r}\n" not in text]
    # flags are never rejected rows; every reject reason is
    flags_only = {"unclassified_code", "late_upload", "unmatched_settlement", "handled_before_flag"}
    assert set(missing) <= flags_only, missing


@pytest.mark.parametrize("name", ["quality.csv", "rejected.csv", *(f"clean_{t}.csv" for t in TABLES)])
def test_outputs_are_byte_identical_to_the_pinned_ones(outputs, name):
    assert outputs[name] == (FIXTURES / name).read_bytes(), name


def test_check_results_survive_the_bit_masks_past_64_checks():
    """130 checks (three mask words): every TRUE / FALSE / NULL reads back as failed / applied."""
    import random

    import duckdb

    from pingyi.data.checks import applied_sql, f_col, failed_sql, mask_sql

    n, rng = 130, random.Random(7)
    rows = [[rng.choice([True, False, None]) for _ in range(n)] for _ in range(40)]
    rows.append([True] * n)
    rows.append([None] * n)
    con = duckdb.connect()
    con.execute(f"CREATE TABLE f ({', '.join(f'{f_col(i)} BOOLEAN' for i in range(n))})")
    con.executemany(f"INSERT INTO f VALUES ({', '.join('?' * n)})", rows)
    masks = ", ".join(f"{mask_sql(list(range(n)), w, k)} AS _{k}{w}" for w in range(3) for k in ("a", "x"))
    got = con.execute(
        f"SELECT {', '.join(f'{failed_sql(i)}, {applied_sql(i)}' for i in range(n))} FROM (SELECT {masks} FROM f)"
    ).fetchall()
    want = [tuple(x for v in row for x in (v is True, v is not None)) for row in rows]
    assert got == want
