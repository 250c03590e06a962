"""NY GCL § 24 public holidays, and how they differ from other lists."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import holidays as holidays_pkg
import pytest

import contracts.holidays as holidays_module
from contracts.holidays import (
    HolidayCalendar,
    NewYorkGCL24,
    WeekendsOnly,
    available_holiday_calendars,
    holiday_calendar,
    register_holiday_calendar,
)

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
FEDERAL_JSON = SHARED / "legal" / "federal_holidays_observed.json"

GCL24 = NewYorkGCL24()


def _d(text: str) -> date:
    return date.fromisoformat(text)


# --------------------------------------------------------------------------- the § 24 list


SECTION_24_BY_YEAR = {
    2026: {
        "2026-01-01": "New Year's Day",
        "2026-01-19": "Dr. Martin Luther King, Jr. Day",
        "2026-02-12": "Lincoln's Birthday",
        "2026-02-16": "Washington's Birthday",
        "2026-05-25": "Memorial Day",
        "2026-06-14": "Flag Day",
        "2026-06-19": "Juneteenth",
        "2026-07-04": "Independence Day",  # a Saturday: no Friday holiday
        "2026-09-07": "Labor Day",
        "2026-10-12": "Columbus Day",
        "2026-11-03": "Election Day",
        "2026-11-11": "Veterans' Day",
        "2026-11-26": "Thanksgiving Day",
        "2026-12-25": "Christmas Day",
    },
    2027: {
        "2027-01-01": "New Year's Day",
        "2027-01-18": "Dr. Martin Luther King, Jr. Day",
        "2027-02-12": "Lincoln's Birthday",
        "2027-02-15": "Washington's Birthday",
        "2027-05-31": "Memorial Day",
        "2027-06-13": "Flag Day",
        "2027-06-19": "Juneteenth",
        "2027-07-04": "Independence Day",
        "2027-07-05": "Independence Day (observed Monday; 4 Jul is a Sunday)",
        "2027-09-06": "Labor Day",
        "2027-10-11": "Columbus Day",
        "2027-11-02": "Election Day",  # odd year: New York still holds a general election
        "2027-11-11": "Veterans' Day",
        "2027-11-25": "Thanksgiving Day",
        "2027-12-25": "Christmas Day",
    },
    2022: {
        "2022-01-01": "New Year's Day",
        "2022-01-17": "Dr. Martin Luther King, Jr. Day",
        "2022-02-12": "Lincoln's Birthday",
        "2022-02-21": "Washington's Birthday",
        "2022-05-30": "Memorial Day",
        "2022-06-12": "Flag Day",
        "2022-06-19": "Juneteenth",
        "2022-06-20": "Juneteenth (observed Monday; 19 Jun is a Sunday)",
        "2022-07-04": "Independence Day",
        "2022-09-05": "Labor Day",
        "2022-10-10": "Columbus Day",
        "2022-11-08": "Election Day",
        "2022-11-11": "Veterans' Day",
        "2022-11-24": "Thanksgiving Day",
        "2022-12-25": "Christmas Day",
        "2022-12-26": "Christmas Day (observed Monday; 25 Dec is a Sunday)",
    },
    2019: {  # before Juneteenth entered § 24 (ch. 249 of 2020)
        "2019-01-01": "New Year's Day",
        "2019-01-21": "Dr. Martin Luther King, Jr. Day",
        "2019-02-12": "Lincoln's Birthday",
        "2019-02-18": "Washington's Birthday",
        "2019-05-27": "Memorial Day",
        "2019-06-09": "Flag Day",
        "2019-07-04": "Independence Day",
        "2019-09-02": "Labor Day",
        "2019-10-14": "Columbus Day",
        "2019-11-05": "Election Day",
        "2019-11-11": "Veterans' Day",
        "2019-11-28": "Thanksgiving Day",
        "2019-12-25": "Christmas Day",
    },
}


@pytest.mark.parametrize("year", sorted(SECTION_24_BY_YEAR))
def test_section_24_list_for_year(year: int) -> None:
    expected = {_d(k): v for k, v in SECTION_24_BY_YEAR[year].items()}
    assert GCL24.holidays(year) == expected


@pytest.mark.parametrize("year", range(2020, 2041))
def test_flag_day_is_second_sunday_of_june_and_never_moves_to_monday(year: int) -> None:
    cal = GCL24.holidays(year)
    flag_days = [d for d, name in cal.items() if "Flag Day" in name]
    assert len(flag_days) == 1
    flag_day = flag_days[0]
    assert flag_day.weekday() == 6 and flag_day.month == 6 and 8 <= flag_day.day <= 14
    assert "Flag Day" not in cal.get(flag_day.replace(day=flag_day.day + 1), "")


@pytest.mark.parametrize("year", range(2000, 2061))
def test_no_holiday_is_moved_from_saturday_to_friday(year: int) -> None:
    cal = GCL24.holidays(year)
    assert not any("observed" in name and d.weekday() != 0 for d, name in cal.items())
    fixed_dates = [date(year, 1, 1), date(year, 2, 12), date(year, 7, 4), date(year, 11, 11)]
    fixed_dates += [date(year, 12, 25)] + ([date(year, 6, 19)] if year >= 2020 else [])
    for fixed in fixed_dates:
        if fixed.weekday() == 5:
            friday = fixed - timedelta(days=1)  # 1 Jan -> 31 Dec of the year before
            assert fixed in cal
            assert friday not in GCL24.holidays(friday.year)


@pytest.mark.parametrize("year", range(2000, 2061))
def test_sunday_holidays_except_flag_day_add_the_monday(year: int) -> None:
    cal = GCL24.holidays(year)
    for d, name in cal.items():
        if d.weekday() == 6 and name != "Flag Day":
            monday = date.fromordinal(d.toordinal() + 1)
            assert f"{name} (observed Monday;" in cal[monday]


@pytest.mark.parametrize(
    ("year", "election_day"),
    [(2024, "2024-11-05"), (2025, "2025-11-04"), (2026, "2026-11-03"), (2028, "2028-11-07")],
)
def test_election_day_every_year_is_tuesday_after_first_monday(
    year: int, election_day: str
) -> None:
    assert GCL24.holidays(year)[_d(election_day)] == "Election Day"


def test_appointed_days_are_added_only_in_their_year() -> None:
    cal = NewYorkGCL24(extra_days=(date(2026, 11, 27), date(2027, 1, 4)))
    assert cal.holidays(2026)[date(2026, 11, 27)] == "Appointed day of general observance"
    assert date(2027, 1, 4) not in cal.holidays(2026)
    assert cal.holidays(2027)[date(2027, 1, 4)] == "Appointed day of general observance"


# --------------------------------------------------------------------------- registry


def test_registry_gives_new_york_and_weekends_only_calendars() -> None:
    ny = holiday_calendar("US-NY", [date(2026, 11, 27)])
    assert isinstance(ny, NewYorkGCL24) and ny.name == "US-NY"
    assert ny.extra_days == (date(2026, 11, 27),)
    none = holiday_calendar("none")
    assert isinstance(none, WeekendsOnly) and none.name == "none"
    assert none.holidays(2026) == {}
    assert isinstance(ny, HolidayCalendar) and isinstance(none, HolidayCalendar)
    assert {"US-NY", "none"} <= set(available_holiday_calendars())


def test_unknown_calendar_name_is_named_in_the_error() -> None:
    with pytest.raises(ValueError, match="'US-ZZ'"):
        holiday_calendar("US-ZZ")


def test_new_jurisdiction_can_be_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(holidays_module, "_REGISTRY", dict(holidays_module._REGISTRY))
    register_holiday_calendar("TEST", lambda extra: WeekendsOnly(extra_days=extra, name="TEST"))
    cal = holiday_calendar("TEST", [date(2026, 3, 2)])
    assert cal.name == "TEST"
    assert cal.holidays(2026) == {date(2026, 3, 2): "Contract holiday"}
    with pytest.raises(ValueError, match="already registered"):
        register_holiday_calendar("TEST", lambda extra: WeekendsOnly(extra_days=extra))


# --------------------------------------------------------------------------- cross-checks

# Where the `holidays` package's US(subdiv="NY") (0.109) differs from § 24. Both lists carry
# Lincoln's Birthday and Election Day; the package also moves Saturday holidays to the Friday
# (state-employee practice, not § 24), adds Susan B. Anthony Day (15 Feb, not in § 24) and
# omits Flag Day (in § 24 but always a Sunday).
PACKAGE_DIFFERENCES = {
    2022: {
        "only_gcl24": {"2022-06-12": "Flag Day"},
        "only_package": {
            "2022-02-11": "Lincoln's Birthday (observed)",
            "2022-02-15": "Susan B. Anthony Day",
            # 1 Jan 2022 was a Saturday; the package observes it on Fri 31 Dec 2021.
        },
    },
    2025: {
        "only_gcl24": {"2025-06-08": "Flag Day"},
        "only_package": {"2025-02-15": "Susan B. Anthony Day"},
    },
    2026: {
        "only_gcl24": {"2026-06-14": "Flag Day"},
        "only_package": {
            "2026-02-15": "Susan B. Anthony Day",
            "2026-07-03": "Independence Day (observed)",
        },
    },
    2027: {
        "only_gcl24": {"2027-06-13": "Flag Day"},
        "only_package": {
            # 15 Feb 2027 is Washington's Birthday, so Susan B. Anthony Day hides in it.
            "2027-06-18": "Juneteenth National Independence Day (observed)",
            "2027-12-24": "Christmas Day (observed)",
            "2027-12-31": "New Year's Day (observed)",  # for Sat 1 Jan 2028
        },
    },
    2028: {
        "only_gcl24": {"2028-06-11": "Flag Day"},
        "only_package": {
            "2028-02-11": "Lincoln's Birthday (observed)",
            "2028-02-15": "Susan B. Anthony Day",
            "2028-11-10": "Veterans Day (observed)",
        },
    },
}


@pytest.mark.parametrize("year", sorted(PACKAGE_DIFFERENCES))
def test_differences_from_holidays_package_are_exactly_these(year: int) -> None:
    ours = GCL24.holidays(year)
    theirs = dict(holidays_pkg.US(subdiv="NY", years=year).items())
    only_gcl24 = {d.isoformat(): n for d, n in ours.items() if d not in theirs}
    only_package = {d.isoformat(): n for d, n in theirs.items() if d not in ours}
    assert only_gcl24 == PACKAGE_DIFFERENCES[year]["only_gcl24"]
    assert only_package == PACKAGE_DIFFERENCES[year]["only_package"]


@pytest.mark.parametrize("year", [2022, 2025, 2026, 2027, 2028])
def test_lincoln_and_election_day_are_in_both_lists(year: int) -> None:
    theirs = holidays_pkg.US(subdiv="NY", years=year)
    ours = GCL24.holidays(year)
    for name in ("Lincoln's Birthday", "Election Day"):
        (day,) = [d for d, n in ours.items() if n == name]
        assert name in theirs.get(day, "")


def _federal() -> dict:
    if not FEDERAL_JSON.is_file():
        pytest.fail(
            f"legal source missing: {FEDERAL_JSON} (expected in the shared folder next to the"
            " repository); the federal cross-check cannot run without it"
        )
    return json.loads(FEDERAL_JSON.read_text(encoding="utf-8"))


# Federal (OPM) lists vs § 24. The federal list moves a Saturday holiday to the Friday and
# lists a Sunday holiday only on its Monday; § 24 has no Friday rule and keeps the Sunday
# too, and adds Lincoln's Birthday, Flag Day and Election Day.
FEDERAL_DIFFERENCES = {
    "2008": {
        "only_federal": set(),
        "only_gcl24": {"2008-02-12", "2008-06-08", "2008-11-04"},
    },
    "2012": {
        "only_federal": set(),
        "only_gcl24": {
            "2012-01-01",  # Sunday; both lists have Mon 2 Jan
            "2012-02-12",
            "2012-02-13",  # Lincoln's Birthday on a Sunday -> Monday
            "2012-06-10",
            "2012-11-06",
            "2012-11-11",  # Sunday; both lists have Mon 12 Nov
        },
    },
    "2023": {
        "only_federal": {"2023-11-10"},  # Veterans Day on Saturday -> Friday (federal only)
        "only_gcl24": {
            "2023-01-01",
            "2023-02-12",
            "2023-02-13",
            "2023-06-11",
            "2023-11-07",
            "2023-11-11",
        },
    },
}


@pytest.mark.parametrize("year", sorted(FEDERAL_DIFFERENCES))
def test_differences_from_federal_list_are_exactly_these(year: str) -> None:
    federal = {_d(k) for k in _federal()[year]["holidays"]}
    ours = set(GCL24.holidays(int(year)))
    assert {d.isoformat() for d in federal - ours} == FEDERAL_DIFFERENCES[year]["only_federal"]
    assert {d.isoformat() for d in ours - federal} == FEDERAL_DIFFERENCES[year]["only_gcl24"]


def test_federal_only_days_are_saturday_to_friday_shifts() -> None:
    data = _federal()
    years = [k for k in data if k.isdigit()]
    assert years, "the federal file lists no years"
    for year in years:
        ours = GCL24.holidays(int(year))
        for text in data[year]["holidays"]:
            day = _d(text)
            if day not in ours:
                saturday = date.fromordinal(day.toordinal() + 1)
                assert day.weekday() == 4 and saturday in ours, text
