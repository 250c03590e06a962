"""A contract manager in a real browser registers a contract from the agreement's own
text: uploads it, reviews the figure that departs from the standard (with its sentence),
gives what the text leaves out, accepts, and lands on the contract page, where its term
and monthly review run and each figure says which sentence it came from and who accepted
it. No YAML is written. Screenshots are kept in test-artifacts/browser/.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from pathlib import Path

from playwright.async_api import Browser, expect
from sqlmodel import Session, select

from store.db import get_engine
from store.models import Case, Contract, FigureProvenance
from tests.browser.conftest import Stack, screenshot_path, submit_sign_in
from tests.browser.test_console_forms_in_a_browser import a_contract_manager
from tests.conftest import shared_path
from tests.dates import ny_today
from tests.workflows.helpers import eventually

CURE = "clauses.termination_for_cause.cure_period_days"
CURE_SAID = "fails to cure such breach within thirty (30) days"


def an_agreement_file(folder: Path) -> Path:
    """The reference MSA with a cure period of 15 days, not its standard 30."""
    text = shared_path("MSA.txt").read_text()
    assert CURE_SAID in text, "the reference MSA no longer states its cure period so"
    path = folder / "acme-msa.txt"
    path.write_text(text.replace(CURE_SAID, CURE_SAID.replace("thirty (30)", "fifteen (15)")))
    return path


def contract_with(reference: str) -> Contract | None:
    with Session(get_engine()) as s:
        return s.exec(select(Contract).where(Contract.reference == reference)).first()


def clauses_running(contract_id: str) -> set[str]:
    with Session(get_engine()) as s:
        return set(s.exec(select(Case.clause).where(Case.contract_id == contract_id)))


def provenance(contract_id: str) -> dict[str, FigureProvenance]:
    with Session(get_engine()) as s:
        rows = s.exec(select(FigureProvenance).where(FigureProvenance.contract_id == contract_id))
        return {r.path: r for r in rows}


async def test_a_contract_manager_registers_a_contract_from_the_agreements_text(
    stack: Stack, browser: Browser, tmp_path: Path
) -> None:
    cora = a_contract_manager()
    reference = f"MSA-TEXT-{uuid.uuid4().hex[:6].upper()}"
    title = f"Acme Hosting Agreement {reference}"
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    await page.goto(f"{stack.base_url}/console/login")
    await submit_sign_in(page, cora)
    await expect(page).not_to_have_url(re.compile(r"/console/login"))

    # Upload the agreement itself, compared with the reference MSA.
    await page.get_by_role("link", name="Register a contract").click()
    await page.get_by_role("link", name="From the agreement's text").click()
    await page.get_by_label("Agreement file").set_input_files(an_agreement_file(tmp_path))
    await page.get_by_role("button", name="Read the agreement").click()
    await expect(page).to_have_url(re.compile(r"/console/agreements/agr_[0-9a-f]+$"))

    # The departure is marked, with its section and the sentence it comes from.
    cure = page.locator(f"#figure-{CURE.replace('.', '-')}")
    await expect(cure).to_have_class(re.compile("deviates"))
    await expect(cure).to_contain_text("your standard: 30")
    await expect(cure).to_contain_text("§10")
    await expect(cure.locator("mark")).to_have_text("fifteen (15) days")
    await expect(cure.locator(f'[name="value.{CURE}"]')).to_have_value("15")
    await cure.scroll_into_view_if_needed()
    await page.screenshot(path=screenshot_path("agreement-review"), full_page=True)

    # What the text leaves out: typed where it is this contract's own, else the standard's
    # value, ticked.
    typed = {
        "title": title,
        "reference": reference,
        "effective_date": (ny_today() - dt.timedelta(days=365)).isoformat(),
        "customer.name": "Acme Widgets Inc.",
        "customer.notice_email": "legal@acme.example.com",
        "provider.name": "Cloudy Provider LLC",
        "provider.notice_email": "notices@cloudy.example.com",
        "fees.monthly_fee": "12000.00",
    }
    for path, value in typed.items():
        await page.locator(f'[name="value.{path}"]').fill(value)
    ticks = page.locator("#missing input[type=checkbox]")
    for i in range(await ticks.count()):
        box = ticks.nth(i)
        path = (await box.get_attribute("name") or "").removeprefix("use_standard.")
        if path not in typed:
            await box.check()
    await page.get_by_role("button", name="Accept and register the contract").click()

    # The contract page: the banner, the cases that started with it, each figure's source.
    await expect(page).to_have_url(re.compile(r"/console/contracts/ctr_[0-9a-f]+\?flash=accepted$"))
    await expect(page.get_by_role("status")).to_contain_text(
        "Contract registered from the agreement's text"
    )
    await expect(page.get_by_role("heading", name=title)).to_be_visible()
    contract = contract_with(reference)
    assert contract is not None and contract.id in page.url
    assert contract.terms["clauses"]["termination_for_cause"]["cure_period_days"] == 15
    await eventually(
        lambda: {"term_expiry", "monthly_sla_review"} <= clauses_running(contract.id), timeout=30
    )
    source = page.locator(f'#term-sheet td.source[data-path="{CURE}"]')
    await expect(source).to_contain_text("read from the text and accepted")
    await expect(source).to_contain_text(f"by {cora.email}")
    await expect(source.locator("mark")).to_have_text("fifteen (15) days")
    await expect(page.locator("#provenance")).to_contain_text("acme-msa.txt")
    rows = provenance(contract.id)
    assert rows[CURE].how == "read" and rows[CURE].accepted_by == cora.email
    assert rows["customer.name"].how == "given"

    # Its cases are listed there, and a case can be started from the same page.
    await page.reload()
    cases = page.locator("table.cases")
    await expect(cases).to_contain_text("Term")
    await expect(page.locator("#start-case")).to_be_visible()
    await page.screenshot(path=screenshot_path("agreement-accepted"), full_page=True)
    await context.close()
