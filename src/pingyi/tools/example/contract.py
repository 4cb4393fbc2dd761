"""The bundle's table and column contract (docs/data-bundle.md), the output formats and the
reason codes of planted defects."""

from __future__ import annotations

FORMATS = ("mixed", "csv", "parquet")

# Exact column order of docs/data-bundle.md.
TABLE_COLUMNS: dict[str, list[str]] = {
    "providers": ["fixmedins_code", "fixmedins_name", "hosp_lv", "fixmedins_type", "prepayment", "credit_rating"],
    "settlements": [
        "setl_id",
        "mdtrt_id",
        "psn_no",
        "insutype",
        "med_type",
        "setl_time",
        "medfee_sumamt",
        "fulamt_ownpay_amt",
        "hifp_pay",
        "fund_pay_sumamt",
        "psn_part_amt",
        "acct_pay",
        "psn_cash_pay",
        "fixmedins_code",
        "insuplc_admdvs",
        "refd_setl_flag",
        "age",
        "gend",
        "mdtrt_cert_type",
        "direct_setl_flag",
    ],
    "setl_lists": [
        "mdtrt_id",
        "setl_id",
        "fixmedins_code",
        "psn_no",
        "drg_code",
        "diag_code",
        "diag_code_cnt",
        "adm_time",
        "dscg_time",
        "act_ipt_days",
        "dscg_way",
        "days_rinp_flag_31",
        "max_oprn_lv",
        "oprn_cmpl_flag",
        "setl_time",
        "dcla_time",
        "qc_rslt",
        "age",
        "gend",
    ],
    "fee_items": [
        "mdtrt_id",
        "setl_id",
        "fixmedins_code",
        "fee_ocur_time",
        "med_chrgitm",
        "amt",
        "fulamt_ownpay_amt",
        "vbp_flag",
        "nego_flag",
        "med_list_codg",
        "cnt",
        "vbp_generic_flag",
        "natl_code_flag",
    ],
    "audit_flags": [
        "flag_id",
        "fixmedins_code",
        "setl_id",
        "rule_code",
        "rule_type",
        "amount",
        "flag_time",
        "handled_time",
        "confirmed",
        "fraud",
    ],
    "reported": ["fixmedins_code", "year", "indicator", "value", "numerator", "denominator", "source"],
    "expert_scores": ["fixmedins_code", "year", "indicator", "expert_id", "score"],
    "drg_groups": ["drg_code", "drg_name", "weight", "mean_cost", "mean_los"],
}
TABLE_ORDER = list(TABLE_COLUMNS)

# Formats per table ("mixed" is how users have them: committees keep providers in Excel,
# platform extracts are large Parquet files, small side tables are CSV).
MIXED_FORMATS = {
    "providers": "xlsx",
    "settlements": "parquet",
    "setl_lists": "parquet",
    "fee_items": "parquet",
    "audit_flags": "csv",
    "reported": "csv",
    "expert_scores": "csv",
    "drg_groups": "csv",
}

# Reason codes shared with the quality stage.
REASONS = (
    "missing_required",
    "bad_type",
    "bad_code",
    "bad_format",
    "negative_money",
    "money_precision",
    "fund_exceeds_total",
    "payments_do_not_add_up",
    "discharge_before_admission",
    "unknown_provider",
    "duplicate_key",
    "outside_window",
    "late_upload",
)

LEVELS = ("三级", "二级", "一级及基层")

MONEY_COLS = (
    "medfee_sumamt",
    "fulamt_ownpay_amt",
    "hifp_pay",
    "fund_pay_sumamt",
    "psn_part_amt",
    "acct_pay",
    "psn_cash_pay",
)
