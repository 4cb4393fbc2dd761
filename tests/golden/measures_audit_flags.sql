-- measures over clean_audit_flags: one row per provider and year
SELECT
  fixmedins_code,
  year,
  COUNT(*) FILTER(WHERE NOT handled_time IS NULL AND DATE_DIFF('DAY', flag_time, handled_time) <= 15) AS audit_flags_timely,  -- 推送后15日内完成处理（反馈或申诉）的疑点数（时限为假定默认值）
  COUNT(*) AS audit_flags_total,  -- 本年度推送至本机构的智能审核疑点数
  COUNT(DISTINCT flag_id) FILTER(WHERE confirmed = '1') AS confirmed_violations,  -- 经申诉复核确认违规的疑点数（信用加分的否定条件）
  COUNT(DISTINCT flag_id) FILTER(WHERE fraud = '1') AS fraud_cases,  -- 经查实的欺诈骗保案件数（一票否决）
  COUNT(DISTINCT setl_id) FILTER(WHERE rule_type = '分解住院') AS split_admission_flags,  -- 被标记为疑似分解住院的住院结算数（按结算ID去重，不论是否确认）
  COALESCE(SUM(CAST(amount AS DECIMAL(38, 12))) FILTER(WHERE confirmed = '1'), 0) AS violation_amount  -- 经申诉复核确认违规的疑点金额合计
FROM clean_audit_flags
GROUP BY fixmedins_code, year
ORDER BY fixmedins_code, year
