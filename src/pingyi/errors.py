"""Issues (validation findings), the catalogue of issue codes, and the one exception type the CLI
maps to exit code 2.

Every finding carries a stable code from `ISSUE_CODES`, the file and line it came from, the YAML
path inside that file, what was found and what was expected, so a committee can fix its project
without reading Python. A code always has the same severity: the catalogue says which, and an
`Issue` takes its severity from there.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any


class Severity(StrEnum):
    """How bad a validation finding is: an error stops every command that would use the project."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class IssueCode:
    code: str
    severity: Severity
    sentence: str


def _catalogue(*rows: tuple[str, Severity, str]) -> dict[str, IssueCode]:
    return {code: IssueCode(code, severity, sentence) for code, severity, sentence in rows}


E, W = Severity.ERROR, Severity.WARNING

# The catalogue: docs/user-guide.md lists it (generated), and a test breaks a fixture for every code.
ISSUE_CODES: dict[str, IssueCode] = _catalogue(
    ("PY101", E, "YAML syntax error"),
    ("PY102", E, "a project file cannot be read or is not UTF-8"),
    ("PY103", E, "a key appears twice in one mapping (YAML would keep only the last)"),
    ("PY104", E, "unknown field (a typo is never silently ignored)"),
    ("PY105", E, "a required field is missing, or the file is empty"),
    ("PY106", E, "invalid value: wrong type, out of range, wrong pattern, or not a mapping"),
    ("PY107", E, "a number is not finite (.nan, .inf or -.inf)"),
    ("PY108", E, "a YAML anchor or alias (&name, *name): project files write every value out"),
    ("PY109", E, "values nested deeper than 64 levels"),
    ("PY110", E, "a value longer than 10,000 characters, or a number of more than 30 digits"),
    ("PY201", E, "a required project file or directory is missing"),
    ("PY202", E, "an indicator code is defined twice"),
    ("PY203", E, "primary dimensions and the hierarchy disagree (no file, not judged, or defined twice)"),
    ("PY204", E, "a formula is outside the formula language"),
    ("PY205", E, "a settlement-sourced indicator has no formula"),
    ("PY206", W, "the catalogue is not the national plan's 8 primary x 35 secondary indicators"),
    ("PY207", E, "an indicator's direction, scoring rule and lights disagree"),
    ("PY208", W, "an indicator's qualitative flag and its source disagree"),
    ("PY209", E, "an indicator code does not belong to its dimension"),
    ("PY210", E, "a case-mix adjustment without its formulas (adjusted_formula, or the raw formula)"),
    ("PY211", E, "funnel lights on an indicator that is not a rate with a volume rule"),
    ("PY212", E, "funnel_score beyond_95 without funnel lights"),
    ("PY213", W, "an optional project file (policy.yaml, data.yaml) is missing: its defaults are used"),
    ("PY214", E, "a formula is always undefined (division by a constant 0) or overflows"),
    ("PY301", E, "a dimension's judgment items are not its indicators"),
    ("PY302", E, "a comparison matrix is not square"),
    ("PY303", E, "a judgment is not a positive number or fraction within Saaty's 1/9-9"),
    ("PY304", E, "a diagonal judgment is not 1"),
    ("PY305", E, "a comparison matrix is not reciprocal"),
    ("PY306", E, "the combined judgments are inconsistent (consistency ratio too high)"),
    ("PY307", W, "one expert's judgments are inconsistent"),
    ("PY308", E, "a judgment names an unknown expert"),
    ("PY309", E, "direct weights do not cover the items, do not sum to 1, or have no source"),
    ("PY310", E, "judgments cannot be completed (not every item is compared, directly or through others)"),
    ("PY311", E, "no judgments: neither expert matrices nor direct weights"),
    ("PY312", E, "expert-scored (qualitative) indicators carry more weight than the cap"),
    ("PY313", W, "a judgment is not an exact Saaty scale value (an integer 1-9 or its reciprocal)"),
    ("PY314", E, "the weight combination is incomplete or contradictory (a linear one without alpha, alpha elsewhere)"),
    ("PY315", E, "every expert of a comparison matrix is excluded by the per-expert CR screening"),
    ("PY401", E, "a baseline is missing (an indicator, a region x level, or the evaluation year)"),
    ("PY402", W, "a baseline for an indicator that is not in the catalogue"),
    ("PY403", E, "an unknown region or level in the baselines"),
    ("PY404", E, "an unknown region scheme"),
    ("PY405", E, "the regions file is incomplete or inconsistent"),
    ("PY406", E, "a vbp-scored indicator has no benchmark"),
    ("PY407", E, "a derived baseline's provenance disagrees with its value"),
    ("PY408", E, "a baseline is outside its indicator's valid range"),
    ("PY409", E, "the evaluation year is not given and several baselines years exist"),
    ("PY601", E, "a measure is defined twice"),
    ("PY602", E, "a formula or volume rule uses an undefined measure"),
    ("PY603", E, "measure SQL is outside the allowed language"),
    ("PY604", E, "the policy names an undefined measure"),
    ("PY605", E, "the policy names a grade its grade bands do not define"),
    ("PY606", E, "two grade bands share a name"),
    ("PY607", E, "a prepayment rate is outside [-1, 1] or beyond adjustment.max_rate"),
    ("PY608", E, "measure SQL reads a patient identifier or record key other than as count(DISTINCT col)"),
    (
        "PY609",
        E,
        "the peer groups are inconsistent (a type alias to an undeclared type, a merge key not among the keys)",
    ),
)


@dataclass(frozen=True, order=True)
class Issue:
    """One validation finding. Sorted by file, line, code for stable output. The severity comes from
    the code's catalogue entry."""

    file: str
    line: int | None
    code: str
    path: str
    message: str
    found: str | None = None
    expected: str | None = None
    hint: str | None = None
    severity: Severity = field(init=False, compare=False)

    def __post_init__(self) -> None:
        entry = ISSUE_CODES.get(self.code)
        if entry is None:
            raise ValueError(f"issue code {self.code} is not in the catalogue (pingyi.errors.ISSUE_CODES)")
        object.__setattr__(self, "severity", entry.severity)

    def location(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
        if self.path:
            where += f" ({self.path})"
        return where

    def render(self) -> str:
        parts = [f"{self.location()}: {self.severity.value} {self.code}: {self.message}"]
        if self.found is not None:
            parts.append(f"found {self.found}")
        if self.expected is not None:
            parts.append(f"expected {self.expected}")
        text = "; ".join(parts)
        if self.hint:
            text += f". Fix: {self.hint}"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "path": self.path,
            "code": self.code,
            "severity": self.severity.value,
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

    def extend(self, issues: Iterable[Issue]) -> None:
        self.items.extend(issues)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.items if i.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.items if i.severity is Severity.WARNING]

    def sorted(self) -> list[Issue]:
        return sorted(set(self.items), key=lambda i: (i.file, i.line or 0, i.code, i.path, i.message))


class PingyiError(Exception):
    """A user mistake (bad input, bad project). The CLI prints it without a traceback, exit 2."""

    def __init__(self, message: str, issues: list[Issue] | None = None):
        super().__init__(message)
        self.message = message
        self.issues = issues or []


def read_json(path: Path | str, what: str = "results.json written by `pingyi score`") -> Any:
    """Read a JSON file pingyi wrote; a missing or damaged file is a user error naming the file."""
    path = Path(path)
    if not path.is_file():
        raise PingyiError(f"{path.parent}: no {path.name}; expected the --out directory of `pingyi score` ({what})")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise PingyiError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg}); expected {what}") from None


_JSON_KINDS = {dict: "an object", list: "an array", str: "a string", bool: "true/false", type(None): "null"}


def _json_kind(value: Any) -> str:
    return next((name for kind, name in _JSON_KINDS.items() if isinstance(value, kind)), "a number")


def read_json_object(
    path: Path | str,
    what: str = "results.json written by `pingyi score`",
    fields: Mapping[str, type] | None = None,
) -> dict[str, Any]:
    """`read_json`, and the document must be a JSON object whose `fields` (dotted paths such as
    `inputs.data_files`) have the given types: a user error naming the file and the expected shape
    otherwise (a hand-edited or foreign file), never a crash deeper in the caller."""
    path = Path(path)
    data = read_json(path, what)
    if not isinstance(data, dict):
        raise PingyiError(f"{path}: found {_json_kind(data)}; expected a JSON object ({what})")
    for dotted, kind in (fields or {}).items():
        value: Any = data
        for part in dotted.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if not isinstance(value, kind):
            expected = _json_kind(kind()) if kind in _JSON_KINDS else kind.__name__
            raise PingyiError(
                f"{path}: {dotted} is {'missing' if value is None else _json_kind(value)}; "
                f"expected {expected} there ({what})"
            )
    return data


# what `pingyi verify` reads of a manifest.json (pingyi.run.manifest writes it)
MANIFEST_SHAPE: dict[str, type] = {
    "outputs": dict,
    "inputs": dict,
    "inputs.data_dir": str,
    "inputs.data_files": dict,
    "inputs.project_dir": str,
    "inputs.project_files": dict,
}
