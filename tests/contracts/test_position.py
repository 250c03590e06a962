"""The contract's money across the agreement: the final settlement on termination (§10),
the liability cap (§9) and the ledger, to the cent, each line explained.

Pure arithmetic on fixed dates: nothing here reads the clock.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from contracts.money import InvoiceFacts
from contracts.money.position import (
    CreditOnRecord,
    InvoiceOnRecord,
    Settlement,
    final_settlement,
    ledger,
    liability_cap,
)

D = Decimal
FEE = D("25000.00")
START = dt.date(2026, 1, 1)


def _invoice(
    ref: str,
    received: dt.date,
    due: dt.date | None,
    amount: str = "25000.00",
    payments: tuple[tuple[dt.date, Decimal], ...] = (),
    **kw: object,
) -> InvoiceOnRecord:
    facts = InvoiceFacts(D(amount), payments=payments, **kw)  # type: ignore[arg-type]
    return InvoiceOnRecord(f"case_{ref}", ref, received, due, facts)


def _settle(
    invoices: list[InvoiceOnRecord],
    credits: list[CreditOnRecord],
    ends_on: dt.date,
    last_service_day: dt.date | None = None,
) -> Settlement:
    return final_settlement(
        monthly_fee=FEE,
        effective_date=START,
        ends_on=ends_on,
        last_service_day=last_service_day or ends_on - dt.timedelta(days=1),
        invoices=invoices,
        credits=credits,
        section="10",
    )


def test_the_settlement_counts_unbilled_months_the_unpaid_invoice_its_interest_less_credits() -> (
    None
):
    # January's invoice came on 3 Feb 2027, due by the end of 5 Feb (short terms, so that
    # interest runs); 10,000.00 was paid before it fell due, 15,000.00 is late.
    january = _invoice(
        "INV-2027-01",
        dt.date(2027, 2, 3),
        dt.date(2027, 2, 5),
        payments=((dt.date(2027, 2, 4), D("10000.00")),),
    )
    credit = CreditOnRecord("case_review", dt.date(2027, 1, 1), D("500.00"))
    s = _settle([january], [credit], dt.date(2027, 3, 16))
    lines = {(line.kind, line.day): line for line in s.lines}
    # February whole; 1-15 March: 25,000 x 15 / 31 = 12,096.774 -> 12,096.77.
    assert lines[("fees_not_invoiced", dt.date(2027, 2, 28))].amount == D("25000.00")
    march = lines[("fees_not_invoiced", dt.date(2027, 3, 15))]
    assert march.amount == D("12096.77")
    assert "15 of its 31 days" in march.explanation
    assert lines[("invoice_unpaid", dt.date(2027, 2, 3))].amount == D("15000.00")
    # Interest from 5 Feb: a whole interest month to 5 Mar at 1% (150.00), then 11 of the
    # 31 days to 5 Apr on 15,150.00 (53.76): 203.76, below the 16% a year ceiling (256.43).
    assert lines[("interest", dt.date(2027, 3, 16))].amount == D("203.76")
    assert lines[("service_credit", dt.date(2027, 1, 1))].amount == D("-500.00")
    assert s.total == D("51800.53")
    assert s.explanation[-1] == "The Customer owes the Provider 51,800.53."
    assert all(line.explanation for line in s.lines)


def test_without_invoices_the_fees_run_from_the_effective_date_pro_rata_in_a_part_month() -> None:
    s = final_settlement(
        monthly_fee=FEE,
        effective_date=dt.date(2027, 4, 16),
        ends_on=dt.date(2027, 5, 11),
        last_service_day=dt.date(2027, 5, 10),
        invoices=[],
        credits=[],
        section="10",
    )
    # 16-30 April: 15 of 30 days = 12,500.00; 1-10 May: 10 of 31 days = 8,064.516 -> 8,064.52.
    assert [line.amount for line in s.lines] == [D("12500.00"), D("8064.52")]
    assert s.total == D("20564.52")


def test_a_termination_at_a_months_end_bills_that_month_whole_and_no_day_after() -> None:
    paid = _invoice(
        "INV-1",
        dt.date(2027, 2, 3),
        dt.date(2027, 3, 5),
        payments=((dt.date(2027, 3, 1), D("25000.00")),),
    )
    s = _settle([paid], [], dt.date(2027, 3, 1))
    assert [(line.kind, line.amount) for line in s.lines] == [("fees_not_invoiced", D("25000.00"))]


def test_an_open_dispute_is_left_out_and_an_overpayment_is_set_off() -> None:
    disputed = _invoice("INV-D", dt.date(2027, 2, 3), dt.date(2027, 3, 5), contested=D("4000.00"))
    overpaid = _invoice(
        "INV-O",
        dt.date(2027, 1, 3),
        dt.date(2027, 2, 2),
        amount="1000.00",
        payments=((dt.date(2027, 1, 20), D("1200.00")),),
    )
    s = _settle([disputed, overpaid], [], dt.date(2027, 3, 1))
    kinds = {(line.kind, line.case_id): line.amount for line in s.lines}
    assert kinds[("invoice_unpaid", "case_INV-D")] == D("21000.00")
    assert kinds[("dispute", "case_INV-D")] == D("0.00")
    assert kinds[("overpayment", "case_INV-O")] == D("-200.00")
    # Both invoices bill months before February, which is the one month left.
    assert kinds[("fees_not_invoiced", None)] == D("25000.00")
    assert s.total == D("45800.00")


def test_when_the_credits_exceed_what_is_owed_the_provider_owes_the_customer() -> None:
    paid = _invoice(
        "INV-1",
        dt.date(2027, 3, 1),
        dt.date(2027, 3, 31),
        payments=((dt.date(2027, 3, 2), D("25000.00")),),
    )
    credit = CreditOnRecord("case_review", dt.date(2027, 2, 1), D("12500.00"))
    s = final_settlement(
        monthly_fee=D("10000.00"),
        effective_date=START,
        ends_on=dt.date(2027, 3, 2),
        last_service_day=dt.date(2027, 3, 1),
        invoices=[paid],
        credits=[credit],
        section="10",
    )
    # 1 March: 10,000 x 1 / 31 = 322.58; less 12,500.00.
    assert s.total == D("-12177.42")
    assert s.explanation[-1].startswith("The Provider owes the Customer 12,177.42")


def test_the_liability_cap_counts_payments_in_the_twelve_months_before_the_event() -> None:
    event = dt.date(2027, 3, 15)
    invoices = [
        _invoice("A", dt.date(2026, 3, 1), None, payments=((dt.date(2026, 3, 14), D("100.00")),)),
        _invoice("B", dt.date(2026, 3, 1), None, payments=((dt.date(2026, 3, 15), D("200.00")),)),
        _invoice("C", dt.date(2027, 3, 1), None, payments=((dt.date(2027, 3, 14), D("300.00")),)),
        _invoice("D", dt.date(2027, 3, 1), None, payments=((dt.date(2027, 3, 15), D("400.00")),)),
    ]
    cap = liability_cap(invoices, event)
    assert (cap.counted_from, cap.counted_to) == (dt.date(2026, 3, 15), dt.date(2027, 3, 14))
    assert cap.amount == D("500.00")
    assert [p.case_id for p in cap.payments] == ["case_B", "case_C"]
    assert "2 payments" in cap.explanation[2] and "500.00" in cap.explanation[2]


def test_the_ledger_lists_invoices_payments_interest_and_credits_by_day_up_to_its_date() -> None:
    late = _invoice(
        "INV-L",
        dt.date(2027, 2, 3),
        dt.date(2027, 2, 5),
        payments=((dt.date(2027, 2, 4), D("10000.00")), (dt.date(2027, 4, 1), D("1.00"))),
    )
    credit = CreditOnRecord("case_review", dt.date(2027, 2, 1), D("250.00"))
    lines = ledger([late], [credit], dt.date(2027, 3, 16))
    assert [(line.day, line.kind, line.amount) for line in lines] == [
        (dt.date(2027, 2, 3), "invoice", D("25000.00")),
        (dt.date(2027, 2, 4), "payment", D("-10000.00")),
        (dt.date(2027, 2, 28), "service_credit", D("-250.00")),
        (dt.date(2027, 3, 16), "interest", D("203.76")),
    ]


def test_the_last_months_invoice_received_after_the_end_is_owed_and_not_counted_twice() -> None:
    # The agreement ended at the start of 1 Mar 2027; February's invoice came on 3 March.
    february = _invoice("INV-2027-02", dt.date(2027, 3, 3), dt.date(2027, 4, 2))
    # An invoice for March (received in April) bills a month after the end: left out.
    march = _invoice("INV-2027-03", dt.date(2027, 4, 2), dt.date(2027, 5, 2), amount="999.00")
    s = _settle([february, march], [], dt.date(2027, 3, 1))
    assert [(line.kind, line.case_id, line.amount) for line in s.lines] == [
        ("invoice_unpaid", "case_INV-2027-02", D("25000.00"))
    ]
