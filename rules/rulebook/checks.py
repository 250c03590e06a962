"""The checks of a loaded rulebook that a JSON schema cannot express: its file name and
folder, reserved names, parameters against the term sheet, and that its facts, recordable
facts, calculators, deadlines, notices and rules name only what it declares.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import jinja2
from pydantic import BaseModel

from contracts.terms import TermSheet
from rules.rulebook.errors import RulebookError, did_you_mean
from rules.rulebook.model import EachRef, FactSpec, ParamRef, Rulebook
from rules.rulebook.source import Lines, file_version
from rules.rulebook.vocabulary import (
    COULD_NOT_START,
    EVENT_KEYS,
    EVENTS,
    NUMBER_TYPES,
    RESERVED_NAMES,
    TIME_TYPES,
)


def check_rulebook(rulebook: Rulebook, lines: Lines, check_templates: bool) -> None:
    """Checks what a rulebook names against what it declares.

    Args:
        rulebook: The rulebook, valid against the schema.
        lines: Its YAML's lines, to say where a problem is.
        check_templates: Also require every notice's template files.

    Raises:
        RulebookError: The first problem found, with its file and line.
    """
    _Checker(rulebook, lines, check_templates).run()


class _Checker:
    """Cross-reference checks that a JSON schema cannot express."""

    def __init__(self, rulebook: Rulebook, lines: Lines, check_templates: bool) -> None:
        self.rb = rulebook
        self.lines = lines
        self.check_templates = check_templates

    def fail(self, path: tuple[Any, ...], reason: str) -> RulebookError:
        return RulebookError(self.rb.path, self.lines.line(path), reason)

    def run(self) -> None:
        self._file_name()
        self._names()
        self._parameters()
        self._facts()
        self._recordable_facts()
        self._derive()
        self._deadlines()
        self._notices()
        self._rules()

    def _file_name(self) -> None:
        rb = self.rb
        if file_version(rb.path) != rb.version:
            raise self.fail(
                ("version",),
                f"version {rb.version} does not match the file name {rb.path.name}",
            )
        if rb.folder.name != rb.clause:
            raise self.fail(
                ("clause",),
                f"clause {rb.clause!r} does not match its folder {rb.folder.name!r}",
            )

    def _names(self) -> None:
        rb = self.rb
        groups: list[tuple[tuple[Any, ...], Any]] = [
            (("parameters",), rb.parameters),
            (("facts",), rb.facts),
        ]
        groups += [
            (("recordable_facts", n, "fields"), r.fields) for n, r in rb.recordable_facts.items()
        ]
        for path, names in groups:
            for name in names:
                if name in RESERVED_NAMES:
                    raise self.fail(
                        (*path, name),
                        f"{name!r} is reserved for the engine; choose another name",
                    )

    def _parameters(self) -> None:
        for name, dotted in self.rb.parameters.items():
            if not _term_sheet_has(dotted):
                raise self.fail(
                    ("parameters", name),
                    f"parameter {name!r}: the term sheet has no {dotted!r}",
                )

    def _facts(self) -> None:
        rb = self.rb
        for name, spec in rb.facts.items():
            self._fact_spec(("facts", name), spec)
        if rb.opened_by is not None:
            opening = rb.facts.get(rb.opened_by)
            if opening is None or opening.type not in TIME_TYPES:
                raise self.fail(
                    ("opened_by",),
                    f"opened_by must name a datetime or date start fact, not {rb.opened_by!r}"
                    + did_you_mean(rb.opened_by, rb.facts),
                )
        if COULD_NOT_START in rb.states:
            raise self.fail(
                ("states", COULD_NOT_START),
                f"{COULD_NOT_START!r} is the engine's own state for a case that cannot start",
            )

    def _fact_spec(self, path: tuple[Any, ...], spec: FactSpec, recorded: bool = False) -> None:
        timed = ("not_in_future", "may_precede_contract", "may_precede_opening")
        for flag in timed:
            if getattr(spec, flag) and spec.type not in TIME_TYPES:
                raise self.fail(
                    (*path, flag),
                    f"{flag} applies only to datetime and date facts, not {spec.type}",
                )
        if spec.may_precede_opening and not recorded:
            raise self.fail(
                (*path, "may_precede_opening"),
                "may_precede_opening applies only to the fields of recordable facts",
            )
        if spec.positive and spec.type not in NUMBER_TYPES:
            raise self.fail(
                (*path, "positive"),
                f"positive applies only to {', '.join(NUMBER_TYPES)} facts, not {spec.type}",
            )
        if spec.day_of_month is not None and spec.type != "date":
            raise self.fail(
                (*path, "day_of_month"),
                f"day_of_month applies only to date facts, not {spec.type}",
            )

    def _recordable_facts(self) -> None:
        rb = self.rb
        for name, spec in rb.recordable_facts.items():
            for i, state in enumerate(spec.allowed_in):
                if state not in rb.states:
                    raise self.fail(
                        ("recordable_facts", name, "allowed_in", i),
                        f"recordable fact {name!r} is allowed in undeclared state {state!r}"
                        + did_you_mean(state, rb.states),
                    )
            for field, field_spec in spec.fields.items():
                self._fact_spec(
                    ("recordable_facts", name, "fields", field), field_spec, recorded=True
                )
            if spec.allowed_before is not None and not self._known_deadline(spec.allowed_before):
                raise self.fail(
                    ("recordable_facts", name, "allowed_before"),
                    f"recordable fact {name!r} is allowed before undeclared deadline "
                    f"{spec.allowed_before!r}" + did_you_mean(spec.allowed_before, rb.deadlines),
                )
            for i, req in enumerate(spec.require_any_true):
                for field in req.fields:
                    f = spec.fields.get(field)
                    if f is None or f.type != "boolean":
                        raise self.fail(
                            ("recordable_facts", name, "require_any_true", i, "fields"),
                            f"recordable fact {name!r}: require_any_true names {field!r}, "
                            "which is not one of its boolean fields",
                        )

    def _derive(self) -> None:
        calculators = _calculators()
        for i, name in enumerate(self.rb.derive):
            if name not in calculators:
                raise self.fail(
                    ("derive", i),
                    f"unknown calculator {name!r}" + did_you_mean(name, calculators),
                )

    def _deadlines(self) -> None:
        rb = self.rb
        for name, spec in rb.deadlines.items():
            base = ("deadlines", name)
            source = spec.from_
            if source.fact is not None:
                fact = self._time_fact(source.fact)
                if fact is None and source.fact in self._derived_outputs():
                    pass  # a calculator's output: its type is the calculator's promise
                elif fact is None:
                    known = [*rb.facts, *self._recorded_fields()]
                    raise self.fail(
                        (*base, "from", "fact"),
                        f"deadline {name!r} counts from undeclared fact {source.fact!r}"
                        + did_you_mean(source.fact, known),
                    )
                elif fact.type not in TIME_TYPES:
                    raise self.fail(
                        (*base, "from", "fact"),
                        f"deadline {name!r} counts from fact {source.fact!r} of type "
                        f"{fact.type}; it must be a datetime or date",
                    )
            else:
                self._deadline_chain(name)
            count = spec.period.count
            if count == 0 and spec.period.unit != "hours":
                raise self.fail(
                    (*base, "period", "count"),
                    f"deadline {name!r}: a period of 0 is only meaningful in hours "
                    "(the deadline falls at the instant it counts from)",
                )
            if isinstance(count, ParamRef):
                self._param((*base, "period", "count", "param"), count.param)
            if spec.repeat_for is not None:
                self._param((*base, "repeat_for", "param"), spec.repeat_for.param)
                if not isinstance(count, EachRef):
                    raise self.fail(
                        (*base, "period", "count"),
                        f"deadline {name!r} repeats, so its count must be {{each: true}}",
                    )
            elif isinstance(count, EachRef):
                raise self.fail(
                    (*base, "period", "count"),
                    f"deadline {name!r}: {{each: true}} needs repeat_for",
                )
            if spec.recurring and spec.repeat_for is not None:
                raise self.fail(
                    (*base, "recurring"),
                    f"deadline {name!r} cannot both repeat_for a list and recur",
                )
            if spec.time_of_the_essence and spec.roll != "none" and "roll" in spec.model_fields_set:
                raise self.fail(
                    (*base, "roll"),
                    f"deadline {name!r} is time of the essence, so it cannot roll {spec.roll}",
                )

    def _recorded_fields(self) -> dict[str, FactSpec]:
        return {f: s for rf in self.rb.recordable_facts.values() for f, s in rf.fields.items()}

    def _time_fact(self, name: str) -> FactSpec | None:
        """A start fact, or a field of a recordable fact, that a deadline may count from."""
        return self.rb.facts.get(name) or self._recorded_fields().get(name)

    def _derived_outputs(self) -> set[str]:
        """The facts the rulebook's calculators add (an unknown one adds none)."""
        calculators = _calculators()
        return {o for c in self.rb.derive if c in calculators for o in calculators[c].outputs}

    def _deadline_chain(self, name: str) -> None:
        rb = self.rb
        seen = [name]
        current = name
        while (target := rb.deadlines[current].from_.deadline) is not None:
            path = ("deadlines", current, "from", "deadline")
            if target not in rb.deadlines:
                raise self.fail(
                    path,
                    f"deadline {current!r} counts from undeclared deadline {target!r}"
                    + did_you_mean(target, rb.deadlines),
                )
            if rb.deadlines[target].repeat_for is not None:
                raise self.fail(
                    path,
                    f"deadline {current!r} cannot count from {target!r}, which repeats",
                )
            if target in seen:
                cycle = " -> ".join([*seen, target])
                raise self.fail(
                    ("deadlines", name, "from", "deadline"), f"circular deadlines: {cycle}"
                )
            seen.append(target)
            current = target

    def _param(self, path: tuple[Any, ...], param: str) -> None:
        if param not in self.rb.parameters:
            raise self.fail(
                path,
                f"undeclared parameter {param!r}" + did_you_mean(param, self.rb.parameters),
            )

    def _notices(self) -> None:
        env = jinja2.Environment()
        for name, spec in self.rb.notices.items():
            try:
                env.parse(spec.subject)
            except jinja2.TemplateSyntaxError as exc:
                raise self.fail(
                    ("notices", name, "subject"),
                    f"notice {name!r}: subject is not a valid template: {exc.message}",
                ) from exc
            if not self.check_templates:
                continue
            for template in self.rb.template_paths(name):
                if not template.is_file():
                    rel = template.relative_to(self.rb.folder)
                    raise self.fail(("notices", name), f"notice {name!r} has no template {rel}")

    def _known_deadline(self, name: str) -> bool:
        deadlines = self.rb.deadlines
        if name in deadlines:
            return True
        base, _, suffix = name.rpartition("_")
        return suffix.isdigit() and base in deadlines and deadlines[base].repeat_for is not None

    def _deadline_fact(self, key: str) -> bool:
        """``<deadline>_status`` and ``<deadline>_passed``, which the workflow provides."""
        for suffix in ("_status", "_passed"):
            if key.endswith(suffix) and self._known_deadline(key[: -len(suffix)]):
                return True
        return False

    def _rules(self) -> None:
        rb = self.rb
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
            *self._recorded_fields(),
            *rb.parameters,
            *recorded,
            *self._derived_outputs(),
        }
        names: dict[str, int] = {}
        for i, rule in enumerate(rb.rules):
            if rule.name in names:
                raise self.fail(
                    ("rules", i, "name"),
                    f"duplicate rule name {rule.name!r} (first used by rule {names[rule.name]})",
                )
            names[rule.name] = i
            for key, condition in rule.when.items():
                path = ("rules", i, "when", key)
                if key not in vocabulary and not self._deadline_fact(key):
                    raise RulebookError(
                        rb.path,
                        self.lines.key_line(("rules", i, "when"), key),
                        f"rule {rule.name!r}: unknown fact {key!r} in when"
                        + did_you_mean(key, vocabulary),
                    )
                self._when_values(rule.name, path, key, condition, recorded)
            for j, (action, value) in enumerate(rule.actions):
                self._action(rule.name, ("rules", i, "then", j, action), action, value)

    def _when_values(
        self, rule: str, path: tuple[Any, ...], key: str, condition: Any, recorded: set[str]
    ) -> None:
        rb = self.rb
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
                if not self._known_deadline(str(value)):
                    raise self.fail(
                        path,
                        f"rule {rule!r}: when tests undeclared deadline {value!r}"
                        + did_you_mean(str(value), rb.deadlines),
                    )
            return
        else:
            return
        for value in _condition_values(condition):
            if value not in known:
                raise self.fail(
                    path,
                    f"rule {rule!r}: unknown {what} {value!r}" + did_you_mean(str(value), known),
                )

    def _action(self, rule: str, path: tuple[Any, ...], action: str, value: Any) -> None:
        rb = self.rb
        if action == "transition" and value not in rb.states:
            raise self.fail(
                path,
                f"rule {rule!r}: transition to undeclared state {value!r}"
                + did_you_mean(value, rb.states),
            )
        if action == "send_notice" and value not in rb.notices:
            raise self.fail(
                path,
                f"rule {rule!r}: send_notice names undeclared notice {value!r}"
                + did_you_mean(value, rb.notices),
            )
        if action in ("set_deadlines", "cancel_deadlines") and value != "all":
            for k, name in enumerate(value):
                if not self._known_deadline(name):
                    raise self.fail(
                        (*path, k),
                        f"rule {rule!r}: {action} names undeclared deadline {name!r}"
                        + did_you_mean(name, rb.deadlines),
                    )


def _calculators() -> Mapping[str, Any]:
    """The registered calculators, imported on first use rather than with this module."""
    from contracts.calculators import CALCULATORS

    return CALCULATORS


def _condition_values(condition: Any) -> list[Any]:
    if isinstance(condition, dict):
        values: list[Any] = []
        for v in condition.values():
            values.extend(v if isinstance(v, list) else [v])
        return values
    return [condition]


def _term_sheet_has(dotted: str) -> bool:
    """Whether a dotted path exists in the TermSheet model (checked on the classes)."""
    node: Any = TermSheet
    for part in dotted.split("."):
        if not (inspect.isclass(node) and issubclass(node, BaseModel)):
            # Below a dict or a plain value: only a real term sheet can tell.
            return True
        field = node.model_fields.get(part)
        if field is None:
            return False
        node = field.annotation
    return True
