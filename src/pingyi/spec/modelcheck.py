"""Turn located YAML documents into validated pydantic models, mapping every pydantic error
back to `file:line (yaml.path)` with a stable issue code."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from pingyi.errors import Issue
from pingyi.spec.yamlsrc import LocatedDoc, PathKey, load_yaml

M = TypeVar("M", bound=BaseModel)

# pydantic error type -> (issue code, short message)
_CODES = {
    "extra_forbidden": ("PY104", "unknown field"),
    "missing": ("PY105", "required field is missing"),
    "finite_number": ("PY107", "a number must be finite"),
}


# pydantic's tags for the members of a plain union (float | str | None ...); a discriminated union's
# tag is the discriminator's value, found in the data itself (see _data_path)
_TYPE_TAGS = {"none", "float", "str", "int", "bool"}


def _data_path(data: Any, loc: tuple) -> PathKey:
    """Drop the parts of a pydantic location that are not in the YAML (union tags, etc.)."""
    path: list[Any] = []
    node = data
    for part in loc:
        if (
            isinstance(node, dict)
            and part in node
            or isinstance(node, list)
            and isinstance(part, int)
            and 0 <= part < len(node)
        ):
            path.append(part)
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and part not in node:
            # a missing key or a discriminator tag: keep missing keys (for the message), skip tags
            if part in _TYPE_TAGS or part in node.values() or any(c in part for c in "[]-,"):
                continue
            path.append(part)
            node = None
        else:
            continue
    return tuple(path)


def validate_model(doc: LocatedDoc, model: type[M], prefix: PathKey = ()) -> tuple[M | None, list[Issue]]:
    """Validate `doc.data` (or the sub-tree at `prefix`) against `model`."""
    data = doc.data
    for part in prefix:
        data = data[part]
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        issues = []
        for err in exc.errors(include_url=False):
            loc = tuple(err.get("loc", ()))
            path = prefix + _data_path(data, loc)
            code, short = _CODES.get(err["type"], ("PY106", "invalid value"))
            found = err.get("input")
            if err["type"] == "extra_forbidden":
                allowed = _allowed_fields(model, loc[:-1])
                message = f"unknown field '{loc[-1]}'"
                expected = f"one of: {', '.join(allowed)}" if allowed else "no extra fields"
                issues.append(
                    doc.issue(
                        code,
                        path,
                        message,
                        found=repr(loc[-1]),
                        expected=expected,
                        hint="check the spelling; unknown fields are never ignored",
                    )
                )
            elif err["type"] == "missing":
                issues.append(
                    doc.issue(code, path, f"{short}: '{loc[-1]}'", found="nothing", expected=f"a value for '{loc[-1]}'")
                )
            else:
                issues.append(
                    doc.issue(code, path, f"{short}: {err['msg']}", found=_short(found), expected=_expected(dict(err)))
                )
        return None, issues


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _expected(err: dict) -> str:
    ctx = err.get("ctx") or {}
    if "expected" in ctx:
        return str(ctx["expected"])
    if "pattern" in ctx:
        return f"text matching {ctx['pattern']}"
    return err["msg"].lower()


def _allowed_fields(model: type[BaseModel], loc: tuple) -> list[str]:
    """Best effort: the field names of the model found at `loc` (for 'did you mean')."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return []
        current = _inner_model(fields[part].annotation)
        if current is None:
            return []
    fields = getattr(current, "model_fields", None)
    return sorted(fields) if fields else []


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def load_model(path: Path, model: type[M], display: str) -> tuple[M | None, LocatedDoc, list[Issue]]:
    doc = load_yaml(path, display)
    issues = list(doc.issues)
    if doc.data is None:
        if not issues:
            issues.append(
                doc.issue("PY105", (), "file is empty", found="nothing", expected=f"a {model.__name__} mapping")
            )
        return None, doc, issues
    if not isinstance(doc.data, dict):
        issues.append(
            doc.issue(
                "PY106",
                (),
                "the top level must be a mapping",
                found=type(doc.data).__name__,
                expected="key: value pairs",
            )
        )
        return None, doc, issues
    obj, more = validate_model(doc, model)
    return obj, doc, issues + more
