"""A cure period runs to the end of its last day, and the notices of material breach v5
and acceptable use v4 say so ("ends at the end of Thu 31 Dec 2026, New York time"),
where earlier versions added the midnight after it in brackets."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from rules.render import NoticeRequest, render_notice
from rules.rulebook import default_registry
from workers.seed import reference_term_sheet

NY = ZoneInfo("America/New_York")


@dataclass
class Deadline:
    name: str
    label: str
    due_at: dt.datetime
    last_day: dt.date | None
    explanation: list[str] = field(default_factory=list)
    status: str = "pending"


# Cure period ending Thu 31 Dec 2026: due at the midnight that ends it.
CURE = Deadline(
    "cure_period",
    "Cure period ends",
    dt.datetime(2027, 1, 1, tzinfo=NY).astimezone(dt.UTC),
    dt.date(2026, 12, 31),
)


def _body(clause: str, version: int, notice: str, facts: dict[str, str], side: str) -> str:
    terms = reference_term_sheet().model_copy(update={"our_side": side})
    rb = default_registry().get(clause, version)
    request = NoticeRequest(
        case_id="case_wording",
        notice=notice,
        state="cure_period_running",
        at=dt.datetime(2026, 12, 1, 15, tzinfo=dt.UTC),
        facts=facts,
        deadlines={"cure_period": CURE},
    )
    return render_notice(rb, terms, request).body_text


BREACH = {
    "breach_notice_received_at": "2026-12-01T15:00:00+00:00",
    "given_by": "customer",
    "breach_description": "the monthly reports were not delivered",
}
VIOLATION = {
    "violation_notice_received_at": "2026-12-01T15:00:00+00:00",
    "given_by": "provider",
    "violation_description": "bulk messages sent without consent",
}


def test_the_notice_of_material_breach_says_the_cure_period_ends_at_the_end_of_its_day() -> None:
    body = _body("material_breach", 5, "breach_notice_recorded", BREACH, "customer")
    assert "ends at the end of Thu 31 Dec 2026, New York time" in body
    assert "00:00" not in body
    # Released versions keep their words for the cases that run on them.
    older = _body("material_breach", 4, "breach_notice_recorded", BREACH, "customer")
    assert "(Fri 1 Jan 2027 00:00 New York time)" in older


def test_the_notice_of_an_acceptable_use_violation_says_it_too() -> None:
    body = _body("acceptable_use_violation", 4, "violation_acknowledgement", VIOLATION, "provider")
    assert "ends at the end of Thu 31 Dec 2026, New York time" in body
    assert "00:00" not in body
