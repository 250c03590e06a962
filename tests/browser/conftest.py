"""The whole stack for browser tests: a real Temporal dev server, a worker, the API served
by uvicorn on a free port, the SendGrid mock, and Debian's chromium driven by Playwright.

Everything runs on the test's event loop, so the API can share the worker's client.
Screenshots go to ``test-artifacts/browser/`` (kept after the run, for people to look at).
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.async_api import Browser, Page, async_playwright
from sqlmodel import Session
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from runtime.settings import get_settings
from store.auth import create_token, create_user
from store.db import get_engine
from tests.conftest import REPO
from tests.support.fixtures import sendgrid_mock_fixture  # noqa: F401
from tests.support.sendgrid_mock import SendGridMock
from tests.workflows.helpers import seed_reference_contract
from workers.temporal import build_worker

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = REPO / "test-artifacts" / "browser"
# As the machine notes say: without these, chromium keeps trying to reach Google.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Person:
    email: str
    password: str


async def submit_sign_in(page: Page, person: Person) -> None:
    """Fills the console's sign-in form, where the page stands, as ``person``; sends it."""
    await page.get_by_label("Email").fill(person.email)
    await page.get_by_label("Password").fill(person.password)
    await page.get_by_role("button", name=re.compile("sign in", re.I)).click()


@dataclass
class Stack:
    """What a browser test talks to."""

    base_url: str
    client: Client
    api: httpx.AsyncClient  # authorised as an admin, for setting a scene up
    sendgrid: SendGridMock
    operator: Person
    second_operator: Person
    viewer: Person


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Debian's chromium, headless; fails (never skips) when it is not installed."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"the browser tests need Debian's chromium at {CHROMIUM}: "
            "`sudo apt-get install chromium` (make test installs it when it can)"
        )
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            await b.close()


@pytest.fixture
async def stack(
    dev_env: WorkflowEnvironment,
    db_url: str,
    task_queue: str,
    sendgrid_mock: SendGridMock,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Stack]:
    """The API on a free port over a real dev server, with a worker and three people."""
    # A notice that failed twice is stuck: the test need not wait out long backoffs.
    monkeypatch.setenv("STUCK_AFTER_ATTEMPTS", "2")
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("PUBLIC_BASE_URL", base_url)
    get_settings.cache_clear()
    seed_reference_contract()
    people = {
        "operator": Person("olivia.operator@example.com", "correct horse battery"),
        "second": Person("oscar.operator@example.com", "staple paper clip"),
        "viewer": Person("victor.viewer@example.com", "read only please"),
    }
    with Session(get_engine()) as s:
        for key, p in people.items():
            create_user(
                s,
                p.email,
                "viewer" if key == "viewer" else "operator",
                p.password,
                created_by="tests",
            )
        _, admin_token = create_token(s, "browser-tests", "admin", created_by="tests")
        s.commit()

    app = create_app()
    app.state.temporal = dev_env.client
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    serving = asyncio.create_task(server.serve())
    async with build_worker(dev_env.client, task_queue=task_queue):
        while not server.started:
            if serving.done():
                serving.result()  # raises what stopped it
            await asyncio.sleep(0.02)
        async with httpx.AsyncClient(
            base_url=base_url, headers={"Authorization": f"Bearer {admin_token}"}, timeout=30
        ) as api:
            try:
                yield Stack(
                    base_url,
                    dev_env.client,
                    api,
                    sendgrid_mock,
                    people["operator"],
                    people["second"],
                    people["viewer"],
                )
            finally:
                server.should_exit = True
                await serving
    get_settings.cache_clear()


def screenshot_path(name: str) -> Path:
    """Where a test saves a screenshot for people to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / f"{name}.png"
