"""The extract contract in code: tables and columns keyed by the national medical-insurance platform's
field codes, their types, code tables, patterns, ranges and which columns hold patient identifiers.

docs/data-bundle.md is the contract in words; a test keeps the two equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pingyi.spec.models import CODE_PATTERN, LEVELS, DataSettings

COLUMN_TYPES = ("str", "int", "float", "money", "datetime", "date")
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
    `lo_open`). `pii`: never written to any output.
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
    pii: bool = False
    label: str = ""

    def __post_init__(self) -> None:
        if self.type not in COLUMN_TYPES:
            raise ValueError(f"column {self.name}: unknown type {self.type!r}")

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
                C("fixmedins_code", required=True, **FIXMEDINS),
                C("fixmedins_name", required=True),
                C(
                    "hosp_lv",
                    required=True,
                    codes=HOSP_LV,
                    settings_aliases="level_aliases",
                    stop_unknown="a provider level",
                ),
                C("fixmedins_type"),
                C("prepayment", "money"),
            ),
        ),
        TableSpec(
            "settlements",
            "结算信息",
            required=True,
            key=("setl_id",),
            year_column="setl_time",
            columns=(
                C("setl_id", required=True),
                C("mdtrt_id", required=True),
                C("psn_no", required=True, pii=True),
                C("insutype", required=True, codes=INSUTYPES),
                C(
                    "med_type",
                    required=True,
                    pattern=r"^[0-9]{2,6}$",
                    pattern_text="a 2-digit code (local codes up to 6 digits)",
                    known=NATIONAL_MED_TYPES,
                    known_settings=MED_TYPE_SETS,
                ),
                C("setl_time", "datetime", required=True),
                C("medfee_sumamt", "money", required=True),
                C("fulamt_ownpay_amt", "money", required=True),
                C("hifp_pay", "money", required=True),
                C("fund_pay_sumamt", "money", required=True),
                C("psn_part_amt", "money", required=True),
                C("acct_pay", "money", required=True),
                C("psn_cash_pay", "money", required=True),
                C("fixmedins_code", required=True, **FIXMEDINS),
                C("insuplc_admdvs", required=True, pattern=r"^[0-9]{6}$", pattern_text="a 6-digit division code"),
                C("refd_setl_flag", required=True, codes=("0",), settings_codes=("refund_flag_values",)),
                C("age", "int", lo=0, hi=120),
                C("gend", codes=GEND),
                C("mdtrt_cert_type", codes=("01", "02", "03"), settings_codes=("e_credential_cert_types",)),
                C("direct_setl_flag", codes=FLAG01),
            ),
        ),
        TableSpec(
            "setl_lists",
            "医保结算清单",
            key=("mdtrt_id",),
            year_column="setl_time",
            columns=(
                C("mdtrt_id", required=True),
                C("setl_id", required=True),
                C("fixmedins_code", required=True, **FIXMEDINS),
                C("psn_no", required=True, pii=True),
                C("drg_code"),
                C(
                    "diag_code",
                    required=True,
                    pattern=DIAG_PATTERN,
                    pattern_text="a 医保版 ICD-10 code such as J18.900",
                ),
                C("diag_code_cnt", "int", lo=1),
                C("adm_time", "datetime", required=True),
                C("dscg_time", "datetime", required=True),
                C("act_ipt_days", "int", required=True, lo=0),
                C("dscg_way", required=True, codes=("1", "2", "3", "4", "5", "9")),
                C("days_rinp_flag_31", codes=("1", "2")),
                C("max_oprn_lv", "int", lo=1, hi=4),
                C("oprn_cmpl_flag", codes=FLAG01),
                C("setl_time", "datetime", required=True),
                C("dcla_time", "datetime", required=True),
                C("qc_rslt", required=True, codes=FLAG01),
                C("age", "int", lo=0, hi=120),
                C("gend", codes=GEND),
            ),
        ),
        TableSpec(
            "fee_items",
            "费用明细",
            year_column="fee_ocur_time",
            columns=(
                C("mdtrt_id", required=True),
                C("setl_id", required=True),
                C("fixmedins_code", required=True, **FIXMEDINS),
                C("fee_ocur_time", "datetime", required=True),
                C("med_chrgitm", required=True, codes=MED_CHRGITM),
                C("amt", "money", required=True),
                C("fulamt_ownpay_amt", "money"),
                C("vbp_flag", codes=FLAG01),
                C("nego_flag", codes=FLAG01),
                C("med_list_codg"),
                C("cnt", "float"),
                C("vbp_generic_flag", codes=FLAG01),
                C("natl_code_flag", codes=FLAG01),
            ),
        ),
        TableSpec(
            "audit_flags",
            "智能审核疑点",
            key=("flag_id",),
            year_column="flag_time",
            columns=(
                C("flag_id", required=True),
                C("fixmedins_code", required=True, **FIXMEDINS),
                C("setl_id"),
                C("rule_code", required=True),
                C("rule_type", required=True),
                C("amount", "money", required=True),
                C("flag_time", "datetime", required=True),
                C("handled_time", "datetime"),
                C("confirmed", required=True, codes=FLAG01),
                C("fraud", codes=FLAG01),
            ),
        ),
        TableSpec(
            "reported",
            "机构填报与调查",
            key=("fixmedins_code", "year", "indicator"),
            year_column="year",
            columns=(
                C("fixmedins_code", required=True, **FIXMEDINS),
                C("year", "int", required=True),
                C("indicator", required=True, **INDICATOR),
                C("value", "float", required=True),
                C("numerator", "float"),
                C("denominator", "float", lo=0),
                C("source", codes=("report", "survey")),
            ),
        ),
        TableSpec(
            "expert_scores",
            "专家评分",
            key=("fixmedins_code", "year", "indicator", "expert_id"),
            year_column="year",
            columns=(
                C("fixmedins_code", required=True, **FIXMEDINS),
                C("year", "int", required=True),
                C("indicator", required=True, **INDICATOR),
                C("expert_id", required=True),
                C("score", "float", required=True, lo=0, hi=100),
            ),
        ),
        TableSpec(
            "drg_groups",
            "DRG 分组参考表",
            key=("drg_code",),
            columns=(
                C("drg_code", required=True),
                C("drg_name"),
                C("weight", "float", required=True, lo=0, lo_open=True),
                C("mean_cost", "money", required=True),
                C("mean_los", "float", required=True, lo=0, lo_open=True),
            ),
        ),
    )
}
