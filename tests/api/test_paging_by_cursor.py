"""GET /api/cases pages by cursor: every case once, in order, whatever the filters.

A page's ``next_cursor`` names its last case; the next page starts just after it in the
list's total order (next deadline, cases without one last, then id). Walking the pages
by cursor answers every matching case exactly once, even when many cases share a
deadline, and keeps its place when cases are added before it. A cursor no page gave is
a 422 naming ``cursor``, never a 500. (How many statements a page by cursor takes, and
that its SQL skips no rows with OFFSET: tests/api/test_constant_queries.py.)
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import httpx
import pytest
from sqlmodel import Session

from store.db import get_engine
from store.models import Contract
from tests.api.helpers import NOW, SENDGRID_DOWN, a_case, seed

#: Few distinct deadlines for many cases: most cases tie with others on their deadline.
DEADLINES = [NOW + dt.timedelta(days=d, hours=3) for d in (-2, 1, 1.5, 9, 30)]
OTHER_CONTRACT = "ctr_paging_other"


def seed_ties(count: int = 41) -> list[str]:
    """``count`` cases over five deadlines (every sixth without one), two contracts, three
    states, two clauses, some escalated, some stuck; their ids in the list's order."""
    with Session(get_engine()) as s:
        s.add(
            Contract(
                id=OTHER_CONTRACT,
                title="Another contract",
                customer_name="Customer",
                provider_name="Provider",
                time_zone="Asia/Tokyo",
                effective_date=(NOW - dt.timedelta(days=400)).date(),
                terms={},
                created_at=NOW,
            )
        )
        s.commit()
    cases = [
        a_case(
            f"case_tie_{n:02}",
            next_deadline_at=None if n % 6 == 5 else DEADLINES[n % len(DEADLINES)],
            next_deadline_name=None if n % 6 == 5 else "effective_date",
            contract_id=OTHER_CONTRACT if n % 3 == 0 else "ctr_reference_msa",
            state=("notice_period_running", "termination_right_arisen", "terminated")[n % 3 - 1],
            clause="material_breach" if n % 4 == 0 else "termination_for_convenience",
            escalated=n % 7 == 0,
            **(SENDGRID_DOWN if n % 8 == 0 else {}),
        )
        # Seeded out of order: the list's order must not be the order of insertion.
        for n in reversed(range(count))
    ]
    keys = [(c.next_deadline_at is None, c.next_deadline_at or NOW, c.id) for c in cases]
    seed(*cases)
    return [case_id for *_, case_id in sorted(keys)]


async def walk(api: httpx.AsyncClient, limit: int, **filters: Any) -> tuple[list[str], int]:
    """Every page by cursor from the first: the case ids in the order answered, and how
    many pages it took. Each page's total is the same."""
    ids: list[str] = []
    params: dict[str, Any] = {"limit": limit, **filters}
    pages, total = 0, None
    while True:
        r = await api.get("/api/cases", params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        pages += 1
        assert total in (None, body["total"]), "the total changed while walking"
        total = body["total"]
        ids += [c["id"] for c in body["items"]]
        if body["next_cursor"] is None:
            break
        assert len(body["items"]) == limit, "only the last page may be short"
        params = {"limit": limit, "cursor": body["next_cursor"], **filters}
        assert pages < 100, "the pages never end"
    assert len(ids) == total
    return ids, pages


#: Filters of GET /api/cases, each walked by cursor.
FILTERS: list[dict[str, Any]] = [
    {},
    {"state": "termination_right_arisen"},
    {"contract_id": OTHER_CONTRACT},
    {"clause": "material_breach"},
    {"escalated": "true"},
    {"escalated": "false"},
    {"stuck": "true"},
    {"stuck": "false"},
    {"within_days": 5},
    {"contract_id": "ctr_reference_msa", "state": "notice_period_running"},
]


async def test_walking_the_pages_by_cursor_answers_every_case_once_in_order(
    api: httpx.AsyncClient,
) -> None:
    order = seed_ties()
    # Pages of 4 and of 7 (which divide no filter's count evenly), and of 1.
    for limit in (4, 7, 1):
        ids, pages = await walk(api, limit)
        assert ids == order
        assert pages == -(-len(order) // limit)
    # The first page by offset and by cursor agree: the cursor is only where to start.
    by_offset = await api.get("/api/cases", params={"limit": 7, "offset": 7})
    first = await api.get("/api/cases", params={"limit": 7})
    by_cursor = await api.get(
        "/api/cases", params={"limit": 7, "cursor": first.json()["next_cursor"]}
    )
    assert [c["id"] for c in by_offset.json()["items"]] == order[7:14]
    assert [c["id"] for c in by_cursor.json()["items"]] == order[7:14]
    # The last page says there is no next one; so does a single page holding everything.
    everything = (await api.get("/api/cases", params={"limit": 500})).json()
    assert everything["next_cursor"] is None and len(everything["items"]) == len(order)


@pytest.mark.parametrize(
    "filters", FILTERS, ids=["&".join(f"{k}={v}" for k, v in f.items()) or "all" for f in FILTERS]
)
async def test_walking_the_pages_by_cursor_with_a_filter_answers_each_match_once(
    api: httpx.AsyncClient, filters: dict[str, Any]
) -> None:
    order = seed_ties()
    # What the filter matches, in the list's order: one page holding them all.
    whole = await api.get("/api/cases", params={"limit": 500, **filters})
    matching = [c["id"] for c in whole.json()["items"]]
    assert matching, "the seeded cases leave this filter something to page through"
    assert matching == [i for i in order if i in set(matching)]
    ids, _ = await walk(api, 3, **filters)
    assert ids == matching


async def test_a_page_by_cursor_keeps_its_place_when_cases_are_added(
    api: httpx.AsyncClient,
) -> None:
    order = seed_ties(12)
    first = (await api.get("/api/cases", params={"limit": 5})).json()
    assert [c["id"] for c in first["items"]] == order[:5]
    # A case now sorts before the cursor, another after it: neither moves the page by
    # cursor (by offset, the first would push a case of page one onto page two).
    seed(
        a_case("case_tie_earliest", next_deadline_at=DEADLINES[0] - dt.timedelta(days=1)),
        a_case("case_tie_latest", next_deadline_at=DEADLINES[-1] + dt.timedelta(days=1)),
    )
    rest, _ = await walk(api, 5)
    assert rest[0] == "case_tie_earliest"
    params: dict[str, Any] = {"limit": 500, "cursor": first["next_cursor"]}
    after = [c["id"] for c in (await api.get("/api/cases", params=params)).json()["items"]]
    assert not set(after) & set(order[:5])
    assert after == [i for i in rest if i not in order[:5] and i != "case_tie_earliest"]
    assert "case_tie_latest" in after


def cursor_of(*values: Any) -> str:
    """A cursor made by hand: JSON in URL-safe base64, as the API makes its own."""
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor",
        "%%%",
        base64.urlsafe_b64encode(b"\xff\xfe not utf-8").decode(),
        base64.urlsafe_b64encode(b"not json").decode(),
        cursor_of("2027-01-01T00:00:00+00:00"),
        cursor_of("2027-01-01T00:00:00+00:00", "case_1", "extra"),
        base64.urlsafe_b64encode(b'{"at": 1}').decode(),
        cursor_of("yesterday", "case_1"),
        cursor_of("2027-01-01T00:00:00", "case_1"),  # no UTC offset
        cursor_of("2027-01-01T00:00:00+00:00", ""),
        cursor_of("2027-01-01T00:00:00+00:00", 7),
        cursor_of(None, "x" * 81),
        cursor_of(True, "case_1"),
        cursor_of({"a": 1}, "case_1"),
        cursor_of(None, "case_1") + "x" * 400,  # longer than any cursor a page gives
    ],
    ids=lambda c: c[:24],
)
async def test_a_cursor_no_page_gave_is_a_422_naming_cursor(
    api: httpx.AsyncClient, cursor: str
) -> None:
    seed_ties(3)
    r = await api.get("/api/cases", params={"cursor": cursor})
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert error["loc"] == ["query", "cursor"] and error["field"] == "query.cursor", error


async def test_a_cursor_with_an_offset_is_a_422_naming_cursor(api: httpx.AsyncClient) -> None:
    seed_ties(3)
    cursor = (await api.get("/api/cases", params={"limit": 1})).json()["next_cursor"]
    r = await api.get("/api/cases", params={"cursor": cursor, "offset": 1})
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["detail"]] == ["query.cursor"]
    assert "offset" in r.json()["detail"][0]["msg"]
    # With offset 0 (its default), the cursor alone says where the page starts.
    assert (await api.get("/api/cases", params={"cursor": cursor, "offset": 0})).status_code == 200
