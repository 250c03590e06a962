"""What tells a case apart from the other cases of its clause in lists: the start facts its
rulebook names in ``identified_by`` ("INV-2038-02 · 25000.00"), in words.

Presentation only: a case of an older version is shown by its clause's newest
declaration when its own version declares none.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from rules.rulebook import UnknownRulebook, default_registry

SEPARATOR = " · "


def case_identity(clause: str, version: int, facts: Mapping[str, Any], zone: str) -> str | None:
    """The case's identifying facts in words, or None when its clause names none (or the
    case has none of them)."""
    registry = default_registry()
    try:
        rb = registry.get(clause, version)
        named = rb.identified_by or registry.latest(clause).identified_by
    except UnknownRulebook:
        return None
    specs = registry.latest(clause).facts | rb.facts
    shown = [
        _words(facts[name], specs[name].type if name in specs else "string", zone)
        for name in named
        if facts.get(name) not in (None, "")
    ]
    return SEPARATOR.join(shown) or None


def _words(value: Any, kind: str, zone: str) -> str:
    if kind == "party":
        return str(value).capitalize()
    try:
        if kind == "datetime":
            at = dt.datetime.fromisoformat(str(value)).astimezone(ZoneInfo(zone))
            return f"{at:%a} {at.day} {at:%b %Y %H:%M}"
        if kind == "date":
            day = dt.date.fromisoformat(str(value))
            return f"{day:%a} {day.day} {day:%b %Y}"
    except ValueError:
        pass  # a value stored before it was checked: shown as it is
    return str(value)
