"""The tables people query: contracts, cases and everything that happened to them.

Temporal owns a case's time and state; these rows are the record of it, written by
idempotent activities (cases) or by the API (contracts, audit entries).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from store.types import UTCDateTime


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _ts(**kw: Any) -> Any:
    return Field(sa_column=Column(UTCDateTime(), **kw))


def _json(**kw: Any) -> Any:
    return Field(default=None, sa_column=Column(JSON, **kw))


class Contract(SQLModel, table=True):
    """A registered contract and its term sheet."""

    __tablename__ = "contract"

    id: str = Field(primary_key=True, max_length=40)
    title: str = Field(max_length=200)
    reference: str | None = Field(default=None, max_length=100, index=True)
    customer_name: str = Field(max_length=200)
    provider_name: str = Field(max_length=200)
    time_zone: str = Field(max_length=64)
    effective_date: dt.date
    terms: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: dt.datetime = _ts(nullable=False)
    # The agreement's legal state, written by its contract workflow (workflows/contract.py):
    # None until that workflow first runs; then in_force, terminating or ended.
    legal_state: str | None = Field(default=None, max_length=20)
    #: How it ends or ended (convenience, expiry...), and when (the end's instant).
    end_route: str | None = Field(default=None, max_length=40)
    ends_at: dt.datetime | None = _ts()
    #: The case that gave the notice or reached the end.
    ended_by_case: str | None = Field(default=None, max_length=80)
    #: The contract workflow's step last written: a retried write is not applied twice.
    agreement_step: int = Field(default=0)


#: ``Case.failing_activity`` when the case's workflow task fails, not one of its activities.
WORKFLOW_TASK = "workflow_task"


class Case(SQLModel, table=True):
    """One running clause of one contract. The id is the Temporal workflow id."""

    __tablename__ = "case"
    # The case list is "nearest deadline first", filtered by at most one of these.
    __table_args__ = (
        Index("ix_case_open_next_deadline", "closed", "next_deadline_at"),
        Index("ix_case_clause_state", "clause", "state"),
        Index("ix_case_next_deadline", "next_deadline_at", "id"),
        Index("ix_case_state_next_deadline", "state", "next_deadline_at", "id"),
        Index("ix_case_clause_next_deadline", "clause", "next_deadline_at", "id"),
        Index("ix_case_contract_next_deadline", "contract_id", "next_deadline_at", "id"),
        # The console's "stuck" and "escalated" filters.
        Index("ix_case_escalated_next_deadline", "escalated", "next_deadline_at", "id"),
        Index("ix_case_failing_since", "failing_since"),
        # The ops summary's count of cases with a failing activity (0007).
        Index("ix_case_failing_activity", "failing_activity"),
        Index("ix_case_failing_attempts", "failing_attempts"),
        Index("ix_case_dwell_overdue_at", "dwell_overdue_at"),
    )

    id: str = Field(primary_key=True, max_length=80)
    contract_id: str = Field(foreign_key="contract.id", index=True, max_length=40)
    clause: str = Field(max_length=64)
    rulebook_version: int
    state: str = Field(max_length=64, index=True)
    state_label: str = Field(max_length=300)
    closed: bool = Field(default=False)
    escalated: bool = Field(default=False, index=True)
    owner_email: str | None = Field(default=None, max_length=320)
    facts: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    opened_at: dt.datetime = _ts(nullable=False)
    closed_at: dt.datetime | None = _ts(nullable=True)
    next_deadline_at: dt.datetime | None = _ts(nullable=True)
    next_deadline_name: str | None = Field(default=None, max_length=80)
    last_step: int = Field(default=0, description="Highest workflow step recorded")
    updated_at: dt.datetime = _ts(nullable=False)
    # Why the case is escalated (the latest open escalation), for the console's badge.
    escalation_reason: str | None = None
    # When the case entered its current state, and when it has stayed there longer than
    # its rulebook expects (None when the rulebook sets no expected dwell or it closed).
    state_entered_at: dt.datetime | None = _ts(nullable=True)
    dwell_overdue_at: dt.datetime | None = _ts(nullable=True)
    #: The term sheet the case runs on (TermSnapshot); None for cases recorded before.
    terms_sha256: str | None = Field(default=None, max_length=64)
    # An activity of the case that is failing, as Temporal reports its attempts, or
    # WORKFLOW_TASK when the workflow's own code keeps failing; cleared when it
    # succeeds. The case page reads the live detail from Temporal itself.
    failing_activity: str | None = Field(default=None, max_length=80)
    failing_attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    failing_since: dt.datetime | None = _ts(nullable=True)
    last_failure: str | None = None
    last_failure_at: dt.datetime | None = _ts(nullable=True)


class CaseCount(SQLModel, table=True):
    """How many cases there are of each contract, clause, state, escalated or not, closed
    or not: the counts of the case list and the ops summary, read without counting the
    case rows.

    Kept by triggers on ``case`` (migration 0007) in the transaction that writes the case,
    so a count is never behind the rows it counts. Rows stay at 0 when their last case
    leaves them. A migration that rebuilds ``case`` on SQLite drops the triggers with the
    old table and must create them again (docs/shipping-changes.md).
    """

    __tablename__ = "case_count"

    contract_id: str = Field(primary_key=True, max_length=40)
    clause: str = Field(primary_key=True, max_length=64)
    state: str = Field(primary_key=True, max_length=64)
    escalated: bool = Field(primary_key=True)
    closed: bool = Field(primary_key=True)
    cases: int = Field(default=0)


class Transition(SQLModel, table=True):
    """A change of a case's legal state."""

    __tablename__ = "transition"
    __table_args__ = (UniqueConstraint("case_id", "step", name="uq_transition_case_step"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="case.id", index=True, max_length=80)
    step: int
    from_state: str | None = Field(default=None, max_length=64)
    to_state: str = Field(max_length=64)
    rule: str = Field(max_length=120)
    at: dt.datetime = _ts(nullable=False)


class DecisionRecord(SQLModel, table=True):
    """One decision a rule took, with the facts the rule saw."""

    __tablename__ = "decision"
    __table_args__ = (UniqueConstraint("case_id", "step", "seq", name="uq_decision_case_step_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="case.id", index=True, max_length=80)
    step: int
    seq: int
    event: str = Field(max_length=200)
    rule: str = Field(max_length=120)
    rulebook_version: int
    action: str = Field(max_length=40)
    value: Any = _json()
    facts: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    at: dt.datetime = _ts(nullable=False)


class Deadline(SQLModel, table=True):
    """A computed deadline of a case and how it was computed."""

    __tablename__ = "deadline"
    __table_args__ = (UniqueConstraint("case_id", "name", name="uq_deadline_case_name"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="case.id", index=True, max_length=80)
    name: str = Field(max_length=80)
    group: str = Field(max_length=80)
    label: str = Field(max_length=200)
    due_at: dt.datetime = _ts(nullable=False)
    last_day: dt.date | None = None
    explanation: list[str] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=20, description="pending, reached, cancelled")
    set_at_step: int
    updated_at: dt.datetime = _ts(nullable=False)
    # Set when an operator amended the deadline; revision grows whenever due_at moves
    # (calendar feeds send it as SEQUENCE so subscribed calendars move the event).
    original_due_at: dt.datetime | None = _ts(nullable=True)
    revision: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class Notice(SQLModel, table=True):
    """A notice: rendered, kept as evidence, and sent at most once.

    (case_id, notice_key) is unique, so a retried or replayed send finds the row it
    wrote before instead of writing (and sending) a second one.
    """

    __tablename__ = "notice"
    __table_args__ = (
        UniqueConstraint("case_id", "notice_key", name="uq_notice_case_key"),
        # The ops summary's count of failed notices, the notices listed by status (0007).
        Index("ix_notice_status", "status"),
    )

    id: str = Field(primary_key=True, max_length=40)
    case_id: str = Field(foreign_key="case.id", index=True, max_length=80)
    notice_key: str = Field(max_length=200)
    notice: str = Field(max_length=80)
    clause: str = Field(max_length=64)
    to: list[str] = Field(sa_column=Column(JSON, nullable=False))
    cc: list[str] = Field(sa_column=Column(JSON, nullable=False))
    subject: str = Field(max_length=500)
    body_text: str
    body_html: str
    channel: str = Field(max_length=20, description="outbox or sendgrid")
    status: str = Field(
        max_length=20, description="awaiting_approval, outboxed, retry, sending, sent, failed"
    )
    provider_message_id: str | None = Field(default=None, max_length=200, index=True)
    error: str | None = None
    due_at: dt.datetime = _ts(nullable=False)
    created_at: dt.datetime = _ts(nullable=False)
    sent_at: dt.datetime | None = _ts(nullable=True)
    # Evidence: who sent it, what exactly was sent, and why.
    from_email: str = Field(default="", max_length=320)
    text_sha256: str = Field(default="", max_length=64)
    html_sha256: str = Field(default="", max_length=64)
    rule: str = Field(default="", max_length=120)
    case_state: str = Field(default="", max_length=64)
    delivery_status: str | None = Field(default=None, max_length=20, index=True)
    delivered_at: dt.datetime | None = _ts(nullable=True)
    deemed_received_at: dt.datetime | None = _ts(nullable=True)
    approved_by: str | None = Field(default=None, max_length=200)
    approved_at: dt.datetime | None = _ts(nullable=True)


class TermSnapshot(SQLModel, table=True):
    """A term sheet as cases run on it, once per distinct content (its SHA-256).

    A case's workflow carries its terms; its later steps' records carry only what
    changed, and the notices they write read the terms from here.
    """

    __tablename__ = "term_snapshot"

    sha256: str = Field(primary_key=True, max_length=64)
    terms: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    first_seen_at: dt.datetime = _ts(nullable=False)


class ExpectedNotice(SQLModel, table=True):
    """A notice the other party is to give us: expected, then received.

    Clauseflow never writes the other party's notices. A case expects one where its
    rules would have sent it; a person records its arrival, with the date and, as
    evidence, its text. (case_id, notice) is unique: a notice is expected once per case.
    """

    __tablename__ = "expected_notice"
    __table_args__ = (UniqueConstraint("case_id", "notice", name="uq_expected_notice_case_notice"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="case.id", index=True, max_length=80)
    notice: str = Field(max_length=80)
    clause: str = Field(max_length=64)
    label: str = Field(max_length=300)
    sender: str = Field(max_length=20, description="customer or provider")
    rule: str = Field(default="", max_length=120)
    step: int
    expected_at: dt.datetime = _ts(nullable=False)
    #: The deadline by which the contract says it is due, if it sets one.
    expected_by: str | None = Field(default=None, max_length=120)
    due_at: dt.datetime | None = _ts(nullable=True)
    status: str = Field(max_length=20, description="expected or received")
    received_at: dt.datetime | None = _ts(nullable=True)
    recorded_by: str | None = Field(default=None, max_length=200)
    #: The notice's text as a person recorded it, with its hash: the evidence of receipt.
    notice_text: str | None = None
    text_sha256: str | None = Field(default=None, max_length=64)


class NoticeEvent(SQLModel, table=True):
    """A delivery event SendGrid reported for a notice, kept whole as evidence."""

    __tablename__ = "notice_event"

    id: int | None = Field(default=None, primary_key=True)
    sg_event_id: str = Field(max_length=200, unique=True)
    notice_id: str | None = Field(default=None, foreign_key="notice.id", index=True, max_length=40)
    event: str = Field(max_length=40)
    occurred_at: dt.datetime = _ts(nullable=False)
    received_at: dt.datetime = _ts(nullable=False)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class Escalation(SQLModel, table=True):
    """A rule escalated the case to a person."""

    __tablename__ = "escalation"
    __table_args__ = (
        UniqueConstraint("case_id", "step", "rule", name="uq_escalation_case_step_rule"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="case.id", index=True, max_length=80)
    step: int
    rule: str = Field(max_length=120)
    reason: str
    at: dt.datetime = _ts(nullable=False)
    resolved_at: dt.datetime | None = _ts(nullable=True)
    resolution_note: str | None = None
    resolved_by: str | None = Field(default=None, max_length=200)


class AuditEntry(SQLModel, table=True):
    """Who did what, when and why: the audit trail."""

    __tablename__ = "audit_entry"
    __table_args__ = (UniqueConstraint("idempotency_key", name="uq_audit_idempotency_key"),)

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = _ts(nullable=False, index=True)
    actor: str = Field(max_length=200)
    action: str = Field(max_length=80)
    contract_id: str | None = Field(default=None, index=True, max_length=40)
    case_id: str | None = Field(default=None, index=True, max_length=80)
    reason: str | None = None
    before: Any = _json()
    after: Any = _json()
    # Set by activities that may run twice: the same key is written once.
    idempotency_key: str | None = Field(default=None, max_length=200)


class DeadlineAmendment(SQLModel, table=True):
    """An operator's request to move a deadline, and its approval by a second person."""

    __tablename__ = "deadline_amendment"
    __table_args__ = (
        UniqueConstraint("case_id", "amendment_id", name="uq_amendment_case_amendment"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="case.id", index=True, max_length=80)
    amendment_id: str = Field(max_length=80, description="The workflow's id of the amendment")
    deadline: str = Field(max_length=80)
    from_due_at: dt.datetime = _ts(nullable=False)
    to_due_at: dt.datetime = _ts(nullable=False)
    reason: str
    proposed_by: str = Field(max_length=200)
    proposed_at: dt.datetime = _ts(nullable=False)
    status: str = Field(max_length=20, index=True, description="pending, applied, rejected")
    decided_by: str | None = Field(default=None, max_length=200)
    decided_at: dt.datetime | None = _ts(nullable=True)
    decision_reason: str | None = None


class User(SQLModel, table=True):
    """A person who signs in to the console (and may own API tokens)."""

    __tablename__ = "app_user"

    id: str = Field(primary_key=True, max_length=40)
    email: str = Field(max_length=320, unique=True)
    display_name: str = Field(max_length=200)
    role: str = Field(max_length=20, description="viewer, contract_manager, operator, admin")
    password_hash: str = Field(description="argon2id")
    active: bool = Field(default=True)
    created_at: dt.datetime = _ts(nullable=False)
    created_by: str | None = Field(default=None, max_length=200)


class ApiToken(SQLModel, table=True):
    """A bearer token for the API; only its SHA-256 is kept."""

    __tablename__ = "api_token"

    id: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=200)
    role: str = Field(max_length=20)
    token_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=16, description="The token's first characters, for lists")
    user_id: str | None = Field(default=None, foreign_key="app_user.id", max_length=40)
    #: The user who made it (None: the command line): the person behind a token with no
    #: user of its own, for the four-eyes rule.
    issued_by_user_id: str | None = Field(default=None, max_length=40)
    created_at: dt.datetime = _ts(nullable=False)
    created_by: str | None = Field(default=None, max_length=200)
    last_used_at: dt.datetime | None = _ts(nullable=True)
    revoked_at: dt.datetime | None = _ts(nullable=True)


class ConsoleSession(SQLModel, table=True):
    """A signed-in console session; the cookie holds a secret whose SHA-256 is the id."""

    __tablename__ = "console_session"

    id: str = Field(primary_key=True, max_length=64, description="SHA-256 of the cookie value")
    user_id: str = Field(foreign_key="app_user.id", index=True, max_length=40)
    csrf_token: str = Field(max_length=64)
    created_at: dt.datetime = _ts(nullable=False)
    expires_at: dt.datetime = _ts(nullable=False)
    revoked_at: dt.datetime | None = _ts(nullable=True)


class CalendarFeed(SQLModel, table=True):
    """A contract's iCalendar feed, reached by a secret URL; only the token's hash is kept."""

    __tablename__ = "calendar_feed"

    id: str = Field(primary_key=True, max_length=40)
    contract_id: str = Field(foreign_key="contract.id", index=True, max_length=40)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: dt.datetime = _ts(nullable=False)
    created_by: str = Field(max_length=200)
    revoked_at: dt.datetime | None = _ts(nullable=True)


class AgreementDraft(SQLModel, table=True):
    """An uploaded agreement under review: its text, kept here so that the review and its
    acceptance read the figures from the text again rather than from what a browser sends
    back; ``contract_id`` is set once, in the transaction that registers its contract."""

    __tablename__ = "agreement_draft"

    id: str = Field(primary_key=True, max_length=40)
    document_name: str = Field(max_length=255)
    #: SHA-256 of the document as uploaded (the file's bytes, or the pasted text's UTF-8).
    document_sha256: str = Field(max_length=64)
    text: str
    #: The registered contract whose term sheet is the standard; None: the reference MSA.
    standard_contract_id: str | None = Field(default=None, max_length=40)
    created_by: str = Field(max_length=200)
    created_at: dt.datetime = _ts(nullable=False)
    contract_id: str | None = Field(
        default=None, foreign_key="contract.id", index=True, max_length=40
    )
    accepted_at: dt.datetime | None = _ts(nullable=True)


class FigureProvenance(SQLModel, table=True):
    """Where one value of a contract's term sheet came from, and who accepted it: read
    from the agreement's text (its sentence and offsets), edited, given by hand, or the
    standard's value. One row a contract and path."""

    __tablename__ = "figure_provenance"
    __table_args__ = (
        UniqueConstraint("contract_id", "path", name="uq_figure_provenance_contract_path"),
    )

    id: int | None = Field(default=None, primary_key=True)
    contract_id: str = Field(foreign_key="contract.id", index=True, max_length=40)
    path: str = Field(max_length=200)
    label: str = Field(max_length=300)
    value: Any = _json()
    #: read (from the text, accepted), edited (from the text's ``read_value``), given (by
    #: hand) or standard (the standard's value, chosen or kept).
    how: str = Field(max_length=20)
    read_value: Any = _json()
    #: Why the text did not give it, or why its reading was unsure.
    note: str | None = None
    part: str | None = Field(default=None, max_length=80)
    sentence: str | None = None
    sentence_start: int | None = None
    sentence_end: int | None = None
    figure_start: int | None = None
    figure_end: int | None = None
    written: str | None = Field(default=None, max_length=300)
    document_name: str = Field(max_length=255)
    document_sha256: str = Field(max_length=64)
    draft_id: str = Field(max_length=40)
    standard_contract_id: str | None = Field(default=None, max_length=40)
    accepted_by: str = Field(max_length=200)
    accepted_at: dt.datetime = _ts(nullable=False)
