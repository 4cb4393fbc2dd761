"""Traffic lights: an indicator's light from how much worse than its baseline it is, a dimension's
light from its score, a provider's light from its grade.

Relative mode (the default) measures "worse" as a share of the baseline; the default red bound of
20 % is the source documents' warning rule ("exceeding its baseline by 20 %" [001 §5.3]). Absolute
mode compares the difference in the indicator's own unit (for baselines near zero). Funnel lights
(pingyi.score.funnel) refine the indicator light with the provider's volume.
"""

from __future__ import annotations

from pingyi.spec.models import IndicatorSpec, PolicyFile
from pingyi.text import Light


def light_for_gap(ind: IndicatorSpec, gap: float) -> Light:
    if gap <= ind.lights.yellow:
        return Light.GREEN
    if gap <= ind.lights.red:
        return Light.YELLOW
    return Light.RED


def dimension_light(score: float | None, policy: PolicyFile) -> Light:
    if score is None:
        return Light.GREY
    if score >= policy.lights.green_min:
        return Light.GREEN
    if score >= policy.lights.yellow_min:
        return Light.YELLOW
    return Light.RED


def grade_light(grade: str, policy: PolicyFile) -> Light:
    return Light(policy.grade_lights.get(grade, "grey"))
