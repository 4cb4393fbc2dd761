-- measures over clean_fee_items: one row per provider and year
SELECT
  fixmedins_code,
  year,
  COALESCE(SUM(CAST(amt AS DECIMAL(38, 12))) FILTER(WHERE med_chrgitm IN ('09', '11')), 0) AS drug_fee,  -- 西药费（09）与中成药费（11）合计，不含中药饮片（10）
  COUNT(*) FILTER(WHERE amt >= 0) AS fee_lines,  -- 费用明细行数（不含冲销行）
  COALESCE(SUM(CAST(amt AS DECIMAL(38, 12))), 0) AS fee_total,  -- 医保结算费用明细金额合计（全部收费项目类别，冲销冲减）
  COALESCE(SUM(CAST(amt AS DECIMAL(38, 12))) FILTER(WHERE med_chrgitm = '08'), 0) AS material_fee,  -- 卫生材料费（08）合计
  COUNT(*) FILTER(WHERE amt >= 0 AND natl_code_flag = '1') AS natl_coded_lines,  -- 使用有效国家医保编码的费用明细行数（不含冲销行）
  COUNT(DISTINCT med_list_codg) FILTER(WHERE nego_flag = '1' AND amt > 0) AS nego_drug_varieties_used,  -- 本年度有使用记录的国家谈判药品品种数（按医保目录编码去重；仅用于核验D7.02填报值，不进入公式）
  COALESCE(SUM(CAST(cnt AS DECIMAL(38, 12))) FILTER(WHERE med_chrgitm IN ('09', '11') AND vbp_flag = '1'), 0) AS vbp_drug_qty,  -- 集采中选药品用量（最小计量单位，冲销冲减）
  COALESCE(SUM(CAST(cnt AS DECIMAL(38, 12))) FILTER(WHERE med_chrgitm IN ('09', '11') AND vbp_generic_flag = '1'), 0) AS vbp_generic_qty  -- 有集采中选产品的通用名药品总用量（中选与非中选，最小计量单位）
FROM clean_fee_items
GROUP BY fixmedins_code, year
ORDER BY fixmedins_code, year
