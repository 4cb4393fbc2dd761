"""The jinja2 environment of the report templates (autoescape on for every template).

Templates are looked up in `--templates DIR` first, then in the shipped `reports/templates/`, so a
committee can override one file (say `card.html`) and keep the others.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import jinja2

from pingyi.errors import PingyiError
from pingyi.report.card_layout import card_parts
from pingyi.report.charts import hbar_svg, radar_svg
from pingyi.report.textmetrics import clip

TEMPLATE_NAMES = ("card.html", "card.css", "committee.html", "committee.css", "index.html", "_macros.html")


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
    env = jinja2.Environment(
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
    return env.get_template("card.html").render(
        ctx, medium=medium, parts=card_parts(ctx, medium, fit), index_href=index_href, external_css=external_css
    )


def card_css(env: jinja2.Environment, light_colours: dict) -> str:
    """The card's stylesheet as card.html embeds it (card.css is a template of the light colours)."""
    return env.get_template("card.css").render(light_colours=light_colours)


def render_committee(env: jinja2.Environment, ctx: dict, medium: str = "pdf") -> str:
    return env.get_template("committee.html").render(ctx, medium=medium)


def _funnel_markup(funnel, lang: str = "zh"):
    """A funnel plot as markup: funnel_svg escapes every text it draws."""
    from markupsafe import Markup

    from pingyi.report.funnel_svg import funnel_svg

    return Markup(funnel_svg(funnel, lang=lang))
