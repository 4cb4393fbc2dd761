"""A results folder as pandas DataFrames, for analysts and assessors working in Python.

The frames are read from results.json through its checked model (pingyi.run.schema), not from the
CSV files: the JSON is the contract, versioned, and holds every figure the CSVs hold and more. Money
stays exact: prepayments, rates and amounts are `decimal.Decimal` objects (object dtype), the same
decimal strings results.json records, so a sum of `amount` equals the committee budget to the fen.
Every other number is a float64 (NaN where results.json has null), codes and words are strings.

Before any frame is built the folder's files are checked against its manifest: a results.json that
was edited after the run is refused (`verify=False` reads it anyway, e.g. to inspect a damaged run).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from pingyi.errors import PingyiError
from pingyi.run.schema import ResultsDocument, load_results_document
from pingyi.run.verify import read_manifest, recorded_outputs

SCORE_COLUMNS = (
    "fixmedins_code", "fixmedins_name", "province", "province_name", "region", "level", "type",
    "total_score", "grade", "grade_en", "light", "rank", "veto", "peer_keys", "peer_n", "peer_percentile",
)  # fmt: skip
INDICATOR_COLUMNS = (
    "fixmedins_code", "indicator", "primary", "name_zh", "name_en", "unit", "value", "raw_value",
    "adjusted_value", "prior_value", "baseline", "benchmark", "gap", "score", "light", "status", "absence",
    "weight", "nominal_weight", "contribution", "volume", "interval_low", "interval_high", "peer_percentile",
    "reason", "reason_zh",
)  # fmt: skip
ADJUSTMENT_COLUMNS = (
    "fixmedins_code", "grade", "prepayment", "prepayment_source", "rate", "amount", "new_prepayment", "rule",
    "designation", "credit_rating", "credit_status", "credit_rate", "credit_amount",
)  # fmt: skip
QUALITY_COLUMNS = (
    "fixmedins_code", "table", "check", "reason_code", "dimension", "severity", "failed", "checked", "rate",
)  # fmt: skip
MONEY = ("prepayment", "rate", "amount", "new_prepayment", "credit_rate", "credit_amount")


@dataclass(frozen=True)
class Results:
    """One results folder: `scores` (a row per provider, a column per dimension), `indicators` (a row per
    provider and indicator), `adjustments` (a row per provider, money as Decimal), `quality` (a row per
    provider and data check that touched its rows), and the checked `document` itself."""

    folder: Path
    year: int
    document: ResultsDocument
    scores: pd.DataFrame
    indicators: pd.DataFrame
    adjustments: pd.DataFrame
    quality: pd.DataFrame

    def provider(self, code: str) -> pd.DataFrame:
        """The indicator rows of one provider, by code or exact name."""
        codes = self.scores.loc[
            (self.scores["fixmedins_code"] == code) | (self.scores["fixmedins_name"] == code), "fixmedins_code"
        ]
        if codes.empty:
            raise PingyiError(
                f"{self.folder / 'results.json'}: provider {code!r} not found; expected a fixmedins_code or "
                f"fixmedins_name of one of its {len(self.scores)} providers"
            )
        return self.indicators[self.indicators["fixmedins_code"] == codes.iloc[0]].reset_index(drop=True)


def _money(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _frame(rows: list[dict[str, Any]], columns: tuple[str, ...], money: tuple[str, ...] = ()) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(rows, columns=list(columns))
    for name in money:  # pandas would infer float from a column of Decimals only when asked; keep them exact
        frame[name] = frame[name].astype(object)
    return frame


def load_results(folder: Path | str, *, verify: bool = True) -> Results:
    """The results folder written by `pingyi score` (or `pingyi cycle score`) as DataFrames."""
    folder = Path(folder)
    if verify:
        manifest = read_manifest(folder)
        missing, edited = recorded_outputs(folder, manifest["outputs"].items(), folder / "manifest.json")
        if missing or edited:
            said = "; ".join(
                missing + [f"EDITED {name}: its bytes differ from the manifest" for name in sorted(edited)]
            )
            raise PingyiError(
                f"{folder}: the results do not match their manifest ({said}); expected the files as `pingyi "
                "score` wrote them (load_results(..., verify=False) reads them anyway)"
            )
    _raw, doc = load_results_document(folder)
    catalogue = {i.code: i for i in doc.indicators}
    dimensions = [p.code for p in doc.primaries]
    score_rows, indicator_rows, adjustment_rows, quality_rows = [], [], [], []
    for p in doc.providers:
        row: dict[str, Any] = {
            "fixmedins_code": p.fixmedins_code, "fixmedins_name": p.fixmedins_name, "province": p.province,
            "province_name": p.province_name, "region": p.region, "level": p.level, "type": p.type,
            "total_score": p.total_score, "grade": p.grade, "grade_en": p.grade_en, "light": p.light,
            "rank": p.rank, "veto": "; ".join(p.veto), "peer_keys": ",".join(p.peer_group.keys),
            "peer_n": p.peer_n, "peer_percentile": p.peer_percentile,
        }  # fmt: skip
        row.update({d.code: d.score for d in p.primaries})
        score_rows.append(row)
        for i in p.indicators:
            spec = catalogue[i.code]
            indicator_rows.append({
                "fixmedins_code": p.fixmedins_code, "indicator": i.code, "primary": spec.primary,
                "name_zh": spec.name_zh, "name_en": spec.name_en, "unit": spec.unit, "value": i.value,
                "raw_value": i.raw_value, "adjusted_value": i.adjusted_value, "prior_value": i.prior_value,
                "baseline": i.baseline, "benchmark": i.benchmark, "gap": i.gap, "score": i.score, "light": i.light,
                "status": i.status, "absence": i.absence, "weight": i.weight, "nominal_weight": i.nominal_weight,
                "contribution": i.contribution, "volume": i.volume,
                "interval_low": i.interval.low if i.interval else None,
                "interval_high": i.interval.high if i.interval else None,
                "peer_percentile": i.peer_percentile, "reason": i.reason, "reason_zh": i.reason_zh,
            })  # fmt: skip
        a, credit = p.adjustment, p.adjustment.credit
        adjustment_rows.append({
            "fixmedins_code": p.fixmedins_code, "grade": p.grade, "prepayment": _money(a.prepayment),
            "prepayment_source": a.prepayment_source, "rate": _money(a.rate), "amount": _money(a.amount),
            "new_prepayment": _money(a.new_prepayment), "rule": a.rule, "designation": a.designation,
            "credit_rating": credit.rating if credit else None, "credit_status": credit.status if credit else None,
            "credit_rate": _money(credit.rate) if credit else None,
            "credit_amount": _money(credit.amount) if credit else None,
        })  # fmt: skip
        for c in p.quality.checks:
            quality_rows.append({
                "fixmedins_code": p.fixmedins_code, "table": c.table, "check": c.check,
                "reason_code": c.reason_code, "dimension": c.dimension, "severity": c.severity,
                "failed": c.failed, "checked": c.checked, "rate": c.failed / c.checked if c.checked else None,
            })  # fmt: skip
    return Results(
        folder=folder,
        year=doc.year,
        document=doc,
        scores=_frame(score_rows, (*SCORE_COLUMNS, *dimensions)),
        indicators=_frame(indicator_rows, INDICATOR_COLUMNS),
        adjustments=_frame(adjustment_rows, ADJUSTMENT_COLUMNS, MONEY),
        quality=_frame(quality_rows, QUALITY_COLUMNS),
    )
