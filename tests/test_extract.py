"""Reading a data bundle: formats, encodings, row numbers, and one clear error per unreadable file.

The bundle factory at the top (valid rows for every table) is shared with test_quality.py.
"""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest

from pingyi.data.bundle import open_bundle
from pingyi.data.contract import TABLES
from pingyi.data.write import save_bundle
from pingyi.errors import PingyiError
from pingyi.spec.models import DataSettings

YEAR = 2024
SETTINGS = DataSettings()

# --------------------------------------------------------------------------- bundle factory

PROVIDERS = [
    {
        "fixmedins_code": "H33010600001",
        "fixmedins_name": "浙江省人民医院",
        "hosp_lv": "三级",
        "fixmedins_type": "综合医院",
        "prepayment": "5000000.00",
    },
    {
        "fixmedins_code": "H33010600002",
        "fixmedins_name": "杭州市中医院",
        "hosp_lv": "二级",
        "fixmedins_type": "中医医院",
        "prepayment": "800000",
    },
    {
        "fixmedins_code": "H51010400001",
        "fixmedins_name": "成都市锦江区镕城社区卫生服务中心",
        "hosp_lv": "基层",
        "fixmedins_type": "社区卫生服务中心",
        "prepayment": "",
    },
]
CODES = [p["fixmedins_code"] for p in PROVIDERS]


def settlement(i: int, **kw) -> dict:
    row = {
        "setl_id": f"S{i:05d}",
        "mdtrt_id": f"M{i:05d}",
        "psn_no": f"P{i:05d}",
        "insutype": "310",
        "med_type": "21" if i % 2 else "11",
        "setl_time": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d} 10:{i % 60:02d}:00",
        "medfee_sumamt": "1000.00",
        "fulamt_ownpay_amt": "50.00",
        "hifp_pay": "600.00",
        "fund_pay_sumamt": "700.00",
        "psn_part_amt": "300.00",
        "acct_pay": "100.00",
        "psn_cash_pay": "200.00",
        "fixmedins_code": CODES[i % len(CODES)],
        "insuplc_admdvs": "330106" if i % 5 else "110101",
        "refd_setl_flag": "0",
        "age": str(20 + i % 70),
        "gend": "1" if i % 2 else "2",
        "mdtrt_cert_type": "01",
    }
    row.update(kw)
    return row


def setl_list(i: int, **kw) -> dict:
    s = settlement(i)
    row = {
        "mdtrt_id": s["mdtrt_id"],
        "setl_id": s["setl_id"],
        "fixmedins_code": s["fixmedins_code"],
        "psn_no": s["psn_no"],
        "drg_code": "ES31",
        "diag_code": "J18.900",
        "diag_code_cnt": "3",
        "adm_time": s["setl_time"].replace(" 10:", " 08:"),
        "dscg_time": s["setl_time"],
        "act_ipt_days": "0",
        "dscg_way": "1",
        "days_rinp_flag_31": "1",
        "max_oprn_lv": "",
        "oprn_cmpl_flag": "0",
        "setl_time": s["setl_time"],
        "dcla_time": s["setl_time"].replace(" 10:", " 12:"),
        "qc_rslt": "1",
        "age": s["age"],
        "gend": s["gend"],
    }
    row.update(kw)
    return row


def fee_item(i: int, **kw) -> dict:
    s = settlement(i)
    row = {
        "mdtrt_id": s["mdtrt_id"],
        "setl_id": s["setl_id"],
        "fixmedins_code": s["fixmedins_code"],
        "fee_ocur_time": s["setl_time"],
        "med_chrgitm": "09",
        "amt": "120.50",
        "fulamt_ownpay_amt": "0",
        "vbp_flag": "1",
        "nego_flag": "0",
    }
    row.update(kw)
    return row


def audit_flag(i: int, **kw) -> dict:
    row = {
        "flag_id": f"F{i:04d}",
        "fixmedins_code": CODES[i % len(CODES)],
        "setl_id": f"S{i:05d}",
        "rule_code": "R001",
        "rule_type": "重复收费",
        "amount": "35.00",
        "flag_time": "2024-05-01 09:00:00",
        "handled_time": "2024-05-03 09:00:00",
        "confirmed": "1",
        "fraud": "0",
    }
    row.update(kw)
    return row


def reported(i: int, **kw) -> dict:
    row = {
        "fixmedins_code": CODES[i % len(CODES)],
        "year": str(YEAR - (i // len(CODES)) % 2),
        "indicator": f"D3.0{1 + i // (2 * len(CODES))}",
        "value": "0.93",
        "numerator": "93",
        "denominator": "100",
        "source": "survey",
    }
    row.update(kw)
    return row


def expert_score(i: int, **kw) -> dict:
    row = {
        "fixmedins_code": CODES[i % len(CODES)],
        "year": str(YEAR),
        "indicator": "D8.01",
        "expert_id": f"E{i // len(CODES) + 1:02d}",
        "score": "85.5",
    }
    row.update(kw)
    return row


def drg_group(i: int, **kw) -> dict:
    row = {
        "drg_code": f"ES3{i}",
        "drg_name": "呼吸系统感染",
        "weight": "0.85",
        "mean_cost": "8200.00",
        "mean_los": "7.2",
    }
    row.update(kw)
    return row


def valid_tables(n: int = 12) -> dict[str, list[dict]]:
    return {
        "providers": [dict(p) for p in PROVIDERS],
        "settlements": [settlement(i) for i in range(1, n + 1)],
        "setl_lists": [setl_list(i) for i in range(1, n + 1, 2)],
        "fee_items": [fee_item(i) for i in range(1, n + 1)],
        "audit_flags": [audit_flag(i) for i in range(1, 5)],
        "reported": [reported(i) for i in range(6)],
        "expert_scores": [expert_score(i) for i in range(6)],
        "drg_groups": [drg_group(i) for i in range(1, 4)],
    }


def write_csv(path: Path, rows: list[dict], encoding: str = "utf-8", columns: list[str] | None = None) -> Path:
    columns = columns or list(dict.fromkeys(k for r in rows for k in r))
    with open(path, "w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(columns)
        for r in rows:
            w.writerow([r.get(c) if r.get(c) is not None else "" for c in columns])
    return path


def write_bundle(directory: Path, tables: dict[str, list[dict]]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        write_csv(directory / f"{name}.csv", rows, columns=list(TABLES[name].names) if not rows else None)
    return directory


def open_test_bundle(directory: Path, tmp_path: Path):
    return open_bundle(directory, SETTINGS, YEAR, workdir=tmp_path / "work")


# --------------------------------------------------------------------------- reading


def raw(bundle, table: str) -> list[tuple]:
    cols = ", ".join(TABLES[table].names)
    return bundle.con.execute(f"SELECT _row, {cols} FROM raw_{table} ORDER BY _row").fetchall()


def test_csv_is_read_as_text_in_file_order(tmp_path):
    tables = valid_tables()
    tables["settlements"][0]["med_type"] = "09"
    d = write_bundle(tmp_path / "b", tables)
    with open_test_bundle(d, tmp_path) as b:
        info = b.tables["settlements"]
        assert (info.format, info.rows, info.encoding) == ("csv", 12, "utf-8")
        assert len(info.sha256) == 64
        rows = raw(b, "settlements")
        assert [r[0] for r in rows] == list(range(1, 13))
        assert rows[0][1] == "S00001" and rows[0][5] == "09"  # leading zero kept: read as text
        assert b.tables["setl_lists"].present and b.tables["drg_groups"].rows == 3
    # the temporary directory is removed on close
    assert not any((tmp_path / "work").iterdir())


def test_row_order_is_kept_on_a_large_csv_with_malformed_lines(tmp_path, monkeypatch):
    """> 100k rows read by 4 threads: `_row` is the data row number in file order, also around
    malformed lines."""
    import duckdb

    import pingyi.data.bundle

    real_connect = duckdb.connect

    def connect(*args, **kwargs):
        con = real_connect(*args, **kwargs)
        con.execute("SET threads = 4")
        return con

    monkeypatch.setattr(pingyi.data.bundle.duckdb, "connect", connect)
    d = tmp_path / "b"
    d.mkdir()
    write_csv(d / "providers.csv", PROVIDERS)
    n, bad = 101_000, {7, 50_001, 50_002, 100_999}
    cols = list(settlement(1))
    lines = [",".join(cols)]
    template = ",".join(settlement(1).values())
    for i in range(1, n + 1):
        if i in bad:
            lines.append(f"S{i},only,three")
        else:
            lines.append(template.replace("S00001", f"S{i}", 1))
    (d / "settlements.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with open_test_bundle(d, tmp_path) as b:
        con = b.con
        assert con.execute("SELECT current_setting('threads')").fetchone()[0] == 4
        assert b.tables["settlements"].rows == n
        assert b.tables["settlements"].malformed == len(bad)
        mismatched = con.execute("SELECT count(*) FROM raw_settlements WHERE setl_id <> 'S' || _row").fetchone()[0]
        assert mismatched == 0
        assert sorted(r[0] for r in con.execute("SELECT _row FROM malformed_settlements").fetchall()) == sorted(bad)


def test_gbk_csv_is_transcoded_and_chinese_names_round_trip(tmp_path):
    tables = valid_tables()
    d = write_bundle(tmp_path / "b", tables)
    write_csv(d / "providers.csv", PROVIDERS, encoding="gbk")
    raw_bytes = (d / "providers.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw_bytes.decode("utf-8")
    with open_test_bundle(d, tmp_path) as b:
        assert b.tables["providers"].encoding == "gbk"
        names = [r[0] for r in b.con.execute("SELECT fixmedins_name FROM raw_providers ORDER BY _row").fetchall()]
        assert names == [p["fixmedins_name"] for p in PROVIDERS]


def test_utf8_bom_and_utf16_are_read(tmp_path):
    d = write_bundle(tmp_path / "b", valid_tables())
    write_csv(d / "providers.csv", PROVIDERS, encoding="utf-8-sig")
    with open_test_bundle(d, tmp_path) as b:
        assert b.tables["providers"].encoding == "utf-8-sig"
        assert raw(b, "providers")[0][1] == "H33010600001"  # the BOM is not part of the first column name
    write_csv(d / "providers.csv", PROVIDERS, encoding="utf-16")
    with open_test_bundle(d, tmp_path) as b:
        assert b.tables["providers"].encoding == "utf-16"
        assert raw(b, "providers")[2][2] == PROVIDERS[2]["fixmedins_name"]


def test_undecodable_file_is_one_clear_error(tmp_path):
    d = write_bundle(tmp_path / "b", valid_tables())
    (d / "providers.csv").write_bytes(b"fixmedins_code,fixmedins_name,hosp_lv\nH33010600001,\x80\xff\xfe,x\n")
    with pytest.raises(PingyiError) as exc:
        open_test_bundle(d, tmp_path)
    message = exc.value.message
    assert message.startswith("providers.csv: cannot decode the file")
    assert "offset 51" in message and "UTF-8" in message and "GBK" in message


def test_missing_required_column_is_one_clear_error(tmp_path):
    tables = valid_tables()
    for r in tables["settlements"]:
        del r["medfee_sumamt"]
    d = write_bundle(tmp_path / "b", tables)
    with pytest.raises(PingyiError) as exc:
        open_test_bundle(d, tmp_path)
    assert exc.value.message.startswith(
        "settlements.csv: required column 'medfee_sumamt' is missing; found columns: setl_id, mdtrt_id"
    )
    assert exc.value.message.endswith("expected the platform field codes in docs/data-bundle.md")


def test_xlsx_with_wrong_sheet_name_is_one_clear_error(tmp_path):
    d = write_bundle(tmp_path / "b", valid_tables())
    (d / "providers.csv").unlink()
    wb = openpyxl.Workbook()
    wb.active.title = "Sheet1"
    wb.create_sheet("机构")
    wb.save(d / "providers.xlsx")
    with pytest.raises(PingyiError) as exc:
        open_test_bundle(d, tmp_path)
    assert exc.value.message == (
        "providers.xlsx: no sheet named 'providers'; found sheets: Sheet1, 机构; expected a "
        "sheet named 'providers' (or a workbook with a single sheet)"
    )


def test_bundle_level_errors_and_warnings(tmp_path):
    d = write_bundle(tmp_path / "b", valid_tables())
    (d / "notes.txt").write_text("hello", encoding="utf-8")
    (d / "_readme.md").write_text("ignored silently", encoding="utf-8")
    (d / ".hidden.csv").write_text("ignored silently", encoding="utf-8")
    with open_test_bundle(d, tmp_path) as b:
        assert len(b.warnings) == 1 and b.warnings[0].startswith("notes.txt: unknown file ignored")
    save_bundle(d, tmp_path / "pq", "parquet")
    (d / "fee_items.parquet").write_bytes((tmp_path / "pq" / "fee_items.parquet").read_bytes())
    with pytest.raises(PingyiError, match="two files for table fee_items: fee_items.csv and fee_items.parquet"):
        open_test_bundle(d, tmp_path)
    (d / "fee_items.parquet").unlink()
    (d / "settlements.csv").unlink()
    with pytest.raises(PingyiError, match="required table settlements is missing"):
        open_test_bundle(d, tmp_path)


def test_optional_tables_may_be_absent_and_extra_columns_are_not_read(tmp_path):
    tables = {
        "providers": valid_tables()["providers"],
        "settlements": [dict(settlement(1), psn_name="张三", certno="330106199001011234")],
    }
    d = write_bundle(tmp_path / "b", tables)
    with open_test_bundle(d, tmp_path) as b:
        assert not b.tables["fee_items"].present and b.tables["fee_items"].rows == 0
        assert b.con.execute("SELECT count(*) FROM raw_fee_items").fetchone()[0] == 0
        assert b.tables["settlements"].extra_columns == ("psn_name", "certno")
        cols = [r[0] for r in b.con.execute("DESCRIBE raw_settlements").fetchall()]
        assert "psn_name" not in cols and "certno" not in cols
        assert any("psn_name, certno" in w for w in b.warnings)


def test_column_names_match_case_insensitively(tmp_path):
    d = write_bundle(tmp_path / "b", valid_tables())
    rows = [{k.upper(): v for k, v in p.items()} for p in PROVIDERS]
    write_csv(d / "providers.csv", rows)
    with open_test_bundle(d, tmp_path) as b:
        assert raw(b, "providers")[0][1:4] == ("H33010600001", "浙江省人民医院", "三级")


def test_xlsx_cells_become_canonical_text_and_formulas_are_not_evaluated(tmp_path):
    d = write_bundle(tmp_path / "b", valid_tables())
    (d / "fee_items.csv").unlink()
    import datetime as dt

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "fee_items"
    ws.append(["mdtrt_id", "setl_id", "fixmedins_code", "fee_ocur_time", "med_chrgitm", "amt"])
    ws.append(["M00001", "S00001", "H33010600001", dt.datetime(2024, 3, 1, 10, 0), "09", 1000.0])
    ws.append(["M00002", "S00002", "H33010600002", "2024-03-02 10:00:00", 9, 12.5])
    ws.append([None, None, None, None, None, None])  # blank row: skipped, numbering kept
    ws.append(["M00003", "S00003", "H51010400001", dt.datetime(2024, 3, 3, 10, 0), "11", "=SUM(1,2)"])
    wb.save(d / "fee_items.xlsx")
    with open_test_bundle(d, tmp_path) as b:
        rows = b.con.execute(
            "SELECT _row, fee_ocur_time, med_chrgitm, amt, vbp_flag FROM raw_fee_items ORDER BY _row"
        ).fetchall()
    assert rows == [
        (1, "2024-03-01 10:00:00", "09", "1000", None),
        (2, "2024-03-02 10:00:00", "9", "12.5", None),
        (4, "2024-03-03 10:00:00", "11", None, None),
    ]  # formula: its cached value (none), never evaluated


def test_xlsx_reader_gives_the_text_openpyxl_gives(tmp_path):
    """pingyi reads .xlsx with python-calamine (fast); every cell's text equals what openpyxl's read-only
    mode gives through cell_text: numbers, integers stored as floats, date-times at and off midnight,
    times, booleans, whitespace, formulas without a cached value, and leading blank rows and columns."""
    import datetime as dt

    from python_calamine import CalamineWorkbook

    from pingyi.data.sheets import _xlsx_cell, cell_text

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "t"
    ws.append([None, None, None])
    ws.append([None, "setl_id", "amt", "t", None, "d"])
    ws.append([None, "S1", 12.5, dt.datetime(2025, 1, 2, 3, 4, 5), None, dt.date(2025, 3, 4)])
    ws.append([None, "S2", 3.0, "=1/0", True, dt.datetime(2025, 1, 1)])
    ws.append([None, "  ", 1e20, 0.1 + 0.2, "", dt.time(10, 30)])
    ws.append([None, "编码", -0.0, 1234567890123, False, "2025/1/1"])
    wb.save(tmp_path / "e.xlsx")

    def blank_none(text):
        return None if text is None or not text.strip() else text

    ours = [
        [blank_none(_xlsx_cell(v)) for v in row]
        for row in CalamineWorkbook.from_path(str(tmp_path / "e.xlsx")).get_sheet_by_name("t").iter_rows()
    ]
    ref = [
        [blank_none(cell_text(v)) for v in row]
        for row in openpyxl.load_workbook(tmp_path / "e.xlsx", read_only=True, data_only=True)["t"].iter_rows(
            values_only=True
        )
    ]
    assert len(ours) == len(ref) == 6  # rows from the sheet's first row: numbering kept
    assert [r[-len(o) :] if o else r for r, o in zip(ref, ours)] == ours  # calamine drops leading blank columns
    assert ours[2] == ["S1", "12.5", "2025-01-02 03:04:05", None, "2025-03-04 00:00:00"]
    assert ours[3] == ["S2", "3", None, "true", "2025-01-01 00:00:00"]


def test_json_lines_and_xml_attributes(tmp_path):
    d = write_bundle(tmp_path / "b", valid_tables())
    (d / "drg_groups.csv").unlink()
    (d / "drg_groups.json").write_text(
        '{"drg_code": "ES31", "weight": 0.85, "mean_cost": "8200.00", "mean_los": 7.2}\n'
        '{"drg_code": "ES32", "weight": 1, "mean_cost": 9000, "mean_los": "6", "drg_name": null}\n',
        encoding="utf-8",
    )
    (d / "reported.csv").unlink()
    (d / "reported.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?><data xmlns="urn:x">'
        '<r fixmedins_code="H33010600001"><year>2024</year><indicator>D3.01</indicator><value>0.9</value></r>'
        "<r><fixmedins_code>H33010600002</fixmedins_code><year>2024</year><indicator>D3.01</indicator>"
        "<value> 0.8 </value><extra>x</extra></r></data>",
        encoding="utf-8",
    )
    with open_test_bundle(d, tmp_path) as b:
        assert b.con.execute(
            "SELECT _row, drg_code, weight, mean_cost, mean_los FROM raw_drg_groups ORDER BY _row"
        ).fetchall() == [(1, "ES31", "0.85", "8200.00", "7.2"), (2, "ES32", "1", "9000", "6")]
        assert b.con.execute("SELECT _row, fixmedins_code, value FROM raw_reported ORDER BY _row").fetchall() == [
            (1, "H33010600001", "0.9"),
            (2, "H33010600002", " 0.8 "),
        ]
        assert b.tables["reported"].extra_columns == ("extra",)


def test_xml_entity_expansion_is_refused(tmp_path):
    d = write_bundle(tmp_path / "b", valid_tables())
    (d / "drg_groups.csv").unlink()
    (d / "drg_groups.xml").write_text(
        '<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
        "<t><row><drg_code>&b;</drg_code><weight>1</weight><mean_cost>1</mean_cost><mean_los>1</mean_los></row></t>",
        encoding="utf-8",
    )
    with pytest.raises(PingyiError, match="drg_groups.xml: XML with a DTD, entities"):
        open_test_bundle(d, tmp_path)


# --------------------------------------------------------------------------- the CLI


def test_cli_quality_exit_codes(cli, tmp_path):
    project = tmp_path / "project"
    (project / "baselines").mkdir(parents=True)
    (project / "baselines" / "2024.yaml").write_text("year: 2024\nregion_scheme: x\nbaselines: {}\n", encoding="utf-8")
    (project / "data.yaml").write_text("upload_deadline_days: 15\n", encoding="utf-8")
    tables = valid_tables()
    tables["settlements"].append(settlement(99, medfee_sumamt="-1"))
    d = write_bundle(tmp_path / "b", tables)
    r = cli("quality", "--data", d, "--project", project, "--out", tmp_path / "out")
    assert r.exit_code == 0, r.stderr
    assert "evaluation year 2024" in r.stdout and "settlements" in r.stdout and "negative_money" in r.stdout
    assert (tmp_path / "out" / "quality.csv").is_file() and (tmp_path / "out" / "rejected.csv").is_file()

    (d / "settlements.csv").write_bytes(b"setl_id\n\x80\x81\xff\n")
    r = cli("quality", "--data", d, "--project", project)
    assert r.exit_code == 2
    assert r.stderr.strip().startswith("error: settlements.csv: cannot decode the file")


# --------------------------------------------------------------------------- the contract


def test_schemas_match_docs_data_bundle():
    """docs/data-bundle.md and TABLES say the same: tables, columns in order, types, required, class."""
    doc = (Path(__file__).parents[1] / "docs" / "data-bundle.md").read_text(encoding="utf-8")
    documented: dict[str, list[tuple]] = {}
    required_tables = set()
    current = None
    for line in doc.splitlines():
        if line.startswith("## "):
            name = line[3:].split()[0]
            current = name if name in TABLES else None
            if current:
                documented[current] = []
                if "— required" in line:
                    required_tables.add(current)
        elif current and line.startswith("| ") and not line.startswith(("| column", "|---")):
            cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
            documented[current].append((cells[0], cells[1], cells[2] == "yes", cells[3]))
    assert list(documented) == list(TABLES)
    assert required_tables == {t.name for t in TABLES.values() if t.required}
    for name, spec in TABLES.items():
        assert documented[name] == [(c.name, c.type, c.required, c.kind) for c in spec.columns], name


def test_derived_columns_match_docs_data_bundle():
    """The derived columns of the views measures read (pingyi.data.views) are documented, word for word."""
    from pingyi.data.views import SETTLEMENT_COLUMNS, STAY_COLUMNS

    doc = (Path(__file__).parents[1] / "docs" / "data-bundle.md").read_text(encoding="utf-8")
    section = doc.split("## Derived columns", 1)[1].split("\n## ", 1)[0]
    rows = [
        line.strip().strip("|").split(" | ", 1)
        for line in section.splitlines()
        if line.startswith("| ") and not line.startswith(("| derived column", "|---"))
    ]
    assert [(k.strip(), v.strip()) for k, v in rows] == [*SETTLEMENT_COLUMNS.items(), *STAY_COLUMNS.items()]


def test_duckdb_memory_limit_default_override_and_bad_value(tmp_path, monkeypatch):
    """DuckDB is capped at DEFAULT_MEMORY_LIMIT unless PINGYI_MEMORY_LIMIT says otherwise ('none': no cap);
    a bad value is one clear error naming the variable."""
    from pingyi.data.bundle import DEFAULT_MEMORY_LIMIT, memory_limit

    d = write_bundle(tmp_path / "b", valid_tables())
    monkeypatch.delenv("PINGYI_MEMORY_LIMIT", raising=False)
    assert memory_limit() == DEFAULT_MEMORY_LIMIT == "700MB"
    with open_test_bundle(d, tmp_path / "w1") as b:
        assert b.con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == "667.5 MiB"  # 700 MB
    monkeypatch.setenv("PINGYI_MEMORY_LIMIT", "2GB")
    with open_test_bundle(d, tmp_path / "w2") as b:
        assert b.con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == "1.8 GiB"
    monkeypatch.setenv("PINGYI_MEMORY_LIMIT", "none")
    assert memory_limit() is None
    monkeypatch.setenv("PINGYI_MEMORY_LIMIT", "lots")
    with pytest.raises(PingyiError) as exc:
        open_test_bundle(d, tmp_path / "w3")
    assert exc.value.message.startswith("PINGYI_MEMORY_LIMIT: ") and "found 'lots'" in exc.value.message


# --------------------------------------------------------------------------- encodings: GBK or Big5

TRADITIONAL = [  # a Big5 export writes traditional characters, its levels too
    ("H33010600001", "臺北榮民總醫院", "三級甲等"),
    ("H33010600002", "高雄市立中醫醫院", "二級"),
    ("H51010400001", "新北市衛生所", "基層"),
]


def _providers_csv(path: Path, rows, encoding: str) -> Path:
    text = "fixmedins_code,fixmedins_name,hosp_lv\n" + "".join(",".join(r) + "\n" for r in rows)
    path.write_bytes(text.encode(encoding))
    return path


def test_big5_csv_is_detected_and_names_round_trip(tmp_path):
    """Big5 bytes also decode as GBK (into other characters): detection must pick Big5, never reject rows."""
    from pingyi.data.quality import run_quality

    d = write_bundle(tmp_path / "b", valid_tables())
    data = _providers_csv(d / "providers.csv", TRADITIONAL, "big5").read_bytes()
    data.decode("gb18030")  # the trap: valid GBK too
    with open_test_bundle(d, tmp_path) as b:
        assert b.tables["providers"].encoding == "big5"
        names = [r[2] for r in raw(b, "providers")]
        result = run_quality(b)
        levels = b.con.execute("SELECT hosp_lv FROM clean_providers ORDER BY _row").fetchall()
    assert names == [r[1] for r in TRADITIONAL]
    assert result.counts["providers"].rejected == 0 and result.counts["settlements"].rejected == 0
    assert levels == [("三级",), ("二级",), ("一级及基层",)]


def test_gbk_that_also_decodes_as_big5_is_still_gbk(tmp_path):
    rows = [
        ("H33010600001", "中心医院", "二级"),
        ("H33010600002", "杭州市中医院", "二级"),
        ("H51010400001", "妇幼保健院", "基层"),
    ]
    d = write_bundle(tmp_path / "b", valid_tables())
    _providers_csv(d / "providers.csv", rows, "gbk").read_bytes().decode("cp950")  # valid Big5 too
    with open_test_bundle(d, tmp_path) as b:
        assert b.tables["providers"].encoding == "gbk"
        assert [r[2] for r in raw(b, "providers")] == [r[1] for r in rows]


AMBIGUOUS = [("H33010600001", "中心医院", "二级"), ("H33010600002", "中医院", "基层")]  # GBK; as Big5: 笢陑瓟埏 …


def test_gbk_or_big5_undecided_is_one_clear_error(tmp_path):
    d = write_bundle(tmp_path / "b", valid_tables())
    _providers_csv(d / "providers.csv", AMBIGUOUS, "gbk")
    with pytest.raises(PingyiError) as exc:
        open_test_bundle(d, tmp_path)
    message = exc.value.message
    assert message.startswith("providers.csv: cannot tell the encoding: not UTF-8, and it decodes as both GBK and Big5")
    assert "candidates: gbk, big5" in message and "--encoding gbk" in message and "--encoding big5" in message


def test_encoding_option_overrides_detection(tmp_path):
    d = write_bundle(tmp_path / "b", valid_tables())
    _providers_csv(d / "providers.csv", AMBIGUOUS, "gbk")
    with open_bundle(d, SETTINGS, YEAR, workdir=tmp_path / "w", encoding="gbk") as b:
        assert b.tables["providers"].encoding == "gbk"
        assert b.tables["settlements"].encoding == "utf-8"  # a UTF-8 file stays UTF-8
        assert [r[2] for r in raw(b, "providers")] == ["中心医院", "中医院"]
    with open_bundle(d, SETTINGS, YEAR, workdir=tmp_path / "w", encoding="big5") as b:
        assert b.tables["providers"].encoding == "big5"
        assert [r[2] for r in raw(b, "providers")] == ["笢陑瓟埏", "笢瓟埏"]  # what the user asked for
    with pytest.raises(PingyiError) as exc:
        open_bundle(d, SETTINGS, YEAR, workdir=tmp_path / "w", encoding="klingon")
    assert exc.value.message.startswith("--encoding: unknown encoding 'klingon'")
    _providers_csv(d / "providers.csv", [("H33010600001", "浙江省人民医院", "三级")], "gbk")
    with pytest.raises(PingyiError) as exc:
        open_bundle(d, SETTINGS, YEAR, workdir=tmp_path / "w", encoding="big5")
    assert exc.value.message.startswith("providers.csv: cannot decode the file as big5 (--encoding big5)")


def test_cli_encoding_option(cli, tmp_path):
    project = tmp_path / "project"
    (project / "baselines").mkdir(parents=True)
    (project / "baselines" / "2024.yaml").write_text("year: 2024\nregion_scheme: x\nbaselines: {}\n", encoding="utf-8")
    d = write_bundle(tmp_path / "b", valid_tables())
    _providers_csv(d / "providers.csv", AMBIGUOUS, "gbk")
    r = cli("quality", "--data", d, "--project", project)
    assert r.exit_code == 2 and r.stderr.startswith("error: providers.csv: cannot tell the encoding")
    r = cli("quality", "--data", d, "--project", project, "--encoding", "gbk")
    assert r.exit_code == 0, r.stderr
    assert "providers.csv" in r.stdout


def test_score_encoding_option_reaches_every_text_file(cli, small_bundle, small_example, tmp_path):
    """The small example with its providers as a GBK CSV: --encoding gbk scores as the original does (and
    is recorded for verify); --encoding big5 is applied, so that file cannot be read."""
    import json
    import shutil

    d = tmp_path / "b"
    shutil.copytree(small_bundle, d)
    ws = openpyxl.load_workbook(d / "providers.xlsx")["providers"]
    header, *rows = [["" if v is None else str(v) for v in r] for r in ws.iter_rows(values_only=True)]
    (d / "providers.xlsx").unlink()
    write_csv(d / "providers.csv", [dict(zip(header, r)) for r in rows], encoding="gbk")
    r = cli("score", "--data", d, "--out", tmp_path / "out", "--encoding", "gbk")
    assert r.exit_code == 0, r.stderr
    assert (tmp_path / "out" / "scores.csv").read_bytes() == (small_example.out / "scores.csv").read_bytes()
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["parameters"]["encoding"] == "gbk"
    assert "encoding" not in json.loads((small_example.out / "manifest.json").read_text(encoding="utf-8"))["parameters"]
    r = cli("verify", tmp_path / "out")
    assert r.exit_code == 0, r.stdout
    r = cli("score", "--data", d, "--out", tmp_path / "out2", "--encoding", "big5")
    assert r.exit_code == 2
    assert r.stderr.startswith("error: providers.csv: cannot decode the file as big5 (--encoding big5)")
