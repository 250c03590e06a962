"""Request and response models of the REST API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.ops import PendingActivity

#: The largest ``offset`` a list accepts: far past any real list, and well inside the
#: 64-bit integer SQLite and PostgreSQL take (a larger one was a 500).
MAX_OFFSET = 1_000_000_000


class ContractPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    title: str
    reference: str | None
    customer_name: str
    provider_name: str
    time_zone: str
    effective_date: dt.date
    terms: dict[str, Any]
    created_at: dt.datetime
    legal_state: str | None = Field(
        default=None,
        description="The agreement's legal state, kept by the contract's own workflow: "
        "in_force, terminating or ended (null until its first case starts that workflow)",
    )
    end_route: str | None = Field(
        default=None, description="How it ends or ended: convenience, expiry, for_cause..."
    )
    ends_at: dt.datetime | None = Field(
        default=None, description="When it ends or ended (terminating or ended)"
    )
    ended_by_case: str | None = Field(
        default=None, description="The case whose notice or end it was"
    )


class ContractRegistered(ContractPublic):
    monthly_sla_review_case_id: str | None = Field(
        default=None, description="The monthly SLA review's case; also in standing_case_ids"
    )
    standing_case_ids: dict[str, str] = Field(
        default_factory=dict,
        description="The cases that start with the contract, by clause",
    )
    warnings: list[str] = Field(default_factory=list)


class StandingCases(BaseModel):
    """The cases that start with a contract, and any that could not start now."""

    standing_case_ids: dict[str, str] = Field(description="Each case's id, by clause")
    warnings: list[str] = Field(default_factory=list)


class ContractListItem(ContractPublic):
    """A contract in the portfolio, with what its open cases need."""

    open_cases: int = Field(default=0, description="Its cases not closed")
    escalated_cases: int = Field(default=0, description="Of them, escalated to a person")
    stuck_cases: int = Field(default=0, description="Of them, stuck (as GET /api/cases?stuck=true)")
    next_deadline_at: dt.datetime | None = Field(
        default=None, description="The nearest pending deadline across its open cases"
    )
    next_deadline_text: str | None = Field(
        default=None,
        description="That deadline as people read it, in the contract's time zone: "
        '"end of Thu 31 Dec 2026, New York time" for one that runs to the end of its '
        "last day, else its local time",
    )


class ContractsPublic(BaseModel):
    items: list[ContractListItem]
    total: int
    limit: int
    offset: int


class CaseCreate(BaseModel):
    """Start a case: which clause, and the facts that start it."""

    model_config = ConfigDict(extra="forbid")

    clause: str = Field(examples=["termination_for_convenience"])
    facts: dict[str, Any] = Field(
        examples=[{"notice_received_at": "2026-12-01T10:00:00-05:00", "given_by": "customer"}]
    )
    owner_email: str | None = Field(
        default=None, description="Who answers for the case; the contract owner by default"
    )


class DeadlinePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    group: str
    label: str
    due_at: dt.datetime = Field(description="The instant it falls due, for machines")
    local_due: str = Field(description="That instant in the contract's time zone, in words")
    due_text: str = Field(
        description="When it is due as people read it: a deadline that runs to the end of "
        'its last day reads "end of Thu 31 Dec 2026, New York time" (its instant is the '
        "midnight after), any other as local_due"
    )
    last_day: dt.date | None
    status: str
    explanation: list[str]
    original_due_at: dt.datetime | None = None
    revision: int = 0

    @classmethod
    def of(cls, d: Any, time_zone: str) -> DeadlinePublic:
        """A deadline (row or view) with its due time in the contract's words."""
        from contracts.calendar import describe_deadline, describe_instant

        return cls(
            name=d.name,
            group=d.group,
            label=d.label,
            due_at=d.due_at,
            local_due=describe_instant(d.due_at, time_zone),
            due_text=describe_deadline(d.due_at, d.last_day, time_zone),
            last_day=d.last_day,
            status=d.status,
            explanation=list(d.explanation),
            original_due_at=getattr(d, "original_due_at", None),
            revision=getattr(d, "revision", 0) or 0,
        )


class NoticeSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    case_id: str
    notice_key: str
    notice: str
    subject: str
    to: list[str]
    cc: list[str]
    channel: str
    status: str
    created_at: dt.datetime
    sent_at: dt.datetime | None


class NoticePublic(NoticeSummary):
    clause: str
    body_text: str
    body_html: str
    provider_message_id: str | None
    error: str | None


class TimelineEntry(BaseModel):
    """One thing that happened to a case (the console's case page shows the same list)."""

    at: dt.datetime
    step: int | None
    # Also "expected" and "received": a notice of the other party's (details.direction).
    kind: str = Field(
        description="transition, decision, notice, escalation, resolution (of an escalation) "
        "or audit (an operator's action, a note, a fact or approval recorded by someone)"
    )
    title: str = Field(description="In the rulebook's plain words, e.g. the state's label")
    summary: str = Field(
        description="With the states, rules and actions as the rulebook names them"
    )
    details: dict[str, Any] = Field(default_factory=dict)


class CasePublic(BaseModel):
    id: str
    contract_id: str
    clause: str
    rulebook_version: int
    identity: str | None = Field(
        default=None,
        description="The facts its rulebook says tell it apart (an invoice's number and "
        "amount, an incident's severity), in words",
    )
    state: str
    state_label: str
    closed: bool
    escalated: bool
    owner_email: str | None
    facts: dict[str, Any]
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    next_deadline_at: dt.datetime | None
    next_deadline_name: str | None
    next_deadline_text: str | None = Field(
        default=None,
        description="The next deadline as people read it (as its due_text in deadlines)",
    )
    deadlines: list[DeadlinePublic] = Field(default_factory=list)
    escalation_reason: str | None = None
    state_entered_at: dt.datetime | None = None
    failing_activity: str | None = None
    failing_attempts: int = 0
    last_failure: str | None = None
    stuck_reasons: list[str] = Field(
        default_factory=list, description="Why the case is stuck, if it is (see /api/ops)"
    )


class EscalationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    step: int
    rule: str
    reason: str
    at: dt.datetime
    resolved_at: dt.datetime | None
    resolved_by: str | None
    resolution_note: str | None


class AmendmentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    amendment_id: str
    deadline: str
    from_due_at: dt.datetime
    to_due_at: dt.datetime
    reason: str
    proposed_by: str
    proposed_at: dt.datetime
    status: str
    decided_by: str | None
    decided_at: dt.datetime | None
    decision_reason: str | None


class ExpectedNoticePublic(BaseModel):
    """A notice of the other party's: the case expects it and never sends it."""

    model_config = ConfigDict(from_attributes=True)

    notice: str
    label: str
    sender: str = Field(description="customer or provider: whose notice it is")
    rule: str
    expected_at: dt.datetime
    expected_by: str | None = Field(description="The deadline by which it is due, if any")
    due_at: dt.datetime | None
    due_text: str | None = Field(
        default=None, description="When it is due as people read it (as that deadline's)"
    )
    status: str = Field(description="expected or received")
    received_at: dt.datetime | None
    recorded_by: str | None
    notice_text: str | None = Field(description="Its text as recorded, the evidence")
    text_sha256: str | None


class CaseDetail(CasePublic):
    notices: list[NoticeSummary] = Field(
        default_factory=list, description="The notices we sent (ours and internal ones)"
    )
    our_side: str | None = Field(
        default=None, description="Which party runs Clauseflow for the case's contract"
    )
    expected_notices: list[ExpectedNoticePublic] = Field(
        default_factory=list,
        description="The other party's notices: expected by the case, and received",
    )
    timeline: list[TimelineEntry] = Field(default_factory=list)
    temporal_url: str
    escalations: list[EscalationPublic] = Field(default_factory=list)
    amendments: list[AmendmentPublic] = Field(default_factory=list)
    pending_activities: list[PendingActivity] | None = Field(
        default=None,
        description="From Temporal; null when Temporal could not be asked",
    )


class _Reasoned(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000, description="Why: kept in the audit trail")


class RetryNow(_Reasoned):
    """Retry the case's failing activity now instead of after its backoff."""


class ResolveEscalation(BaseModel):
    """Resolve an escalation, with a note saying how."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1, max_length=2000)


class AmendDeadline(_Reasoned):
    """Move a deadline (by default only when a second person approves)."""

    due_at: dt.datetime = Field(
        description="The new instant, with its offset", examples=["2027-03-08T23:59:00-05:00"]
    )


class AmendmentProposed(BaseModel):
    amendment_id: str
    status: str
    case: CaseDetail


class DecideAmendment(_Reasoned):
    """Approve or reject a proposed deadline amendment."""


class CloseCase(_Reasoned):
    """Withdraw or cancel a case: its deadlines stop and no more notices go out."""

    outcome: Literal["withdrawn", "cancelled"]


class ReassignOwner(_Reasoned):
    """Hand the case to another owner."""

    owner_email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")


class NoteCreate(BaseModel):
    """A note on the case's timeline."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1, max_length=4000)


class OpsSummary(BaseModel):
    """Counts for alerting on stuck, escalated and imminent cases."""

    generated_at: dt.datetime
    open_cases: int
    stuck: int
    stuck_failing_activity: int
    stuck_overdue_in_state: int
    stuck_not_started: int = Field(
        description="Cases whose workflow has not taken its first step within the stuck "
        "threshold: no worker polls its task queue, or its first step keeps failing"
    )
    stuck_could_not_start: int = Field(
        description="Cases whose first step failed for good (e.g. impossible facts): each "
        "waits for an operator to cancel it"
    )
    failing_activity: int
    failing_workflow_code: int = Field(
        description="Cases whose workflow code itself keeps failing: a change that does not "
        "replay, or a bug; alert on any (they are also counted as failing)"
    )
    escalated: int
    deadlines_within_24_hours: int
    deadlines_within_7_days: int
    pending_amendments: int
    notices_failed: int
    open_by_clause_and_state: list[dict[str, Any]]
    thresholds: dict[str, int]


class CasesPublic(BaseModel):
    items: list[CasePublic]
    total: int
    limit: int
    offset: int
    counts_by_state: dict[str, int] = Field(
        default_factory=dict, description="Cases per state under every filter but the state"
    )
    next_cursor: str | None = Field(
        default=None,
        description="Where the next page starts: pass it as `cursor` (with the same "
        "filters) for the next page; null on the last page. Opaque",
    )


class FactCreate(BaseModel):
    """Record a fact in a running case."""

    model_config = ConfigDict(extra="forbid")

    fact: str = Field(examples=["withdrawal_agreed"])
    values: dict[str, Any] = Field(default_factory=dict)
    recorded_by: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Whom the caller records the fact for, when not for themselves; the "
        "audit trail always names the caller",
    )
    reason: str | None = Field(default=None, max_length=2000)


class NoticesPublic(BaseModel):
    items: list[NoticeSummary]
    total: int
    limit: int
    offset: int


class ClausePublic(BaseModel):
    clause: str
    version: int
    title: str
    section: str
    summary: str
    facts: dict[str, Any]
    recordable_facts: dict[str, Any]
    states: dict[str, Any]
    figures: dict[str, Any] = Field(
        default_factory=dict,
        description="The term-sheet figures the clause reads: where a term sheet sets each "
        "(term), its type, its default and the section it comes from",
    )
    starts_with_contract: bool = Field(
        default=False, description="A case of this clause opens when a contract is registered"
    )


class CaseInTheirNamePublic(BaseModel):
    """A case on a rulebook without senders that spoke, or may speak, for the other party."""

    model_config = ConfigDict(from_attributes=True)

    case_id: str
    contract_id: str
    clause: str
    rulebook_version: int
    state: str
    closed: bool
    our_side: str
    sent: list[str] = Field(description="Notices it sent that are the other party's to give")
    may_yet_send: list[str] = Field(
        description="Notices of the other party's its rulebook may still send (open cases)"
    )


# -- Notices: evidence, previews and approvals ------------------------------------------


class BodyHash(BaseModel):
    """A SHA-256 of a notice body: the one stored at render time and one computed now."""

    algorithm: str = "sha256"
    stored: str = Field(description="Written when the notice was rendered; empty if none was")
    computed: str = Field(description="Computed now from the body in the store")
    matches: bool | None = Field(
        description="Whether the body is unchanged since it was rendered (null: no stored hash)"
    )


class NoticeEventPublic(BaseModel):
    """A delivery event the mail provider reported for a notice, as received."""

    model_config = ConfigDict(from_attributes=True)

    sg_event_id: str
    event: str
    occurred_at: dt.datetime
    received_at: dt.datetime
    payload: dict[str, Any]


class DeemedReceipt(BaseModel):
    """When the notice counts as received under the contract, and why."""

    rule: str = Field(
        description="The contract parameter notices.deemed_receipt: delivered or sent"
    )
    status: str = Field(description="known, not_yet_known or not_delivered")
    at: dt.datetime | None
    local: str | None = Field(description="The same instant in the contract's time zone")
    explanation: str


class NoticeApproval(BaseModel):
    approved_by: str
    approved_at: dt.datetime | None
    reason: str | None = None


class EvidenceContract(BaseModel):
    id: str
    title: str
    reference: str | None
    customer_name: str
    provider_name: str
    time_zone: str


class NoticeEvidence(BaseModel):
    """A notice's proof-of-notice record: what was sent, to whom, when, why, and its fate."""

    notice_id: str
    notice_key: str
    notice: str
    subject: str
    clause: str
    rule: str = Field(description="The rule whose decision sent the notice")
    case_state: str = Field(description="The case's state when the notice was rendered")
    case_id: str
    rulebook_version: int | None
    contract: EvidenceContract | None
    from_email: str
    to: list[str]
    cc: list[str]
    channel: str
    status: str
    delivery_status: str | None
    provider_message_id: str | None
    error: str | None
    queued_at: dt.datetime = Field(description="When the notice was rendered and queued")
    sent_at: dt.datetime | None
    delivered_at: dt.datetime | None
    body_text: str
    body_html: str
    text_sha256: BodyHash
    html_sha256: BodyHash
    events: list[NoticeEventPublic] = Field(description="Delivery events, oldest first")
    approval: NoticeApproval | None
    deemed_receipt: DeemedReceipt
    generated_at: dt.datetime = Field(description="When this record was produced")


class NoticePreview(BaseModel):
    """A notice rendered with a case's current facts; nothing stored or sent."""

    case_id: str
    notice: str
    subject: str
    to: list[str]
    cc: list[str]
    body_text: str
    body_html: str
    case_state: str
    requires_approval: bool
    rendered_at: dt.datetime


class NoticeApprove(BaseModel):
    """Approve a held notice so that it goes out as it was rendered."""

    model_config = ConfigDict(extra="forbid")

    approved_by: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        examples=["counsel@provider.example.com"],
        description="Whom the caller approves for, when not for themselves; the record "
        "always names the caller",
    )
    reason: str | None = Field(default=None, max_length=2000, examples=["reviewed; accurate"])


class NoticeRevise(BaseModel):
    """Correct the facts a held notice was written from, before it is approved."""

    model_config = ConfigDict(extra="forbid")

    values: dict[str, Annotated[str, Field(min_length=1, max_length=20_000)]] = Field(
        min_length=1,
        examples=[{"root_cause": "A storage bucket's access list allowed public reads"}],
        description="Facts to correct, by name: text a person recorded (a report's root "
        "cause, a description); the notice is written again from them and stays held",
    )
    reason: str = Field(min_length=1, max_length=2000, examples=["counsel asked for the cause"])


class NoticeApproved(NoticePublic):
    """A notice after its approval: who approved it, and its status now."""

    approved_by: str | None
    approved_at: dt.datetime | None
