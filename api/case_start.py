"""Starting a case: check its facts, write its row, start its workflow once, wait a moment.

The case's row is written before its workflow is started (``store/cases.py``), so a
case Temporal runs always has a row: the list, its page and ``/api/ops/summary`` see it
even if no worker ever takes its first step. If the row cannot be written nothing is
started (503); if Temporal refuses to start a new case, the row is removed again.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.agreement import ensure_contract_workflow, refusal_after_end
from api.case_detail import detail_of
from api.errors import facts_errors, unknown_clause
from api.schemas import CaseDetail
from contracts.terms import TermSheet
from rules.facts import FactsError, validate_start_facts
from rules.rulebook import Rulebook, default_registry
from runtime.settings import Settings
from store.cases import OPENING_LABEL, OPENING_STATE, forget_opening_row, write_opening_row
from store.contracts import contract_terms
from store.db import get_engine
from store.models import Case, Contract
from workflows.messages import (
    CASE_STATE,
    CASE_WORKFLOW,
    CLAUSE,
    CONTRACT_ID,
    CaseInput,
    CaseUpdate,
    CaseView,
)

#: How long a start waits for the worker to decide the case's first step.
START_WAIT = dt.timedelta(seconds=20)

#: How long a refused start may take to ask Temporal whether the workflow exists after all.
_DESCRIBE_WAIT = 5.0


def case_id_for(contract_id: str, idempotency_key: str) -> str:
    """The case (and workflow) id: derived from the key, so a retry finds the same case."""
    return (
        "case_" + uuid.uuid5(uuid.NAMESPACE_URL, f"clauseflow:{contract_id}:{idempotency_key}").hex
    )


def _fingerprint(clause: str, facts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps([clause, facts], sort_keys=True).encode()).hexdigest()


@dataclass
class Opened:
    """The outcome of a start: the HTTP status, the case, and whether it existed already."""

    case_id: str
    status: int
    body: Any
    replayed: bool = False


@dataclass
class Checked:
    """A start whose contract, clause and facts passed their checks."""

    contract_id: str
    terms: TermSheet
    rulebook: Rulebook
    facts: dict[str, Any]
    #: Whether the contract's own workflow has run (its row has a legal state).
    contract_runs: bool = True


_DATABASE_DOWN = "the database did not answer, so nothing was started: send the same request again"


async def check_start(contract_id: str, clause: str, raw_facts: dict[str, Any]) -> Checked:
    """Checks the contract, the clause and the facts, before anything is written.

    Raises:
        HTTPException: unknown contract (404) or clause (422), the database down (503).
        FactsError: the facts do not fit the clause's rulebook (422, field by field).
    """

    def load() -> tuple[Contract | None, Any]:
        with Session(get_engine()) as s:
            c = s.get(Contract, contract_id)
            return c, (contract_terms(c) if c else None)

    try:
        contract, terms = await run_in_threadpool(load)
    except SQLAlchemyError as exc:
        raise HTTPException(503, _DATABASE_DOWN) from exc
    if contract is None:
        raise HTTPException(404, f"contract {contract_id!r} not found")
    registry = default_registry()
    if clause not in registry.clauses():
        raise unknown_clause(clause)
    rulebook = registry.latest(clause)
    refusal = refusal_after_end(contract, rulebook)
    if refusal is not None:
        raise HTTPException(409, refusal)
    facts = validate_start_facts(
        rulebook,
        raw_facts,
        time_zone=terms.time_zone,
        now=dt.datetime.now(dt.UTC),
        effective_date=terms.effective_date,
    )
    return Checked(contract_id, terms, rulebook, facts, contract.legal_state is not None)


async def start_errors(contract_id: str, clause: str, raw_facts: dict[str, Any]) -> list[Any]:
    """The 422 errors of a start's body (unknown clause, each invalid fact), none if fine.

    For a request that will be refused anyway (no Idempotency-Key): it still learns
    everything that is wrong with it at once.

    Raises:
        HTTPException: unknown contract (404), the database down (503).
    """
    try:
        await check_start(contract_id, clause, raw_facts)
    except FactsError as exc:
        return facts_errors(exc)
    except HTTPException as exc:
        if exc.status_code == 422 and isinstance(exc.detail, list):
            return exc.detail
        raise
    return []


async def open_case(
    client: Client,
    settings: Settings,
    contract_id: str,
    clause: str,
    raw_facts: dict[str, Any],
    idempotency_key: str,
    owner_email: str | None = None,
) -> Opened:
    """Checks the facts, writes the case's row, starts its workflow once, and waits
    (``START_WAIT``) for its first step.

    Raises:
        HTTPException: unknown contract (404) or clause (422), a reused key (409), the
            database or Temporal refusing the start (503).
        FactsError: the facts do not fit the clause's rulebook (422, field by field).
    """
    checked = await check_start(contract_id, clause, raw_facts)
    rulebook, facts = checked.rulebook, checked.facts
    case_id = case_id_for(contract_id, idempotency_key)
    fingerprint = _fingerprint(clause, facts)
    now = dt.datetime.now(dt.UTC)
    row = Case(
        id=case_id,
        contract_id=contract_id,
        clause=rulebook.clause,
        rulebook_version=rulebook.version,
        state=OPENING_STATE,
        state_label=OPENING_LABEL,
        closed=False,
        owner_email=owner_email or checked.terms.owner.email,
        facts=facts,
        opened_at=now,
        updated_at=now,
        last_step=0,
    )
    try:
        wrote = await run_in_threadpool(write_opening_row, row)
    except SQLAlchemyError as exc:
        raise HTTPException(503, f"the case could not be recorded: {_DATABASE_DOWN}") from exc
    if not checked.contract_runs:
        # Its first case (or the first since contracts had a workflow): the case can
        # then tell its contract what its rulebook declares.
        await ensure_contract_workflow(client, settings, contract_id)
    status, replayed = 201, False
    # One request starts the case and asks for its first step (update-with-start): the
    # first workflow task carries both, one workflow task and one round trip fewer per
    # case than a start followed by an update (issue 14).
    start: WithStartWorkflowOperation[Any, Any] = WithStartWorkflowOperation(
        CASE_WORKFLOW,
        CaseInput(
            case_id=case_id,
            contract_id=contract_id,
            clause=rulebook.clause,
            rulebook_version=rulebook.version,
            terms=checked.terms.model_dump(mode="json"),
            facts=facts,
            owner_email=row.owner_email,
            lean_from_start=True,
        ),
        id=case_id,
        task_queue=settings.temporal_task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        memo={"request_fingerprint": fingerprint},
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(CONTRACT_ID, contract_id),
                SearchAttributePair(CLAUSE, rulebook.clause),
                SearchAttributePair(CASE_STATE, OPENING_STATE),
            ]
        ),
    )
    try:
        await asyncio.wait_for(
            _start_and_ask(client, start, case_id), timeout=START_WAIT.total_seconds()
        )
    except WorkflowAlreadyStartedError:
        handle = client.get_workflow_handle(case_id)
        described = await handle.describe()
        memo = await described.memo()
        if memo.get("request_fingerprint") != fingerprint:
            if wrote:  # this request's row, for a case that runs with other facts
                await _forget(case_id)
            raise HTTPException(
                409,
                "this Idempotency-Key was already used for a different request; "
                "use a new key to start another case",
            ) from None
        status, replayed = 200, True
        await _wait_until_ready(handle)
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError, RPCError) as exc:
        # Not ready in time (202 below, the row says where it stands), or the workflow
        # finished before it answered. Unless Temporal never started it: then a row with
        # no workflow behind it would be a case that never runs, so the row this request
        # wrote goes, unless the workflow exists after all (an answer lost on the way
        # back). A worker's record_step writes the row again if a start we could not see
        # did happen.
        if not await _start_seen(start) and not await _started_after_all(client, case_id):
            if wrote:
                await _forget(case_id)
            why = exc.message if isinstance(exc, RPCError) else "it did not answer in time"
            raise HTTPException(
                503, f"Temporal refused the start, so nothing was started: {why}"
            ) from exc
    except WorkflowUpdateFailedError:
        pass  # the workflow has already finished: the store has its record
    try:
        recorded, detail = await run_in_threadpool(_read_back, case_id, settings)
    except SQLAlchemyError as exc:
        raise HTTPException(
            503,
            f"case {case_id} was started, but the database did not answer when it was read "
            "back: read it with GET /api/cases/{id}, or send the same request again",
        ) from exc
    if detail is None:  # removed since by a refused start of the same key
        raise HTTPException(503, "the case's start did not go through: send the request again")
    if not recorded:
        status = 202  # started; the worker has not recorded its first step yet
    return Opened(case_id, status, detail, replayed)


async def _forget(case_id: str) -> None:
    """Removes the row this request wrote for a start that did not happen."""
    # If the database is down too the row stays, listed as a case that has not started
    # (stuck, so someone looks); the same request again starts it.
    with contextlib.suppress(SQLAlchemyError):
        await run_in_threadpool(forget_opening_row, case_id)


def _read_back(case_id: str, settings: Settings) -> tuple[bool, CaseDetail | None]:
    """Whether the case's first step is recorded, and the case as it stands (None if its
    row is gone), read in one session."""
    with Session(get_engine()) as s:
        case = s.get(Case, case_id)
        if case is None:
            return False, None
        detail = detail_of(s, case, settings.temporal_ui_url, settings.temporal_namespace)
        return case.last_step > 0, detail


async def _start_and_ask(
    client: Client, start: WithStartWorkflowOperation[Any, Any], case_id: str
) -> None:
    """Starts the case and waits for its first step, in one request."""
    try:
        await client.execute_update_with_start_workflow(
            CaseUpdate.READY, start_workflow_operation=start, result_type=CaseView
        )
    except RPCError as exc:
        # Temporal's test server answers a running id with a bare ALREADY_EXISTS where a
        # cluster names the start's failure; both mean the same.
        if exc.status != RPCStatusCode.ALREADY_EXISTS:
            raise
        raise WorkflowAlreadyStartedError(case_id, CASE_WORKFLOW) from exc


async def _wait_until_ready(handle: WorkflowHandle[Any, Any]) -> None:
    """Waits (``START_WAIT``) for a case that was already running to decide its first step."""
    try:
        await asyncio.wait_for(
            handle.execute_update(CaseUpdate.READY, result_type=CaseView),
            timeout=START_WAIT.total_seconds(),
        )
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        pass  # not ready yet: 202, the row says where it stands
    except (WorkflowUpdateFailedError, RPCError):
        pass  # the workflow has already finished: the store has its record


async def _start_seen(start: WithStartWorkflowOperation[Any, Any]) -> bool:
    """Whether Temporal answered that it started the workflow, though the update did not
    answer (the operation's handle is settled once the request has ended)."""
    try:
        await asyncio.wait_for(start.workflow_handle(), timeout=_DESCRIBE_WAIT)
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise  # this request is being cancelled, not the start's stored error
        return False  # the start was cancelled by our own wait before it answered
    except Exception:  # the start's own error, or no answer
        return False
    return True


async def _started_after_all(client: Client, case_id: str) -> bool:
    """Whether the case's workflow exists, though its start answered an error."""
    try:
        await asyncio.wait_for(
            client.get_workflow_handle(case_id).describe(), timeout=_DESCRIBE_WAIT
        )
    except Exception:  # not found, or Temporal cannot say: then the start most likely
        return False  # never reached it either
    return True
