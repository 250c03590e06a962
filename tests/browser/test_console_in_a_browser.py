"""An operator in a real browser: signs in, finds the case a failing notice made stuck,
reads why, retries it once SendGrid is back, amends a deadline with a second approver,
and sees the audit entries. Screenshots of the list and the case page are kept in
test-artifacts/browser/.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from zoneinfo import ZoneInfo

from playwright.async_api import Browser, Page, expect
from sqlmodel import Session, select

from store.db import get_engine
from store.models import AuditEntry, Deadline
from tests.browser.conftest import Person, Stack, screenshot_path, submit_sign_in
from tests.workflows.helpers import case_row, eventually, notices

NEW_YORK = ZoneInfo("America/New_York")


async def sign_in(page: Page, stack: Stack, person: Person) -> None:
    await page.goto(f"{stack.base_url}/console")
    # Not signed in: the console sends us to its sign-in page.
    await expect(page).to_have_url(re.compile(r"/console/login"))
    await submit_sign_in(page, person)
    await expect(page).not_to_have_url(re.compile(r"/console/login"))


async def open_failing_case(stack: Stack) -> str:
    """A termination case whose acknowledgement cannot go out: SendGrid answers 500."""
    stack.sendgrid.script_send(*[500] * 200)
    received = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    r = await stack.api.post(
        "/api/contracts/ctr_reference_msa/cases",
        json={
            "clause": "termination_for_convenience",
            "facts": {"notice_received_at": received.isoformat(), "given_by": "provider"},
        },
        headers={"Idempotency-Key": f"browser-stuck-{uuid.uuid4()}"},
    )
    assert r.status_code == 201, r.text
    case_id: str = r.json()["id"]
    # Stuck after two failed attempts (the stack sets STUCK_AFTER_ATTEMPTS=2).
    await eventually(
        lambda: (c := case_row(case_id)) is not None and c.failing_attempts >= 2, timeout=60
    )
    return case_id


def audit_actions(case_id: str) -> list[tuple[str, str]]:
    with Session(get_engine()) as s:
        return [
            (a.actor, a.action)
            for a in s.exec(select(AuditEntry).where(AuditEntry.case_id == case_id))
        ]


def effective_date(case_id: str) -> Deadline:
    with Session(get_engine()) as s:
        return s.exec(
            select(Deadline).where(Deadline.case_id == case_id, Deadline.name == "effective_date")
        ).one()


async def test_an_operator_finds_a_stuck_case_retries_it_and_amends_a_deadline(
    stack: Stack, browser: Browser
) -> None:
    case_id = await open_failing_case(stack)
    olivia = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await olivia.new_page()
    await sign_in(page, stack, stack.operator)

    # The list, filtered to stuck cases, shows the case with why it is stuck.
    await page.get_by_label("Stuck").select_option("yes")
    await page.get_by_role("button", name=re.compile("filter|apply|show", re.I)).first.click()
    row = page.locator("tr", has_text="Termination").filter(has_text="Stuck")
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text("SendGrid answered 500")
    await page.screenshot(path=screenshot_path("case-list-stuck"), full_page=True)

    # The case page says what is failing, with Temporal's own last failure message.
    await row.get_by_role("link").first.click()
    await expect(page).to_have_url(re.compile(f"/console/cases/{case_id}"))
    stuck = page.locator("#stuck")
    await expect(stuck).to_contain_text("hand_over_notice")
    await expect(stuck.locator("td.failure").first).to_contain_text("SendGrid answered 500")
    await expect(page.locator("#deadlines")).to_contain_text("Termination")
    await page.screenshot(path=screenshot_path("case-page-stuck"), full_page=True)

    # The operator retries now instead of waiting out the backoff. SendGrid comes back
    # only once the retry is on record: were it back before the click, Temporal's own
    # retry could win the race and leave nothing to retry (CI saw exactly that).
    await stuck.get_by_label(re.compile("Reason")).fill("SendGrid incident resolved")
    await stuck.get_by_role("button", name="Retry now").click()
    await eventually(
        lambda: (stack.operator.email, "retry_now") in audit_actions(case_id), timeout=30
    )
    stack.sendgrid.clear_send_script()
    sent = await eventually(lambda: [n for n in notices(case_id) if n.status == "sent"], timeout=60)
    assert len(stack.sendgrid.accepted_for(sent[0].id)) == 1  # exactly once
    await eventually(lambda: not case_row(case_id).failing_activity, timeout=30)  # type: ignore[union-attr]
    await page.reload()
    await expect(page.locator("#stuck")).to_have_count(0)

    # Olivia proposes moving the effective date a week later; it does not move yet.
    before = effective_date(case_id)
    new_local = (before.due_at.astimezone(NEW_YORK) + dt.timedelta(days=7)).replace(
        hour=17, minute=0, second=0, microsecond=0
    )
    actions = page.locator("#actions")
    await actions.get_by_text("Move a deadline").click()
    form = actions.locator("form[action$='/amendments']")
    await form.get_by_label("Deadline").select_option("effective_date")
    await form.get_by_label("New date").fill(new_local.date().isoformat())
    await form.get_by_label("Time", exact=True).fill("17:00")
    await form.get_by_label(re.compile("Reason")).fill("both parties agreed a week's extension")
    await form.get_by_role("button", name=re.compile("Propose amendment")).click()
    pending = page.locator("#amendments")
    await expect(pending).to_contain_text("both parties agreed a week's extension")
    assert effective_date(case_id).due_at == before.due_at

    # Olivia cannot approve her own amendment.
    await pending.get_by_label("Reason").fill("approving my own")
    await pending.get_by_role("button", name="Approve").click()
    await expect(page.locator(".banner-red")).to_contain_text(re.compile("approve", re.I))
    assert effective_date(case_id).due_at == before.due_at
    await olivia.close()

    # Oscar, a second operator, approves it: the deadline moves and says why.
    oscar = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await oscar.new_page()
    await sign_in(page, stack, stack.second_operator)
    await page.goto(f"{stack.base_url}/console/cases/{case_id}")
    pending = page.locator("#amendments")
    await pending.get_by_label("Reason").fill("checked against the signed letter")
    await pending.get_by_role("button", name="Approve").click()
    await expect(page.locator("#amendments")).to_have_count(0)
    moved = effective_date(case_id)
    assert moved.due_at == new_local.astimezone(dt.UTC)
    deadlines = page.locator("#deadlines")
    await expect(deadlines).to_contain_text("amended")
    await deadlines.get_by_text("How this deadline was computed").first.click()
    await expect(deadlines).to_contain_text(stack.second_operator.email)

    # The audit trail on the page names who did what, and why.
    timeline = page.locator("#timeline")
    await expect(timeline).to_contain_text("SendGrid incident resolved")
    await expect(timeline).to_contain_text("checked against the signed letter")
    await expect(timeline).to_contain_text(stack.operator.email)
    await expect(timeline).to_contain_text(stack.second_operator.email)
    await page.screenshot(path=screenshot_path("case-page-after-amendment"), full_page=True)
    await oscar.close()

    actors = audit_actions(case_id)
    assert (stack.operator.email, "retry_now") in actors
    assert (stack.second_operator.email, "approve_amendment") in actors
    assert (stack.operator.email, "amend_deadline") in actors


async def test_a_viewer_sees_the_case_but_no_actions(stack: Stack, browser: Browser) -> None:
    case_id = await open_failing_case(stack)
    context = await browser.new_context()
    page = await context.new_page()
    await sign_in(page, stack, stack.viewer)
    await page.goto(f"{stack.base_url}/console/cases/{case_id}")
    await expect(page.locator("#stuck")).to_contain_text("SendGrid answered 500")
    await expect(page.get_by_role("button", name="Retry now")).to_have_count(0)
    await expect(page.get_by_text("can read cases but not act on them")).to_be_visible()
    await context.close()
