-- measures over settlement_rows: one row per provider and year
SELECT
  fixmedins_code,
  year,
  COUNT(DISTINCT mdtrt_id) FILTER(WHERE med_type IN ('14') AND direct_setl_flag = '1' AND NOT refd_setl_flag IN ('1')) AS chronic_direct_visits,  -- 门诊慢特病（医疗类别14）在本机构直接结算的就诊人次
  COUNT(DISTINCT mdtrt_id) FILTER(WHERE med_type IN ('14') AND NOT refd_setl_flag IN ('1')) AS chronic_visits,  -- 门诊慢特病在本机构就医的就诊人次（直接结算 + 手工报销）
  COUNT(DISTINCT setl_id) FILTER(WHERE direct_setl_flag = '1' AND NOT refd_setl_flag IN ('1')) AS direct_settlements,  -- 本机构直接结算笔数（按结算ID去重，不含退费冲销记录）
  COUNT(DISTINCT setl_id) FILTER(WHERE direct_setl_flag = '1' AND NOT refd_setl_flag IN ('1') AND mdtrt_cert_type IN ('01')) AS ecert_settlements,  -- 以医保电子凭证（就诊凭证类型01）结算的直接结算笔数
  COALESCE(SUM(CAST(fund_pay_sumamt AS DECIMAL(38, 12))) FILTER(WHERE direct_setl_flag = '1'), 0) AS fund_paid,  -- 本机构直接结算的医保基金支付总额（统筹、大病、救助等全部基金，退费冲减）
  COALESCE(SUM(CAST(hifp_pay AS DECIMAL(38, 12))) FILTER(WHERE direct_setl_flag = '1'), 0) AS hifp_paid,  -- 本机构直接结算的基本医疗保险统筹基金支出合计（全部医疗类别，退费冲减）
  COALESCE(SUM(CAST(medfee_sumamt AS DECIMAL(38, 12))) FILTER(WHERE direct_setl_flag = '1' AND med_type IN ('21', '22', '23', '24', '52', '92')), 0) AS inpatient_cost,  -- 本机构直接结算的住院医疗费用总额（退费冲减）
  COALESCE(SUM(CAST(fulamt_ownpay_amt AS DECIMAL(38, 12))) FILTER(WHERE direct_setl_flag = '1' AND med_type IN ('21', '22', '23', '24', '52', '92')), 0) AS inpatient_ownpay_amt,  -- 本机构直接结算的住院全自费金额合计（医保目录外，退费冲减）
  COALESCE(SUM(CAST(psn_part_amt AS DECIMAL(38, 12))) FILTER(WHERE direct_setl_flag = '1' AND med_type IN ('21', '22', '23', '24', '52', '92')), 0) AS inpatient_psn_part_amt,  -- 本机构直接结算的住院个人负担总金额合计（退费冲减）
  COUNT(DISTINCT mdtrt_id) FILTER(WHERE direct_setl_flag = '1' AND NOT refd_setl_flag IN ('1') AND med_type IN ('21', '22', '23', '24', '52', '92')) AS inpatient_stays,  -- 本机构直接结算的住院人次（按就诊ID去重，中途结算计一次）
  COUNT(DISTINCT mdtrt_id) FILTER(WHERE offsite_flag = '1' AND direct_setl_flag = '1' AND NOT refd_setl_flag IN ('1')) AS offsite_direct_visits,  -- 异地参保人在本机构直接结算的就诊人次
  COUNT(DISTINCT mdtrt_id) FILTER(WHERE offsite_flag = '1' AND NOT refd_setl_flag IN ('1')) AS offsite_visits,  -- 异地参保人在本机构就医的就诊人次（直接结算 + 回参保地手工报销）
  COALESCE(SUM(CAST(medfee_sumamt AS DECIMAL(38, 12))) FILTER(WHERE direct_setl_flag = '1' AND med_type IN ('11', '13')), 0) AS outpatient_cost,  -- 本机构直接结算的普通门诊与急诊医疗费用总额（退费冲减）
  COUNT(DISTINCT mdtrt_id) FILTER(WHERE direct_setl_flag = '1' AND NOT refd_setl_flag IN ('1') AND med_type IN ('11', '13')) AS outpatient_visits,  -- 本机构直接结算的普通门诊与急诊人次（按就诊ID去重，不含门诊慢特病和挂号结算）
  COUNT(DISTINCT mdtrt_id) FILTER(WHERE direct_setl_flag = '1' AND NOT refd_setl_flag IN ('1') AND med_type IN ('21', '22', '23', '24', '52', '92') AND list_timely = '1') AS timely_listed_stays  -- 本机构直接结算的住院人次中，结算清单在结算后upload_deadline_days（data.yaml，默认30）日内上传的人次（D8.01分子，为分母inpatient_stays的子集）
FROM settlement_rows
GROUP BY fixmedins_code, year
ORDER BY fixmedins_code, year
