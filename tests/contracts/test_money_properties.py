"""Properties of the contract money arithmetic, checked with Hypothesis.

The example tests in ``test_money.py`` check hand-worked figures; these check what must
hold for every amount, rate and date: with nothing paid, interest is the lower of the
two §3 limbs worked out exactly; the lawful maximum is a hard ceiling; interest never
goes negative or down as the statement date gets later; every amount is in cents;
floats are refused; part payments balance; service credits respect the cap and the
target; and uptime agrees with a minute-by-minute count.

Expected values are worked out here with exact fractions or by counting minutes, never
by calling the module's private helpers. Example counts are bounded so the file runs in
a few seconds.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.money import (
    InterestLimb,
    MonthlyUptime,
    amount_due_after_dispute,
    interest_with_payments,
    monthly_uptime,
    service_credit,
    to_cents,
    uncontested_amount,
)
from tests.support.properties import bounded

FAST, SLOW = bounded(80, 30)


def cents_strategy(max_cents: int = 10**9, min_cents: int = 0) -> st.SearchStrategy[Decimal]:
    """Amounts in whole cents written with two places, e.g. Decimal("1234.50")."""
    return st.integers(min_cents, max_cents).map(lambda c: Decimal(c).scaleb(-2))


amounts = cents_strategy()
monthly_rates = st.decimals(min_value=0, max_value=5, places=3)
annual_caps = st.decimals(min_value=0, max_value=40, places=2)
due_dates = st.dates(dt.date(2000, 1, 1), dt.date(2090, 12, 31))
day_offsets = st.integers(-60, 1500)
uptimes = st.decimals(min_value=0, max_value=100, places=4)
targets = st.decimals(min_value=0, max_value=100, places=3)
per_points = st.decimals(min_value=0, max_value=20, places=2)
caps = st.decimals(min_value=0, max_value=100, places=2)


def is_cents(value: Decimal) -> bool:
    return isinstance(value, Decimal) and value.as_tuple().exponent == -2


def simple_interest_ceiling(principal: Decimal, annual_percent: Decimal, days: int) -> Fraction:
    """Exact simple interest at the lawful maximum, actual/365, before any rounding."""
    return Fraction(principal) * Fraction(annual_percent) * max(days, 0) / (100 * 365)


# --------------------------------------------------------------------------- late interest


def half_up_cents(value: Fraction) -> Decimal:
    """A non-negative exact amount rounded half up to the cent."""
    return Decimal(math.floor(value * 100 + Fraction(1, 2))).scaleb(-2)


def month_after(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, or the last day of a shorter month."""
    years, month = divmod(day.month - 1 + months, 12)
    year = day.year + years
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def both_limbs(
    principal: Decimal, due: dt.date, as_of: dt.date, rate: Decimal, cap: Decimal
) -> tuple[Decimal, Decimal]:
    """The two limbs of MSA §3 interest with nothing paid, worked out with exact fractions.

    (a) the contract rate compounded by interest month (due date to the same day of the
    next month), each month rounded half up to the cent, a final part month pro rata by
    days; (b) simple interest at the lawful maximum, actual/365, rounded down to the cent.
    """
    contract = Decimal("0.00")
    months = 0
    while month_after(due, months) < as_of:
        start, end = month_after(due, months), month_after(due, months + 1)
        share = Fraction((min(end, as_of) - start).days, (end - start).days)
        balance = Fraction(principal + contract)
        contract += half_up_cents(balance * Fraction(rate) / 100 * share)
        months += 1
    ceiling = simple_interest_ceiling(principal, cap, (as_of - due).days)
    return contract, Decimal(math.floor(ceiling * 100)).scaleb(-2)


@FAST
@given(principal=amounts, due=due_dates, offset=day_offsets, rate=monthly_rates, cap=annual_caps)
def test_a_ledger_without_payments_charges_the_lower_of_both_limbs_worked_out_exactly(
    principal: Decimal, due: dt.date, offset: int, rate: Decimal, cap: Decimal
) -> None:
    as_of = due + dt.timedelta(days=offset)
    contract, maximum = both_limbs(principal, due, as_of, rate, cap)
    ledger = interest_with_payments(
        principal, due, [], as_of, monthly_rate_percent=rate, max_annual_rate_percent=cap
    )
    assert ledger.interest_charged == min(contract, maximum)
    assert ledger.total_outstanding == principal + ledger.interest_charged
    expected_limb = (
        InterestLimb.CONTRACT_RATE if contract <= maximum else InterestLimb.LAWFUL_MAXIMUM
    )
    assert ledger.limb is expected_limb


# --------------------------------------------------------------------------- floats


FLOAT_CALLS = {
    "to_cents": lambda f: to_cents(f),
    "ledger principal": lambda f: interest_with_payments(
        f, dt.date(2026, 1, 1), [], dt.date(2026, 3, 1)
    ),
    "ledger monthly rate": lambda f: interest_with_payments(
        Decimal("100.00"), dt.date(2026, 1, 1), [], dt.date(2026, 3, 1), monthly_rate_percent=f
    ),
    "ledger annual cap": lambda f: interest_with_payments(
        Decimal("100.00"), dt.date(2026, 1, 1), [], dt.date(2026, 3, 1), max_annual_rate_percent=f
    ),
    "ledger payment": lambda f: interest_with_payments(
        Decimal("100.00"), dt.date(2026, 1, 1), [(dt.date(2026, 2, 1), f)], dt.date(2026, 3, 1)
    ),
    "credit fee": lambda f: service_credit(f, Decimal("99")),
    "credit uptime": lambda f: service_credit(Decimal("100.00"), f),
    "credit target": lambda f: service_credit(Decimal("100.00"), Decimal("99"), target_percent=f),
    "credit per point": lambda f: service_credit(
        Decimal("100.00"), Decimal("99"), credit_percent_per_point=f
    ),
    "credit cap": lambda f: service_credit(Decimal("100.00"), Decimal("99"), cap_percent=f),
    "uncontested total": lambda f: uncontested_amount(f, Decimal("0.00")),
    "uncontested contested": lambda f: uncontested_amount(Decimal("100.00"), f),
    "dispute payable": lambda f: amount_due_after_dispute(Decimal("100.00"), Decimal("50.00"), f),
}


@FAST
@given(call=st.sampled_from(sorted(FLOAT_CALLS)), value=st.floats())
def test_floats_are_refused_everywhere(call: str, value: float) -> None:
    # Any float, even one that looks like a whole number of cents, NaN or infinity.
    with pytest.raises(TypeError, match="float"):
        FLOAT_CALLS[call](value)


# --------------------------------------------------------------------------- part payments


@st.composite
def payment_histories(draw: st.DrawFn) -> dict:
    due = draw(due_dates)
    principal = draw(cents_strategy(10**8))
    payments = [
        (due + dt.timedelta(days=draw(st.integers(-30, 800))), draw(cents_strategy(10**8, 1)))
        for _ in range(draw(st.integers(0, 5)))
    ]
    return {
        "principal": principal,
        "due": due,
        "payments": payments,
        "as_of": due + dt.timedelta(days=draw(st.integers(-30, 900))),
        "rate": draw(monthly_rates),
        "cap": draw(annual_caps),
    }


def statement(h: dict, as_of: dt.date | None = None):
    return interest_with_payments(
        h["principal"],
        h["due"],
        h["payments"],
        as_of or h["as_of"],
        monthly_rate_percent=h["rate"],
        max_annual_rate_percent=h["cap"],
    )


@FAST
@given(h=payment_histories())
def test_part_payments_balance_and_never_leave_a_negative_balance(h: dict) -> None:
    s = statement(h)
    counted = [amount for when, amount in h["payments"] if when <= h["as_of"]]
    # Nothing owed is ever negative, on the statement date or on any ledger line.
    assert s.outstanding_principal >= 0 and s.accrued_interest >= 0 and s.total_outstanding >= 0
    assert s.overpayment >= 0
    for entry in s.ledger:
        assert entry.principal_outstanding >= 0 and entry.interest_unpaid >= 0
        assert entry.paid == entry.to_interest + entry.to_principal + entry.overpayment
        if entry.event == "payment" and entry.date <= h["due"]:
            assert entry.to_interest == 0
    # Payments plus what is still owed are the principal plus the interest charged, to
    # the cent (every figure is in cents, so no rounding slack is needed), less any excess.
    assert sum(counted, Decimal("0.00")) + s.total_outstanding == (
        h["principal"] + s.interest_charged + s.overpayment
    )
    assert s.principal_paid + s.outstanding_principal == h["principal"]
    assert s.interest_paid + s.accrued_interest == s.interest_charged
    for value in (s.outstanding_principal, s.accrued_interest, s.total_outstanding):
        assert is_cents(value)
    for value in (s.interest_charged, s.interest_paid, s.principal_paid, s.overpayment):
        assert is_cents(value)


@FAST
@given(h=payment_histories())
def test_part_payment_interest_stays_under_the_lawful_maximum(h: dict) -> None:
    s = statement(h)
    days = (h["as_of"] - h["due"]).days
    assert s.interest_charged >= 0
    # Limb (b) runs on the principal still outstanding, which is never more than the
    # original principal, so simple interest on the original is a ceiling.
    assert Fraction(s.interest_charged) <= simple_interest_ceiling(h["principal"], h["cap"], days)
    if days <= 0:
        assert s.interest_charged == 0


@FAST
@given(h=payment_histories(), extra=st.integers(0, 400))
def test_part_payment_interest_charged_does_not_go_down_with_a_later_statement(
    h: dict, extra: int
) -> None:
    earlier = statement(h)
    later = statement(h, h["as_of"] + dt.timedelta(days=extra))
    assert earlier.interest_charged <= later.interest_charged


@FAST
@given(
    principal=cents_strategy(10**8, 1),
    due=due_dates,
    early=st.integers(0, 30),
    as_of=st.integers(0, 900),
    rate=monthly_rates,
    cap=annual_caps,
)
def test_paying_in_full_by_the_due_date_costs_no_interest(
    principal: Decimal, due: dt.date, early: int, as_of: int, rate: Decimal, cap: Decimal
) -> None:
    s = interest_with_payments(
        principal,
        due,
        [(due - dt.timedelta(days=early), principal)],
        due + dt.timedelta(days=as_of),
        monthly_rate_percent=rate,
        max_annual_rate_percent=cap,
    )
    assert s.interest_charged == 0
    assert s.total_outstanding == 0
    assert s.overpayment == 0


# --------------------------------------------------------------------------- service credits


def credit(fee: Decimal, uptime: Decimal, **terms: object):
    return service_credit(fee, uptime, **terms)  # type: ignore[arg-type]


credit_terms = st.fixed_dictionaries(
    {
        "target_percent": targets,
        "credit_percent_per_point": per_points,
        "cap_percent": caps,
        "pro_rata": st.booleans(),
    }
)


@FAST
@given(fee=amounts, uptime=uptimes, terms=credit_terms)
def test_service_credit_respects_the_cap_and_the_target(
    fee: Decimal, uptime: Decimal, terms: dict
) -> None:
    result = credit(fee, uptime, **terms)
    assert is_cents(result.amount)
    assert result.amount >= 0
    assert 0 <= result.percent_of_fee <= terms["cap_percent"]
    # Never above the cap, rounded the same way as the credit itself.
    assert result.amount <= to_cents(fee * terms["cap_percent"] / 100)
    if uptime >= terms["target_percent"]:
        assert result.amount == 0 and result.points_below_target == 0
    # The figure is the stated percentage of the fee, rounded half up to the cent.
    exact = Fraction(fee) * Fraction(result.percent_of_fee) / 100
    assert abs(Fraction(result.amount) - exact) <= Fraction(1, 200)


@FAST
@given(
    fee=amounts,
    pair=st.lists(uptimes, min_size=2, max_size=2).map(sorted),
    terms=credit_terms,
)
def test_service_credit_does_not_grow_as_uptime_improves(
    fee: Decimal, pair: list[Decimal], terms: dict
) -> None:
    lower, higher = (credit(fee, u, **terms) for u in pair)
    assert lower.amount >= higher.amount
    assert lower.percent_of_fee >= higher.percent_of_fee


@FAST
@given(fee=amounts, uptime=uptimes, terms=credit_terms)
def test_without_pro_rata_only_whole_points_count(
    fee: Decimal, uptime: Decimal, terms: dict
) -> None:
    pro_rata = credit(fee, uptime, **(terms | {"pro_rata": True}))
    whole = credit(fee, uptime, **(terms | {"pro_rata": False}))
    # Disregarding fractions can only lower the credit, and by less than one point's worth.
    assert whole.amount <= pro_rata.amount
    assert whole.points_counted == int(whole.points_below_target)
    assert pro_rata.points_below_target - whole.points_counted < 1
    if not whole.capped:
        assert whole.percent_of_fee == whole.points_counted * terms["credit_percent_per_point"]


# --------------------------------------------------------------------------- uptime

ZONES = ["America/New_York", "UTC", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata"]


# Intervals as (first minute, length in minutes) relative to the month's UTC start; they
# may start before the month and end after it.
minute_intervals = st.lists(st.tuples(st.integers(-3000, 46000), st.integers(0, 6000)), max_size=6)
Minutes = list[tuple[int, int]]


@dataclass(frozen=True)
class ZonedMonth:
    """A calendar month in a time zone, whose uptime is asked for intervals in minutes."""

    year_month: tuple[int, int]
    zone: str

    @property
    def start(self) -> dt.datetime:
        """The UTC instant the local month starts."""
        year, month = self.year_month
        return dt.datetime(year, month, 1, tzinfo=ZoneInfo(self.zone)).astimezone(dt.UTC)

    @property
    def minutes(self) -> int:
        """The month's real length in minutes."""
        year, month = self.year_month
        local_next = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=ZoneInfo(self.zone))
        return (local_next.astimezone(dt.UTC) - self.start) // dt.timedelta(minutes=1)

    def datetimes(self, intervals: Minutes) -> list[tuple[dt.datetime, dt.datetime]]:
        """The intervals as aware datetimes in the month's zone."""
        tz, start = ZoneInfo(self.zone), self.start
        return [
            (
                (start + dt.timedelta(minutes=a)).astimezone(tz),
                (start + dt.timedelta(minutes=a + length)).astimezone(tz),
            )
            for a, length in intervals
        ]

    def uptime(self, downtime: Minutes, windows: Minutes) -> MonthlyUptime:
        return monthly_uptime(
            self.year_month, self.zone, self.datetimes(downtime), self.datetimes(windows)
        )


zoned_months = st.builds(
    ZonedMonth, st.tuples(st.integers(1995, 2060), st.integers(1, 12)), st.sampled_from(ZONES)
)


def covered(intervals: list[tuple[int, int]], minutes: int) -> set[int]:
    return {m for a, length in intervals for m in range(max(a, 0), min(a + length, minutes))}


def expected_uptime(down: set[int], windows: set[int], minutes: int) -> Decimal:
    measured = minutes - len(windows)
    if not measured:
        return Decimal("100.0000")
    ratio = Fraction(measured - len(down - windows), measured) * 100 * 10_000
    return Decimal(math.floor(ratio + Fraction(1, 2))).scaleb(-4)  # half up, 4 places


@SLOW
@given(month=zoned_months, downtime=minute_intervals, windows=minute_intervals)
def test_uptime_matches_a_minute_by_minute_count(
    month: ZonedMonth, downtime: Minutes, windows: Minutes
) -> None:
    result = month.uptime(downtime, windows)
    minutes = month.minutes
    down, maintenance = covered(downtime, minutes), covered(windows, minutes)
    assert Decimal(0) <= result.uptime_percent <= Decimal(100)
    assert result.uptime_percent == expected_uptime(down, maintenance, minutes)
    assert result.minutes_in_month == minutes
    assert result.excluded_minutes == len(maintenance)
    assert result.downtime_minutes == len(down - maintenance)
    assert result.downtime_in_maintenance_minutes == len(down & maintenance)
    # Order and duplicates do not matter: overlapping downtime is counted once.
    again = month.uptime(list(reversed(downtime)) + downtime, windows)
    assert again.uptime_percent == result.uptime_percent


@SLOW
@given(
    month=zoned_months,
    downtime=minute_intervals,
    windows=minute_intervals,
    picked=st.integers(0, 5),
    cut=st.tuples(st.integers(0, 6000), st.integers(0, 6000)),
)
def test_excluding_a_maintenance_window_over_downtime_never_lowers_uptime(
    month: ZonedMonth, downtime: Minutes, windows: Minutes, picked: int, cut: tuple[int, int]
) -> None:
    before = month.uptime(downtime, windows)
    if downtime:
        # A new window that lies wholly inside one of the outages.
        a, length = downtime[picked % len(downtime)]
        skip = min(cut[0], length)
        window = (a + skip, min(cut[1], length - skip))
    else:
        window = (cut[0], cut[1])
    after = month.uptime(downtime, [*windows, window])
    # Counted downtime never grows when a window is excluded ...
    assert after.downtime_minutes <= before.downtime_minutes
    # ... and when the window was all downtime, uptime cannot fall.
    assert after.uptime_percent >= before.uptime_percent


@SLOW
@given(
    month=zoned_months,
    downtime=minute_intervals,
    more=minute_intervals,
    windows=minute_intervals,
)
def test_more_downtime_never_raises_uptime(
    month: ZonedMonth, downtime: Minutes, more: Minutes, windows: Minutes
) -> None:
    base = month.uptime(downtime, windows)
    worse = month.uptime(downtime + more, windows)
    assert worse.uptime_percent <= base.uptime_percent
    assert worse.downtime_minutes >= base.downtime_minutes


# --------------------------------------------------------------------------- disputes


@FAST
@given(data=st.data(), total=amounts)
def test_a_dispute_splits_the_invoice_without_losing_a_cent(
    data: st.DataObject, total: Decimal
) -> None:
    cents = int(total * 100)
    contested = data.draw(cents_strategy(cents))
    payable = data.draw(cents_strategy(int(contested * 100)))
    assert uncontested_amount(total, contested) + contested == total
    outcome = amount_due_after_dispute(total, contested, payable)
    assert outcome.amount_due + outcome.credited == total
    assert 0 <= outcome.credited <= contested
    assert is_cents(outcome.amount_due) and is_cents(outcome.uncontested)


@settings(max_examples=60, deadline=None, database=None)
@given(
    whole=st.integers(min_value=0, max_value=10_000_000),
    days=st.integers(min_value=0, max_value=800),
    paid=st.integers(min_value=1, max_value=10_000),
)
def test_every_amount_comes_back_in_cents_even_from_whole_number_inputs(
    whole: int, days: int, paid: int
) -> None:
    due = dt.date(2026, 1, 1)
    principal = Decimal(whole)  # e.g. Decimal("100"), no decimal places given
    unpaid = interest_with_payments(principal, due, [], due + dt.timedelta(days=days))
    statement = interest_with_payments(
        principal,
        due,
        [(due + dt.timedelta(days=days // 2), Decimal(paid))],
        due + dt.timedelta(days=days),
    )
    outcome = amount_due_after_dispute(principal, principal, Decimal(0))
    for amount in (
        unpaid.interest_charged,
        unpaid.total_outstanding,
        statement.outstanding_principal,
        statement.accrued_interest,
        statement.total_outstanding,
        outcome.credited,
        outcome.amount_due,
    ):
        assert amount.as_tuple().exponent == -2, amount
