"""Cases for the API and console tests: opened through the API, or rows seeded directly."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
from fastapi import FastAPI
from sqlmodel import Session
from temporalio.client import Client

from store.db import get_engine
from store.models import Case
from tests.dates import ny_today

NOW = dt.datetime.now(dt.UTC)
CASES_URL = "/api/contracts/ctr_reference_msa/cases"
BASE_URL = "http://clauseflow.test"

#: ``client(headers=None, **httpx_options) -> client`` of one in-process app
AppClient = Callable[..., httpx.AsyncClient]


@contextlib.asynccontextmanager
async def clients_of(app: FastAPI) -> AsyncIterator[AppClient]:
    """Makes clients of the in-process ``app``; closes every one of them on the way out."""
    clients: list[httpx.AsyncClient] = []

    def client(headers: dict[str, str] | None = None, **kw: Any) -> httpx.AsyncClient:
        c = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=BASE_URL, headers=headers, **kw
        )
        clients.append(c)
        return c

    try:
        yield client
    finally:
        for c in clients:
            await c.aclose()


async def open_case(api: httpx.AsyncClient, key: str, **facts: Any) -> dict[str, Any]:
    """Starts a termination-for-convenience case through the API (as the admin token)."""
    received = (NOW - dt.timedelta(days=1)).replace(microsecond=0)
    body = {"notice_received_at": received.isoformat(), "given_by": "provider", **facts}
    r = await api.post(
        CASES_URL,
        json={"clause": "termination_for_convenience", "facts": body},
        headers={"Idempotency-Key": key},
    )
    assert r.status_code == 201, r.text
    return r.json()


async def a_case_whose_acknowledgement_bounced(api: httpx.AsyncClient, worker: Client) -> str:
    """Opens a case and tells its workflow the acknowledgement bounced (it escalates)."""
    from tests.workflows.helpers import eventually, notices
    from workflows.case import CaseWorkflow, DeliveryFailure

    case_id: str = (await open_case(api, "escalation"))["id"]
    ack = (await eventually(lambda: notices(case_id)))[0]
    await worker.get_workflow_handle(case_id).signal(
        CaseWorkflow.delivery_failed,
        DeliveryFailure(ack.notice_key, ack.notice, "bounce", "550 mailbox unavailable"),
    )
    return case_id


def withdrawal_agreed(recorded_by: str, **body: Any) -> dict[str, Any]:
    """The body of a signed withdrawal (agreed today, in New York) recorded as a fact."""
    values = {
        "customer_signatory": "A. Buyer",
        "provider_signatory": "B. Seller",
        "agreed_on": ny_today().isoformat(),
    }
    return {"fact": "withdrawal_agreed", "values": values, "recorded_by": recorded_by, **body}


async def get_ok(api: httpx.AsyncClient, url: str) -> Any:
    """The JSON body of a GET that must answer 200."""
    r = await api.get(url)
    assert r.status_code == 200, r.text
    return r.json()


async def until(
    check: Callable[[], Awaitable[Any]], timeout: float = 10.0, every: float = 0.05
) -> Any:
    """Polls an async ``check`` until it returns something truthy (else fails)."""
    end = asyncio.get_running_loop().time() + timeout
    while not (value := await check()):
        if asyncio.get_running_loop().time() > end:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(every)
    return value


def seed(*cases: Case) -> None:
    """Writes case rows straight to the store (no workflow behind them)."""
    with Session(get_engine()) as s:
        for c in cases:
            s.add(c)
        s.commit()


def a_case(case_id: str, **kw: Any) -> Case:
    """A running termination case row, 30 days before its effective date; ``kw`` overrides."""
    values: dict[str, Any] = dict(
        id=case_id,
        contract_id="ctr_reference_msa",
        clause="termination_for_convenience",
        rulebook_version=1,
        state="notice_period_running",
        state_label="Notice period running; the termination takes effect on the effective date",
        facts={},
        opened_at=NOW - dt.timedelta(days=3),
        updated_at=NOW,
        next_deadline_at=NOW + dt.timedelta(days=30),
        next_deadline_name="effective_date",
    )
    values.update(kw)
    return Case(**values)


def failing(activity: str, attempts: int, for_: dt.timedelta, last_failure: str) -> dict[str, Any]:
    """A case row's columns when ``activity`` has failed ``attempts`` times for ``for_``.

    Counted from the moment it is called, not from ``NOW``: a suite run takes minutes,
    and a failure "a moment ago" must not have become one older than the stuck threshold
    (600 s) by the time a late test seeds it.
    """
    return dict(
        failing_activity=activity,
        failing_attempts=attempts,
        failing_since=dt.datetime.now(dt.UTC) - for_,
        last_failure=last_failure,
    )


#: SendGrid down for three minutes: five failed attempts at sending a notice.
SENDGRID_DOWN = failing(
    "send_notice", 5, dt.timedelta(minutes=3), "SendGrid answered 500: Internal Server Error"
)


def an_overdue_breach_case(case_id: str = "case_overdue") -> Case:
    """A security-breach case 9 days in a state its rulebook expects to last 3 at most."""
    return a_case(
        case_id,
        clause="security_breach",
        state="notification_pending",
        state_label="Breach discovered; the Customer must be notified by the deadline",
        state_entered_at=NOW - dt.timedelta(days=9),
        dwell_overdue_at=NOW - dt.timedelta(days=6),
        next_deadline_at=None,
        next_deadline_name=None,
    )


def a_case_without_a_next_deadline(case_id: str, at: dt.datetime, **kw: Any) -> Case:
    """A case row opened and last updated ``at``, no next deadline on it; ``kw`` overrides."""
    when: dict[str, Any] = dict(opened_at=at, updated_at=at)
    return a_case(case_id, **when, next_deadline_at=None, next_deadline_name=None, **kw)


def person_with_tokens(email: str, role: str, *names: str) -> tuple[str, list[dict[str, str]]]:
    """A user and tokens made for them (``user_id``): one person, several credentials.

    Returns:
        The user's id, and the ``Authorization`` headers of each token, in order.
    """
    from store.auth import create_token, create_user

    with Session(get_engine(), expire_on_commit=False) as s:
        user = create_user(s, email, role, "a long enough passphrase", created_by="tests")
        made = [create_token(s, n, role, created_by="tests", user_id=user.id) for n in names]
        s.commit()
    return user.id, [{"Authorization": f"Bearer {plaintext}"} for _, plaintext in made]


def a_case_that_could_not_start(case_id: str, reason: str, **kw: Any) -> Case:
    """A case whose first step failed for good: the workflow recorded why and escalated."""
    from rules.rulebook import COULD_NOT_START, COULD_NOT_START_LABEL

    values: dict[str, Any] = dict(
        state=COULD_NOT_START,
        state_label=COULD_NOT_START_LABEL,
        last_step=1,
        escalated=True,
        escalation_reason=f"the case could not take its first step: {reason}",
        next_deadline_at=None,
        next_deadline_name=None,
    )
    values.update(kw)
    return a_case(case_id, **values)
