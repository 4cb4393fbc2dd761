"""Result files: scores.csv, indicators.csv, adjustments.csv, results.json (plus quality.csv and
rejected.csv from the quality stage). Byte-identical across runs: stable sorting, fixed number
formatting, no timestamps. Patient identifiers never reach this module.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO

from pingyi.run.pipeline import RunResult, gc_paused
from pingyi.run.results import document_fields, provider_documents
from pingyi.text import fixed as fmt
from pingyi.text import significant as fmt_value

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
RESULT_FILES = ("scores.csv", "indicators.csv", "adjustments.csv", "quality.csv", "rejected.csv", "results.json")


def safe_text(text: str | None) -> str:
    """Text from input data never starts a spreadsheet formula when a CSV is opened in Excel (OWASP CSV
    injection guidance: prefix with an apostrophe)."""
    if text is None:
        return ""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _csv(path: Path, header: list[str], rows: Iterable[list[Any]]) -> None:
    """Rows written as they come (an iterator is never held as a list)."""
    with path.open("w", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_results(run: RunResult, out: Path) -> list[Path]:
    with gc_paused():  # a document per provider, built and dropped: nothing for the collector to find
        return _write_results(run, out)


def _write_results(run: RunResult, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    project = run.project
    primaries = [p.code for p in run.tree.primary]
    info = {p.code: p for p in run.providers}
    results = sorted(run.scored.results, key=lambda r: r.fixmedins_code)

    score_rows = []
    for r in results:
        p = info[r.fixmedins_code]
        pscore = {ps.code: ps.score for ps in r.primaries}
        score_rows.append(
            [
                r.fixmedins_code,
                safe_text(p.name),
                p.region,
                p.level,
                fmt(r.total),
                r.grade,
                "" if r.rank is None else r.rank,
                *(fmt(pscore[c]) for c in primaries),
            ]
        )
    _csv(
        out / "scores.csv",
        ["fixmedins_code", "fixmedins_name", "region", "level", "total_score", "grade", "rank", *primaries],
        score_rows,
    )

    nominal = run.tree.global_weights()
    nominal_text = {code: fmt(nominal[code], 6) for code in project.indicators}

    def ind_rows() -> Iterator[list[Any]]:
        for r in results:
            vals = run.values[r.fixmedins_code]
            for code in project.indicators:
                s = r.indicators[code]
                yield [
                    r.fixmedins_code,
                    code,
                    fmt_value(s.value),
                    fmt_value(s.baseline),
                    fmt(s.score),
                    s.light.value,
                    fmt(r.effective_weight[code], 6),
                    nominal_text[code],
                    fmt(r.contribution[code], 6),
                    fmt_value(vals[code].prior),
                    fmt_value(s.benchmark),
                    s.status,
                    s.reason,
                ]

    _csv(
        out / "indicators.csv",
        [
            "fixmedins_code",
            "indicator",
            "value",
            "baseline",
            "score",
            "light",
            "weight",
            "nominal_weight",
            "contribution",
            "prior_value",
            "benchmark",
            "status",
            "reason",
        ],
        ind_rows(),
    )

    adj_rows = [
        [
            a.fixmedins_code,
            fmt(a.prepayment),
            f"{a.rate:.6f}",
            fmt(a.amount),
            fmt(a.new_prepayment),
            a.rule,
            a.designation,
            a.prepayment_source,
            *(
                ["", "", "", ""]  # the credit bonus is off
                if a.credit is None
                else [a.credit.rating or "", a.credit.status, f"{a.credit.rate:.6f}", fmt(a.credit.amount)]
            ),
        ]
        for a in sorted(run.adjustments, key=lambda a: a.fixmedins_code)
    ]
    _csv(
        out / "adjustments.csv",
        [
            "fixmedins_code",
            "prepayment",
            "rate",
            "amount",
            "new_prepayment",
            "rule",
            "designation",
            "prepayment_source",
            "credit_rating",
            "credit_status",
            "credit_rate",
            "credit_amount",
        ],
        adj_rows,
    )

    run.quality.write(out)
    # inside the staging folder of the run's outputs: the folder, not each file, is replaced atomically
    with (out / "results.json").open("w", encoding="utf-8") as fh:
        write_document(fh, {**document_fields(run), "providers": provider_documents(run)})
    return [out / n for n in RESULT_FILES]


def document_text(doc: dict[str, Any]) -> str:
    """results.json as text (write_document into a string)."""
    buf = io.StringIO()
    write_document(buf, doc)
    return buf.getvalue()


def write_document(fh: TextIO, doc: Mapping[str, Any]) -> None:
    """results.json as text: one top-level field per line, and one line per element of a top-level list
    (a provider, a correction). Each value is encoded by json's C encoder, which `indent` would turn off
    (the pure-Python encoder took 6.2 s for 5,000 providers); a provider stays one line that `grep`
    finds and a diff names. A field may be an iterator (the providers): its elements are encoded and
    written one at a time, so the whole document is never held in memory, as text or as dictionaries."""
    fh.write("{\n")
    for i, (key, value) in enumerate(doc.items()):
        fh.write((",\n" if i else "") + f" {json.dumps(key, ensure_ascii=False)}: ")
        if isinstance(value, list | Iterator):
            first = True
            for element in value:
                fh.write("[\n  " if first else ",\n  ")
                fh.write(json.dumps(element, ensure_ascii=False))
                first = False
            fh.write("[]" if first else "\n ]")
        else:
            fh.write(json.dumps(value, ensure_ascii=False))
    fh.write("\n}\n")
