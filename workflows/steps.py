"""Decision application: one event of a case, through its rulebook, to its new state,
then recorded with its notices (workflows/recording.py).

``CaseSteps`` takes one step at a time on the case that ``CaseRecords`` holds; the
operator actions (workflows/operator.py) and the main loop (workflows/case.py) build on
it. Workflow code: deterministic, no I/O but through activities.
"""

from __future__ import annotations

import copy
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.rulebooks import compute_deadlines, decide, take_step
    from activities.types import (
        INVALID_FACTS,
        ComputeDeadlinesInput,
        ComputeDeadlinesResult,
        DeadlineView,
        DecideInput,
        DecisionView,
        DeriveContext,
        EscalationView,
        OpenEscalation,
        RecordedFactInput,
        Scalar,
        TakeStepInput,
        TakeStepResult,
        TransitionView,
    )
    from rules.rulebook import COULD_NOT_START
    from workflows.late_facts import catch_up, story_began
    from workflows.messages import (
        CASE_STATE,
        RecordedFact,
    )
    from workflows.recording import (
        LOCAL_TIMEOUT,
        CaseRecords,
        Event,
    )


#: Deadlines whose moment had passed when they were set: reminders are skipped and
#: notices to a party held for approval (cases before this change sent them at once).
_CATCH_UP_PATCH = "late-deadlines-caught-up"


class CaseSteps(CaseRecords):
    """One case's state and the machinery of its steps."""

    async def _take_step(self, ev: Event) -> None:
        """Handles one event. Facts the case cannot run (a calculation they break) fail the
        step visibly, with the reason, instead of retrying it for ever."""
        st = self._st
        assert st is not None
        if ev.error is not None:  # refused before it was queued (a fact its contract told)
            await self._refuse_step(ev, ev.error)
            return
        # The summary never changes in a step; the rest is put back if the step fails.
        before = copy.deepcopy({k: v for k, v in vars(st).items() if k != "summary"})
        try:
            await self._handle(ev)
        except (ActivityError, ApplicationError) as err:
            # A local activity's failure may arrive as the activity's own error.
            cause = err.cause if isinstance(err, ActivityError) else err
            if not (isinstance(cause, ApplicationError) and cause.type == INVALID_FACTS):
                raise
            # Nothing of the step was recorded: the case is as it was before the event.
            vars(st).update(before)
            await self._refuse_step(ev, cause.message)

    async def _refuse_step(self, ev: Event, reason: str) -> None:
        """Records that the case could not act on ``ev``, and escalates it to a person.

        A case that cannot take its first step is in the state "could_not_start" until
        someone closes it; a later event leaves the case as it was.
        """
        st = self._st
        assert st is not None
        st.step += 1
        transition = None
        if ev.kind == "case_started":
            rule, why = COULD_NOT_START, f"the case could not take its first step: {reason}"
            transition = TransitionView(st.state, COULD_NOT_START, COULD_NOT_START)
            st.state = COULD_NOT_START
        elif ev.kind == "contract_offer":
            rule, why = "contract_offer", reason  # not a refusal: a person decides
        else:
            rule, why = "step_refused", f"the case could not act on {ev.kind}: {reason}"
        escalation = EscalationView(rule, why)
        st.escalations.append(why)
        st.open_escalations.append(OpenEscalation(st.step, rule, why, workflow.now()))
        refused = Event("step_refused", f"refused:{ev.key}:{st.step}")
        await self._record(st.step, refused, {"event": ev.kind}, [], transition, [escalation])
        if transition is not None:
            workflow.upsert_search_attributes([CASE_STATE.value_set(st.state)])
        self._ready = True

    def _engine_facts(self, ev: Event) -> dict[str, Scalar]:
        assert self._input is not None and self._st is not None
        facts: dict[str, Scalar] = {
            k: v for k, v in self._st.facts.items() if isinstance(v, str | int | float | bool)
        }
        now = workflow.now()
        for d in self._st.deadlines.values():
            # Rules may ask whether a deadline is still running, e.g. a dispute window.
            facts[f"{d.name}_status"] = d.status
            facts[f"{d.name}_passed"] = now >= d.due_at
        facts.update(
            clause=self._input.clause,
            rulebook_version=self._input.rulebook_version,
            event=ev.kind,
            state=self._st.state,
        )
        facts.update(ev.facts)
        return facts

    async def _handle(self, ev: Event) -> None:
        inp, st = self._input, self._st
        assert inp is not None and st is not None
        st.step += 1
        step = st.step
        if ev.request is not None:
            ev.key = f"{ev.key}:{step}"
            # Recorded values become case facts: later rules and notices can use them.
            st.facts.update(ev.request.values)
        seen = self._engine_facts(ev)
        context = DeriveContext(
            terms=inp.terms,
            facts=st.facts,
            recorded=[RecordedFactInput(r.fact, r.values, r.at) for r in st.recorded_facts]
            + (
                [RecordedFactInput(ev.request.fact, ev.request.values, workflow.now())]
                if ev.request
                else []
            ),
            deadlines=st.deadlines,
            now=workflow.now(),
            opened_at=st.opened_at,
        )
        decided: TakeStepResult
        if self._lean:
            reached_name = str(ev.facts["deadline"]) if ev.kind == "deadline_reached" else None
            decided = await workflow.execute_local_activity(
                take_step,
                TakeStepInput(seen, context, reached=reached_name),
                start_to_close_timeout=LOCAL_TIMEOUT,
            )
        else:
            old = await workflow.execute_local_activity(
                decide,
                DecideInput(seen, context),
                start_to_close_timeout=LOCAL_TIMEOUT,
            )
            decided = TakeStepResult(old.decisions, old.derived)
        decisions = list(decided.decisions)
        if ev.failure is not None and not decisions:
            # No rule says otherwise: written notice that was not delivered needs a person.
            decisions.append(
                DecisionView(
                    "written_notice_not_delivered",
                    "escalate",
                    f"written notice {ev.failure.notice} was not delivered "
                    f"({ev.failure.event}): {ev.failure.reason}",
                )
            )
        st.facts.update(decided.derived)
        seen.update(
            {k: v for k, v in decided.derived.items() if isinstance(v, str | int | float | bool)}
        )

        reached = st.deadlines[str(ev.facts["deadline"])] if ev.kind == "deadline_reached" else None
        if reached is not None:
            reached.status = "reached"
        transition: TransitionView | None = None
        set_late: list[DeadlineView] = []
        to_set: list[str] = []
        notices: list[tuple[str, str]] = []
        escalations: list[EscalationView] = []
        for d in decisions:
            if d.action == "transition":
                transition = TransitionView(
                    transition.from_state if transition else st.state, d.value, d.rule
                )
                st.state = d.value
            elif d.action == "set_deadlines":
                to_set.extend(d.value)
            elif d.action == "cancel_deadlines":
                for dl in st.deadlines.values():
                    if dl.status == "pending" and (
                        d.value == "all" or dl.name in d.value or dl.group in d.value
                    ):
                        dl.status = "cancelled"
            elif d.action == "send_notice":
                notices.append((d.value, d.rule))
            elif d.action == "expect_notice":
                pass  # the other party's notice: recorded with the step, never sent
            elif d.action == "escalate":
                escalations.append(EscalationView(d.rule, str(d.value)))
            elif d.action == "record":
                st.facts.update(d.value)
            elif d.action == "close":
                st.closed = True
            else:
                raise ApplicationError(f"unknown decision action {d.action!r}", non_retryable=True)
        if ev.request is not None:
            st.recorded_facts.append(
                RecordedFact(
                    ev.request.fact,
                    ev.request.values,
                    ev.request.recorded_by,
                    ev.request.reason,
                    step,
                    workflow.now(),
                )
            )
        if to_set:
            if self._lean:
                computed = decided.deadlines
            else:
                computed = (await self._compute_deadlines(to_set)).deadlines
            for dl in computed:
                st.deadlines[dl.name] = dl
            # Passed after the case's story began but before the case learned of it: the
            # case is late, not the deadline's own business (a short maintenance notice).
            began = story_began(st.summary, st.facts, st.opened_at)
            late = [d for d in computed if began < d.due_at <= workflow.now()]
            if late and inp.past_deadlines == "catch_up" and workflow.patched(_CATCH_UP_PATCH):
                for dl in late:
                    dl.passed_when_set = True
                set_late = late
        if st.closed:
            for dl in st.deadlines.values():
                if dl.status == "pending":
                    dl.status = "cancelled"
        st.escalations.extend(e.reason for e in escalations)
        st.open_escalations.extend(
            OpenEscalation(step, e.rule, e.reason, workflow.now()) for e in escalations
        )

        outgoing, caught_up = catch_up(
            st.summary, self._zone(), notices, reached, set_late, decisions
        )
        if self._lean:
            await self._lean_step(
                step, ev, seen, decisions, transition, escalations, caught_up, outgoing
            )
            return
        await self._record(step, ev, seen, decisions, transition, escalations, caught_up=caught_up)
        if transition is not None:
            workflow.upsert_search_attributes([CASE_STATE.value_set(st.state)])
        self._ready = True
        # A notice discarded (the case was closed) after its approval was queued stays unsent.
        held = st.held_notices.pop(ev.approval.notice_key, None) if ev.approval else None
        if ev.approval is not None and held is not None:
            await self._send_notice(
                held.notice, held.rule, ev, key=ev.approval.notice_key, approval=ev.approval
            )
        for notice, rule, hold in outgoing:
            await self._send_notice(notice, rule, ev, hold=hold)

    async def _compute_deadlines(
        self, names: list[str], dependents_of: str | None = None
    ) -> ComputeDeadlinesResult:
        """Computes the ``names`` deadlines (and those counted from ``dependents_of``) on
        the case's facts and the deadlines it has, as a local activity."""
        inp, st = self._input, self._st
        assert inp is not None and st is not None
        return await workflow.execute_local_activity(
            compute_deadlines,
            ComputeDeadlinesInput(
                inp.clause,
                inp.rulebook_version,
                inp.terms,
                st.facts,
                names,
                dict(st.deadlines),
                dependents_of=dependents_of,
            ),
            start_to_close_timeout=LOCAL_TIMEOUT,
        )


def scalar_values(values: dict[str, Any]) -> dict[str, Scalar]:
    return {k: v for k, v in values.items() if isinstance(v, str | int | float | bool)}
