"""Data-quality checks: one SQL boolean per check over a table's typed row (TRUE failed, FALSE passed,
NULL not applicable), each with a stable reason code, a dimension and a severity. The quality stage
(pingyi.data.quality) runs them.

Checks of a table come in the order that decides a rejected row's first reason: completeness,
validity, consistency, timeliness, then uniqueness.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from pingyi.data.contract import TABLES, ColumnSpec, TableSpec
from pingyi.data.sql import ident, lit
from pingyi.spec.models import DataSettings

CheckSeverity = Literal["reject", "flag"]

DIMENSIONS = ("completeness", "validity", "consistency", "timeliness", "uniqueness")
SEVERITIES = ("reject", "flag")

# reason code -> (dimension, what it means). Tests assert codes, never message text.
REASONS: dict[str, tuple[str, str]] = {
    "missing_required": ("completeness", "a required value is empty"),
    "malformed_row": (
        "validity",
        "a CSV line cannot be split into the header's columns, or a JSON Lines line is not a JSON object",
    ),
    "bad_type": ("validity", "the value does not parse as the column's type (number, money, date-time)"),
    "bad_code": ("validity", "the value is not in the column's code table"),
    "bad_format": ("validity", "the value does not match the column's code format"),
    "unclassified_code": ("validity", "a well-formed code that data.yaml does not classify (e.g. a local med_type)"),
    "negative_money": ("validity", "a money amount below 0 on a normal (non-refund) row"),
    "positive_refund": ("validity", "a money amount above 0 on a refund row"),
    "money_precision": ("validity", "a money amount with more than two decimals"),
    "out_of_range": ("validity", "a number outside the column's range"),
    "fund_exceeds_total": ("consistency", "fund_pay_sumamt exceeds medfee_sumamt"),
    "payments_do_not_add_up": ("consistency", "payment parts do not add up to their total within money_tolerance"),
    "discharge_before_admission": ("consistency", "dscg_time is before adm_time"),
    "unknown_provider": ("consistency", "fixmedins_code is not among the used providers rows"),
    "unmatched_settlement": ("consistency", "a settlement list whose mdtrt_id has no inpatient settlement"),
    "handled_before_flag": ("consistency", "an audit flag handled before it was raised"),
    "duplicate_key": ("uniqueness", "the table's key repeats; one row is kept, chosen by content (never by position)"),
    "outside_window": (
        "timeliness",
        "the row's date is outside the evaluation window (1 Jan of year-1 to 31 Dec of year)",
    ),
    "late_upload": ("timeliness", "a settlement list uploaded later than upload_deadline_days after settlement"),
}

TRIM_CHARS = " \t\r\n\u3000\u00a0"
DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y%m%d%H%M%S",
    "%Y%m%d",
)
TYPE_TEXT = {
    "int": "a whole number",
    "float": "a number",
    "money": "an amount in yuan such as 1234.50",
    "datetime": "a date-time YYYY-MM-DD HH:MM:SS",
    "date": "a date YYYY-MM-DD",
}
CLEAN_TYPES = {
    "str": "VARCHAR",
    "int": "INTEGER",
    "float": "DOUBLE",
    "money": "DECIMAL(16,2)",
    "datetime": "TIMESTAMP",
    "date": "DATE",
}


@dataclass(frozen=True)
class Check:
    """One data-quality check of one table, evaluated per row in SQL."""

    table: str
    name: str  # stable, readable id, e.g. "medfee_sumamt >= 0"
    column: str  # the column a rejected row points at ('' for row-level checks)
    reason_code: str
    severity: CheckSeverity
    sql: str  # TRUE failed, FALSE passed, NULL not applicable
    message: str  # SQL text expression; never references a PII column's value
    phase: int = 1  # 2 = uniqueness: `sql` marks where it applies; the duplicates are found afterwards
    # SQL boolean, never NULL, TRUE exactly where `sql` is not NULL (the check applies); checks with the
    # same condition share one test in the applied mask. None: `sql IS NOT NULL` itself
    applies: str | None = None

    @property
    def dimension(self) -> str:
        return REASONS[self.reason_code][0]


# --------------------------------------------------------------------------- SQL helpers


def v_col(col: str) -> str:
    return ident(f"v_{col}")


def t_col(col: str) -> str:
    return ident(f"t_{col}")


def f_col(i: int) -> str:
    return f"f_{i}"


def _bit(i: int) -> str:
    return f"CAST({1 << (i % 64)} AS UBIGINT)"


def failed_sql(i: int) -> str:
    """Check i failed on the row of qc_<table>: its bit in the failure mask (words _x0, _x1 … of 64 checks)."""
    return f"((_x{i // 64} & {_bit(i)}) <> 0)"


def applied_sql(i: int) -> str:
    """Check i applied to the row of qc_<table> (it was TRUE or FALSE, not NULL): its bit in _a0, _a1 …"""
    return f"((_a{i // 64} & {_bit(i)}) <> 0)"


def mask_sql(indices: list[int], word: int, kind: str, applies: Mapping[int, str | None] | None = None) -> str:
    """The mask word `word` of the checks `indices` from their booleans f_<i>: `kind` 'x' sets the bits of
    the checks that failed (TRUE), 'a' those that applied (not NULL).

    `applies` (for 'a'): check -> its `Check.applies`; checks with the same condition set their bits
    with one test of it ('true': constant bits), the others by testing f_<i>."""
    mine = [i for i in indices if i // 64 == word]
    if kind == "x":
        parts = [f"(CAST(coalesce({f_col(i)}, false) AS UBIGINT) << {i % 64})" for i in mine]
        return " | ".join(parts) or "CAST(0 AS UBIGINT)"
    groups: dict[str, int] = {}
    parts = []
    for i in mine:
        cond = (applies or {}).get(i)
        if cond is None:
            parts.append(f"(CAST(({f_col(i)} IS NOT NULL) AS UBIGINT) << {i % 64})")
        else:
            groups[cond] = groups.get(cond, 0) | (1 << (i % 64))
    for cond, bits in groups.items():
        parts.append(
            f"CAST({bits} AS UBIGINT)" if cond == "true" else f"(CAST(({cond}) AS UBIGINT) * CAST({bits} AS UBIGINT))"
        )
    return " | ".join(parts) or "CAST(0 AS UBIGINT)"


def _in_list(values) -> str:
    return "(" + ", ".join(lit(v) for v in values) + ")"


def _shown(col: ColumnSpec, expr: str | None = None) -> str:
    """SQL text of a value for a message: quoted, cut at 40 characters, never for a PII column."""
    if col.pii:
        return "'(value withheld)'"
    return f"('''' || left({expr or v_col(col.name)}, 40) || '''')"


def p_col(col: str) -> str:
    return ident(f"p_{col}")


# set by the quality stage on each row (pingyi.data.quality._values): FALSE when no value of the row
# holds an 'e' or 'E', so no money value needs its own test for an exponent
EXPONENT_HINT = "_e"
# set by the quality stage on rows of tables with a fixmedins_code (provider_sql): the code is among
# the used providers rows
IN_PROVIDERS = "_inprov"


def parse_sql(col: ColumnSpec, settings: DataSettings, exponent_hint: str | None = None) -> str:
    """First step of typing (NULL when the text does not parse); a spelling of a code becomes the code.

    `exponent_hint`: a boolean column that is FALSE on rows where no value holds 'e' or 'E' (then the
    money values skip their own two searches)."""
    v = v_col(col.name)
    if col.type == "str":
        aliases = col.alias_table(settings)
        if not aliases:
            return v
        whens = " ".join(f"WHEN {lit(a)} THEN {lit(b)}" for a, b in aliases.items())
        return f"CASE {v} {whens} ELSE {v} END"
    if col.type == "int":
        return (
            f"CASE WHEN regexp_full_match({v}, '[+-]?[0-9]{{1,9}}(\\.0*)?') "
            f"THEN CAST(CASE WHEN contains({v}, '.') THEN regexp_replace({v}, '\\.0*$', '') ELSE {v} END AS INTEGER) END"
        )
    if col.type == "float":
        return f"TRY_CAST({v} AS DOUBLE)"
    if col.type == "money":
        # no exponent (DuckDB would read 1e3 as 1000): contains() is half the cost of a regex here
        exponent = f"(contains({v}, 'e') OR contains({v}, 'E'))"
        if exponent_hint is not None:
            exponent = f"({exponent_hint} AND {exponent})"
        return f"CASE WHEN {exponent} THEN NULL ELSE TRY_CAST({v} AS DECIMAL(16,2)) END"
    fmts = "[" + ", ".join(lit(f) for f in DATETIME_FORMATS) + "]"
    return f"coalesce(TRY_CAST({v} AS TIMESTAMP), try_strptime({v}, {fmts}))"


def typed_sql(col: ColumnSpec) -> str:
    """Second step: reject what parsed but is not a plausible value of the type."""
    p = p_col(col.name)
    if col.type == "float":
        return f"CASE WHEN isfinite({p}) THEN {p} END"
    if col.type == "datetime":
        return f"CASE WHEN year({p}) BETWEEN 1900 AND 2100 THEN {p} END"
    if col.type == "date":
        return f"CASE WHEN {p} = date_trunc('day', {p}) AND year({p}) BETWEEN 1900 AND 2100 THEN CAST({p} AS DATE) END"
    return p


def _money_text(col: str) -> str:
    return f"CAST({t_col(col)} AS VARCHAR)"


# --------------------------------------------------------------------------- the checks


ValueRanges = Mapping[str, tuple[float, float | None]]
# the format every used providers row's fixmedins_code matched (a required column: failing it rejects)
_PROVIDER_CODE = TABLES["providers"].column("fixmedins_code")
TABLES_PROVIDER_PATTERN = _PROVIDER_CODE.pattern if _PROVIDER_CODE.required else None


def _range_text(lo: float, hi: float | None) -> str:
    return f"[{lo:g}, {hi:g}]" if hi is not None else f">= {lo:g}"


def _add_value_range(add: Callable[..., None], ranges: ValueRanges) -> None:
    """A reported value outside its indicator's valid range (a fraction of 50, a satisfaction of -3, or
    1e308) is a rejected row, never a score."""
    ind, val = t_col("indicator"), t_col("value")
    tests, texts = [], []
    for code in sorted(ranges):
        lo, hi = ranges[code]
        out = f"{val} < {lo!r}" + (f" OR {val} > {hi!r}" if hi is not None else "")
        tests.append(f"WHEN {lit(code)} THEN ({out})")
        texts.append(f"WHEN {lit(code)} THEN {lit(_range_text(lo, hi))}")
    add(
        "value: the indicator's valid range",
        "value",
        "out_of_range",
        "reject",
        f"CASE WHEN {val} IS NULL OR {ind} IS NULL THEN NULL ELSE CASE {ind} {' '.join(tests)} ELSE false END END",
        f"'value ' || CAST({val} AS VARCHAR) || ' of ' || {ind} || ' is outside its valid range; expected ' "
        f"|| CASE {ind} {' '.join(texts)} END || ' (the indicator''s valid_range or its unit''s)'",
    )


def refund_sql(spec: TableSpec, settings: DataSettings) -> str | None:
    """Which rows are refunds (冲销), whose amounts are <= 0: settlements by refd_setl_flag; fee
    lines by belonging to a refund settlement (as the platform's fee detail mirrors the reversed
    visit with negative lines)."""
    flags = _in_list(settings.refund_flag_values) if settings.refund_flag_values else "(NULL)"
    if spec.name == "settlements":
        return f"coalesce({v_col('refd_setl_flag')} IN {flags}, false)"
    if spec.name == "fee_items":
        return (
            f"coalesce({v_col('setl_id')} IN (SELECT setl_id FROM clean_settlements "
            f"WHERE refd_setl_flag IN {flags}), false)"
        )
    return None


def provider_sql(spec: TableSpec) -> str | None:
    """Whether the row's fixmedins_code is among the used providers rows (NULL when it is empty), for
    the tables whose rows must belong to a provider: one lookup that two checks share."""
    if "fixmedins_code" not in spec.names or spec.name == "providers":
        return None
    return f"{v_col('fixmedins_code')} IN (SELECT fixmedins_code FROM clean_providers)"


def _all_match(pattern: str, codes: tuple[str, ...]) -> bool:
    """Every code matches `pattern` (Python's re and DuckDB's RE2 agree on these ASCII classes)."""
    return all(code.isascii() and re.fullmatch(pattern, code) is not None for code in codes)


def table_checks(
    spec: TableSpec, settings: DataSettings, year: int, value_ranges: ValueRanges | None = None
) -> list[Check]:
    """Every check of one table, in the order that decides a rejected row's first reason:
    completeness, validity, consistency, timeliness, then uniqueness. `value_ranges`: each reported
    indicator's valid values (from the catalogue); a reported value outside them is rejected."""
    t = spec.name
    out: dict[str, list[Check]] = {d: [] for d in DIMENSIONS}
    cols = {c.name: c for c in spec.columns}
    refund = "_refund" if refund_sql(spec, settings) is not None else None
    in_providers = IN_PROVIDERS if provider_sql(spec) is not None else None
    providers_pattern = TABLES_PROVIDER_PATTERN
    refund_text = (
        "refund rows have refd_setl_flag in " + ", ".join(settings.refund_flag_values)
        if t == "settlements"
        else "lines of a refund settlement may be negative"
    )

    def add(name, column, reason, severity, sql, message, phase=1, applies=None):
        out[REASONS[reason][0]].append(Check(t, name, column, reason, severity, sql, message, phase, applies))

    for col in spec.columns:
        c, v, tv = col.name, v_col(col.name), t_col(col.name)
        sev = "reject" if col.required else "flag"
        if col.required:
            add(
                f"{c}: required",
                c,
                "missing_required",
                "reject",
                f"{v} IS NULL",
                lit(f"{c} is empty; expected a value (the column is required)"),
                applies="true",
            )
        if col.type != "str":
            add(
                f"{c}: {col.type}",
                c,
                "bad_type",
                sev,
                f"CASE WHEN {v} IS NULL THEN NULL ELSE {tv} IS NULL END",
                f"{lit(c + ' ')} || {_shown(col)} || {lit(' is not ' + TYPE_TEXT[col.type])}",
                applies=f"{v} IS NOT NULL",
            )
        codes = col.code_table(settings)
        if codes is not None:
            listed = ", ".join(codes)
            hint = (
                "; keep codes as text so leading zeros survive"
                if any(x[:1] == "0" and len(x) > 1 for x in codes)
                else ""
            )
            add(
                f"{c}: code table",
                c,
                "bad_code",
                sev,
                f"CASE WHEN {v} IS NULL THEN NULL ELSE {v} NOT IN {_in_list(codes)} END",
                f"{lit(c + ' ')} || {_shown(col)} || {lit(f' is not in the code table ({listed}){hint}')}",
                applies=f"{v} IS NOT NULL",
            )
        if col.pattern is not None:
            known = col.known_codes(settings)
            regex = f"regexp_full_match({v}, {lit(col.pattern)})"
            # values that are known to match skip the regular expression: codes of the column's known list
            # when all of them match; provider codes among the used providers rows, which passed the same
            # format check in providers
            matches = None
            if known is not None and _all_match(col.pattern, known):
                matches = f"{v} IN {_in_list(known)}"
            elif c == "fixmedins_code" and in_providers is not None and col.pattern == providers_pattern:
                matches = in_providers
            fmt = f"CASE WHEN {v} IS NULL THEN NULL ELSE NOT {regex} END"
            if matches is not None:
                fmt = f"CASE WHEN {v} IS NULL THEN NULL WHEN {matches} THEN false ELSE NOT {regex} END"
            add(
                f"{c}: format",
                c,
                "bad_format",
                sev,
                fmt,
                f"{lit(c + ' ')} || {_shown(col)} || {lit(f' does not match {col.pattern} ({col.pattern_text})')}",
                applies=f"{v} IS NOT NULL",
            )
            if known is not None:
                classified = (
                    f"CASE WHEN {v} IS NULL OR NOT {regex} THEN NULL ELSE {v} NOT IN {_in_list(known)} END"
                    if matches is None or matches == in_providers
                    else f"CASE WHEN {v} IS NULL THEN NULL WHEN {matches} THEN false WHEN {regex} THEN true END"
                )
                add(
                    f"{c}: classified",
                    c,
                    "unclassified_code",
                    "flag",
                    classified,
                    f"{lit(c + ' ')} || {_shown(col)} || {lit(' is neither a national code nor listed in data.yaml')}",
                )
        if col.type == "money":
            shown = _money_text(c)
            if refund is not None:
                add(
                    f"{c} >= 0",
                    c,
                    "negative_money",
                    sev,
                    f"CASE WHEN {tv} IS NULL OR {refund} THEN NULL ELSE {tv} < 0 END",
                    f"{lit(c + ' ')} || {shown} || {lit(' is negative on a normal row; expected >= 0 (' + refund_text + ')')}",
                    applies=f"{tv} IS NOT NULL AND NOT {refund}",
                )
                add(
                    f"{c} <= 0 on refunds",
                    c,
                    "positive_refund",
                    sev,
                    f"CASE WHEN {tv} IS NULL OR NOT ({refund}) THEN NULL ELSE {tv} > 0 END",
                    f"{lit(c + ' ')} || {shown} || {lit(' is positive on a refund row; expected <= 0')}",
                    applies=f"{tv} IS NOT NULL AND {refund}",
                )
            else:
                add(
                    f"{c} >= 0",
                    c,
                    "negative_money",
                    sev,
                    f"CASE WHEN {tv} IS NULL THEN NULL ELSE {tv} < 0 END",
                    f"{lit(c + ' ')} || {shown} || {lit(' is negative; expected >= 0')}",
                    applies=f"{tv} IS NOT NULL",
                )
            add(
                f"{c}: 2 decimals",
                c,
                "money_precision",
                sev,
                # the regular expression only where a '.' has at least three characters after it (its
                # matches all do): amounts as exported (1234.50) never reach it
                f"CASE WHEN {tv} IS NULL THEN NULL WHEN strpos({v}, '.') = 0 OR strlen({v}) - strpos({v}, '.') < 3 "
                f"THEN false ELSE regexp_matches({v}, '\\.[0-9]{{2}}[0-9]*[1-9]') END",
                f"{lit(c + ' ')} || {_shown(col)} || {lit(' has more than two decimals; expected yuan with at most 2 decimals')}",
                applies=f"{tv} IS NOT NULL",
            )
        if col.lo is not None or col.hi is not None:
            parts, text = [], []
            if col.lo is not None:
                parts.append(f"{tv} {'<=' if col.lo_open else '<'} {col.lo:g}")
                text.append(f"{'>' if col.lo_open else '>='} {col.lo:g}")
            if col.hi is not None:
                parts.append(f"{tv} > {col.hi:g}")
                text.append(f"<= {col.hi:g}")
            add(
                f"{c}: range",
                c,
                "out_of_range",
                sev,
                f"CASE WHEN {tv} IS NULL THEN NULL ELSE ({' OR '.join(parts)}) END",
                f"{lit(c + ' ')} || CAST({tv} AS VARCHAR) || {lit(' is out of range; expected ' + ' and '.join(text))}",
                applies=f"{tv} IS NOT NULL",
            )

    if t == "reported" and value_ranges:
        _add_value_range(add, value_ranges)

    # consistency
    tol = f"CAST({settings.money_tolerance!r} AS DECIMAL(18,4))"
    if t == "settlements":
        f, m, p, a, cash = (
            t_col(x) for x in ("fund_pay_sumamt", "medfee_sumamt", "psn_part_amt", "acct_pay", "psn_cash_pay")
        )
        add(
            "fund_pay_sumamt <= medfee_sumamt",
            "fund_pay_sumamt",
            "fund_exceeds_total",
            "reject",
            f"CASE WHEN {f} IS NULL OR {m} IS NULL THEN NULL ELSE abs({f}) > abs({m}) END",
            f"'fund_pay_sumamt ' || {_money_text('fund_pay_sumamt')} || ' exceeds medfee_sumamt ' || {_money_text('medfee_sumamt')}",
            applies=f"{f} IS NOT NULL AND {m} IS NOT NULL",
        )
        add(
            "fund_pay_sumamt + psn_part_amt = medfee_sumamt",
            "medfee_sumamt",
            "payments_do_not_add_up",
            "reject",
            f"CASE WHEN {f} IS NULL OR {p} IS NULL OR {m} IS NULL THEN NULL ELSE abs({f} + {p} - {m}) > {tol} END",
            f"'fund_pay_sumamt ' || {_money_text('fund_pay_sumamt')} || ' + psn_part_amt ' || {_money_text('psn_part_amt')} "
            f"|| ' = ' || CAST({f} + {p} AS VARCHAR) || ' but medfee_sumamt is ' || {_money_text('medfee_sumamt')} "
            f"|| {lit(f' (tolerance {settings.money_tolerance:g} yuan)')}",
            applies=f"{f} IS NOT NULL AND {p} IS NOT NULL AND {m} IS NOT NULL",
        )
        add(
            "acct_pay + psn_cash_pay = psn_part_amt",
            "psn_part_amt",
            "payments_do_not_add_up",
            "reject",
            f"CASE WHEN {a} IS NULL OR {cash} IS NULL OR {p} IS NULL THEN NULL ELSE abs({a} + {cash} - {p}) > {tol} END",
            f"'acct_pay ' || {_money_text('acct_pay')} || ' + psn_cash_pay ' || {_money_text('psn_cash_pay')} "
            f"|| ' = ' || CAST({a} + {cash} AS VARCHAR) || ' but psn_part_amt is ' || {_money_text('psn_part_amt')} "
            f"|| {lit(f' (tolerance {settings.money_tolerance:g} yuan)')}",
            applies=f"{a} IS NOT NULL AND {cash} IS NOT NULL AND {p} IS NOT NULL",
        )
    if t == "setl_lists":
        adm, dscg = t_col("adm_time"), t_col("dscg_time")
        add(
            "dscg_time >= adm_time",
            "dscg_time",
            "discharge_before_admission",
            "reject",
            f"CASE WHEN {adm} IS NULL OR {dscg} IS NULL THEN NULL ELSE {dscg} < {adm} END",
            f"'dscg_time ' || CAST({dscg} AS VARCHAR) || ' is before adm_time ' || CAST({adm} AS VARCHAR)",
        )
        inpatient = _in_list(settings.inpatient_med_types) if settings.inpatient_med_types else "(NULL)"
        add(
            "mdtrt_id in settlements",
            "mdtrt_id",
            "unmatched_settlement",
            "flag",
            f"CASE WHEN {v_col('mdtrt_id')} IS NULL THEN NULL ELSE {v_col('mdtrt_id')} NOT IN "
            f"(SELECT mdtrt_id FROM clean_settlements WHERE med_type IN {inpatient}) END",
            f"'mdtrt_id ' || {_shown(cols['mdtrt_id'])} || ' has no inpatient settlement in settlements'",
        )
    if t == "audit_flags":
        add(
            "handled_time >= flag_time",
            "handled_time",
            "handled_before_flag",
            "flag",
            f"CASE WHEN {t_col('handled_time')} IS NULL OR {t_col('flag_time')} IS NULL THEN NULL "
            f"ELSE {t_col('handled_time')} < {t_col('flag_time')} END",
            f"'handled_time ' || CAST({t_col('handled_time')} AS VARCHAR) || ' is before flag_time ' || CAST({t_col('flag_time')} AS VARCHAR)",
        )
    if "fixmedins_code" in cols and t != "providers":
        add(
            "fixmedins_code in providers",
            "fixmedins_code",
            "unknown_provider",
            "reject",
            f"CASE WHEN {v_col('fixmedins_code')} IS NULL THEN NULL ELSE NOT {IN_PROVIDERS} END",
            f"'fixmedins_code ' || {_shown(cols['fixmedins_code'])} || ' is not among the used providers rows "
            f"(absent from providers, or its providers row was rejected)'",
            applies=f"{v_col('fixmedins_code')} IS NOT NULL",
        )

    # timeliness
    if spec.year_column is not None:
        yc = spec.year_column
        ty = t_col(yc)
        y_of = f"year({ty})" if cols[yc].type in ("datetime", "date") else ty
        add(
            f"{yc} in window",
            yc,
            "outside_window",
            "reject",
            f"CASE WHEN {ty} IS NULL THEN NULL ELSE {y_of} NOT IN ({year - 1}, {year}) END",
            f"{lit(yc + ' ')} || CAST({ty} AS VARCHAR) || {lit(f' is outside the evaluation window {year - 1}-01-01 to {year}-12-31')}",
            applies=f"{ty} IS NOT NULL",
        )
    if t == "setl_lists":
        days = settings.upload_deadline_days
        add(
            "dcla_time within upload deadline",
            "dcla_time",
            "late_upload",
            "flag",
            f"CASE WHEN {t_col('dcla_time')} IS NULL OR {t_col('setl_time')} IS NULL THEN NULL "
            f"ELSE {t_col('dcla_time')} > {t_col('setl_time')} + INTERVAL {days} DAY END",
            f"'dcla_time ' || CAST({t_col('dcla_time')} AS VARCHAR) || {lit(f' is more than {days} days after setl_time ')} "
            f"|| CAST({t_col('setl_time')} AS VARCHAR)",
        )

    # uniqueness (phase 2: among rows that pass every other reject check; `sql` gives applicability,
    # the duplicates themselves are marked afterwards by one GROUP BY, see _mark_duplicates)
    if spec.key:
        keys = list(spec.key)
        null_any = " OR ".join(f"{t_col(k)} IS NULL" for k in keys)
        shown = " || ', ' || ".join(_shown(cols[k], f"CAST({t_col(k)} AS VARCHAR)") for k in keys)
        label = keys[0] if len(keys) == 1 else "(" + ", ".join(keys) + ")"
        add(
            f"unique {' + '.join(keys)}",
            "+".join(keys),
            "duplicate_key",
            "reject",
            f"CASE WHEN _rej1 OR {null_any} THEN NULL ELSE false END",
            f"{lit('duplicate ' + label + ' ')} || {shown} || '; row ' || CAST(_dupfirst AS VARCHAR) || ' is kept (chosen by content, not position)'",
            phase=2,
            applies=f"NOT (_rej1 OR {null_any})",
        )
    return [c for d in DIMENSIONS for c in out[d]]


def clean_expr(col: ColumnSpec, checks: list[tuple[int, Check]]) -> str:
    """Required columns: the typed value (rows that fail are rejected). Optional columns: empty
    when a flag-severity check on the column failed."""
    tv = t_col(col.name)
    own = [
        i
        for i, ch in checks
        if ch.column == col.name and ch.severity == "flag" and ch.reason_code not in ("unclassified_code",)
    ]
    if col.required or not own:
        return f"CAST({tv} AS {CLEAN_TYPES[col.type]})"
    bad = " OR ".join(failed_sql(i) for i in own)
    return f"CAST(CASE WHEN {bad} THEN NULL ELSE {tv} END AS {CLEAN_TYPES[col.type]})"
