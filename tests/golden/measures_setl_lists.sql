-- measures over stays: one row per provider and year
-- planned: one pass for sums and counts, one pre-aggregation per column counted distinct
WITH plain AS (
  SELECT fixmedins_code, year,
    COUNT(mdtrt_id) FILTER(WHERE COALESCE(dscg_way, '') <> '5') AS _a1,
    SUM(CAST(stay_cost / drg_region_cost AS DECIMAL(38, 12))) FILTER(WHERE NOT drg_code IS NULL AND drg_weight > 0 AND drg_region_cost > 0 AND drg_region_los > 0 AND NOT stay_cost IS NULL AND NOT act_ipt_days IS NULL) AS _a2,
    COUNT(mdtrt_id) FILTER(WHERE dscg_way = '3') AS _a3,
    COUNT(mdtrt_id) FILTER(WHERE act_ipt_days <= 60 AND NOT drg_code IS NULL) AS _a4,
    COUNT(mdtrt_id) FILTER(WHERE act_ipt_days <= 60) AS _a5,
    SUM(CAST(drg_weight AS DECIMAL(38, 12))) FILTER(WHERE NOT drg_code IS NULL AND drg_weight > 0 AND drg_region_cost > 0 AND drg_region_los > 0 AND NOT stay_cost IS NULL AND NOT act_ipt_days IS NULL) AS _a6,
    SUM(CAST(GREATEST(DATE_DIFF('DAY', CAST(dscg_time AS DATE), CAST(setl_time AS DATE)), 0) AS DECIMAL(38, 12))) FILTER(WHERE NOT dscg_time IS NULL AND NOT setl_time IS NULL AND COALESCE(manual_claim, 0) = 0) AS _a7,
    COUNT(mdtrt_id) FILTER(WHERE max_oprn_lv = 4) AS _a8,
    COUNT(mdtrt_id) FILTER(WHERE NOT drg_code IS NULL AND drg_weight > 0 AND drg_region_cost > 0 AND drg_region_los > 0 AND NOT stay_cost IS NULL AND NOT act_ipt_days IS NULL) AS _a9,
    COUNT(mdtrt_id) AS _a10,
    COUNT(mdtrt_id) FILTER(WHERE NOT drg_code IS NULL AND low_risk_drg = 1 AND dscg_way = '5') AS _a11,
    COUNT(mdtrt_id) FILTER(WHERE NOT drg_code IS NULL AND low_risk_drg = 1) AS _a12,
    COUNT(mdtrt_id) FILTER(WHERE qc_rslt = '1') AS _a13,
    COUNT(mdtrt_id) FILTER(WHERE NOT dscg_time IS NULL AND NOT setl_time IS NULL AND COALESCE(manual_claim, 0) = 0) AS _a14,
    COUNT(mdtrt_id) FILTER(WHERE max_oprn_lv BETWEEN 1 AND 4 AND oprn_cmpl_flag = '1') AS _a15,
    COUNT(mdtrt_id) FILTER(WHERE max_oprn_lv BETWEEN 1 AND 4) AS _a16,
    SUM(CAST(act_ipt_days / drg_region_los AS DECIMAL(38, 12))) FILTER(WHERE NOT drg_code IS NULL AND drg_weight > 0 AND drg_region_cost > 0 AND drg_region_los > 0 AND NOT stay_cost IS NULL AND NOT act_ipt_days IS NULL) AS _a17,
    COUNT(mdtrt_id) FILTER(WHERE COALESCE(dscg_way, '') <> '5' AND unplanned_readmit_31 = 1) AS _a18
  FROM stays
  GROUP BY fixmedins_code, year
)
SELECT
  plain.fixmedins_code,
  plain.year,
  _a1 AS alive_discharges,  -- 存活出院人次（离院方式非死亡）
  COALESCE(_a2, 0) AS cost_index_sum,  -- Σ（病例住院费用 ÷ 同年本区域该病组例均费用），费用消耗指数的分子
  _a3 AS down_referrals,  -- 离院方式为医嘱转社区卫生服务机构/乡镇卫生院（3）的出院人次
  _a4 AS drg_eligible_grouped_stays,  -- 可入组病例中成功入组的病例数
  _a5 AS drg_eligible_stays,  -- 可入组病例数（实际住院天数不超过60天的结算清单）
  COALESCE(_a6, 0) AS drg_total_weight,  -- DRG总权重（入组病例所在病组相对权重之和）
  COALESCE(_a7, 0) AS dscg_to_setl_days,  -- Σ（结算日期 − 出院日期，天，负值按0计），不含手工（零星）报销的住院
  _a8 AS grade4_surgical_stays,  -- 最高手术级别为四级的出院人次
  _a9 AS grouped_stays,  -- 成功入组且病组权重、区域均费、均住院日齐全的住院人次（CMI与消耗指数的分母）
  _a10 AS listed_stays,  -- 上传结算清单的住院人次
  _a11 AS low_risk_deaths,  -- 低风险病组死亡人次（离院方式5 死亡）
  _a12 AS low_risk_stays,  -- 低风险病组（死亡风险等级1）住院人次
  _a13 AS qc_passed_lists,  -- 通过医保部门质控的结算清单数
  _a14 AS settled_lists,  -- 出院时间与结算时间均有记录的住院人次（不含经办机构手工（零星）报销的住院）
  _a15 AS surgical_complication_stays,  -- 发生手术并发症的手术患者出院人次
  _a16 AS surgical_stays,  -- 有分级手术（最高手术级别1-4级）的出院人次
  COALESCE(_a17, 0) AS time_index_sum,  -- Σ（病例实际住院天数 ÷ 同年本区域该病组平均住院日），时间消耗指数的分子
  _a18 AS unplanned_readmissions  -- 出院后31日内非计划再入住本机构的出院人次（标记在前次住院）
FROM plain
ORDER BY plain.fixmedins_code, plain.year
