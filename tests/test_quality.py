"""Data-quality checks: every reason code fires on a planted row and points at the right
table/row/column; counts reconcile; results do not depend on file format or row order; PII never
reaches an output."""

from __future__ import annotations

import csv
import random
import re
from pathlib import Path

import pytest

from pingyi.data.checks import REASONS
from pingyi.data.contract import FORMATS, TABLES
from pingyi.data.quality import run_quality
from pingyi.data.write import save_bundle
from test_extract import (
    YEAR,
    audit_flag,
    drg_group,
    expert_score,
    fee_item,
    open_test_bundle,
    reported,
    setl_list,
    settlement,
    valid_tables,
    write_bundle,
)

SECRET_PSN = "PSN_SECRET_7731"
SECRET_NAME = "王秘密"

# (table, row factory, expected reason, column, severity). Each planted row has one defect
# (its first failing reason); flags keep the row in clean_<table>.
PLANTED = [
    (
        "providers",
        lambda: {"fixmedins_code": "H33010600009", "fixmedins_name": "", "hosp_lv": "三级"},
        "missing_required",
        "fixmedins_name",
        "reject",
    ),
    (
        "providers",
        lambda: {"fixmedins_code": "H3301060000X", "fixmedins_name": "甲", "hosp_lv": "三级"},
        "bad_format",
        "fixmedins_code",
        "reject",
    ),
    (
        "providers",
        lambda: {"fixmedins_code": "H33010600008", "fixmedins_name": "乙", "hosp_lv": ""},
        "missing_required",
        "hosp_lv",
        "reject",
    ),
    (
        "providers",
        lambda: {
            "fixmedins_code": "H33010600001",
            "fixmedins_name": "浙江省人民医院",
            "hosp_lv": "三级",
            "fixmedins_type": "综合医院",
            "prepayment": "5000000.00",
        },
        "duplicate_key",
        "fixmedins_code",
        "reject",
    ),
    (
        "providers",
        lambda: {"fixmedins_code": "H33010600007", "fixmedins_name": "丙", "hosp_lv": "二级", "prepayment": "12.345"},
        "money_precision",
        "prepayment",
        "flag",
    ),
    ("settlements", lambda: settlement(101, psn_no=""), "missing_required", "psn_no", "reject"),
    (
        "settlements",
        lambda: settlement(102, setl_time="2024-13-45 10:00:00", psn_no=SECRET_PSN),
        "bad_type",
        "setl_time",
        "reject",
    ),
    ("settlements", lambda: settlement(103, insutype="999"), "bad_code", "insutype", "reject"),
    ("settlements", lambda: settlement(104, insuplc_admdvs="33010"), "bad_format", "insuplc_admdvs", "reject"),
    (
        "settlements",
        lambda: settlement(105, fulamt_ownpay_amt="-1.00"),
        "negative_money",
        "fulamt_ownpay_amt",
        "reject",
    ),
    ("settlements", lambda: settlement(106, refd_setl_flag="1"), "positive_refund", "medfee_sumamt", "reject"),
    (
        "settlements",
        lambda: settlement(107, fulamt_ownpay_amt="1.005"),
        "money_precision",
        "fulamt_ownpay_amt",
        "reject",
    ),
    (
        "settlements",
        lambda: settlement(108, fund_pay_sumamt="1100.00"),
        "fund_exceeds_total",
        "fund_pay_sumamt",
        "reject",
    ),
    ("settlements", lambda: settlement(109, psn_cash_pay="150.00"), "payments_do_not_add_up", "psn_part_amt", "reject"),
    (
        "settlements",
        lambda: settlement(110, fixmedins_code="H99999900001"),
        "unknown_provider",
        "fixmedins_code",
        "reject",
    ),
    (
        "settlements",
        lambda: settlement(111, fixmedins_code="H33010600008"),
        "unknown_provider",
        "fixmedins_code",
        "reject",
    ),
    ("settlements", lambda: settlement(112, setl_time="2021-06-01 10:00:00"), "outside_window", "setl_time", "reject"),
    ("settlements", lambda: settlement(3), "duplicate_key", "setl_id", "reject"),
    (
        "settlements",
        lambda: settlement(114, medfee_sumamt="1E3"),
        "bad_type",
        "medfee_sumamt",
        "reject",
    ),  # no exponents
    ("settlements", lambda: settlement(113, med_type="28"), "unclassified_code", "med_type", "flag"),
    ("settlements", lambda: settlement(114, age="abc"), "bad_type", "age", "flag"),
    ("settlements", lambda: settlement(115, age="130"), "out_of_range", "age", "flag"),
    ("settlements", lambda: settlement(116, gend="男"), "bad_code", "gend", "flag"),
    ("setl_lists", lambda: setl_list(3), "duplicate_key", "mdtrt_id", "reject"),
    (
        "setl_lists",
        lambda: setl_list(201, adm_time="2024-02-02 10:00:00", dscg_time="2024-02-01 10:00:00"),
        "discharge_before_admission",
        "dscg_time",
        "reject",
    ),
    ("setl_lists", lambda: setl_list(203, act_ipt_days="-1"), "out_of_range", "act_ipt_days", "reject"),
    (
        "setl_lists",
        lambda: setl_list(
            205,
            dcla_time="2024-12-30 10:00:00",
            setl_time="2024-03-01 10:00:00",
            adm_time="2024-02-20 10:00:00",
            dscg_time="2024-03-01 10:00:00",
        ),
        "late_upload",
        "dcla_time",
        "flag",
    ),
    ("setl_lists", lambda: setl_list(207), "unmatched_settlement", "mdtrt_id", "flag"),
    ("fee_items", lambda: fee_item(301, med_chrgitm="9"), "bad_code", "med_chrgitm", "reject"),
    ("fee_items", lambda: fee_item(302, amt="-3.00"), "negative_money", "amt", "reject"),
    ("fee_items", lambda: fee_item(303, amt="12,000.00"), "bad_type", "amt", "reject"),
    ("fee_items", lambda: fee_item(120, amt="5.00"), "positive_refund", "amt", "reject"),  # S00120 is a refund
    ("audit_flags", lambda: audit_flag(1), "duplicate_key", "flag_id", "reject"),
    (
        "audit_flags",
        lambda: audit_flag(401, handled_time="2024-04-01 09:00:00"),
        "handled_before_flag",
        "handled_time",
        "flag",
    ),
    ("reported", lambda: reported(0, year="2020", indicator="D3.09"), "outside_window", "year", "reject"),
    ("reported", lambda: reported(0, indicator="D3"), "bad_format", "indicator", "reject"),
    ("reported", lambda: reported(0), "duplicate_key", "fixmedins_code+year+indicator", "reject"),
    ("expert_scores", lambda: expert_score(0, expert_id="E99", score="120"), "out_of_range", "score", "reject"),
    ("drg_groups", lambda: drg_group(7, weight="0"), "out_of_range", "weight", "reject"),
    ("drg_groups", lambda: drg_group(1), "duplicate_key", "drg_code", "reject"),
]


REFUND_AMOUNTS = {
    k: v
    for k, v in settlement(0).items()
    if k
    in ("medfee_sumamt", "fulamt_ownpay_amt", "hifp_pay", "fund_pay_sumamt", "psn_part_amt", "acct_pay", "psn_cash_pay")
}


def planted_tables():
    """The valid tables plus every planted row; returns (tables, [(table, row_no, reason, column, severity)])."""
    tables = valid_tables()
    tables["settlements"] = [dict(r, psn_name=SECRET_NAME) for r in tables["settlements"]]
    tables["providers"][1]["fixmedins_type"] = "=1+1"
    tables["settlements"][0]["insutype"] = " 310\u3000"  # blanks around a value (full-width too) are not part of it
    # a valid refund (冲销) settlement and its mirrored, negative fee line
    tables["settlements"].append(settlement(120, refd_setl_flag="1", **{k: "-" + v for k, v in REFUND_AMOUNTS.items()}))
    tables["fee_items"].append(fee_item(120, amt="-120.50"))
    expected = []
    for table, make, reason, column, severity in PLANTED:
        row = make()
        if table == "settlements":
            row["psn_name"] = SECRET_NAME
        tables[table].append(row)
        expected.append((table, len(tables[table]), reason, column, severity))
    return tables, expected


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("planted")
    tables, expected = planted_tables()
    d = write_bundle(tmp / "bundle", tables)
    # one malformed CSV line (too many fields), carrying a PII value that must not leak
    with open(d / "settlements.csv", "a", encoding="utf-8", newline="") as fh:
        fh.write(f"S99999,M99999,{SECRET_PSN},310,21,x,x,x,x,x,x,x,x,x,x,x,x,x,x,{SECRET_NAME},extra\n")
    expected.append(("settlements", len(tables["settlements"]) + 1, "malformed_row", "", "reject"))
    bundle = open_test_bundle(d, tmp)
    result = run_quality(bundle)
    out = tmp / "out"
    result.write(out)
    yield bundle, result, expected, out
    bundle.close()


def _rejected(bundle) -> dict[tuple[str, int], tuple]:
    rows = bundle.con.execute('SELECT "table", "row", "column", reason_code, message, also FROM rejected').fetchall()
    return {(r[0], r[1]): r[2:] for r in rows}


def test_every_reason_code_is_planted():
    assert {p[2] for p in PLANTED} | {"malformed_row"} == set(REASONS)


@pytest.mark.parametrize("index", range(len(PLANTED) + 1))
def test_planted_row_is_reported_with_table_row_and_column(planted, index):
    bundle, result, expected, _ = planted
    table, row, reason, column, severity = expected[index]
    rejected = _rejected(bundle)
    in_clean = bundle.con.execute(f"SELECT count(*) FROM clean_{table} WHERE _row = {row}").fetchone()[0]
    if severity == "reject":
        assert rejected.get((table, row), (None, None))[:2] == (column, reason), rejected.get((table, row))
        assert in_clean == 0
    else:
        assert (table, row) not in rejected
        assert in_clean == 1
    failed = bundle.con.execute(
        'SELECT sum(failed) FROM quality WHERE "table" = ? AND reason_code = ? AND severity = ?',
        [table, reason, severity],
    ).fetchone()[0]
    assert failed and failed >= 1


def test_first_reason_and_the_others(planted):
    bundle, *_ = planted
    rejected = _rejected(bundle)
    # fund 1100 > medfee 1000 also breaks fund + psn_part = medfee
    fund_row = next(r for (t, _), r in rejected.items() if t == "settlements" and r[1] == "fund_exceeds_total")
    assert fund_row[3] == "payments_do_not_add_up:medfee_sumamt"
    assert fund_row[2] == "fund_pay_sumamt 1100.00 exceeds medfee_sumamt 1000.00"


def test_flagged_optional_values_are_emptied_and_late_upload_is_kept(planted):
    bundle, *_ = planted
    con = bundle.con
    assert con.execute("SELECT age FROM clean_settlements WHERE setl_id IN ('S00114', 'S00115')").fetchall() == [
        (None,),
        (None,),
    ]
    assert con.execute("SELECT med_type FROM clean_settlements WHERE setl_id = 'S00113'").fetchone() == ("28",)
    assert con.execute("SELECT prepayment FROM clean_providers WHERE fixmedins_code = 'H33010600007'").fetchone() == (
        None,
    )
    refund = con.execute("SELECT medfee_sumamt FROM clean_settlements WHERE setl_id = 'S00120'").fetchone()
    assert refund is not None and float(refund[0]) == -1000.0
    assert con.execute("SELECT amt FROM clean_fee_items WHERE setl_id = 'S00120'").fetchall() == [(-120.50,)]
    late = con.execute("SELECT mdtrt_id FROM clean_setl_lists WHERE late_upload").fetchall()
    assert late == [("M00205",)]


def test_clean_tables_are_typed(planted):
    bundle, *_ = planted
    types = dict(
        bundle.con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'clean_settlements'"
        ).fetchall()
    )
    assert types["medfee_sumamt"] == "DECIMAL(16,2)" and types["setl_time"] == "TIMESTAMP"
    assert types["age"] == "INTEGER" and types["year"] == "INTEGER" and types["_row"] == "BIGINT"
    types = dict(
        bundle.con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'clean_drg_groups'"
        ).fetchall()
    )
    assert types["weight"] == "DOUBLE" and types["mean_cost"] == "DECIMAL(16,2)"
    assert bundle.con.execute("SELECT insutype FROM clean_settlements WHERE _row = 1").fetchone() == ("310",)
    levels = bundle.con.execute("SELECT DISTINCT hosp_lv FROM clean_providers ORDER BY 1").fetchall()
    assert levels == [("一级及基层",), ("三级",), ("二级",)]  # 基层 is read as 一级及基层


def test_read_equals_used_plus_rejected(planted):
    bundle, result, expected, _ = planted
    con = bundle.con
    for name, c in result.counts.items():
        used = con.execute(f"SELECT count(*) FROM clean_{name}").fetchone()[0]
        rejected = con.execute('SELECT count(DISTINCT "row") FROM rejected WHERE "table" = ?', [name]).fetchone()[0]
        assert c.read == used + rejected == c.used + c.rejected, name
        assert c.read == bundle.tables[name].rows
    assert result.counts["settlements"].read == len(valid_tables()["settlements"]) + 20


def test_outputs_never_contain_pii(planted):
    bundle, result, expected, out = planted
    for name in ("quality.csv", "rejected.csv"):
        text = (out / name).read_text(encoding="utf-8")
        assert SECRET_PSN not in text and SECRET_NAME not in text
        assert "P00101" not in text  # no psn_no value of any row
    header = (out / "rejected.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "table,row,column,reason_code,message,also"
    qheader = (out / "quality.csv").read_text(encoding="utf-8").splitlines()[0]
    assert qheader == "fixmedins_code,table,check,column,dimension,reason_code,severity,failed,checked,rate"


def test_quality_table_is_per_provider(planted):
    bundle, *_ = planted
    rows = bundle.con.execute("""SELECT fixmedins_code, failed, checked FROM quality
        WHERE "table" = 'settlements' AND "check" = 'fixmedins_code in providers' ORDER BY 1""").fetchall()
    # H33010600008's providers row was rejected (no hosp_lv): its settlement is unknown too
    assert ("H99999900001", 1, 1) in rows and ("H33010600008", 1, 1) in rows
    assert all(r[1] == 0 for r in rows if r[0] in ("H33010600001", "H33010600002", "H51010400001"))


def test_settings_change_the_checks(tmp_path):
    from pingyi.spec.models import DataSettings

    tables, _ = planted_tables()
    d = write_bundle(tmp_path / "b", tables)
    settings = DataSettings(upload_deadline_days=400, inpatient_med_types=["21", "28"], refund_flag_values=["1", "2"])
    with open_test_bundle(d, tmp_path) as b:
        run_quality(b, settings, YEAR)
        assert b.con.execute("SELECT count(*) FROM clean_setl_lists WHERE late_upload").fetchone()[0] == 0
        unclassified = b.con.execute(
            "SELECT sum(failed) FROM quality WHERE reason_code = 'unclassified_code'"
        ).fetchone()[0]
        assert unclassified == 0
        # the evaluation year moves the window
        run_quality(b, settings, 2022)
        assert b.con.execute("SELECT count(*) FROM clean_settlements").fetchone()[0] == 1  # only the 2021 row


# --------------------------------------------------------------------------- independence of format and order


def _snapshot(bundle) -> dict:
    con = bundle.con
    snap = {}
    for name in TABLES:
        cols = ", ".join(TABLES[name].names)  # the text as read, before any typing
        snap[f"raw_{name}"] = con.execute(f"SELECT _row, {cols} FROM raw_{name} ORDER BY _row").fetchall()
        snap[f"clean_{name}"] = con.execute(f"SELECT * FROM clean_{name} ORDER BY _row").fetchall()
    snap["quality"] = con.execute("SELECT * FROM quality ORDER BY ALL").fetchall()
    snap["rejected"] = con.execute("SELECT * FROM rejected ORDER BY ALL").fetchall()
    return snap


@pytest.fixture(scope="module")
def csv_run(tmp_path_factory):
    """The planted bundle as CSV, checked once: the reference for the format and order tests."""
    tmp = tmp_path_factory.mktemp("csvrun")
    tables, _ = planted_tables()
    d = write_bundle(tmp / "csv", tables)
    with open_test_bundle(d, tmp) as b:
        run_quality(b)
        yield tables, d, _snapshot(b), _order_free(b, d)


def test_same_results_from_every_format(csv_run, tmp_path):
    """save_bundle writes the same text in every format; every format gives the same results."""
    tables, d, reference, _ = csv_run
    assert len(reference["rejected"]) >= 25
    assert ("H33010600002", "=1+1") in [(r[1], r[4]) for r in reference["raw_providers"]]  # text, not a formula
    for fmt in FORMATS[1:]:
        src = tmp_path / fmt
        save_bundle(d, src, fmt)
        with open_test_bundle(src, tmp_path) as b:
            run_quality(b)
            snapshot = _snapshot(b)
        for key, rows in reference.items():
            assert snapshot[key] == rows, (fmt, key)


def _rows_by_content(directory: Path, table: str) -> dict[int, tuple]:
    with open(directory / f"{table}.csv", encoding="utf-8", newline="") as fh:
        header, *rows = list(csv.reader(fh))
    return {i: tuple(sorted(zip(header, r))) for i, r in enumerate(rows, start=1)}


def _order_free(bundle, directory: Path) -> dict:
    """Outputs with row numbers replaced by the row's content, so two orders can be compared."""
    con = bundle.con
    content = {t: _rows_by_content(directory, t) for t in TABLES}
    rejected = sorted(
        (t, content[t][row], col, reason, re.sub(r"row \d+", "row N", msg), also)
        for t, row, col, reason, msg, also in con.execute("SELECT * FROM rejected").fetchall()
    )
    clean = {t: sorted(r[1:] for r in con.execute(f"SELECT * FROM clean_{t}").fetchall()) for t in TABLES}
    quality = con.execute("SELECT * FROM quality ORDER BY ALL").fetchall()
    return {"rejected": rejected, "clean": clean, "quality": quality}


def test_row_order_does_not_change_results(csv_run, tmp_path):
    tables, _, _, reference = csv_run
    rng = random.Random(20240101)
    shuffled = {t: rng.sample(rows, len(rows)) for t, rows in tables.items()}
    assert shuffled != tables
    b = write_bundle(tmp_path / "shuffled", shuffled)
    with open_test_bundle(b, tmp_path) as bb:
        run_quality(bb)
        result = _order_free(bb, b)
    assert result["quality"] == reference["quality"]
    assert result["rejected"] == reference["rejected"]
    assert result["clean"] == reference["clean"]


def test_which_duplicate_is_kept_does_not_depend_on_order(tmp_path):
    """Two *different* rows share a setl_id: the same one is used whatever their order in the file."""
    kept = []
    for order in ("ab", "ba"):
        tables = valid_tables()
        a = settlement(3, medfee_sumamt="1000.00")
        b = settlement(3, medfee_sumamt="2000.00", fund_pay_sumamt="1700.00", hifp_pay="1600.00")
        tables["settlements"] = [r for r in tables["settlements"] if r["setl_id"] != "S00003"]
        tables["settlements"] += [a, b] if order == "ab" else [b, a]
        directory = write_bundle(tmp_path / order, tables)
        with open_test_bundle(directory, tmp_path / f"w{order}") as bundle:
            run_quality(bundle)
            kept.append(
                bundle.con.execute("SELECT medfee_sumamt FROM clean_settlements WHERE setl_id = 'S00003'").fetchall()
            )
            reasons = bundle.con.execute("SELECT reason_code FROM rejected WHERE \"table\" = 'settlements'").fetchall()
            assert reasons == [("duplicate_key",)]
    assert kept[0] == kept[1] and len(kept[0]) == 1


# --------------------------------------------------------------------------- provider levels as exports write them


def _with_levels(tmp_path: Path, levels: list[str]) -> Path:
    tables = valid_tables()
    for p, level in zip(tables["providers"], levels):
        p["hosp_lv"] = level
    return write_bundle(tmp_path / "b", tables)


def test_export_levels_are_read_through_level_aliases(tmp_path):
    """三级甲等 / 二级乙等 / 一级 (as platform exports write them) are the levels baselines name; no provider is lost."""
    d = _with_levels(tmp_path, ["三级甲等", " 二级乙等", "一级"])
    with open_test_bundle(d, tmp_path) as b:
        result = run_quality(b)
        levels = b.con.execute("SELECT fixmedins_code, hosp_lv FROM clean_providers ORDER BY 1").fetchall()
        assert result.counts["providers"].rejected == 0
        assert result.counts["settlements"].rejected == 0
    assert levels == [("H33010600001", "三级"), ("H33010600002", "二级"), ("H51010400001", "一级及基层")]


def test_default_level_aliases_cover_the_export_spellings():
    from pingyi.spec.models import LEVELS, DataSettings

    aliases = DataSettings().level_aliases
    for spelling in ("三级甲等", "三级乙等", "三级丙等", "三级特等", "三甲", "三乙"):
        assert aliases[spelling] == "三级"
    for spelling in ("二级甲等", "二级乙等", "二级丙等", "二甲", "二乙"):
        assert aliases[spelling] == "二级"
    for spelling in ("一级甲等", "一级乙等", "一级丙等", "一级", "基层", "未定级"):
        assert aliases[spelling] == "一级及基层"
    for spelling, level in {"三級甲等": "三级", "二級": "二级", "基層": "一级及基层", "未定級": "一级及基层"}.items():
        assert aliases[spelling] == level  # a Big5 export writes traditional characters
    assert set(aliases.values()) <= set(LEVELS)


def test_shipped_data_yaml_lists_the_default_level_aliases():
    from pingyi.spec.models import DataSettings
    from pingyi.spec.project import default_project_dir, load_data_settings

    assert "\nlevel_aliases:\n" in (default_project_dir() / "data.yaml").read_text(encoding="utf-8")
    assert load_data_settings(default_project_dir()).level_aliases == DataSettings().level_aliases


def test_an_unmapped_level_stops_the_run_with_one_clear_error(tmp_path):
    from pingyi.errors import PingyiError

    tables = valid_tables()
    tables["providers"][0]["hosp_lv"] = "特级"
    tables["providers"].append(dict(tables["providers"][0], fixmedins_code="H33010600005"))
    d = write_bundle(tmp_path / "b", tables)
    with open_test_bundle(d, tmp_path) as b, pytest.raises(PingyiError) as exc:
        run_quality(b)
    message = exc.value.message
    assert message.startswith("providers.csv: hosp_lv '特级' (2 rows: data rows 1, 4) is not a provider level")
    assert "expected 三级, 二级 or 一级及基层" in message and "三级甲等" in message and "level_aliases" in message
    assert "data.yaml" in message


def test_level_alias_to_an_unknown_level_is_an_error_at_its_line(tmp_path):
    from pingyi.errors import PingyiError
    from pingyi.spec.project import load_data_settings

    project = tmp_path / "project"
    project.mkdir()
    (project / "data.yaml").write_text("level_aliases:\n  三级甲等: 三级\n  特级: 特等\n", encoding="utf-8")
    with pytest.raises(PingyiError) as exc:
        load_data_settings(project)
    assert "data.yaml:3" in exc.value.message and "PY106" in exc.value.message
    assert "found '特等'; expected '三级', '二级' or '一级及基层'" in exc.value.message
    (project / "data.yaml").write_text("level_aliases:\n  三级甲等: 三级\n  三级: 二级\n", encoding="utf-8")
    with pytest.raises(PingyiError) as exc:
        load_data_settings(project)
    assert "data.yaml:1" in exc.value.message and "'三级' is a level itself" in exc.value.message


def _small_with_levels(small_bundle: Path, target: Path, levels: dict[str, str]) -> Path:
    """A copy of the small example whose providers.xlsx spells levels as `levels` says (by fixmedins_code)."""
    import shutil

    import openpyxl

    shutil.copytree(small_bundle, target)
    wb = openpyxl.load_workbook(target / "providers.xlsx")
    ws = wb["providers"]
    header = [c.value for c in ws[1]]
    code, lv = header.index("fixmedins_code"), header.index("hosp_lv")
    for row in ws.iter_rows(min_row=2):
        row[lv].value = levels.get(row[code].value, row[lv].value)
    wb.save(target / "providers.xlsx")
    return target


def test_score_with_export_levels_scores_every_provider(cli, small_bundle, small_example, tmp_path):
    import openpyxl

    ws = openpyxl.load_workbook(small_bundle / "providers.xlsx")["providers"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    export = {"三级": "三级甲等", "二级": "二级乙等", "一级及基层": "一级"}
    d = _small_with_levels(small_bundle, tmp_path / "b", {r[0]: export[r[2]] for r in rows})
    r = cli("score", "--data", d, "--out", tmp_path / "out")
    assert r.exit_code == 0, r.stderr
    with open(tmp_path / "out" / "scores.csv", encoding="utf-8", newline="") as fh:
        scored = {row["fixmedins_code"] for row in csv.DictReader(fh)}
    assert scored == {row[0] for row in rows}
    # the same levels, spelled another way: the same scores
    assert (tmp_path / "out" / "scores.csv").read_bytes() == (small_example.out / "scores.csv").read_bytes()


def test_score_with_an_unmapped_level_exits_2(cli, small_bundle, tmp_path):
    import openpyxl

    ws = openpyxl.load_workbook(small_bundle / "providers.xlsx")["providers"]
    first = [r[0] for r in ws.iter_rows(min_row=2, max_row=3, values_only=True)]
    d = _small_with_levels(small_bundle, tmp_path / "b", dict.fromkeys(first, "特级"))
    r = cli("score", "--data", d, "--out", tmp_path / "out")
    assert r.exit_code == 2, r.stderr
    line = r.stderr.strip()
    assert line.startswith("error: providers.xlsx: hosp_lv '特级' (2 rows: data rows 1, 2) is not a provider level")
    assert len(line.splitlines()) == 1 and "level_aliases" in line
    assert not (tmp_path / "out" / "scores.csv").exists()
