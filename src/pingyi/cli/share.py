"""The share command: one private package per provider."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from pingyi import api
from pingyi.cli import app, command, out


@command(app, "share")
def share(
    results: Path = typer.Option(..., "--results", "-r", help="Results folder of `pingyi score`."),
    reports: Path = typer.Option(..., "--reports", help="The --out folder of `pingyi report` on those results."),
    out_dir: Path = typer.Option(..., "--out", "-o", help="Folder for the packages (one per provider)."),
    provider: list[str] | None = typer.Option(
        None, "--provider", help="A fixmedins_code to package (repeatable; default: every provider)."
    ),
    zipped: bool = typer.Option(False, "--zip", help="Write <code>.zip files instead of folders."),
    as_json: bool = typer.Option(False, "--json", help="Print what was written as JSON."),
) -> None:
    """Write one private package per provider, to hand each hospital its own: its card (PDF and HTML),
    its own results (results/results.json with only its record), its peer group's quartiles
    (results/peers.csv; none for a group under 5), the project's definitions, and a manifest of every
    file. `pingyi explain CODE --results PACKAGE/results --provider P` and `pingyi.api.load_results`
    work on a package alone; nothing of another provider is in it. Refused unless the results match their
    manifest and the reports were rendered from them."""
    done = api.share(results, reports, out_dir, provider or None, zipped)
    if as_json:
        doc = {"out": str(done.out), "packages": list(done.packages), "zip": done.zipped,
               "files_per_package": done.files_per_package}  # fmt: skip
        out.print_json(json.dumps(doc, ensure_ascii=False))
        return
    kind = "zip files" if done.zipped else "folders"
    out.print(f"wrote {len(done.packages)} provider packages ({kind}, {done.files_per_package} files each) to {done.out}",
              markup=False)  # fmt: skip
