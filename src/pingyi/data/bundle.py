"""Reading a data bundle into DuckDB: one file per table, every declared column as text.

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

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from pingyi.data.contract import CONTRACT, FORMATS, TABLES, TableSpec
from pingyi.data.encoding import encoding_name
from pingyi.data.read import TableInfo, damaged, first_line, read_csv, read_json, read_parquet
from pingyi.data.sheets import read_xlsx, read_xml
from pingyi.data.sql import ident, lit
from pingyi.errors import PingyiError
from pingyi.files import sha256_file
from pingyi.spec.models import DataSettings


@dataclass
class Bundle:
    """The data stage's working database: an open DuckDB connection holding the raw, checked and clean
    tables, and what was read per table. A resource, not a stage record: close it (or use `with`) when
    the measures are computed; no later stage reads it."""

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

    def __enter__(self) -> Bundle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def spec(self, table: str) -> TableSpec:
        return TABLES[table]

    @property
    def present(self) -> frozenset[str]:
        """The tables that have a file in the bundle."""
        return frozenset(t for t, info in self.tables.items() if info.present)


# DuckDB's memory cap unless PINGYI_MEMORY_LIMIT says otherwise: with it a 10-million-row bundle runs
# in under 1 GB for the whole process, spilling the rest to the bundle's temp directory (about 1.5x the
# time of an uncapped run on a machine with RAM to spare: benchmarks/README.md).
DEFAULT_MEMORY_LIMIT = "700MB"


def memory_limit() -> str | None:
    """The DuckDB memory limit to set: PINGYI_MEMORY_LIMIT (e.g. 8GB), its default, or None for 'none'."""
    value = os.environ.get("PINGYI_MEMORY_LIMIT", "").strip() or DEFAULT_MEMORY_LIMIT
    return None if value.lower() == "none" else value


def open_bundle(
    data_dir: Path,
    settings: DataSettings,
    year: int,
    workdir: Path | None = None,
    encoding: str | None = None,
    wrap: Callable[[duckdb.DuckDBPyConnection], Any] | None = None,
) -> Bundle:
    """Read every table file of `data_dir` into a DuckDB database (raw text, in file order).

    `encoding` (`--encoding`) decodes every CSV and JSON file that is not UTF-8, instead of telling
    GBK from Big5 (pingyi.data.encoding); XLSX, Parquet and XML carry their own encoding.

    Temporary files (transcoded CSVs, Parquet conversions of XLSX/XML, DuckDB's spill files) go to
    a fresh directory inside `workdir` (default: the system temp dir), removed by `Bundle.close()`.

    `wrap`: the connection the stages use instead of DuckDB's own, made from it (another engine behind
    DuckDB's API: pingyi.engine); it is set up before any table is read and closed with the bundle.
    """
    data_dir = Path(data_dir)
    if encoding is not None:
        encoding_name(encoding)
    if not data_dir.is_dir():
        raise PingyiError(
            f"{data_dir}: data directory not found; expected a directory with one file per "
            f"table (providers.csv, settlements.csv …), see {CONTRACT}"
        )
    files, warnings = _discover(data_dir)
    missing = [t.name for t in TABLES.values() if t.required and t.name not in files]
    if missing:
        found = ", ".join(sorted(p.name for p in files.values())) or "no table files"
        raise PingyiError(
            f"{data_dir}: required table {' and '.join(missing)} is missing; found {found}; "
            f"expected files named <table>.<ext> with ext one of {', '.join(FORMATS)} ({CONTRACT})"
        )
    if workdir is not None:
        Path(workdir).mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="pingyi-bundle-", dir=str(workdir) if workdir is not None else None))
    con: duckdb.DuckDBPyConnection | None = None
    try:
        # in-memory (measured ~40 % less CPU than a database file for load + checks); DuckDB spills
        # to the temp directory beyond its memory limit, so larger-than-memory bundles still run
        con = duckdb.connect(":memory:", config={"preserve_insertion_order": True})
        con.execute(f"SET temp_directory = {lit(str(tmp / 'spill'))}")
        limit = memory_limit()
        if limit is not None:
            try:
                con.execute(f"SET memory_limit = {lit(limit)}")
            except duckdb.Error as exc:
                raise PingyiError(
                    f"PINGYI_MEMORY_LIMIT: {first_line(exc)}; found '{limit}'; expected a size such "
                    f"as 700MB or 8GB, or 'none' for DuckDB's default (80 % of the RAM)"
                ) from exc
        bundle = Bundle(
            data_dir=data_dir,
            con=con if wrap is None else wrap(con),
            tables={},
            warnings=warnings,
            workdir=tmp,
            settings=settings,
            year=year,
            _cleanup=tmp,
        )
        for spec in TABLES.values():
            path = files.get(spec.name)
            info = (
                read_table(bundle.con, spec, path, tmp, encoding)
                if path is not None
                else _empty_table(bundle.con, spec)
            )
            bundle.tables[spec.name] = info
            if info.extra_columns:
                bundle.warnings.append(
                    f"{info.file}: columns not in the schema were not read: {', '.join(info.extra_columns)}"
                )
        return bundle
    except BaseException:
        if con is not None:
            with contextlib.suppress(Exception):
                con.close()
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
            warnings.append(
                f"{path.name}: unknown {kind} ignored; expected <table>.<ext> with table one of "
                f"{', '.join(TABLES)} and ext one of {', '.join(FORMATS)}"
            )
            continue
        if stem in files:
            raise PingyiError(
                f"{data_dir}: two files for table {stem}: {files[stem].name} and {path.name}; "
                f"expected exactly one file per table"
            )
        files[stem] = path
    return files, warnings


def _empty_table(con, spec: TableSpec) -> TableInfo:
    cols = ", ".join(f"NULL::VARCHAR AS {ident(c)}" for c in spec.names)
    con.execute(f"CREATE TABLE raw_{spec.name} AS SELECT NULL::BIGINT AS _row, {cols} LIMIT 0")
    con.execute(f"CREATE TABLE malformed_{spec.name} (_row BIGINT, error VARCHAR)")
    return TableInfo(table=spec.name)


def read_table(con, spec: TableSpec, path: Path, tmp: Path, encoding: str | None = None) -> TableInfo:
    fmt = path.name.partition(".")[2].lower()
    info = TableInfo(table=spec.name, path=path, format=fmt)
    try:
        if fmt in ("csv", "json"):
            (read_csv if fmt == "csv" else read_json)(con, spec, path, tmp, info, encoding)
        else:
            {"parquet": read_parquet, "xlsx": read_xlsx, "xml": read_xml}[fmt](con, spec, path, tmp, info)
    except PingyiError:
        raise
    except (duckdb.IOException, duckdb.InvalidInputException) as exc:
        if fmt == "parquet":  # a truncated file, a corrupt footer (data pages: reading_inputs, later)
            raise damaged(path, fmt, exc) from exc
        raise PingyiError(f"{path.name}: cannot be read as {fmt.upper()}: {first_line(exc)}") from exc
    except duckdb.Error as exc:
        raise PingyiError(f"{path.name}: cannot be read as {fmt.upper()}: {first_line(exc)}") from exc
    if not info.sha256:
        info.sha256 = sha256_file(path)
    n_raw = con.execute(f"SELECT count(*) FROM raw_{spec.name}").fetchone()[0]
    if not con.execute(
        f"SELECT count(*) FROM information_schema.tables WHERE table_name = 'malformed_{spec.name}'"
    ).fetchone()[0]:
        con.execute(f"CREATE TABLE malformed_{spec.name} (_row BIGINT, error VARCHAR)")
    info.malformed = con.execute(f"SELECT count(*) FROM malformed_{spec.name}").fetchone()[0]
    info.rows = n_raw + info.malformed
    return info
