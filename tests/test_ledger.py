"""The ledger: every table's rows are what the hash-chained audit log says, runs chain and can be signed,
the recorded result files are checked, migrations apply in order, and a writer killed mid-transaction
leaves nothing half-written."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ROOT
from pingyi.errors import PingyiError
from pingyi.ledger import (
    SCHEMA_VERSION,
    add_dispute,
    add_warning,
    close_rectification,
    decide_dispute,
    generate_key,
    grades_by_provider,
    init_ledger,
    mark_overdue,
    open_items,
    open_ledger,
    open_rectification,
    open_warnings,
    record_run,
    schema,
    set_warning_status,
    sign_run,
    submit_rectification,
    undecided_disputes,
    verify_ledger,
)
from pingyi.ledger.store import now
from pingyi.run.manifest import sha256

AT = "2026-01-15T09:00:00Z"
GRADES = ("优秀", "良好", "合格", "不合格")


def fake_results(out: Path, n: int = 4, year: int = 2025, seed: int = 0) -> Path:
    """A results directory shaped like `pingyi score`'s (results.json, scores.csv, manifest.json), without
    running the evaluation: the ledger reads only the manifest, results.json and the output hashes."""
    rng = random.Random(seed)
    out.mkdir(parents=True)
    providers = []
    for i in range(n):
        total = round(rng.uniform(40, 100), 4)
        grade = GRADES[0] if total >= 90 else GRADES[1] if total >= 80 else GRADES[2] if total >= 60 else GRADES[3]
        providers.append(
            {
                "fixmedins_code": f"H330106{i:05d}",
                "total_score": total,
                "grade": grade,
                "adjustment": {"designation": "warning" if grade == "不合格" else "kept"},
            }
        )
    (out / "results.json").write_text(json.dumps({"year": year, "providers": providers}, ensure_ascii=False))
    rows = [f"{p['fixmedins_code']},{p['total_score']},{p['grade']}" for p in providers]
    (out / "scores.csv").write_text("fixmedins_code,total_score,grade\n" + "\n".join(rows) + "\n", encoding="utf-8")
    manifest = {
        "parameters": {"year": year},
        "inputs": {"project_files": {"policy.yaml": "0" * 64}},
        "outputs": {name: sha256(out / name) for name in ("results.json", "scores.csv")},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return out


@dataclass
class Built:
    path: Path
    preview: Path
    final: Path
    key_pub: Path
    run_ids: dict[str, int]


@pytest.fixture
def built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Built:
    """A ledger with a row in every table: a preview run, a dispute decided, a final run signed, a
    warning, a rectification item."""
    monkeypatch.setenv("PINGYI_LEDGER_EPOCH", "1768467600")
    preview = fake_results(tmp_path / "preview", seed=1)
    final = fake_results(tmp_path / "final", seed=2)
    key = generate_key(tmp_path / "committee.pem")
    path = tmp_path / "ledger.db"
    with init_ledger(path, committee="浙江省医保局", actor="secretary", ledger_id="test-ledger") as lg:
        p = record_run(lg, preview, "preview", "secretary", "pingyi score --data d --out preview")
        add_warning(
            lg,
            fixmedins_code="H33010600001",
            indicator="F1",
            year=2025,
            through_month=6,
            deadline="2025-08-31",
            actor="m",
        )
        d = add_dispute(
            lg, fixmedins_code="H33010600001", indicator="F1", year=2025, reason="wrong denominator", actor="hospital"
        )
        decide_dispute(lg, d, accept=True, decided_by="chair", reason="evidence checked")
        f = record_run(lg, final, "final", "secretary", "pingyi score --data d --out final")
        sign_run(lg, f, key.private, actor="chair")
        open_rectification(
            lg, fixmedins_code="H33010600001", indicator="F1", year=2025, run_id=f, deadline="2026-06-30", actor="chair"
        )
    return Built(path, preview, final, key.public, {"preview": p, "final": f})


def fails(report) -> list[str]:
    return [line for line in report.lines if line.startswith("FAIL")]


def raw(path: Path, sql: str, params: tuple = ()) -> None:
    """Edit the database as an intruder would: drop the append-only triggers, change, put them back."""
    conn = sqlite3.connect(path, isolation_level=None)
    triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
    for name, _ in triggers:
        conn.execute(f"DROP TRIGGER {name}")
    conn.execute(sql, params)
    for _, ddl in triggers:
        conn.execute(ddl)
    conn.close()


# --------------------------------------------------------------------------- the happy path


def test_a_fresh_ledger_verifies(built: Built):
    report = verify_ledger(built.path, public_keys=[built.key_pub])
    assert report.ok, report.lines
    assert report.lines[-1].endswith(": OK")
    assert any("signature by key" in line and "given key" in line for line in report.lines)
    with open_ledger(built.path) as lg:
        tables = {t: lg.conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in schema_tables(lg.conn)}
    assert all(tables.values()), f"the fixture should fill every table: {tables}"


def schema_tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    return [r[0] for r in rows]


def test_record_run_of_a_scored_results_dir(small_example, tmp_path: Path):
    with init_ledger(tmp_path / "l.db", committee="c", actor="a", at=AT) as lg:
        run_id = record_run(lg, small_example.out, "final", "a", "pingyi score", at=AT)
        grades = grades_by_provider(lg)
        row = dict(lg.conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone())
    providers = small_example.results["providers"]
    assert row["provider_count"] == len(providers) == len(grades)
    assert row["manifest_sha256"] == sha256(small_example.out / "manifest.json")
    for p in providers:
        (year,) = grades[p["fixmedins_code"]]
        assert (year["year"], year["grade"], year["total"]) == (
            small_example.results["year"],
            p["grade"],
            p["total_score"],
        )
        assert year["designation"] == p["adjustment"]["designation"]
    report = verify_ledger(tmp_path / "l.db")
    assert report.ok, report.lines


def test_the_same_writes_make_the_same_hashes(tmp_path: Path):
    heads = []
    for name in ("a", "b"):
        results = fake_results(tmp_path / name / "out")
        with init_ledger(tmp_path / name / "l.db", committee="c", actor="x", at=AT, ledger_id="same") as lg:
            record_run(lg, results, "monitor", "x", "score", at=AT)
            heads.append([r[0] for r in lg.conn.execute("SELECT hash FROM audit ORDER BY id")])
    # results_dir is part of the run, so the two chains differ from the record_run entry on
    assert heads[0][0] == heads[1][0] and heads[0][1] != heads[1][1]


def test_record_refuses_outputs_changed_after_the_run(tmp_path: Path):
    results = fake_results(tmp_path / "out")
    (results / "scores.csv").write_text("edited\n")
    with init_ledger(tmp_path / "l.db", committee="c", actor="x") as lg:
        with pytest.raises(PingyiError, match="scores.csv: SHA-256 differs"):
            record_run(lg, results, "final", "x", "score")
        with pytest.raises(PingyiError, match="run kind 'draft'"):
            record_run(lg, results, "draft", "x", "score")
        assert lg.conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 0


def test_time_comes_from_the_argument_then_the_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PINGYI_LEDGER_EPOCH", "0")
    assert now() == "1970-01-01T00:00:00Z"
    assert now("2026-03-01T17:00:00+08:00") == "2026-03-01T09:00:00Z"
    monkeypatch.setenv("PINGYI_LEDGER_EPOCH", "yesterday")
    with pytest.raises(PingyiError, match="PINGYI_LEDGER_EPOCH"):
        now()
    with pytest.raises(PingyiError, match="ISO 8601"):
        now("01/03/2026")


# --------------------------------------------------------------------------- the cycle's records


def test_disputes_rectification_warnings_and_grades(tmp_path: Path):
    with init_ledger(tmp_path / "l.db", committee="c", actor="x", at=AT) as lg:
        r2024 = record_run(lg, fake_results(tmp_path / "2024", year=2024, seed=3), "final", "x", "s")
        preview = record_run(lg, fake_results(tmp_path / "p", seed=4), "preview", "x", "s")
        r2025 = record_run(lg, fake_results(tmp_path / "2025", seed=5), "final", "x", "s")
        history = grades_by_provider(lg, "H33010600000")
        assert [(y["year"], y["run_id"]) for y in history["H33010600000"]] == [(2024, r2024), (2025, r2025)]
        assert [y["run_id"] for y in grades_by_provider(lg, kind="preview")["H33010600000"]] == [preview]

        d = add_dispute(
            lg, fixmedins_code="H33010600000", indicator="B2", year=2025, reason="r", actor="h", run_id=preview
        )
        assert undecided_disputes(lg) == 1 and undecided_disputes(lg, 2024) == 0
        decide_dispute(lg, d, accept=False, decided_by="chair", reason="no evidence")
        assert undecided_disputes(lg) == 0
        with pytest.raises(PingyiError, match="already decided"):
            decide_dispute(lg, d, accept=True, decided_by="chair", reason="changed my mind")

        w = add_warning(
            lg,
            fixmedins_code="H33010600000",
            indicator="B2",
            year=2025,
            through_month=9,
            deadline="2025-11-30",
            actor="m",
        )
        assert [x["id"] for x in open_warnings(lg, 2025)] == [w]
        set_warning_status(lg, w, "resolved", actor="m")
        assert open_warnings(lg) == []

        a = open_rectification(
            lg, fixmedins_code="H33010600000", indicator="B2", year=2025, run_id=r2025, deadline="2026-03-31", actor="c"
        )
        b = open_rectification(
            lg, fixmedins_code="H33010600001", indicator="B2", year=2025, run_id=r2025, deadline="2026-09-30", actor="c"
        )
        submit_rectification(lg, a, actor="h", notes="new discharge checklist")
        assert mark_overdue(lg, today="2026-06-01", actor="c") == [a]
        assert [i["id"] for i in open_items(lg)] == [a, b]
        with pytest.raises(PingyiError, match="cannot close"):
            close_rectification(lg, b, run_id=preview, actor="c")
        recheck = record_run(lg, fake_results(tmp_path / "r", year=2026, seed=6), "recheck", "x", "s")
        close_rectification(lg, a, run_id=recheck, actor="c", notes="fixed")
        assert [i["id"] for i in open_items(lg)] == [b]
        item = dict(lg.conn.execute("SELECT * FROM rectification WHERE id = ?", (a,)).fetchone())
        assert item["status"] == "closed" and item["closed_by_run"] == recheck
        assert "new discharge checklist" in item["notes"] and "fixed" in item["notes"]
        with pytest.raises(PingyiError, match="cannot become submitted"):
            submit_rectification(lg, a, actor="h")
        with pytest.raises(PingyiError, match="expected a date"):
            add_warning(lg, fixmedins_code="H", indicator="B2", year=2025, through_month=9, deadline="soon", actor="m")
    assert verify_ledger(tmp_path / "l.db").ok


# --------------------------------------------------------------------------- tampering

EDITS = {
    "meta": ("UPDATE meta SET committee = 'someone else' WHERE id = 1", "meta row 1: committee is 'someone else'"),
    "keys": ("UPDATE keys SET label = 'x' WHERE id = 1", "keys row 1: label is 'x'"),
    "runs": ("UPDATE runs SET year = 2024 WHERE id = 1", "runs row 1: year is 2024"),
    "provider_years": ("UPDATE provider_years SET grade = '良+' WHERE id = 2", "provider_years row 2: grade is '良+'"),
    "warnings": ("UPDATE warnings SET status = 'resolved' WHERE id = 1", "warnings row 1: status is 'resolved'"),
    "disputes": ("UPDATE disputes SET status = 'rejected' WHERE id = 1", "disputes row 1: status is 'rejected'"),
    "rectification": ("UPDATE rectification SET deadline = '2027-01-01' WHERE id = 1", "rectification row 1: deadline"),
    "audit": ("UPDATE audit SET actor = 'nobody' WHERE id = 2", "audit row 2: hash does not match"),
}


def test_every_table_has_a_tamper_case(built: Built):
    with open_ledger(built.path) as lg:
        assert set(schema_tables(lg.conn)) == set(EDITS)


@pytest.mark.parametrize("table", list(EDITS))
def test_an_edited_row_in_any_table_is_named(built: Built, table: str):
    sql, expected = EDITS[table]
    raw(built.path, sql)
    report = verify_ledger(built.path)
    assert not report.ok
    assert any(line.startswith("FAIL " + expected) for line in fails(report)), report.lines


def test_a_row_edited_back_to_its_value_verifies(built: Built):
    raw(built.path, "UPDATE provider_years SET grade = grade WHERE id = 2")
    assert verify_ledger(built.path).ok


def test_deleted_and_inserted_rows_are_named(built: Built):
    raw(built.path, "DELETE FROM warnings WHERE id = 1")
    raw(
        built.path,
        "INSERT INTO disputes (fixmedins_code, indicator, year, reason, status, filed_by, filed_at) "
        "VALUES ('H33010600002', 'F1', 2025, 'r', 'open', 'h', ?)",
        (AT,),
    )
    report = fails(verify_ledger(built.path))
    assert any(line.startswith("FAIL warnings row 1: missing") for line in report), report
    assert any(line.startswith("FAIL disputes row 2: not in the audit log") for line in report), report


def test_a_removed_trigger_or_extra_table_is_named(built: Built):
    conn = sqlite3.connect(built.path, isolation_level=None)
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    conn.close()
    report = fails(verify_ledger(built.path))
    assert "FAIL schema: trigger audit_no_update of schema version 2 is missing" in report
    assert "FAIL schema: table notes is not part of schema version 2" in report


def test_the_append_only_triggers_refuse_raw_edits(built: Built):
    conn = sqlite3.connect(built.path, isolation_level=None)
    for sql in (
        "UPDATE audit SET actor = 'x'",
        "DELETE FROM audit",
        "UPDATE provider_years SET grade = 'x'",
        "DELETE FROM runs",
        "UPDATE runs SET year = 1999",
        "UPDATE runs SET signature = 'ab' WHERE id = 2",  # already signed
    ):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute(sql)
    conn.close()


def test_a_rechained_audit_log_is_caught_by_the_run_recorded_after(built: Built):
    """An intruder edits the dispute decision, rewrites its audit entry and re-chains every later entry:
    the audit chain and the rows verify, but the final run anchored the old audit head."""
    from pingyi.ledger.store import audit_hash, canonical, row_digest

    conn = sqlite3.connect(built.path, isolation_level=None)
    conn.row_factory = sqlite3.Row
    entries = [dict(r) for r in conn.execute("SELECT * FROM audit ORDER BY id")]
    target = next(e for e in entries if e["action"] == "decide_dispute")
    raw(built.path, "UPDATE disputes SET status = 'rejected' WHERE id = 1")
    new_row = dict(conn.execute("SELECT * FROM disputes WHERE id = 1").fetchone())
    detail = json.loads(target["detail"])
    detail["rows"][0].update(values=new_row, digest=row_digest("disputes", new_row))
    target["detail"] = canonical(detail).decode("utf-8")
    prev = None
    for e in entries:
        if e["id"] >= target["id"]:
            e["prev_hash"] = prev if prev is not None else e["prev_hash"]
            e["hash"] = audit_hash(e)
            update = "UPDATE audit SET detail = ?, prev_hash = ?, hash = ? WHERE id = ?"
            raw(built.path, update, (e["detail"], e["prev_hash"], e["hash"], e["id"]))
        prev = e["hash"]
    conn.close()
    report = fails(verify_ledger(built.path))
    final = built.run_ids["final"]
    assert report == [f"FAIL runs row {final}: audit_anchor is not the hash of audit row {target['id']}"], report


def test_an_edited_output_file_is_named(built: Built):
    scores = built.final / "scores.csv"
    data = bytearray(scores.read_bytes())
    data[-3] ^= 1
    scores.write_bytes(bytes(data))
    report = verify_ledger(built.path)
    final = built.run_ids["final"]
    assert fails(report) == [
        f"FAIL runs row {final}: {scores}: SHA-256 differs from its manifest (changed after the run)"
    ]
    assert verify_ledger(built.path, check_files=False).ok


def test_an_edited_or_missing_manifest_is_named(built: Built):
    (built.final / "manifest.json").write_text((built.final / "manifest.json").read_text() + " ")
    (built.preview / "manifest.json").unlink()
    report = fails(verify_ledger(built.path))
    assert any(
        f"runs row {built.run_ids['final']}:" in x and "SHA-256 differs from the one recorded" in x for x in report
    )
    assert any(f"runs row {built.run_ids['preview']}:" in x and "is missing" in x for x in report)


# --------------------------------------------------------------------------- signatures


def test_a_signature_checked_with_another_key_fails(built: Built, tmp_path: Path):
    other = generate_key(tmp_path / "other.pem")
    report = verify_ledger(built.path, public_keys=[other.public])
    assert not report.ok
    final = built.run_ids["final"]
    assert any(f"FAIL runs row {final}: signed by key" in x and other.key_id in x for x in report.lines), report.lines


def test_a_forged_signature_fails(built: Built, tmp_path: Path):
    """A signature made with another key but stored under the committee's key id does not verify."""
    from pingyi.ledger.keys import load_private_key, sign_hash

    other = generate_key(tmp_path / "other.pem")
    final = built.run_ids["final"]
    conn = sqlite3.connect(built.path)
    run_hash = conn.execute("SELECT hash FROM runs WHERE id = ?", (final,)).fetchone()[0]
    conn.close()
    raw(
        built.path,
        "UPDATE runs SET signature = ? WHERE id = ?",
        (sign_hash(load_private_key(other.private), run_hash), final),
    )
    report = fails(verify_ledger(built.path, public_keys=[built.key_pub]))
    assert any(x.startswith(f"FAIL runs row {final}: signature does not verify") for x in report), report


def test_signatures_verify_with_the_stored_key_and_say_so(built: Built):
    report = verify_ledger(built.path)
    assert report.ok
    assert any("key stored in the ledger" in x for x in report.lines)
    assert any(x.startswith("note signatures were checked with the keys stored in the ledger") for x in report.lines)


def test_signing_twice_or_a_changed_run_is_refused(built: Built, tmp_path: Path):
    with open_ledger(built.path) as lg, pytest.raises(PingyiError, match="already signed"):
        sign_run(lg, built.run_ids["final"], tmp_path / "committee.pem")
    raw(built.path, "UPDATE provider_years SET total = 100.0 WHERE run_id = ?", (built.run_ids["preview"],))
    with open_ledger(built.path) as lg, pytest.raises(PingyiError, match="no longer matches its hash"):
        sign_run(lg, built.run_ids["preview"], tmp_path / "committee.pem")


def test_generated_keys(tmp_path: Path):
    key = generate_key(tmp_path / "k.pem")
    assert (key.private.stat().st_mode & 0o777) == 0o600
    assert key.public == tmp_path / "k.pem.pub" and "PUBLIC KEY" in key.public.read_text()
    assert len(key.key_id) == 16
    with pytest.raises(PingyiError, match="already exists"):
        generate_key(tmp_path / "k.pem")
    with init_ledger(tmp_path / "l.db", committee="c", actor="x") as lg:
        run = record_run(lg, fake_results(tmp_path / "out"), "final", "x", "s")
        with pytest.raises(PingyiError, match="not an unencrypted PEM private key"):
            sign_run(lg, run, key.public)


# --------------------------------------------------------------------------- files and versions


def test_what_is_not_a_ledger_is_refused(tmp_path: Path):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    empty = tmp_path / "empty.db"
    empty.touch()
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    for path, message in (
        (text, "not an SQLite database"),
        (empty, "not an SQLite database"),
        (other, "an SQLite database but not a pingyi ledger"),
        (tmp_path / "absent.db", "no such file"),
    ):
        with pytest.raises(PingyiError, match=message) as exc:
            open_ledger(path)
        assert str(path) in exc.value.message and "expected a pingyi ledger" in exc.value.message
        with pytest.raises(PingyiError):
            verify_ledger(path)
    with pytest.raises(PingyiError, match="already exists"):
        init_ledger(text, committee="c", actor="x")


def test_a_newer_schema_is_refused(built: Built):
    conn = sqlite3.connect(built.path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(PingyiError, match=f"schema version {SCHEMA_VERSION + 1} is newer than this pingyi knows"):
        open_ledger(built.path)


def test_a_v1_ledger_migrates_to_the_current_schema(tmp_path: Path):
    path = tmp_path / "v1.db"
    with init_ledger(path, committee="c", actor="x", at=AT, schema_version=1) as lg:
        run = record_run(lg, fake_results(tmp_path / "out"), "final", "x", "s", at=AT)
        add_dispute(lg, fixmedins_code="H33010600000", indicator="F1", year=2025, reason="r", actor="h", at=AT)
    assert verify_ledger(path).ok
    with open_ledger(path, migrate=False) as lg:
        assert lg.version == 1
        with pytest.raises(PingyiError, match="schema version 1 has no rectification table"):
            open_rectification(
                lg, fixmedins_code="H", indicator="F1", year=2025, run_id=run, deadline="2026-01-01", actor="x"
            )
    with open_ledger(path, actor="admin", at=AT) as lg:
        assert lg.version == SCHEMA_VERSION == 2
        assert lg.conn.execute("PRAGMA user_version").fetchone()[0] == 2
        entry = dict(lg.conn.execute("SELECT * FROM audit ORDER BY id DESC LIMIT 1").fetchone())
        assert (entry["action"], entry["actor"]) == ("migrate", "admin")
        assert json.loads(entry["detail"]) == {"from": 1, "to": 2, "rows": []}
        open_rectification(
            lg, fixmedins_code="H", indicator="F1", year=2025, run_id=run, deadline="2026-01-01", actor="x"
        )
    report = verify_ledger(path)
    assert report.ok, report.lines


def test_a_migration_that_changes_columns_rerecords_the_rows(built: Built, monkeypatch: pytest.MonkeyPatch):
    v3 = schema.Migration(3, "test", ("ALTER TABLE disputes ADD COLUMN channel TEXT NOT NULL DEFAULT 'letter'",))
    monkeypatch.setattr(schema, "MIGRATIONS", (*schema.MIGRATIONS, v3))
    monkeypatch.setattr(schema, "SCHEMA_VERSION", 3)
    with open_ledger(built.path) as lg:
        entry = dict(lg.conn.execute("SELECT * FROM audit ORDER BY id DESC LIMIT 1").fetchone())
        rows = json.loads(entry["detail"])["rows"]
        assert [(r["table"], r["op"], r["values"]["channel"]) for r in rows] == [("disputes", "migrate", "letter")]
    assert verify_ledger(built.path).ok
    raw(built.path, "UPDATE disputes SET channel = 'phone'")
    assert any(x.startswith("FAIL disputes row 1: channel is 'phone'") for x in fails(verify_ledger(built.path)))


def test_a_failing_migration_changes_nothing(built: Built, monkeypatch: pytest.MonkeyPatch):
    v3 = schema.Migration(3, "broken", ("CREATE TABLE extra (id INTEGER PRIMARY KEY)", "CREATE TABLE extra (x)"))
    monkeypatch.setattr(schema, "MIGRATIONS", (*schema.MIGRATIONS, v3))
    monkeypatch.setattr(schema, "SCHEMA_VERSION", 3)
    with pytest.raises(sqlite3.OperationalError):
        open_ledger(built.path)
    monkeypatch.undo()
    with open_ledger(built.path, migrate=False) as lg:
        assert lg.version == 2
        assert "extra" not in schema_tables(lg.conn)
    assert verify_ledger(built.path).ok


# --------------------------------------------------------------------------- killed writers

WRITER = """
import sys
from pingyi.ledger import open_ledger, record_run
ledger = open_ledger(sys.argv[1])
print("ready", flush=True)
kinds = ("final", "preview", "monitor")
i = 0
while True:
    record_run(ledger, sys.argv[2], kinds[i % 3], "writer", "loop")
    i += 1
"""


def _writer(ledger: Path, results: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(ledger), str(results)], stdout=subprocess.PIPE, text=True, env=env
    )


def test_a_writer_killed_mid_transaction_leaves_no_partial_run(tmp_path: Path):
    n = 1500  # providers: a record_run takes long enough for the kill to land inside it
    results = fake_results(tmp_path / "out", n=n)
    path = tmp_path / "l.db"
    init_ledger(path, committee="c", actor="x").close()
    rng = random.Random(2025)
    started = time.monotonic()
    trials = 0
    while trials < 24 and time.monotonic() - started < 60:
        proc = _writer(path, results)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.4))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        trials += 1
    assert trials >= 20
    report = verify_ledger(path)
    assert report.ok, fails(report)
    with open_ledger(path) as lg:
        counts = lg.conn.execute(
            "SELECT r.id, r.provider_count, COUNT(py.id) FROM runs r LEFT JOIN provider_years py ON py.run_id = r.id "
            "GROUP BY r.id"
        ).fetchall()
        audited = lg.conn.execute("SELECT COUNT(*) FROM audit WHERE action = 'record_run'").fetchone()[0]
    assert counts, "no run was ever committed: the kills came too early to test anything"
    assert all(c[1] == c[2] == n for c in counts)
    assert audited == len(counts)


def test_two_writers_at_once_keep_one_chain(tmp_path: Path):
    results = fake_results(tmp_path / "out", n=50)
    path = tmp_path / "l.db"
    init_ledger(path, committee="c", actor="x").close()
    procs = [_writer(path, results) for _ in range(2)]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    time.sleep(1.0)
    for proc in procs:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    report = verify_ledger(path)
    assert report.ok, fails(report)
    with open_ledger(path) as lg:
        assert lg.conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] >= 2
