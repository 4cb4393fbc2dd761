"""The score stage's columns (pingyi.score.vector over all providers, one indicator at a time) equal the
per-provider scalar path (score_provider): every IndicatorScore field, reasons and case-mix notes
included, on a generated bundle with funnels, case mix, surveys, missing data and small providers."""

from __future__ import annotations

from pathlib import Path

from pingyi.run.pipeline import run
from pingyi.score.funnel import fit_funnels
from pingyi.score.stage import score_columns, score_provider


def test_columns_equal_the_per_provider_path(small_bundle: Path):
    result = run(small_bundle)
    project, providers, values, measures = result.project, result.providers, result.values, result.measures
    funnels = fit_funnels(project, providers, values)
    columns, notes = score_columns(project, providers, values, measures, funnels)
    assert len(columns) == len(providers) > 0
    kinds = set()
    for i, p in enumerate(providers):
        scalar, scalar_notes = score_provider(project, p, values[p.code], measures, funnels)
        assert list(columns[i]) == list(scalar)  # the same indicators, in catalogue order
        for code, s in scalar.items():
            assert columns[i][code] == s, (p.code, code)
            kinds.add((s.status.value, s.absence, "funnel_z" in s.detail, s.scored_value is not None))
        assert notes[i] == scalar_notes, p.code
    # the bundle exercises the paths: scored, insufficient for volume and source, monitor-only, funnels
    statuses = {k[0] for k in kinds}
    assert {"scored", "insufficient", "monitor"} <= statuses, kinds
    assert any(k[2] for k in kinds) and any(k[3] for k in kinds), kinds
    assert any(notes), "no case-mix note: the bundle does not exercise the adjusted formulas"
