"""The API's docs in a real browser with no internet: /docs (Swagger UI) and /redoc render
from the API's own assets. Every request to a host other than the API is aborted, and
counted: there must be none. The pages' Content-Security-Policy stops such a request
before it is made; what it refused is counted too, and only ReDoc's Redocly logo (drawn
by the bundle whatever its options) may be refused. Screenshots are kept in
test-artifacts/browser/.

The docs need no Temporal and no worker, so this runs the API alone (uvicorn on a free
port over this test's database) rather than the whole stack of conftest.py.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
import uvicorn
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, Route, expect
from sqlmodel import Session

from api.main import create_app
from runtime.settings import get_settings
from store.auth import create_user
from store.db import get_engine
from tests.browser.conftest import Person, _free_port, screenshot_path, submit_sign_in

LOCAL_HOSTS = {"127.0.0.1", "localhost"}
#: ReDoc's sidebar footer always asks for this image; the CSP refuses it, the footer then
#: drops the image and keeps its text link.
REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
READER = Person("rita.reader@example.com", "docs without internet")


@pytest.fixture
async def api_alone(db_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    """The API on a free port, with a viewer who may read the docs; yields its base URL."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("PUBLIC_BASE_URL", base_url)
    get_settings.cache_clear()
    with Session(get_engine()) as s:
        create_user(s, READER.email, "viewer", READER.password, created_by="tests")
        s.commit()
    server = uvicorn.Server(
        uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()  # raises what stopped it
        await asyncio.sleep(0.02)
    try:
        yield base_url
    finally:
        server.should_exit = True
        await serving
        get_settings.cache_clear()


async def offline_context(browser: Browser) -> tuple[BrowserContext, list[str]]:
    """A browser context that can reach only this machine; returns it and what it blocked."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    blocked: list[str] = []

    async def only_local(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).hostname in LOCAL_HOSTS:
            await route.continue_()
        else:
            blocked.append(url)
            await route.abort("internetdisconnected")

    await context.route("**/*", only_local)
    await context.add_init_script(_WATCH_CSP)
    return context, blocked


def record_errors(page: Page) -> list[str]:
    """Console errors and uncaught exceptions, but CSP refusals (see ``refused_by_csp``)."""
    errors: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" not in message.text:
            errors.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


#: Runs before the page's own scripts: records what the page's CSP refused.
_WATCH_CSP = """
window.__refused = [];
document.addEventListener("securitypolicyviolation", e => window.__refused.push(e.blockedURI));
"""


async def refused_by_csp(page: Page) -> list[str]:
    """The URLs the page tried to load and its Content-Security-Policy refused."""
    refused: list[str] = await page.evaluate("window.__refused")
    return refused


async def sign_in_for(page: Page, base_url: str, path: str) -> None:
    """Opens ``path``; the API sends us to sign in, and back to ``path`` after."""
    await page.goto(f"{base_url}{path}")
    await expect(page).to_have_url(re.compile(r"/console/login\?next="))
    await submit_sign_in(page, READER)
    await expect(page).to_have_url(f"{base_url}{path}")


async def open_offline(
    browser: Browser, base_url: str, path: str
) -> tuple[BrowserContext, Page, list[str], list[str]]:
    """Signs in and opens ``path`` offline; returns the context, the loaded page, what
    it blocked and the page's errors (both still recording)."""
    context, blocked = await offline_context(browser)
    page = await context.new_page()
    errors = record_errors(page)
    await sign_in_for(page, base_url, path)
    await page.wait_for_load_state("load")
    assert blocked == [], f"{path} asked hosts other than the API for {blocked}"
    return context, page, blocked, errors


async def test_swagger_ui_renders_the_api_with_no_internet(
    api_alone: str, browser: Browser
) -> None:
    context, page, blocked, errors = await open_offline(browser, api_alone, "/docs")

    # Swagger UI ran (its bundle loaded) and drew the operations from /openapi.json.
    cases = page.locator('.opblock-summary-path[data-path="/api/cases"]')
    await expect(cases.first).to_be_visible(timeout=15_000)
    await expect(page.locator(".swagger-ui .info .title")).to_contain_text("Clauseflow")
    # Its stylesheet applied: the GET badge is Swagger UI's blue, not unstyled text.
    method = page.locator(".opblock-get .opblock-summary-method").first
    assert await method.evaluate("e => getComputedStyle(e).backgroundColor") != "rgba(0, 0, 0, 0)"
    await page.screenshot(path=screenshot_path("api-docs-swagger-offline"), full_page=False)

    assert blocked == [], f"/docs asked hosts other than the API for {blocked}"
    assert await refused_by_csp(page) == []
    assert errors == [], errors
    await context.close()


async def test_redoc_renders_the_api_with_no_internet(api_alone: str, browser: Browser) -> None:
    context, page, blocked, errors = await open_offline(browser, api_alone, "/redoc")

    # ReDoc ran and drew the schema: the API's title and the cases operations.
    await expect(page.locator("h1").first).to_contain_text("Clauseflow", timeout=15_000)
    await expect(page.get_by_text("/api/cases", exact=True).first).to_be_attached()
    await expect(page.get_by_role("menuitem").first).to_be_visible()
    await page.screenshot(path=screenshot_path("api-docs-redoc-offline"), full_page=False)

    assert blocked == [], f"/redoc asked hosts other than the API for {blocked}"
    assert set(await refused_by_csp(page)) <= {REDOCLY_LOGO}
    assert errors == [], errors
    await context.close()
