"""Issues (validation findings) and the one exception type the CLI maps to exit code 2.

Every finding carries a stable code, the file and line it came from, the YAML path inside
that file, what was found and what was expected, so a committee can fix its project
without reading Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Level(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Issue:
    """One validation finding. Sorted by file, line, code for stable output."""

    file: str
    line: int | None
    code: str
    level: Level
    path: str
    message: str
    found: str | None = None
    expected: str | None = None
    hint: str | None = None

    def location(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
        if self.path:
            where += f" ({self.path})"
        return where

    def render(self) -> str:
        parts = [f"{self.location()}: {self.level.value} {self.code}: {self.message}"]
        if self.found is not None:
            parts.append(f"found {self.found}")
        if self.expected is not None:
            parts.append(f"expected {self.expected}")
        text = "; ".join(parts)
        if self.hint:
            text += f". Fix: {self.hint}"
        return text

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "line": self.line,
            "path": self.path,
            "code": self.code,
            "level": self.level.value,
            "message": self.message,
            "found": self.found,
            "expected": self.expected,
            "hint": self.hint,
        }


@dataclass
class IssueList:
    """Collects findings; validation never stops at the first one."""

    items: list[Issue] = field(default_factory=list)

    def add(self, issue: Issue) -> None:
        self.items.append(issue)

    def extend(self, issues) -> None:
        self.items.extend(issues)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.items if i.level is Level.ERROR]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.items if i.level is Level.WARNING]

    def sorted(self) -> list[Issue]:
        return sorted(set(self.items), key=lambda i: (i.file, i.line or 0, i.code, i.path, i.message))


class PingyiError(Exception):
    """A user mistake (bad input, bad project). The CLI prints it without a traceback, exit 2."""

    def __init__(self, message: str, issues: list[Issue] | None = None):
        super().__init__(message)
        self.message = message
        self.issues = issues or []


def read_json(path, what: str = "results.json written by `pingyi score`"):
    """Read a JSON file pingyi wrote; a missing or damaged file is a user error naming the file."""
    import json
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        raise PingyiError(f"{path.parent}: no {path.name}; expected the --out directory of `pingyi score` ({what})")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise PingyiError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg}); expected {what}") from None
