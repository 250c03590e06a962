"""The portfolio: every contract with where its agreement stands and what its cases need.

Four statements whatever the page size: the count, the page of contracts, one grouped
read of the page's open cases (how many, how many escalated or stuck, and the nearest
deadline among them), and the last day of each nearest deadline, to say it in words.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import and_, case, exists, func, or_, select
from sqlmodel import Session, col

from api.ops import stuck_condition
from api.pagination import page
from contracts.calendar import describe_deadline
from runtime.settings import Settings
from store.models import Case, Contract, Deadline

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
    #: The same in words, in the contract's time zone: "end of Thu 31 Dec 2026, New York
    #: time" for a deadline that runs to the end of its last day.
    next_deadline_text: str | None = None


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
    _say_nearest_deadlines(session, rows, counts)
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


def _say_nearest_deadlines(
    session: Session, contracts: Sequence[Contract], counts: dict[str, CaseCounts]
) -> None:
    """Puts each contract's nearest deadline in words, in one statement for the page.

    The case row holds its next deadline's instant and name; the deadline's own row holds
    the last day that tells "end of Thu 31 Dec" from "Fri 1 Jan 00:00".
    """
    if not contracts:
        return
    # Read even when no deadline is near, so that every page costs the same statements.
    nearest = {cid: c.next_deadline_at for cid, c in counts.items() if c.next_deadline_at}
    # Two IN lists rather than a pair per contract: a statement compiled and planned once.
    query = (
        select(col(Case.contract_id), col(Case.next_deadline_at), col(Deadline.last_day))
        .join(
            Deadline,
            and_(
                col(Deadline.case_id) == col(Case.id),
                col(Deadline.name) == col(Case.next_deadline_name),
            ),
        )
        .where(
            col(Case.contract_id).in_([c.id for c in contracts]),
            col(Case.closed).is_(False),
            col(Case.next_deadline_at).in_(sorted(set(nearest.values()))),
        )
    )
    last_days: dict[str, dt.date] = {}
    for cid, at, last_day in session.execute(query).all():
        if at != nearest.get(cid) or last_day is None:
            continue  # another contract's nearest instant
        # Cases due at the same instant: one ending Thu 31 Dec and one starting Fri 1 Jan
        # are due together, and the earlier last day is the one that reads as a day's end.
        if cid not in last_days or last_day < last_days[cid]:
            last_days[cid] = last_day
    for contract in contracts:
        found = counts.get(contract.id)
        if found is not None and found.next_deadline_at is not None:
            found.next_deadline_text = describe_deadline(
                found.next_deadline_at, last_days.get(contract.id), contract.time_zone
            )
