"""Days counted by the governing law: New York as before, Delaware, California and England
and Wales on the `holidays` package's public holidays, each as its term sheet's day count
states, and a law without a calendar refused. Fixed dates only: nothing reads today."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest
import yaml
from pydantic import ValidationError

from contracts.calendar import ContractCalendar, calendar_for
from contracts.calendar.jurisdictions import jurisdiction_of
from contracts.holidays import HOLIDAYS_PACKAGE_VERSION, holiday_calendar
from contracts.terms import TermSheet
from tests.contracts.helpers import notice_deadline

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
LA = ZoneInfo("America/Los_Angeles")
PACKAGE = f"holidays package {HOLIDAYS_PACKAGE_VERSION}"


def sheet(**changes: Any) -> TermSheet:
    return TermSheet(
        customer={"name": "C", "notice_email": "c@example.com"},
        provider={"name": "P", "notice_email": "p@example.com"},
        owner={"name": "O", "email": "o@example.com"},
        effective_date=date(2026, 1, 1),
        fees={"monthly_fee": "10.00"},
        **changes,
    )


def delaware(**day_count: str) -> TermSheet:
    return sheet(
        governing_law="State of Delaware", **({"day_count": day_count} if day_count else {})
    )


def england() -> TermSheet:
    return sheet(governing_law="England and Wales", time_zone="Europe/London")


def thirty_days(terms: TermSheet, received: datetime, **rule: Any) -> Any:
    return notice_deadline(
        calendar_for(terms), 30, "calendar_days", received, label="Cure period ends", **rule
    )


# Good Friday, Fri 3 Apr 2026, is a Delaware and English holiday and not one of § 24's:
# a notice received Wed 4 Mar 2026 makes it day 30.
RECEIVED = datetime(2026, 3, 4, 10, tzinfo=NY)


# --------------------------------------------------------------------------- Delaware


def test_a_delaware_period_ending_on_a_delaware_holiday_rolls_forward_and_says_why() -> None:
    result = thirty_days(delaware(), RECEIVED)
    assert result.last_day == date(2026, 4, 6)  # Good Friday, then the weekend
    steps = result.explanation
    assert steps[2] == (
        "Days are counted as the term sheet states for a contract governed by the law of the"
        " State of Delaware: the event day is excluded; a last day that is not a business day"
        " rolls forward to the next business day; business days are Monday to Friday except"
        f" the public holidays of the State of Delaware ({PACKAGE})."
    )
    assert steps[3] == (
        "As the term sheet states, the event day, Wed 4 Mar 2026, is excluded from the count;"
        " day 1 is Thu 5 Mar 2026 and day 30 is Fri 3 Apr 2026."
    )
    assert steps[4] == (
        "Fri 3 Apr 2026 is Good Friday (public holiday of the State of Delaware,"
        f" {PACKAGE}), so as the term sheet states the period runs to the next business day."
    )
    assert "The period therefore ends on Mon 6 Apr 2026." in steps
    assert not any("GCL" in step for step in steps)


def test_the_same_period_under_new_york_law_is_counted_as_before() -> None:
    result = thirty_days(sheet(), RECEIVED)
    assert result.last_day == date(2026, 4, 3)  # Good Friday is no § 24 holiday
    assert calendar_for(sheet()) == ContractCalendar()
    assert result.explanation == (
        "Event: the notice was received at Wed 4 Mar 2026 10:00 New York time"
        " (Wed 4 Mar 2026 15:00 UTC).",
        "Rule: Cure period ends 30 calendar days after the notice was received.",
        "Under NY GCL § 20 the event day, Wed 4 Mar 2026, is excluded from the count; day 1"
        " is Thu 5 Mar 2026 and day 30 is Fri 3 Apr 2026.",
        "Fri 3 Apr 2026 is a business day, so the period ends that day.",
        "Cure period ends: at the end of Fri 3 Apr 2026 (midnight): Sat 4 Apr 2026 00:00"
        " New York time (Sat 4 Apr 2026 04:00 UTC).",
    )


def test_roll_backward_as_the_term_sheet_states() -> None:
    result = thirty_days(delaware(roll="backward"), RECEIVED)
    assert result.last_day == date(2026, 4, 2)
    assert "rolls back to the previous business day" in result.explanation[2]
    assert (
        f"Fri 3 Apr 2026 is Good Friday (public holiday of the State of Delaware, {PACKAGE}),"
        " so as the term sheet states the day moves back to the previous business day."
    ) in result.explanation


def test_no_roll_as_the_term_sheet_states() -> None:
    result = thirty_days(delaware(roll="none"), RECEIVED)
    assert result.last_day == date(2026, 4, 3)
    assert "a last day that is not a business day stays where it falls" in result.explanation[2]
    assert (
        f"Fri 3 Apr 2026 is Good Friday (public holiday of the State of Delaware, {PACKAGE}),"
        " but the term sheet states that a last day that is not a business day stays where"
        " it falls, so the period ends that day."
    ) in result.explanation


def test_the_event_day_included_as_the_term_sheet_states() -> None:
    result = thirty_days(delaware(event_day="included"), RECEIVED)
    assert result.last_day == date(2026, 4, 2)
    assert "the event day counts as day 1" in result.explanation[2]
    assert result.explanation[3] == (
        "As the term sheet states, the event day, Wed 4 Mar 2026, counts as day 1;"
        " day 30 is Thu 2 Apr 2026."
    )


def test_business_days_and_months_follow_the_convention_too() -> None:
    cal = calendar_for(delaware(event_day="included"))
    # Counted from Thu 2 Apr 2026 itself: Thu 2 (1), Good Friday skipped, Mon 6 (2).
    result = notice_deadline(cal, 2, "business_days", datetime(2026, 4, 2, 10, tzinfo=NY))
    assert result.last_day == date(2026, 4, 6)
    assert "counts if it is a business day" in result.explanation_text
    assert "Fri 3 Apr 2026 (Good Friday)" in result.explanation_text
    # One month from 15 Jan with the 15th counted as the first day ends on 14 Feb, a Saturday.
    result = notice_deadline(cal, 1, "months", datetime(2026, 1, 15, 10, tzinfo=NY))
    assert "so the period ends the day before, Sat 14 Feb 2026." in result.explanation_text
    assert result.last_day == date(2026, 2, 16)


def test_a_clauses_own_rule_for_the_last_day_stays_under_another_law() -> None:
    # Time of the essence: the day does not move, but no NY statute is cited.
    fixed = thirty_days(delaware(), RECEIVED, roll="none")
    assert fixed.last_day == date(2026, 4, 3)
    assert fixed.explanation[-2] == (
        f"Fri 3 Apr 2026 is Good Friday (public holiday of the State of Delaware, {PACKAGE}),"
        " but the clause makes time of the essence, so the period is not extended to the"
        " next business day."
    )
    # A reminder that must not be late moves back even though the convention rolls forward.
    reminder = thirty_days(delaware(), RECEIVED, roll="backward")
    assert reminder.last_day == date(2026, 4, 2)
    assert any("so under this rule the day moves back" in s for s in reminder.explanation)


def test_the_two_day_rule_of_ny_gcl_20_is_new_yorks_alone() -> None:
    friday = datetime(2026, 3, 6, 10, tzinfo=NY)
    ny = notice_deadline(calendar_for(sheet()), 2, "calendar_days", friday)
    de = notice_deadline(calendar_for(delaware()), 2, "calendar_days", friday)
    assert ny.last_day == date(2026, 3, 10)  # the weekend is left out of the reckoning
    assert de.last_day == date(2026, 3, 9)  # day 2 is Sunday, rolled to Monday
    assert not any("two days" in step for step in de.explanation)


# --------------------------------------------------------------------------- England and Wales


@pytest.mark.parametrize(
    ("holiday", "name"),
    [
        (date(2026, 5, 4), "May Day"),  # the early May bank holiday
        (date(2026, 5, 25), "Spring Bank Holiday"),
        (date(2026, 8, 31), "Late Summer Bank Holiday"),
        (date(2026, 4, 6), "Easter Monday"),
    ],
)
def test_an_english_period_ending_on_a_bank_holiday_runs_to_the_next_business_day(
    holiday: date, name: str
) -> None:
    received = datetime.combine(holiday - timedelta(days=30), time(10), tzinfo=LONDON)
    result = thirty_days(england(), received)
    assert result.last_day == holiday + timedelta(days=1)
    assert (
        f"is {name} (public holiday of England and Wales, {PACKAGE}), so as the term sheet"
        " states the period runs to the next business day."
    ) in result.explanation_text
    # New York law counts the same notice to the bank holiday itself, unless § 24 has a
    # holiday that day too (Memorial Day is the Spring Bank Holiday in 2026).
    new_york = sheet(time_zone="Europe/London")
    if calendar_for(new_york).is_business_day(holiday):
        assert thirty_days(new_york, received).last_day == holiday


def test_english_christmas_and_boxing_day_substitutes_are_skipped() -> None:
    # 2027: Christmas is a Saturday and Boxing Day a Sunday; Mon 27 and Tue 28 Dec are
    # their substitute bank holidays.
    received = datetime(2027, 11, 25, 10, tzinfo=LONDON)
    result = thirty_days(england(), received)
    assert result.last_day == date(2027, 12, 29)
    text = result.explanation_text
    assert "Mon 27 Dec 2027 is Christmas Day (observed) (public holiday of England" in text
    assert "Tue 28 Dec 2027 is Boxing Day (observed) (public holiday of England" in text
    # 2026: Boxing Day is a Saturday, its substitute Mon 28 Dec; five business days from
    # Mon 21 Dec end on Wed 30 Dec.
    five = notice_deadline(
        calendar_for(england()), 5, "business_days", datetime(2026, 12, 21, 10, tzinfo=LONDON)
    )
    assert five.last_day == date(2026, 12, 30)
    assert "Mon 28 Dec 2026 (Boxing Day (observed))" in five.explanation_text


def test_england_and_wales_share_their_bank_holidays_in_the_package() -> None:
    for year in (2026, 2027, 2030):
        england_days = holidays.country_holidays("GB", subdiv="ENG", years=year)
        wales_days = holidays.country_holidays("GB", subdiv="WLS", years=year)
        assert dict(england_days) == dict(wales_days)
        assert holiday_calendar("GB-ENG").holidays(year) == dict(sorted(england_days.items()))


# --------------------------------------------------------------------------- California


def test_cesar_chavez_day_stops_a_california_clock() -> None:
    # Tue 31 Mar 2026 is Cesar Chavez Day in California, a business day in New York.
    received = datetime(2026, 3, 1, 10, tzinfo=LA)
    california = sheet(governing_law="State of California", time_zone="America/Los_Angeles")
    result = thirty_days(california, received)
    assert result.last_day == date(2026, 4, 1)
    assert (
        f"Tue 31 Mar 2026 is Cesar Chavez Day (public holiday of the State of California,"
        f" {PACKAGE})"
    ) in result.explanation_text
    assert "governed by the law of the State of California" in result.explanation[2]
    ny = thirty_days(sheet(time_zone="America/Los_Angeles"), received)
    assert ny.last_day == date(2026, 3, 31)


def test_a_year_the_package_does_not_cover_is_refused_not_counted_bare() -> None:
    cal = calendar_for(delaware())
    with pytest.raises(ValueError, match=r"holidays package .* lists the public holidays of"):
        cal.is_business_day(date(2150, 3, 2))


# --------------------------------------------------------------------------- the term sheet


@pytest.mark.parametrize(
    ("law", "calendar"),
    [
        ("State of New York", "US-NY"),
        ("State of Delaware", "US-DE"),
        ("Delaware law", "US-DE"),
        ("State of California", "US-CA"),
        ("England and Wales", "GB-ENG"),
        ("the laws of England & Wales", "GB-ENG"),
    ],
)
def test_the_governing_law_chooses_the_calendar(law: str, calendar: str) -> None:
    terms = sheet(governing_law=law)
    assert terms.holiday_calendar == calendar
    assert calendar_for(terms).holidays == calendar
    new_york = calendar == "US-NY"
    assert (terms.day_count is None) is new_york
    assert ("day_count" in terms.model_dump(mode="json")) is not new_york


def test_a_law_without_a_calendar_is_refused_with_how_to_choose_one() -> None:
    with pytest.raises(ValidationError) as caught:
        sheet(governing_law="State of Texas")
    [error] = caught.value.errors()
    assert error["loc"] == ("governing_law",)
    assert "State of Texas" in error["msg"]
    for way in ("State of Delaware", "England and Wales", "holiday_calendar", "day_count"):
        assert way in error["msg"]


def test_a_law_without_a_calendar_counts_on_the_calendar_its_term_sheet_names() -> None:
    terms = sheet(governing_law="State of Texas", holiday_calendar="US-NY")
    assert terms.day_count is not None and terms.day_count.roll == "forward"
    result = thirty_days(terms, RECEIVED)
    assert result.explanation[2].startswith(
        "Days are counted as the term sheet states for a contract governed by the law the"
        " term sheet names, State of Texas:"
    )
    assert result.explanation[2].endswith(
        "the public holidays of NY GCL § 24, the calendar the term sheet names"
        " (holiday_calendar US-NY)."
    )


def test_a_law_naming_two_jurisdictions_names_none() -> None:
    assert jurisdiction_of("New York or Delaware") is None
    assert jurisdiction_of("New South Wales") is None


def test_new_york_law_has_no_day_count_and_calendars_must_be_known() -> None:
    with pytest.raises(ValidationError) as caught:
        sheet(day_count={"roll": "none"})
    assert [e["loc"] for e in caught.value.errors()] == [("day_count",)]
    with pytest.raises(ValidationError) as caught:
        sheet(governing_law="State of Delaware", holiday_calendar="US-ZZ")
    assert [e["loc"] for e in caught.value.errors()] == [("holiday_calendar",)]
    assert "US-DE" in caught.value.errors()[0]["msg"]


def test_a_stored_delaware_sheet_reads_back_the_same() -> None:
    stored = delaware(roll="backward").model_dump(mode="json")
    assert stored["holiday_calendar"] == "US-DE"
    assert stored["day_count"] == {"event_day": "excluded", "roll": "backward"}
    assert TermSheet.model_validate(stored).model_dump(mode="json") == stored


# Today's reference term sheet as stored (without its clause figures, which the rulebooks
# fill in), taken before the governing law chose calendars: it must not change, or the
# stored sheets and the digests of existing contracts would.
REFERENCE_DUMP = {
    "title": "Master Services Agreement (reference)",
    "reference": "MSA-REFERENCE",
    "customer": {
        "name": "Example Enterprise Inc.",
        "notice_email": "legal@customer.example.com",
        "copy_to": ["contracts@customer.example.com"],
        "attention": "General Counsel",
    },
    "provider": {
        "name": "Example Communications Platform LLC",
        "notice_email": "notices@provider.example.com",
        "copy_to": ["legal@provider.example.com"],
        "attention": "Head of Legal",
    },
    "owner": {"name": "Contract Owner", "email": "contract.owner@customer.example.com"},
    "our_side": "customer",
    "time_zone": "America/New_York",
    "holiday_calendar": "US-NY",
    "governing_law": "State of New York",
    "effective_date": "2026-01-01",
    "currency": "USD",
    "fees": {
        "monthly_fee": "25000.00",
        "usage_fee_per_gb": "0.0500",
        "additional_services_hourly": "180.00",
    },
    "business_hours": {"start": "09:00:00", "end": "17:00:00", "weekdays": [0, 1, 2, 3, 4]},
    "notices": {"deemed_receipt": "delivered"},
}


def test_the_reference_term_sheet_dumps_as_before() -> None:
    text = resources.files("contracts").joinpath("term_sheets/reference_msa.yaml").read_text()
    dumped = TermSheet.model_validate(yaml.safe_load(text)).model_dump(mode="json")
    assert list(dumped) == [*list(REFERENCE_DUMP)[:-1], "clauses", "notices"]
    assert {k: v for k, v in dumped.items() if k != "clauses"} == REFERENCE_DUMP
    # And a New York sheet that leaves the calendar out stores it as it always did.
    assert sheet().model_dump(mode="json")["holiday_calendar"] == "US-NY"
    assert "day_count" not in sheet().model_dump(mode="json")
