"""A rulebook as Python objects: the pydantic models of a loaded rulebook and of its parts
(facts, recordable facts, states, deadlines, notices, rules), and :class:`ExpandedDeadline`,
a deadline after ``repeat_for`` expansion.

The models resolve parameters and deadlines against a term sheet; loader.py builds them
from the YAML and checks.py checks what they name.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from contracts.terms import TermSheet
from rules.rulebook.errors import ParameterError
from rules.rulebook.vocabulary import (
    ContractValue,
    DeadlineUnit,
    FactType,
    ParameterType,
    SenderRole,
)


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
    #: The only values a text fact may take (an enumeration, e.g. who opened the case).
    one_of: list[str] | None = None


class ParameterSpec(_Spec):
    """A figure the rulebook reads from the term sheet: its type, its default (the
    reference MSA's), and where a term sheet overrides it.

    ``term`` is the path below the term sheet's ``clauses``; without it the figure sits
    under the rulebook's heading, ``clauses.<terms.heading>.<name>``.
    """

    type: ParameterType
    default: Any
    label: str
    section: str | None = None
    term: str | None = None
    #: Bounds of a number (``at_least`` and ``at_most`` inclusive, ``above`` exclusive).
    at_least: Decimal | None = None
    above: Decimal | None = None
    at_most: Decimal | None = None


class TermsHeading(_Spec):
    """Where a term sheet gives this rulebook's figures: ``clauses.<heading>``.

    Several rulebooks may share a heading (the service levels of Exhibit A); they must
    then declare it, and any figure they both read, alike.
    """

    heading: str
    #: The heading's name in the API's schema; ``<Heading>Terms`` when not given.
    title: str | None = None
    section: str | None = None
    exhibit: str | None = None


class StartsWithContract(_Spec):
    """A case of this rulebook opens when a contract is registered, once per contract,
    with these start facts taken from the contract (``current_month``, ``effective_date``).
    """

    facts: dict[str, ContractValue] = Field(default_factory=dict)


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
    """A notice the rules can send; ``subject`` is a Jinja template string.

    ``sender`` says whose notice it is. Only a notice of our own side (or ``internal``)
    is ever sent; one of the other party's is expected instead: by ``expected_by`` (a
    deadline of the rulebook) when the contract sets a time for it, and recorded as
    received with the recordable fact ``received_as``. Rulebooks written before senders
    existed have none, and their cases send every notice as they always did.
    """

    subject: str
    to: list[str]
    copy_: list[str] = Field(default_factory=list, alias="copy")
    requires_approval: bool = False
    sender: SenderRole | None = None
    #: What the notice is, in a few words ("the Provider's maintenance notice").
    label: str | None = None
    expected_by: str | None = None
    received_as: str | None = None


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


#: The events that change the agreement's legal state; any other event a case emits is
#: news for the contract's other cases (a maintenance window for the month's review).
LEGAL_EVENTS = ("agreement_terminating", "agreement_ended", "termination_withdrawn")
#: What the contract tells a case whose rulebook records a fact when the agreement ends.
END_VALUES = ("end_date", "route", "ends_at")


class AgreementEmit(_Spec):
    """A contract event a case emits when it enters a state.

    The legal events (``LEGAL_EVENTS``): the agreement is ending on a date, has ended, or
    its termination was withdrawn; ``dated_by`` names the deadline whose moment is the
    end and ``route`` says how it ends (convenience, expiry...). Any other event carries
    ``values`` (a field for each: the case fact it is taken from) to the contract's
    cases whose rulebook ``reacts`` to it.
    """

    event: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    route: str | None = Field(default=None, pattern=r"^[a-z][a-z_]*$")
    dated_by: str | None = None
    values: dict[str, str] = Field(default_factory=dict)


class RecordReaction(_Spec):
    """A fact a case records when its contract passes it an event (``reacts``), or when
    the agreement ends (``when_agreement_ends``): the event's values, or for the end the
    fields named from ``END_VALUES`` (``{ended_on: end_date}``)."""

    record: str
    values: dict[str, str] = Field(default_factory=dict)


class OpenSpec(_Spec):
    """A case of this clause the contract opens when another case emits an event: each
    start fact a text, with ``{name}`` for the event's values and ``{event_at}`` for when
    it was emitted. ``only_if`` names a yes_no parameter: when the term sheet says no, the
    case is offered to a person (an escalation on the case that emitted) instead."""

    facts: dict[str, str]
    only_if: str | None = None


class AgreementSpec(_Spec):
    """How a clause's cases take part in the agreement as a whole (docs/rulebooks.md).

    ``emits``: contract events by the state that emits them (``emits_with_notice``: by
    the notice). ``reacts``: the facts this clause's open cases record when another case
    emits an event; ``opens``: the cases of this clause the contract opens on one.
    ``when_agreement_ends``: what a case of this clause does when the agreement ends by
    any route. By default it closes unless one of the clause's sections survives the end
    (the term sheet's ``surviving_sections``); ``carry_on`` keeps it running whatever
    survives; a ``record`` reaction records a fact, and the clause's own rules say what
    follows.
    """

    emits: dict[str, AgreementEmit] = Field(default_factory=dict)
    #: Events by the notice whose sending emits them (a month's service credit claimed).
    emits_with_notice: dict[str, AgreementEmit] = Field(default_factory=dict)
    reacts: dict[str, RecordReaction] = Field(default_factory=dict)
    #: Cases of this clause its contract opens, by the event that opens one.
    opens: dict[str, OpenSpec] = Field(default_factory=dict)
    when_agreement_ends: Literal["close_unless_surviving", "carry_on"] | RecordReaction = (
        "close_unless_surviving"
    )


class Rulebook(_Spec):
    """A loaded, checked rulebook. ``path`` is its file and ``folder`` the clause folder."""

    clause: str
    version: int
    title: str
    section: str
    summary: str
    #: Each parameter is declared (a :class:`ParameterSpec`), or, in rulebooks written
    #: before declarations, a dotted path into the term sheet that another declares.
    parameters: dict[str, ParameterSpec | str] = Field(default_factory=dict)
    terms: TermsHeading | None = None
    starts_with_contract: StartsWithContract | None = None
    facts: dict[str, FactSpec] = Field(default_factory=dict)
    recordable_facts: dict[str, RecordableFact] = Field(default_factory=dict)
    states: dict[str, StateSpec]
    deadlines: dict[str, DeadlineSpec] = Field(default_factory=dict)
    notices: dict[str, NoticeSpec] = Field(default_factory=dict)
    derive: list[str] = Field(default_factory=list)
    rules: list[RuleSpec]
    path: Path
    folder: Path
    #: A folder of the clause whose notice templates this version uses before the
    #: shared ``notices/`` (released templates never change under running cases).
    templates: str | None = None
    #: The start fact whose moment opens the case (a notice received, an incident
    #: reported): facts recorded later are not dated before it. See ``opening_fact``.
    opened_by: str | None = None
    agreement: AgreementSpec = Field(default_factory=AgreementSpec)
    #: The start facts that tell its cases apart in lists (an invoice's number and amount).
    identified_by: list[str] = Field(default_factory=list)

    @property
    def declares_senders(self) -> bool:
        """Whether its notices say whose they are (so only our side's are sent)."""
        return any(n.sender is not None for n in self.notices.values())

    @property
    def section_numbers(self) -> list[str]:
        """The contract's numbered sections this clause stands for: "§8, Exhibit C" is
        ["8"]. An exhibit alone (the SLA's) names none."""
        return re.findall(r"§\s*(\d+(?:\.\d+)*)", self.section)

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

    @property
    def template_folders(self) -> tuple[Path, ...]:
        """Where its notice templates are looked for, in order: its own ``templates``
        folder (a version whose notices speak in another voice), then ``notices/``,
        which the clause's versions share."""
        shared = self.folder / "notices"
        return (self.folder / self.templates, shared) if self.templates else (shared,)

    def template_paths(self, notice: str) -> tuple[Path, Path]:
        """The text and HTML Jinja templates of a notice.

        Args:
            notice: A notice name declared in ``notices``.

        Returns:
            ``<folder>/<notice>.txt.j2`` and ``.html.j2`` in the first of
            :attr:`template_folders` that has the text template (else in the last).
        """
        folders = self.template_folders
        base = next((f for f in folders if (f / f"{notice}.txt.j2").is_file()), folders[-1])
        return base / f"{notice}.txt.j2", base / f"{notice}.html.j2"

    def facts_at_registration(self, effective_date: dt.date, today: dt.date) -> dict[str, Any]:
        """The start facts a contract's registration gives a case that starts with it.

        Args:
            effective_date: The contract's effective date.
            today: Today in the contract's time zone.
        """
        spec = self.starts_with_contract
        values = {
            "current_month": max(today, effective_date).replace(day=1).isoformat(),
            "effective_date": effective_date.isoformat(),
        }
        return {fact: values[source] for fact, source in (spec.facts if spec else {}).items()}

    def parameter_path(self, name: str) -> str:
        """The dotted path of parameter ``name`` in a term sheet, ``clauses.…``."""
        spec = self.parameters[name]
        if isinstance(spec, str):
            return spec
        if spec.term is not None:
            return f"clauses.{spec.term}"
        heading = self.terms.heading if self.terms else self.clause
        return f"clauses.{heading}.{name}"

    def parameter_values(self, terms: TermSheet) -> dict[str, Any]:
        """Resolves ``parameters`` against a term sheet.

        Args:
            terms: The contract's term sheet; each parameter is
                ``terms.parameter(path)``, or its declared default when the term sheet
                predates the declaration.

        Returns:
            ``{parameter: value}`` with Decimals turned into strings (also inside lists),
            so the result is JSON-safe.

        Raises:
            ParameterError: A path does not exist in the term sheet.
        """
        values: dict[str, Any] = {}
        for name, spec in self.parameters.items():
            path = self.parameter_path(name)
            try:
                values[name] = _json_safe(terms.parameter(path))
            except KeyError as exc:
                if isinstance(spec, ParameterSpec):
                    values[name] = _json_safe(spec.default)
                    continue
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
