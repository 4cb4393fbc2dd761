"""`pingyi verify` of a monitoring folder (manifest kind `pingyi monitor`): every output against the
manifest, the recorded inputs against the files now there, then the monitoring run again from them into
a scratch folder (same month, date, language, formats and, from ledger.json, the same ledger state the
warnings were planned from) and every output compared byte for byte."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from pingyi.errors import PingyiError
from pingyi.monitor.run import LEDGER_SNAPSHOT, write_monitor
from pingyi.run.manifest import data_files, project_files
from pingyi.run.verify import VerifyReport, recorded_outputs


def verify_monitor(
    folder: Path, manifest: dict[str, Any], data: Path | None = None, project: Path | None = None
) -> VerifyReport:
    folder = Path(folder)
    mpath = folder / "manifest.json"
    outputs, inputs, parameters = manifest.get("outputs"), manifest.get("inputs"), manifest.get("parameters")
    if not isinstance(outputs, dict) or not isinstance(inputs, dict) or not isinstance(parameters, dict):
        raise PingyiError(
            f"{mpath}: fields outputs, inputs and parameters are required; expected the manifest of `pingyi monitor`"
        )
    for key in ("through", "date", "year"):
        if key not in parameters:
            raise PingyiError(f"{mpath}: parameters.{key} is missing; expected the manifest of `pingyi monitor`")
    lines, edited = recorded_outputs(folder, sorted(outputs.items()), mpath)
    lines += [
        f"EDITED {name}: its SHA-256 no longer matches the manifest (changed after the run)" for name in sorted(edited)
    ]
    ok = not lines
    data_dir = Path(data) if data else Path(str(inputs.get("data_dir")))
    project_dir = Path(project) if project else Path(str(inputs.get("project_dir")))
    if not data_dir.is_dir():
        raise PingyiError(f"{data_dir}: the data directory recorded in the manifest is not here; pass --data DIR")
    now = data_files(data_dir)
    for name, digest in sorted((inputs.get("data_files") or {}).items()):
        if now.get(name) != digest:
            ok = False
            lines.append(f"INPUT {name}: data file differs from the one recorded (hash mismatch or missing)")
    proj_now = project_files(project_dir)
    for name, digest in sorted((inputs.get("project_files") or {}).items()):
        if proj_now.get(name) != digest:
            ok = False
            lines.append(f"INPUT {name}: project file differs from the one recorded")
    state = None
    if parameters.get("ledger"):
        snapshot = folder / LEDGER_SNAPSHOT
        if LEDGER_SNAPSHOT in edited or not snapshot.is_file():
            raise PingyiError(
                f"{snapshot}: the ledger state the warnings were planned from is missing or edited; "
                "expected it as `pingyi monitor` wrote it"
            )
        state = json.loads(snapshot.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="pingyi-verify-") as tmp:
        rerun = Path(tmp) / "out"
        write_monitor(
            data_dir,
            str(parameters["through"]),
            rerun,
            project_dir,
            int(parameters["year"]),
            day=str(parameters["date"]),
            lang=str(parameters.get("lang") or "zh"),
            formats=list(parameters.get("formats") or ["html", "pdf"]),
            encoding=parameters.get("encoding"),
            state=state,
        )
        fresh = json.loads((rerun / "manifest.json").read_text(encoding="utf-8"))["outputs"]
        for name in sorted(outputs):
            if name in edited:
                continue
            if name not in fresh:
                ok = False
                lines.append(f"DIFFERS {name}: the re-run did not produce it")
            elif fresh[name] != outputs[name]:
                ok = False
                lines.append(f"DIFFERS {name}: the re-run gives other bytes")
            else:
                lines.append(f"ok {name}")
        for name in sorted(set(fresh) - set(outputs)):
            ok = False
            lines.append(f"DIFFERS {name}: the re-run produces it, the manifest does not list it")
    return VerifyReport(ok=ok, lines=lines)
