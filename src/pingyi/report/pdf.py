"""PDF rendering with weasyprint: provider cards (in parallel worker processes) and the committee report.

Each worker process builds the jinja environment, one weasyprint FontConfiguration and the card's parsed
stylesheet once and reuses them for every card it renders. A card is one A4 page built for weasyprint's
costs (see reports/templates/card.css and textgrid.py): one font face, few boxes, dense tables as
pre-formatted text. PDFs carry no creation or modification date and no random file identifier, so the
same context gives the same bytes.
"""

from __future__ import annotations

import multiprocessing
import os
import re
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from pingyi.report.labels import LIGHT_COLOURS
from pingyi.report.templates import card_css, make_env, render_card, render_committee

SAFE = re.compile(r"[^A-Za-z0-9_.-]")


def safe_filename(code: str) -> str:
    """A provider code as a file name (codes come from input data: no path separators survive)."""
    name = SAFE.sub("_", code).strip(".") or "provider"
    return name[:120]


@dataclass(frozen=True)
class RenderedFile:
    code: str
    path: Path
    pages: int


class PdfRenderer:
    """Renders card and committee HTML to PDF; keep one per process: the fonts are configured once and
    the card's stylesheet is parsed once (weasyprint CSS object) and passed to every card."""

    def __init__(self, templates: Path | str | None = None):
        from weasyprint.text.fonts import FontConfiguration

        self.env = make_env(templates)
        self.font_config = FontConfiguration()
        self._card_css: dict[tuple, object] = {}

    def write(self, html: str, path: Path, stylesheets: list | None = None) -> int:
        from weasyprint import HTML

        doc = HTML(string=html, base_url=None).render(font_config=self.font_config, stylesheets=stylesheets)
        path.parent.mkdir(parents=True, exist_ok=True)
        doc.write_pdf(str(path), font_config=self.font_config)
        return len(doc.pages)

    def card_stylesheet(self, light_colours: dict):
        key = tuple(sorted(light_colours.items()))
        css = self._card_css.get(key)
        if css is None:
            from weasyprint import CSS

            css = self._card_css[key] = CSS(string=card_css(self.env, dict(light_colours)), font_config=self.font_config)
        return css

    def card(self, ctx: dict, path: Path) -> int:
        css = self.card_stylesheet(ctx.get("light_colours") or LIGHT_COLOURS)
        return self.write(render_card(self.env, ctx, "pdf", external_css=True), path, [css])

    def committee(self, ctx: dict, path: Path) -> int:
        return self.write(render_committee(self.env, ctx, "pdf"), path)


_worker: PdfRenderer | None = None


def _init_worker(templates: str | None) -> None:
    global _worker
    _worker = PdfRenderer(templates)


def _render_one(ctx: dict, path: str) -> tuple[str, str, int]:
    assert _worker is not None
    return ctx["provider"]["code"], path, _worker.card(ctx, Path(path))


def available_cpus() -> int:
    """CPUs this process may run on (a container's or taskset's limit, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def card_path(out_dir: Path, ctx: dict) -> Path:
    return Path(out_dir) / f"{safe_filename(ctx['provider']['code'])}.pdf"


def render_cards(contexts: Iterable[dict], out_dir: Path, *, templates: Path | str | None = None, workers: int = 0,
                 progress: Callable[[RenderedFile], None] | None = None) -> list[RenderedFile]:
    """Render every card to out_dir/<code>.pdf. workers: processes (0 = one per available CPU, 1 = in this
    process)."""
    contexts = list(contexts)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    workers = workers or available_cpus()
    workers = max(1, min(workers, len(contexts) or 1))
    done: list[RenderedFile] = []
    if workers == 1:
        renderer = PdfRenderer(templates)
        for ctx in contexts:
            path = card_path(out_dir, ctx)
            item = RenderedFile(ctx["provider"]["code"], path, renderer.card(ctx, path))
            done.append(item)
            if progress:
                progress(item)
        return done
    tdir = None if templates is None else str(templates)
    # spawn, not fork: the parent may hold threads (the progress bar) and an initialised Pango/fontconfig
    # (the committee PDF), neither of which survives fork() reliably; each worker starts clean.
    ctx_mp = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx_mp, initializer=_init_worker,
                             initargs=(tdir,)) as pool:
        futures = [pool.submit(_render_one, ctx, str(card_path(out_dir, ctx))) for ctx in contexts]
        for fut in as_completed(futures):
            code, path, pages = fut.result()
            item = RenderedFile(code, Path(path), pages)
            done.append(item)
            if progress:
                progress(item)
    order = {ctx["provider"]["code"]: i for i, ctx in enumerate(contexts)}
    return sorted(done, key=lambda r: order[r.code])


def render_committee_pdf(ctx: dict, path: Path, *, templates: Path | str | None = None) -> RenderedFile:
    renderer = PdfRenderer(templates)
    return RenderedFile("committee", Path(path), renderer.committee(ctx, Path(path)))
