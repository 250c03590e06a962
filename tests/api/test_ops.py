"""The case list's stuck / escalated / due-soon filters, counts per state, /api/ops/summary."""

from __future__ import annotations

import datetime as dt

import httpx
from sqlmodel import Session
from temporalio.client import Client

from rules.rulebook import COULD_NOT_START, COULD_NOT_START_LABEL
from store.db import get_engine
from store.models import DeadlineAmendment
from tests.api.helpers import (
    NOW,
    SENDGRID_DOWN,
    a_case,
    a_case_that_could_not_start,
    an_overdue_breach_case,
    failing,
    seed,
)
from tests.workflows.helpers import case_row, eventually, open_case


def _seed_the_usual_mix() -> None:
    seed(
        a_case("case_quiet"),
        a_case(
            "case_failing",
            next_deadline_at=NOW + dt.timedelta(days=2),
            **SENDGRID_DOWN,
        ),
        # Failed once, a moment ago: not stuck yet (below 3 attempts and 600 s).
        a_case("case_blip", **failing("send_notice", 1, dt.timedelta(seconds=5), "timeout")),
        # Failing for an hour with few attempts (long backoff): stuck by time.
        a_case(
            "case_slow_failure",
            next_deadline_at=NOW + dt.timedelta(days=90),
            **failing("record_step", 2, dt.timedelta(hours=1), "database is locked"),
        ),
        an_overdue_breach_case(),
        a_case(
            "case_escalated",
            state="terminated",
            state_label="Terminated",
            escalated=True,
            escalation_reason="written notice termination_notice was not delivered (bounce)",
            next_deadline_at=NOW + dt.timedelta(days=6),
        ),
    )


async def _ids(api: httpx.AsyncClient, **params: object) -> list[str]:
    r = await api.get("/api/cases", params=params)
    assert r.status_code == 200, r.text
    return [c["id"] for c in r.json()["items"]]


async def test_stuck_filter_finds_failing_activities_and_cases_overdue_in_their_state(
    api: httpx.AsyncClient,
) -> None:
    _seed_the_usual_mix()
    assert await _ids(api, stuck="true") == ["case_failing", "case_slow_failure", "case_overdue"]
    assert await _ids(api, stuck="false") == ["case_escalated", "case_blip", "case_quiet"]


async def test_each_stuck_case_says_why(api: httpx.AsyncClient) -> None:
    _seed_the_usual_mix()
    items = {c["id"]: c for c in (await api.get("/api/cases")).json()["items"]}
    (failing,) = items["case_failing"]["stuck_reasons"]
    assert failing.startswith("send notice has failed 5 times since ")
    assert failing.endswith(": SendGrid answered 500: Internal Server Error")
    (overdue,) = items["case_overdue"]["stuck_reasons"]
    assert overdue.startswith(
        "has stayed in \u201cBreach discovered; the Customer must be notified by the deadline\u201d"
        " for 9 days since "
    )
    assert overdue.endswith("its rulebook expects at most 3 days")
    assert items["case_blip"]["stuck_reasons"] == []
    assert items["case_quiet"]["stuck_reasons"] == []


async def test_escalated_and_due_within_filters(api: httpx.AsyncClient) -> None:
    _seed_the_usual_mix()
    assert await _ids(api, escalated="true") == ["case_escalated"]
    assert "case_escalated" not in await _ids(api, escalated="false")
    assert await _ids(api, within_days=7) == ["case_failing", "case_escalated"]
    assert await _ids(api, within_days=7, stuck="true") == ["case_failing"]
    items = (await api.get("/api/cases", params={"escalated": "true"})).json()["items"]
    assert items[0]["escalation_reason"].startswith("written notice termination_notice")


async def test_counts_per_state_apply_every_filter_but_the_state(api: httpx.AsyncClient) -> None:
    _seed_the_usual_mix()
    body = (await api.get("/api/cases", params={"state": "terminated"})).json()
    assert body["total"] == 1
    assert body["counts_by_state"] == {
        "notification_pending": 1,
        "notice_period_running": 4,
        "terminated": 1,
    }
    body = (await api.get("/api/cases", params={"stuck": "true"})).json()
    assert body["counts_by_state"] == {"notification_pending": 1, "notice_period_running": 2}


async def test_bad_filter_values_are_422s_that_name_the_field(api: httpx.AsyncClient) -> None:
    r = await api.get("/api/cases", params={"within_days": "-1"})
    assert r.status_code == 422 and "within_days" in r.text
    r = await api.get("/api/cases", params={"stuck": "maybe"})
    assert r.status_code == 422 and "stuck" in r.text


async def test_ops_summary_counts_what_alerting_needs(api: httpx.AsyncClient) -> None:
    _seed_the_usual_mix()
    with Session(get_engine()) as s:
        s.add(
            DeadlineAmendment(
                case_id="case_quiet",
                amendment_id="amd-4",
                deadline="effective_date",
                from_due_at=NOW,
                to_due_at=NOW + dt.timedelta(days=7),
                reason="parties agreed in writing",
                proposed_by="op@example.com",
                proposed_at=NOW,
                status="pending",
            )
        )
        s.commit()
    r = await api.get("/api/ops/summary")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["open_cases"] == 6
    assert body["stuck"] == 3
    assert body["stuck_failing_activity"] == 2
    assert body["stuck_overdue_in_state"] == 1
    assert body["failing_activity"] == 3
    assert body["escalated"] == 1
    assert body["deadlines_within_7_days"] == 2
    assert body["pending_amendments"] == 1
    assert body["thresholds"] == {"stuck_after_attempts": 3, "stuck_after_seconds": 600}
    by = {(r["clause"], r["state"]): r["count"] for r in body["open_by_clause_and_state"]}
    assert by[("security_breach", "notification_pending")] == 1


async def test_ops_summary_counts_cases_whose_workflow_code_fails(
    api: httpx.AsyncClient,
) -> None:
    seed(
        a_case(
            "case_code_fails",
            **failing(
                "workflow_task", 4, dt.timedelta(minutes=20), "[TMPRL1100] Nondeterminism error"
            ),
        ),
        a_case("case_mail_fails", failing_activity="send_notice", failing_attempts=4),
    )
    body = (await api.get("/api/ops/summary")).json()
    assert body["failing_workflow_code"] == 1
    assert body["failing_activity"] == 2 and body["stuck_failing_activity"] == 2


async def test_stuck_thresholds_are_settings(api: httpx.AsyncClient, monkeypatch: object) -> None:
    import pytest

    from runtime.settings import get_settings

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    _seed_the_usual_mix()
    monkeypatch.setenv("STUCK_AFTER_ATTEMPTS", "1")
    get_settings.cache_clear()
    try:
        assert "case_blip" in await _ids(api, stuck="true")
    finally:
        monkeypatch.delenv("STUCK_AFTER_ATTEMPTS")
        get_settings.cache_clear()


# ------------------------------------------- cases that have not taken their first step


def _seed_cases_that_did_not_start() -> None:
    opening = {"state": "opened", "state_label": "Starting: waiting for its first step"}
    seed(
        a_case("case_quiet", last_step=4),
        # Opened an hour ago and no worker has recorded its first step: stuck.
        a_case(
            "case_not_started",
            **opening,
            opened_at=NOW - dt.timedelta(hours=1),
            next_deadline_at=None,
            next_deadline_name=None,
        ),
        # Opened a moment ago: its worker has time yet.
        a_case(
            "case_starting",
            **opening,
            opened_at=NOW - dt.timedelta(seconds=5),
            next_deadline_at=None,
            next_deadline_name=None,
        ),
        # Its first step failed for good: the workflow recorded why and waits for an operator.
        a_case_that_could_not_start(
            "case_could_not_start",
            "notice_received_at 0001-01-01 is too early to count a deadline from",
        ),
    )


async def test_a_case_that_has_not_taken_its_first_step_is_stuck_after_the_threshold(
    api: httpx.AsyncClient,
) -> None:
    _seed_cases_that_did_not_start()
    assert await _ids(api, stuck="true") == ["case_could_not_start", "case_not_started"]
    assert await _ids(api, stuck="false") == ["case_quiet", "case_starting"]
    items = {c["id"]: c for c in (await api.get("/api/cases")).json()["items"]}
    (not_started,) = items["case_not_started"]["stuck_reasons"]
    assert not_started.startswith("has not taken its first step since ")
    assert "is a worker running for task queue \u201c" in not_started
    assert items["case_starting"]["stuck_reasons"] == []
    (could_not,) = items["case_could_not_start"]["stuck_reasons"]
    assert could_not.startswith(
        "the case could not take its first step: notice_received_at 0001-01-01 is too early"
    )
    assert could_not.endswith("cancel it, and start a new case with the facts corrected")
    # Each answers GET /api/cases/{id}, with the same words.
    for case_id in ("case_not_started", "case_starting", "case_could_not_start"):
        r = await api.get(f"/api/cases/{case_id}")
        assert r.status_code == 200, r.text
        assert r.json()["stuck_reasons"] == items[case_id]["stuck_reasons"]


async def test_ops_summary_counts_cases_that_did_not_start(api: httpx.AsyncClient) -> None:
    _seed_cases_that_did_not_start()
    body = (await api.get("/api/ops/summary")).json()
    assert body["open_cases"] == 4
    assert body["stuck"] == 2
    assert body["stuck_not_started"] == 1
    assert body["stuck_could_not_start"] == 1
    assert body["stuck_failing_activity"] == 0 and body["stuck_overdue_in_state"] == 0
    by = {(r["clause"], r["state"]): r["count"] for r in body["open_by_clause_and_state"]}
    assert by[("termination_for_convenience", "opened")] == 2


async def test_a_case_that_could_not_start_is_stuck_until_closed(api: httpx.AsyncClient) -> None:
    seed(
        a_case(
            "case_cancelled",
            state="cancelled",
            state_label="Cancelled by an operator",
            closed=True,
            last_step=2,
        ),
        # Its escalation resolved, but the case still open: stuck, in general words.
        a_case(
            "case_could_not_start",
            state=COULD_NOT_START,
            state_label=COULD_NOT_START_LABEL,
            last_step=2,
        ),
    )
    assert await _ids(api, stuck="true") == ["case_could_not_start"]
    (item,) = (await api.get("/api/cases", params={"stuck": "true"})).json()["items"]
    assert item["stuck_reasons"][0].startswith("the case could not take its first step.")


async def test_a_case_whose_first_step_cannot_be_taken_is_stuck_until_an_operator_cancels_it(
    api: httpx.AsyncClient, worker: Client, task_queue: str
) -> None:
    # Past the API's checks (a start made straight on Temporal): the deadlines overflow.
    facts = {"notice_received_at": "9999-12-01T15:00:00Z", "given_by": "customer"}
    handle = await open_case(worker, task_queue, "termination_for_convenience", facts)
    await eventually(lambda: (c := case_row(handle.id)) is not None and c.state == COULD_NOT_START)
    (item,) = (await api.get("/api/cases", params={"stuck": "true"})).json()["items"]
    assert item["id"] == handle.id and item["state_label"] == COULD_NOT_START_LABEL
    (reason,) = item["stuck_reasons"]
    assert reason.startswith("the case could not take its first step: deadline")
    assert reason.endswith("cancel it, and start a new case with the facts corrected")
    summary = (await api.get("/api/ops/summary")).json()
    assert summary["stuck"] == 1 and summary["stuck_could_not_start"] == 1

    r = await api.post(
        f"/api/cases/{handle.id}/close",
        json={"outcome": "cancelled", "reason": "opened with a typo in the notice's date"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "cancelled" and r.json()["stuck_reasons"] == []
    assert (await api.get("/api/ops/summary")).json()["stuck"] == 0
