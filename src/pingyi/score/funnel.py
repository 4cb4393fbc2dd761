"""Statistical traffic lights: funnel-plot control limits with an overdispersion correction.

For an indicator with `lights: {statistical: funnel}` (a share or a rate of its volume measure),
each provider's value is compared with its baseline (the target) through control limits that
depend on its volume n, following Spiegelhalter (Stat Med 2005; QSHC 2005) as implemented by
FunnelPlotR's `od_adjustment` (chrismainey/FunnelPlotR):

1. Transform (variance-stabilising), per provider i with target t_i (its own region x level
   baseline):
   * ``proportion`` (unit percent): y = asin(sqrt(p)), target asin(sqrt(t)), s = 1 / (2 sqrt(n));
   * ``rate`` (unit per_10k, Poisson, CQC style): observed O = value x n / 10,000 and expected
     E = t x n / 10,000; y = sqrt(O / E), target 1, s = 1 / (2 sqrt(E)).
2. z_i = (y_i - target_i) / s_i.
3. Winsorise the z-scores at the `trim` and 1 - `trim` quantiles (default 10 %; linear
   interpolation between order statistics, R's type 7 = numpy's default).
4. phi = mean of the winsorised z^2 (the overdispersion ratio; 1 = pure chance).
5. tau^2 = max(0, (I phi - (I - 1)) / (Σw - Σw^2 / Σw)), w = 1 / s^2 (DerSimonian-Laird
   additive random effect; 0 when I phi < I - 1).
6. Limits on the transformed scale: target ± z sigma(n), z = 1.96 (95 %) and 3.09 (99.8 %), with
   sigma = sqrt(s^2 + tau^2) (``tau2``, the default), s sqrt(max(phi, 1)) (``phi``, multiplicative)
   or s (``none``), then transformed back to the indicator's unit.

phi and tau^2 are estimated per indicator over every provider whose value is scored (volume at or
above the minimum, a baseline), each against its own baseline, so one estimate serves all peer
groups. With fewer than MIN_UNITS providers they are not estimated and no correction is applied
(said so in the results).

Scores (`lights.funnel_score: beyond_95`): the score is computed on the value less the part of its
bad-side deviation inside the 95 % limit (FunnelFit.beyond_95), so what chance can explain costs no
points: a small provider inside the limits scores as if it met its baseline, a large one is scored on
nearly all of its deviation. `observed` (the default) scores the value itself.

Lights (pingyi.score.indicator): red needs both *significantly worse* (beyond the 99.8 % limit on the bad
side) and *materially worse* (worse than the baseline by more than the indicator's red bound).
Yellow: beyond the 95 % limit on the bad side but not red, or materially worse but inside the
95 % limits (could be chance: watch, "needs further inquiry"). Green otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from pingyi.compute.indicators import IndicatorValue
from pingyi.data.providers import ProviderInfo
from pingyi.numbers import stable
from pingyi.spec.models import LEVELS
from pingyi.spec.project import Project

Z95 = 1.96
Z998 = 3.09
MIN_UNITS = 5
PER_10K = 10_000.0

METHOD_TEXT = {
    "proportion": "proportion: y = asin(sqrt(p)), s = 1/(2 sqrt(n))",
    "rate": "rate per 10,000 (Poisson, CQC): y = sqrt(O/E), target 1, s = 1/(2 sqrt(E))",
}


def method_for(unit: str) -> str:
    return "rate" if unit == "per_10k" else "proportion"


@dataclass(frozen=True)
class FunnelPoint:
    code: str
    n: float
    value: float
    target: float


@dataclass(frozen=True)
class FunnelFit:
    indicator: str
    method: str  # proportion | rate
    overdispersion: str  # as configured: none | phi | tau2
    applied: str  # what the limits use: none | phi | tau2
    phi: float | None
    tau2: float | None
    units: int
    trim: float
    note: str

    def sigma(self, s: float) -> float:
        if self.applied == "tau2" and self.tau2:
            return math.sqrt(s * s + self.tau2)
        if self.applied == "phi" and self.phi and self.phi > 1:
            return s * math.sqrt(self.phi)
        return s

    def limits(self, n: float, target: float) -> dict[str, tuple[float, float]] | None:
        """Control limits at volume n around `target`, in the indicator's unit."""
        t = transform(self.method, target, n, target)
        if t is None:
            return None
        _, ty, s = t
        sd = self.sigma(s)
        out = {}
        for label, z in (("95", Z95), ("99.8", Z998)):
            out[label] = (back(self.method, ty - z * sd, target), back(self.method, ty + z * sd, target))
        return out

    def z(self, value: float, n: float, target: float) -> float | None:
        """The provider's z-score against its target, overdispersion included."""
        t = transform(self.method, value, n, target)
        if t is None:
            return None
        y, ty, s = t
        return (y - ty) / self.sigma(s)

    def beyond_95(self, value: float, n: float, target: float, direction: str) -> float | None:
        """`value` less the part of its bad-side deviation from `target` that lies inside the 95 % control
        limit at volume n, in the indicator's unit: the target itself when the value is inside the limit,
        the value unchanged when it is on the good side. On the transformed scale y: target_y + (|y -
        target_y| - 1.96 sigma) towards the bad side. None where the funnel is undefined."""
        t = transform(self.method, value, n, target)
        if t is None:
            return None
        y, ty, s = t
        sign = 1.0 if direction == "down" else -1.0  # the bad side on the transformed scale
        bad = sign * (y - ty)
        if bad <= 0:
            return value
        # chance is the sampling error at this volume only: the overdispersion (tau^2, phi) is the very
        # between-provider variation being judged, and allowing it would forgive a large provider a clear gap
        excess = bad - Z95 * s
        return target if excess <= 0 else back(self.method, ty + sign * excess, target)

    def as_json(self) -> dict:
        return {
            "method": self.method,
            "method_text": METHOD_TEXT[self.method],
            "overdispersion": self.overdispersion,
            "applied": self.applied,
            "phi": self.phi,
            "tau2": self.tau2,
            "units": self.units,
            "trim": self.trim,
            "z": {"95": Z95, "99.8": Z998},
            "note": self.note,
        }


def transform(method: str, value: float, n: float, target: float) -> tuple[float, float, float] | None:
    """(y, target on the transformed scale, s); None where undefined."""
    if n is None or n <= 0 or value is None or target is None:
        return None
    if method == "proportion":
        if not (0.0 <= value <= 1.0 and 0.0 <= target <= 1.0):
            return None
        return math.asin(math.sqrt(value)), math.asin(math.sqrt(target)), 1.0 / (2.0 * math.sqrt(n))
    expected = target * n / PER_10K
    if target <= 0 or value < 0:
        return None
    return math.sqrt(value / target), 1.0, 1.0 / (2.0 * math.sqrt(expected))


def back(method: str, y: float, target: float) -> float:
    """Transformed scale -> indicator unit (clipped to the range of the transform)."""
    if method == "proportion":
        return math.sin(min(max(y, 0.0), math.pi / 2)) ** 2
    return target * max(y, 0.0) ** 2


def winsorise(z: Sequence[float], trim: float) -> np.ndarray:
    arr = np.asarray(z, dtype=float)
    if trim <= 0 or len(arr) == 0:
        return arr
    lo, hi = np.quantile(arr, [trim, 1.0 - trim])
    return np.clip(arr, lo, hi)


def overdispersion(z: Sequence[float], s: Sequence[float], trim: float = 0.10) -> tuple[float, float]:
    """(phi, tau^2) from unadjusted z-scores and standard errors (FunnelPlotR od_adjustment)."""
    zw = winsorise(z, trim)
    units = len(zw)
    phi = float(np.mean(zw**2))
    w = 1.0 / np.asarray(s, dtype=float) ** 2
    if units * phi < units - 1:
        return phi, 0.0
    denom = float(w.sum() - (w**2).sum() / w.sum())
    tau2 = max(0.0, (units * phi - (units - 1)) / denom) if denom > 0 else 0.0
    return phi, tau2


def fit_funnel(
    indicator: str, unit: str, points: Sequence[FunnelPoint], overdispersion_mode: str = "tau2", trim: float = 0.10
) -> FunnelFit:
    """Estimate phi and tau^2 for one indicator over its scored providers."""
    method = method_for(unit)
    zs, ss = [], []
    for p in sorted(points, key=lambda p: p.code):
        t = transform(method, p.value, p.n, p.target)
        if t is None:
            continue
        y, ty, s = t
        zs.append((y - ty) / s)
        ss.append(s)
    units = len(zs)
    if units < MIN_UNITS:
        return FunnelFit(
            indicator,
            method,
            overdispersion_mode,
            "none",
            None,
            None,
            units,
            trim,
            f"{units} providers in the funnel, fewer than {MIN_UNITS}: overdispersion not estimated, "
            "limits without correction",
        )
    phi, tau2 = overdispersion(zs, ss, trim)
    phi, tau2 = stable(phi), stable(tau2)
    if overdispersion_mode == "none":
        applied, note = "none", "no overdispersion correction (configured)"
    elif overdispersion_mode == "phi":
        applied = "phi" if phi > 1 else "none"
        note = (
            f"multiplicative: limits widened by sqrt(phi) = {math.sqrt(phi):.3f}"
            if phi > 1
            else "phi <= 1: no overdispersion, limits without correction"
        )
    else:
        applied = "tau2" if tau2 > 0 else "none"
        note = (
            f"additive random effect: tau = {math.sqrt(tau2):.4f} on the transformed scale"
            if tau2 > 0
            else "tau^2 = 0 (I phi < I - 1): no overdispersion, limits without correction"
        )
    return FunnelFit(indicator, method, overdispersion_mode, applied, phi, tau2, units, trim, note)


def band(fit: FunnelFit, direction: str, value: float, n: float, target: float) -> tuple[float, str] | None:
    """(z, band): band is worse998, worse95, inside, better95 or better998 (bad side by direction)."""
    z = fit.z(value, n, target)
    if z is None:
        return None
    bad = z if direction == "down" else -z
    if bad > Z998:
        return z, "worse998"
    if bad > Z95:
        return z, "worse95"
    if bad < -Z998:
        return z, "better998"
    if bad < -Z95:
        return z, "better95"
    return z, "inside"


BAND_TEXT = {
    "worse998": ("beyond the 99.8 % limit (significantly worse)", "超出99.8%控制限（显著差于基线）"),
    "worse95": ("between the 95 % and 99.8 % limits (possibly worse)", "位于95%与99.8%控制限之间（可能差于基线）"),
    "inside": ("inside the 95 % limits (consistent with chance)", "位于95%控制限内（差异可由随机波动解释）"),
    "better95": ("beyond the 95 % limit on the good side", "优于95%控制限"),
    "better998": ("beyond the 99.8 % limit on the good side", "优于99.8%控制限"),
}


def funnel_light(fit: FunnelFit, direction: str, value: float, n: float, target: float, gap: float, red_bound: float):
    """(light name, z, band) under the funnel rule, or None when the funnel is undefined for this point.
    Red = significantly worse (beyond 99.8 %) AND materially worse (gap > red bound)."""
    judged = band(fit, direction, value, n, target)
    if judged is None:
        return None
    z, b = judged
    material = gap > red_bound
    if b == "worse998":
        light = "red" if material else "yellow"
    elif b == "worse95" or material:
        light = "yellow"
    else:
        light = "green"
    return light, z, b


@dataclass(frozen=True)
class FunnelSet:
    """One funnel-mode indicator: its fit and the providers it was fitted on (in provider order)."""

    fit: FunnelFit
    points: tuple[FunnelPoint, ...]


def fit_funnels(
    project: Project, providers: Sequence[ProviderInfo], values: Mapping[str, Mapping[str, IndicatorValue]]
) -> dict[str, FunnelSet]:
    """phi / tau^2 per funnel-mode indicator over the providers whose value is scored (a value, a
    baseline, a volume at or above the minimum): they need every provider's value first."""
    out: dict[str, FunnelSet] = {}
    for code, ind in project.indicators.items():
        if ind.lights.statistical != "funnel":
            continue
        pts = []
        for p in providers:
            v = values[p.code][code]
            base = project.baseline(code, p.region, p.level) if p.level in LEVELS else None
            if v.value is None or base is None or v.volume is None:
                continue
            if ind.volume is not None and v.volume < ind.volume.minimum:
                continue
            pts.append(FunnelPoint(p.code, v.volume, v.value, base))
        fit = fit_funnel(code, ind.unit.value, pts, ind.lights.overdispersion, ind.lights.trim)
        out[code] = FunnelSet(fit, tuple(pts))
    return out
