"""Starting cases directly on a workflow environment, and reading what they recorded."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from store.db import get_engine
from store.models import Case, Deadline, Escalation, Notice, Transition
from workers.seed import reference_term_sheet
from workflows.case import CaseInput, CaseWorkflow


async def travel_to(env: WorkflowEnvironment, when: dt.datetime) -> None:
    """Moves the time-skipping server's clock forward to ``when`` (never back)."""
    now = await env.get_current_time()
    if when > now:
        await env.sleep(when - now)


async def start_case(
    client: Client,
    task_queue: str,
    clause: str,
    facts: dict[str, Any],
    *,
    case_id: str | None = None,
    history_limit: int = 10_000,
    version: int = 1,
    notice_timeout_seconds: float = 60.0,
) -> WorkflowHandle[Any, Any]:
    case_id = case_id or f"case_{uuid.uuid4().hex}"
    terms = reference_term_sheet()
    return await client.start_workflow(
        CaseWorkflow.run,
        CaseInput(
            case_id=case_id,
            contract_id="ctr_reference_msa",
            clause=clause,
            rulebook_version=version,
            terms=terms.model_dump(mode="json"),
            facts=facts,
            owner_email=terms.owner.email,
            history_limit=history_limit,
            notice_timeout_seconds=notice_timeout_seconds,
        ),
        id=case_id,
        task_queue=task_queue,
    )


def seed_reference_contract() -> None:
    from workers.seed import ensure_reference_contract

    with Session(get_engine()) as session:
        ensure_reference_contract(session)


def notices(case_id: str) -> list[Notice]:
    with Session(get_engine()) as s:
        return list(
            s.exec(select(Notice).where(Notice.case_id == case_id).order_by(col(Notice.created_at)))
        )


def transitions(case_id: str) -> list[Transition]:
    with Session(get_engine()) as s:
        return list(
            s.exec(
                select(Transition)
                .where(Transition.case_id == case_id)
                .order_by(col(Transition.step))
            )
        )


def deadlines(case_id: str) -> dict[str, Deadline]:
    with Session(get_engine()) as s:
        return {d.name: d for d in s.exec(select(Deadline).where(Deadline.case_id == case_id))}


def case_row(case_id: str) -> Case | None:
    with Session(get_engine()) as s:
        return s.get(Case, case_id)


async def eventually(predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Polls ``predicate`` until it returns something truthy (activities run concurrently)."""
    import asyncio

    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.05)


def fired_at(actual: dt.datetime, expected: dt.datetime) -> bool:
    """A timer fires at its instant or a moment after, never before."""
    return dt.timedelta(0) <= actual - expected < dt.timedelta(minutes=1)


def escalations(case_id: str) -> list[Escalation]:
    """The escalations recorded for a case."""
    with Session(get_engine()) as s:
        return list(s.exec(select(Escalation).where(Escalation.case_id == case_id)))
