"""A case as the API answers it: its row with deadlines, notices, timeline and why it is stuck."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session, col, select

from api.ops import stuck_reasons
from api.schemas import (
    AmendmentPublic,
    CaseDetail,
    DeadlinePublic,
    EscalationPublic,
    ExpectedNoticePublic,
    NoticeSummary,
    TimelineEntry,
)
from api.timeline import case_timeline, expected_notices, our_side
from contracts.calendar import describe_deadline
from rules.identity import case_identity
from runtime.settings import Settings, get_settings
from store.contracts import time_zone_of
from store.db import get_engine
from store.models import (
    Case,
    Contract,
    Deadline,
    DeadlineAmendment,
    Escalation,
    ExpectedNotice,
    Notice,
)


def case_public(
    session: Session,
    case: Case,
    zone: str,
    stuck: list[str] | None = None,
    deadlines: Sequence[Deadline] | None = None,
) -> dict[str, Any]:
    """The fields of ``CasePublic``: the row, its deadlines and why it is stuck.

    ``deadlines`` (earliest first) when the caller read them already, as the case list
    does for a whole page at once; otherwise they are read here.
    """
    if deadlines is None:
        deadlines = session.exec(
            select(Deadline).where(Deadline.case_id == case.id).order_by(col(Deadline.due_at))
        ).all()
    data = case.model_dump()
    data["identity"] = case_identity(case.clause, case.rulebook_version, case.facts, zone)
    data["deadlines"] = [DeadlinePublic.of(d, zone) for d in deadlines]
    data["next_deadline_text"] = next_deadline_text(case, deadlines, zone)
    data["stuck_reasons"] = (
        stuck
        if stuck is not None
        else stuck_reasons(case, dt.datetime.now(dt.UTC), get_settings(), zone)
    )
    return data


def next_deadline_text(case: Case, deadlines: Sequence[Deadline], zone: str) -> str | None:
    """The case's next deadline as people read it ("end of Thu 31 Dec 2026, New York
    time"), from its row among ``deadlines``; None when the case has none."""
    if case.next_deadline_at is None:
        return None
    last_day = next(
        (d.last_day for d in deadlines if d.name == case.next_deadline_name),
        None,
    )
    return describe_deadline(case.next_deadline_at, last_day, zone)


def _due_texts(
    expected: Sequence[ExpectedNotice], deadlines: Sequence[Deadline], zone: str
) -> list[ExpectedNoticePublic]:
    """The other party's notices, each due as the deadline it is due by reads."""
    last_days = {d.name: d.last_day for d in deadlines}
    out = []
    for x in expected:
        notice = ExpectedNoticePublic.model_validate(x)
        if x.due_at is not None:
            last_day = last_days.get(x.expected_by or "")
            notice.due_text = describe_deadline(x.due_at, last_day, zone)
        out.append(notice)
    return out


def temporal_url(base: str, namespace: str, case_id: str, safe: str = "/") -> str:
    """The case's workflow in the Temporal Web UI.

    ``safe`` is what stays unquoted: the console quotes "/" too, the API's answers have
    always kept it.
    """
    return (
        f"{base.rstrip('/')}/namespaces/{quote(namespace, safe=safe)}"
        f"/workflows/{quote(case_id, safe=safe)}"
    )


def case_detail(case_id: str, ui: str, namespace: str) -> CaseDetail | None:
    """The case with everything that happened to it, or None for an unknown case."""
    with Session(get_engine()) as session:
        case = session.get(Case, case_id)
        return None if case is None else detail_of(session, case, ui, namespace)


def detail_of(session: Session, case: Case, ui: str, namespace: str) -> CaseDetail:
    """:func:`case_detail` of a case row read in ``session``."""
    case_id = case.id
    zone = time_zone_of(session, case.contract_id)
    notices = session.exec(
        select(Notice).where(Notice.case_id == case_id).order_by(col(Notice.created_at))
    ).all()
    escalations = session.exec(
        select(Escalation).where(Escalation.case_id == case_id).order_by(col(Escalation.id))
    ).all()
    expected = expected_notices(session, case_id)
    timeline = [
        TimelineEntry.model_validate(item, from_attributes=True)
        for item in case_timeline(session, case, notices, escalations, expected=expected)
    ]
    amendments = session.exec(
        select(DeadlineAmendment)
        .where(DeadlineAmendment.case_id == case_id)
        .order_by(col(DeadlineAmendment.id))
    ).all()
    deadlines = session.exec(
        select(Deadline).where(Deadline.case_id == case.id).order_by(col(Deadline.due_at))
    ).all()
    return CaseDetail(
        our_side=our_side(session.get(Contract, case.contract_id)),
        expected_notices=_due_texts(expected, deadlines, zone),
        **case_public(session, case, zone, deadlines=deadlines),
        notices=[NoticeSummary.model_validate(n) for n in notices],
        timeline=timeline,
        temporal_url=temporal_url(ui, namespace, case_id),
        escalations=[EscalationPublic.model_validate(e) for e in escalations],
        amendments=[AmendmentPublic.model_validate(a) for a in amendments],
    )


async def read_case(case_id: str, settings: Settings) -> CaseDetail:
    """:func:`case_detail`, read in a worker thread, as the answer of a route.

    Raises:
        HTTPException: 404 for an unknown case.
    """
    detail = await run_in_threadpool(
        case_detail, case_id, settings.temporal_ui_url, settings.temporal_namespace
    )
    if detail is None:
        raise HTTPException(404, f"case {case_id!r} not found")
    return detail
