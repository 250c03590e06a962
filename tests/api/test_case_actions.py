"""Operator actions over the REST API: each goes through the workflow and is audited."""

from __future__ import annotations

import datetime as dt

import httpx
from sqlmodel import Session, select
from temporalio.client import Client

from store.auth import create_token
from store.db import get_engine
from store.models import AuditEntry, Case, Deadline
from tests.api.helpers import (
    a_case_whose_acknowledgement_bounced,
    open_case,
    person_with_tokens,
    until,
)
from tests.support.fixtures import sendgrid_mock_fixture  # noqa: F401
from tests.support.sendgrid_mock import SendGridMock
from tests.workflows.helpers import audit, case_row, eventually, notices
from workflows.case import CaseWorkflow


def bearer(role: str, name: str) -> dict[str, str]:
    """Headers of a fresh token with ``role``."""
    with Session(get_engine()) as s:
        _, plaintext = create_token(s, name, role, created_by="tests")
        s.commit()
    return {"Authorization": f"Bearer {plaintext}"}


def deadline(case_id: str, name: str) -> Deadline:
    with Session(get_engine()) as s:
        row = s.exec(select(Deadline).where(Deadline.case_id == case_id, Deadline.name == name))
        return row.one()


async def test_an_amendment_moves_the_deadline_only_when_a_second_operator_approves(
    api: httpx.AsyncClient, worker: Client
) -> None:
    case = await open_case(api, "amend")
    case_id = case["id"]
    before = deadline(case_id, "effective_date")
    _, [alice] = person_with_tokens("alice@customer.example.com", "operator", "laptop")
    _, [bob] = person_with_tokens("bob@customer.example.com", "operator", "laptop")
    new_due = before.due_at + dt.timedelta(days=7)

    r = await api.post(
        f"/api/cases/{case_id}/deadlines/effective_date/amendments",
        json={"due_at": new_due.isoformat(), "reason": "parties agreed a week's extension"},
        headers=alice,
    )
    assert r.status_code == 201, r.text
    amendment_id = r.json()["amendment_id"]
    assert amendment_id and r.json()["status"] == "pending"
    assert deadline(case_id, "effective_date").due_at == before.due_at  # not yet

    # The proposer cannot approve their own amendment.
    same = await api.post(
        f"/api/cases/{case_id}/amendments/{amendment_id}/approve",
        json={"reason": "looks right"},
        headers=alice,
    )
    assert same.status_code == 409, same.text
    assert deadline(case_id, "effective_date").due_at == before.due_at

    ok = await api.post(
        f"/api/cases/{case_id}/amendments/{amendment_id}/approve",
        json={"reason": "checked against the signed letter"},
        headers=bob,
    )
    assert ok.status_code == 200, ok.text
    moved = await eventually(
        lambda: (d := deadline(case_id, "effective_date")).due_at == new_due and d
    )
    assert moved.revision == 1 and moved.original_due_at == before.due_at
    assert any("alice" in line and "bob" in line for line in moved.explanation), moved.explanation
    # The workflow's own deadline (its timer) moved too.
    view = await worker.get_workflow_handle(case_id).query(CaseWorkflow.case)
    assert {d.name: d.due_at for d in view.deadlines}["effective_date"] == new_due

    proposed = await eventually(lambda: audit(case_id, "amend_deadline"))
    approved = await eventually(lambda: audit(case_id, "approve_amendment"))
    assert proposed[0].actor == "alice@customer.example.com (token laptop)"
    assert "week's extension" in (proposed[0].reason or "")
    assert approved[0].actor == "bob@customer.example.com (token laptop)"
    assert approved[0].before and approved[0].after and approved[0].before != approved[0].after


async def test_a_rejected_amendment_leaves_the_deadline(api: httpx.AsyncClient) -> None:
    case_id = (await open_case(api, "reject"))["id"]
    before = deadline(case_id, "effective_date")
    alice = bearer("operator", "alice")
    r = await api.post(
        f"/api/cases/{case_id}/deadlines/effective_date/amendments",
        json={"due_at": (before.due_at + dt.timedelta(days=1)).isoformat(), "reason": "typo?"},
        headers=alice,
    )
    amendment_id = r.json()["amendment_id"]
    rejected = await api.post(
        f"/api/cases/{case_id}/amendments/{amendment_id}/reject",
        json={"reason": "no written agreement"},
        headers=bearer("operator", "bob"),
    )
    assert rejected.status_code == 200, rejected.text
    assert deadline(case_id, "effective_date").due_at == before.due_at
    statuses = {a["amendment_id"]: a["status"] for a in rejected.json()["amendments"]}
    assert statuses == {amendment_id: "rejected"}


async def test_bad_amendments_are_refused_with_the_reason(api: httpx.AsyncClient) -> None:
    case_id = (await open_case(api, "bad-amend"))["id"]
    url = f"/api/cases/{case_id}/deadlines/effective_date/amendments"
    past = await api.post(url, json={"due_at": "2020-01-01T00:00:00Z", "reason": "x"})
    assert past.status_code == 409 and "future" in past.text
    naive = await api.post(url, json={"due_at": "2027-04-01T00:00:00", "reason": "x"})
    assert naive.status_code == 422 and "offset" in naive.text
    unknown = await api.post(
        f"/api/cases/{case_id}/deadlines/no_such_deadline/amendments",
        json={"due_at": "2027-04-01T00:00:00Z", "reason": "x"},
    )
    assert unknown.status_code == 409 and "no_such_deadline" in unknown.text
    no_reason = await api.post(url, json={"due_at": "2027-04-01T00:00:00Z", "reason": ""})
    assert no_reason.status_code == 422 and "reason" in no_reason.text


async def test_an_operator_cancels_a_case_and_its_deadlines_stop(api: httpx.AsyncClient) -> None:
    case_id = (await open_case(api, "cancel"))["id"]
    r = await api.post(
        f"/api/cases/{case_id}/close",
        json={"outcome": "cancelled", "reason": "opened against the wrong contract"},
        headers=bearer("operator", "carol"),
    )
    assert r.status_code == 200, r.text
    row = await eventually(lambda: (c := case_row(case_id)) and c.closed and c)
    assert row.state == "cancelled"
    assert {d.status for d in [deadline(case_id, "effective_date")]} == {"cancelled"}
    (entry,) = await eventually(lambda: audit(case_id, "close_case"))
    assert entry.actor == "token:carol" and entry.reason == "opened against the wrong contract"
    again = await api.post(
        f"/api/cases/{case_id}/close", json={"outcome": "withdrawn", "reason": "again"}
    )
    assert again.status_code == 409


async def test_reassigning_the_owner_is_audited_with_before_and_after(
    api: httpx.AsyncClient,
) -> None:
    case_id = (await open_case(api, "owner"))["id"]
    r = await api.post(
        f"/api/cases/{case_id}/owner",
        json={"owner_email": "dana@customer.example.com", "reason": "Dana took over the account"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["owner_email"] == "dana@customer.example.com"
    (entry,) = await eventually(lambda: audit(case_id, "reassign_owner"))
    assert "dana@customer.example.com" in str(entry.after)
    assert "dana@customer.example.com" not in str(entry.before)
    bad = await api.post(
        f"/api/cases/{case_id}/owner", json={"owner_email": "not an email", "reason": "x"}
    )
    assert bad.status_code == 422 and "owner_email" in bad.text


async def test_resolving_an_escalation_clears_the_badge(
    api: httpx.AsyncClient, worker: Client
) -> None:
    case_id = await a_case_whose_acknowledgement_bounced(api, worker)
    row = await eventually(lambda: (c := case_row(case_id)) and c.escalated and c)
    assert "550 mailbox unavailable" in (row.escalation_reason or "")
    detail = (await api.get(f"/api/cases/{case_id}")).json()
    (esc,) = detail["escalations"]
    assert esc["resolved_at"] is None

    r = await api.post(
        f"/api/cases/{case_id}/escalations/{esc['id']}/resolve",
        json={"note": "re-sent by courier; receipt signed 3 Dec"},
        headers=bearer("operator", "erin"),
    )
    assert r.status_code == 200, r.text
    await eventually(lambda: not case_row(case_id).escalated)  # type: ignore[union-attr]
    detail = (await api.get(f"/api/cases/{case_id}")).json()
    assert detail["escalations"][0]["resolved_by"] == "token:erin"
    assert detail["escalations"][0]["resolution_note"] == "re-sent by courier; receipt signed 3 Dec"
    twice = await api.post(
        f"/api/cases/{case_id}/escalations/{esc['id']}/resolve", json={"note": "again"}
    )
    assert twice.status_code == 409 and "already resolved" in twice.text
    assert (
        await api.post(f"/api/cases/{case_id}/escalations/999999/resolve", json={"note": "x"})
    ).status_code == 404
    # Past the store's 32-bit ids: the field is named, the database never asked.
    huge = await api.post(f"/api/cases/{case_id}/escalations/{2**31}/resolve", json={"note": "x"})
    assert huge.status_code == 422 and "escalation_id" in huge.text


async def test_retry_now_is_refused_when_nothing_is_failing(
    api: httpx.AsyncClient, worker: Client
) -> None:
    case_id = (await open_case(api, "retry-idle"))["id"]
    handle = worker.get_workflow_handle(case_id)

    async def idle() -> bool:
        return not (await handle.query(CaseWorkflow.case)).inflight_activities

    await until(idle)
    r = await api.post(f"/api/cases/{case_id}/retry", json={"reason": "just in case"})
    assert r.status_code == 409, r.text
    assert r.json()["detail"]


async def test_notes_appear_on_the_timeline(api: httpx.AsyncClient) -> None:
    case_id = (await open_case(api, "note"))["id"]
    r = await api.post(
        f"/api/cases/{case_id}/notes",
        json={"note": "Called the Provider; they confirm the date."},
        headers=bearer("operator", "fay"),
    )
    assert r.status_code == 201, r.text
    # The timeline also holds what the case's contract made of its notice, timed by
    # Temporal's clock: the note is found by who wrote it, not by its place.
    audit = [e for e in r.json()["timeline"] if e["kind"] == "audit"]
    (note,) = [e for e in audit if e["details"]["actor"] == "token:fay"]
    assert "confirm the date" in note["summary"]


async def test_a_viewer_may_read_but_every_action_is_403_and_changes_nothing(
    api: httpx.AsyncClient,
) -> None:
    case_id = (await open_case(api, "viewer"))["id"]
    viewer = bearer("viewer", "vic")
    assert (await api.get(f"/api/cases/{case_id}", headers=viewer)).status_code == 200
    due = deadline(case_id, "effective_date").due_at
    attempts = [
        ("retry", {"reason": "x"}),
        ("close", {"outcome": "cancelled", "reason": "x"}),
        ("owner", {"owner_email": "v@example.com", "reason": "x"}),
        ("notes", {"note": "x"}),
        (
            "deadlines/effective_date/amendments",
            {"due_at": (due + dt.timedelta(days=1)).isoformat(), "reason": "x"},
        ),
        ("facts", {"fact": "withdrawal_agreed", "values": {}}),
    ]
    for path, body in attempts:
        r = await api.post(f"/api/cases/{case_id}/{path}", json=body, headers=viewer)
        assert r.status_code == 403, (path, r.text)
    row = case_row(case_id)
    assert row is not None and not row.closed and row.owner_email != "v@example.com"
    assert deadline(case_id, "effective_date").due_at == due
    with Session(get_engine()) as s:
        assert not s.exec(
            select(AuditEntry).where(AuditEntry.case_id == case_id, AuditEntry.actor == "token:vic")
        ).all()


async def test_a_case_row_lists_its_stuck_reason_from_the_store(api: httpx.AsyncClient) -> None:
    case_id = (await open_case(api, "stuck-row"))["id"]
    with Session(get_engine()) as s:
        row = s.get(Case, case_id)
        assert row is not None
        # record_step: its first run finished before the case answered, so no success of
        # it can clear this while the test reads (the acknowledgement's send might).
        row.failing_activity = "record_step"
        row.failing_attempts = 4
        row.failing_since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2)
        row.last_failure = "the database refused the connection"
        s.add(row)
        s.commit()
    detail = (await api.get(f"/api/cases/{case_id}")).json()
    assert detail["stuck_reasons"][0].startswith("record step has failed 4 times since ")
    assert detail["stuck_reasons"][0].endswith("the database refused the connection")
    # Temporal answers too: nothing is pending for this (healthy) workflow.
    assert detail["pending_activities"] == []


async def test_a_failing_notice_shows_temporals_failure_and_retry_now_sends_it(
    api: httpx.AsyncClient, sendgrid_mock: SendGridMock
) -> None:
    sendgrid_mock.script_send(*[500] * 50)  # SendGrid is down
    case_id = (await open_case(api, "retry-failing"))["id"]
    row = await eventually(
        lambda: (c := case_row(case_id)) and c.failing_attempts >= 2 and c, timeout=30
    )
    assert row.failing_activity == "hand_over_notice" and "500" in (row.last_failure or "")

    detail = (await api.get(f"/api/cases/{case_id}")).json()
    (pending,) = detail["pending_activities"]
    assert pending["activity"] == "hand_over_notice" and pending["attempt"] >= 2
    assert "500" in pending["last_failure"]
    assert detail["stuck_reasons"] == [] or "500" in detail["stuck_reasons"][0]

    sendgrid_mock.clear_send_script()  # SendGrid is back
    r = await api.post(
        f"/api/cases/{case_id}/retry",
        json={"reason": "SendGrid status page says resolved"},
        headers=bearer("operator", "gus"),
    )
    assert r.status_code == 200, r.text
    sent = await eventually(lambda: [n for n in notices(case_id) if n.status == "sent"], timeout=30)
    assert len(sendgrid_mock.accepted_for(sent[0].id)) == 1  # once, never twice
    cleared = await eventually(lambda: (c := case_row(case_id)) and not c.failing_activity and c)
    assert cleared.failing_attempts == 0 and cleared.last_failure is None
    (entry,) = await eventually(lambda: audit(case_id, "retry_now"))
    assert entry.actor == "token:gus" and entry.reason == "SendGrid status page says resolved"
