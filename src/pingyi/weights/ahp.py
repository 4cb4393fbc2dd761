"""Indicator weights from pairwise comparisons: the Analytic Hierarchy Process (AHP).

Why these choices:

* Weights are the principal right eigenvector of the comparison matrix (Saaty 1977, "A scaling
  method for priorities in hierarchical structures", J. Math. Psychology 15:234-281; Saaty 2008,
  "Decision making with the analytic hierarchy process", Int. J. Services Sciences 1(1):83-98),
  because that is what expert committees and published AHP studies report, so our scorecards can
  be checked against theirs.
* Consistency is Saaty's CI = (lambda_max - n)/(n - 1) and CR = CI / RI(n). RI tables are named so
  a project can say which one it used; CR <= 0.1 is the usual acceptance rule (applied by callers).
* Missing judgments are completed with Harker's method (Harker 1987, "Incomplete pairwise
  comparisons in the analytic hierarchy process", Mathematical Modelling 9(11):837-848; see also
  Harker 1987, "Alternative modes of questioning in the analytic hierarchy process", Mathematical
  Modelling 9(3-5):353-360), which needs no iteration and is exact when the judgments given are
  consistent. It works only if the comparison graph is connected, so we check that first.
* Several experts are combined by the geometric mean of their judgments (AIJ; Forman & Peniwati
  1998, "Aggregating individual judgments and priorities with the AHP", EJOR 108:165-169), the
  only mean that keeps the combined matrix reciprocal.
* The judgments to revisit are ranked by Saaty's error e_ij = a_ij * w_j / w_i (Saaty 2003,
  "Decision-making with the AHP: why is the principal eigenvector necessary", EJOR 145:85-91).

Indices in results and messages are 0-based: a[i][j] is row i, column j. The matrix is never
"repaired": a non-reciprocal pair is an error (``reciprocity_errors`` lists them for the
validation layer). A judgment given on one side only (a[i][j] given, a[j][i] missing) is read
as the pair (a[i][j], 1/a[i][j]); a pair missing on both sides is a missing judgment.
Pure numpy and deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "RANDOM_INDEX",
    "SAATY_SCALE",
    "AhpResult",
    "Judgment",
    "aggregate_aij",
    "analyze",
    "complete_harker",
    "inconsistent_judgments",
    "random_index",
    "reciprocity_errors",
    "saaty_value_ok",
]

# Saaty's random consistency index, index 0 -> n = 1. n = 1..11 from Saaty (1980/2008); n = 12..15
# are the commonly published extension values.
RANDOM_INDEX: dict[str, tuple[float, ...]] = {
    "saaty": (0.0, 0.0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49, 1.51, 1.48, 1.56, 1.57, 1.59),
}

# The fundamental 1-9 scale and its reciprocals, ascending.
SAATY_SCALE: tuple[float, ...] = tuple(1.0 / k for k in range(9, 1, -1)) + tuple(float(k) for k in range(1, 10))

RECIPROCAL_TOL = 1e-6  # relative tolerance on a_ij * a_ji == 1 used by analyze()
_DIAGONAL_TOL = 1e-9


@dataclass(frozen=True)
class AhpResult:
    """Outcome of one comparison matrix. ``completed`` is the matrix actually analysed."""

    weights: tuple[float, ...]
    lambda_max: float
    ci: float
    cr: float
    n: int
    ri: float
    ri_table: str
    completed: tuple[tuple[float, ...], ...]
    missing: int


@dataclass(frozen=True)
class Judgment:
    """One given judgment a[i][j] (i < j) and how far it is from what the weights imply."""

    i: int
    j: int
    given: float
    implied: float  # w_i / w_j
    contribution: float  # |ln(a_ij * w_j / w_i)|
    suggested: float  # Saaty-scale value nearest (in log space) to ``implied``


# ---------------------------------------------------------------------------------------------
# Random index and scale
# ---------------------------------------------------------------------------------------------


def random_index(n: int, table: str = "saaty") -> float:
    """RI(n) from a named table; fails loudly rather than extrapolating beyond the table."""
    if table not in RANDOM_INDEX:
        known = ", ".join(sorted(RANDOM_INDEX))
        raise ValueError(f"unknown random index table {table!r}; expected one of: {known}")
    values = RANDOM_INDEX[table]
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"random index needs a matrix size n >= 1, got {n!r}")
    if n > len(values):
        raise ValueError(
            f"random index table {table!r} covers n = 1..{len(values)}, but the matrix has n = {n} "
            f"items; expected at most {len(values)} items per comparison matrix "
            "(split the items into sub-groups of a hierarchy)"
        )
    return float(values[n - 1])


def saaty_value_ok(x: Any) -> bool:
    """True if x is on Saaty's 1-9 scale or its reciprocals (within 1e-6).

    Meant for one expert's own judgments; geometric means of several experts are off-scale by
    nature and must not be flagged.
    """
    if isinstance(x, bool):
        return False
    try:
        v = float(x)
    except (TypeError, ValueError):
        return False
    if not math.isfinite(v):
        return False
    return any(abs(v - s) <= 1e-6 for s in SAATY_SCALE)


def _nearest_saaty(x: float) -> float:
    lx = math.log(x)
    return min(SAATY_SCALE, key=lambda s: (abs(math.log(s) - lx), s))


# ---------------------------------------------------------------------------------------------
# Parsing and validation
# ---------------------------------------------------------------------------------------------


def _is_missing(v: Any) -> bool:
    if v is None:
        return True
    try:
        return isinstance(v, (float, np.floating)) and math.isnan(v)
    except TypeError:
        return False


def _as_float_matrix(matrix: Any) -> np.ndarray:
    """Square float array with NaN for missing entries. Checks shape and numeric type only."""
    if isinstance(matrix, np.ndarray):
        if matrix.ndim != 2:
            raise ValueError(
                f"comparison matrix must be 2-dimensional (n x n), found an array with "
                f"{matrix.ndim} dimension(s) and shape {matrix.shape}"
            )
        rows = matrix.tolist()
    else:
        if isinstance(matrix, (str, bytes, dict)) or not hasattr(matrix, "__iter__"):
            raise ValueError(f"comparison matrix must be a list of rows, found {type(matrix).__name__}")
        rows = list(matrix)
    n = len(rows)
    if n == 0:
        raise ValueError("comparison matrix is empty; expected an n x n matrix with n >= 1")
    out = np.empty((n, n), dtype=float)
    for r, row in enumerate(rows):
        if isinstance(row, (str, bytes)) or not hasattr(row, "__len__"):
            raise ValueError(f"row {r} of the comparison matrix is not a list, found {row!r}")
        if len(row) != n:
            raise ValueError(
                f"comparison matrix must be square: it has {n} rows but row {r} has {len(row)} "
                f"entries; expected {n} entries in every row"
            )
        for c, v in enumerate(row):
            if _is_missing(v):
                out[r, c] = np.nan
                continue
            if isinstance(v, bool):
                raise ValueError(f"a[{r}][{c}] is a boolean ({v}); expected a positive number or empty")
            try:
                f = float(v)
            except (TypeError, ValueError):
                raise ValueError(
                    f"a[{r}][{c}] is {v!r}; expected a positive number, or None/NaN for a missing judgment"
                ) from None
            if not math.isfinite(f):
                raise ValueError(f"a[{r}][{c}] is {f}; expected a finite positive number")
            out[r, c] = f
    return out


def reciprocity_errors(matrix: Any, rel_tol: float = 1e-6) -> list[tuple[int, int, float, float]]:
    """(i, j, a_ij, a_ji) for i < j where both are given and a_ij * a_ji differs from 1.

    Only the pairs; positivity and diagonal are checked elsewhere. ``rel_tol`` is relative:
    |a_ij * a_ji - 1| > rel_tol. Write 1/3, not 0.33, to stay within the default.
    """
    a = _as_float_matrix(matrix)
    n = a.shape[0]
    errs: list[tuple[int, int, float, float]] = []
    for i in range(n):
        for j in range(i + 1, n):
            x, y = a[i, j], a[j, i]
            if math.isnan(x) or math.isnan(y):
                continue
            if not abs(x * y - 1.0) <= rel_tol:
                errs.append((i, j, float(x), float(y)))
    return errs


def _components(given: np.ndarray) -> list[list[int]]:
    """Connected components of the comparison graph (edge i-j iff the pair is judged)."""
    n = given.shape[0]
    seen = [False] * n
    comps: list[list[int]] = []
    for start in range(n):
        if seen[start]:
            continue
        stack, comp = [start], []
        seen[start] = True
        while stack:
            k = stack.pop()
            comp.append(k)
            for m in np.flatnonzero(given[k]):
                if not seen[m]:
                    seen[m] = True
                    stack.append(int(m))
        comps.append(sorted(comp))
    return comps


def _prepare(matrix: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate; return (matrix with one-sided judgments mirrored, NaN where missing; pair mask)."""
    a = _as_float_matrix(matrix)
    n = a.shape[0]
    for i in range(n):
        d = a[i, i]
        if math.isnan(d):
            raise ValueError(f"diagonal entry a[{i}][{i}] is missing; expected 1 (an item compared with itself)")
        if abs(d - 1.0) > _DIAGONAL_TOL:
            raise ValueError(f"diagonal entry a[{i}][{i}] is {d:g}; expected 1 (an item compared with itself)")
    for i in range(n):
        for j in range(n):
            v = a[i, j]
            if not math.isnan(v) and v <= 0:
                raise ValueError(
                    f"a[{i}][{j}] is {v:g}; expected a positive ratio (e.g. 1..9 or 1/2..1/9), "
                    "or None/NaN for a missing judgment"
                )
    errs = reciprocity_errors(a, rel_tol=RECIPROCAL_TOL)
    if errs:
        i, j, x, y = errs[0]
        raise ValueError(
            f"matrix is not reciprocal: a[{i}][{j}] = {x:g} and a[{j}][{i}] = {y:g} multiply to "
            f"{x * y:g}; expected a[{j}][{i}] = 1/a[{i}][{j}] = {1.0 / x:g}"
            + (f" ({len(errs)} non-reciprocal pairs in total)" if len(errs) > 1 else "")
        )
    # Mirror one-sided judgments: the pair is given, only its reciprocal was left out.
    lo = np.isnan(a) & ~np.isnan(a.T)
    a[lo] = 1.0 / a.T[lo]
    given = ~np.isnan(a)
    np.fill_diagonal(given, False)
    if n > 1:
        for i in range(n):
            if not given[i].any():
                raise ValueError(
                    f"item {i} has no judgments at all (row {i} and column {i} are empty); expected "
                    "at least one comparison linking it to the other items"
                )
        comps = _components(given)
        if len(comps) > 1:
            groups = " | ".join("{" + ", ".join(map(str, c)) + "}" for c in comps)
            raise ValueError(
                f"judgments do not connect all items: they fall into {len(comps)} separate groups "
                f"{groups}; expected a connected set of comparisons (at least n - 1 = {n - 1} "
                "well-placed judgments), otherwise missing judgments cannot be completed"
            )
    return a, given


# ---------------------------------------------------------------------------------------------
# Eigenvector, Harker completion, analysis
# ---------------------------------------------------------------------------------------------


def _principal(m: np.ndarray) -> tuple[np.ndarray, float]:
    """Perron pair via numpy.linalg.eig: largest real part, real eigenvector scaled to sum 1."""
    vals, vecs = np.linalg.eig(m)
    k = int(np.argmax(vals.real))
    v = vecs[:, k].real
    v = v / v.sum()  # also fixes the sign: the Perron vector has one sign
    if not np.all(v > 0):  # cannot happen for a positive / irreducible matrix; guard anyway
        raise ArithmeticError(f"principal eigenvector is not positive: {v.tolist()}")
    return v, float(vals[k].real)


def _harker(a: np.ndarray, given: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, int]:
    n = a.shape[0]
    missing_mask = ~given
    np.fill_diagonal(missing_mask, False)
    n_missing = int(np.triu(missing_mask, 1).sum())
    if n_missing == 0:
        w, lam = _principal(a)
        return w, a.copy(), lam, 0
    h = np.where(missing_mask, 0.0, a)
    h[np.diag_indices(n)] = 1.0 + missing_mask.sum(axis=1)
    w, lam = _principal(h)
    completed = a.copy()
    ratio = np.outer(w, 1.0 / w)
    completed[missing_mask] = ratio[missing_mask]
    return w, completed, lam, n_missing


def _tuple2(m: np.ndarray) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(float(x) for x in row) for row in m)


def complete_harker(matrix: Any) -> tuple[tuple[float, ...], tuple[tuple[float, ...], ...], float]:
    """Harker (1987) completion: (weights, completed matrix, lambda_max).

    Missing a_ij are set to 0 and a_ii to 1 + (number missing in row i); the weights are the
    principal eigenvector of that matrix, and missing cells are filled with w_i / w_j. The
    returned lambda_max is that of Harker's matrix, which equals the Perron root of the completed
    matrix (row i of both gives the same product with w). A complete matrix is returned as is.
    """
    a, given = _prepare(matrix)
    w, completed, lam, _ = _harker(a, given)
    return tuple(float(x) for x in w), _tuple2(completed), lam


def analyze(matrix: Any, ri_table: str = "saaty") -> AhpResult:
    """Weights and consistency of one pairwise comparison matrix (eigenvector method).

    ``matrix``: n x n list of lists or array, a_ij = how many times item i outweighs item j;
    None/NaN marks a missing judgment, completed by Harker's method. Then lambda_max and CI are
    those of Harker's matrix (as pyanp and ahpsurvey do), equal to the Perron root of
    ``completed``. CI = (lambda_max - n)/(n - 1), CR = CI / RI(n); both are 0 for n <= 2, where
    any reciprocal matrix is consistent. Raises ValueError, saying what was found and what was
    expected, for non-square, non-positive, diagonal != 1, non-reciprocal or disconnected input,
    and for n beyond the RI table.
    """
    a, given = _prepare(matrix)
    n = a.shape[0]
    ri = random_index(n, ri_table)
    w, completed, lam, n_missing = _harker(a, given)
    if n <= 2:
        ci = cr = 0.0
    else:
        # lambda_max >= n for positive reciprocal matrices; clip float noise below n.
        ci = max(0.0, (lam - n) / (n - 1))
        cr = ci / ri
    return AhpResult(
        weights=tuple(float(x) for x in w),
        lambda_max=lam,
        ci=ci,
        cr=cr,
        n=n,
        ri=ri,
        ri_table=ri_table,
        completed=_tuple2(completed),
        missing=n_missing,
    )


# ---------------------------------------------------------------------------------------------
# Group judgments and diagnostics
# ---------------------------------------------------------------------------------------------


def aggregate_aij(matrices: Sequence[Any]) -> list[list[float | None]]:
    """Combine experts' matrices cell by cell with the geometric mean (AIJ).

    Each cell averages only the experts who judged that pair (one-sided judgments are mirrored
    first, so the result stays reciprocal); a pair nobody judged stays None. No consistency
    check here: analyse the result with ``analyze``.
    """
    mats = list(matrices)
    if not mats:
        raise ValueError("no expert matrices to aggregate; expected at least one")
    parsed: list[np.ndarray] = []
    for e, m in enumerate(mats):
        try:
            a = _as_float_matrix(m)
        except ValueError as exc:
            raise ValueError(f"expert matrix {e}: {exc}") from None
        if parsed and a.shape != parsed[0].shape:
            raise ValueError(
                f"expert matrix {e} is {a.shape[0]} x {a.shape[1]}; expected "
                f"{parsed[0].shape[0]} x {parsed[0].shape[1]} like expert matrix 0"
            )
        bad = np.argwhere(~np.isnan(a) & (a <= 0))
        if bad.size:
            i, j = (int(x) for x in bad[0])
            raise ValueError(f"expert matrix {e}: a[{i}][{j}] is {a[i, j]:g}; expected a positive number")
        lo = np.isnan(a) & ~np.isnan(a.T)
        a[lo] = 1.0 / a.T[lo]
        parsed.append(a)
    logs = np.log(np.stack(parsed))  # NaN stays NaN
    count = np.sum(~np.isnan(logs), axis=0)
    total = np.nansum(logs, axis=0)
    n = parsed[0].shape[0]
    out: list[list[float | None]] = []
    for i in range(n):
        row: list[float | None] = []
        for j in range(n):
            row.append(float(math.exp(total[i, j] / count[i, j])) if count[i, j] else None)
        out.append(row)
    return out


def inconsistent_judgments(matrix: Any, weights: Sequence[float] | None = None, top: int | None = 3) -> list[Judgment]:
    """The given judgments farthest from the weights, worst first.

    For each given a_ij (i < j), Saaty's error e_ij = a_ij * w_j / w_i is 1 when the judgment
    agrees with the weights; the contribution is |ln e_ij| so over- and under-statement count
    alike. Sorted by contribution (descending), then (i, j); ``top=None`` returns all.
    ``suggested`` is the scale value nearest to w_i / w_j, a starting point for the expert.
    """
    a, given = _prepare(matrix)
    n = a.shape[0]
    if weights is None:
        w = np.asarray(analyze(matrix).weights, dtype=float)
    else:
        w = np.asarray(weights, dtype=float)
        if w.shape != (n,):
            raise ValueError(f"weights has {w.size} values; expected {n}, one per item")
        if not np.all(np.isfinite(w)) or np.any(w <= 0):
            raise ValueError(f"weights must all be positive and finite, found {w.tolist()}")
    out: list[Judgment] = []
    for i in range(n):
        for j in range(i + 1, n):
            if not given[i, j]:
                continue
            implied = float(w[i] / w[j])
            e = a[i, j] / implied
            out.append(
                Judgment(
                    i=i,
                    j=j,
                    given=float(a[i, j]),
                    implied=implied,
                    contribution=abs(math.log(e)),
                    suggested=_nearest_saaty(implied),
                )
            )
    out.sort(key=lambda jd: (-jd.contribution, jd.i, jd.j))
    return out if top is None else out[: max(0, int(top))]
