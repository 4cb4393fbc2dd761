"""The two number rules every stage shares: floats kept to 12 significant digits, money in fen.

`stable`: DuckDB adds floating-point partial sums in whatever order its threads finish, and numpy's
reductions depend on array layout; 12 significant digits is far below any displayed precision yet
removes that last-bit noise, so results are byte-identical run to run.

`money`: yuan as Decimal, rounded half-up to the fen (0.01), so every run and every assessor gets
the same amount.
"""

from __future__ import annotations

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
