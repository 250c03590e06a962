"""The checks of a rulebook's ``agreement``: each contract event it emits is emitted by a
state it declares, says how the agreement ends, and dates that end by a deadline it has."""

from __future__ import annotations

from rules.rulebook.checks.context import Context
from rules.rulebook.errors import did_you_mean


def check_agreement(ctx: Context) -> None:
    rb = ctx.rb
    for state, emit in rb.agreement.emits.items():
        path = ("agreement", "emits", state)
        if state not in rb.states:
            raise ctx.fail(
                path,
                f"agreement: {emit.event} is emitted by state {state!r}, which is not declared"
                + did_you_mean(state, rb.states),
            )
        if emit.event == "termination_withdrawn":
            continue
        if emit.route is None:
            raise ctx.fail(path, f"agreement: {emit.event} must say its route (how it ends)")
        if emit.dated_by is not None and not ctx.known_deadline(emit.dated_by):
            raise ctx.fail(
                (*path, "dated_by"),
                f"agreement: {emit.event} is dated by deadline {emit.dated_by!r}, which is not "
                "declared" + did_you_mean(emit.dated_by, rb.deadlines),
            )
