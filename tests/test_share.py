"""Private packages per provider (`pingyi share`): nothing of any other provider in a package, and
`explain`, `load_results` and `verify` work on a package alone."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

import pingyi.api as p
from pingyi.text import significant

CHOSEN = ("H33010200006", "H33010600002", "H41010200003")


@pytest.fixture(scope="module")
def shared(example, tmp_path_factory) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("share")
    reports = root / "reports"
    p.report(example.out, reports, formats=("pdf", "html"), providers=CHOSEN, workers=1)
    packages = root / "packages"
    p.share(example.out, reports, packages, list(CHOSEN))
    return example.out, reports, packages


def _text_of(folder: Path) -> str:
    parts = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        if path.suffix == ".pdf":
            done = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True)
            parts.append(done.stdout)
            parts.append(path.read_bytes().decode("latin-1"))  # the raw PDF too (metadata, bookmarks)
        else:
            parts.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(parts)


def test_a_package_holds_nothing_of_another_provider(shared, example):
    results, _reports, packages = shared
    doc = example.results
    assert sorted(x.name for x in packages.iterdir()) == sorted(CHOSEN)
    for code in CHOSEN:
        text = _text_of(packages / code)
        own = next(q for q in doc["providers"] if q["fixmedins_code"] == code)
        own_values = {significant(i["value"]) for i in own["indicators"]}
        assert code in text and own["fixmedins_name"] in text
        for other in doc["providers"]:
            if other["fixmedins_code"] == code:
                continue
            assert other["fixmedins_code"] not in text, (code, other["fixmedins_code"])
            if other["fixmedins_name"] not in own["fixmedins_name"]:
                assert other["fixmedins_name"] not in text, (code, other["fixmedins_name"])
            if other["total_score"] is not None and other["total_score"] != own["total_score"]:
                assert f"{other['total_score']}" not in text, (code, other["total_score"])
            for i in other["indicators"]:
                shown = significant(i["value"])
                # a value precise enough to be this provider's alone (not 0, 1 or a round share)
                if i["value"] is not None and len(shown.replace("-", "").replace(".", "").lstrip("0")) >= 6:
                    assert shown not in own_values and shown not in text, (code, other["fixmedins_code"], i["code"])


def test_explain_load_and_verify_work_on_a_package(shared, cli, tmp_path):
    _results, _reports, packages = shared
    moved = tmp_path / "elsewhere" / CHOSEN[0]  # a hospital unpacks it anywhere
    shutil.copytree(packages / CHOSEN[0], moved)
    r = cli("explain", "D1.01", "--results", moved / "results", "--provider", "杭州市第一人民医院", "--lang", "zh")
    assert r.exit_code == 0, r.stderr
    assert "计算过程" in r.stdout and "对总分的贡献" in r.stdout
    assert f"project: {(moved / 'project').resolve()}" in r.stdout
    loaded = p.load_results(moved / "results")
    assert list(loaded.scores["fixmedins_code"]) == [CHOSEN[0]]
    assert len(loaded.indicators) == len(loaded.document.indicators)
    ok = cli("verify", moved)
    assert ok.exit_code == 0 and "match the package's manifest" in ok.stdout, ok.stdout + ok.stderr
    peers = (moved / "results" / "peers.csv").read_bytes()
    assert peers.startswith("\ufeff".encode())  # opens in Excel with its Chinese intact
    (moved / "results" / "peers.csv").write_bytes(peers.replace(b"P100", b"P10", 1))
    bad = cli("verify", moved)
    assert bad.exit_code == 1 and "EDITED results/peers.csv" in bad.stdout


def test_packages_are_deterministic_and_zip(shared, tmp_path):
    results, reports, packages = shared
    again = tmp_path / "again"
    p.share(results, reports, again, list(CHOSEN))
    for code in CHOSEN:
        for path in sorted((packages / code).rglob("*")):
            if path.is_file():
                assert path.read_bytes() == (again / code / path.relative_to(packages / code)).read_bytes(), path
    z1, z2 = tmp_path / "z1", tmp_path / "z2"
    p.share(results, reports, z1, [CHOSEN[0]], zipped=True)
    p.share(results, reports, z2, [CHOSEN[0]], zipped=True)
    assert (z1 / f"{CHOSEN[0]}.zip").read_bytes() == (z2 / f"{CHOSEN[0]}.zip").read_bytes()
    names = zipfile.ZipFile(z1 / f"{CHOSEN[0]}.zip").namelist()
    assert f"{CHOSEN[0]}/card.pdf" in names and f"{CHOSEN[0]}/results/results.json" in names


def test_share_refuses_what_would_mislead(shared, cli, tmp_path):
    results, reports, _packages = shared
    edited = tmp_path / "results"
    shutil.copytree(results, edited)
    doc = edited / "results.json"
    doc.write_text(doc.read_text(encoding="utf-8").replace('"优秀"', '"良好"', 1), encoding="utf-8")
    r = cli("share", "--results", edited, "--reports", reports, "--out", tmp_path / "o1")
    assert r.exit_code == 2 and "EDITED results.json" in r.stderr
    r = cli("share", "--results", results, "--reports", reports, "--out", tmp_path / "o2", "--provider", "H33018200002")
    assert r.exit_code == 2 and "no card for H33018200002" in r.stderr
    r = cli("share", "--results", results, "--reports", reports, "--out", tmp_path / "o3", "--provider", "H00")
    assert r.exit_code == 2 and "--provider H00: not in" in r.stderr
    other = tmp_path / "other-reports"
    shutil.copytree(reports, other)
    manifest = json.loads((other / "manifest.json").read_text(encoding="utf-8"))
    manifest["results"]["results_sha256"] = "0" * 64
    (other / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    r = cli("share", "--results", results, "--reports", other, "--out", tmp_path / "o4")
    assert r.exit_code == 2 and "rendered from other results" in r.stderr
