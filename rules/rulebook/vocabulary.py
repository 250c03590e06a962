"""The words of the rulebook language that the code itself knows.

Fact types, events, actions, recipient roles and deadline units; the keys the engine sets
on the facts it evaluates and the names it keeps for itself; the engine's own state for a
case that cannot start. The schema (rules/schema/rulebook.schema.json) lists the fact
types, roles, actions and units too; tests/rules/test_rulebook.py keeps the lists equal.
"""

from __future__ import annotations

from typing import Literal

FactType = Literal[
    "datetime", "date", "string", "party", "integer", "decimal", "money", "boolean", "email"
]
FACT_TYPES: tuple[str, ...] = FactType.__args__  # type: ignore[attr-defined]

#: The types of a rulebook's declared parameters (term-sheet figures): whole numbers of
#: days, hours or years (more than zero), a list of days (more than zero, latest first),
#: a percentage or other Decimal, yes or no, text, and a list of texts.
ParameterType = Literal[
    "days", "hours", "years", "day_list", "percent", "decimal", "yes_no", "text", "text_list"
]
PARAMETER_TYPES: tuple[str, ...] = ParameterType.__args__  # type: ignore[attr-defined]

#: What a contract's registration can give a case that starts with the contract, as a
#: start fact: the first day of the current month in the contract's time zone (or of the
#: effective date's month, if that is later), or the contract's effective date.
ContractValue = Literal["current_month", "effective_date"]
CONTRACT_VALUES: tuple[str, ...] = ContractValue.__args__  # type: ignore[attr-defined]

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

#: Whose notice it is: a party (``notifying_party`` and ``receiving_party`` resolve through
#: the case's ``given_by`` fact), or ``internal`` for reminders and reports to our own people.
SenderRole = Literal["customer", "provider", "notifying_party", "receiving_party", "internal"]
SENDER_ROLES: tuple[str, ...] = SenderRole.__args__  # type: ignore[attr-defined]

#: Facts the engine adds for a rulebook whose notices declare senders: which party runs
#: Clauseflow for the contract (the term sheet's ``our_side``) and, when the case has a
#: ``given_by`` fact, whether that party is us.
SIDE_FACTS: tuple[str, ...] = ("our_side", "given_by_us")

ACTIONS: tuple[str, ...] = (
    "transition",
    "set_deadlines",
    "cancel_deadlines",
    "send_notice",
    "escalate",
    "record",
    "close",
)

#: What the engine layer decides in place of ``send_notice`` when the notice is the other
#: party's to give: the case expects it instead of sending it. Not written in rulebooks.
EXPECT_NOTICE = "expect_notice"

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
RESERVED_NAMES: frozenset[str] = frozenset(
    {*EVENT_KEYS, *SIDE_FACTS, "sid", "id", "clause", "rulebook_version"}
)

#: The state the engine puts a case in when its first step cannot be taken at all (its
#: facts cannot be run); no rulebook may declare it.
COULD_NOT_START = "could_not_start"
COULD_NOT_START_LABEL = "Could not start: its facts cannot be run; close it and open it again"

#: Fact types that hold an amount or a count, to which ``positive`` applies.
NUMBER_TYPES: tuple[str, ...] = ("decimal", "money", "integer")

#: Fact types that hold a day or an instant: a deadline may count from them.
TIME_TYPES: tuple[str, ...] = ("datetime", "date")
