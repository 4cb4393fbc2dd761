-- measures over settlement_rows: one row per provider and year
-- planned: one pass for sums and counts, one pre-aggregation per column counted distinct
WITH plain AS (
  SELECT fixmedins_code, year,
    COUNT(setl_id) FILTER(WHERE direct_setl_flag = '1' AND NOT refd_setl_flag IN ('1')) AS _a1,
    COUNT(setl_id) FILTER(WHERE direct_setl_flag = '1' AND NOT refd_setl_flag IN ('1') AND mdtrt_cert_type IN ('01')) AS _a2,
    SUM(fund_pay_sumamt) FILTER(WHERE direct_setl_flag = '1') AS _a3,
    SUM(hifp_pay) FILTER(WHERE direct_setl_flag = '1') AS _a4,
    SUM(medfee_sumamt) FILTER(WHERE direct_setl_flag = '1' AND med_type IN ('21', '22', '23', '24', '52', '92')) AS _a5,
    SUM(fulamt_ownpay_amt) FILTER(WHERE direct_setl_flag = '1' AND med_type IN ('21', '22', '23', '24', '52', '92')) AS _a6,
    SUM(psn_part_amt) FILTER(WHERE direct_setl_flag = '1' AND med_type IN ('21', '22', '23', '24', '52', '92')) AS _a7,
    SUM(medfee_sumamt) FILTER(WHERE direct_setl_flag = '1' AND med_type IN ('11', '13')) AS _a8
  FROM settlement_rows
  GROUP BY fixmedins_code, year
)
, distinct_mdtrt_id AS (  -- 7 distinct count(s) of mdtrt_id
  SELECT fixmedins_code, year,
    count(*) FILTER (WHERE _mask0 & 1 <> 0) AS _mdtrt_id_1,
    count(*) FILTER (WHERE _mask0 & 2 <> 0) AS _mdtrt_id_2,
    count(*) FILTER (WHERE _mask0 & 4 <> 0) AS _mdtrt_id_3,
    count(*) FILTER (WHERE _mask0 & 8 <> 0) AS _mdtrt_id_4,
    count(*) FILTER (WHERE _mask0 & 16 <> 0) AS _mdtrt_id_5,
    count(*) FILTER (WHERE _mask0 & 32 <> 0) AS _mdtrt_id_6,
    count(*) FILTER (WHERE _mask0 & 64 <> 0) AS _mdtrt_id_7
  FROM (
    SELECT fixmedins_code, year, mdtrt_id, bit_or((CASE WHEN med_type IN ('14') AND direct_setl_flag = '1' AND NOT refd_setl_flag IN ('1') THEN 1 ELSE 0 END) | (CASE WHEN med_type IN ('14') AND NOT refd_setl_flag IN ('1') THEN 2 ELSE 0 END) | (CASE WHEN direct_setl_flag = '1' AND NOT refd_setl_flag IN ('1') AND med_type IN ('21', '22', '23', '24', '52', '92') THEN 4 ELSE 0 END) | (CASE WHEN offsite_flag = '1' AND direct_setl_flag = '1' AND NOT refd_setl_flag IN ('1') THEN 8 ELSE 0 END) | (CASE WHEN offsite_flag = '1' AND NOT refd_setl_flag IN ('1') THEN 16 ELSE 0 END) | (CASE WHEN direct_setl_flag = '1' AND NOT refd_setl_flag IN ('1') AND med_type IN ('11', '13') THEN 32 ELSE 0 END) | (CASE WHEN direct_setl_flag = '1' AND NOT refd_setl_flag IN ('1') AND med_type IN ('21', '22', '23', '24', '52', '92') AND list_timely = '1' THEN 64 ELSE 0 END)) AS _mask0
    FROM settlement_rows
    WHERE mdtrt_id IS NOT NULL AND ((med_type IN ('14') AND direct_setl_flag = '1' AND NOT refd_setl_flag IN ('1')) OR (med_type IN ('14') AND NOT refd_setl_flag IN ('1')) OR (direct_setl_flag = '1' AND NOT refd_setl_flag IN ('1') AND med_type IN ('21', '22', '23', '24', '52', '92')) OR (offsite_flag = '1' AND direct_setl_flag = '1' AND NOT refd_setl_flag IN ('1')) OR (offsite_flag = '1' AND NOT refd_setl_flag IN ('1')) OR (direct_setl_flag = '1' AND NOT refd_setl_flag IN ('1') AND med_type IN ('11', '13')) OR (direct_setl_flag = '1' AND NOT refd_setl_flag IN ('1') AND med_type IN ('21', '22', '23', '24', '52', '92') AND list_timely = '1'))
    GROUP BY fixmedins_code, year, mdtrt_id
  )
  GROUP BY fixmedins_code, year
)
SELECT
  plain.fixmedins_code,
  plain.year,
  COALESCE(_mdtrt_id_1, 0) AS chronic_direct_visits,  -- 门诊慢特病（医疗类别14）在本机构直接结算的就诊人次
  COALESCE(_mdtrt_id_2, 0) AS chronic_visits,  -- 门诊慢特病在本机构就医的就诊人次（直接结算 + 手工报销）
  _a1 AS direct_settlements,  -- 本机构直接结算笔数（按结算ID去重，不含退费冲销记录）
  _a2 AS ecert_settlements,  -- 以医保电子凭证（就诊凭证类型01）结算的直接结算笔数
  COALESCE(_a3, 0) AS fund_paid,  -- 本机构直接结算的医保基金支付总额（统筹、大病、救助等全部基金，退费冲减）
  COALESCE(_a4, 0) AS hifp_paid,  -- 本机构直接结算的基本医疗保险统筹基金支出合计（全部医疗类别，退费冲减）
  COALESCE(_a5, 0) AS inpatient_cost,  -- 本机构直接结算的住院医疗费用总额（退费冲减）
  COALESCE(_a6, 0) AS inpatient_ownpay_amt,  -- 本机构直接结算的住院全自费金额合计（医保目录外，退费冲减）
  COALESCE(_a7, 0) AS inpatient_psn_part_amt,  -- 本机构直接结算的住院个人负担总金额合计（退费冲减）
  COALESCE(_mdtrt_id_3, 0) AS inpatient_stays,  -- 本机构直接结算的住院人次（按就诊ID去重，中途结算计一次）
  COALESCE(_mdtrt_id_4, 0) AS offsite_direct_visits,  -- 异地参保人在本机构直接结算的就诊人次
  COALESCE(_mdtrt_id_5, 0) AS offsite_visits,  -- 异地参保人在本机构就医的就诊人次（直接结算 + 回参保地手工报销）
  COALESCE(_a8, 0) AS outpatient_cost,  -- 本机构直接结算的普通门诊与急诊医疗费用总额（退费冲减）
  COALESCE(_mdtrt_id_6, 0) AS outpatient_visits,  -- 本机构直接结算的普通门诊与急诊人次（按就诊ID去重，不含门诊慢特病和挂号结算）
  COALESCE(_mdtrt_id_7, 0) AS timely_listed_stays  -- 本机构直接结算的住院人次中，结算清单在结算后upload_deadline_days（data.yaml，默认30）日内上传的人次（D8.01分子，为分母inpatient_stays的子集）
FROM plain
LEFT JOIN distinct_mdtrt_id ON distinct_mdtrt_id.fixmedins_code IS NOT DISTINCT FROM plain.fixmedins_code AND distinct_mdtrt_id.year IS NOT DISTINCT FROM plain.year
ORDER BY plain.fixmedins_code, plain.year
