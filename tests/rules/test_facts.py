"""Validation and normalisation of case facts."""

from __future__ import annotations

import datetime as dt
import pickle
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from rules.facts import FactError, FactsError, validate_recorded_fact, validate_start_facts
from rules.rulebook import Rulebook, load_rulebook
from tests.rules.helpers import STARTS_RUNNING, load_demo

NY = "America/New_York"
NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)

RULEBOOK = (
    """\
clause: facts_demo
version: 1
title: Facts demo
section: "§0"
summary: Every kind of fact.
facts:
  received_at: {type: datetime, required: true, not_in_future: true, label: Received}
  signed_on: {type: date, not_in_future: true, label: Signed}
  due_on: {type: date, label: Due}
  note: {type: string, label: Note}
  given_by: {type: party, label: Given by}
  count: {type: integer, label: Count}
  rate: {type: decimal, label: Rate}
  fee: {type: money, label: Fee}
  urgent: {type: boolean, label: Urgent}
  contact: {type: email, label: Contact}
recordable_facts:
  settled:
    label: Settled
    allowed_in: [running]
    fields:
      signatory: {type: string, required: true, label: Signatory}
      settled_on: {type: date, required: true, not_in_future: true, label: Settled on}
  note_added:
    label: Note added
    fields:
      text: {type: string, required: true, label: Text}
states:
  running: {label: Running}
  paused: {label: Paused}
  done: {label: Done, terminal: true}
"""
    + STARTS_RUNNING
)


@pytest.fixture(scope="module")
def rulebook(tmp_path_factory: pytest.TempPathFactory) -> Rulebook:
    return load_demo(tmp_path_factory.mktemp("facts"), "facts_demo", RULEBOOK)


def start(rulebook: Rulebook, **facts) -> dict:
    return validate_start_facts(rulebook, facts, time_zone=NY, now=NOW)


def errors_of(call) -> dict[str, str]:
    with pytest.raises(FactsError) as info:
        call()
    return {e.field: e.message for e in info.value.errors}


# --------------------------------------------------------------------------- normalisation


def test_every_type_is_normalised(rulebook) -> None:
    got = start(
        rulebook,
        received_at="2026-03-02T14:30:00-05:00",
        signed_on="2026-03-01",
        due_on=dt.date(2026, 12, 31),
        note="  by courier  ",
        given_by="Provider",
        count="12",
        rate=Decimal("1.50"),
        fee="1250.00",
        urgent="true",
        contact="Legal@Example.COM",
    )
    assert got == {
        "received_at": "2026-03-02T19:30:00Z",
        "signed_on": "2026-03-01",
        "due_on": "2026-12-31",
        "note": "by courier",
        "given_by": "provider",
        "count": 12,
        "rate": "1.50",
        "fee": "1250.00",
        "urgent": True,
        "contact": "Legal@example.com",
    }


def test_datetimes_without_offset_are_read_in_the_contract_time_zone(rulebook) -> None:
    # 09:00 in New York in winter is 14:00 UTC.
    assert start(rulebook, received_at="2026-03-02T09:00:00")["received_at"] == (
        "2026-03-02T14:00:00Z"
    )
    assert start(rulebook, received_at=dt.datetime(2026, 3, 2, 9, 0))["received_at"] == (
        "2026-03-02T14:00:00Z"
    )
    aware = dt.datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Europe/London"))
    assert start(rulebook, received_at=aware)["received_at"] == "2026-03-02T09:00:00Z"
    assert start(rulebook, received_at="2026-03-02T09:00:00Z")["received_at"] == (
        "2026-03-02T09:00:00Z"
    )


def test_optional_facts_may_be_missing_or_blank(rulebook) -> None:
    got = start(rulebook, received_at="2026-03-02T09:00:00Z", note="   ", fee=None)
    assert got == {"received_at": "2026-03-02T09:00:00Z"}


def test_amounts_accept_ints_and_strings(rulebook) -> None:
    got = start(rulebook, received_at="2026-03-02T09:00:00Z", fee=1250, rate="1E+2")
    assert (got["fee"], got["rate"]) == ("1250", "100")


def test_not_in_future_for_a_date_uses_today_in_the_contract_zone(rulebook) -> None:
    # 2026-03-11 01:00 UTC is still 2026-03-10 in New York.
    now = dt.datetime(2026, 3, 11, 1, 0, tzinfo=dt.UTC)
    got = validate_start_facts(
        rulebook,
        {"received_at": "2026-03-10T20:00:00-05:00", "signed_on": "2026-03-10"},
        time_zone=NY,
        now=now,
    )
    assert got["signed_on"] == "2026-03-10"
    errors = errors_of(
        lambda: validate_start_facts(
            rulebook,
            {"received_at": "2026-03-10T20:00:00-05:00", "signed_on": "2026-03-11"},
            time_zone=NY,
            now=now,
        )
    )
    assert errors == {"facts.signed_on": "must not be in the future"}


# --------------------------------------------------------------------------- errors


def test_missing_required_and_unknown_facts(rulebook) -> None:
    errors = errors_of(lambda: start(rulebook, colour="blue"))
    assert errors["facts.received_at"] == "is required"
    assert errors["facts.colour"].startswith("unknown fact; known: received_at")


def test_all_errors_are_collected(rulebook) -> None:
    errors = errors_of(
        lambda: start(
            rulebook,
            received_at="2026-03-11T09:00:00Z",
            signed_on="03/01/2026",
            given_by="landlord",
            count=1.5,
            rate="abc",
            fee=12.5,
            urgent="yes",
            contact="not-an-email",
            note=7,
        )
    )
    assert errors["facts.received_at"] == "must not be in the future"
    assert errors["facts.signed_on"] == "must be a date, such as 2026-03-02"
    assert errors["facts.given_by"] == "must be customer or provider"
    assert errors["facts.count"] == "must be a whole number"
    assert errors["facts.rate"].startswith("must be an amount")
    assert errors["facts.fee"] == 'give amounts as strings, such as "1250.00", not as numbers'
    assert errors["facts.urgent"] == "must be true or false"
    assert errors["facts.contact"].startswith("is not a valid email address")
    assert errors["facts.note"] == "must be text"
    assert len(errors) == 9


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-03-02", "must be a date and time"),
        ("yesterday at noon", "ISO 8601"),
        (1767225600, "must be a date and time"),
        # Clocks skip 02:00-03:00 in New York on 2026-03-08 and repeat 01:00-02:00 on 11-01.
        ("2026-03-08T02:30:00", "daylight-saving"),
        ("2025-11-02T01:30:00", "daylight-saving"),
    ],
)
def test_bad_datetimes(rulebook, value, message) -> None:
    errors = errors_of(lambda: start(rulebook, received_at=value))
    assert message in errors["facts.received_at"]


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-inf", Decimal("NaN")])
def test_non_finite_amounts(rulebook, value) -> None:
    errors = errors_of(lambda: start(rulebook, received_at="2026-03-02T09:00:00Z", fee=value))
    assert errors == {"facts.fee": "must be a finite amount"}


def test_booleans_are_not_numbers(rulebook) -> None:
    errors = errors_of(
        lambda: start(rulebook, received_at="2026-03-02T09:00:00Z", count=True, fee=False)
    )
    assert set(errors) == {"facts.count", "facts.fee"}


def test_date_rejects_datetime(rulebook) -> None:
    errors = errors_of(
        lambda: start(rulebook, received_at="2026-03-02T09:00:00Z", due_on=dt.datetime(2026, 1, 1))
    )
    assert errors == {"facts.due_on": "must be a date without a time, such as 2026-03-02"}


def test_error_text_and_pickling(rulebook) -> None:
    with pytest.raises(FactsError) as info:
        start(rulebook, given_by="x")
    text = str(info.value)
    assert "facts.received_at: is required" in text
    assert "facts.given_by: must be customer or provider" in text
    assert isinstance(info.value, ValueError)
    again = pickle.loads(pickle.dumps(info.value))
    assert again.errors == info.value.errors
    assert FactError("a", "b") == FactError("a", "b")


def test_programming_errors(rulebook) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        validate_start_facts(rulebook, {}, time_zone=NY, now=dt.datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="unknown time zone"):
        validate_start_facts(rulebook, {}, time_zone="Mars/Olympus", now=NOW)


# --------------------------------------------------------------------------- recorded facts


def record(rulebook, fact, values, state="running"):
    return validate_recorded_fact(rulebook, fact, values, state=state, time_zone=NY, now=NOW)


def test_recorded_fact_is_normalised(rulebook) -> None:
    got = record(rulebook, "settled", {"signatory": " A. Person ", "settled_on": "2026-03-09"})
    assert got == {"signatory": "A. Person", "settled_on": "2026-03-09"}


def test_recorded_fact_field_errors(rulebook) -> None:
    errors = errors_of(
        lambda: record(rulebook, "settled", {"settled_on": "2026-04-01", "extra": 1})
    )
    assert errors == {
        "values.signatory": "is required",
        "values.settled_on": "must not be in the future",
        "values.extra": "unknown fact; known: signatory, settled_on",
    }


def test_unknown_recorded_fact(rulebook) -> None:
    errors = errors_of(lambda: record(rulebook, "withdrawn", {}))
    assert errors == {"fact": "unknown fact 'withdrawn'; known: settled, note_added"}


def test_recorded_fact_not_allowed_in_state(rulebook) -> None:
    values = {"signatory": "A", "settled_on": "2026-03-09"}
    errors = errors_of(lambda: record(rulebook, "settled", values, state="paused"))
    assert errors == {"state": "'settled' can only be recorded in running; the case is paused"}


def test_empty_allowed_in_means_any_non_terminal_state(rulebook) -> None:
    assert record(rulebook, "note_added", {"text": "hi"}, state="paused") == {"text": "hi"}
    errors = errors_of(lambda: record(rulebook, "note_added", {"text": "hi"}, state="done"))
    assert errors == {"state": "'note_added' cannot be recorded: the case has ended (done)"}
    errors = errors_of(lambda: record(rulebook, "note_added", {"text": "hi"}, state="lost"))
    assert errors == {"state": "unknown state 'lost'"}


def test_state_and_field_errors_come_together(rulebook) -> None:
    errors = errors_of(lambda: record(rulebook, "settled", {}, state="paused"))
    assert set(errors) == {"state", "values.signatory", "values.settled_on"}


def test_real_termination_facts() -> None:
    real = Path(__file__).resolve().parents[2] / "rules" / "clauses"
    rulebook = load_rulebook(
        real / "termination_for_convenience" / "rulebook.v1.yaml", check_templates=False
    )
    got = validate_start_facts(
        rulebook,
        {"notice_received_at": "2026-03-02T10:15:00", "given_by": "customer"},
        time_zone=NY,
        now=NOW,
    )
    assert got == {"notice_received_at": "2026-03-02T15:15:00Z", "given_by": "customer"}
    errors = errors_of(
        lambda: record(
            rulebook,
            "withdrawal_agreed",
            {"customer_signatory": "C", "agreed_on": "2026-03-09"},
            state="notice_period_running",
        )
    )
    assert errors == {"values.provider_signatory": "is required"}
