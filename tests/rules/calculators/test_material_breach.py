"""The breach_basis calculator: how a material-breach case was opened."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from rules.calculators import registered_calculators
from rules.clauses.material_breach.calculators import normalise_breach_basis
from tests.support.calculators import calculation_context, run_calculator


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, "notice"),
        ("", "notice"),
        ("   ", "notice"),
        ("notice", "notice"),
        (" Notice ", "notice"),
        ("sla_failure", "sla_failure"),
        ("SLA failure", "sla_failure"),
        ("sla-failure", "sla_failure"),
        ("sla", "unrecognised"),
        ("breach", "unrecognised"),
        (3, "unrecognised"),
    ],
)
def test_opened_by_is_read_as_notice_sla_failure_or_unrecognised(raw: Any, expected: str) -> None:
    assert normalise_breach_basis(raw) == expected


def test_calculator_is_registered_and_reads_the_opened_by_fact() -> None:
    assert registered_calculators()["breach_basis"].outputs == ("breach_basis",)
    now = dt.datetime(2037, 12, 2, 15, tzinfo=dt.UTC)

    def run(facts: dict[str, Any]) -> dict[str, Any]:
        return run_calculator("breach_basis", calculation_context(facts=facts, now=now))

    assert run({"given_by": "customer"}) == {"breach_basis": "notice"}
    assert run({"opened_by": "sla_failure"}) == {"breach_basis": "sla_failure"}
    assert run({"opened_by": "complaint"}) == {"breach_basis": "unrecognised"}
