"""numpy arrays to Arrow string columns: ids and numbers, money in cents, times, codes, nulls."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def str_array(values: np.ndarray) -> pa.Array:
    return pa.array(values).cast(pa.string())


def money_array(cents: np.ndarray) -> pa.Array:
    """int64 cents -> '123.40' (two decimals, '-' for negatives)."""
    cents = np.ascontiguousarray(cents, dtype=np.int64)
    buf = np.empty((len(cents), 2), dtype=np.int64)
    buf[:, 0] = cents
    buf[:, 1] = np.where(cents < 0, -1, 0)
    arr = pa.Array.from_buffers(pa.decimal128(18, 2), len(cents), [None, pa.py_buffer(buf)])
    return arr.cast(pa.string())


def time_array(seconds: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(seconds, dtype=np.int64), pa.timestamp("s")).cast(pa.string())


def code_array(lut: Sequence[str | None], idx: np.ndarray) -> pa.Array:
    return pa.array(lut, pa.string()).take(pa.array(np.asarray(idx, dtype=np.int32)))


def masked(arr: pa.Array, mask: np.ndarray) -> pa.Array:
    """Null where mask is true (empty cell in CSV)."""
    if not mask.any():
        return arr
    return pc.if_else(pa.array(mask), pa.scalar(None, pa.string()), arr)
