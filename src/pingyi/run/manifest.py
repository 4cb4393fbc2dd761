"""manifest.json: what a third-party assessor needs to re-run a result and prove it identical
(`pingyi verify`, pingyi.run.verify).

The manifest records the pingyi version, key dependency versions, SHA-256 of every input file and
every project file, all parameters, and SHA-256 of every output.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from pingyi import __version__
from pingyi.files import sha256_file

KEY_DEPENDENCIES = (
    "duckdb",
    "numpy",
    "scipy",
    "pydantic",
    "sqlglot",
    "pyarrow",
    "openpyxl",
    "python-calamine",
    "pyyaml",
)
PROJECT_GLOBS = ("indicators/*.yaml", "baselines/*.yaml", "measures/*.yaml", "policy.yaml", "data.yaml")


sha256 = sha256_file  # the name the run, report and ledger code use


def project_files(root: Path, globs: Iterable[str] = ()) -> dict[str, str]:
    globs = tuple(globs) or PROJECT_GLOBS
    out = {}
    for pattern in globs:
        for path in sorted(root.glob(pattern)):
            if path.is_file():
                out[path.relative_to(root).as_posix()] = sha256(path)
    return dict(sorted(out.items()))


def data_files(data_dir: Path) -> dict[str, str]:
    return {
        p.name: sha256(p) for p in sorted(Path(data_dir).iterdir()) if p.is_file() and not p.name.startswith((".", "_"))
    }


def dependency_versions(names: Iterable[str]) -> dict[str, str | None]:
    """Installed version of each distribution (None when absent), as manifests record them."""
    deps: dict[str, str | None] = {}
    for name in names:
        try:
            deps[name] = metadata.version(name)
        except metadata.PackageNotFoundError:  # pragma: no cover
            deps[name] = None
    return deps


def build_manifest(
    *,
    data_dir: Path,
    project_dir: Path,
    history_dir: Path | None,
    parameters: Mapping[str, Any],
    outputs: list[Path],
    corrections: Path | None = None,
) -> dict[str, Any]:
    """`corrections`: the corrections table the run applied (recorded only when given, so `pingyi
    verify` re-runs with it)."""
    deps = dependency_versions(KEY_DEPENDENCIES)
    manifest: dict[str, Any] = {
        "pingyi_version": __version__,
        "dependencies": deps,
        "parameters": dict(parameters),
        "inputs": {
            "data_dir": str(Path(data_dir).resolve()),
            "data_files": data_files(data_dir),
            "project_dir": str(Path(project_dir).resolve()),
            "project_files": project_files(Path(project_dir)),
            "history_dir": None if history_dir is None else str(Path(history_dir).resolve()),
            "history_files": {}
            if history_dir is None
            else {"results.json": sha256(Path(history_dir) / "results.json")},
        },
        "outputs": {p.name: sha256(p) for p in sorted(outputs, key=lambda p: p.name)},
    }
    if corrections is not None:
        path = Path(corrections)
        manifest["inputs"]["corrections"] = {"path": str(path.resolve()), "sha256": sha256(path)}
    return manifest


def write_manifest(out: Path, manifest: Mapping[str, Any]) -> Path:
    path = out / "manifest.json"
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path
