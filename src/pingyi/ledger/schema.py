"""The ledger's schema as a list of migrations: each is the SQL steps that take the database from the
previous version to its own, applied in order inside one transaction (SQLite's DDL is
transactional), with `PRAGMA user_version` set to the version reached in the same transaction.

A database is a pingyi ledger when its `PRAGMA application_id` is `APPLICATION_ID`. Steps are kept
one statement each (never `executescript`, which commits whatever transaction is open).

Never edit a released migration: add a new one. A migration that changes the columns of a table
with rows gets those rows re-recorded in its audit entry automatically (pingyi.ledger.store).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    steps: tuple[str, ...]


APPLICATION_ID = 0x50594C47  # "PYLG": set in the database header, read back by open_ledger
GENESIS = "0" * 64  # prev_hash of the first audit entry and of the first final run

_IMMUTABLE = "SELECT RAISE(ABORT, '{table} rows are append-only: {what}')"

V1 = Migration(
    1,
    "core tables: meta, keys, runs, provider_years, warnings, disputes, audit",
    (
        """CREATE TABLE meta (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            ledger_id TEXT NOT NULL,
            committee TEXT NOT NULL,
            created_at TEXT NOT NULL
        )""",
        """CREATE TABLE keys (
            id INTEGER PRIMARY KEY,
            key_id TEXT NOT NULL UNIQUE,
            public_key_pem TEXT NOT NULL,
            label TEXT NOT NULL DEFAULT '',
            added_at TEXT NOT NULL
        )""",
        """CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('preview', 'final', 'monitor', 'recheck')),
            year INTEGER NOT NULL,
            manifest_sha256 TEXT NOT NULL,
            project_files_hash TEXT NOT NULL,
            results_dir TEXT NOT NULL,
            providers_digest TEXT NOT NULL,
            provider_count INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            actor TEXT NOT NULL,
            command TEXT NOT NULL,
            audit_anchor_id INTEGER NOT NULL,
            audit_anchor TEXT NOT NULL,
            prev_hash TEXT,
            hash TEXT NOT NULL UNIQUE,
            signature TEXT,
            signer_key_id TEXT REFERENCES keys (key_id)
        )""",
        "CREATE INDEX runs_kind_year ON runs (kind, year)",
        """CREATE TABLE provider_years (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES runs (id) DEFERRABLE INITIALLY DEFERRED,
            fixmedins_code TEXT NOT NULL,
            year INTEGER NOT NULL,
            grade TEXT,
            total REAL,
            designation TEXT,
            credit_status TEXT,
            UNIQUE (run_id, fixmedins_code)
        )""",
        "CREATE INDEX provider_years_code ON provider_years (fixmedins_code, year)",
        """CREATE TABLE warnings (
            id INTEGER PRIMARY KEY,
            fixmedins_code TEXT NOT NULL,
            indicator TEXT NOT NULL,
            year INTEGER NOT NULL,
            through_month INTEGER NOT NULL CHECK (through_month BETWEEN 1 AND 12),
            deadline TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('open', 'resolved', 'escalated')),
            run_id INTEGER REFERENCES runs (id),
            created_at TEXT NOT NULL
        )""",
        """CREATE TABLE disputes (
            id INTEGER PRIMARY KEY,
            fixmedins_code TEXT NOT NULL,
            indicator TEXT NOT NULL,
            year INTEGER NOT NULL,
            run_id INTEGER REFERENCES runs (id),
            claimed_value TEXT,
            reason TEXT NOT NULL,
            evidence_ref TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL CHECK (status IN ('open', 'accepted', 'rejected')),
            filed_by TEXT NOT NULL,
            filed_at TEXT NOT NULL,
            decided_by TEXT,
            decision_reason TEXT,
            decided_at TEXT
        )""",
        """CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            command TEXT NOT NULL,
            action TEXT NOT NULL,
            detail TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL UNIQUE
        )""",
        "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN "
        + _IMMUTABLE.format(table="audit", what="an entry is never changed")
        + "; END",
        "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN "
        + _IMMUTABLE.format(table="audit", what="an entry is never deleted")
        + "; END",
        "CREATE TRIGGER runs_no_delete BEFORE DELETE ON runs BEGIN "
        + _IMMUTABLE.format(table="runs", what="a run is never deleted")
        + "; END",
        """CREATE TRIGGER runs_sign_only BEFORE UPDATE ON runs
            WHEN OLD.signature IS NOT NULL
              OR NEW.id IS NOT OLD.id OR NEW.kind IS NOT OLD.kind OR NEW.year IS NOT OLD.year
              OR NEW.manifest_sha256 IS NOT OLD.manifest_sha256
              OR NEW.project_files_hash IS NOT OLD.project_files_hash
              OR NEW.results_dir IS NOT OLD.results_dir OR NEW.providers_digest IS NOT OLD.providers_digest
              OR NEW.provider_count IS NOT OLD.provider_count OR NEW.created_at IS NOT OLD.created_at
              OR NEW.actor IS NOT OLD.actor OR NEW.command IS NOT OLD.command
              OR NEW.audit_anchor_id IS NOT OLD.audit_anchor_id OR NEW.audit_anchor IS NOT OLD.audit_anchor
              OR NEW.prev_hash IS NOT OLD.prev_hash OR NEW.hash IS NOT OLD.hash
            BEGIN """
        + _IMMUTABLE.format(table="runs", what="only an unsigned run may be signed")
        + "; END",
        "CREATE TRIGGER provider_years_no_update BEFORE UPDATE ON provider_years BEGIN "
        + _IMMUTABLE.format(table="provider_years", what="a recorded grade is never changed")
        + "; END",
        "CREATE TRIGGER provider_years_no_delete BEFORE DELETE ON provider_years BEGIN "
        + _IMMUTABLE.format(table="provider_years", what="a recorded grade is never deleted")
        + "; END",
    ),
)

V2 = Migration(
    2,
    "rectification items (整改): opened by a run, closed by a later run",
    (
        """CREATE TABLE rectification (
            id INTEGER PRIMARY KEY,
            fixmedins_code TEXT NOT NULL,
            indicator TEXT NOT NULL,
            year_opened INTEGER NOT NULL,
            run_opened INTEGER NOT NULL REFERENCES runs (id),
            deadline TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('open', 'submitted', 'closed', 'overdue')),
            closed_by_run INTEGER REFERENCES runs (id),
            notes TEXT NOT NULL DEFAULT '',
            opened_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            CHECK ((status = 'closed') = (closed_by_run IS NOT NULL))
        )""",
        "CREATE INDEX rectification_open ON rectification (status, fixmedins_code)",
    ),
)

MIGRATIONS: tuple[Migration, ...] = (V1, V2)
SCHEMA_VERSION = MIGRATIONS[-1].version
