"""The API's own description (OpenAPI, Swagger UI and ReDoc), for those who may read.

The schema names every route, field and permission, so like the rest of the API it
needs a token or a signed-in console session. A browser without one is sent to sign in
and comes back; Swagger UI then fetches the schema with the session cookie.
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
    return get_swagger_ui_html(openapi_url="/openapi.json", title="Clauseflow API")


@router.get("/redoc")
def redoc(_: PageReader) -> HTMLResponse:
    """The API's documentation as one page."""
    return get_redoc_html(openapi_url="/openapi.json", title="Clauseflow API")
