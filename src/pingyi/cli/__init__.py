"""The `pingyi` command line. It maps errors to exit codes and one-line messages and holds no
domain logic: every command calls one function of pingyi.api.

Exit codes: 0 success, 2 user error (bad project, bad data, bad arguments), 1 internal error.
No traceback is shown unless --debug is given. The mapping happens inside each command (`_guarded`),
so the app behaves the same run as `pingyi`, as `python -m pingyi.cli` or in-process (tests).
"""

from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from pingyi import __version__
from pingyi.errors import IssueList, PingyiError, Severity
from pingyi.files import user_fault

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    help="pingyi (评议): performance scorecards for medical-insurance designated providers.",
)
# no markup and no emoji codes: messages quote input (column names, file names) literally
out = Console(soft_wrap=True, highlight=False, markup=False, emoji=False)
err = Console(stderr=True, soft_wrap=True, highlight=False, markup=False, emoji=False)
_state = {"debug": False}
# click's usage errors pass through to typer, which prints them (exit 2). Typer 0.2x vendors click
# and older releases depend on it: the base class is found from typer's own BadParameter either way.
_PASS_THROUGH: tuple[type[BaseException], ...] = (
    typer.Exit,
    typer.Abort,
    *(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"),
)

F = TypeVar("F", bound=Callable[..., Any])


def _guarded(fn: F) -> F:
    """User errors (PingyiError) -> one line and exit 2; a bug -> one line and exit 1; with --debug the
    exception propagates with its traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except _PASS_THROUGH:
            raise
        except PingyiError as exc:
            if _state["debug"]:
                raise
            err.print(f"error: {exc.message}", markup=False)
            raise typer.Exit(2) from None
        except OSError as exc:
            message = user_fault(exc)
            if _state["debug"] or message is None:
                _bug(exc)
            err.print(f"error: {message}")
            raise typer.Exit(2) from None
        except Exception as exc:  # a bug, not a user mistake
            _bug(exc)

    return wrapper  # type: ignore[return-value]


def _bug(exc: BaseException) -> None:
    if _state["debug"]:
        raise exc
    err.print(
        f"internal error (a bug in pingyi, not in your input): {type(exc).__name__}: {exc}. "
        "Please report it with the output of the same command run with --debug."
    )
    raise typer.Exit(1) from None


def command(group: typer.Typer, name: str | None = None) -> Callable[[F], F]:
    def register(fn: F) -> F:
        group.command(name)(_guarded(fn))
        return fn

    return register


ProjectOpt = typer.Option(None, "--project", "-p", help="Project directory (default: the project shipped with pingyi).")
YearOpt = typer.Option(
    None, help="Evaluation year (default: evaluation_year in policy.yaml, else the only baselines year)."
)
LedgerOpt = typer.Option(None, "--ledger", help="The committee's ledger file (pingyi ledger init).")
ActorOpt = typer.Option(
    os.environ.get("PINGYI_ACTOR") or os.environ.get("USER") or "committee",
    "--actor",
    help="Who does this, for the ledger's audit log (default: $PINGYI_ACTOR, else $USER).",
)
EncodingOpt = typer.Option(
    None, "--encoding", help="Encoding of non-UTF-8 CSV/JSON files: gbk, big5 (default: detected)."
)


def _version(value: bool) -> None:
    if value:
        out.print(f"pingyi {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show Python tracebacks for errors."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    _state["debug"] = debug


def _columns(table: Table, *names: str) -> None:
    """Add columns; a name ending in '>' is right-aligned (numbers)."""
    for name in names:
        right = name.endswith(">")
        table.add_column(name.rstrip(">"), justify="right" if right else "left")


def _print_issues(issues: IssueList) -> None:
    for issue in issues.sorted():
        style = "red" if issue.severity is Severity.ERROR else "yellow"
        err.print(issue.render(), style=style, markup=False)


# the commands register on `app` when their modules are imported, in the order `pingyi --help` lists them
for _module in ("project", "evaluate", "baselines", "monitor", "disputes", "compare", "uncertainty", "share", "cycle"):
    importlib.import_module(f"pingyi.cli.{_module}")


def main() -> None:
    """Console-script entry point (typer's standalone mode turns usage errors into exit 2)."""
    app()
