"""What a person's review of a proposal makes: every value asked for, the term sheet built
from their entries alone (any dotted path), and how each value came to be; a missing
figure is never defaulted, and everything wrong is named by its path."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from rules.acceptance import Entry, Item, accept, review_items, same, set_path, shape_of
from rules.proposal import Found, Missing, Proposal
from rules.reference import reference_term_sheet
from rules.rulebook import default_registry
from tests.dates import ny_today

CURE = "clauses.termination_for_cause.cure_period_days"
NOTIFY = "clauses.security_breach.notify_within_hours"


def _a_year_ago() -> str:
    """About a year before today, and never the reference's own effective date (a value
    typed over the standard's is given only when it differs)."""
    day = ny_today() - dt.timedelta(days=365)
    if day == reference_term_sheet().effective_date:
        day -= dt.timedelta(days=1)
    return day.isoformat()


A_YEAR_AGO = _a_year_ago()
SENTENCE = "The party in breach has fifteen (15) days to cure it."


def standard() -> dict[str, Any]:
    return reference_term_sheet().model_dump(mode="json")


def proposal() -> Proposal:
    at = SENTENCE.index("fifteen")
    cure = Found(
        CURE, "Cure period", 15, "§10", SENTENCE, 0, len(SENTENCE), at, at + 17, "fifteen (15) days"
    )
    return Proposal(figures=[cure], missing=[Missing(NOTIFY, "Notify within", "no hour figure")])


def items() -> list[Item]:
    return review_items(proposal(), standard())


def as_prefilled(its: list[Item], **changes: Entry) -> dict[str, Entry]:
    """The entries of a person who sends the review as it was shown, but for ``changes``
    (by path, dots as double underscores)."""
    entries = {i.path: Entry(i.prefill) for i in its}
    entries["effective_date"] = Entry(A_YEAR_AGO)
    entries.update({k.replace("__", "."): v for k, v in changes.items()})
    return entries


def test_the_review_asks_for_every_value_of_the_term_sheet() -> None:
    by_path = {i.path: i for i in items()}
    cure = by_path[CURE]
    assert (cure.origin, cure.prefill, cure.standard) == ("read", "15", 30)
    assert cure.deviation and "your standard: 30" in cure.deviation
    notify = by_path[NOTIFY]
    assert (notify.origin, notify.prefill, notify.standard) == ("missing", "", 72)
    owner = by_path["owner.email"]
    assert (owner.origin, owner.prefill) == ("standard", "contract.owner@customer.example.com")
    # The calendar follows the governing law: never prefilled from the standard.
    assert by_path["holiday_calendar"].origin == "optional"
    assert by_path["holiday_calendar"].prefill == ""
    # How days are counted is the person's to state, never the standard's.
    assert by_path["day_count.roll"].origin == "optional"
    assert by_path["day_count.roll"].shape.choices == ("forward", "backward", "none")
    assert by_path["day_count.event_day"].prefill == ""


def test_a_contract_under_another_law_counts_its_days_as_the_review_says() -> None:
    its = items()
    delaware = as_prefilled(
        its,
        governing_law=Entry("State of Delaware"),
        **{NOTIFY.replace(".", "__"): Entry("48")},
    )
    outcome = accept(its, delaware)
    assert outcome.terms is not None, outcome.errors
    assert outcome.terms.holiday_calendar == "US-DE"
    assert outcome.terms.day_count is not None
    assert (outcome.terms.day_count.event_day, outcome.terms.day_count.roll) == (
        "excluded",
        "forward",
    )
    chosen = accept(its, {**delaware, "day_count.roll": Entry("backward")})
    assert chosen.terms is not None and chosen.terms.day_count is not None
    assert chosen.terms.day_count.roll == "backward"
    how = {d.item.path: (d.how, d.value) for d in chosen.decisions}
    assert how["day_count.roll"] == ("given", "backward")
    # New York counts by its own law: a day count for it is refused, and named.
    ny = accept(
        its,
        {**delaware, "governing_law": Entry("State of New York")}
        | {"day_count.roll": Entry("backward")},
    )
    assert ny.terms is None
    assert any(path.startswith("day_count") for path, _ in ny.errors), ny.errors


def test_a_missing_figure_must_be_given_or_the_standards_value_chosen() -> None:
    its = items()
    refused = accept(its, as_prefilled(its))
    assert refused.terms is None
    assert [p for p, _ in refused.errors] == [NOTIFY]
    assert "use my standard's value: 72" in refused.errors[0][1]

    both = accept(its, as_prefilled(its, **{NOTIFY.replace(".", "__"): Entry("48", True)}))
    assert [p for p, _ in both.errors] == [NOTIFY]

    chosen = accept(its, as_prefilled(its, **{NOTIFY.replace(".", "__"): Entry("", True)}))
    assert chosen.terms is not None
    how = {d.item.path: (d.how, d.value) for d in chosen.decisions}
    assert how[NOTIFY] == ("standard", 72)
    assert how[CURE] == ("read", 15)
    assert how["owner.email"] == ("standard", "contract.owner@customer.example.com")
    assert how["effective_date"] == ("given", A_YEAR_AGO)


def test_each_value_says_how_it_came_to_be() -> None:
    its = items()
    entries = as_prefilled(
        its,
        **{
            CURE.replace(".", "__"): Entry("20"),
            NOTIFY.replace(".", "__"): Entry("48"),
            "owner__name": Entry("Ann Owner"),
        },
    )
    outcome = accept(its, entries)
    assert outcome.terms is not None, outcome.errors
    how = {d.item.path: (d.how, d.value) for d in outcome.decisions}
    assert how[CURE] == ("edited", 20)
    assert how[NOTIFY] == ("given", 48)
    assert how["owner.name"] == ("given", "Ann Owner")
    assert outcome.terms.parameter(CURE) == 20
    assert outcome.terms.owner.name == "Ann Owner"
    assert outcome.terms.holiday_calendar == "US-NY"  # the governing law's


def test_what_cannot_make_a_term_sheet_is_named_by_its_path() -> None:
    its = items()
    entries = as_prefilled(
        its,
        **{
            CURE.replace(".", "__"): Entry(""),
            NOTIFY.replace(".", "__"): Entry("soon"),
            "owner__email": Entry("nobody"),
            "business_hours__weekdays": Entry("0, 9"),
        },
    )
    outcome = accept(its, entries)
    assert outcome.terms is None and outcome.decisions == []
    named = dict(outcome.errors)
    assert named[CURE].startswith("cannot be left empty (the text says 15)")
    assert "valid integer" in named[NOTIFY]
    assert "owner.email" in named and "business_hours" in named


def test_any_dotted_path_is_set_without_a_list_of_fields() -> None:
    data: dict[str, Any] = {}
    assert set_path(data, "customer.notice_email", "a@b.example") is None
    assert set_path(data, "clauses.payment.section", "3") is None
    assert data == {
        "customer": {"notice_email": "a@b.example"},
        "clauses": {"payment": {"section": "3"}},
    }
    assert set_path(data, "customer.notice_email.x", 1) == (
        "customer.notice_email is a value, not a mapping of fields"
    )


@pytest.mark.parametrize(
    ("a", "b", "alike"),
    [(30, "30", True), ("1", "1.0", True), (["4", "6"], ["4", "6"], True), (15, 20, False)],
)
def test_values_are_the_same_when_they_say_the_same(a: Any, b: Any, alike: bool) -> None:
    assert same(a, b) is alike


def test_each_value_is_typed_in_as_its_field_takes_it() -> None:
    model = default_registry().term_sheet_model()
    assert shape_of(model, "our_side").choices == ("customer", "provider")
    assert shape_of(model, "clauses.surviving_sections").kind == "list"
    assert shape_of(model, "clauses.service_levels.credit_pro_rata").choices == ("yes", "no")
    assert shape_of(model, "reference").optional and not shape_of(model, "title").optional
