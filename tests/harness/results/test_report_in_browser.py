"""A run's report.html in a real browser (Debian's headless Chromium): it loads offline with
no script error or failed fetch, and every plot is drawn at a visible size."""

import struct

import pytest

from tests.browser import check_page, find_browser
from tests.harness.results.conftest import run_fake_server

pytestmark = pytest.mark.skipif(
    find_browser() is None,
    reason="no headless Chromium: apt-get install chromium-headless-shell (.ci/run does)")

# Each plot as the browser laid it out: its width and height in CSS pixels.
PLOT_SIZES = ("JSON.stringify([...document.querySelectorAll('figure svg')]"
              ".map(e => [e.getBoundingClientRect().width, e.getBoundingClientRect().height]))")
# Text and marks drawn inside the plots (not blank boxes): SVG paths and text per plot.
PLOT_MARKS = ("JSON.stringify([...document.querySelectorAll('figure svg')]"
              ".map(e => e.querySelectorAll('path, use, image').length))")


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", png[16:24])


@pytest.fixture(scope="module")
def server_report(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser")
    res = run_fake_server(root)
    assert res.returncode == 0, res.stderr
    return root / "runs" / "Server" / "performance" / "run_1" / "report.html"


def test_report_loads_without_errors_and_draws_every_plot(server_report):
    import json

    page = check_page(server_report, PLOT_SIZES, screenshot=True)
    assert page.errors == ()
    sizes = json.loads(page.value)
    assert len(sizes) == server_report.read_text().count("<svg") == 5
    assert all(w >= 300 and h >= 150 for w, h in sizes), sizes
    marks = json.loads(check_page(server_report, PLOT_MARKS).value)
    assert all(n >= 10 for n in marks), marks  # axes, ticks, curves: drawn, not empty
    width, height = _png_size(page.screenshot)
    assert width >= 800 and height >= sum(h for _, h in sizes)  # the whole page, plots too


def test_a_page_that_fetches_shows_as_an_error(tmp_path):
    """The check can fail: a report that loaded anything from the network would."""
    page = tmp_path / "fetches.html"
    page.write_text("<!doctype html><img src='https://cdn.example.com/plot.png'>"
                    "<script>undefinedFunction()</script>")
    errors = check_page(page, "1").errors
    assert any("undefinedFunction" in e for e in errors), errors
    assert any("ERR_" in e for e in errors), errors
