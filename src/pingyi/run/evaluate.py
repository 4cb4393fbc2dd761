"""One evaluation to files: run the pipeline, write every result file and the manifest.

Shared by `pingyi score`, `pingyi verify` (which re-runs into a scratch directory) and tests.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pingyi.files import output_folder
from pingyi.run.manifest import build_manifest, write_manifest
from pingyi.run.outputs import RESULT_FILES, write_results
from pingyi.run.pipeline import RunResult, run
from pingyi.spec.project import default_project_dir

# the parameters of a run's place in the evaluation cycle (pingyi.cycle), re-applied by `pingyi verify`
CYCLE_PARAMETERS = ("stage", "date", "review_deadline")


def evaluate_to(
    data_dir: Path,
    project_dir: Path | None,
    year: int | None,
    history_dir: Path | None,
    out: Path,
    progress: Callable[[], None] | None = None,
    strict: bool = False,
    encoding: str | None = None,
    cycle: Mapping[str, Any] | None = None,
    corrections: Path | None = None,
    engine: str = "duckdb",
    spark_master: str | None = None,
) -> RunResult:
    """`cycle`: the run's place in the evaluation cycle (pingyi.cycle: stage preview/final, date, review
    deadline); recorded with the parameters, so the reports and `pingyi verify` see it. `corrections`: a
    corrections table (pingyi.run.corrections) applied between the indicator values and the scores; the
    manifest records it among the inputs. `engine` (duckdb, spark with `spark_master`): what reads, checks
    and measures the bundle (pingyi.engine); recorded nowhere, as the outputs do not depend on it."""
    project_dir = Path(project_dir) if project_dir is not None else default_project_dir()
    result = run(
        data_dir,
        project_dir,
        year=year,
        history_dir=history_dir,
        progress=progress,
        strict=strict,
        encoding=encoding,
        corrections=Path(corrections) if corrections is not None else None,
        engine=engine,
        spark_master=spark_master,
    )
    if cycle:
        result = dataclasses.replace(result, parameters={**result.parameters, **{k: cycle[k] for k in sorted(cycle)}})
    try:
        # every file, manifest last, goes to a staging folder that replaces --out only when complete
        with output_folder(Path(out), owned=(*RESULT_FILES, "manifest.json"), command="pingyi score") as stage:
            outputs = write_results(result, stage)
            manifest = build_manifest(
                data_dir=data_dir,
                project_dir=project_dir,
                history_dir=history_dir,
                parameters=result.parameters,
                outputs=outputs,
                corrections=corrections,
            )
            write_manifest(stage, manifest)
    finally:
        if result.scratch is not None:
            result.scratch.cleanup()
    return result
