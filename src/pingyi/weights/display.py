"""How weights are written where people read them (`pingyi weights`, the manual, `pingyi explain`): a
monitor-only indicator (rule none) keeps its nominal AHP weight in the tree, but carries none in the
total - the score stage shares its local weight among its primary's scored indicators in proportion to
theirs (score/aggregate.py). These sentences say so; they change no weight."""

from __future__ import annotations

from pingyi.text import MONITOR_WEIGHT_WORDS
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
