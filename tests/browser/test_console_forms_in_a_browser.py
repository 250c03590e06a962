"""A contract manager in a real browser: signs in, registers a contract from an uploaded
term sheet, asks what an invoice would set in motion, is refused a case for an invoice
dated tomorrow, starts it dated yesterday from the contract page, and finds it listed
there. Screenshots are kept in test-artifacts/browser/.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from pathlib import Path

import yaml
from playwright.async_api import Browser, expect
from sqlmodel import Session, select

from store.auth import create_user
from store.db import get_engine
from store.models import AuditEntry, Case, Contract
from tests.browser.conftest import Person, Stack, screenshot_path, submit_sign_in
from tests.conftest import REPO
from tests.dates import NY, ny_today
from tests.workflows.helpers import case_row, eventually

REFERENCE_MSA = REPO / "contracts" / "term_sheets" / "reference_msa.yaml"


def a_contract_manager() -> Person:
    person = Person(f"cora.{uuid.uuid4().hex[:6]}@customer.example.com", "a manager's passphrase")
    with Session(get_engine()) as s:
        create_user(s, person.email, "contract_manager", person.password, created_by="tests")
        s.commit()
    return person


def a_term_sheet_file(folder: Path) -> tuple[Path, str]:
    """The reference MSA's term sheet with a fresh reference, effective 60 days ago."""
    terms = yaml.safe_load(REFERENCE_MSA.read_text())
    reference = f"MSA-BROWSER-{uuid.uuid4().hex[:6].upper()}"
    terms["title"] = f"Hosting Agreement {reference}"
    terms["reference"] = reference
    terms["effective_date"] = (ny_today() - dt.timedelta(days=60)).isoformat()
    path = folder / f"{reference.lower()}.yaml"
    path.write_text(yaml.safe_dump(terms, sort_keys=False))
    return path, terms["title"]


def contract_titled(title: str) -> Contract | None:
    with Session(get_engine()) as s:
        return s.exec(select(Contract).where(Contract.title == title)).first()


def invoice_cases(contract_id: str) -> list[Case]:
    with Session(get_engine()) as s:
        query = select(Case).where(
            Case.contract_id == contract_id, Case.clause == "invoice_payment"
        )
        return list(s.exec(query))


def audited(action: str, contract_id: str) -> list[str]:
    with Session(get_engine()) as s:
        query = select(AuditEntry.actor).where(
            AuditEntry.action == action, AuditEntry.contract_id == contract_id
        )
        return list(s.exec(query))


async def test_a_contract_manager_registers_a_contract_and_starts_an_invoice_case(
    stack: Stack, browser: Browser, tmp_path: Path
) -> None:
    cora = a_contract_manager()
    term_sheet, title = a_term_sheet_file(tmp_path)
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    await page.goto(f"{stack.base_url}/console")
    await expect(page).to_have_url(re.compile(r"/console/login"))
    await submit_sign_in(page, cora)
    await expect(page).not_to_have_url(re.compile(r"/console/login"))

    # Register the contract from its term sheet file.
    await page.get_by_role("link", name="Register a contract").click()
    await expect(page.get_by_role("heading", name="Register a contract")).to_be_visible()
    await page.get_by_label(re.compile(r"^Term sheet")).set_input_files(term_sheet)
    await page.screenshot(path=screenshot_path("contract-register-form"), full_page=True)
    await page.get_by_role("button", name="Register the contract").click()
    await expect(page).to_have_url(
        re.compile(r"/console/contracts/ctr_[0-9a-f]+\?flash=registered$")
    )
    await expect(page.get_by_role("status")).to_contain_text("Contract registered")
    await expect(page.get_by_role("heading", name=title)).to_be_visible()
    contract = contract_titled(title)
    assert contract is not None and page.url.endswith(f"{contract.id}?flash=registered")
    assert audited("contract_registered", contract.id) == [cora.email]
    await page.screenshot(path=screenshot_path("contract-registered"), full_page=True)

    # Ask what an invoice that arrives tomorrow would set in motion: the answer comes in
    # place, and nothing starts.
    start = page.locator("#start-case")
    await start.get_by_text("Invoice payment").click()
    form = start.locator("form[data-clause='invoice_payment']")
    tomorrow = (dt.datetime.now(NY) + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    await form.get_by_label("When the Customer received the invoice").fill(tomorrow)
    await form.get_by_label("Invoice total").fill("18250.00")
    await form.get_by_label(re.compile("invoice number")).fill("INV-B-1042")
    await form.get_by_role("button", name=re.compile("What if")).click()
    answer = start.locator("#what-if-invoice_payment")
    await expect(answer).to_contain_text("What if:")
    await expect(answer).to_contain_text("Dispute window")
    # Answered in place: the page the registration led to stays.
    await expect(page).to_have_url(
        re.compile(f"/console/contracts/{contract.id}\\?flash=registered$")
    )
    assert invoice_cases(contract.id) == [] and audited("what_if_asked", contract.id)
    await page.screenshot(path=screenshot_path("contract-what-if"), full_page=True)

    # A case cannot start from an invoice not yet received: the form comes back, as
    # typed, naming the field.
    await form.get_by_role("button", name="Start the case").click()
    refused = page.get_by_role("alert")
    await expect(refused).to_contain_text("facts.invoice_received_at: must not be in the future")
    assert invoice_cases(contract.id) == []
    await page.screenshot(path=screenshot_path("console-case-refused"), full_page=True)

    # Received yesterday, in fact: the case starts and the browser lands on it.
    form = page.locator("form[data-clause='invoice_payment']")
    await expect(form.get_by_label("Invoice total")).to_have_value("18250.00")
    yesterday = (dt.datetime.now(NY) - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    await form.get_by_label("When the Customer received the invoice").fill(yesterday)
    await form.get_by_role("button", name="Start the case").click()
    await expect(page).to_have_url(re.compile(r"/console/cases/case_[0-9a-f]+\?flash=started$"))
    case_id = page.url.rsplit("/", 1)[1].split("?")[0]
    await expect(page.get_by_role("heading", name="Invoice payment")).to_be_visible()
    await eventually(lambda: (c := case_row(case_id)) is not None and c.last_step > 0, timeout=30)
    assert [c.id for c in invoice_cases(contract.id)] == [case_id]
    assert audited("case_opened", contract.id) == [cora.email]
    await page.screenshot(path=screenshot_path("console-case-started"), full_page=True)

    # Back on the contract page, the case is listed with its invoice number.
    await page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name=title).click()
    await expect(page).to_have_url(re.compile(f"/console/contracts/{contract.id}$"))
    row = page.locator("table.cases tr", has_text="INV-B-1042")
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text("Invoice payment")
    await context.close()
