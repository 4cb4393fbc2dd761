"""How weights are written where people read them (`pingyi weights`, the manual, `pingyi explain`): a
monitor-only indicator (rule none) keeps its nominal AHP weight in the tree, but carries none in the
total - the score stage shares its local weight among its primary's scored indicators in proportion to
theirs (score/aggregate.py). These sentences say so; they change no weight."""

from __future__ import annotations

from pingyi.text import MONITOR_WEIGHT_WORDS
from pingyi.weights.combined import SideBySide
from pingyi.weights.tree import PrimaryWeight, SecondaryWeight, WeightTree


def _find(tree: WeightTree, code: str) -> tuple[PrimaryWeight, SecondaryWeight]:
    return next((p, s) for p in tree.primary for s in p.secondary if s.code == code)


def monitor_sentence(tree: WeightTree, code: str) -> str:
    """`pingyi weights`' note under the table for a monitor-only indicator."""
    p, s = _find(tree, code)
    return (
        f"{s.code} {s.name_zh}: {MONITOR_WEIGHT_WORDS['zh']} / {MONITOR_WEIGHT_WORDS['en']}; carries 0 in the total; "
        f"its nominal weight {s.global_weight:.4f} goes to the scored indicators of {p.code} in proportion to "
        "their weights (nominal weights in parentheses)"
    )


def manual_weight(tree: WeightTree, code: str) -> str:
    """The manual's 权重 weight cell: nominal local and global weights, and what the indicator carries."""
    p, s = _find(tree, code)
    if not s.scored:
        return (
            f"{MONITOR_WEIGHT_WORDS['zh']} {MONITOR_WEIGHT_WORDS['en']}: carries 0 in the total (nominal local "
            f"{s.local_weight:.4f}, global {s.global_weight:.4f}, shared by the scored indicators of {p.code} in "
            "proportion to their weights)"
        )
    text = f"local {s.local_weight:.4f}, global {s.global_weight:.4f}"
    monitors = [x.code for x in p.secondary if not x.scored]
    if monitors:
        text += f"; carries {tree.carried_weights()[s.code]:.4f} ({', '.join(monitors)} monitor only)"
    return text


def screening_lines(tree: WeightTree) -> list[str]:
    """The experts the per-expert CR screening flagged or excluded, matrix by matrix."""
    matrices = [("primary matrix", tree.root)] + [(f"{p.code} matrix", p.matrix) for p in tree.primary]
    return [f"{name}: {note}" for name, m in matrices for note in m.screening_notes()]


def comparison_lines(c: SideBySide) -> list[str]:
    """Under `pingyi weights --results`: where the values came from and how the columns were made."""
    s = c.source
    manifest = (
        "no manifest.json beside it"
        if s.manifest_sha256 is None
        else f"manifest.json sha256 {s.manifest_sha256}"
        + ("" if s.manifest_match else " (WARNING: it does not list this results.json's sha256)")
    )
    if c.combination is None:
        how = (
            "the project declares no combination (indicators/hierarchy.yaml combination:): the combined column "
            "shows the game-theory combination"
        )
    else:
        how = f"combination declared in indicators/hierarchy.yaml: {c.combined.method}" + (
            f", alpha {c.combined.alpha:g}" if c.combined.alpha is not None else ""
        )
    a, o = c.combined.coefficients
    coef = f" (coefficients AHP {a:.4f}, {c.method} {o:.4f})" if c.combined.method != "multiplicative" else ""
    return [
        f"data: {s.results} (year {s.year}, {s.providers} providers), sha256 {s.results_sha256}; {manifest}",
        "AHP: the weight each indicator carries in the total; entropy and CRITIC: from the providers' scored "
        "values, min-max normalised in the good direction, grey and missing values left out per indicator "
        "(n: values used by " + c.method + ")",
        f"{how}, with {c.method} weights{coef}; scores still use the AHP weights",
    ]
