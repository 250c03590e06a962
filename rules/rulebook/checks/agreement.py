"""The checks of a rulebook's ``agreement``: each event it emits is emitted by a state it
declares; a legal event says how the agreement ends and dates the end by a deadline it
has; any other event's values come from facts the case has; each fact it records in
reaction is one of its recordable facts, with the fields that fact requires."""

from __future__ import annotations

import string
from typing import Any

from rules.rulebook.checks.context import Context
from rules.rulebook.errors import RulebookError, did_you_mean
from rules.rulebook.model import END_VALUES, LEGAL_EVENTS, AgreementEmit, RecordReaction, Rulebook


def check_agreement(ctx: Context) -> None:
    rb = ctx.rb
    # A case's facts: its start facts, recorded fields, calculators' outputs, and what
    # its rules record (an incident's response_target_missed).
    known = set(rb.facts) | set(ctx.recorded_fields()) | ctx.derived_outputs()
    known |= {name for r in rb.rules for then in r.then for name in then.get("record") or {}}
    for state, emit in rb.agreement.emits.items():
        path: tuple[Any, ...] = ("agreement", "emits", state)
        if state not in rb.states:
            raise ctx.fail(
                path,
                f"agreement: {emit.event} is emitted by state {state!r}, which is not declared"
                + did_you_mean(state, rb.states),
            )
        if emit.event not in LEGAL_EVENTS:
            if emit.route is not None or emit.dated_by is not None:
                raise ctx.fail(
                    path,
                    f"agreement: {emit.event} does not end the agreement, so it takes no route "
                    f"or dated_by (the legal events are {', '.join(LEGAL_EVENTS)})",
                )
            for field, fact in emit.values.items():
                if fact not in known:
                    raise ctx.fail(
                        (*path, "values", field),
                        f"agreement: {emit.event}'s {field} comes from {fact!r}, which is not "
                        "a fact of this rulebook" + did_you_mean(fact, known),
                    )
            continue
        if emit.values:
            raise ctx.fail(path, f"agreement: {emit.event} carries no values")
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
    for notice, emit in rb.agreement.emits_with_notice.items():
        path = ("agreement", "emits_with_notice", notice)
        if notice not in rb.notices:
            raise ctx.fail(
                path,
                f"agreement: {emit.event} is emitted with notice {notice!r}, which is not "
                "declared" + did_you_mean(notice, rb.notices),
            )
        if emit.event in LEGAL_EVENTS or emit.route or emit.dated_by:
            raise ctx.fail(
                path, f"agreement: a notice emits news for other cases, not {emit.event}"
            )
        for field, fact in emit.values.items():
            if fact not in known:
                raise ctx.fail(
                    (*path, "values", field),
                    f"agreement: {emit.event}'s {field} comes from {fact!r}, which is not a "
                    "fact of this rulebook" + did_you_mean(fact, known),
                )
    for event, opening in rb.agreement.opens.items():
        path = ("agreement", "opens", event)
        for fact in opening.facts:
            if fact not in rb.facts:
                raise ctx.fail(
                    (*path, "facts", fact),
                    f"agreement: {fact!r} is not a start fact of this rulebook"
                    + did_you_mean(fact, rb.facts),
                )
        missing = [f for f, spec in rb.facts.items() if spec.required and f not in opening.facts]
        if missing:
            raise ctx.fail(path, f"agreement: opening a case on {event} needs {', '.join(missing)}")
        flag = rb.parameters.get(opening.only_if) if opening.only_if else None
        if opening.only_if and (isinstance(flag, str) or flag is None or flag.type != "yes_no"):
            raise ctx.fail(
                (*path, "only_if"),
                f"agreement: only_if names {opening.only_if!r}, which is not a yes_no parameter "
                "of this rulebook",
            )
    for event, reaction in rb.agreement.reacts.items():
        if event in LEGAL_EVENTS:
            raise ctx.fail(
                ("agreement", "reacts", event),
                f"agreement: {event} changes the agreement's legal state; what a case does "
                "at the end is when_agreement_ends",
            )
        _check_record(ctx, ("agreement", "reacts", event), reaction, None)
    end = rb.agreement.when_agreement_ends
    if isinstance(end, RecordReaction):
        _check_record(ctx, ("agreement", "when_agreement_ends"), end, END_VALUES)


def _check_record(
    ctx: Context, path: tuple[Any, ...], reaction: RecordReaction, sources: tuple[str, ...] | None
) -> None:
    """The reaction records one of the rulebook's recordable facts; at the end, each field
    comes from what the contract tells (``sources``), and every required field is given."""
    rb = ctx.rb
    spec = rb.recordable_facts.get(reaction.record)
    if spec is None:
        raise ctx.fail(
            (*path, "record"),
            f"agreement: {reaction.record!r} is not a recordable fact of this rulebook"
            + did_you_mean(reaction.record, rb.recordable_facts),
        )
    for field, source in reaction.values.items():
        if field not in spec.fields:
            raise ctx.fail(
                (*path, "values", field),
                f"agreement: {reaction.record} has no field {field!r}"
                + did_you_mean(field, spec.fields),
            )
        if sources is not None and source not in sources:
            raise ctx.fail(
                (*path, "values", field),
                f"agreement: at the end the contract tells {', '.join(sources)}, not {source!r}",
            )
    if sources is not None:
        missing = [f for f, s in spec.fields.items() if s.required and f not in reaction.values]
        if missing:
            raise ctx.fail(
                path,
                f"agreement: {reaction.record} needs {', '.join(missing)}: give each a value "
                f"from {', '.join(sources)}",
            )


def check_reactions_across(books: list[Rulebook]) -> None:
    """Every event a rulebook reacts to is emitted by some rulebook, with a value for each
    required field of the fact it records, and none the fact does not have.

    Raises:
        RulebookError: At the reacting rulebook, naming the event and what is wrong.
    """
    emitted: dict[str, list[tuple[Rulebook, AgreementEmit]]] = {}
    for rb in books:
        for emit in [*rb.agreement.emits.values(), *rb.agreement.emits_with_notice.values()]:
            emitted.setdefault(emit.event, []).append((rb, emit))
    for rb in books:
        for event, opening in rb.agreement.opens.items():
            if event not in emitted:
                raise RulebookError(
                    rb.path,
                    1,
                    f"agreement: {rb.clause} v{rb.version} opens on {event}, which no "
                    "rulebook emits",
                )
            for source, emit in emitted[event]:
                told = {*emit.values, "event_at"}
                for fact, text in opening.facts.items():
                    unknown = sorted(
                        name
                        for _, name, _, _ in string.Formatter().parse(text)
                        if name and name not in told
                    )
                    if unknown:
                        raise RulebookError(
                            rb.path,
                            1,
                            f"agreement: {rb.clause} v{rb.version} opens a case on {event} with "
                            f"{fact} from {', '.join(unknown)}, which {source.clause} "
                            f"v{source.version} does not tell",
                        )
    for rb in books:
        for event, reaction in rb.agreement.reacts.items():
            fields = rb.recordable_facts[reaction.record].fields
            if event not in emitted:
                raise RulebookError(
                    rb.path,
                    1,
                    f"agreement: {rb.clause} v{rb.version} reacts to {event}, which no "
                    "rulebook emits",
                )
            for source, emit in emitted[event]:
                given = set(emit.values) | set(reaction.values)
                missing = [f for f, spec in fields.items() if spec.required and f not in given]
                unknown = sorted(set(emit.values) - set(fields))
                if missing or unknown:
                    raise RulebookError(
                        rb.path,
                        1,
                        f"agreement: {rb.clause} v{rb.version} records {reaction.record} when "
                        f"{source.clause} v{source.version} emits {event}, which "
                        + (f"gives no {', '.join(missing)}" if missing else "")
                        + (" and " if missing and unknown else "")
                        + (f"gives {', '.join(unknown)}, not a field of it" if unknown else ""),
                    )
