"""The rules engine: evaluates a rulebook's rules on one set of case facts.

This is the only module that imports durable_rules. Each rulebook version compiles once
per process into a durable_rules ruleset; each evaluation asserts the facts as a single
fact in a fresh session and collects the decisions of every rule that matched.

durable_rules is used with care (see /work/shared/FINDINGS.md):

- Its ``Host`` starts timer threads that call the C engine without a lock and crash the
  process, so our host disables them, and every engine call holds one process-wide lock.
- A ruleset holds at most 1,024 live sessions, so each evaluation uses its own session id
  and deletes its state afterwards, even on error.
- An exception inside a rule action is swallowed into the session state, so the state is
  checked after each evaluation. Our actions only append rule indexes to a list anyway.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import math
import re
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import durable_rules_engine
from durable import engine as _durable
from durable.lang import value as _value
from durable.lang import when_all as _when_all

from rules.rulebook import Rulebook, RulebookRegistry, RuleSpec, default_registry

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# durable_rules uses these keys itself.
#: The fact of the one warm-up evaluation each ruleset gets when it is registered.
_WARM_UP = "engine_warm_up"
_ENGINE_KEYS = frozenset({"sid", "id", _WARM_UP})


@dataclass(frozen=True)
class Decision:
    """One action decided by one rule.

    Attributes:
        rule: The rule's name.
        action: ``transition``, ``set_deadlines``, ``cancel_deadlines``, ``send_notice``,
            ``escalate``, ``record`` or ``close``.
        value: The action's value from the rulebook, JSON-safe: a state or notice name,
            a list of deadline names or ``"all"``, a reason text, a mapping for
            ``record``, ``True`` for ``close``.
        rule_index: The rule's position in the rulebook (decisions are sorted by it).
    """

    rule: str
    action: str
    value: Any
    rule_index: int


class RulesEngineError(RuntimeError):
    """The engine failed while evaluating (never a normal "no rule matched")."""


class _QuietHost(_durable.Host):
    """A durable_rules host without its timer threads: Temporal owns time."""

    def _run(self) -> None:
        # The stock _run starts Timer loops that race our calls into the C engine.
        return


@dataclass(frozen=True)
class _Compiled:
    name: str
    rules: tuple[RuleSpec, ...]


_LOCK = threading.Lock()
_host: _QuietHost | None = None
_compiled: dict[str, _Compiled] = {}
# Rule indexes fired in each running evaluation, by session id.
_fired: dict[str, list[int]] = {}


def ruleset_name(rulebook: Rulebook) -> str:
    """The durable_rules ruleset name of a rulebook version.

    The name is ``<clause>__v<version>__<hash>``: durable_rules names are global to the
    process, and the hash of the rules keeps two different rulebooks that share a clause
    and version (as in tests) from colliding.
    """
    rules = [rule.model_dump(mode="json") for rule in rulebook.rules]
    text = json.dumps(rules, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    return f"{rulebook.clause}__v{rulebook.version}__{digest}"


def evaluate(
    facts: Mapping[str, str | int | float | bool | None],
    registry: RulebookRegistry | None = None,
) -> list[Decision]:
    """Decides what the rulebook does for one set of case facts.

    Args:
        facts: Flat scalar facts. ``clause`` and ``rulebook_version`` pick the rulebook;
            the rest are what ``when`` conditions test, such as ``event``, ``state``,
            ``deadline`` and ``deadline_group``. ``None`` values are dropped. A ``ne``
            condition does not match a fact that is absent.
        registry: Where to find rulebooks; the default registry if None.

    Returns:
        The decisions of every rule whose ``when`` matches, ordered by rule order in the
        rulebook and then by action order. Empty when no rule matches.

    Raises:
        ValueError: ``clause`` or ``rulebook_version`` is missing, or a fact is not a
            finite scalar or has a name the engine cannot take.
        UnknownRulebook: No such rulebook.
        RulesEngineError: The engine failed.
    """
    message = _message(facts)
    registry = registry if registry is not None else default_registry()
    rulebook = registry.get(message["clause"], message["rulebook_version"])
    with _LOCK:
        compiled = _compile(rulebook)
        fired = _run(compiled.name, message)
    decisions: list[Decision] = []
    for index in sorted(set(fired)):
        rule = compiled.rules[index]
        for action, value in rule.actions:
            decisions.append(Decision(rule.name, action, copy.deepcopy(value), index))
    return decisions


def _message(facts: Mapping[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {}
    for key, value in facts.items():
        if value is None:
            continue
        if not isinstance(key, str) or not _KEY.match(key) or key in _ENGINE_KEYS:
            raise ValueError(f"fact name {key!r} cannot be evaluated")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"fact {key!r} must be finite, not {value!r}")
        if not isinstance(value, str | int | float | bool):
            raise ValueError(
                f"fact {key!r} must be a string, number or boolean, not {type(value).__name__}"
            )
        message[key] = value
    if not isinstance(message.get("clause"), str):
        raise ValueError("facts must contain clause (a string)")
    version = message.get("rulebook_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ValueError("facts must contain rulebook_version (an integer)")
    return message


def _get_host() -> _QuietHost:
    global _host
    if _host is None:
        _host = _QuietHost()
    return _host


def _compile(rulebook: Rulebook) -> _Compiled:
    """Registers the rulebook's ruleset once per process. Call with _LOCK held."""
    name = ruleset_name(rulebook)
    compiled = _compiled.get(name)
    if compiled is not None:
        return compiled
    definition = {
        f"r{index}": _when_all(_conditions(rule))(_recorder(index)).define()
        for index, rule in enumerate(rulebook.rules)
    }
    definition[_WARM_UP] = _when_all(_value("$m", _WARM_UP) == True)(_ignore).define()  # noqa: E712
    _get_host().register_rulesets({name: definition})
    _warm_up(name)
    compiled = _Compiled(name, tuple(rulebook.rules))
    _compiled[name] = compiled
    return compiled


def _ignore(c: Any) -> None:
    return None


def _warm_up(name: str) -> None:
    """Runs one matching evaluation on a new ruleset. Call with _LOCK held.

    Freeing the session of a ruleset's first evaluation crashes the C engine (a segfault
    or a double free) when no rule matched it, and a case's first evaluation on a fresh
    worker may well match none (a reminder after the case moved on). A ruleset that has
    once matched frees such sessions safely; tests/rules/test_engine.py shows both.
    """
    host = _get_host()
    sid = uuid.uuid4().hex
    try:
        host.assert_fact(name, {_WARM_UP: True, "sid": sid})
    finally:
        host.delete_state(name, sid)


def _recorder(index: int) -> Callable[[Any], None]:
    def action(c: Any) -> None:
        # Only record the decision; the workflow acts on it.
        _fired[c.s.sid].append(index)

    return action


def _conditions(rule: RuleSpec) -> Any:
    """The rule's ``when`` as one durable_rules expression (an AND of its keys)."""
    expression = None
    for key, condition in rule.when.items():
        part = _condition(key, condition)
        expression = part if expression is None else expression & part
    return expression


def _condition(key: str, condition: Any) -> Any:
    # value("$m", key) rather than getattr(m, key): keys such as "matches" are methods.
    def field() -> Any:
        return _value("$m", key)

    if not isinstance(condition, dict):
        return field() == condition
    ((operator, operand),) = condition.items()
    if operator == "in":
        expression = None
        for item in operand:
            part = field() == item
            expression = part if expression is None else expression | part
        return expression
    if operator == "ne":
        return field() != operand
    if operator == "gt":
        return field() > operand
    if operator == "gte":
        return field() >= operand
    if operator == "lt":
        return field() < operand
    if operator == "lte":
        return field() <= operand
    raise ValueError(f"unknown operator {operator!r}")  # the schema rejects these first


def _run(name: str, message: dict[str, Any]) -> list[int]:
    """Asserts the facts in a fresh session and returns the fired rules. Hold _LOCK."""
    host = _get_host()
    sid = uuid.uuid4().hex
    fired: list[int] = []
    _fired[sid] = fired
    try:
        try:
            # assert_fact, not post: an event is consumed by the first matching rule,
            # a fact is seen by every rule.
            host.assert_fact(name, {**message, "sid": sid})
        except _durable.MessageNotHandledException:
            return []
        state = host.get_state(name, sid)
        if state.get("exception"):
            raise RulesEngineError(f"a rule action failed in {name}: {state['exception']}")
        return fired
    finally:
        del _fired[sid]
        # Fails only when no session was created, so there is nothing to free.
        with contextlib.suppress(durable_rules_engine.error):
            host.delete_state(name, sid)
