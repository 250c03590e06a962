"""record_step for operator actions: audit entries once, amendments, moved deadlines."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlmodel import Session, select

from activities.records import record_step
from activities.types import AmendmentView, AuditView, RecordStepInput
from store.db import get_engine
from store.models import AuditEntry, Case, DeadlineAmendment
from tests.activities.test_records import AT, step_input
from tests.workflows.helpers import case_row, deadlines, seed_reference_contract

NEW_DUE = dt.datetime(2027, 3, 15, 4, tzinfo=dt.UTC)
OLD_DUE = dt.datetime(2027, 3, 1, 5, tzinfo=dt.UTC)


def audit_entries() -> list[AuditEntry]:
    with Session(get_engine()) as s:
        return list(s.exec(select(AuditEntry).where(AuditEntry.case_id == "case_r")))


def amended_step(step: int, status: str = "applied") -> RecordStepInput:
    inp = step_input(step)
    dl = inp.case.deadlines["effective_date"]
    if status == "applied":
        inp.case.deadlines["effective_date"] = dataclasses.replace(
            dl, due_at=NEW_DUE, last_day=dt.date(2027, 3, 14), explanation=[*dl.explanation, "x"]
        )
    inp.transition = None
    inp.decisions = []
    inp.event = f"amend_deadline:{step}"
    inp.amendments = [
        AmendmentView(
            f"amd-{step}", "effective_date", OLD_DUE, NEW_DUE, "agreed", "alice", AT, status
        )
    ]
    inp.audit = AuditView("amend_deadline", "alice", "agreed", {"a": 1}, {"b": 2})
    return inp


def test_an_applied_amendment_revises_the_deadline_and_is_audited_once(db_url: str) -> None:
    seed_reference_contract()
    record_step(step_input(1))
    record_step(amended_step(2))
    record_step(amended_step(2))  # a retried attempt
    stored = deadlines("case_r")["effective_date"]
    assert stored.due_at == NEW_DUE and stored.original_due_at == OLD_DUE
    assert stored.revision == 1
    [entry] = audit_entries()
    assert (entry.action, entry.actor, entry.reason) == ("amend_deadline", "alice", "agreed")
    assert entry.before == {"a": 1} and entry.after == {"b": 2}
    assert entry.idempotency_key == "case_r:2:amend_deadline"
    with Session(get_engine()) as s:
        [row] = s.exec(select(DeadlineAmendment)).all()
    assert (row.amendment_id, row.status, row.to_due_at) == ("amd-2", "applied", NEW_DUE)


def test_a_pending_amendment_leaves_the_deadline_alone(db_url: str) -> None:
    seed_reference_contract()
    record_step(step_input(1))
    record_step(amended_step(2, status="pending"))
    stored = deadlines("case_r")["effective_date"]
    assert stored.due_at == OLD_DUE and stored.original_due_at is None and stored.revision == 0


def test_an_audit_only_step_writes_the_entry_and_leaves_the_case_steps_alone(
    db_url: str,
) -> None:
    seed_reference_contract()
    record_step(step_input(1))
    inp = step_input(3)
    inp.audit = AuditView("retry_now", "alice", "outage over", {"activities": ["send_notice"]})
    inp.audit_only = True
    record_step(inp)
    record_step(inp)
    [entry] = audit_entries()
    assert entry.action == "retry_now" and entry.idempotency_key == "case_r:3:retry_now"
    # Step 2, still in flight when the operator acted, is recorded afterwards.
    assert case_row("case_r").last_step == 1  # type: ignore[union-attr]
    record_step(dataclasses.replace(step_input(2), transition=None, decisions=[]))
    assert case_row("case_r").last_step == 2  # type: ignore[union-attr]


def _retried_now(step: int, at: dt.datetime, restarted: list[str]) -> RecordStepInput:
    inp = dataclasses.replace(step_input(step), at=at, audit_only=True)
    inp.audit = AuditView(
        "retry_now",
        "olivia",
        "SendGrid is back",
        {"activities": restarted},
        {"restarted": restarted},
    )
    return inp


def _failing(activity: str, last_failure_at: dt.datetime) -> None:
    with Session(get_engine()) as s:
        case = s.get(Case, "case_r")
        assert case is not None
        case.failing_activity, case.failing_attempts = activity, 5
        case.failing_since = case.last_failure_at = last_failure_at
        case.last_failure = "SendGrid answered 500"
        s.add(case)
        s.commit()


def test_retry_now_starts_the_failure_count_over_for_what_it_restarted(db_url: str) -> None:
    seed_reference_contract()
    record_step(step_input(1))
    before = AT - dt.timedelta(minutes=1)
    # Another activity's failure stays; so does one recorded after the retry.
    _failing("record_step", before)
    record_step(_retried_now(2, AT, ["send_notice"]))
    assert case_row("case_r").failing_activity == "record_step"  # type: ignore[union-attr]
    _failing("send_notice", AT + dt.timedelta(seconds=5))
    record_step(_retried_now(3, AT, ["send_notice"]))
    assert case_row("case_r").failing_attempts == 5  # type: ignore[union-attr]
    # The restarted activity's failures from before the retry are forgotten.
    _failing("send_notice", before)
    record_step(_retried_now(4, AT, ["send_notice"]))
    row = case_row("case_r")
    assert row is not None and row.failing_activity is None and row.failing_attempts == 0
    assert row.failing_since is None and row.last_failure is None
    assert [e.action for e in audit_entries()] == ["retry_now"] * 3
