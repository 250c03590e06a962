"""Reading an agreement's own text (issue 16, part 1, its first step): the quantities,
dates and amounts of money it states, in words and numerals, the blanks a form leaves,
and its outline of sections, exhibits and sentences, each with character offsets into
the text as given.

Every date here is written in an agreement's text and read by pure parsing: none is
compared with today, and the only bound a date is checked against is the fixed range
of contracts/limits.py (1970 to 2200), so no test here depends on the day it runs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from contracts.text.amounts import find_amounts
from contracts.text.blanks import is_blank
from contracts.text.dates import find_dates, find_numeric_dates
from contracts.text.outline import line_at, outline, own_text, part_at, sentence_at, sentences
from contracts.text.quantities import NotANumber, find_quantities, words_to_number
from tests.conftest import shared_path
from workers.seed import reference_term_sheet


@pytest.mark.parametrize(
    ("words", "number"),
    [
        ("seventy-two", "72"),
        ("ninety-nine point nine", "99.9"),
        ("one hundred and twenty", "120"),
        ("two thousand five hundred", "2500"),
        ("Thirty", "30"),
        ("twelve", "12"),
    ],
)
def test_numbers_in_words(words: str, number: str) -> None:
    assert words_to_number(words) == Decimal(number)


@pytest.mark.parametrize("words", ["and", "point nine", "nine point twelve", "ninety bananas"])
def test_words_that_are_not_a_number_are_refused(words: str) -> None:
    with pytest.raises(NotANumber):
        words_to_number(words)


def test_periods_and_percentages_are_read_in_words_numerals_or_both() -> None:
    text = (
        "Notice of ninety (90) days' duration; interest of one percent (1%) per month; "
        "seventy-two hours ahead; 15 business days; 99.9% uptime; any one party may act."
    )
    found = [(q.value, q.unit, q.text) for q in find_quantities(text)]
    assert found == [
        (Decimal(90), "day", "ninety (90) days"),
        (Decimal(1), "percent", "one percent (1%)"),
        (Decimal(72), "hour", "seventy-two hours"),
        (Decimal(15), "business day", "15 business days"),
        (Decimal("99.9"), "percent", "99.9%"),
    ]
    for q in find_quantities(text):
        assert text[q.start : q.end] == q.text


def test_words_and_numerals_that_disagree_are_read_but_marked_unsure() -> None:
    (q,) = find_quantities("within thirty (20) days of receipt")
    assert (q.value, q.unsure) == (Decimal(30), "the words say 30 and the numeral says 20")


def test_a_plain_text_outline_without_markdown() -> None:
    text = (
        "1. Definitions. Words mean what they say.\n\n"
        "2. Term. It runs for two (2) years. It may be renewed by the U.S. Customer.\n\n"
        "EXHIBIT A - SERVICE LEVELS\n\n1. Uptime: At least 99.5% each month.\n"
    )
    parts = outline(text)
    assert [(p.reference, p.heading) for p in parts] == [
        ("§1", "Definitions"),
        ("§2", "Term"),
        ("Exhibit A", "SERVICE LEVELS"),
        ("Exhibit A.1", "Uptime"),
    ]
    term = parts[1]
    assert [s.text for s in sentences(text, term.body, term.end)] == [
        "It runs for two (2) years.",
        "It may be renewed by the U.S. Customer.",
    ]


# The reference MSA: where each figure of the reference term sheet that the agreement
# states stands, read from its own text. (Its blanks, such as the fees, and figures it
# leaves to the parties, such as the security breach notice, are not in it.)
FIGURES = [
    # (term sheet path, section, unit, the words the sentence holds)
    ("payment.payment_days", "§3", "day", "correct and undisputed invoice"),
    ("payment.late_interest_percent_per_month", "§3", "percent", "Late payments"),
    ("payment.dispute_window_days", "§3", "day", "dispute regarding any invoice"),
    ("term.term_years", "§10", "year", "shall continue for a period"),
    ("termination_for_convenience.notice_period_days", "§10", "day", "for convenience"),
    ("termination_for_cause.cure_period_days", "§10", "day", "fails to cure"),
    ("payment.unpaid_termination_days", "§10", "day", "fails to pay any undisputed"),
    ("service_levels.uptime_target_percent", "Exhibit A.1", "percent", "available"),
    ("service_levels.maintenance_notice_hours", "Exhibit A.1", "hour", "scheduled maintenance"),
    ("service_levels.response_hours_in_business_hours", "Exhibit A.2", "hour", "respond"),
    ("service_levels.response_hours_outside_business_hours", "Exhibit A.2", "hour", "outside"),
    ("service_levels.resolution_hours", "Exhibit A.3", "hour", "resolve"),
    ("service_levels.credit_percent_per_point", "Exhibit A.4", "percent", "service credits"),
    ("service_levels.credit_cap_percent", "Exhibit A.4", "percent", "maximum"),
]


def test_the_reference_msa_states_the_reference_term_sheets_figures_where_it_says() -> None:
    text = shared_path("MSA.txt").read_text()
    parts = outline(text)
    assert [p.reference for p in parts if p.kind == "section"] == [f"§{n}" for n in range(1, 15)]
    assert [p.reference for p in parts if p.kind == "exhibit"] == [f"Exhibit {x}" for x in "ABCD"]
    assert len([p for p in parts if p.kind == "item"]) == 16
    clauses = reference_term_sheet().model_dump(mode="json")["clauses"]
    found = [
        (part_at(parts, q.start), q, sentence_at(text, q.start, parts))
        for q in find_quantities(text)
    ]
    for path, where, unit, words in FIGURES:
        heading, name = path.split(".")
        expected = Decimal(str(clauses[heading][name]))
        matches = [
            (q, s)
            for part, q, s in found
            if part is not None
            and part.reference == where
            and q.unit == unit
            and s is not None
            and words in s.text
            and q.value == expected
        ]
        assert matches, f"{path}: {expected} {unit} not found in {where}"
        q, s = matches[0]
        assert s.start <= q.start < q.end <= s.end
        assert text[s.start : s.end] == s.text
    # §9's cap and §10's survival are stated too.
    assert any(
        part is not None and part.reference == "§9" and (q.value, q.unit) == (12, "month")
        for part, q, _ in found
    )


def test_a_blank_line_ends_a_sentence_and_a_time_of_day_does_not() -> None:
    text = (
        "Customer: Acme Corp\nProvider: Beta LLC\n\nEffective Date: 2027-01-01\n\n"
        "A notice sent after 5:00 p.m. Eastern Time counts the next day. Then another.\n"
    )
    assert [s.text for s in sentences(text)] == [
        "Customer: Acme Corp\nProvider: Beta LLC",
        "Effective Date: 2027-01-01",
        "A notice sent after 5:00 p.m. Eastern Time counts the next day.",
        "Then another.",
    ]
    assert line_at(text, text.index("Beta")).text == "Provider: Beta LLC"


def test_each_parts_own_text_and_the_head_before_them() -> None:
    text = "AGREEMENT\n\n1. Term. Two years.\n\nEXHIBIT A: FEES\n\nIntro.\n\n1. Base: $5.\n"
    parts = outline(text)
    own = [(p.reference if p else None, text[lo:hi].strip()) for p, lo, hi in own_text(text, parts)]
    assert own == [
        (None, "AGREEMENT"),
        ("§1", "Two years."),
        ("Exhibit A", "Intro."),
        ("Exhibit A.1", "$5."),
    ]


@pytest.mark.parametrize(
    ("written", "day"),
    [
        ("January 1, 2027", dt.date(2027, 1, 1)),
        ("Jan. 1st, 2027", dt.date(2027, 1, 1)),
        ("1 January 2027", dt.date(2027, 1, 1)),
        ("1st of January, 2027", dt.date(2027, 1, 1)),
        ("2027-01-01", dt.date(2027, 1, 1)),
        ("the 1st day of January, 2027", dt.date(2027, 1, 1)),
        ("this thirty-first day of December 2027", dt.date(2027, 12, 31)),
        ("the twelfth day of May, 2027", dt.date(2027, 5, 12)),
    ],
)
def test_dates_as_agreements_write_them(written: str, day: dt.date) -> None:
    text = f"effective as of {written}, and so on"
    (found,) = find_dates(text)
    assert (found.value, found.text) == (day, written)
    assert text[found.start : found.end] == written


def test_what_is_not_a_day_is_not_a_date() -> None:
    assert find_dates("February 30, 2027; 01/02/2027; 2027-13-01; May we") == []


def test_a_date_in_numbers_is_found_with_each_reading_that_is_a_day() -> None:
    # Pure parsing of fixed written dates: no clock involved.
    text = "on 01/02/2027, 13.02.2027, 02/30/2027, 31/31/2027 and 5/5/2027"
    found = [(n.text, n.month_first, n.day_first) for n in find_numeric_dates(text)]
    # Neither 02/30 nor 31/31 is a day either way round.
    assert found == [
        ("01/02/2027", dt.date(2027, 1, 2), dt.date(2027, 2, 1)),
        ("13.02.2027", None, dt.date(2027, 2, 13)),
        ("5/5/2027", dt.date(2027, 5, 5), dt.date(2027, 5, 5)),
    ]


def test_amounts_of_money_and_the_blanks_left_for_them() -> None:
    text = (
        "a monthly fee of $25,000.00; £0.05 per GB; 180.00 USD per hour; EUR 1,000; "
        "$__________ per hour; US$ [amount]"
    )
    found = [(a.value, a.currency, a.text) for a in find_amounts(text)]
    assert found == [
        (Decimal("25000.00"), "USD", "$25,000.00"),
        (Decimal("0.05"), "GBP", "£0.05"),
        (Decimal("180.00"), "USD", "180.00 USD"),
        (Decimal("1000"), "EUR", "EUR 1,000"),
        (None, "USD", "$__________"),
        (None, "USD", "US$ [amount]"),
    ]
    for a in find_amounts(text):
        assert text[a.start : a.end] == a.text


@pytest.mark.parametrize(
    ("written", "blank"),
    [
        ("[Name of CPaaS/IT Vendor]", True),
        ("__________", True),
        ("$__________", True),
        ("<Customer name>", True),
        ("TBD", True),
        ("Acme Corp", False),
        ("Acme [Holdings] Corp", False),
        ("", False),
    ],
)
def test_a_blank_the_form_leaves(written: str, blank: bool) -> None:
    assert is_blank(written) is blank
