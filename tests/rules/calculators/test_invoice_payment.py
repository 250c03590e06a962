"""The invoice_position calculator (MSA §3, Exhibit B.4), with every figure worked by hand.

The invoice is USD 10,000.00, received in January 2037 and due on Sat 31 Jan 2037 (the
payment_due deadline's last day). Interest months run from the due date: 31 Jan -> 28 Feb
(28 days, 2037 is no leap year) -> 31 Mar (31 days) -> 30 Apr (30 days). The contract
rate is 1% a month compounded monthly; the lawful maximum is 16% a year simple,
actual/365, rounded down to the cent; the lower one is charged.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from contracts.terms import TermSheet
from rules.calculators import DeadlineState, registered_calculators
from rules.clauses.invoice_payment.calculators import invoice_position
from tests.support.calculators import calculation_context
from workers.seed import reference_term_sheet

NY = ZoneInfo("America/New_York")
DUE_DAY = dt.date(2037, 1, 31)
PAYMENT_DUE = DeadlineState(
    due_at=dt.datetime(2037, 2, 1, tzinfo=NY).astimezone(dt.UTC),  # end of 31 Jan
    last_day=DUE_DAY,
    status="pending",
)


def at_ny(y: int, m: int, d: int, hh: int = 12) -> dt.datetime:
    return dt.datetime(y, m, d, hh, tzinfo=NY).astimezone(dt.UTC)


def position(
    *recorded: tuple[str, dict[str, Any], dt.datetime],
    today: dt.date,
    amount: str = "10000.00",
    with_deadline: bool = True,
    terms: TermSheet | None = None,
) -> dict[str, Any]:
    return invoice_position(
        calculation_context(
            terms=terms,
            facts={"invoice_amount": amount},
            recorded=recorded,
            deadlines={"payment_due": PAYMENT_DUE} if with_deadline else {},
            now=at_ny(today.year, today.month, today.day),
            opened_at=at_ny(2037, 1, 2),
        )
    )


def paid(amount: str, on: dt.date) -> tuple[str, dict[str, Any], dt.datetime]:
    return ("payment_received", {"amount": amount, "paid_on": on.isoformat()}, at_ny(2037, 1, 2))


def disputed(amount: str, at: dt.datetime) -> tuple[str, dict[str, Any], dt.datetime]:
    return ("dispute_raised", {"contested_amount": amount, "reason": "not delivered"}, at)


def resolved(amount: str, at: dt.datetime) -> tuple[str, dict[str, Any], dt.datetime]:
    return ("dispute_resolved", {"contested_amount_payable": amount, "resolution": "agreed"}, at)


def test_the_calculator_declares_every_output_it_returns() -> None:
    out = position(today=dt.date(2037, 1, 10))
    assert tuple(out) == registered_calculators()["invoice_position"].outputs


def test_before_the_deadlines_are_set_the_whole_invoice_is_due_without_interest() -> None:
    out = position(today=dt.date(2037, 1, 2), with_deadline=False)
    assert out["amount_due"] == out["amount_outstanding"] == out["total_outstanding"] == "10000.00"
    assert out["contested_amount"] == "0.00" and out["uncontested_amount"] == "10000.00"
    assert out["late_interest"] == "0.00" and out["late_interest_explanation"] == ""
    assert out["fully_paid"] is False and out["dispute_open"] is False
    assert out["days_past_due"] == 0


def test_nothing_is_late_on_the_due_date_itself() -> None:
    out = position(today=DUE_DAY)
    assert out["days_past_due"] == 0 and out["late_interest"] == "0.00"
    assert out["unpaid_since_due_date"] is False
    assert out["total_outstanding"] == "10000.00"


def test_one_day_late_charges_one_day_of_the_first_interest_month() -> None:
    # 1 Feb: 1 day of a 28-day interest month: 10,000.00 x 1% x 1/28 = 3.5714 -> 3.57.
    # Lawful maximum: 10,000.00 x 16% x 1/365 = 4.383 -> 4.38. The lower is 3.57.
    out = position(today=dt.date(2037, 2, 1))
    assert out["days_past_due"] == 1 and out["unpaid_since_due_date"] is True
    assert out["late_interest"] == "3.57"
    assert out["total_outstanding"] == "10003.57"


def test_interest_compounds_monthly_across_several_months() -> None:
    # 15 Apr 2037 is 28 + 31 + 15 = 74 days after 31 Jan.
    # Month 1 (31 Jan - 28 Feb): 1% of 10,000.00 = 100.00 -> balance 10,100.00.
    # Month 2 (28 Feb - 31 Mar): 1% of 10,100.00 = 101.00 -> balance 10,201.00.
    # Part month (31 Mar - 15 Apr, 15 of 30 days): 10,201.00 x 1% x 15/30 = 51.005 -> 51.01.
    # Contract rate: 100.00 + 101.00 + 51.01 = 252.01.
    # Lawful maximum: 10,000.00 x 16% x 74/365 = 324.383... -> 324.38. Charged: 252.01.
    out = position(today=dt.date(2037, 4, 15))
    assert out["days_past_due"] == 74
    assert out["late_interest"] == out["late_interest_charged"] == "252.01"
    assert out["amount_outstanding"] == "10000.00"
    assert out["total_outstanding"] == "10252.01"
    assert out["fully_paid"] is False
    explanation = out["late_interest_explanation"]
    assert "1% a month, compounded monthly" in explanation
    assert "interest charged 252.01 (set by the contract rate)" in explanation


def test_the_lawful_maximum_caps_the_interest_when_it_is_lower() -> None:
    terms = reference_term_sheet()
    terms.clauses.payment.maximum_lawful_annual_rate_percent = Decimal("6")
    # Same 74 days: 10,000.00 x 6% x 74/365 = 121.643... -> 121.64 < 252.01.
    out = position(today=dt.date(2037, 4, 15), terms=terms)
    assert out["late_interest"] == "121.64"
    assert "set by the lawful maximum" in out["late_interest_explanation"]


def test_a_partial_payment_goes_first_to_interest_then_to_principal() -> None:
    # 5,000.00 paid on 15 Mar 2037, statement on 15 Apr 2037.
    # Month 1 (28 days to 28 Feb): 100.00.
    # 28 Feb - 15 Mar, 15 days of a 31-day month on 10,100.00: 151,500 / 3,100
    #   = 48.870... -> 48.87; contract rate to 15 Mar: 148.87.
    #   Lawful maximum to 15 Mar: 10,000.00 x 16% x 43/365 = 188.49. Charged: 148.87.
    # The payment: 148.87 to interest, 4,851.13 to principal -> principal 5,148.87.
    # 15 Mar - 31 Mar, 16 days on 5,148.87 (interest all paid): 82,381.92 balance-days.
    #   Month 2 closes: (151,500 + 82,381.92) / 3,100 = 75.445... -> 75.45; total 175.45.
    # 31 Mar - 15 Apr, 15 of 30 days on 5,148.87 + 26.58 unpaid interest = 5,175.45:
    #   77,631.75 / 3,000 = 25.877... -> 25.88. Contract rate to date: 201.33.
    #   Lawful maximum: (10,000 x 43 + 5,148.87 x 31) x 16% / 365 = 258.46. Charged 201.33.
    # Unpaid interest: 201.33 - 148.87 = 52.46. Total: 5,148.87 + 52.46 = 5,201.33.
    out = position(paid("5000.00", dt.date(2037, 3, 15)), today=dt.date(2037, 4, 15))
    assert out["amount_paid"] == "5000.00"
    assert out["amount_outstanding"] == "5148.87"
    assert out["late_interest_charged"] == "201.33"
    assert out["late_interest"] == "52.46"
    assert out["total_outstanding"] == "5201.33"
    assert out["days_past_due"] == 74 and out["fully_paid"] is False
    assert "148.87 to interest, 4,851.13 to principal" in out["late_interest_explanation"]


def test_paying_principal_and_interest_to_the_day_settles_the_invoice() -> None:
    # Paid on 1 Feb: 10,000.00 + 3.57 one day's interest (see above) = 10,003.57.
    out = position(paid("10003.57", dt.date(2037, 2, 1)), today=dt.date(2037, 3, 20))
    assert out["amount_outstanding"] == out["late_interest"] == out["total_outstanding"] == "0.00"
    assert out["late_interest_charged"] == "3.57"
    assert out["fully_paid"] is True and out["days_past_due"] == 0


def test_paying_only_the_principal_late_leaves_the_interest_share_unpaid() -> None:
    # Paid 10,000.00 on 1 Feb: 3.57 goes to interest, 9,996.43 to principal, so 3.57 of
    # principal remains unpaid and the invoice is not settled.
    out = position(paid("10000.00", dt.date(2037, 2, 1)), today=dt.date(2037, 2, 28))
    assert out["amount_outstanding"] == "3.57"
    assert out["fully_paid"] is False and out["unpaid_since_due_date"] is True


def test_paid_in_full_on_time_carries_no_interest() -> None:
    out = position(paid("10000.00", dt.date(2037, 1, 30)), today=dt.date(2037, 3, 1))
    assert out["fully_paid"] is True
    assert out["total_outstanding"] == "0.00" and out["late_interest_charged"] == "0.00"
    assert out["late_interest_explanation"] == ""


def test_an_overpayment_is_reported_and_settles_the_invoice() -> None:
    out = position(paid("10500.00", dt.date(2037, 1, 30)), today=dt.date(2037, 2, 5))
    assert out["amount_overpaid"] == "500.00" and out["fully_paid"] is True


def test_an_open_dispute_keeps_the_uncontested_portion_due_and_the_case_open() -> None:
    out = position(
        disputed("4000.00", at_ny(2037, 1, 5)),
        paid("6000.00", dt.date(2037, 1, 28)),
        today=dt.date(2037, 2, 10),
    )
    assert out["contested_amount"] == "4000.00" and out["uncontested_amount"] == "6000.00"
    assert out["amount_due"] == "6000.00" and out["amount_outstanding"] == "0.00"
    assert out["dispute_open"] is True and out["fully_paid"] is False
    assert out["days_past_due"] == 0 and out["unpaid_since_due_date"] is False


def test_an_unpaid_uncontested_portion_bears_interest_while_the_dispute_runs() -> None:
    # 6,000.00 unpaid, 1 day late: 6,000.00 x 1% x 1/28 = 2.1428 -> 2.14 (max: 2.63).
    out = position(disputed("4000.00", at_ny(2037, 1, 5)), today=dt.date(2037, 2, 1))
    assert out["late_interest"] == "2.14" and out["total_outstanding"] == "6002.14"
    assert out["unpaid_since_due_date"] is True


def test_a_resolution_before_the_due_date_adds_the_payable_part_to_the_same_due_date() -> None:
    # 6,000.00 + 1,000.00 found payable = 7,000.00, all due 31 Jan.
    # One day late: 7,000.00 x 1% x 1/28 = 2.50.
    out = position(
        disputed("4000.00", at_ny(2037, 1, 5)),
        resolved("1000.00", at_ny(2037, 1, 20)),
        today=dt.date(2037, 2, 1),
    )
    assert out["contested_amount_payable"] == "1000.00"
    assert out["amount_due"] == "7000.00" and out["dispute_open"] is False
    assert out["late_interest"] == "2.50" and out["unpaid_since_due_date"] is True
    assert out["late_resolved_amount_unpaid"] is False


def found_payable_after_the_due_date(paid_on_time: str) -> dict[str, Any]:
    """4,000.00 disputed on 5 Jan, ``paid_on_time`` paid on 30 Jan, 1,500.00 of the
    4,000.00 found payable on Sun 1 Mar 2037: the position on 11 Mar."""
    return position(
        disputed("4000.00", at_ny(2037, 1, 5)),
        paid(paid_on_time, dt.date(2037, 1, 30)),
        resolved("1500.00", at_ny(2037, 3, 1)),
        today=dt.date(2037, 3, 11),
    )


def test_a_resolution_after_the_due_date_makes_that_amount_due_on_the_resolution_day() -> None:
    # Uncontested 6,000.00 paid on time; 1,500.00 found payable on Sun 1 Mar 2037.
    # On 11 Mar it is 10 days late, in an interest month of 31 days (1 Mar - 1 Apr):
    # 1,500.00 x 1% x 10/31 = 4.838... -> 4.84 (max: 1,500 x 16% x 10/365 = 6.57).
    out = found_payable_after_the_due_date("6000.00")
    assert out["amount_due"] == "7500.00" and out["amount_outstanding"] == "1500.00"
    assert out["days_past_due"] == 10 and out["late_interest"] == "4.84"
    assert out["unpaid_since_due_date"] is False
    assert out["late_resolved_amount_unpaid"] is True
    assert "found payable after the due date" in out["late_interest_explanation"]


def test_an_early_overpayment_covers_a_contested_amount_found_payable_later() -> None:
    # The Customer paid the whole 10,000.00 on time although it disputed 4,000.00; the
    # dispute later finds 1,500.00 payable: that is already covered, 2,500.00 overpaid.
    out = found_payable_after_the_due_date("10000.00")
    assert out["fully_paid"] is True and out["amount_overpaid"] == "2500.00"
    assert out["late_resolved_amount_unpaid"] is False


def test_figures_out_of_range_are_clamped() -> None:
    out = position(
        resolved("999.00", at_ny(2037, 1, 4)),  # no dispute yet: ignored
        disputed("12000.00", at_ny(2037, 1, 5)),  # more than the invoice
        resolved("20000.00", at_ny(2037, 1, 9)),  # more than was contested
        today=dt.date(2037, 1, 10),
    )
    assert out["contested_amount"] == "10000.00" and out["uncontested_amount"] == "0.00"
    assert out["contested_amount_payable"] == "10000.00"
    assert out["amount_due"] == "10000.00"
