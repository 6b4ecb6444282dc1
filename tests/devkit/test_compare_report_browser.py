"""The comparison report in a real browser (headless Debian Chromium driven by Playwright), from a small synthetic
result set, so it runs in seconds: every chart renders, nothing overflows a 1280 px window, the page fetches
nothing, and it prints to PDF. The screenshot is saved as reports/compare-browser/report.png (path printed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from devkit import paths
from devkit.compare import report
from tests.devkit.compare_sample import sample_results

CHROMIUM = Path("/usr/bin/chromium")
INSTALL = "run `./inv setup` as root, or `sudo apt-get update && sudo apt-get install -y chromium`"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
WIDTH = 1280
CHARTS_PER_PROFILE = 6  # latency, environments, memory, deploy size, IAM breadth, cost


def test_the_report_fits_1280px_renders_every_chart_and_prints(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing, so the report cannot be checked in a browser: {INSTALL}")
    from playwright.sync_api import sync_playwright

    results = sample_results()
    _, page_path = report.write(results, "./inv compare --quick", root=tmp_path)
    shots = paths.ROOT / "reports" / "compare-browser"
    shots.mkdir(parents=True, exist_ok=True)
    screenshot, pdf = shots / "report.png", tmp_path / "report.pdf"
    requested: list[str] = []
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": WIDTH, "height": 900})
            page.on("request", lambda request: requested.append(request.url))
            page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.goto(page_path.as_uri(), wait_until="load")

            sizes = page.eval_on_selector_all(
                "svg.chart", "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.width, r.height] })"
            )
            assert len(sizes) == CHARTS_PER_PROFILE * len(results)
            assert all(w > 100 and h > 50 for w, h in sizes), sizes
            drawn = page.eval_on_selector_all(
                "svg.chart", "els => els.map(e => e.querySelectorAll('path,rect').length)"
            )
            assert all(n > 0 for n in drawn), drawn
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= WIDTH, f"the page is {width} px wide: a horizontal scrollbar at {WIDTH} px"
            wider = page.evaluate(
                f"[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > {WIDTH})"
                ".map(e => e.tagName + '.' + e.className)"
            )
            assert wider == [], f"cut off at the right edge: {wider}"
            tables = page.locator("table.decision")
            assert tables.count() == len(results)
            assert tables.first.locator("td.win").count() >= 6, "a winner in every row"
            page.screenshot(path=str(screenshot), full_page=True)

            page.emulate_media(media="print")
            page.pdf(path=str(pdf), format="A4", landscape=True, print_background=True)
        finally:
            browser.close()

    print(f"\ncompare report screenshot: {screenshot}")
    assert screenshot.stat().st_size > 50_000
    assert pdf.read_bytes().count(b"/Type /Page") >= len(results), "one page (at least) per profile"
    outside = [url for url in requested if not url.startswith(("file://", "data:"))]
    assert outside == [], f"the report fetched from the network: {outside}"
    assert problems == [], f"browser console errors: {problems}"
