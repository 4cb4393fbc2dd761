"""A deterministic synthetic data bundle for the three pilot provinces (`pingyi example`).

The source documents pilot the evaluation in 浙江 (east), 河南 (central) and 四川 (west), three
prefectures each [001 §5.2]. This module writes a bundle for them in exactly the table/column
contract of docs/data-bundle.md, realistic enough that every indicator has something to say:

- providers of every level (三级 / 二级 / 一级及基层) with real GB/T 2260 division codes, codes
  `H` + division + sequence, and a prepayment of about one month of pooled-fund spending (missing
  for a few, so the fallback is exercised);
- two years of settlements (prior year and evaluation year), one settlement list (4101) per
  inpatient stay, fee lines aggregated by category per encounter, smart-audit flags, reported and
  survey values for every report/survey indicator in the catalogue, expert scores for the
  qualitative ones, and a DRG reference table;
- the optional columns the measures read: direct settlement (手工/零星 reimbursements of 异地 and
  门诊慢特病 care, per provider around the D5.01/D5.05 baselines), fee-line quantities, national
  catalogue codes and their validity (D8.03), and 集采 generic-name flags whose quantities give D3.03;
- planted defects of every kind the quality stage rejects, listed in `_planted.json`.

Everything is drawn from `numpy.random.Generator(PCG64(...))` seeded from `seed`; there are no
wall-clock times and files are written in a fixed order, so the same arguments give byte-identical
files. Indicator codes, sources, units, directions and baselines are read from the project's YAML
at generation time, so the example follows the catalogue when it changes.

Scale: arrays are generated per block of providers (about 600,000 settlements each); strings are
built with Arrow compute kernels and each table is written on its own thread while the next block
is generated, so `--providers 5000 --rows 10000000` takes about two minutes and about 2 GB.
"""

from __future__ import annotations

import calendar
import datetime as dt
import io
import json
import queue
import re
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import yaml

from pingyi.errors import PingyiError

__all__ = ["ExampleSummary", "generate_example", "FORMATS", "TABLE_COLUMNS", "REASONS"]

FORMATS = ("mixed", "csv", "parquet")

# Exact column order of docs/data-bundle.md.
TABLE_COLUMNS: dict[str, list[str]] = {
    "providers": ["fixmedins_code", "fixmedins_name", "hosp_lv", "fixmedins_type", "prepayment"],
    "settlements": ["setl_id", "mdtrt_id", "psn_no", "insutype", "med_type", "setl_time", "medfee_sumamt",
                    "fulamt_ownpay_amt", "hifp_pay", "fund_pay_sumamt", "psn_part_amt", "acct_pay",
                    "psn_cash_pay", "fixmedins_code", "insuplc_admdvs", "refd_setl_flag", "age", "gend",
                    "mdtrt_cert_type", "direct_setl_flag"],
    "setl_lists": ["mdtrt_id", "setl_id", "fixmedins_code", "psn_no", "drg_code", "diag_code", "diag_code_cnt",
                   "adm_time", "dscg_time", "act_ipt_days", "dscg_way", "days_rinp_flag_31", "max_oprn_lv",
                   "oprn_cmpl_flag", "setl_time", "dcla_time", "qc_rslt", "age", "gend"],
    "fee_items": ["mdtrt_id", "setl_id", "fixmedins_code", "fee_ocur_time", "med_chrgitm", "amt",
                  "fulamt_ownpay_amt", "vbp_flag", "nego_flag", "med_list_codg", "cnt", "vbp_generic_flag",
                  "natl_code_flag"],
    "audit_flags": ["flag_id", "fixmedins_code", "setl_id", "rule_code", "rule_type", "amount", "flag_time",
                    "handled_time", "confirmed", "fraud"],
    "reported": ["fixmedins_code", "year", "indicator", "value", "numerator", "denominator", "source"],
    "expert_scores": ["fixmedins_code", "year", "indicator", "expert_id", "score"],
    "drg_groups": ["drg_code", "drg_name", "weight", "mean_cost", "mean_los"],
}
TABLE_ORDER = list(TABLE_COLUMNS)

# Formats per table ("mixed" is how users have them: committees keep providers in Excel,
# platform extracts are large Parquet files, small side tables are CSV).
MIXED_FORMATS = {"providers": "xlsx", "settlements": "parquet", "setl_lists": "parquet", "fee_items": "parquet",
                 "audit_flags": "csv", "reported": "csv", "expert_scores": "csv", "drg_groups": "csv"}

# Reason codes shared with the quality stage.
REASONS = ("missing_required", "bad_type", "bad_code", "bad_format", "negative_money", "money_precision",
           "fund_exceeds_total", "payments_do_not_add_up", "discharge_before_admission", "unknown_provider",
           "duplicate_key", "outside_window", "late_upload")

LEVELS = ("三级", "二级", "一级及基层")
CHUNK_ROWS = 600_000  # settlements generated per block of providers
# A refund (冲销) settlement could carry negative fee lines mirroring the visit it reverses, as the
# platform's 5204 detail does. docs/data-bundle.md gives fee_items.amt no sign rule and the quality
# stage rejects amt < 0, so the example leaves refunds without fee lines (the reversed visit keeps
# its lines). Switch on once the contract allows negative lines on refund settlements.
MIRROR_REFUND_FEE_LINES = False

# --------------------------------------------------------------------------- geography
# Three pilot provinces x three prefectures [001 §5.2]; GB/T 2260 codes (china.md §5).
# Each prefecture: (code4, name used in hospital names, urban districts, counties).
GEOGRAPHY: dict[str, dict] = {
    "33": {"name": "浙江", "cities": [
        ("3301", "杭州市", [("330102", "上城区"), ("330105", "拱墅区"), ("330106", "西湖区"), ("330108", "滨江区"),
                           ("330109", "萧山区"), ("330110", "余杭区")],
         [("330122", "桐庐县"), ("330127", "淳安县"), ("330182", "建德市")]),
        ("3302", "宁波市", [("330203", "海曙区"), ("330205", "江北区"), ("330206", "北仑区"), ("330212", "鄞州区")],
         [("330225", "象山县"), ("330226", "宁海县"), ("330281", "余姚市"), ("330282", "慈溪市")]),
        ("3311", "丽水市", [("331102", "莲都区")],
         [("331121", "青田县"), ("331122", "缙云县"), ("331123", "遂昌县"), ("331124", "松阳县"), ("331125", "云和县"),
          ("331126", "庆元县"), ("331127", "景宁畲族自治县"), ("331181", "龙泉市")]),
    ]},
    "41": {"name": "河南", "cities": [
        ("4101", "郑州市", [("410102", "中原区"), ("410103", "二七区"), ("410104", "管城回族区"), ("410105", "金水区"),
                           ("410108", "惠济区")],
         [("410122", "中牟县"), ("410181", "巩义市"), ("410182", "荥阳市"), ("410183", "新密市"), ("410184", "新郑市"),
          ("410185", "登封市")]),
        ("4103", "洛阳市", [("410302", "老城区"), ("410303", "西工区"), ("410305", "涧西区"), ("410311", "洛龙区")],
         [("410323", "新安县"), ("410324", "栾川县"), ("410325", "嵩县"), ("410326", "汝阳县"), ("410327", "宜阳县"),
          ("410328", "洛宁县"), ("410329", "伊川县")]),
        ("4116", "周口市", [("411602", "川汇区"), ("411603", "淮阳区")],
         [("411621", "扶沟县"), ("411622", "西华县"), ("411623", "商水县"), ("411624", "沈丘县"), ("411625", "郸城县"),
          ("411627", "太康县"), ("411628", "鹿邑县"), ("411681", "项城市")]),
    ]},
    "51": {"name": "四川", "cities": [
        ("5101", "成都市", [("510104", "锦江区"), ("510105", "青羊区"), ("510106", "金牛区"), ("510107", "武侯区"),
                           ("510108", "成华区"), ("510112", "龙泉驿区")],
         [("510121", "金堂县"), ("510129", "大邑县"), ("510131", "蒲江县"), ("510181", "都江堰市"), ("510182", "彭州市"),
          ("510183", "邛崃市")]),
        ("5107", "绵阳市", [("510703", "涪城区"), ("510704", "游仙区")],
         [("510722", "三台县"), ("510723", "盐亭县"), ("510725", "梓潼县"), ("510726", "北川羌族自治县"),
          ("510727", "平武县"), ("510781", "江油市")]),
        ("5134", "凉山州", [("513401", "西昌市")],
         [("513423", "盐源县"), ("513424", "德昌县"), ("513426", "会东县"), ("513427", "宁南县"), ("513428", "普格县"),
          ("513429", "布拖县"), ("513431", "昭觉县"), ("513432", "喜德县"), ("513433", "冕宁县"), ("513434", "越西县")]),
    ]},
}
PROVINCE_ORDER = ("33", "41", "51")
# Other prefectures of the same province (intra-province 异地) and cross-province origins (跨省异地).
OTHER_PREFECTURES = {
    "33": ["330300", "330400", "330500", "330600", "330700", "330800", "330900", "331000"],
    "41": ["410200", "410400", "410500", "410700", "411300", "411400", "411500", "411700"],
    "51": ["510300", "510500", "510600", "511000", "511100", "511300", "511500", "511700"],
}
CROSS_ORIGINS = {
    "33": ["340100", "341200", "360100", "361100", "320100", "411600", "511300", "520100"],
    "41": ["130100", "370100", "340100", "420100", "140100", "610100"],
    "51": ["500100", "530100", "520100", "610100", "620100", "540100"],
}
STREETS = ("城东", "城西", "城南", "城北", "新华", "人民", "解放", "建设", "文化", "和平", "东风", "红星", "友谊", "光明",
           "团结", "胜利", "幸福", "花园", "南湖", "北山", "西园", "东城", "中山", "青年", "朝阳", "振兴", "五一", "新村",
           "桥西", "湖滨")
TOWNS = ("城关", "白沙", "石桥", "新店", "柳林", "桃源", "双河", "龙潭", "马鞍", "青龙", "金山", "大河", "清水", "黄岭",
         "永安", "太平", "长乐", "安乐", "三合", "五里", "高坪", "古城", "新兴", "河口", "杨柳", "梅花", "松林", "竹园",
         "官庄", "白马")
CN_DIGITS = "零一二三四五六七八九"


def _cn_ordinal(n: int) -> str:
    if n < 10:
        return CN_DIGITS[n]
    if n < 20:
        return "十" + (CN_DIGITS[n % 10] if n % 10 else "")
    if n < 100:
        return CN_DIGITS[n // 10] + "十" + (CN_DIGITS[n % 10] if n % 10 else "")
    return str(n)


# --------------------------------------------------------------------------- DRG reference
# (code, name, RW, mean LOS, in-hospital mortality, operation grade profile, age mean, age sd,
#  female only, popularity). Codes and names follow CHS-DRG conventions (china.md §2);
# mortality is what makes a group low-risk when the region computes risk levels.
# Operation profile: None (medical), "1".."4" dominant grade of the main operation.
DRG_TABLE: list[tuple] = [
    ("AH11", "气管切开伴呼吸机支持≥96小时，伴严重并发症或合并症", 4.95, 24.0, 0.12, "3", 64, 15, False, 0.15),
    ("BB21", "除创伤之外的其他开颅术，伴严重并发症或合并症", 4.60, 18.5, 0.05, "4", 58, 14, False, 0.25),
    ("BM19", "脑血管介入治疗", 3.55, 9.5, 0.02, "4", 62, 12, False, 0.45),
    ("BR21", "脑缺血性疾患，伴严重并发症或合并症", 1.55, 12.5, 0.06, None, 70, 11, False, 0.9),
    ("BR23", "脑缺血性疾患，伴并发症或合并症", 1.10, 10.5, 0.015, None, 68, 11, False, 1.8),
    ("BR25", "脑缺血性疾患，不伴并发症或合并症", 0.85, 9.0, 0.01, None, 65, 11, False, 2.0),
    ("CB39", "晶状体手术", 0.62, 3.0, 0.0001, "3", 70, 9, False, 1.1),
    ("DT15", "中耳炎及上呼吸道感染，不伴并发症或合并症", 0.38, 4.0, 0.0002, None, 25, 22, False, 1.4),
    ("EB11", "胸部大手术，伴严重并发症或合并症", 4.10, 16.0, 0.025, "4", 60, 11, False, 0.25),
    ("ER11", "呼吸系统肿瘤，伴严重并发症或合并症", 1.65, 11.5, 0.06, None, 66, 10, False, 0.55),
    ("ES21", "呼吸系统感染/炎症，伴严重并发症或合并症", 1.50, 11.0, 0.05, None, 72, 14, False, 0.8),
    ("ES23", "呼吸系统感染/炎症，伴并发症或合并症", 0.98, 8.5, 0.012, None, 60, 22, False, 1.9),
    ("ES25", "呼吸系统感染/炎症，不伴并发症或合并症", 0.72, 7.0, 0.001, None, 40, 26, False, 2.4),
    ("ET23", "慢性气道阻塞病，伴并发症或合并症", 0.92, 9.0, 0.02, None, 72, 9, False, 1.4),
    ("FM19", "经皮冠状动脉支架植入", 3.20, 7.5, 0.025, "4", 63, 10, False, 0.6),
    ("FR23", "心绞痛，伴并发症或合并症", 0.78, 7.0, 0.001, None, 66, 10, False, 1.5),
    ("FT23", "心力衰竭、休克，伴并发症或合并症", 1.20, 9.5, 0.04, None, 74, 10, False, 0.9),
    ("FU25", "心律失常及传导障碍，不伴并发症或合并症", 0.62, 5.5, 0.001, None, 64, 13, False, 0.9),
    ("GB21", "食管、胃、十二指肠大手术，伴严重并发症或合并症", 4.30, 19.0, 0.02, "4", 62, 10, False, 0.25),
    ("GC15", "阑尾切除术，不伴并发症或合并症", 0.88, 5.0, 0.0001, "2", 35, 15, False, 1.1),
    ("GE15", "腹股沟及腹疝手术，不伴并发症或合并症", 0.75, 4.5, 0.0001, "2", 58, 15, False, 0.9),
    ("GK25", "胃镜治疗操作，不伴并发症或合并症", 0.58, 4.0, 0.0002, "2", 55, 13, False, 1.2),
    ("GZ15", "其他消化系统诊断，不伴并发症或合并症", 0.48, 5.0, 0.001, None, 50, 18, False, 1.7),
    ("HC35", "腹腔镜胆囊切除术，不伴并发症或合并症", 1.15, 5.5, 0.0002, "3", 52, 13, False, 1.0),
    ("HS23", "肝功能衰竭，伴并发症或合并症", 1.40, 13.0, 0.07, None, 56, 12, False, 0.3),
    ("IB39", "与脊柱有关的其他手术", 3.85, 12.0, 0.001, "4", 58, 11, False, 0.45),
    ("IC29", "髋、肩、膝、肘和踝关节置换术", 3.60, 12.5, 0.001, "4", 68, 9, False, 0.55),
    ("IR25", "前臂、腕、手或足损伤，不伴并发症或合并症", 0.70, 6.0, 0.0001, "2", 45, 18, False, 0.9),
    ("IU25", "骨病及其他关节病，不伴并发症或合并症", 0.55, 7.0, 0.0002, None, 60, 12, False, 1.2),
    ("JA29", "乳房恶性肿瘤根治切除术", 1.95, 11.0, 0.001, "3", 52, 10, True, 0.45),
    ("KD19", "甲状腺大手术", 1.20, 6.0, 0.0002, "3", 46, 12, False, 0.55),
    ("KS13", "糖尿病，伴并发症或合并症", 0.82, 8.5, 0.001, None, 64, 11, False, 1.3),
    ("KS15", "糖尿病，不伴并发症或合并症", 0.60, 7.0, 0.001, None, 58, 12, False, 1.1),
    ("LA19", "肾、输尿管及膀胱恶性肿瘤的大手术", 3.10, 14.0, 0.001, "4", 64, 10, False, 0.25),
    ("LU15", "泌尿系结石及尿路梗阻，不伴并发症或合并症", 0.52, 4.5, 0.0001, None, 48, 13, False, 1.1),
    ("NA19", "女性生殖器官恶性肿瘤的广泛切除术", 2.65, 13.0, 0.001, "4", 52, 10, True, 0.25),
    ("OB29", "剖宫产术", 0.76, 5.0, 0.00005, "2", 30, 5, True, 1.1),
    ("OC15", "阴道分娩，不伴并发症或合并症", 0.45, 3.0, 0.00002, None, 28, 5, True, 1.3),
    ("RE13", "恶性增生性疾患的化学治疗，伴并发症或合并症", 0.95, 6.0, 0.001, None, 58, 11, False, 0.9),
    ("RE15", "恶性增生性疾患的化学治疗，不伴并发症或合并症", 0.68, 4.0, 0.001, None, 56, 11, False, 1.3),
    ("XR15", "康复治疗，不伴并发症或合并症", 0.95, 18.0, 0.001, None, 66, 12, False, 0.45),
]
DRG_DIAG = {  # main diagnoses, 医保版 ICD-10 style
    "AH11": ["J96.000", "I61.900"], "BB21": ["D32.000", "I61.000"], "BM19": ["I67.100", "I63.500"],
    "BR21": ["I63.900", "I63.400"], "BR23": ["I63.900", "I63.500"], "BR25": ["I63.900", "I63.800"],
    "CB39": ["H25.900", "H26.900"], "DT15": ["J06.900", "H66.900"], "EB11": ["C34.100", "C34.300"],
    "ER11": ["C34.900", "C34.100"], "ES21": ["J18.900", "J15.900"], "ES23": ["J18.900", "J18.000"],
    "ES25": ["J18.000", "J20.900"], "ET23": ["J44.100", "J44.000"], "FM19": ["I21.900", "I20.000"],
    "FR23": ["I20.900", "I25.100"], "FT23": ["I50.900", "I11.000"], "FU25": ["I49.900", "I47.100"],
    "GB21": ["C16.900", "C15.900"], "GC15": ["K35.800", "K35.300"], "GE15": ["K40.900", "K40.200"],
    "GK25": ["K63.500", "K31.700"], "GZ15": ["K59.000", "R10.400"], "HC35": ["K80.100", "K80.200"],
    "HS23": ["K72.900", "K72.000"], "IB39": ["M48.000", "M51.200"], "IC29": ["M16.900", "M17.900"],
    "IR25": ["S62.300", "S52.500"], "IU25": ["M47.800", "M54.500"], "JA29": ["C50.900", "C50.400"],
    "KD19": ["E04.100", "E04.200"], "KS13": ["E11.200", "E11.400"], "KS15": ["E11.900", "E14.900"],
    "LA19": ["C67.900", "C67.200"], "LU15": ["N20.000", "N20.100"], "NA19": ["C53.900", "C54.100"],
    "OB29": ["O34.200", "O32.100"], "OC15": ["O80.000", "O80.100"], "RE13": ["Z51.100", "Z51.800"],
    "RE15": ["Z51.100", "Z51.100"], "XR15": ["Z50.800", "Z50.100"],
}
DRG_BASE_COST = 11_000.0  # regional mean cost of all cases, yuan (RW = mean cost / this)
LOW_RISK_MORTALITY = 0.001  # groups at or below this in-hospital mortality are the low-risk ones

# Fee lines of an inpatient stay, one per category (china.md §4.3): (med_chrgitm, vbp_flag, nego_flag,
# vbp_generic_flag, unit price in yuan per minimum unit, code type). Unit price "day": one unit per day
# of stay; "op": one unit per operation; "vbp": the stay's own price of a winning product (x the price
# ratio for a non-winning one), set so that quantities carry the provider's 集采 use (D3.03).
# Western drugs (09) come as four lines: 集采 winning products, non-winning products of the same
# generic names (原研药, other makers), other western drugs, and 国家谈判 drugs.
IP_FEE_COLUMNS = [("01", None, None, None, "day", 1), ("02", None, None, None, "day", 2),
                  ("03", None, None, None, 120.0, 3), ("04", None, None, None, 18.0, 4),
                  ("05", None, None, None, 45.0, 5), ("06", None, None, None, "op", 6),
                  ("07", None, None, None, "day", 7), ("08", None, None, None, 90.0, 8),
                  ("09", "1", "0", "1", "vbp", 16), ("09", "0", "0", "1", "vbp", 17), ("09", "0", "0", "0", 9.0, 9),
                  ("09", "0", "1", "0", 180.0, 15), ("10", "0", "0", "0", 0.3, 10), ("11", "0", "0", "0", 3.5, 11),
                  ("14", None, None, None, 25.0, 14)]
IP_WIN, IP_GENERIC, IP_WEST, IP_NEGO = 8, 9, 10, 11  # the western-drug lines above

# --------------------------------------------------------------------------- catalogue codes (med_list_codg)
# Each fee line is a category total per encounter; its med_list_codg is the code of the line's main
# item. Formats follow the national 医保信息业务编码 (china.md §4.5): western drugs X + 22 characters
# (class, name, dosage form, specification, 6-digit maker), patent Chinese medicines Z + 19, decoction
# pieces T + 9 digits, consumables C + 19 digits, services a 9-digit 全国医疗服务价格项目规范 code. A line
# without a valid national code carries a hospital-internal code (YN…) and natl_code_flag 0.
# Code types: 1-8, 12-14 the service/consumable category, 9 other western drugs, 10 decoction pieces,
# 11 patent Chinese medicines, 15 negotiated drugs, 16 集采 winning products, 17 non-winning products
# of the same generic names.
VBP_GENERICS = [("C10AA", "A005"), ("C08CA", "A001"), ("A10BA", "A002"), ("J05AF", "A010"), ("B01AC", "A004"),
                ("C09CA", "A003"), ("A02BC", "A001"), ("J01DC", "A002"), ("C10AA", "A007"), ("R03DC", "A003"),
                ("J01MA", "A012"), ("C07AB", "A002"), ("A10BH", "A001"), ("N05AH", "A004"), ("C09CA", "A006"),
                ("M01AE", "A001")]
OTHER_WEST = [("J01CR", "A002"), ("A02BC", "A005"), ("N02BE", "A001"), ("C01DA", "A002"), ("B05BB", "A001"),
              ("H02AB", "A004"), ("R05CB", "A006"), ("A03FA", "A003"), ("J01FA", "A010"), ("C03CA", "A001"),
              ("B05XA", "A003"), ("N05BA", "A012")]
NEGO_WEST = ([("L01XC", f"B{i:03d}") for i in range(1, 16)] + [("L01XE", f"B{i:03d}") for i in range(20, 32)]
             + [("A10BJ", f"B{i:03d}") for i in range(40, 46)] + [("B01AF", f"B{i:03d}") for i in range(50, 54)])
ZCY = [("A04CA", "A011"), ("A06AA", "A030"), ("A12BA", "A104"), ("A03AD", "A052"), ("A10BA", "A017"),
       ("A14AA", "A008"), ("A17AA", "A021"), ("A09DA", "A045")]
SERVICES = {1: ("110900001", "110900002", "110900003"), 2: ("110200001", "110200002", "110200005"),
            3: ("210102015", "220100001", "220301001", "310300001"),
            4: ("250101001", "250102001", "250301001", "250305001", "250401001"),
            5: ("120400001", "120400006", "310800001", "340200001"),
            6: ("330100001", "330702001", "331001001", "331303001"), 7: ("120100001", "120100002", "120100003"),
            12: ("110200008",), 13: ("110100001",), 14: ("111000001", "120800001")}
NATL_CODE_RE = r"^(X[0-9A-Z]{22}|Z[0-9A-Z]{19}|T[0-9]{9}|C[0-9]{19}|[0-9]{9})$"  # the formats above
# How likely a line is to lack a national code, by category (consumables and decoction pieces were
# the hardest to map); lines of 集采 generic names always carry one (their flags derive from it).
CODE_GAP_WEIGHT = np.array([0, 1.0, 0.5, 1.5, 1.5, 1.5, 1.5, 1.0, 4.0, 0.5, 2.0, 0.5, 1.0, 0.5, 1.5])


def _maker(i: int) -> str:
    return f"{(104473 + 7919 * i) % 900000 + 100000:06d}"


def _build_codes() -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """LUT of all codes, a (type, k) table of LUT indices with the count per type, and a
    (category, k) table of hospital-internal codes (4 per category)."""
    by_type: dict[int, list[str]] = {t: [] for t in range(18)}
    for t, codes in SERVICES.items():
        by_type[t] = list(codes)
    by_type[8] = [f"C{a:02d}{b:02d}{c:02d}{d:03d}{e:03d}{f:03d}{g:04d}" for a, b, c, d, e, f, g in
                  [(2, 3, 1, 12, 1, 4, 1021), (3, 1, 2, 5, 2, 1, 2210), (6, 2, 1, 31, 3, 2, 3307),
                   (9, 1, 4, 7, 1, 3, 1183), (13, 2, 2, 15, 4, 1, 4402), (14, 3, 1, 2, 2, 5, 5519),
                   (2, 1, 3, 40, 1, 2, 6630), (11, 4, 1, 9, 3, 1, 7745)]]
    for i, (cls, name) in enumerate(VBP_GENERICS):
        by_type[16].append(f"X{cls}{name}A001{1 + i % 3:03d}{_maker(i)}")
        for j in (1, 2):  # the originator and another maker
            by_type[17].append(f"X{cls}{name}A001{1 + i % 3:03d}{_maker(100 + 10 * i + j)}")
    by_type[9] = [f"X{cls}{name}{'B002' if i % 3 == 0 else 'A001'}{1 + i % 4:03d}{_maker(300 + i)}"
                  for i, (cls, name) in enumerate(OTHER_WEST)]
    by_type[15] = [f"X{cls}{name}B002{1 + i % 2:03d}{_maker(500 + i)}" for i, (cls, name) in enumerate(NEGO_WEST)]
    by_type[11] = [f"Z{cls}{name}A{1 + i % 5:03d}{_maker(700 + i)}" for i, (cls, name) in enumerate(ZCY)]
    by_type[10] = [f"T{2000001 + 1013 * i:09d}" for i in range(8)]
    lut: list[str] = []
    width = max(len(v) for v in by_type.values())
    table = np.zeros((18, width), dtype=np.int32)
    count = np.zeros(18, dtype=np.int64)
    for t, codes in by_type.items():
        count[t] = len(codes)
        for k, code in enumerate(codes):
            table[t, k] = len(lut)
            lut.append(code)
    local = np.zeros((15, 4), dtype=np.int32)
    for cat in range(1, 15):
        for k in range(4):
            local[cat, k] = len(lut)
            lut.append(f"YN{cat:02d}{101 + 17 * k + cat:05d}")
    return lut, table, count, local


CODE_LUT, CODE_TABLE, CODE_COUNT, LOCAL_CODES = _build_codes()

# Smart-audit rules: (rule_code, rule_type, inpatient only, weight).
AUDIT_RULES = [("ZN0101", "分解住院", True, 1.0), ("ZN0201", "超标准收费", False, 2.0), ("ZN0301", "重复收费", False, 2.0),
               ("ZN0401", "串换项目", False, 1.2), ("ZN0501", "过度诊疗", True, 1.5), ("ZN0601", "超限定支付范围", False, 1.5),
               ("ZN0701", "挂床住院", True, 0.3)]
FRAUD_RULE = ("ZN0801", "虚构医疗服务")


# --------------------------------------------------------------------------- summary


@dataclass
class ExampleSummary:
    out_dir: Path
    providers: int
    rows: int  # settlement rows written, planted rows included
    seed: int
    year: int
    format: str
    files: dict[str, int] = field(default_factory=dict)  # file name -> bytes
    table_rows: dict[str, int] = field(default_factory=dict)
    severe_casemix_provider: str = ""  # 三级, heavy DRG mix this year, cheap within each DRG
    fraud_provider: str = ""  # confirmed fraud case in audit_flags
    good_providers: list[str] = field(default_factory=list)
    poor_providers: list[str] = field(default_factory=list)
    planted: int = 0

    @property
    def total_bytes(self) -> int:
        return sum(self.files.values())

    def as_dict(self) -> dict:
        return {"providers": self.providers, "rows": self.rows, "seed": self.seed, "year": self.year,
                "format": self.format, "table_rows": self.table_rows,
                "special_providers": {"severe_casemix_efficient": self.severe_casemix_provider,
                                      "fraud": self.fraud_provider},
                "good_providers": self.good_providers, "poor_providers": self.poor_providers,
                "planted": self.planted}


# --------------------------------------------------------------------------- catalogue


@dataclass
class _Catalogue:
    indicators: list[dict]
    baselines: dict[str, dict]
    region_of: dict[str, str]  # province code -> region code of the baselines' scheme
    data: dict


def _read_catalogue(project_dir: Path, year: int) -> _Catalogue:
    """Read indicator codes/sources/units/baselines straight from the project's YAML.

    Deliberately tolerant (plain YAML, no validation): the example must be writable while a
    committee's catalogue is still being edited; `pingyi validate` is the place for errors."""
    ind_dir = project_dir / "indicators"
    if not ind_dir.is_dir():
        raise PingyiError(f"{project_dir}: no indicators/ directory; expected a pingyi project (see `pingyi init`)")
    indicators: list[dict] = []
    for path in sorted(ind_dir.glob("*.yaml")):
        if path.name == "hierarchy.yaml":
            continue
        doc = _yaml(path)
        for ind in (doc or {}).get("indicators") or []:
            if not isinstance(ind, dict) or "code" not in ind:
                continue
            scoring = ind.get("scoring") or {}
            indicators.append({
                "code": str(ind["code"]), "source": str(ind.get("source", "")), "unit": str(ind.get("unit", "")),
                "direction": str(ind.get("direction", "up")), "rule": str(scoring.get("rule", "threshold")),
                "improvement": bool(scoring.get("improvement", True)), "low": scoring.get("low"),
                "high": scoring.get("high"), "qualitative": bool(ind.get("qualitative", False)),
                "volume_min": (ind.get("volume") or {}).get("minimum"),
            })
    indicators.sort(key=lambda d: d["code"])

    baselines: dict[str, dict] = {}
    scheme = None
    bdir = project_dir / "baselines"
    chosen = None
    if bdir.is_dir():
        docs = []
        for path in sorted(bdir.glob("*.yaml")):
            if path.name == "regions.yaml":
                continue
            doc = _yaml(path)
            if isinstance(doc, dict):
                docs.append(doc)
        exact = [d for d in docs if d.get("year") == year]
        earlier = sorted((d for d in docs if isinstance(d.get("year"), int) and d["year"] <= year),
                         key=lambda d: d["year"])
        chosen = exact[0] if exact else (earlier[-1] if earlier else (docs[-1] if docs else None))
    if chosen is not None:
        baselines = chosen.get("baselines") or {}
        scheme = chosen.get("region_scheme")

    region_of = {"33": "east", "41": "central", "51": "west"}
    regions_path = bdir / "regions.yaml"
    if regions_path.is_file():
        doc = _yaml(regions_path) or {}
        scheme = scheme or doc.get("default_scheme")
        for prov in doc.get("provinces") or []:
            code = str(prov.get("code"))
            if code in region_of and scheme in (prov.get("regions") or {}):
                region_of[code] = str(prov["regions"][scheme])

    data = {}
    data_path = project_dir / "data.yaml"
    if data_path.is_file():
        data = _yaml(data_path) or {}
    return _Catalogue(indicators, baselines, region_of, data)


def _yaml(path: Path):
    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - a safe loader
    except (OSError, yaml.YAMLError) as exc:
        raise PingyiError(f"{path}: cannot read YAML ({exc}); run `pingyi validate`") from None


def _baseline(cat: _Catalogue, code: str, region: str, level: str, kind: str = "values") -> float | None:
    entry = cat.baselines.get(code)
    if not isinstance(entry, dict):
        return None
    values = entry.get(kind)
    if values is None:
        return None
    if isinstance(values, (int, float)):
        return float(values)
    if not isinstance(values, dict):
        return None
    sub = values.get(region)
    if isinstance(sub, (int, float)):
        return float(sub)
    if isinstance(sub, dict) and isinstance(sub.get(level), (int, float)):
        return float(sub[level])
    return None


# --------------------------------------------------------------------------- providers


@dataclass
class _Providers:
    code: list[str]
    name: list[str]
    level: np.ndarray  # 0 三级, 1 二级, 2 基层
    ftype: list[str]
    prov: np.ndarray  # index into PROVINCE_ORDER
    city: np.ndarray  # index 0..2 within province
    profile: list[str]  # DRG profile: general, tcm, maternity, ortho, primary
    q: np.ndarray  # latent quality, + good
    special_a: int
    special_b: int
    good: list[int]
    poor: list[int]
    no_prepay: list[int]

    @property
    def n(self) -> int:
        return len(self.code)


def _make_providers(rng: np.random.Generator, n: int) -> _Providers:
    n3 = max(3, round(0.26 * n))
    n2 = max(3, round(0.32 * n))
    n1 = n - n3 - n2
    if n1 < 3:
        raise PingyiError(f"--providers {n}: too few; expected at least 9 (every level in all three provinces)")
    records: list[dict] = []
    used_names: set[str] = set()
    seq_by_div: dict[str, int] = {}
    city_cycle = (0, 1, 0, 2, 0, 1, 2, 0, 1, 2)  # capital gets the larger share of tertiary hospitals
    counters = {(p, lv): 0 for p in PROVINCE_ORDER for lv in range(3)}

    def unique(name: str) -> str:
        alt, k = name, 1
        while alt in used_names:
            k += 1
            alt = f"{name}（{_cn_ordinal(k)}分院）"
        used_names.add(alt)
        return alt

    def code_for(div: str) -> str:
        seq = seq_by_div.get(div, 0) + int(rng.integers(1, 9))
        seq_by_div[div] = seq
        return f"H{div}{seq:05d}"

    level_counts = (n3, n2, n1)
    for lv, count in enumerate(level_counts):
        for i in range(count):
            pcode = PROVINCE_ORDER[i % 3]
            k = counters[(pcode, lv)]
            counters[(pcode, lv)] += 1
            geo = GEOGRAPHY[pcode]
            pname = geo["name"]
            if lv == 0:
                ci = city_cycle[k % len(city_cycle)]
                ccode, cname, districts, counties = geo["cities"][ci]
                rank = sum(1 for r in records if r["level"] == 0 and r["prov"] == pcode and r["city"] == ci)
                div = districts[rank % len(districts)][0]
                templates = ([(f"{cname}第一人民医院", "综合医院", "general"), (f"{cname}中医院", "中医医院", "tcm"),
                              (f"{cname}中心医院", "综合医院", "general"), (f"{cname}妇幼保健院", "专科医院", "maternity"),
                              (f"{cname}第二人民医院", "综合医院", "general"), (f"{cname}第三人民医院", "综合医院", "general")]
                             if ci == 0 else
                             [(f"{cname}中心医院", "综合医院", "general"), (f"{cname}中医院", "中医医院", "tcm"),
                              (f"{cname}人民医院", "综合医院", "general"), (f"{cname}妇幼保健院", "专科医院", "maternity"),
                              (f"{cname}第二人民医院", "综合医院", "general")])
                if rank < len(templates):
                    name, ftype, profile = templates[rank]
                else:
                    name, ftype, profile = f"{cname}第{_cn_ordinal(rank - len(templates) + 4)}人民医院", "综合医院", "general"
            elif lv == 1:
                ci = k % 3
                ccode, cname, districts, counties = geo["cities"][ci]
                rank = sum(1 for r in records if r["level"] == 1 and r["prov"] == pcode and r["city"] == ci)
                places = counties + [(d, f"{cname}{dn}") for d, dn in districts]
                kinds = [("人民医院", "综合医院", "general"), ("中医医院", "中医医院", "tcm"),
                         ("妇幼保健院", "专科医院", "maternity"), ("第二人民医院", "综合医院", "general")]
                div, place = places[rank % len(places)]
                suffix, ftype, profile = kinds[k % len(kinds)]
                name = f"{place}{suffix}"  # unique() numbers a repeat as a branch (分院)
            else:
                ci = k % 3
                ccode, cname, districts, counties = geo["cities"][ci]
                rank = sum(1 for r in records if r["level"] == 2 and r["prov"] == pcode and r["city"] == ci)
                urban = (rank % 2 == 0) if ci != 2 else (rank % 3 == 0)
                if urban:
                    div, dname = districts[int(rng.integers(len(districts)))]
                    street = STREETS[int(rng.integers(len(STREETS)))]
                    name, ftype = f"{dname}{street}街道社区卫生服务中心", "社区卫生服务中心"
                else:
                    div, cname2 = counties[int(rng.integers(len(counties)))]
                    town = TOWNS[int(rng.integers(len(TOWNS)))]
                    name, ftype = f"{cname2}{town}镇卫生院", "乡镇卫生院"
                profile = "primary"
            records.append({"level": lv, "prov": pcode, "city": ci, "div": div, "name": unique(name),
                            "ftype": ftype, "profile": profile})

    # special (b): a private orthopaedic 二级 hospital in 四川 (the fraud case)
    b_idx = next(i for i, r in enumerate(records) if r["level"] == 1 and r["prov"] == "51")
    rb = records[b_idx]
    counties = GEOGRAPHY["51"]["cities"][rb["city"]][3]
    used_names.discard(rb["name"])
    rb.update(div=counties[0][0], name=unique(f"{counties[0][1]}仁济骨科医院"), ftype="专科医院", profile="ortho")
    # special (a): the first general tertiary hospital in 河南's capital (severe case mix, efficient care)
    a_idx = next(i for i, r in enumerate(records)
                 if r["level"] == 0 and r["prov"] == "41" and r["profile"] == "general")

    for r in records:
        r["code"] = code_for(r["div"])
    order = sorted(range(len(records)), key=lambda i: records[i]["code"])
    records = [records[i] for i in order]
    a_idx, b_idx = order.index(a_idx), order.index(b_idx)

    level = np.array([r["level"] for r in records])
    q = rng.normal(0.0, 0.5, len(records))
    good: list[int] = []
    poor: list[int] = []
    for lv in range(3):
        members = [i for i in range(len(records)) if level[i] == lv and i not in (a_idx, b_idx)]
        members = [members[j] for j in rng.permutation(len(members))]
        k = max(1, round(len(members) / 6))
        good += members[:k]
        poor += members[k:2 * k]
    q[good] = rng.uniform(1.6, 2.0, len(good))
    q[poor] = rng.uniform(-2.0, -1.6, len(poor))
    q[a_idx] = 1.0
    q[b_idx] = 0.6
    others = [i for i in range(len(records)) if i not in (a_idx, b_idx)]
    k = max(2, round(0.08 * len(records)))
    no_prepay = sorted(others[j] for j in rng.permutation(len(others))[:k])

    return _Providers(
        code=[r["code"] for r in records], name=[r["name"] for r in records], level=level,
        ftype=[r["ftype"] for r in records], prov=np.array([PROVINCE_ORDER.index(r["prov"]) for r in records]),
        city=np.array([r["city"] for r in records]), profile=[r["profile"] for r in records], q=q,
        special_a=a_idx, special_b=b_idx, good=sorted(good), poor=sorted(poor), no_prepay=no_prepay)


@dataclass
class _Params:
    """Per-provider behaviour, all numpy arrays indexed by provider."""

    vol: np.ndarray
    vol_growth: np.ndarray
    ip_share: np.ndarray
    g_ip: np.ndarray
    g_op: np.ndarray
    cost: np.ndarray  # within-DRG cost factor (region x level x provider)
    op_cost: np.ndarray
    los: np.ndarray
    drug_ip: np.ndarray
    drug_op: np.ndarray
    material: np.ndarray
    ownpay_ip: np.ndarray
    ownpay_op: np.ndarray
    late: np.ndarray
    qc_fail: np.ndarray
    ungroup: np.ndarray
    ecert: np.ndarray
    cross: np.ndarray
    intra: np.ndarray
    readmit: np.ndarray
    death: np.ndarray
    lowrisk_death: np.ndarray
    cmpl: np.ndarray
    vbp: np.ndarray
    nego: np.ndarray
    audit: np.ndarray
    split_flag: np.ndarray
    transfer_down: np.ndarray
    settle_delay: np.ndarray
    drg_p: np.ndarray  # (providers, 2 years, groups) probabilities


def _make_params(rng: np.random.Generator, pv: _Providers) -> _Params:
    n = pv.n
    lv = pv.level
    pr = pv.prov
    q = pv.q

    def ln(sd):
        return np.exp(rng.normal(0.0, sd, n))

    vol = np.array([10.0, 3.2, 1.0])[lv] * np.clip(ln(0.35), 0.7, 1.6)
    vol[pv.special_a] *= 1.4
    vol_growth = 0.025 + rng.normal(0, 0.015, n) - 0.008 * q
    ip_share = np.array([0.13, 0.11, 0.035])[lv] * ln(0.15)
    ip_share[[i for i in range(n) if pv.ftype[i] == "社区卫生服务中心"]] = 0.0  # most community centres have no beds
    ip_share[[i for i in range(n) if pv.profile[i] == "ortho"]] = 0.24
    ip_share[pv.special_a] = 0.20
    g_ip = np.clip(0.03 + rng.normal(0, 0.01, n) - 0.035 * q, -0.02, 0.16)
    g_ip[pv.special_a] = 0.02
    g_op = np.clip(0.03 + rng.normal(0, 0.01, n) - 0.03 * q, -0.02, 0.15)
    # within-DRG cost relative to the regional table: east dearer; ~0.95 for a typical provider
    region_ip = np.array([1.04, 0.98, 0.96])[pr]
    region_op = np.array([1.25, 0.92, 0.88])[pr]
    level_ip = np.array([1.0, 0.97, 0.94])[lv]
    cost = 0.97 * region_ip * level_ip * ln(0.04) * np.exp(-0.05 * q)
    cost[pv.special_a] = region_ip[pv.special_a] * 0.86
    op_cost = region_op * np.array([320.0, 190.0, 85.0])[lv] * ln(0.1) * np.exp(-0.05 * q)
    los = 0.96 * np.array([0.96, 1.02, 1.01])[pr] * np.array([1.0, 1.0, 1.04])[lv] * ln(0.04) * np.exp(-0.05 * q)
    los[pv.special_a] = 0.86
    drug_ip = np.array([0.26, 0.30, 0.38])[lv] * np.exp(-0.12 * q) * ln(0.05)
    drug_op = np.clip(np.array([0.32, 0.38, 0.45])[lv] * np.exp(-0.1 * q) * ln(0.05), 0.1, 0.9)
    material = np.exp(-0.1 * q) * ln(0.08)
    ownpay_ip = np.array([0.05, 0.033, 0.016])[lv] * np.exp(-0.25 * q) * ln(0.1)
    ownpay_op = np.array([0.05, 0.04, 0.025])[lv] * np.exp(-0.2 * q) * ln(0.1)
    late = np.clip(0.02 * np.exp(-1.0 * q) * ln(0.2), 0.0, 0.3)
    qc_fail = np.clip(0.025 * np.exp(-0.8 * q) * ln(0.2), 0.001, 0.3)
    ungroup = np.clip(0.015 * np.exp(-0.8 * q) * ln(0.2), 0.0005, 0.2)
    ecert = np.clip(np.array([0.62, 0.46, 0.40])[pr] + np.array([0.06, 0.0, -0.10])[lv] + 0.05 * q
                    + rng.normal(0, 0.03, n), 0.05, 0.95)
    cross = np.array([[0.08, 0.03, 0.01], [0.025, 0.01, 0.003], [0.035, 0.012, 0.004]])[pr, lv] * ln(0.2)
    intra = np.array([0.12, 0.04, 0.015])[lv] * np.where(pv.city == 0, 1.5, 1.0) * ln(0.2)
    readmit = 0.025 * np.exp(-0.6 * q) * ln(0.15)
    death = np.exp(-0.45 * q) * ln(0.1)
    # deaths in low-risk groups: the signal of D2.02. Real rates (~0.03 %) would be invisible in a
    # downscaled sample, so poor providers get a stylised ~1 %, the others almost none.
    lowrisk_death = np.where(q < -1.0, 0.01, 0.00003 * np.exp(-q))
    cmpl = 0.005 * np.exp(-0.6 * q) * ln(0.15)
    # 集采 adherence on a 0.78-centred scale; _make_rates maps it onto the catalogue's D3.03 baseline
    vbp = np.clip(0.78 + 0.06 * q + np.array([0.0, 0.02, 0.04])[lv] + rng.normal(0, 0.02, n), 0.3, 0.97)
    nego = np.array([0.14, 0.06, 0.01])[lv] * ln(0.2)
    audit = 0.0025 * np.exp(-0.9 * q) * ln(0.2)
    split_flag = np.clip(0.08 * np.exp(-0.8 * q), 0.0, 0.6)  # share of unplanned readmissions flagged 分解住院
    transfer_down = np.array([0.045, 0.022, 0.002])[lv] * np.exp(0.35 * q) * ln(0.15)
    settle_delay = np.clip(0.1 * np.exp(-0.8 * q) * ln(0.2), 0.01, 0.6)  # share settled days after discharge

    # DRG mix: popularity x level tilt by weight x profile
    rw = np.array([g[2] for g in DRG_TABLE])
    pop = np.array([g[9] for g in DRG_TABLE])
    codes = [g[0] for g in DRG_TABLE]
    heavy_op = np.array([g[5] in ("3", "4") for g in DRG_TABLE])
    medical = np.array([g[5] is None for g in DRG_TABLE])
    beta = np.array([0.35, -0.3, -0.8])
    drg_p = np.zeros((n, 2, len(DRG_TABLE)))
    for i in range(n):
        mult = np.ones(len(DRG_TABLE))
        prof = pv.profile[i]
        if prof == "tcm":
            mult *= np.where(medical, 1.3, 0.6)
            mult[[codes.index(c) for c in ("XR15", "IU25", "ET23")]] *= 2.5
        elif prof == "maternity":
            mult *= 0.03
            for c, m in (("OB29", 250), ("OC15", 250), ("NA19", 60), ("JA29", 40), ("DT15", 60), ("ES25", 30)):
                mult[codes.index(c)] = 0.03 * m
        elif prof == "ortho":
            mult *= 0.02
            for c, m in (("IC29", 60), ("IB39", 40), ("IR25", 80), ("IU25", 60), ("XR15", 40)):
                mult[codes.index(c)] = 0.02 * m
        elif prof == "primary":
            allowed = medical & (rw <= 1.2)
            mult *= np.where(allowed, 1.0, 0.0)
            mult[codes.index("OC15")] = 0.3
        if lv[i] == 1:
            mult *= np.where(rw > 4.0, 0.1, 1.0) * np.where(heavy_op, 0.7, 1.0)
        mult *= np.exp(rng.normal(0, 0.15, len(rw)))  # the provider's own mix, the same in both years
        for y in range(2):
            b = beta[lv[i]]
            if i == pv.special_a:
                b = 0.7 if y == 0 else 1.1
            p = pop * mult * np.exp(b * np.log(rw))
            drg_p[i, y] = p / p.sum()

    return _Params(vol=vol, vol_growth=vol_growth, ip_share=ip_share, g_ip=g_ip, g_op=g_op, cost=cost, op_cost=op_cost,
                   los=los, drug_ip=drug_ip, drug_op=drug_op, material=material, ownpay_ip=ownpay_ip,
                   ownpay_op=ownpay_op, late=late, qc_fail=qc_fail, ungroup=ungroup, ecert=ecert, cross=cross,
                   intra=intra, readmit=readmit, death=death, lowrisk_death=lowrisk_death, cmpl=cmpl, vbp=vbp,
                   nego=nego, audit=audit, split_flag=split_flag, transfer_down=transfer_down,
                   settle_delay=settle_delay, drg_p=drg_p)


# --------------------------------------------------------------------------- persons
# Persons live in pools per insured-area code (insuplc_admdvs): employees first, then residents.
# Age is monotone in the position inside each segment, so a target age maps to a position;
# odd positions are women. psn_no = admdvs (6 digits) + 10-digit position.

EMP_AGE = (np.array([0.0, 0.15, 0.45, 0.75, 0.93, 1.0]), np.array([18.0, 30, 45, 60, 75, 95]))
RES_AGE = (np.array([0.0, 0.10, 0.22, 0.45, 0.67, 0.89, 1.0]), np.array([0.0, 6, 18, 45, 60, 75, 100]))


@dataclass
class _Pools:
    admdvs: np.ndarray  # int64 codes
    emp: np.ndarray  # employee segment size (even)
    res: np.ndarray  # resident segment size (even)
    index: dict[int, int]


def _make_pools(rows: int, pv: _Providers, params: _Params) -> _Pools:
    """Pool sizes are large against the sample (insured populations are): two stays of one
    person at one provider within 31 days should be a planted readmission, not a chance draw."""
    share = params.vol / params.vol.sum()
    codes: list[int] = []
    sizes: list[int] = []
    for p_i, pcode in enumerate(PROVINCE_ORDER):
        prov_rows = rows * share[pv.prov == p_i].sum()
        for c_i, city in enumerate(GEOGRAPHY[pcode]["cities"]):
            city_rows = rows * share[(pv.prov == p_i) & (pv.city == c_i)].sum()
            codes.append(int(city[0] + "00"))
            sizes.append(max(200_000, int(city_rows * 20)))
        codes.append(int(pcode + "9900"))
        sizes.append(max(50_000, int(prov_rows)))
        for other in OTHER_PREFECTURES[pcode]:
            codes.append(int(other))
            sizes.append(max(100_000, int(prov_rows * 2)))
    for pcode in PROVINCE_ORDER:
        for origin in CROSS_ORIGINS[pcode]:
            if int(origin) not in codes:
                codes.append(int(origin))
                sizes.append(max(100_000, int(rows)))
    sizes_a = np.array(sizes, dtype=np.int64)
    emp = (sizes_a * 0.45).astype(np.int64) // 2 * 2 + 2
    res = (sizes_a - emp).astype(np.int64) // 2 * 2 + 2
    return _Pools(admdvs=np.array(codes, dtype=np.int64), emp=emp, res=res,
                  index={c: i for i, c in enumerate(codes)})


def _pick_area(rng, pv: _Providers, params: _Params, pools: _Pools, prov_idx: np.ndarray,
               inpatient: bool) -> np.ndarray:
    """Pool index for each encounter: local prefecture, provincial, other prefecture, other province."""
    n = len(prov_idx)
    u = rng.random(n)
    cross = params.cross[prov_idx] * (1.6 if inpatient else 1.0)
    intra = params.intra[prov_idx] * (1.3 if inpatient else 1.0)
    capital_tertiary = (pv.city[prov_idx] == 0) & (pv.level[prov_idx] == 0)
    provincial = np.where(capital_tertiary, 0.03, 0.0)
    out = _local_pool_lut(pv, pools)[prov_idx]
    k = rng.random(n)
    for p_i, pcode in enumerate(PROVINCE_ORDER):
        in_p = pv.prov[prov_idx] == p_i
        m_cross = in_p & (u < cross)
        choices = np.array([pools.index[int(c)] for c in CROSS_ORIGINS[pcode]])
        out[m_cross] = choices[(k[m_cross] * len(choices)).astype(int)]
        m_intra = in_p & (u >= cross) & (u < cross + intra)
        locals_ = [int(c[0] + "00") for c in GEOGRAPHY[pcode]["cities"]]
        choices = np.array([pools.index[int(c)] for c in OTHER_PREFECTURES[pcode]] + [pools.index[c] for c in locals_])
        pick = choices[(k[m_intra] * len(choices)).astype(int)]
        # never "other prefecture" = own prefecture: fall back to the first non-local one
        same = pick == out[m_intra]
        pick[same] = pools.index[int(OTHER_PREFECTURES[pcode][0])]
        out[m_intra] = pick
        m_prov = in_p & (u >= cross + intra) & (u < cross + intra + provincial)
        out[m_prov] = pools.index[int(pcode + "9900")]
    return out


def _pick_person(rng, pools: _Pools, pool: np.ndarray, employee: np.ndarray, target_age: np.ndarray | None,
                 female: np.ndarray | None) -> np.ndarray:
    """Position inside the pool (employees [0, emp), residents [emp, emp+res))."""
    n = len(pool)
    emp = pools.emp[pool]
    res = pools.res[pool]
    if target_age is None:
        u = rng.random(n)
    else:
        u = np.where(employee, np.interp(target_age, EMP_AGE[1], EMP_AGE[0]),
                     np.interp(target_age, RES_AGE[1], RES_AGE[0]))
        u = np.clip(u + rng.normal(0, 0.004, n), 0.0, 1.0 - 1e-9)
    pos = np.where(employee, (u * emp).astype(np.int64), emp + (u * res).astype(np.int64))
    if female is not None:
        pos = np.where(female, pos | 1, pos)
    return pos


def _person_age(pools: _Pools, pool: np.ndarray, pos: np.ndarray) -> np.ndarray:
    emp = pools.emp[pool]
    res = pools.res[pool]
    is_emp = pos < emp
    u_emp = (pos + 0.5) / emp
    u_res = (pos - emp + 0.5) / res
    age = np.where(is_emp, np.interp(u_emp, EMP_AGE[0], EMP_AGE[1]), np.interp(u_res, RES_AGE[0], RES_AGE[1]))
    return age.astype(np.int64)


# --------------------------------------------------------------------------- string builders


def _str(values: np.ndarray) -> pa.Array:
    return pa.array(values).cast(pa.string())


def _money(cents: np.ndarray) -> pa.Array:
    """int64 cents -> '123.40' (two decimals, '-' for negatives)."""
    cents = np.ascontiguousarray(cents, dtype=np.int64)
    buf = np.empty((len(cents), 2), dtype=np.int64)
    buf[:, 0] = cents
    buf[:, 1] = np.where(cents < 0, -1, 0)
    arr = pa.Array.from_buffers(pa.decimal128(18, 2), len(cents), [None, pa.py_buffer(buf)])
    return arr.cast(pa.string())


def _times(seconds: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(seconds, dtype=np.int64), pa.timestamp("s")).cast(pa.string())


def _codes(lut: list[str | None], idx: np.ndarray) -> pa.Array:
    return pa.array(lut, pa.string()).take(pa.array(np.asarray(idx, dtype=np.int32)))


def _masked(arr: pa.Array, mask: np.ndarray) -> pa.Array:
    """Null where mask is true (empty cell in CSV)."""
    if not mask.any():
        return arr
    return pc.if_else(pa.array(mask), pa.scalar(None, pa.string()), arr)


# --------------------------------------------------------------------------- time helpers


def _epoch(year: int, month: int = 1, day: int = 1) -> int:
    return calendar.timegm((year, month, day, 0, 0, 0))


def _sample_days(rng, n: int, year: np.ndarray, weekend: float) -> np.ndarray:
    """Day-of-year (0-based) with fewer encounters on weekends."""
    out = np.empty(n, dtype=np.int64)
    for y in np.unique(year):
        m = year == y
        ndays = 366 if calendar.isleap(int(y)) else 365
        first_wd = dt.date(int(y), 1, 1).weekday()
        wd = (np.arange(ndays) + first_wd) % 7
        w = np.where(wd >= 5, weekend, 1.0)
        cdf = np.cumsum(w) / w.sum()
        out[m] = np.searchsorted(cdf, rng.random(int(m.sum())), side="right")
    return np.minimum(out, 365)


# --------------------------------------------------------------------------- writers


class _Sink:
    """Writes one table chunk by chunk, in csv, parquet or xlsx (xlsx is buffered)."""

    # low-cardinality columns get Parquet dictionary encoding; ids and money do not
    DICT_COLUMNS = {"insutype", "med_type", "fixmedins_code", "insuplc_admdvs", "refd_setl_flag", "age", "gend",
                    "mdtrt_cert_type", "drg_code", "diag_code", "diag_code_cnt", "act_ipt_days", "dscg_way",
                    "days_rinp_flag_31", "max_oprn_lv", "oprn_cmpl_flag", "qc_rslt", "med_chrgitm", "vbp_flag",
                    "nego_flag", "rule_code", "rule_type", "confirmed", "fraud", "year", "indicator", "source",
                    "expert_id", "hosp_lv", "fixmedins_type", "direct_setl_flag", "med_list_codg", "cnt",
                    "vbp_generic_flag", "natl_code_flag"}

    # min/max statistics where readers filter (times, provider); skipping them elsewhere saves ~30 % write time
    STATS_COLUMNS = {"setl_time", "fee_ocur_time", "adm_time", "dscg_time", "dcla_time", "flag_time", "fixmedins_code",
                     "med_type", "year"}

    def __init__(self, path: Path, fmt: str, columns: list[str], year: int, level: int | None = None):
        self.level = level  # zstd level: higher for the small committed example, default for big runs
        self.path = path
        self.fmt = fmt
        self.columns = columns
        self.year = year
        self.schema = pa.schema([(c, pa.string()) for c in columns])
        self.rows = 0
        self._writer = None
        self._xlsx_rows: list[list] = []

    def write(self, table: pa.Table) -> None:
        table = table.select(self.columns).cast(self.schema)
        self.rows += table.num_rows
        if self.fmt == "xlsx":
            self._xlsx_rows.extend(zip(*[table.column(c).to_pylist() for c in self.columns]))
            return
        if self._writer is None:
            if self.fmt == "csv":
                self._writer = pacsv.CSVWriter(str(self.path), self.schema,
                                               write_options=pacsv.WriteOptions(quoting_style="needed"))
            else:
                self._writer = pq.ParquetWriter(str(self.path), self.schema, compression="zstd",
                                                compression_level=self.level,
                                                use_dictionary=[c for c in self.columns if c in self.DICT_COLUMNS],
                                                write_statistics=[c for c in self.columns if c in self.STATS_COLUMNS])
        self._writer.write_table(table)

    def close(self) -> None:
        if self.fmt == "xlsx":
            _write_xlsx(self.path, self.columns, self._xlsx_rows, self.year)
            return
        if self._writer is None:  # empty table: header only
            self.write(pa.table({c: pa.array([], pa.string()) for c in self.columns}))
        self._writer.close()


def _write_xlsx(path: Path, columns: list[str], rows: list, year: int) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("providers")
    ws.append(columns)
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(ws, value=value)
            if value is not None:
                cell.number_format = "@"  # text: codes keep their leading zeros
            cells.append(cell)
        ws.append(cells)
    fixed = dt.datetime(year, 1, 1)
    wb.properties.creator = "pingyi example"
    wb.properties.created = fixed
    buf = io.BytesIO()
    wb.save(buf)
    # openpyxl stamps the save time into docProps/core.xml and the zip entries: normalise both
    stamp = fixed.strftime("%Y-%m-%dT%H:%M:%SZ")
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)",
                              lambda m: m.group(1) + stamp.encode() + m.group(2), data)
            zi = zipfile.ZipInfo(info.filename, date_time=(year, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            dst.writestr(zi, data)
    path.write_bytes(out.getvalue())


class _Workers:
    """One background thread per output table. A job builds the table's Arrow strings from a
    block's numpy arrays and writes it, so string building and compression of one block overlap
    the generation of the next (Arrow and most numpy kernels release the GIL). Each table's jobs
    run in submission order, so files are identical whatever the timing."""

    def __init__(self, names: list[str], depth: int = 1):
        self._queues = {name: queue.Queue(maxsize=depth) for name in names}
        self._error: BaseException | None = None
        self._threads = [threading.Thread(target=self._run, args=(q,), daemon=True) for q in self._queues.values()]
        for t in self._threads:
            t.start()

    def _run(self, q: queue.Queue) -> None:
        while True:
            job = q.get()
            if job is None:
                return
            if self._error is None:
                try:
                    job()
                except BaseException as exc:  # surfaced in submit()/close()
                    self._error = exc

    def submit(self, name: str, job) -> None:
        if self._error is not None:
            raise self._error
        self._queues[name].put(job)

    def close(self) -> None:
        for q in self._queues.values():
            q.put(None)
        for t in self._threads:
            t.join()
        if self._error is not None:
            raise self._error


# --------------------------------------------------------------------------- generation


@dataclass
class _Ctx:
    year: int
    pv: _Providers
    params: _Params
    pools: _Pools
    cat: _Catalogue
    deadline: int
    drg_cost: np.ndarray
    drg_los: np.ndarray
    drg_mort: np.ndarray
    drg_lowrisk: np.ndarray
    next_setl: dict  # year -> next sequence
    next_mdtrt: dict
    prior_hifp: np.ndarray  # cents per provider, prior year
    encounters: np.ndarray  # (providers, 2) clean encounters
    rates: _Rates


@dataclass
class _Rates:
    """Per-provider targets of the optional columns (arrays (providers, 2) are per year: prior, current).

    Drawn from their own stream, so adding them left every other column of the example unchanged."""

    direct_offsite: np.ndarray  # (p, 2) share of 异地 encounters settled directly (D5.01)
    direct_chronic: np.ndarray  # (p, 2) share of 门诊慢特病 visits settled directly (D5.05)
    vbp_qty: np.ndarray  # (p, 2) winners' share of the quantity of 集采 generic names (D3.03)
    price_ratio: np.ndarray  # (p,) unit price of a non-winning product / the winning one
    op_unit_price: np.ndarray  # (p,) outpatient unit price of a winning product, yuan
    op_win: np.ndarray  # (p,) share of outpatient western-drug lines whose main item is a winning product
    code_gap: np.ndarray  # (p, 2) share of fee lines without a valid national code (D8.03)
    div4: np.ndarray  # (p,) the provider's prefecture, first 4 digits of its division code


def _make_rates(rng: np.random.Generator, pv: _Providers, par: _Params, cat: _Catalogue) -> _Rates:
    """Targets around the catalogue's baselines (benchmarks where given): east and tertiary better,
    poor providers worse. Fallbacks apply when the catalogue has no baseline for the indicator."""
    n = pv.n
    q = pv.q
    region = [cat.region_of[PROVINCE_ORDER[pv.prov[i]]] for i in range(n)]
    levels = [LEVELS[v] for v in pv.level]

    def base(code: str, default: float, kind: str = "values") -> np.ndarray:
        vals = [_baseline(cat, code, region[i], levels[i], kind) for i in range(n)]
        return np.array([default if v is None else v for v in vals])

    def direct(code: str, default: float, reg: np.ndarray, lvl: np.ndarray) -> np.ndarray:
        b = np.clip(base(code, default), 0.3, 0.995)
        top = base(code, -1.0, "benchmark")
        top = np.where(top > b, top, b + 0.8 * (1 - b))
        cur = (b + (top - b) * (0.35 + 0.6 * q) + (1 - b) * (reg[pv.prov] + lvl[pv.level])
               + rng.normal(0, 0.15, n) * (1 - b))
        cur = np.clip(cur, 0.5, 0.995)
        prior = np.clip(cur - (1 - b) * rng.uniform(0.1, 0.4, n), 0.45, 0.995)  # most improved a little
        return np.stack([prior, cur], axis=1)

    # 异地直接结算: east and tertiary hospitals opened more settlement types earlier
    direct_offsite = direct("D5.01", 0.90, np.array([0.25, 0.0, -0.3]), np.array([0.15, 0.0, -0.3]))
    direct_chronic = direct("D5.05", 0.95, np.array([0.3, 0.0, -0.3]), np.array([0.2, 0.0, -0.3]))

    b = base("D3.03", 0.80)
    top = base("D3.03", -1.0, "benchmark")
    top = np.where(top > b, top, b + 0.75 * (1 - b))
    cur = np.clip(b + (top - b) * (par.vbp - 0.72) / 0.15, 0.55, 0.99)  # average: 40 % of the way to the benchmark
    vbp_qty = np.stack([np.clip(cur - 0.04, 0.5, 0.99), cur], axis=1)
    price_ratio = 2.6 * np.exp(rng.normal(0, 0.15, n))
    op_unit_price = np.array([1.4, 1.2, 1.0])[pv.level] * np.exp(rng.normal(0, 0.15, n))
    op_win = np.clip(np.array([0.36, 0.40, 0.45])[pv.level] * np.exp(rng.normal(0, 0.1, n)), 0.2, 0.6)

    b = np.clip(base("D8.03", 0.99), 0.5, 0.9995)
    gap = (1 - b) * 0.8 * np.exp(-1.1 * q) * np.array([0.8, 1.0, 1.5])[pv.level] * np.exp(rng.normal(0, 0.25, n))
    gap = np.clip(gap, 0.0003, 0.2)
    code_gap = np.stack([np.clip(gap * 1.4, 0.0003, 0.25), gap], axis=1)
    div4 = np.array([int(c[1:5]) for c in pv.code], dtype=np.int64)
    return _Rates(direct_offsite=direct_offsite, direct_chronic=direct_chronic, vbp_qty=vbp_qty,
                  price_ratio=price_ratio, op_unit_price=op_unit_price, op_win=op_win, code_gap=code_gap, div4=div4)


def _allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Largest-remainder rounding of total x weights / sum(weights)."""
    if total <= 0:
        return np.zeros(len(weights), dtype=np.int64)
    raw = total * weights / weights.sum()
    base = np.floor(raw).astype(np.int64)
    rest = total - base.sum()
    if rest > 0:
        order = np.argsort(-(raw - base), kind="stable")
        base[order[:rest]] += 1
    return base


def _split_payments(rng, total: np.ndarray, ownpay: np.ndarray, employee: np.ndarray, inpatient: np.ndarray,
                    level: np.ndarray, med_type_code: np.ndarray, sizes: np.ndarray) -> dict[str, np.ndarray]:
    """All money in int64 cents; identities hold exactly. Draws are stratified within each group
    of `sizes` (provider-years), so a small provider's fund share is not a coin toss."""
    n = len(total)
    u_ded = _strat_uniform(rng, sizes)  # the share under the deductible moves a provider's fund total most
    u_ratio, u = rng.random(n), rng.random(n)
    policy = total - ownpay
    ded = np.where(inpatient, np.array([80000, 50000, 20000])[level], 0)
    ratio_ip = np.where(employee, np.array([0.85, 0.88, 0.92])[level], np.array([0.60, 0.70, 0.85])[level])
    ratio_op = np.where(employee, np.array([0.60, 0.65, 0.75])[level], np.array([0.45, 0.50, 0.60])[level])
    chronic = med_type_code == 14
    ratio_op = np.where(chronic, np.where(employee, 0.80, 0.65), ratio_op)
    under_deductible = (~inpatient) & (med_type_code == 11) & (u_ded < 0.3)
    ratio_op = np.where(under_deductible | (med_type_code == 12), 0.0, ratio_op)
    ratio = np.where(inpatient, ratio_ip, ratio_op) * (0.96 + 0.04 * u_ratio)
    base = np.maximum(policy - ded, 0)
    hifp = np.floor(base * ratio).astype(np.int64)
    rest = np.maximum(base - hifp, 0)
    big = inpatient & (total > 3_000_000)
    other = np.where(big, np.floor(rest * 0.5), 0).astype(np.int64)
    assist = inpatient & ~employee & (rng.random(n) < 0.03)
    other += np.where(assist, np.floor((policy - hifp - other).clip(0) * 0.3), 0).astype(np.int64)
    fund = hifp + other
    psn = total - fund
    acct = np.where(employee & ~inpatient & (u < 0.45), psn, 0)
    acct = np.where(employee & ~inpatient & (u >= 0.45) & (u < 0.6), np.floor(psn * rng.random(n)), acct)
    acct = np.where(employee & inpatient & (u < 0.35), np.minimum(psn, rng.integers(0, 300000, n)), acct)
    acct = acct.astype(np.int64)
    return {"medfee_sumamt": total, "fulamt_ownpay_amt": ownpay, "hifp_pay": hifp, "fund_pay_sumamt": fund,
            "psn_part_amt": psn, "acct_pay": acct, "psn_cash_pay": psn - acct}


MONEY_COLS = ("medfee_sumamt", "fulamt_ownpay_amt", "hifp_pay", "fund_pay_sumamt", "psn_part_amt", "acct_pay",
              "psn_cash_pay")


def _gen_block(ctx: _Ctx, members: np.ndarray, n_rows: np.ndarray, rng: np.random.Generator,
               xrng: np.random.Generator) -> dict:
    """Generate all records of a block of providers. Returns numpy arrays (not yet strings).

    `xrng` draws what the optional columns need (direct settlement, quantities, catalogue codes);
    being a stream of its own, it leaves the draws of `rng` as they were before those columns."""
    pv, par, year = ctx.pv, ctx.params, ctx.year
    years = np.array([year - 1, year])
    y_start = np.array([_epoch(year - 1), _epoch(year)])
    y_end = np.array([_epoch(year), _epoch(year + 1)]) - 1

    # --- counts per provider-year
    n_py = np.zeros((len(members), 2), dtype=np.int64)
    for j, p in enumerate(members):
        prior = int(round(n_rows[j] / (2.0 + par.vol_growth[p])))
        n_py[j] = (prior, n_rows[j] - prior)
    n_ref = rng.binomial(n_py, 0.003)
    n_ip = np.round((n_py - n_ref) * par.ip_share[members][:, None]).astype(np.int64)
    n_op = n_py - n_ref - n_ip
    n_ref = np.where(n_op > 0, n_ref, 0)
    n_op = n_py - n_ref - n_ip

    # ------------------------------------------------------------------ inpatient stays
    st_p, st_y, st_g = [], [], []
    for j, p in enumerate(members):
        for y in range(2):
            k = int(n_ip[j, y])
            if k == 0:
                continue
            counts = _allocate(k, par.drg_p[p, y])
            g = np.repeat(np.arange(len(DRG_TABLE)), counts)
            st_g.append(g[rng.permutation(k)])
            st_p.append(np.full(k, p))
            st_y.append(np.full(k, y))
    S = int(n_ip.sum())
    st_p = np.concatenate(st_p) if st_p else np.zeros(0, np.int64)
    st_y = np.concatenate(st_y) if st_y else np.zeros(0, np.int64)
    st_g = np.concatenate(st_g) if st_g else np.zeros(0, np.int64)
    lvl = pv.level[st_p]

    ip_sizes = n_ip.reshape(-1)  # stays are laid out provider by provider, year by year
    los = ctx.drg_los[st_g] * par.los[st_p] * np.exp(-0.06 + 0.35 * _strat_normal(rng, ip_sizes))
    los = np.maximum(1, np.round(los)).astype(np.int64)
    day = _sample_days(rng, S, years[st_y], 0.5)
    dscg = y_start[st_y] + day * 86400 + rng.integers(9 * 3600, 12 * 3600, S)
    urgent_g = np.array([g[0][0] in "BF" or g[0] in ("ES21", "FT23", "GC15") for g in DRG_TABLE])
    adm_hour = np.where(urgent_g[st_g] & (rng.random(S) < 0.4), rng.integers(0, 86400, S),
                        rng.integers(8 * 3600, 18 * 3600, S))
    adm = (dscg // 86400 - los) * 86400 + adm_hour

    # persons
    area = _pick_area(rng, pv, par, ctx.pools, st_p, inpatient=True)
    age_mu = np.array([g[6] for g in DRG_TABLE], dtype=float)
    age_sd = np.array([g[7] for g in DRG_TABLE], dtype=float)
    female_only = np.array([g[8] for g in DRG_TABLE])
    target_age = np.clip(rng.normal(age_mu[st_g], age_sd[st_g]), 0, 99)
    p_emp = _employee_share(pv, st_p)
    employee = (rng.random(S) < p_emp) & (target_age >= 18)
    female = np.where(female_only[st_g], True, rng.random(S) < 0.48)
    pos = _pick_person(rng, ctx.pools, area, employee, target_age, female)

    # readmissions: pairs (source -> readmission) inside one provider-year
    planned_flag = np.zeros(S, dtype=bool)
    readmit_src = np.full(S, -1)
    chemo = np.array([g[0].startswith("RE") for g in DRG_TABLE])
    offset = 0
    for j, p in enumerate(members):
        for y in range(2):
            k = int(n_ip[j, y])
            if k < 4:
                offset += k
                continue
            rate = par.readmit[p] + 0.25 * chemo[st_g[offset:offset + k]].mean()
            m = min(int(rng.binomial(k, min(rate, 0.4))), k // 2)
            if m:
                idx = offset + rng.permutation(k)[:2 * m]
                src, dst = idx[:m], idx[m:]
                gap = rng.integers(2, 29, m)
                new_adm_day = dscg[src] // 86400 + gap
                new_dscg = (new_adm_day + los[dst]) * 86400 + rng.integers(9 * 3600, 12 * 3600, m)
                ok = new_dscg <= y_end[y]
                src, dst = src[ok], dst[ok]
                adm[dst] = new_adm_day[ok] * 86400 + rng.integers(8 * 3600, 18 * 3600, len(dst))
                dscg[dst] = new_dscg[ok]
                area[dst], pos[dst] = area[src], pos[src]
                employee[dst] = employee[src]
                readmit_src[dst] = src
                planned_flag[src] = rng.random(len(src)) < np.where(chemo[st_g[src]], 0.85, 0.12)
            offset += k
    is_src = np.zeros(S, dtype=bool)
    is_src[readmit_src[readmit_src >= 0]] = True

    # outcomes
    mort = np.where(ctx.drg_lowrisk[st_g], par.lowrisk_death[st_p], ctx.drg_mort[st_g] * par.death[st_p])
    u = rng.random(S)
    dscg_way = np.full(S, 1)
    dscg_way[u < mort] = 5
    v = rng.random(S)
    alive = dscg_way != 5
    down = par.transfer_down[st_p]
    dscg_way[alive & (v < 0.012)] = 2
    dscg_way[alive & (v >= 0.012) & (v < 0.012 + down)] = 3
    dscg_way[alive & (v >= 0.012 + down) & (v < 0.027 + down)] = 4
    dscg_way[alive & (v >= 0.027 + down) & (v < 0.030 + down)] = 9
    dscg_way[is_src] = 1

    # money
    growth = np.where(st_y == 1, 1.0, 1.0 / (1.0 + par.g_ip[st_p]))
    exp_los = ctx.drg_los[st_g] * par.los[st_p]
    cost = (ctx.drg_cost[st_g] * par.cost[st_p] * growth * (los / exp_los) ** 0.4
            * np.exp(-0.03 + 0.25 * _strat_normal(rng, ip_sizes)))
    total = np.maximum(30000, np.round(cost * 100)).astype(np.int64)
    ownpay = np.round(total * np.clip(par.ownpay_ip[st_p] * rng.uniform(0.4, 1.6, S), 0, 0.6)).astype(np.int64)
    obst = np.array([g[0][0] == "O" for g in DRG_TABLE])[st_g]
    trauma = np.array([g[0].startswith("IR") for g in DRG_TABLE])[st_g]
    med_type = np.full(S, 21)
    w = rng.random(S)
    med_type[urgent_g[st_g] & (w < 0.10)] = 24
    med_type[trauma] = 22
    med_type[(w > 0.995)] = 92
    med_type[(w > 0.990) & (w <= 0.995) & (area != _local_pool(ctx, st_p))] = 23
    med_type[obst] = 52
    pay = _split_payments(rng, total, ownpay, employee, np.ones(S, bool), lvl, med_type, ip_sizes)
    ip_setl = dscg + rng.integers(600, 4 * 3600, S)
    late_settle = rng.random(S) < par.settle_delay[st_p]
    ip_setl = np.where(late_settle, ip_setl + rng.integers(1, 15, S) * 86400, ip_setl)
    ip_setl = np.minimum(ip_setl, y_end[st_y])
    insutype = np.where(employee, np.where(obst, 510, 310), 390)

    # settlement list fields
    late = rng.random(S) < par.late[st_p]
    delay = np.where(late, rng.integers(31, 100, S), np.minimum(rng.geometric(0.25, S), 29)) * 86400
    dcla = ip_setl + delay + rng.integers(0, 86400, S)
    qc = rng.random(S) >= par.qc_fail[st_p]
    grouped = rng.random(S) >= par.ungroup[st_p]
    diag_pick = rng.integers(0, 2, S)
    rw = np.array([g[2] for g in DRG_TABLE])
    diag_cnt = 1 + rng.poisson(1.2 + 1.5 * np.sqrt(rw[st_g]) + np.array([1.0, 0.4, 0.0])[lvl])
    diag_cnt = np.minimum(diag_cnt, 16)
    op_prof = [g[5] for g in DRG_TABLE]
    op_grade = np.zeros(S, dtype=np.int64)
    for gi, prof in enumerate(op_prof):
        m = st_g == gi
        cnt = int(m.sum())
        if not cnt:
            continue
        if prof is None:
            op_grade[m] = np.where(rng.random(cnt) < 0.12, rng.integers(1, 3, cnt), 0)
        else:
            gr = int(prof)
            down_ = rng.random(cnt) < np.clip(np.where(lvl[m] == 0, 0.12, 0.35) - 0.05 * pv.q[st_p[m]], 0, 0.9)
            op_grade[m] = np.maximum(1, gr - down_.astype(np.int64))
    if "IR25" in [g[0] for g in DRG_TABLE]:
        m = st_g == [g[0] for g in DRG_TABLE].index("IR25")
        op_grade[m] = np.where(rng.random(int(m.sum())) < 0.45, 0, op_grade[m])
    cmpl = (op_grade > 0) & (rng.random(S) < par.cmpl[st_p] * (0.5 + 0.15 * op_grade))

    # ------------------------------------------------------------------ outpatient visits
    op_p, op_y = [], []
    for j, p in enumerate(members):
        for y in range(2):
            k = int(n_op[j, y])
            if k:
                op_p.append(np.full(k, p))
                op_y.append(np.full(k, y))
    O = int(n_op.sum())
    op_p = np.concatenate(op_p) if op_p else np.zeros(0, np.int64)
    op_y = np.concatenate(op_y) if op_y else np.zeros(0, np.int64)
    olvl = pv.level[op_p]
    mix = np.array([[0.78, 0.01, 0.10, 0.09, 0.02, 0.0], [0.80, 0.01, 0.07, 0.10, 0.02, 0.0],
                    [0.80, 0.03, 0.0, 0.17, 0.0, 0.0]])
    mix[:, 5] = 0.005
    mix = mix / mix.sum(axis=1, keepdims=True)
    mt_codes = np.array([11, 12, 13, 14, 51, 91])
    cdf = np.cumsum(mix, axis=1)[olvl]
    op_sizes = n_op.reshape(-1)
    op_mt = mt_codes[(_strat_uniform(rng, op_sizes)[:, None] > cdf).sum(axis=1).clip(0, 5)]
    oday = _sample_days(rng, O, years[op_y], 0.6)
    hour = np.where(rng.random(O) < 0.62, rng.integers(8 * 3600, 12 * 3600, O),
                    rng.integers(14 * 3600, 17 * 3600 + 1800, O))
    hour = np.where(op_mt == 13, rng.integers(0, 86400, O), hour)
    op_setl = y_start[op_y] + oday * 86400 + hour
    oarea = _pick_area(rng, pv, par, ctx.pools, op_p, inpatient=False)
    oemployee = rng.random(O) < _employee_share(pv, op_p)
    ofemale = (op_mt == 51)
    opos = _pick_person(rng, ctx.pools, oarea, oemployee, None, ofemale)
    oemployee = opos < ctx.pools.emp[oarea]
    ogrowth = np.where(op_y == 1, 1.0, 1.0 / (1.0 + par.g_op[op_p]))
    mt_mult = np.select([op_mt == 13, op_mt == 14, op_mt == 51], [1.4, 1.7, 1.2], 1.0)
    # cost noise stratified within provider-year x medical category (D1.02 uses 11 and 13 only)
    mt_key = np.repeat(np.arange(len(op_sizes)), op_sizes) * 8 + np.searchsorted(mt_codes, op_mt)
    by_key = np.argsort(mt_key, kind="stable")
    noise = np.empty(O)
    noise[by_key] = _strat_normal(rng, np.unique(mt_key, return_counts=True)[1])
    ocost = par.op_cost[op_p] * ogrowth * mt_mult * np.exp(-0.28 + 0.75 * noise)
    ocost = np.where(op_mt == 12, rng.uniform(5, 50, O), ocost)
    ototal = np.maximum(100, np.round(ocost * 100)).astype(np.int64)
    oown = np.round(ototal * np.clip(par.ownpay_op[op_p] * rng.uniform(0, 2, O), 0, 0.9)).astype(np.int64)
    oown = np.where(op_mt == 12, 0, oown)
    opay = _split_payments(rng, ototal, oown, oemployee, np.zeros(O, bool), olvl, op_mt, op_sizes)
    oinsutype = np.where(oemployee, np.where(op_mt == 51, 510, 310), 390)

    # ------------------------------------------------------------------ refunds (mirror an outpatient row)
    rf_src = []
    start = 0
    for j in range(len(members)):
        for y in range(2):
            k, r = int(n_op[j, y]), int(n_ref[j, y])
            if r:
                rf_src.append(start + rng.integers(0, k, r))
            start += k
    rf_src = np.concatenate(rf_src) if rf_src else np.zeros(0, np.int64)
    R = len(rf_src)
    rf_setl = np.minimum(op_setl[rf_src] + rng.integers(1800, 10 * 86400, R), y_end[op_y[rf_src]])

    # ------------------------------------------------------------------ assemble settlements
    # kinds: 0 inpatient, 1 outpatient, 2 refund; "ref" = index into its own array
    kind = np.concatenate([np.zeros(S, np.int8), np.ones(O, np.int8), np.full(R, 2, np.int8)])
    ref = np.concatenate([np.arange(S), np.arange(O), rf_src])
    prov = np.concatenate([st_p, op_p, op_p[rf_src]])
    yi = np.concatenate([st_y, op_y, op_y[rf_src]])
    setl_time = np.concatenate([ip_setl, op_setl, rf_setl])
    order = np.lexsort((kind, setl_time, yi, prov))
    kind, ref, prov, yi, setl_time = kind[order], ref[order], prov[order], yi[order], setl_time[order]
    N = len(order)

    # ids: per year running sequences; encounters numbered in settlement order
    setl_id = np.empty(N, dtype=np.int64)
    for y in range(2):
        m = yi == y
        cnt = int(m.sum())
        setl_id[m] = (years[y] * 10 ** 15 + 1 * 10 ** 14 + ctx.next_setl[y] + np.arange(cnt))
        ctx.next_setl[y] += cnt
    enc = kind != 2
    mdtrt_id = np.zeros(N, dtype=np.int64)
    for y in range(2):
        m = enc & (yi == y)
        cnt = int(m.sum())
        mdtrt_id[m] = years[y] * 10 ** 15 + 2 * 10 ** 14 + ctx.next_mdtrt[y] + np.arange(cnt)
        ctx.next_mdtrt[y] += cnt
    # position of each stay / visit in the sorted settlements
    ip_row = np.empty(S, dtype=np.int64)
    ip_row[ref[kind == 0]] = np.nonzero(kind == 0)[0]
    op_row = np.empty(O, dtype=np.int64)
    op_row[ref[kind == 1]] = np.nonzero(kind == 1)[0]
    rf_rows = np.nonzero(kind == 2)[0]
    mdtrt_id[rf_rows] = mdtrt_id[op_row[ref[rf_rows]]]

    money = {}
    for col in MONEY_COLS:
        arr = np.empty(N, dtype=np.int64)
        arr[kind == 0] = pay[col][ref[kind == 0]]
        arr[kind == 1] = opay[col][ref[kind == 1]]
        arr[kind == 2] = -opay[col][ref[kind == 2]]
        money[col] = arr

    def pick(ip_vals, op_vals):
        out = np.empty(N, dtype=np.result_type(ip_vals, op_vals))
        out[kind == 0] = ip_vals[ref[kind == 0]]
        out[kind != 0] = op_vals[ref[kind != 0]]
        return out

    area_all = pick(area, oarea)
    pos_all = pick(pos, opos)
    med_type_all = pick(med_type, op_mt)
    insutype_all = pick(insutype, oinsutype)
    admdvs = ctx.pools.admdvs[area_all]
    psn_no = admdvs * 10 ** 10 + pos_all
    age0 = _person_age(ctx.pools, area_all, pos_all)
    age = np.maximum(0, age0 - (1 - yi))
    gend = np.where(pos_all & 1, 2, 1)
    insutype_all = np.where((insutype_all == 310) & (age0 >= 88) & (pos_all % 7 == 0), 340, insutype_all)
    ecert_p = par.ecert[prov] - np.where(yi == 0, 0.10, 0.0)
    cert_u = rng.random(N)
    cert = np.where(cert_u < ecert_p, 0, np.where(rng.random(N) < 0.75, 2, 1))  # 01 / 03 / 02
    if N:  # a refund uses the credential of the settlement it reverses
        cert[rf_rows] = cert[op_row[ref[rf_rows]]]

    # ------------------------------------------------------------------ fee items
    # outpatient: a drug line and a non-drug line per visit (aggregated by category)
    o_drug_share = np.clip(par.drug_op[op_p] * np.where(op_mt == 14, 1.35, np.where(op_mt == 13, 0.8, 1.0))
                           * np.exp(rng.normal(0, 0.25, O)), 0.0, 0.97)
    o_drug_share = np.where(op_mt == 12, 0.0, o_drug_share)
    o_drug = np.round(ototal * o_drug_share).astype(np.int64)
    o_non = ototal - o_drug
    tcm = np.array([pv.profile[p] == "tcm" for p in range(pv.n)])
    o_drug_cat = np.where(tcm[op_p] & (rng.random(O) < 0.5), 11, np.where(rng.random(O) < 0.12, 11, 9))
    o_non_cat = np.where(op_mt == 12, 13, np.where(olvl == 2, np.where(rng.random(O) < 0.6, 12, 4),
                                                   np.array([2, 3, 4, 5])[rng.integers(0, 4, O)]))
    # the main item of a western-drug line: a 集采 winning product, a non-winning product of the same
    # generic name, or another drug. A non-winning product costs `price_ratio` times as much per unit,
    # so for the provider's winners' quantity share r it takes p_gen = p_win x ratio x (1 - r) / r lines.
    rt = ctx.rates
    rng.random(O)  # the draw that once decided o_vbp, kept so that the later draws of `rng` stay the same
    u_vbp = _strat_uniform(xrng, op_sizes)  # stratified per provider-year: small providers land near target
    r_qty = rt.vbp_qty[op_p, op_y]
    p_win = rt.op_win[op_p]
    p_gen = np.minimum(p_win * rt.price_ratio[op_p] * (1 - r_qty) / r_qty, 0.95 - p_win)
    o_west = o_drug_cat == 9
    o_vbp = o_west & (u_vbp < p_win)
    o_nego = o_west & ~o_vbp & (rng.random(O) < 0.03)
    o_gen = o_west & ~o_vbp & ~o_nego & (u_vbp < p_win + p_gen)
    o_own_drug = np.minimum(oown, o_drug)  # self-paid drugs first, the rest on the other line
    o_own_non = oown - o_own_drug
    # quantities in minimum units (tablets, capsules, vials; one consultation / registration)
    unit = rt.op_unit_price[op_p] * np.exp(xrng.normal(0, 0.2, O))
    o_type = np.select([o_drug_cat == 11, o_vbp, o_gen, o_nego], [11, 16, 17, 15], 9)
    o_price = np.select([o_drug_cat == 11, o_vbp, o_gen, o_nego],
                        [1.5 * unit, unit, unit * rt.price_ratio[op_p], 60.0 * unit / rt.op_unit_price[op_p]],
                        3.0 * unit)
    o_drug_cnt = np.maximum(1, np.round(o_drug / 100 / o_price)).astype(np.int64)
    o_drug_cnt = np.minimum(o_drug_cnt, np.where(op_mt == 14, 360, 120))  # prescriptions are capped by days
    non_price = np.select([o_non_cat == 3, o_non_cat == 4, o_non_cat == 5], [80.0, 20.0, 30.0], 1.0)
    non_price = non_price * np.exp(xrng.normal(0, 0.3, O))
    o_non_cnt = np.where(np.isin(o_non_cat, (3, 4, 5)), np.maximum(1, np.round(o_non / 100 / non_price)), 1)
    o_non_cnt = o_non_cnt.astype(np.int64)
    o_drug_code = _pick_codes(xrng, o_type)
    o_non_code = _pick_codes(xrng, o_non_cat)

    # inpatient: one line per category with a non-zero amount
    K = len(IP_FEE_COLUMNS)
    surgical = op_grade >= 2
    nondrug_cols = [k for k, c in enumerate(IP_FEE_COLUMNS) if c[1] is None]  # 01-08 and 14
    base = np.array([0.04, 0.02, 0.10, 0.12, 0.12, 0.0, 0.04, 0.06, 0.02])
    # one noise column per line of the earlier 14-line layout (its 5 drug columns unused), so that the
    # later draws of `rng` stay what they were
    noise = np.exp(rng.normal(0, 0.25, (S, 14)))
    props = np.zeros((S, K))
    props[:, nondrug_cols] = base * noise[:, [0, 1, 2, 3, 4, 5, 6, 7, 13]]
    props[:, 5] = np.where(surgical, 0.12 * np.exp(rng.normal(0, 0.2, S)), 0.0)
    props[:, 7] = np.where(surgical, 0.18, 0.06) * par.material[st_p] * np.exp(rng.normal(0, 0.25, S))
    nondrug = props.sum(axis=1)
    drug_share = np.clip(par.drug_ip[st_p] * np.where(chemo[st_g], 1.6, 1.0) * np.exp(rng.normal(0, 0.15, S)),
                         0.05, 0.8)
    props *= ((1 - drug_share) / nondrug)[:, None]
    tcm_s = tcm[st_p]
    yinpian = np.where(tcm_s, 0.15, np.where(rng.random(S) < 0.2, 0.03, 0.0))
    zcy = np.where(tcm_s, 0.30, 0.10)
    west = 1 - yinpian - zcy
    nego = np.clip(par.nego[st_p] * np.where(chemo[st_g] | np.isin(st_g, _drg_idx("ER11", "JA29", "NA19")), 3, 1),
                   0, 0.6)
    # western drugs outside 谈判: a share on 集采 generic names, split between winning and non-winning
    # products so that the quantities give the stay's winners' share r_qty (D3.03)
    r_qty = np.clip(rt.vbp_qty[st_p, st_y] + 0.5 * rng.normal(0, 0.05, S), 0.3, 0.995)
    gen_share = np.clip(np.array([0.35, 0.42, 0.5])[lvl] * np.exp(xrng.normal(0, 0.25, S)), 0.05, 0.85)
    ratio = rt.price_ratio[st_p] * np.exp(xrng.normal(0, 0.15, S))
    win_amt = r_qty / (r_qty + (1 - r_qty) * ratio)  # winners' share of the amount on 集采 generic names
    west_rest = drug_share * west * (1 - nego)
    props[:, IP_WIN] = west_rest * gen_share * win_amt
    props[:, IP_GENERIC] = west_rest * gen_share * (1 - win_amt)
    props[:, IP_WEST] = west_rest * (1 - gen_share)
    props[:, IP_NEGO] = drug_share * west * nego
    props[:, IP_NEGO + 1] = drug_share * yinpian
    props[:, IP_NEGO + 2] = drug_share * zcy
    props /= props.sum(axis=1, keepdims=True)
    amt = np.floor(props * total[:, None]).astype(np.int64)
    big = np.argmax(amt, axis=1)
    amt[np.arange(S), big] += total - amt.sum(axis=1)
    # quantities: days for bed, consultation and nursing, operations, else amount / unit price
    unit_price = np.ones((S, K))
    for k, c in enumerate(IP_FEE_COLUMNS):
        if isinstance(c[4], float):
            unit_price[:, k] = c[4]
    unit_price *= np.exp(xrng.normal(0, 0.25, (S, K)))
    win_price = 2.0 * np.exp(xrng.normal(0, 0.3, S))
    unit_price[:, IP_WIN] = win_price
    unit_price[:, IP_GENERIC] = win_price * ratio
    ip_cnt = np.maximum(1, np.round(amt / 100 / unit_price)).astype(np.int64)
    for k, c in enumerate(IP_FEE_COLUMNS):
        if c[4] == "day":
            ip_cnt[:, k] = los
        elif c[4] == "op":
            ip_cnt[:, k] = 1 + (xrng.random(S) < 0.12)
    ip_code = _pick_codes(xrng, np.tile(np.array([c[5] for c in IP_FEE_COLUMNS]), S)).reshape(S, K)
    # out-of-catalogue (全自费) spending sits in a few categories: consumables, other western drugs,
    # treatment, exams
    own_w = np.zeros((S, K))
    for k, w in ((7, 0.45), (IP_WEST, 0.30), (4, 0.15), (2, 0.10)):
        own_w[:, k] = w * (amt[:, k] > 0)
    cap = np.floor(own_w / np.maximum(own_w.sum(axis=1, keepdims=True), 1e-9) * ownpay[:, None]).astype(np.int64)
    own = np.minimum(cap, amt)
    short = ownpay - own.sum(axis=1)  # rounding, or a category too small: fill from the largest lines
    for k in np.argsort(-amt.sum(axis=0)):
        add = np.minimum(short, amt[:, k] - own[:, k])
        own[:, k] += add
        short -= add

    direct = _direct_flags(ctx, xrng, kind, prov, yi, admdvs, med_type_all, op_row[ref[rf_rows]])

    return {
        "N": N, "kind": kind, "ref": ref, "prov": prov, "yi": yi, "setl_time": setl_time, "setl_id": setl_id,
        "mdtrt_id": mdtrt_id, "money": money, "med_type": med_type_all, "insutype": insutype_all,
        "psn_no": psn_no, "admdvs": admdvs, "age": age, "gend": gend, "cert": cert, "direct": direct,
        "ip": {"S": S, "row": ip_row, "p": st_p, "y": st_y, "g": st_g, "adm": adm, "dscg": dscg, "los": los,
               "dscg_way": dscg_way, "planned": planned_flag, "op_grade": op_grade, "cmpl": cmpl,
               "setl": ip_setl, "dcla": dcla, "late": late, "qc": qc, "grouped": grouped, "diag": diag_pick,
               "diag_cnt": diag_cnt, "amt": amt, "own": own, "cnt": ip_cnt, "code": ip_code,
               "readmit_src": readmit_src},
        "op": {"O": O, "row": op_row, "drug": o_drug, "non": o_non, "drug_cat": o_drug_cat, "non_cat": o_non_cat,
               "vbp": o_vbp, "gen": o_gen, "nego": o_nego, "own_drug": o_own_drug, "own_non": o_own_non,
               "mt": op_mt, "drug_cnt": o_drug_cnt, "non_cnt": o_non_cnt, "drug_code": o_drug_code,
               "non_code": o_non_code},
        "rf_rows": rf_rows,
    }


def _pick_codes(rng: np.random.Generator, ctype: np.ndarray) -> np.ndarray:
    """A catalogue code (index into CODE_LUT) of each line's code type, uniformly within the type."""
    ctype = np.asarray(ctype, dtype=np.int64)
    k = (rng.random(len(ctype)) * CODE_COUNT[ctype]).astype(np.int64)
    return CODE_TABLE[ctype, k]


def _pick_per_group(rng: np.random.Generator, group: np.ndarray, weight: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Choose exactly k[g] elements of each group g (0 <= g < len(k)), without replacement, more
    likely the heavier ones (Efraimidis-Spirakis keys); weight 0 is never chosen. Exact counts keep
    a small provider's rate close to its target."""
    n = len(group)
    if n == 0:
        return np.zeros(0, dtype=bool)
    e = -np.log1p(-rng.random(n))  # Exp(1): the smallest e / weight are chosen first
    pos = weight > 0
    # one float sort instead of a lexsort: group + a key in [0, 1) increasing in e / weight
    key = np.full(n, 1 - 2.0 ** -30)
    key[pos] = np.minimum(-np.expm1(-e[pos] / weight[pos]), 1 - 2.0 ** -29)
    counts = np.bincount(group, minlength=len(k))
    k = np.minimum(k, np.bincount(group[pos], minlength=len(k)))
    order = np.argsort(group + key)
    g_sorted = group[order]
    rank = np.arange(n) - (np.cumsum(counts) - counts)[g_sorted]
    chosen = np.zeros(n, dtype=bool)
    chosen[order] = rank < k[g_sorted]
    return chosen


def _sround(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    """Stochastic rounding: floor(x + U), unbiased for small expected counts."""
    return np.floor(x + rng.random(len(x))).astype(np.int64)


def _direct_flags(ctx: _Ctx, rng: np.random.Generator, kind: np.ndarray, prov: np.ndarray, yi: np.ndarray,
                  admdvs: np.ndarray, med_type: np.ndarray, refunded: np.ndarray) -> np.ndarray:
    """direct_setl_flag of each settlement (True = 1, settled at the provider).

    The others are 手工（零星）报销: the patient paid in full and the insured area's agency settled the
    claim afterwards. First 门诊慢特病 visits (offsite ones four times as likely), as many per
    provider-year as its D5.05 target says; then other 异地 encounters (inpatient stays half as likely
    as visits) up to its D5.01 target. Refunds, visits a refund reverses and registrations (12) are
    always settled directly."""
    rt = ctx.rates
    n = len(kind)
    direct = np.ones(n, dtype=bool)
    if n == 0:
        return direct
    G = 2 * ctx.pv.n
    group = prov.astype(np.int64) * 2 + yi
    own = rt.div4[prov]
    # offsite exactly as views.settlement_rows: another province, or another prefecture unless a
    # province-level pooling code (XX99xx)
    offsite = (admdvs // 10000 != own // 100) | ((admdvs // 100 % 100 != 99) & (admdvs // 100 != own))
    encounter = kind != 2
    eligible = encounter & (med_type != 12)
    eligible[refunded] = False
    chronic = encounter & (med_type == 14)
    k = _sround(rng, (1 - rt.direct_chronic.reshape(-1)) * np.bincount(group[chronic], minlength=G))
    manual = _pick_per_group(rng, group, np.where(chronic & eligible, np.where(offsite, 4.0, 1.0), 0.0), k)
    off = encounter & offsite
    k = _sround(rng, (1 - rt.direct_offsite.reshape(-1)) * np.bincount(group[off], minlength=G))
    k = np.maximum(k - np.bincount(group[manual & off], minlength=G), 0)
    weight = np.where(off & eligible & ~chronic, np.where(kind == 0, 0.5, 1.0), 0.0)  # chronic: done above
    manual |= _pick_per_group(rng, group, weight, k)
    return ~manual


def _strat_uniform(rng: np.random.Generator, sizes: np.ndarray) -> np.ndarray:
    """Uniforms on [0, 1), one from each of k equal strata per consecutive group of `sizes`."""
    sizes = np.asarray(sizes, dtype=np.int64)
    n = int(sizes.sum())
    if n == 0:
        return np.zeros(0)
    group = np.repeat(np.arange(len(sizes)), sizes)
    start = np.cumsum(sizes) - sizes
    order = np.argsort(group + rng.random(n), kind="stable")  # a random order inside each group
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - start[group[order]]
    return (rank + rng.random(n)) / sizes[group]


def _strat_normal(rng: np.random.Generator, sizes: np.ndarray) -> np.ndarray:
    """Standard normals, stratified within each consecutive group of `sizes` elements.

    Each group gets one draw from each of its k equal-probability strata, in random order: the
    distribution is the same, but a provider's mean cost is not at the mercy of one extreme draw
    (the example is downscaled, so groups are small)."""
    from scipy.special import ndtri

    return ndtri(np.clip(_strat_uniform(rng, sizes), 1e-9, 1 - 1e-9))


def _drg_idx(*codes: str) -> list[int]:
    all_codes = [g[0] for g in DRG_TABLE]
    return [all_codes.index(c) for c in codes]


def _employee_share(pv: _Providers, prov_idx: np.ndarray) -> np.ndarray:
    table = np.array([[0.62, 0.45, 0.35], [0.40, 0.25, 0.15], [0.48, 0.30, 0.20]])
    return table[pv.prov[prov_idx], pv.level[prov_idx]]


def _local_pool_lut(pv: _Providers, pools: _Pools) -> np.ndarray:
    """Pool index of each provider's own prefecture."""
    return np.array([pools.index[int(GEOGRAPHY[PROVINCE_ORDER[pv.prov[p]]]["cities"][pv.city[p]][0] + "00")]
                     for p in range(pv.n)], dtype=np.int64)


def _local_pool(ctx: _Ctx, prov_idx: np.ndarray) -> np.ndarray:
    return _local_pool_lut(ctx.pv, ctx.pools)[prov_idx]


# --------------------------------------------------------------------------- block -> Arrow tables


def _settlement_table(ctx: _Ctx, b: dict) -> pa.Table:
    pv = ctx.pv
    codes = pa.array(pv.code, pa.string())
    m = b["money"]
    return pa.table({
        "setl_id": b["ids"]["setl_id"], "mdtrt_id": b["ids"]["mdtrt_id"], "psn_no": b["ids"]["psn_no"],
        "insutype": _str(b["insutype"]), "med_type": _str(b["med_type"]), "setl_time": _times(b["setl_time"]),
        **{c: _money(m[c]) for c in MONEY_COLS},
        "fixmedins_code": codes.take(pa.array(b["prov"])), "insuplc_admdvs": _str(b["admdvs"]),
        "refd_setl_flag": _codes(["0", "1"], b["kind"] == 2), "age": _str(b["age"]), "gend": _str(b["gend"]),
        "mdtrt_cert_type": _codes(["01", "02", "03"], b["cert"]), "direct_setl_flag": _codes(["0", "1"], b["direct"]),
    })


def _list_table(ctx: _Ctx, b: dict) -> pa.Table:
    ip = b["ip"]
    rows = ip["row"]
    order = np.argsort(rows, kind="stable")  # settlement order
    r = rows[order]
    drg_codes = [g[0] for g in DRG_TABLE]
    drg = _codes(drg_codes, ip["g"][order])
    drg = _masked(drg, ~ip["grouped"][order])
    diag_lut = [DRG_DIAG[c][k] for c in drg_codes for k in range(2)]
    grade = ip["op_grade"][order]
    cmpl = np.where(grade > 0, np.where(ip["cmpl"][order], 1, 0), 2)
    return pa.table({
        "mdtrt_id": b["ids"]["mdtrt_id"].take(r), "setl_id": b["ids"]["setl_id"].take(r),
        "fixmedins_code": _codes(ctx.pv.code, b["prov"][r]), "psn_no": b["ids"]["psn_no"].take(r),
        "drg_code": drg, "diag_code": _codes(diag_lut, ip["g"][order] * 2 + ip["diag"][order]),
        "diag_code_cnt": _str(ip["diag_cnt"][order]), "adm_time": _times(ip["adm"][order]),
        "dscg_time": _times(ip["dscg"][order]), "act_ipt_days": _str(ip["los"][order]),
        "dscg_way": _str(ip["dscg_way"][order]), "days_rinp_flag_31": _codes(["1", "2"], ip["planned"][order]),
        "max_oprn_lv": _masked(_str(grade), grade == 0), "oprn_cmpl_flag": _codes(["0", "1", None], cmpl),
        "setl_time": _times(b["setl_time"][r]), "dcla_time": _times(ip["dcla"][order]),
        "qc_rslt": _codes(["0", "1"], ip["qc"][order]), "age": _str(b["age"][r]), "gend": _str(b["gend"][r]),
    })


def _fee_table(ctx: _Ctx, b: dict) -> pa.Table:
    """Fee lines aggregated by category per encounter, in settlement order (each line placed
    directly at its final position: no sort)."""
    ip, op = b["ip"], b["op"]
    N = b["N"]
    # inpatient: one line per non-zero category, categories in IP_FEE_COLUMNS order
    nz = ip["amt"] > 0
    si, ki = np.nonzero(nz)
    per_stay = nz.sum(axis=1)
    stay_start = np.cumsum(per_stay) - per_stay
    ip_within = np.arange(len(si)) - stay_start[si]
    ip_rows = ip["row"][si]
    # outpatient: the drug line, then the non-drug line; a refund mirrors the lines of the visit it
    # reverses only when MIRROR_REFUND_FEE_LINES (negative fee lines: see the constant)
    d_nz = op["drug"] > 0
    n_nz = op["non"] > 0
    rf = b["rf_rows"] if MIRROR_REFUND_FEE_LINES else b["rf_rows"][:0]
    visit_of = np.concatenate([np.arange(op["O"]), b["ref"][rf]])  # op visits, then refunds
    row_of = np.concatenate([op["row"], rf])
    sign = np.concatenate([np.ones(op["O"], np.int64), -np.ones(len(rf), np.int64)])
    dm = d_nz[visit_of]
    nm = n_nz[visit_of]
    di = np.nonzero(dm)[0]
    ni = np.nonzero(nm)[0]

    count = np.bincount(ip_rows, minlength=N) + np.bincount(row_of, weights=dm.astype(np.int64) + nm, minlength=N)
    count = count.astype(np.int64)
    offset = np.cumsum(count) - count
    total = int(count.sum())
    dest_ip = offset[ip_rows] + ip_within
    dest_d = offset[row_of[di]]
    dest_n = offset[row_of[ni]] + dm[ni]

    def scatter(ip_vals, d_vals, n_vals, dtype=np.int64):
        out = np.empty(total, dtype=dtype)
        out[dest_ip] = ip_vals
        out[dest_d] = d_vals
        out[dest_n] = n_vals
        return out

    vd, vn = visit_of[di], visit_of[ni]
    flag_lut = {None: 2, "0": 0, "1": 1}
    cat_lut = np.array([int(c[0]) for c in IP_FEE_COLUMNS])
    vbp_lut = np.array([flag_lut[c[1]] for c in IP_FEE_COLUMNS])
    nego_lut = np.array([flag_lut[c[2]] for c in IP_FEE_COLUMNS])
    gen_lut = np.array([flag_lut[c[3]] for c in IP_FEE_COLUMNS])
    west = op["drug_cat"][vd] == 9
    cat = scatter(cat_lut[ki], op["drug_cat"][vd], op["non_cat"][vn])
    amt = scatter(ip["amt"][si, ki], op["drug"][vd] * sign[di], op["non"][vn] * sign[ni])
    own = scatter(ip["own"][si, ki], op["own_drug"][vd] * sign[di], op["own_non"][vn] * sign[ni])
    vbp = scatter(vbp_lut[ki], np.where(west, op["vbp"][vd], 0), np.full(len(ni), 2))
    nego = scatter(nego_lut[ki], np.where(west, op["nego"][vd], 0), np.full(len(ni), 2))
    gen = scatter(gen_lut[ki], np.where(west, op["vbp"][vd] | op["gen"][vd], 0), np.full(len(ni), 2))
    cnt = scatter(ip["cnt"][si, ki], op["drug_cnt"][vd] * sign[di], op["non_cnt"][vn] * sign[ni])
    code = scatter(ip["code"][si, ki], op["drug_code"][vd], op["non_code"][vn])
    natl = scatter(ip["natl"][si, ki], op["drug_natl"][vd], op["non_natl"][vn], dtype=bool)
    setl_time = b["setl_time"]
    ftime = scatter(ip["dscg"][si] - 1800,  # category totals are posted at discharge
                    setl_time[row_of[di]] - np.where(sign[di] > 0, 300, 0),
                    setl_time[row_of[ni]] - np.where(sign[ni] > 0, 300, 0))
    row = np.repeat(np.arange(N), count)
    return pa.table({
        "mdtrt_id": b["ids"]["mdtrt_id"].take(row), "setl_id": b["ids"]["setl_id"].take(row),
        "fixmedins_code": _codes(ctx.pv.code, b["prov"][row]), "fee_ocur_time": _times(ftime),
        "med_chrgitm": _codes([f"{i:02d}" for i in range(15)], cat), "amt": _money(amt),
        "fulamt_ownpay_amt": _money(own), "vbp_flag": _codes(["0", "1", None], vbp),
        "nego_flag": _codes(["0", "1", None], nego), "med_list_codg": _codes(CODE_LUT, code), "cnt": _str(cnt),
        "vbp_generic_flag": _codes(["0", "1", None], gen), "natl_code_flag": _codes(["0", "1"], natl),
    })


def _code_gaps(ctx: _Ctx, b: dict, rng: np.random.Generator) -> None:
    """Fee lines without a valid national code (D8.03): per provider-year exactly its share of its
    lines, consumables and decoction pieces most likely, never a line of a 集采 generic name (its
    flags derive from the code). Such a line gets a hospital-internal code. Sets ip["natl"],
    op["drug_natl"], op["non_natl"] and replaces the codes in place; a mirrored refund line would
    repeat its original's. (On the main thread: the fee-table writer is the slowest at scale.)"""
    ip, op = b["ip"], b["op"]
    nz = ip["amt"] > 0
    si, ki = np.nonzero(nz)
    od_lines, on_lines = np.nonzero(op["drug"] > 0)[0], np.nonzero(op["non"] > 0)[0]
    cat_lut = np.array([int(c[0]) for c in IP_FEE_COLUMNS])
    gen_lut = np.array([c[3] == "1" for c in IP_FEE_COLUMNS])
    src_row = np.concatenate([ip["row"][si], op["row"][od_lines], op["row"][on_lines]])
    src_cat = np.concatenate([cat_lut[ki], op["drug_cat"][od_lines], op["non_cat"][on_lines]])
    src_gen = np.concatenate([gen_lut[ki], op["vbp"][od_lines] | op["gen"][od_lines],
                              np.zeros(len(on_lines), dtype=bool)])
    group = b["prov"][src_row].astype(np.int64) * 2 + b["yi"][src_row]
    k = _sround(rng, ctx.rates.code_gap.reshape(-1) * np.bincount(group, minlength=2 * ctx.pv.n))
    gap = _pick_per_group(rng, group, np.where(src_gen, 0.0, CODE_GAP_WEIGHT[src_cat]), k)
    local = LOCAL_CODES[src_cat, rng.integers(0, LOCAL_CODES.shape[1], len(src_cat))]
    n_ip, n_od = len(si), len(od_lines)
    ip["natl"] = np.ones(ip["amt"].shape, dtype=bool)
    ip["natl"][si[gap[:n_ip]], ki[gap[:n_ip]]] = False
    ip["code"][si, ki] = np.where(gap[:n_ip], local[:n_ip], ip["code"][si, ki])
    for name, lines, part, loc in (("drug", od_lines, gap[n_ip:n_ip + n_od], local[n_ip:n_ip + n_od]),
                                   ("non", on_lines, gap[n_ip + n_od:], local[n_ip + n_od:])):
        natl = np.ones(op["O"], dtype=bool)
        natl[lines[part]] = False
        op[f"{name}_natl"] = natl
        op[f"{name}_code"][lines] = np.where(part, loc, op[f"{name}_code"][lines])


def _audit_rows(ctx: _Ctx, b: dict, rng: np.random.Generator) -> list[dict]:
    """Smart-audit flags of one block (small: built as Python rows).

    分解住院 (split admission) flags point at real unplanned readmissions; the other rules at random
    settlements, inpatient ones more often (that is where the money is)."""
    pv, par = ctx.pv, ctx.params
    rows: list[dict] = []
    kind, prov, yi = b["kind"], b["prov"], b["yi"]
    y_end = np.array([_epoch(ctx.year), _epoch(ctx.year + 1)]) - 1
    ip = b["ip"]
    readmit = ip["readmit_src"] >= 0
    unplanned = np.zeros(ip["S"], bool)
    unplanned[readmit] = ~ip["planned"][ip["readmit_src"][readmit]]
    split = unplanned & (rng.random(ip["S"]) < par.split_flag[ip["p"]])
    is_split = np.zeros(b["N"], bool)
    is_split[ip["row"][split]] = True
    rules = [r for r in AUDIT_RULES if r[1] != "分解住院"]
    split_rule = next(r for r in AUDIT_RULES if r[1] == "分解住院")
    weights = np.array([r[3] for r in rules])
    weights = weights / weights.sum()
    key = prov.astype(np.int64) * 2 + yi  # settlements are sorted by provider, then year
    for p in np.unique(prov):
        for y in range(2):
            lo, hi = np.searchsorted(key, [p * 2 + y, p * 2 + y + 1])
            cand = lo + np.nonzero(kind[lo:hi] != 2)[0]
            if len(cand) == 0:
                continue
            ip_cand = cand[kind[cand] == 0]
            for row in lo + np.nonzero(is_split[lo:hi])[0]:
                rows.append(_flag(ctx, b, rng, int(row), split_rule[0], split_rule[1], p, y, y_end, fraud=False))
            for _ in range(int(rng.poisson(len(cand) * par.audit[p]))):
                code, rtype, ip_only, _w = rules[int(rng.choice(len(rules), p=weights))]
                if ip_only and len(ip_cand) == 0:
                    code, rtype, ip_only, _w = rules[0]
                use_ip = len(ip_cand) > 0 and (ip_only or rng.random() < 0.6)
                pool = ip_cand if use_ip else cand
                rows.append(_flag(ctx, b, rng, int(pool[rng.integers(len(pool))]), code, rtype, p, y, y_end,
                                  fraud=False))
            if p == pv.special_b and y == 1 and len(ip_cand):
                row = int(ip_cand[rng.integers(len(ip_cand))])
                rows.append(_flag(ctx, b, rng, row, FRAUD_RULE[0], FRAUD_RULE[1], p, y, y_end, fraud=True))
    return rows


def _flag(ctx, b, rng, row, code, rtype, p, y, y_end, fraud: bool) -> dict:
    par = ctx.params
    total = int(b["money"]["medfee_sumamt"][row])
    if fraud:
        amount = total * 6 + int(rng.integers(0, 100000))  # several fictitious stays
    elif rtype == "分解住院":  # the avoidable part of the second stay
        amount = max(100, int(total * rng.uniform(0.2, 0.5)))
    else:
        amount = max(100, int(total * rng.uniform(0.03, 0.25)))
    ftime = min(int(b["setl_time"][row] + rng.integers(1, 40) * 86400 + rng.integers(0, 86400)), int(y_end[y]))
    q = float(ctx.pv.q[p])
    unhandled = (not fraud) and rng.random() < float(np.clip(0.015 * np.exp(-1.2 * q), 0.002, 0.45))
    slow = rng.random() < float(np.clip(0.025 * np.exp(-1.0 * q), 0.005, 0.7))
    handled = None if unhandled else ftime + int((rng.integers(31, 90) if slow else rng.integers(1, 25)) * 86400)
    confirmed = fraud or rng.random() < float(np.clip(0.35 - 0.12 * q, 0.1, 0.8))
    return {"prov": int(p), "y": y, "time": ftime, "setl_id": str(b["setl_id"][row]), "rule_code": code,
            "rule_type": rtype, "amount": amount, "handled": handled, "confirmed": "1" if confirmed else "0",
            "fraud": "1" if fraud else "0"}


# --------------------------------------------------------------------------- planted defects


def _plant_settlements(ctx: _Ctx, b: dict, tab: pa.Table, rng: np.random.Generator) -> tuple[pa.Table, list[dict]]:
    """Insert fresh defective rows (and duplicates) at random positions of the first block."""
    year = ctx.year
    N = tab.num_rows
    op_rows = np.nonzero((b["kind"] == 1) & (b["money"]["medfee_sumamt"] >= 1000)
                         & (b["money"]["acct_pay"] < b["money"]["psn_part_amt"])
                         & (b["money"]["hifp_pay"] > 0) & (b["money"]["fulamt_ownpay_amt"] > 0))[0]
    if len(op_rows) < 40 or N < 200:
        return tab, []
    seq = [0]

    def fresh(template_row: int) -> dict:
        row = {k: v[0] for k, v in tab.slice(template_row, 1).to_pydict().items()}
        seq[0] += 1
        yy = row["setl_id"][:4]
        row["setl_id"] = f"{yy}19{seq[0]:013d}"
        row["mdtrt_id"] = f"{yy}29{seq[0]:013d}"
        return row

    def money(row, col):
        return int(round(float(row[col]) * 100))

    def fmt(c: int) -> str:
        return f"{'-' if c < 0 else ''}{abs(c) // 100}.{abs(c) % 100:02d}"

    specs: list[tuple[str, str, object]] = [
        ("missing_required", "psn_no", None), ("missing_required", "insutype", None),
        ("missing_required", "setl_time", None),
        # defects go into required columns: a bad value in an optional column is only flagged
        ("bad_type", "medfee_sumamt", "abc"), ("bad_type", "acct_pay", "abc"), ("bad_type", "psn_cash_pay", "abc"),
        ("bad_code", "insutype", "399"), ("bad_code", "insutype", "399"), ("bad_code", "refd_setl_flag", "2"),
        ("bad_format", "fixmedins_code", "H3301"),  # malformed, hence also not in providers: report bad_format
        ("bad_format", "insuplc_admdvs", "3301"),
        ("bad_format", "med_type", "XX"),  # med_type admits local codes, so it has a format rule, not a code table
        ("negative_money", "fulamt_ownpay_amt", "neg"), ("negative_money", "fulamt_ownpay_amt", "neg"),
        ("negative_money", "acct_pay", "neg_acct"),
        ("money_precision", "fulamt_ownpay_amt", "3dp"), ("money_precision", "hifp_pay", "3dp"),
        ("fund_exceeds_total", "fund_pay_sumamt", "exceed"), ("fund_exceeds_total", "fund_pay_sumamt", "exceed"),
        ("payments_do_not_add_up", "psn_cash_pay", "cash"), ("payments_do_not_add_up", "medfee_sumamt", "total"),
        ("unknown_provider", "fixmedins_code", "unknown"), ("unknown_provider", "fixmedins_code", "unknown"),
        ("duplicate_key", "setl_id", "dup"), ("duplicate_key", "setl_id", "dup"),
        ("outside_window", "setl_time", -2), ("outside_window", "setl_time", -2), ("outside_window", "setl_time", 1),
    ]
    known = set(ctx.pv.code)
    inserts: list[tuple[int, int, dict, dict]] = []  # (position, tie, row, planted entry)
    for tie, (reason, col, how) in enumerate(specs):
        tmpl = int(op_rows[rng.integers(len(op_rows))])
        entry = {"table": "settlements", "column": col, "reason": reason}
        if how == "dup":
            row = {k: v[0] for k, v in tab.slice(tmpl, 1).to_pydict().items()}
            pos = int(rng.integers(tmpl + 1, N + 1))
            entry["duplicate_of_key"] = row["setl_id"]
        else:
            row = fresh(tmpl)
            pos = int(rng.integers(0, N + 1))
            if how is None:
                row[col] = None
            elif reason in ("bad_type", "bad_code", "bad_format"):
                row[col] = how
            elif how == "neg":
                row[col] = fmt(-money(row, col))
            elif how == "neg_acct":
                delta = 1000  # acct_pay -10.00; cash takes the difference, so the parts still add up
                cash = money(row, "psn_cash_pay") + money(row, "acct_pay") + delta
                row["acct_pay"] = fmt(-delta)
                row["psn_cash_pay"] = fmt(cash)
            elif how == "3dp":  # hifp_pay goes down by half a cent so that hifp_pay <= fund_pay_sumamt still holds
                mills = money(row, col) * 10 - (5 if col == "hifp_pay" else -5)
                row[col] = f"{mills // 1000}.{mills % 1000:03d}"
            elif how == "exceed":
                row[col] = fmt(money(row, "medfee_sumamt") + 1000 + money(row, "medfee_sumamt") // 5)
                entry["also_violates"] = ["payments_do_not_add_up"]
                entry["note"] = ("fund_pay_sumamt > medfee_sumamt cannot hold together with fund + personal = total "
                                 "and non-negative personal parts; the reason to report is fund_exceeds_total")
            elif how == "cash":
                row[col] = fmt(money(row, col) + 500)
                # the quality stage reports a broken identity against the total it checks
                entry["column"] = "psn_part_amt"
            elif how == "total":
                row[col] = fmt(money(row, col) + 1000)
            elif how == "unknown":
                div = row["fixmedins_code"][1:7]
                code = f"H{div}99999"
                k = 99999
                while code in known:
                    k -= 1
                    code = f"H{div}{k:05d}"
                row[col] = code
            elif isinstance(how, int):  # -2: two years before the evaluation year; 1: the year after
                t = row["setl_time"]
                if how < 0:
                    md = t[5:10] if t[5:10] != "02-29" else "02-28"
                    row[col] = f"{year + how}-{md}{t[10:]}"
                else:
                    row[col] = f"{year + how}-01-0{1 + int(rng.integers(0, 5))}{t[10:]}"
        entry["value"] = row[entry["column"]]
        entry["key"] = row["setl_id"]
        inserts.append((pos, tie, row, entry))
    inserts.sort(key=lambda x: (x[0], x[1]))
    pieces, planted, last = [], [], 0
    for i, (pos, _tie, row, entry) in enumerate(inserts):
        pieces.append(tab.slice(last, pos - last))
        pieces.append(pa.Table.from_pylist([row], schema=tab.schema))
        entry["row"] = pos + i + 1  # 1-based data row after insertion
        planted.append(entry)
        last = pos
    pieces.append(tab.slice(last))
    return pa.concat_tables(pieces), planted


def _plant_lists(ctx: _Ctx, b: dict, rng: np.random.Generator) -> list[dict]:
    """Modify a few stays of the first block in place (rows counted in settlement order)."""
    ip = b["ip"]
    S = ip["S"]
    if S < 50:
        return []
    order = np.argsort(ip["row"], kind="stable")
    rank = np.empty(S, dtype=np.int64)
    rank[order] = np.arange(S)
    cand = np.nonzero(~ip["late"] & (ip["los"] >= 2))[0]
    if len(cand) < 10:
        return []
    chosen = cand[rng.permutation(len(cand))[:5]]
    out = []
    for k, s in enumerate(chosen):
        if k < 2:
            ip["adm"][s], ip["dscg"][s] = ip["dscg"][s], ip["adm"][s]
            out.append({"table": "setl_lists", "row": int(rank[s]) + 1, "column": "dscg_time",
                        "reason": "discharge_before_admission", "stay": int(s)})
        else:
            ip["dcla"][s] = ip["setl"][s] + int(rng.integers(ctx.deadline + 15, ctx.deadline + 90)) * 86400
            ip["late"][s] = True
            out.append({"table": "setl_lists", "row": int(rank[s]) + 1, "column": "dcla_time",
                        "reason": "late_upload", "stay": int(s)})
    return out


# --------------------------------------------------------------------------- small tables


def _drg_table(ctx: _Ctx) -> pa.Table:
    return pa.table({
        "drg_code": [g[0] for g in DRG_TABLE], "drg_name": [g[1] for g in DRG_TABLE],
        "weight": [f"{g[2]:.4f}" for g in DRG_TABLE], "mean_cost": [f"{c:.2f}" for c in ctx.drg_cost],
        "mean_los": [f"{v:.1f}" for v in ctx.drg_los],
    })


def _reported_and_expert(ctx: _Ctx, rng: np.random.Generator) -> tuple[pa.Table, pa.Table]:
    pv, cat, year = ctx.pv, ctx.cat, ctx.year
    rep_rows: list[dict] = []
    exp_rows: list[dict] = []
    region = [cat.region_of[PROVINCE_ORDER[pv.prov[i]]] for i in range(pv.n)]
    for ind in cat.indicators:
        code, source, unit, direction = ind["code"], ind["source"], ind["unit"], ind["direction"]
        years = [year - 1, year] if (ind["rule"] == "vbp" and ind["improvement"]) else [year]
        if source in ("report", "survey"):
            for i in range(pv.n):
                lvl = LEVELS[pv.level[i]]
                b = _baseline(cat, code, region[i], lvl)
                q = float(pv.q[i]) + rng.normal(0, 0.35)
                cur = _draw_value(unit, direction, b, q, ind, rng)
                for y in years:
                    value = cur if y == year else _prior_value(unit, direction, cur, rng)
                    num, den = _num_den(ctx, i, y, unit, source, value, ind, rng)
                    if num is not None and den:
                        value = num / den * (10000 if unit == "per_10k" else 1)
                    rep_rows.append({"fixmedins_code": pv.code[i], "year": str(y), "indicator": code,
                                     "value": _fmt_value(value, unit), "numerator": _fmt_num(num),
                                     "denominator": _fmt_num(den), "source": source})
        elif source == "expert":
            for i in range(pv.n):
                panel = [f"{PROVINCE_ORDER[pv.prov[i]]}E{k:02d}" for k in range(1, 10)]
                experts = sorted(panel[j] for j in rng.permutation(9)[:3])
                for y in years:
                    shift = 0.0 if y == year else -2.0
                    for e in experts:
                        s = 84 + 7 * float(pv.q[i]) + shift + rng.normal(0, 3.5)
                        if i == pv.special_b:
                            s -= 6  # the agreement audit found the fraud case
                        exp_rows.append({"fixmedins_code": pv.code[i], "year": str(y), "indicator": code,
                                         "expert_id": e, "score": f"{min(100.0, max(0.0, s)):.1f}"})
    rep_rows.sort(key=lambda r: (r["fixmedins_code"], r["year"], r["indicator"]))
    exp_rows.sort(key=lambda r: (r["fixmedins_code"], r["year"], r["indicator"], r["expert_id"]))
    rep = pa.Table.from_pylist(rep_rows, schema=pa.schema([(c, pa.string()) for c in TABLE_COLUMNS["reported"]]))
    exp = pa.Table.from_pylist(exp_rows, schema=pa.schema([(c, pa.string()) for c in TABLE_COLUMNS["expert_scores"]]))
    return rep, exp


DEFAULT_BASE = {"percent": {"up": 0.85, "down": 0.10}, "minutes": 20.0, "days": 10.0, "count": 10.0,
                "score": 80.0, "ratio": 1.0, "index": 1.0, "yuan": 1000.0, "per_10k": 5.0}


def _draw_value(unit: str, direction: str, b: float | None, q: float, ind: dict, rng) -> float:
    """A value around the baseline; good providers (q > 0) on the good side."""
    if b is None:
        d = DEFAULT_BASE.get(unit, 1.0)
        b = d.get(direction, 0.5) if isinstance(d, dict) else d
    if direction == "target" and ind.get("low") is not None and ind.get("high") is not None:
        lo, hi = float(ind["low"]), float(ind["high"])
        mid, half = (lo + hi) / 2, (hi - lo) / 2
        return mid + half * rng.normal(0, 0.5) - (abs(q) if q < 0 else 0) * half * 0.8
    if direction == "monitor":
        return b * (1 + rng.normal(0, 0.1))
    sign = 1 if direction == "up" else -1
    if unit == "percent" and direction == "up" and b >= 0.99:  # a 100 % target: only weaker providers fall short
        return float(np.clip(b - 0.09 * max(0.0, 0.3 - q), 0.0, 1.0))
    if unit == "percent":
        room = min(b, 1 - b) if direction == "up" else b
        spread = 0.55 * room + 0.01
        if direction == "up":
            spread = min(max(spread, 0.09 * b), 0.2 * b)
        v = b + sign * spread * q
        return float(np.clip(v, 0.0, 1.0))
    v = b * (1 + sign * 0.22 * q)
    if unit == "score":
        return float(np.clip(v, 0.0, 100.0))
    return max(v, 0.0)


def _prior_value(unit: str, direction: str, cur: float, rng) -> float:
    """Last year's value: most providers improved a little."""
    step = abs(rng.normal(0.02, 0.02))
    if unit == "percent":
        v = cur - step if direction == "up" else cur + step * 0.5
        return float(np.clip(v, 0.0, 1.0))
    return cur * (1 - step) if direction == "up" else cur * (1 + step)


def _num_den(ctx: _Ctx, i: int, y: int, unit: str, source: str, value: float, ind: dict, rng):
    """Numerator/denominator for rates: survey sample sizes, report counts, per-10k by encounters."""
    level = int(ctx.pv.level[i])
    if unit == "per_10k":
        # denominator: the provider's encounters (outpatient visits + stays) in the bundle, as the
        # insurer fills it in; the bundle is a sample, so the complaint count itself is left empty
        den = int(ctx.encounters[i, 1 if y == ctx.year else 0])
        return None, (den if den > 0 else None)
    if unit != "percent":
        return None, None
    if source == "survey":
        den = int(rng.integers(*[(300, 600), (150, 300), (60, 150)][level]))
    else:
        vmin = ind.get("volume_min") or 0
        den = int(max(rng.integers(*[(40, 200), (15, 80), (5, 30)][level]), vmin))
    num = int(round(value * den))
    return num, den


def _fmt_value(value: float, unit: str) -> str:
    if unit in ("count",):
        return str(int(round(value)))
    if unit == "percent":
        return f"{value:.4f}"
    return f"{value:.2f}"


def _fmt_num(v) -> str | None:
    return None if v is None else str(int(v))


# --------------------------------------------------------------------------- main entry


def generate_example(out_dir: Path, providers: int = 24, rows: int = 40000, seed: int = 2025, year: int = 2025,
                     project_dir: Path | None = None, fmt: str = "mixed") -> ExampleSummary:
    """Write a deterministic synthetic bundle to `out_dir` and return what was written."""
    if fmt not in FORMATS:
        raise PingyiError(f"--format {fmt}: unknown; expected one of {', '.join(FORMATS)}")
    if providers < 9:
        raise PingyiError(f"--providers {providers}: too few; expected at least 9 (every level in all three provinces)")
    if rows < 20 * providers:
        raise PingyiError(f"--rows {rows}: too few for {providers} providers; expected at least {20 * providers}")
    if not 2000 <= year <= 2100:
        raise PingyiError(f"--year {year}: expected a year between 2000 and 2100")
    if project_dir is None:
        from pingyi.spec.project import default_project_dir

        project_dir = default_project_dir()
    cat = _read_catalogue(Path(project_dir), year)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise PingyiError(f"{out_dir}: exists and is not a directory")
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in TABLE_ORDER:  # a previous run in another format must not leave a second copy of a table
        for ext in ("csv", "parquet", "xlsx", "json", "xml"):
            stale = out_dir / f"{name}.{ext}"
            if stale.exists():
                stale.unlink()

    rng = np.random.Generator(np.random.PCG64(seed))
    pv = _make_providers(rng, providers)
    params = _make_params(rng, pv)
    rates = _make_rates(np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 5]))), pv, params, cat)
    pools = _make_pools(rows, pv, params)
    drg_rw = np.array([g[2] for g in DRG_TABLE])
    drg_mort = np.array([g[4] for g in DRG_TABLE])
    ctx = _Ctx(year=year, pv=pv, params=params, pools=pools, cat=cat,
               deadline=int(cat.data.get("upload_deadline_days", 30) or 30),
               drg_cost=np.round(drg_rw * DRG_BASE_COST, 2), drg_los=np.array([g[3] for g in DRG_TABLE]),
               drg_mort=drg_mort, drg_lowrisk=drg_mort <= LOW_RISK_MORTALITY, next_setl={0: 0, 1: 0},
               next_mdtrt={0: 0, 1: 0}, prior_hifp=np.zeros(pv.n, np.int64),
               encounters=np.zeros((pv.n, 2), np.int64), rates=rates)

    n_planted_settlements = 28 if rows >= 2000 else 0
    clean_rows = rows - n_planted_settlements
    per_provider = _allocate(clean_rows, params.vol)

    ext = {name: (MIXED_FORMATS[name] if fmt == "mixed" else fmt) for name in TABLE_ORDER}
    level = 9 if rows <= 200_000 else None  # level 9 saves ~7 % on the committed example; too slow at scale
    sinks = {name: _Sink(out_dir / f"{name}.{ext[name]}", ext[name], TABLE_COLUMNS[name], year, level)
             for name in TABLE_ORDER}

    # blocks of consecutive providers, about CHUNK_ROWS settlements each
    blocks: list[list[int]] = [[]]
    acc = 0
    for p in range(pv.n):
        if acc >= CHUNK_ROWS and blocks[-1]:
            blocks.append([])
            acc = 0
        blocks[-1].append(p)
        acc += int(per_provider[p])

    planted_setl: list[dict] = []
    planted_lists: list[dict] = []
    audit: list[dict] = []
    plant_rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 4])))

    def settlements_job(b: dict, first: bool):
        def job():
            tab = _settlement_table(ctx, b)
            if first:
                tab, found = _plant_settlements(ctx, b, tab, plant_rng)
                planted_setl.extend(found)
            sinks["settlements"].write(tab)
        return job

    workers = _Workers(["settlements", "setl_lists", "fee_items"])
    try:
        for bi, members in enumerate(blocks):
            brng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 1, bi])))
            xrng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 6, bi])))
            m = np.array(members)
            b = _gen_block(ctx, m, per_provider[m], brng, xrng)
            _code_gaps(ctx, b, np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 7, bi]))))
            if bi == 0:
                planted_lists = _plant_lists(ctx, b, brng)
            audit.extend(_audit_rows(ctx, b, brng))
            # provider totals used by prepayment and reported denominators (clean rows only)
            prior = b["yi"] == 0
            np.add.at(ctx.prior_hifp, b["prov"][prior], b["money"]["hifp_pay"][prior])
            enc = b["kind"] != 2
            np.add.at(ctx.encounters, (b["prov"][enc], b["yi"][enc]), 1)
            # id strings once, shared by the three tables (Arrow arrays are immutable)
            b["ids"] = {c: _str(b[c]) for c in ("setl_id", "mdtrt_id", "psn_no")}
            # b is read-only from here on: the workers build and write its tables
            workers.submit("settlements", settlements_job(b, bi == 0))
            workers.submit("setl_lists", lambda b=b: sinks["setl_lists"].write(_list_table(ctx, b)))
            workers.submit("fee_items", lambda b=b: sinks["fee_items"].write(_fee_table(ctx, b)))
            del b
    finally:
        workers.close()
    planted = planted_setl + planted_lists

    # providers (prepayment: about one month of last year's pooled-fund spending)
    prng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 2])))
    month = ctx.prior_hifp / 12.0 * prng.uniform(0.9, 1.1, pv.n)
    prepay = (np.round(month / 10000) * 10000).astype(np.int64)  # whole hundreds of yuan
    prepay_str = _money(prepay).to_pylist()
    for i in pv.no_prepay:
        prepay_str[i] = None
    sinks["providers"].write(pa.table({
        "fixmedins_code": pv.code, "fixmedins_name": pv.name, "hosp_lv": [LEVELS[v] for v in pv.level],
        "fixmedins_type": pv.ftype, "prepayment": pa.array(prepay_str, pa.string())}))

    # audit flags in time order per year
    audit.sort(key=lambda r: (r["y"], r["time"], r["prov"], r["setl_id"]))
    counters = {0: 0, 1: 0}
    flag_rows = []
    for r in audit:
        counters[r["y"]] += 1
        yy = year - 1 + r["y"]
        flag_rows.append({"flag_id": f"ZN{yy}{counters[r['y']]:07d}", "fixmedins_code": pv.code[r["prov"]],
                          "setl_id": r["setl_id"], "rule_code": r["rule_code"], "rule_type": r["rule_type"],
                          "amount": f"{r['amount'] // 100}.{r['amount'] % 100:02d}",
                          "flag_time": _fmt_time(r["time"]),
                          "handled_time": None if r["handled"] is None else _fmt_time(r["handled"]),
                          "confirmed": r["confirmed"], "fraud": r["fraud"]})
    sinks["audit_flags"].write(pa.Table.from_pylist(flag_rows, schema=sinks["audit_flags"].schema))

    rrng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 3])))
    rep, expt = _reported_and_expert(ctx, rrng)
    sinks["reported"].write(rep)
    sinks["expert_scores"].write(expt)
    sinks["drg_groups"].write(_drg_table(ctx))
    for name in TABLE_ORDER:
        sinks[name].close()

    for entry in planted:
        entry.pop("stay", None)
    planted.sort(key=lambda e: (TABLE_ORDER.index(e["table"]), e["row"]))
    summary = ExampleSummary(
        out_dir=out_dir, providers=pv.n, rows=sinks["settlements"].rows, seed=seed, year=year, format=fmt,
        table_rows={name: sinks[name].rows for name in TABLE_ORDER},
        severe_casemix_provider=pv.code[pv.special_a], fraud_provider=pv.code[pv.special_b],
        good_providers=[pv.code[i] for i in pv.good], poor_providers=[pv.code[i] for i in pv.poor],
        planted=len(planted))
    files = {name: f"{name}.{ext[name]}" for name in TABLE_ORDER}
    planted_doc = {
        "about": "Rows planted with exactly one defect each, for the data-quality stage. row = 1-based data row "
                 "(header excluded) in the file named; reason = the code the quality stage should report.",
        "year": year, "seed": seed, "files": files,
        "natural": {"late_upload": "late uploads also occur naturally (realistic, more at poor providers); "
                                   "only the planted ones are listed"},
        "rows": planted,
    }
    _write_json(out_dir / "_planted.json", planted_doc)
    info = summary.as_dict()
    info["about"] = ("Synthetic pingyi example bundle (pingyi example). Names and people are invented; codes use real "
                     "GB/T 2260 divisions of 浙江/河南/四川. Regenerate with the same arguments for identical files.")
    info["files"] = files
    info["providers_detail"] = [
        {"fixmedins_code": pv.code[i], "fixmedins_name": pv.name[i], "hosp_lv": LEVELS[pv.level[i]],
         "province": GEOGRAPHY[PROVINCE_ORDER[pv.prov[i]]]["name"], "region": cat.region_of[PROVINCE_ORDER[pv.prov[i]]],
         "profile": ("good" if i in pv.good else "poor" if i in pv.poor else
                     "severe_casemix_efficient" if i == pv.special_a else "fraud" if i == pv.special_b else "average")}
        for i in range(pv.n)]
    _write_json(out_dir / "_example.json", info)
    summary.files = {p.name: p.stat().st_size for p in sorted(out_dir.iterdir())
                     if p.is_file() and (p.stem in TABLE_COLUMNS or p.name in ("_planted.json", "_example.json"))}
    return summary


def _fmt_time(seconds: int) -> str:
    return dt.datetime.fromtimestamp(int(seconds), dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _write_json(path: Path, doc: dict) -> None:
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
