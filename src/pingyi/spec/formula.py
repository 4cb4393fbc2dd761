"""The indicator formula language: small, safe, and evaluated without `eval`.

Grammar (a subset of arithmetic parsed with Python's `ast`, then checked node by node):

    expr   := number | measure | expr (+ - * /) expr | -expr | ( expr ) | func(args)
    func   := prior(measure)        the same measure for the provider's prior year
            | min(e, e, ...) | max(e, e, ...) | abs(e)
    measure:= lower_snake_case name of a measure defined in measures/*.yaml

Anything else (attributes, subscripts, strings, comparisons, other calls, lambdas) is rejected
with the offending text named. Evaluation walks the checked tree; a missing measure or a
division by zero yields None ("insufficient data"), never 0 or infinity.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

FUNCTIONS = {"prior": 1, "min": None, "max": None, "abs": 1}


class FormulaError(ValueError):
    """A formula that is not in the language; `fragment` is the offending text."""

    def __init__(self, message: str, fragment: str | None = None):
        super().__init__(message)
        self.fragment = fragment


class FormulaOverflow(ArithmeticError):
    """A formula's arithmetic left the finite numbers (a measure times 1e308, say)."""


@dataclass(frozen=True)
class Formula:
    text: str
    tree: ast.expr
    measures: frozenset[str]  # current-year measures used
    prior_measures: frozenset[str]  # measures used through prior()

    def evaluate(
        self, current: Mapping[str, float | None], prior: Mapping[str, float | None] | None = None
    ) -> float | None:
        return _Evaluator(current, prior or {}).visit(self.tree)

    def steps(
        self, current: Mapping[str, float | None], prior: Mapping[str, float | None] | None = None
    ) -> list[tuple[str, float | None]]:
        """The formula's intermediate figures, innermost first: every quotient (a cost per stay, a
        share) and every function call, as its own text and value, then the whole formula. What
        `pingyi explain` shows between the measures and the value, so that a reader can recompute
        each step by hand."""
        evaluator = _Evaluator(current, prior or {})
        found: list[tuple[str, float | None]] = []
        seen: set[str] = set()
        for node in _postorder(self.tree):
            if (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div)) or (
                isinstance(node, ast.Call) and node.func.id != "prior"  # type: ignore[attr-defined]
            ):
                text = ast.unparse(node)
                if text not in seen:
                    seen.add(text)
                    found.append((text, evaluator.visit(node)))
        whole = ast.unparse(self.tree)
        if whole not in seen:
            found.append((whole, evaluator.visit(self.tree)))
        return found


def _postorder(node: ast.AST) -> list[ast.AST]:
    out: list[ast.AST] = []
    for child in ast.iter_child_nodes(node):
        out += _postorder(child)
    out.append(node)
    return out


# the probe of `defects`: every measure this large (a province's yearly fund payments in 元 are ~1e11)
PROBE_VALUE = 1e12


def defects(formula: Formula) -> list[str]:
    """Why a formula in the language can still never give a number: a division by a constant 0
    (always undefined), or arithmetic that overflows when every measure is as large as PROBE_VALUE."""
    found = []
    for node in ast.walk(formula.tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            try:
                divisor = _Evaluator({}, {}).visit(node.right) if not _uses_names(node.right) else None
            except FormulaOverflow:
                divisor = None
            if divisor == 0:
                found.append("divides by a constant 0: the value is always undefined")
    names = formula.measures | formula.prior_measures
    for sign in (1, -1):
        values = dict.fromkeys(names, sign * PROBE_VALUE)
        try:
            formula.evaluate(values, values)
        except FormulaOverflow as exc:
            found.append(f"{exc} when every measure is {sign * PROBE_VALUE:g}" if names else str(exc))
            break
    return found


def _uses_names(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Name) for n in ast.walk(node))


def parse(text: str) -> Formula:
    if not isinstance(text, str) or not text.strip():
        raise FormulaError("formula is empty", "")
    try:
        module = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise FormulaError(f"formula is not a valid expression ({exc.msg})", text) from None
    checker = _Checker(text)
    checker.visit(module.body)
    return Formula(
        text=text.strip(),
        tree=module.body,
        measures=frozenset(checker.measures),
        prior_measures=frozenset(checker.prior),
    )


class _Checker:
    def __init__(self, text: str):
        self.text = text
        self.measures: set[str] = set()
        self.prior: set[str] = set()

    def fragment(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.text.strip(), node) or type(node).__name__

    def visit(self, node: ast.AST, in_prior: bool = False) -> None:
        if isinstance(node, ast.BinOp):
            if not isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
                raise FormulaError("only + - * / are allowed", self.fragment(node))
            self.visit(node.left, in_prior)
            self.visit(node.right, in_prior)
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, (ast.USub, ast.UAdd)):
                raise FormulaError("only unary minus is allowed", self.fragment(node))
            self.visit(node.operand, in_prior)
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise FormulaError("only numeric constants are allowed", self.fragment(node))
            if not abs(node.value) <= 1e15:  # NaN and infinity fail too
                # 1e309 parses as infinity; a 5,000-digit integer does not fit a float
                raise FormulaError("a constant must be a finite number below 1e15 in size", self.fragment(node))
        elif isinstance(node, ast.Name):
            if node.id in FUNCTIONS:
                raise FormulaError(f"'{node.id}' is a function; call it with parentheses", node.id)
            if not node.id.islower() or not node.id.replace("_", "a").isalnum() or not node.id.isascii():
                raise FormulaError("measure names are lower_snake_case ASCII", node.id)
            (self.prior if in_prior else self.measures).add(node.id)
        elif isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else None
            if name not in FUNCTIONS:
                raise FormulaError(
                    f"unknown function; allowed: {', '.join(sorted(FUNCTIONS))}", self.fragment(node.func)
                )
            if node.keywords:
                raise FormulaError("keyword arguments are not allowed", self.fragment(node))
            arity = FUNCTIONS[name]
            if arity is not None and len(node.args) != arity:
                raise FormulaError(f"{name}() takes {arity} argument(s), got {len(node.args)}", self.fragment(node))
            if arity is None and len(node.args) < 2:
                raise FormulaError(f"{name}() needs at least 2 arguments", self.fragment(node))
            if name == "prior":
                if in_prior:
                    raise FormulaError("prior() cannot be nested", self.fragment(node))
                if not isinstance(node.args[0], ast.Name):
                    raise FormulaError("prior() takes a measure name", self.fragment(node))
                self.visit(node.args[0], in_prior=True)
            else:
                for arg in node.args:
                    self.visit(arg, in_prior)
        else:
            raise FormulaError(f"'{type(node).__name__}' is not allowed in a formula", self.fragment(node))


class _Evaluator:
    def __init__(self, current: Mapping[str, float | None], prior: Mapping[str, float | None]):
        self.current = current
        self.prior = prior

    def visit(self, node: ast.AST) -> float | None:
        method: Callable[[ast.AST], float | None] = getattr(self, "visit_" + type(node).__name__)
        return method(node)

    def visit_Constant(self, node: ast.Constant) -> float:
        return float(node.value)  # type: ignore[arg-type]  # the checker admits only int and float constants

    def visit_Name(self, node: ast.Name) -> float | None:
        return _number(self.current.get(node.id))

    def visit_UnaryOp(self, node: ast.UnaryOp) -> float | None:
        value = self.visit(node.operand)
        if value is None:
            return None
        return -value if isinstance(node.op, ast.USub) else value

    def visit_BinOp(self, node: ast.BinOp) -> float | None:
        left, right = self.visit(node.left), self.visit(node.right)
        if left is None or right is None:
            return None
        if isinstance(node.op, ast.Add):
            value = left + right
        elif isinstance(node.op, ast.Sub):
            value = left - right
        elif isinstance(node.op, ast.Mult):
            value = left * right
        elif right == 0:
            return None  # no denominator: insufficient data, never infinity
        else:
            value = left / right
        if not math.isfinite(value):
            # an infinity would be scored (red, or "inf % better"); it is a broken formula, not a value
            raise FormulaOverflow(f"formula overflows: {left!r} and {right!r} give {value!r}")
        return value

    def visit_Call(self, node: ast.Call) -> float | None:
        name = node.func.id  # type: ignore[attr-defined]
        if name == "prior":
            return _number(self.prior.get(node.args[0].id))  # type: ignore[attr-defined]
        values = [self.visit(arg) for arg in node.args]
        if any(v is None for v in values):
            return None
        if name == "abs":
            return abs(values[0])  # type: ignore[arg-type]
        return min(values) if name == "min" else max(values)  # type: ignore[type-var]


def _number(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else number
