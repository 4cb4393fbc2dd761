"""The weight tree: AHP (or directly published) weights for the 8 primaries and the
secondaries within each, with λmax, CI, CR and provenance for every matrix.

Global weight = primary weight x local weight. Every judgment problem becomes an issue with
file:line; the CR gate (default 0.10) is an error, and the judgments that contribute most to the
inconsistency are named so the experts know which comparison to revisit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction

from pingyi.errors import Issue, IssueList
from pingyi.spec.models import HierarchyFile, Judgments
from pingyi.spec.project import HIERARCHY, Project
from pingyi.spec.yamlsrc import LocatedDoc
from pingyi.weights import ahp


@dataclass(frozen=True)
class MatrixResult:
    """One pairwise matrix (or direct weight set) and what came out of it."""

    group: str  # "root" for the primaries, else the primary code
    items: tuple[str, ...]
    method: str  # "ahp-eigenvector-aij" or "direct"
    weights: dict[str, float]
    lambda_max: float | None
    ci: float | None
    cr: float | None
    ri: float | None
    ri_table: str | None
    experts: tuple[tuple[str, str], ...]  # (expert id, date)
    expert_cr: dict[str, float]
    missing: int
    file: str
    line: int | None
    source: str | None = None
    inconsistent: tuple[ahp.Judgment, ...] = ()
    # experts whose own CR reached the threshold: (id, CR, "flagged" kept in | "excluded" left out)
    screened: tuple[tuple[str, float, str], ...] = ()

    def provenance(self) -> str:
        if self.method == "direct":
            return f"direct weights, source: {self.source} ({self.file}:{self.line})"
        who = ", ".join(f"{e}@{d}" for e, d in self.experts)
        text = (
            f"AHP eigenvector of the AIJ geometric mean of {len(self.experts)} experts ({who}); {self.file}:{self.line}"
        )
        return text + "".join(f"; {line}" for line in self.screening_notes())

    def screening_notes(self) -> list[str]:
        """One sentence per expert the CR screening flagged or excluded."""
        return [
            f"expert {e} {how}: own CR {cr:.3f} >= the threshold"
            + (" (left out of the geometric mean)" if how == "excluded" else " (kept in the geometric mean)")
            for e, cr, how in self.screened
        ]


@dataclass(frozen=True)
class SecondaryWeight:
    code: str
    name_zh: str
    name_en: str
    local_weight: float
    global_weight: float  # nominal: primary weight x local weight
    qualitative: bool
    scored: bool = True  # False: monitor-only (rule none); its weight goes to the primary's scored indicators


@dataclass(frozen=True)
class PrimaryWeight:
    code: str
    name_zh: str
    name_en: str
    weight: float
    matrix: MatrixResult
    secondary: tuple[SecondaryWeight, ...]


@dataclass
class WeightTree:
    root: MatrixResult
    primary: list[PrimaryWeight] = field(default_factory=list)

    def global_weights(self) -> dict[str, float]:
        return {s.code: s.global_weight for p in self.primary for s in p.secondary}

    def local_weights(self) -> dict[str, float]:
        return {s.code: s.local_weight for p in self.primary for s in p.secondary}

    def primary_weights(self) -> dict[str, float]:
        return {p.code: p.weight for p in self.primary}

    def carried_weights(self) -> dict[str, float]:
        """The global weight each indicator carries in a total whose indicators all have data: as the score
        stage aggregates (score/aggregate.py), a monitor-only indicator carries 0 and its local weight is
        shared by its primary's scored indicators in proportion to theirs. Display only."""
        out: dict[str, float] = {}
        for p in self.primary:
            denom = sum(s.local_weight for s in p.secondary if s.scored)
            for s in p.secondary:
                out[s.code] = p.weight * s.local_weight / denom if s.scored and denom > 0 else 0.0
        return out

    def reweighted(self, weights: Mapping[str, float]) -> WeightTree:
        """The same tree carrying `weights` (indicator -> global weight, over the scored indicators; the
        combined weights) instead of the AHP ones: each primary weighs the sum of its indicators', each
        indicator's local weight is its share of that sum, a monitor-only indicator 0. A primary whose
        indicators all weigh 0 keeps its AHP local weights and weighs 0, so it is still scored (and
        shown) but counts for nothing, rather than passing for a dimension without data. The
        matrices are kept: they record how the AHP part was derived."""
        primaries = []
        for p in self.primary:
            total = sum(weights.get(s.code, 0.0) for s in p.secondary if s.scored)
            secondary = tuple(
                replace(
                    s,
                    local_weight=(weights.get(s.code, 0.0) / total if s.scored else 0.0)
                    if total > 0
                    else s.local_weight,
                    global_weight=weights.get(s.code, 0.0) if s.scored else 0.0,
                )
                for s in p.secondary
            )
            primaries.append(replace(p, weight=total, secondary=secondary))
        return WeightTree(root=self.root, primary=primaries)

    def qualitative_share(self) -> float:
        return sum(s.global_weight for p in self.primary for s in p.secondary if s.qualitative)

    def as_json(self) -> dict:
        def matrix_json(m: MatrixResult) -> dict:
            return {
                "method": m.method,
                "n": len(m.items),
                "lambda_max": m.lambda_max,
                "ci": m.ci,
                "cr": m.cr,
                "ri": m.ri,
                "ri_table": m.ri_table,
                "missing_judgments": m.missing,
                "experts": [{"id": e, "date": d} for e, d in m.experts],
                "expert_cr": m.expert_cr,
                "screened_experts": [{"id": e, "cr": cr, "action": how} for e, cr, how in m.screened],
                "source": m.source,
                "file": m.file,
                "line": m.line,
            }

        carried = self.carried_weights()
        return {
            "root": matrix_json(self.root),
            "qualitative_share": self.qualitative_share(),
            "primary": [
                {
                    "id": p.code,
                    "name": p.name_zh,
                    "name_en": p.name_en,
                    "weight": p.weight,
                    "cr": p.matrix.cr,  # CR of the matrix comparing this primary's secondaries
                    "matrix": matrix_json(p.matrix),
                    "secondary": [
                        {
                            "id": s.code,
                            "name": s.name_zh,
                            "name_en": s.name_en,
                            "local_weight": s.local_weight,
                            "global_weight": s.global_weight,
                            "qualitative": s.qualitative,
                            "scored": s.scored,
                            "carried_weight": carried[s.code],
                        }
                        for s in p.secondary
                    ],
                }
                for p in self.primary
            ],
        }


def parse_judgment(value) -> float | None:
    """1, 3, "1/3", "3", null -> float or None; raises ValueError for anything else."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("a boolean is not a judgment")
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = str(value).strip()
        if text in ("", "~", "-", "?"):
            return None
        number = float(Fraction(text))
    if not math.isfinite(number) or number <= 0:
        raise ValueError("judgments are positive numbers")
    return number


def _matrix_issues(
    j: Judgments, doc: LocatedDoc, base: tuple, group: str, settings, expert_ids, issues
) -> MatrixResult | None:
    items = tuple(j.items)
    n = len(items)
    line = doc.line(base)
    if j.weights is not None:
        if set(j.weights) != set(items):
            issues.add(
                doc.issue(
                    "PY309",
                    base + ("weights",),
                    "direct weights must cover exactly the items",
                    found=f"{sorted(j.weights)}",
                    expected=f"{sorted(items)}",
                )
            )
            return None
        negative = {k: w for k, w in j.weights.items() if w < 0}
        for item, w in sorted(negative.items()):
            issues.add(
                doc.issue(
                    "PY309",
                    base + ("weights", item),
                    "a direct weight is negative",
                    found=f"{item}: {w!r}",
                    expected="a weight >= 0",
                )
            )
        total = sum(j.weights.values())
        if abs(total - 1) > 1e-6:
            issues.add(
                doc.issue(
                    "PY309",
                    base + ("weights",),
                    "direct weights must sum to 1",
                    found=f"sum {total:.6f}",
                    expected="1",
                )
            )
        if negative or abs(total - 1) > 1e-6:
            return None
        if not j.source:
            issues.add(
                doc.issue(
                    "PY309",
                    base + ("source",),
                    "direct weights need their published source",
                    found="no source",
                    expected="the scheme, document and table the weights come from",
                )
            )
        return MatrixResult(
            group=group,
            items=items,
            method="direct",
            weights=dict(j.weights),
            lambda_max=None,
            ci=None,
            cr=None,
            ri=None,
            ri_table=None,
            experts=(),
            expert_cr={},
            missing=0,
            file=doc.file,
            line=line,
            source=j.source,
        )
    if not j.experts:
        issues.add(
            doc.issue(
                "PY311",
                base,
                "no judgments: give expert matrices or direct weights",
                found="neither experts nor weights",
                expected="judgments.experts or judgments.weights",
            )
        )
        return None
    matrices = []
    ok = True
    for k, ex in enumerate(j.experts):
        epath = base + ("experts", k)
        if expert_ids is not None and ex.expert not in expert_ids:
            issues.add(
                doc.issue(
                    "PY308",
                    epath + ("expert",),
                    "unknown expert",
                    found=ex.expert,
                    expected=f"an id from {HIERARCHY} experts: {sorted(expert_ids)}",
                )
            )
        rows = ex.matrix
        if len(rows) != n or any(not isinstance(r, list) or len(r) != n for r in rows):
            issues.add(
                doc.issue(
                    "PY302",
                    epath + ("matrix",),
                    "matrix must be square, one row and column per item",
                    found=f"{len(rows)} rows of lengths {[len(r) if isinstance(r, list) else 0 for r in rows]}",
                    expected=f"{n} x {n} for items {list(items)}",
                )
            )
            ok = False
            continue
        parsed: list[list[float | None]] = []
        bad = False
        for i, row in enumerate(rows):
            out: list[float | None] = []
            for c, raw in enumerate(row):
                try:
                    v = parse_judgment(raw)
                except (ValueError, ZeroDivisionError):
                    issues.add(
                        doc.issue(
                            "PY303",
                            epath + ("matrix", i),
                            "judgment is not a positive number or fraction",
                            found=f"{raw!r} at row {items[i]}, column {items[c]}",
                            expected="1-9 or 1/2-1/9 (Saaty scale), or null if not judged",
                        )
                    )
                    bad = True
                    out.append(None)
                    continue
                if v is not None and i != c and not (1 / 9 - 1e-9 <= v <= 9 + 1e-9):
                    issues.add(
                        doc.issue(
                            "PY303",
                            epath + ("matrix", i),
                            "judgment is outside Saaty's 1-9 scale",
                            found=f"{raw!r} at row {items[i]}, column {items[c]}",
                            expected="between 1/9 and 9",
                        )
                    )
                    bad = True
                elif v is not None and i != c and not ahp.saaty_value_ok(v):
                    issues.add(
                        doc.issue(
                            "PY313",
                            epath + ("matrix", i),
                            "judgment is not a Saaty scale value",
                            found=f"{raw!r} at row {items[i]}, column {items[c]}",
                            expected="an integer 1-9 or its reciprocal",
                        )
                    )
                out.append(v)
            parsed.append(out)
        for i in range(n):
            diagonal = parsed[i][i]
            if diagonal is not None and abs(diagonal - 1) > 1e-9:
                issues.add(
                    doc.issue(
                        "PY304",
                        epath + ("matrix", i),
                        "diagonal judgments compare an item with itself",
                        found=f"{rows[i][i]!r} at {items[i]}/{items[i]}",
                        expected="1",
                    )
                )
                bad = True
            parsed[i][i] = 1.0
        for i, c, a, b in ahp.reciprocity_errors(parsed):
            issues.add(
                doc.issue(
                    "PY305",
                    epath + ("matrix", max(i, c)),
                    "matrix is not reciprocal",
                    found=f"{items[i]} vs {items[c]} = {_fmt(a)} but {items[c]} vs {items[i]} = {_fmt(b)}",
                    expected=f"{items[c]} vs {items[i]} = {_fmt(1 / a)}",
                    hint="give the upper triangle and make the lower triangle its reciprocal",
                )
            )
            bad = True
        if bad:
            ok = False
            continue
        matrices.append((ex, parsed, epath))
    if not ok or not matrices:
        return None
    expert_cr: dict[str, float] = {}
    screened: list[tuple[str, float, str]] = []  # (expert, CR, "flagged" | "excluded")
    exclude = settings.expert_cr == "exclude"
    for ex, parsed, epath in matrices:
        try:
            res = ahp.analyze(parsed, ri_table=settings.ri_table)
        except ValueError as exc:
            issues.add(
                doc.issue(
                    "PY310",
                    epath + ("matrix",),
                    f"judgments cannot be analysed: {exc}",
                    found="an incomplete or invalid matrix",
                    expected="every item compared, directly or through others",
                )
            )
            return None
        expert_cr[ex.expert] = res.cr
        if res.cr >= settings.cr_threshold:
            screened.append((ex.expert, res.cr, "excluded" if exclude else "flagged"))
            expert_worst = ahp.inconsistent_judgments(parsed, res.weights, top=3)
            issues.add(
                doc.issue(
                    "PY307",
                    epath + ("matrix",),
                    "one expert's judgments are inconsistent"
                    + ("; excluded from the aggregate (ahp.expert_cr: exclude)" if exclude else ""),
                    found=f"CR {res.cr:.3f} from {ex.expert}",
                    expected=f"CR < {settings.cr_threshold}",
                    hint=_worst_hint(expert_worst, items),
                )
            )
    if exclude:
        dropped = {e for e, _, _ in screened}
        kept = [m for m in matrices if m[0].expert not in dropped]
        if not kept:
            issues.add(
                doc.issue(
                    "PY315",
                    base,
                    "every expert of this matrix is excluded by the per-expert CR screening",
                    found=", ".join(f"{e} CR {cr:.3f}" for e, cr, _ in screened),
                    expected=f"at least one expert with CR < {settings.cr_threshold}",
                    hint="ask the experts to revisit their judgments, or set ahp.expert_cr: flag",
                )
            )
            return None
        matrices = kept
    combined = ahp.aggregate_aij([p for _, p, _ in matrices])
    try:
        res = ahp.analyze(combined, ri_table=settings.ri_table)
    except ValueError as exc:
        issues.add(
            doc.issue(
                "PY310",
                base,
                f"judgments cannot be analysed: {exc}",
                found="an incomplete comparison set",
                expected="every item compared, directly or through others",
            )
        )
        return None
    worst = tuple(ahp.inconsistent_judgments(combined, res.weights, top=3))
    if res.cr >= settings.cr_threshold:
        issues.add(
            doc.issue(
                "PY306",
                base,
                "judgments are inconsistent (consistency ratio too high)",
                found=f"CR {res.cr:.3f} (λmax {res.lambda_max:.3f}, n {n}, RI {res.ri})",
                expected=f"CR < {settings.cr_threshold}",
                hint=_worst_hint(worst, items),
            )
        )
    return MatrixResult(
        group=group,
        items=items,
        method="ahp-eigenvector-aij",
        weights=dict(zip(items, res.weights)),
        lambda_max=res.lambda_max,
        ci=res.ci,
        cr=res.cr,
        ri=res.ri,
        ri_table=res.ri_table,
        experts=tuple((ex.expert, ex.date.isoformat()) for ex, _, _ in matrices),
        expert_cr=expert_cr,
        missing=res.missing,
        file=doc.file,
        line=line,
        inconsistent=worst,
        screened=tuple(screened),
    )


def _fmt(x: float) -> str:
    frac = Fraction(x).limit_denominator(9)
    return str(frac) if abs(float(frac) - x) < 1e-6 else f"{x:.4g}"


def _worst_hint(worst, items) -> str:
    parts = [
        f"{items[w.i]} vs {items[w.j]} given {_fmt(w.given)}, the other judgments imply {w.implied:.2f} "
        f"(nearest scale value {_fmt(w.suggested)})"
        for w in worst
    ]
    return "revisit " + "; ".join(parts) if parts else "revisit the judgments"


def compute_weights(project: Project, issues: IssueList | None = None) -> WeightTree | None:
    """Weights for the whole hierarchy; problems are added to `issues`. None if unusable."""
    issues = issues if issues is not None else IssueList()
    hierarchy: HierarchyFile = project.hierarchy
    expert_ids = {e.id for e in hierarchy.experts}
    hdoc = project.docs[HIERARCHY]
    root = _matrix_issues(hierarchy.judgments, hdoc, ("judgments",), "root", hierarchy.ahp, expert_ids, issues)
    tree_ok = root is not None
    primaries = []
    for dim in project.dimensions:
        display = project.dimension_files[dim.primary.code]
        doc = project.docs[display]
        codes = list(dim.declared_codes or [ind.code for ind in dim.indicators])
        j = dim.judgments
        if sorted(j.items) != sorted(codes) or len(set(j.items)) != len(j.items):
            issues.add(
                doc.issue(
                    "PY301",
                    ("judgments", "items"),
                    "judgment items must be this dimension's indicators",
                    found=f"{j.items}",
                    expected=f"each of {codes} exactly once",
                )
            )
            tree_ok = False
            continue
        m = _matrix_issues(j, doc, ("judgments",), dim.primary.code, hierarchy.ahp, expert_ids, issues)
        if m is None or root is None or len(dim.indicators) != len(codes):
            tree_ok = False
            continue
        pw = root.weights.get(dim.primary.code)
        if pw is None:
            tree_ok = False
            continue
        secondary = tuple(
            SecondaryWeight(
                code=ind.code,
                name_zh=ind.name_zh,
                name_en=ind.name_en,
                local_weight=m.weights[ind.code],
                global_weight=pw * m.weights[ind.code],
                qualitative=ind.qualitative,
                scored=ind.scoring.scored,
            )
            for ind in dim.indicators
        )
        primaries.append(
            PrimaryWeight(
                code=dim.primary.code,
                name_zh=dim.primary.name_zh,
                name_en=dim.primary.name_en,
                weight=pw,
                matrix=m,
                secondary=secondary,
            )
        )
    if not tree_ok or root is None:
        return None
    tree = WeightTree(root=root, primary=primaries)
    share = tree.qualitative_share()
    if share > hierarchy.qualitative_cap + 1e-12:
        quals = [f"{s.code} {s.name_zh} {s.global_weight:.3f}" for p in primaries for s in p.secondary if s.qualitative]
        issues.add(
            Issue(
                file=HIERARCHY,
                line=hdoc.line(("qualitative_cap",)),
                code="PY312",
                path="qualitative_cap",
                message="expert-scored (qualitative) indicators carry too much weight",
                found=f"{share:.1%} ({'; '.join(quals)})",
                expected=f"at most {hierarchy.qualitative_cap:.0%} [001 §3.2]",
                hint="lower their judgments or score them from data",
            )
        )
    return tree
