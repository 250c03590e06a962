"""The checks of rules: names are unique, ``when`` tests only facts the rules see and
values that exist (events, states, deadlines, recordable facts), and ``then`` names
declared states, notices and deadlines.
"""

from __future__ import annotations

from typing import Any

from rules.rulebook.checks.context import Context
from rules.rulebook.errors import RulebookError, did_you_mean
from rules.rulebook.vocabulary import EVENT_KEYS, EVENTS, SIDE_FACTS


def check_rules(ctx: Context) -> None:
    """Rule names are unique; ``when`` and ``then`` name only what is declared."""
    rb = ctx.rb
    recorded = {
        fact
        for rule in rb.rules
        for action, value in rule.actions
        if action == "record"
        for fact in value
    }
    vocabulary = {
        *EVENT_KEYS,
        *rb.facts,
        *ctx.recorded_fields(),
        *rb.parameters,
        *recorded,
        *ctx.derived_outputs(),
        # our_side and given_by_us, which the rules of a sender-declaring rulebook see.
        *(SIDE_FACTS if rb.declares_senders else ()),
    }
    names: dict[str, int] = {}
    for i, rule in enumerate(rb.rules):
        if rule.name in names:
            raise ctx.fail(
                ("rules", i, "name"),
                f"duplicate rule name {rule.name!r} (first used by rule {names[rule.name]})",
            )
        names[rule.name] = i
        for key, condition in rule.when.items():
            path = ("rules", i, "when", key)
            if key not in vocabulary and not _deadline_fact(ctx, key):
                raise RulebookError(
                    rb.path,
                    ctx.lines.key_line(("rules", i, "when"), key),
                    f"rule {rule.name!r}: unknown fact {key!r} in when"
                    + did_you_mean(key, vocabulary),
                )
            _when_values(ctx, rule.name, path, key, condition, recorded)
        for j, (action, value) in enumerate(rule.actions):
            _action(ctx, rule.name, ("rules", i, "then", j, action), action, value)


def _deadline_fact(ctx: Context, key: str) -> bool:
    """``<deadline>_status`` and ``<deadline>_passed``, which the workflow provides."""
    for suffix in ("_status", "_passed"):
        if key.endswith(suffix) and ctx.known_deadline(key[: -len(suffix)]):
            return True
    return False


def _when_values(
    ctx: Context, rule: str, path: tuple[Any, ...], key: str, condition: Any, recorded: set[str]
) -> None:
    rb = ctx.rb
    known: Any
    if key == "event":
        known, what = EVENTS, "event"
    elif key == "state":
        known, what = rb.states, "state"
    elif key == "deadline_group":
        known, what = rb.deadlines, "deadline"
    elif key == "fact":
        known, what = {*rb.recordable_facts, *recorded}, "recordable fact"
    elif key == "deadline":
        for value in _condition_values(condition):
            if not ctx.known_deadline(str(value)):
                raise ctx.fail(
                    path,
                    f"rule {rule!r}: when tests undeclared deadline {value!r}"
                    + did_you_mean(str(value), rb.deadlines),
                )
        return
    else:
        return
    for value in _condition_values(condition):
        if value not in known:
            raise ctx.fail(
                path,
                f"rule {rule!r}: unknown {what} {value!r}" + did_you_mean(str(value), known),
            )


def _action(ctx: Context, rule: str, path: tuple[Any, ...], action: str, value: Any) -> None:
    rb = ctx.rb
    if action == "transition" and value not in rb.states:
        raise ctx.fail(
            path,
            f"rule {rule!r}: transition to undeclared state {value!r}"
            + did_you_mean(value, rb.states),
        )
    if action == "send_notice" and value not in rb.notices:
        raise ctx.fail(
            path,
            f"rule {rule!r}: send_notice names undeclared notice {value!r}"
            + did_you_mean(value, rb.notices),
        )
    if action in ("set_deadlines", "cancel_deadlines") and value != "all":
        for k, name in enumerate(value):
            if not ctx.known_deadline(name):
                raise ctx.fail(
                    (*path, k),
                    f"rule {rule!r}: {action} names undeclared deadline {name!r}"
                    + did_you_mean(name, rb.deadlines),
                )


def _condition_values(condition: Any) -> list[Any]:
    if isinstance(condition, dict):
        values: list[Any] = []
        for v in condition.values():
            values.extend(v if isinstance(v, list) else [v])
        return values
    return [condition]
