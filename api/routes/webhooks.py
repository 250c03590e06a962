"""SendGrid's Event Webhook: verified, stored once per event, reported to the cases.

Order of work for ``POST /webhooks/sendgrid``:

1. Check the signature and timestamp headers (present, well-formed, timestamp fresh)
   before reading the body, then verify the signature (ECDSA P-256 with SHA-256 over
   the timestamp header followed by the raw body). Anything unverified gets 403 and
   changes nothing; without a configured key every request is refused. A body over
   ``MAX_WEBHOOK_BYTES`` is refused with 413 unread (api/limits.py).
2. Parse the body: a JSON array of objects, else 400.
3. Store the events, once per ``sg_event_id``, and update their notices
   (store/notice_events.py has the precedence of delivery statuses).
4. Tell each case whose notice bounced, was blocked or was dropped. A case that has
   already ended cannot be told: the event stays on the notice and in the case's
   timeline, and the answer is still 2xx. If Temporal cannot be reached the answer is
   503, so that SendGrid retries; the events are stored already, so the retry stores
   nothing twice, and it reports the failures again (the case handles each notice's
   failure once, however often it is told).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from temporalio.service import RPCError, RPCStatusCode

from api.deps import get_temporal
from runtime import sendgrid
from store.notice_events import FailureReport, store_events
from workflows.messages import DELIVERY_FAILED, DeliveryFailure

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
log = logging.getLogger(__name__)

SIGNATURE_HEADER = sendgrid.SIGNATURE_HEADER
TIMESTAMP_HEADER = sendgrid.TIMESTAMP_HEADER

#: How long one signal to a case may take before the request answers 503.
SIGNAL_TIMEOUT = 10.0


class WebhookReceipt(BaseModel):
    """What the webhook did with a batch of events."""

    received: int = Field(description="Events in the request")
    stored: int = Field(description="Events stored now")
    duplicates: int = Field(description="Events stored before (same sg_event_id), skipped")
    matched: int = Field(description="Events that belong to a known notice")
    cases_told: int = Field(description="Delivery failures reported to running cases")
    cases_ended: int = Field(
        description="Delivery failures of notices whose case has ended; kept on the notice"
    )


def check_signature_headers(
    signature: str | None, timestamp: str | None, *, now: float | None = None
) -> tuple[ec.EllipticCurvePublicKey, bytes, str]:
    """runtime.sendgrid's check of the headers, before the body is read; 403 if refused."""
    try:
        return sendgrid.check_signature_headers(signature, timestamp, now=now)
    except sendgrid.WebhookRefused as exc:
        raise HTTPException(403, str(exc)) from None


def verify_signature(
    body: bytes, signature: str | None, timestamp: str | None, *, now: float | None = None
) -> None:
    """runtime.sendgrid's check of the signature and the timestamp; 403 if refused."""
    try:
        sendgrid.verify_signature(body, signature, timestamp, now=now)
    except sendgrid.WebhookRefused as exc:
        raise HTTPException(403, str(exc)) from None


def parse_events(body: bytes) -> list[dict[str, Any]]:
    """The body as a list of event objects.

    Raises:
        HTTPException: 400 if it is not JSON, not an array, or holds a non-object.
    """
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HTTPException(400, f"the body is not JSON: {exc}") from None
    if not isinstance(data, list):
        raise HTTPException(400, "the body must be a JSON array of events")
    for i, item in enumerate(data):
        if not isinstance(item, dict):
            raise HTTPException(400, f"event {i} is not a JSON object")
    return data


@router.post(
    "/sendgrid",
    response_model=WebhookReceipt,
    responses={
        400: {"description": "The body is not a JSON array of event objects"},
        403: {"description": "Signature missing, wrong, too old, or no key configured"},
        413: {"description": "The body is larger than MAX_WEBHOOK_BYTES"},
        503: {"description": "Events stored, but a case could not be told; SendGrid retries"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "array", "items": {}}}},
        }
    },
)
async def sendgrid_events(request: Request) -> WebhookReceipt:
    """SendGrid's Event Webhook: delivery events of notices (delivered, bounce, ...).

    Signed by SendGrid; each event is stored once (by ``sg_event_id``), whole, and
    updates its notice's delivery status. A bounce, block or drop is reported to the
    notice's case, whose rules decide what follows (by default it escalates).
    """
    # The headers first: an unsigned request is refused without its body being read.
    key, der, timestamp = check_signature_headers(
        request.headers.get(SIGNATURE_HEADER), request.headers.get(TIMESTAMP_HEADER)
    )
    body = await request.body()  # at most MAX_WEBHOOK_BYTES (api/limits.py), else 413
    try:
        sendgrid.verify_body(key, der, timestamp, body)
    except sendgrid.WebhookRefused as exc:
        raise HTTPException(403, str(exc)) from None
    events = parse_events(body)
    result = await run_in_threadpool(store_events, events, dt.datetime.now(dt.UTC))
    told = ended = 0
    if result.failures:
        client = await get_temporal(request)  # 503 if unreachable; SendGrid retries
        for failure in result.failures:
            if await _tell_case(client, failure):
                told += 1
            else:
                ended += 1
    return WebhookReceipt(
        received=result.received,
        stored=result.stored,
        duplicates=result.duplicates,
        matched=result.matched,
        cases_told=told,
        cases_ended=ended,
    )


async def _tell_case(client: Any, failure: FailureReport) -> bool:
    """Signals the failure to its case; False if the case's workflow has ended.

    Raises:
        HTTPException: 503 when Temporal does not take the signal.
    """
    handle = client.get_workflow_handle(failure.case_id)
    try:
        await asyncio.wait_for(
            handle.signal(
                DELIVERY_FAILED,
                DeliveryFailure(failure.notice_key, failure.notice, failure.event, failure.reason),
            ),
            timeout=SIGNAL_TIMEOUT,
        )
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            # The case has ended: nothing can act on it; the notice and timeline show it.
            return False
        raise HTTPException(503, f"Temporal did not take the signal: {exc.message}") from exc
    except TimeoutError as exc:
        raise HTTPException(503, "Temporal did not answer in time") from exc
    return True
