"""`pingyi verify REPORTS_DIR`: every file of a report folder against its manifest; files the manifest
does not list are refused; the results and templates it was rendered from are compared with the ones
here; `--rerender` renders the reports again and compares them byte for byte."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from pingyi.errors import PingyiError, read_json
from pingyi.files import member
from pingyi.report.manifest import template_hashes, tree_hashes
from pingyi.report.run import LEDGER_SNAPSHOT, UNCERTAINTY_SNAPSHOT, render_reports
from pingyi.report.templates import template_dirs
from pingyi.run.manifest import sha256
from pingyi.run.verify import VerifyReport


def _shape(manifest: Any, path: Path) -> None:
    def bad(field: str, expected: str) -> PingyiError:
        return PingyiError(f"{path}: field {field} is missing or malformed; expected {expected}")

    if not isinstance(manifest.get("outputs"), dict) or not all(
        isinstance(v, str) for v in manifest["outputs"].values()
    ):
        raise bad("outputs", "an object of file name -> SHA-256")
    if not isinstance(manifest.get("results"), dict) or not isinstance(manifest["results"].get("dir"), str):
        raise bad("results", "an object with the results folder (dir) and its hashes")
    if not isinstance(manifest.get("parameters"), dict):
        raise bad("parameters", "an object of the report's parameters")
    templates = manifest.get("templates")
    if not isinstance(templates, dict) or not isinstance(templates.get("files"), dict):
        raise bad("templates", "an object with the template files' hashes")


def verify_report(
    folder: Path, manifest: dict, *, results_dir: Path | None = None, rerender: bool = False, workers: int = 0
) -> VerifyReport:
    folder = Path(folder)
    mpath = folder / "manifest.json"
    _shape(manifest, mpath)
    lines: list[str] = []
    ok = True
    listed = {name: member(folder, name, mpath) for name in manifest["outputs"]}
    edited = set()
    for name, path in listed.items():
        if not path.is_file():
            ok = False
            lines.append(f"MISSING {name}: listed in the manifest but not in {folder}")
        elif sha256(path) != manifest["outputs"][name]:
            ok = False
            edited.add(name)
            lines.append(f"EDITED {name}: its SHA-256 no longer matches the manifest (changed after it was written)")
        else:
            lines.append(f"ok {name}")
    for name in sorted(set(tree_hashes(folder)) - set(listed)):
        ok = False
        lines.append(f"EXTRA {name}: in {folder} but not in its manifest (not written by this report run)")

    recorded = manifest["results"]
    results = Path(results_dir) if results_dir is not None else Path(recorded["dir"])
    if not (results / "results.json").is_file():
        lines.append(f"note: the results folder {results} is not here; pass --results DIR to check it")
        if rerender:
            raise PingyiError(f"{results}: no results.json to re-render from; pass --results DIR")
    else:
        if sha256(results / "results.json") != recorded.get("results_sha256"):
            ok = False
            lines.append(f"INPUT {results}/results.json differs from the one the reports were rendered from")
        rm = results / "manifest.json"
        if recorded.get("manifest_sha256") is not None and (
            not rm.is_file() or sha256(rm) != recorded["manifest_sha256"]
        ):
            ok = False
            lines.append(f"INPUT {rm} differs from the results manifest the reports were rendered from")
    templates = manifest["templates"]
    custom = Path(templates["dir"]) if templates.get("dir") else None
    if custom is not None and not custom.is_dir():
        lines.append(f"note: the templates folder {custom} is not here; its files were not compared")
    else:
        now = template_hashes(template_dirs(custom))
        for name, digest in templates["files"].items():
            if now.get(name) != digest:
                ok = False
                lines.append(f"INPUT template {name} differs from the one the reports were rendered with")

    if rerender:
        params = manifest["parameters"]
        with tempfile.TemporaryDirectory(prefix="pingyi-verify-report-") as tmp:
            fresh = Path(tmp) / "reports"
            render_reports(
                results,
                fresh,
                formats=params.get("formats") or ["pdf", "xlsx", "html"],
                providers=params.get("providers"),
                lang=params.get("lang", "zh"),
                workers=workers,
                templates=custom,
                ledger=read_json(folder / LEDGER_SNAPSHOT) if (folder / LEDGER_SNAPSHOT).is_file() else None,
                uncertainty=read_json(folder / UNCERTAINTY_SNAPSHOT)
                if (folder / UNCERTAINTY_SNAPSHOT).is_file()
                else None,
            )
            again = tree_hashes(fresh)
            for name, digest in manifest["outputs"].items():
                if again.get(name) != digest:
                    ok = False
                    lines.append(f"DIFFERS {name}: re-rendered from the same results it is not the same bytes")
            for name in sorted(set(again) - set(manifest["outputs"])):
                ok = False
                lines.append(f"DIFFERS {name}: the re-render writes it but the manifest does not list it")
            if ok:
                lines.append(f"re-rendered {len(again)} file(s): identical")
    return VerifyReport(ok=ok, lines=lines)
