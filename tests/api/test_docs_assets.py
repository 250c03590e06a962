"""/docs and /redoc load Swagger UI and ReDoc from the API itself (api/static/docs/), never
from a CDN: the pages name no other host and every asset they name is served.

tests/browser/test_api_docs_offline.py opens both pages in Chromium with no internet.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from api.main import create_app
from tests.api.conftest import bearer, issue_token
from tests.api.helpers import BASE_URL
from tests.conftest import REPO, use_database
from tests.databases import run_uses_postgres

DOCS_DIR = REPO / "api" / "static" / "docs"
CONTENT_TYPES = {
    ".js": {"text/javascript", "application/javascript"},
    ".css": {"text/css"},
    ".png": {"image/png"},
}
#: The first line of a vendored file: `/* Name X.Y.Z (npm package@X.Y.Z sha512-..., file,
#: unmodified below this line) | home page | licence, see a.LICENSE [and a.NOTICE] */`
VENDORED_HEADER = re.compile(
    r"/\* .+ \(npm (?P<package>[\w.-]+)@(?P<version>\d+\.\d+\.\d+) sha512-\S+, .+, "
    r"unmodified below this line\) \| https://\S+ \| .+, see (?P<notices>.+) \*/"
)


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The docs' assets do not depend on the database: one kind is enough (as the run's)."""
    kind = "postgresql" if run_uses_postgres() else "sqlite"
    return use_database(kind, request, tmp_path, monkeypatch)


@pytest.fixture
async def reader(db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app without Temporal (the docs need none), with a viewer's token."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app()),
        base_url=BASE_URL,
        headers=bearer(issue_token("viewer")),
    ) as client:
        yield client


def _referenced(page: str) -> list[str]:
    """The URLs a page loads: its src and href attributes and Swagger UI's schema URL."""
    return [a or b for a, b in re.findall(r"""(?:src|href)="([^"]*)"|url: '([^']*)'""", page)]


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
async def test_the_docs_pages_load_only_the_apis_own_assets(
    reader: httpx.AsyncClient, path: str
) -> None:
    page = await reader.get(path)
    assert page.status_code == 200, page.text
    # No absolute URL at all: no CDN, no Google Fonts, no favicon from fastapi.tiangolo.com.
    assert "://" not in page.text, re.findall(r"\S*://\S*", page.text)
    # And the browser is told to load nothing from elsewhere, should an asset try.
    csp = page.headers.get("content-security-policy", "")
    assert "default-src 'self'" in csp and "://" not in csp and "*" not in csp, csp
    urls = _referenced(page.text)
    assets = [url for url in urls if url.startswith("/static/docs/")]
    assert len(assets) >= 2, urls  # the script and the favicon (and Swagger UI's stylesheet)
    assert set(urls) - set(assets) <= {"/openapi.json"}
    for url in assets:
        r = await reader.get(url)
        assert r.status_code == 200, url
        media_type = r.headers["content-type"].split(";")[0]
        assert media_type in CONTENT_TYPES[Path(url).suffix], (url, media_type)
        assert len(r.content) > 500, url


async def test_swagger_ui_asks_no_validator_about_the_schema(reader: httpx.AsyncClient) -> None:
    page = (await reader.get("/docs")).text
    assert '"validatorUrl": null' in page


def test_every_vendored_docs_asset_names_its_version_and_ships_its_licence() -> None:
    bundles = sorted(p for p in DOCS_DIR.iterdir() if p.suffix in {".js", ".css"})
    assert {p.name for p in bundles} == {
        "swagger-ui-bundle.js",
        "swagger-ui.css",
        "redoc.standalone.js",
    }
    for bundle in bundles:
        with bundle.open(encoding="utf-8") as f:
            header, second = f.readline(), f.readline(2000)
        match = VENDORED_HEADER.fullmatch(header.strip())
        assert match, f"{bundle.name}: its first line should say where it came from: {header!r}"
        for notice in re.split(r" and ", match["notices"]):
            assert (DOCS_DIR / notice).is_file(), f"{bundle.name} names {notice}, not beside it"
        # A script's second line points to the notices of what it bundles: they ship too.
        pointer = re.search(r"please see (\S+) \*/", second)
        if bundle.suffix == ".js":
            assert pointer and (DOCS_DIR / pointer.group(1)).is_file(), bundle.name
