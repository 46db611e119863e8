"""The report as a runner sees it: rendered by a real headless browser at 1280 px.

Debian's ``chromium`` and ``chromium-driver`` driven by selenium (``.ci/run`` installs
them when missing and it can; the test skips, saying why, where they cannot be had).
The page is the sample runner's report (the 100-day run of the sample-runner generator
that tests/test_report.py builds once per session). Checked in the browser's own layout:
no table, figure or the page itself is wider than a 1280 px window (a table scrolling
inside its box counts as too wide), and every figure decodes (``naturalWidth > 0``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_report import shared_root, tiny  # noqa: F401 - the session's tiny runner and report

pytestmark = pytest.mark.slow

WINDOW_PX = 1280

#: Every box the page draws, measured in the browser: (kind, index, right edge,
#: scroll width, client width, natural width of an image or -1).
_MEASURE = """
const out = [];
const boxes = [["table", "div.table"], ["table", "table"], ["image", "img"]];
for (const [kind, sel] of boxes) {
  document.querySelectorAll(sel).forEach((el, i) => {
    const r = el.getBoundingClientRect();
    out.push([kind + " " + sel + " #" + i, r.right, el.scrollWidth, el.clientWidth,
              el.tagName === "IMG" ? (el.complete ? el.naturalWidth : 0) : -1,
              (el.innerText || el.alt || "").slice(0, 60)]);
  });
}
const d = document.documentElement;
return {boxes: out, page_scroll: d.scrollWidth, page_client: d.clientWidth};
"""


def _browser():
    """A headless Chromium at 1280 px, or a skip saying what is missing."""
    webdriver = pytest.importorskip(
        "selenium.webdriver", reason="selenium is not installed (pip install -e '.[test]')")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not chromium or not driver_path:
        pytest.skip("no chromium/chromedriver on PATH: `apt-get install chromium "
                    "chromium-driver` (.ci/run does it when it runs as root)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={WINDOW_PX},900", "--hide-scrollbars"):
        options.add_argument(arg)
    try:
        driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=driver_path),
                                  options=options)
    except Exception as err:  # a browser that cannot start here: say why, do not fail CI
        pytest.skip(f"chromium did not start: {type(err).__name__}: {str(err)[:200]}")
    # the viewport, not the window frame, is 1280 px wide
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": WINDOW_PX, "height": 900, "deviceScaleFactor": 1,
                            "mobile": False})
    return driver


def _measure(page: Path) -> dict:
    driver = _browser()
    try:
        driver.get(page.resolve().as_uri())
        driver.execute_script("return document.fonts ? document.fonts.ready : null")
        return driver.execute_script(_MEASURE)
    finally:
        driver.quit()


def test_the_report_fits_a_1280_px_window_and_every_figure_decodes(tiny):  # noqa: F811
    found = _measure(tiny["out"] / "report.html")
    boxes = found["boxes"]
    assert found["page_client"] == WINDOW_PX
    tables = [b for b in boxes if b[0].startswith("table div")]
    images = [b for b in boxes if b[0].startswith("image")]
    assert len(tables) >= 5 and len(images) >= 5, boxes  # the page really rendered
    too_wide = [b for b in boxes if b[1] > WINDOW_PX + 0.5 or b[2] > b[3] + 1]
    assert not too_wide, f"wider than {WINDOW_PX} px (name, right, scroll, client): {too_wide}"
    broken = [b for b in images if b[4] <= 0]
    assert not broken, f"figures that did not decode: {broken}"
    assert found["page_scroll"] <= WINDOW_PX, "the page scrolls sideways"
