"""Starting a case: its row comes before its workflow, and a start that cannot go through
leaves nothing behind (issue 12).

A case whose workflow no worker runs is still a case: listed, readable, and stuck once
it has waited too long. Tests that need such a case start it on a task queue no worker
polls (``no_worker``), with the start's wait for the first step cut short.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, func, select
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api import case_start
from api.case_start import case_id_for
from runtime.settings import get_settings
from store import cases as store_cases
from store.cases import OPENING_LABEL
from store.db import get_engine
from store.models import Case
from tests.api.helpers import until
from tests.dates import notice_days_ago
from tests.workflows.helpers import case_row, eventually, markers_and_upserts
from workers.temporal import build_worker

URL = "/api/contracts/ctr_reference_msa/cases"


def case_body(**facts: Any) -> dict[str, Any]:
    base = {"notice_received_at": notice_days_ago(2), "given_by": "provider"}
    base.update(facts)
    return {"clause": "termination_for_convenience", "facts": base}


def rows() -> int:
    with Session(get_engine()) as s:
        return int(s.exec(select(func.count()).select_from(Case)).one())


async def workflow_exists(client: Client, case_id: str) -> bool:
    try:
        await client.get_workflow_handle(case_id).describe()
    except RPCError as exc:
        assert exc.status == RPCStatusCode.NOT_FOUND, exc
        return False
    return True


@pytest.fixture
def no_worker(api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> str:
    """Cases start on a task queue no worker polls; a start waits half a second for them."""
    queue = f"nobody-polls-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("TEMPORAL_TASK_QUEUE", queue)
    monkeypatch.setattr(case_start, "START_WAIT", dt.timedelta(seconds=0.5))
    get_settings.cache_clear()
    return queue


# ----------------------------------------------------------------- its history


async def test_a_case_started_through_the_api_asks_its_workflow_no_patch(
    api: httpx.AsyncClient, worker: Client
) -> None:
    # Its input says it runs lean from its start (issue 14): no patch marker, and no
    # upsert of TemporalChangeVersion, in any case the API starts.
    r = await api.post(URL, json=case_body(), headers={"Idempotency-Key": "no-patch"})
    assert r.status_code == 201, r.text
    history = await worker.get_workflow_handle(r.json()["id"]).fetch_history()
    markers, upserted = markers_and_upserts(history.events)
    assert markers and "core_patch" not in markers
    assert upserted and "TemporalChangeVersion" not in upserted


# ----------------------------------------------------------------- the row comes first


async def test_the_case_row_is_written_before_its_workflow_starts(
    api: httpx.AsyncClient, worker: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    at_start: list[Case | None] = []
    start = Client.execute_update_with_start_workflow

    async def spy(self: Client, *args: Any, **kwargs: Any) -> Any:
        at_start.append(case_row(case_id_for("ctr_reference_msa", "row-first")))
        return await start(self, *args, **kwargs)

    # A case is started with its first step asked for in the same request.
    monkeypatch.setattr(Client, "execute_update_with_start_workflow", spy)
    r = await api.post(URL, json=case_body(), headers={"Idempotency-Key": "row-first"})
    assert r.status_code == 201, r.text
    (row,) = at_start
    assert row is not None, "the workflow started before the case had a row"
    assert (row.state, row.state_label, row.last_step, row.closed) == (
        "opened",
        OPENING_LABEL,
        0,
        False,
    )
    assert row.facts["given_by"] == "provider"
    assert row.owner_email == "contract.owner@customer.example.com"
    assert row.rulebook_version == r.json()["rulebook_version"]
    # The worker's first step filled the same row in.
    assert r.json()["state"] == "notice_period_running"


async def test_a_case_no_worker_runs_is_listed_readable_and_then_stuck(
    api: httpx.AsyncClient, worker: Client, no_worker: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUCK_AFTER_SECONDS", "2")
    get_settings.cache_clear()
    r = await api.post(URL, json=case_body(), headers={"Idempotency-Key": "nobody-runs-it"})
    assert r.status_code == 202, r.text
    started = r.json()
    case_id = started["id"]
    assert (started["state"], started["state_label"]) == ("opened", OPENING_LABEL)
    assert started["temporal_url"].endswith(f"/workflows/{case_id}")
    assert await workflow_exists(worker, case_id)

    got = await api.get(f"/api/cases/{case_id}")
    assert got.status_code == 200, got.text
    assert got.json()["state"] == "opened" and got.json()["closed"] is False
    listed = (await api.get("/api/cases")).json()
    assert [c["id"] for c in listed["items"]] == [case_id]

    async def stuck() -> list[str]:
        page = (await api.get("/api/cases", params={"stuck": "true"})).json()["items"]
        return [reason for c in page for reason in c["stuck_reasons"]]

    (reason,) = await until(stuck, timeout=15.0, every=0.2)
    assert reason.startswith("has not taken its first step since ")
    assert f"task queue \u201c{no_worker}\u201d" in reason
    assert (await api.get("/api/cases", params={"stuck": "false"})).json()["items"] == []
    summary = (await api.get("/api/ops/summary")).json()
    assert summary["open_cases"] == 1
    assert summary["stuck"] == 1 and summary["stuck_not_started"] == 1

    # A worker for the queue comes up: the case takes its first step, in the same row.
    async with build_worker(worker, task_queue=no_worker):
        row = await eventually(
            lambda: (c := case_row(case_id)) is not None and c.last_step > 0 and c
        )
    assert row.state == "notice_period_running" and row.state_entered_at is not None
    assert row.opened_at != dt.datetime.fromisoformat(started["opened_at"])
    assert rows() == 1
    assert (await api.get("/api/cases", params={"stuck": "true"})).json()["items"] == []
    assert (await api.get("/api/ops/summary")).json()["stuck_not_started"] == 0


async def test_starts_repeated_at_once_with_one_key_make_one_case(
    api: httpx.AsyncClient, worker: Client, no_worker: str
) -> None:
    answers = await asyncio.gather(
        *[api.post(URL, json=case_body(), headers={"Idempotency-Key": "at-once"}) for _ in range(4)]
    )
    assert [r.status_code for r in answers] == [202] * 4, [r.text for r in answers]
    assert len({r.json()["id"] for r in answers}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in answers) == 3
    assert rows() == 1
    # And later, once more: still the same case.
    again = await api.post(URL, json=case_body(), headers={"Idempotency-Key": "at-once"})
    assert again.status_code == 202 and again.json()["id"] == answers[0].json()["id"]
    assert rows() == 1


# -------------------------------------------------- a start that cannot go through


def dead_engine() -> Any:
    """An engine whose database cannot be opened: every statement fails to connect."""
    return create_engine("sqlite:////proc/clauseflow-no-such-dir/down.db")


@pytest.mark.parametrize("module", [case_start, store_cases], ids=["read", "write"])
async def test_a_start_the_database_cannot_record_is_a_503_and_starts_nothing(
    api: httpx.AsyncClient, worker: Client, monkeypatch: pytest.MonkeyPatch, module: Any
) -> None:
    # The database is down when the contract is read, or when the case's row is written.
    monkeypatch.setattr(module, "get_engine", dead_engine)
    r = await api.post(URL, json=case_body(), headers={"Idempotency-Key": "db-down"})
    assert r.status_code == 503, r.text
    assert "nothing was started" in r.json()["detail"]
    assert not await workflow_exists(worker, case_id_for("ctr_reference_msa", "db-down"))


async def test_a_start_temporal_refuses_leaves_no_row(
    api: httpx.AsyncClient, worker: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = Client.execute_update_with_start_workflow

    async def refuse(self: Client, *args: Any, **kwargs: Any) -> Any:
        raise RPCError("connection refused", RPCStatusCode.UNAVAILABLE, b"")

    monkeypatch.setattr(Client, "execute_update_with_start_workflow", refuse)
    r = await api.post(URL, json=case_body(), headers={"Idempotency-Key": "refused"})
    assert r.status_code == 503, r.text
    assert "nothing was started" in r.json()["detail"]
    case_id = case_id_for("ctr_reference_msa", "refused")
    assert case_row(case_id) is None
    assert (await api.get(f"/api/cases/{case_id}")).status_code == 404
    assert (await api.get("/api/ops/summary")).json()["open_cases"] == 0

    # Temporal is back: the same request starts the case.
    monkeypatch.setattr(Client, "execute_update_with_start_workflow", start)
    r = await api.post(URL, json=case_body(), headers={"Idempotency-Key": "refused"})
    assert r.status_code == 201, r.text
    assert r.json()["id"] == case_id


async def test_a_start_refused_while_the_database_is_down_too_is_still_a_503(
    api: httpx.AsyncClient, worker: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse(self: Client, *args: Any, **kwargs: Any) -> Any:
        raise RPCError("connection refused", RPCStatusCode.UNAVAILABLE, b"")

    def database_down(case_id: str) -> bool:
        raise OperationalError("DELETE FROM case", {}, ConnectionRefusedError())

    monkeypatch.setattr(Client, "execute_update_with_start_workflow", refuse)
    monkeypatch.setattr(case_start, "forget_opening_row", database_down)
    r = await api.post(URL, json=case_body(), headers={"Idempotency-Key": "both-down"})
    assert r.status_code == 503, r.text
    assert "nothing was started" in r.json()["detail"]


async def test_a_started_case_the_database_cannot_read_back_is_a_503_naming_it(
    api: httpx.AsyncClient, worker: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def database_down(*args: Any) -> None:
        raise OperationalError("SELECT", {}, ConnectionRefusedError())

    monkeypatch.setattr(case_start, "detail_of", database_down)
    r = await api.post(URL, json=case_body(), headers={"Idempotency-Key": "read-back"})
    case_id = case_id_for("ctr_reference_msa", "read-back")
    assert r.status_code == 503, r.text
    assert r.json()["detail"].startswith(f"case {case_id} was started")
    assert await workflow_exists(worker, case_id)


async def test_a_start_whose_answer_was_lost_keeps_its_row(
    api: httpx.AsyncClient, worker: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = Client.execute_update_with_start_workflow

    async def answer_lost(self: Client, *args: Any, **kwargs: Any) -> Any:
        await start(self, *args, **kwargs)
        raise RPCError("deadline exceeded", RPCStatusCode.DEADLINE_EXCEEDED, b"")

    monkeypatch.setattr(Client, "execute_update_with_start_workflow", answer_lost)
    r = await api.post(URL, json=case_body(), headers={"Idempotency-Key": "lost"})
    # Temporal did start it: the case runs, with its row.
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "notice_period_running"
    assert rows() == 1


async def test_a_key_used_before_the_row_came_first_finds_its_case_or_a_409(
    api: httpx.AsyncClient, worker: Client, no_worker: str
) -> None:
    # A case started before rows came first: its workflow runs, it has no row yet.
    first = await api.post(URL, json=case_body(), headers={"Idempotency-Key": "older"})
    case_id = first.json()["id"]
    with Session(get_engine()) as s:
        s.delete(s.get(Case, case_id))
        s.commit()

    other = case_body(given_by="customer")
    r = await api.post(URL, json=other, headers={"Idempotency-Key": "older"})
    assert r.status_code == 409, r.text
    assert case_row(case_id) is None, "the row of the refused request stayed"

    # The same request again: the case it started is listed from now on.
    r = await api.post(URL, json=case_body(), headers={"Idempotency-Key": "older"})
    assert r.status_code == 202 and r.headers["Idempotent-Replayed"] == "true"
    assert (await api.get(f"/api/cases/{case_id}")).status_code == 200


# ----------------------------------------------------------------- the Idempotency-Key

KEY_REQUIRED = (
    "is required: any unique string; sending the same key again returns the same case "
    "instead of starting a second one"
)


def fields_of(r: httpx.Response) -> list[str]:
    assert r.status_code == 422, r.text
    return [e["field"] for e in r.json()["detail"]]


async def test_a_start_without_an_idempotency_key_still_gets_its_bodys_errors(
    api: httpx.AsyncClient,
) -> None:
    bad_facts = case_body(notice_received_at="yesterday-ish", given_by="the landlord")
    r = await api.post(URL, json=bad_facts)
    assert sorted(fields_of(r)) == [
        "Idempotency-Key",
        "facts.given_by",
        "facts.notice_received_at",
    ]
    (key,) = [e for e in r.json()["detail"] if e["field"] == "Idempotency-Key"]
    assert key["msg"] == KEY_REQUIRED and key["loc"] == ["header", "Idempotency-Key"]

    unknown_clause = {"clause": "termination_for_fun", "facts": {}}
    assert fields_of(await api.post(URL, json=unknown_clause)) == [
        "clause",
        "Idempotency-Key",
    ]
    # A body the schema refuses (no facts, a field it does not know): the same, at once.
    malformed = {"clause": "termination_for_convenience", "colour": "blue"}
    assert sorted(fields_of(await api.post(URL, json=malformed))) == [
        "Idempotency-Key",
        "colour",
        "facts",
    ]
    # A good body: the header is all that is wrong.
    assert fields_of(await api.post(URL, json=case_body())) == ["Idempotency-Key"]
    for bad in ("", "k" * 201):
        r = await api.post(URL, json=case_body(), headers={"Idempotency-Key": bad})
        assert fields_of(r) == ["Idempotency-Key"], bad
    assert rows() == 0


async def test_the_openapi_document_says_the_idempotency_key_is_required(
    api: httpx.AsyncClient,
) -> None:
    schema = (await api.get("/openapi.json")).json()
    operation = schema["paths"]["/api/contracts/{contract_id}/cases"]["post"]
    (key,) = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
    assert key["in"] == "header" and key["required"] is True
    assert key["description"].startswith("Required: any unique string")
    assert key["schema"] == {"type": "string", "minLength": 1, "maxLength": 200}
    assert {"202", "422", "503"} <= set(operation["responses"])
