"""The portfolio: every contract with where its agreement stands and what its cases need.

Three statements whatever the page size: the count, the page of contracts, and one
grouped read of the page's open cases (how many, how many escalated or stuck, and the
nearest deadline among them).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import and_, case, exists, func, or_, select
from sqlmodel import Session, col

from api.ops import stuck_condition
from api.pagination import page
from runtime.settings import Settings
from store.models import Case, Contract

LegalState = Literal["in_force", "terminating", "ended"]


@dataclass
class ContractFilters:
    """What the portfolio is narrowed to; each filter is optional."""

    #: A contract whose workflow has not run yet counts as in force.
    legal_state: LegalState | None = None
    #: Only contracts with an open case that is escalated (or stuck).
    escalated: bool | None = None
    stuck: bool | None = None


@dataclass
class CaseCounts:
    open_cases: int = 0
    escalated_cases: int = 0
    stuck_cases: int = 0
    next_deadline_at: dt.datetime | None = None


def _open_case_of_contract(*more: Any) -> Any:
    return exists().where(
        col(Case.contract_id) == col(Contract.id), col(Case.closed).is_(False), *more
    )


def _where(filters: ContractFilters, now: dt.datetime, settings: Settings) -> list[Any]:
    where: list[Any] = []
    if filters.legal_state == "in_force":
        in_force = col(Contract.legal_state) == "in_force"
        where.append(or_(in_force, col(Contract.legal_state).is_(None)))
    elif filters.legal_state is not None:
        where.append(col(Contract.legal_state) == filters.legal_state)
    for flag, condition in (
        (filters.escalated, col(Case.escalated).is_(True)),
        (filters.stuck, stuck_condition(now, settings)),
    ):
        if flag is not None:
            found = _open_case_of_contract(condition)
            where.append(found if flag else ~found)
    return where


def contracts_page(
    session: Session,
    filters: ContractFilters,
    now: dt.datetime,
    settings: Settings,
    limit: int,
    offset: int,
) -> tuple[list[tuple[Contract, CaseCounts]], int]:
    """One page of contracts, newest first, each with its open cases' counts."""
    order = [col(Contract.created_at).desc(), col(Contract.id)]
    rows, total = page(session, Contract, _where(filters, now, settings), order, limit, offset)
    counts = case_counts(session, [r.id for r in rows], now, settings)
    return [(r, counts.get(r.id, CaseCounts())) for r in rows], total


def case_counts(
    session: Session, contract_ids: list[str], now: dt.datetime, settings: Settings
) -> dict[str, CaseCounts]:
    """For each contract, its open cases: how many, escalated, stuck, the next deadline."""
    if not contract_ids:
        return {}
    stuck = stuck_condition(now, settings)
    query = (
        select(
            col(Case.contract_id),
            func.count(),
            func.sum(case((col(Case.escalated).is_(True), 1), else_=0)),
            func.sum(case((stuck, 1), else_=0)),
            func.min(col(Case.next_deadline_at)),
        )
        .where(and_(col(Case.contract_id).in_(contract_ids), col(Case.closed).is_(False)))
        .group_by(Case.contract_id)
    )
    return {
        cid: CaseCounts(int(n), int(esc or 0), int(st or 0), nearest)
        for cid, n, esc, st, nearest in session.execute(query).all()
    }
