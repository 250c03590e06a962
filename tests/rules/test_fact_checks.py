"""Facts checked against the contract and each other: ranges, the effective date,
amounts, and the fact that opened the case. Every check here runs on an injected clock."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from contracts.terms import TermSheet
from rules.facts import (
    FactContext,
    FactsError,
    Opening,
    check_recorded_fact,
    validate_recorded_fact,
    validate_start_facts,
)
from rules.rulebook import Rulebook, RulebookError
from tests.rules.helpers import STARTS_RUNNING, load_demo
from workers.seed import reference_term_sheet

NY = "America/New_York"
NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)
EFFECTIVE = dt.date(2026, 1, 1)

RULEBOOK = (
    """\
clause: checks_demo
version: 1
title: Checks demo
section: "§0"
summary: Facts checked against the contract.
facts:
  received_at:
    {type: datetime, required: true, not_in_future: true, label: When the notice was received}
  starts_on: {type: date, label: Starts}
  first_month: {type: date, day_of_month: 1, label: First month}
  signed_on: {type: date, may_precede_contract: true, label: Signed before the contract}
  amount: {type: money, positive: true, label: Amount}
  credit: {type: money, label: Credit}
  rate: {type: decimal, label: Rate}
  opened_by: {type: string, one_of: [Customer, Provider, Regulator], label: Who opened it}
recordable_facts:
  settled:
    label: Settled
    fields:
      settled_on: {type: date, required: true, not_in_future: true, label: Settled on}
      settled_at: {type: datetime, label: Settled at}
      noticed_on: {type: date, may_precede_opening: true, label: First noticed}
      paid: {type: money, label: Paid}
states:
  running: {label: Running}
  done: {label: Done, terminal: true}
"""
    + STARTS_RUNNING
)


def _load(tmp: Path, text: str) -> Rulebook:
    return load_demo(tmp, "checks_demo", text)


@pytest.fixture(scope="module")
def rulebook(tmp_path_factory: pytest.TempPathFactory) -> Rulebook:
    return _load(tmp_path_factory.mktemp("checks"), RULEBOOK)


def start_errors(rulebook: Rulebook, **facts: object) -> dict[str, str]:
    facts = {"received_at": "2026-03-02T10:00:00-05:00", **facts}
    with pytest.raises(FactsError) as info:
        validate_start_facts(rulebook, facts, time_zone=NY, now=NOW, effective_date=EFFECTIVE)
    return {e.field: e.message for e in info.value.errors}


def start(rulebook: Rulebook, **facts: object) -> dict[str, object]:
    facts = {"received_at": "2026-03-02T10:00:00-05:00", **facts}
    return validate_start_facts(rulebook, facts, time_zone=NY, now=NOW, effective_date=EFFECTIVE)


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01T00:00:00Z",
        "0001-01-01T00:00:00+05:00",  # converting this one to UTC overflows
        "9999-12-31T23:59:59-05:00",
        "1969-12-31T23:59:59Z",
        "2201-01-01T00:00:00Z",
    ],
)
def test_instants_outside_1970_to_2200_are_refused_naming_the_field(
    rulebook: Rulebook, value: str
) -> None:
    errors = start_errors(rulebook, received_at=value)
    assert errors == {"facts.received_at": "must be between 1970-01-01 and 2200-12-31"}


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31", "2201-01-01"])
def test_dates_outside_1970_to_2200_are_refused(rulebook: Rulebook, value: str) -> None:
    assert start_errors(rulebook, starts_on=value) == {
        "facts.starts_on": "must be between 1970-01-01 and 2200-12-31"
    }


def test_a_date_before_the_contracts_effective_date_is_refused_with_the_date(
    rulebook: Rulebook,
) -> None:
    errors = start_errors(rulebook, received_at="2025-06-01T10:00:00-04:00", starts_on="2025-12-31")
    assert errors == {
        "facts.received_at": "is before the contract's effective date (Thu 1 Jan 2026)",
        "facts.starts_on": "is before the contract's effective date (Thu 1 Jan 2026)",
    }
    # On the day itself it is in time, in the contract's zone (05:00 UTC is midnight there).
    assert start(rulebook, received_at="2026-01-01T05:00:00Z")["received_at"]


def test_a_fact_the_rulebook_lets_precede_the_contract_may(rulebook: Rulebook) -> None:
    assert start(rulebook, signed_on="2025-11-15")["signed_on"] == "2025-11-15"


def test_a_monthly_fact_may_name_the_month_the_contract_began_in(rulebook: Rulebook) -> None:
    effective = dt.date(2026, 1, 15)
    facts = {"received_at": "2026-03-02T10:00:00-05:00", "first_month": "2026-01-01"}
    got = validate_start_facts(rulebook, facts, time_zone=NY, now=NOW, effective_date=effective)
    assert got["first_month"] == "2026-01-01"
    facts["first_month"] = "2025-12-01"
    with pytest.raises(FactsError):
        validate_start_facts(rulebook, facts, time_zone=NY, now=NOW, effective_date=effective)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("amount", "-100.00", "must be more than zero"),
        ("amount", "0", "must be more than zero"),
        ("credit", "-0.01", "must not be negative"),
        ("amount", "1e400", "must be at most 999999999999.99"),
        ("amount", "1000000000000", "must be at most 999999999999.99"),
        ("amount", "12.345", "must have at most 2 decimal places"),
        ("amount", "9" * 41, 'must be an amount, such as "1250.00"'),
        ("amount", "NaN", "must be a finite amount"),
    ],
)
def test_amounts_are_refused_never_clamped_or_rounded(
    rulebook: Rulebook, field: str, value: str, message: str
) -> None:
    assert start_errors(rulebook, **{field: value}) == {f"facts.{field}": message}


def test_amounts_within_the_rules_are_kept_as_given(rulebook: Rulebook) -> None:
    got = start(rulebook, amount="1250.5", credit="0", rate="0.125")
    assert (got["amount"], got["credit"], got["rate"]) == ("1250.5", "0", "0.125")


def test_the_opening_fact_is_the_only_required_instant_unless_named(rulebook: Rulebook) -> None:
    assert rulebook.opening_fact == "received_at"
    real = reference_rulebooks()
    assert real["termination_for_convenience"].opening_fact == "notice_received_at"
    assert real["invoice_payment"].opening_fact == "invoice_received_at"
    # Two instants (a window's start and end), or none: no opening.
    assert real["scheduled_maintenance"].opening_fact is None
    assert real["monthly_sla_review"].opening_fact is None


def reference_rulebooks() -> dict[str, Rulebook]:
    from rules.rulebook import default_registry

    registry = default_registry()
    return {c: registry.latest(c) for c in registry.clauses()}


def record_settled(rulebook: Rulebook, values: dict[str, object]) -> dict[str, object]:
    """Records ``settled`` in the running case the notice received on 2 Mar 2026 opened."""
    return validate_recorded_fact(
        rulebook,
        "settled",
        values,
        state="running",
        time_zone=NY,
        now=NOW,
        effective_date=EFFECTIVE,
        case_facts={"received_at": "2026-03-02T15:00:00Z"},
    )


def record_errors(rulebook: Rulebook, values: dict[str, object]) -> dict[str, str]:
    with pytest.raises(FactsError) as info:
        record_settled(rulebook, values)
    return {e.field: e.message for e in info.value.errors}


def test_a_recorded_fact_dated_before_the_case_opened_is_refused(rulebook: Rulebook) -> None:
    opened = "is before the fact that opened the case (When the notice was received: "
    errors = record_errors(
        rulebook, {"settled_on": "2026-03-01", "settled_at": "2026-03-02T09:59:00-05:00"}
    )
    assert errors == {
        "values.settled_on": opened + "Mon 2 Mar 2026 10:00 New York time)",
        "values.settled_at": opened + "Mon 2 Mar 2026 10:00 New York time)",
    }
    # The same day, and a field the rulebook lets precede the opening, are fine.
    got = record_settled(rulebook, {"settled_on": "2026-03-02", "noticed_on": "2026-02-20"})
    assert got == {"settled_on": "2026-03-02", "noticed_on": "2026-02-20"}


def test_a_recorded_amount_is_checked_like_a_start_amount(rulebook: Rulebook) -> None:
    errors = record_errors(rulebook, {"settled_on": "2026-03-05", "paid": "-5"})
    assert errors == {"values.paid": "must not be negative"}


class _Window:
    label = "Dispute window"
    status = "pending"
    due_at = dt.datetime(2026, 3, 5, 5, tzinfo=dt.UTC)


def test_the_case_checks_a_window_and_the_fields_in_one_answer(rulebook: Rulebook) -> None:
    spec = rulebook.recordable_facts["settled"].model_copy(update={"allowed_before": "window"})
    with pytest.raises(FactsError) as info:
        check_recorded_fact(
            {"settled": spec},
            "settled",
            {"settled_on": "2026-03-20"},
            FactContext(NY, NOW, EFFECTIVE, Opening("Received", NOW - dt.timedelta(days=9))),
            state="running",
            terminal_states=["done"],
            deadlines={"window": _Window()},
        )
    assert {e.field: e.message for e in info.value.errors} == {
        "fact": (
            "Settled is refused: the dispute window ended at Thu 5 Mar 2026 00:00 New York time"
        ),
        "values.settled_on": "must not be in the future",
    }


def test_a_contract_takes_effect_between_1970_and_2200() -> None:
    data = reference_term_sheet().model_dump(mode="json")
    for day in ("0001-01-01", "9999-12-31"):
        with pytest.raises(ValueError, match="the effective date must be between 1970-01-01"):
            TermSheet.model_validate({**data, "effective_date": day})


@pytest.mark.parametrize(
    ("fact", "message"),
    [
        ("{type: string, positive: true, label: X}", "positive applies only to"),
        ("{type: money, may_precede_contract: true, label: X}", "may_precede_contract applies"),
        ("{type: date, may_precede_opening: true, label: X}", "may_precede_opening applies only"),
    ],
)
def test_the_checker_refuses_flags_that_cannot_apply(
    tmp_path: Path, fact: str, message: str
) -> None:
    text = RULEBOOK.replace("  rate: {type: decimal, label: Rate}", f"  rate: {fact}")
    with pytest.raises(RulebookError, match=message):
        _load(tmp_path, text)


def test_the_checker_refuses_an_opening_that_is_not_a_date_fact(tmp_path: Path) -> None:
    text = RULEBOOK.replace("version: 1\n", "version: 1\nopened_by: amount\n")
    with pytest.raises(RulebookError, match="opened_by must name a datetime or date start fact"):
        _load(tmp_path, text)
    named = _load(tmp_path, RULEBOOK.replace("version: 1\n", "version: 1\nopened_by: starts_on\n"))
    assert named.opening_fact == "starts_on"


def test_no_rulebook_may_declare_the_engines_could_not_start_state(tmp_path: Path) -> None:
    text = RULEBOOK.replace(
        "  done: {label: Done", "  could_not_start: {label: X}\n  done: {label: Done"
    )
    with pytest.raises(RulebookError, match="the engine's own state"):
        _load(tmp_path, text)


def test_a_text_fact_with_one_of_takes_only_those_values_in_their_own_spelling(
    rulebook: Rulebook,
) -> None:
    assert start(rulebook, opened_by=" regulator ")["opened_by"] == "Regulator"
    assert start_errors(rulebook, opened_by="the landlord") == {
        "facts.opened_by": "must be one of: Customer, Provider, Regulator"
    }


def test_one_of_is_for_text_facts_and_lists_each_value_once(tmp_path: Path) -> None:
    for fact, message in (
        ("{type: integer, one_of: [a], label: X}", "one_of applies only to string facts"),
        ("{type: string, one_of: [a, a], label: X}", "one_of lists each allowed value once"),
    ):
        text = RULEBOOK.replace("  rate: {type: decimal, label: Rate}", f"  rate: {fact}")
        with pytest.raises(RulebookError, match=message):
            _load(tmp_path, text)
