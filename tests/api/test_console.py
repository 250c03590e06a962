"""The ops console: sign-in, the case list, the case page and its actions, over HTTP."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import Session, select
from temporalio.client import Client

from api.console import views
from api.console.helpers import countdown
from rules.rulebook import COULD_NOT_START_LABEL, default_registry
from runtime.settings import get_settings
from store.auth import create_user
from store.db import get_engine
from store.models import (
    AuditEntry,
    Case,
    ConsoleSession,
    Contract,
    Deadline,
    Escalation,
    Notice,
)
from tests.api.conftest import ApiAs
from tests.api.helpers import (
    NOW,
    SENDGRID_DOWN,
    a_case,
    a_case_that_could_not_start,
    a_case_whose_acknowledgement_bounced,
    an_overdue_breach_case,
    failing,
    open_case,
    seed,
)
from tests.dates import described, notice_days_ago, ny_today
from tests.support.fixtures import sendgrid_mock_fixture  # noqa: F401
from tests.support.sendgrid_mock import SendGridMock
from tests.workflows.helpers import audit, case_row, eventually, notices

PASSWORD = "correct horse battery staple"

SignIn = Callable[[str], Awaitable[httpx.AsyncClient]]


def csrf_of(page: str) -> str:
    """The CSRF token a console page puts in its forms."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


async def post_form(
    client: httpx.AsyncClient,
    page: httpx.Response,
    url: str,
    fields: dict[str, str],
    **kw: Any,
) -> httpx.Response:
    """Posts a form of ``page`` as the browser would: with the page's CSRF token."""
    return await client.post(url, data={"csrf_token": csrf_of(page.text), **fields}, **kw)


def text_of(page: str) -> str:
    """A page's visible text with tags removed and whitespace collapsed, for assertions."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def add_user(email: str, role: str, password: str = PASSWORD, name: str | None = None) -> None:
    with Session(get_engine()) as s:
        create_user(s, email, role, password, display_name=name, created_by="tests")
        s.commit()


@pytest.fixture
def sign_in(api_as: ApiAs) -> SignIn:
    """Signs a new user of ``role`` in through the form; returns their browser-like client."""

    async def signed_in(role: str) -> httpx.AsyncClient:
        email = f"{role}@clauseflow.example.com"
        add_user(email, role, name=f"Pat {role.title()}")
        client = api_as(None)
        form = await client.get("/console/login")
        r = await client.post(
            "/console/login",
            data={"email": email, "password": PASSWORD, "csrf_token": csrf_of(form.text)},
        )
        assert r.status_code == 303, r.text
        return client

    return signed_in


# ------------------------------------------------------------------------------ sign in


async def test_console_pages_redirect_to_sign_in_and_come_back(api_as: ApiAs) -> None:
    anonymous = api_as(None)
    r = await anonymous.get("/console/cases/case_x?flash=noted")
    assert r.status_code == 303
    assert (
        r.headers["location"] == "/console/login?next=%2Fconsole%2Fcases%2Fcase_x%3Fflash%3Dnoted"
    )
    # A bearer token is for the API; the console wants a signed-in person.
    admin_token = api_as("admin")
    assert (await admin_token.get("/console")).headers["location"].startswith("/console/login")

    add_user("ops@clauseflow.example.com", "operator")
    form = await anonymous.get("/console/login?next=/console/cases/case_x")
    assert 'value="/console/cases/case_x"' in form.text
    r = await anonymous.post(
        "/console/login",
        data={
            "email": "ops@clauseflow.example.com",
            "password": PASSWORD,
            "csrf_token": csrf_of(form.text),
            "next": "/console/cases/case_x",
        },
    )
    assert r.status_code == 303 and r.headers["location"] == "/console/cases/case_x"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("clauseflow_session=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # session_cookie_secure is off in tests


async def test_the_cookies_are_secure_when_the_setting_says_so(
    api_app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "true")
    get_settings.cache_clear()
    add_user("sec@clauseflow.example.com", "viewer")
    transport = httpx.ASGITransport(app=api_app)
    async with httpx.AsyncClient(transport=transport, base_url="https://clauseflow.test") as client:
        form = await client.get("/console/login")
        assert "Secure" in form.headers["set-cookie"]  # the sign-in form's CSRF cookie
        r = await client.post(
            "/console/login",
            data={
                "email": "sec@clauseflow.example.com",
                "password": PASSWORD,
                "csrf_token": csrf_of(form.text),
            },
        )
        assert r.status_code == 303 and "Secure" in r.headers["set-cookie"]


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"]
)
async def test_after_sign_in_only_local_paths_are_followed(api_as: ApiAs, target: str) -> None:
    add_user("ops@clauseflow.example.com", "operator")
    client = api_as(None)
    form = await client.get("/console/login", params={"next": target})
    assert "evil" not in form.text
    r = await client.post(
        "/console/login",
        data={
            "email": "ops@clauseflow.example.com",
            "password": PASSWORD,
            "csrf_token": csrf_of(form.text),
            "next": target,
        },
    )
    assert r.status_code == 303 and r.headers["location"] == "/console"


async def test_a_wrong_password_signs_nobody_in(api_as: ApiAs) -> None:
    add_user("ops@clauseflow.example.com", "operator")
    client = api_as(None)
    form = await client.get("/console/login")
    r = await client.post(
        "/console/login",
        data={
            "email": "ops@clauseflow.example.com",
            "password": "guess",
            "csrf_token": csrf_of(form.text),
        },
    )
    assert r.status_code == 401
    assert "Wrong email or password" in r.text
    assert "clauseflow_session" not in r.headers.get("set-cookie", "")
    assert (await client.get("/console")).status_code == 303


async def test_password_guessing_locks_the_email_for_a_while_and_is_audited(
    api_as: ApiAs,
) -> None:
    add_user("ops@clauseflow.example.com", "operator")
    client = api_as(None)

    async def attempt(password: str) -> httpx.Response:
        form = await client.get("/console/login")
        return await client.post(
            "/console/login",
            data={
                "email": "ops@clauseflow.example.com",
                "password": password,
                "csrf_token": csrf_of(form.text),
            },
        )

    for i in range(5):
        assert (await attempt(f"guess {i}")).status_code == 401
    # Locked now, even with the right password.
    r = await attempt(PASSWORD)
    assert r.status_code == 429 and "Too many failed sign-ins" in r.text
    assert 0 < int(r.headers["Retry-After"]) <= 15 * 60
    assert "clauseflow_session" not in r.headers.get("set-cookie", "")
    with Session(get_engine()) as s:
        failed = s.exec(select(AuditEntry).where(AuditEntry.action == "sign_in_failed")).all()
    assert [(a.actor, a.reason) for a in failed] == [
        ("ops@clauseflow.example.com", "wrong password")
    ] * 5
    # Another person is not locked out by it.
    add_user("other@clauseflow.example.com", "viewer")
    form = await client.get("/console/login")
    ok = await client.post(
        "/console/login",
        data={
            "email": "other@clauseflow.example.com",
            "password": PASSWORD,
            "csrf_token": csrf_of(form.text),
        },
    )
    assert ok.status_code == 303


async def test_the_sign_in_form_needs_its_double_submit_token(api_as: ApiAs) -> None:
    add_user("ops@clauseflow.example.com", "operator")
    client = api_as(None)
    await client.get("/console/login")  # sets the cookie, but the form field is forged
    r = await client.post(
        "/console/login",
        data={"email": "ops@clauseflow.example.com", "password": PASSWORD, "csrf_token": "x"},
    )
    assert r.status_code == 403 and "expired" in r.text
    assert (await client.get("/console")).status_code == 303


async def test_signing_out_needs_the_csrf_token_and_ends_the_session(sign_in: SignIn) -> None:
    client = await sign_in("operator")
    page = await client.get("/console")
    assert page.status_code == 200
    # The header names who is signed in, their role, and offers to sign out.
    assert "Pat Operator" in page.text and ">operator<" in page.text
    assert 'action="/console/logout"' in page.text

    refused = await client.post("/console/logout", data={"csrf_token": "forged"})
    assert refused.status_code == 403
    assert (await client.get("/console")).status_code == 200  # still signed in

    r = await client.post("/console/logout", data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 303 and r.headers["location"] == "/console/login"
    with Session(get_engine()) as s:
        assert all(row.revoked_at is not None for row in s.exec(select(ConsoleSession)))
    assert (await client.get("/console")).status_code == 303


# ---------------------------------------------------------------------------- case list


def seed_the_list() -> None:
    seed(
        a_case("case_quiet", next_deadline_at=NOW + dt.timedelta(days=40)),
        a_case(
            "case_failing",
            next_deadline_at=NOW + dt.timedelta(days=3, hours=1),
            **SENDGRID_DOWN,
        ),
        a_case(
            "case_escalated",
            clause="material_breach",
            state="termination_right_arisen",
            state_label="Not cured in time; the party that gave notice may now terminate",
            escalated=True,
            escalation_reason="The breach was not cured; decide whether to terminate",
            next_deadline_at=NOW - dt.timedelta(hours=2, minutes=5),
            next_deadline_name="election_reminder",
        ),
        an_overdue_breach_case(),
    )


def listed(page: str) -> list[str]:
    """The case ids of the list's rows, in order."""
    ids = re.findall(r'class="case-link" href="/console/cases/([^"]+)"', page)
    return list(dict.fromkeys(ids))


async def test_the_list_shows_each_case_with_its_badges_and_time_left(sign_in: SignIn) -> None:
    seed_the_list()
    client = await sign_in("viewer")
    r = await client.get("/console")
    assert r.status_code == 200
    # Nearest next deadline first; a case without one last.
    assert listed(r.text) == ["case_escalated", "case_failing", "case_quiet", "case_overdue"]
    text = text_of(r.text)
    assert "Stuck: send notice has failed 5 times" in text
    assert "SendGrid answered 500: Internal Server Error" in text
    # Overdue in its state: how long, and what the rulebook expects.
    assert re.search(r"Stuck: has [^.]*Breach discovered[^.]*for 9 days.*at most 3 days", text)
    assert "Escalated: The breach was not cured; decide whether to terminate" in text
    assert "in 3 days" in text and "overdue by 2 h" in text
    assert "Material breach and termination for cause (§10)" in text  # the clause, in words
    assert "Not cured in time; the party that gave notice may now terminate" in text
    assert "Showing 1–4 of 4 cases" in text
    assert 'class="badge badge-red"' in r.text and 'class="badge badge-amber"' in r.text


async def test_the_filters_and_the_counts_per_state(sign_in: SignIn) -> None:
    seed_the_list()
    client = await sign_in("viewer")

    async def ids(**params: str) -> list[str]:
        r = await client.get("/console", params=params)
        assert r.status_code == 200
        return listed(r.text)

    assert await ids(stuck="yes") == ["case_failing", "case_overdue"]
    assert await ids(stuck="no") == ["case_escalated", "case_quiet"]
    assert await ids(escalated="yes") == ["case_escalated"]
    assert await ids(clause="security_breach") == ["case_overdue"]
    assert await ids(state="notice_period_running") == ["case_failing", "case_quiet"]
    assert await ids(contract="ctr_reference_msa", within="5") == [
        "case_escalated",
        "case_failing",
    ]
    assert await ids(contract="ctr_nobody") == []
    # Nonsense in a filter is ignored rather than an error page.
    assert len(await ids(within="soon", stuck="maybe", page="x")) == 4

    r = await client.get("/console", params={"clause": "termination_for_convenience"})
    chips = dict(re.findall(r'data-state="([a-z_]+)" href="[^"]*">[^<]*<b>(\d+)</b>', r.text))
    assert chips == {"notice_period_running": "2"}
    r = await client.get("/console")
    chips = dict(re.findall(r'data-state="([a-z_]+)" href="[^"]*">[^<]*<b>(\d+)</b>', r.text))
    assert chips == {
        "notice_period_running": "2",
        "termination_right_arisen": "1",
        "notification_pending": "1",
    }
    # A chip is a link that filters by its state (and keeps the other filters).
    assert 'href="/console?state=notification_pending&amp;page=1"' in r.text
    # The filter form reads without JavaScript (GET) and htmx swaps only the results.
    assert 'method="get" action="/console"' in r.text and 'hx-select="#results"' in r.text


async def test_the_list_pages_with_previous_and_next(
    sign_in: SignIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    seed_the_list()
    client = await sign_in("viewer")
    first = await client.get("/console", params={"stuck": "no"})
    assert "Showing 1–2 of 2 cases" in text_of(first.text)
    r = await client.get("/console")
    assert listed(r.text) == ["case_escalated", "case_failing"]
    assert "Showing 1–2 of 4 cases" in text_of(r.text) and "Page 1 of 2" in text_of(r.text)
    assert 'rel="prev"' not in r.text
    # "Next" carries a cursor (the page's last case): a deep page costs what the first does.
    following = pager_link(r.text, "next")
    assert following.startswith("/console?page=2&cursor="), following
    second = await client.get(following)
    assert listed(second.text) == ["case_quiet", "case_overdue"]
    assert "Showing 3–4 of 4 cases" in text_of(second.text)
    assert "Page 2 of 2" in text_of(second.text)
    assert pager_link(second.text, "prev") == "/console?page=1" and 'rel="next"' not in second.text
    # A page asked by its number, as links used to, is still that page.
    by_number = await client.get("/console?page=2")
    assert listed(by_number.text) == ["case_quiet", "case_overdue"]
    assert pager_link(by_number.text, "prev") == "/console?page=1"


def pager_link(page: str, rel: str) -> str:
    """The URL of the pager's ``rel`` link ("next" or "prev") on a list page."""
    found = re.search(rf'rel="{rel}" href="([^"]+)"', page)
    assert found, f"the page has no {rel} link"
    return html.unescape(found.group(1))


async def test_the_pages_walk_forward_and_back_by_cursor_keeping_the_filters(
    sign_in: SignIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "PAGE_SIZE", 1)
    seed_the_list()
    # Two more not stuck, one without a deadline (listed last) and one sharing a deadline.
    seed(
        a_case("case_undated", next_deadline_at=None, next_deadline_name=None),
        a_case("case_quiet_twin", next_deadline_at=NOW + dt.timedelta(days=40)),
    )
    client = await sign_in("viewer")
    everything = ["case_escalated", "case_quiet", "case_quiet_twin", "case_undated"]
    url, seen = "/console?stuck=no", []
    while True:
        r = await client.get(url)
        assert r.status_code == 200, r.text
        seen += listed(r.text)
        assert f"Page {len(seen)} of 4" in text_of(r.text)
        if 'rel="next"' not in r.text:
            break
        url = pager_link(r.text, "next")
        assert "stuck=no" in url and "cursor=" in url
        # htmx swaps only the results when it is there; the link works without it.
        assert f'hx-get="{html.escape(url)}" hx-target="#results"' in r.text
    assert seen == everything
    back = []
    while 'rel="prev"' in r.text:
        url = pager_link(r.text, "prev")
        assert "stuck=no" in url
        r = await client.get(url)
        back += listed(r.text)
        assert f"Page {len(everything) - len(back)} of 4" in text_of(r.text)
    assert back == everything[-2::-1]
    # A cursor no page gave is an error page that says so, not a 500.
    bad = await client.get("/console?cursor=not-a-cursor&page=2")
    assert bad.status_code == 422 and "cursor does not name a place" in text_of(bad.text)
    bad = await client.get("/console?before=W10&page=2")
    assert bad.status_code == 422 and "before does not name a place" in text_of(bad.text)


async def test_the_contract_page_pages_its_cases_by_cursor(
    sign_in: SignIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "PAGE_SIZE", 3)
    seed_the_list()
    client = await sign_in("viewer")
    first = await client.get("/console/contracts/ctr_reference_msa")
    assert listed(first.text) == ["case_escalated", "case_failing", "case_quiet"]
    following = pager_link(first.text, "next")
    assert following.startswith("/console/contracts/ctr_reference_msa?page=2&cursor=")
    second = await client.get(following)
    assert listed(second.text) == ["case_overdue"] and 'rel="next"' not in second.text
    assert pager_link(second.text, "prev") == "/console/contracts/ctr_reference_msa?page=1"
    bad = await client.get("/console/contracts/ctr_reference_msa?cursor=x")
    assert bad.status_code == 422


# ---------------------------------------------------------------------------- case page


async def test_the_case_page_explains_the_case(api: httpx.AsyncClient, sign_in: SignIn) -> None:
    case = await open_case(api, "page")
    case_id = case["id"]
    sent = await eventually(lambda: notices(case_id))
    client = await sign_in("viewer")
    r = await client.get(f"/console/cases/{case_id}")
    assert r.status_code == 200
    text = text_of(r.text)
    assert case["state_label"] in text
    assert "Termination for convenience" in text
    effective = next(d for d in case["deadlines"] if d["name"] == "effective_date")
    assert effective["label"] in text
    assert effective["local_due"] in text  # in the contract's time zone
    due = dt.datetime.fromisoformat(effective["due_at"])
    assert countdown(due, dt.datetime.now(dt.UTC)) in text  # e.g. "in 88 days"
    assert effective["explanation"][0] in text
    assert "<details>" in r.text and "How this deadline was computed" in text
    # The timeline: the transition in plain words, the rule with its rulebook version and
    # the facts it saw, the notice with its status and a link to it as sent.
    latest = default_registry().latest("termination_for_convenience").version
    assert f"rulebook v{latest}" in text and "Facts the rule saw" in text
    assert "notice_received_at" in text
    assert f'href="/console/notices/{sent[0].id}"' in r.text
    assert f'href="/api/notices/{sent[0].id}/evidence?format=html"' in r.text
    assert f'href="http://127.0.0.1:8233/namespaces/default/workflows/{case_id}"' in r.text
    # A viewer sees no action forms.
    assert "Retry now" not in text and "Add note" not in text and "/notes" not in r.text
    assert "can read cases but not act on them" in text
    assert r.headers["content-security-policy"].startswith("default-src 'self'")


async def test_a_notice_opens_as_sent(api: httpx.AsyncClient, sign_in: SignIn) -> None:
    case = await open_case(api, "notice")
    sent = (await eventually(lambda: notices(case["id"])))[0]
    client = await sign_in("viewer")
    r = await client.get(f"/console/notices/{sent.id}")
    assert r.status_code == 200
    assert html.escape(sent.subject, quote=False) in r.text
    assert all(address in r.text for address in sent.to)
    # The notice's own HTML runs in a sandbox with no permissions, escaped into srcdoc.
    assert '<iframe class="notice-frame" sandbox=""' in r.text
    srcdoc = re.search(r'srcdoc="([^"]*)"', r.text)
    assert srcdoc is not None and html.unescape(srcdoc.group(1)) == sent.body_html
    assert f"/api/notices/{sent.id}/evidence?format=html" in r.text
    # The printable proof of notice opens with the console's session cookie.
    evidence = await client.get(f"/api/notices/{sent.id}/evidence", params={"format": "html"})
    assert evidence.status_code == 200 and "Proof of notice" in evidence.text
    assert (await client.get("/console/notices/ntc_missing")).status_code == 404


async def test_the_case_page_says_why_a_case_is_stuck_and_escalated(
    sign_in: SignIn,
) -> None:
    seed(
        a_case(
            "case_stuck",
            state_entered_at=NOW - dt.timedelta(days=120),
            dwell_overdue_at=NOW - dt.timedelta(days=20),
            escalated=True,
            escalation_reason="The termination notice bounced",
            **failing("send_notice", 4, dt.timedelta(minutes=30), "SMTP 554: mailbox unavailable"),
            last_failure_at=NOW - dt.timedelta(minutes=1),
        )
    )
    with Session(get_engine()) as s:
        s.add(
            Escalation(
                case_id="case_stuck",
                step=3,
                rule="escalate_bounced_notice",
                reason="The termination notice bounced",
                at=NOW - dt.timedelta(hours=5),
            )
        )
        s.add(
            Deadline(
                case_id="case_stuck",
                name="effective_date",
                group="effective_date",
                label="Termination takes effect",
                due_at=NOW + dt.timedelta(days=30),
                explanation=["Rule (MSA §10): 90 calendar days after the notice."],
                set_at_step=1,
                updated_at=NOW,
            )
        )
        s.commit()
    client = await sign_in("operator")
    r = await client.get("/console/cases/case_stuck")
    assert r.status_code == 200
    text = text_of(r.text)
    assert "Stuck: send notice has failed 4 times" in text
    assert "SMTP 554: mailbox unavailable" in text
    assert "for 120 days" in text and "its rulebook expects at most 95 days" in text
    assert "Escalated: The termination notice bounced" in text
    assert "escalate_bounced_notice" in text and "5 h ago" in text
    # An operator gets the actions: retry now, resolve this escalation, the rest.
    assert 'action="/console/cases/case_stuck/retry"' in r.text
    escalation_id = re.search(r"/console/cases/case_stuck/escalations/(\d+)/resolve", r.text)
    assert escalation_id is not None
    for path in ("amendments", "owner", "close", "notes", "facts"):
        assert f'action="/console/cases/case_stuck/{path}"' in r.text, path
    assert "A second person must approve the amendment" in text
    assert "Temporal did not describe the workflow" in text  # no such workflow: said so


async def test_a_case_whose_workflow_code_fails_says_a_fix_must_be_deployed(
    sign_in: SignIn,
) -> None:
    seed(
        a_case(
            "case_code_fails",
            **failing(
                "workflow_task",
                5,
                dt.timedelta(minutes=40),
                "[TMPRL1100] Nondeterminism error: Timer machine does not handle",
            ),
            last_failure_at=NOW - dt.timedelta(minutes=2),
        )
    )
    client = await sign_in("operator")
    listing = text_of((await client.get("/console", params={"stuck": "yes"})).text)
    assert "Stuck: the case's workflow code has failed 5 times" in listing
    r = await client.get("/console/cases/case_code_fails")
    text = text_of(r.text)
    assert "Stuck: the case's workflow code has failed 5 times" in text
    assert "Nondeterminism error" in text and "must be deployed" in text
    assert "no action can reach it" in text
    # Retrying cannot help (the retry would run in the failing task itself): not offered.
    assert 'action="/console/cases/case_code_fails/retry"' not in r.text


async def test_cases_that_did_not_start_show_why_in_one_red_badge(sign_in: SignIn) -> None:
    seed(
        a_case(
            "case_not_started",
            state="opened",
            state_label="Starting: waiting for its first step",
            opened_at=NOW - dt.timedelta(hours=2),
            next_deadline_at=None,
            next_deadline_name=None,
        ),
        a_case_that_could_not_start("case_could_not_start", "a date out of range"),
    )
    client = await sign_in("operator")
    r = await client.get("/console", params={"stuck": "yes"})
    assert listed(r.text) == ["case_could_not_start", "case_not_started"]
    text = text_of(r.text)
    assert "Starting: waiting for its first step" in text
    assert COULD_NOT_START_LABEL in text
    assert re.search(r"Stuck: has not taken its first step since .* task queue", text)
    assert "Stuck: the case could not take its first step: a date out of range." in text
    # The stuck badge says it: no amber badge repeating the same words beside it.
    assert "Escalated: the case could not take its first step" not in text
    page = text_of((await client.get("/console/cases/case_could_not_start")).text)
    assert "Stuck: the case could not take its first step: a date out of range." in page
    assert "cancel it, and start a new case with the facts corrected" in page


async def test_unknown_cases_are_a_404_page(sign_in: SignIn) -> None:
    client = await sign_in("viewer")
    r = await client.get("/console/cases/case_nope")
    assert r.status_code == 404 and "There is no case case_nope" in r.text


# ----------------------------------------------------------------------------- actions


async def test_a_note_through_the_console_is_an_audit_entry(
    api: httpx.AsyncClient, sign_in: SignIn
) -> None:
    case_id = (await open_case(api, "note"))["id"]
    client = await sign_in("operator")
    page = await client.get(f"/console/cases/{case_id}")
    r = await post_form(
        client, page, f"/console/cases/{case_id}/notes", {"note": "Called the Provider's counsel"}
    )
    assert r.status_code == 303
    assert r.headers["location"] == f"/console/cases/{case_id}?flash=noted"
    [entry] = audit(case_id, "note")
    assert entry.actor == "operator@clauseflow.example.com"
    assert entry.reason == "Called the Provider's counsel"
    shown = await client.get(r.headers["location"])
    assert "Note added to the timeline." in shown.text
    assert "Called the Provider's counsel" in text_of(shown.text)


async def test_a_held_notice_is_approved_from_the_case_page(
    api: httpx.AsyncClient, sign_in: SignIn
) -> None:
    from tests.api.test_previews_and_approvals import breach_case_at_final_report

    case_id = await breach_case_at_final_report(api)
    [held] = [n for n in notices(case_id) if n.status == "awaiting_approval"]
    viewer = await sign_in("viewer")
    assert "Approve and send" not in (await viewer.get(f"/console/cases/{case_id}")).text
    client = await sign_in("operator")
    page = await client.get(f"/console/cases/{case_id}")
    assert "Approve and send" in page.text
    r = await post_form(
        client,
        page,
        f"/console/cases/{case_id}/notices/{held.notice_key}/approve",
        {"reason": "reviewed with counsel"},
    )
    assert r.status_code == 303, r.text
    assert r.headers["location"] == f"/console/cases/{case_id}?flash=released"
    sent = next(n for n in notices(case_id) if n.notice_key == held.notice_key)
    assert sent.status == "outboxed" and sent.approved_by == "operator@clauseflow.example.com"
    # Approved once: a second approval is refused and nothing changes.
    again = await post_form(
        client,
        page,
        f"/console/cases/{case_id}/notices/{held.notice_key}/approve",
        {"reason": "again"},
    )
    assert again.status_code in (404, 409) and "Nothing was changed" in again.text


async def test_a_held_notice_is_corrected_from_the_case_page_before_approval(
    api: httpx.AsyncClient, sign_in: SignIn
) -> None:
    from tests.api.test_previews_and_approvals import breach_case_at_final_report

    case_id = await breach_case_at_final_report(api)
    [held] = [n for n in notices(case_id) if n.status == "awaiting_approval"]
    viewer = await sign_in("viewer")
    assert "Correct it before approval" not in (await viewer.get(f"/console/cases/{case_id}")).text
    client = await sign_in("contract_manager")
    page = await client.get(f"/console/cases/{case_id}")
    assert "Correct it before approval" in page.text
    assert '<textarea name="fact.root_cause" rows="3">Public-read ACL</textarea>' in page.text
    # Only the free text of the fact the report was written on: no dates, no other facts.
    assert re.findall(r'name="fact\.(\w+)"', page.text) == ["root_cause", "remediation"]
    url = f"/console/cases/{case_id}/notices/{held.notice_key}/revise"
    # Nothing changed: refused, and the notice is as it was.
    same = await post_form(client, page, url, {"fact.root_cause": "Public-read ACL", "reason": "x"})
    assert same.status_code == 422 and "Change at least one value" in text_of(same.text)
    assert "Nothing was changed" in same.text
    cause = "The bucket policy allowed public reads"
    r = await post_form(
        client,
        page,
        url,
        {
            "fact.root_cause": cause,
            "fact.remediation": "ACL policy in CI",  # unchanged: not sent to the case
            "reason": "counsel asked for the real cause",
        },
    )
    assert r.status_code == 303, r.text
    assert r.headers["location"] == f"/console/cases/{case_id}?flash=revised"
    [revised] = [n for n in notices(case_id) if n.id == held.id]
    assert revised.status == "awaiting_approval" and cause in revised.body_text
    [entry] = audit(case_id, "revise_held_notice")
    assert entry.actor == "contract_manager@clauseflow.example.com"
    assert entry.after == {"notice": held.notice_key, "facts": {"root_cause": cause}}
    shown = text_of((await client.get(f"/console/cases/{case_id}")).text)
    assert "Revise held notice by contract_manager@clauseflow.example.com" in shown


async def test_actions_need_a_reason_the_csrf_token_and_the_role(
    api: httpx.AsyncClient, sign_in: SignIn
) -> None:
    case_id = (await open_case(api, "refused"))["id"]
    operator = await sign_in("operator")
    page = await operator.get(f"/console/cases/{case_id}")
    token = csrf_of(page.text)

    no_reason = await operator.post(
        f"/console/cases/{case_id}/notes", data={"csrf_token": token, "note": "  "}
    )
    assert no_reason.status_code == 422 and "Nothing was changed." in no_reason.text
    forged = await operator.post(
        f"/console/cases/{case_id}/notes", data={"csrf_token": "forged", "note": "x"}
    )
    assert forged.status_code == 403
    viewer = await sign_in("viewer")
    viewer_token = csrf_of((await viewer.get(f"/console/cases/{case_id}")).text)
    for path, data in [
        ("notes", {"note": "x"}),
        ("retry", {"reason": "x"}),
        ("owner", {"owner_email": "x@example.com", "reason": "x"}),
        ("close", {"outcome": "cancelled", "reason": "x"}),
    ]:
        r = await viewer.post(
            f"/console/cases/{case_id}/{path}", data={"csrf_token": viewer_token, **data}
        )
        assert r.status_code == 403, path
        assert "Your role (viewer) may not do this" in r.text
    assert audit(case_id, "note") == [] and audit(case_id, "owner_reassigned") == []
    with Session(get_engine()) as s:
        row = s.get(Case, case_id)
        assert row is not None and not row.closed


async def test_reassigning_through_the_console_goes_through_the_workflow(
    api: httpx.AsyncClient, sign_in: SignIn
) -> None:
    case_id = (await open_case(api, "reassign"))["id"]
    client = await sign_in("operator")
    page = await client.get(f"/console/cases/{case_id}")
    r = await post_form(
        client,
        page,
        f"/console/cases/{case_id}/owner",
        {"owner_email": "new.owner@provider.example.com", "reason": "Sam is on leave"},
    )
    assert r.status_code == 303, r.text
    with Session(get_engine()) as s:
        entries = list(
            s.exec(
                select(AuditEntry).where(AuditEntry.case_id == case_id, AuditEntry.action != "note")
            )
        )
    entry = next(e for e in entries if e.reason == "Sam is on leave")
    assert entry.actor == "operator@clauseflow.example.com"
    assert "new.owner@provider.example.com" in str(entry.after)
    shown = text_of((await client.get(r.headers["location"])).text)
    assert "Owner reassigned" in shown and "Sam is on leave" in shown
    assert "new.owner@provider.example.com" in shown


async def test_an_amendment_proposed_and_approved_in_the_console_moves_the_deadline(
    api: httpx.AsyncClient, api_as: ApiAs, sign_in: SignIn
) -> None:
    case_id = (await open_case(api, "amend"))["id"]
    alice = await sign_in("operator")
    page = await alice.get(f"/console/cases/{case_id}")
    # A summer day ahead (daylight-saving time in New York): the next 30 June after a month.
    soon = ny_today() + dt.timedelta(days=30)
    june_30 = dt.date(soon.year if soon <= dt.date(soon.year, 6, 30) else soon.year + 1, 6, 30)
    r = await post_form(
        alice,
        page,
        f"/console/cases/{case_id}/amendments",
        {
            "deadline": "effective_date",
            "date": june_30.isoformat(),
            "time": "17:00",
            "reason": "Parties agreed a later date in writing",
        },
    )
    assert r.status_code == 303, r.text
    page = await alice.get(r.headers["location"])
    assert "Amendments waiting for approval" in page.text
    # 17:00 New York time on 30 June (EDT, UTC-4) is 21:00 UTC.
    assert f"{described(june_30)} 17:00 New York time" in text_of(page.text)
    amendment = re.search(rf"/console/cases/{case_id}/amendments/([^/]+)/decide", page.text)
    assert amendment is not None

    # The proposer cannot approve it: the workflow refuses, the page says why, 409.
    same = await post_form(alice, page, amendment.group(0), {"decision": "approve", "reason": "ok"})
    assert same.status_code == 409 and "Nothing was changed." in same.text

    with Session(get_engine()) as s:
        create_user(s, "bob@clauseflow.example.com", "admin", PASSWORD, created_by="tests")
        s.commit()
    bob = await sign_in_as(api_as(None), "bob@clauseflow.example.com")
    page = await bob.get(f"/console/cases/{case_id}")
    r = await post_form(
        bob, page, amendment.group(0), {"decision": "approve", "reason": "Seen the letter"}
    )
    assert r.status_code == 303, r.text

    def moved() -> Deadline | None:
        with Session(get_engine()) as s:
            d = s.exec(
                select(Deadline).where(
                    Deadline.case_id == case_id, Deadline.name == "effective_date"
                )
            ).one()
            due = dt.datetime.combine(june_30, dt.time(21), tzinfo=dt.UTC)
            return d if d.due_at == due else None

    await eventually(moved)
    shown = await bob.get(f"/console/cases/{case_id}")
    assert "amended" in shown.text and "Originally due" in shown.text
    assert "Seen the letter" in text_of(shown.text)


async def test_recording_a_fact_from_the_console_lets_the_rules_decide(
    api: httpx.AsyncClient, sign_in: SignIn
) -> None:
    case_id = (await open_case(api, "fact"))["id"]
    client = await sign_in("contract_manager")  # facts: managers too, not only operators
    page = await client.get(f"/console/cases/{case_id}")
    assert "The parties agreed in writing to withdraw the notice" in page.text
    assert 'name="withdrawal_agreed.agreed_on"' in page.text and 'type="date"' in page.text
    assert f'action="/console/cases/{case_id}/notes"' not in page.text  # operators only
    token = csrf_of(page.text)
    bad = await client.post(
        f"/console/cases/{case_id}/facts",
        data={
            "csrf_token": token,
            "fact": "withdrawal_agreed",
            "withdrawal_agreed.customer_signatory": "Dana Whitfield",
            "withdrawal_agreed.agreed_on": (ny_today() + dt.timedelta(days=30)).isoformat(),
            "reason": "signed letter",
        },
    )
    assert bad.status_code == 422
    assert "values.provider_signatory: is required" in bad.text
    assert "values.agreed_on: must not be in the future" in bad.text
    assert not case_row(case_id).closed  # type: ignore[union-attr]

    # Today where the contract is: after midnight UTC, New York may still be a day behind.
    today = dt.datetime.now(ZoneInfo("America/New_York")).date().isoformat()
    r = await client.post(
        f"/console/cases/{case_id}/facts",
        data={
            "csrf_token": token,
            "fact": "withdrawal_agreed",
            "withdrawal_agreed.customer_signatory": "Dana Whitfield",
            "withdrawal_agreed.provider_signatory": "Sam Okafor",
            "withdrawal_agreed.agreed_on": today,
            "reason": "both sides signed the withdrawal letter",
        },
    )
    assert r.status_code == 303, r.text
    row = await eventually(lambda: (c := case_row(case_id)) and c.closed and c)
    assert row.state == "withdrawn"
    shown = text_of((await client.get(r.headers["location"])).text)
    assert "Fact recorded" in shown and row.state_label in shown


async def test_an_operator_cancels_a_case_from_the_console(
    api: httpx.AsyncClient, sign_in: SignIn
) -> None:
    case_id = (await open_case(api, "cancel"))["id"]
    client = await sign_in("operator")
    page = await client.get(f"/console/cases/{case_id}")
    r = await post_form(
        client,
        page,
        f"/console/cases/{case_id}/close",
        {"outcome": "cancelled", "reason": "opened twice"},
    )
    assert r.status_code == 303, r.text
    row = await eventually(lambda: (c := case_row(case_id)) and c.closed and c)
    assert row.state == "cancelled"
    with Session(get_engine()) as s:
        pending = s.exec(
            select(Deadline).where(Deadline.case_id == case_id, Deadline.status == "pending")
        ).all()
    assert pending == []
    entries = [e for e in audit(case_id) if e.reason == "opened twice"]
    assert entries and entries[0].actor == "operator@clauseflow.example.com"
    shown = await client.get(r.headers["location"])
    assert "Case closed" in shown.text
    assert f'action="/console/cases/{case_id}/close"' not in shown.text  # closed: no more


async def test_an_escalation_is_explained_and_resolved_from_the_console(
    api: httpx.AsyncClient, sign_in: SignIn, worker: Client
) -> None:
    case_id = await a_case_whose_acknowledgement_bounced(api, worker)
    await eventually(lambda: (c := case_row(case_id)) and c.escalated)
    client = await sign_in("operator")
    listing = text_of((await client.get("/console", params={"escalated": "yes"})).text)
    assert "Escalated:" in listing and "550 mailbox unavailable" in listing
    page = await client.get(f"/console/cases/{case_id}")
    assert "Escalated:" in text_of(page.text) and "550 mailbox unavailable" in text_of(page.text)
    resolve = re.search(rf"/console/cases/{case_id}/escalations/\d+/resolve", page.text)
    assert resolve is not None
    r = await post_form(
        client, page, resolve.group(0), {"note": "Re-sent by courier; receipt signed"}
    )
    assert r.status_code == 303, r.text
    await eventually(lambda: not case_row(case_id).escalated)  # type: ignore[union-attr]
    with Session(get_engine()) as s:
        (esc,) = s.exec(select(Escalation).where(Escalation.case_id == case_id)).all()
    assert esc.resolved_by == "operator@clauseflow.example.com"
    shown = await client.get(f"/console/cases/{case_id}")
    text = text_of(shown.text)
    assert "Escalation resolved by operator@clauseflow.example.com" in text
    assert "Re-sent by courier; receipt signed" in text
    assert "/resolve" not in shown.text  # nothing left to resolve
    # The API tells the same story, oldest first: one entry per line of the page.
    entries = (await client.get(f"/api/cases/{case_id}")).json()["timeline"]
    assert shown.text.count('<li class="tl tl-') == len(entries)
    (resolution,) = [e for e in entries if e["kind"] == "resolution"]
    assert resolution["title"] == "Escalation resolved by operator@clauseflow.example.com"
    assert resolution["details"]["note"] == "Re-sent by courier; receipt signed"
    kinds = [e["kind"] for e in entries]
    assert kinds.index("escalation") < kinds.index("resolution")
    for e in entries:
        if e["kind"] in ("transition", "escalation", "resolution", "notice"):
            assert e["title"] in text


async def test_a_failing_notice_shows_temporals_failure_and_retry_now_sends_it(
    api: httpx.AsyncClient, sign_in: SignIn, sendgrid_mock: SendGridMock
) -> None:
    sendgrid_mock.script_send(*[500] * 50)  # SendGrid is down
    case_id = (await open_case(api, "failing"))["id"]
    await eventually(lambda: (c := case_row(case_id)) and c.failing_attempts >= 3 and c, timeout=30)
    client = await sign_in("operator")
    listing = text_of((await client.get("/console", params={"stuck": "yes"})).text)
    assert "Stuck: hand over notice has failed" in listing and "500" in listing
    page = await client.get(f"/console/cases/{case_id}")
    # The live detail from Temporal: the activity, its attempt, the failure's message.
    row = re.search(r"<td><code>hand_over_notice</code></td>(.*?)</tr>", page.text, re.S)
    assert row is not None, "no pending activity row"
    cells = text_of(row.group(1))
    assert re.search(r"\b\d+ (of \d+|\(retries until it succeeds\))", cells)
    recorded = re.search(r'<p class="recorded-failure">(.*?)</p>', page.text, re.S)
    assert recorded is not None and "SendGrid answered 500" in text_of(recorded.group(1))

    sendgrid_mock.clear_send_script()  # SendGrid is back
    r = await post_form(
        client, page, f"/console/cases/{case_id}/retry", {"reason": "SendGrid says it is fixed"}
    )
    assert r.status_code == 303, r.text
    await eventually(lambda: [n for n in notices(case_id) if n.status == "sent"], timeout=30)
    entries = await eventually(lambda: audit(case_id, "retry_now"))
    assert entries[0].actor == "operator@clauseflow.example.com"
    assert entries[0].reason == "SendGrid says it is fixed"


async def sign_in_as(client: httpx.AsyncClient, email: str) -> httpx.AsyncClient:
    """Signs ``client`` (a fresh browser) in as ``email``."""
    form = await client.get("/console/login")
    r = await client.post(
        "/console/login",
        data={"email": email, "password": PASSWORD, "csrf_token": csrf_of(form.text)},
    )
    assert r.status_code == 303
    return client


async def test_htmx_posts_follow_the_redirect_and_get_refusals_as_html(
    api: httpx.AsyncClient, sign_in: SignIn
) -> None:
    case_id = (await open_case(api, "retry"))["id"]
    client = await sign_in("admin")
    page = await client.get(f"/console/cases/{case_id}")
    # Nothing is failing, so the workflow refuses a retry: the page shows its reason.
    r = await post_form(
        client,
        page,
        f"/console/cases/{case_id}/retry",
        {"reason": "try again"},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 409
    assert 'class="banner banner-red"' in r.text and "Nothing was changed." in r.text
    assert r.headers["HX-Push-Url"] == "false"  # the address stays the case page's
    with Session(get_engine()) as s:
        assert s.exec(select(Notice).where(Notice.case_id == case_id)).first() is not None
    # The forms post with htmx and still work as plain forms.
    assert f'action="/console/cases/{case_id}/notes" hx-post=' in page.text
    assert '<script src="/static/htmx.min.js" defer></script>' in page.text


async def test_static_files_are_served(api_as: ApiAs) -> None:
    client = api_as(None)
    js = await client.get("/static/htmx.min.js")
    assert js.status_code == 200 and js.text.startswith("/* htmx 2.")
    css = await client.get("/static/console.css")
    assert css.status_code == 200 and ".badge-red" in css.text


# ---------------------------------------------------------------------------- contracts


async def test_the_contract_page_makes_a_calendar_feed_for_managers(sign_in: SignIn) -> None:
    seed_the_list()
    viewer = await sign_in("viewer")
    r = await viewer.get("/console/contracts/ctr_reference_msa")
    assert r.status_code == 200
    assert listed(r.text) == ["case_escalated", "case_failing", "case_quiet", "case_overdue"]
    assert "calendar-feed" not in r.text
    refused = await viewer.post(
        "/console/contracts/ctr_reference_msa/calendar-feed", data={"csrf_token": csrf_of(r.text)}
    )
    assert refused.status_code == 403

    manager = await sign_in("contract_manager")
    page = await manager.get("/console/contracts/ctr_reference_msa")
    made = await manager.post(
        "/console/contracts/ctr_reference_msa/calendar-feed",
        data={"csrf_token": csrf_of(page.text)},
    )
    assert made.status_code == 200
    url = re.search(r'value="(http://127\.0\.0\.1:8000/calendar/[^"]+\.ics)"', made.text)
    assert url is not None and "shown only once" in made.text
    feed = await manager.get(url.group(1).removeprefix("http://127.0.0.1:8000"))
    assert feed.status_code == 200 and "BEGIN:VCALENDAR" in feed.text
    again = await manager.get("/console/contracts/ctr_reference_msa")
    assert url.group(1) not in again.text and "A feed has been active since" in again.text


async def test_the_case_page_says_what_a_late_notice_skipped_and_holds(
    api: httpx.AsyncClient, sign_in: SignIn
) -> None:
    received = (NOW - dt.timedelta(days=100)).replace(microsecond=0).isoformat()
    case_id = (await open_case(api, "late", notice_received_at=received))["id"]
    # Since v3 our acknowledgement is held, and the effective date's report (our own) skipped.
    await eventually(
        lambda: (
            [n.notice for n in notices(case_id) if n.status == "awaiting_approval"]
            == ["acknowledgement"]
            and (row := case_row(case_id)) is not None
            and row.state == "terminated"
        )
    )
    viewer = await sign_in("viewer")
    shown = text_of((await viewer.get(f"/console/cases/{case_id}")).text)
    assert "Came in late: skipped owner reminder" in shown
    assert "skipped termination effective" in shown
    assert "held for approval acknowledgement" in shown
    assert "had passed when the case learned of it" in shown
    assert "skipped" in shown and "awaiting approval" in shown


async def test_the_contract_page_says_where_the_agreement_stands(sign_in: SignIn) -> None:
    seed_the_list()
    viewer = await sign_in("viewer")
    page = await viewer.get("/console/contracts/ctr_reference_msa")
    assert "In force" in _legal_state(page.text)
    with Session(get_engine()) as s:
        row = s.get(Contract, "ctr_reference_msa")
        assert row is not None
        row.legal_state, row.end_route, row.ended_by_case = "ended", "convenience", "case_quiet"
        # Ended at the start of a day, New York time, ten days ago.
        ends = dt.datetime.combine(
            ny_today() - dt.timedelta(days=10), dt.time(), ZoneInfo("America/New_York")
        )
        row.ends_at = ends.astimezone(dt.UTC)
        s.add(row)
        s.commit()
    stands = _legal_state((await viewer.get("/console/contracts/ctr_reference_msa")).text)
    assert f"Ended (convenience) {ends:%a} {ends.day} {ends:%b %Y} 00:00 New York time" in stands
    assert "§4, §6, §7, §9, §11" in stands and "no other case can start" in stands


def _legal_state(html: str) -> str:
    found = re.search(r'<dd id="legal-state">(.*?)</dd>', html, re.S)
    assert found is not None, html
    return " ".join(found.group(1).split())


async def test_the_portfolio_lists_contracts_with_their_state_and_what_needs_a_person(
    sign_in: SignIn,
) -> None:
    seed_the_list()
    with Session(get_engine()) as s:
        row = s.get(Contract, "ctr_reference_msa")
        assert row is not None
        row.legal_state, row.end_route = "terminating", "convenience"
        ends = dt.datetime.combine(
            ny_today() + dt.timedelta(days=30), dt.time(), ZoneInfo("America/New_York")
        )
        row.ends_at = ends.astimezone(dt.UTC)
        s.add(row)
        s.commit()
    viewer = await sign_in("viewer")
    page = await viewer.get("/console/contracts")
    assert page.status_code == 200
    assert 'href="/console/contracts"' in page.text  # in the main navigation
    rows = re.findall(r"<tr>\s*<td><a class=\"contract-link\"(.*?)</tr>", page.text, re.S)
    assert len(rows) == 1
    # After the contract's own cell: the agreement, open, escalated, stuck, next deadline.
    cells = [" ".join(c.split()) for c in re.findall(r"<td>(.*?)</td>", rows[0], re.S)]
    assert cells[0].startswith("Terminating (convenience): ends ")
    # Four open cases: one escalated; the failing and the overdue one are stuck.
    assert cells[1:4] == [
        "4",
        '<span class="badge badge-red">1</span>',
        '<span class="badge badge-amber">2</span>',
    ]
    assert "Terminating" in (await viewer.get("/console/contracts?legal_state=terminating")).text
    none = await viewer.get("/console/contracts?legal_state=ended")
    assert "No contract matches." in none.text
    stuck = await viewer.get("/console/contracts?stuck=yes")
    assert "contract-link" in stuck.text


async def test_two_invoices_are_told_apart_in_the_list_and_on_their_pages(
    api: httpx.AsyncClient, sign_in: SignIn
) -> None:
    for number, amount, key in (("INV-1", "900.00", "one"), ("INV-2", "25000.00", "two")):
        r = await api.post(
            "/api/contracts/ctr_reference_msa/cases",
            json={
                "clause": "invoice_payment",
                "facts": {
                    "invoice_received_at": notice_days_ago(1),
                    "invoice_amount": amount,
                    "invoice_number": number,
                },
            },
            headers={"Idempotency-Key": key},
        )
        assert r.status_code == 201, r.text
        assert r.json()["identity"].startswith(f"{number} · {amount} · ")
    listed = (await api.get("/api/cases", params={"clause": "invoice_payment"})).json()["items"]
    assert sorted(c["identity"].split(" · ")[0] for c in listed) == ["INV-1", "INV-2"]
    viewer = await sign_in("viewer")
    page = await viewer.get("/console", params={"clause": "invoice_payment"})
    shown = re.findall(r'<div class="identity">([^<]+)</div>', page.text)
    assert sorted(s.split(" · ")[0] for s in shown) == ["INV-1", "INV-2"]
    case_page = await viewer.get(f"/console/cases/{listed[0]['id']}")
    assert f'<p class="identity" id="identity">{listed[0]["identity"]}</p>' in case_page.text
