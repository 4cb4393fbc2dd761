"""The report context: everything a report card or the committee report shows, as plain data.

Pure: `prepare(results, ...)` and the functions built on it read only their arguments (the parsed
results.json of `pingyi score`, optionally the rows of quality.csv and the rejected-row counts),
never a file, the clock or the environment, and return new dicts of str / int / float / None /
list / dict. The PDF, Excel and HTML renderers all render these dicts, so they cannot disagree.

Numbers are kept raw (for Excel and charts) next to their display strings (for PDF and HTML).
Percent values are fractions in results.json and stay fractions here (`value`); `*_display` adds
the unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pingyi import text as tx
from pingyi.report.card import common_context, indicator_row, provider_context
from pingyi.report.committee import casemix_overview, committee_context
from pingyi.report.prepare import Prepared, peer_group, prepare, quality_from_rows, quality_summary_from_rows

__all__ = [
    "Prepared",
    "ReportContexts",
    "build_contexts",
    "casemix_overview",
    "committee_context",
    "common_context",
    "indicator_row",
    "peer_group",
    "prepare",
    "provider_context",
    "quality_from_rows",
    "quality_summary_from_rows",
]


@dataclass(frozen=True)
class ReportContexts:
    cards: dict[str, dict]
    committee: dict


def build_contexts(
    results: Mapping[str, Any],
    *,
    lang: tx.Lang = "zh",
    providers: Iterable[str] | None = None,
    quality_rows: Iterable[Mapping] | None = None,
    rejected_counts: Iterable[Mapping] | None = None,
    ledger: Mapping[str, Any] | None = None,
    uncertainty: Mapping[str, Any] | None = None,
) -> ReportContexts:
    """Every card context (or those of `providers`) and the committee context. Pure."""
    prep = prepare(
        results,
        lang=lang,
        quality_rows=quality_rows,
        rejected_counts=rejected_counts,
        ledger=ledger,
        uncertainty=uncertainty,
    )
    all_cards = {code: provider_context(prep, code) for code in prep.providers}
    wanted = list(prep.providers) if providers is None else list(providers)
    unknown = [c for c in wanted if c not in prep.providers]
    if unknown:
        raise KeyError(f"unknown provider(s): {', '.join(unknown)}")
    return ReportContexts(cards={c: all_cards[c] for c in wanted}, committee=committee_context(prep, all_cards))
