"""The data each console page shows, read from the store in one session per page.

These are plain functions over a database session, so the routes can run them in a
worker thread and the tests can read what a page is built from.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from api.ops import CaseFilters, CaseKey, CaseRow, list_case_rows, stuck_reasons
from api.pagination import case_cursor
from api.timeline import (
    TimelineItem,
    case_timeline,
    clause_title,
    expected_notices,
    our_side,
    party_name,
    rulebook_of,
)
from rules.identity import case_identity
from rules.rulebook import RecordableFact, default_registry
from runtime.settings import Settings
from store.models import (
    CalendarFeed,
    Case,
    Contract,
    Deadline,
    DeadlineAmendment,
    Escalation,
    ExpectedNotice,
    Notice,
    User,
)
from workflows.messages import fact_behind

#: Cases on one page of the console's list.
PAGE_SIZE = 25


def state_options() -> list[tuple[str, str]]:
    """Every state of every clause's latest rulebook, for the state filter."""
    registry = default_registry()
    seen: dict[str, str] = {}
    for clause in registry.clauses():
        for name in registry.latest(clause).states:
            seen.setdefault(name, name.replace("_", " ").capitalize())
    return sorted(seen.items(), key=lambda kv: kv[1])


def clause_options() -> list[tuple[str, str]]:
    """Every clause with its title, for the clause filter."""
    registry = default_registry()
    return sorted(
        (
            (c, f"{registry.latest(c).title} ({registry.latest(c).section})")
            for c in registry.clauses()
        ),
        key=lambda kv: kv[1],
    )


# ---------------------------------------------------------------------------- case list


@dataclass
class ListedCase:
    """One row of the case list as the page shows it."""

    row: CaseRow
    clause: str
    contract_title: str
    next_label: str | None
    #: What tells it apart from the clause's other cases (rules/identity.py).
    identity: str | None = None
    #: Its next deadline's last day: one that runs to the end of it reads as that day.
    next_last_day: dt.date | None = None


@dataclass
class CaseList:
    """The case list page: the rows, the totals, the filters' choices.

    ``page`` is None when a link's cursor came without its page's number. ``previous``
    and ``next`` are the query parameters of the pages around this one (None: there is
    none): by cursor, so that a deep page costs what the first does.
    """

    items: list[ListedCase]
    total: int
    counts_by_state: list[tuple[str, str, int]]
    page: int | None
    pages: int
    first: int
    last: int
    contracts: list[tuple[str, str]]
    #: Too many contracts to list in the filter: it takes a contract id instead.
    many_contracts: bool
    clauses: list[tuple[str, str]]
    states: list[tuple[str, str]]
    previous: dict[str, str] | None = None
    next: dict[str, str] | None = None


#: Contracts the case list's filter offers by title; with more, a contract id is typed.
CONTRACT_CHOICES = 200


def case_list(
    session: Session,
    filters: CaseFilters,
    page: int | None,
    now: dt.datetime,
    settings: Settings,
    *,
    after: CaseKey | None = None,
    before: CaseKey | None = None,
) -> CaseList:
    """One page of the filtered case list, with the filters' choices and the state counts.

    The page starts after the case ``after`` or ends before the case ``before`` (the
    cursors of the pages' links), or else is page ``page`` counted from the first; with
    a cursor, ``page`` is only its number as the links counted it (None: unknown).
    """
    keyed = after is not None or before is not None
    page = max(page, 1) if page is not None else None if keyed else 1
    offset = 0 if keyed or page is None else (page - 1) * PAGE_SIZE
    rows = list_case_rows(
        session, filters, PAGE_SIZE, offset, now, settings, after=after, before=before
    )
    if not rows.more_before:
        page = 1  # paged back to the start, or a cursor before the first case
    labels = {(d.case_id, d.name): d.label for r in rows.items for d in r.deadlines}
    last_days = {(d.case_id, d.name): d.last_day for r in rows.items for d in r.deadlines}
    # All contracts in the filter's list while a person can scan it; beyond that only
    # those on this page (and the one filtered by), so a page costs the same at 10,000.
    listed = session.exec(
        select(Contract.id, Contract.title)
        .order_by(col(Contract.title))
        .limit(CONTRACT_CHOICES + 1)
    ).all()
    many_contracts = len(listed) > CONTRACT_CHOICES
    if many_contracts:
        wanted = {r.case.contract_id for r in rows.items} | (
            {filters.contract_id} if filters.contract_id else set()
        )
        listed = session.exec(
            select(Contract.id, Contract.title)
            .where(col(Contract.id).in_(wanted))
            .order_by(col(Contract.title))
        ).all()
    contracts = [(cid, title) for cid, title in listed]
    titles = dict(contracts)
    items = [
        ListedCase(
            row=r,
            clause=clause_title(r.case.clause, r.case.rulebook_version),
            contract_title=titles.get(r.case.contract_id, r.case.contract_id),
            next_label=labels.get((r.case.id, r.case.next_deadline_name or ""))
            or (r.case.next_deadline_name or "").replace("_", " ")
            or None,
            identity=case_identity(r.case.clause, r.case.rulebook_version, r.case.facts, r.zone),
            next_last_day=last_days.get((r.case.id, r.case.next_deadline_name or "")),
        )
        for r in rows.items
    ]
    states = state_options()
    state_names = dict(states)
    counts = [
        (state, state_names.get(state, state.replace("_", " ")), n)
        for state, n in sorted(rows.counts_by_state.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    pages = max(1, -(-rows.total // PAGE_SIZE))
    first = (page - 1) * PAGE_SIZE + 1 if rows.items and page is not None else 0
    return CaseList(
        items=items,
        total=rows.total,
        counts_by_state=counts,
        page=page,
        pages=pages,
        first=first,
        last=first + len(rows.items) - 1 if first else 0,
        contracts=contracts,
        many_contracts=many_contracts,
        clauses=clause_options(),
        states=states,
        previous=_previous(rows.first_key, page) if rows.more_before else None,
        next=_next(rows.last_key, page) if rows.more_after else None,
    )


def _previous(first: CaseKey | None, page: int | None) -> dict[str, str]:
    """The link's parameters of the page before one whose first case is ``first``."""
    if page == 2 or first is None:
        return {"page": "1", "cursor": "", "before": ""}  # the first page itself
    return {"page": str(page - 1) if page else "", "cursor": "", "before": case_cursor(first)}


def _next(last: CaseKey | None, page: int | None) -> dict[str, str] | None:
    """The link's parameters of the page after one whose last case is ``last``."""
    if last is None:
        return None
    return {"page": str(page + 1) if page else "", "cursor": case_cursor(last), "before": ""}


# ---------------------------------------------------------------------------- case page


@dataclass
class CasePage:
    """Everything the case page shows that the store knows."""

    case: Case
    contract: Contract | None
    zone: str
    clause: str
    summary: str
    stuck_reasons: list[str]
    expected_dwell_days: int | None
    deadlines: list[Deadline]
    open_escalations: list[Escalation]
    pending_amendments: list[DeadlineAmendment]
    notices: list[Notice]
    timeline: list[TimelineItem]
    recordable_facts: dict[str, RecordableFact]
    owner_name: str | None
    deadline_labels: dict[str, str]
    #: Each deadline's last day, by name: an instant at the end of it reads as that day.
    last_days: dict[str, dt.date | None] = field(default_factory=dict)
    #: Per held notice, (name, label, value) of the text facts it can be corrected in.
    revisable_facts: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    #: What tells it apart from the clause's other cases (rules/identity.py).
    identity: str | None = None
    #: Which party we are ("customer" or "provider") and its name on the contract.
    our_side: str = "customer"
    our_party: str = ""
    #: The other party's notices: expected by the case, and received.
    expected_notices: list[ExpectedNotice] = field(default_factory=list)


def case_page(
    session: Session, case_id: str, now: dt.datetime, settings: Settings
) -> CasePage | None:
    """What the case page shows, or None for an unknown case."""
    case = session.get(Case, case_id)
    if case is None:
        return None
    contract = session.get(Contract, case.contract_id)
    zone = contract.time_zone if contract else "UTC"
    rb = rulebook_of(case.clause, case.rulebook_version)
    deadlines = list(
        session.exec(
            select(Deadline).where(Deadline.case_id == case_id).order_by(col(Deadline.due_at))
        )
    )
    escalations = list(
        session.exec(
            select(Escalation).where(Escalation.case_id == case_id).order_by(col(Escalation.id))
        )
    )
    amendments = list(
        session.exec(
            select(DeadlineAmendment)
            .where(DeadlineAmendment.case_id == case_id)
            .order_by(col(DeadlineAmendment.id))
        )
    )
    notices = list(
        session.exec(
            select(Notice).where(Notice.case_id == case_id).order_by(col(Notice.created_at))
        )
    )
    label = {d.name: d.label for d in deadlines}
    # Newest first: what an operator opening the case wants to see is what happened last.
    timeline = case_timeline(session, case, notices, escalations, newest_first=True)
    facts: dict[str, RecordableFact] = {}
    if rb is not None and not case.closed:
        facts = {
            name: spec
            for name, spec in rb.recordable_facts.items()
            if not spec.allowed_in or case.state in spec.allowed_in
        }
    owner = (
        session.exec(select(User).where(User.email == case.owner_email)).first()
        if case.owner_email
        else None
    )
    pending = [a for a in amendments if a.status == "pending"]
    # As the workflow allows (revise_held_notice): the free text recorded with the fact
    # the notice was written on.
    revisable: dict[str, list[tuple[str, str, str]]] = {}
    for n in notices if rb is not None else []:
        behind = fact_behind(n.notice_key)
        if n.status != "awaiting_approval" or rb is None or behind not in rb.recordable_facts:
            continue
        revisable[n.notice_key] = [
            (name, spec.label, value)
            for name, spec in rb.recordable_facts[behind].fields.items()
            if spec.type == "string" and isinstance(value := (case.facts or {}).get(name), str)
        ]
    side = our_side(contract)
    return CasePage(
        our_side=side,
        our_party=party_name(contract, side),
        expected_notices=expected_notices(session, case_id),
        case=case,
        contract=contract,
        zone=zone,
        clause=clause_title(case.clause, case.rulebook_version),
        summary=rb.summary if rb else "",
        stuck_reasons=stuck_reasons(case, now, settings, zone),
        expected_dwell_days=(
            rb.states[case.state].expected_dwell_days if rb and case.state in rb.states else None
        ),
        deadlines=deadlines,
        open_escalations=[e for e in escalations if e.resolved_at is None],
        pending_amendments=pending,
        notices=notices,
        timeline=timeline,
        recordable_facts=facts,
        owner_name=owner.display_name if owner else None,
        deadline_labels=label,
        last_days={d.name: d.last_day for d in deadlines},
        revisable_facts=revisable,
        identity=case_identity(case.clause, case.rulebook_version, case.facts, zone),
    )


# ------------------------------------------------------------------------- other pages


def display_name(session: Session, user_id: str) -> str | None:
    """The signed-in user's display name for the header."""
    user = session.get(User, user_id)
    return user.display_name if user else None


@dataclass
class ContractPage:
    """A contract with its cases and its calendar feed."""

    contract: Contract
    cases: CaseList
    feed: CalendarFeed | None


def contract_page(
    session: Session,
    contract_id: str,
    page: int | None,
    now: dt.datetime,
    settings: Settings,
    *,
    after: CaseKey | None = None,
    before: CaseKey | None = None,
) -> ContractPage | None:
    """The contract page's data, or None for an unknown contract."""
    contract = session.get(Contract, contract_id)
    if contract is None:
        return None
    feed = session.exec(
        select(CalendarFeed)
        .where(CalendarFeed.contract_id == contract_id, col(CalendarFeed.revoked_at).is_(None))
        .order_by(col(CalendarFeed.created_at).desc())
    ).first()
    cases = case_list(
        session,
        CaseFilters(contract_id=contract_id),
        page,
        now,
        settings,
        after=after,
        before=before,
    )
    return ContractPage(contract=contract, cases=cases, feed=feed)
