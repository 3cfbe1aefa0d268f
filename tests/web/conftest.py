"""Fixtures of the dashboard tests: a live server and headless Chromium for the
browser tests (``live.py``); the Flask test client ones come from tests/conftest.py."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.web import live

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
#: Seconds a page may take to show what a test expects. Pages answer in well under
#: one; the margin is for a machine busy with other test workers.
PATIENCE = 15


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[live.Server]:
    yield from live.start_server(tmp_path_factory.mktemp("live"))


@pytest.fixture(scope="session")
def swatches() -> Iterator[str]:
    yield from live.start_swatch_server()


@pytest.fixture(scope="session")
def photos(server: live.Server, swatches: str) -> str:
    """A project whose item keys are image URLs."""
    with server.api() as api:
        return live.swatch_project(api, swatches)


@pytest.fixture(scope="session")
def bluebirds(server: live.Server) -> str:
    with server.api() as api:
        name = live.dataset_project(api, "bluebirds")
    if name is None:
        pytest.skip(f"shared dataset 'bluebirds' is not in {live.DATASETS} (set QC_DATASETS)")
    return name


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.skip("Chromium is not installed (apt-get install chromium; .ci/run does)")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=PATIENCE * 1000)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server: live.Server):
    """A fresh browser profile (no cookies) whose script errors fail the test."""
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(PATIENCE * 1000)
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    yield tab
    context.close()
    assert not errors, f"the page logged errors: {errors}"


def screenshot(tab, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    tab.screenshot(path=str(path), full_page=True)
    return path
