"""Rulebooks: the declarative YAML that decides each clause's transitions and notices.

A rulebook lives at ``rules/clauses/<clause>/rulebook.v<N>.yaml``. Loading one checks it
against ``rules/schema/rulebook.schema.json`` and then cross-checks its names (states,
deadlines, notices, parameters, facts). Every problem is reported as a
:class:`RulebookError` that names the file, the line and the reason, so a typo is caught
when the worker starts rather than months later when a deadline fires.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import json
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import jinja2
import jsonschema
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from contracts.terms import TermSheet

SCHEMA_PATH = Path(__file__).parent / "schema" / "rulebook.schema.json"
CLAUSES_DIR = Path(__file__).parent / "clauses"

FactType = Literal[
    "datetime", "date", "string", "party", "integer", "decimal", "money", "boolean", "email"
]
FACT_TYPES: tuple[str, ...] = FactType.__args__  # type: ignore[attr-defined]

# Events the workflow posts to the engine. Add new ones here (and in the workflow).
EVENTS: tuple[str, ...] = ("case_started", "deadline_reached", "fact_recorded", "notice_failed")

# Who a notice can go to; the notice sender resolves each role to addresses.
RECIPIENT_ROLES: tuple[str, ...] = (
    "customer",
    "provider",
    "owner",
    "notifying_party",
    "receiving_party",
)

ACTIONS: tuple[str, ...] = (
    "transition",
    "set_deadlines",
    "cancel_deadlines",
    "send_notice",
    "escalate",
    "record",
    "close",
)

DeadlineUnit = Literal["calendar_days", "business_days", "hours", "business_hours", "months"]
DEADLINE_UNITS: tuple[str, ...] = DeadlineUnit.__args__  # type: ignore[attr-defined]

# Keys the workflow always sets on the facts it evaluates; `when` may test them.
EVENT_KEYS: tuple[str, ...] = (
    "event",
    "state",
    "deadline",
    "deadline_group",
    "fact",
    "notice",
    "delivery_event",
)

# Keys the engine uses itself; no fact, field or parameter may take these names.
RESERVED_NAMES: frozenset[str] = frozenset({*EVENT_KEYS, "sid", "id", "clause", "rulebook_version"})

#: The state the engine puts a case in when its first step cannot be taken at all (its
#: facts cannot be run); no rulebook may declare it.
COULD_NOT_START = "could_not_start"
COULD_NOT_START_LABEL = "Could not start: its facts cannot be run; close it and open it again"

#: Fact types that hold an amount or a count, to which ``positive`` applies.
NUMBER_TYPES: tuple[str, ...] = ("decimal", "money", "integer")

#: Fact types that hold a day or an instant: a deadline may count from them.
TIME_TYPES: tuple[str, ...] = ("datetime", "date")

_FILE_NAME = re.compile(r"^rulebook\.v([1-9][0-9]*)\.yaml$")


def _file_version(path: Path) -> int:
    """The ``N`` of a file named ``rulebook.v<N>.yaml``.

    Raises:
        RulebookError: The file is named otherwise.
    """
    match = _FILE_NAME.match(path.name)
    if match is None:
        raise RulebookError(
            path, 1, "a rulebook file must be named rulebook.v<N>.yaml, N its version"
        )
    return int(match.group(1))


class RulebookError(ValueError):
    """A rulebook that cannot be used, with the file and line where the problem is.

    Attributes:
        file: The rulebook file.
        line: The 1-based line of the offending YAML node (1 when the file as a whole is
            at fault).
        reason: What is wrong, in words.
    """

    def __init__(self, file: Path | str, line: int, reason: str) -> None:
        self.file = Path(file)
        self.line = line
        self.reason = reason
        super().__init__(f"{self.file}:{line}: {reason}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.file, self.line, self.reason))


class UnknownRulebook(KeyError):
    """No rulebook is registered for a clause (and version)."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)

    def __str__(self) -> str:
        return self.message


class ParameterError(ValueError):
    """A parameter value that a rulebook needs is missing or of the wrong kind."""


# --------------------------------------------------------------------------- models


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class FactSpec(_Spec):
    """One fact a case starts with, or one field of a recordable fact."""

    type: FactType
    required: bool = False
    not_in_future: bool = False
    day_of_month: int | None = Field(default=None, ge=1, le=28)
    label: str
    #: An amount or count that must be more than zero (never negative in any case).
    positive: bool = False
    #: A date or instant that may fall before the contract's effective date.
    may_precede_contract: bool = False
    #: A recorded date or instant that may fall before the fact that opened the case.
    may_precede_opening: bool = False


class RequireAnyTrue(_Spec):
    """At least one of these boolean fields must be true; else ``message`` says why not."""

    fields: list[str]
    message: str


class RecordableFact(_Spec):
    """A fact a person may record while a case runs.

    ``allowed_in`` lists the states in which it may be recorded; empty means any
    non-terminal state.
    """

    label: str
    allowed_in: list[str] = Field(default_factory=list)
    fields: dict[str, FactSpec]
    allowed_before: str | None = None
    require_any_true: list[RequireAnyTrue] = Field(default_factory=list)


class StateSpec(_Spec):
    """A state of a case."""

    label: str
    terminal: bool = False
    expected_dwell_days: int | None = None


class DeadlineFrom(_Spec):
    """What a deadline counts from: a datetime/date fact or another deadline."""

    fact: str | None = None
    deadline: str | None = None
    label: str | None = None


class ParamRef(_Spec):
    """``{param: name}``: a value taken from the rulebook's parameters."""

    param: str


class EachRef(_Spec):
    """``{each: true}``: the count is each value of the deadline's ``repeat_for`` list."""

    each: Literal[True]


class Period(_Spec):
    """How long a deadline runs."""

    count: int | ParamRef | EachRef
    unit: DeadlineUnit


class DeadlineSpec(_Spec):
    """A deadline as the rulebook declares it (before ``repeat_for`` expansion)."""

    label: str
    from_: DeadlineFrom = Field(alias="from")
    period: Period
    direction: Literal["after", "before"] = "after"
    roll: Literal["forward", "backward", "none"] = "forward"
    ends: str = "end_of_day"
    repeat_for: ParamRef | None = None
    time_of_the_essence: bool = False
    fixed_because: str | None = None
    recurring: bool = False

    @property
    def effective_roll(self) -> str:
        """The roll to apply: time of the essence means the date never rolls."""
        return "none" if self.time_of_the_essence else self.roll


class NoticeSpec(_Spec):
    """A notice the rules can send; ``subject`` is a Jinja template string."""

    subject: str
    to: list[str]
    copy_: list[str] = Field(default_factory=list, alias="copy")
    requires_approval: bool = False


Scalar = str | int | float | bool


class RuleSpec(_Spec):
    """One rule: when all conditions hold, the actions in ``then`` are decided, in order."""

    name: str
    when: dict[str, Scalar | dict[str, Any]]
    then: list[dict[str, Any]]

    @field_validator("then")
    @classmethod
    def _single_key(cls, v: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for step in v:
            if len(step) != 1:
                raise ValueError("each step of then must have exactly one action")
        return v

    @property
    def actions(self) -> list[tuple[str, Any]]:
        """The ``then`` steps as (action, value) pairs."""
        return [next(iter(step.items())) for step in self.then]


@dataclass(frozen=True)
class ExpandedDeadline:
    """A deadline after ``repeat_for`` expansion, with its count resolved.

    Attributes:
        name: ``effective_date``, or ``reminder_60`` for one value of a repeated deadline.
        group: The declared (base) name; equal to ``name`` unless repeated.
        label: The declared label.
        spec: The declared deadline.
        count: How many ``spec.period.unit`` the period lasts.
    """

    name: str
    group: str
    label: str
    spec: DeadlineSpec
    count: int


class Rulebook(_Spec):
    """A loaded, checked rulebook. ``path`` is its file and ``folder`` the clause folder."""

    clause: str
    version: int
    title: str
    section: str
    summary: str
    parameters: dict[str, str] = Field(default_factory=dict)
    facts: dict[str, FactSpec] = Field(default_factory=dict)
    recordable_facts: dict[str, RecordableFact] = Field(default_factory=dict)
    states: dict[str, StateSpec]
    deadlines: dict[str, DeadlineSpec] = Field(default_factory=dict)
    notices: dict[str, NoticeSpec] = Field(default_factory=dict)
    derive: list[str] = Field(default_factory=list)
    rules: list[RuleSpec]
    path: Path
    folder: Path
    #: The start fact whose moment opens the case (a notice received, an incident
    #: reported): facts recorded later are not dated before it. See ``opening_fact``.
    opened_by: str | None = None

    @property
    def key(self) -> tuple[str, int]:
        """``(clause, version)``."""
        return (self.clause, self.version)

    @property
    def opening_fact(self) -> str | None:
        """The start fact whose moment the case's story begins with, if there is one.

        ``opened_by`` when the rulebook names it; otherwise its only required datetime
        start fact (the notice, report or claim that opened the case). A rulebook with
        none, or several (a maintenance window's start and end), has no opening fact.
        """
        if self.opened_by is not None:
            return self.opened_by
        instants = [n for n, f in self.facts.items() if f.type == "datetime" and f.required]
        return instants[0] if len(instants) == 1 else None

    def template_paths(self, notice: str) -> tuple[Path, Path]:
        """The text and HTML Jinja templates of a notice.

        Args:
            notice: A notice name declared in ``notices``.

        Returns:
            ``(notices/<notice>.txt.j2, notices/<notice>.html.j2)`` inside ``folder``.
        """
        base = self.folder / "notices"
        return base / f"{notice}.txt.j2", base / f"{notice}.html.j2"

    def parameter_values(self, terms: TermSheet) -> dict[str, Any]:
        """Resolves ``parameters`` against a term sheet.

        Args:
            terms: The contract's term sheet; each parameter is ``terms.parameter(path)``.

        Returns:
            ``{parameter: value}`` with Decimals turned into strings (also inside lists),
            so the result is JSON-safe.

        Raises:
            ParameterError: A path does not exist in the term sheet.
        """
        values: dict[str, Any] = {}
        for name, path in self.parameters.items():
            try:
                values[name] = _json_safe(terms.parameter(path))
            except KeyError as exc:
                raise ParameterError(
                    f"{self.clause} v{self.version}: parameter {name!r} names {path!r}, "
                    "which the term sheet does not have"
                ) from exc
        return values

    def expanded_deadlines(self, params: Mapping[str, Any]) -> dict[str, ExpandedDeadline]:
        """Expands ``repeat_for`` deadlines and resolves every count.

        Args:
            params: Parameter values, as returned by :meth:`parameter_values`.

        Returns:
            Deadlines by expanded name, in declaration order. A deadline with
            ``repeat_for: {param: p}`` becomes one deadline per value ``v`` of the list
            ``params[p]``, named ``f"{name}_{v}"`` with count ``v`` and group ``name``.

        Raises:
            ParameterError: A parameter is missing, not a positive whole number, or (for
                ``repeat_for``) not a list of them; or two expanded names collide.
        """
        out: dict[str, ExpandedDeadline] = {}

        def add(item: ExpandedDeadline) -> None:
            if item.name in out:
                raise ParameterError(f"deadline name {item.name!r} occurs twice after expansion")
            out[item.name] = item

        for name, spec in self.deadlines.items():
            if spec.repeat_for is not None:
                values = self._param(params, spec.repeat_for.param, name)
                if not isinstance(values, list | tuple):
                    raise ParameterError(
                        f"deadline {name!r}: parameter {spec.repeat_for.param!r} must be a "
                        f"list of whole numbers, not {values!r}"
                    )
                for value in values:
                    count = _positive_int(value, f"deadline {name!r}: each value")
                    add(ExpandedDeadline(f"{name}_{count}", name, spec.label, spec, count))
                continue
            period_count = spec.period.count
            if isinstance(period_count, ParamRef):
                count = _positive_int(
                    self._param(params, period_count.param, name),
                    f"deadline {name!r}: parameter {period_count.param!r}",
                )
            elif isinstance(period_count, int):
                count = period_count
            else:  # pragma: no cover - the loader rejects each:true without repeat_for
                raise ParameterError(f"deadline {name!r}: each needs repeat_for")
            add(ExpandedDeadline(name, name, spec.label, spec, count))
        return out

    def is_terminal(self, state: str) -> bool:
        """Whether ``state`` is a declared terminal state."""
        spec = self.states.get(state)
        return bool(spec and spec.terminal)

    @staticmethod
    def _param(params: Mapping[str, Any], param: str, deadline: str) -> Any:
        if param not in params:
            raise ParameterError(f"deadline {deadline!r} needs parameter {param!r}")
        return params[param]


def _positive_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ParameterError(f"{what} must be a positive whole number, not {value!r}")
    return value


def _json_safe(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, BaseModel):
        return _json_safe(value.model_dump(mode="json"))
    return value


# --------------------------------------------------------------------------- YAML + lines


class _UniqueKeyLoader(yaml.SafeLoader):
    """A SafeLoader that keeps node marks and rejects duplicate mapping keys."""


def _compose(path: Path, text: str) -> tuple[Node, Any]:
    loader = _UniqueKeyLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise RulebookError(path, 1, "the file is empty")
        _check_duplicate_keys(path, node)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        reason = exc.problem or str(exc)
        if exc.context and exc.context_mark is not None:
            # Where the unclosed construct began is often where the mistake is.
            reason += f" ({exc.context} that starts on line {exc.context_mark.line + 1})"
        raise RulebookError(path, line, f"invalid YAML: {reason}") from exc
    except yaml.YAMLError as exc:
        raise RulebookError(path, 1, f"invalid YAML: {exc}") from exc
    finally:
        loader.dispose()
    return node, data


def _check_duplicate_keys(path: Path, node: Node) -> None:
    if isinstance(node, MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if isinstance(key, ScalarNode):
                if key.value in seen:
                    raise RulebookError(
                        path, key.start_mark.line + 1, f"duplicate key {key.value!r}"
                    )
                seen.add(key.value)
            _check_duplicate_keys(path, value)
    elif isinstance(node, SequenceNode):
        for item in node.value:
            _check_duplicate_keys(path, item)


class _Lines:
    """Finds the line of a node by its path (keys and list indexes) in the YAML."""

    def __init__(self, root: Node) -> None:
        self.root = root

    def _walk(self, path: tuple[Any, ...]) -> Iterator[tuple[Node | None, Node]]:
        """Yields (key node or None, value node) for each step that exists."""
        node = self.root
        yield None, node
        for part in path:
            if isinstance(node, MappingNode):
                for key, value in node.value:
                    if isinstance(key, ScalarNode) and key.value == str(part):
                        node = value
                        yield key, value
                        break
                else:
                    return
            elif isinstance(node, SequenceNode) and isinstance(part, int):
                if not 0 <= part < len(node.value):
                    return
                node = node.value[part]
                yield None, node
            else:
                return

    def line(self, path: tuple[Any, ...] | list[Any]) -> int:
        """The 1-based line of the deepest existing node on ``path`` (its key if any)."""
        key, value = list(self._walk(tuple(path)))[-1]
        mark = (key if key is not None else value).start_mark
        return mark.line + 1

    def key_line(self, path: tuple[Any, ...] | list[Any], key_name: str) -> int:
        """The line of key ``key_name`` inside the mapping at ``path``."""
        _, node = list(self._walk(tuple(path)))[-1]
        if isinstance(node, MappingNode):
            for key, _ in node.value:
                if isinstance(key, ScalarNode) and key.value == str(key_name):
                    return key.start_mark.line + 1
        return self.line(path)


def _where(path: tuple[Any, ...] | list[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "the rulebook"


# --------------------------------------------------------------------------- schema


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _schema_error(path: Path, lines: _Lines, data: Any) -> RulebookError | None:
    errors = list(_validator().iter_errors(data))
    if not errors:
        return None
    located = [(_locate_schema_error(lines, e), e) for e in errors]
    # Report the first problem in the file; ties go to the most specific error.
    (line, reason), _ = min(located, key=lambda le: (le[0][0], -len(le[1].path)))
    return RulebookError(path, line, reason)


def _locate_schema_error(lines: _Lines, error: jsonschema.ValidationError) -> tuple[int, str]:
    error_path = list(error.path)
    custom = _x_error(error)
    if error.validator in ("oneOf", "anyOf") and not custom and error.context:
        best = jsonschema.exceptions.best_match(error.context)
        if best is not None:
            error = best
            custom = _x_error(error)
            error_path += list(error.relative_path)
    where = _where(error_path)
    message = custom.format(instance=error.instance) if custom else error.message
    if "propertyNames" in error.schema_path:
        return lines.key_line(error_path, str(error.instance)), f"{where}: {message}"
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extras = [k for k in error.instance if k not in allowed]
        if extras:
            hint = _did_you_mean(str(extras[0]), allowed)
            return (
                lines.key_line(error_path, str(extras[0])),
                f"{where}: unknown key {extras[0]!r}{hint}",
            )
    return lines.line(error_path), f"{where}: {message}"


def _x_error(error: jsonschema.ValidationError) -> str | None:
    """The schema's own wording for this error (its ``x-error``), if it has one."""
    return error.schema.get("x-error") if isinstance(error.schema, dict) else None


def _did_you_mean(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


# --------------------------------------------------------------------------- loading


def load_rulebook(path: Path | str, check_templates: bool = True) -> Rulebook:
    """Loads and checks one rulebook file.

    Args:
        path: ``.../<clause>/rulebook.v<N>.yaml``; the folder name must equal ``clause``
            and ``N`` must equal ``version``.
        check_templates: Also require ``notices/<notice>.txt.j2`` and ``.html.j2`` next to
            the rulebook for every declared notice.

    Returns:
        The rulebook.

    Raises:
        RulebookError: The file is missing, is not valid YAML, breaks the schema, or
            refers to something it does not declare. The error names file and line.
    """
    path = Path(path).resolve()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulebookError(path, 1, f"cannot read the rulebook: {exc.strerror or exc}") from exc
    root, data = _compose(path, text)
    lines = _Lines(root)
    schema_error = _schema_error(path, lines, data)
    if schema_error is not None:
        raise schema_error
    try:
        rulebook = Rulebook.model_validate({**data, "path": path, "folder": path.parent})
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = list(first["loc"])
        raise RulebookError(path, lines.line(loc), f"{_where(loc)}: {first['msg']}") from exc
    _Checker(rulebook, lines, check_templates).run()
    return rulebook


class _Checker:
    """Cross-reference checks that a JSON schema cannot express."""

    def __init__(self, rulebook: Rulebook, lines: _Lines, check_templates: bool) -> None:
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
        if _file_version(rb.path) != rb.version:
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
                    + _did_you_mean(rb.opened_by, rb.facts),
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
                        + _did_you_mean(state, rb.states),
                    )
            for field, field_spec in spec.fields.items():
                self._fact_spec(
                    ("recordable_facts", name, "fields", field), field_spec, recorded=True
                )
            if spec.allowed_before is not None and not self._known_deadline(spec.allowed_before):
                raise self.fail(
                    ("recordable_facts", name, "allowed_before"),
                    f"recordable fact {name!r} is allowed before undeclared deadline "
                    f"{spec.allowed_before!r}" + _did_you_mean(spec.allowed_before, rb.deadlines),
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
                    f"unknown calculator {name!r}" + _did_you_mean(name, calculators),
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
                        + _did_you_mean(source.fact, known),
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
                    + _did_you_mean(target, rb.deadlines),
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
                f"undeclared parameter {param!r}" + _did_you_mean(param, self.rb.parameters),
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
                        + _did_you_mean(key, vocabulary),
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
                        + _did_you_mean(str(value), rb.deadlines),
                    )
            return
        else:
            return
        for value in _condition_values(condition):
            if value not in known:
                raise self.fail(
                    path,
                    f"rule {rule!r}: unknown {what} {value!r}" + _did_you_mean(str(value), known),
                )

    def _action(self, rule: str, path: tuple[Any, ...], action: str, value: Any) -> None:
        rb = self.rb
        if action == "transition" and value not in rb.states:
            raise self.fail(
                path,
                f"rule {rule!r}: transition to undeclared state {value!r}"
                + _did_you_mean(value, rb.states),
            )
        if action == "send_notice" and value not in rb.notices:
            raise self.fail(
                path,
                f"rule {rule!r}: send_notice names undeclared notice {value!r}"
                + _did_you_mean(value, rb.notices),
            )
        if action in ("set_deadlines", "cancel_deadlines") and value != "all":
            for k, name in enumerate(value):
                if not self._known_deadline(name):
                    raise self.fail(
                        (*path, k),
                        f"rule {rule!r}: {action} names undeclared deadline {name!r}"
                        + _did_you_mean(name, rb.deadlines),
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


# --------------------------------------------------------------------------- registry


class RulebookRegistry:
    """All rulebook versions of all clauses, loaded from ``<folder>/<clause>/``.

    Args:
        check_templates: Require every notice's templates (see :func:`load_rulebook`).
    """

    def __init__(self, *, check_templates: bool = True) -> None:
        self.check_templates = check_templates
        self._books: dict[tuple[str, int], Rulebook] = {}
        self._lock = threading.Lock()

    def load(self, folder: Path | str) -> list[Rulebook]:
        """Loads every ``<clause>/rulebook.v<N>.yaml`` under ``folder``.

        Args:
            folder: The clauses folder, such as ``rules/clauses``.

        Returns:
            The rulebooks loaded by this call, sorted by clause and version.

        Raises:
            RulebookError: A file is malformed, is named wrongly, or repeats a version.
            FileNotFoundError: ``folder`` does not exist.
        """
        folder = Path(folder)
        if not folder.is_dir():
            raise FileNotFoundError(f"no rulebook folder {folder}")
        loaded: list[Rulebook] = []
        for file in sorted(folder.glob("*/rulebook*")):
            _file_version(file)  # a misnamed file fails here, before it is read
            loaded.append(load_rulebook(file, check_templates=self.check_templates))
        for rulebook in loaded:
            self.add(rulebook)
        return sorted(loaded, key=lambda r: r.key)

    def add(self, rulebook: Rulebook) -> None:
        """Registers one loaded rulebook.

        Raises:
            RulebookError: The same clause and version is already registered.
        """
        with self._lock:
            existing = self._books.get(rulebook.key)
            if existing is not None and existing.path != rulebook.path:
                raise RulebookError(
                    rulebook.path,
                    1,
                    f"{rulebook.clause} version {rulebook.version} is already loaded from "
                    f"{existing.path}",
                )
            self._books[rulebook.key] = rulebook

    def get(self, clause: str, version: int) -> Rulebook:
        """The rulebook of ``clause`` at ``version``.

        Raises:
            UnknownRulebook: No such clause or version.
        """
        try:
            return self._books[(clause, version)]
        except KeyError:
            versions = self.versions(clause)
            if not versions:
                raise self._unknown_clause(clause) from None
            raise UnknownRulebook(
                f"no rulebook version {version!r} for clause {clause!r}; known versions: "
                f"{', '.join(map(str, versions))}"
            ) from None

    def latest(self, clause: str) -> Rulebook:
        """The highest version of ``clause``.

        Raises:
            UnknownRulebook: No rulebook for the clause.
        """
        versions = self.versions(clause)
        if not versions:
            raise self._unknown_clause(clause)
        return self._books[(clause, versions[-1])]

    def versions(self, clause: str) -> list[int]:
        """The loaded versions of ``clause``, ascending."""
        return sorted(v for c, v in self._books if c == clause)

    def clauses(self) -> list[str]:
        """The clauses with at least one rulebook, sorted."""
        return sorted({c for c, _ in self._books})

    def all(self) -> list[Rulebook]:
        """Every loaded rulebook, sorted by clause and version."""
        return [self._books[k] for k in sorted(self._books)]

    def _unknown_clause(self, clause: str) -> UnknownRulebook:
        return UnknownRulebook(
            f"no rulebook for clause {clause!r}; known clauses: "
            f"{', '.join(self.clauses()) or 'none'}"
        )


@functools.cache
def default_registry() -> RulebookRegistry:
    """The registry of ``rules/clauses`` next to this module, loaded once per process.

    Templates are checked, so a missing notice template stops the worker at start.
    """
    registry = RulebookRegistry()
    registry.load(CLAUSES_DIR)
    return registry
