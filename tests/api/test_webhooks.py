"""SendGrid's Event Webhook: signatures, idempotent storage, delivery status, failures."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlmodel import Session, col, select
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.main import create_app
from contracts.terms import NoticeTerms
from runtime.settings import get_settings
from store.contracts import create_contract
from store.db import get_engine
from store.models import AuditEntry, Case, Notice, NoticeEvent
from tests.api.helpers import withdrawal_agreed
from tests.conftest import shared_path
from tests.dates import notice_days_ago
from tests.workflows.helpers import eventually, notices, seed_reference_contract
from workers.seed import reference_term_sheet

URL = "/webhooks/sendgrid"
SIG = "X-Twilio-Email-Event-Webhook-Signature"
TS = "X-Twilio-Email-Event-Webhook-Timestamp"
CASES = "/api/contracts/ctr_reference_msa/cases"
#: Received yesterday: from a fixed date the case would, in time, send reminders too.
# The Provider gave notice: our acknowledgement is the notice that goes out (and bounces).
FACTS = {"notice_received_at": notice_days_ago(1), "given_by": "provider"}
EXAMPLE_MESSAGE_ID = "14c5d75ce93.dfd.64b469"  # the X-Message-Id behind the examples


def example(name: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(shared_path("sendgrid", "events", name).read_text())
    return data


def one_event(name: str, **changes: Any) -> dict[str, Any]:
    event = copy.deepcopy(example(name)[0])
    event.update(changes)
    return event


def for_notice(name: str, notice: Notice, **changes: Any) -> dict[str, Any]:
    """An example event rewritten to carry the custom args of ``notice``."""
    return one_event(
        name,
        notice_id=notice.id,
        case_id=notice.case_id,
        sg_event_id=f"evt-{uuid.uuid4().hex}",
        **changes,
    )


class Signer:
    """Signs bodies as SendGrid does, with a key pair made for the test."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        der = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.public_b64 = base64.b64encode(der).decode()

    def headers(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        sig = self.key.sign(ts.encode() + body, ec.ECDSA(hashes.SHA256()))
        return {SIG: base64.b64encode(sig).decode(), TS: ts, "Content-Type": "application/json"}


class RecordingTemporal:
    """A Temporal client stand-in: records signals, or fails them like a down server."""

    def __init__(self, status: RPCStatusCode | None = None) -> None:
        self.status = status
        self.signals: list[tuple[str, Any]] = []

    def get_workflow_handle(self, workflow_id: str) -> Any:
        outer = self

        class Handle:
            async def signal(self, _signal: Any, arg: Any) -> None:
                if outer.status is not None:
                    raise RPCError("temporal says no", outer.status, b"")
                outer.signals.append((workflow_id, arg))

        return Handle()


@pytest.fixture
def signer(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Signer]:
    s = Signer()
    monkeypatch.setenv("SENDGRID_WEBHOOK_PUBLIC_KEY", s.public_b64)
    monkeypatch.setenv("SENDGRID_WEBHOOK_MAX_AGE_SECONDS", "600")
    get_settings.cache_clear()
    yield s
    get_settings.cache_clear()


@pytest.fixture
def temporal() -> RecordingTemporal:
    return RecordingTemporal()


@pytest.fixture
async def hook(signer: Signer, temporal: RecordingTemporal) -> AsyncIterator[httpx.AsyncClient]:
    """The API without a Temporal server: signals go to ``temporal``."""
    app = create_app()
    app.state.temporal = temporal
    seed_reference_contract()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://clauseflow.test") as c:
        yield c


async def post_events(
    client: httpx.AsyncClient, signer: Signer, events: Any, timestamp: int | None = None
) -> httpx.Response:
    body = json.dumps(events).encode()
    return await client.post(URL, content=body, headers=signer.headers(body, timestamp))


def stored_events() -> list[NoticeEvent]:
    with Session(get_engine()) as s:
        return list(s.exec(select(NoticeEvent).order_by(col(NoticeEvent.id))))


def notice_row(notice_id: str) -> Notice:
    with Session(get_engine()) as s:
        n = s.get(Notice, notice_id)
        assert n is not None
        return n


def make_notice(
    *,
    deemed_receipt: Literal["delivered", "sent"] = "delivered",
    sent_at: dt.datetime | None = None,
    to: list[str] | None = None,
    cc: list[str] | None = None,
    provider_message_id: str | None = None,
) -> Notice:
    """A sent notice of a case of its own, on a contract with the given deemed-receipt term."""
    now = dt.datetime.now(dt.UTC)
    terms = reference_term_sheet()
    terms.notices = NoticeTerms(deemed_receipt=deemed_receipt)
    with Session(get_engine(), expire_on_commit=False) as s:
        contract = create_contract(s, terms, actor="test")
        case = Case(
            id=f"case_{uuid.uuid4().hex}",
            contract_id=contract.id,
            clause="termination_for_convenience",
            rulebook_version=1,
            state="notice_period_running",
            state_label="Notice period running",
            facts={},
            opened_at=now,
            updated_at=now,
        )
        notice = Notice(
            id=f"ntc_{uuid.uuid4().hex[:16]}",
            case_id=case.id,
            notice_key="acknowledgement:started",
            notice="acknowledgement",
            clause="termination_for_convenience",
            to=to or ["example@test.com"],
            cc=cc or [],
            subject="Acknowledgement",
            body_text="text",
            body_html="<p>html</p>",
            channel="sendgrid",
            status="sent",
            provider_message_id=provider_message_id,
            due_at=now,
            created_at=now,
            sent_at=sent_at or now,
        )
        s.add(case)
        s.flush()
        s.add(notice)
        s.commit()
    return notice


# -- signature -----------------------------------------------------------------------


async def test_a_correctly_signed_batch_is_accepted_and_stored(
    hook: httpx.AsyncClient, signer: Signer
) -> None:
    r = await post_events(hook, signer, example("delivered.json"))
    assert r.status_code == 200, r.text
    assert r.json()["stored"] == 1
    assert [e.sg_event_id for e in stored_events()] == ["rWVYmVk90MjZJ9iohOBa3w=="]


def _unsigned(body: bytes, signer: Signer) -> dict[str, str]:
    return {TS: str(int(time.time()))}


def _other_key(body: bytes, signer: Signer) -> dict[str, str]:
    return Signer().headers(body)


def _tampered(body: bytes, signer: Signer) -> dict[str, str]:
    return signer.headers(body.replace(b"delivered", b"bounce"))


def _garbage(body: bytes, signer: Signer) -> dict[str, str]:
    return {**signer.headers(body), SIG: "not base64 at all!"}


def _signed_with_another_timestamp(body: bytes, signer: Signer) -> dict[str, str]:
    headers = signer.headers(body)
    headers[TS] = str(int(headers[TS]) - 1)
    return headers


@pytest.mark.parametrize(
    "make_headers", [_unsigned, _other_key, _tampered, _garbage, _signed_with_another_timestamp]
)
async def test_a_missing_or_bad_signature_is_403_and_stores_nothing(
    hook: httpx.AsyncClient, signer: Signer, make_headers: Any
) -> None:
    body = json.dumps(example("delivered.json")).encode()
    r = await hook.post(URL, content=body, headers=make_headers(body, signer))
    assert r.status_code == 403, r.text
    assert stored_events() == []


# A few seconds past the 600 s tolerance: the test's whole-second timestamp and the time
# the request takes on a busy machine must not bring it back inside.
@pytest.mark.parametrize("offset", [-605, -3600, 605, 86400])
async def test_a_timestamp_outside_the_tolerance_is_403(
    hook: httpx.AsyncClient, signer: Signer, offset: int
) -> None:
    r = await post_events(hook, signer, example("delivered.json"), int(time.time()) + offset)
    assert r.status_code == 403
    assert "seconds" in r.json()["detail"]
    assert stored_events() == []


async def test_a_timestamp_within_the_tolerance_is_accepted(
    hook: httpx.AsyncClient, signer: Signer
) -> None:
    r = await post_events(hook, signer, example("delivered.json"), int(time.time()) - 500)
    assert r.status_code == 200


async def test_without_a_configured_key_every_request_is_refused(
    hook: httpx.AsyncClient, signer: Signer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SENDGRID_WEBHOOK_PUBLIC_KEY")
    get_settings.cache_clear()
    r = await post_events(hook, signer, example("delivered.json"))
    assert r.status_code == 403
    assert "not configured" in r.json()["detail"]
    r = await hook.post(URL, json=example("delivered.json"))
    assert r.status_code == 403
    assert stored_events() == []


@pytest.mark.parametrize(
    "body", [b"{not json", b'{"event": "delivered"}', b'"text"', b"[1, 2]", b"\xff\xfe"]
)
async def test_a_body_that_is_not_an_array_of_events_is_400(
    hook: httpx.AsyncClient, signer: Signer, body: bytes
) -> None:
    r = await hook.post(URL, content=body, headers=signer.headers(body))
    assert r.status_code == 400, r.text
    assert stored_events() == []


# -- storage -------------------------------------------------------------------------


def _example_files() -> list[Path]:
    files = sorted(shared_path("sendgrid", "events").glob("*.json"))
    assert len(files) >= 15, "the SendGrid example events are missing from ../shared"
    return files


async def test_every_example_event_file_is_stored_whole_with_unknown_fields(
    hook: httpx.AsyncClient, signer: Signer
) -> None:
    for path in _example_files():
        events = json.loads(path.read_text())
        before = len(stored_events())
        r = await post_events(hook, signer, events)
        assert r.status_code == 200, (path.name, r.text)
        new = stored_events()[before:]
        # Each event is kept exactly as SendGrid sent it, unknown fields and types included.
        for row in new:
            assert row.payload in events, path.name
            assert row.event == row.payload["event"]
        assert r.json()["stored"] == len(new)
        assert r.json()["stored"] + r.json()["duplicates"] == len(events)
    payloads = [e.payload for e in stored_events()]
    assert {"name": "new_MY_test", "id": 210} in [p.get("pool") for p in payloads]
    assert any(p.get("asm_group_id") == 10 for p in payloads)
    assert any(p.get("category") == ["newuser", "transactional"] for p in payloads)
    assert {"group_unsubscribe", "group_resubscribe", "click", "unsubscribe"} <= {
        e.event for e in stored_events()
    }
    assert all(e.notice_id is None for e in stored_events())  # no such notices here


async def test_events_without_an_sg_event_id_are_each_stored_once(
    hook: httpx.AsyncClient, signer: Signer
) -> None:
    events = example("category_string.json")
    await post_events(hook, signer, events)
    await post_events(hook, signer, events)
    rows = stored_events()
    assert sorted(r.payload["email"] for r in rows) == sorted(e["email"] for e in events)


async def test_a_repeated_event_is_stored_once_and_changes_nothing(
    hook: httpx.AsyncClient, signer: Signer
) -> None:
    notice = make_notice()
    event = for_notice("delivered.json", notice)
    first = await post_events(hook, signer, [event])
    assert first.json()["stored"] == 1
    before = notice_row(notice.id)
    second = await post_events(hook, signer, [event])
    assert second.status_code == 200
    assert second.json() == {
        "received": 1,
        "stored": 0,
        "duplicates": 1,
        "matched": 1,
        "cases_told": 0,
        "cases_ended": 0,
    }
    assert len(stored_events()) == 1
    after = notice_row(notice.id)
    assert (after.delivery_status, after.delivered_at) == (
        before.delivery_status,
        before.delivered_at,
    )


async def test_the_same_sg_event_id_twice_in_one_batch_is_stored_once(
    hook: httpx.AsyncClient, signer: Signer
) -> None:
    # SendGrid's all-types example gives every event the id "sg_event_id".
    events = example("all_event_types_example.json")
    r = await post_events(hook, signer, events)
    assert r.json()["stored"] == 1 and r.json()["duplicates"] == len(events) - 1
    assert [e.payload for e in stored_events()] == [events[0]]


# -- matching and status -------------------------------------------------------------


async def test_an_event_is_matched_by_its_custom_args(
    hook: httpx.AsyncClient, signer: Signer
) -> None:
    notice = make_notice()
    await post_events(hook, signer, [for_notice("processed.json", notice)])
    assert stored_events()[0].notice_id == notice.id
    assert notice_row(notice.id).delivery_status == "processed"


async def test_an_event_without_custom_args_is_matched_by_its_message_id(
    hook: httpx.AsyncClient, signer: Signer
) -> None:
    notice = make_notice(provider_message_id=EXAMPLE_MESSAGE_ID)
    other = make_notice(provider_message_id="14c5d75ce93")  # a shorter id must not match
    await post_events(hook, signer, example("delivered.json"))
    assert stored_events()[0].notice_id == notice.id
    assert notice_row(notice.id).delivery_status == "delivered"
    assert notice_row(other.id).delivery_status is None


async def test_an_event_for_no_known_notice_is_stored_without_one(
    hook: httpx.AsyncClient, signer: Signer, temporal: RecordingTemporal
) -> None:
    event = one_event("bounce.json", notice_id="ntc_unknown", case_id="case_unknown")
    r = await post_events(hook, signer, [event])
    assert r.status_code == 200 and r.json()["matched"] == 0
    assert [(e.notice_id, e.payload) for e in stored_events()] == [(None, event)]
    assert temporal.signals == []


SEQUENCE = [
    ("processed.json", "processed"),
    ("deferred.json", "deferred"),
    ("delivered.json", "delivered"),
    ("open.json", "delivered"),  # an open does not hide the delivery
    ("processed.json", "delivered"),  # nor does a late "processed"
    ("spamreport.json", "spamreport"),
    ("bounce.json", "bounce"),  # a failure wins over everything
    ("open.json", "bounce"),  # and a later open does not hide it
    ("delivered.json", "bounce"),
    ("click.json", "bounce"),  # events outside the list change nothing
]


async def test_delivery_status_follows_the_precedence_whatever_the_order(
    hook: httpx.AsyncClient, signer: Signer
) -> None:
    notice = make_notice()
    base = int(time.time()) - 3600
    for i, (name, expected) in enumerate(SEQUENCE):
        await post_events(hook, signer, [for_notice(name, notice, timestamp=base + i)])
        assert notice_row(notice.id).delivery_status == expected, (i, name)
    # The same events in reverse order end the same way.
    reverse = make_notice()
    for i, (name, _) in reversed(list(enumerate(SEQUENCE))):
        await post_events(hook, signer, [for_notice(name, reverse, timestamp=base + i)])
    assert notice_row(reverse.id).delivery_status == "bounce"
    assert len([e for e in stored_events() if e.notice_id == notice.id]) == len(SEQUENCE)


async def test_an_open_before_the_delivery_shows_until_the_delivery_arrives(
    hook: httpx.AsyncClient, signer: Signer
) -> None:
    notice = make_notice()
    await post_events(hook, signer, [for_notice("open.json", notice)])
    assert notice_row(notice.id).delivery_status == "open"
    await post_events(hook, signer, [for_notice("delivered.json", notice)])
    assert notice_row(notice.id).delivery_status == "delivered"


async def test_a_block_is_told_apart_from_a_bounce(
    hook: httpx.AsyncClient, signer: Signer, temporal: RecordingTemporal
) -> None:
    notice = make_notice()
    await post_events(hook, signer, [for_notice("blocked.json", notice)])
    assert notice_row(notice.id).delivery_status == "blocked"
    assert [(cid, f.event) for cid, f in temporal.signals] == [(notice.case_id, "blocked")]
    assert "500 unknown recipient" in temporal.signals[0][1].reason


async def test_delivered_at_and_deemed_receipt_take_the_delivered_events_time(
    hook: httpx.AsyncClient, signer: Signer
) -> None:
    sent = dt.datetime(2026, 11, 2, 15, 0, tzinfo=dt.UTC)
    notice = make_notice(deemed_receipt="delivered", sent_at=sent)
    await post_events(hook, signer, [for_notice("processed.json", notice)])
    assert notice_row(notice.id).deemed_received_at is None  # not delivered yet
    delivered = int(sent.timestamp()) + 90
    await post_events(hook, signer, [for_notice("delivered.json", notice, timestamp=delivered)])
    row = notice_row(notice.id)
    assert row.delivered_at == sent + dt.timedelta(seconds=90)
    assert row.deemed_received_at == sent + dt.timedelta(seconds=90)


async def test_deemed_receipt_is_the_sending_time_when_the_contract_says_sent(
    hook: httpx.AsyncClient, signer: Signer
) -> None:
    sent = dt.datetime(2026, 11, 2, 15, 0, tzinfo=dt.UTC)
    notice = make_notice(deemed_receipt="sent", sent_at=sent)
    delivered = int(sent.timestamp()) + 90
    await post_events(hook, signer, [for_notice("delivered.json", notice, timestamp=delivered)])
    row = notice_row(notice.id)
    assert row.delivered_at == sent + dt.timedelta(seconds=90)
    assert row.deemed_received_at == sent


async def test_a_delivery_to_a_copy_address_is_not_the_notices_delivery(
    hook: httpx.AsyncClient, signer: Signer
) -> None:
    notice = make_notice(to=["legal@customer.example.com"], cc=["counsel@law.example.com"])
    await post_events(
        hook, signer, [for_notice("delivered.json", notice, email="counsel@law.example.com")]
    )
    assert notice_row(notice.id).delivered_at is None
    await post_events(
        hook, signer, [for_notice("delivered.json", notice, email="legal@customer.example.com")]
    )
    assert notice_row(notice.id).delivered_at is not None


async def test_a_bounce_after_delivery_withdraws_the_deemed_receipt(
    hook: httpx.AsyncClient, signer: Signer
) -> None:
    notice = make_notice()
    await post_events(hook, signer, [for_notice("delivered.json", notice)])
    assert notice_row(notice.id).deemed_received_at is not None
    await post_events(hook, signer, [for_notice("bounce.json", notice)])
    row = notice_row(notice.id)
    assert row.delivery_status == "bounce" and row.delivered_at is not None
    assert row.deemed_received_at is None


# -- failures reach the case ---------------------------------------------------------


async def _running_case(api: httpx.AsyncClient) -> tuple[str, Notice]:
    r = await api.post(
        CASES,
        json={"clause": "termination_for_convenience", "facts": FACTS},
        headers={"Idempotency-Key": f"wh-{uuid.uuid4().hex}"},
    )
    assert r.status_code == 201, r.text
    case_id = r.json()["id"]

    async def outbox() -> list[dict[str, Any]]:
        return (await api.get("/api/outbox", params={"case_id": case_id})).json()["items"]

    for _ in range(200):
        if await outbox():
            break
        await _sleep()
    items = await outbox()
    assert [n["notice"] for n in items] == ["acknowledgement"]
    return case_id, notice_row(items[0]["id"])


async def _escalations(api: httpx.AsyncClient, case_id: str) -> list[dict[str, Any]]:
    case = (await api.get(f"/api/cases/{case_id}")).json()
    return [e for e in case["timeline"] if e["kind"] == "escalation"] if case["escalated"] else []


@pytest.mark.parametrize(
    ("name", "event"),
    [("bounce.json", "bounce"), ("blocked.json", "blocked"), ("dropped.json", "dropped")],
)
async def test_a_failed_notice_escalates_its_running_case(
    api: httpx.AsyncClient, signer: Signer, name: str, event: str
) -> None:
    case_id, ack = await _running_case(api)
    r = await post_events(api, signer, [for_notice(name, ack)])
    assert r.status_code == 200, r.text
    assert r.json()["cases_told"] == 1
    found: list[dict[str, Any]] = []

    async def escalated() -> bool:
        found[:] = await _escalations(api, case_id)
        return bool(found)

    for _ in range(200):
        if await escalated():
            break
        await _sleep()
    assert found, "the case did not escalate"
    assert f"written notice acknowledgement was not delivered ({event})" in found[0]["summary"]
    assert notice_row(ack.id).delivery_status == event
    timeline = (await api.get(f"/api/cases/{case_id}")).json()["timeline"]
    assert any(
        e["kind"] == "audit" and e["details"]["action"] == f"notice_{event}" for e in timeline
    )


async def test_a_bounce_for_an_ended_case_is_stored_and_answered_2xx(
    api: httpx.AsyncClient, signer: Signer, worker: Client
) -> None:
    case_id, ack = await _running_case(api)
    withdrawn = await api.post(
        f"/api/cases/{case_id}/facts",
        json=withdrawal_agreed("ops@customer.example.com"),
    )
    assert withdrawn.status_code == 200, withdrawn.text
    await worker.get_workflow_handle(case_id).result()  # the workflow has ended
    r = await post_events(api, signer, [for_notice("bounce.json", ack)])
    assert r.status_code == 200, r.text
    assert r.json()["cases_ended"] == 1 and r.json()["cases_told"] == 0
    assert notice_row(ack.id).delivery_status == "bounce"
    assert [e.notice_id for e in stored_events()] == [ack.id]
    case = (await api.get(f"/api/cases/{case_id}")).json()
    assert any(
        e["kind"] == "audit" and e["details"]["action"] == "notice_bounce" for e in case["timeline"]
    )


async def test_when_temporal_is_down_events_are_stored_the_answer_is_503_and_the_retry_escalates(
    api: httpx.AsyncClient, signer: Signer, worker: Client
) -> None:
    case_id, ack = await _running_case(api)
    event = for_notice("bounce.json", ack)
    down = create_app()
    down.state.temporal = RecordingTemporal(RPCStatusCode.UNAVAILABLE)
    transport = httpx.ASGITransport(app=down)
    async with httpx.AsyncClient(transport=transport, base_url="http://clauseflow.test") as c:
        r = await post_events(c, signer, [event])
    assert r.status_code == 503
    assert [e.sg_event_id for e in stored_events()] == [event["sg_event_id"]]
    assert not await _escalations(api, case_id)
    # SendGrid retries the same batch: nothing is stored twice, and the case is told now.
    retry = await post_events(api, signer, [event])
    assert retry.status_code == 200 and retry.json()["duplicates"] == 1
    assert retry.json()["cases_told"] == 1
    await eventually(lambda: notice_row(ack.id).delivery_status == "bounce")
    for _ in range(200):
        if await _escalations(api, case_id):
            break
        await _sleep()
    assert len(await _escalations(api, case_id)) == 1
    assert len(stored_events()) == 1
    assert notices(case_id)[0].id == ack.id
    with Session(get_engine()) as s:
        audits = s.exec(select(AuditEntry).where(AuditEntry.case_id == case_id)).all()
        assert len([a for a in audits if a.action == "notice_bounce"]) == 1


async def _sleep() -> None:
    import asyncio

    await asyncio.sleep(0.05)
