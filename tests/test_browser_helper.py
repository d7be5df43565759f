"""The headless-Chromium helper (tests/browser.py) itself, on tiny pages: it sees what a page
computes, the errors a page makes (exceptions, blocked network loads) and the whole page."""

import struct
import time

import pytest

from tests import browser
from tests.browser import check_page, find_browser


@pytest.fixture
def page(tmp_path):
    """Write an HTML page into tmp_path and return its path; skip when there is no browser."""
    if find_browser() is None:
        pytest.skip("no headless Chromium on PATH: apt-get install chromium-headless-shell")

    def write(body: str):
        path = tmp_path / "page.html"
        path.write_text(f"<!doctype html><html><body>{body}</body></html>")
        return path

    return write


def test_a_clean_page_reports_its_value_and_no_errors(page):
    path = page("<svg width='100' height='50'><rect width='80' height='40'/></svg>"
                "<script>document.title = 'drawn'</script>")
    check = check_page(path, "[document.querySelectorAll('svg').length, document.title]")
    assert check.errors == ()
    assert check.value == [1, "drawn"]
    assert check.screenshot is None


def test_an_uncaught_exception_is_an_error(page):
    check = check_page(page("<script>throw new TypeError('plot has no data')</script>"), "1")
    assert any("TypeError: plot has no data" in e for e in check.errors), check.errors


def test_a_console_error_is_an_error(page):
    check = check_page(page("<script>console.error('bad axis', 3)</script>"), "1")
    assert check.errors == ("console.error: bad axis 3",)


def test_a_network_load_fails_and_is_an_error(page):
    check = check_page(page("<img src='https://example.com/x.png'>"), "1")
    assert any("Failed to load resource: net::ERR_" in e and "https://example.com/x.png" in e
               for e in check.errors), check.errors


def test_the_screenshot_is_a_png_of_the_whole_page(page):
    path = page("<div style='height: 2500px; background: teal'>tall</div>")
    check = check_page(path, "document.documentElement.scrollHeight", screenshot=True, width=900)
    png = check.screenshot
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    assert check.value >= 2500
    assert width == 900 and height >= check.value


def test_a_page_that_never_loads_times_out(page):
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        check_page(page("<script>while (true) {}</script>"), "1", timeout_s=3)
    assert time.monotonic() - start < 15


def test_a_browser_that_does_not_start_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(browser, "find_browser", lambda: "/bin/false")
    with pytest.raises(RuntimeError, match="browser exited"):
        check_page(tmp_path / "none.html", "1", timeout_s=5)
