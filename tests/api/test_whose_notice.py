"""Whose notice, as people see it: the what-if says what we send and what we expect,
the case keeps the other party's notice as expected until a person records it, and the
console says which side we are and separates what we sent from what we received.

The SLA audit from the Customer's side (the reference MSA's): our notice of audit is
ours to give, and the Provider's reply naming its contact is due by the time the audit
may begin.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlmodel import Session

from rules.rulebook import default_registry
from store.db import get_engine
from store.models import Notice
from tests.api.helpers import CASES_URL, a_case, seed
from tests.api.test_console import SignIn, csrf_of, sign_in, text_of  # noqa: F401

NEW_YORK = ZoneInfo("America/New_York")
REPLY = "We name Jo Field (jo.field@provider.example.com) as your auditors' contact."


def audit_facts() -> dict[str, Any]:
    requested = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)
    return {"requested_at": requested.isoformat(), "scope": "uptime of the last quarter"}


async def start_audit(api: httpx.AsyncClient, key: str) -> str:
    r = await api.post(
        CASES_URL,
        json={"clause": "sla_audit", "facts": audit_facts()},
        headers={"Idempotency-Key": key},
    )
    assert r.status_code == 201, r.text
    case_id: str = r.json()["id"]
    return case_id


async def detail(api: httpx.AsyncClient, case_id: str) -> dict[str, Any]:
    r = await api.get(f"/api/cases/{case_id}")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_the_what_if_lists_what_we_send_and_what_we_expect(api: httpx.AsyncClient) -> None:
    r = await api.post(
        "/api/contracts/ctr_reference_msa/what-if",
        json={"clause": "sla_audit", "facts": audit_facts()},
    )
    assert r.status_code == 200, r.text
    plan = r.json()
    assert plan["our_side"] == "customer"
    assert [(p["notice"], p["sender"]) for p in plan["we_send"]] == [("audit_notice", "customer")]
    [reply] = plan["we_expect"]
    assert (reply["notice"], reply["sender"], reply["expected_by"]) == (
        "audit_reply",
        "provider",
        "audit_may_begin",
    )
    may_begin = {d["name"]: d["due_at"] for d in plan["deadlines"]}["audit_may_begin"]
    assert reply["due_at"] == may_begin
    # The other party's notice is expected, never decided as one to send.
    assert ("expect_notice", "audit_reply") in [
        (d["action"], d["value"]) for d in plan["decisions"]
    ]
    assert "audit_reply" not in [
        d["value"] for d in plan["decisions"] if d["action"] == "send_notice"
    ]


async def test_the_providers_reply_is_expected_until_a_person_records_it(
    api: httpx.AsyncClient,
) -> None:
    case_id = await start_audit(api, "audit-reply")
    case = await _with_expected(api, case_id)
    assert case["our_side"] == "customer"
    [reply] = case["expected_notices"]
    assert (reply["notice"], reply["sender"], reply["status"]) == (
        "audit_reply",
        "provider",
        "expected",
    )
    due = {d["name"]: d["due_at"] for d in case["deadlines"]}["audit_may_begin"]
    assert reply["due_at"] == due
    assert "audit_reply" not in [n["notice"] for n in case["notices"]]  # never written
    assert [e["kind"] for e in case["timeline"]].count("expected") == 1

    received = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=5)
    r = await api.post(
        f"/api/cases/{case_id}/facts",
        json={
            "fact": "audit_reply_received",
            "values": {"received_at": received.isoformat(), "notice_text": REPLY},
            "recorded_by": "priya@customer.example.com",
        },
    )
    assert r.status_code == 200, r.text
    case = await detail(api, case_id)
    [reply] = case["expected_notices"]
    assert reply["status"] == "received"
    assert dt.datetime.fromisoformat(reply["received_at"]) == received
    assert reply["recorded_by"].endswith("for priya@customer.example.com")
    assert reply["text_sha256"] == hashlib.sha256(REPLY.encode()).hexdigest()
    got = [e for e in case["timeline"] if e["kind"] == "received"]
    assert got and "Example Communications Platform LLC" in got[0]["title"]


async def _with_expected(api: httpx.AsyncClient, case_id: str) -> dict[str, Any]:
    """The case once its first step is recorded with the notice it expects."""
    for _ in range(200):
        case = await detail(api, case_id)
        if case["expected_notices"]:
            return case
        await asyncio.sleep(0.05)
    raise AssertionError("the case never expected the Provider's reply")


async def test_the_console_shows_our_side_and_takes_the_received_text_as_a_file(
    api: httpx.AsyncClient,
    sign_in: SignIn,  # noqa: F811
) -> None:
    case_id = await start_audit(api, "audit-console")
    await _with_expected(api, case_id)
    client = await sign_in("operator")
    page = await client.get(f"/console/cases/{case_id}")
    text = text_of(page.text)
    assert "We are the Customer (Example Enterprise Inc.)" in text
    assert "We expect or received" in text and "from the provider · expected due by" in text
    assert 'name="audit_reply_received.notice_text.file"' in page.text

    # The console's datetime field has minutes; the reply came after the notice was given.
    received = dt.datetime.now(NEW_YORK).replace(second=0, microsecond=0)
    form = {
        "csrf_token": csrf_of(page.text),
        "fact": "audit_reply_received",
        "audit_reply_received.received_at": received.replace(tzinfo=None).isoformat(),
        "reason": "the reply came by email",
    }
    bad = await client.post(
        f"/console/cases/{case_id}/facts",
        data=form,
        files={"audit_reply_received.notice_text.file": ("reply.txt", b"\xff\xfe\x00bad")},
    )
    assert bad.status_code == 422, bad.text
    assert "notice_text: the file is not plain text" in text_of(bad.text)

    ok = await client.post(
        f"/console/cases/{case_id}/facts",
        data=form,
        files={"audit_reply_received.notice_text.file": ("reply.txt", REPLY.encode())},
    )
    assert ok.status_code == 303, ok.text
    case = await detail(api, case_id)
    [reply] = case["expected_notices"]
    assert reply["status"] == "received" and reply["notice_text"] == REPLY
    page = text_of((await client.get(f"/console/cases/{case_id}")).text)
    assert "received" in page and "recorded by" in page and REPLY in page


# -------------------------------------------- older cases that spoke for the other party


def _sent(case_id: str, notice: str, clause: str) -> Notice:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    return Notice(
        id=f"ntc_{case_id}_{notice}",
        case_id=case_id,
        notice_key=f"{notice}:started",
        notice=notice,
        clause=clause,
        to=["legal@customer.example.com"],
        cc=[],
        subject=notice,
        body_text="text",
        body_html="<p>html</p>",
        channel="outbox",
        status="outboxed",
        due_at=now,
        created_at=now,
        sent_at=now,
    )


async def test_older_cases_that_sent_the_other_partys_notices_are_listed(
    api: httpx.AsyncClient,
    sign_in: SignIn,  # noqa: F811
) -> None:
    received = (dt.datetime.now(dt.UTC) - dt.timedelta(days=40)).replace(microsecond=0)
    invoice = {"invoice_received_at": received.isoformat(), "invoice_amount": "100.00"}
    seed(
        # v1 wrote the Provider's overdue notice to the Customer, from the Customer's side.
        a_case("case_v1_overdue", clause="invoice_payment", state="overdue", facts=invoice),
        a_case("case_v1_paid", clause="invoice_payment", state="paid", closed=True, facts=invoice),
        # The acknowledgement of the Provider's notice is ours: nothing to list.
        a_case("case_v1_ack", facts={"given_by": "provider"}),
        # A case on the current version speaks only for us.
        a_case(
            "case_v3_invoice",
            clause="invoice_payment",
            rulebook_version=default_registry().latest("invoice_payment").version,
            state="overdue",
            facts=invoice,
        ),
    )
    with Session(get_engine()) as s:
        s.add(_sent("case_v1_overdue", "payment_overdue", "invoice_payment"))
        s.add(_sent("case_v1_paid", "payment_overdue", "invoice_payment"))
        s.add(_sent("case_v1_ack", "acknowledgement", "termination_for_convenience"))
        s.commit()
    r = await api.get("/api/ops/cases-in-the-other-partys-name")
    assert r.status_code == 200, r.text
    listed = {c["case_id"]: c for c in r.json()}
    assert set(listed) == {"case_v1_overdue", "case_v1_paid"}
    open_case = listed["case_v1_overdue"]
    assert (open_case["our_side"], open_case["sent"]) == ("customer", ["payment_overdue"])
    # What its rulebook may still send that is the Provider's (open cases only).
    assert open_case["may_yet_send"] == ["invoice_received"]
    assert listed["case_v1_paid"]["may_yet_send"] == []
    assert list(listed) == ["case_v1_overdue", "case_v1_paid"]  # open cases first
    # The console lists them too, for a person to decide what to do with each.
    viewer = await sign_in("viewer")
    page = await viewer.get("/console/cases-in-the-other-partys-name")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "case_v1_overdue invoice payment v1 overdue the customer payment overdue" in text
    assert "case_v1_paid" in text and "case_v1_ack" not in text and "case_v3_invoice" not in text
    assert 'href="/console/cases-in-the-other-partys-name"' in page.text  # in the main menu
