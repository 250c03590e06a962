"""A local SendGrid for tests: Mail Send checked against SendGrid's own spec, and Email Activity.

``SendGridMock`` is an HTTP server on 127.0.0.1 (a random port, a background thread)
that answers the two endpoints Clauseflow calls, the way SendGrid does:

* ``POST /v3/mail/send``: every request is validated with openapi-core against
  SendGrid's OpenAPI 3.1 specification (``../shared/sendgrid/tsg_mail_v3.json``),
  including the bearer token. A valid request gets 202 with an ``X-Message-Id``
  header, or the next scripted error (400/401/403/413/429/500) with SendGrid's error
  body ``{"errors": [{"message", "field", "help"}]}``. An invalid request gets 400 with
  the validation error and is recorded in ``invalid``, so a test can assert that none
  happened. Every answer the mock gives is itself checked against the spec's responses.
* ``GET /v3/messages?query=...&limit=...``: SendGrid's Email Activity API, which
  Clauseflow asks "was a message with custom_args notice_id=X accepted?". The query is
  SendGrid's query language, here ``unique_args['notice_id']="ntc_..."`` (clauses joined
  by ``AND``); the answer lists the accepted messages that match as
  ``{"messages": [{"msg_id": ..., ...}]}``. A test can script 403 (the account lacks the
  Email Activity add-on), 404, 429 or 5xx instead, and a lag before accepted messages
  become visible, as on the real service.

Every request is recorded (method, path, headers, body, time, status answered).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

#: The spec's server; the mock validates requests as if they were sent there.
SPEC_HOST = "https://api.sendgrid.com"
MAIL_SEND = "/v3/mail/send"
MESSAGES = "/v3/messages"

#: SendGrid's own wording for each error status.
_MESSAGES = {
    400: "Bad Request",
    401: "The provided authorization grant is invalid, expired, or revoked",
    403: "access forbidden",
    404: "resource not found",
    413: "content too large",
    429: "too many requests",
    500: "internal server error",
    503: "service unavailable",
}


@dataclass
class Reply:
    """A scripted answer: an HTTP status with SendGrid's error body (or 202)."""

    status: int
    message: str | None = None
    field: str | None = None
    help: dict[str, Any] | None = None
    delay: float = 0.0

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message or _MESSAGES.get(self.status, "error")}
        # The spec types "field" as a string (OpenAPI 3.1 ignores its "nullable"), and
        # SendGrid's own 500 example leaves it out: so it is omitted when there is none.
        if self.field is not None:
            error["field"] = self.field
        if self.help is not None:
            error["help"] = self.help
        return {"errors": [error]}


@dataclass
class Recorded:
    """One request the mock received, and what it answered."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    at: dt.datetime
    status: int = 0
    message_id: str | None = None
    error: str | None = None
    valid: bool = True

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def custom_args(self) -> dict[str, str]:
        """custom_args as SendGrid applies them: the message's, then the personalization's."""
        body = self.json or {}
        merged = dict(body.get("custom_args") or {}) if isinstance(body, dict) else {}
        for p in body.get("personalizations") or []:
            merged |= p.get("custom_args") or {}
        return merged


@dataclass
class _Accepted:
    message_id: str
    request: Recorded
    visible_at: float


@dataclass
class SendGridMock:
    """The mock server; use as a context manager, or ``start()`` and ``stop()``."""

    spec_path: Path
    api_key: str = "SG.test-key"
    #: Seconds every request waits before it is answered (SendGrid being slow).
    delay: float = 0.0
    #: Seconds before an accepted message shows in the Email Activity API.
    activity_lag: float = 0.0
    requests: list[Recorded] = field(default_factory=list)
    invalid: list[Recorded] = field(default_factory=list)
    _send_script: list[Reply] = field(default_factory=list)
    _activity_script: list[Reply] = field(default_factory=list)
    _activity_default: Reply | None = None
    _accepted: list[_Accepted] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self.openapi = OpenAPI.from_file_path(str(self.spec_path))
        spec = json.loads(Path(self.spec_path).read_text())
        self._documented = {int(s) for s in spec["paths"][MAIL_SEND]["post"]["responses"]}

    # -- lifecycle ------------------------------------------------------------------

    def start(self) -> SendGridMock:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> SendGridMock:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL to give the client as its host (``SENDGRID_HOST``)."""
        assert self._server is not None, "the mock is not running"
        return f"http://127.0.0.1:{self._server.server_port}"

    # -- scripting ------------------------------------------------------------------

    def script_send(self, *replies: Reply | int) -> None:
        """The next Mail Send answers, in order; then 202 again."""
        with self._lock:
            self._send_script.extend(r if isinstance(r, Reply) else Reply(r) for r in replies)

    def clear_send_script(self) -> None:
        """Drops the Mail Send answers still scripted: SendGrid is healthy again."""
        with self._lock:
            self._send_script.clear()

    def script_activity(self, *replies: Reply | int, always: Reply | int | None = None) -> None:
        """The next Email Activity answers (or ``always`` that one, e.g. 403: no add-on)."""
        with self._lock:
            self._activity_script.extend(r if isinstance(r, Reply) else Reply(r) for r in replies)
            if always is not None:
                self._activity_default = always if isinstance(always, Reply) else Reply(always)

    # -- what happened --------------------------------------------------------------

    @property
    def sends(self) -> list[Recorded]:
        """Every Mail Send request that passed the spec, in order."""
        with self._lock:
            return [r for r in self.requests if r.path == MAIL_SEND and r.valid]

    def sends_for(self, notice_id: str) -> list[Recorded]:
        return [r for r in self.sends if r.custom_args.get("notice_id") == notice_id]

    def accepted_for(self, notice_id: str) -> list[str]:
        """The message ids the mock accepted (202) for a notice."""
        with self._lock:
            return [
                a.message_id
                for a in self._accepted
                if a.request.custom_args.get("notice_id") == notice_id
            ]

    def activity_queries(self) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.path == MESSAGES]

    # -- answering ------------------------------------------------------------------

    def _answer(self, rec: Recorded) -> tuple[int, dict[str, str], bytes]:
        if rec.method == "POST" and rec.path == MAIL_SEND:
            return self._mail_send(rec)
        if rec.method == "GET" and rec.path == MESSAGES:
            return self._activity(rec)
        return _json(404, Reply(404).body())

    def _mail_send(self, rec: Recorded) -> tuple[int, dict[str, str], bytes]:
        request = MockRequest(
            SPEC_HOST,
            "post",
            MAIL_SEND,
            headers=rec.headers,
            data=rec.body,
            content_type=rec.headers.get("content-type", "application/json"),
        )
        try:
            self.openapi.validate_request(request)
        except Exception as exc:  # any failure of the spec is the client's bug
            rec.error = _describe(exc)
            rec.valid = False
            with self._lock:
                self.invalid.append(rec)
            return self._checked(request, *_json(400, Reply(400, rec.error[:2000]).body()))
        if rec.headers.get("authorization") != f"Bearer {self.api_key}":
            return self._checked(request, *_json(401, Reply(401).body()))
        with self._lock:
            reply = self._send_script.pop(0) if self._send_script else Reply(202)
        time.sleep(reply.delay)
        if reply.status != 202:
            headers = {}
            if reply.status == 429:
                reset = str(int(time.time()) + 1)
                headers = {"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "0"}
                headers["X-RateLimit-Reset"] = reset
            status, h, body = _json(reply.status, reply.body())
            return self._checked(request, status, h | headers, body)
        message_id = f"mock{next(self._ids):04d}{uuid.uuid4().hex[:18]}"
        rec.message_id = message_id
        with self._lock:
            self._accepted.append(_Accepted(message_id, rec, time.time() + self.activity_lag))
        return self._checked(request, 202, {"X-Message-Id": message_id}, b"")

    def _checked(
        self, request: MockRequest, status: int, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        # The mock must answer as the spec says SendGrid answers, or the tests prove little.
        # (SendGrid answers 429 too, documented with its rate limits, not in this spec.)
        if status not in self._documented:
            return status, headers, body
        mime = "application/json" if body else "text/plain"
        response = MockResponse(body, status_code=status, headers=headers, content_type=mime)
        self.openapi.validate_response(request, response)
        return status, headers, body

    def _activity(self, rec: Recorded) -> tuple[int, dict[str, str], bytes]:
        if rec.headers.get("authorization") != f"Bearer {self.api_key}":
            return _json(401, Reply(401).body())
        with self._lock:
            scripted = self._activity_script.pop(0) if self._activity_script else None
            reply = scripted or self._activity_default
        if reply is not None and reply.status != 200:
            time.sleep(reply.delay)
            return _json(reply.status, reply.body())
        query = rec.query.get("query", [""])[0]
        limit = rec.query.get("limit", [""])[0]
        if not limit.isdigit() or not 1 <= int(limit) <= 1000:
            return _json(400, Reply(400, "limit must be between 1 and 1000", "limit").body())
        wanted = _parse_query(query)
        if wanted is None:
            return _json(400, Reply(400, f"invalid query: {query}", "query").body())
        now = time.time()
        with self._lock:
            found = [
                a
                for a in self._accepted
                if a.visible_at <= now
                and all(a.request.custom_args.get(k) == v for k, v in wanted.items())
            ]
        messages = [_activity_message(a) for a in found[: int(limit)]]
        return _json(200, {"messages": messages})


def _activity_message(a: _Accepted) -> dict[str, Any]:
    body = a.request.json
    to = body["personalizations"][0]["to"][0]["email"]
    return {
        "from_email": body["from"]["email"],
        # Email Activity reports the X-Message-Id followed by SendGrid's internal suffix.
        "msg_id": f"{a.message_id}.filterdrecv-5bd6bd4c6b-abcde-1-65A8F2C1-1.0",
        "subject": body.get("subject", ""),
        "to_email": to,
        "status": "processed",
        "opens_count": 0,
        "clicks_count": 0,
        "last_event_time": a.request.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


_CLAUSE = re.compile(r"""^unique_args\['([^']+)'\]\s*=\s*"([^"]*)"$""")


def _parse_query(query: str) -> dict[str, str] | None:
    """``unique_args['k']="v" AND ...`` as {k: v}; None if it is not that shape."""
    out: dict[str, str] = {}
    for part in re.split(r"\s+AND\s+", query.strip()):
        m = _CLAUSE.match(part.strip())
        if m is None:
            return None
        out[m.group(1)] = m.group(2)
    return out or None


def _describe(exc: Exception) -> str:
    errors = getattr(exc, "schema_errors", None) or getattr(exc.__cause__, "schema_errors", None)
    if errors:
        return "; ".join(
            f"{'/'.join(str(p) for p in e.absolute_path) or 'body'}: {e.message}" for e in errors
        )
    return f"{type(exc).__name__}: {exc}"


def _json(status: int, payload: Any) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(payload).encode()


def _handler(mock: SendGridMock) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            rec = Recorded(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
                at=dt.datetime.now(dt.UTC),
            )
            with mock._lock:
                mock.requests.append(rec)
            time.sleep(mock.delay)
            try:
                status, headers, body = mock._answer(rec)
            except Exception as exc:  # a bug in the mock: answer 500 and keep the reason
                rec.error = f"mock failed: {_describe(exc)}"
                status, headers, body = _json(500, Reply(500, rec.error).body())
            rec.status = status
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = _handle
        do_POST = _handle

        def log_message(self, *args: Any) -> None:
            pass

    return Handler
