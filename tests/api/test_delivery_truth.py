"""One truth about delivery: the evidence record (JSON, the printable page) and the
console's notice page say what the notice's stored status says, under either rule of
``notices.deemed_receipt``, whatever the events and their order.

Events go through ``store_events``, the webhook's own path into the store. The notice
is a row of a seeded case: no workflow is needed to read its evidence.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import AsyncIterator
from typing import Any, Literal

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import Session

from api.access import SESSION_COOKIE
from api.main import create_app
from api.notice_views import evidence_record
from store.auth import create_console_session, create_user
from store.db import get_engine
from store.models import Contract, Notice
from store.notice_events import FAILURES, store_events
from tests.api.conftest import bearer, issue_token
from tests.api.helpers import BASE_URL, a_case, seed
from tests.workflows.helpers import seed_reference_contract

TO = "legal@provider.example.com"
CC = "owner@customer.example.com"
Rule = Literal["delivered", "sent"]


@pytest.fixture
def app(db_url: str) -> FastAPI:
    app = create_app()
    app.state.temporal = object()  # reading evidence never needs Temporal
    seed_reference_contract()
    return app


@pytest.fixture
async def api(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url=BASE_URL,
        headers=bearer(issue_token("viewer")),
    ) as client:
        yield client


def deem_receipt_when(rule: Rule) -> None:
    with Session(get_engine()) as s:
        contract = s.get(Contract, "ctr_reference_msa")
        assert contract is not None
        notices = {**contract.terms.get("notices", {}), "deemed_receipt": rule}
        contract.terms = {**contract.terms, "notices": notices}
        s.add(contract)
        s.commit()


def sent_notice(key: str) -> Notice:
    """A notice handed to SendGrid an hour ago, of a running case."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    case_id = f"case-{key}"
    seed(a_case(case_id))
    notice = Notice(
        id=f"ntc_{key}",
        case_id=case_id,
        notice_key=f"acknowledgement:{key}",
        notice="acknowledgement",
        clause="termination_for_convenience",
        to=[TO],
        cc=[CC],
        subject="Acknowledgement",
        body_text="text",
        body_html="<p>html</p>",
        channel="sendgrid",
        status="sent",
        provider_message_id=f"msg-{key}",
        due_at=now - dt.timedelta(hours=1),
        created_at=now - dt.timedelta(hours=1),
        sent_at=now - dt.timedelta(hours=1),
    )
    with Session(get_engine(), expire_on_commit=False) as s:
        s.add(notice)
        s.commit()
    return notice


def event(notice: Notice, name: str, minutes: int, **extra: Any) -> dict[str, Any]:
    """A SendGrid event of the notice, ``minutes`` after it was sent."""
    assert notice.sent_at is not None
    at = notice.sent_at + dt.timedelta(minutes=minutes)
    return {
        "event": name,
        "email": TO,
        "timestamp": int(at.timestamp()),
        "sg_event_id": f"{notice.id}-{name}-{minutes}-{extra.get('email', TO)}",
        "notice_id": notice.id,
        "case_id": notice.case_id,
        **extra,
    }


def stored(notice_id: str) -> Notice:
    with Session(get_engine()) as s:
        row = s.get(Notice, notice_id)
        assert row is not None
        return row


async def test_a_bounce_after_delivered_is_shown_and_not_deemed_received(
    api: httpx.AsyncClient, app: FastAPI
) -> None:
    notice = sent_notice("bounced")
    now = dt.datetime.now(dt.UTC)
    store_events([event(notice, "delivered", 1)], now)
    receipt = (await api.get(f"/api/notices/{notice.id}/evidence")).json()["deemed_receipt"]
    assert receipt["status"] == "known"

    store_events([event(notice, "bounce", 5, reason="550 5.1.1 mailbox unavailable")], now)
    row = stored(notice.id)
    assert row.delivery_status == "bounce" and row.deemed_received_at is None
    ev = (await api.get(f"/api/notices/{notice.id}/evidence")).json()
    assert ev["delivery_status"] == "bounce"
    assert dt.datetime.fromisoformat(ev["delivered_at"]) == row.delivered_at  # as reported
    receipt = ev["deemed_receipt"]
    assert receipt["status"] == "not_delivered" and receipt["at"] is None, receipt
    assert "reported bounce" in receipt["explanation"]
    assert "after a delivery report" in receipt["explanation"]
    assert "mailbox unavailable" in receipt["explanation"]
    assert "is not deemed received" in receipt["explanation"]

    page = (await api.get(f"/api/notices/{notice.id}/evidence", params={"format": "html"})).text
    assert "Not deemed received: bounce despite a delivery report" in page
    assert "Deemed received " not in page

    with Session(get_engine(), expire_on_commit=False) as s:
        user = create_user(s, "vic@provider.example", "viewer", "x" * 12, created_by="tests")
        cookie, _ = create_console_session(s, user, dt.timedelta(hours=1))
        s.commit()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=BASE_URL, cookies={SESSION_COOKIE: cookie}
    ) as browser:
        console = (await browser.get(f"/console/notices/{notice.id}")).text
    assert "no: bounce" in console and "but also bounce" in console
    assert "is not deemed received" in console


async def test_under_the_sent_rule_a_later_bounce_is_shown_with_what_it_means(
    api: httpx.AsyncClient,
) -> None:
    deem_receipt_when("sent")
    notice = sent_notice("sent-rule")
    now = dt.datetime.now(dt.UTC)
    store_events([event(notice, "delivered", 1), event(notice, "bounce", 5, email=CC)], now)
    row = stored(notice.id)
    assert row.delivery_status == "bounce" and row.deemed_received_at == notice.sent_at
    receipt = (await api.get(f"/api/notices/{notice.id}/evidence")).json()["deemed_receipt"]
    assert receipt["rule"] == "sent" and receipt["status"] == "known"
    assert dt.datetime.fromisoformat(receipt["at"]) == notice.sent_at
    assert "reported bounce" in receipt["explanation"]
    assert "after a delivery report" in receipt["explanation"]
    assert "still counts as received when it was sent" in receipt["explanation"]
    page = (await api.get(f"/api/notices/{notice.id}/evidence", params={"format": "html"})).text
    assert "although the provider reported bounce" in page


#: What SendGrid may report about one notice, with who it is about.
EVENTS: list[tuple[str, dict[str, Any]]] = [
    ("processed", {}),
    ("deferred", {"response": "400 try again later"}),
    ("delivered", {}),
    ("delivered", {"email": CC}),
    ("open", {}),
    ("spamreport", {}),
    ("bounce", {"reason": "550 unknown user"}),
    ("bounce", {"type": "blocked", "reason": "blocked by policy"}),
    ("bounce", {"email": CC, "reason": "mailbox full"}),
    ("dropped", {"reason": "Bounced Address"}),
]


@pytest.mark.parametrize("rule", ["delivered", "sent"])
def test_evidence_and_status_agree_over_any_sequence_of_events(db_url: str, rule: Rule) -> None:
    seed_reference_contract()
    deem_receipt_when(rule)
    rng = random.Random(f"one truth {rule}")  # the same sequences every run
    for n in range(25):
        notice = sent_notice(f"{rule}-{n}")
        picked = [rng.choice(EVENTS) for _ in range(rng.randint(1, 6))]
        events = [event(notice, name, rng.randint(1, 90), **extra) for name, extra in picked]
        while events:  # in batches, as the webhook receives them
            size = rng.randint(1, 3)
            batch, events = events[:size], events[size:]
            store_events(batch, dt.datetime.now(dt.UTC))
            row = stored(notice.id)
            with Session(get_engine()) as s:
                record, _ = evidence_record(s, notice.id)
            receipt = record.deemed_receipt
            seen = f"{rule} {[name for name, _ in picked]} -> {receipt}"
            assert record.delivery_status == row.delivery_status, seen
            assert record.delivered_at == row.delivered_at, seen
            assert receipt.at == row.deemed_received_at, seen
            assert (receipt.status == "known") == (receipt.at is not None), seen
            if row.delivery_status in FAILURES:
                assert f"reported {row.delivery_status}" in receipt.explanation, seen
                if rule == "delivered":
                    assert receipt.status == "not_delivered", seen
            if rule == "sent":
                assert receipt.at == notice.sent_at, seen
