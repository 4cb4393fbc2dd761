"""The manifest of a report folder (checked by pingyi.report.verify).

`pingyi report` writes manifest.json beside the cards: the SHA-256 of every PDF, XLSX and HTML file it
wrote, of the results it rendered (the results folder's own manifest and results.json), of every
template file it used, and the parameters. `pingyi verify` on a report folder checks every file
against it, refuses files the manifest does not list, and with `--rerender` renders the same reports
again from the same results and compares them byte for byte (the reports are deterministic).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pingyi import __version__
from pingyi.run.manifest import dependency_versions, sha256

KIND = "pingyi report"
REPORT_DEPENDENCIES = ("jinja2", "weasyprint", "pydyf", "fonttools", "openpyxl", "markupsafe")


def tree_hashes(folder: Path, skip: tuple[str, ...] = ("manifest.json",)) -> dict[str, str]:
    """SHA-256 of every file under `folder` by its relative POSIX path, sorted."""
    folder = Path(folder)
    found = {}
    for dirpath, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            path = Path(dirpath, name)
            rel = path.relative_to(folder).as_posix()
            if rel not in skip:
                found[rel] = sha256(path)
    return dict(sorted(found.items()))


def template_hashes(dirs: list[Path]) -> dict[str, str]:
    """The template files a run sees: each name from the first directory that has it (overrides first)."""
    seen: dict[str, str] = {}
    for d in dirs:
        for path in sorted(Path(d).rglob("*")):
            rel = path.relative_to(d).as_posix()
            if path.is_file() and rel not in seen:
                seen[rel] = sha256(path)
    return dict(sorted(seen.items()))


def build_report_manifest(
    stage: Path, results_dir: Path, template_dirs: list[Path], custom_templates: Path | None, parameters: Mapping
) -> dict[str, Any]:
    deps = dependency_versions(REPORT_DEPENDENCIES)
    results_manifest = Path(results_dir) / "manifest.json"
    return {
        "kind": KIND,
        "pingyi_version": __version__,
        "dependencies": deps,
        "parameters": dict(parameters),
        "results": {
            "dir": str(Path(results_dir).resolve()),
            "manifest_sha256": sha256(results_manifest) if results_manifest.is_file() else None,
            "results_sha256": sha256(Path(results_dir) / "results.json"),
        },
        "templates": {
            "dir": None if custom_templates is None else str(Path(custom_templates).resolve()),
            "files": template_hashes(template_dirs),
        },
        "outputs": tree_hashes(stage),
    }


def write_report_manifest(stage: Path, manifest: Mapping[str, Any]) -> Path:
    path = Path(stage) / "manifest.json"
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def is_report_manifest(manifest: Any) -> bool:
    return isinstance(manifest, dict) and manifest.get("kind") == KIND
