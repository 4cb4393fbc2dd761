"""Every command's --json output has the top-level keys docs/json.md lists."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def documented() -> dict[str, list[list[str]]]:
    text = (ROOT / "docs" / "json.md").read_text(encoding="utf-8")
    shapes: dict[str, list[list[str]]] = {}
    for section in re.split(r"^## ", text, flags=re.M)[1:]:
        command = section.split("\n", 1)[0].split()[1]
        shapes[command] = [re.findall(r"`([a-z_0-9]+)`", line.split(":", 1)[1]) for line in section.splitlines()
                           if line.startswith("Keys")]  # fmt: skip
    return shapes


def keys_of(result) -> list[str]:
    assert result.exit_code in (0, 1), result.stderr
    return list(json.loads(result.stdout))


@pytest.fixture(scope="module")
def reports(example, tmp_path_factory):
    import pingyi.api as p

    out = tmp_path_factory.mktemp("json") / "reports"
    p.report(example.out, out, formats=("pdf",), providers=("H33010200006",), workers=1)
    return out


def test_every_command_prints_its_documented_keys(cli, example, small_bundle, reports, tmp_path):
    shapes = documented()
    r = example.out
    seen = {
        "score": [keys_of(cli("score", "--data", small_bundle, "--out", tmp_path / "s", "--json"))],
        "quality": [keys_of(cli("quality", "--data", small_bundle, "--json"))],
        "compare": [keys_of(cli("compare", r, r, "--json"))],
        "explain": [
            keys_of(cli("explain", "D1.01", "--json")),
            keys_of(cli("explain", "D1", "--json")),
            sorted(keys_of(cli("explain", "D1.01", "--results", r, "--provider", "H33010200006", "--json"))),
        ],
        "uncertainty": [
            keys_of(
                cli(
                    "uncertainty",
                    "--results",
                    r,
                    "--out",
                    tmp_path / "u",
                    "--samples",
                    "20",
                    "--sobol-samples",
                    "4",
                    "--json",
                )
            )
        ],  # fmt: skip
        "weights": [keys_of(cli("weights", "--json"))],
        "share": [
            keys_of(
                cli(
                    "share",
                    "--results",
                    r,
                    "--reports",
                    reports,
                    "--out",
                    tmp_path / "p",
                    "--provider",
                    "H33010200006",
                    "--json",
                )
            )
        ],  # fmt: skip
    }
    packaged = tmp_path / "p" / "H33010200006"
    seen["verify"] = [keys_of(cli("verify", packaged, "--json"))]
    for command, found in seen.items():
        assert found == shapes[command], command
    issues = json.loads(cli("validate", "--json").stdout)
    assert issues == []
    broken = tmp_path / "proj"
    shutil.copytree(ROOT / "tests" / "fixtures" / "mini", broken)
    (broken / "policy.yaml").write_text("grades: 3\n", encoding="utf-8")
    bad = json.loads(cli("validate", "--project", broken, "--json").stdout)
    assert bad and {"code", "severity", "message"} <= set(bad[0])
