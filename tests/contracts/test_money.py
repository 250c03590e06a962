"""Money arithmetic: rounding, late interest, service credits, uptime and disputed invoices.

Every expected figure is worked out by hand in the comments next to it, never by calling
the code under test.
"""

import datetime as dt
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest

from contracts.money import (
    InterestLimb,
    amount_due_after_dispute,
    interest_with_payments,
    monthly_uptime,
    service_credit,
    to_cents,
    uncontested_amount,
)

NY = ZoneInfo("America/New_York")
FEE = D("25000.00")
TEN_K = D("10000.00")
CONTRACT_RATE, LAWFUL_MAXIMUM = InterestLimb.CONTRACT_RATE, InterestLimb.LAWFUL_MAXIMUM


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0):
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=NY)


# --------------------------------------------------------------------------- rounding


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (D("1.005"), D("1.01")),  # half goes up
        (D("1.004"), D("1.00")),
        (D("1.0049999"), D("1.00")),
        (D("2.675"), D("2.68")),  # the float 2.675 would give 2.67
        (D("1.025"), D("1.03")),  # banker's rounding would give 1.02
        (D("-1.005"), D("-1.01")),  # half away from zero
        (D("0"), D("0.00")),
        (7, D("7.00")),  # ints are exact
    ],
)
def test_to_cents_rounds_half_up_to_the_cent(amount, expected):
    result = to_cents(amount)
    assert result == expected
    assert result.as_tuple().exponent == -2


@pytest.mark.parametrize("amount", [1.005, 1.0, "1.00", True, None])
def test_to_cents_rejects_anything_but_decimal(amount):
    with pytest.raises(TypeError, match="amount must be a Decimal"):
        to_cents(amount)


@pytest.mark.parametrize("amount", [D("NaN"), D("Infinity")])
def test_to_cents_rejects_non_finite(amount):
    with pytest.raises(ValueError, match="finite"):
        to_cents(amount)


# --------------------------------------------------------------------------- late interest
#
# Paid in full on one date: the ledger without payments, read on the payment date.


@pytest.mark.parametrize(
    ("due", "paid", "rate", "amount", "limb"),
    [
        # Paid on the due date: no days late, nothing due.
        (dt.date(2026, 1, 31), dt.date(2026, 1, 31), D("1"), D("0.00"), CONTRACT_RATE),
        # Paid before the due date: nothing due.
        (dt.date(2026, 1, 31), dt.date(2026, 1, 15), D("1"), D("0.00"), CONTRACT_RATE),
        # 31 Jan -> 28 Feb is one whole interest month (the short month clamps):
        # (a) 10,000 x 1% = 100.00; (b) 10,000 x 16% x 28/365 = 122.739.. -> down 122.73.
        (dt.date(2026, 1, 31), dt.date(2026, 2, 28), D("1"), D("100.00"), CONTRACT_RATE),
        # 31 Jan -> 27 Feb: no whole month; 27 of the 28 days of the month 31 Jan -> 28 Feb:
        # (a) 100 x 27/28 = 96.428.. -> 96.43; (b) 1,600 x 27/365 = 118.356.. -> 118.35.
        (dt.date(2026, 1, 31), dt.date(2026, 2, 27), D("1"), D("96.43"), CONTRACT_RATE),
        # 10 days of the 31-day month 15 Mar -> 15 Apr:
        # (a) 100 x 10/31 = 32.258.. -> 32.26; (b) 1,600 x 10/365 = 43.835.. -> 43.83.
        (dt.date(2026, 3, 15), dt.date(2026, 3, 25), D("1"), D("32.26"), CONTRACT_RATE),
        # Three whole months, compounded: 100.00; 1% of 10,100 = 101.00; 1% of 10,201 =
        # 102.01; total 303.01. (b) 92 days: 1,600 x 92/365 = 403.287.. -> 403.28.
        (dt.date(2026, 3, 15), dt.date(2026, 6, 15), D("1"), D("303.01"), CONTRACT_RATE),
        # 31 Jan -> 14 Apr: months to 28 Feb and 31 Mar, then 14 of the 30 days to 30 Apr.
        # 100.00 + 101.00 + 10,201 x 1% x 14/30 (= 47.604..) 47.60 = 248.60.
        # (b) 73 days: 1,600 x 73/365 = 320.00 exactly.
        (dt.date(2026, 1, 31), dt.date(2026, 4, 14), D("1"), D("248.60"), CONTRACT_RATE),
        # Leap year: 31 Jan 2028 -> 29 Feb 2028 is one whole month; 29 days late.
        # (a) 100.00; (b) 1,600 x 29/365 = 127.123.. -> 127.12.
        (dt.date(2028, 1, 31), dt.date(2028, 2, 29), D("1"), D("100.00"), CONTRACT_RATE),
        # The lawful maximum bites when the contract rate would exceed it:
        # 2% a month for 10 days of a 31-day month: 200 x 10/31 = 64.516.. -> 64.52, above
        # (b) 1,600 x 10/365 = 43.835.. -> 43.83.
        (dt.date(2026, 3, 15), dt.date(2026, 3, 25), D("2"), D("43.83"), LAWFUL_MAXIMUM),
        # 2% for two whole months: 200.00 + 2% of 10,200 = 204.00 -> 404.00, above
        # (b) 59 days: 1,600 x 59/365 = 258.630.. -> 258.63.
        (dt.date(2026, 1, 31), dt.date(2026, 3, 31), D("2"), D("258.63"), LAWFUL_MAXIMUM),
        # (b) is rounded DOWN: 1,600 x 28/365 = 122.7397.. gives 122.73, not 122.74.
        (dt.date(2026, 1, 31), dt.date(2026, 2, 28), D("2"), D("122.73"), LAWFUL_MAXIMUM),
        # Default 1% for five years compounds to 8,166.97 (1.01^60 = 1.81669..), above
        # (b) 1,826 days (one 29 Feb): 1,600 x 1,826/365 = 8,004.383.. -> 8,004.38.
        (dt.date(2026, 1, 15), dt.date(2031, 1, 15), D("1"), D("8004.38"), LAWFUL_MAXIMUM),
    ],
)
def test_late_interest_compounds_monthly_with_pro_rata_final_month_under_the_lawful_maximum(
    due, paid, rate, amount, limb
):
    result = interest_with_payments(TEN_K, due, [], paid, monthly_rate_percent=rate)
    assert result.interest_charged == amount
    assert result.accrued_interest == amount
    assert result.limb is limb


def test_late_interest_ledger_lists_each_month_end_and_the_part_month():
    # Same case as above: 31 Jan -> 14 Apr 2026. Month to 28 Feb: 100.00; month to 31 Mar:
    # 1% of 10,100 = 101.00, 201.00 in all; 14 of the 30 days to 30 Apr on 10,201:
    # 47.604.. -> 47.60, 248.60 in all.
    result = interest_with_payments(TEN_K, dt.date(2026, 1, 31), [], dt.date(2026, 4, 14))
    assert [(e.date, e.event, e.interest_charged) for e in result.ledger] == [
        (dt.date(2026, 1, 31), "due", D("0.00")),
        (dt.date(2026, 2, 28), "month end", D("100.00")),
        (dt.date(2026, 3, 31), "month end", D("201.00")),
        (dt.date(2026, 4, 14), "statement", D("248.60")),
    ]
    assert result.total_outstanding == D("10248.60")


@pytest.mark.parametrize(
    ("due", "ends"),
    [
        # The 31st: the last day of each shorter month, and back to the 31st after it.
        (dt.date(2026, 1, 31), ["2026-02-28", "2026-03-31", "2026-04-30", "2026-05-31"]),
        (dt.date(2028, 1, 31), ["2028-02-29", "2028-03-31", "2028-04-30", "2028-05-31"]),
        (dt.date(2026, 8, 31), ["2026-09-30", "2026-10-31", "2026-11-30", "2026-12-31"]),
        # Across the year end.
        (dt.date(2026, 12, 31), ["2027-01-31", "2027-02-28", "2027-03-31", "2027-04-30"]),
        (dt.date(2026, 11, 30), ["2026-12-30", "2027-01-30", "2027-02-28", "2027-03-30"]),
        # 29 February: the 29th of each month, 28 February in a common year.
        (dt.date(2028, 2, 29), ["2028-03-29", "2028-04-29", "2028-05-29", "2028-06-29"]),
        (dt.date(2027, 12, 29), ["2028-01-29", "2028-02-29", "2028-03-29", "2028-04-29"]),
        (dt.date(2026, 12, 29), ["2027-01-29", "2027-02-28", "2027-03-29", "2027-04-29"]),
    ],
)
def test_interest_months_end_on_the_same_day_or_the_last_day_of_a_shorter_month(due, ends):
    # Each month end is counted from the due date, so a short month never shifts later ones.
    expected = [dt.date.fromisoformat(end) for end in ends]
    result = interest_with_payments(TEN_K, due, [], expected[-1])
    assert [e.date for e in result.ledger if e.event == "month end"] == expected


@pytest.mark.parametrize("rate", [D("1"), D("1.5"), D("2"), D("5")])
def test_interest_never_exceeds_the_lawful_maximum(rate):
    due = dt.date(2026, 1, 31)
    principal = D("12345.67")
    for days in range(0, 2200, 7):
        result = interest_with_payments(
            principal, due, [], due + dt.timedelta(days=days), monthly_rate_percent=rate
        )
        exact_ceiling = principal * D("0.16") * days / 365
        assert result.interest_charged <= exact_ceiling, days


def test_a_lower_lawful_maximum_parameter_is_honoured():
    # 6% a year for 30 days of a 31-day month: 10,000 x 6% x 30/365 = 49.315.. -> 49.31,
    # below (a) 100 x 30/31 = 96.77.
    result = interest_with_payments(
        TEN_K, dt.date(2026, 3, 15), [], dt.date(2026, 4, 14), max_annual_rate_percent=D("6")
    )
    assert result.interest_charged == D("49.31")
    assert result.limb is LAWFUL_MAXIMUM


def test_zero_principal_carries_no_interest():
    result = interest_with_payments(D("0.00"), dt.date(2026, 1, 31), [], dt.date(2026, 6, 30))
    assert result.interest_charged == D("0.00")


# --------------------------------------------------------------------------- partial payments


def test_payment_goes_to_interest_first_then_principal():
    # Due 15 Mar. Month to 15 Apr (31 days): 1% of 10,000 = 100.00; (b) 135.89.
    # 15 Apr pays 1,000: 100.00 to interest, 900.00 to principal -> 9,100.00.
    # Month to 15 May: 1% of 9,100 = 91.00 -> charged 191.00, of which 91.00 unpaid.
    # (b): (10,000 x 31 + 9,100 x 30) x 16% / 365 = 583,000 x 0.16 / 365 = 255.56.
    result = interest_with_payments(
        TEN_K, dt.date(2026, 3, 15), [(dt.date(2026, 4, 15), D("1000.00"))], dt.date(2026, 5, 15)
    )
    payment = next(e for e in result.ledger if e.event == "payment")
    assert (payment.to_interest, payment.to_principal) == (D("100.00"), D("900.00"))
    assert result.outstanding_principal == D("9100.00")
    assert result.interest_charged == D("191.00")
    assert result.interest_paid == D("100.00")
    assert result.accrued_interest == D("91.00")
    assert result.total_outstanding == D("9191.00")
    assert result.limb is CONTRACT_RATE


def test_payment_smaller_than_interest_leaves_unpaid_interest_compounding():
    # Months to 15 Apr and 15 May: 100.00 + 1% of 10,100 = 101.00 -> 201.00.
    # 15 May pays 50.00, all to interest: 151.00 unpaid, principal untouched.
    # Month to 15 Jun compounds on 10,000 + 151 = 10,151: 101.51 -> charged 302.51.
    # (b) 92 days on 10,000 = 403.28, so (a) applies; unpaid 302.51 - 50.00 = 252.51.
    result = interest_with_payments(
        TEN_K, dt.date(2026, 3, 15), [(dt.date(2026, 5, 15), D("50.00"))], dt.date(2026, 6, 15)
    )
    assert result.principal_paid == D("0.00")
    assert result.outstanding_principal == D("10000.00")
    assert result.interest_charged == D("302.51")
    assert result.accrued_interest == D("252.51")


def test_mid_month_payment_splits_the_month_pro_rata():
    # Due 31 Jan (worked example). 20 Jan: 100.00 before the due date, all to principal.
    # Month to 28 Feb on 9,900: 99.00.
    # 15 Mar, 15 of the 31 days to 31 Mar: 9,999 x 1% x 15/31 = 48.382.. -> 48.38;
    # interest to date 147.38 ((b) is 9,900 x 16% x 43/365 = 186.60). Payment 500.00:
    # 147.38 to interest, 352.62 to principal -> 9,547.38.
    # Month to 31 Mar: (9,999 x 15 + 9,547.38 x 16) x 1% / 31 = 302,743.08 / 3,100
    # = 97.659.. -> 97.66; closed months 99.00 + 97.66 = 196.66.
    # 31 Mar -> 14 Apr, 14 of 30 days, on 9,547.38 + (196.66 - 147.38) = 9,596.66:
    # 9,596.66 x 1% x 14/30 = 44.784.. -> 44.78. Charged 241.44; unpaid 241.44 - 147.38 = 94.06.
    result = interest_with_payments(
        TEN_K,
        dt.date(2026, 1, 31),
        [(dt.date(2026, 3, 15), D("500.00")), (dt.date(2026, 1, 20), D("100.00"))],
        dt.date(2026, 4, 14),
    )
    assert [(e.date, e.event) for e in result.ledger] == [
        (dt.date(2026, 1, 20), "payment"),
        (dt.date(2026, 1, 31), "due"),
        (dt.date(2026, 2, 28), "month end"),
        (dt.date(2026, 3, 15), "payment"),
        (dt.date(2026, 3, 31), "month end"),
        (dt.date(2026, 4, 14), "statement"),
    ]
    charged = [e.interest_charged for e in result.ledger]
    assert charged == [D("0.00"), D("0.00"), D("99.00"), D("147.38"), D("196.66"), D("241.44")]
    assert result.ledger[3].to_principal == D("352.62")
    assert result.outstanding_principal == D("9547.38")
    assert result.accrued_interest == D("94.06")


def test_lawful_maximum_caps_interest_with_part_payments():
    # 2% a month, due 15 Mar, 5,000.00 paid 25 Mar, statement 15 Apr.
    # 25 Mar: (a) 10,000 x 2% x 10/31 = 64.516.. -> 64.52; (b) 10,000 x 16% x 10/365 =
    # 43.835.. -> 43.83, so 43.83 charged. Payment: 43.83 interest, 4,956.17 principal,
    # leaving 5,043.83.
    # 15 Apr: (a) (10,000 x 10 + 5,043.83 x 21) x 2% / 31 = 205,920.43 x 2 / 3,100
    # = 132.85; (b) 205,920.43 x 16 / 36,500 = 90.266.. -> 90.26. Charged 90.26.
    result = interest_with_payments(
        TEN_K,
        dt.date(2026, 3, 15),
        [(dt.date(2026, 3, 25), D("5000.00"))],
        dt.date(2026, 4, 15),
        monthly_rate_percent=D("2"),
    )
    assert result.ledger[1].to_interest == D("43.83")
    assert result.outstanding_principal == D("5043.83")
    assert result.interest_charged == D("90.26")
    assert result.accrued_interest == D("46.43")  # 90.26 - 43.83
    assert result.limb is LAWFUL_MAXIMUM


def test_overpayment_is_recorded_not_lost():
    # 1,000.00 due 15 Mar; a month later 1% = 10.00 interest. 1,020.00 paid: 10.00
    # interest, 1,000.00 principal, 10.00 over. Nothing accrues on a zero balance.
    result = interest_with_payments(
        D("1000.00"),
        dt.date(2026, 3, 15),
        [(dt.date(2026, 4, 15), D("1020.00"))],
        dt.date(2026, 5, 15),
    )
    assert result.outstanding_principal == D("0.00")
    assert result.accrued_interest == D("0.00")
    assert result.interest_charged == D("10.00")
    assert result.overpayment == D("10.00")


def test_statement_before_due_date_charges_no_interest():
    # 2,000.00 paid early; statement on 1 Mar, before the 15 Mar due date.
    result = interest_with_payments(
        TEN_K, dt.date(2026, 3, 15), [(dt.date(2026, 2, 20), D("2000.00"))], dt.date(2026, 3, 1)
    )
    assert result.outstanding_principal == D("8000.00")
    assert result.interest_charged == D("0.00")
    assert [e.event for e in result.ledger] == ["payment", "statement"]


def test_payment_after_statement_date_is_left_out_and_said_so():
    # As in the late interest table: 31 Jan -> 28 Feb is one month, 100.00.
    result = interest_with_payments(
        TEN_K, dt.date(2026, 1, 31), [(dt.date(2026, 3, 10), D("500.00"))], dt.date(2026, 2, 28)
    )
    assert result.outstanding_principal == D("10000.00")
    assert result.accrued_interest == D("100.00")
    assert any("not counted" in line for line in result.explanation)


def test_ledger_explanation_states_order_of_application_and_rounding():
    result = interest_with_payments(
        TEN_K, dt.date(2026, 3, 15), [(dt.date(2026, 4, 15), D("1000.00"))], dt.date(2026, 5, 15)
    )
    text = "\n".join(result.explanation)
    assert "applied first to interest" in text
    assert "then to principal" in text
    assert "rounded half up to the cent" in text
    assert "rounded down to the cent" in text
    assert "actual/365" in text


@pytest.mark.parametrize(
    ("kwargs", "error", "field"),
    [
        ({"principal": D("-1.00")}, ValueError, "principal"),
        ({"principal": D("10.001")}, ValueError, "principal"),
        ({"principal": 100.0}, TypeError, "principal"),
        ({"monthly_rate_percent": 1.0}, TypeError, "monthly_rate_percent"),
        ({"monthly_rate_percent": D("-1")}, ValueError, "monthly_rate_percent"),
        ({"max_annual_rate_percent": D("-16")}, ValueError, "max_annual_rate_percent"),
        ({"as_of": dt.datetime(2026, 5, 15)}, TypeError, "as_of"),
        ({"payments": [(dt.date(2026, 4, 1), D("-5.00"))]}, ValueError, r"payments\[0\].amount"),
        ({"payments": [(dt.date(2026, 4, 1), D("0.00"))]}, ValueError, r"payments\[0\].amount"),
        ({"payments": [(dt.date(2026, 4, 1), D("0.005"))]}, ValueError, r"payments\[0\].amount"),
        ({"payments": [(dt.date(2026, 4, 1), 5.0)]}, TypeError, r"payments\[0\].amount"),
        ({"payments": [("2026-04-01", D("5.00"))]}, TypeError, r"payments\[0\].date"),
        ({"payments": [dt.date(2026, 4, 1)]}, TypeError, r"payments\[0\]"),
    ],
)
def test_invalid_input_is_rejected_naming_the_field_or_the_payment(kwargs, error, field):
    arguments = {
        "principal": TEN_K,
        "due_date": dt.date(2026, 3, 15),
        "payments": [],
        "as_of": dt.date(2026, 5, 15),
    }
    arguments.update(kwargs)
    with pytest.raises(error, match=field):
        interest_with_payments(**arguments)


# --------------------------------------------------------------------------- service credits


@pytest.mark.parametrize(
    ("uptime", "pro_rata", "points", "counted", "percent", "amount", "capped"),
    [
        # At the target: nothing.
        (D("99.9"), True, D("0"), D("0"), D("0"), D("0.00"), False),
        # Above it: nothing.
        (D("99.95"), True, D("0"), D("0"), D("0"), D("0.00"), False),
        (D("100"), False, D("0"), D("0"), D("0"), D("0.00"), False),
        # 0.05 point below: pro rata 0.05% of 25,000 = 12.50; whole points only: nothing.
        (D("99.85"), True, D("0.05"), D("0.05"), D("0.05"), D("12.50"), False),
        (D("99.85"), False, D("0.05"), D("0"), D("0"), D("0.00"), False),
        # Exactly one point: 1% = 250.00 either way.
        (D("98.9"), True, D("1.0"), D("1.0"), D("1.0"), D("250.00"), False),
        (D("98.9"), False, D("1.0"), D("1"), D("1"), D("250.00"), False),
        # 0.95 point: pro rata 0.95% = 237.50; whole points: nothing.
        (D("98.95"), True, D("0.95"), D("0.95"), D("0.95"), D("237.50"), False),
        (D("98.95"), False, D("0.95"), D("0"), D("0"), D("0.00"), False),
        # 2.55 points: 2.55% = 637.50; whole points: 2% = 500.00.
        (D("97.35"), True, D("2.55"), D("2.55"), D("2.55"), D("637.50"), False),
        (D("97.35"), False, D("2.55"), D("2"), D("2"), D("500.00"), False),
        # Exactly 50 points reaches the cap without exceeding it: 12,500.00.
        (D("49.9"), True, D("50.0"), D("50.0"), D("50.0"), D("12500.00"), False),
        # 40% uptime: 59.9 points -> 59.9%, capped at 50% = 12,500.00.
        (D("40"), True, D("59.9"), D("59.9"), D("50"), D("12500.00"), True),
        (D("40"), False, D("59.9"), D("59"), D("50"), D("12500.00"), True),
        (D("0"), True, D("99.9"), D("99.9"), D("50"), D("12500.00"), True),
    ],
)
def test_service_credit_per_point_below_target_with_cap(
    uptime, pro_rata, points, counted, percent, amount, capped
):
    result = service_credit(FEE, uptime, pro_rata=pro_rata)
    assert result.points_below_target == points
    assert result.points_counted == counted
    assert result.percent_of_fee == percent
    assert result.amount == amount
    assert result.capped is capped


def test_service_credit_rounds_half_up_to_the_cent():
    # 1,010.00 x 0.05% = 0.505 -> 0.51 (half up; banker's rounding would give 0.50).
    assert service_credit(D("1010.00"), D("99.85")).amount == D("0.51")


def test_service_credit_uses_term_sheet_parameters():
    # Target 99.5, 2% per point, cap 10%: 99.0 is 0.5 point below -> 1% of 25,000 = 250.00;
    # 90.0 is 9.5 points -> 19%, capped at 10% = 2,500.00.
    kwargs = {
        "target_percent": D("99.5"),
        "credit_percent_per_point": D("2"),
        "cap_percent": D("10"),
    }
    assert service_credit(FEE, D("99.0"), **kwargs).amount == D("250.00")
    capped = service_credit(FEE, D("90.0"), **kwargs)
    assert (capped.amount, capped.capped) == (D("2500.00"), True)


@pytest.mark.parametrize(
    ("pro_rata", "phrase"),
    [(True, "Fractions of a point count pro rata"), (False, "Only whole points count")],
)
def test_service_credit_explanation_says_how_fractions_were_treated(pro_rata, phrase):
    result = service_credit(FEE, D("97.35"), pro_rata=pro_rata)
    text = "\n".join(result.explanation)
    assert phrase in text
    assert "rounded half up to the cent" in text


@pytest.mark.parametrize(
    ("kwargs", "error", "field"),
    [
        ({"uptime_percent": 99.85}, TypeError, "uptime_percent"),
        ({"monthly_fee": 25000.0}, TypeError, "monthly_fee"),
        ({"monthly_fee": D("-1.00")}, ValueError, "monthly_fee"),
        ({"uptime_percent": D("100.1")}, ValueError, "uptime_percent"),
        ({"uptime_percent": D("-1")}, ValueError, "uptime_percent"),
    ],
)
def test_service_credit_rejects_invalid_input(kwargs, error, field):
    arguments = {"monthly_fee": FEE, "uptime_percent": D("99.0")}
    arguments.update(kwargs)
    with pytest.raises(error, match=field):
        service_credit(**arguments)


# --------------------------------------------------------------------------- uptime


def test_uptime_counts_overlapping_downtime_once():
    # April 2026 has no clock change: 30 x 1,440 = 43,200 minutes.
    # 10:00-11:00 and 10:30-12:00 merge into 10:00-12:00 = 120 minutes.
    # (43,200 - 120) / 43,200 = 0.9972222.. -> 99.7222%.
    result = monthly_uptime(
        (2026, 4),
        "America/New_York",
        [
            (ny(2026, 4, 10, 10), ny(2026, 4, 10, 11)),
            (ny(2026, 4, 10, 10, 30), ny(2026, 4, 10, 12)),
        ],
        [],
    )
    assert result.minutes_in_month == D("43200")
    assert result.downtime_minutes == D("120")
    assert result.uptime_percent == D("99.7222")


def test_uptime_clips_downtime_crossing_month_boundaries():
    # 31 Mar 23:00 - 1 Apr 01:00 gives April 60 minutes; 30 Apr 23:30 - 1 May 00:30 gives 30.
    # (43,200 - 90) / 43,200 = 0.99791666.. -> 99.7917%.
    result = monthly_uptime(
        (2026, 4),
        "America/New_York",
        [
            (ny(2026, 3, 31, 23), ny(2026, 4, 1, 1)),
            (ny(2026, 4, 30, 23, 30), ny(2026, 5, 1, 0, 30)),
        ],
        [],
    )
    assert result.downtime_minutes == D("90")
    assert result.uptime_percent == D("99.7917")


def test_uptime_excludes_maintenance_windows_from_downtime_and_total():
    # Window 5 Apr 02:00-06:00 = 240 minutes comes out of the total: 43,200 - 240 = 42,960.
    # Downtime 05:00-07:00 = 120 minutes, 60 inside the window: 60 counted.
    # (42,960 - 60) / 42,960 = 0.998603.. -> 99.8603%.
    result = monthly_uptime(
        (2026, 4),
        "America/New_York",
        [(ny(2026, 4, 5, 5), ny(2026, 4, 5, 7))],
        [(ny(2026, 4, 5, 2), ny(2026, 4, 5, 6))],
    )
    assert result.excluded_minutes == D("240")
    assert result.measured_minutes == D("42960")
    assert result.downtime_in_maintenance_minutes == D("60")
    assert result.downtime_minutes == D("60")
    assert result.uptime_percent == D("99.8603")


def test_uptime_merges_overlapping_maintenance_windows_and_clips_them_to_the_month():
    # Windows 30 Apr 22:00 - 1 May 02:00 (120 min in April) and 30 Apr 23:00-23:30 (inside
    # the first): 120 minutes excluded. No downtime: 100%.
    result = monthly_uptime(
        (2026, 4),
        "America/New_York",
        [],
        [(ny(2026, 4, 30, 22), ny(2026, 5, 1, 2)), (ny(2026, 4, 30, 23), ny(2026, 4, 30, 23, 30))],
    )
    assert result.excluded_minutes == D("120")
    assert result.uptime_percent == D("100.0000")


@pytest.mark.parametrize(
    ("month", "minutes"),
    [
        ((2026, 3), D("44580")),  # clocks go forward on 8 Mar: 31 x 1,440 - 60
        ((2026, 11), D("43260")),  # clocks go back on 1 Nov: 30 x 1,440 + 60
        ((2026, 2), D("40320")),  # 28 x 1,440
    ],
)
def test_month_length_is_real_elapsed_time_in_the_contract_time_zone(month, minutes):
    assert monthly_uptime(month, "America/New_York", [], []).minutes_in_month == minutes


def test_downtime_across_a_clock_change_counts_real_minutes():
    # 8 Mar 2026 01:00-04:00 New York wall clock is only 2 real hours: 02:00 is skipped.
    # March has 44,580 minutes: (44,580 - 120) / 44,580 = 0.9973082.. -> 99.7308%.
    result = monthly_uptime(
        (2026, 3), "America/New_York", [(ny(2026, 3, 8, 1), ny(2026, 3, 8, 4))], []
    )
    assert result.downtime_minutes == D("120")
    assert result.uptime_percent == D("99.7308")


def test_uptime_accepts_downtime_in_another_time_zone():
    # 03:00-05:00 UTC on 1 Apr is 23:00-01:00 New York time: 60 minutes fall in April.
    utc = dt.UTC
    result = monthly_uptime(
        (2026, 4),
        "America/New_York",
        [(dt.datetime(2026, 4, 1, 3, tzinfo=utc), dt.datetime(2026, 4, 1, 5, tzinfo=utc))],
        [],
    )
    assert result.downtime_minutes == D("60")


def test_uptime_exactly_at_target_earns_no_credit():
    # 0.1% of 43,200 = 43.2 minutes = 43 min 12 s: (43,200 - 43.2) / 43,200 = 99.9000%.
    result = monthly_uptime(
        (2026, 4), "America/New_York", [(ny(2026, 4, 7, 1), ny(2026, 4, 7, 1, 43, 12))], []
    )
    assert result.uptime_percent == D("99.9000")
    assert service_credit(FEE, result.uptime_percent).amount == D("0.00")


def test_a_month_of_maintenance_is_full_uptime():
    result = monthly_uptime(
        (2026, 4),
        "America/New_York",
        [(ny(2026, 4, 2), ny(2026, 4, 3))],
        [(ny(2026, 3, 1), ny(2026, 6, 1))],
    )
    assert result.measured_minutes == D("0")
    assert result.downtime_minutes == D("0")
    assert result.uptime_percent == D("100.0000")


def test_uptime_explanation_states_precision_and_exclusion():
    result = monthly_uptime((2026, 4), "America/New_York", [], [])
    text = "\n".join(result.explanation)
    assert "rounded half up to 0.0001" in text
    assert "maintenance" in text


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (((2026, 13), "America/New_York", [], []), ValueError, "month"),
        (((2026, 4), "Mars/Olympus", [], []), ValueError, "time zone"),
        (((2026, 4), "America/New_York", [(dt.datetime(2026, 4, 1), dt.datetime(2026, 4, 2))], []),
         ValueError, "time zone"),
        (((2026, 4), "America/New_York", [(ny(2026, 4, 2), ny(2026, 4, 1))], []),
         ValueError, "ends before it starts"),
        (((2026, 4), "America/New_York", [], [(dt.date(2026, 4, 1), ny(2026, 4, 2))]),
         TypeError, r"excluded_windows\[0\].start"),
    ],
)  # fmt: skip
def test_uptime_rejects_invalid_input(args, error, message):
    with pytest.raises(error, match=message):
        monthly_uptime(*args)


# --------------------------------------------------------------------------- disputes


@pytest.mark.parametrize(
    ("total", "contested", "expected"),
    [
        (D("1000.00"), D("200.00"), D("800.00")),
        (D("1000.00"), D("0.00"), D("1000.00")),
        (D("1000.00"), D("1000.00"), D("0.00")),
        (D("1234.56"), D("234.57"), D("999.99")),
    ],
)
def test_uncontested_portion_is_payable_during_a_dispute(total, contested, expected):
    assert uncontested_amount(total, contested) == expected


@pytest.mark.parametrize(
    ("total", "contested", "error", "field"),
    [
        (D("1000.00"), D("1000.01"), ValueError, "contested"),
        (D("1000.00"), D("-1.00"), ValueError, "contested"),
        (D("-1000.00"), D("0.00"), ValueError, "invoice_total"),
        (D("1000.00"), 200.0, TypeError, "contested"),
        (1000.0, D("200.00"), TypeError, "invoice_total"),
    ],
)
def test_uncontested_amount_rejects_invalid_figures_naming_the_field(
    total, contested, error, field
):
    with pytest.raises(error, match=field):
        uncontested_amount(total, contested)


@pytest.mark.parametrize(
    ("found_payable", "due", "credited"),
    [
        (D("50.00"), D("850.00"), D("150.00")),  # 800 uncontested + 50; 200 - 50 credited
        (D("0.00"), D("800.00"), D("200.00")),  # customer wins outright
        (D("200.00"), D("1000.00"), D("0.00")),  # provider wins outright
    ],
)
def test_resolved_dispute_sets_the_amount_due(found_payable, due, credited):
    result = amount_due_after_dispute(D("1000.00"), D("200.00"), found_payable)
    assert result.uncontested == D("800.00")
    assert result.amount_due == due
    assert result.credited == credited
    assert any("rounded half up to the cent" in line for line in result.explanation)


def test_resolution_cannot_find_more_payable_than_was_contested():
    with pytest.raises(ValueError, match="contested_found_payable"):
        amount_due_after_dispute(D("1000.00"), D("200.00"), D("200.01"))
