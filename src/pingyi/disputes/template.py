"""`pingyi disputes template`: one XLSX per provider of a preview run, listing its indicators (value,
baseline, light, reason) with empty columns for the claim: 申诉值 (the claimed corrected value), 理由
(its reason) and 证据编号 (evidence reference). A header block names the provider, the year, the SHA-256
of the preview run's manifest (which `pingyi disputes import` matches to the run in the ledger) and the
review deadline.

Layout (read back by pingyi.disputes.importer): column A of rows 2-7 holds the header block's labels and
column B their values; the table's header row is the first row whose column A is the indicator-code
label; the indicators follow it. Every text cell is an inline string (never a formula), the zip entries
carry a fixed date: the same preview gives the same bytes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pingyi import text as tx
from pingyi.errors import PingyiError
from pingyi.files import write_atomic
from pingyi.report import labels as lb
from pingyi.report.xlsxbook import BookWriter
from pingyi.run.manifest import sha256
from pingyi.run.schema import load_results_document

COLUMNS = (
    "dispute_indicator",
    "dispute_indicator_name",
    "dispute_value",
    "dispute_baseline",
    "dispute_light",
    "dispute_reason",
    "dispute_claimed",
    "dispute_claim_reason",
    "dispute_evidence",
)
HEADER_KEYS = ("code", "name", "dispute_year", "dispute_manifest", "dispute_deadline", "dispute_help")
CLAIM_FILL = "FFF8E1"  # the cells a provider fills in
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def safe_name(code: str) -> str:
    """A provider code as a file name: letters, digits, dot, dash and underscore kept, anything else `_`."""
    name = _UNSAFE.sub("_", code).strip(".") or "provider"
    return name[:100]


def preview_of(results_dir: Path | str) -> tuple[dict[str, Any], str]:
    """A preview run's results.json and its manifest's SHA-256; anything else is refused."""
    results_dir = Path(results_dir)
    raw, _doc = load_results_document(results_dir)
    params = raw.get("parameters") or {}
    if params.get("stage") != "preview" or not params.get("review_deadline"):
        raise PingyiError(
            f"{results_dir / 'results.json'}: field parameters.stage: found {params.get('stage')!r}; expected "
            "'preview' with a review_deadline (the --out of `pingyi score --preview`)"
        )
    manifest = results_dir / "manifest.json"
    if not manifest.is_file():
        raise PingyiError(f"{manifest}: no such file; expected the manifest `pingyi score --preview` wrote")
    return raw, sha256(manifest)


def template_bytes(results: dict[str, Any], provider: dict[str, Any], manifest_sha: str, lang: str = "zh") -> bytes:
    """One provider's dispute template as .xlsx bytes."""
    L = lb.LABELS[lang]
    catalogue = {i["code"]: i for i in results.get("indicators", [])}
    year = results["year"]
    book = BookWriter()
    headers = [L["dispute_title"], *([""] * (len(COLUMNS) - 1))]
    sh = book.sheet("申诉" if lang == "zh" else "Disputes", headers, widths_max=50, freeze=None, autofilter=False)
    deadline = results["parameters"]["review_deadline"]
    sh.add([sh.text(L["code"], bold=True), sh.text(provider["fixmedins_code"])])
    sh.add([sh.text(L["name"], bold=True), sh.text(provider.get("fixmedins_name") or "")])
    sh.add([sh.text(L["dispute_year"], bold=True), year])
    sh.add([sh.text(L["dispute_manifest"], bold=True), sh.text(manifest_sha)])
    sh.add([sh.text(L["dispute_deadline"], bold=True), sh.text(deadline)])
    sh.add([sh.text(L["dispute_help"], bold=True), sh.text(L["dispute_help_text"])])
    sh.add([])
    sh.add([sh.text(L[k], bold=True, fill=CLAIM_FILL if k in COLUMNS[6:] else None) for k in COLUMNS])
    for row in provider.get("indicators", []):
        ind = catalogue.get(row["code"], {})
        name = ind.get("name_zh" if lang == "zh" else "name_en") or ""
        reason = row.get("reason_zh" if lang == "zh" else "reason") or ""
        sh.add(
            [
                sh.text(row["code"]),
                sh.text(name),
                sh.num(row.get("value")),
                sh.num(row.get("baseline")),
                sh.text(tx.light_word(row.get("light"), lang)),  # type: ignore[arg-type]
                sh.text(reason),
            ]
        )
    sh.close()
    return book.save()


def write_templates(
    results_dir: Path | str, out: Path | str, *, provider: str | None = None, lang: str = "zh"
) -> list[Path]:
    """One template per provider of the preview (or only `provider`) in `out`, each written atomically;
    returns the files, sorted by provider."""
    if lang not in lb.LANGS:
        raise PingyiError(f"--lang {lang!r}; expected one of {', '.join(lb.LANGS)}")
    results, manifest_sha = preview_of(results_dir)
    providers = sorted(results.get("providers", []), key=lambda p: p["fixmedins_code"])
    if provider is not None:
        providers = [p for p in providers if p["fixmedins_code"] == provider]
        if not providers:
            raise PingyiError(
                f"{Path(results_dir) / 'results.json'}: --provider {provider!r} is not among its providers; "
                "expected a fixmedins_code of the preview run"
            )
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise PingyiError(f"--out {out}: is a file; expected a folder for the templates")
    names: dict[str, str] = {}
    written = []
    for p in providers:
        name = safe_name(p["fixmedins_code"]) + ".xlsx"
        if name in names:  # two codes that differ only in characters a file name cannot carry
            raise PingyiError(
                f"providers {names[name]!r} and {p['fixmedins_code']!r} would both be written as {name}; "
                "expected codes that differ in letters or digits (use --provider for one of them)"
            )
        names[name] = p["fixmedins_code"]
        written.append(write_atomic(out / name, template_bytes(results, p, manifest_sha, lang)))
    return written
