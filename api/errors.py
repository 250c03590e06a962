"""Error responses that name the field that is wrong."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from rules.facts import FactsError


def _field(loc: Any) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    return ".".join(parts) if parts else ".".join(str(p) for p in loc)


def facts_errors(exc: FactsError) -> list[dict[str, Any]]:
    """Each fact that is missing or malformed, as one error of a 422's ``detail``."""
    return [
        {
            "loc": ["body", *e.field.split(".")],
            "field": e.field,
            "msg": e.message,
            "type": "invalid_fact",
        }
        for e in exc.errors
    ]


def facts_error_response(exc: FactsError) -> JSONResponse:
    """422 listing every fact that is missing or malformed."""
    return JSONResponse(status_code=422, content={"detail": facts_errors(exc)})


IDEMPOTENCY_KEY = "Idempotency-Key"
_IDEMPOTENCY_KEY_MAX = 200
_IDEMPOTENCY_KEY_WHY = (
    "any unique string; sending the same key again returns the same case instead of "
    "starting a second one"
)

#: The header as a route documents it (``openapi_extra``). The route reads it itself, so
#: that a request without it still gets its body's errors (issue 12); its 422 then lists
#: the missing header as one more error (``idempotency_key_errors``).
IDEMPOTENCY_KEY_PARAMETER: dict[str, Any] = {
    "name": IDEMPOTENCY_KEY,
    "in": "header",
    "required": True,
    "description": f"Required: {_IDEMPOTENCY_KEY_WHY}",
    "schema": {"type": "string", "minLength": 1, "maxLength": _IDEMPOTENCY_KEY_MAX},
}


def idempotency_key_errors(value: str | None) -> list[dict[str, Any]]:
    """What is wrong with a request's Idempotency-Key, as 422 errors (none when fine)."""
    if value is None or value == "":
        kind, msg = "missing", f"is required: {_IDEMPOTENCY_KEY_WHY}"
    elif len(value) > _IDEMPOTENCY_KEY_MAX:
        kind, msg = "string_too_long", f"is too long: at most {_IDEMPOTENCY_KEY_MAX} characters"
    else:
        return []
    return [
        {"loc": ["header", IDEMPOTENCY_KEY], "field": IDEMPOTENCY_KEY, "msg": msg, "type": kind}
    ]


def _requires_idempotency_key(request: Request) -> bool:
    extra = getattr(request.scope.get("route"), "openapi_extra", None) or {}
    return IDEMPOTENCY_KEY_PARAMETER in extra.get("parameters", [])


def unknown_clause(clause: str) -> HTTPException:
    """422 naming the clause field and the clauses that exist."""
    from rules.rulebook import default_registry

    known = ", ".join(default_registry().clauses())
    return HTTPException(
        422,
        [
            {
                "loc": ["body", "clause"],
                "field": "clause",
                "msg": f"unknown clause {clause!r}; known: {known}",
                "type": "unknown_clause",
            }
        ],
    )


#: FastAPI's bare 400 for a body it cannot decode (not UTF-8), before any JSON parsing.
_UNDECODABLE_BODY = "There was an error parsing the body"


def install(app: FastAPI) -> None:
    """Adds a ``field`` name to each validation error, keeping FastAPI's shape."""

    @app.exception_handler(FactsError)
    async def _facts(_: Request, exc: FactsError) -> JSONResponse:
        return facts_error_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400 and exc.detail == _UNDECODABLE_BODY:
            # A body that is not UTF-8 gets the same documented 422 as one that is not JSON.
            return JSONResponse(
                status_code=422,
                content={
                    "detail": [
                        {
                            "type": "json_invalid",
                            "loc": ["body"],
                            "msg": "the body is not UTF-8 encoded JSON",
                            "input": {},
                            "field": "body",
                        }
                    ]
                },
            )
        return await http_exception_handler(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for e in exc.errors():
            e = dict(e)
            if isinstance(e.get("ctx"), dict):
                # ctx may hold the exception object, which is not JSON.
                e["ctx"] = {k: str(v) for k, v in e["ctx"].items()}
            e["field"] = _field(e.get("loc", ()))
            errors.append(e)
        if _requires_idempotency_key(request):
            # The route never ran, so its own check of the header did not either.
            errors += idempotency_key_errors(request.headers.get(IDEMPOTENCY_KEY))
        return JSONResponse(status_code=422, content=jsonable_encoder({"detail": errors}))
