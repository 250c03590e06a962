"""A notice's proof-of-notice record: JSON and the printable page.

The SendGrid event webhook is not used here: delivery events are written straight to
the store, and the notice's status refreshed, as the webhook would do.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import httpx
from sqlmodel import Session

from rules.rulebook import default_registry
from store.db import get_engine
from store.models import Contract, Notice, NoticeEvent
from store.notice_events import refresh_notice
from tests.api.helpers import get_ok
from tests.dates import notice_days_ago
from tests.workflows.helpers import eventually, notices

UTC = dt.UTC
START = "/api/contracts/ctr_reference_msa/cases"
PROVIDER = ["notices@provider.example.com", "legal@provider.example.com"]
OWNER = "contract.owner@customer.example.com"


async def acknowledgement(api: httpx.AsyncClient, key: str = "evidence") -> Notice:
    """Starts a termination case given by the Provider; returns its acknowledgement."""
    # Received yesterday: a fixed date would, once far enough behind, bring reminders too.
    r = await api.post(
        START,
        json={
            "clause": "termination_for_convenience",
            "facts": {"notice_received_at": notice_days_ago(1), "given_by": "provider"},
        },
        headers={"Idempotency-Key": key},
    )
    assert r.status_code == 201, r.text
    [notice] = await eventually(lambda: notices(r.json()["id"]))
    return notice


def update_notice(notice_id: str, **changes: Any) -> None:
    with Session(get_engine()) as s:
        row = s.get(Notice, notice_id)
        assert row is not None
        for k, v in changes.items():
            setattr(row, k, v)
        s.add(row)
        s.commit()


def add_event(notice_id: str, sg_event_id: str, event: str, at: dt.datetime, **extra: Any) -> None:
    payload = {
        "email": "notices@provider.example.com",
        "timestamp": int(at.timestamp()),
        "event": event,
        "sg_event_id": sg_event_id,
        "notice_id": notice_id,
        **extra,
    }
    with Session(get_engine()) as s:
        s.add(
            NoticeEvent(
                sg_event_id=sg_event_id,
                notice_id=notice_id,
                event=event,
                occurred_at=at,
                received_at=at + dt.timedelta(seconds=5),
                payload=payload,
            )
        )
        s.flush()
        notice = s.get(Notice, notice_id)
        assert notice is not None
        refresh_notice(s, notice)  # the notice's status, as the webhook keeps it
        s.commit()


def as_sent_through_sendgrid(notice_id: str) -> None:
    update_notice(
        notice_id,
        channel="sendgrid",
        status="sent",
        provider_message_id="14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
    )


async def test_the_record_holds_the_bodies_hashes_parties_cause_and_times(
    api: httpx.AsyncClient,
) -> None:
    notice = await acknowledgement(api)
    ev = await get_ok(api, f"/api/notices/{notice.id}/evidence")
    assert ev["notice_id"] == notice.id and ev["notice"] == "acknowledgement"
    assert ev["body_text"] == notice.body_text and ev["body_html"] == notice.body_html
    for kind, body in (("text_sha256", notice.body_text), ("html_sha256", notice.body_html)):
        digest = hashlib.sha256(body.encode()).hexdigest()
        assert ev[kind] == {
            "algorithm": "sha256",
            "stored": digest,
            "computed": digest,
            "matches": True,
        }
    assert ev["from_email"] == "notices@clauseflow.example.com"
    assert ev["to"] == PROVIDER and ev["cc"] == [OWNER]
    assert (
        ev["clause"] == "termination_for_convenience"
        and ev["rulebook_version"] == default_registry().latest(ev["clause"]).version
    )
    assert ev["rule"] == "acknowledge_termination_notice"
    assert ev["case_state"] == "notice_period_running"
    assert ev["case_id"] == notice.case_id
    assert ev["contract"]["id"] == "ctr_reference_msa"
    assert ev["contract"]["provider_name"] == "Example Communications Platform LLC"
    assert dt.datetime.fromisoformat(ev["queued_at"]) == notice.created_at
    assert dt.datetime.fromisoformat(ev["sent_at"]) == notice.sent_at
    assert ev["channel"] == "outbox" and ev["events"] == [] and ev["approval"] is None
    # An outbox notice reports no delivery: the record says so instead of guessing.
    receipt = ev["deemed_receipt"]
    assert receipt["rule"] == "delivered" and receipt["status"] == "not_yet_known"
    assert receipt["at"] is None and "outbox" in receipt["explanation"]


async def test_delivery_events_come_oldest_first_and_the_delivered_event_sets_receipt(
    api: httpx.AsyncClient,
) -> None:
    notice = await acknowledgement(api)
    as_sent_through_sendgrid(notice.id)
    processed = dt.datetime(2026, 11, 2, 15, 0, 5, tzinfo=UTC)
    delivered = dt.datetime(2026, 11, 2, 15, 0, 9, tzinfo=UTC)
    # Written out of order, as webhook batches can arrive.
    add_event(notice.id, "ev-open", "open", delivered + dt.timedelta(hours=1), useragent="X")
    add_event(notice.id, "ev-delivered", "delivered", delivered, response="250 OK")
    add_event(notice.id, "ev-processed", "processed", processed)
    update_notice(
        notice.id, delivery_status="delivered", delivered_at=delivered, deemed_received_at=delivered
    )

    ev = (await api.get(f"/api/notices/{notice.id}/evidence")).json()
    assert [e["event"] for e in ev["events"]] == ["processed", "delivered", "open"]
    assert ev["events"][1]["sg_event_id"] == "ev-delivered"
    assert ev["events"][1]["payload"]["response"] == "250 OK"
    assert ev["events"][2]["payload"]["useragent"] == "X"  # kept whole
    assert ev["provider_message_id"].startswith("14c5d75ce93")
    assert ev["delivery_status"] == "delivered"
    receipt = ev["deemed_receipt"]
    assert receipt["status"] == "known" and receipt["rule"] == "delivered"
    assert dt.datetime.fromisoformat(receipt["at"]) == delivered
    assert receipt["local"] == "Mon 2 Nov 2026 10:00:09 New York time"
    assert "deemed_receipt = 'delivered'" in receipt["explanation"]


async def test_receipt_is_not_yet_known_before_delivery_and_not_delivered_after_a_bounce(
    api: httpx.AsyncClient,
) -> None:
    notice = await acknowledgement(api)
    as_sent_through_sendgrid(notice.id)
    add_event(notice.id, "ev-1", "processed", dt.datetime(2026, 11, 2, 15, 1, tzinfo=UTC))
    add_event(notice.id, "ev-2", "deferred", dt.datetime(2026, 11, 2, 15, 2, tzinfo=UTC))
    receipt = (await api.get(f"/api/notices/{notice.id}/evidence")).json()["deemed_receipt"]
    assert receipt["status"] == "not_yet_known" and receipt["at"] is None
    assert "no delivered event" in receipt["explanation"]

    add_event(
        notice.id,
        "ev-3",
        "bounce",
        dt.datetime(2026, 11, 2, 15, 3, tzinfo=UTC),
        reason="550 5.1.1 mailbox unavailable",
    )
    receipt = (await api.get(f"/api/notices/{notice.id}/evidence")).json()["deemed_receipt"]
    assert receipt["status"] == "not_delivered" and receipt["at"] is None
    assert "bounce" in receipt["explanation"] and "mailbox unavailable" in receipt["explanation"]


async def test_a_contract_deeming_receipt_on_sending_uses_the_sent_time(
    api: httpx.AsyncClient,
) -> None:
    notice = await acknowledgement(api)
    with Session(get_engine()) as s:
        contract = s.get(Contract, "ctr_reference_msa")
        assert contract is not None
        contract.terms = {**contract.terms, "notices": {"deemed_receipt": "sent"}}
        s.add(contract)
        s.commit()
    receipt = (await api.get(f"/api/notices/{notice.id}/evidence")).json()["deemed_receipt"]
    assert receipt["rule"] == "sent" and receipt["status"] == "known"
    assert dt.datetime.fromisoformat(receipt["at"]) == notice.sent_at

    update_notice(notice.id, status="awaiting_approval", sent_at=None)
    receipt = (await api.get(f"/api/notices/{notice.id}/evidence")).json()["deemed_receipt"]
    assert receipt["status"] == "not_yet_known" and "awaiting_approval" in receipt["explanation"]


async def test_a_body_changed_in_the_database_shows_as_a_hash_mismatch(
    api: httpx.AsyncClient,
) -> None:
    notice = await acknowledgement(api)
    update_notice(notice.id, body_text=notice.body_text + "\nAltered afterwards.")
    ev = (await api.get(f"/api/notices/{notice.id}/evidence")).json()
    assert ev["text_sha256"]["matches"] is False
    assert ev["text_sha256"]["stored"] == notice.text_sha256
    assert ev["text_sha256"]["computed"] != notice.text_sha256
    assert ev["html_sha256"]["matches"] is True


async def test_the_printable_view_shows_the_record_without_script(api: httpx.AsyncClient) -> None:
    notice = await acknowledgement(api)
    as_sent_through_sendgrid(notice.id)
    add_event(notice.id, "ev-delivered", "delivered", dt.datetime(2026, 11, 2, 15, tzinfo=UTC))
    r = await api.get(f"/api/notices/{notice.id}/evidence", params={"format": "html"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "script-src" not in r.headers["content-security-policy"]  # default-src 'none'
    page = r.text
    assert "<script" not in page.lower()
    assert "Master Services Agreement (reference)" in page
    assert "Example Enterprise Inc." in page and "Example Communications Platform LLC" in page
    assert notice.text_sha256 in page and notice.html_sha256 in page
    assert "Matches: the body is unchanged" in page
    assert "Deemed received Mon 2 Nov 2026 10:00 New York time" in page
    assert "ev-delivered" in page and "acknowledge_termination_notice" in page
    # The notice's HTML sits escaped inside a sandboxed frame, not in the page itself.
    assert '<iframe sandbox="" srcdoc="&lt;!doctype html&gt;' in page
    assert "@media print" in page


async def test_an_unknown_notice_has_no_evidence(api: httpx.AsyncClient) -> None:
    for params in ({}, {"format": "html"}):
        r = await api.get("/api/notices/ntc_nope/evidence", params=params)
        assert r.status_code == 404 and "ntc_nope" in r.json()["detail"]
    r = await api.get("/api/notices/ntc_nope/evidence", params={"format": "pdf"})
    assert r.status_code == 422
