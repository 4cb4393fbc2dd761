"""Per-provider behaviour: volume and growth, costs, drug and material shares, rates of events
(late uploads, deaths, readmissions, transfers, audit flags ...) and the DRG mix, all drawn
around each provider's latent quality."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pingyi.tools.example.drg import DRG_TABLE
from pingyi.tools.example.providers import Providers


@dataclass(frozen=True)
class Scale:
    """How big a bundle is: default settlement rows, and per level (三级, 二级, 基层) the relative
    settlements per provider and the inpatient share of its encounters."""

    rows: int
    vol: tuple[float, float, float]
    ip_share: tuple[float, float, float]
    ip_share_ortho: float  # the orthopaedic specialist hospital
    ip_share_special: float  # the severe-case-mix tertiary hospital
    vol_sd: float = 0.35  # spread of the providers' volumes within a level (log scale)
    tertiary_profile_vol: tuple[tuple[str, float], ...] = ()  # volume factor of a 三级 hospital by profile
    sparse_fee_lines: bool = False  # 谈判 and 其他费 lines only on the stays that have them (fee_lines.py)


# "province": a province's volumes per provider, as large as a committed bundle and a 30-second
# `pingyi score` allow (benchmarks/README.md): about 12,000 stays a year at a 三级 hospital (6,000-20,000;
# TCM and maternity ones fewer), 1,700 at a 二级 one, a few hundred at a township
# centre, none at a community centre. Outpatient settlements are far fewer than real (a real 三级
# hospital has 15-20 outpatient visits per discharge, here about 1.2; 基层 2,000-3,000 a year): the
# outpatient indicators are per-visit ratios, and full outpatient volume would be ~10 million rows.
# "small": the compact layout of the tests (about 70 stays a year at a 二级 hospital).
SCALES = {
    "province": Scale(
        rows=440_000,
        vol=(32.0, 5.5, 3.5),
        vol_sd=0.2,
        ip_share=(0.45, 0.43, 0.06),
        ip_share_ortho=0.6,
        ip_share_special=0.5,
        tertiary_profile_vol=(("general", 1.25), ("tcm", 0.75), ("maternity", 0.6)),
        sparse_fee_lines=True,
    ),
    "small": Scale(
        rows=40_000, vol=(10.0, 3.2, 1.0), ip_share=(0.13, 0.11, 0.035), ip_share_ortho=0.24, ip_share_special=0.20
    ),
}


@dataclass
class Params:
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


def make_params(rng: np.random.Generator, pv: Providers, scale: Scale) -> Params:
    """Each provider's behaviour from its level, province, profile and latent quality q; volumes
    and inpatient shares from `scale`."""
    n = pv.n
    lv = pv.level
    pr = pv.prov
    q = pv.q

    def ln(sd):
        return np.exp(rng.normal(0.0, sd, n))

    vol = np.array(scale.vol)[lv] * np.clip(ln(scale.vol_sd), 0.7, 1.6)
    for profile, factor in scale.tertiary_profile_vol:
        vol[(lv == 0) & (np.array(pv.profile) == profile)] *= factor
    vol[pv.special_a] *= 1.4
    vol_growth = 0.025 + rng.normal(0, 0.015, n) - 0.008 * q
    ip_share = np.array(scale.ip_share)[lv] * ln(0.15)
    ip_share[[i for i in range(n) if pv.ftype[i] == "社区卫生服务中心"]] = 0.0  # most community centres have no beds
    ip_share[[i for i in range(n) if pv.profile[i] == "ortho"]] = scale.ip_share_ortho
    ip_share[pv.special_a] = scale.ip_share_special
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
    ecert = np.clip(
        np.array([0.62, 0.46, 0.40])[pr] + np.array([0.06, 0.0, -0.10])[lv] + 0.05 * q + rng.normal(0, 0.03, n),
        0.05,
        0.95,
    )
    cross = np.array([[0.08, 0.03, 0.01], [0.025, 0.01, 0.003], [0.035, 0.012, 0.004]])[pr, lv] * ln(0.2)
    intra = np.array([0.12, 0.04, 0.015])[lv] * np.where(pv.city == 0, 1.5, 1.0) * ln(0.2)
    readmit = 0.025 * np.exp(-0.6 * q) * ln(0.15)
    death = np.exp(-0.45 * q) * ln(0.1)
    # deaths in low-risk groups: the signal of D2.02. Real rates (~0.03 %) would be invisible in a
    # downscaled sample, so poor providers get a stylised ~1 %, the others almost none.
    lowrisk_death = np.where(q < -1.0, 0.01, 0.00003 * np.exp(-q))
    cmpl = 0.005 * np.exp(-0.6 * q) * ln(0.15)
    # 集采 adherence on a 0.78-centred scale; make_rates maps it onto the catalogue's D3.03 baseline
    vbp = np.clip(0.78 + 0.06 * q + np.array([0.0, 0.02, 0.04])[lv] + rng.normal(0, 0.02, n), 0.3, 0.97)
    nego = np.array([0.14, 0.06, 0.01])[lv] * ln(0.2)
    audit = 0.0025 * np.exp(-0.9 * q) * ln(0.2)
    split_flag = np.clip(0.08 * np.exp(-0.8 * q), 0.0, 0.6)  # share of unplanned readmissions flagged 分解住院
    transfer_down = np.array([0.045, 0.022, 0.002])[lv] * np.exp(0.35 * q) * ln(0.15)
    settle_delay = np.clip(0.1 * np.exp(-0.8 * q) * ln(0.2), 0.01, 0.6)  # share settled days after discharge
    drg_p = _drg_mix(rng, pv)

    return Params(
        vol=vol,
        vol_growth=vol_growth,
        ip_share=ip_share,
        g_ip=g_ip,
        g_op=g_op,
        cost=cost,
        op_cost=op_cost,
        los=los,
        drug_ip=drug_ip,
        drug_op=drug_op,
        material=material,
        ownpay_ip=ownpay_ip,
        ownpay_op=ownpay_op,
        late=late,
        qc_fail=qc_fail,
        ungroup=ungroup,
        ecert=ecert,
        cross=cross,
        intra=intra,
        readmit=readmit,
        death=death,
        lowrisk_death=lowrisk_death,
        cmpl=cmpl,
        vbp=vbp,
        nego=nego,
        audit=audit,
        split_flag=split_flag,
        transfer_down=transfer_down,
        settle_delay=settle_delay,
        drg_p=drg_p,
    )


def _drg_mix(rng: np.random.Generator, pv: Providers) -> np.ndarray:
    """(providers, 2 years, groups) probabilities: popularity x level tilt by weight x profile."""
    n = pv.n
    lv = pv.level
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
    return drg_p
