"""Data-quality checks: every row of a bundle is either used or rejected with a reason.

Each table is checked in five dimensions (completeness, validity, consistency, uniqueness,
timeliness). A check is one SQL boolean over the typed row — TRUE failed, FALSE passed, NULL
not applicable — with a stable reason code, a dimension and a severity:

- `reject`: the row is not used; it is listed in `rejected` with the first failing reason and
  the others in `also`;
- `flag`: the row is used and the failure is counted in `quality` (a late upload feeds an
  indicator). A bad value in an *optional* column is a flag: the row is kept and that value is
  left empty in `clean_<table>`.

All checks of a table run as one SQL statement over `raw_<table>` (one scan); duplicates are then
found by one window pass, so a 10-million-row settlements table never passes through Python. Results
do not depend on the file format (every format is read as the same text) nor on row order: of two
different rows with the same key, the one kept is chosen by its content (smallest hash), not its position.

DuckDB objects created by `run_quality`:

- `qc_<table>`: every row read, with `_row`, `_prov` (its fixmedins_code text), the typed values
  `t_<column>`, one BOOLEAN `f_<i>` per check (`QualityResult.checks[table][i]`), `_reject`, `_flag`.
- `clean_<table>` (view over qc_<table>): the used rows, typed (DECIMAL(16,2) money, TIMESTAMP,
  INTEGER, DOUBLE, VARCHAR codes) and named as in the bundle, with `_row` (data row number in the
  file) and `year` (from the table's year column; NULL for providers and drg_groups);
  `clean_setl_lists.late_upload` BOOLEAN.
- `quality`: fixmedins_code, table, check, column, dimension, reason_code, severity, failed,
  checked, rate — one row per provider x table x check that applied to at least one row.
- `rejected`: table, row, column, reason_code, message, also — one row per rejected row. No
  PII value is ever part of a message.
- `quality_counts`: table, file, format, read, used, rejected, flagged (read = used + rejected).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pingyi.data.read import TABLES, Bundle, ColumnSpec, TableSpec, _ident, _lit
from pingyi.spec.models import DataSettings

DIMENSIONS = ("completeness", "validity", "consistency", "timeliness", "uniqueness")
SEVERITIES = ("reject", "flag")

# reason code -> (dimension, what it means). Tests assert codes, never message text.
REASONS: dict[str, tuple[str, str]] = {
    "missing_required": ("completeness", "a required value is empty"),
    "malformed_row": ("validity", "a CSV line cannot be split into the header's columns"),
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
    "outside_window": ("timeliness", "the row's date is outside the evaluation window (1 Jan of year-1 to 31 Dec of year)"),
    "late_upload": ("timeliness", "a settlement list uploaded later than upload_deadline_days after settlement"),
}

TRIM_CHARS = " \t\r\n\u3000\u00a0"
DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S.%f",
                    "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d",
                    "%Y%m%d%H%M%S", "%Y%m%d")
TYPE_TEXT = {
    "int": "a whole number",
    "float": "a number",
    "money": "an amount in yuan such as 1234.50",
    "datetime": "a date-time YYYY-MM-DD HH:MM:SS",
    "date": "a date YYYY-MM-DD",
}
CLEAN_TYPES = {"str": "VARCHAR", "int": "INTEGER", "float": "DOUBLE", "money": "DECIMAL(16,2)",
               "datetime": "TIMESTAMP", "date": "DATE"}


@dataclass(frozen=True)
class Check:
    """One data-quality check of one table, evaluated per row in SQL."""

    table: str
    name: str  # stable, readable id, e.g. "medfee_sumamt >= 0"
    column: str  # the column a rejected row points at ('' for row-level checks)
    reason_code: str
    severity: str
    sql: str  # TRUE failed, FALSE passed, NULL not applicable
    message: str  # SQL text expression; never references a PII column's value
    phase: int = 1  # 2 = uniqueness: `sql` marks where it applies; the duplicates are found afterwards

    @property
    def dimension(self) -> str:
        return REASONS[self.reason_code][0]


@dataclass(frozen=True)
class TableCounts:
    table: str
    file: str
    format: str
    read: int
    used: int
    rejected: int
    flagged: int


@dataclass
class QualityResult:
    bundle: Bundle
    year: int
    settings: DataSettings
    counts: dict[str, TableCounts]
    checks: dict[str, list[Check]] = field(default_factory=dict)

    @property
    def con(self):
        return self.bundle.con

    def top_failures(self, n: int = 10) -> list[dict]:
        """Checks with the most failures over all providers."""
        rows = self.con.execute(f"""
            SELECT "table", "check", reason_code, severity, sum(failed) AS failed, sum(checked) AS checked
            FROM quality GROUP BY ALL HAVING sum(failed) > 0
            ORDER BY failed DESC, "table", "check" LIMIT {int(n)}""").fetchall()
        keys = ("table", "check", "reason_code", "severity", "failed", "checked")
        return [dict(zip(keys, r)) | {"rate": r[4] / r[5] if r[5] else 0.0} for r in rows]

    def write(self, out_dir: Path) -> list[Path]:
        """Write quality.csv and rejected.csv (UTF-8, deterministic order)."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        q, r = out_dir / "quality.csv", out_dir / "rejected.csv"
        self.con.execute(f"""COPY (SELECT * FROM quality ORDER BY "table", fixmedins_code NULLS FIRST, "check")
            TO {_lit(str(q))} (FORMAT csv, HEADER true)""")
        self.con.execute(f"""COPY (SELECT * FROM rejected ORDER BY "table", "row")
            TO {_lit(str(r))} (FORMAT csv, HEADER true)""")
        return [q, r]


# --------------------------------------------------------------------------- SQL helpers


def _v(col: str) -> str:
    return _ident(f"v_{col}")


def _t(col: str) -> str:
    return _ident(f"t_{col}")


def _f(i: int) -> str:
    return f"f_{i}"


def _in_list(values) -> str:
    return "(" + ", ".join(_lit(v) for v in values) + ")"


def _shown(col: ColumnSpec, expr: str | None = None) -> str:
    """SQL text of a value for a message: quoted, cut at 40 characters, never for a PII column."""
    if col.pii:
        return "'(value withheld)'"
    return f"('''' || left({expr or _v(col.name)}, 40) || '''')"


def _p(col: str) -> str:
    return _ident(f"p_{col}")


def _parsed(col: ColumnSpec) -> str:
    """First step of typing (NULL when the text does not parse)."""
    v = _v(col.name)
    if col.type == "str":
        if not col.aliases:
            return v
        whens = " ".join(f"WHEN {_lit(a)} THEN {_lit(b)}" for a, b in col.aliases)
        return f"CASE {v} {whens} ELSE {v} END"
    if col.type == "int":
        return (f"CASE WHEN regexp_full_match({v}, '[+-]?[0-9]{{1,9}}(\\.0*)?') "
                f"THEN CAST(regexp_replace({v}, '\\.0*$', '') AS INTEGER) END")
    if col.type == "float":
        return f"TRY_CAST({v} AS DOUBLE)"
    if col.type == "money":
        # no exponent (DuckDB would read 1e3 as 1000): contains() is half the cost of a regex here
        return f"CASE WHEN NOT (contains({v}, 'e') OR contains({v}, 'E')) THEN TRY_CAST({v} AS DECIMAL(16,2)) END"
    fmts = "[" + ", ".join(_lit(f) for f in DATETIME_FORMATS) + "]"
    return f"coalesce(TRY_CAST({v} AS TIMESTAMP), try_strptime({v}, {fmts}))"


def _typed_from_parsed(col: ColumnSpec) -> str:
    """Second step: reject what parsed but is not a plausible value of the type."""
    p = _p(col.name)
    if col.type == "float":
        return f"CASE WHEN isfinite({p}) THEN {p} END"
    if col.type == "datetime":
        return f"CASE WHEN year({p}) BETWEEN 1900 AND 2100 THEN {p} END"
    if col.type == "date":
        return f"CASE WHEN {p} = date_trunc('day', {p}) AND year({p}) BETWEEN 1900 AND 2100 THEN CAST({p} AS DATE) END"
    return p


def _money_text(col: str) -> str:
    return f"CAST({_t(col)} AS VARCHAR)"


# --------------------------------------------------------------------------- the checks


def refund_sql(spec: TableSpec, settings: DataSettings) -> str | None:
    """Which rows are refunds (冲销), whose amounts are <= 0: settlements by refd_setl_flag; fee
    lines by belonging to a refund settlement (as the platform's fee detail mirrors the reversed
    visit with negative lines)."""
    flags = _in_list(settings.refund_flag_values) if settings.refund_flag_values else "(NULL)"
    if spec.name == "settlements":
        return f"coalesce({_v('refd_setl_flag')} IN {flags}, false)"
    if spec.name == "fee_items":
        return (f"coalesce({_v('setl_id')} IN (SELECT setl_id FROM clean_settlements "
                f"WHERE refd_setl_flag IN {flags}), false)")
    return None


def table_checks(spec: TableSpec, settings: DataSettings, year: int) -> list[Check]:
    """Every check of one table, in the order that decides a rejected row's first reason:
    completeness, validity, consistency, timeliness, then uniqueness."""
    t = spec.name
    out: dict[str, list[Check]] = {d: [] for d in DIMENSIONS}
    cols = {c.name: c for c in spec.columns}
    refund = "_refund" if refund_sql(spec, settings) is not None else None
    refund_text = ("refund rows have refd_setl_flag in " + ", ".join(settings.refund_flag_values) if t == "settlements"
                   else "lines of a refund settlement may be negative")

    def add(name, column, reason, severity, sql, message, phase=1):
        out[REASONS[reason][0]].append(Check(t, name, column, reason, severity, sql, message, phase))

    for col in spec.columns:
        c, v, tv = col.name, _v(col.name), _t(col.name)
        sev = "reject" if col.required else "flag"
        if col.required:
            add(f"{c}: required", c, "missing_required", "reject", f"{v} IS NULL",
                _lit(f"{c} is empty; expected a value (the column is required)"))
        if col.type != "str":
            add(f"{c}: {col.type}", c, "bad_type", sev, f"CASE WHEN {v} IS NULL THEN NULL ELSE {tv} IS NULL END",
                f"{_lit(c + ' ')} || {_shown(col)} || {_lit(' is not ' + TYPE_TEXT[col.type])}")
        codes = col.code_table(settings)
        if codes is not None:
            listed = ", ".join(codes)
            hint = "; keep codes as text so leading zeros survive" if any(x[:1] == "0" and len(x) > 1 for x in codes) else ""
            add(f"{c}: code table", c, "bad_code", sev, f"CASE WHEN {v} IS NULL THEN NULL ELSE {v} NOT IN {_in_list(codes)} END",
                f"{_lit(c + ' ')} || {_shown(col)} || {_lit(f' is not in the code table ({listed}){hint}')}")
        if col.pattern is not None:
            add(f"{c}: format", c, "bad_format", sev,
                f"CASE WHEN {v} IS NULL THEN NULL ELSE NOT regexp_full_match({v}, {_lit(col.pattern)}) END",
                f"{_lit(c + ' ')} || {_shown(col)} || {_lit(f' does not match {col.pattern} ({col.pattern_text})')}")
            known = col.known_codes(settings)
            if known is not None:
                add(f"{c}: classified", c, "unclassified_code", "flag",
                    f"CASE WHEN {v} IS NULL OR NOT regexp_full_match({v}, {_lit(col.pattern)}) THEN NULL "
                    f"ELSE {v} NOT IN {_in_list(known)} END",
                    f"{_lit(c + ' ')} || {_shown(col)} || {_lit(' is neither a national code nor listed in data.yaml')}")
        if col.type == "money":
            shown = _money_text(c)
            if refund is not None:
                add(f"{c} >= 0", c, "negative_money", sev,
                    f"CASE WHEN {tv} IS NULL OR {refund} THEN NULL ELSE {tv} < 0 END",
                    f"{_lit(c + ' ')} || {shown} || {_lit(' is negative on a normal row; expected >= 0 (' + refund_text + ')')}")
                add(f"{c} <= 0 on refunds", c, "positive_refund", sev,
                    f"CASE WHEN {tv} IS NULL OR NOT ({refund}) THEN NULL ELSE {tv} > 0 END",
                    f"{_lit(c + ' ')} || {shown} || {_lit(' is positive on a refund row; expected <= 0')}")
            else:
                add(f"{c} >= 0", c, "negative_money", sev, f"CASE WHEN {tv} IS NULL THEN NULL ELSE {tv} < 0 END",
                    f"{_lit(c + ' ')} || {shown} || {_lit(' is negative; expected >= 0')}")
            add(f"{c}: 2 decimals", c, "money_precision", sev,
                f"CASE WHEN {tv} IS NULL THEN NULL ELSE regexp_matches({v}, '\\.[0-9]{{2}}[0-9]*[1-9]') END",
                f"{_lit(c + ' ')} || {_shown(col)} || {_lit(' has more than two decimals; expected yuan with at most 2 decimals')}")
        if col.lo is not None or col.hi is not None:
            parts, text = [], []
            if col.lo is not None:
                parts.append(f"{tv} {'<=' if col.lo_open else '<'} {col.lo:g}")
                text.append(f"{'>' if col.lo_open else '>='} {col.lo:g}")
            if col.hi is not None:
                parts.append(f"{tv} > {col.hi:g}")
                text.append(f"<= {col.hi:g}")
            add(f"{c}: range", c, "out_of_range", sev, f"CASE WHEN {tv} IS NULL THEN NULL ELSE ({' OR '.join(parts)}) END",
                f"{_lit(c + ' ')} || CAST({tv} AS VARCHAR) || {_lit(' is out of range; expected ' + ' and '.join(text))}")

    # consistency
    tol = f"CAST({settings.money_tolerance!r} AS DECIMAL(18,4))"
    if t == "settlements":
        f, m, p, a, cash = (_t(x) for x in ("fund_pay_sumamt", "medfee_sumamt", "psn_part_amt", "acct_pay", "psn_cash_pay"))
        add("fund_pay_sumamt <= medfee_sumamt", "fund_pay_sumamt", "fund_exceeds_total", "reject",
            f"CASE WHEN {f} IS NULL OR {m} IS NULL THEN NULL ELSE abs({f}) > abs({m}) END",
            f"'fund_pay_sumamt ' || {_money_text('fund_pay_sumamt')} || ' exceeds medfee_sumamt ' || {_money_text('medfee_sumamt')}")
        add("fund_pay_sumamt + psn_part_amt = medfee_sumamt", "medfee_sumamt", "payments_do_not_add_up", "reject",
            f"CASE WHEN {f} IS NULL OR {p} IS NULL OR {m} IS NULL THEN NULL ELSE abs({f} + {p} - {m}) > {tol} END",
            f"'fund_pay_sumamt ' || {_money_text('fund_pay_sumamt')} || ' + psn_part_amt ' || {_money_text('psn_part_amt')} "
            f"|| ' = ' || CAST({f} + {p} AS VARCHAR) || ' but medfee_sumamt is ' || {_money_text('medfee_sumamt')} "
            f"|| {_lit(f' (tolerance {settings.money_tolerance:g} yuan)')}")
        add("acct_pay + psn_cash_pay = psn_part_amt", "psn_part_amt", "payments_do_not_add_up", "reject",
            f"CASE WHEN {a} IS NULL OR {cash} IS NULL OR {p} IS NULL THEN NULL ELSE abs({a} + {cash} - {p}) > {tol} END",
            f"'acct_pay ' || {_money_text('acct_pay')} || ' + psn_cash_pay ' || {_money_text('psn_cash_pay')} "
            f"|| ' = ' || CAST({a} + {cash} AS VARCHAR) || ' but psn_part_amt is ' || {_money_text('psn_part_amt')} "
            f"|| {_lit(f' (tolerance {settings.money_tolerance:g} yuan)')}")
    if t == "setl_lists":
        adm, dscg = _t("adm_time"), _t("dscg_time")
        add("dscg_time >= adm_time", "dscg_time", "discharge_before_admission", "reject",
            f"CASE WHEN {adm} IS NULL OR {dscg} IS NULL THEN NULL ELSE {dscg} < {adm} END",
            f"'dscg_time ' || CAST({dscg} AS VARCHAR) || ' is before adm_time ' || CAST({adm} AS VARCHAR)")
        inpatient = _in_list(settings.inpatient_med_types) if settings.inpatient_med_types else "(NULL)"
        add("mdtrt_id in settlements", "mdtrt_id", "unmatched_settlement", "flag",
            f"CASE WHEN {_v('mdtrt_id')} IS NULL THEN NULL ELSE {_v('mdtrt_id')} NOT IN "
            f"(SELECT mdtrt_id FROM clean_settlements WHERE med_type IN {inpatient}) END",
            f"'mdtrt_id ' || {_shown(cols['mdtrt_id'])} || ' has no inpatient settlement in settlements'")
    if t == "audit_flags":
        add("handled_time >= flag_time", "handled_time", "handled_before_flag", "flag",
            f"CASE WHEN {_t('handled_time')} IS NULL OR {_t('flag_time')} IS NULL THEN NULL "
            f"ELSE {_t('handled_time')} < {_t('flag_time')} END",
            f"'handled_time ' || CAST({_t('handled_time')} AS VARCHAR) || ' is before flag_time ' || CAST({_t('flag_time')} AS VARCHAR)")
    if "fixmedins_code" in cols and t != "providers":
        add("fixmedins_code in providers", "fixmedins_code", "unknown_provider", "reject",
            f"CASE WHEN {_v('fixmedins_code')} IS NULL THEN NULL ELSE {_v('fixmedins_code')} NOT IN "
            f"(SELECT fixmedins_code FROM clean_providers) END",
            f"'fixmedins_code ' || {_shown(cols['fixmedins_code'])} || ' is not among the used providers rows "
            f"(absent from providers, or its providers row was rejected)'")

    # timeliness
    if spec.year_column is not None:
        yc = spec.year_column
        ty = _t(yc)
        y_of = f"year({ty})" if cols[yc].type in ("datetime", "date") else ty
        add(f"{yc} in window", yc, "outside_window", "reject",
            f"CASE WHEN {ty} IS NULL THEN NULL ELSE {y_of} NOT IN ({year - 1}, {year}) END",
            f"{_lit(yc + ' ')} || CAST({ty} AS VARCHAR) || {_lit(f' is outside the evaluation window {year - 1}-01-01 to {year}-12-31')}")
    if t == "setl_lists":
        days = settings.upload_deadline_days
        add("dcla_time within upload deadline", "dcla_time", "late_upload", "flag",
            f"CASE WHEN {_t('dcla_time')} IS NULL OR {_t('setl_time')} IS NULL THEN NULL "
            f"ELSE {_t('dcla_time')} > {_t('setl_time')} + INTERVAL {days} DAY END",
            f"'dcla_time ' || CAST({_t('dcla_time')} AS VARCHAR) || {_lit(f' is more than {days} days after setl_time ')} "
            f"|| CAST({_t('setl_time')} AS VARCHAR)")

    # uniqueness (phase 2: among rows that pass every other reject check; `sql` gives applicability,
    # the duplicates themselves are marked afterwards by one GROUP BY, see _mark_duplicates)
    if spec.key:
        keys = [k for k in spec.key]
        null_any = " OR ".join(f"{_t(k)} IS NULL" for k in keys)
        shown = " || ', ' || ".join(_shown(cols[k], f"CAST({_t(k)} AS VARCHAR)") for k in keys)
        label = keys[0] if len(keys) == 1 else "(" + ", ".join(keys) + ")"
        add(f"unique {' + '.join(keys)}", "+".join(keys), "duplicate_key", "reject",
            f"CASE WHEN _rej1 OR {null_any} THEN NULL ELSE false END",
            f"{_lit('duplicate ' + label + ' ')} || {shown} || '; row ' || CAST(_dupfirst AS VARCHAR) || ' is kept (chosen by content, not position)'",
            phase=2)
    return [c for d in DIMENSIONS for c in out[d]]


def _clean_expr(col: ColumnSpec, checks: list[tuple[int, Check]]) -> str:
    """Required columns: the typed value (rows that fail are rejected). Optional columns: empty
    when a flag-severity check on the column failed."""
    tv = _t(col.name)
    own = [i for i, ch in checks if ch.column == col.name and ch.severity == "flag"
           and ch.reason_code not in ("unclassified_code",)]
    if col.required or not own:
        return f"CAST({tv} AS {CLEAN_TYPES[col.type]})"
    bad = " OR ".join(f"{_f(i)} IS TRUE" for i in own)
    return f"CAST(CASE WHEN {bad} THEN NULL ELSE {tv} END AS {CLEAN_TYPES[col.type]})"


# --------------------------------------------------------------------------- the run


def run_quality(bundle: Bundle, settings: DataSettings | None = None, year: int | None = None) -> QualityResult:
    """Check every table of `bundle`; build clean_<table>, quality, rejected and quality_counts."""
    settings = settings or bundle.settings or DataSettings()
    year = int(year if year is not None else bundle.year)
    con = bundle.con
    con.execute("""CREATE OR REPLACE TABLE quality (fixmedins_code VARCHAR, "table" VARCHAR, "check" VARCHAR,
        "column" VARCHAR, dimension VARCHAR, reason_code VARCHAR, severity VARCHAR, failed BIGINT, checked BIGINT,
        rate DOUBLE)""")
    con.execute("""CREATE OR REPLACE TABLE rejected ("table" VARCHAR, "row" BIGINT, "column" VARCHAR,
        reason_code VARCHAR, message VARCHAR, also VARCHAR)""")
    counts: dict[str, TableCounts] = {}
    all_checks: dict[str, list[Check]] = {}
    for spec in TABLES.values():
        checks = table_checks(spec, settings, year)
        all_checks[spec.name] = checks
        counts[spec.name] = _check_table(bundle, spec, checks, settings)
    rows = [(c.table, c.file, c.format, c.read, c.used, c.rejected, c.flagged) for c in counts.values()]
    con.execute("""CREATE OR REPLACE TABLE quality_counts ("table" VARCHAR, file VARCHAR, format VARCHAR,
        "read" BIGINT, used BIGINT, rejected BIGINT, flagged BIGINT)""")
    con.executemany("INSERT INTO quality_counts VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    return QualityResult(bundle=bundle, year=year, settings=settings, counts=counts, checks=all_checks)


def _trimmed(col: str) -> str:
    """The value without surrounding blanks (incl. full-width and no-break spaces); '' -> NULL.
    Trimming with a character set is slow, so it only runs on rows where `_blanks` (one regular
    expression over the whole row, see _values) found a value that starts or ends with a blank."""
    c = f"CAST({_ident(col)} AS VARCHAR)"
    return f"NULLIF(CASE WHEN _blanks THEN trim({c}, {_lit(TRIM_CHARS)}) ELSE {c} END, '')"


def _values(spec: TableSpec, source: str) -> str:
    """`_row` and v_<column> (the trimmed text of every declared column) of `source`."""
    joined = "concat_ws(chr(31), " + ", ".join(f"coalesce(CAST({_ident(c)} AS VARCHAR), '')" for c in spec.names) + ")"
    blank = "[\\s\\x{3000}\\x{a0}]"
    pattern = f"'(^|\\x1f){blank}|{blank}(\\x1f|$)'"
    values = ", ".join(f"{_trimmed(c)} AS {_v(c)}" for c in spec.names)
    return f"SELECT _row, {values} FROM (SELECT *, regexp_matches({joined}, {pattern}) AS _blanks FROM {source})"


def _check_table(bundle: Bundle, spec: TableSpec, checks: list[Check], settings: DataSettings) -> TableCounts:
    """One table: qc_<table> (typed values t_*, check results f_*, _reject, _flag) in one statement;
    then quality rows from one aggregate, rejected rows with messages, and the clean_<table> view."""
    con, t = bundle.con, spec.name
    info = bundle.tables[t]
    numbered = list(enumerate(checks))
    assert len({ch.name for ch in checks}) == len(checks), f"check names of {t} must be unique"
    if info.rows == 0:
        return _empty_clean(con, spec, info)
    level2 = ", ".join(f"{_parsed(c)} AS {_p(c.name)}" for c in spec.columns)
    level2b = ", ".join(f"{_typed_from_parsed(c)} AS {_t(c.name)}" for c in spec.columns)
    phase1 = [(i, ch) for i, ch in numbered if ch.phase == 1]
    phase2 = [(i, ch) for i, ch in numbered if ch.phase == 2]
    level3 = "".join(f", ({ch.sql}) AS {_f(i)}" for i, ch in phase1)
    rej1 = " OR ".join(f"{_f(i)} IS TRUE" for i, ch in phase1 if ch.severity == "reject") or "false"
    keep_dup = ", NULL::BIGINT AS _dupfirst" if spec.key else ""
    level5 = "".join(f", ({ch.sql}) AS {_f(i)}" for i, ch in phase2)
    reject_all = " OR ".join(f"{_f(i)} IS TRUE" for i, ch in numbered if ch.severity == "reject") or "false"
    flag_all = " OR ".join(f"{_f(i)} IS TRUE" for i, ch in numbered if ch.severity == "flag") or "false"
    prov = _v("fixmedins_code") if "fixmedins_code" in spec.names else "NULL::VARCHAR"
    refund = refund_sql(spec, settings)
    refund = f", {refund} AS _refund" if refund is not None else ""
    keep = ", ".join([_t(c) for c in spec.names] + [_f(i) for i, _ in numbered])
    con.execute(f"""CREATE OR REPLACE TABLE qc_{t} AS
        SELECT _row, _prov, {keep}{keep_dup}, ({reject_all}) AS _reject, ({flag_all}) AS _flag FROM (
          SELECT *{level5} FROM (
            SELECT *, ({rej1}) AS _rej1 FROM (
              SELECT *{level3} FROM (
                SELECT *, {level2b} FROM (
                  SELECT *, {level2}, {prov} AS _prov{refund} FROM (
                    {_values(spec, f"raw_{t}")}))))))""")
    for i, ch in phase2:
        _mark_duplicates(con, t, spec.key, _f(i), spec.names)

    # quality: one aggregate pass, unpivoted to one row per provider x check
    aggs = ", ".join(f"count({_f(i)}) AS c_{i}, count_if({_f(i)}) AS x_{i}" for i, _ in numbered)
    meta = ", ".join(f"({i}, {_lit(ch.name)}, {_lit(ch.column)}, {_lit(ch.dimension)}, {_lit(ch.reason_code)}, "
                     f"{_lit(ch.severity)})" for i, ch in numbered)
    cells = ", ".join(f"{{'i': {i}, 'x': x_{i}, 'c': c_{i}}}" for i, _ in numbered)
    con.execute(f"""INSERT INTO quality
        SELECT u._prov, {_lit(t)}, m.name, m.col, m.dim, m.reason, m.sev, u.s.x, u.s.c, round(u.s.x / u.s.c, 6)
        FROM (SELECT _prov, unnest([{cells}]) AS s FROM (SELECT _prov, {aggs} FROM qc_{t} GROUP BY _prov)) u
        JOIN (VALUES {meta}) m(i, name, col, dim, reason, sev) ON m.i = u.s.i
        WHERE u.s.c > 0""")
    failing_names = {r[0] for r in con.execute(
        f'SELECT "check" FROM quality WHERE "table" = {_lit(t)} GROUP BY 1 HAVING sum(failed) > 0').fetchall()}
    if info.malformed:
        con.execute(f"""INSERT INTO quality VALUES (NULL, {_lit(t)}, 'row structure', '', 'validity', 'malformed_row',
                        'reject', {info.malformed}, {info.rows}, round({info.malformed} / {info.rows}, 6))""")

    # rejected: first failing reason, the others in `also`. Only checks that failed somewhere take
    # part (the order of reasons is unchanged); messages use the text as read, joined back by _row
    # for the rejected rows only.
    rejects = [(i, ch) for i, ch in numbered if ch.severity == "reject" and ch.name in failing_names]
    if rejects:
        col = "CASE " + " ".join(f"WHEN {_f(i)} IS TRUE THEN {_lit(ch.column)}" for i, ch in rejects) + " END"
        code = "CASE " + " ".join(f"WHEN {_f(i)} IS TRUE THEN {_lit(ch.reason_code)}" for i, ch in rejects) + " END"
        msg = "CASE " + " ".join(f"WHEN {_f(i)} IS TRUE THEN {ch.message}" for i, ch in rejects) + " END"
        items = ", ".join(f"CASE WHEN {_f(i)} IS TRUE THEN {_lit(ch.reason_code + ':' + ch.column)} END"
                          for i, ch in rejects)
        also = f"array_to_string(list_filter([{items}], lambda x: x IS NOT NULL)[2:], '; ')"
        con.execute(f"""INSERT INTO rejected SELECT {_lit(t)}, _row, {col}, {code}, {msg}, {also}
                        FROM (SELECT * FROM qc_{t} WHERE _reject) q
                        JOIN ({_values(spec, f"(SELECT * FROM raw_{t} SEMI JOIN (SELECT _row AS _r FROM qc_{t} WHERE _reject) ON _row = _r)")}) r
                        USING (_row)""")
    con.execute(f"""INSERT INTO rejected SELECT {_lit(t)}, _row, '', 'malformed_row',
                    'the line cannot be split into the header''s columns: ' || error, '' FROM malformed_{t}""")

    # clean: a view of the used rows, typed, named as in the bundle
    year_expr = _clean_prefix(spec)
    cols = ", ".join(f"{_clean_expr(c, numbered)} AS {_ident(c.name)}" for c in spec.columns)
    extra = ""
    if t == "setl_lists":
        late = next(i for i, ch in numbered if ch.reason_code == "late_upload")
        extra = f", coalesce({_f(late)}, false) AS late_upload"
    con.execute(f"""CREATE OR REPLACE VIEW clean_{t} AS
        SELECT _row, {year_expr}{cols}{extra} FROM qc_{t} WHERE NOT _reject""")

    used, flagged = con.execute(f"SELECT count_if(NOT _reject), count_if(NOT _reject AND _flag) FROM qc_{t}").fetchone()
    rejected = con.execute(f"SELECT count(*) FROM rejected WHERE \"table\" = {_lit(t)}").fetchone()[0]
    if info.rows != used + rejected:
        raise RuntimeError(f"internal error: {t}: read {info.rows} rows but used {used} + rejected {rejected}")
    return TableCounts(table=t, file=info.file, format=info.format or "", read=info.rows, used=used,
                       rejected=rejected, flagged=flagged)


def _mark_duplicates(con, t: str, key: tuple[str, ...], flag: str, columns: tuple[str, ...]) -> None:
    """Among rows where the uniqueness check applies (flag not NULL: every other reject check
    passed, key present), one row per key is kept and the others are rejected.

    The kept row is chosen by its *content* (smallest hash of all its typed values, then row number
    for identical rows), never by its position, so shuffling a file cannot change which row counts."""
    cols = [_t(k) for k in key]
    content = ", ".join(f"coalesce(CAST({_t(c)} AS VARCHAR), '')" for c in columns)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _dups AS
        WITH k AS (  -- the keys that repeat: only their rows need a content hash
            SELECT {', '.join(cols)} FROM qc_{t} WHERE {flag} IS NOT NULL GROUP BY ALL HAVING count(*) > 1
        ), c AS (
            SELECT _row, {', '.join(cols)}, md5(concat_ws(chr(31), {content})) AS _content
            FROM qc_{t} JOIN k USING ({', '.join(cols)}) WHERE {flag} IS NOT NULL
        ), ranked AS (
            SELECT _row,
                   row_number() OVER (PARTITION BY {', '.join(cols)} ORDER BY _content, _row) AS _rank,
                   first_value(_row) OVER (PARTITION BY {', '.join(cols)} ORDER BY _content, _row) AS _first
            FROM c
        )
        SELECT _row, _first FROM ranked WHERE _rank > 1""")
    con.execute(f"""UPDATE qc_{t} SET {flag} = true, _reject = true, _dupfirst = _dups._first
        FROM _dups WHERE qc_{t}._row = _dups._row""")
    con.execute("DROP TABLE _dups")


def _clean_prefix(spec: TableSpec) -> str:
    if spec.year_column is None:
        return "NULL::INTEGER AS year, "
    return "" if spec.year_column == "year" else "CAST(year({y}) AS INTEGER) AS year, ".format(y=_t(spec.year_column))


def _empty_clean(con, spec: TableSpec, info) -> TableCounts:
    """An absent (or empty) table: clean_<table> with the typed columns and no rows."""
    cols = ", ".join(f"NULL::{CLEAN_TYPES[c.type]} AS {_ident(c.name)}" for c in spec.columns)
    year = "" if spec.year_column == "year" else "NULL::INTEGER AS year, "
    extra = ", NULL::BOOLEAN AS late_upload" if spec.name == "setl_lists" else ""
    con.execute(f"CREATE OR REPLACE VIEW clean_{spec.name} AS SELECT NULL::BIGINT AS _row, {year}{cols}{extra} LIMIT 0")
    return TableCounts(table=spec.name, file=info.file, format=info.format or "", read=0, used=0, rejected=0, flagged=0)
