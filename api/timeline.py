"""A case's timeline and the rulebook's plain words, for the API and the console alike.

GET /api/cases/{id} and the console's case page show the same history: transitions,
rule decisions, notices, escalations and their resolution, operator actions and notes.
Both read it here, so the two can never tell a case's story differently.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlmodel import Session, col, select

from rules.rulebook import Rulebook, default_registry
from store.models import (
    AuditEntry,
    Case,
    Contract,
    DecisionRecord,
    Escalation,
    ExpectedNotice,
    Notice,
    Transition,
)


@lru_cache(maxsize=256)
def rulebook_of(clause: str, version: int) -> Rulebook | None:
    """The case's rulebook, or None for a clause or version this build does not know."""
    try:
        return default_registry().get(clause, version)
    except Exception:  # an old case of a retired rulebook still shows, without its words
        return None


def clause_title(clause: str, version: int) -> str:
    """The clause's title and section, e.g. "Material breach and termination for cause (§10)"."""
    rb = rulebook_of(clause, version)
    return f"{rb.title} ({rb.section})" if rb else clause.replace("_", " ")


def state_words(clause: str, version: int, state: str | None) -> str:
    """A state's plain-language label from the rulebook (the name itself if unknown)."""
    if state is None:
        return "opened"
    rb = rulebook_of(clause, version)
    spec = rb.states.get(state) if rb else None
    return spec.label if spec else state.replace("_", " ")


#: Within one instant and step: the rule decided, the state changed, an escalation was
#: raised (then resolved), a person acted, and the notice went out.
_ORDER = {
    "decision": 0,
    "transition": 1,
    "escalation": 2,
    "resolution": 3,
    "audit": 3,
    "notice": 4,
    "expected": 4,
    "received": 4,
}


#: Where an entry without a step of its own sorts among the steps of its instant: last.
_NO_STEP = 1 << 62


@dataclass
class TimelineItem:
    """One thing that happened to a case.

    ``title`` is in the rulebook's plain words (the console shows it); ``summary`` names
    the states, rules and actions as the API and the rulebooks spell them.
    """

    at: dt.datetime
    # transition, decision, notice (one we sent), expected and received (the other
    # party's notices), escalation, resolution, audit
    kind: str
    title: str
    summary: str
    step: int | None = None
    details: dict[str, Any] = field(default_factory=dict)
    #: The notice itself, for a notice entry.
    notice: Notice | None = None

    @property
    def order(self) -> int:
        return _ORDER[self.kind]

    @property
    def shown_as(self) -> str:
        """How the console draws it: an audit entry is a note or an operator's action."""
        if self.kind != "audit":
            return self.kind
        return "note" if self.details.get("action") == "note" else "action"


def _audit_title(a: AuditEntry) -> str:
    if a.action == "note":
        return f"Note by {a.actor}"
    if a.action == "catch_up":
        # What a late fact made the case skip, and hold for a person (records.py).
        after = a.after or {}
        parts = [
            f"{verb} {', '.join(n.replace('_', ' ') for n in after.get(key, []))}"
            for verb, key in (("skipped", "skipped"), ("held for approval", "held_for_approval"))
            if after.get(key)
        ]
        return "Came in late: " + "; ".join(parts)
    words = a.action.replace("_", " ")
    return f"{words[:1].upper()}{words[1:]} by {a.actor}"


def our_side(contract: Contract | None) -> str:
    """Which party runs Clauseflow for the contract (the term sheet's ``our_side``)."""
    return str((contract.terms or {}).get("our_side", "customer")) if contract else "customer"


def expected_notices(session: Session, case_id: str) -> list[ExpectedNotice]:
    """The case's notices of the other party, in the order it came to expect them."""
    query = select(ExpectedNotice).where(ExpectedNotice.case_id == case_id)
    return list(session.exec(query.order_by(col(ExpectedNotice.id))))


def party_name(contract: Contract | None, role: str) -> str:
    """A party's name on the contract (``customer``, ``provider``), else the role."""
    if contract is not None and role in ("customer", "provider"):
        return str(getattr(contract, f"{role}_name"))
    return f"the {role}" if role else "the other party"


def _other_partys_notice(x: ExpectedNotice, contract: Contract | None) -> list[TimelineItem]:
    """A notice of the other party: when the case began to expect it, and its arrival."""
    sender = party_name(contract, x.sender)
    details = {
        "notice": x.notice,
        "sender": x.sender,
        "sender_name": sender,
        "expected_by": x.expected_by,
        "due_at": x.due_at,
        "status": x.status,
        "direction": "received",
    }
    items = [
        TimelineItem(
            at=x.expected_at,
            kind="expected",
            title=f"Expected from {sender}: {x.label}",
            summary=f"notice {x.notice} is the {x.sender}'s to give: expected, never sent by us",
            step=x.step,
            details=details,
        )
    ]
    if x.received_at is not None:
        items.append(
            TimelineItem(
                at=x.received_at,
                kind="received",
                title=f"Received from {sender}: {x.label}",
                summary=f"notice {x.notice} received from the {x.sender}"
                + (f", recorded by {x.recorded_by}" if x.recorded_by else ""),
                details={**details, "recorded_by": x.recorded_by, "text_sha256": x.text_sha256},
            )
        )
    return items


def case_timeline(
    session: Session,
    case: Case,
    notices: Sequence[Notice],
    escalations: Sequence[Escalation],
    *,
    newest_first: bool = False,
    expected: Sequence[ExpectedNotice] | None = None,
) -> list[TimelineItem]:
    """The case's history, oldest first (or newest first, as the console shows it).

    Args:
        session: An open session.
        case: The case.
        notices: Its notices (the caller reads them anyway).
        escalations: Its escalations (likewise).
        newest_first: Whether what happened last comes first.
        expected: The other party's notices it expects, when the caller read them.
    """

    def words(state: str | None) -> str:
        return state_words(case.clause, case.rulebook_version, state)

    items: list[TimelineItem] = []
    for t in session.exec(select(Transition).where(Transition.case_id == case.id)):
        items.append(
            TimelineItem(
                at=t.at,
                kind="transition",
                title=words(t.to_state),
                summary=f"{t.from_state or 'opened'} → {t.to_state} ({t.rule})",
                step=t.step,
                details={
                    "from": t.from_state,
                    "to": t.to_state,
                    "rule": t.rule,
                    "from_words": words(t.from_state) if t.from_state else None,
                },
            )
        )
    for d in session.exec(select(DecisionRecord).where(DecisionRecord.case_id == case.id)):
        items.append(
            TimelineItem(
                at=d.at,
                kind="decision",
                title=f"Rule {d.rule} decided: {d.action.replace('_', ' ')}",
                summary=f"rule {d.rule} (rulebook v{d.rulebook_version}) decided {d.action}",
                step=d.step,
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
        items.append(
            TimelineItem(
                # A held notice shows where it went out, after its approval.
                at=n.sent_at or n.created_at,
                kind="notice",
                title=n.subject,
                summary=f"notice {n.notice} to {', '.join(n.to)}: {n.status}",
                details={
                    "notice_id": n.id,
                    "subject": n.subject,
                    "status": n.status,
                    "direction": "sent",
                },
                notice=n,
            )
        )
    contract = session.get(Contract, case.contract_id)
    for x in expected if expected is not None else expected_notices(session, case.id):
        items.extend(_other_partys_notice(x, contract))
    for e in escalations:
        items.append(
            TimelineItem(
                at=e.at,
                kind="escalation",
                title=e.reason,
                summary=e.reason,
                step=e.step,
                details={"rule": e.rule, "resolved_at": e.resolved_at},
            )
        )
        if e.resolved_at is not None:
            by = e.resolved_by or "someone"
            items.append(
                TimelineItem(
                    at=e.resolved_at,
                    kind="resolution",
                    title=f"Escalation resolved by {by}",
                    summary=f"{by} resolved: {e.reason}"
                    + (f" ({e.resolution_note})" if e.resolution_note else ""),
                    details={
                        "rule": e.rule,
                        "reason": e.reason,
                        "resolved_by": e.resolved_by,
                        "note": e.resolution_note,
                    },
                )
            )
    for a in session.exec(select(AuditEntry).where(AuditEntry.case_id == case.id)):
        items.append(
            TimelineItem(
                at=a.at,
                kind="audit",
                title=_audit_title(a),
                summary=f"{a.actor}: {a.action.replace('_', ' ')}"
                + (f" ({a.reason})" if a.reason else ""),
                details={
                    "actor": a.actor,
                    "action": a.action,
                    "reason": a.reason,
                    "before": a.before,
                    "after": a.after,
                },
            )
        )
    # At one instant, what a step decided comes before what has no step of its own: a
    # notice is written in the same transaction, at the same instant, as the step that
    # decided to send it.
    items.sort(
        key=lambda i: (i.at, i.step if i.step is not None else _NO_STEP, i.order),
        reverse=newest_first,
    )
    return items
