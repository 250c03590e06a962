"""The dataclasses that cross the workflow/activity boundary.

They travel through Temporal's pydantic data converter, so ``datetime`` and ``date``
fields keep their types. Every datetime here is timezone-aware UTC.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from rules.deadlines import DeadlineView

__all__ = ["DeadlineView"]  # defined with the deadline computation (rules/deadlines.py)

Scalar = str | int | float | bool | None

#: The type of the non-retryable error for facts a case cannot run: retrying cannot help.
INVALID_FACTS = "InvalidFacts"


def local_date(instant: dt.datetime, time_zone: str) -> dt.date:
    """The date of ``instant`` in ``time_zone`` (the workflow's sandbox cannot build zones)."""
    return instant.astimezone(ZoneInfo(time_zone)).date()


@dataclass
class StateInfo:
    label: str
    terminal: bool = False
    expected_dwell_days: int | None = None


@dataclass
class RequireAnyTrueInfo:
    fields: list[str]
    message: str


@dataclass
class FieldInfo:
    """A start fact or a recordable fact's field, as rules.facts checks it."""

    type: str
    label: str
    required: bool = False
    not_in_future: bool = False
    day_of_month: int | None = None
    positive: bool = False
    may_precede_contract: bool = False
    may_precede_opening: bool = False
    one_of: list[str] | None = None


@dataclass
class RecordableFactInfo:
    label: str
    allowed_in: list[str]
    required_fields: list[str]
    allowed_before: str | None = None
    require_any_true: list[RequireAnyTrueInfo] = field(default_factory=list)
    #: Its free-text fields: what a held notice written from it may be corrected in.
    text_fields: list[str] = field(default_factory=list)
    #: Every field with its type; empty in summaries of cases opened before it was kept.
    fields: dict[str, FieldInfo] = field(default_factory=dict)


@dataclass
class AgreementEmitInfo:
    """A contract event a case emits on entering a state (rules.rulebook.AgreementEmit)."""

    event: str
    route: str | None = None
    dated_by: str | None = None
    #: An event for the other cases: each field and the case fact it is taken from.
    values: dict[str, str] = field(default_factory=dict)


@dataclass
class RulebookSummary:
    """What the workflow needs to know about its rulebook without loading it."""

    clause: str
    version: int
    title: str
    section: str
    states: dict[str, StateInfo]
    recordable_facts: dict[str, RecordableFactInfo]
    notices_requiring_approval: list[str] = field(default_factory=list)
    #: The start facts with their types (empty for cases opened before they were kept).
    start_facts: dict[str, FieldInfo] = field(default_factory=dict)
    #: The start fact that opened the case (rules.rulebook.Rulebook.opening_fact).
    opening_fact: str | None = None
    #: Notices to our own people only (reminders, reports), never to a party.
    internal_notices: list[str] = field(default_factory=list)
    #: Deadlines counted back from a later moment (reminders ahead of an effective date).
    advance_deadlines: list[str] = field(default_factory=list)
    #: Contract events by the state that emits them (empty before rulebooks declared them).
    agreement_events: dict[str, AgreementEmitInfo] = field(default_factory=dict)
    #: Contract events by the notice whose sending emits them.
    agreement_events_with_notice: dict[str, AgreementEmitInfo] = field(default_factory=dict)


@dataclass
class DescribeRulebookInput:
    clause: str
    rulebook_version: int


@dataclass
class ComputeDeadlinesInput:
    clause: str
    rulebook_version: int
    terms: dict[str, Any]
    facts: dict[str, Any]
    names: list[str]
    known: dict[str, DeadlineView] = field(default_factory=dict)
    #: Also compute the pending deadlines counted from this one (and from those, ...),
    #: e.g. the reminders before an effective date an operator amended.
    dependents_of: str | None = None


@dataclass
class ComputeDeadlinesResult:
    deadlines: list[DeadlineView]


@dataclass
class RecordedFactInput:
    fact: str
    values: dict[str, Any]
    at: dt.datetime


@dataclass
class DeriveContext:
    """What the rulebook's calculators need to derive facts before the rules run."""

    terms: dict[str, Any]
    facts: dict[str, Any]
    recorded: list[RecordedFactInput]
    deadlines: dict[str, DeadlineView]
    now: dt.datetime
    opened_at: dt.datetime


@dataclass
class DecideInput:
    facts: dict[str, Scalar]
    context: DeriveContext | None = None


@dataclass
class DecisionView:
    rule: str
    action: str
    value: Any


@dataclass
class DecideResult:
    decisions: list[DecisionView]
    derived: dict[str, Any] = field(default_factory=dict)


@dataclass
class TransitionView:
    from_state: str | None
    to_state: str
    rule: str


@dataclass
class EscalationView:
    rule: str
    reason: str


@dataclass
class OpenEscalation:
    """An escalation a person has not resolved yet (the Escalation row's step and rule)."""

    step: int
    rule: str
    reason: str
    at: dt.datetime


@dataclass
class ResolvedEscalationView:
    """An operator resolved the escalation of ``step`` by ``rule``."""

    step: int
    rule: str
    resolved_by: str
    note: str
    at: dt.datetime


@dataclass
class AmendmentView:
    """A proposed change of a deadline's instant, and its decision once taken."""

    id: str
    deadline: str
    from_due_at: dt.datetime
    to_due_at: dt.datetime
    reason: str
    proposed_by: str
    proposed_at: dt.datetime
    status: str = "pending"  # pending, applied, rejected
    decided_by: str | None = None
    decided_at: dt.datetime | None = None
    decision_reason: str | None = None
    #: Who is behind the proposing credential (api.access.Principal.person); None in
    #: histories recorded before it was carried.
    proposed_by_person: str | None = None


@dataclass
class AuditView:
    """An operator's action for the audit trail: who, why, and the case before and after."""

    action: str
    actor: str
    reason: str | None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


@dataclass
class CaseSnapshot:
    """The case row as the workflow sees it after a step."""

    case_id: str
    contract_id: str
    clause: str
    rulebook_version: int
    state: str
    closed: bool
    owner_email: str | None
    facts: dict[str, Any]
    opened_at: dt.datetime
    deadlines: dict[str, DeadlineView]
    #: None from workflows that predate resolvable escalations: then "escalated" only grows.
    open_escalations: list[OpenEscalation] | None = None


@dataclass
class CatchUpView:
    """A notice a late step skipped (a reminder whose moment had passed) or held for a
    person's approval (it would present a passed deadline as news)."""

    notice: str
    outcome: str  # skipped, held
    reason: str


@dataclass
class RecordStepInput:
    """Everything one step of a case changed, written in one idempotent transaction."""

    case: CaseSnapshot
    step: int
    event: str
    at: dt.datetime
    facts_seen: dict[str, Scalar]
    decisions: list[DecisionView]
    transition: TransitionView | None = None
    escalations: list[EscalationView] = field(default_factory=list)
    actor: str | None = None
    reason: str | None = None
    values: dict[str, Any] | None = None
    #: An operator's action; its audit entry replaces the generic one of the step.
    audit: AuditView | None = None
    #: Write only the audit entry (an action taken while a step is still in flight).
    audit_only: bool = False
    resolved_escalations: list[ResolvedEscalationView] = field(default_factory=list)
    amendments: list[AmendmentView] = field(default_factory=list)
    #: Held notices the case discarded when it was closed (their notice keys).
    discarded_notices: list[str] = field(default_factory=list)
    #: What the step did not send on its own because it came too late (a late fact).
    caught_up: list[CatchUpView] = field(default_factory=list)


@dataclass
class SendNoticeInput:
    case_id: str
    clause: str
    rulebook_version: int
    notice: str
    notice_key: str
    rule: str
    at: dt.datetime
    state: str
    terms: dict[str, Any]
    facts: dict[str, Any]
    deadlines: dict[str, DeadlineView]
    hold_for_approval: bool = False
    approved_by: str | None = None
    #: The case's current owner; notices "to owner" go here (else the term sheet's owner).
    owner_email: str | None = None


@dataclass
class SendNoticeResult:
    notice_id: str
    status: str
    channel: str
    already_sent: bool = False


# -- one local activity and one activity a step (cases opened since issue 14) -----------


@dataclass
class TakeStepInput:
    """What the rules see for one event, and what the calculators and deadlines need."""

    facts: dict[str, Scalar]
    context: DeriveContext
    #: The deadline this event reached (its status is "reached" when others count on).
    reached: str | None = None


@dataclass
class TakeStepResult:
    """The decisions, the derived facts and the deadlines the decisions set."""

    decisions: list[DecisionView]
    derived: dict[str, Any] = field(default_factory=dict)
    deadlines: list[DeadlineView] = field(default_factory=list)


@dataclass
class NoticeOrder:
    """A notice the step writes (and sends, unless held), keyed for exactly once."""

    notice: str
    key: str
    rule: str
    hold: bool = False
    #: Set when a person approved a held notice: the held one goes out as written.
    approved_by: str | None = None


@dataclass
class StepRecordInput:
    """One step of a case: ids and what the step changed, never the whole case.

    The activity reads the rest (the case's facts, deadlines and terms) from the store.
    ``terms`` and every fact come with the first record of each workflow run; later
    records carry only the facts and deadlines that changed.
    """

    case_id: str
    contract_id: str
    clause: str
    rulebook_version: int
    step: int
    event: str
    at: dt.datetime
    state: str
    closed: bool
    opened_at: dt.datetime
    owner_email: str | None
    facts_seen: dict[str, Scalar]
    decisions: list[DecisionView]
    facts: dict[str, Any] = field(default_factory=dict)
    #: Deadlines set or moved by the step, whole.
    deadlines: list[DeadlineView] = field(default_factory=list)
    #: Deadlines whose status alone changed (reached, cancelled): name -> status.
    deadline_status: dict[str, str] = field(default_factory=dict)
    #: On the first record of a run, the SHA-256 of the case's term sheet: the activity
    #: finds the sheet by it (kept already, or the contract's own) and asks for ``terms``
    #: (``StepRecordResult.terms_needed``) only when it cannot.
    terms_sha256: str | None = None
    terms: dict[str, Any] | None = None
    open_escalations: list[OpenEscalation] | None = None
    transition: TransitionView | None = None
    escalations: list[EscalationView] = field(default_factory=list)
    actor: str | None = None
    reason: str | None = None
    values: dict[str, Any] | None = None
    audit: AuditView | None = None
    audit_only: bool = False
    resolved_escalations: list[ResolvedEscalationView] = field(default_factory=list)
    amendments: list[AmendmentView] = field(default_factory=list)
    discarded_notices: list[str] = field(default_factory=list)
    caught_up: list[CatchUpView] = field(default_factory=list)
    notices: list[NoticeOrder] = field(default_factory=list)


@dataclass
class NoticeOutcome:
    """What became of one notice of the step: written (and sent, or held), or refused."""

    key: str
    status: str
    #: Why it could not be written or sent (the case escalates); None when it went out.
    error: str | None = None


@dataclass
class HandOverInput:
    """A written notice of a case, to be handed to SendGrid."""

    case_id: str
    notice_key: str
    at: dt.datetime


@dataclass
class StepRecordResult:
    notices: list[NoticeOutcome] = field(default_factory=list)
    #: Nothing was written: the store does not know the term sheet; send it.
    terms_needed: bool = False


# -- the agreement as a whole (activities/agreement.py) ---------------------------------


@dataclass
class RecordAgreementInput:
    contract_id: str
    step: int
    legal_state: str
    route: str | None
    ends_at: dt.datetime | None
    by_case: str | None
    #: What happened, for the audit trail (one entry a step), and the case it came from.
    action: str
    reason: str
    case_id: str | None = None


@dataclass
class AgreementEndInput:
    contract_id: str
    route: str
    ends_at: dt.datetime
    by_case: str


@dataclass
class CaseConsequence:
    """What one open case of the contract does about another case's event, or now that
    the agreement has ended: close, carry on, or record the fact ``record``."""

    case_id: str
    clause: str
    action: str
    reason: str
    record: str | None = None
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class CaseEventInput:
    """A case's event that is news for the contract's other cases (``agreement.emits``)."""

    contract_id: str
    event: str
    case_id: str
    values: dict[str, Any] = field(default_factory=dict)
    #: When the case emitted it.
    at: dt.datetime | None = None


@dataclass
class OpenCaseInput:
    """A case its contract opens on another case's event (``agreement.opens``)."""

    contract_id: str
    case_id: str
    clause: str
    facts: dict[str, Any]
    reason: str


@dataclass
class OpenedCase:
    """What the contract starts the case's workflow with (its row is written)."""

    case_id: str
    clause: str
    rulebook_version: int
    terms: dict[str, Any]
    facts: dict[str, Any]
    owner_email: str
