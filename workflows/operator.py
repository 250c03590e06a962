"""Operator actions on a running case: resolve an escalation, amend a deadline (a second
person approves), close, reassign, correct a held notice.

Each is an update of the case's workflow with a validator (workflows/case.py); the
validator and, once the action's turn comes in the main loop, ``_refusal`` say why an
action cannot be carried out; ``_operate`` carries it out as one step of the case and
records it with an audit entry (who, why, before, after).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.notices import rewrite_held_notice
    from activities.types import (
        AmendmentView,
        AuditView,
        ResolvedEscalationView,
        TransitionView,
        local_date,
    )
    from contracts.calendar import describe_instant
    from workflows.messages import (
        CASE_STATE,
        CLOSED_BY_OPERATOR,
        CLOSED_FROM_OUTSIDE,
        AmendDeadlineRequest,
        CloseCaseRequest,
        DecideAmendmentRequest,
        OperatorAction,
        ReassignOwnerRequest,
        ResolveEscalationRequest,
        ReviseHeldNoticeRequest,
        fact_behind,
    )
    from workflows.recording import RECORD_RETRY, Changes, Event
    from workflows.steps import CaseSteps


class OperatorActions(CaseSteps):
    """The operator actions a case carries out, and why it refuses one."""

    async def _operate(self, ev: Event) -> None:
        """Carries out an operator's action as one step of the case, and records it."""
        st, action = self._st, ev.action
        assert st is not None and action is not None
        # The validator accepted it, but an earlier queued event may have changed the case.
        ev.error = self._refusal(action)
        if ev.error is not None:
            return
        revised = None
        if isinstance(action, ReviseHeldNoticeRequest):
            # Written again before the step is taken: a notice that cannot be written
            # from the corrected facts leaves the case as it was.
            revised, ev.error = await self._rewrite_held_notice(action)
            if ev.error is not None:
                return
        st.step += 1
        step = st.step
        if revised is not None:
            changes = revised
        elif isinstance(action, ResolveEscalationRequest):
            changes = self._resolve_escalation(action)
        elif isinstance(action, AmendDeadlineRequest):
            changes = self._amend_deadline(action, f"amd-{step}")
            ev.result = f"amd-{step}"
        elif isinstance(action, DecideAmendmentRequest):
            changes = self._decide_amendment(action)
        elif isinstance(action, CloseCaseRequest):
            changes = self._close_case(action)
        else:
            assert isinstance(action, ReassignOwnerRequest)
            changes = self._reassign_owner(action)
        applied = [a for a in changes.amendments if a.status == "applied"]
        # Cases that amended a deadline before this change kept its reminders where they were.
        if applied and workflow.patched("amended-deadline-moves-its-reminders"):
            for a in applied:
                await self._move_dependents(a)
        ev.key = f"{changes.audit.action}:{step}"
        await self._record(
            step,
            ev,
            {"event": changes.audit.action},
            [],
            changes.transition,
            [],
            changes,
        )
        if changes.transition is not None:
            workflow.upsert_search_attributes([CASE_STATE.value_set(st.state)])
            await self._tell_contract(closed_from=changes.transition.from_state)

    def _resolve_escalation(self, req: ResolveEscalationRequest) -> Changes:
        st = self._st
        assert st is not None
        item = next(e for e in st.open_escalations if (e.step, e.rule) == (req.step, req.rule))
        st.open_escalations.remove(item)
        escalation = {"step": item.step, "rule": item.rule, "reason": item.reason}
        return Changes(
            AuditView(
                "resolve_escalation",
                req.actor,
                req.note,
                before={"escalation": escalation, "resolved": False},
                after={
                    "escalation": escalation,
                    "resolved": True,
                    "open_escalations": len(st.open_escalations),
                },
            ),
            resolved=[
                ResolvedEscalationView(req.step, req.rule, req.actor, req.note, workflow.now())
            ],
        )

    def _amend_deadline(self, req: AmendDeadlineRequest, amendment_id: str) -> Changes:
        st = self._st
        assert st is not None
        dl = st.deadlines[req.deadline]
        amendment = AmendmentView(
            id=amendment_id,
            deadline=req.deadline,
            from_due_at=dl.due_at,
            to_due_at=req.due_at.astimezone(dt.UTC),
            reason=req.reason,
            proposed_by=req.actor,
            proposed_at=workflow.now(),
            proposed_by_person=req.person,
        )
        before = {"deadline": dl.name, "due_at": dl.due_at.isoformat()}
        if req.second_approver_required:
            st.amendments[amendment_id] = amendment
        else:
            self._apply_amendment(amendment, req.actor, "no second approver required")
        return Changes(
            AuditView(
                "amend_deadline",
                req.actor,
                req.reason,
                before=before,
                after={
                    "deadline": dl.name,
                    "due_at": dl.due_at.isoformat(),
                    "amendment": amendment_id,
                    "proposed_due_at": amendment.to_due_at.isoformat(),
                    "status": amendment.status,
                },
            ),
            amendments=[amendment],
        )

    def _apply_amendment(self, a: AmendmentView, decided_by: str, reason: str) -> None:
        """Moves the deadline (the main loop's timer follows) and explains the move."""
        st = self._st
        assert st is not None
        dl = st.deadlines[a.deadline]
        zone = self._zone()
        old = dl.due_at
        dl.due_at = a.to_due_at
        dl.last_day = local_date(a.to_due_at, zone)
        approved = (
            f", approved by {decided_by}"
            if decided_by != a.proposed_by
            else " (no second approver required)"
        )
        dl.explanation = [
            *dl.explanation,
            f"Amended on {describe_instant(workflow.now(), zone)} by {a.proposed_by}{approved}: "
            f"moved from {describe_instant(old, zone)} to {describe_instant(a.to_due_at, zone)}. "
            f"Reason: {a.reason}",
        ]
        a.status = "applied"
        a.decided_by, a.decided_at, a.decision_reason = decided_by, workflow.now(), reason
        st.amendments.pop(a.id, None)
        if a.deadline not in st.amended_deadlines:
            st.amended_deadlines.append(a.deadline)

    async def _move_dependents(self, a: AmendmentView) -> None:
        """Moves the pending deadlines counted from an amended one (e.g. its reminders).

        A deadline an operator amended itself keeps its own time.
        """
        st = self._st
        assert st is not None
        computed = await self._compute_deadlines([], dependents_of=a.deadline)
        zone = self._zone()
        amended = st.deadlines[a.deadline]
        for dl in computed.deadlines:
            current = st.deadlines.get(dl.name)
            if current is None or current.status != "pending" or dl.name in st.amended_deadlines:
                continue
            if dl.due_at == current.due_at:
                continue
            dl.explanation = [
                *dl.explanation,
                f"Moved from {describe_instant(current.due_at, zone)} because the deadline "
                f"it counts from ({amended.label.lower()}) was amended on "
                f"{describe_instant(workflow.now(), zone)}.",
            ]
            st.deadlines[dl.name] = dl

    def _decide_amendment(self, req: DecideAmendmentRequest) -> Changes:
        st = self._st
        assert st is not None
        a = st.amendments[req.amendment_id]
        dl = st.deadlines[a.deadline]
        before = {
            "amendment": a.id,
            "deadline": a.deadline,
            "due_at": dl.due_at.isoformat(),
            "proposed_due_at": a.to_due_at.isoformat(),
            "proposed_by": a.proposed_by,
            "status": a.status,
        }
        if req.approve:
            self._apply_amendment(a, req.actor, req.reason)
        else:
            a.status = "rejected"
            a.decided_by, a.decided_at, a.decision_reason = req.actor, workflow.now(), req.reason
            st.amendments.pop(a.id)
        return Changes(
            AuditView(
                "approve_amendment" if req.approve else "reject_amendment",
                req.actor,
                req.reason,
                before=before,
                after={**before, "due_at": dl.due_at.isoformat(), "status": a.status},
            ),
            amendments=[a],
        )

    def _close_case(self, req: CloseCaseRequest) -> Changes:
        st = self._st
        assert st is not None
        before: dict[str, Any] = {
            "state": st.state,
            "closed": st.closed,
            "pending_deadlines": sorted(
                d.name for d in st.deadlines.values() if d.status == "pending"
            ),
            "held_notices": sorted(st.held_notices),
        }
        transition = None
        if not st.closed:
            rule = "contract:agreement_ended" if req.by_contract else "operator:close_case"
            transition = TransitionView(st.state, req.outcome, rule)
            st.state = req.outcome
            st.closed = True
        for dl in st.deadlines.values():
            if dl.status == "pending":
                dl.status = "cancelled"
        # Held notices are never sent now; without them pending the run can end.
        discarded = sorted(st.held_notices)
        st.held_notices.clear()
        rejected = []
        for a in st.amendments.values():
            a.status = "rejected"
            a.decided_by, a.decided_at = req.actor, workflow.now()
            a.decision_reason = f"the case was closed ({req.outcome})"
            rejected.append(a)
        st.amendments.clear()
        return Changes(
            AuditView(
                "agreement_ended" if req.by_contract else "close_case",
                req.actor,
                req.reason,
                before=before,
                after={
                    "state": st.state,
                    "closed": True,
                    "cancelled_deadlines": before["pending_deadlines"],
                    "discarded_notices": discarded,
                },
            ),
            transition=transition,
            amendments=rejected,
            discarded=discarded,
        )

    async def _rewrite_held_notice(
        self, req: ReviseHeldNoticeRequest
    ) -> tuple[Changes | None, str | None]:
        """Writes the held notice again from the corrected facts; (changes, None) or
        (None, why it could not be)."""
        inp, st = self._input, self._st
        assert inp is not None and st is not None
        held = st.held_notices[req.notice_key]
        before = {k: st.facts.get(k) for k in req.values}
        facts = {**st.facts, **req.values}
        try:
            await self._activity(
                rewrite_held_notice,
                self._notice_input(held.notice, req.notice_key, held.rule, facts, hold=True),
                start_to_close_timeout=dt.timedelta(seconds=inp.record_timeout_seconds),
                retry_policy=RECORD_RETRY,
            )
        except ActivityError as err:
            return None, f"the notice could not be written from these values: {err.cause or err}"
        st.facts = facts
        return (
            Changes(
                AuditView(
                    "revise_held_notice",
                    req.actor,
                    req.reason,
                    before={"notice": req.notice_key, "facts": before},
                    after={"notice": req.notice_key, "facts": dict(req.values)},
                )
            ),
            None,
        )

    def _reassign_owner(self, req: ReassignOwnerRequest) -> Changes:
        st = self._st
        assert st is not None
        before = st.owner_email
        st.owner_email = req.owner_email
        return Changes(
            AuditView(
                "reassign_owner",
                req.actor,
                req.reason,
                before={"owner_email": before},
                after={"owner_email": req.owner_email},
            )
        )

    def _refusal(self, action: OperatorAction) -> str | None:
        """Why the action cannot be carried out on the case as it is now (None: it can)."""
        st = self._st
        if st is None or not self._ready:
            return "the case is still starting; try again in a moment"
        if not action.actor.strip():
            return "actor must name who acts"
        why = action.note if isinstance(action, ResolveEscalationRequest) else action.reason
        if not why.strip():
            what = "note" if isinstance(action, ResolveEscalationRequest) else "reason"
            return f"a {what} is required: say why, for the audit trail"
        if isinstance(action, ReviseHeldNoticeRequest):
            return self._revise_refusal(action)
        if isinstance(action, CloseCaseRequest):
            allowed = CLOSED_FROM_OUTSIDE if action.by_contract else CLOSED_BY_OPERATOR
            if action.outcome not in allowed:
                return f"outcome must be withdrawn or cancelled, not {action.outcome!r}"
            if st.closed and not st.held_notices:
                return f"the case is already closed ({st.state})"
            return None
        if st.closed:
            return f"the case is closed ({st.state})"
        if isinstance(action, ResolveEscalationRequest):
            if not any((e.step, e.rule) == (action.step, action.rule) for e in st.open_escalations):
                return (
                    f"the case has no open escalation by rule {action.rule!r} at step "
                    f"{action.step} (it may be resolved already)"
                )
        elif isinstance(action, AmendDeadlineRequest):
            return self._amend_refusal(action)
        elif isinstance(action, DecideAmendmentRequest):
            return self._decide_refusal(action)
        elif isinstance(action, ReassignOwnerRequest):
            email = action.owner_email.strip()
            if "@" not in email or " " in email:
                return f"owner_email {action.owner_email!r} is not an email address"
            if email == st.owner_email:
                return f"{email} already owns the case"
        return None

    def _revise_refusal(self, req: ReviseHeldNoticeRequest) -> str | None:
        """A held notice (even of a closed case) may be corrected from text facts only."""
        st = self._st
        assert st is not None
        if req.notice_key not in st.held_notices:
            return f"no notice {req.notice_key!r} is waiting for approval"
        if not req.values:
            return "values must name at least one fact to correct"
        # The free text a person recorded with the fact the notice was written on; dates
        # and amounts that deadlines and money were computed from are not corrected here.
        specs = st.summary.recordable_facts
        fact = fact_behind(req.notice_key)
        chosen = [specs[fact]] if fact in specs else []
        revisable = {f for spec in chosen for f in spec.text_fields} & {
            k for k, v in st.facts.items() if isinstance(v, str)
        }
        for key, value in req.values.items():
            if key not in revisable:
                known = ", ".join(sorted(revisable)) or "none"
                return f"values.{key} cannot be corrected here (correctable: {known})"
            if not isinstance(value, str) or not value.strip():
                return f"values.{key} must be non-empty text"
        return None

    def _amend_refusal(self, req: AmendDeadlineRequest) -> str | None:
        st = self._st
        assert st is not None
        dl = st.deadlines.get(req.deadline)
        if dl is None:
            known = ", ".join(sorted(d for d, v in st.deadlines.items() if v.status == "pending"))
            return f"the case has no deadline {req.deadline!r} (pending: {known or 'none'})"
        if dl.status != "pending":
            return f"the {dl.label.lower()} is {dl.status}; only a pending deadline can be amended"
        if req.due_at.tzinfo is None or req.due_at.utcoffset() is None:
            return "due_at must include a time zone offset"
        zone = self._zone()
        if req.due_at <= workflow.now():
            return f"the new time {describe_instant(req.due_at, zone)} is not in the future"
        if req.due_at == dl.due_at:
            return f"the {dl.label.lower()} is already at {describe_instant(dl.due_at, zone)}"
        for a in st.amendments.values():
            if a.deadline == req.deadline:
                return (
                    f"amendment {a.id} of the {dl.label.lower()} by {a.proposed_by} is waiting "
                    "for approval; approve or reject it first"
                )
        return None

    def _decide_refusal(self, req: DecideAmendmentRequest) -> str | None:
        st = self._st
        assert st is not None
        a = st.amendments.get(req.amendment_id)
        if a is None:
            pending = ", ".join(st.amendments) or "none"
            return (
                f"no amendment {req.amendment_id!r} is waiting for a decision (pending: {pending})"
            )
        if not req.approve:
            return None  # anyone, the proposer too, may withdraw or refuse a proposal
        if req.actor.strip() == a.proposed_by:
            return f"{a.proposed_by} proposed amendment {a.id}; a second person must approve it"
        # Without both persons (older histories) the names decide, as they always did.
        if req.person and req.person == a.proposed_by_person:
            return (
                f"{a.proposed_by} proposed amendment {a.id}; a second person must approve it, "
                f"and {req.actor.strip()} is the same person"
            )
        dl = st.deadlines[a.deadline]
        if dl.status != "pending":
            return f"the {dl.label.lower()} is {dl.status}; the amendment can only be rejected"
        if a.to_due_at <= workflow.now():
            when = describe_instant(a.to_due_at, self._zone())
            return f"the proposed time {when} has passed; reject it and propose a new one"
        return None

    async def _carry_out(self, action: OperatorAction) -> Event:
        """Queues an operator action for the main loop and waits until it is recorded."""
        ev = Event("operator_action", type(action).__name__, action=action)
        self._queue.append(ev)
        await workflow.wait_condition(lambda: ev.done)
        if ev.error is not None:
            raise ApplicationError(ev.error, type="ActionRefused", non_retryable=True)
        return ev

    def _validate_action(self, action: OperatorAction) -> None:
        """Refuses (ValueError, shown to the operator) what the case cannot do now."""
        for ev in self._queue:
            approval = ev.approval
            if (
                isinstance(action, ReviseHeldNoticeRequest)
                and approval is not None
                and approval.notice_key == action.notice_key
            ):
                raise ValueError(f"notice {action.notice_key!r} is already being approved")
            queued = ev.action
            if isinstance(queued, CloseCaseRequest):
                raise ValueError("the case is being closed")
            if queued is not None and _same_target(queued, action):
                raise ValueError("the same action on this case is already being carried out")
        refusal = self._refusal(action)
        if refusal is not None:
            raise ValueError(refusal)


def _same_target(a: OperatorAction, b: OperatorAction) -> bool:
    """Whether two operator actions act on the same thing (one must wait for the other)."""
    if isinstance(a, ResolveEscalationRequest) and isinstance(b, ResolveEscalationRequest):
        return (a.step, a.rule) == (b.step, b.rule)
    if isinstance(a, AmendDeadlineRequest) and isinstance(b, AmendDeadlineRequest):
        return a.deadline == b.deadline
    if isinstance(a, DecideAmendmentRequest) and isinstance(b, DecideAmendmentRequest):
        return a.amendment_id == b.amendment_id
    if isinstance(a, ReviseHeldNoticeRequest) and isinstance(b, ReviseHeldNoticeRequest):
        return a.notice_key == b.notice_key
    return type(a) is type(b) and isinstance(a, CloseCaseRequest | ReassignOwnerRequest)
