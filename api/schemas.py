"""Request and response models of the REST API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


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


class ContractRegistered(ContractPublic):
    monthly_sla_review_case_id: str | None = None
    warnings: list[str] = Field(default_factory=list)


class ContractsPublic(BaseModel):
    items: list[ContractPublic]
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
    due_at: dt.datetime
    local_due: str
    last_day: dt.date | None
    status: str
    explanation: list[str]

    @classmethod
    def of(cls, d: Any, time_zone: str) -> DeadlinePublic:
        """A deadline (row or view) with its due time in the contract's words."""
        from contracts.calendar import describe_instant

        return cls(
            name=d.name,
            group=d.group,
            label=d.label,
            due_at=d.due_at,
            local_due=describe_instant(d.due_at, time_zone),
            last_day=d.last_day,
            status=d.status,
            explanation=list(d.explanation),
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
    at: dt.datetime
    step: int | None
    kind: str
    summary: str
    details: dict[str, Any] = Field(default_factory=dict)


class CasePublic(BaseModel):
    id: str
    contract_id: str
    clause: str
    rulebook_version: int
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
    deadlines: list[DeadlinePublic] = Field(default_factory=list)


class CaseDetail(CasePublic):
    notices: list[NoticeSummary] = Field(default_factory=list)
    timeline: list[TimelineEntry] = Field(default_factory=list)
    temporal_url: str


class CasesPublic(BaseModel):
    items: list[CasePublic]
    total: int
    limit: int
    offset: int


class FactCreate(BaseModel):
    """Record a fact in a running case."""

    model_config = ConfigDict(extra="forbid")

    fact: str = Field(examples=["withdrawal_agreed"])
    values: dict[str, Any] = Field(default_factory=dict)
    recorded_by: str = Field(min_length=1, max_length=200)
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


class WhatIfRequest(BaseModel):
    """The clause and the facts to try, e.g. a notice you are about to send."""

    model_config = ConfigDict(extra="forbid")

    clause: str = Field(examples=["termination_for_convenience"])
    facts: dict[str, Any] = Field(
        examples=[{"notice_received_at": "2026-12-01T10:00:00-05:00", "given_by": "customer"}]
    )


class DecisionPublic(BaseModel):
    rule: str
    action: str
    value: Any


class WhatIfPublic(BaseModel):
    clause: str
    rulebook_version: int
    state: str
    state_label: str
    deadlines: list[DeadlinePublic]
    decisions: list[DecisionPublic]
