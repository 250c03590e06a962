"""Every clock of a contract on one timeline (issue 15, part 4): each deadline of each of
its cases, reached, pending or stopped, with the agreement's own dates among them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from rules.identity import case_identity
from rules.rulebook import UnknownRulebook, default_registry
from store.models import Case, Contract, Deadline

#: Rows a page shows; a contract with more says how many it left out.
SHOWN = 300


@dataclass(frozen=True)
class Clock:
    """One moment on the contract's timeline."""

    at: dt.datetime
    last_day: dt.date | None
    label: str
    status: str  # pending, reached, cancelled; "agreement" for the agreement's own dates
    case_id: str | None = None
    clause: str | None = None
    identity: str | None = None


def _aware(at: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; the store writes UTC.
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


def _title(clause: str) -> str:
    try:
        return default_registry().latest(clause).title
    except UnknownRulebook:
        return clause


def contract_clocks(session: Session, contract: Contract) -> tuple[list[Clock], int]:
    """The contract's clocks by time, and how many more there are than shown."""
    rows = session.exec(
        select(Deadline, Case)
        .join(Case, col(Case.id) == col(Deadline.case_id))
        .where(Case.contract_id == contract.id)
        .order_by(col(Deadline.due_at), col(Deadline.id))
        .limit(SHOWN + 1)
    ).all()
    more = max(0, len(rows) - SHOWN)
    zone = contract.time_zone
    clocks = [
        Clock(
            _aware(d.due_at),
            d.last_day,
            d.label,
            d.status,
            c.id,
            _title(c.clause),
            case_identity(c.clause, c.rulebook_version, c.facts, zone),
        )
        for d, c in rows[:SHOWN]
    ]
    began = dt.datetime.combine(contract.effective_date, dt.time(0), ZoneInfo(zone))
    clocks.append(Clock(began.astimezone(dt.UTC), None, "The agreement takes effect", "agreement"))
    if contract.ends_at is not None and contract.legal_state in ("terminating", "ended"):
        ends = (
            contract.ends_at if contract.ends_at.tzinfo else contract.ends_at.replace(tzinfo=dt.UTC)
        )
        route = (contract.end_route or "").replace("_", " ")
        clocks.append(Clock(ends, None, f"The agreement ends ({route})", "agreement"))
    clocks.sort(key=lambda k: k.at)
    return clocks, more
