"""One provider's private package, built from a results folder and the reports rendered from it.

What goes in (for provider P):

    P/card.pdf, P/card.html     P's card as `pingyi report` rendered it (the HTML's link back to the
                                committee's index of every provider removed: it is not in the package)
    P/results/results.json      the run's results.json with P's provider record only; funnel points,
                                corrections and run guards that name another provider are left out
    P/results/peers.csv         per indicator: P's value and percentile, and the quartiles of its peer
                                group's values at display precision, only when the group has at least
                                MIN_PEERS providers (a median of three values would be one of them)
    P/results/manifest.json     the SHA-256 of both results files, and the project's files as the run
                                recorded them, with `project_dir` the package's own copy
    P/project/                  the project's definitions (indicators, baselines, policy: public rules)
    P/README.txt                what the package holds, in Chinese and English
    P/manifest.json             the SHA-256 of every file above

Nothing is built unless the inputs hold: the results folder matches its manifest, the reports were
rendered from these very results (their manifest records results.json's SHA-256) and their cards match
their manifest, and the project the results were made with is unchanged. Deterministic: the same inputs
give byte-identical packages (zips carry a fixed date and sorted entries).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pingyi import __version__
from pingyi.errors import PingyiError, read_json_object
from pingyi.files import member, output_folder, sha256_file, write_atomic
from pingyi.run.manifest import project_files
from pingyi.run.outputs import document_text, safe_text
from pingyi.run.schema import load_results_document
from pingyi.run.verify import read_manifest, recorded_outputs
from pingyi.text import format_percentile, format_value

SHARE_KIND = "pingyi share"
MIN_PEERS = 5
ZIP_DATE = (2000, 1, 1, 0, 0, 0)
PEER_COLUMNS = (
    "indicator", "name_zh", "unit", "value", "light", "score", "peer_group", "peers", "percentile",
    "peer_p25", "peer_median", "peer_p75", "note",
)  # fmt: skip


@dataclass(frozen=True)
class Shared:
    out: Path
    packages: tuple[str, ...]  # fixmedins_codes, in results order
    zipped: bool
    files_per_package: int


def _check_inputs(results: Path, reports: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    manifest = read_manifest(results)
    missing, edited = recorded_outputs(results, manifest["outputs"].items(), results / "manifest.json")
    if missing or edited:
        said = "; ".join(missing + [f"EDITED {n}" for n in sorted(edited)])
        raise PingyiError(
            f"--results {results}: the files do not match their manifest ({said}); expected the folder as "
            "`pingyi score` wrote it: a package must hold the numbers the committee decided on"
        )
    rmanifest = read_json_object(reports / "manifest.json", "the manifest written by `pingyi report`")
    recorded = (rmanifest.get("results") or {}).get("results_sha256")
    actual = sha256_file(results / "results.json")
    if recorded != actual:
        raise PingyiError(
            f"--reports {reports}: manifest.json field results.results_sha256: found {recorded!r}; expected "
            f"{actual} (the results.json of --results {results}): the cards were rendered from other results. "
            "Re-run `pingyi report --results` on these results"
        )
    outputs = rmanifest.get("outputs") or {}
    cards = {n: d for n, d in outputs.items() if n.startswith(("cards/", "html/cards/"))}
    lost, changed = recorded_outputs(reports, cards.items(), reports / "manifest.json")
    if lost or changed:
        said = "; ".join(lost + [f"EDITED {n}" for n in sorted(changed)])
        raise PingyiError(f"--reports {reports}: cards do not match their manifest ({said}); expected them as rendered")
    return manifest, rmanifest


def _project(manifest: dict[str, Any], results: Path) -> tuple[Path, dict[str, str]]:
    inputs = manifest.get("inputs") or {}
    root = Path(inputs.get("project_dir") or "")
    if not root.is_absolute():
        root = results / root
    hashes: dict[str, str] = inputs.get("project_files") or {}
    if not root.is_dir() or project_files(root) != hashes:
        raise PingyiError(
            f"{results / 'manifest.json'}: inputs.project_dir {root}: missing or its files differ from the "
            "manifest's inputs.project_files; expected the project the results were made with (the package "
            "carries a copy of it so that `pingyi explain` works on the package)"
        )
    return root, hashes


def _peers_of(p: dict[str, Any], everyone: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    g = p.get("peer_group") or {}
    keys = g.get("keys") or ["region", "level"]

    def key(q: dict[str, Any]) -> tuple[Any, ...]:
        qg = q.get("peer_group") or {}
        return tuple(qg.get(k) for k in keys)

    return [q for q in everyone if key(q) == key(p)]


def peer_rows(p: dict[str, Any], everyone: Sequence[dict[str, Any]], units: dict[str, str]) -> list[dict[str, str]]:
    """P's value and percentile per indicator beside its peer group's quartiles (display precision; none
    for a group smaller than MIN_PEERS)."""
    group = _peers_of(p, everyone)
    g = p.get("peer_group") or {}
    words = " / ".join(str(g.get(k)) for k in (g.get("keys") or []))
    rows = []
    for item in p["indicators"]:
        code, unit = item["code"], units[item["code"]]
        values = [
            i["value"]
            for q in group
            for i in q["indicators"]
            if i["code"] == code and i["status"] in ("scored", "monitor") and i["value"] is not None
        ]
        row = {
            "indicator": code, "name_zh": "", "unit": unit, "value": format_value(item["value"], unit),
            "light": item["light"], "score": "" if item["score"] is None else f"{item['score']:.1f}",
            "peer_group": words, "peers": str(len(values)),
            "percentile": format_percentile(item.get("peer_percentile"), item.get("peer_n"), short=True),
            "peer_p25": "", "peer_median": "", "peer_p75": "", "note": "",
        }  # fmt: skip
        if len(values) >= MIN_PEERS:
            q25, q50, q75 = np.quantile(np.array(values, dtype=float), [0.25, 0.5, 0.75])
            row.update(peer_p25=format_value(float(q25), unit), peer_median=format_value(float(q50), unit),
                       peer_p75=format_value(float(q75), unit))  # fmt: skip
        else:
            row["note"] = (
                f"fewer than {MIN_PEERS} peers with a value: quartiles not shown (同类机构不足{MIN_PEERS}家，不列分位数)"
            )
        rows.append(row)
    return rows


TEXT_COLUMNS = ("name_zh", "peer_group")  # words from the project or the providers table; the rest we formatted


def _csv_text(rows: Iterable[dict[str, str]], columns: Sequence[str]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: safe_text(v) if k in TEXT_COLUMNS else v for k, v in row.items()})
    return "\ufeff" + buf.getvalue()  # UTF-8 with a BOM: Excel on Chinese Windows opens it intact


def restricted(doc: dict[str, Any], p: dict[str, Any]) -> dict[str, Any]:
    """results.json as P may hold it: P's record only, and nothing else that names another provider."""
    others = [q for q in doc["providers"] if q["fixmedins_code"] != p["fixmedins_code"]]
    names = [q["fixmedins_code"] for q in others] + [q["fixmedins_name"] for q in others]
    out = dict(doc)
    out["providers"] = [p]
    out["funnels"] = {
        code: {**f, "points": [pt for pt in f.get("points", []) if pt["fixmedins_code"] == p["fixmedins_code"]]}
        for code, f in (doc.get("funnels") or {}).items()
    }
    out["corrections"] = [c for c in doc.get("corrections") or [] if c.get("fixmedins_code") == p["fixmedins_code"]]
    out["guards"] = [
        g
        for g in doc.get("guards") or []
        if not any(n in g.get("message", "") + g.get("message_zh", "") for n in names)
    ]
    return out


README = """{code} {name} — {year}年度医保定点医疗机构评议 本机构资料包 / provider package

card.pdf, card.html      本机构评议结果卡 / the provider's report card
results/results.json     本机构评议结果（仅含本机构数据） / this provider's results only
results/peers.csv        同类机构分位数（同类不足{min_peers}家时不列） / peer-group quartiles (none below {min_peers} peers)
project/                 评议指标、基线与政策定义 / the indicator, baseline and policy definitions
manifest.json            每个文件的SHA-256 / the SHA-256 of every file

核对某项指标 / walk one number:
  pingyi explain D1.01 --results results --provider {code} --lang zh
"""


def _package(
    stage: Path, doc: dict, p: dict, manifest: dict, project: tuple[Path, dict], reports: Path, run_sha: str
) -> list[str]:
    code = p["fixmedins_code"]
    units = {i["code"]: i["unit"] for i in doc["indicators"]}
    names = {i["code"]: i["name_zh"] for i in doc["indicators"]}
    written: dict[str, bytes] = {}
    pdf = member(reports, f"cards/{code}.pdf", reports / "manifest.json")
    if pdf.is_file():
        written["card.pdf"] = pdf.read_bytes()
    html = member(reports, f"html/cards/{code}.html", reports / "manifest.json")
    if html.is_file():
        text = html.read_text(encoding="utf-8")
        written["card.html"] = re.sub(r'<div class="nav"><a href="\.\./index\.html">[^<]*</a></div>', "", text).encode()
    results_text = document_text(restricted(doc, p)).encode("utf-8")
    rows = peer_rows(p, doc["providers"], units)
    for row in rows:
        row["name_zh"] = names[row["indicator"]]
    peers_text = _csv_text(rows, PEER_COLUMNS).encode("utf-8")
    root, hashes = project
    results_manifest = {
        "kind": SHARE_KIND,
        "pingyi_version": __version__,
        "provider": code,
        "parameters": manifest.get("parameters") or {},
        # the package's own copy of the project; the run's whole results.json only by its hash
        "inputs": {"project_dir": "../project", "project_files": hashes, "run_results_sha256": run_sha},
        "outputs": {
            "peers.csv": _sha(peers_text),
            "results.json": _sha(results_text),
        },
    }  # fmt: skip
    written["results/results.json"] = results_text
    written["results/peers.csv"] = peers_text
    written["results/manifest.json"] = (json.dumps(results_manifest, ensure_ascii=False, indent=1) + "\n").encode()
    for name in hashes:
        written[f"project/{name}"] = member(root, name, root).read_bytes()
    year = doc["year"]
    written["README.txt"] = README.format(code=code, name=p["fixmedins_name"], year=year, min_peers=MIN_PEERS).encode()
    top = {"kind": SHARE_KIND, "provider": code, "files": {n: _sha(b) for n, b in sorted(written.items())}}
    written["manifest.json"] = (json.dumps(top, ensure_ascii=False, indent=1) + "\n").encode()
    for name, data in sorted(written.items()):
        write_atomic(stage / name, data)
    return sorted(written)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _zip(folder: Path, target: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(f"{folder.name}/{path.relative_to(folder).as_posix()}", date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, path.read_bytes())
    write_atomic(target, buf.getvalue())


def share(
    results: Path | str,
    reports: Path | str,
    out: Path | str,
    providers: Sequence[str] | None = None,
    zipped: bool = False,
) -> Shared:
    results, reports, out = Path(results), Path(reports), Path(out)
    manifest, _rmanifest = _check_inputs(results, reports)
    project = _project(manifest, results)
    doc, _model = load_results_document(results)
    run_sha = sha256_file(results / "results.json")
    codes = [p["fixmedins_code"] for p in doc["providers"]]
    if providers:
        unknown = [c for c in providers if c not in codes]
        if unknown:
            raise PingyiError(
                f"--provider {', '.join(unknown)}: not in {results / 'results.json'}; expected fixmedins_codes "
                f"of its {len(codes)} providers, e.g. {codes[0] if codes else 'H33010600001'}"
            )
    chosen = [p for p in doc["providers"] if not providers or p["fixmedins_code"] in providers]
    without = [p["fixmedins_code"] for p in chosen if not (reports / "cards" / f"{p['fixmedins_code']}.pdf").is_file()]
    if without:
        shown = ", ".join(without[:5]) + (f" and {len(without) - 5} more" if len(without) > 5 else "")
        raise PingyiError(
            f"--reports {reports}: no card for {shown} (cards/<code>.pdf); expected `pingyi report` to have "
            "rendered every packaged provider's card (pdf format), or --provider naming those it did"
        )
    owned = [*codes, *(f"{c}.zip" for c in codes)]
    count = 0
    with output_folder(out, owned=owned, command=SHARE_KIND) as stage:
        for p in chosen:
            folder = stage / p["fixmedins_code"]
            count = len(_package(folder, doc, p, manifest, project, reports, run_sha))
            if zipped:
                _zip(folder, stage / f"{p['fixmedins_code']}.zip")
                shutil.rmtree(folder)
    return Shared(out, tuple(p["fixmedins_code"] for p in chosen), zipped, count)


def verify_package(folder: Path | str) -> tuple[bool, list[str]]:
    """A package folder (or its results/ folder) against its manifests: every file's SHA-256, and the
    project copy against the hashes the run recorded. A package holds no data, so it cannot be re-run:
    `pingyi verify` on the committee's results folder does that."""
    folder = Path(folder)
    if (folder / "results" / "manifest.json").is_file():
        root = folder
    else:
        root = folder.parent
    top = read_json_object(root / "manifest.json", "the manifest written by `pingyi share`")
    lines: list[str] = []
    missing, edited = recorded_outputs(root, (top.get("files") or {}).items(), root / "manifest.json")
    lines += missing + [f"EDITED {n}: its bytes differ from the package's manifest" for n in sorted(edited)]
    inner = read_manifest(root / "results")
    try:
        _project(inner, root / "results")
    except PingyiError as e:
        lines.append(f"PROJECT {e}")
    if not lines:
        lines.append(
            f"OK {root}: {len(top.get('files') or {})} files match the package's manifest (a package holds no "
            "data: verify the committee's results folder to re-run the scores)"
        )
        return True, lines
    return False, lines
