"""Scenarios: a clause's cases as data, in ``rules/clauses/<clause>/scenarios.yaml``.

A clause's scenarios hold the facts a contract manager gives to open its case today
(``start``, dates relative to an injected ``now``), its rulebook as a table of the
facts the engine sees and the decisions expected (``decisions``), and optionally whole
cases step by step (``paths``). They drive the tests of every clause, the chaos run
(paths that happen now) and the history recorder (paths at a fixed moment), so that
adding a clause needs no Python edit to them.

Loading checks the file against ``rules/schema/scenarios.schema.json`` and then what the
schema cannot express; every problem is a :class:`ScenariosError` that names the file,
the line and the key. :func:`check_against` cross-checks the names with the clause's
rulebook. Pure: no clock is read here, ``now`` is always given.

Relative dates (``{at: now-1h}``, ``{date: today-2d}``) are resolved by
rules/relative_dates.py; :func:`resolve` and :func:`resolve_facts` are named here too.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from rules.relative_dates import resolve, resolve_facts
from rules.rulebook import ACTIONS, CLAUSES_DIR, COULD_NOT_START, EVENTS, Rulebook, RulebookError
from rules.rulebook.errors import did_you_mean
from rules.rulebook.source import Lines, compose
from rules.rulebook.vocabulary import EXPECT_NOTICE

FILE_NAME = "scenarios.yaml"
SCHEMA_PATH = Path(__file__).parent / "schema" / "scenarios.schema.json"

#: One expected decision: (rule, action, value), as rules.engine.Decision holds them.
Expected = tuple[str, str, Any]


class ScenariosError(RulebookError):
    """A scenarios file that cannot be used: file, line and reason (naming the key)."""


@dataclass(frozen=True)
class DecisionRow:
    """One row of a decision table.

    Attributes:
        name: What the row shows; unique in its file (the test's id).
        facts: The row's own facts (event, state, deadline or fact, and its ``facts``).
        expect: The decisions expected, in the engine's order.
        line: The row's line in the file.
    """

    name: str
    facts: dict[str, Any]
    expect: tuple[Expected, ...]
    line: int


@dataclass(frozen=True)
class _Taken:
    """Who takes a step and why: the step's, else its path's; ``None``: the runner's."""

    by: str | None = field(default=None, kw_only=True)
    reason: str | None = field(default=None, kw_only=True)


@dataclass(frozen=True)
class Step(_Taken):
    """Once the case is in state ``in_state``, record ``fact`` with ``values``.

    ``values`` are as written: resolve their relative dates with :func:`resolve_facts`.
    """

    in_state: str
    fact: str
    values: dict[str, Any]
    line: int


@dataclass(frozen=True)
class Act(_Taken):
    """Once the case is in state ``in_state``, an operator's ``action`` (the case update
    of that name) with ``values`` as its request's fields.

    ``approve_notice`` and ``revise_held_notice`` (whose ``values`` are the notice's
    corrected fields) act on every held notice, ``resolve_escalation`` on every open
    escalation, ``decide_amendment`` on the latest amendment; ``by`` is the actor and
    ``reason`` the reason (a resolved escalation's note).
    """

    in_state: str
    action: str
    values: dict[str, Any]
    line: int


@dataclass(frozen=True)
class Travel:
    """The clock moves to ``to`` (``{at: ...}`` as written, against the path's ``at``)."""

    to: dict[str, Any]
    line: int


@dataclass(frozen=True)
class Reach:
    """Waits until ``deadline`` has come due: none of that name pending at or before the
    clock. The clock does not move: a travel step takes it past the deadline first."""

    deadline: str
    line: int


PathStep = Step | Act | Travel | Reach


@dataclass(frozen=True)
class CasePath:
    """A whole case: how it starts, the steps on the way, the state it ends in.

    Attributes:
        name: What the path shows; unique in its file.
        start: The start facts as written: the clause's ``start`` with the path's own
            over it. Resolve them with :func:`resolve_facts`.
        steps: Facts recorded, operator actions, the clock moved and deadlines waited
            for, in order.
        approve_held: Whether notices held for approval are approved as they come.
        end_state: The state the case is in at the end.
        closed: Whether the case has ended then.
        line: The path's line in the file.
        at: The fixed moment the path happens at (the clock is moved there before the
            case starts; its relative dates resolve against it), or ``None``: it
            happens now, on a real clock, and has no travel steps.
        histories: The names it is recorded as (``tests/histories/<name>.json``), the
            current one last.
        case_id: Its case's fixed id, if it has one.
        ready: Whether the runner waits for the case's first step (the workflow's
            ready update) before going on.
        history_limit: Events after which the case continues as new, if not the
            workflow's default.
        our_side: Which party runs Clauseflow in this path (``customer`` or
            ``provider``); ``None`` is the reference term sheet's.
    """

    name: str
    start: dict[str, Any]
    steps: tuple[PathStep, ...]
    approve_held: bool
    end_state: str
    closed: bool
    line: int
    at: dt.datetime | None = None
    histories: tuple[str, ...] = ()
    case_id: str | None = None
    ready: bool = True
    history_limit: int | None = None
    #: Which party runs Clauseflow in this path; None: the reference term sheet's.
    our_side: str | None = None
    #: The rulebook version its case runs; None: the decision table's.
    rulebook_version: int | None = None

    @property
    def records(self) -> tuple[Step, ...]:
        """The steps that record a fact."""
        return tuple(step for step in self.steps if isinstance(step, Step))

    def timeline(self, *, now: dt.datetime, time_zone: str) -> list[tuple[dt.datetime, Step]]:
        """Each fact the path records, with the clock then: its ``at`` (else ``now``),
        moved by the travel steps before it."""
        clock = start = self.at or now
        found = []
        for step in self.steps:
            if isinstance(step, Travel):
                clock = dt.datetime.fromisoformat(resolve(step.to, now=start, time_zone=time_zone))
            elif isinstance(step, Step):
                found.append((clock, step))
        return found

    @property
    def closed_by_operator(self) -> str | None:
        """The outcome of the path's ``close_case`` action (a state no rulebook declares),
        if it has one."""
        closes = [s for s in self.steps if isinstance(s, Act) and s.action == "close_case"]
        return str(closes[-1].values.get("outcome")) if closes else None


@dataclass(frozen=True)
class Scenarios:
    """A clause's scenarios file, loaded and checked.

    Attributes:
        clause: The clause, the name of the folder the file is in.
        path: The file.
        start: The start facts as written (relative dates unresolved): see
            :meth:`start_facts`.
        rulebook_version: The rulebook version the decision table is written for.
        case: The facts every row starts from (besides clause and rulebook_version).
        rows: The decision table.
        paths: Whole cases, if the file has any.
    """

    clause: str
    path: Path
    start: dict[str, Any]
    rulebook_version: int
    case: dict[str, Any]
    rows: tuple[DecisionRow, ...]
    paths: tuple[CasePath, ...] = ()

    def start_facts(self, *, now: dt.datetime, time_zone: str) -> dict[str, Any]:
        """The start facts with every relative date resolved against ``now``.

        Args:
            now: The clock, timezone-aware.
            time_zone: The contract's zone: ``today``, ``month_start`` and ``@HH:MM``
                are its dates and wall clock.

        Raises:
            ValueError: ``now`` is naive or ``time_zone`` unknown (programming errors).
        """
        return resolve_facts(self.start, now=now, time_zone=time_zone)

    def facts(self, row: DecisionRow) -> dict[str, Any]:
        """What the engine sees for ``row``: the clause and version, the case, the row."""
        return {
            "clause": self.clause,
            "rulebook_version": self.rulebook_version,
            **self.case,
            **row.facts,
        }

    def where(self, row: DecisionRow) -> str:
        """``file:line`` of ``row``, for a failing test to point at."""
        return f"{self.path}:{row.line}"


def scenarios_path(clause: str, folder: Path | str = CLAUSES_DIR) -> Path:
    """The scenarios file of ``clause`` under ``folder`` (``rules/clauses`` by default)."""
    return Path(folder) / clause / FILE_NAME


def load_scenarios(path: Path | str) -> Scenarios:
    """Loads and checks one ``<clause>/scenarios.yaml``.

    Raises:
        ScenariosError: The file is missing, is not valid YAML, breaks the schema, is in
            a folder other than its clause's, or repeats a row's name.
    """
    path = Path(path).resolve()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenariosError(path, 1, f"cannot read the scenarios: {exc.strerror or exc}") from exc
    try:
        root, data = compose(path, text)
    except RulebookError as exc:
        raise ScenariosError(exc.file, exc.line, exc.reason) from exc
    lines = Lines(root)
    _check_schema(path, lines, data)
    if data["clause"] != path.parent.name:
        raise ScenariosError(
            path,
            lines.line(["clause"]),
            f"clause: {data['clause']!r} is not the folder's clause {path.parent.name!r}",
        )
    table = data["decisions"]
    rows: list[DecisionRow] = []
    seen: set[str] = set()
    for index, raw in enumerate(table["rows"]):
        where = ["decisions", "rows", index]
        if raw["name"] in seen:
            raise ScenariosError(
                path, lines.line([*where, "name"]), f"{_where(where)}.name: {raw['name']!r} twice"
            )
        seen.add(raw["name"])
        rows.append(
            DecisionRow(
                name=raw["name"],
                facts=_row_facts(raw),
                expect=tuple((str(r), str(a), v) for r, a, v in raw["expect"]),
                line=lines.line(where),
            )
        )
    scenarios = Scenarios(
        clause=data["clause"],
        path=path,
        start=dict(data["start"]),
        rulebook_version=table["rulebook_version"],
        case=dict(table.get("case") or {}),
        rows=tuple(rows),
        paths=_paths(path, lines, data),
    )
    _check_vocabulary(scenarios, lines)
    return scenarios


def check_against(scenarios: Scenarios, rulebook: Rulebook) -> None:
    """Checks that the table and the paths name only what ``rulebook`` declares.

    Raises:
        ScenariosError: A row's expected rule, recorded fact or deadline, or a path's
            state or recorded fact, is not the rulebook's, or the rulebook is of another
            clause or version.
    """
    if (rulebook.clause, rulebook.version) != (scenarios.clause, scenarios.rulebook_version):
        raise ScenariosError(
            scenarios.path,
            1,
            f"the table is for {scenarios.clause} v{scenarios.rulebook_version}, "
            f"not {rulebook.clause} v{rulebook.version}",
        )
    rules = {rule.name for rule in rulebook.rules}
    for index, row in enumerate(scenarios.rows):
        where = f"decisions.rows[{index}]"
        for rule, _, _ in row.expect:
            if rule not in rules:
                raise _unknown(scenarios, row, f"{where}.expect", "rule", rule, rules)
        fact = row.facts.get("fact")
        if row.facts.get("event") == "fact_recorded" and fact not in rulebook.recordable_facts:
            names = set(rulebook.recordable_facts)
            raise _unknown(scenarios, row, f"{where}.recorded", "recordable fact", fact, names)
        group = row.facts.get("deadline_group")
        if row.facts.get("event") == "deadline_reached" and group not in rulebook.deadlines:
            names = set(rulebook.deadlines)
            raise _unknown(scenarios, row, f"{where}.group", "deadline", group, names)
    # A case whose facts cannot be run waits in the engine's own state.
    states, facts = {*rulebook.states, COULD_NOT_START}, set(rulebook.recordable_facts)
    for index, case in enumerate(scenarios.paths):
        where = f"paths[{index}]"
        ends = {*rulebook.states, case.closed_by_operator}
        if case.end_state not in ends:
            raise _unknown(scenarios, case, f"{where}.end.state", "state", case.end_state, states)
        for at, step in enumerate(case.steps):
            here = f"{where}.steps[{at}]"
            if isinstance(step, Step | Act) and step.in_state not in states:
                raise _unknown(scenarios, step, f"{here}.in", "state", step.in_state, states)
            if isinstance(step, Step) and step.fact not in facts:
                raise _unknown(
                    scenarios, step, f"{here}.record", "recordable fact", step.fact, facts
                )
            if isinstance(step, Reach) and not _is_deadline(step.deadline, rulebook):
                names = set(rulebook.deadlines)
                raise _unknown(scenarios, step, f"{here}.reach", "deadline", step.deadline, names)


def _is_deadline(name: str, rulebook: Rulebook) -> bool:
    # A deadline made once per value (repeat_for) is named <declared name>_<value>.
    return any(name == d or name.startswith(f"{d}_") for d in rulebook.deadlines)


def _paths(path: Path, lines: Lines, data: Mapping[str, Any]) -> tuple[CasePath, ...]:
    paths: list[CasePath] = []
    seen: set[str] = set()
    recorded: set[str] = set()
    for index, raw in enumerate(data.get("paths") or []):
        where = ["paths", index]
        if raw["name"] in seen:
            raise ScenariosError(
                path, lines.line([*where, "name"]), f"{_where(where)}.name: {raw['name']!r} twice"
            )
        seen.add(raw["name"])
        histories = raw.get("history", ())
        histories = (histories,) if isinstance(histories, str) else tuple(histories)
        for name in histories:
            if name in recorded:
                line = lines.line([*where, "history"])
                raise ScenariosError(path, line, f"{_where(where)}.history: {name!r} twice")
            recorded.add(name)
        at = raw.get("at")
        steps = tuple(
            _step(path, lines, [*where, "steps", n], step, raw, fixed=at is not None)
            for n, step in enumerate(raw.get("steps") or [])
        )
        paths.append(
            CasePath(
                name=raw["name"],
                start={**data["start"], **(raw.get("start") or {})},
                steps=steps,
                approve_held=raw.get("approve_held", False),
                end_state=raw["end"]["state"],
                closed=raw["end"].get("closed", True),
                line=lines.line(where),
                at=dt.datetime.fromisoformat(at) if at else None,
                histories=histories,
                case_id=raw.get("case_id"),
                ready=raw.get("ready", True),
                history_limit=raw.get("history_limit"),
                our_side=raw.get("our_side"),
                rulebook_version=raw.get("rulebook_version"),
            )
        )
    return tuple(paths)


def _step(
    path: Path,
    lines: Lines,
    where: list[Any],
    raw: Mapping[str, Any],
    case: Mapping[str, Any],
    *,
    fixed: bool,
) -> PathStep:
    line = lines.line(where)
    by, reason = raw.get("by", case.get("by")), raw.get("reason", case.get("reason"))
    values = dict(raw.get("values") or {})
    if "record" in raw:
        return Step(raw["in"], raw["record"], values, line, by=by, reason=reason)
    if "act" in raw:
        return Act(raw["in"], raw["act"], values, line, by=by, reason=reason)
    if "reach" in raw:
        return Reach(raw["reach"], line)
    # A real clock cannot be moved: only a path at a fixed moment travels.
    if not fixed:
        reason = f"{_where(where)}.travel: only a path with a fixed moment (at) can travel"
        raise ScenariosError(path, line, reason)
    return Travel(dict(raw["travel"]), line)


def _row_facts(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The facts a row stands for: its shape (deadline reached, fact recorded or an
    event), its state, then its own ``facts``, which win."""
    facts: dict[str, Any]
    if "deadline" in raw:
        deadline = raw["deadline"]
        group = raw.get("group", deadline)
        facts = {"event": "deadline_reached", "deadline": deadline, "deadline_group": group}
    elif "recorded" in raw:
        facts = {"event": "fact_recorded", "fact": raw["recorded"]}
    else:
        facts = {"event": raw["event"]}
    if "state" in raw:
        facts["state"] = raw["state"]
    return {**facts, **(raw.get("facts") or {})}


def _check_vocabulary(scenarios: Scenarios, lines: Lines) -> None:
    # Events and actions are the engine's words (rules.rulebook.vocabulary), not the schema's.
    for index, row in enumerate(scenarios.rows):
        where = ["decisions", "rows", index]
        event = row.facts.get("event")
        if event not in EVENTS:
            hint = did_you_mean(str(event), EVENTS)
            reason = f"{_where([*where, 'event'])}: unknown event {event!r}{hint}"
            raise ScenariosError(scenarios.path, lines.line([*where, "event"]), reason)
        # expect_notice: a send_notice of the other party's notice, as the decide
        # activity turns it (rules.senders.sort_decisions).
        known = (*ACTIONS, EXPECT_NOTICE)
        for at, (_, action, _) in enumerate(row.expect):
            if action not in known:
                path = [*where, "expect", at]
                reason = f"{_where(path)}: unknown action {action!r}{did_you_mean(action, known)}"
                raise ScenariosError(scenarios.path, lines.line(path), reason)


def _unknown(
    scenarios: Scenarios,
    node: DecisionRow | CasePath | PathStep,
    where: str,
    kind: str,
    name: Any,
    names: set[str],
) -> ScenariosError:
    hint = did_you_mean(str(name), names)
    reason = f"{where}: {name!r} is not a {kind} of the {scenarios.clause} rulebook{hint}"
    return ScenariosError(scenarios.path, node.line, reason)


def _where(path: list[Any]) -> str:
    """``decisions.rows[3].expect``: a path of keys and indexes as the docs write it."""
    text = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
    return text.removeprefix(".") or "the scenarios"


@functools.cache
def _validator() -> Any:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)  # the draft its $schema names
    validator.check_schema(schema)
    return validator(schema)


def _check_schema(path: Path, lines: Lines, data: Any) -> None:
    # The first problem in the file, in the schema's own words (x-error) where it has them.
    errors = list(_validator().iter_errors(data))
    if not errors:
        return
    # A misspelt key is also a missing one (and a step of no kind): say which key is
    # unknown, not what is missing.
    unknown = {tuple(e.absolute_path) for e in errors if e.validator == "additionalProperties"}
    missing = ("required", "oneOf", "dependentRequired")
    errors = [
        e for e in errors if e.validator not in missing or tuple(e.absolute_path) not in unknown
    ]
    found = [_located(lines, error) for error in errors]
    line, reason = min(found, key=lambda lr: lr[0])
    raise ScenariosError(path, line, reason)


def _located(lines: Lines, error: jsonschema.ValidationError) -> tuple[int, str]:
    path = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extras = [str(k) for k in error.instance if k not in allowed]
        if extras:
            hint = did_you_mean(extras[0], allowed)
            return lines.key_line(
                path, extras[0]
            ), f"{_where(path)}: unknown key {extras[0]!r}{hint}"
    custom = error.schema.get("x-error") if isinstance(error.schema, dict) else None
    message = custom.format(instance=error.instance) if custom else error.message
    if "propertyNames" in error.schema_path:
        return lines.key_line(path, str(error.instance)), f"{_where(path)}: {message}"
    return lines.line(path), f"{_where(path)}: {message}"
