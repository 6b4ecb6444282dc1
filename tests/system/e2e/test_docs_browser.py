"""Swagger UI in a real browser: the fat API's /docs, opened in headless Debian Chromium driven by Playwright.

The page must load with nothing from outside the API (no CDN), list every documented operation, and run one
"Try it out" → Execute against the API itself. A screenshot is saved in the test's tmp dir (its path is printed).
Chromium comes from Debian (`./inv setup` installs it as root); Playwright's own browser download is never used.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devkit import paths
from tests.support import Stack

pytestmark = pytest.mark.local_only  # FatApi's URL comes from the local cloud

CHROMIUM = Path("/usr/bin/chromium")
INSTALL = "run `./inv setup` as root, or `sudo apt-get update && sudo apt-get install -y chromium`"
# Headless on a machine without outside network: no background/update/sync traffic, no QUIC, no sandbox (root).
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 30_000
# The operation "Try it out" runs: public, no side effects.
TAG, OPERATION_ID, PATH = "currency", "list_currencies", "/currencies"


def documented_operations() -> int:
    document = json.loads((paths.ROOT / "openapi.json").read_text())
    methods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    return sum(1 for item in document["paths"].values() for method in item if method in methods)


def test_swagger_ui_lists_every_operation_and_runs_try_it_out(stack: Stack, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing, so Swagger UI cannot be checked in a browser: {INSTALL}")
    from playwright.sync_api import sync_playwright

    base = stack.urls["FatApi"]
    screenshot = tmp_path / "swagger-ui.png"
    requested: list[str] = []
    problems: list[str] = []
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            user_data_dir=str(tmp_path / "chromium-profile"),  # fresh and empty
            executable_path=str(CHROMIUM),
            headless=True,
            args=FLAGS,
            viewport={"width": 1280, "height": 2000},
        )
        try:
            page = context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            page.on("request", lambda request: requested.append(request.url))
            page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda error: problems.append(str(error)))

            response = page.goto(f"{base}/docs", wait_until="load")
            assert response is not None and response.status == 200

            # Every documented operation is listed (one .opblock per method and path).
            page.wait_for_selector(".opblock", state="attached")
            page.wait_for_function(f"document.querySelectorAll('.opblock').length >= {documented_operations()}")
            assert page.locator(".opblock").count() == documented_operations()
            assert "Rust on AWS Lambda reference API" in page.locator(".info .title").inner_text()

            # Try it out → Execute on a public GET; Swagger UI shows the live response's code.
            operation = page.locator(f"#operations-{TAG}-{OPERATION_ID}")
            operation.locator(".opblock-summary").click()
            operation.locator("button.try-out__btn").click()
            operation.locator("button.execute").click()
            status = operation.locator(".live-responses-table .response .response-col_status")
            status.first.wait_for(state="visible")
            assert status.first.inner_text().strip() == "200"
            assert f"{base}{PATH}" in operation.locator(".request-url").inner_text()

            page.screenshot(path=str(screenshot), full_page=False)
        finally:
            context.close()

    print(f"\nSwagger UI screenshot: {screenshot}")
    assert screenshot.stat().st_size > 10_000
    outside = [url for url in requested if not url.startswith(base) and not url.startswith("data:")]
    assert outside == [], f"the page fetched from outside the API (CDN?): {outside}"
    assert f"{base}/openapi.json" in requested
    assert problems == [], f"browser console errors (CSP?): {problems}"
