"""Insured persons: pools per insured area (insuplc_admdvs), the area and person of each encounter,
their ages and the share of employees."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pingyi.tools.example.geography import CROSS_ORIGINS, GEOGRAPHY, OTHER_PREFECTURES, PROVINCE_ORDER
from pingyi.tools.example.params import Params
from pingyi.tools.example.providers import Providers

# Persons live in pools per insured-area code (insuplc_admdvs): employees first, then residents.
# Age is monotone in the position inside each segment, so a target age maps to a position;
# odd positions are women. psn_no = admdvs (6 digits) + 10-digit position.

EMP_AGE = (np.array([0.0, 0.15, 0.45, 0.75, 0.93, 1.0]), np.array([18.0, 30, 45, 60, 75, 95]))
RES_AGE = (np.array([0.0, 0.10, 0.22, 0.45, 0.67, 0.89, 1.0]), np.array([0.0, 6, 18, 45, 60, 75, 100]))


@dataclass
class Pools:
    admdvs: np.ndarray  # int64 codes
    emp: np.ndarray  # employee segment size (even)
    res: np.ndarray  # resident segment size (even)
    index: dict[int, int]


def make_pools(rows: int, pv: Providers, params: Params) -> Pools:
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
    return Pools(admdvs=np.array(codes, dtype=np.int64), emp=emp, res=res, index={c: i for i, c in enumerate(codes)})


def pick_area(rng, pv: Providers, params: Params, pools: Pools, prov_idx: np.ndarray, inpatient: bool) -> np.ndarray:
    """Pool index for each encounter: local prefecture, provincial, other prefecture, other province."""
    n = len(prov_idx)
    u = rng.random(n)
    cross = params.cross[prov_idx] * (1.6 if inpatient else 1.0)
    intra = params.intra[prov_idx] * (1.3 if inpatient else 1.0)
    capital_tertiary = (pv.city[prov_idx] == 0) & (pv.level[prov_idx] == 0)
    provincial = np.where(capital_tertiary, 0.03, 0.0)
    out = local_pool_lut(pv, pools)[prov_idx]
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


def pick_person(
    rng, pools: Pools, pool: np.ndarray, employee: np.ndarray, target_age: np.ndarray | None, female: np.ndarray | None
) -> np.ndarray:
    """Position inside the pool (employees [0, emp), residents [emp, emp+res))."""
    n = len(pool)
    emp = pools.emp[pool]
    res = pools.res[pool]
    if target_age is None:
        u = rng.random(n)
    else:
        u = np.where(
            employee, np.interp(target_age, EMP_AGE[1], EMP_AGE[0]), np.interp(target_age, RES_AGE[1], RES_AGE[0])
        )
        u = np.clip(u + rng.normal(0, 0.004, n), 0.0, 1.0 - 1e-9)
    pos = np.where(employee, (u * emp).astype(np.int64), emp + (u * res).astype(np.int64))
    if female is not None:
        pos = np.where(female, pos | 1, pos)
    return pos


def person_age(pools: Pools, pool: np.ndarray, pos: np.ndarray) -> np.ndarray:
    emp = pools.emp[pool]
    res = pools.res[pool]
    is_emp = pos < emp
    u_emp = (pos + 0.5) / emp
    u_res = (pos - emp + 0.5) / res
    age = np.where(is_emp, np.interp(u_emp, EMP_AGE[0], EMP_AGE[1]), np.interp(u_res, RES_AGE[0], RES_AGE[1]))
    return age.astype(np.int64)


def employee_share(pv: Providers, prov_idx: np.ndarray) -> np.ndarray:
    table = np.array([[0.62, 0.45, 0.35], [0.40, 0.25, 0.15], [0.48, 0.30, 0.20]])
    return table[pv.prov[prov_idx], pv.level[prov_idx]]


def local_pool_lut(pv: Providers, pools: Pools) -> np.ndarray:
    """Pool index of each provider's own prefecture."""
    return np.array(
        [pools.index[int(GEOGRAPHY[PROVINCE_ORDER[pv.prov[p]]]["cities"][pv.city[p]][0] + "00")] for p in range(pv.n)],
        dtype=np.int64,
    )
