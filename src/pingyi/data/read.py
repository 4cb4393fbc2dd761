"""Extract schemas keyed by the national medical-insurance platform's field codes, and reading a
data bundle into DuckDB.

A bundle is a directory with one file per table, `<table>.<ext>` (csv, xlsx, parquet, json, xml);
docs/data-bundle.md is the contract and `TABLES` below is that contract in code.

Reading never types values: every declared column arrives as text in `raw_<table>` (plus `_row`,
the 1-based data row number in file order), so one bad value rejects one row in the quality
stage instead of failing the whole read. Only a problem with the *file* stops the run, with one
`PingyiError` that names the file and says what was found and what was expected.

DuckDB objects created by `open_bundle`, for every table of `TABLES` (absent optional tables
are empty):

- `raw_<table>`: `_row BIGINT` + every declared column as VARCHAR (NULL when the file lacks an
  optional column). Undeclared columns are not read (listed in `TableInfo.extra_columns`), so
  identity fields a platform export may carry (psn_name, certno …) never enter the database.
- `malformed_<table>`: `_row BIGINT, error VARCHAR` for CSV lines DuckDB cannot split into the
  header's columns (too many / too few fields, bad quoting). Empty for other formats.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import json
import math
import re
import os
import shutil
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Iterable, Iterator

import duckdb

from pingyi.errors import PingyiError
from pingyi.spec.models import CODE_PATTERN, DataSettings

COLUMN_TYPES = ("str", "int", "float", "money", "datetime", "date")
FORMATS = ("csv", "xlsx", "parquet", "json", "xml")
CONTRACT = "docs/data-bundle.md"

# --------------------------------------------------------------------------- schemas


@dataclass(frozen=True)
class ColumnSpec:
    """One column of an extract table, named by its platform field code.

    `codes`: the code table (value must be one of them; `settings_codes` names DataSettings
    lists whose values are added). `aliases`: accepted spellings mapped to a canonical code in
    clean_<table>. `pattern`: a regular expression the whole value must match. `known`: codes
    that are recognised; a value matching `pattern` but not known is flagged (not rejected).
    `lo`/`hi`: numeric range (inclusive unless `lo_open`). `pii`: never written to any output.
    """

    name: str
    type: str = "str"
    required: bool = False
    codes: tuple[str, ...] | None = None
    settings_codes: tuple[str, ...] = ()
    aliases: tuple[tuple[str, str], ...] = ()
    pattern: str | None = None
    pattern_text: str | None = None
    known: tuple[str, ...] | None = None
    known_settings: tuple[str, ...] = ()
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    pii: bool = False
    label: str = ""

    def __post_init__(self) -> None:
        if self.type not in COLUMN_TYPES:
            raise ValueError(f"column {self.name}: unknown type {self.type!r}")

    def code_table(self, settings: DataSettings) -> tuple[str, ...] | None:
        if self.codes is None:
            return None
        extra = [v for attr in self.settings_codes for v in getattr(settings, attr)]
        return tuple(dict.fromkeys([*self.codes, *extra]))

    def known_codes(self, settings: DataSettings) -> tuple[str, ...] | None:
        if self.known is None:
            return None
        extra = [v for attr in self.known_settings for v in getattr(settings, attr)]
        return tuple(dict.fromkeys([*self.known, *extra]))


@dataclass(frozen=True)
class TableSpec:
    name: str
    label: str
    columns: tuple[ColumnSpec, ...]
    required: bool = False
    key: tuple[str, ...] = ()
    year_column: str | None = None

    def column(self, name: str) -> ColumnSpec:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def pii_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.pii)


def C(name: str, type: str = "str", required: bool = False, **kw) -> ColumnSpec:  # noqa: N802 - table shorthand
    return ColumnSpec(name=name, type=type, required=required, **kw)


FIXMEDINS = dict(pattern=r"^H[0-9]{11}$", pattern_text="H + 6-digit division code + 5-digit sequence, e.g. H33010600001")
FLAG01 = ("0", "1")
GEND = ("0", "1", "2", "9")  # GB/T 2261.1: 0 未知, 1 男, 2 女, 9 未说明
NATIONAL_MED_TYPES = ("11", "12", "13", "14", "21", "22", "23", "24", "41", "51", "52", "53", "91", "92", "93", "99")
MED_TYPE_SETS = ("inpatient_med_types", "outpatient_med_types", "chronic_med_types")
INSUTYPES = ("310", "320", "330", "340", "390", "392", "510")
MED_CHRGITM = tuple(f"{i:02d}" for i in range(1, 15))
HOSP_LV = ("三级", "二级", "一级及基层", "一级", "基层")
HOSP_LV_ALIASES = (("一级", "一级及基层"), ("基层", "一级及基层"))
DIAG_PATTERN = r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Za-z]{1,8})?$"
INDICATOR = dict(pattern=CODE_PATTERN, pattern_text="an indicator code such as D1.01")

TABLES: dict[str, TableSpec] = {t.name: t for t in (
    TableSpec("providers", "机构", required=True, key=("fixmedins_code",), columns=(
        C("fixmedins_code", required=True, **FIXMEDINS),
        C("fixmedins_name", required=True),
        C("hosp_lv", required=True, codes=HOSP_LV, aliases=HOSP_LV_ALIASES),
        C("fixmedins_type"),
        C("prepayment", "money"),
    )),
    TableSpec("settlements", "结算信息", required=True, key=("setl_id",), year_column="setl_time", columns=(
        C("setl_id", required=True),
        C("mdtrt_id", required=True),
        C("psn_no", required=True, pii=True),
        C("insutype", required=True, codes=INSUTYPES),
        C("med_type", required=True, pattern=r"^[0-9]{2,6}$", pattern_text="a 2-digit code (local codes up to 6 digits)",
          known=NATIONAL_MED_TYPES, known_settings=MED_TYPE_SETS),
        C("setl_time", "datetime", required=True),
        C("medfee_sumamt", "money", required=True),
        C("fulamt_ownpay_amt", "money", required=True),
        C("hifp_pay", "money", required=True),
        C("fund_pay_sumamt", "money", required=True),
        C("psn_part_amt", "money", required=True),
        C("acct_pay", "money", required=True),
        C("psn_cash_pay", "money", required=True),
        C("fixmedins_code", required=True, **FIXMEDINS),
        C("insuplc_admdvs", required=True, pattern=r"^[0-9]{6}$", pattern_text="a 6-digit division code"),
        C("refd_setl_flag", required=True, codes=("0",), settings_codes=("refund_flag_values",)),
        C("age", "int", lo=0, hi=120),
        C("gend", codes=GEND),
        C("mdtrt_cert_type", codes=("01", "02", "03"), settings_codes=("e_credential_cert_types",)),
        C("direct_setl_flag", codes=FLAG01),
    )),
    TableSpec("setl_lists", "医保结算清单", key=("mdtrt_id",), year_column="setl_time", columns=(
        C("mdtrt_id", required=True),
        C("setl_id", required=True),
        C("fixmedins_code", required=True, **FIXMEDINS),
        C("psn_no", required=True, pii=True),
        C("drg_code"),
        C("diag_code", required=True, pattern=DIAG_PATTERN, pattern_text="a 医保版 ICD-10 code such as J18.900"),
        C("diag_code_cnt", "int", lo=1),
        C("adm_time", "datetime", required=True),
        C("dscg_time", "datetime", required=True),
        C("act_ipt_days", "int", required=True, lo=0),
        C("dscg_way", required=True, codes=("1", "2", "3", "4", "5", "9")),
        C("days_rinp_flag_31", codes=("1", "2")),
        C("max_oprn_lv", "int", lo=1, hi=4),
        C("oprn_cmpl_flag", codes=FLAG01),
        C("setl_time", "datetime", required=True),
        C("dcla_time", "datetime", required=True),
        C("qc_rslt", required=True, codes=FLAG01),
        C("age", "int", lo=0, hi=120),
        C("gend", codes=GEND),
    )),
    TableSpec("fee_items", "费用明细", year_column="fee_ocur_time", columns=(
        C("mdtrt_id", required=True),
        C("setl_id", required=True),
        C("fixmedins_code", required=True, **FIXMEDINS),
        C("fee_ocur_time", "datetime", required=True),
        C("med_chrgitm", required=True, codes=MED_CHRGITM),
        C("amt", "money", required=True),
        C("fulamt_ownpay_amt", "money"),
        C("vbp_flag", codes=FLAG01),
        C("nego_flag", codes=FLAG01),
        C("med_list_codg"),
        C("cnt", "float"),
        C("vbp_generic_flag", codes=FLAG01),
        C("natl_code_flag", codes=FLAG01),
    )),
    TableSpec("audit_flags", "智能审核疑点", key=("flag_id",), year_column="flag_time", columns=(
        C("flag_id", required=True),
        C("fixmedins_code", required=True, **FIXMEDINS),
        C("setl_id"),
        C("rule_code", required=True),
        C("rule_type", required=True),
        C("amount", "money", required=True),
        C("flag_time", "datetime", required=True),
        C("handled_time", "datetime"),
        C("confirmed", required=True, codes=FLAG01),
        C("fraud", codes=FLAG01),
    )),
    TableSpec("reported", "机构填报与调查", key=("fixmedins_code", "year", "indicator"), year_column="year", columns=(
        C("fixmedins_code", required=True, **FIXMEDINS),
        C("year", "int", required=True),
        C("indicator", required=True, **INDICATOR),
        C("value", "float", required=True),
        C("numerator", "float"),
        C("denominator", "float", lo=0),
        C("source", codes=("report", "survey")),
    )),
    TableSpec("expert_scores", "专家评分", key=("fixmedins_code", "year", "indicator", "expert_id"), year_column="year",
              columns=(
        C("fixmedins_code", required=True, **FIXMEDINS),
        C("year", "int", required=True),
        C("indicator", required=True, **INDICATOR),
        C("expert_id", required=True),
        C("score", "float", required=True, lo=0, hi=100),
    )),
    TableSpec("drg_groups", "DRG 分组参考表", key=("drg_code",), columns=(
        C("drg_code", required=True),
        C("drg_name"),
        C("weight", "float", required=True, lo=0, lo_open=True),
        C("mean_cost", "money", required=True),
        C("mean_los", "float", required=True, lo=0, lo_open=True),
    )),
)}

# --------------------------------------------------------------------------- bundle


@dataclass
class TableInfo:
    """What was read for one table. `rows` counts every data row in the file (malformed included)."""

    table: str
    path: Path | None = None
    format: str | None = None
    rows: int = 0
    sha256: str | None = None
    encoding: str | None = None
    columns: tuple[str, ...] = ()  # declared columns present in the file
    extra_columns: tuple[str, ...] = ()  # columns in the file that are not in the schema (not read)
    malformed: int = 0  # CSV lines that could not be split into the header's columns

    @property
    def present(self) -> bool:
        return self.path is not None

    @property
    def file(self) -> str:
        return self.path.name if self.path is not None else ""


@dataclass
class Bundle:
    data_dir: Path
    con: duckdb.DuckDBPyConnection
    tables: dict[str, TableInfo]
    warnings: list[str]
    workdir: Path
    settings: DataSettings | None = None
    year: int | None = None
    _cleanup: Path | None = None

    def close(self) -> None:
        try:
            self.con.close()
        finally:
            if self._cleanup is not None:
                shutil.rmtree(self._cleanup, ignore_errors=True)
                self._cleanup = None

    def __enter__(self) -> "Bundle":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def spec(self, table: str) -> TableSpec:
        return TABLES[table]


# DuckDB's memory cap unless PINGYI_MEMORY_LIMIT says otherwise: with it a 10-million-row bundle runs
# in under 1 GB for the whole process, spilling the rest to the bundle's temp directory (about 1.5x the
# time of an uncapped run on a machine with RAM to spare: benchmarks/README.md).
DEFAULT_MEMORY_LIMIT = "700MB"


def memory_limit() -> str | None:
    """The DuckDB memory limit to set: PINGYI_MEMORY_LIMIT (e.g. 8GB), its default, or None for 'none'."""
    value = os.environ.get("PINGYI_MEMORY_LIMIT", "").strip() or DEFAULT_MEMORY_LIMIT
    return None if value.lower() == "none" else value


def open_bundle(data_dir: Path, settings: DataSettings, year: int, workdir: Path | None = None) -> Bundle:
    """Read every table file of `data_dir` into a DuckDB database (raw text, in file order).

    Temporary files (transcoded CSVs, Parquet conversions of XLSX/XML, DuckDB's spill files) go to
    a fresh directory inside `workdir` (default: the system temp dir), removed by `Bundle.close()`.
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise PingyiError(f"{data_dir}: data directory not found; expected a directory with one file per "
                          f"table (providers.csv, settlements.csv …), see {CONTRACT}")
    files, warnings = _discover(data_dir)
    missing = [t.name for t in TABLES.values() if t.required and t.name not in files]
    if missing:
        found = ", ".join(sorted(p.name for p in files.values())) or "no table files"
        raise PingyiError(f"{data_dir}: required table {' and '.join(missing)} is missing; found {found}; "
                          f"expected files named <table>.<ext> with ext one of {', '.join(FORMATS)} ({CONTRACT})")
    if workdir is not None:
        Path(workdir).mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="pingyi-bundle-", dir=str(workdir) if workdir is not None else None))
    try:
        # in-memory (measured ~40 % less CPU than a database file for load + checks); DuckDB spills
        # to the temp directory beyond its memory limit, so larger-than-memory bundles still run
        con = duckdb.connect(":memory:", config={"preserve_insertion_order": True})
        con.execute(f"SET temp_directory = {_lit(str(tmp / 'spill'))}")
        limit = memory_limit()
        if limit is not None:
            try:
                con.execute(f"SET memory_limit = {_lit(limit)}")
            except duckdb.Error as exc:
                raise PingyiError(f"PINGYI_MEMORY_LIMIT: {_first_line(exc)}; found '{limit}'; expected a size such "
                                  f"as 700MB or 8GB, or 'none' for DuckDB's default (80 % of the RAM)") from exc
        bundle = Bundle(data_dir=data_dir, con=con, tables={}, warnings=warnings, workdir=tmp,
                        settings=settings, year=year, _cleanup=tmp)
        for spec in TABLES.values():
            path = files.get(spec.name)
            info = _read_table(con, spec, path, tmp) if path is not None else _empty_table(con, spec)
            bundle.tables[spec.name] = info
            if info.extra_columns:
                bundle.warnings.append(f"{info.file}: columns not in the schema were not read: "
                                       f"{', '.join(info.extra_columns)}")
        return bundle
    except BaseException:
        try:
            con.close()  # type: ignore[possibly-undefined]
        except Exception:
            pass
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _discover(data_dir: Path) -> tuple[dict[str, Path], list[str]]:
    files: dict[str, Path] = {}
    warnings: list[str] = []
    for path in sorted(data_dir.iterdir()):
        if path.name.startswith(("_", ".")):
            continue
        stem, _, ext = path.name.partition(".")
        stem, ext = stem.lower(), ext.lower()
        if not path.is_file() or stem not in TABLES or ext not in FORMATS:
            kind = "directory" if path.is_dir() else "file"
            warnings.append(f"{path.name}: unknown {kind} ignored; expected <table>.<ext> with table one of "
                            f"{', '.join(TABLES)} and ext one of {', '.join(FORMATS)}")
            continue
        if stem in files:
            raise PingyiError(f"{data_dir}: two files for table {stem}: {files[stem].name} and {path.name}; "
                              f"expected exactly one file per table")
        files[stem] = path
    return files, warnings


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _empty_table(con, spec: TableSpec) -> TableInfo:
    cols = ", ".join(f"NULL::VARCHAR AS {_ident(c)}" for c in spec.names)
    con.execute(f"CREATE TABLE raw_{spec.name} AS SELECT NULL::BIGINT AS _row, {cols} LIMIT 0")
    con.execute(f"CREATE TABLE malformed_{spec.name} (_row BIGINT, error VARCHAR)")
    return TableInfo(table=spec.name)


def _match_columns(spec: TableSpec, found: list[str], file: str, check_required: bool = True) -> dict[str, str]:
    """Map declared column -> column name in the file (case-insensitive, surrounding blanks ignored)."""
    wanted = {c.lower(): c for c in spec.names}
    mapping: dict[str, str] = {}
    for name in found:
        key = str(name).strip().lstrip("\ufeff").lower()
        declared = wanted.get(key)
        if declared is None:
            continue
        if declared in mapping:
            raise PingyiError(f"{file}: column '{declared}' appears twice (as '{mapping[declared]}' and '{name}'); "
                              f"expected each column once")
        mapping[declared] = name
    if check_required:
        missing = [c for c in spec.required_columns if c not in mapping]
        if missing:
            quoted = ", ".join(f"'{c}'" for c in missing)
            what = f"required column {quoted} is" if len(missing) == 1 else f"required columns {quoted} are"
            shown = ", ".join(str(f) for f in found) or "none"
            raise PingyiError(f"{file}: {what} missing; found columns: {shown}; "
                              f"expected the platform field codes in {CONTRACT}")
    return mapping


def _extra(spec: TableSpec, found: Iterable[str], mapping: dict[str, str]) -> tuple[str, ...]:
    used = set(mapping.values())
    return tuple(str(f) for f in found if f not in used)


def _select_list(spec: TableSpec, mapping: dict[str, str]) -> str:
    return ", ".join(f"CAST({_ident(mapping[c])} AS VARCHAR) AS {_ident(c)}" if c in mapping
                     else f"NULL::VARCHAR AS {_ident(c)}" for c in spec.names)


def _read_table(con, spec: TableSpec, path: Path, tmp: Path) -> TableInfo:
    fmt = path.name.partition(".")[2].lower()
    reader = {"csv": _read_csv, "json": _read_json, "parquet": _read_parquet,
              "xlsx": _read_xlsx, "xml": _read_xml}[fmt]
    info = TableInfo(table=spec.name, path=path, format=fmt)
    try:
        reader(con, spec, path, tmp, info)
    except PingyiError:
        raise
    except duckdb.Error as exc:
        raise PingyiError(f"{path.name}: cannot be read as {fmt.upper()}: {_first_line(exc)}") from exc
    if not info.sha256:
        info.sha256 = sha256_file(path)
    n_raw = con.execute(f"SELECT count(*) FROM raw_{spec.name}").fetchone()[0]
    if not con.execute(f"SELECT count(*) FROM information_schema.tables WHERE table_name = 'malformed_{spec.name}'"
                       ).fetchone()[0]:
        con.execute(f"CREATE TABLE malformed_{spec.name} (_row BIGINT, error VARCHAR)")
    info.malformed = con.execute(f"SELECT count(*) FROM malformed_{spec.name}").fetchone()[0]
    info.rows = n_raw + info.malformed
    return info


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------- text encodings


def _utf8_scan(path: Path) -> tuple[str, int | None, bytes, bool]:
    """Hash the file and check it decodes as UTF-8, streaming.

    Returns (sha256, offset of the first invalid byte or None, first bytes, mixed line endings)."""
    h = hashlib.sha256()
    dec = codecs.getincrementaldecoder("utf-8")()
    offset, bad, head = 0, None, b""
    crlf = lf = 0
    last = b""
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
            if not head:
                head = chunk[:4]
            crlf += chunk.count(b"\r\n") + (last == b"\r" and chunk[:1] == b"\n")
            lf += chunk.count(b"\n")
            last = chunk[-1:]
            if bad is None:
                try:
                    dec.decode(chunk)
                except UnicodeDecodeError as exc:
                    bad = offset + exc.start
            offset += len(chunk)
        if bad is None:
            try:
                dec.decode(b"", final=True)
            except UnicodeDecodeError as exc:
                bad = offset - len(dec.getstate()[0]) + exc.start
    return h.hexdigest(), bad, head, 0 < crlf < lf


def _transcode(path: Path, out: Path, encoding: str) -> int | None:
    """Stream-decode `path` with `encoding` into a UTF-8 file with \\n line ends (CR LF -> LF);
    return the offset of an undecodable byte, or None."""
    dec = codecs.getincrementaldecoder(encoding)()
    offset, pending = 0, ""
    with open(path, "rb") as src, open(out, "w", encoding="utf-8", newline="") as dst:
        for chunk in iter(lambda: src.read(1 << 20), b""):
            try:
                text = pending + dec.decode(chunk)
            except UnicodeDecodeError as exc:
                return offset + exc.start
            offset += len(chunk)
            pending = "\r" if text.endswith("\r") else ""
            dst.write((text[:-1] if pending else text).replace("\r\n", "\n"))
        try:
            text = pending + dec.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            return offset - len(dec.getstate()[0]) + exc.start
        dst.write(text.replace("\r\n", "\n"))
    return None


def _utf8_source(path: Path, tmp: Path, info: TableInfo) -> Path:
    """A UTF-8 version of a text file: the file itself, or a transcoded copy in `tmp`.

    UTF-8 (with or without BOM) is read as is, unless it mixes CR LF and LF line ends (as a file
    appended to on two systems does), which DuckDB's CSV parser refuses: then a copy with LF line
    ends is read. A UTF-16 file (BOM FF FE / FE FF, as Excel's 'Unicode text' writes) and a GBK
    file (decoded with GB18030, its superset, so rare characters in names decode too) are
    transcoded. DuckDB's own GBK support needs an extension download, so it is not used.
    """
    sha, bad, head, mixed = _utf8_scan(path)
    info.sha256 = sha
    out = tmp / f"{info.table}.utf8{path.suffix.lower()}"
    if bad is None:
        info.encoding = "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
        if not mixed:
            return path
        _transcode(path, out, "utf-8-sig")
        return out
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        if _transcode(path, out, "utf-16") is None:
            info.encoding = "utf-16"
            return out
    gbk_bad = _transcode(path, out, "gb18030")
    if gbk_bad is None:
        info.encoding = "gbk"
        return out
    out.unlink(missing_ok=True)
    raise PingyiError(f"{path.name}: cannot decode the file: not UTF-8 (invalid byte at offset {bad}) and not GBK "
                      f"(invalid byte at offset {gbk_bad}); expected UTF-8 or GBK text: re-save the file as UTF-8")


# --------------------------------------------------------------------------- readers


def _read_csv(con, spec: TableSpec, path: Path, tmp: Path, info: TableInfo) -> None:
    """The dialect comes from the header line alone (delimiter , tab ; or |, double quotes), so a
    few bad data lines never change how the good ones are split."""
    src = _utf8_source(path, tmp, info)
    if src.stat().st_size == 0 or not _has_text(src):
        raise PingyiError(f"{path.name}: the file is empty; expected a header row with the platform field codes "
                          f"({CONTRACT})")
    with open(src, encoding="utf-8-sig", newline="") as fh:
        first = fh.readline()
    delim = max(",\t;|", key=lambda d: (first.count(d), d == ","))
    found = next(csv.reader([first.rstrip("\r\n")], delimiter=delim, quotechar='"'))
    mapping = _match_columns(spec, found, path.name)
    info.columns = tuple(c for c in spec.names if c in mapping)
    info.extra_columns = _extra(spec, found, mapping)
    # positional names for DuckDB (the file's own names may repeat or be empty)
    positional = [f"c{i}" for i in range(len(found))]
    by_pos = {c: positional[found.index(mapping[c])] for c in info.columns}
    columns = "{" + ", ".join(f"'{p}': 'VARCHAR'" for p in positional) + "}"
    opts = (f"header = true, auto_detect = false, delim = {_lit(delim)}, quote = '\"', escape = '\"', "
            f"columns = {columns}, null_padding = false")
    t = spec.name
    rej = f"_rej_{t}"
    con.execute(f"CREATE TABLE _load_{t} AS SELECT {_select_list(spec, by_pos)} FROM read_csv({_lit(str(src))}, "
                f"{opts}, store_rejects = true, rejects_table = '{rej}', rejects_scan = '_rejscan_{t}')")
    # DuckDB records one line per error; a line is one data row when no quoted value spans lines
    con.execute(f"CREATE TABLE malformed_{t} AS SELECT CAST(line - 1 AS BIGINT) AS _row, "
                f"string_agg(DISTINCT lower(CAST(error_type AS VARCHAR)), ', ' ORDER BY lower(CAST(error_type AS VARCHAR))) "
                f"AS error FROM {rej} GROUP BY line")
    con.execute(f"DROP TABLE {rej}")
    con.execute(f"DROP TABLE _rejscan_{t}")
    _number_rows(con, t)


def _has_text(path: Path) -> bool:
    with open(path, "rb") as fh:
        return bool(fh.read(4096).strip(b" \t\r\n\xef\xbb\xbf"))


def _number_rows(con, t: str) -> None:
    """raw_<t> = _load_<t> numbered in insertion (= file) order, skipping the numbers of malformed rows.

    The k-th accepted row sits at data row k + #{j : r_j - j < k}, r_1 < r_2 < … the malformed rows.
    """
    cols = ", ".join(_ident(c) for c in TABLES[t].names)
    if con.execute(f"SELECT count(*) FROM malformed_{t}").fetchone()[0] == 0:
        con.execute(f"CREATE VIEW raw_{t} AS SELECT CAST(rowid + 1 AS BIGINT) AS _row, {cols} FROM _load_{t}")
        return
    con.execute(f"""CREATE TABLE raw_{t} AS
        WITH shifts AS (
            SELECT _row - j AS below, max(j) AS shift
            FROM (SELECT _row, row_number() OVER (ORDER BY _row) AS j FROM malformed_{t})
            GROUP BY _row - j),
        loaded AS (SELECT rowid + 1 AS k, * FROM _load_{t})
        SELECT CAST(loaded.k + coalesce(shifts.shift, 0) AS BIGINT) AS _row, {", ".join("loaded." + _ident(c) for c in TABLES[t].names)}
        FROM loaded ASOF LEFT JOIN shifts ON loaded.k > shifts.below
        ORDER BY _row""")
    con.execute(f"DROP TABLE _load_{t}")


def _read_json(con, spec: TableSpec, path: Path, tmp: Path, info: TableInfo) -> None:
    src = _utf8_source(path, tmp, info)
    if not _has_text(src):
        raise PingyiError(f"{path.name}: the file is empty; expected a JSON array of records or JSON Lines")
    fn = f"read_json({_lit(str(src))}, format = 'auto', records = 'true', sample_size = -1)"
    described = con.execute(f"DESCRIBE SELECT * FROM {fn}").fetchall()
    n = con.execute(f"SELECT count(*) FROM {fn}").fetchone()[0]
    t = spec.name
    if n == 0:
        _empty_loaded(con, spec, info)
        return
    found = [r[0] for r in described]
    if found == ["json"] and "json" not in spec.names:
        raise PingyiError(f"{path.name}: expected a JSON array of objects (records) or JSON Lines, one object per row")
    mapping = _match_columns(spec, found, path.name)
    info.columns = tuple(c for c in spec.names if c in mapping)
    info.extra_columns = _extra(spec, found, mapping)
    columns = "{" + ", ".join(f"{_lit(mapping[c])}: 'VARCHAR'" for c in info.columns) + "}"
    fn_text = f"read_json({_lit(str(src))}, format = 'auto', records = 'true', columns = {columns})"
    con.execute(f"CREATE TABLE _load_{t} AS SELECT {_select_list(spec, mapping)} FROM {fn_text}")
    con.execute(f"CREATE TABLE malformed_{t} (_row BIGINT, error VARCHAR)")
    _number_rows(con, t)


def _empty_loaded(con, spec: TableSpec, info: TableInfo) -> None:
    cols = ", ".join(f"NULL::VARCHAR AS {_ident(c)}" for c in spec.names)
    con.execute(f"CREATE TABLE raw_{spec.name} AS SELECT NULL::BIGINT AS _row, {cols} LIMIT 0")
    con.execute(f"CREATE TABLE malformed_{spec.name} (_row BIGINT, error VARCHAR)")


def _read_parquet(con, spec: TableSpec, path: Path, tmp: Path, info: TableInfo, found_override=None) -> None:
    fn = f"read_parquet({_lit(str(path))}, file_row_number = true)"
    described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({_lit(str(path))})").fetchall()
    found = [r[0] for r in described]
    if found_override is not None:  # a converted XLSX/XML file: `_row` is stored, columns already matched
        mapping = {c: c for c in found_override}
        info.columns = tuple(c for c in spec.names if c in mapping)
        row = "_row"
    else:
        mapping = _match_columns(spec, found, path.name)
        info.columns = tuple(c for c in spec.names if c in mapping)
        info.extra_columns = _extra(spec, found, mapping)
        row = "file_row_number + 1"
    con.execute(f"CREATE VIEW raw_{spec.name} AS SELECT CAST({row} AS BIGINT) AS _row, "
                f"{_select_list(spec, mapping)} FROM {fn}")


# ---- XLSX and XML: converted to a Parquet file of text columns, then read like Parquet


class _ParquetSink:
    """Writes rows (dicts of declared column -> text) to a Parquet file of string columns + `_row`."""

    BATCH = 50_000

    def __init__(self, path: Path, columns: tuple[str, ...]):
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.pa = pa
        self.path = path
        self.columns = columns
        self.schema = pa.schema([("_row", pa.int64())] + [(c, pa.string()) for c in columns])
        self.writer = pq.ParquetWriter(str(path), self.schema)
        self.buf: dict[str, list] = {c: [] for c in ("_row", *columns)}
        self.n = 0

    def add(self, row_no: int, values: dict[str, str | None]) -> None:
        self.buf["_row"].append(row_no)
        for c in self.columns:
            self.buf[c].append(values.get(c))
        self.n += 1
        if len(self.buf["_row"]) >= self.BATCH:
            self.flush()

    def flush(self) -> None:
        if self.buf["_row"]:
            self.writer.write_table(self.pa.table(self.buf, schema=self.schema))
            self.buf = {c: [] for c in ("_row", *self.columns)}

    def close(self) -> None:
        self.flush()
        self.writer.close()


def cell_text(value) -> str | None:
    """Canonical text of a spreadsheet cell: codes stay text, integers lose '.0', times are ISO."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        value = (value + dt.timedelta(microseconds=500_000)).replace(microsecond=0)  # Excel float jitter
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S")
    return str(value)


def _xlsx_cell(value) -> str | None:
    """cell_text of a value as python-calamine gives it: an empty cell is '', and a date-time cell at
    midnight is a date (Excel has only date-times: it is the same value openpyxl reads as a datetime)."""
    if value == "":
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    return cell_text(value)


def _read_xlsx(con, spec: TableSpec, path: Path, tmp: Path, info: TableInfo) -> None:
    """Read with python-calamine (Rust), about 20x faster than openpyxl's read-only mode and giving the
    same text for every cell (a test compares the two). Cached values of formulas are read, never the
    formulas. Rows keep the sheet's numbering (`_row` = sheet row - 1): calamine yields rows from the
    sheet's first row, and blank rows are skipped but counted."""
    from python_calamine import CalamineError, CalamineWorkbook

    info.sha256 = sha256_file(path)
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except (CalamineError, OSError, ValueError) as exc:
        raise PingyiError(f"{path.name}: not a readable .xlsx workbook ({_first_line(exc)}); expected an Excel "
                          f"2007+ workbook with a sheet named '{spec.name}'") from exc
    try:
        sheets = list(wb.sheet_names)
        if spec.name in sheets:
            title = spec.name
        elif len(sheets) == 1:
            title = sheets[0]
        else:
            raise PingyiError(f"{path.name}: no sheet named '{spec.name}'; found sheets: {', '.join(sheets)}; "
                              f"expected a sheet named '{spec.name}' (or a workbook with a single sheet)")
        try:
            rows = iter(wb.get_sheet_by_name(title).iter_rows())
        except CalamineError as exc:
            raise PingyiError(f"{path.name}: sheet '{title}' cannot be read ({_first_line(exc)}); expected an Excel "
                              f"2007+ worksheet") from exc
        header = next(rows, None)
        if header is None or all(_xlsx_cell(v) is None for v in header):
            raise PingyiError(f"{path.name}: the first row of sheet '{title}' is empty; expected a header row "
                              f"with the platform field codes ({CONTRACT})")
        found = [_xlsx_cell(v) or "" for v in header]
        mapping = _match_columns(spec, [f for f in found if f], path.name)
        info.columns = tuple(c for c in spec.names if c in mapping)
        info.extra_columns = _extra(spec, [f for f in found if f], mapping)
        index = {c: found.index(mapping[c]) for c in info.columns}
        sink = _ParquetSink(tmp / f"{spec.name}.xlsx.parquet", info.columns)
        try:
            for n, row in enumerate(rows, start=1):
                if all(v == "" or (isinstance(v, str) and not v.strip()) for v in row):
                    continue  # blank spreadsheet row; `_row` keeps the sheet's numbering (sheet row - 1)
                sink.add(n, {c: _xlsx_cell(row[i]) if i < len(row) else None for c, i in index.items()})
        finally:
            sink.close()
    finally:
        wb.close()
    _read_parquet(con, spec, sink.path, tmp, info, found_override=info.columns)


def _local(tag) -> str:
    tag = str(tag)
    return tag.rsplit("}", 1)[-1] if tag.startswith("{") else tag


def _read_xml(con, spec: TableSpec, path: Path, tmp: Path, info: TableInfo) -> None:
    """`<table><row><column>value</column>…</row>…</table>`; element names of the root and the rows are
    free; a row's attributes count as columns too. Parsed with defusedxml (no entity expansion,
    no external entities)."""
    from xml.etree.ElementTree import ParseError

    import defusedxml
    from defusedxml.ElementTree import iterparse

    info.sha256 = sha256_file(path)
    wanted = {c.lower(): c for c in spec.names}
    seen_declared: dict[str, str] = {}
    found: dict[str, None] = {}
    sink = _ParquetSink(tmp / f"{spec.name}.xml.parquet", spec.names)
    depth, n, root = 0, 0, None
    try:
        for event, elem in iterparse(str(path), events=("start", "end")):
            if event == "start":
                depth += 1
                if depth == 1:
                    root = elem
                continue
            depth -= 1
            if depth != 1:
                continue
            n += 1  # a row element closed
            values: dict[str, str | None] = {}
            items = [(k, v) for k, v in elem.attrib.items()] + [(child.tag, child.text) for child in elem]
            for tag, text in items:
                name = _local(tag)
                found.setdefault(name, None)
                declared = wanted.get(name.strip().lower())
                if declared is None:
                    continue
                if declared in values or seen_declared.get(declared, name) != name:
                    raise PingyiError(f"{path.name}: row {n} has column '{declared}' twice; expected each column "
                                      f"once per row")
                seen_declared[declared] = name
                values[declared] = text
            sink.add(n, values)
            elem.clear()
            if root is not None:
                root.clear()
    except ParseError as exc:
        line, col = getattr(exc, "position", (None, None))
        raise PingyiError(f"{path.name}: not well-formed XML at line {line}, column {col}; expected "
                          f"<table><row><column>value</column>…</row>…</table>") from exc
    except defusedxml.DefusedXmlException as exc:
        raise PingyiError(f"{path.name}: XML with a DTD, entities or external references is refused "
                          f"({type(exc).__name__}); expected plain <table><row>… XML") from exc
    finally:
        sink.close()
    if n:
        _match_columns(spec, list(found), path.name)
    info.extra_columns = tuple(f for f in found if f.strip().lower() not in wanted)
    _read_parquet(con, spec, sink.path, tmp, info, found_override=tuple(seen_declared))
    info.columns = tuple(c for c in spec.names if c in seen_declared)


# --------------------------------------------------------------------------- writing a bundle


def read_raw(data_dir: Path, workdir: Path | None = None) -> Bundle:
    """Read a bundle without settings (format conversion, inspection)."""
    return open_bundle(data_dir, DataSettings(), 0, workdir)


def save_bundle(bundle_dir: Path, out_dir: Path, fmt: str, workdir: Path | None = None) -> list[Path]:
    """Write every table present in the bundle at `bundle_dir` to `out_dir` as `<table>.<fmt>`.

    Values are written as the text that was read (codes keep leading zeros, money keeps its
    decimals), in file order, with the columns the source file had.
    """
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise PingyiError(f"unknown bundle format {fmt!r}; expected one of {', '.join(FORMATS)}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with read_raw(bundle_dir, workdir) as bundle:
        for name, info in bundle.tables.items():
            if not info.present:
                continue
            target = out_dir / f"{name}.{fmt}"
            cols = info.columns
            query = f"SELECT {', '.join(_ident(c) for c in cols)} FROM raw_{name} ORDER BY _row"
            con = bundle.con
            if fmt == "csv":
                con.execute(f"COPY ({query}) TO {_lit(str(target))} (FORMAT csv, HEADER true)")
            elif fmt == "parquet":
                con.execute(f"COPY ({query}) TO {_lit(str(target))} (FORMAT parquet)")
            elif fmt == "json":
                _write_json(con.execute(query), cols, target)
            elif fmt == "xlsx":
                _write_xlsx(con.execute(query), cols, target, name)
            else:
                _write_xml(con.execute(query), cols, target, name)
            written.append(target)
    return written


def _batches(cursor, size: int = 10_000) -> Iterator[tuple]:
    while True:
        rows = cursor.fetchmany(size)
        if not rows:
            return
        yield from rows


def _write_json(cursor, cols, target: Path) -> None:
    with open(target, "w", encoding="utf-8") as fh:
        fh.write("[")
        for i, row in enumerate(_batches(cursor)):
            record = {c: v for c, v in zip(cols, row) if v is not None}
            fh.write(("," if i else "") + "\n" + json.dumps(record, ensure_ascii=False))
        fh.write("\n]\n")


def _write_xlsx(cursor, cols, target: Path, sheet: str) -> None:
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    ws.append(list(cols))
    for row in _batches(cursor):
        cells = []
        for v in row:
            if isinstance(v, str) and v.startswith("="):  # text, never a formula
                cell = WriteOnlyCell(ws, value=v)
                cell.data_type = "s"
                cells.append(cell)
            else:
                cells.append(v)
        ws.append(cells)
    wb.save(str(target))


_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _write_xml(cursor, cols, target: Path, root: str) -> None:
    from xml.sax.saxutils import escape

    with open(target, "w", encoding="utf-8") as fh:
        fh.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<{root}>\n')
        for row in _batches(cursor):
            fields = "".join(f"<{c}>{escape(_XML_BAD.sub('', v))}</{c}>" for c, v in zip(cols, row) if v is not None)
            fh.write(f"  <row>{fields}</row>\n")
        fh.write(f"</{root}>\n")
