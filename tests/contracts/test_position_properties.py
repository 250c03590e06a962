"""Properties of the final settlement (§10) and the liability cap (§9), with Hypothesis:
the total is its lines; the Services are counted once, day for day, whoever billed them;
a later end never owes less for the Services; the cap is what was paid in its window.

Expected values are worked out here with exact fractions and day counts.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from dateutil.relativedelta import relativedelta
from hypothesis import given
from hypothesis import strategies as st

from contracts.money import InvoiceFacts
from contracts.money.position import InvoiceOnRecord, final_settlement, liability_cap
from tests.support.properties import bounded

QUICK, _ = bounded(200, 20)
CENT = Decimal("0.01")

fees = st.integers(min_value=0, max_value=10_000_000).map(lambda c: Decimal(c) / 100)
days = st.dates(min_value=dt.date(2026, 1, 1), max_value=dt.date(2030, 12, 31))


def _month_fee(fee: Decimal, first: dt.date, last: dt.date) -> Decimal:
    """The fee for the days first..last of one month, pro rata by days, in cents."""
    month_end = first.replace(day=1) + relativedelta(months=1) - dt.timedelta(days=1)
    share = Fraction(fee) * ((last - first).days + 1) / month_end.day
    return Decimal(share.numerator / Decimal(share.denominator)).quantize(
        CENT, rounding=ROUND_HALF_UP
    )


def _expected_fees(fee: Decimal, start: dt.date, last: dt.date) -> Decimal:
    total, day = Decimal("0.00"), start
    while day <= last:
        month_end = day.replace(day=1) + relativedelta(months=1) - dt.timedelta(days=1)
        end = min(month_end, last)
        total += _month_fee(fee, day, end)
        day = end + dt.timedelta(days=1)
    return total


@QUICK
@given(fee=fees, effective=days, span=st.integers(min_value=0, max_value=800))
def test_without_invoices_the_services_are_the_fee_for_each_day_pro_rata_by_month(
    fee: Decimal, effective: dt.date, span: int
) -> None:
    last = effective + dt.timedelta(days=span)
    s = final_settlement(
        monthly_fee=fee,
        effective_date=effective,
        ends_on=last + dt.timedelta(days=1),
        last_service_day=last,
        invoices=[],
        credits=[],
        section="10",
    )
    assert s.total == sum((line.amount for line in s.lines), Decimal("0.00"))
    assert s.total == _expected_fees(fee, effective, last)
    assert all(line.amount == line.amount.quantize(CENT) for line in s.lines)


@QUICK
@given(
    fee=fees,
    received=days,
    extra=st.integers(min_value=0, max_value=400),
    amount=fees,
)
def test_a_month_billed_by_an_invoice_is_not_counted_again_and_a_later_end_owes_no_less(
    fee: Decimal, received: dt.date, extra: int, amount: Decimal
) -> None:
    invoice = InvoiceOnRecord("case_i", "INV-1", received, None, InvoiceFacts(amount))
    billed = (received.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    last = received + dt.timedelta(days=extra)

    def settle(last_day: dt.date) -> Decimal:
        s = final_settlement(
            monthly_fee=fee,
            effective_date=dt.date(2025, 1, 1),
            ends_on=last_day + dt.timedelta(days=1),
            last_service_day=last_day,
            invoices=[invoice],
            credits=[],
            section="10",
        )
        services = [line for line in s.lines if line.kind == "fees_not_invoiced"]
        # Nothing of the billed month or before it is counted as not invoiced.
        assert all(line.day is not None and line.day > billed for line in services)
        assert s.total == sum((line.amount for line in s.lines), Decimal("0.00"))
        return sum((line.amount for line in services), Decimal("0.00"))

    first_unbilled = billed + relativedelta(months=1)
    assert settle(last) == _expected_fees(fee, first_unbilled, last)
    assert settle(last + dt.timedelta(days=1)) >= settle(last)


@QUICK
@given(
    payments=st.lists(st.tuples(days, fees), max_size=12),
    event=days,
)
def test_the_cap_is_what_was_paid_in_the_twelve_months_before_the_event(
    payments: list[tuple[dt.date, Decimal]], event: dt.date
) -> None:
    invoices = [
        InvoiceOnRecord(
            f"case_{i}", f"INV-{i}", day, None, InvoiceFacts(amount, payments=((day, amount),))
        )
        for i, (day, amount) in enumerate(payments)
    ]
    cap = liability_cap(invoices, event)
    window_start = event - relativedelta(months=12)
    expected = sum((a for d, a in payments if window_start <= d < event), Decimal("0.00"))
    assert cap.amount == expected
    assert len(cap.payments) == sum(1 for d, _ in payments if window_start <= d < event)
