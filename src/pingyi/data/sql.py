"""Quoting for the SQL text the data stage writes (DuckDB): string literals and identifiers."""

from __future__ import annotations


def lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def ident(name: str) -> str:
    """A SQL identifier (column or table name), quoted."""
    return '"' + name.replace('"', '""') + '"'
