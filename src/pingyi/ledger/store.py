"""The ledger database: opening (or refusing) a file, migrations, the clock, and the one way to write.

Every change goes through `Ledger.transaction(...)`: one `BEGIN IMMEDIATE` transaction (the write
lock is taken at once, so two processes never interleave their chains) whose rows are written with
`Tx.insert` / `Tx.update`, and which ends by appending one audit entry that names every row written
with its digest and values. A crash or a kill before `COMMIT` leaves nothing behind.

Hashes are SHA-256 over the canonical JSON (`canonical`) of a mapping: keys sorted, no spaces, UTF-8.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pingyi.errors import PingyiError
from pingyi.ledger import schema

SQLITE_MAGIC = b"SQLite format 3\x00"
EXPECTED = "a pingyi ledger (an SQLite database made by pingyi.ledger.init_ledger / `pingyi ledger init`)"
TIME_ENV = "PINGYI_LEDGER_EPOCH"  # seconds since 1970 (like SOURCE_DATE_EPOCH): a fixed clock for tests
BUSY_TIMEOUT_MS = 10_000


# --------------------------------------------------------------------------- hashing and time


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def row_digest(table: str, values: Mapping[str, Any]) -> str:
    """The digest of one row as stored: its table and every column."""
    return sha256_hex(canonical({"table": table, "values": dict(values)}))


def audit_hash(entry: Mapping[str, Any]) -> str:
    """An audit entry's hash: over id, at, actor, command, action, detail (the stored text) and prev_hash."""
    fields = ("id", "at", "actor", "command", "action", "detail", "prev_hash")
    return sha256_hex(canonical({k: entry[k] for k in fields}))


def now(at: str | datetime | None = None) -> str:
    """UTC ISO 8601 to the second: `at` if given, else $PINGYI_LEDGER_EPOCH, else the clock."""
    if isinstance(at, str):
        try:
            at = datetime.fromisoformat(at)
        except ValueError:
            raise PingyiError(f"time {at!r} is not ISO 8601; expected e.g. 2026-03-01T09:00:00Z") from None
    if at is None:
        epoch = os.environ.get(TIME_ENV)
        if epoch:
            try:
                at = datetime.fromtimestamp(int(epoch), UTC)
            except ValueError:
                raise PingyiError(f"${TIME_ENV}={epoch!r}: expected whole seconds since 1970-01-01 UTC") from None
        else:
            at = datetime.now(UTC)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- connection


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    return conn


def user_tables(conn: sqlite3.Connection) -> list[str]:
    """Every table of the database except SQLite's own and the audit log itself."""
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'audit' "
        "ORDER BY name"
    )
    return [r[0] for r in rows]


def columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]


def read_row(conn: sqlite3.Connection, table: str, row_id: int) -> dict[str, Any] | None:
    row = conn.execute(f'SELECT * FROM "{table}" WHERE id = ?', (row_id,)).fetchone()
    return None if row is None else dict(row)


@dataclass
class Tx:
    """One open transaction: the rows it writes are listed in its audit entry."""

    conn: sqlite3.Connection
    at: str
    head_id: int  # the audit entry before this transaction's (0: none)
    head_hash: str
    detail: dict[str, Any] = field(default_factory=dict)  # what the audit entry says besides its rows
    rows: list[dict[str, Any]] = field(default_factory=list)

    def _record(self, table: str, row_id: int, op: str) -> dict[str, Any]:
        values = read_row(self.conn, table, row_id)
        assert values is not None
        self.rows.append(
            {"table": table, "id": row_id, "op": op, "digest": row_digest(table, values), "values": values}
        )
        return values

    def insert(self, table: str, values: Mapping[str, Any]) -> int:
        cols = ", ".join(f'"{c}"' for c in values)
        marks = ", ".join("?" for _ in values)
        cur = self.conn.execute(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', tuple(values.values()))
        row_id = int(values["id"]) if "id" in values else int(cur.lastrowid or 0)
        self._record(table, row_id, "insert")
        return row_id

    def update(self, table: str, row_id: int, changes: Mapping[str, Any]) -> dict[str, Any]:
        sets = ", ".join(f'"{c}" = ?' for c in changes)
        self.conn.execute(f'UPDATE "{table}" SET {sets} WHERE id = ?', (*changes.values(), row_id))
        return self._record(table, row_id, "update")

    def snapshot(self, table: str) -> None:
        """Re-record every row of a table (after a migration changed its columns)."""
        for (row_id,) in self.conn.execute(f'SELECT id FROM "{table}" ORDER BY id').fetchall():
            self._record(table, int(row_id), "migrate")

    def next_id(self, table: str) -> int:
        return int(self.conn.execute(f'SELECT COALESCE(MAX(id), 0) + 1 FROM "{table}"').fetchone()[0])


@dataclass
class Ledger:
    path: Path
    conn: sqlite3.Connection
    version: int

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(
        self, *, actor: str, command: str, action: str, detail: Mapping[str, Any] | None = None, at: Any = None
    ) -> Iterator[Tx]:
        """One transaction ending in one audit entry; an exception (or a kill) rolls everything back."""
        if not actor:
            raise PingyiError("every ledger change names its actor (who did it); got an empty actor")
        stamp = now(at)
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise PingyiError(f"{self.path}: cannot start a write ({exc}); is another process holding it?") from None
        try:
            head = None
            if self.version:  # (a new ledger's audit table is made inside its first transaction)
                head = self.conn.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
            tx = Tx(
                self.conn, stamp, int(head[0]) if head else 0, head[1] if head else schema.GENESIS, dict(detail or {})
            )
            yield tx
            _append_audit(tx, actor=actor, command=command, action=action)
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise


def _append_audit(tx: Tx, *, actor: str, command: str, action: str) -> None:
    entry = {
        "id": tx.head_id + 1,
        "at": tx.at,
        "actor": actor,
        "command": command,
        "action": action,
        "detail": canonical({**tx.detail, "rows": tx.rows}).decode("utf-8"),
        "prev_hash": tx.head_hash,
    }
    entry["hash"] = audit_hash(entry)
    cols = ", ".join(entry)
    tx.conn.execute(f"INSERT INTO audit ({cols}) VALUES ({', '.join('?' for _ in entry)})", tuple(entry.values()))


# --------------------------------------------------------------------------- migrations


def _migrate(conn: sqlite3.Connection, tx: Tx, start: int, target: int) -> list[int]:
    """Apply the migrations after `start` up to `target` inside `tx`; tables whose columns change
    have their rows re-recorded (their digests change with their columns)."""
    applied = []
    for migration in schema.MIGRATIONS:
        if not start < migration.version <= target:
            continue
        before = {t: columns(conn, t) for t in user_tables(conn)} if start else {}
        for step in migration.steps:
            conn.execute(step)
        for table, cols in before.items():
            if table in user_tables(conn) and columns(conn, table) != cols:
                tx.snapshot(table)
        conn.execute(f"PRAGMA user_version = {migration.version}")
        applied.append(migration.version)
    return applied


def init_ledger(
    path: Path | str,
    *,
    committee: str,
    actor: str,
    at: Any = None,
    ledger_id: str | None = None,
    schema_version: int | None = None,
) -> Ledger:
    """Create a new ledger at `path` (refused if the file exists) and return it open.

    `ledger_id` (default: a random UUID) names this ledger in its first audit entry, so two ledgers'
    chains never coincide; `schema_version` stops the migrations early (the migration tests use it)."""
    path = Path(path)
    target = schema.SCHEMA_VERSION if schema_version is None else schema_version
    if path.exists():
        raise PingyiError(f"{path}: already exists; a new ledger needs a new file (open the existing one instead)")
    if not path.parent.is_dir():
        raise PingyiError(f"{path.parent}: no such directory for the ledger")
    conn = _connect(path)
    ledger = Ledger(path, conn, 0)
    try:
        with ledger.transaction(actor=actor, command="init", action="init", at=at) as tx:
            applied = _migrate(conn, tx, 0, target)
            conn.execute(f"PRAGMA application_id = {schema.APPLICATION_ID}")
            tx.insert(
                "meta",
                {"id": 1, "ledger_id": ledger_id or str(uuid.uuid4()), "committee": committee, "created_at": tx.at},
            )
            tx.detail.update(committee=committee, migrations=applied, schema_version=target)
    except BaseException:
        conn.close()
        path.unlink(missing_ok=True)
        raise
    ledger.version = target
    return ledger


def open_ledger(path: Path | str, *, migrate: bool = True, actor: str = "pingyi", at: Any = None) -> Ledger:
    """Open an existing ledger; an older schema is migrated (in one audited transaction) unless `migrate`
    is false. Anything that is not a pingyi ledger, or a newer schema, is a PingyiError."""
    path = Path(path)
    if not path.is_file():
        raise PingyiError(f"{path}: no such file; expected {EXPECTED}")
    with path.open("rb") as fh:
        magic = fh.read(len(SQLITE_MAGIC))
    if magic != SQLITE_MAGIC:
        raise PingyiError(f"{path}: not an SQLite database; expected {EXPECTED}")
    try:
        conn = _connect(path)
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        raise PingyiError(f"{path}: cannot be read as SQLite ({exc}); expected {EXPECTED}") from None
    if app_id != schema.APPLICATION_ID or version < 1:
        conn.close()
        raise PingyiError(
            f"{path}: an SQLite database but not a pingyi ledger (application_id {app_id:#x}, "
            f"expected {schema.APPLICATION_ID:#x}); expected {EXPECTED}"
        )
    if version > schema.SCHEMA_VERSION:
        conn.close()
        raise PingyiError(
            f"{path}: ledger schema version {version} is newer than this pingyi knows "
            f"({schema.SCHEMA_VERSION}); upgrade pingyi to open it"
        )
    ledger = Ledger(path, conn, version)
    if migrate and version < schema.SCHEMA_VERSION:
        with ledger.transaction(
            actor=actor, command="migrate", action="migrate", at=at, detail={"from": version}
        ) as tx:
            tx.detail["to"] = _migrate(conn, tx, version, schema.SCHEMA_VERSION)[-1]
        ledger.version = schema.SCHEMA_VERSION
    return ledger
