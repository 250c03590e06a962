"""Cases: start a clause's case, list and read cases, record facts."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Header, HTTPException, Query, Response
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.deps import SessionDep, SettingsDep, TemporalDep
from api.errors import unknown_clause
from api.pagination import page
from api.schemas import (
    MAX_OFFSET,
    CaseCreate,
    CaseDetail,
    CasePublic,
    CasesPublic,
    DeadlinePublic,
    FactCreate,
    NoticeSummary,
    TimelineEntry,
)
from rules.facts import validate_recorded_fact, validate_start_facts
from rules.rulebook import default_registry
from store.contracts import contract_terms
from store.db import get_engine
from store.models import (
    AuditEntry,
    Case,
    Contract,
    Deadline,
    DecisionRecord,
    Escalation,
    Notice,
    Transition,
)
from store.settings import Settings
from workflows.case import (
    CASE_STATE,
    CLAUSE,
    CONTRACT_ID,
    CaseInput,
    CaseWorkflow,
    RecordFactRequest,
)

router = APIRouter(tags=["cases"])

#: The idempotency key (and so the case id) of each contract's monthly SLA review.
MONTHLY_REVIEW = "monthly_sla_review"

#: How long a start waits for the worker to decide the case's first step.
START_WAIT = dt.timedelta(seconds=20)

IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Any unique string; sending it again returns the same case",
    ),
]


def case_id_for(contract_id: str, idempotency_key: str) -> str:
    """The case (and workflow) id: derived from the key, so a retry finds the same case."""
    return (
        "case_" + uuid.uuid5(uuid.NAMESPACE_URL, f"clauseflow:{contract_id}:{idempotency_key}").hex
    )


def _fingerprint(clause: str, facts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps([clause, facts], sort_keys=True).encode()).hexdigest()


def _case_public(session: Session, case: Case, zone: str) -> dict[str, Any]:
    deadlines = session.exec(
        select(Deadline).where(Deadline.case_id == case.id).order_by(col(Deadline.due_at))
    ).all()
    data = case.model_dump()
    data["deadlines"] = [DeadlinePublic.of(d, zone) for d in deadlines]
    return data


def _zone(session: Session, contract_id: str) -> str:
    contract = session.get(Contract, contract_id)
    return contract.time_zone if contract else "UTC"


@router.post(
    "/api/contracts/{contract_id}/cases",
    status_code=201,
    response_model=CaseDetail,
    responses={
        200: {"description": "The same Idempotency-Key was sent before: the existing case"},
        202: {"description": "Started; the worker has not decided the first step yet"},
        404: {"description": "Unknown contract"},
        409: {"description": "The Idempotency-Key was used for a different request"},
        422: {"description": "Unknown clause or invalid facts; names each field"},
    },
)
async def start_case(
    contract_id: str,
    body: CaseCreate,
    idempotency_key: IdempotencyKey,
    response: Response,
    client: TemporalDep,
    settings: SettingsDep,
) -> Any:
    """Starts a case of a clause, e.g. "termination notice received today".

    The facts are checked against the clause's rulebook before anything starts.
    The workflow id is the case id and is derived from the Idempotency-Key, so
    sending the same request again returns the same case and starts nothing.
    """
    opened = await open_case(
        client, settings, contract_id, body.clause, body.facts, idempotency_key, body.owner_email
    )
    response.status_code = opened.status
    if opened.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return opened.body


@dataclass
class Opened:
    """The outcome of a start: the HTTP status, the case, and whether it existed already."""

    case_id: str
    status: int
    body: Any
    replayed: bool = False


async def open_case(
    client: Client,
    settings: Settings,
    contract_id: str,
    clause: str,
    raw_facts: dict[str, Any],
    idempotency_key: str,
    owner_email: str | None = None,
) -> Opened:
    """Checks the facts, starts the case's workflow once, and waits for its first step.

    Raises:
        HTTPException: unknown contract (404) or clause (422), a reused key (409),
            Temporal refusing the start (503).
        FactsError: the facts do not fit the clause's rulebook (422, field by field).
    """

    def load() -> tuple[Contract | None, Any]:
        with Session(get_engine()) as s:
            c = s.get(Contract, contract_id)
            return c, (contract_terms(c) if c else None)

    contract, terms = await run_in_threadpool(load)
    if contract is None:
        raise HTTPException(404, f"contract {contract_id!r} not found")
    registry = default_registry()
    if clause not in registry.clauses():
        raise unknown_clause(clause)
    rulebook = registry.latest(clause)
    facts = validate_start_facts(
        rulebook, raw_facts, time_zone=terms.time_zone, now=dt.datetime.now(dt.UTC)
    )
    owner = owner_email or terms.owner.email
    case_id = case_id_for(contract_id, idempotency_key)
    fingerprint = _fingerprint(clause, facts)
    status, replayed = 201, False
    try:
        handle = await client.start_workflow(
            CaseWorkflow.run,
            CaseInput(
                case_id=case_id,
                contract_id=contract_id,
                clause=rulebook.clause,
                rulebook_version=rulebook.version,
                terms=terms.model_dump(mode="json"),
                facts=facts,
                owner_email=owner,
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
                    SearchAttributePair(CASE_STATE, "opened"),
                ]
            ),
        )
    except WorkflowAlreadyStartedError:
        handle = client.get_workflow_handle(case_id)
        described = await handle.describe()
        memo = await described.memo()
        if memo.get("request_fingerprint") != fingerprint:
            raise HTTPException(
                409,
                "this Idempotency-Key was already used for a different request; "
                "use a new key to start another case",
            ) from None
        status, replayed = 200, True
    except RPCError as exc:
        raise HTTPException(503, f"Temporal refused the start: {exc.message}") from exc

    try:
        await asyncio.wait_for(
            handle.execute_update(CaseWorkflow.ready), timeout=START_WAIT.total_seconds()
        )
    except TimeoutError:
        status = 202
    except (WorkflowUpdateFailedError, RPCError):
        pass  # the workflow has already finished: the store has its record
    detail = await run_in_threadpool(
        _case_detail, case_id, settings.temporal_ui_url, settings.temporal_namespace
    )
    if detail is not None:
        return Opened(case_id, status, detail, replayed)
    # Started, but no worker has recorded it yet.
    return Opened(
        case_id,
        202,
        {
            "id": case_id,
            "contract_id": contract_id,
            "clause": rulebook.clause,
            "rulebook_version": rulebook.version,
            "state": "opened",
            "state_label": "Starting: waiting for a worker",
            "closed": False,
            "escalated": False,
            "owner_email": owner,
            "facts": facts,
            "opened_at": dt.datetime.now(dt.UTC),
            "closed_at": None,
            "next_deadline_at": None,
            "next_deadline_name": None,
            "temporal_url": _temporal_url(
                settings.temporal_ui_url, settings.temporal_namespace, case_id
            ),
        },
        replayed,
    )


def _temporal_url(base: str, namespace: str, case_id: str) -> str:
    return f"{base.rstrip('/')}/namespaces/{quote(namespace)}/workflows/{quote(case_id)}"


def _case_detail(case_id: str, ui: str, namespace: str) -> CaseDetail | None:
    with Session(get_engine()) as session:
        case = session.get(Case, case_id)
        if case is None:
            return None
        zone = _zone(session, case.contract_id)
        notices = session.exec(
            select(Notice).where(Notice.case_id == case_id).order_by(col(Notice.created_at))
        ).all()
        timeline: list[TimelineEntry] = []
        for t in session.exec(select(Transition).where(Transition.case_id == case_id)).all():
            timeline.append(
                TimelineEntry(
                    at=t.at,
                    step=t.step,
                    kind="transition",
                    summary=f"{t.from_state or 'opened'} → {t.to_state} ({t.rule})",
                    details={"from": t.from_state, "to": t.to_state, "rule": t.rule},
                )
            )
        for d in session.exec(
            select(DecisionRecord).where(DecisionRecord.case_id == case_id)
        ).all():
            timeline.append(
                TimelineEntry(
                    at=d.at,
                    step=d.step,
                    kind="decision",
                    summary=f"rule {d.rule} (rulebook v{d.rulebook_version}) decided {d.action}",
                    details={
                        "rule": d.rule,
                        "rulebook_version": d.rulebook_version,
                        "event": d.event,
                        "action": d.action,
                        "value": d.value,
                        "facts": d.facts,
                    },
                )
            )
        for n in notices:
            timeline.append(
                TimelineEntry(
                    at=n.created_at,
                    step=None,
                    kind="notice",
                    summary=f"notice {n.notice} to {', '.join(n.to)}: {n.status}",
                    details={"notice_id": n.id, "subject": n.subject, "status": n.status},
                )
            )
        for e in session.exec(select(Escalation).where(Escalation.case_id == case_id)).all():
            timeline.append(
                TimelineEntry(
                    at=e.at,
                    step=e.step,
                    kind="escalation",
                    summary=e.reason,
                    details={"rule": e.rule, "resolved_at": e.resolved_at},
                )
            )
        for a in session.exec(select(AuditEntry).where(AuditEntry.case_id == case_id)).all():
            timeline.append(
                TimelineEntry(
                    at=a.at,
                    step=None,
                    kind="audit",
                    summary=f"{a.actor}: {a.action}" + (f" ({a.reason})" if a.reason else ""),
                    details={"actor": a.actor, "before": a.before, "after": a.after},
                )
            )
        order = {"decision": 0, "transition": 1, "escalation": 2, "audit": 3, "notice": 4}
        timeline.sort(key=lambda e: (e.at, e.step or 0, order[e.kind]))
        return CaseDetail(
            **_case_public(session, case, zone),
            notices=[NoticeSummary.model_validate(n) for n in notices],
            timeline=timeline,
            temporal_url=_temporal_url(ui, namespace, case_id),
        )


@router.get("/api/cases", response_model=CasesPublic)
def list_cases(
    session: SessionDep,
    clause: str | None = None,
    state: str | None = None,
    contract_id: str | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> CasesPublic:
    """Lists cases, the nearest next deadline first, filtered by clause, state, contract."""
    where = []
    if clause:
        where.append(Case.clause == clause)
    if state:
        where.append(Case.state == state)
    if contract_id:
        where.append(Case.contract_id == contract_id)
    # NULLS LAST matches the indexes' order, so the database reads the first page
    # straight off an index instead of sorting every case.
    order = [col(Case.next_deadline_at).asc().nulls_last(), col(Case.id)]
    rows, total = page(session, Case, where, order, limit, offset)
    zones: dict[str, str] = {}
    items = []
    for case in rows:
        if case.contract_id not in zones:
            zones[case.contract_id] = _zone(session, case.contract_id)
        items.append(CasePublic(**_case_public(session, case, zones[case.contract_id])))
    return CasesPublic(items=items, total=total, limit=limit, offset=offset)


@router.get(
    "/api/cases/{case_id}",
    response_model=CaseDetail,
    responses={404: {"description": "Unknown case"}},
)
def get_case(case_id: str, settings: SettingsDep) -> CaseDetail:
    """A case with its deadlines (and how each was computed), notices and timeline."""
    detail = _case_detail(case_id, settings.temporal_ui_url, settings.temporal_namespace)
    if detail is None:
        raise HTTPException(404, f"case {case_id!r} not found")
    return detail


@router.post(
    "/api/cases/{case_id}/facts",
    response_model=CaseDetail,
    responses={
        404: {"description": "Unknown case"},
        409: {"description": "The case is closed, or its workflow refused the fact"},
    },
)
async def record_fact(
    case_id: str, body: FactCreate, client: TemporalDep, settings: SettingsDep
) -> CaseDetail:
    """Records a fact in a running case, e.g. a withdrawal agreed in writing.

    The fact goes to the workflow as an update; its validator and the rules decide
    what follows. Nothing is written behind the workflow's back.
    """
    return await submit_fact(client, settings, case_id, body)


async def submit_fact(
    client: Client, settings: Settings, case_id: str, body: FactCreate
) -> CaseDetail:
    """Checks a recorded fact against the case's rulebook and sends it to the workflow.

    Raises:
        HTTPException: unknown case (404), a closed case or a fact the workflow's
            validator refuses (409, with its reason), Temporal unavailable (503).
        FactsError: the fact's values do not fit (422, field by field).
    """

    def load() -> tuple[Case | None, str]:
        with Session(get_engine()) as s:
            c = s.get(Case, case_id)
            return c, (_zone(s, c.contract_id) if c else "UTC")

    case, zone = await run_in_threadpool(load)
    if case is None:
        raise HTTPException(404, f"case {case_id!r} not found")
    if case.closed:
        raise HTTPException(
            409, f"case {case_id} is closed ({case.state}); no facts can be recorded"
        )
    rulebook = default_registry().get(case.clause, case.rulebook_version)
    values = validate_recorded_fact(
        rulebook,
        body.fact,
        body.values,
        state=case.state,
        time_zone=zone,
        now=dt.datetime.now(dt.UTC),
    )
    handle = client.get_workflow_handle(case_id)
    try:
        await asyncio.wait_for(
            handle.execute_update(
                CaseWorkflow.record_fact,
                RecordFactRequest(body.fact, values, body.recorded_by, body.reason),
            ),
            timeout=START_WAIT.total_seconds(),
        )
    except TimeoutError as exc:
        raise HTTPException(
            504,
            f"case {case_id} did not answer within {START_WAIT.total_seconds():.0f} s; the fact "
            "may still be recorded when its worker catches up: check the case before resending",
        ) from exc
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        raise HTTPException(409, getattr(cause, "message", None) or str(exc)) from exc
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise HTTPException(409, f"case {case_id} is no longer running") from exc
        raise HTTPException(503, f"Temporal refused the update: {exc.message}") from exc
    detail = await run_in_threadpool(
        _case_detail, case_id, settings.temporal_ui_url, settings.temporal_namespace
    )
    assert detail is not None
    return detail
