"""YAML loading that remembers where every value came from.

Parsing is `yaml.SafeLoader`-level only (no Python tags, no arbitrary objects). We compose the
node tree ourselves so each mapping key and sequence item keeps its line number; validation
messages then point at `file:line (yaml.path)` like dbt's semantic-interface loader does.
Duplicate keys, which PyYAML silently overwrites, are reported instead.

Bounded: a project file may come from anyone, so before any node is built one pass over the parser's
events (which never expands an alias) refuses anchors and aliases (PY108: a "billion laughs" file of
nine nested aliases would otherwise build 10^9 values, a recursive one never ends; project files need
neither), nesting deeper than MAX_DEPTH (PY109) and a scalar longer than MAX_SCALAR characters or a
number of more than MAX_DIGITS digits (PY110).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pingyi.errors import Issue

PathKey = tuple[Any, ...]


def path_str(path: PathKey) -> str:
    """('indicators', 3, 'code') -> 'indicators[3].code'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


@dataclass
class LocatedDoc:
    """Plain Python data plus a map from YAML path to 1-based line number."""

    file: str
    data: Any
    lines: dict[PathKey, int] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)

    def line(self, path: PathKey) -> int | None:
        """Line of `path`, or of its nearest ancestor that has one."""
        path = tuple(path)
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = path[:-1]

    def issue(
        self,
        code: str,
        path: PathKey,
        message: str,
        *,
        found: str | None = None,
        expected: str | None = None,
        hint: str | None = None,
    ) -> Issue:
        return Issue(
            file=self.file,
            line=self.line(path),
            code=code,
            path=path_str(path),
            message=message,
            found=found,
            expected=expected,
            hint=hint,
        )


# the bounds of a project file (see the module docstring); the shipped project nests 7 deep
MAX_DEPTH = 64
MAX_SCALAR = 10_000
MAX_DIGITS = 30

_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")


# libyaml's parser when PyYAML was built with it (the Debian and PyPI wheels are): about ten times the
# pure-Python parser's speed, with the same events and marks (line numbers)
_COMPOSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Builder:
    def __init__(self, doc: LocatedDoc):
        self.doc = doc
        self.constructor = yaml.SafeLoader("")  # only used for its scalar constructors

    def build(self, node: yaml.Node, path: PathKey) -> Any:
        self.doc.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.build_scalar(key_node)
                key_path = path + (key,)
                if key in result:
                    self.doc.issues.append(
                        Issue(
                            file=self.doc.file,
                            line=key_node.start_mark.line + 1,
                            code="PY103",
                            path=path_str(key_path),
                            message="duplicate key; YAML would silently keep only the last one",
                            found=f"'{key}' a second time",
                            expected="each key once per mapping",
                            hint="delete or rename one of the two entries",
                        )
                    )
                self.doc.lines[key_path] = key_node.start_mark.line + 1
                result[key] = self.build(value_node, key_path)
            return result
        if isinstance(node, yaml.SequenceNode):
            items = []
            for i, item in enumerate(node.value):
                self.doc.lines[path + (i,)] = item.start_mark.line + 1
                items.append(self.build(item, path + (i,)))
            return items
        return self.build_scalar(node)

    def build_scalar(self, node: yaml.Node) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            # complex keys are legal YAML but never meaningful in a pingyi file
            return str(self.constructor.construct_object(node, deep=True))
        return self.constructor.construct_object(node)


def load_yaml(path: Path, display: str | None = None) -> LocatedDoc:
    """Load one YAML file. Syntax errors become issues (code PY101), never exceptions."""
    display = display or str(path)
    doc = LocatedDoc(file=display, data=None)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        doc.issues.append(
            Issue(
                file=display,
                line=None,
                code="PY102",
                path="",
                message="file is not UTF-8 text",
                found=str(exc.reason),
                expected="UTF-8 encoded YAML",
                hint="re-save the file as UTF-8",
            )
        )
        return doc
    except OSError as exc:
        doc.issues.append(
            Issue(
                file=display,
                line=None,
                code="PY102",
                path="",
                message="file cannot be read",
                found=exc.strerror or str(exc),
                expected="a readable YAML file",
            )
        )
        return doc
    try:
        refused = _out_of_bounds(display, text)
        if refused is not None:
            doc.issues.append(refused)
            return doc
        node = yaml.compose(text, Loader=_COMPOSER)
        doc.data = None if node is None else _Builder(doc).build(node, ())
    except yaml.MarkedYAMLError as exc:
        if "maximum nesting depth" in (exc.problem or ""):  # libyaml's own limit (1000 flow levels)
            line = exc.problem_mark.line + 1 if exc.problem_mark is not None else None
            doc.issues.append(_too_deep(display, line))
        else:
            doc.issues.append(_syntax_issue(display, text, exc))
        doc.data = None
    except yaml.YAMLError as exc:  # pragma: no cover - defensive, unmarked errors are rare
        doc.issues.append(
            Issue(
                file=display,
                line=None,
                code="PY101",
                path="",
                message=f"YAML syntax error: {exc}",
                expected="valid YAML",
            )
        )
    return doc


def _out_of_bounds(display: str, text: str) -> Issue | None:
    """The first anchor or alias (PY108), nesting beyond MAX_DEPTH (PY109), or over-long scalar or
    number (PY110), from the parser's events: no node is built and no alias is followed. A syntax
    error raises yaml.MarkedYAMLError as composing would."""
    resolver = yaml.resolver.Resolver()
    depth = 0
    for event in yaml.parse(text, Loader=_COMPOSER):
        line = event.start_mark.line + 1 if event.start_mark is not None else None
        anchor = getattr(event, "anchor", None)  # AliasEvent and NodeEvent (scalar, collection start)
        if anchor is not None:
            sign = "*" if isinstance(event, yaml.AliasEvent) else "&"
            name = anchor
            return Issue(
                file=display,
                line=line,
                code="PY108",
                path="",
                message="YAML anchors and aliases are not allowed in project files (an alias can expand "
                "to millions of values, or to itself)",
                found=f"{'an alias' if sign == '*' else 'an anchor'} {sign}{name}",
                expected="every value written out where it is used",
                hint=f"replace {sign}{name} with the value itself (copy it)",
            )
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                return _too_deep(display, line)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        elif isinstance(event, yaml.ScalarEvent):
            value = event.value
            if len(value) > MAX_SCALAR:
                return _too_long(display, line, f"a value of {len(value):,} characters", f"at most {MAX_SCALAR:,}")
            tag = event.tag if event.tag not in (None, "!") else None
            if tag is None and event.implicit[0]:
                tag = resolver.resolve(yaml.ScalarNode, value, event.implicit)
            digits = sum(ch.isdigit() for ch in value)
            if tag in _NUMBER_TAGS and digits > MAX_DIGITS:
                return _too_long(display, line, f"a number of {digits:,} digits", f"at most {MAX_DIGITS} digits")
    return None


def _too_deep(display: str, line: int | None) -> Issue:
    return Issue(
        file=display,
        line=line,
        code="PY109",
        path="",
        message="values nested too deep",
        found=f"more than {MAX_DEPTH} levels of lists or mappings",
        expected=f"at most {MAX_DEPTH} levels (a pingyi file needs fewer than 10)",
        hint="remove the extra brackets or indentation levels",
    )


def _too_long(display: str, line: int | None, found: str, expected: str) -> Issue:
    return Issue(
        file=display,
        line=line,
        code="PY110",
        path="",
        message="a value too long for a project file",
        found=found,
        expected=expected,
        hint="check this line: the value was probably pasted by mistake",
    )


# constructs that run until their closing bracket or quote: when one is left open, PyYAML notices it
# only lines later (often at the end of the file), so the line to fix is where the construct starts
_OPENERS = {
    "flow sequence": ("'['", "']'"),
    "flow mapping": ("'{'", "'}'"),
    "quoted scalar": ("quote", "a closing quote"),
}


def _syntax_issue(display: str, text: str, exc: yaml.MarkedYAMLError) -> Issue:
    """PY101 at the line to fix: where an unclosed bracket or quote starts (the context mark), otherwise
    where PyYAML noticed the problem; never a line past the file's last line (the stream end of a
    file that ends with a newline is the line after it)."""
    last = max(1, len(text.splitlines()))
    problem = (exc.problem or "invalid YAML").strip()
    context = (exc.context or "").strip()
    construct = next((name for name in _OPENERS if name in context), None)
    pmark, cmark = exc.problem_mark, exc.context_mark
    at_end = pmark is not None and pmark.index >= len(text.rstrip())
    noticed = min(pmark.line + 1, last) if pmark is not None else None
    start = min(cmark.line + 1, last) if cmark is not None else None
    line = start if construct is not None and start is not None else noticed if noticed is not None else start
    message = f"YAML syntax error: {problem}" + (f" {context}" if context else "")
    if start is not None and (start != noticed or at_end):
        message += f" that starts at line {start}"
        message += (
            f"; noticed at the end of the file (after line {last}, its last)"
            if at_end
            else f"; noticed at line {noticed}"
        )
    elif at_end:
        message += f"; noticed at the end of the file (after line {last}, its last)"
    expected = "valid YAML"
    hint = "check indentation, colons and quotes on this line"
    tab = pmark is not None and (
        "tab" in problem or text[pmark.index : pmark.index + 1] == "\t" or "\t" in _indent(_line(text, noticed))
    )
    if tab:
        expected = "indentation with spaces (YAML does not allow a tab there)"
        hint = f"replace the tab on line {noticed} with spaces"
    elif construct is not None and start is not None:
        opener, closer = _OPENERS[construct]
        expected = f"{closer} for the {opener} opened on line {start}"
        hint = f"close the {opener} opened on line {start} with {closer}, or remove it"
    return Issue(
        file=display,
        line=line,
        code="PY101",
        path="",
        message=message,
        found=_excerpt(text, line),
        expected=expected,
        hint=hint,
    )


def _line(text: str, line: int | None) -> str:
    lines = text.splitlines()
    return lines[line - 1] if line is not None and 1 <= line <= len(lines) else ""


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _excerpt(text: str, line: int | None) -> str | None:
    if line is None:
        return None
    lines = text.splitlines()
    if 1 <= line <= len(lines):
        snippet = lines[line - 1].strip()
        return repr(snippet[:80])
    return None
