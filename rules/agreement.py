"""The agreement as a whole: what a clause's cases do when the agreement ends.

Pure functions of a rulebook and the term sheet's ``surviving_sections``: the contract
workflow acts on what they say, through an activity (activities/agreement.py). The MSA
§10 list is the reference term sheet's; a contract's own list decides for it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from rules.rulebook import Rulebook, default_registry
from rules.rulebook.model import RecordReaction

#: A case's outcome when the agreement's end closes it.
ENDED_WITH_AGREEMENT = "ended_with_agreement"
ENDED_WITH_AGREEMENT_LABEL = "Closed: the agreement ended"

#: The clause whose term-sheet parameter lists the sections that survive the end (§10).
_SURVIVAL_CLAUSE = "termination_for_convenience"

#: How the agreement ends, in words, by route.
ROUTES = {
    "convenience": "terminated for convenience",
    "expiry": "expired at the end of its term",
    "for_cause": "terminated for cause",
    "non_payment": "terminated for non-payment",
}


@dataclass(frozen=True)
class Reaction:
    """What a case does when the agreement ends: ``close``, ``carry_on`` or ``record``
    (the fact ``record`` with ``values``, its own rules deciding what follows), and why."""

    action: str
    reason: str
    record: str | None = None
    values: dict[str, Any] = field(default_factory=dict)


def route_words(route: str) -> str:
    return ROUTES.get(route, route.replace("_", " "))


def day_text(day: dt.date) -> str:
    """A day as the contract's people read it: "Mon 1 Mar 2038"."""
    return f"{day:%a} {day.day} {day:%b %Y}"


def surviving_sections_of(rb: Rulebook, surviving: list[str]) -> list[str]:
    """The clause's sections that survive the agreement's end (a sub-section survives
    with its section: §4.2 with §4)."""
    kept = set(surviving)
    return [n for n in rb.section_numbers if n in kept or n.split(".")[0] in kept]


def reaction_to_end(
    rb: Rulebook,
    surviving: list[str],
    ends_on: dt.date,
    route: str,
    ends_at: dt.datetime | None = None,
) -> Reaction:
    """What a case of ``rb`` does when the agreement ends.

    Args:
        rb: The case's rulebook version.
        surviving: The term sheet's ``surviving_sections`` (section numbers).
        ends_on: The day it ends, in the contract's time zone.
        route: How the agreement ended (``ROUTES``).
        ends_at: The instant it ends, for a rulebook that records it.
    """
    how = f"The agreement {route_words(route)} on {day_text(ends_on)}"
    end = rb.agreement.when_agreement_ends
    if isinstance(end, RecordReaction):
        told = {
            "end_date": ends_on.isoformat(),
            "route": route,
            "ends_at": ends_at.isoformat() if ends_at else "",
        }
        values = {name: told[source] for name, source in end.values.items()}
        return Reaction("record", f"{how}; this case records {end.record}.", end.record, values)
    if end == "carry_on":
        return Reaction("carry_on", f"{how}; this clause's rulebook carries on after the end.")
    kept = surviving_sections_of(rb, surviving)
    if kept:
        sections = ", ".join(f"§{n}" for n in kept)
        return Reaction("carry_on", f"{how}; {sections} survives the end (§10), so this goes on.")
    return Reaction(
        "close",
        f"{how}; {rb.section} does not survive the end (surviving: "
        + (", ".join(f"§{n}" for n in surviving) or "none")
        + "), so this case closes.",
    )


def reaction_to(rb: Rulebook, event: str) -> RecordReaction | None:
    """The fact a case of ``rb`` records when another case of its contract emits ``event``."""
    return rb.agreement.reacts.get(event)


def surviving_sections(terms: dict[str, Any]) -> list[str]:
    """The term sheet's sections that survive the agreement's end (its §10 list, or the
    rulebook's default for a term sheet that predates it)."""
    registry = default_registry()
    rb = registry.latest(_SURVIVAL_CLAUSE)
    values = rb.parameter_values(registry.terms_to_read(terms))
    return [str(s) for s in values["surviving_sections"]]
