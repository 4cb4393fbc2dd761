"""Catalogue rules: each indicator's formula, rule, lights and case mix fit together, and every
measure a formula names exists."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pingyi.errors import IssueList
from pingyi.spec import formula as formula_lang
from pingyi.spec.models import CASEMIX_MEASURES, REPORTED_DENOMINATOR, DataSource, Direction, IndicatorSpec, MeasureSpec
from pingyi.spec.rules import RULES
from pingyi.spec.yamlsrc import LocatedDoc


def check_indicators(
    indicators: Mapping[str, IndicatorSpec], docs: Mapping[str, LocatedDoc], issues: IssueList
) -> None:
    for code, ind in indicators.items():
        doc = docs[ind.origin.file]  # type: ignore[union-attr]
        _check_indicator(ind, doc, indicator_path(doc, code), issues)


def check_formulas(
    indicators: Mapping[str, IndicatorSpec],
    measures: Mapping[str, MeasureSpec],
    docs: Mapping[str, LocatedDoc],
    issues: IssueList,
) -> None:
    """Every measure a formula or volume rule names must be defined (once measures exist).
    Adjusted formulas may also use the case-mix measures (CASEMIX_MEASURES)."""
    if not measures:
        return
    for code, ind in indicators.items():
        doc = docs[ind.origin.file]  # type: ignore[union-attr]
        base = indicator_path(doc, code)
        for key, text in (("formula", ind.formula), ("adjusted_formula", ind.adjusted_formula)):
            names: set[str] = set()
            if text:
                try:
                    parsed = formula_lang.parse(text)
                    names = set(parsed.measures | parsed.prior_measures)
                except formula_lang.FormulaError:
                    pass  # reported as PY204
            known = set(measures) | (set(CASEMIX_MEASURES) if key == "adjusted_formula" else set())
            for name in sorted(names - known):
                issues.add(
                    doc.issue(
                        "PY602",
                        base + (key,),
                        f"{key.replace('_', ' ')} uses an undefined measure",
                        found=name,
                        expected="a measure defined in measures/*.yaml"
                        + (
                            " or a case-mix measure (" + ", ".join(CASEMIX_MEASURES) + ")"
                            if key == "adjusted_formula"
                            else ""
                        ),
                        hint="define it or fix the spelling",
                    )
                )
        if ind.volume and ind.volume.measure == REPORTED_DENOMINATOR and ind.source is not DataSource.SETTLEMENT:
            pass  # the reported row's own denominator
        elif ind.volume and ind.volume.measure not in measures:
            issues.add(
                doc.issue(
                    "PY602",
                    base + ("volume", "measure"),
                    "minimum-volume rule uses an undefined measure",
                    found=ind.volume.measure,
                    expected="a measure defined in measures/*.yaml",
                )
            )


def indicator_path(doc: LocatedDoc, code: str) -> tuple[Any, ...]:
    """The YAML path of an indicator in its dimension file (by code, as written)."""
    for i, item in enumerate(doc.data.get("indicators", []) if isinstance(doc.data, dict) else []):
        if isinstance(item, dict) and item.get("code") == code:
            return ("indicators", i)
    return ("indicators",)


def _check_formula(text: str, key: str, doc: LocatedDoc, path: tuple[Any, ...], issues: IssueList) -> None:
    """In the language (PY204), and able to give a finite number (PY214)."""
    what = key.replace("_", " ")
    try:
        parsed = formula_lang.parse(text)
    except formula_lang.FormulaError as exc:
        issues.add(
            doc.issue(
                "PY204",
                path + (key,),
                f"{what} is not in the formula language: {exc}",
                found=repr(exc.fragment),
                expected="measures, numbers, + - * /, prior(), min(), max(), abs()",
            )
        )
        return
    for defect in formula_lang.defects(parsed):
        issues.add(
            doc.issue(
                "PY214",
                path + (key,),
                f"{what} can never give a usable value: {defect}",
                found=repr(text),
                expected="a formula that is finite for measures up to 1e12 and divides by no constant 0",
            )
        )


def _check_indicator(ind: IndicatorSpec, doc: LocatedDoc, path: tuple[Any, ...], issues: IssueList) -> None:
    rule = ind.scoring.rule
    if ind.formula is not None:
        _check_formula(ind.formula, "formula", doc, path, issues)
    elif ind.source is DataSource.SETTLEMENT:
        issues.add(
            doc.issue(
                "PY205",
                path + ("formula",),
                "settlement-sourced indicator needs a formula",
                found="no formula",
                expected="an expression over measures",
            )
        )
    if ind.adjusted_formula is not None:
        _check_formula(ind.adjusted_formula, "adjusted_formula", doc, path, issues)
        if ind.formula is None:
            issues.add(
                doc.issue(
                    "PY210",
                    path + ("adjusted_formula",),
                    "an adjusted formula needs the raw formula it adjusts",
                    found="adjusted_formula without formula",
                    expected="formula: (the raw definition) next to adjusted_formula",
                )
            )
    if ind.casemix == "adjusted" and ind.adjusted_formula is None:
        issues.add(
            doc.issue(
                "PY210",
                path + ("casemix",),
                "a case-mix-adjusted indicator needs an adjusted formula",
                found="casemix: adjusted without adjusted_formula",
                expected="adjusted_formula: an expression over measures and case-mix measures "
                "(" + ", ".join(CASEMIX_MEASURES) + ")",
                hint="or declare casemix: raw",
            )
        )
    if ind.lights.statistical == "funnel":
        problems = []
        if ind.direction not in (Direction.UP, Direction.DOWN):
            problems.append(f"direction {ind.direction.value}")
        if ind.unit.value not in ("percent", "per_10k"):
            problems.append(f"unit {ind.unit.value}")
        if ind.volume is None:
            problems.append("no volume rule")
        if problems:
            issues.add(
                doc.issue(
                    "PY211",
                    path + ("lights", "statistical"),
                    "funnel lights need a rate: a share "
                    "(percent) or a rate per 10,000 of the volume measure, direction up or down",
                    found=", ".join(problems),
                    expected="direction up|down, unit percent|per_10k, volume: {measure: the denominator}",
                )
            )
    if ind.lights.funnel_score != "observed" and ind.lights.statistical != "funnel":
        issues.add(
            doc.issue(
                "PY212",
                path + ("lights", "funnel_score"),
                "scoring beyond the funnel's 95 % limit needs funnel lights",
                found=f"funnel_score {ind.lights.funnel_score}, statistical {ind.lights.statistical}",
                expected="statistical: funnel, or funnel_score: observed",
            )
        )
    cls = type(ind.scoring)
    if ind.direction.value not in cls.directions:
        allowed = sorted(name for name, r in RULES.items() if ind.direction.value in r.directions)
        issues.add(
            doc.issue(
                "PY207",
                path + ("scoring", "rule"),
                f"rule {rule} does not serve direction {ind.direction.value}",
                found=f"direction {ind.direction.value}, rule {rule}",
                expected=f"for direction {ind.direction.value}: rule {' or '.join(allowed)}",
            )
        )
    for where, message, found, expected in ind.scoring.problems():
        issues.add(doc.issue("PY207", path + ("scoring", *where), message, found=found, expected=expected))
    if ind.lights.yellow >= ind.lights.red:
        issues.add(
            doc.issue(
                "PY207",
                path + ("lights",),
                "yellow bound must be below the red bound",
                found=f"yellow {ind.lights.yellow}, red {ind.lights.red}",
                expected="yellow < red",
            )
        )
    if ind.qualitative != (ind.source is DataSource.EXPERT):
        issues.add(
            doc.issue(
                "PY208",
                path + ("qualitative",),
                "qualitative indicators are the expert-scored ones",
                found=f"qualitative {ind.qualitative}, source {ind.source.value}",
                expected="qualitative: true exactly when source: expert",
            )
        )
