"""The case lists and the ops summary issue a fixed number of SQL statements.

Whatever the page size and however many cases, contracts and deadlines there are:
``GET /api/cases``, the console's list and ``GET /api/ops/summary`` read the page's rows
(with each case's contract time zone and deadlines) and their counts in a few
statements, never one statement per row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlmodel import Session

from store.db import get_engine
from store.models import Contract, Deadline
from tests.api.conftest import ApiAs
from tests.api.helpers import NOW, a_case, seed

#: Enough cases for a full page of 50 (and two of the console's 25).
CASES = 60
#: Contracts the cases are spread over, each in its own time zone.
ZONES = ["Europe/Paris", "Asia/Tokyo", "America/Chicago"]


def seed_cases(first: int, count: int) -> None:
    """``count`` cases from number ``first``, over several contracts, two deadlines each."""
    with Session(get_engine()) as s:
        for i, zone in enumerate(ZONES):
            if s.get(Contract, f"ctr_zone_{i}") is None:
                s.add(
                    Contract(
                        id=f"ctr_zone_{i}",
                        title=f"Contract in {zone}",
                        customer_name="Customer",
                        provider_name="Provider",
                        time_zone=zone,
                        effective_date=dt.date(2026, 1, 1),
                        terms={},
                        created_at=NOW,
                    )
                )
        s.commit()
    cases = [
        a_case(
            f"case_many_{n:03}",
            contract_id=f"ctr_zone_{n % len(ZONES)}" if n % 4 else "ctr_reference_msa",
            next_deadline_at=NOW + dt.timedelta(days=1 + n % 17, hours=n),
            escalated=n % 5 == 0,
            state="notice_period_running" if n % 3 else "termination_right_arisen",
        )
        for n in range(first, first + count)
    ]
    due = {c.id: c.next_deadline_at or NOW for c in cases}
    seed(*cases)
    with Session(get_engine()) as s:
        for case_id, first_due in due.items():
            for k, name in enumerate(("effective_date", "final_invoice")):
                s.add(
                    Deadline(
                        case_id=case_id,
                        name=name,
                        group="termination",
                        label=name.replace("_", " ").capitalize(),
                        due_at=first_due + dt.timedelta(days=k),
                        explanation=["seeded"],
                        status="pending",
                        set_at_step=1,
                        updated_at=NOW,
                    )
                )
        s.commit()


@contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL statements the application's engine issues inside the block."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def count_get(client: httpx.AsyncClient, url: str) -> int:
    """How many statements answering ``GET url`` took (it must answer 200).

    Asked twice, counted the second time: a token's ``last_used_at`` is written at
    most once a minute, by whichever request comes first.
    """
    assert (await client.get(url)).status_code == 200
    with statements() as seen:
        r = await client.get(url)
    assert r.status_code == 200, r.text
    return len(seen)


async def test_the_case_list_takes_as_many_statements_for_5_rows_as_for_50(
    api: httpx.AsyncClient,
) -> None:
    seed_cases(0, CASES)
    five = await count_get(api, "/api/cases?limit=5")
    fifty = await count_get(api, "/api/cases?limit=50")
    assert len((await api.get("/api/cases?limit=50")).json()["items"]) == 50
    # The token's look-up, the page (with time zones), its deadlines and the counts.
    assert five == fifty
    assert fifty <= 4, fifty
    # Filters and a later page do not add statements either.
    assert await count_get(api, "/api/cases?limit=50&state=notice_period_running") == fifty
    assert await count_get(api, "/api/cases?limit=5&offset=5&escalated=true") == fifty


async def test_the_consoles_list_takes_as_many_statements_for_few_rows_as_for_a_page(
    api_as: ApiAs, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.console import views
    from tests.api.test_console import add_user, csrf_of

    email = "viewer@clauseflow.example.com"
    add_user(email, "viewer")
    client = api_as(None)
    form = await client.get("/console/login")
    r = await client.post(
        "/console/login",
        data={
            "email": email,
            "password": "correct horse battery staple",
            "csrf_token": csrf_of(form.text),
        },
    )
    assert r.status_code == 303, r.text
    seed_cases(0, CASES)
    monkeypatch.setattr(views, "PAGE_SIZE", 3)
    few = await count_get(client, "/console")
    monkeypatch.setattr(views, "PAGE_SIZE", 25)
    page = await count_get(client, "/console")
    assert few == page, (few, page)
    # The session and its user, the user's name, the page, its deadlines, the counts
    # and the contracts of the filter.
    assert page <= 7, page
    assert await count_get(client, "/console?page=3&stuck=no") == page


async def test_the_ops_summary_takes_as_many_statements_whatever_the_data(
    api: httpx.AsyncClient,
) -> None:
    seed_cases(0, 4)
    few = await count_get(api, "/api/ops/summary")
    seed_cases(4, CASES)
    many = await count_get(api, "/api/ops/summary")
    assert few == many
    # The token's look-up, every count in one statement, the open cases per state.
    assert many <= 3, many
