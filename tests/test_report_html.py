"""The offline HTML report in a real headless browser (Debian's chromium), driven over the Chrome
DevTools protocol on a pipe (`--remote-debugging-pipe`: NUL-separated JSON on fds 3 and 4; no
websocket, no port, no extra package). Checks: pages load with no console error or exception, no
request leaves file:// (offline), clicking a column header sorts the table, filtering hides rows,
and a screenshot shows the traffic lights in colour.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import io
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from pingyi.report.context import build_contexts
from pingyi.report.html import write_html
from pingyi.report.loader import load_results

FIXTURE = Path(__file__).parent / "fixtures" / "report" / "results"
CHROMIUM = next(
    (
        p
        for p in ("/usr/bin/chromium", shutil.which("chromium") or "", shutil.which("chromium-browser") or "")
        if p and os.access(p, os.X_OK)
    ),
    None,
)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (Debian package `chromium`); "
    "the headless-browser checks of the HTML report need it",
)


class Browser:
    """A minimal CDP client over --remote-debugging-pipe."""

    def __init__(self, user_data_dir: Path, timeout: float = 30.0):
        cmd_r, cmd_w = os.pipe()  # we write commands, chromium reads its fd 3
        out_r, out_w = os.pipe()  # chromium writes its fd 4, we read
        # park the child's ends above any fd the child could clobber, then move them to 3 and 4 in the child
        hi_r, hi_w = fcntl.fcntl(cmd_r, fcntl.F_DUPFD, 100), fcntl.fcntl(out_w, fcntl.F_DUPFD, 100)

        def child():
            os.dup2(hi_r, 3)
            os.dup2(hi_w, 4)

        self.proc = subprocess.Popen(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-extensions",
                "--disable-default-apps",
                "--mute-audio",
                "--hide-scrollbars",
                f"--user-data-dir={user_data_dir}",
                "--remote-debugging-pipe",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(3, 4),
            preexec_fn=child,
        )
        for fd in (cmd_r, out_w, hi_r, hi_w):
            os.close(fd)
        self.w, self.r = cmd_w, out_r
        self.buf = b""
        self.next_id = 0
        self.events: list[dict] = []
        self.timeout = timeout
        self.session = None

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from chromium")
            ready, _, _ = select.select([self.r], [], [], left)
            if ready:
                chunk = os.read(self.r, 1 << 20)
                if not chunk:
                    raise RuntimeError("chromium closed the pipe")
                self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method: str, params: dict | None = None, session: bool = True) -> dict:
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self.w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_event(self, method: str, timeout: float | None = None) -> dict:
        deadline = time.monotonic() + (timeout or self.timeout)
        for i, e in enumerate(self.events):
            if e.get("method") == method:
                return self.events.pop(i)
        while True:
            e = self._read_message(deadline)
            if e.get("method") == method:
                return e
            self.events.append(e)

    def open(self, url: str) -> None:
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True}, session=False)[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1200, "height": 900, "deviceScaleFactor": 1, "mobile": False},
        )
        self.events.clear()
        self.send("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired")

    def evaluate(self, expression: str):
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def problems(self) -> list[str]:
        """Console errors, uncaught exceptions and any request that is not file:, data: or about:."""
        out = []
        for e in self.events:
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.exceptionThrown":
                out.append(f"exception: {p['exceptionDetails'].get('text')}")
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append(f"console.{p['type']}: {p.get('args')}")
            elif m == "Log.entryAdded" and p["entry"].get("level") == "error":
                out.append(f"log: {p['entry'].get('text')}")
            elif m == "Network.requestWillBeSent":
                url = p["request"]["url"]
                if not url.startswith(("file:", "data:", "about:")):
                    out.append(f"network request: {url}")
        return out

    def screenshot(self, path: Path) -> bytes:
        data = base64.b64decode(self.send("Page.captureScreenshot", {"format": "png"})["data"])
        path.write_bytes(data)
        return data

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.send("Browser.close", session=False)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        os.close(self.w)
        os.close(self.r)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    rd = load_results(FIXTURE)
    ctxs = build_contexts(rd.results, quality_rows=rd.quality_rows, rejected_counts=rd.rejected_counts)
    out = tmp_path_factory.mktemp("html")
    write_html(ctxs.cards.values(), ctxs.committee, out)
    return out


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    b = Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield b
    b.close()


def test_index_loads_offline_sorts_and_filters(site, browser):
    browser.open((site / "index.html").as_uri())
    assert browser.problems() == []
    assert browser.evaluate("document.querySelectorAll('#providers tbody tr').length") == 4
    # the hostile name is text, and no script from the data ran
    names = browser.evaluate(
        "Array.from(document.querySelectorAll('#providers tbody tr td:nth-child(3)')).map(td => td.textContent.trim())"
    )
    assert "<script>alert(1)</script>示范医院" in names
    assert browser.evaluate("document.querySelectorAll('#providers tbody script').length") == 0

    def column(i):
        return browser.evaluate(
            f"Array.from(document.querySelectorAll('#providers tbody tr'))"
            f".map(r => r.cells[{i}].getAttribute('data-v') || r.cells[{i}].textContent.trim())"
        )

    # click "total": numeric columns sort descending first, a second click ascending
    browser.evaluate("document.querySelectorAll('#providers thead th')[5].click()")
    totals = [float(x) for x in column(5)]
    assert totals == sorted(totals, reverse=True)
    assert (
        browser.evaluate("document.querySelectorAll('#providers thead th')[5].getAttribute('aria-sort')")
        == "descending"
    )
    browser.evaluate("document.querySelectorAll('#providers thead th')[5].click()")
    totals = [float(x) for x in column(5)]
    assert totals == sorted(totals)
    # the total's percentile among same region-and-level peers: numbers, "—" (no peer) sorts last
    browser.evaluate("document.querySelectorAll('#providers thead th')[6].click()")
    pct = column(6)
    assert [float(x) for x in pct if x != "—"] == [100.0, 0.0] and pct[2:] == ["—", "—"]
    # text column (code)
    browser.evaluate("document.querySelectorAll('#providers thead th')[1].click()")
    assert column(1) == sorted(column(1))
    # filter by text and by grade
    browser.evaluate("const q = document.getElementById('q'); q.value = '杭州'; q.dispatchEvent(new Event('input'))")
    assert (
        browser.evaluate("Array.from(document.querySelectorAll('#providers tbody tr')).filter(r => !r.hidden).length")
        == 1
    )
    browser.evaluate(
        "const q2 = document.getElementById('q'); q2.value = ''; q2.dispatchEvent(new Event('input'));"
        "const g = document.getElementById('f-grade'); g.value = '不合格'; g.dispatchEvent(new Event('change'))"
    )
    assert (
        browser.evaluate("Array.from(document.querySelectorAll('#providers tbody tr')).filter(r => !r.hidden).length")
        == 2
    )
    assert browser.problems() == []


def _colour_pixels(png: bytes) -> dict[str, int]:
    from PIL import Image

    raw = Image.open(io.BytesIO(png)).convert("RGB").tobytes()
    counts = {"red": 0, "green": 0, "yellow": 0}
    for i in range(0, len(raw), 3):
        r, g, b = raw[i], raw[i + 1], raw[i + 2]
        if r > 180 and g < 90 and b < 70:
            counts["red"] += 1
        elif r < 90 and g > 130 and b < 110:
            counts["green"] += 1
        elif r > 200 and 130 < g < 190 and b < 60:
            counts["yellow"] += 1
    return counts


def test_card_loads_offline_and_screenshot_shows_lights(site, browser, tmp_path):
    for card in sorted((site / "cards").glob("*.html")):
        browser.open(card.as_uri())
        assert browser.problems() == [], card.name
    browser.open((site / "cards" / "H51010400003.html").as_uri())
    assert browser.evaluate("document.querySelector('h1').textContent") == '=HYPERLINK("x")'
    assert browser.evaluate("document.querySelectorAll('svg.radar').length") == 1
    browser.evaluate("document.querySelector('.page2').scrollIntoView()")
    shot = browser.screenshot(tmp_path / "card.png")
    counts = _colour_pixels(shot)
    assert counts["red"] > 20 and counts["green"] > 20 and counts["yellow"] > 20, counts
    browser.open((site / "committee.html").as_uri())
    assert browser.problems() == []
    out = os.environ.get("PINGYI_SCREENSHOT_DIR")
    if out:  # keep the screenshot for a human to look at
        Path(out).mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / "card.png", Path(out) / "card-html.png")
