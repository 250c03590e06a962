"""The invoice-payment case (MSA §3) through its whole life, on the time-skipping server.

The invoice: USD 10,000.00, number INV-2037-031, received Mon 2 Mar 2037 10:00 New York
(15:00 UTC; daylight saving starts Sun 8 Mar 2037, so later instants are UTC-4).
Deadlines, worked by hand (receipt day excluded, NY GCL § 20):
- dispute window: day 10 is Thu 12 Mar 2037, a business day -> ends at midnight,
  Fri 13 Mar 00:00 EDT = 04:00 UTC;
- payment due: day 30 is Wed 1 Apr 2037 -> ends Thu 2 Apr 00:00 EDT = 04:00 UTC;
- suspension permissible: 5 business days after Wed 1 Apr: Thu 2, Fri 3, Mon 6, Tue 7,
  Wed 8 Apr -> ends Thu 9 Apr 00:00 EDT = 04:00 UTC;
- termination right: 30 days after Wed 1 Apr is Fri 1 May 2037 -> ends Sat 2 May 00:00
  EDT = 04:00 UTC.
Interest months run from the due date, 1 Apr: 1 Apr -> 1 May (30 days) -> 1 Jun (31).
"""

from __future__ import annotations

import datetime as dt

from tests.workflows.helpers import (
    CUSTOMER,
    OWNER,
    PROVIDER,
    Clause,
    at_ny,
    clock_at,
    fired_at,
)

UTC = dt.UTC
CLAUSE = "invoice_payment"
FACTS = {
    "invoice_received_at": "2037-03-02T15:00:00Z",
    "invoice_number": "INV-2037-031",
    "invoice_amount": "10000.00",
}
RECORDED_BY, REASON = "ap@customer.example.com", "from the bank statement"

_early_march_2037 = clock_at(dt.datetime(2037, 3, 2, 16, tzinfo=UTC))


async def test_receipt_sets_the_dispute_window_and_payment_due_date(clause: Clause) -> None:
    case = await clause.open()
    view = await case.view()
    assert view.state == "awaiting_payment" and not view.closed
    assert [(d.name, d.due_at) for d in view.deadlines] == [
        ("dispute_window", dt.datetime(2037, 3, 13, 4, tzinfo=UTC)),
        ("payment_due", dt.datetime(2037, 4, 2, 4, tzinfo=UTC)),
    ]
    dls = case.deadlines()
    assert dls["dispute_window"].last_day == dt.date(2037, 3, 12)
    assert dls["payment_due"].last_day == dt.date(2037, 4, 1)
    assert view.facts["amount_due"] == "10000.00" and view.facts["fully_paid"] is False

    ack = await case.sent_once("invoice_received")
    assert ack.to == CUSTOMER and ack.cc == OWNER
    assert ack.subject.startswith("Invoice INV-2037-031 received: payment due Wed 1 Apr 2037")
    for text in (ack.body_text, ack.body_html):
        assert "The last day for a dispute is Thu 12 Mar 2037" in text.replace("</strong>", "")
        assert "Wed 1 Apr 2037" in text and "USD 10000.00" in text
    assert "NY GCL § 20" in ack.body_text  # the explanation travels with the dates


async def test_unpaid_invoice_runs_through_overdue_notice_suspension_and_termination(
    clause: Clause,
) -> None:
    case = await clause.open()

    # Nothing paid by Wed 1 Apr: at Thu 2 Apr 04:00 UTC the overdue notice goes out.
    await clause.travel(dt.datetime(2037, 4, 2, 12, tzinfo=UTC))
    overdue = await case.sent_once("payment_overdue")
    assert fired_at(overdue.created_at, at_ny(2037, 4, 2))
    assert overdue.to == CUSTOMER and overdue.cc == PROVIDER + OWNER
    # One day late, in a 30-day interest month: 10,000.00 x 1% x 1/30 = 3.333 -> 3.33
    # (lawful maximum 10,000.00 x 16% x 1/365 = 4.38, higher).
    assert "USD 10003.33 is outstanding" in overdue.body_text
    assert "Late interest unpaid: USD 10000.00" not in overdue.body_text
    assert "Late interest unpaid: USD 3.33" in overdue.body_text
    assert "suspension becomes permissible after the end of Wed 8 Apr 2037" in overdue.body_text
    assert "That right would arise after the end of Fri 1 May 2037" in overdue.body_text
    assert "interest charged 3.33 (set by the contract rate)" in overdue.body_text
    assert "USD 10003.33" in overdue.body_html

    # Thu 9 Apr 04:00 UTC: the five business days after the notice have run.
    await clause.travel(dt.datetime(2037, 4, 9, 12, tzinfo=UTC))
    suspension = await case.sent_once("suspension_permissible")
    assert fired_at(suspension.created_at, at_ny(2037, 4, 9))
    # 8 days: 10,000.00 x 1% x 8/30 = 26.666 -> 26.67 (maximum 35.06).
    assert "USD 10026.67 is still outstanding, 8 days after the due date" in suspension.body_text
    assert "may now suspend the Services" in suspension.body_text

    # A part payment on Thu 16 Apr, 15 days late: interest to then is
    # 10,000.00 x 1% x 15/30 = 50.00 (maximum 65.75); 5,000.00 pays 50.00 of interest and
    # 4,950.00 of principal, leaving 5,050.00.
    await clause.travel(dt.datetime(2037, 4, 16, 14, tzinfo=UTC))
    view = await case.record("payment_received", amount="5000.00", paid_on="2037-04-16")
    assert view.state == "overdue"
    assert view.facts["amount_outstanding"] == "5050.00"
    assert view.facts["total_outstanding"] == "5050.00"
    part = await case.sent_once("payment_received")
    assert "A payment of USD 5000.00, received on 2037-04-16" in part.body_text
    assert "USD 5050.00 is still outstanding. Part of it has been overdue for 15 days" in (
        part.body_text
    )
    assert "50.00 to interest, 4,950.00 to principal" in part.body_text

    # Sat 2 May 04:00 UTC: still unpaid 30 days after the due date. Interest: month 1
    # closes on 1 May at (10,000 x 15 + 5,050 x 15) / 3,000 = 75.25; 1 day of May (31
    # days) on 5,050.00 + 25.25 unpaid interest: 5,075.25 / 3,100 = 1.637 -> 1.64.
    # Charged 76.89 (maximum 101.17), of which 26.89 unpaid: 5,076.89 outstanding.
    await clause.travel(dt.datetime(2037, 5, 2, 14, tzinfo=UTC))
    right = await case.sent_once("termination_right_arisen")
    assert fired_at(right.created_at, at_ny(2037, 5, 2))
    assert right.to == CUSTOMER + PROVIDER and right.cc == OWNER
    assert "USD 5076.89 is outstanding" in right.body_text
    assert "may now terminate the agreement immediately" in right.body_text
    assert "interest charged 76.89" in right.body_text
    view = await case.view()
    assert view.state == "termination_right_arisen" and not view.closed
    row = case.row()
    assert row.escalated
    assert case.escalation_rules() == ["termination_right_arises"]
    assert "MSA §10" in case.escalations()[0].reason

    # Paying the balance with its interest the same day settles the invoice.
    view = await case.record("payment_received", amount="5076.89", paid_on="2037-05-02")
    assert view.state == "paid" and view.closed
    assert await case.ended() == "paid"
    final = case.only("paid_in_full")
    assert "USD 10076.89 has been received against it" in final.body_text
    assert "including USD 76.89 of late interest" in final.body_text
    assert case.path() == [
        ("opened", "awaiting_payment"),
        ("awaiting_payment", "overdue"),
        ("overdue", "termination_right_arisen"),
        ("termination_right_arisen", "paid"),
    ]
    dls = case.deadlines()
    assert dls["suspension_permissible"].last_day == dt.date(2037, 4, 8)
    assert dls["unpaid_termination"].last_day == dt.date(2037, 5, 1)
    assert {d.status for d in dls.values()} == {"reached"}


async def test_paid_on_time_closes_the_case_with_no_interest(clause: Clause) -> None:
    case = await clause.open()
    await clause.travel(dt.datetime(2037, 3, 20, 15, tzinfo=UTC))
    view = await case.record("payment_received", amount="10000.00", paid_on="2037-03-20")
    assert view.state == "paid" and view.closed
    assert await case.ended() == "paid"
    assert case.kinds() == ["invoice_received", "paid_in_full"]
    final = case.sent("paid_in_full")
    assert "late interest" not in final.body_text
    assert {d.status for d in case.deadlines().values()} == {"reached", "cancelled"}
    assert case.deadlines()["payment_due"].status == "cancelled"
    row = case.row()
    assert not row.escalated


async def test_a_dispute_after_the_window_is_refused_with_the_time_it_ended(clause: Clause) -> None:
    case = await clause.open()
    # The window ended at Fri 13 Mar 00:00 EDT; try at 08:00 EDT that day.
    await clause.travel(dt.datetime(2037, 3, 13, 12, tzinfo=UTC))
    message = await case.refused("dispute_raised", contested_amount="4000.00", reason="late")
    assert "disputed the invoice in writing is refused" in message
    assert "the dispute window ended at Fri 13 Mar 2037 00:00" in message
    view = await case.view()
    assert view.state == "awaiting_payment"


async def test_dispute_resolved_after_the_due_date_is_escalated_and_settled(clause: Clause) -> None:
    case = await clause.open()

    # Tue 10 Mar, inside the window: 4,000.00 contested, 6,000.00 stays due on 1 Apr.
    await clause.travel(dt.datetime(2037, 3, 10, 15, tzinfo=UTC))
    view = await case.record(
        "dispute_raised", contested_amount="4000.00", reason="Usage fees double-billed"
    )
    assert view.state == "disputed"
    assert view.facts["uncontested_amount"] == "6000.00" and view.facts["dispute_open"] is True
    ack = await case.sent_once("dispute_acknowledged")
    assert ack.to == CUSTOMER + PROVIDER and ack.cc == OWNER
    assert "Amount contested: USD 4000.00" in ack.body_text
    assert "Usage fees double-billed" in ack.body_text
    assert "uncontested portion of USD 6000.00 remains payable by Wed 1 Apr 2037" in ack.body_text

    # The uncontested part is paid on time; the case waits on the dispute.
    await clause.travel(dt.datetime(2037, 3, 25, 15, tzinfo=UTC))
    view = await case.record("payment_received", amount="6000.00", paid_on="2037-03-25")
    assert view.state == "disputed" and not view.closed

    # The due date passes with nothing overdue: no overdue notice, no later clocks.
    await clause.travel(dt.datetime(2037, 4, 10, 14, tzinfo=UTC))
    assert case.deadlines()["payment_due"].status == "reached"
    assert not case.notices_of("payment_overdue")
    assert "suspension_permissible" not in case.deadlines()

    # Fri 10 Apr: 1,500.00 of the contested amount is found payable, due from today.
    view = await case.record(
        "dispute_resolved",
        contested_amount_payable="1500.00",
        resolution="Half the usage was real; credit note for the rest",
    )
    assert view.state == "awaiting_payment"
    assert view.facts["late_resolved_amount_unpaid"] is True
    row = await case.escalated()
    assert row.state == "awaiting_payment"
    assert case.escalation_rules() == ["flag_amount_found_payable_after_due_date"]
    resolved = await case.sent_once("dispute_resolved")
    assert "USD 1500.00 is payable after all" in resolved.body_text
    assert "due now, from the day of the resolution" in resolved.body_text

    # Mon 20 Apr, 10 days later, in a 30-day interest month (10 Apr -> 10 May):
    # 1,500.00 x 1% x 10/30 = 5.00 (maximum 1,500 x 16% x 10/365 = 6.57): 1,505.00 settles.
    await clause.travel(dt.datetime(2037, 4, 20, 14, tzinfo=UTC))
    view = await case.record("payment_received", amount="1505.00", paid_on="2037-04-20")
    assert view.state == "paid" and view.closed
    final = case.sent("paid_in_full")
    assert "USD 7505.00 has been received" in final.body_text
    assert "including USD 5.00 of late interest" in final.body_text
    assert "USD 1500.00 of the USD 4000.00 contested found payable" in final.body_text
    assert case.path() == [
        ("opened", "awaiting_payment"),
        ("awaiting_payment", "disputed"),
        ("disputed", "awaiting_payment"),
        ("awaiting_payment", "paid"),
    ]


async def test_overdue_uncontested_part_paid_returns_to_dispute_and_stops_the_clocks(
    clause: Clause,
) -> None:
    case = await clause.open()
    await clause.travel(dt.datetime(2037, 3, 11, 15, tzinfo=UTC))
    await case.record("dispute_raised", contested_amount="4000.00", reason="Wrong rate")

    # Nothing paid by 1 Apr: the uncontested 6,000.00 is overdue, the contested part not.
    await clause.travel(dt.datetime(2037, 4, 3, 14, tzinfo=UTC))
    overdue = await case.sent_once("payment_overdue")
    # 1 day: 6,000.00 x 1% x 1/30 = 2.00.
    assert "USD 6002.00 is outstanding" in overdue.body_text
    assert "contested amount of USD 4000.00 is not treated as overdue" in overdue.body_text
    assert await case.state() == "overdue"

    # Mon 6 Apr, 5 days late: 6,000.00 x 1% x 5/30 = 10.00 (maximum 13.15).
    await clause.travel(dt.datetime(2037, 4, 6, 14, tzinfo=UTC))
    view = await case.record("payment_received", amount="6010.00", paid_on="2037-04-06")
    assert view.state == "disputed" and view.facts["days_past_due"] == 0
    dls = case.deadlines()
    assert dls["suspension_permissible"].status == "cancelled"
    assert dls["unpaid_termination"].status == "cancelled"

    # Past the old suspension date nothing more happens.
    await clause.travel(dt.datetime(2037, 4, 15, 14, tzinfo=UTC))
    assert not case.notices_of("suspension_permissible")

    # The dispute ends with nothing of the contested amount payable: settled.
    view = await case.record(
        "dispute_resolved", contested_amount_payable="0.00", resolution="Rate corrected"
    )
    assert view.state == "paid" and view.closed
    assert case.kinds() == [
        "invoice_received",
        "dispute_acknowledged",
        "payment_overdue",
        "payment_received",
        "dispute_resolved",
        "paid_in_full",
    ]
    final = case.sent("paid_in_full")
    assert "including USD 10.00 of late interest" in final.body_text
    row = case.row()
    assert row.closed and not row.escalated


async def test_a_second_dispute_while_one_is_open_is_refused(clause: Clause) -> None:
    case = await clause.open()
    await clause.travel(dt.datetime(2037, 3, 5, 15, tzinfo=UTC))
    await case.record("dispute_raised", contested_amount="100.00", reason="Typo")
    why = await case.refused("dispute_raised", contested_amount="200.00", reason="More")
    assert "can only be recorded in awaiting_payment; the case is disputed" in why
    await case.record("payment_received", amount="10000.00", paid_on="2037-03-05")
    view = await case.record(
        "dispute_resolved", contested_amount_payable="100.00", resolution="Withdrawn"
    )
    assert view.state == "paid" and view.closed
    # 10,000.00 paid against 9,900.00 uncontested + 100.00 found payable: settled exactly.
    assert view.facts["amount_overpaid"] == "0.00"
    assert await case.ended() == "paid"
