"""Load a local page in Debian's headless Chromium over the Chrome DevTools Protocol, with only
`websockets` (its sync client) and the standard library: what went wrong on the page (uncaught
exceptions, console errors, failed loads), a value the page computes, and a full-page PNG.

The network is blocked (no name resolves, every proxied request goes to a closed port), so a
page that fetches anything from the network reports it as an error.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import math
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from websockets.sync.client import connect

BROWSERS = ("chromium-headless-shell", "chromium")
BLOCK_NETWORK = ("--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9")
LISTENING = "DevTools listening on "


@dataclass(frozen=True)
class PageCheck:
    """What one page load showed."""

    errors: tuple[str, ...]  # uncaught exceptions, console.error calls, failed loads
    value: object  # `expression`, evaluated once the page had loaded (returnByValue)
    screenshot: bytes | None  # the full page, PNG, when asked


def find_browser() -> str | None:
    """The path of chromium-headless-shell, else of chromium, else None."""
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def check_page(path: Path, expression: str, screenshot: bool = False, width: int = 1200,
               timeout_s: float = 60) -> PageCheck:
    """Open `path` (a local file) at `width` CSS pixels, wait for its load event, evaluate
    `expression` and, if asked, capture the whole page. Every wait is bounded by timeout_s
    (TimeoutError past it); a browser that does not start, or an expression that throws, is a
    RuntimeError."""
    browser = find_browser()
    if browser is None:
        raise RuntimeError(f"no headless Chromium on PATH (looked for {', '.join(BROWSERS)})")
    deadline = time.monotonic() + timeout_s
    with tempfile.TemporaryDirectory(prefix="chromium-", ignore_cleanup_errors=True) as tmp:
        args = [browser, "--no-sandbox", "--disable-gpu", "--remote-debugging-port=0",
                f"--user-data-dir={tmp}/profile", *BLOCK_NETWORK, "about:blank"]
        if Path(browser).name == "chromium":
            args.insert(1, "--headless")
        log = Path(tmp) / "stderr.log"
        with log.open("wb") as stderr:  # a file, not a pipe: a chatty browser never blocks
            proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=stderr, start_new_session=True)
        try:
            url = _devtools_url(proc, log, deadline)
            with connect(url, max_size=None, open_timeout=_left(deadline)) as ws:
                return _Page(ws, deadline).check(path, expression, screenshot, width)
        finally:
            with contextlib.suppress(ProcessLookupError):  # none left to kill
                os.killpg(proc.pid, signal.SIGKILL)  # the browser and every child it started
            proc.wait(timeout=10)


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("the browser did not finish in time")
    return left


def _devtools_url(proc: subprocess.Popen, log: Path, deadline: float) -> str:
    """The browser's websocket URL, from the line it prints on stderr once it listens."""
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        if LISTENING in text:
            return text.split(LISTENING, 1)[1].split()[0]
        if proc.poll() is not None:
            raise RuntimeError(f"the browser exited ({proc.returncode}) before it listened:\n"
                               f"{text[-2000:]}")
        time.sleep(0.05)
    raise RuntimeError(f"the browser did not start within the timeout:\n"
                       f"{log.read_text(errors='replace')[-2000:]}")


class _Page:
    """One page target, driven through a flattened session on the browser's websocket."""

    def __init__(self, ws, deadline: float) -> None:
        self.ws, self.deadline = ws, deadline
        self.ids = itertools.count(1)
        self.session: str | None = None
        self.events: list[dict] = []

    def _recv(self) -> dict:
        return json.loads(self.ws.recv(timeout=_left(self.deadline)))

    def call(self, method: str, **params) -> dict:
        """Send a command and return its result; events that arrive meanwhile are kept."""
        n = next(self.ids)
        message = {"id": n, "method": method, "params": params}
        if self.session:
            message["sessionId"] = self.session
        self.ws.send(json.dumps(message))
        while (reply := self._recv()).get("id") != n:
            self.events.append(reply)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply["result"]

    def wait_for_load(self, url: str) -> None:
        """Until the load event that follows the main frame's navigation to `url`."""
        navigated, seen = False, 0
        while True:
            if seen == len(self.events):
                self.events.append(self._recv())
            event, seen = self.events[seen], seen + 1
            frame = event.get("params", {}).get("frame", {})
            if event.get("method") == "Page.frameNavigated" and not frame.get("parentId"):
                navigated = frame.get("url") == url
            elif event.get("method") == "Page.loadEventFired" and navigated:
                return

    def check(self, path: Path, expression: str, screenshot: bool, width: int) -> PageCheck:
        """Open a new tab, load the page in it, then evaluate and (if asked) capture it."""
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target,
                                 flatten=True)["sessionId"]
        for domain in ("Runtime", "Log", "Page"):
            self.call(f"{domain}.enable")
        self._viewport(width, 800)
        url = path.resolve().as_uri()
        self.call("Page.navigate", url=url)
        self.wait_for_load(url)
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression!r} threw: {_exception(result['exceptionDetails'])}")
        png = None
        if screenshot:
            height = self.call("Page.getLayoutMetrics")["cssContentSize"]["height"]
            self._viewport(width, max(1, math.ceil(height)))
            png = base64.b64decode(self.call("Page.captureScreenshot", format="png",
                                             captureBeyondViewport=True)["data"])
        return PageCheck(_errors(self.events), result["result"].get("value"), png)

    def _viewport(self, width: int, height: int) -> None:
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=1, mobile=False)


def _exception(details: dict) -> str:
    return details.get("exception", {}).get("description") or details.get("text", "")


def _errors(events: list[dict]) -> tuple[str, ...]:
    """The page's errors, in the order they happened (a blocked fetch shows as a Log entry:
    "Failed to load resource: net::ERR_PROXY_CONNECTION_FAILED (url)")."""
    found = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            found.append(_exception(params["exceptionDetails"]))
        elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            found.append("console.error: " + " ".join(
                str(arg.get("value", arg.get("description", ""))) for arg in params["args"]))
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            entry = params["entry"]
            found.append(f"{entry['text']} ({entry.get('url', '')})")
    return tuple(found)
