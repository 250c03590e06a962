"""A deadline that runs to the end of its last day reads as that day everywhere people see
it: "end of Thu 31 Dec 2026, New York time", the day its notice names, and not the
midnight after it, which stays the instant machines read (issue 15).

Every date is counted from today, in New York (tests/dates.py).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import httpx
from sqlmodel import Session

from store.db import get_engine
from store.models import Deadline
from tests.api.helpers import CASES_URL, a_case, seed
from tests.api.test_console import SignIn, sign_in, text_of  # noqa: F401
from tests.dates import at_ny_on, described, notice_days_ago, ny_today
from tests.workflows.helpers import eventually, notices

#: The last day of the seeded cure period, and its end: the midnight New York time after.
LAST_DAY = ny_today() + dt.timedelta(days=20)
ENDS = at_ny_on(LAST_DAY + dt.timedelta(days=1))
END_OF_DAY = f"end of {described(LAST_DAY)}, New York time"
#: What the console and the API said before: the instant, on the next day.
MIDNIGHT_AFTER = f"{described(LAST_DAY + dt.timedelta(days=1))} 00:00 New York time"


def _iso(instant: dt.datetime) -> str:
    return instant.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def seed_cure_period(case_id: str, *, last_day: dt.date = LAST_DAY, **case: Any) -> None:
    """A breach case whose next deadline is its cure period, due at ``ENDS``."""
    seed(
        a_case(
            case_id,
            clause="material_breach",
            state="cure_period_running",
            state_label="Cure period running; the party in breach must cure it",
            next_deadline_at=ENDS,
            next_deadline_name="cure_period",
            **case,
        )
    )
    with Session(get_engine()) as s:
        s.add(
            Deadline(
                case_id=case_id,
                name="cure_period",
                group="cure_period",
                label="Cure period ends",
                due_at=ENDS,
                last_day=last_day,
                explanation=["Rule (MSA §10): 30 calendar days after the notice."],
                set_at_step=1,
                updated_at=ENDS - dt.timedelta(days=30),
            )
        )
        s.commit()


async def _json(api: httpx.AsyncClient, url: str) -> Any:
    r = await api.get(url)
    assert r.status_code == 200, r.text
    return r.json()


# ---------------------------------------------------------------------------------- API


async def test_the_api_says_the_day_and_keeps_the_instant(api: httpx.AsyncClient) -> None:
    seed_cure_period("case_eod")
    case = await _json(api, "/api/cases/case_eod")
    (cure,) = case["deadlines"]
    assert cure["due_text"] == END_OF_DAY
    assert dt.datetime.fromisoformat(cure["due_at"]) == ENDS  # the instant, unchanged
    assert cure["local_due"] == MIDNIGHT_AFTER  # that instant in local words
    assert cure["last_day"] == LAST_DAY.isoformat()
    assert case["next_deadline_text"] == END_OF_DAY

    (listed,) = (await _json(api, "/api/cases"))["items"]
    assert listed["next_deadline_text"] == END_OF_DAY
    assert dt.datetime.fromisoformat(listed["next_deadline_at"]) == ENDS

    contracts = (await _json(api, "/api/contracts"))["items"]
    reference = next(c for c in contracts if c["id"] == "ctr_reference_msa")
    assert reference["next_deadline_text"] == END_OF_DAY
    assert dt.datetime.fromisoformat(reference["next_deadline_at"]) == ENDS


async def test_a_deadline_at_the_start_of_its_day_reads_as_its_instant(
    api: httpx.AsyncClient,
) -> None:
    # The same instant, as the first moment of the next day (a rule "ends: start_of_day").
    seed_cure_period("case_sod", last_day=LAST_DAY + dt.timedelta(days=1))
    case = await _json(api, "/api/cases/case_sod")
    assert case["deadlines"][0]["due_text"] == MIDNIGHT_AFTER
    assert case["next_deadline_text"] == MIDNIGHT_AFTER
    contracts = (await _json(api, "/api/contracts"))["items"]
    reference = next(c for c in contracts if c["id"] == "ctr_reference_msa")
    assert reference["next_deadline_text"] == MIDNIGHT_AFTER


async def test_the_portfolio_reads_two_cases_due_at_one_instant_as_the_day_that_ends(
    api: httpx.AsyncClient,
) -> None:
    # One case's period ends with the day, the other's starts with the next: one instant.
    seed_cure_period("case_sod", last_day=LAST_DAY + dt.timedelta(days=1))
    seed_cure_period("case_eod")
    contracts = (await _json(api, "/api/contracts"))["items"]
    reference = next(c for c in contracts if c["id"] == "ctr_reference_msa")
    assert (reference["open_cases"], reference["next_deadline_text"]) == (2, END_OF_DAY)


async def test_a_started_breach_case_reads_as_the_day_its_notice_names(
    api: httpx.AsyncClient,
) -> None:
    # We (the Customer) gave the notice: the cure period runs to the end of its last day,
    # the Provider's notice of cure is due by then, and our notice names that day.
    r = await api.post(
        CASES_URL,
        json={
            "clause": "material_breach",
            "facts": {
                "breach_notice_received_at": notice_days_ago(1),
                "given_by": "customer",
                "breach_description": "Uptime below the SLA for three months",
            },
        },
        headers={"Idempotency-Key": "end-of-day"},
    )
    assert r.status_code == 201, r.text
    case_id = r.json()["id"]
    written = await eventually(lambda: notices(case_id))
    case = await _json(api, f"/api/cases/{case_id}")
    cure = next(d for d in case["deadlines"] if d["name"] == "cure_period")
    last_day = dt.date.fromisoformat(cure["last_day"])
    assert cure["due_text"] == f"end of {described(last_day)}, New York time"
    assert dt.datetime.fromisoformat(cure["due_at"]) == at_ny_on(last_day + dt.timedelta(days=1))
    upcoming = next(d for d in case["deadlines"] if d["name"] == case["next_deadline_name"])
    assert case["next_deadline_text"] == upcoming["due_text"]
    subjects = " ".join(n.subject for n in written)
    assert f"cure period ends {described(last_day)}" in subjects  # the same day
    (cured,) = [x for x in case["expected_notices"] if x["expected_by"] == "cure_period"]
    assert cured["due_text"] == cure["due_text"]
    # A reminder at 09:00 is a time of day, and reads as one.
    reminder = next(d for d in case["deadlines"] if d["name"] == "cure_reminder")
    assert reminder["due_text"] == reminder["local_due"]
    assert reminder["due_text"].endswith("09:00 New York time")


# ------------------------------------------------------------------------------ console


async def test_the_console_says_the_day_and_keeps_the_instant_in_datetime(
    sign_in: SignIn,  # noqa: F811
) -> None:
    seed_cure_period("case_eod")
    viewer = await sign_in("viewer")
    instant = f'datetime="{_iso(ENDS)}"'

    page = await viewer.get("/console/cases/case_eod")
    assert page.status_code == 200
    deadlines = page.text.split('id="deadlines"', 1)[1].split("</section>", 1)[0]
    assert END_OF_DAY in text_of(deadlines)
    assert MIDNIGHT_AFTER not in text_of(deadlines)
    assert instant in deadlines

    listing = await viewer.get("/console")
    cell = re.search(r'<td class="deadline-cell">(.*?)</td>', listing.text, re.S)
    assert cell is not None
    assert END_OF_DAY in text_of(cell.group(1)) and instant in cell.group(1)
    # The countdown still runs to the instant.
    assert re.search(r"in 2\d days", text_of(cell.group(1)))

    contract = await viewer.get("/console/contracts/ctr_reference_msa")
    assert END_OF_DAY in text_of(contract.text)

    portfolio = await viewer.get("/console/contracts")
    row = re.search(r'<tr>\s*<td><a class="contract-link"(.*?)</tr>', portfolio.text, re.S)
    assert row is not None
    assert END_OF_DAY in text_of(row.group(1)) and instant in row.group(1)
    assert MIDNIGHT_AFTER not in text_of(portfolio.text)
