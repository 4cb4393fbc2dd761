-- measures over clean_audit_flags: one row per provider and year
-- planned: one pass for sums and counts, one pre-aggregation per column counted distinct
WITH plain AS (
  SELECT fixmedins_code, year,
    COUNT(*) FILTER(WHERE NOT handled_time IS NULL AND DATE_DIFF('DAY', flag_time, handled_time) <= 15) AS _a1,
    COUNT(*) AS _a2,
    COUNT(flag_id) FILTER(WHERE confirmed = '1') AS _a3,
    COUNT(flag_id) FILTER(WHERE fraud = '1') AS _a4,
    SUM(amount) FILTER(WHERE confirmed = '1') AS _a5
  FROM clean_audit_flags
  GROUP BY fixmedins_code, year
)
, distinct_setl_id AS (  -- 1 distinct count(s) of setl_id
  SELECT fixmedins_code, year,
    count(*) FILTER (WHERE _mask0 & 1 <> 0) AS _setl_id_1
  FROM (
    SELECT fixmedins_code, year, setl_id, bit_or((CASE WHEN rule_type = '分解住院' THEN 1 ELSE 0 END)) AS _mask0
    FROM clean_audit_flags
    WHERE setl_id IS NOT NULL AND ((rule_type = '分解住院'))
    GROUP BY fixmedins_code, year, setl_id
  )
  GROUP BY fixmedins_code, year
)
SELECT
  plain.fixmedins_code,
  plain.year,
  _a1 AS audit_flags_timely,  -- 推送后15日内完成处理（反馈或申诉）的疑点数（时限为假定默认值）
  _a2 AS audit_flags_total,  -- 本年度推送至本机构的智能审核疑点数
  _a3 AS confirmed_violations,  -- 经申诉复核确认违规的疑点数（信用加分的否定条件）
  _a4 AS fraud_cases,  -- 经查实的欺诈骗保案件数（一票否决）
  COALESCE(_setl_id_1, 0) AS split_admission_flags,  -- 被标记为疑似分解住院的住院结算数（按结算ID去重，不论是否确认）
  COALESCE(_a5, 0) AS violation_amount  -- 经申诉复核确认违规的疑点金额合计
FROM plain
LEFT JOIN distinct_setl_id ON distinct_setl_id.fixmedins_code IS NOT DISTINCT FROM plain.fixmedins_code AND distinct_setl_id.year IS NOT DISTINCT FROM plain.year
ORDER BY plain.fixmedins_code, plain.year
