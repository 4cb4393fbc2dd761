"""The providers: level, name, division code and type, DRG profile and latent quality, and which
ones are special (severe case mix; fraud), good, poor, or without a prepayment; their credit ratings
(信用评价) and which ones have no confirmed violation in the evaluation year."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pingyi.errors import PingyiError
from pingyi.tools.example.geography import GEOGRAPHY, PROVINCE_ORDER, STREETS, TOWNS, cn_ordinal

CITY_CYCLE = (0, 1, 0, 2, 0, 1, 2, 0, 1, 2)  # capital gets the larger share of tertiary hospitals


@dataclass
class Providers:
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
    credit_rating: list[str | None]  # providers.credit_rating: A / AA / AAA, B, or blank
    clean: list[int]  # no confirmed audit flag in the evaluation year (the credit bonus's condition)

    @property
    def n(self) -> int:
        return len(self.code)


def make_providers(rng: np.random.Generator, n: int) -> Providers:
    """n providers, about 26 % 三级, 32 % 二级 and the rest 基层, sorted by code."""
    n3 = max(3, round(0.26 * n))
    n2 = max(3, round(0.32 * n))
    n1 = n - n3 - n2
    if n1 < 3:
        raise PingyiError(f"--providers {n}: too few; expected at least 9 (every level in all three provinces)")
    used_names: set[str] = set()
    records = _place_providers(rng, (n3, n2, n1), used_names)
    a_idx, b_idx = _special_providers(records, used_names)

    seq_by_div: dict[str, int] = {}
    for r in records:
        r["code"] = _code_for(rng, r["div"], seq_by_div)
    order = sorted(range(len(records)), key=lambda i: records[i]["code"])
    records = [records[i] for i in order]
    a_idx, b_idx = order.index(a_idx), order.index(b_idx)

    level = np.array([r["level"] for r in records])
    q, good, poor, no_prepay = _quality(rng, level, a_idx, b_idx)
    ratings, clean = _credit(len(records), good, poor, a_idx, b_idx)

    return Providers(
        code=[r["code"] for r in records],
        name=[r["name"] for r in records],
        level=level,
        ftype=[r["ftype"] for r in records],
        prov=np.array([PROVINCE_ORDER.index(r["prov"]) for r in records]),
        city=np.array([r["city"] for r in records]),
        profile=[r["profile"] for r in records],
        q=q,
        special_a=a_idx,
        special_b=b_idx,
        good=sorted(good),
        poor=sorted(poor),
        no_prepay=no_prepay,
        credit_rating=ratings,
        clean=clean,
    )


# ratings of the average providers in turn: qualifying ones, a B and a blank, so both outcomes show
AVERAGE_RATINGS = ("A", "AA", "B", None, "AAA", "A")


def _credit(n: int, good: list[int], poor: list[int], a_idx: int, b_idx: int) -> tuple[list[str | None], list[int]]:
    """Credit ratings (no random draw, so the other tables stay as they were): the good providers AAA /
    AA, the poor ones B or blank, the fraud case AA (refused: vetoed), the severe-case-mix hospital A; the
    rest in turn from AVERAGE_RATINGS. The good providers and the severe-case-mix hospital have no
    confirmed violation in the evaluation year, so they get the bonus; every other rated provider has
    some and is refused."""
    ratings: list[str | None] = []
    k = 0
    for i in range(n):
        if i in good:
            ratings.append("AAA" if good.index(i) % 2 == 0 else "AA")
        elif i in poor:
            ratings.append("B" if poor.index(i) % 2 == 0 else None)
        elif i == a_idx:
            ratings.append("A")
        elif i == b_idx:
            ratings.append("AA")
        else:
            ratings.append(AVERAGE_RATINGS[k % len(AVERAGE_RATINGS)])
            k += 1
    return ratings, sorted([*good, a_idx])


def _place_providers(rng: np.random.Generator, level_counts: tuple[int, int, int], used_names: set[str]) -> list[dict]:
    """One record per provider, level by level with the provinces in turn: prefecture, division,
    name, type and DRG profile."""
    records: list[dict] = []
    counters = {(p, lv): 0 for p in PROVINCE_ORDER for lv in range(3)}
    for lv, count in enumerate(level_counts):
        for i in range(count):
            pcode = PROVINCE_ORDER[i % 3]
            k = counters[(pcode, lv)]
            counters[(pcode, lv)] += 1
            geo = GEOGRAPHY[pcode]
            if lv == 0:
                ci, div, name, ftype, profile = _tertiary(geo, records, pcode, k)
            elif lv == 1:
                ci, div, name, ftype, profile = _secondary(geo, records, pcode, k)
            else:
                ci, div, name, ftype, profile = _primary(rng, geo, records, pcode, k)
            records.append(
                {
                    "level": lv,
                    "prov": pcode,
                    "city": ci,
                    "div": div,
                    "name": _unique(name, used_names),
                    "ftype": ftype,
                    "profile": profile,
                }
            )
    return records


def _unique(name: str, used_names: set[str]) -> str:
    """The name, or when another provider has it already, the name numbered as a branch (分院)."""
    alt, k = name, 1
    while alt in used_names:
        k += 1
        alt = f"{name}（{cn_ordinal(k)}分院）"
    used_names.add(alt)
    return alt


def _tertiary(geo: dict, records: list[dict], pcode: str, k: int) -> tuple[int, str, str, str, str]:
    """The k-th 三级 hospital of a province: people's, TCM, central and maternity hospitals of a prefecture."""
    city_cycle = CITY_CYCLE
    ci = city_cycle[k % len(city_cycle)]
    ccode, cname, districts, counties = geo["cities"][ci]
    rank = sum(1 for r in records if r["level"] == 0 and r["prov"] == pcode and r["city"] == ci)
    div = districts[rank % len(districts)][0]
    templates = (
        [
            (f"{cname}第一人民医院", "综合医院", "general"),
            (f"{cname}中医院", "中医医院", "tcm"),
            (f"{cname}中心医院", "综合医院", "general"),
            (f"{cname}妇幼保健院", "妇幼保健院", "maternity"),
            (f"{cname}第二人民医院", "综合医院", "general"),
            (f"{cname}第三人民医院", "综合医院", "general"),
        ]
        if ci == 0
        else [
            (f"{cname}中心医院", "综合医院", "general"),
            (f"{cname}中医院", "中医医院", "tcm"),
            (f"{cname}人民医院", "综合医院", "general"),
            (f"{cname}妇幼保健院", "妇幼保健院", "maternity"),
            (f"{cname}第二人民医院", "综合医院", "general"),
        ]
    )
    if rank < len(templates):
        name, ftype, profile = templates[rank]
    else:
        name, ftype, profile = f"{cname}第{cn_ordinal(rank - len(templates) + 4)}人民医院", "综合医院", "general"
    return ci, div, name, ftype, profile


def _secondary(geo: dict, records: list[dict], pcode: str, k: int) -> tuple[int, str, str, str, str]:
    """The k-th 二级 hospital of a province: a county's or district's people's, TCM or maternity hospital."""
    ci = k % 3
    ccode, cname, districts, counties = geo["cities"][ci]
    rank = sum(1 for r in records if r["level"] == 1 and r["prov"] == pcode and r["city"] == ci)
    places = counties + [(d, f"{cname}{dn}") for d, dn in districts]
    kinds = [
        ("人民医院", "综合医院", "general"),
        ("中医医院", "中医医院", "tcm"),
        ("妇幼保健院", "妇幼保健院", "maternity"),
        ("第二人民医院", "综合医院", "general"),
    ]
    div, place = places[rank % len(places)]
    suffix, ftype, profile = kinds[k % len(kinds)]
    name = f"{place}{suffix}"  # _unique() numbers a repeat as a branch (分院)
    return ci, div, name, ftype, profile


def _primary(
    rng: np.random.Generator, geo: dict, records: list[dict], pcode: str, k: int
) -> tuple[int, str, str, str, str]:
    """The k-th 基层 provider of a province: a community health centre or a township health centre."""
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
    return ci, div, name, ftype, profile


def _special_providers(records: list[dict], used_names: set[str]) -> tuple[int, int]:
    """Indices of special (a), severe case mix with efficient care, and special (b), the fraud case;
    (b) is renamed and made an orthopaedic hospital."""
    # special (b): a private orthopaedic 二级 hospital in 四川 (the fraud case)
    b_idx = next(i for i, r in enumerate(records) if r["level"] == 1 and r["prov"] == "51")
    rb = records[b_idx]
    counties = GEOGRAPHY["51"]["cities"][rb["city"]][3]
    used_names.discard(rb["name"])
    rb.update(
        div=counties[0][0], name=_unique(f"{counties[0][1]}仁济骨科医院", used_names), ftype="专科医院", profile="ortho"
    )
    # special (a): the first general tertiary hospital in 河南's capital (severe case mix, efficient care)
    a_idx = next(
        i for i, r in enumerate(records) if r["level"] == 0 and r["prov"] == "41" and r["profile"] == "general"
    )
    return a_idx, b_idx


def _code_for(rng: np.random.Generator, div: str, seq_by_div: dict[str, int]) -> str:
    """fixmedins_code: H + division + a sequence rising by random steps within the division."""
    seq = seq_by_div.get(div, 0) + int(rng.integers(1, 9))
    seq_by_div[div] = seq
    return f"H{div}{seq:05d}"


def _quality(
    rng: np.random.Generator, level: np.ndarray, a_idx: int, b_idx: int
) -> tuple[np.ndarray, list[int], list[int], list[int]]:
    """Latent quality q (+ good), the good and poor providers of each level, and the providers
    without a prepayment."""
    n = len(level)
    q = rng.normal(0.0, 0.5, n)
    good: list[int] = []
    poor: list[int] = []
    for lv in range(3):
        members = [i for i in range(n) if level[i] == lv and i not in (a_idx, b_idx)]
        members = [members[j] for j in rng.permutation(len(members))]
        k = max(1, round(len(members) / 6))
        good += members[:k]
        poor += members[k : 2 * k]
    q[good] = rng.uniform(1.6, 2.0, len(good))
    q[poor] = rng.uniform(-2.0, -1.6, len(poor))
    q[a_idx] = 1.0
    q[b_idx] = 0.6
    others = [i for i in range(n) if i not in (a_idx, b_idx)]
    k = max(2, round(0.08 * n))
    no_prepay = sorted(others[j] for j in rng.permutation(len(others))[:k])
    return q, good, poor, no_prepay
