"""The jinja2 environment of the report templates (autoescape on for every template, sandboxed).

Templates are looked up in `--templates DIR` first, then in the shipped `reports/templates/`, so a
committee can override one file (say `card.html`) and keep the others. A template is a file someone
hands the committee, so it runs in jinja2's sandbox: it reads the context's values and cannot reach
Python internals (`cycler.__init__.__globals__.os` ...). A template that tries, has a syntax error or
uses a value the context does not have is a user error naming the template file and line.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path
from types import TracebackType
from typing import Any

import jinja2
import jinja2.sandbox

from pingyi.errors import PingyiError
from pingyi.report.card_layout import card_parts
from pingyi.report.charts import hbar_svg, radar_svg
from pingyi.report.textmetrics import clip

TEMPLATE_NAMES = (
    "card.html",
    "card.css",
    "committee.html",
    "committee.css",
    "index.html",
    "_macros.html",
    "_corrections.html",
)


def default_templates_dir() -> Path:
    """reports/templates inside the wheel (pingyi/default_project/reports/templates) or the checkout."""
    packaged = Path(str(importlib.resources.files("pingyi"))) / "default_project" / "reports" / "templates"
    if (packaged / "card.html").is_file():
        return packaged
    repo = Path(__file__).resolve().parents[3] / "reports" / "templates"
    if (repo / "card.html").is_file():
        return repo
    raise PingyiError("the report templates are missing from this installation (expected reports/templates/card.html)")


def template_dirs(templates: Path | str | None) -> list[Path]:
    dirs = []
    if templates is not None:
        t = Path(templates)
        if not t.is_dir():
            raise PingyiError(
                f"--templates {t}: not a directory; expected a directory with copies of "
                f"{', '.join(TEMPLATE_NAMES[:3])} ..."
            )
        dirs.append(t)
    dirs.append(default_templates_dir())
    return dirs


def make_env(templates: Path | str | None = None) -> jinja2.Environment:
    env = jinja2.sandbox.SandboxedEnvironment(
        loader=jinja2.FileSystemLoader([str(d) for d in template_dirs(templates)]),
        autoescape=True,  # every template, whatever its extension: data never becomes markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(radar_svg_of=radar_svg, hbar_svg=hbar_svg, funnel_svg=_funnel_markup)
    env.filters["clip"] = clip  # text cut to n lines of a width: {{ text|clip(width_mm, size_pt, lines, lang) }}
    return env


def render_card(
    env: jinja2.Environment,
    ctx: dict,
    medium: str,
    index_href: str | None = None,
    external_css: bool = False,
    fit: int = 0,
) -> str:
    """The card's HTML. `external_css`: leave out the <style> element (the PDF renderer passes the same
    stylesheet, parsed once per process, to weasyprint; see card_css()). `fit`: card_layout.FIT_LEVELS."""
    return render(
        env,
        "card.html",
        ctx,
        medium=medium,
        parts=card_parts(ctx, medium, fit),
        index_href=index_href,
        external_css=external_css,
    )


def card_css(env: jinja2.Environment, light_colours: dict) -> str:
    """The card's stylesheet as card.html embeds it (card.css is a template of the light colours)."""
    return render(env, "card.css", light_colours=light_colours)


def render_committee(env: jinja2.Environment, ctx: dict, medium: str = "pdf") -> str:
    return render(env, "committee.html", ctx, medium=medium)


def render(env: jinja2.Environment, name: str, *args: Any, **kwargs: Any) -> str:
    """Template `name` rendered; a template's own fault (syntax, a value the context lacks, reaching for
    Python internals in the sandbox) is a PingyiError at the template's file and line."""
    try:
        return env.get_template(name).render(*args, **kwargs)
    except jinja2.TemplateSyntaxError as exc:
        raise PingyiError(
            f"{exc.filename or exc.name or name}:{exc.lineno}: template syntax error ({exc.message}); "
            "expected a jinja2 template (compare with the shipped reports/templates/" + name + ")"
        ) from None
    except jinja2.exceptions.SecurityError as exc:
        reason = str(exc).rstrip(".")
        raise PingyiError(
            f"{_where(env, exc.__traceback__, name)}: template tries to reach Python internals ({reason}); "
            f"expected only the context values pingyi passes to {name} (the sandbox refuses the rest)"
        ) from None
    except jinja2.UndefinedError as exc:
        raise PingyiError(
            f"{_where(env, exc.__traceback__, name)}: the template uses a value the context does not have "
            f"({exc.message}); expected only the context values pingyi passes to {name}"
        ) from None
    except jinja2.TemplateNotFound as exc:
        raise PingyiError(
            f"{_where(env, exc.__traceback__, name)}: template {exc.name!r} not found in "
            f"{', '.join(_searchpath(env))}; expected one of {', '.join(TEMPLATE_NAMES)}"
        ) from None


def _searchpath(env: jinja2.Environment) -> list[str]:
    loader = env.loader
    return [str(d) for d in loader.searchpath] if isinstance(loader, jinja2.FileSystemLoader) else []


def _where(env: jinja2.Environment, tb: TracebackType | None, name: str) -> str:
    """`file:line` of the innermost template frame of a render-time error (jinja2 rewrites the
    traceback so that a template's frames carry its file name and template line), else the name."""
    dirs = [Path(d).resolve() for d in _searchpath(env)]
    where = name
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        path = Path(filename)
        if filename.endswith((".html", ".css")) and any(path.resolve().is_relative_to(d) for d in dirs):
            where = f"{filename}:{tb.tb_lineno}"
        tb = tb.tb_next
    return where


def _funnel_markup(funnel, lang: str = "zh"):
    """A funnel plot as markup: funnel_svg escapes every text it draws."""
    from markupsafe import Markup

    from pingyi.report.funnel_svg import funnel_svg

    return Markup(funnel_svg(funnel, lang=lang))
