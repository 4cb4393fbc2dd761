"""verify_ledger: is the ledger what its own audit log says it is?

1. SQLite's own checks (quick_check, foreign keys) and the schema against the migrations' schema.
2. The audit chain: ids without gaps, each entry's hash over its fields, each prev_hash the hash
   of the entry before, and the digests inside each entry.
3. Every row of every table against the latest audit entry that wrote it: a row edited, inserted or
   deleted outside the ledger differs from (or is absent from) that entry.
4. The run chain: each run's hash over its fields, its provider_years against its digest, its audit
   anchor, and each final run's prev_hash the hash of the final run before.
5. Signatures, with the public keys given (trusted) or else the keys stored in the ledger.
6. With `check_files`: each run's manifest.json against its recorded SHA-256, and the outputs that
   manifest lists against their SHA-256 (the evaluation is not re-run: that is `pingyi verify`).

Each problem is one line starting `FAIL` naming the table, the row id and what differs.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pingyi.ledger import schema
from pingyi.ledger.keys import key_id, load_public_key, signature_valid
from pingyi.ledger.records import output_problems, project_files_hash, providers_digest, run_hash
from pingyi.ledger.store import audit_hash, open_ledger, row_digest, user_tables
from pingyi.run.manifest import sha256


@dataclass
class VerifyReport:
    ok: bool
    lines: list[str]


def _schema_of(conn: sqlite3.Connection) -> dict[tuple[str, str], str]:
    rows = conn.execute("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").fetchall()
    return {(r[0], r[1]): " ".join((r[2] or "").split()) for r in rows}


def expected_schema(version: int) -> dict[tuple[str, str], str]:
    conn = sqlite3.connect(":memory:")
    try:
        for migration in schema.MIGRATIONS:
            if migration.version <= version:
                for step in migration.steps:
                    conn.execute(step)
        return _schema_of(conn)
    finally:
        conn.close()


class _Checker:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.failures = 0

    def fail(self, message: str) -> None:
        self.failures += 1
        self.lines.append("FAIL " + message)

    def ok(self, message: str) -> None:
        self.lines.append("ok " + message)

    def note(self, message: str) -> None:
        self.lines.append("note " + message)


def _check_schema(c: _Checker, conn: sqlite3.Connection, version: int) -> None:
    for row in conn.execute("PRAGMA quick_check").fetchall():
        if row[0] != "ok":
            c.fail(f"sqlite quick_check: {row[0]}")
    for table, rowid, parent, _ in conn.execute("PRAGMA foreign_key_check").fetchall():
        c.fail(f"{table} row {rowid}: refers to a {parent} row that does not exist")
    want, have = expected_schema(version), _schema_of(conn)
    for key in sorted(set(want) | set(have)):
        kind, name = key
        if key not in have:
            c.fail(f"schema: {kind} {name} of schema version {version} is missing")
        elif key not in want:
            c.fail(f"schema: {kind} {name} is not part of schema version {version}")
        elif want[key] != have[key]:
            c.fail(f"schema: {kind} {name} differs from schema version {version}")


def _check_audit(
    c: _Checker, conn: sqlite3.Connection
) -> tuple[dict[tuple[str, int], tuple[int, Any]], dict[int, str]]:
    """Walk the chain; return the latest audit entry per (table, row id), and every entry's hash."""
    latest: dict[tuple[str, int], tuple[int, Any]] = {}
    hashes: dict[int, str] = {}
    prev, expected_id, count = schema.GENESIS, 1, 0
    for row in conn.execute("SELECT * FROM audit ORDER BY id"):
        e = dict(row)
        aid = e["id"]
        count += 1
        if aid != expected_id:
            c.fail(f"audit rows {expected_id}-{aid - 1}: missing (removed from the chain)")
        if e["prev_hash"] != prev:
            c.fail(
                f"audit row {aid}: prev_hash differs from the hash of audit row {aid - 1} "
                f"(row {aid - 1} was rewritten, or rows were removed or inserted before {aid})"
            )
        if audit_hash(e) != e["hash"]:
            c.fail(f"audit row {aid}: hash does not match its fields (the entry was edited)")
        prev, expected_id = e["hash"], aid + 1
        hashes[aid] = e["hash"]
        try:
            detail = json.loads(e["detail"])
            rows = detail.get("rows", [])
        except (json.JSONDecodeError, AttributeError):
            c.fail(f"audit row {aid}: detail is not the JSON object the ledger writes")
            continue
        for r in rows:
            if row_digest(r["table"], r["values"]) != r["digest"]:
                c.fail(f"audit row {aid}: the digest of {r['table']} row {r['id']} does not match its values")
            latest[(r["table"], int(r["id"]))] = (aid, r)
    if count:
        c.ok(f"audit chain: {count} entries, head {prev}")
    else:
        c.fail("audit: no entries (a ledger starts with its init entry)")
    return latest, hashes


def _check_rows(c: _Checker, conn: sqlite3.Connection, latest: dict[tuple[str, int], tuple[int, Any]]) -> None:
    seen = set()
    counted = 0
    for table in user_tables(conn):
        for row in conn.execute(f'SELECT * FROM "{table}" ORDER BY rowid'):
            values = dict(row)
            row_id = values.get("id")
            counted += 1
            key = (table, row_id)
            if key not in latest:
                c.fail(f"{table} row {row_id}: not in the audit log (written outside the ledger)")
                continue
            seen.add(key)
            aid, recorded = latest[key]
            if row_digest(table, values) != recorded["digest"]:
                old = recorded["values"]
                diffs = [
                    f"{col} is {values.get(col)!r}, audit row {aid} recorded {old.get(col)!r}"
                    for col in sorted(set(values) | set(old))
                    if values.get(col) != old.get(col) or col not in values or col not in old
                ]
                c.fail(
                    f"{table} row {row_id}: " + ("; ".join(diffs) or "digest differs") + " (changed outside the ledger)"
                )
    for key in sorted(set(latest) - seen):
        aid, _ = latest[key]
        c.fail(f"{key[0]} row {key[1]}: missing (audit row {aid} wrote it; deleted outside the ledger)")
    c.ok(f"rows: {counted} rows in {len(user_tables(conn))} tables checked against the audit log")


def _check_runs(c: _Checker, conn: sqlite3.Connection, hashes: dict[int, str]) -> list[dict[str, Any]]:
    runs = [dict(r) for r in conn.execute("SELECT * FROM runs ORDER BY id")]
    prev_final: dict[str, Any] | None = None
    for run in runs:
        rid = run["id"]
        if run_hash(run) != run["hash"]:
            c.fail(f"runs row {rid}: hash does not match its fields")
        digest, count = providers_digest(conn, rid)
        if digest != run["providers_digest"] or count != run["provider_count"]:
            c.fail(f"runs row {rid}: its provider_years ({count} rows) no longer match providers_digest")
        anchor = hashes.get(run["audit_anchor_id"], schema.GENESIS if run["audit_anchor_id"] == 0 else None)
        if anchor != run["audit_anchor"]:
            c.fail(f"runs row {rid}: audit_anchor is not the hash of audit row {run['audit_anchor_id']}")
        if run["kind"] == "final":
            want = schema.GENESIS if prev_final is None else prev_final["hash"]
            if run["prev_hash"] != want:
                after = "the first final run" if prev_final is None else f"final run {prev_final['id']}"
                c.fail(f"runs row {rid}: prev_hash is not the hash of {after} (the run chain is broken)")
            prev_final = run
        elif run["prev_hash"] is not None:
            c.fail(f"runs row {rid}: a {run['kind']} run has a prev_hash (only final runs chain)")
    finals = sum(r["kind"] == "final" for r in runs)
    c.ok(f"run chain: {len(runs)} runs, {finals} final" + (f", head {prev_final['hash']}" if prev_final else ""))
    return runs


def _check_signatures(
    c: _Checker, conn: sqlite3.Connection, runs: list[dict[str, Any]], public_keys: list[Path]
) -> None:
    stored = {}
    for row in conn.execute("SELECT id, key_id, public_key_pem FROM keys ORDER BY id"):
        try:
            public = load_public_key(row["public_key_pem"].encode("ascii"))
        except Exception:
            c.fail(f"keys row {row['id']}: public_key_pem is not an Ed25519 public key")
            continue
        if key_id(public) != row["key_id"]:
            c.fail(f"keys row {row['id']}: key_id {row['key_id']} is not the id of its public key ({key_id(public)})")
        stored[row["key_id"]] = public
    trusted = {}
    for path in public_keys:
        public = load_public_key(path)
        trusted[key_id(public)] = public
    keys, source = (trusted, "given key") if public_keys else (stored, "key stored in the ledger")
    signed = 0
    for run in runs:
        rid, kid, signature = run["id"], run["signer_key_id"], run["signature"]
        if not signature:
            if run["kind"] == "final":
                c.note(f"runs row {rid}: final run not signed")
            continue
        signed += 1
        signer = keys.get(kid)
        if signer is None:
            given = ", ".join(sorted(trusted)) if public_keys else "none in the keys table"
            c.fail(f"runs row {rid}: signed by key {kid}, which is not a {source} ({given})")
        elif not signature_valid(signer, run["hash"], signature):
            c.fail(f"runs row {rid}: signature does not verify with key {kid} ({source})")
        else:
            c.ok(f"runs row {rid}: signature by key {kid} verified ({source})")
    if signed and not public_keys:
        c.note(
            "signatures were checked with the keys stored in the ledger; pass the committee's public key to trust them"
        )


def _check_files(c: _Checker, runs: list[dict[str, Any]]) -> None:
    for run in runs:
        rid = run["id"]
        results_dir = Path(run["results_dir"])
        manifest_path = results_dir / "manifest.json"
        if not manifest_path.is_file():
            c.fail(f"runs row {rid}: {manifest_path} is missing (the results directory was moved or deleted)")
            continue
        if sha256(manifest_path) != run["manifest_sha256"]:
            c.fail(f"runs row {rid}: {manifest_path}: SHA-256 differs from the one recorded")
            continue
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if project_files_hash(manifest) != run["project_files_hash"]:
            c.fail(f"runs row {rid}: project_files_hash differs from its manifest's project files")
        problems = output_problems(results_dir, manifest)
        for problem in problems:
            c.fail(f"runs row {rid}: {problem}")
        if not problems:
            c.ok(f"runs row {rid}: {results_dir} matches its manifest ({len(manifest.get('outputs', {}))} outputs)")


def verify_ledger(
    path: Path | str, *, check_files: bool = True, public_keys: Iterable[Path | str] = ()
) -> VerifyReport:
    """Check a ledger end to end (see the module's docstring); the ledger is not written to."""
    c = _Checker()
    keys = [Path(p) for p in public_keys]
    with open_ledger(path, migrate=False) as ledger:
        conn = ledger.conn
        _check_schema(c, conn, ledger.version)
        latest, hashes = _check_audit(c, conn)
        _check_rows(c, conn, latest)
        runs = _check_runs(c, conn, hashes)
        _check_signatures(c, conn, runs, keys)
        if check_files:
            _check_files(c, runs)
    verdict = "OK" if not c.failures else f"FAILED ({c.failures} problem{'s' * (c.failures != 1)})"
    c.lines.append(f"ledger {path}: {verdict}")
    return VerifyReport(ok=not c.failures, lines=c.lines)
