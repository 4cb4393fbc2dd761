"""No patient identifier in any output: every contract column has a class, measure SQL may read identifier
and key columns only as count(DISTINCT col) (PY608), and a whole run (score, then every report format)
writes none of the identifier or key values of its input anywhere."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import openpyxl
import pytest
from pypdf import PdfReader

from pingyi.compute.measures import MeasureIdentifierError, MeasureSqlError, compile_measure, table_columns
from pingyi.data.contract import COLUMN_KINDS, IDENTIFYING, TABLES
from pingyi.data.views import DERIVED_COLUMNS
from pingyi.spec.models import DataSettings, MeasureSpec
from pingyi.spec.project import copy_project, default_project_dir
from pingyi.tools.example import generate_example
from pingyi.validate import validate_project

# --------------------------------------------------------------------------- column classes


def test_every_contract_column_has_a_class():
    for table in TABLES.values():
        for col in table.columns:
            assert col.kind in COLUMN_KINDS, f"{table.name}.{col.name} has no class"


def test_identifier_and_key_columns():
    """Person-level identifiers are `identifier`; record keys of care are `key`; both are never output."""
    found = {(t.name, c.name): c.kind for t in TABLES.values() for c in t.columns if c.kind in IDENTIFYING}
    assert found == {
        ("settlements", "setl_id"): "key",
        ("settlements", "mdtrt_id"): "key",
        ("settlements", "psn_no"): "identifier",
        ("setl_lists", "mdtrt_id"): "key",
        ("setl_lists", "setl_id"): "key",
        ("setl_lists", "psn_no"): "identifier",
        ("fee_items", "mdtrt_id"): "key",
        ("fee_items", "setl_id"): "key",
        ("audit_flags", "flag_id"): "key",
        ("audit_flags", "setl_id"): "key",
        ("expert_scores", "expert_id"): "identifier",
    }
    for table, derived in DERIVED_COLUMNS.items():  # the views measures read add no column named like one
        assert not set(derived) & set(TABLES[table].pii_columns), table


# --------------------------------------------------------------------------- measure SQL


def measure(aggregate: str, filter: str | None = None, table: str = "settlements") -> MeasureSpec:
    return MeasureSpec(name="x", table=table, description="d", aggregate=aggregate, filter=filter)


def compile_(spec: MeasureSpec):
    return compile_measure(spec, table_columns(spec.table), DataSettings())


@pytest.mark.parametrize(
    "aggregate,filter",
    [
        ("count(DISTINCT psn_no)", None),
        ("count(DISTINCT mdtrt_id)", "med_type IN (:inpatient_med_types) AND age >= 65"),
        ("count(DISTINCT setl_id) / count(DISTINCT psn_no)", "gend = '2'"),
        ("CASE WHEN count(DISTINCT psn_no) > 0 THEN sum(medfee_sumamt) / count(DISTINCT psn_no) END", None),
        ("sum(CASE WHEN age < 18 THEN 1 ELSE 0 END)", "insuplc_admdvs <> '330100'"),  # quasi-identifiers: allowed
    ],
)
def test_identifiers_counted_distinct_are_allowed(aggregate, filter):
    compile_(measure(aggregate, filter))


@pytest.mark.parametrize(
    "aggregate,filter,column,part",
    [
        ("max(CAST(psn_no AS BIGINT)) - 5201000000000000", None, "psn_no", "aggregate"),  # the finding
        ("min(psn_no)", None, "psn_no", "aggregate"),
        ("sum(CAST(setl_id AS DOUBLE))", None, "setl_id", "aggregate"),
        ("count(psn_no)", None, "psn_no", "aggregate"),
        ("count(DISTINCT CAST(psn_no AS BIGINT))", None, "psn_no", "aggregate"),
        ("count(DISTINCT (psn_no))", None, "psn_no", "aggregate"),
        ("sum(CASE WHEN psn_no = '3311000000087345' THEN medfee_sumamt END)", None, "psn_no", "aggregate"),
        ("max(length(mdtrt_id))", None, "mdtrt_id", "aggregate"),
        ("count(*)", "psn_no = '3311000000087345'", "psn_no", "filter"),
        ("count(*)", "psn_no IS NOT NULL", "psn_no", "filter"),  # kept simple: no use outside a count at all
        ("count(*)", "mdtrt_id IN ('M1', 'M2')", "mdtrt_id", "filter"),
    ],
)
def test_identifiers_outside_count_distinct_are_refused(aggregate, filter, column, part):
    with pytest.raises(MeasureIdentifierError) as err:
        compile_(measure(aggregate, filter))
    assert err.value.column == column
    assert err.value.part == part
    assert column in err.value.fragment
    assert isinstance(err.value, MeasureSqlError)


def test_audit_flag_and_expert_ids_are_protected_too():
    for spec, column in (
        (measure("max(flag_id)", table="audit_flags"), "flag_id"),
        (measure("count(*)", "expert_id = '33E01'", table="expert_scores"), "expert_id"),
    ):
        with pytest.raises(MeasureIdentifierError) as err:
            compile_(spec)
        assert err.value.column == column


LEAK = '- name: leak\n  table: settlements\n  description: 不应存在\n  aggregate: "max(CAST(psn_no AS BIGINT)) - 5201000000000000"\n'


def test_a_measure_rebuilding_psn_no_is_refused(tmp_path, cli, small_bundle):
    """The finding: this measure validated, and D1.03's formula over it wrote (max psn_no - a constant)
    per provider into indicators.csv. Now `pingyi validate` names its file, line and YAML path, and
    `pingyi score` stops before writing anything."""
    project = tmp_path / "project"
    copy_project(default_project_dir(), project)
    mfile = project / "measures" / "settlements.yaml"
    text = mfile.read_text(encoding="utf-8")
    mfile.write_text(text + LEAK, encoding="utf-8")
    d1 = project / "indicators" / "D1_fund_efficiency.yaml"
    d1.write_text(
        d1.read_text(encoding="utf-8").replace('formula: "hifp_paid / prior(hifp_paid) - 1"', 'formula: "leak"'),
        encoding="utf-8",
    )
    issues = [i for i in validate_project(project).issues.items if i.code == "PY608"]
    assert len(issues) == 1, [i.render() for i in validate_project(project).issues.items]
    issue = issues[0]
    assert issue.file == "measures/settlements.yaml"
    assert issue.line == text.count("\n") + 4  # the aggregate line of the appended measure
    assert issue.path.endswith(".aggregate")
    assert "psn_no" in (issue.found or "") and "MAX(CAST(psn_no AS BIGINT))" in (issue.found or "")
    assert issue.expected == "only count(DISTINCT psn_no)"
    out = tmp_path / "out"
    result = cli("score", "--data", small_bundle, "--out", out, "--project", project)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert "PY608" in result.stdout + result.stderr
    assert not (out / "indicators.csv").exists()


def test_shipped_measures_validate_under_the_rule():
    """Every shipped measure reads identifiers and keys only as count(DISTINCT …)."""
    assert not [i for i in validate_project(default_project_dir()).issues.items if i.code in ("PY603", "PY608")]


# --------------------------------------------------------------------------- every output of a whole run

# Only values of at least this many characters are looked for: a short value (a 5-character expert id
# such as 33E01, a planted 'x') would match unrelated text by chance (a number, a date, a code). The
# generated psn_no (16 digits), setl_id and mdtrt_id (19) and flag_id (13) are all far longer.
MIN_LENGTH = 6


def _input_identifiers(bundle: Path) -> dict[str, str]:
    """Every identifier and key value of the bundle's CSV tables (value -> table.column)."""
    values: dict[str, str] = {}
    for table in TABLES.values():
        path = bundle / f"{table.name}.csv"
        if not table.pii_columns or not path.is_file():
            continue
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                for col in table.pii_columns:
                    value = (row.get(col) or "").strip()
                    if len(value) >= MIN_LENGTH:
                        values.setdefault(value, f"{table.name}.{col}")
    return values


def _texts(root: Path) -> dict[str, str]:
    """The text of every file under `root`: CSV, JSON and HTML as text, every XLSX cell, PDF text."""
    out: dict[str, str] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        name = str(path.relative_to(root))
        if path.suffix == ".xlsx":
            wb = openpyxl.load_workbook(path, read_only=True)
            cells = [str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v]
            out[name] = "\n".join([*wb.sheetnames, *cells])
            wb.close()
        elif path.suffix == ".pdf":
            reader = PdfReader(path)
            out[name] = "\n".join(page.extract_text() or "" for page in reader.pages) + json.dumps(
                {k: str(v) for k, v in (reader.metadata or {}).items()}
            )
        else:
            out[name] = path.read_text(encoding="utf-8", errors="replace")
        out[name] += "\n" + name  # a file name is output too
    return out


def test_no_identifier_value_in_any_output(tmp_path, cli):
    bundle = tmp_path / "bundle"
    generate_example(bundle, providers=9, rows=3000, scale="small", fmt="csv")
    ids = _input_identifiers(bundle)
    kinds = set(ids.values())
    assert {"settlements.psn_no", "settlements.setl_id", "settlements.mdtrt_id", "audit_flags.flag_id"} <= kinds
    results, reports = tmp_path / "results", tmp_path / "reports"
    assert cli("score", "--data", bundle, "--out", results).exit_code == 0
    # every format for all 9 providers (the committee report is only written for all of them)
    result = cli("report", "--results", results, "--out", reports, "--format", "pdf,xlsx,html", "--workers", "2")
    assert result.exit_code == 0, result.stdout + result.stderr
    texts = {**{f"results/{k}": v for k, v in _texts(results).items()}, **_texts(reports)}
    assert "results/manifest.json" in texts and "results/rejected.csv" in texts
    assert {".pdf", ".xlsx", ".html"} <= {Path(n).suffix for n in texts}
    # the rejected rows include planted duplicate keys: their messages once quoted the setl_id
    assert "duplicate_key" in texts["results/rejected.csv"]
    leaks = {name: sorted({ids[v] for v in ids if v in text}) for name, text in texts.items()}
    assert not {k: v for k, v in leaks.items() if v}, "identifier values in outputs"


def test_rejected_messages_withhold_key_values(small_copy):
    """A duplicate setl_id or an unmatched mdtrt_id is named by its row, never by its value."""
    text = (small_copy / "rejected.csv").read_text(encoding="utf-8")
    assert "duplicate setl_id (value withheld)" in text or "duplicate setl_id '(value withheld)'" in text
    shutil.rmtree(small_copy)
