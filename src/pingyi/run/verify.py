"""`pingyi verify`: check a results directory against its manifest, then re-run the evaluation from the
recorded inputs into a scratch directory and compare every output byte for byte, naming the first
differing provider and indicator. An output edited after the run is caught either way.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pingyi.errors import PingyiError, read_json
from pingyi.files import member
from pingyi.run.evaluate import CYCLE_PARAMETERS, evaluate_to
from pingyi.run.manifest import data_files, project_files, sha256


@dataclass
class VerifyReport:
    ok: bool
    lines: list[str]


def _first_difference(name: str, expected: bytes, actual: bytes) -> str:
    """Name the first differing provider (and indicator) of a CSV, or the first differing line."""
    exp_lines = expected.decode("utf-8", "replace").splitlines()
    act_lines = actual.decode("utf-8", "replace").splitlines()
    for i, (a, b) in enumerate(zip(exp_lines, act_lines), 1):
        if a != b:
            if name.endswith(".csv") and i > 1:
                header = next(csv.reader(io.StringIO(exp_lines[0])))
                row = next(csv.reader(io.StringIO(a)))
                other = next(csv.reader(io.StringIO(b)))
                where = dict(zip(header, row))
                cols = [h for h, x, y in zip(header, row, other) if x != y]
                who = where.get("fixmedins_code", "?")
                ind = f", indicator {where['indicator']}" if "indicator" in where else ""
                return (
                    f"{name} line {i}: provider {who}{ind}, column(s) {', '.join(cols) or '?'} differ "
                    f"(expected {[where.get(c) for c in cols]}, found {[dict(zip(header, other)).get(c) for c in cols]})"
                )
            return f"{name} line {i} differs"
    return f"{name}: {len(exp_lines)} lines recorded vs {len(act_lines)} re-run"


def read_manifest(folder: Path) -> dict:
    """manifest.json of a results or report folder, as an object (anything else is not pingyi's)."""
    path = Path(folder) / "manifest.json"
    manifest = read_json(path, "the manifest written by `pingyi score` or `pingyi report`")
    if not isinstance(manifest, dict):
        raise PingyiError(
            f"{path}: is a JSON {type(manifest).__name__}, not an object; expected the manifest written by "
            "`pingyi score` or `pingyi report`"
        )
    return manifest


def _check_shape(manifest: dict, path: Path) -> None:
    outputs = manifest.get("outputs")
    if not isinstance(outputs, dict) or not all(isinstance(v, str) for v in outputs.values()):
        raise PingyiError(f"{path}: field outputs is missing or malformed; expected an object of file name -> SHA-256")
    inputs = manifest.get("inputs")
    if (
        not isinstance(inputs, dict)
        or not isinstance(inputs.get("data_files"), dict)
        or not isinstance(inputs.get("project_files"), dict)
        or not isinstance(inputs.get("data_dir"), str)
        or not isinstance(inputs.get("project_dir"), str)
    ):
        raise PingyiError(
            f"{path}: field inputs is missing or malformed; expected data_dir, project_dir, data_files and "
            "project_files as `pingyi score` writes them"
        )
    if not isinstance(manifest.get("parameters"), dict):
        raise PingyiError(f"{path}: field parameters is missing or malformed; expected an object")


def recorded_outputs(folder: Path, outputs: Iterable[tuple[str, str]], mpath: Path) -> tuple[list[str], set[str]]:
    """The manifest's outputs (name, SHA-256) checked in `folder`: a MISSING line per absent file, and the
    names of those whose bytes changed (each caller says what that means for it)."""
    missing: list[str] = []
    edited: set[str] = set()
    for name, digest in outputs:
        path = member(folder, name, mpath)
        if not path.is_file():
            missing.append(f"MISSING {name}: listed in the manifest but not in {folder}")
        elif sha256(path) != digest:
            edited.add(name)
    return missing, edited


def verify(
    results_dir: Path, data_dir: Path | None = None, project_dir: Path | None = None, manifest: dict | None = None
) -> VerifyReport:
    results_dir = Path(results_dir)
    if manifest is None:
        manifest = read_manifest(results_dir)
    mpath = results_dir / "manifest.json"
    _check_shape(manifest, mpath)
    lines, edited = recorded_outputs(results_dir, manifest["outputs"].items(), mpath)
    ok = not lines and not edited
    inputs = manifest["inputs"]
    data = Path(data_dir) if data_dir else Path(inputs["data_dir"])
    project = Path(project_dir) if project_dir else Path(inputs["project_dir"])
    history = Path(inputs["history_dir"]) if inputs.get("history_dir") else None
    if not data.is_dir():
        raise PingyiError(f"{data}: the data directory recorded in the manifest is not here; pass --data DIR")
    now = data_files(data)
    for name, digest in inputs["data_files"].items():
        if now.get(name) != digest:
            ok = False
            lines.append(f"INPUT {name}: data file differs from the one recorded (hash mismatch or missing)")
    for name in sorted(set(now) - set(inputs["data_files"])):
        lines.append(f"note: data file {name} was not part of the recorded run")
    proj_now = project_files(project)
    for name, digest in inputs["project_files"].items():
        if proj_now.get(name) != digest:
            ok = False
            lines.append(f"INPUT {name}: project file differs from the one recorded")
    corrections = _recorded_corrections(inputs, mpath)
    if corrections is not None and sha256(corrections[0]) != corrections[1]:
        ok = False
        lines.append(f"INPUT {corrections[0]}: corrections file differs from the one recorded")
    with tempfile.TemporaryDirectory(prefix="pingyi-verify-") as tmp:
        rerun = Path(tmp) / "out"
        parameters = manifest["parameters"]
        cycle = {k: parameters[k] for k in CYCLE_PARAMETERS if k in parameters}
        evaluate_to(
            data,
            project,
            parameters.get("year"),
            history,
            rerun,
            encoding=parameters.get("encoding"),
            cycle=cycle,
            corrections=corrections[0] if corrections is not None else None,
        )
        new_manifest = json.loads((rerun / "manifest.json").read_text(encoding="utf-8"))
        for name in manifest.get("outputs", {}):
            recorded = results_dir / name
            fresh = rerun / name
            if not fresh.is_file():
                ok = False
                lines.append(f"DIFFERS {name}: the re-run did not produce it")
                continue
            if name in edited:
                lines.append(
                    f"EDITED {name}: its SHA-256 no longer matches the manifest (changed after the run); "
                    + _first_difference(name, fresh.read_bytes(), recorded.read_bytes())
                )
            elif new_manifest["outputs"].get(name) != manifest["outputs"][name]:
                ok = False
                lines.append("DIFFERS " + _first_difference(name, recorded.read_bytes(), fresh.read_bytes()))
            else:
                lines.append(f"ok {name}")
    return VerifyReport(ok=ok, lines=lines)


def _recorded_corrections(inputs: dict, mpath: Path) -> tuple[Path, str] | None:
    """The corrections table a run applied (path, SHA-256), when it applied one; it must still be there."""
    entry = inputs.get("corrections")
    if entry is None:
        return None
    if (
        not isinstance(entry, dict)
        or not isinstance(entry.get("path"), str)
        or not isinstance(entry.get("sha256"), str)
    ):
        raise PingyiError(f"{mpath}: field inputs.corrections is malformed; expected path and sha256")
    path = Path(entry["path"])
    if not path.is_file():
        raise PingyiError(
            f"{path}: the corrections file recorded in {mpath} is not here; expected it where the run read it"
        )
    return path, entry["sha256"]
