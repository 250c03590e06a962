"""The case lists and the ops summary issue a fixed number of SQL statements.

Whatever the page size and however many cases, contracts and deadlines there are:
``GET /api/cases``, the console's list and ``GET /api/ops/summary`` read the page's rows
(with each case's contract time zone and deadlines) and their counts in a few
statements, never one statement per row. A page by cursor, however deep, takes the
statements the first page takes, and none of them skips rows with OFFSET.
"""

from __future__ import annotations

import datetime as dt
import re
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
            # Every eleventh without a next deadline: listed last.
            next_deadline_at=None if n % 11 == 10 else NOW + dt.timedelta(days=1 + n % 17, hours=n),
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


@contextmanager
def executed() -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements the application's engine issues inside the block, each with
    its parameters."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def offsets(statement: str, parameters: Any) -> list[Any]:
    """How many rows each OFFSET of ``statement`` skips: its literal, or the parameter
    bound to it (``?`` on SQLite, ``%(name)s`` on PostgreSQL)."""
    found = []
    for m in re.finditer(r"OFFSET\s+(\?|%\((\w+)\)s|\d+)", statement):
        if m.group(1) == "?":
            found.append(parameters[statement[: m.start()].count("?")])
        elif m.group(2):
            found.append(parameters[m.group(2)])
        else:
            found.append(int(m.group(1)))
    return found


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


async def test_a_page_by_cursor_takes_as_many_statements_as_the_first_page_whatever_its_size(
    api: httpx.AsyncClient,
) -> None:
    seed_cases(0, CASES)
    first = await count_get(api, "/api/cases?limit=5")

    async def cursor_after(offset: int, query: str = "") -> str:
        """The cursor of the page starting at ``offset``: the row before it names it."""
        r = await api.get(f"/api/cases?limit=1&offset={offset - 1}{query}")
        cursor: str = r.json()["next_cursor"]
        return cursor

    # A cursor into the dated cases (then those with none), and one among those with none.
    dated, undated = await cursor_after(20), await cursor_after(CASES - 3)
    for cursor in (dated, undated):
        for limit in (5, 50):
            assert await count_get(api, f"/api/cases?limit={limit}&cursor={cursor}") == first
    filtered = await cursor_after(10, "&state=notice_period_running")
    url = f"/api/cases?limit=50&state=notice_period_running&cursor={filtered}"
    assert await count_get(api, url) == first


async def test_a_deep_page_by_cursor_skips_no_rows_with_offset(api: httpx.AsyncClient) -> None:
    seed_cases(0, CASES)
    deep = 40
    by_offset = await api.get(f"/api/cases?limit=10&offset={deep}")
    before = await api.get(f"/api/cases?limit=1&offset={deep - 1}")
    cursor = before.json()["next_cursor"]
    with executed() as seen:
        by_cursor = await api.get(f"/api/cases?limit=10&cursor={cursor}")
    assert by_cursor.status_code == 200, by_cursor.text
    assert [c["id"] for c in by_cursor.json()["items"]] == [
        c["id"] for c in by_offset.json()["items"]
    ]
    pages = [(sql, params) for sql, params in seen if 'FROM "case"' in sql and "ORDER BY" in sql]
    assert len(pages) == 1, [sql for sql, _ in seen]
    sql, params = pages[0]
    # SQLAlchemy writes "LIMIT ? OFFSET ?" on SQLite whenever it limits, with 0 bound to
    # the OFFSET; PostgreSQL's statement has no OFFSET at all.
    assert all(skipped == 0 for skipped in offsets(sql, params)), (sql, params)
    if get_engine().dialect.name == "postgresql":
        assert "OFFSET" not in sql.upper(), sql
    # The same page by offset does skip rows: the check above would have seen them.
    with executed() as seen:
        assert (await api.get(f"/api/cases?limit=10&offset={deep}")).status_code == 200
    skipped = [n for sql, params in seen if 'FROM "case"' in sql for n in offsets(sql, params)]
    assert deep in skipped, seen


async def test_the_consoles_next_page_takes_as_many_statements_as_its_first(
    api_as: ApiAs, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.console import views
    from tests.api.test_console import add_user, csrf_of, pager_link

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
    monkeypatch.setattr(views, "PAGE_SIZE", 7)
    first = await count_get(client, "/console?stuck=no")
    url = "/console?stuck=no"
    for _ in range(4):  # to the fifth page, by the pages' own links
        url = pager_link((await client.get(url)).text, "next")
    assert "cursor=" in url
    assert await count_get(client, url) == first
    back = pager_link((await client.get(url)).text, "prev")
    assert "before=" in back
    assert await count_get(client, back) == first
