"""Measure SQL: each measure must compile within the restricted language (pingyi.compute.measures)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pingyi.compute.measures import MeasureIdentifierError, MeasureSqlError, compile_measure, table_columns
from pingyi.errors import Issue, IssueList
from pingyi.spec.models import DataSettings, MeasureSpec
from pingyi.spec.yamlsrc import LocatedDoc

ALLOWED = "aggregates, arithmetic, CASE and comparisons over the table's declared columns (docs/data-bundle.md)"


def check_measures(
    measures: Mapping[str, MeasureSpec], settings: DataSettings, docs: Mapping[str, LocatedDoc], issues: IssueList
) -> None:
    for name, spec in sorted(measures.items()):
        doc = docs.get(spec.origin.file) if spec.origin else None
        try:
            compile_measure(spec, table_columns(spec.table), settings)
        except MeasureSqlError as exc:
            identifier = isinstance(exc, MeasureIdentifierError)
            code = "PY608" if identifier else "PY603"
            expected = exc.expected if isinstance(exc, MeasureIdentifierError) else ALLOWED
            message = str(exc) if identifier else f"measure SQL is outside the allowed language: {exc}"
            part = exc.part or "aggregate"
            if doc is None:
                issues.add(
                    Issue(
                        file="measures/",
                        line=None,
                        code=code,
                        path=f"{name}.{part}",
                        message=message,
                        found=exc.fragment,
                        expected=expected,
                    )
                )
                continue
            path = _measure_path(doc, name)[:-1] + (part,)
            issues.add(doc.issue(code, path, message, found=repr(exc.fragment), expected=expected))


def _measure_path(doc: LocatedDoc, name: str) -> tuple[Any, ...]:
    for i, item in enumerate(doc.data.get("measures", []) if isinstance(doc.data, dict) else []):
        if isinstance(item, dict) and item.get("name") == name:
            return ("measures", i, "aggregate")
    return ("measures",)
