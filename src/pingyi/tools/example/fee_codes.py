"""The fee-line layout of an inpatient stay, and the catalogue codes (med_list_codg) a fee line's
main item carries: national codes by item type and hospital-internal ones."""

from __future__ import annotations

import numpy as np

# Fee lines of an inpatient stay, one per category (china.md §4.3): (med_chrgitm, vbp_flag, nego_flag,
# vbp_generic_flag, unit price in yuan per minimum unit, code type). Unit price "day": one unit per day
# of stay; "op": one unit per operation; "vbp": the stay's own price of a winning product (x the price
# ratio for a non-winning one), set so that quantities carry the provider's 集采 use (D3.03).
# Western drugs (09) come as four lines: 集采 winning products, non-winning products of the same
# generic names (原研药, other makers), other western drugs, and 国家谈判 drugs.
IP_FEE_COLUMNS = [
    ("01", None, None, None, "day", 1),
    ("02", None, None, None, "day", 2),
    ("03", None, None, None, 120.0, 3),
    ("04", None, None, None, 18.0, 4),
    ("05", None, None, None, 45.0, 5),
    ("06", None, None, None, "op", 6),
    ("07", None, None, None, "day", 7),
    ("08", None, None, None, 90.0, 8),
    ("09", "1", "0", "1", "vbp", 16),
    ("09", "0", "0", "1", "vbp", 17),
    ("09", "0", "0", "0", 9.0, 9),
    ("09", "0", "1", "0", 180.0, 15),
    ("10", "0", "0", "0", 0.3, 10),
    ("11", "0", "0", "0", 3.5, 11),
    ("14", None, None, None, 25.0, 14),
]
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
VBP_GENERICS = [
    ("C10AA", "A005"),
    ("C08CA", "A001"),
    ("A10BA", "A002"),
    ("J05AF", "A010"),
    ("B01AC", "A004"),
    ("C09CA", "A003"),
    ("A02BC", "A001"),
    ("J01DC", "A002"),
    ("C10AA", "A007"),
    ("R03DC", "A003"),
    ("J01MA", "A012"),
    ("C07AB", "A002"),
    ("A10BH", "A001"),
    ("N05AH", "A004"),
    ("C09CA", "A006"),
    ("M01AE", "A001"),
]
OTHER_WEST = [
    ("J01CR", "A002"),
    ("A02BC", "A005"),
    ("N02BE", "A001"),
    ("C01DA", "A002"),
    ("B05BB", "A001"),
    ("H02AB", "A004"),
    ("R05CB", "A006"),
    ("A03FA", "A003"),
    ("J01FA", "A010"),
    ("C03CA", "A001"),
    ("B05XA", "A003"),
    ("N05BA", "A012"),
]
NEGO_WEST = (
    [("L01XC", f"B{i:03d}") for i in range(1, 16)]
    + [("L01XE", f"B{i:03d}") for i in range(20, 32)]
    + [("A10BJ", f"B{i:03d}") for i in range(40, 46)]
    + [("B01AF", f"B{i:03d}") for i in range(50, 54)]
)
ZCY = [
    ("A04CA", "A011"),
    ("A06AA", "A030"),
    ("A12BA", "A104"),
    ("A03AD", "A052"),
    ("A10BA", "A017"),
    ("A14AA", "A008"),
    ("A17AA", "A021"),
    ("A09DA", "A045"),
]
SERVICES = {
    1: ("110900001", "110900002", "110900003"),
    2: ("110200001", "110200002", "110200005"),
    3: ("210102015", "220100001", "220301001", "310300001"),
    4: ("250101001", "250102001", "250301001", "250305001", "250401001"),
    5: ("120400001", "120400006", "310800001", "340200001"),
    6: ("330100001", "330702001", "331001001", "331303001"),
    7: ("120100001", "120100002", "120100003"),
    12: ("110200008",),
    13: ("110100001",),
    14: ("111000001", "120800001"),
}
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
    by_type[8] = [
        f"C{a:02d}{b:02d}{c:02d}{d:03d}{e:03d}{f:03d}{g:04d}"
        for a, b, c, d, e, f, g in [
            (2, 3, 1, 12, 1, 4, 1021),
            (3, 1, 2, 5, 2, 1, 2210),
            (6, 2, 1, 31, 3, 2, 3307),
            (9, 1, 4, 7, 1, 3, 1183),
            (13, 2, 2, 15, 4, 1, 4402),
            (14, 3, 1, 2, 2, 5, 5519),
            (2, 1, 3, 40, 1, 2, 6630),
            (11, 4, 1, 9, 3, 1, 7745),
        ]
    ]
    for i, (cls, name) in enumerate(VBP_GENERICS):
        by_type[16].append(f"X{cls}{name}A001{1 + i % 3:03d}{_maker(i)}")
        for j in (1, 2):  # the originator and another maker
            by_type[17].append(f"X{cls}{name}A001{1 + i % 3:03d}{_maker(100 + 10 * i + j)}")
    by_type[9] = [
        f"X{cls}{name}{'B002' if i % 3 == 0 else 'A001'}{1 + i % 4:03d}{_maker(300 + i)}"
        for i, (cls, name) in enumerate(OTHER_WEST)
    ]
    by_type[15] = [f"X{cls}{name}B002{1 + i % 2:03d}{_maker(500 + i)}" for i, (cls, name) in enumerate(NEGO_WEST)]
    by_type[11] = [f"Z{cls}{name}A{1 + i % 5:03d}{_maker(700 + i)}" for i, (cls, name) in enumerate(ZCY)]
    by_type[10] = [f"T{2000001 + 1013 * i:09d}" for i in range(8)]
    lut: list[str] = []
    width = max(len(v) for v in by_type.values())
    table = np.zeros((18, width), dtype=np.int32)
    count = np.zeros(18, dtype=np.int64)
    for t, type_codes in by_type.items():
        count[t] = len(type_codes)
        for k, code in enumerate(type_codes):
            table[t, k] = len(lut)
            lut.append(code)
    local = np.zeros((15, 4), dtype=np.int32)
    for cat in range(1, 15):
        for k in range(4):
            local[cat, k] = len(lut)
            lut.append(f"YN{cat:02d}{101 + 17 * k + cat:05d}")
    return lut, table, count, local


CODE_LUT, CODE_TABLE, CODE_COUNT, LOCAL_CODES = _build_codes()


def pick_codes(rng: np.random.Generator, ctype: np.ndarray) -> np.ndarray:
    """A catalogue code (index into CODE_LUT) of each line's code type, uniformly within the type."""
    ctype = np.asarray(ctype, dtype=np.int64)
    k = (rng.random(len(ctype)) * CODE_COUNT[ctype]).astype(np.int64)
    return CODE_TABLE[ctype, k]
