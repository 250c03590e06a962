"""Bounded request bodies: a body over its limit is refused with 413 before it is read.

A pure ASGI middleware (it never buffers a body itself):

* a ``Content-Length`` over the limit is answered 413 at once; the app never runs and
  the body is never received;
* a body without ``Content-Length`` (chunked) is counted as the app receives it, and
  the chunk that takes it over the limit ends the request with 413 instead of being
  handed on, so at most the limit is ever held.

The limit is ``MAX_REQUEST_BYTES`` for every path but the SendGrid webhook, whose
batches are bigger (``MAX_WEBHOOK_BYTES``), and the uploads of an agreement's text, whose
DOCX or PDF is often more than a megabyte (``MAX_DOCUMENT_BYTES``). The 413 names the
limit and the setting, and asks the server to close the connection, since the rest of
the body is not read.
"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from runtime.settings import Settings, get_settings

#: Paths whose limit is MAX_WEBHOOK_BYTES (SendGrid's event batches).
WEBHOOK_PATHS = ("/webhooks/",)
#: Paths whose limit is MAX_DOCUMENT_BYTES: an agreement's text, as text or a file.
DOCUMENT_PATHS = ("/api/contracts/proposals", "/console/agreements")


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once a streamed body passes its limit; the app's handler
    (or, if the app swallowed it, this middleware) answers 413."""

    def __init__(self, detail: str) -> None:
        super().__init__(413, detail, headers={"Connection": "close"})


def limit_for(path: str, settings: Settings) -> tuple[int, str]:
    """The body limit of a path, in bytes, and the setting it comes from."""
    if path.startswith(WEBHOOK_PATHS):
        return settings.max_webhook_bytes, "MAX_WEBHOOK_BYTES"
    if path.startswith(DOCUMENT_PATHS):
        return settings.max_document_bytes, "MAX_DOCUMENT_BYTES"
    return settings.max_request_bytes, "MAX_REQUEST_BYTES"


def _too_large(limit: int, setting: str, declared: int | None) -> str:
    size = f"of {declared} bytes " if declared is not None else ""
    return (
        f"the request body {size}is larger than the limit of {limit} bytes ({setting}); "
        "send less, or raise the limit"
    )


async def _answer(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                # The unread body must not be taken for the next request on the connection.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> tuple[bool, int | None]:
    """(well-formed, value) of the Content-Length header; (True, None) without one."""
    values = [v for k, v in scope.get("headers", []) if k.lower() == b"content-length"]
    if not values:
        return True, None
    if len(set(values)) != 1 or not values[0].strip().isdigit():
        return False, None
    return True, int(values[0])


class BodyLimit:
    """Refuses request bodies over their limit (see the module's docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, setting = limit_for(scope.get("path", ""), get_settings())
        ok, declared = _content_length(scope)
        if not ok:
            await _answer(send, 400, "the Content-Length header is not a byte count")
            return
        if declared is not None and declared > limit:
            await _answer(send, 413, _too_large(limit, setting, declared))
            return

        received = 0
        exceeded: str | None = None
        started = replaced = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = _too_large(limit, setting, declared)
                    raise BodyTooLarge(exceeded)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started, replaced
            if message["type"] == "http.response.start":
                started = True
                if exceeded is not None and message["status"] != 413:
                    # The app caught the refusal and answered something else.
                    replaced = True
                    await _answer(send, 413, exceeded)
                    return
            if not replaced:
                await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except BodyTooLarge:
            if started:
                raise
            await _answer(send, 413, exceeded or _too_large(limit, setting, declared))
