"""The committee's ledger: one SQLite database per committee recording every run of the evaluation
cycle (preview, final, monitor, recheck) with its providers' grades, in-year warnings, disputes and
their decisions, and rectification items, in a hash-chained, append-only audit log; final runs
chain to each other and can be signed (Ed25519). docs/ledger.md describes the schema and the checks.

schema.py   the migrations (versioned DDL), APPLICATION_ID, SCHEMA_VERSION
store.py    open / create a ledger, the clock, transactions that end in one audit entry
keys.py     Ed25519 keys, key ids, run signatures
records.py  record_run, sign_run, warnings, disputes, rectification, queries
verify.py   verify_ledger: the chains, every row, every signature, the recorded result files
"""

from pingyi.ledger.keys import KeyFiles, generate_key
from pingyi.ledger.records import (
    DisputeStatus,
    RectificationStatus,
    RunKind,
    WarningStatus,
    add_dispute,
    add_key,
    add_warning,
    close_rectification,
    decide_dispute,
    grades_by_provider,
    mark_overdue,
    open_items,
    open_rectification,
    open_warnings,
    record_run,
    rectification_snapshot,
    set_warning_status,
    sign_run,
    submit_rectification,
    undecided_disputes,
)
from pingyi.ledger.schema import SCHEMA_VERSION
from pingyi.ledger.store import Ledger, init_ledger, open_ledger
from pingyi.ledger.verify import VerifyReport, verify_ledger

__all__ = [
    "SCHEMA_VERSION",
    "DisputeStatus",
    "KeyFiles",
    "Ledger",
    "RectificationStatus",
    "RunKind",
    "VerifyReport",
    "WarningStatus",
    "add_dispute",
    "add_key",
    "add_warning",
    "close_rectification",
    "decide_dispute",
    "generate_key",
    "grades_by_provider",
    "init_ledger",
    "mark_overdue",
    "open_items",
    "rectification_snapshot",
    "open_ledger",
    "open_rectification",
    "open_warnings",
    "record_run",
    "set_warning_status",
    "sign_run",
    "submit_rectification",
    "undecided_disputes",
    "verify_ledger",
]
