"""The remote codec endpoint: lets the Temporal Web UI (or CLI) show decrypted payloads.

It speaks Temporal's remote codec protocol: ``POST /codec/decode`` and
``POST /codec/encode`` take ``{"payloads": [...]}``, each payload in protobuf JSON form
(``metadata`` values and ``data`` base64), and answer the same shape.

Decrypted payloads are Customer Data, so every request needs
``Authorization: Bearer <CODEC_AUTH_TOKEN>``; while that token is unset the endpoint
refuses everything. The Web UI calls from its own origin, so the answers carry CORS
headers for the origins in ``CODEC_CORS_ORIGINS`` (the app has no CORS middleware: the
rest of the API is not for browsers on other origins), and the preflight is answered
without a token, as browsers send none.
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from google.protobuf.json_format import MessageToDict, ParseDict, ParseError
from temporalio.api.common.v1 import Payloads

from runtime.codec import EncryptionCodec, PayloadDecryptionError, PayloadKeyError
from runtime.settings import Settings, get_settings

router = APIRouter(prefix="/codec", tags=["codec"])

#: Request headers the Web UI sends with codec calls.
ALLOWED_HEADERS = "Authorization, Content-Type, X-Namespace"


def _allowed_origins(settings: Settings) -> set[str]:
    return {o.strip().rstrip("/") for o in settings.codec_cors_origins.split(",") if o.strip()}


def _cors_headers(request: Request, settings: Settings) -> dict[str, str]:
    origin = request.headers.get("origin")
    if not origin or origin.rstrip("/") not in _allowed_origins(settings):
        return {}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Credentials": "true",
        "Vary": "Origin",
    }


def _answer(
    request: Request, settings: Settings, status: int, content: dict[str, Any]
) -> JSONResponse:
    headers = _cors_headers(request, settings)
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(status_code=status, content=content, headers=headers)


def _refusal(request: Request, settings: Settings) -> JSONResponse | None:
    """401/403 unless the request carries the configured bearer token."""
    token = settings.codec_auth_token
    if not token:
        return _answer(
            request,
            settings,
            403,
            {"detail": "the codec endpoint is not configured: set CODEC_AUTH_TOKEN"},
        )
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        return _answer(request, settings, 401, {"detail": "a bearer token is required"})
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        return _answer(request, settings, 403, {"detail": "the bearer token is not valid"})
    return None


async def _run(request: Request, operation: str) -> JSONResponse:
    settings = get_settings()
    refused = _refusal(request, settings)
    if refused is not None:
        return refused
    try:
        body = await request.json()
        payloads = ParseDict(body, Payloads())
    except (ValueError, ParseError) as exc:
        # json.JSONDecodeError is a ValueError; ParseDict rejects a non-object body too.
        return _answer(request, settings, 400, {"detail": f"not a payloads object: {exc}"})
    try:
        codec = EncryptionCodec.from_settings(settings)
        if operation == "encode":
            result = await codec.encode(payloads.payloads)
        else:
            result = await codec.decode(payloads.payloads)
    except PayloadKeyError as exc:
        return _answer(request, settings, 503, {"detail": str(exc)})
    except PayloadDecryptionError as exc:
        return _answer(request, settings, 400, {"detail": str(exc)})
    answer = MessageToDict(Payloads(payloads=result))
    return _answer(request, settings, 200, {"payloads": answer.get("payloads", [])})


@router.post("/decode")
async def decode(request: Request) -> JSONResponse:
    """Decrypts the payloads (unencrypted ones come back unchanged)."""
    return await _run(request, "decode")


@router.post("/encode")
async def encode(request: Request) -> JSONResponse:
    """Encrypts the payloads with the current key (the UI encodes what it sends)."""
    return await _run(request, "encode")


@router.options("/decode", include_in_schema=False)
@router.options("/encode", include_in_schema=False)
async def preflight(request: Request) -> Response:
    """The CORS preflight: allowed for the configured Web UI origins only."""
    settings = get_settings()
    headers = _cors_headers(request, settings)
    if not headers:
        return Response(status_code=403)
    headers.update(
        {
            "Access-Control-Allow-Methods": "POST, OPTIONS",
            # Auth is the bearer token, not the header list: allow what the UI asks for.
            "Access-Control-Allow-Headers": request.headers.get(
                "access-control-request-headers", ALLOWED_HEADERS
            ),
            "Access-Control-Max-Age": "600",
        }
    )
    return Response(status_code=204, headers=headers)
