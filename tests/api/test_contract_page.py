"""The contract page: every clock of the contract on one timeline, and the term sheet's
figures with their sections, as those clocks read them (issue 15, part 4)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from store.db import get_engine
from store.models import Contract, Deadline
from tests.api.helpers import NOW, a_case, seed
from tests.api.test_console import SignIn, sign_in  # noqa: F401 (the fixture)

PAGE = "/console/contracts/ctr_reference_msa"


def _term_sheet(html: str) -> str:
    found = re.search(r'<section class="card" id="term-sheet">(.*?)</section>', html, re.S)
    assert found is not None, html
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


async def test_the_contract_page_lists_the_term_sheets_figures_with_their_sections(
    sign_in: SignIn,  # noqa: F811 (the fixture imported above)
) -> None:
    viewer = await sign_in("viewer")
    sheet = _term_sheet((await viewer.get(PAGE)).text)
    assert "Fees (Exhibit B) Monthly fee 25000.00" in sheet
    assert "Payment (§3, Exhibit B.4)" in sheet
    assert "Days from receipt of a correct and undisputed invoice in which it is to be paid 30" in (
        sheet
    )
    assert "Termination for convenience (§10)" in sheet
    assert "Sections that survive the end of the agreement 4, 6, 7, 9, 11" in sheet


async def test_a_figure_the_term_sheet_leaves_out_shows_the_default_it_takes(
    sign_in: SignIn,  # noqa: F811
) -> None:
    with Session(get_engine()) as s:
        row = s.get(Contract, "ctr_reference_msa")
        assert row is not None
        terms = dict(row.terms)
        clauses = dict(terms["clauses"])
        clauses["acceptable_use"] = {"section": "8", "exhibit": "C", "cure_period_days": 15}
        clauses.pop("security_breach")
        row.terms = {**terms, "clauses": clauses}
        s.add(row)
        s.commit()
    viewer = await sign_in("viewer")
    sheet = _term_sheet((await viewer.get(PAGE)).text)
    assert "Days the Customer has to cure a violation of the acceptable use policies 15" in sheet
    assert (
        "Hours within which the Provider is to notify the Customer of a security breach 72 default"
        in sheet
    )


def _deadline(
    case_id: str, name: str, label: str, due: dt.datetime, status: str, **kw: Any
) -> None:
    with Session(get_engine()) as s:
        s.add(
            Deadline(
                case_id=case_id,
                name=name,
                group=name,
                label=label,
                due_at=due,
                explanation=[],
                status=status,
                set_at_step=1,
                updated_at=NOW,
                **kw,
            )
        )
        s.commit()


def _clocks(html: str) -> list[str]:
    found = re.search(r'<section class="card" id="clocks">(.*?)</section>', html, re.S)
    assert found is not None, html
    rows = re.findall(r"<tr class=\"clock-[^\"]*\">(.*?)</tr>", found.group(1), re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", r).split()) for r in rows]


async def test_the_contract_page_puts_every_clock_of_its_cases_on_one_timeline(
    sign_in: SignIn,  # noqa: F811
) -> None:
    zone = ZoneInfo("America/New_York")
    seed(
        a_case("case_termination"),
        a_case(
            "case_invoice",
            clause="invoice_payment",
            rulebook_version=4,
            facts={"invoice_number": "INV-9", "invoice_amount": "900.00"},
        ),
    )
    # An end-of-day deadline: the midnight that ends its last day, 20 days from now.
    last_day = dt.datetime.now(zone).date() + dt.timedelta(days=20)
    midnight = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(0), zone)
    _deadline("case_invoice", "payment_due", "Payment due", midnight, "pending", last_day=last_day)
    _deadline(
        "case_invoice",
        "dispute_window",
        "Dispute window ends",
        NOW - dt.timedelta(days=2),
        "reached",
    )
    _deadline(
        "case_termination",
        "effective_date",
        "Termination takes effect",
        NOW + dt.timedelta(days=40),
        "pending",
    )
    _deadline(
        "case_termination", "reminder_60", "Reminder", NOW - dt.timedelta(days=1), "cancelled"
    )
    viewer = await sign_in("viewer")
    rows = _clocks((await viewer.get(PAGE)).text)
    assert rows[0].startswith("Thu 1 Jan 2026 00:00") and "The agreement takes effect" in rows[0]
    kinds = [r.split(" Status ")[0] for r in rows]
    assert next(r for r in kinds if "Dispute window ends" in r).endswith("reached")
    assert next(r for r in kinds if "Reminder" in r).endswith("stopped")
    payment = next(r for r in rows if "Payment due" in r)
    assert f"end of {last_day:%a} {last_day.day} {last_day:%b %Y}" in payment
    assert "Invoice payment" in payment and "INV-9" in payment
    assert payment.endswith("next")
    termination = next(r for r in rows if "Termination takes effect" in r)
    assert termination.endswith("to come")
    # In time order: past, then the next, then what comes after it.
    order = [r for r in rows if "Reminder" in r or "Payment due" in r or "takes effect" in r]
    assert ["Reminder" in order[1], "Payment due" in order[2]] == [True, True]
