"""Output files: a sink per table (csv, parquet, or xlsx with fixed timestamps), the writer
threads that overlap writing with generation, and the JSON side files."""

from __future__ import annotations

import datetime as dt
import io
import json
import queue
import re
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq


class Sink:
    """Writes one table chunk by chunk, in csv, parquet or xlsx (xlsx is buffered)."""

    # low-cardinality columns get Parquet dictionary encoding; ids and money do not
    DICT_COLUMNS = {
        "insutype",
        "med_type",
        "fixmedins_code",
        "insuplc_admdvs",
        "refd_setl_flag",
        "age",
        "gend",
        "mdtrt_cert_type",
        "drg_code",
        "diag_code",
        "diag_code_cnt",
        "act_ipt_days",
        "dscg_way",
        "days_rinp_flag_31",
        "max_oprn_lv",
        "oprn_cmpl_flag",
        "qc_rslt",
        "med_chrgitm",
        "vbp_flag",
        "nego_flag",
        "rule_code",
        "rule_type",
        "confirmed",
        "fraud",
        "year",
        "indicator",
        "source",
        "expert_id",
        "hosp_lv",
        "fixmedins_type",
        "direct_setl_flag",
        "med_list_codg",
        "cnt",
        "vbp_generic_flag",
        "natl_code_flag",
    }

    # min/max statistics where readers filter (times, provider); skipping them elsewhere saves ~30 % write time
    STATS_COLUMNS = {
        "setl_time",
        "fee_ocur_time",
        "adm_time",
        "dscg_time",
        "dcla_time",
        "flag_time",
        "fixmedins_code",
        "med_type",
        "year",
    }

    def __init__(self, path: Path, fmt: str, columns: list[str], year: int, level: int | None = None):
        self.level = level  # zstd level: higher for the small committed example, default for big runs
        self.path = path
        self.fmt = fmt
        self.columns = columns
        self.year = year
        self.schema = pa.schema([(c, pa.string()) for c in columns])
        self.rows = 0
        self._writer: Any = None  # pacsv.CSVWriter or pq.ParquetWriter, opened on the first write
        self._xlsx_rows: list[tuple[Any, ...]] = []

    def write(self, table: pa.Table) -> None:
        table = table.select(self.columns).cast(self.schema)
        self.rows += table.num_rows
        if self.fmt == "xlsx":
            self._xlsx_rows.extend(zip(*[table.column(c).to_pylist() for c in self.columns]))
            return
        if self._writer is None:
            if self.fmt == "csv":
                self._writer = pacsv.CSVWriter(
                    str(self.path), self.schema, write_options=pacsv.WriteOptions(quoting_style="needed")
                )
            else:
                self._writer = pq.ParquetWriter(
                    str(self.path),
                    self.schema,
                    compression="zstd",
                    compression_level=self.level,
                    use_dictionary=[c for c in self.columns if c in self.DICT_COLUMNS],
                    write_statistics=[c for c in self.columns if c in self.STATS_COLUMNS],
                )
        self._writer.write_table(table)

    def close(self) -> None:
        if self.fmt == "xlsx":
            write_xlsx(self.path, self.columns, self._xlsx_rows, self.year)
            return
        if self._writer is None:  # empty table: header only
            self.write(pa.table({c: pa.array([], pa.string()) for c in self.columns}))
        self._writer.close()


def write_xlsx(path: Path, columns: list[str], rows: list, year: int) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("providers")
    ws.append(columns)
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(ws, value=value)
            if value is not None:
                cell.number_format = "@"  # text: codes keep their leading zeros
            cells.append(cell)
        ws.append(cells)
    fixed = dt.datetime(year, 1, 1)
    wb.properties.creator = "pingyi example"
    wb.properties.created = fixed
    buf = io.BytesIO()
    wb.save(buf)
    # openpyxl stamps the save time into docProps/core.xml and the zip entries: normalise both
    stamp = fixed.strftime("%Y-%m-%dT%H:%M:%SZ")
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)",
                    lambda m: m.group(1) + stamp.encode() + m.group(2),
                    data,
                )
            zi = zipfile.ZipInfo(info.filename, date_time=(year, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            dst.writestr(zi, data)
    path.write_bytes(out.getvalue())


class Workers:
    """One background thread per output table. A job builds the table's Arrow strings from a
    block's numpy arrays and writes it, so string building and compression of one block overlap
    the generation of the next (Arrow and most numpy kernels release the GIL). Each table's jobs
    run in submission order, so files are identical whatever the timing."""

    def __init__(self, names: list[str], depth: int = 1):
        self._queues: dict[str, queue.Queue[Callable[[], None] | None]] = {
            name: queue.Queue(maxsize=depth) for name in names
        }
        self._error: BaseException | None = None
        self._threads = [threading.Thread(target=self._run, args=(q,), daemon=True) for q in self._queues.values()]
        for t in self._threads:
            t.start()

    def _run(self, q: queue.Queue) -> None:
        while True:
            job = q.get()
            if job is None:
                return
            if self._error is None:
                try:
                    job()
                except BaseException as exc:  # surfaced in submit()/close()
                    self._error = exc

    def submit(self, name: str, job) -> None:
        if self._error is not None:
            raise self._error
        self._queues[name].put(job)

    def close(self) -> None:
        for q in self._queues.values():
            q.put(None)
        for t in self._threads:
            t.join()
        if self._error is not None:
            raise self._error


def fmt_time(seconds: int) -> str:
    return dt.datetime.fromtimestamp(int(seconds), dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def write_json(path: Path, doc: dict) -> None:
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
