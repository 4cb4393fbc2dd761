"""The two number rules every stage shares: floats kept to 12 significant digits, money in fen.

`stable`: DuckDB adds floating-point partial sums in whatever order its threads finish, and numpy's
reductions depend on array layout; 12 significant digits is far below any displayed precision yet
removes that last-bit noise, so results are byte-identical run to run.

`money`: yuan as Decimal, rounded half-up to the fen (0.01), so every run and every assessor gets
the same amount.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import overload

FEN = Decimal("0.01")


@overload
def stable(x: float) -> float: ...
@overload
def stable(x: None) -> None: ...
@overload
def stable(x: float | None) -> float | None: ...


def stable(x: float | None) -> float | None:
    if x is None:
        return None
    return float(f"{x:.12g}")


def money(x: float | Decimal | str) -> Decimal:
    return Decimal(str(x)).quantize(FEN, rounding=ROUND_HALF_UP)


Z95 = 1.959963984540054  # the two-sided 95 % normal quantile


def wilson_interval(p: float, n: float, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion p observed among n (Wilson 1927; method 3 of Newcombe
    1998, Statistics in Medicine 17:857): unlike p ± z√(p(1−p)/n) it stays inside [0, 1] and does not
    collapse to a point at p = 0 or 1, which is where small denominators leave a share."""
    if n <= 0:
        raise ValueError(f"n = {n}: a proportion needs a positive denominator")
    d = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / d
    half = z * math.sqrt(max(p * (1 - p), 0.0) / n + z * z / (4 * n * n)) / d
    # at p = 0 (or 1) the bound is 0 (or 1) exactly; floating point would leave it a hair inside
    low = 0.0 if p <= 0 else max(0.0, centre - half)
    high = 1.0 if p >= 1 else min(1.0, centre + half)
    return low, high
