"""Reading a results directory written by `pingyi score` (the only I/O before rendering)."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from pingyi.run.schema import ResultsDocument, load_results_document


@dataclass
class ResultsDir:
    path: Path
    results: dict  # results.json as parsed (the renderers read it as plain data)
    document: ResultsDocument  # the same, checked against the results contract
    scores: list[dict] = field(default_factory=list)  # scores.csv rows (strings, as written)
    quality_rows: list[dict] = field(default_factory=list)  # quality.csv rows
    rejected_counts: list[dict] = field(default_factory=list)  # rejected.csv rows counted by table and reason


def _csv_rows(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def load_results(path: Path | str, *, quality: bool = True) -> ResultsDir:
    """`quality`: also quality.csv and the counts of rejected.csv, which only the cards and the committee
    report show (at provincial scale they are tens of megabytes the workbook does not read)."""
    path = Path(path)
    results, document = load_results_document(path)
    counts: dict[tuple, int] = {}
    rejected = path / "rejected.csv"
    if quality and rejected.is_file():
        with rejected.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                key = (row.get("table") or "", row.get("reason_code") or "")
                counts[key] = counts.get(key, 0) + 1
    return ResultsDir(
        path=path,
        results=results,
        document=document,
        scores=_csv_rows(path / "scores.csv"),
        quality_rows=_csv_rows(path / "quality.csv") if quality else [],
        rejected_counts=[{"table": t, "reason_code": r, "rows": n} for (t, r), n in sorted(counts.items())],
    )
