"""The one place where case facts are checked: against the rulebook, the contract and
each other.

Facts arrive from people (the API, the console, the what-if) and, through updates, at
the case's workflow, whose validators call the same functions on what the workflow
holds (its rulebook summary, its deadlines, its clock). Every problem is collected, so a
person sees all their mistakes at once.

Normalised forms:

- ``datetime``: ISO 8601 in UTC ending in ``Z``. A naive datetime, or a string without
  an offset, is read as wall-clock time in the contract's time zone; a wall-clock time
  that the zone skips or repeats (a daylight-saving change) is rejected as ambiguous.
- ``date``: ``YYYY-MM-DD``; ``not_in_future`` compares with today in the contract's zone.
- Dates and instants lie between 1970 and 2200 (contracts.limits), and not before the
  contract's effective date unless the fact says ``may_precede_contract``. A fact
  recorded while a case runs is not dated before the fact that opened the case (the
  rulebook's ``opening_fact``: the notice, report or claim) unless its field says
  ``may_precede_opening``.
- ``party``: ``customer`` or ``provider``.
- ``decimal`` / ``money``: a plain decimal string. Ints and numeric strings are accepted;
  floats are rejected because they cannot hold amounts exactly. Amounts are never
  negative (more than zero where the fact says ``positive``), have at most two decimal
  places and are bounded; nothing is rounded or clamped.
- ``integer``: an int (or a string of digits); ``boolean``: a bool (or ``"true"`` /
  ``"false"``); ``string``: stripped, blank counts as missing; ``email``: normalised by
  email_validator, without a DNS lookup.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email

from contracts.calendar import describe_day, describe_instant
from contracts.limits import AMOUNT_PLACES, MAX_AMOUNT, date_in_range, date_range_text
from rules.rulebook import COULD_NOT_START, Rulebook

_PARTIES = ("customer", "provider")
_INTEGER = re.compile(r"^[+-]?[0-9]+$")
_EXAMPLE_INSTANT = "2026-03-02T14:30:00-05:00"
#: States the engine puts a case in that no rulebook declares.
_ENGINE_STATES = frozenset({COULD_NOT_START, "withdrawn", "cancelled"})
#: Why an amount or count was refused: keyed by whether it must be positive.
_SIGN_REFUSED = {True: "must be more than zero", False: "must not be negative"}


class FieldSpec(Protocol):
    """A start fact or a field of a recordable fact (rules.rulebook.FactSpec, or the
    workflow's summary of one)."""

    @property
    def type(self) -> str: ...
    @property
    def required(self) -> bool: ...
    @property
    def not_in_future(self) -> bool: ...
    @property
    def day_of_month(self) -> int | None: ...
    @property
    def label(self) -> str: ...
    @property
    def positive(self) -> bool: ...
    @property
    def may_precede_contract(self) -> bool: ...
    @property
    def may_precede_opening(self) -> bool: ...
    @property
    def one_of(self) -> Sequence[str] | None: ...


class AnyTrueSpec(Protocol):
    @property
    def fields(self) -> Sequence[str]: ...
    @property
    def message(self) -> str: ...


class RecordableSpec(Protocol):
    """A fact a person may record while a case runs."""

    @property
    def label(self) -> str: ...
    @property
    def allowed_in(self) -> Sequence[str]: ...
    @property
    def allowed_before(self) -> str | None: ...
    @property
    def require_any_true(self) -> Sequence[AnyTrueSpec]: ...
    @property
    def fields(self) -> Mapping[str, FieldSpec]: ...


class DeadlineLike(Protocol):
    @property
    def label(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def due_at(self) -> dt.datetime: ...


@dataclass(frozen=True)
class FactError:
    """One problem with one fact.

    Attributes:
        field: Where the problem is, such as ``facts.notice_received_at`` or
            ``values.customer_signatory``.
        message: What is wrong, for a person.
    """

    field: str
    message: str


class FactsError(ValueError):
    """Facts that do not fit the rulebook; ``errors`` lists every problem found."""

    def __init__(self, errors: list[FactError]) -> None:
        self.errors = list(errors)
        super().__init__("invalid facts: " + "; ".join(f"{e.field}: {e.message}" for e in errors))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.errors,))


@dataclass(frozen=True)
class Opening:
    """The moment a case's story begins: the start fact that opened it."""

    label: str
    at: dt.datetime


@dataclass(frozen=True)
class FactContext:
    """What facts are checked against besides their own spec.

    Attributes:
        time_zone: The contract's IANA time zone; naive datetimes are read in it.
        now: The current time, timezone-aware, for ``not_in_future``; ``None`` allows
            future dates (a what-if may ask about a notice not yet given).
        effective_date: The contract's effective date; ``None`` checks nothing against it.
        opening: The fact that opened the case, for facts recorded later.
    """

    time_zone: str
    now: dt.datetime | None = None
    effective_date: dt.date | None = None
    opening: Opening | None = None


class _Invalid(Exception):
    """A single value is wrong; the message is for a person."""


def validate_start_facts(
    rulebook: Rulebook,
    facts: Mapping[str, Any],
    *,
    time_zone: str,
    now: dt.datetime | None,
    effective_date: dt.date | None = None,
) -> dict[str, Any]:
    """Checks a case's start facts against its rulebook and contract (``check_start_facts``)."""
    return check_start_facts(rulebook.facts, facts, FactContext(time_zone, now, effective_date))


def validate_recorded_fact(
    rulebook: Rulebook,
    fact: str,
    values: Mapping[str, Any],
    *,
    state: str,
    time_zone: str,
    now: dt.datetime,
    effective_date: dt.date | None = None,
    case_facts: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Checks a fact recorded on a case of ``rulebook`` whose facts are ``case_facts``
    (``check_recorded_fact``; the case itself checks its deadlines' windows)."""
    opening = opening_of(rulebook.facts, rulebook.opening_fact, case_facts or {})
    if state not in rulebook.states and state not in _ENGINE_STATES:
        raise FactsError([FactError("state", f"unknown state {state!r}")])
    return check_recorded_fact(
        rulebook.recordable_facts,
        fact,
        values,
        FactContext(time_zone, now, effective_date, opening),
        state=state,
        terminal_states=[n for n, st in rulebook.states.items() if st.terminal],
    )


def check_start_facts(
    specs: Mapping[str, FieldSpec], facts: Mapping[str, Any], ctx: FactContext
) -> dict[str, Any]:
    """Checks and normalises the facts a case starts with.

    Args:
        specs: The rulebook's ``facts``: what is allowed.
        facts: Fact name to value. ``None`` counts as missing.
        ctx: The contract's zone and effective date, and the clock.

    Returns:
        The given facts, normalised and JSON-safe, in declaration order.

    Raises:
        FactsError: Missing required facts, unknown names, wrong types or values, dates
            out of range, in the future or before the contract, all at once; fields are
            named ``facts.<name>``.
        ValueError: ``time_zone`` is unknown or ``now`` is naive (a programming error).
    """
    return _Checker(ctx).fields(specs, facts, "facts", [])


def check_recorded_fact(
    recordable: Mapping[str, RecordableSpec],
    fact: str,
    values: Mapping[str, Any],
    ctx: FactContext,
    *,
    state: str,
    terminal_states: Iterable[str],
    deadlines: Mapping[str, DeadlineLike] | None = None,
) -> dict[str, Any]:
    """Checks and normalises a fact a person records while the case runs.

    Args:
        recordable: The rulebook's ``recordable_facts``.
        fact: The name of the fact being recorded.
        values: Field name to value.
        ctx: The contract's zone and effective date, the clock, and the case's opening.
        state: The case's current state.
        terminal_states: The states in which a case has ended.
        deadlines: The case's deadlines, for ``allowed_before``; ``None`` leaves that to
            the case itself (the API does not hold the case's live deadlines).

    Returns:
        The normalised field values.

    Raises:
        FactsError: The fact is unknown (field ``fact``), not allowed in ``state`` (field
            ``state``) or any more (field ``fact``), its fields are wrong (fields
            ``values.<name>``), or none of the fields it needs true is (field ``values``).
        ValueError: ``time_zone`` is unknown or ``now`` is naive.
    """
    checker = _Checker(ctx)
    spec = recordable.get(fact)
    if spec is None:
        known = ", ".join(recordable) or "none"
        raise FactsError([FactError("fact", f"unknown fact {fact!r}; known: {known}")])
    errors: list[FactError] = []
    if state in terminal_states:
        errors.append(
            FactError("state", f"{fact!r} cannot be recorded: the case has ended ({state})")
        )
    elif spec.allowed_in and state not in spec.allowed_in:
        errors.append(
            FactError(
                "state",
                f"{fact!r} can only be recorded in {', '.join(spec.allowed_in)}; "
                f"the case is {state}",
            )
        )
    window = deadlines.get(spec.allowed_before) if deadlines and spec.allowed_before else None
    if (
        window is not None
        and ctx.now is not None
        and (window.status != "pending" or ctx.now >= window.due_at)
    ):
        closed = describe_instant(window.due_at, ctx.time_zone)
        errors.append(
            FactError(
                "fact", f"{spec.label} is refused: the {window.label.lower()} ended at {closed}"
            )
        )
    for need in spec.require_any_true:
        if not any(values.get(f) in (True, "true") for f in need.fields):
            errors.append(FactError("values", need.message))
    return checker.fields(spec.fields, values, "values", errors, recorded=True)


def opening_of(
    specs: Mapping[str, FieldSpec], opening_fact: str | None, facts: Mapping[str, Any]
) -> Opening | None:
    """The opening of a case whose (normalised) start facts are ``facts``, if it has one."""
    if opening_fact is None or facts.get(opening_fact) is None:
        return None
    spec = specs.get(opening_fact)
    label = spec.label if spec is not None else opening_fact.replace("_", " ")
    value = str(facts[opening_fact])
    if len(value) == 10:  # a date fact opens the case at the start of that day (UTC)
        at = dt.datetime.combine(dt.date.fromisoformat(value), dt.time(0), tzinfo=dt.UTC)
    else:
        at = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return Opening(label, at)


class _Checker:
    def __init__(self, ctx: FactContext) -> None:
        self.ctx = ctx
        try:
            self.zone = ZoneInfo(ctx.time_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {ctx.time_zone!r}") from exc
        if ctx.now is not None and (ctx.now.tzinfo is None or ctx.now.utcoffset() is None):
            raise ValueError("now must be timezone-aware")

    def fields(
        self,
        specs: Mapping[str, FieldSpec],
        given: Mapping[str, Any],
        prefix: str,
        errors: list[FactError],
        recorded: bool = False,
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in given:
            if name not in specs:
                known = ", ".join(specs) or "none"
                errors.append(FactError(f"{prefix}.{name}", f"unknown fact; known: {known}"))
        for name, spec in specs.items():
            field = f"{prefix}.{name}"
            raw = given.get(name)
            if isinstance(raw, str) and not raw.strip():
                raw = None  # a blank form field means "not given"
            if raw is None:
                if spec.required:
                    errors.append(FactError(field, "is required"))
                continue
            try:
                out[name] = self.value(spec, raw, recorded)
            except _Invalid as exc:
                errors.append(FactError(field, str(exc)))
        if errors:
            raise FactsError(errors)
        return out

    def value(self, spec: FieldSpec, raw: Any, recorded: bool) -> Any:
        kind = spec.type
        if kind == "datetime":
            moment = _datetime(raw, self.zone)
            self._when(spec, moment, moment.astimezone(self.zone).date(), recorded)
            return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
        if kind == "date":
            day = _date(raw)
            self._when(spec, None, day, recorded)
            if spec.day_of_month is not None and day.day != spec.day_of_month:
                raise _Invalid(f"must be day {spec.day_of_month} of a month, e.g. {day:%Y-%m}-01")
            return day.isoformat()
        if kind == "party":
            if isinstance(raw, str) and raw.strip().lower() in _PARTIES:
                return raw.strip().lower()
            raise _Invalid("must be customer or provider")
        if kind in ("decimal", "money"):
            return _amount(raw, spec.positive, places=AMOUNT_PLACES if kind == "money" else None)
        if kind == "integer":
            number = _integer(raw)
            if number < 0 or (spec.positive and number == 0):
                raise _Invalid(_SIGN_REFUSED[spec.positive])
            return number
        if kind == "boolean":
            if isinstance(raw, bool):
                return raw
            if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
                return raw.strip().lower() == "true"
            raise _Invalid("must be true or false")
        if kind == "email":
            if not isinstance(raw, str):
                raise _Invalid("must be an email address")
            try:
                return validate_email(raw.strip(), check_deliverability=False).normalized
            except EmailNotValidError as exc:
                raise _Invalid(f"is not a valid email address: {exc}") from exc
        if kind == "any":  # a field a case's older summary knows only by name
            return raw
        if not isinstance(raw, str):
            raise _Invalid("must be text")
        if spec.one_of is not None:
            # Matched regardless of case; kept in the rulebook's own spelling.
            chosen = {v.lower(): v for v in spec.one_of}.get(raw.strip().lower())
            if chosen is None:
                raise _Invalid(f"must be one of: {', '.join(spec.one_of)}")
            return chosen
        return raw.strip()

    def _when(
        self, spec: FieldSpec, moment: dt.datetime | None, day: dt.date, recorded: bool
    ) -> None:
        """A date (and its instant, for datetimes) against the clock, the contract and the
        case's opening."""
        ctx = self.ctx
        if ctx.now is not None and spec.not_in_future:
            future = moment > ctx.now if moment is not None else day > self._today()
            if future:
                raise _Invalid("must not be in the future")
        effective = ctx.effective_date
        if effective is not None and not spec.may_precede_contract:
            # A monthly fact (the 1st of a month) may name the month the contract began in.
            floor = effective.replace(day=1) if spec.day_of_month is not None else effective
            if day < floor:
                raise _Invalid(
                    f"is before the contract's effective date ({describe_day(effective)})"
                )
        opening = ctx.opening
        if recorded and opening is not None and not spec.may_precede_opening:
            before = (
                moment < opening.at
                if moment is not None
                else day < opening.at.astimezone(self.zone).date()
            )
            if before:
                when = describe_instant(opening.at, self.zone.key)
                raise _Invalid(f"is before the fact that opened the case ({opening.label}: {when})")

    def _today(self) -> dt.date:
        assert self.ctx.now is not None
        return self.ctx.now.astimezone(self.zone).date()


def _datetime(raw: Any, zone: ZoneInfo) -> dt.datetime:
    if isinstance(raw, dt.datetime):
        value = raw
    elif isinstance(raw, str):
        text = raw.strip()
        if len(text) <= 10:
            raise _Invalid(f"must be a date and time, such as {_EXAMPLE_INSTANT}")
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError as exc:
            raise _Invalid(
                f"must be an ISO 8601 date and time, such as {_EXAMPLE_INSTANT}"
            ) from exc
    else:
        raise _Invalid(f"must be a date and time, such as {_EXAMPLE_INSTANT}")
    # Checked before any arithmetic: year 1 or 9999 overflows a conversion to UTC.
    if not date_in_range(value.date()):
        raise _Invalid(f"must be {date_range_text()}")
    if value.tzinfo is not None and value.utcoffset() is not None:
        return value
    return _localise(value, zone)


def _localise(naive: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """Reads a wall-clock time in ``zone``, refusing times a DST change skips or repeats."""
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() != second.utcoffset():
        raise _Invalid(
            f"{naive.isoformat()} is skipped or repeated in {zone.key} by a daylight-saving "
            "change; give a UTC offset"
        )
    return first


def _date(raw: Any) -> dt.date:
    if isinstance(raw, dt.datetime):
        raise _Invalid("must be a date without a time, such as 2026-03-02")
    day: dt.date | None = None
    if isinstance(raw, dt.date):
        day = raw
    elif isinstance(raw, str):
        with contextlib.suppress(ValueError):
            day = dt.date.fromisoformat(raw.strip())
    if day is None:
        raise _Invalid("must be a date, such as 2026-03-02")
    if not date_in_range(day):
        raise _Invalid(f"must be {date_range_text()}")
    return day


def _integer(raw: Any) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and _INTEGER.match(raw.strip()) and len(raw.strip()) <= 18:
        return int(raw.strip())
    raise _Invalid("must be a whole number")


def _amount(raw: Any, positive: bool, places: int | None) -> str:
    example = 'must be an amount, such as "1250.00"'
    if isinstance(raw, bool):
        raise _Invalid(example)
    if isinstance(raw, float):
        raise _Invalid('give amounts as strings, such as "1250.00", not as numbers')
    if isinstance(raw, Decimal | int):
        value = Decimal(raw)
    elif isinstance(raw, str) and len(raw.strip()) <= 40:
        try:
            value = Decimal(raw.strip())
        except InvalidOperation as exc:
            raise _Invalid(example) from exc
    else:
        raise _Invalid(example)
    if not value.is_finite():
        raise _Invalid("must be a finite amount")
    if value < 0 or (positive and value == 0):
        raise _Invalid(_SIGN_REFUSED[positive])
    if value > MAX_AMOUNT:
        raise _Invalid(f"must be at most {MAX_AMOUNT}")
    exponent = value.as_tuple().exponent
    if places is not None and isinstance(exponent, int) and exponent < -places:
        # Nothing is rounded: an amount with fractions of a cent is a slip to correct.
        raise _Invalid(f"must have at most {places} decimal places")
    return format(value, "f")
