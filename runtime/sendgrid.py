"""SendGrid, as Clauseflow uses it: sending a notice through the v3 Mail Send API, asking
its Email Activity API whether it accepted one, and verifying its Event Webhook.

An adapter and nothing more: what to send and when, and what a failure means for the
case, is the notice activities' business (activities/notices.py); what a webhook's events
mean is the store's (store/notice_events.py).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
from functools import lru_cache
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from runtime.settings import get_settings

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"


class OutgoingNotice(Protocol):
    """What a notice row carries to SendGrid (store.models.Notice)."""

    id: str
    case_id: str
    to: list[str]
    cc: list[str]
    subject: str
    body_text: str
    body_html: str


class WebhookRefused(Exception):
    """A webhook request that is not SendGrid's, or cannot be shown to be; the reason."""


class Rejected(Exception):
    """SendGrid answered and refused the message; it was not sent."""

    def __init__(self, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class Unknown(Exception):
    """SendGrid's Email Activity API cannot tell whether a message was accepted."""


def _client() -> Any:
    import sendgrid

    settings = get_settings()
    client = sendgrid.SendGridAPIClient(
        api_key=settings.sendgrid_api_key, host=settings.sendgrid_host
    )
    client.client.timeout = get_settings().sendgrid_timeout_seconds
    return client


def _http_error_text(exc: Exception) -> tuple[int | None, str]:
    status = getattr(exc, "status_code", None)
    body = getattr(exc, "body", b"")
    text = body.decode(errors="replace") if isinstance(body, bytes) else str(body)
    return status, text[:500]


def send(notice: OutgoingNotice, clause: str) -> str | None:
    """Sends through SendGrid's v3 Mail Send API; returns the X-Message-Id.

    Raises:
        Rejected: SendGrid answered with an error (or could not be reached), so the
            message was not accepted.
        Exception: anything else (a timeout, a dropped connection) leaves the outcome
            unknown.
    """
    import urllib.error

    from python_http_client.exceptions import HTTPError
    from sendgrid.helpers.mail import Category, Cc, CustomArg, Mail, To

    settings = get_settings()
    mail = Mail(
        from_email=(settings.notice_from_email, settings.notice_from_name),
        to_emails=[To(e) for e in notice.to],
        subject=notice.subject,
        plain_text_content=notice.body_text,
        html_content=notice.body_html,
    )
    for e in notice.cc:
        if e not in notice.to:
            mail.add_cc(Cc(e))
    # On the personalization: SendGrid's spec types the message-level custom_args as a
    # string, the personalization's as an object; events carry them either way.
    mail.add_custom_arg(CustomArg("case_id", notice.case_id, p=0))
    mail.add_custom_arg(CustomArg("notice_id", notice.id, p=0))
    mail.add_category(Category(clause))
    try:
        response = _client().send(mail)
    except HTTPError as exc:
        status, text = _http_error_text(exc)
        # 400/401/403/413 will fail the same way again; 429 and 5xx are worth a retry.
        raise Rejected(
            f"SendGrid answered {status}: {text}",
            retryable=status not in (400, 401, 403, 413),
        ) from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, ConnectionRefusedError):
            raise Rejected(f"SendGrid unreachable: {exc.reason}", retryable=True) from exc
        raise
    headers = {k.lower(): v for k, v in dict(response.headers).items()}
    return headers.get("x-message-id")


def accepted_message_ids(notice_id: str) -> list[str]:
    """Asks SendGrid's Email Activity API for the messages carrying this notice id.

    Returns:
        The X-Message-Ids of the accepted messages (empty: SendGrid accepted none yet).

    Raises:
        Unknown: the API cannot answer (no Email Activity add-on, not found, 5xx,
            unreachable).
        RuntimeError: rate limited (429); worth asking again later.
    """
    from python_http_client.exceptions import HTTPError

    query = f"unique_args['notice_id']=\"{notice_id}\""
    try:
        response = _client().client.messages.get(query_params={"query": query, "limit": 10})
    except HTTPError as exc:
        status, text = _http_error_text(exc)
        if status == 429:
            raise RuntimeError(f"SendGrid's Email Activity API answered 429: {text}") from exc
        raise Unknown(f"SendGrid's Email Activity API answered {status}: {text}") from exc
    except OSError as exc:  # URLError, timeouts, refused connections
        raise Unknown(f"SendGrid's Email Activity API is unreachable: {exc}") from exc
    try:
        messages = json.loads(response.body)["messages"]
        # Activity reports "<X-Message-Id>.<SendGrid's suffix>"; keep the X-Message-Id.
        return [str(m["msg_id"]).split(".", 1)[0] for m in messages]
    except (ValueError, KeyError, TypeError) as exc:
        raise Unknown(f"SendGrid's Email Activity API answered {response.body!r:.200}") from exc


@lru_cache(maxsize=4)
def _public_key(configured: str) -> ec.EllipticCurvePublicKey:
    """The configured key: base64 DER (as SendGrid shows it), or PEM."""
    text = configured.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_public_key(text.encode())
    else:
        key = serialization.load_der_public_key(base64.b64decode(text, validate=True))
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("not an ECDSA P-256 public key")
    return key


def check_signature_headers(
    signature: str | None, timestamp: str | None, *, now: float | None = None
) -> tuple[ec.EllipticCurvePublicKey, bytes, str]:
    """Checks what can be checked before the body is read: the configured key, that both
    headers are there and well-formed, and the timestamp's age.

    Returns:
        The key, the decoded signature and the timestamp header, to verify the body with.

    Raises:
        WebhookRefused: the reason, if anything is missing or wrong.
    """
    settings = get_settings()
    if not settings.sendgrid_webhook_public_key:
        raise WebhookRefused(
            "the SendGrid webhook verification key is not configured "
            "(SENDGRID_WEBHOOK_PUBLIC_KEY); unsigned events are never accepted",
        )
    try:
        key = _public_key(settings.sendgrid_webhook_public_key)
    except (ValueError, binascii.Error, UnsupportedAlgorithm) as exc:
        log.error("SENDGRID_WEBHOOK_PUBLIC_KEY cannot be used: %s", exc)
        raise WebhookRefused(
            "the SendGrid webhook verification key (SENDGRID_WEBHOOK_PUBLIC_KEY) is invalid"
        ) from exc
    if not signature or not timestamp:
        raise WebhookRefused(f"missing {SIGNATURE_HEADER} or {TIMESTAMP_HEADER}")
    try:
        sent = int(timestamp.strip())
    except ValueError:
        raise WebhookRefused(f"{TIMESTAMP_HEADER} is not a Unix time") from None
    # The same tolerance both ways: old requests may be replays, future ones clock skew.
    age = (time.time() if now is None else now) - sent
    limit = settings.sendgrid_webhook_max_age_seconds
    if age > limit:
        raise WebhookRefused(f"the webhook timestamp is older than {limit} seconds")
    if -age > limit:
        raise WebhookRefused(f"the webhook timestamp is more than {limit} seconds ahead")
    try:
        der = base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise WebhookRefused(f"{SIGNATURE_HEADER} is not base64") from None
    if not der:
        raise WebhookRefused(f"{SIGNATURE_HEADER} is empty")
    return key, der, timestamp


def verify_signature(
    body: bytes, signature: str | None, timestamp: str | None, *, now: float | None = None
) -> None:
    """Checks SendGrid's signature and the timestamp's age.

    Raises:
        WebhookRefused: the reason, if anything is missing or wrong.
    """
    key, der, timestamp = check_signature_headers(signature, timestamp, now=now)
    verify_body(key, der, timestamp, body)


def verify_body(key: ec.EllipticCurvePublicKey, der: bytes, timestamp: str, body: bytes) -> None:
    try:
        key.verify(der, timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    except (ValueError, InvalidSignature):
        raise WebhookRefused("the webhook signature does not verify") from None
