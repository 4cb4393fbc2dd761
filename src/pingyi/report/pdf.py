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
import zlib
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pingyi.report.card_layout import FIT_LEVELS
from pingyi.report.labels import LIGHT_COLOURS
from pingyi.report.templates import card_css, make_env, render_card, render_committee

SAFE = re.compile(r"[^A-Za-z0-9_.-]")


def safe_filename(code: str) -> str:
    """A provider code as a file name (codes come from input data: no path separators survive)."""
    name = SAFE.sub("_", code).strip(".") or "provider"
    return name[:120]


ZLIB_LEVEL = 6


class _LevelZlib:
    """zlib for pydyf with another default level. pydyf compresses every PDF stream at level 9; on a card
    (mostly the embedded CJK font subset) level 6 gives the same size (within 1 %) in about two thirds of
    the time, which is about 10 % of a card's CPU time."""

    def __init__(self, level: int):
        self.level = level

    def compressobj(self, level: int = -1, *args, **kwargs):
        return zlib.compressobj(self.level, *args, **kwargs)

    def compress(self, data, level: int = -1):
        return zlib.compress(data, self.level)

    def __getattr__(self, name):
        return getattr(zlib, name)


@contextmanager
def _zlib_level(level: int = ZLIB_LEVEL):
    """pydyf's zlib at `level` while a PDF is written, and only then (pydyf imports zlib as a module; if a
    pydyf version does not, nothing changes)."""
    import pydyf

    if getattr(pydyf, "zlib", None) is not zlib:
        yield
        return
    pydyf.zlib = _LevelZlib(level)
    try:
        yield
    finally:
        pydyf.zlib = zlib


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
        self.last_fit = 0

    def layout(self, html: str, stylesheets: list | None = None):
        from weasyprint import HTML

        return HTML(string=html, base_url=None).render(font_config=self.font_config, stylesheets=stylesheets)

    def write(self, doc, path: Path) -> int:
        """Write a laid-out document; returns its number of pages."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with _zlib_level():
            doc.write_pdf(str(path))  # fonts were configured at render(); write_pdf takes no font_config
        return len(doc.pages)

    def card_stylesheet(self, light_colours: dict):
        key = tuple(sorted(light_colours.items()))
        css = self._card_css.get(key)
        if css is None:
            from weasyprint import CSS

            css = self._card_css[key] = CSS(
                string=card_css(self.env, dict(light_colours)), font_config=self.font_config
            )
        return css

    def card(self, ctx: dict, path: Path) -> int:
        """One page: a card that would run onto a second page is laid out again with less of its long
        texts (card_layout.FIT_LEVELS); only the tightest level may still take two pages."""
        css = self.card_stylesheet(ctx.get("light_colours") or LIGHT_COLOURS)
        for fit in range(len(FIT_LEVELS)):
            doc = self.layout(render_card(self.env, ctx, "pdf", external_css=True, fit=fit), [css])
            if len(doc.pages) == 1:
                break
        self.last_fit = fit  # for tests: how far the last card was trimmed
        return self.write(doc, path)

    def committee(self, ctx: dict, path: Path) -> int:
        return self.write(self.layout(render_committee(self.env, ctx, "pdf")), path)


_worker: PdfRenderer | None = None


def _init_worker(templates: str | None) -> None:
    global _worker
    _worker = PdfRenderer(templates)


def _render_one(ctx: dict, path: str) -> tuple[str, str, int]:
    assert _worker is not None
    return ctx["provider"]["code"], path, _worker.card(ctx, Path(path))


def _render_committee(ctx: dict, path: str) -> tuple[str, str, int]:
    assert _worker is not None
    return "committee", path, _worker.committee(ctx, Path(path))


def available_cpus() -> int:
    """CPUs this process may run on (a container's or taskset's limit, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def card_path(out_dir: Path, ctx: dict) -> Path:
    return Path(out_dir) / f"{safe_filename(ctx['provider']['code'])}.pdf"


def render_cards(
    contexts: Iterable[dict],
    out_dir: Path,
    *,
    templates: Path | str | None = None,
    workers: int = 0,
    progress: Callable[[RenderedFile], None] | None = None,
) -> list[RenderedFile]:
    """Render every card to out_dir/<code>.pdf. workers: processes (0 = one per available CPU, 1 = in this
    process)."""
    return render_pdfs(contexts, out_dir, templates=templates, workers=workers, progress=progress)[0]


def render_pdfs(
    contexts: Iterable[dict],
    out_dir: Path,
    *,
    committee: tuple[dict, Path] | None = None,
    templates: Path | str | None = None,
    workers: int = 0,
    progress: Callable[[RenderedFile], None] | None = None,
    committee_done: Callable[[RenderedFile], None] | None = None,
) -> tuple[list[RenderedFile], RenderedFile | None]:
    """The cards (out_dir/<code>.pdf) and, given `committee` = (context, path), the committee report, in
    the same worker processes: the committee report (a long document for a province) is the first job,
    so it runs beside the cards instead of before them. Returns (cards in input order, committee)."""
    contexts = list(contexts)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    workers = workers or available_cpus()
    workers = max(1, min(workers, len(contexts) + (committee is not None) or 1))
    done: list[RenderedFile] = []
    report: RenderedFile | None = None
    if workers == 1:
        renderer = PdfRenderer(templates)
        if committee is not None:
            report = RenderedFile("committee", Path(committee[1]), renderer.committee(committee[0], Path(committee[1])))
            if committee_done:
                committee_done(report)
        for ctx in contexts:
            path = card_path(out_dir, ctx)
            item = RenderedFile(ctx["provider"]["code"], path, renderer.card(ctx, path))
            done.append(item)
            if progress:
                progress(item)
        return done, report
    tdir = None if templates is None else str(templates)
    # spawn, not fork: the parent may hold threads (the progress bar) and an initialised Pango/fontconfig,
    # neither of which survives fork() reliably; each worker starts clean.
    ctx_mp = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx_mp, initializer=_init_worker, initargs=(tdir,)
    ) as pool:
        futures = []
        if committee is not None:
            futures.append(pool.submit(_render_committee, committee[0], str(committee[1])))
        futures += [pool.submit(_render_one, ctx, str(card_path(out_dir, ctx))) for ctx in contexts]
        first = futures[0] if committee is not None else None
        try:
            for fut in as_completed(futures):
                code, written, pages = fut.result()  # a worker's PingyiError (a bad template) is raised here
                item = RenderedFile(code, Path(written), pages)
                if fut is first:
                    report = item
                    if committee_done:
                        committee_done(item)
                    continue
                done.append(item)
                if progress:
                    progress(item)
        except BaseException:
            for fut in futures:  # the pool's exit would otherwise wait for every card left to render
                fut.cancel()
            raise
    order = {ctx["provider"]["code"]: i for i, ctx in enumerate(contexts)}
    return sorted(done, key=lambda r: order[r.code]), report


def render_committee_pdf(ctx: dict, path: Path, *, templates: Path | str | None = None) -> RenderedFile:
    renderer = PdfRenderer(templates)
    return RenderedFile("committee", Path(path), renderer.committee(ctx, Path(path)))
