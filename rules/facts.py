"""Validation of case facts against a rulebook's declared facts.

Facts arrive from people (the API) and leave as JSON-safe values that a Temporal workflow
can carry in its history and the engine can post. Every problem is collected, so a person
sees all their mistakes at once.

Normalised forms:

- ``datetime``: ISO 8601 in UTC ending in ``Z``. A naive datetime, or a string without
  an offset, is read as wall-clock time in the contract's time zone; a wall-clock time
  that the zone skips or repeats (a daylight-saving change) is rejected as ambiguous.
- ``date``: ``YYYY-MM-DD``; ``not_in_future`` compares with today in the contract's zone.
- ``party``: ``customer`` or ``provider``.
- ``decimal`` / ``money``: a plain decimal string. Ints and numeric strings are accepted;
  floats are rejected because they cannot hold amounts exactly.
- ``integer``: an int (or a string of digits); ``boolean``: a bool (or ``"true"`` /
  ``"false"``); ``string``: stripped, blank counts as missing; ``email``: normalised by
  email_validator, without a DNS lookup.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email

from rules.rulebook import FactSpec, Rulebook

_PARTIES = ("customer", "provider")
_INTEGER = re.compile(r"^[+-]?[0-9]+$")


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


class _Invalid(Exception):
    """A single value is wrong; the message is for a person."""


def validate_start_facts(
    rulebook: Rulebook,
    facts: Mapping[str, Any],
    *,
    time_zone: str,
    now: dt.datetime | None,
) -> dict[str, Any]:
    """Checks and normalises the facts a case starts with.

    Args:
        rulebook: The rulebook whose ``facts`` declare what is allowed.
        facts: Fact name to value. ``None`` counts as missing.
        time_zone: The contract's IANA time zone; naive datetimes are read in it.
        now: The current time, timezone-aware, for ``not_in_future``; ``None`` allows
            future dates (a what-if may ask about a notice not yet given).

    Returns:
        The given facts, normalised and JSON-safe, in declaration order.

    Raises:
        FactsError: Missing required facts, unknown names, wrong types or values, and
            dates in the future, all at once; fields are named ``facts.<name>``.
        ValueError: ``time_zone`` is unknown or ``now`` is naive (a programming error).
    """
    zone = _zone(time_zone)
    _check_now(now)
    return _validate(rulebook.facts, facts, "facts", zone, now, [])


def validate_recorded_fact(
    rulebook: Rulebook,
    fact: str,
    values: Mapping[str, Any],
    *,
    state: str,
    time_zone: str,
    now: dt.datetime,
) -> dict[str, Any]:
    """Checks and normalises a fact a person records while the case runs.

    Args:
        rulebook: The case's rulebook.
        fact: A name from the rulebook's ``recordable_facts``.
        values: Field name to value.
        state: The case's current state.
        time_zone: The contract's IANA time zone.
        now: The current time, timezone-aware.

    Returns:
        The normalised field values.

    Raises:
        FactsError: The fact is unknown (field ``fact``), not allowed in ``state`` (field
            ``state``), or its fields are wrong (fields ``values.<name>``).
        ValueError: ``time_zone`` is unknown or ``now`` is naive.
    """
    zone = _zone(time_zone)
    _check_now(now)
    spec = rulebook.recordable_facts.get(fact)
    if spec is None:
        known = ", ".join(rulebook.recordable_facts) or "none"
        raise FactsError([FactError("fact", f"unknown fact {fact!r}; known: {known}")])
    errors: list[FactError] = []
    if state not in rulebook.states:
        errors.append(FactError("state", f"unknown state {state!r}"))
    elif rulebook.states[state].terminal:
        errors.append(
            FactError("state", f"{fact!r} cannot be recorded: the case has ended ({state})")
        )
    elif spec.allowed_in and state not in spec.allowed_in:
        errors.append(
            FactError(
                "state",
                f"{fact!r} can be recorded only in {', '.join(spec.allowed_in)}, not in {state}",
            )
        )
    return _validate(spec.fields, values, "values", zone, now, errors)


def _zone(time_zone: str) -> ZoneInfo:
    try:
        return ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {time_zone!r}") from exc


def _check_now(now: dt.datetime | None) -> None:
    if now is None:
        return
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")


def _validate(
    specs: Mapping[str, FactSpec],
    given: Mapping[str, Any],
    prefix: str,
    zone: ZoneInfo,
    now: dt.datetime | None,
    errors: list[FactError],
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
            out[name] = _normalise(spec, raw, zone, now)
        except _Invalid as exc:
            errors.append(FactError(field, str(exc)))
    if errors:
        raise FactsError(errors)
    return out


def _normalise(spec: FactSpec, raw: Any, zone: ZoneInfo, now: dt.datetime | None) -> Any:
    kind = spec.type
    if kind == "datetime":
        moment = _datetime(raw, zone)
        if spec.not_in_future and now is not None and moment > now:
            raise _Invalid("must not be in the future")
        return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if kind == "date":
        day = _date(raw)
        if spec.not_in_future and now is not None and day > now.astimezone(zone).date():
            raise _Invalid("must not be in the future")
        if spec.day_of_month is not None and day.day != spec.day_of_month:
            raise _Invalid(f"must be day {spec.day_of_month} of a month, e.g. {day:%Y-%m}-01")
        return day.isoformat()
    if kind == "party":
        if isinstance(raw, str) and raw.strip().lower() in _PARTIES:
            return raw.strip().lower()
        raise _Invalid("must be customer or provider")
    if kind in ("decimal", "money"):
        return _decimal(raw)
    if kind == "integer":
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and _INTEGER.match(raw.strip()):
            return int(raw.strip())
        raise _Invalid("must be a whole number")
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
    # string
    if not isinstance(raw, str):
        raise _Invalid("must be text")
    return raw.strip()


def _datetime(raw: Any, zone: ZoneInfo) -> dt.datetime:
    if isinstance(raw, dt.datetime):
        value = raw
    elif isinstance(raw, str):
        text = raw.strip()
        if len(text) <= 10:
            raise _Invalid("must be a date and time, such as 2026-03-02T14:30:00-05:00")
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError as exc:
            raise _Invalid(
                "must be an ISO 8601 date and time, such as 2026-03-02T14:30:00-05:00"
            ) from exc
    else:
        raise _Invalid("must be a date and time, such as 2026-03-02T14:30:00-05:00")
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
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, str):
        try:
            return dt.date.fromisoformat(raw.strip())
        except ValueError:
            pass
    raise _Invalid("must be a date, such as 2026-03-02")


def _decimal(raw: Any) -> str:
    if isinstance(raw, bool):
        raise _Invalid('must be an amount, such as "1250.00"')
    if isinstance(raw, float):
        raise _Invalid('give amounts as strings, such as "1250.00", not as numbers')
    if isinstance(raw, Decimal | int):
        value = Decimal(raw)
    elif isinstance(raw, str):
        try:
            value = Decimal(raw.strip())
        except InvalidOperation as exc:
            raise _Invalid('must be an amount, such as "1250.00"') from exc
    else:
        raise _Invalid('must be an amount, such as "1250.00"')
    if not value.is_finite():
        raise _Invalid("must be a finite amount")
    return format(value, "f")
