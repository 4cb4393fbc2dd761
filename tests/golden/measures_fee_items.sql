-- measures over clean_fee_items: one row per provider and year
-- planned: one pass for sums and counts, one pre-aggregation per column counted distinct
WITH plain AS (
  SELECT fixmedins_code, year,
    SUM(amt) FILTER(WHERE med_chrgitm IN ('09', '11')) AS _a1,
    COUNT(*) FILTER(WHERE amt >= 0) AS _a2,
    SUM(amt) AS _a3,
    SUM(amt) FILTER(WHERE med_chrgitm = '08') AS _a4,
    COUNT(*) FILTER(WHERE amt >= 0 AND natl_code_flag = '1') AS _a5,
    SUM(CAST(cnt AS DECIMAL(38, 12))) FILTER(WHERE med_chrgitm IN ('09', '11') AND vbp_flag = '1') AS _a6,
    SUM(CAST(cnt AS DECIMAL(38, 12))) FILTER(WHERE med_chrgitm IN ('09', '11') AND vbp_generic_flag = '1') AS _a7
  FROM clean_fee_items
  GROUP BY fixmedins_code, year
)
, distinct_med_list_codg AS (  -- 1 distinct count(s) of med_list_codg
  SELECT fixmedins_code, year,
    count(*) FILTER (WHERE _mask0 & 1 <> 0) AS _med_list_codg_1
  FROM (
    SELECT fixmedins_code, year, med_list_codg, bit_or((CASE WHEN nego_flag = '1' AND amt > 0 THEN 1 ELSE 0 END)) AS _mask0
    FROM clean_fee_items
    WHERE med_list_codg IS NOT NULL AND ((nego_flag = '1' AND amt > 0))
    GROUP BY fixmedins_code, year, med_list_codg
  )
  GROUP BY fixmedins_code, year
)
SELECT
  plain.fixmedins_code,
  plain.year,
  COALESCE(_a1, 0) AS drug_fee,  -- 西药费（09）与中成药费（11）合计，不含中药饮片（10）
  _a2 AS fee_lines,  -- 费用明细行数（不含冲销行）
  COALESCE(_a3, 0) AS fee_total,  -- 医保结算费用明细金额合计（全部收费项目类别，冲销冲减）
  COALESCE(_a4, 0) AS material_fee,  -- 卫生材料费（08）合计
  _a5 AS natl_coded_lines,  -- 使用有效国家医保编码的费用明细行数（不含冲销行）
  COALESCE(_med_list_codg_1, 0) AS nego_drug_varieties_used,  -- 本年度有使用记录的国家谈判药品品种数（按医保目录编码去重；仅用于核验D7.02填报值，不进入公式）
  COALESCE(_a6, 0) AS vbp_drug_qty,  -- 集采中选药品用量（最小计量单位，冲销冲减）
  COALESCE(_a7, 0) AS vbp_generic_qty  -- 有集采中选产品的通用名药品总用量（中选与非中选，最小计量单位）
FROM plain
LEFT JOIN distinct_med_list_codg ON distinct_med_list_codg.fixmedins_code IS NOT DISTINCT FROM plain.fixmedins_code AND distinct_med_list_codg.year IS NOT DISTINCT FROM plain.year
ORDER BY plain.fixmedins_code, plain.year
