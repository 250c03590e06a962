"""What crosses the case workflow's boundary: its input, state, view and requests.

Pure dataclasses and names, so that the API can start, query and update cases by name
(runtime/) without loading the workflow or its activities. They travel through Temporal's
pydantic data converter by structure: a class may move between modules, a field may be
added with a default, but no field may be renamed while cases that carry it run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from temporalio.common import SearchAttributeKey

from activities.types import (
    AmendmentView,
    CaseConsequence,
    DeadlineView,
    OpenEscalation,
    RulebookSummary,
)
from rules.agreement import ENDED_WITH_AGREEMENT, ENDED_WITH_AGREEMENT_LABEL

#: The workflow type of a case, as Temporal knows it.
CASE_WORKFLOW = "CaseWorkflow"


class CaseUpdate(StrEnum):
    """The updates a case's workflow takes, by name; each answers a ``CaseView``."""

    READY = "ready"
    RECORD_FACT = "record_fact"
    APPROVE_NOTICE = "approve_notice"
    REVISE_HELD_NOTICE = "revise_held_notice"
    RETRY_NOW = "retry_now"
    RESOLVE_ESCALATION = "resolve_escalation"
    AMEND_DEADLINE = "amend_deadline"
    DECIDE_AMENDMENT = "decide_amendment"
    CLOSE_CASE = "close_case"
    REASSIGN_OWNER = "reassign_owner"


#: The query that answers the case as a ``CaseView``.
CASE_QUERY = "case"
#: The signal by which the mail provider's webhook reports an undelivered notice.
DELIVERY_FAILED = "delivery_failed"

CONTRACT_ID = SearchAttributeKey.for_keyword("ContractId")
CLAUSE = SearchAttributeKey.for_keyword("Clause")
CASE_STATE = SearchAttributeKey.for_keyword("CaseState")

#: Labels of the outcomes an operator closes a case with, when its rulebook has no such state.
CLOSED_BY_OPERATOR = {
    "withdrawn": "Withdrawn by an operator",
    "cancelled": "Cancelled by an operator",
}
#: Labels of the outcomes a case is closed with from outside its rulebook: by an
#: operator, or by its contract because the agreement ended (§10).
CLOSED_FROM_OUTSIDE = {**CLOSED_BY_OPERATOR, ENDED_WITH_AGREEMENT: ENDED_WITH_AGREEMENT_LABEL}

#: The contract workflow's signal for what its cases tell it; the case's for the end, and
#: for a fact it records because of another case's event (or the end).
AGREEMENT_EVENT = "agreement_event"
AGREEMENT_ENDED = "agreement_ended"
CONTRACT_FACT = "contract_fact"


@dataclass
class ContractEvent:
    """What a case tells its contract: the agreement is terminating (with the date it
    ends), has ended, or its termination was withdrawn (rules: ``agreement.emits``)."""

    event: str
    case_id: str
    route: str | None = None
    ends_at: dt.datetime | None = None
    #: An event that is news for other cases carries its values (``agreement.emits``).
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class ContractFact:
    """The contract tells a case to record ``fact`` (its rulebook's ``agreement.reacts``
    or ``when_agreement_ends``), with why; the case's rules decide what follows."""

    contract_id: str
    fact: str
    values: dict[str, Any]
    reason: str
    #: Not a fact: a case of this clause is offered for a person to confirm (escalated).
    offer: str | None = None


@dataclass
class AgreementEnded:
    """The contract tells a case that the agreement has ended and the case closes."""

    contract_id: str
    route: str
    ends_at: dt.datetime
    reason: str


@dataclass
class RecordedFact:
    """A fact a person recorded while the case ran."""

    fact: str
    values: dict[str, Any]
    recorded_by: str
    reason: str | None
    step: int
    at: dt.datetime


@dataclass
class HeldNotice:
    """A notice rendered and waiting for a person's approval before it goes out."""

    notice: str
    rule: str
    held_at: dt.datetime


@dataclass
class CaseState:
    """All of a case's workflow state; carried across continue-as-new."""

    summary: RulebookSummary
    opened_at: dt.datetime
    state: str = "opened"
    closed: bool = False
    step: int = 0
    facts: dict[str, Any] = field(default_factory=dict)
    deadlines: dict[str, DeadlineView] = field(default_factory=dict)
    recorded_facts: list[RecordedFact] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    escalations: list[str] = field(default_factory=list)
    held_notices: dict[str, HeldNotice] = field(default_factory=dict)
    delivery_failures: list[str] = field(default_factory=list)
    #: The case's owner now (CaseInput.owner_email until an operator reassigns it).
    owner_email: str | None = None
    #: Escalations no one has resolved yet; ``escalations`` keeps every reason ever given.
    open_escalations: list[OpenEscalation] = field(default_factory=list)
    #: False in state carried over from runs that did not track open escalations.
    escalations_tracked: bool = False
    #: Deadline amendments by id: pending ones wait for a second person.
    amendments: dict[str, AmendmentView] = field(default_factory=dict)
    #: Deadlines an operator moved: nothing recomputes them afterwards.
    amended_deadlines: list[str] = field(default_factory=list)


@dataclass
class CaseInput:
    """What a case starts with. ``state`` is set only when continuing as new."""

    case_id: str
    contract_id: str
    clause: str
    rulebook_version: int
    terms: dict[str, Any]
    facts: dict[str, Any]
    owner_email: str | None = None
    history_limit: int = 10_000
    #: How long one attempt to send a notice may take before Temporal retries it.
    notice_timeout_seconds: float = 60.0
    #: How long one attempt to record a step may take before Temporal retries it.
    record_timeout_seconds: float = 30.0
    #: The longest wait between two attempts to send a notice (the backoff's cap).
    notice_retry_max_seconds: float = 600.0
    #: What the case does with deadlines that have passed by the time it sets them (its
    #: facts came in late): "catch_up" skips their reminders and holds notices to a party
    #: for a person's approval; "as_scheduled" acts on them at once, as if on time (for
    #: benchmarks and chaos runs that open cases in the past on purpose).
    past_deadlines: str = "catch_up"
    #: Set by whoever starts a case since issue 14: the run reads its rulebook's summary
    #: in code and records each step in one activity from its start, so it asks no patch
    #: (a patch's marker costs an event and an upsert of Temporal's own search
    #: attribute). False, as in every input before it: the run asks the patches.
    lean_from_start: bool = False
    state: CaseState | None = None


@dataclass
class CaseView:
    """The case as the query and the updates return it."""

    case_id: str
    contract_id: str
    clause: str
    rulebook_version: int
    state: str
    state_label: str
    closed: bool
    step: int
    facts: dict[str, Any]
    deadlines: list[DeadlineView]
    notices: list[str]
    escalations: list[str]
    held_notices: list[str] = field(default_factory=list)
    owner_email: str | None = None
    open_escalations: list[OpenEscalation] = field(default_factory=list)
    pending_amendments: list[AmendmentView] = field(default_factory=list)
    #: Names of the activities running or waiting to retry (what retry_now would restart).
    inflight_activities: list[str] = field(default_factory=list)
    #: Set only in the answer to amend_deadline: the id of the amendment it created.
    amendment_id: str | None = None


@dataclass
class RecordFactRequest:
    """A fact a person records: which fact, its values, who and why."""

    fact: str
    values: dict[str, Any]
    recorded_by: str
    reason: str | None = None


@dataclass
class ApproveNoticeRequest:
    """A person approves a held notice so that it goes out."""

    notice_key: str
    approved_by: str
    reason: str | None = None


@dataclass
class DeliveryFailure:
    """The mail provider reported that a notice was not delivered (bounce, block, drop)."""

    notice_key: str
    notice: str
    event: str
    reason: str


@dataclass
class RetryNowRequest:
    """An operator retries the case's failing activity now instead of after the backoff."""

    actor: str
    reason: str


@dataclass
class ResolveEscalationRequest:
    """An operator resolves the escalation a rule raised at ``step`` (the Escalation row)."""

    step: int
    rule: str
    note: str
    actor: str


@dataclass
class AmendDeadlineRequest:
    """An operator asks to move a deadline to ``due_at`` (timezone-aware)."""

    deadline: str
    due_at: dt.datetime
    reason: str
    actor: str
    #: By default the deadline moves only when a second person approves.
    second_approver_required: bool = True
    #: Who is behind the actor's credential (one person may hold several); None in
    #: histories recorded before it was carried.
    person: str | None = None


@dataclass
class DecideAmendmentRequest:
    """A person approves (the deadline moves) or rejects a pending amendment."""

    amendment_id: str
    approve: bool
    actor: str
    reason: str
    #: As in AmendDeadlineRequest: the person, not the credential, must differ.
    person: str | None = None


@dataclass
class CloseCaseRequest:
    """An operator closes the case: ``outcome`` is "withdrawn" or "cancelled". Its
    contract closes it ``by_contract``, as ``ended_with_agreement``, when the agreement
    ends (never through the update: only through the contract's signal)."""

    outcome: str
    actor: str
    reason: str
    by_contract: bool = False


@dataclass
class ReassignOwnerRequest:
    """An operator hands the case to another owner; later owner notices go to them."""

    owner_email: str
    actor: str
    reason: str


@dataclass
class ReviseHeldNoticeRequest:
    """A person corrects the facts a held notice was written from, before approving it.

    ``values`` replace facts the case already has (text a person recorded, such as a
    report's root cause); the notice is written again from them and stays held.
    """

    notice_key: str
    values: dict[str, str]
    actor: str
    reason: str


#: The operator actions that go through the main loop, one step each.
OperatorAction = (
    ResolveEscalationRequest
    | AmendDeadlineRequest
    | DecideAmendmentRequest
    | CloseCaseRequest
    | ReassignOwnerRequest
    | ReviseHeldNoticeRequest
)


@dataclass
class CaseResult:
    case_id: str
    state: str
    closed_at: dt.datetime


def fact_behind(notice_key: str) -> str | None:
    """The recorded fact whose event wrote the notice ("final_report" for the key
    "final_report:fact:final_report:4"), or None for a notice of another event."""
    parts = notice_key.split(":")
    return parts[2] if len(parts) > 2 and parts[1] == "fact" else None


# -- the contract workflow's boundary (workflows/contract.py) ------------------------------

#: The workflow type of a contract, as Temporal knows it.
CONTRACT_WORKFLOW = "ContractWorkflow"
AGREEMENT_QUERY = "agreement"

IN_FORCE, TERMINATING, ENDED = "in_force", "terminating", "ended"


@dataclass
class AgreementState:
    """The agreement's legal state, carried whole into a new run (continue-as-new)."""

    legal_state: str = IN_FORCE
    route: str | None = None
    ends_at: dt.datetime | None = None
    by_case: str | None = None
    step: int = 0
    #: Events from cases not yet acted on: a new run takes them over.
    pending: list[ContractEvent] = field(default_factory=list)
    #: What the end did to each open case: its action (close, carry_on) and why.
    at_end: dict[str, CaseConsequence] = field(default_factory=dict)
    #: Cases told to close that could not be reached (already ended), by id.
    not_reached: list[str] = field(default_factory=list)
    #: The latest events that changed nothing (a later notice, say), with why.
    ignored: list[str] = field(default_factory=list)


@dataclass
class ContractInput:
    contract_id: str
    state: AgreementState | None = None
    #: Events after which the run continues as new (well under Temporal's limits).
    history_limit: int = 10_000


@dataclass
class AgreementView:
    contract_id: str
    legal_state: str
    route: str | None
    ends_at: dt.datetime | None
    by_case: str | None
    at_end: list[CaseConsequence]
    not_reached: list[str]
    ignored: list[str]
