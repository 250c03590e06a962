"""The API's own description (OpenAPI, Swagger UI and ReDoc), for those who may read.

The schema names every route, field and permission, so like the rest of the API it
needs a token or a signed-in console session. A browser without one is sent to sign in
and comes back; Swagger UI then fetches the schema with the session cookie.

Swagger UI and ReDoc come from api/static/docs/ (vendored from npm, licences beside
them), not from a CDN: the pages work where the API's host has no internet, and they
send nothing to third parties. Their Content-Security-Policy holds the page to its own
origin, so a future asset that reaches out is blocked rather than quietly loaded.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials

from api.access import Principal, Reader, bearer_credentials, require
from api.console.helpers import login_redirect

router = APIRouter(include_in_schema=False)

#: Where api/static/docs/ is served (api.console.helpers.mount_static mounts /static).
ASSETS = "/static/docs"
SWAGGER_JS = f"{ASSETS}/swagger-ui-bundle.js"
SWAGGER_CSS = f"{ASSETS}/swagger-ui.css"
REDOC_JS = f"{ASSETS}/redoc.standalone.js"
FAVICON = f"{ASSETS}/favicon-32x32.png"

#: Only this origin; inline script and style because both pages start from inline code,
#: blob: workers for ReDoc's search, data: images for Swagger UI's icons.
DOCS_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self' 'unsafe-inline'; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; worker-src 'self' blob:; "
        "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

_read = require("read")


async def _reader_or_sign_in(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_credentials)],
) -> Principal:
    """Like ``Reader``, but a page without credentials goes to the sign-in page."""
    try:
        return await _read(request, credentials)
    except HTTPException as exc:
        if exc.status_code == 401:
            raise login_redirect(request) from None
        raise


_reader_or_sign_in.permissions = ("read",)  # type: ignore[attr-defined]  # read by tests
PageReader = Annotated[Principal, Depends(_reader_or_sign_in)]


@router.get("/openapi.json")
def openapi(request: Request, _: Reader) -> JSONResponse:
    """The OpenAPI schema."""
    schema: dict[str, Any] = request.app.openapi()
    return JSONResponse(schema)


@router.get("/docs")
def swagger_ui(_: PageReader) -> HTMLResponse:
    """The API's interactive documentation."""
    page = get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="Clauseflow API",
        swagger_js_url=SWAGGER_JS,
        swagger_css_url=SWAGGER_CSS,
        swagger_favicon_url=FAVICON,
        # No badge asking validator.swagger.io about the schema.
        swagger_ui_parameters={"validatorUrl": None},
    )
    page.headers.update(DOCS_SECURITY_HEADERS)
    return page


@router.get("/redoc")
def redoc(_: PageReader) -> HTMLResponse:
    """The API's documentation as one page."""
    page = get_redoc_html(
        openapi_url="/openapi.json",
        title="Clauseflow API",
        redoc_js_url=REDOC_JS,
        redoc_favicon_url=FAVICON,
        with_google_fonts=False,
    )
    page.headers.update(DOCS_SECURITY_HEADERS)
    return page
