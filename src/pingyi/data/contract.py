"""The extract contract in code: tables and columns keyed by the national medical-insurance platform's
field codes, their types, code tables, patterns, ranges and the class of each column.

docs/data-bundle.md is the contract in words; a test keeps the two equal.

Every column has one class (`ColumnSpec.kind`, the `class` column of docs/data-bundle.md):

- `identifier`: names a person: the patient (psn_no) or the expert behind a score (expert_id). Identity
  fields an export may carry besides (certno, psn_name, any name of a patient) are not in the contract,
  so they are never read at all.
- `key`: names one record of care: a settlement (setl_id), an encounter (mdtrt_id), an audit flag
  (flag_id). Not a person, but it points at one person's record in the insurer's systems.
- `quasi`: names no one alone but narrows a person down combined with others: age, sex, insured area,
  the times of a patient's care (admission, discharge, settlement, fee).
- `provider`: names the provider (fixmedins_code, fixmedins_name): what every output is about.
- `code`: a value from a code table or classification (med_type, diag_code, flags, indicator codes …).
- `amount`: money in yuan. `number`: other quantities (days, counts, weights, scores, reported values).
- `time`: a date, time or year that is not a patient's care (audit handling, list upload, report year).

Identifier and key columns (`IDENTIFYING`) are never written to any output: a data-quality message
shows `(value withheld)` instead of their value, and measure SQL may read them only as
`count(DISTINCT col)` (pingyi.compute.measures; PY608). Quasi-identifiers may be used freely in
measure SQL (filters by age band, sex, offsite area, durations between care times are what
indicators are made of): a measure is an aggregate per provider and year, and indicators carry
minimum volumes. That does not stop a measure from singling out one record through quasi-identifiers
(a filter on an exact settlement time); reviewing measure definitions remains the committee's job.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pingyi.spec.models import CODE_PATTERN, LEVELS, DataSettings

COLUMN_TYPES = ("str", "int", "float", "money", "datetime", "date")
# column classes (module docstring); the first two are never output and only counted distinct in measures
COLUMN_KINDS = ("identifier", "key", "quasi", "provider", "code", "amount", "number", "time")
IDENTIFYING = ("identifier", "key")
FORMATS = ("csv", "xlsx", "parquet", "json", "xml")
CONTRACT = "docs/data-bundle.md"

# --------------------------------------------------------------------------- schemas


@dataclass(frozen=True)
class ColumnSpec:
    """One column of an extract table, named by its platform field code.

    `codes`: the code table (value must be one of them; `settings_codes` names DataSettings
    lists whose values are added). `settings_aliases`: names a DataSettings mapping of accepted
    spellings to a code, which clean_<table> holds instead. `stop_unknown`: a value outside the code
    table (and its spellings) stops the run with one error instead of rejecting the row (the text
    says what the value should be, e.g. "a provider level"): used where rejecting the row would
    silently drop a provider and everything it did. `pattern`: a regular
    expression the whole value must match. `known`: codes that are recognised; a value matching
    `pattern` but not known is flagged (not rejected). `lo`/`hi`: numeric range (inclusive unless
    `lo_open`). `kind`: the column's class (COLUMN_KINDS, module docstring); every column declares one.
    """

    name: str
    type: str = "str"
    required: bool = False
    codes: tuple[str, ...] | None = None
    settings_codes: tuple[str, ...] = ()
    settings_aliases: str | None = None
    stop_unknown: str | None = None
    pattern: str | None = None
    pattern_text: str | None = None
    known: tuple[str, ...] | None = None
    known_settings: tuple[str, ...] = ()
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    kind: str = ""
    label: str = ""

    def __post_init__(self) -> None:
        if self.type not in COLUMN_TYPES:
            raise ValueError(f"column {self.name}: unknown type {self.type!r}")
        if self.kind not in COLUMN_KINDS:
            raise ValueError(f"column {self.name}: class {self.kind!r} is not one of {', '.join(COLUMN_KINDS)}")

    @property
    def pii(self) -> bool:
        """An identifier or a key: never written to any output (its values are withheld in messages)."""
        return self.kind in IDENTIFYING

    def code_table(self, settings: DataSettings) -> tuple[str, ...] | None:
        """The accepted values: the codes, the settings' codes and the spellings of `alias_table`."""
        if self.codes is None:
            return None
        extra = [v for attr in self.settings_codes for v in getattr(settings, attr)]
        return tuple(dict.fromkeys([*self.codes, *extra, *self.alias_table(settings)]))

    def alias_table(self, settings: DataSettings) -> dict[str, str]:
        """Spelling -> code, from the DataSettings mapping `settings_aliases` names."""
        if self.settings_aliases is None:
            return {}
        table = getattr(settings, self.settings_aliases)
        return {k: str(v) for k, v in table.items() if k != str(v)}

    def known_codes(self, settings: DataSettings) -> tuple[str, ...] | None:
        if self.known is None:
            return None
        extra = [v for attr in self.known_settings for v in getattr(settings, attr)]
        return tuple(dict.fromkeys([*self.known, *extra]))


@dataclass(frozen=True)
class TableSpec:
    name: str
    label: str
    columns: tuple[ColumnSpec, ...]
    required: bool = False
    key: tuple[str, ...] = ()
    year_column: str | None = None

    def column(self, name: str) -> ColumnSpec:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def pii_columns(self) -> tuple[str, ...]:
        """The identifier and key columns (never output; measures may only count them distinct)."""
        return tuple(c.name for c in self.columns if c.pii)


def C(name: str, type: str = "str", required: bool = False, **kw: Any) -> ColumnSpec:  # noqa: N802 - table shorthand
    return ColumnSpec(name=name, type=type, required=required, **kw)


FIXMEDINS = {
    "pattern": r"^H[0-9]{11}$",
    "pattern_text": "H + 6-digit division code + 5-digit sequence, e.g. H33010600001",
}
FLAG01 = ("0", "1")
GEND = ("0", "1", "2", "9")  # GB/T 2261.1: 0 未知, 1 男, 2 女, 9 未说明
NATIONAL_MED_TYPES = ("11", "12", "13", "14", "21", "22", "23", "24", "41", "51", "52", "53", "91", "92", "93", "99")
MED_TYPE_SETS = ("inpatient_med_types", "outpatient_med_types", "chronic_med_types")
INSUTYPES = ("310", "320", "330", "340", "390", "392", "510")
MED_CHRGITM = tuple(f"{i:02d}" for i in range(1, 15))
HOSP_LV = LEVELS  # 三级, 二级, 一级及基层; other spellings: data.yaml level_aliases
DIAG_PATTERN = r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Za-z]{1,8})?$"
INDICATOR = {"pattern": CODE_PATTERN, "pattern_text": "an indicator code such as D1.01"}

TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (
        TableSpec(
            "providers",
            "机构",
            required=True,
            key=("fixmedins_code",),
            columns=(
                C("fixmedins_code", required=True, **FIXMEDINS, kind="provider"),
                C("fixmedins_name", required=True, kind="provider"),
                C(
                    "hosp_lv",
                    required=True,
                    codes=HOSP_LV,
                    settings_aliases="level_aliases",
                    stop_unknown="a provider level",
                    kind="code",
                ),
                C("fixmedins_type", kind="code"),
                C("prepayment", "money", kind="amount"),
                C("credit_rating", kind="code"),
            ),
        ),
        TableSpec(
            "settlements",
            "结算信息",
            required=True,
            key=("setl_id",),
            year_column="setl_time",
            columns=(
                C("setl_id", required=True, kind="key"),
                C("mdtrt_id", required=True, kind="key"),
                C("psn_no", required=True, kind="identifier"),
                C("insutype", required=True, codes=INSUTYPES, kind="code"),
                C(
                    "med_type",
                    required=True,
                    pattern=r"^[0-9]{2,6}$",
                    pattern_text="a 2-digit code (local codes up to 6 digits)",
                    known=NATIONAL_MED_TYPES,
                    known_settings=MED_TYPE_SETS,
                    kind="code",
                ),
                C("setl_time", "datetime", required=True, kind="quasi"),
                C("medfee_sumamt", "money", required=True, kind="amount"),
                C("fulamt_ownpay_amt", "money", required=True, kind="amount"),
                C("hifp_pay", "money", required=True, kind="amount"),
                C("fund_pay_sumamt", "money", required=True, kind="amount"),
                C("psn_part_amt", "money", required=True, kind="amount"),
                C("acct_pay", "money", required=True, kind="amount"),
                C("psn_cash_pay", "money", required=True, kind="amount"),
                C("fixmedins_code", required=True, **FIXMEDINS, kind="provider"),
                C(
                    "insuplc_admdvs",
                    required=True,
                    pattern=r"^[0-9]{6}$",
                    pattern_text="a 6-digit division code",
                    kind="quasi",
                ),
                C("refd_setl_flag", required=True, codes=("0",), settings_codes=("refund_flag_values",), kind="code"),
                C("age", "int", lo=0, hi=120, kind="quasi"),
                C("gend", codes=GEND, kind="quasi"),
                C(
                    "mdtrt_cert_type",
                    codes=("01", "02", "03"),
                    settings_codes=("e_credential_cert_types",),
                    kind="code",
                ),
                C("direct_setl_flag", codes=FLAG01, kind="code"),
            ),
        ),
        TableSpec(
            "setl_lists",
            "医保结算清单",
            key=("mdtrt_id",),
            year_column="setl_time",
            columns=(
                C("mdtrt_id", required=True, kind="key"),
                C("setl_id", required=True, kind="key"),
                C("fixmedins_code", required=True, **FIXMEDINS, kind="provider"),
                C("psn_no", required=True, kind="identifier"),
                C("drg_code", kind="code"),
                C(
                    "diag_code",
                    required=True,
                    pattern=DIAG_PATTERN,
                    pattern_text="a 医保版 ICD-10 code such as J18.900",
                    kind="code",
                ),
                C("diag_code_cnt", "int", lo=1, kind="number"),
                C("adm_time", "datetime", required=True, kind="quasi"),
                C("dscg_time", "datetime", required=True, kind="quasi"),
                C("act_ipt_days", "int", required=True, lo=0, kind="number"),
                C("dscg_way", required=True, codes=("1", "2", "3", "4", "5", "9"), kind="code"),
                C("days_rinp_flag_31", codes=("1", "2"), kind="code"),
                C("max_oprn_lv", "int", lo=1, hi=4, kind="code"),
                C("oprn_cmpl_flag", codes=FLAG01, kind="code"),
                C("setl_time", "datetime", required=True, kind="quasi"),
                C("dcla_time", "datetime", required=True, kind="time"),
                C("qc_rslt", required=True, codes=FLAG01, kind="code"),
                C("age", "int", lo=0, hi=120, kind="quasi"),
                C("gend", codes=GEND, kind="quasi"),
            ),
        ),
        TableSpec(
            "fee_items",
            "费用明细",
            year_column="fee_ocur_time",
            columns=(
                C("mdtrt_id", required=True, kind="key"),
                C("setl_id", required=True, kind="key"),
                C("fixmedins_code", required=True, **FIXMEDINS, kind="provider"),
                C("fee_ocur_time", "datetime", required=True, kind="quasi"),
                C("med_chrgitm", required=True, codes=MED_CHRGITM, kind="code"),
                C("amt", "money", required=True, kind="amount"),
                C("fulamt_ownpay_amt", "money", kind="amount"),
                C("vbp_flag", codes=FLAG01, kind="code"),
                C("nego_flag", codes=FLAG01, kind="code"),
                C("med_list_codg", kind="code"),
                C("cnt", "float", kind="number"),
                C("vbp_generic_flag", codes=FLAG01, kind="code"),
                C("natl_code_flag", codes=FLAG01, kind="code"),
            ),
        ),
        TableSpec(
            "audit_flags",
            "智能审核疑点",
            key=("flag_id",),
            year_column="flag_time",
            columns=(
                C("flag_id", required=True, kind="key"),
                C("fixmedins_code", required=True, **FIXMEDINS, kind="provider"),
                C("setl_id", kind="key"),
                C("rule_code", required=True, kind="code"),
                C("rule_type", required=True, kind="code"),
                C("amount", "money", required=True, kind="amount"),
                C("flag_time", "datetime", required=True, kind="time"),
                C("handled_time", "datetime", kind="time"),
                C("confirmed", required=True, codes=FLAG01, kind="code"),
                C("fraud", codes=FLAG01, kind="code"),
            ),
        ),
        TableSpec(
            "reported",
            "机构填报与调查",
            key=("fixmedins_code", "year", "indicator"),
            year_column="year",
            columns=(
                C("fixmedins_code", required=True, **FIXMEDINS, kind="provider"),
                C("year", "int", required=True, kind="time"),
                C("indicator", required=True, **INDICATOR, kind="code"),
                C("value", "float", required=True, kind="number"),
                C("numerator", "float", kind="number"),
                C("denominator", "float", lo=0, kind="number"),
                C("source", codes=("report", "survey"), kind="code"),
            ),
        ),
        TableSpec(
            "expert_scores",
            "专家评分",
            key=("fixmedins_code", "year", "indicator", "expert_id"),
            year_column="year",
            columns=(
                C("fixmedins_code", required=True, **FIXMEDINS, kind="provider"),
                C("year", "int", required=True, kind="time"),
                C("indicator", required=True, **INDICATOR, kind="code"),
                C("expert_id", required=True, kind="identifier"),
                C("score", "float", required=True, lo=0, hi=100, kind="number"),
            ),
        ),
        TableSpec(
            "drg_groups",
            "DRG 分组参考表",
            key=("drg_code",),
            columns=(
                C("drg_code", required=True, kind="code"),
                C("drg_name", kind="code"),
                C("weight", "float", required=True, lo=0, lo_open=True, kind="number"),
                C("mean_cost", "money", required=True, kind="amount"),
                C("mean_los", "float", required=True, lo=0, lo_open=True, kind="number"),
            ),
        ),
    )
}
