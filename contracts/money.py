"""Money arithmetic for the payment and service-level clauses. Pure domain code: no I/O.

Every amount is a ``decimal.Decimal`` in the contract currency; floats are refused because
they cannot hold cents exactly. Money is rounded half up to the cent (``ROUND_HALF_UP`` to
0.01) except the lawful maximum on late interest, which is rounded down to the cent so that
rounding can never push a charge above the legal ceiling.

The functions map onto the term sheet (``contracts.terms``):

* late interest (MSA §3): ``PaymentTerms.late_interest_percent_per_month`` and
  ``PaymentTerms.maximum_lawful_annual_rate_percent``;
* service credits (Exhibit A.4): ``ServiceLevelTerms.uptime_target_percent``,
  ``credit_percent_per_point``, ``credit_cap_percent`` and ``credit_pro_rata``;
* uptime (Exhibit A.1): ``TermSheet.time_zone``;
* disputed invoices (MSA §3, Exhibit B.4): the invoice total and the contested amount.

Every result carries an ``explanation``: plain-language lines a contract manager can read,
each stating how the figures were rounded.
"""

from __future__ import annotations

import datetime as dt
from calendar import month_name
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_UP, Context, Decimal, localcontext
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.relativedelta import relativedelta

CENT = Decimal("0.01")
UPTIME_PRECISION = Decimal("0.0001")
DAYS_IN_YEAR = 365

DEFAULT_MONTHLY_RATE_PERCENT = Decimal("1")
DEFAULT_MAX_ANNUAL_RATE_PERCENT = Decimal("16")
DEFAULT_UPTIME_TARGET_PERCENT = Decimal("99.9")
DEFAULT_CREDIT_PERCENT_PER_POINT = Decimal("1")
DEFAULT_CREDIT_CAP_PERCENT = Decimal("50")

_ZERO = Decimal(0)
_NO_MONEY = Decimal("0.00")
_HUNDRED = Decimal(100)
_MICROSECONDS_PER_MINUTE = Decimal(60_000_000)
_MINUTE_DISPLAY = Decimal("0.01")
# Far more digits than any invoice needs, so only the explicit roundings change a figure.
_CONTEXT = Context(prec=50, rounding=ROUND_HALF_UP)

_ROUNDING_NOTE = "Amounts are rounded half up to the cent."


# --------------------------------------------------------------------------- rounding


def to_cents(amount: Decimal) -> Decimal:
    """Rounds an amount half up to the cent (``ROUND_HALF_UP`` to 0.01).

    Args:
        amount: A Decimal (an int is accepted, being exact).

    Returns:
        The amount with exactly two decimal places; 0.005 becomes 0.01, -0.005 becomes -0.01.

    Raises:
        TypeError: If ``amount`` is a float or any other non-Decimal type.
        ValueError: If ``amount`` is NaN or infinite.
    """
    value = _decimal(amount, "amount")
    with localcontext(_CONTEXT):
        return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _cents_down(amount: Decimal) -> Decimal:
    # Only for ceilings: truncating keeps the rounded figure at or below the exact one.
    return amount.quantize(CENT, rounding=ROUND_FLOOR)


def _decimal(value: object, field: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        kind = type(value).__name__
        raise TypeError(f"{field} must be a Decimal, not {kind}; floats cannot hold cents exactly")
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError(f"{field} must be a finite number, not {number}")
    return number


def _money(value: object, field: str) -> Decimal:
    amount = _decimal(value, field)
    if amount < 0:
        raise ValueError(f"{field} must not be negative (got {amount})")
    if amount != amount.quantize(CENT, rounding=ROUND_DOWN):
        raise ValueError(f"{field} must be a whole number of cents (got {amount})")
    # Exact (whole cents were just checked); "100" becomes "100.00" in every output.
    return amount.quantize(CENT)


def _percent(value: object, field: str) -> Decimal:
    rate = _decimal(value, field)
    if rate < 0:
        raise ValueError(f"{field} must not be negative (got {rate})")
    return rate


def _date(value: object, field: str) -> dt.date:
    # datetime is a subclass of date; mixing the two silently breaks day counts.
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise TypeError(f"{field} must be a datetime.date, not {type(value).__name__}")
    return value


def _amount_text(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def _number_text(number: Decimal) -> str:
    # 16 rather than 16.00 or 1.6E+1; 0.05 rather than 0.0500.
    return format(number.normalize(), ",f")


# --------------------------------------------------------------------------- late interest


class InterestLimb(StrEnum):
    """Which of the two §3 limits set the late interest: the lower one always applies."""

    CONTRACT_RATE = "contract rate"
    LAWFUL_MAXIMUM = "lawful maximum"


def _contract_interest(balance_days: Decimal, rate: Decimal, days_in_month: int) -> Decimal:
    # balance_days is balance x days charged, so a whole month is exactly balance x rate.
    return to_cents(balance_days * rate / (_HUNDRED * days_in_month))


def _lawful_maximum(principal_days: Decimal, annual_rate: Decimal) -> Decimal:
    return _cents_down(principal_days * annual_rate / (_HUNDRED * DAYS_IN_YEAR))


def _method_lines(rate: Decimal, cap: Decimal) -> list[str]:
    return [
        f"Limb (a), the contract rate: {_number_text(rate)}% a month, compounded monthly. "
        "Interest months run from the due date to the same day of each following month "
        "(the last day of a shorter month). Each month's interest is rounded half up to "
        "the cent and added to the balance before the next month. A final part month is "
        "charged pro rata: days elapsed divided by the actual days in that interest month.",
        f"Limb (b), the lawful maximum: simple interest at {_number_text(cap)}% a year on the "
        f"principal for the actual days elapsed, over a {DAYS_IN_YEAR}-day year (actual/365), "
        "rounded down to the cent so rounding can never take the charge above the maximum.",
        "The lower of the two limbs is charged, so interest never exceeds the lawful maximum.",
    ]


@dataclass(frozen=True)
class LedgerEntry:
    """One line of an interest ledger.

    Attributes:
        date: When it happened.
        event: ``"due"``, ``"month end"``, ``"payment"`` or ``"statement"``.
        paid: The payment received (0 for other events).
        to_interest: Part of the payment applied to unpaid interest.
        to_principal: Part of the payment applied to principal.
        overpayment: Part of the payment left over once everything owed was paid.
        interest_charged: Interest charged from the due date to this date (lesser limb).
        interest_unpaid: Interest charged and not yet paid, after this line.
        principal_outstanding: Principal not yet paid, after this line.
        note: A plain-language description of the line.
    """

    date: dt.date
    event: str
    paid: Decimal
    to_interest: Decimal
    to_principal: Decimal
    overpayment: Decimal
    interest_charged: Decimal
    interest_unpaid: Decimal
    principal_outstanding: Decimal
    note: str


@dataclass(frozen=True)
class InterestStatement:
    """Where an overdue amount stands on a date, after partial payments.

    Attributes:
        principal: The amount originally due.
        due_date: When it fell due.
        as_of: The statement date.
        outstanding_principal: Principal still unpaid on ``as_of``.
        accrued_interest: Interest charged and still unpaid on ``as_of``.
        total_outstanding: ``outstanding_principal + accrued_interest``.
        interest_charged: All interest charged from the due date to ``as_of``.
        interest_paid: Payments applied to interest.
        principal_paid: Payments applied to principal.
        overpayment: Payments beyond everything owed (a credit to the payer).
        limb: Which limb set ``interest_charged``.
        ledger: The due date, each month end, each payment and the statement date.
        explanation: Plain-language lines.
    """

    principal: Decimal
    due_date: dt.date
    as_of: dt.date
    outstanding_principal: Decimal
    accrued_interest: Decimal
    total_outstanding: Decimal
    interest_charged: Decimal
    interest_paid: Decimal
    principal_paid: Decimal
    overpayment: Decimal
    limb: InterestLimb
    ledger: tuple[LedgerEntry, ...]
    explanation: tuple[str, ...]


class _Accrual:
    """Runs both interest limbs day by day between events, for a ledger with payments."""

    def __init__(self, principal: Decimal, due_date: dt.date, rate: Decimal, cap: Decimal):
        self.principal = principal
        self.due_date = due_date
        self.rate = rate
        self.cap = cap
        self.cursor = due_date
        self.month_index = 0
        # The current interest month; both ends are worked out once per month.
        self.month_start, self.month_end = due_date, self._anniversary(1)
        # Balance x days within the current interest month, for limb (a).
        self.month_balance_days = _ZERO
        # Contract-rate interest of the interest months already closed, each in cents.
        self.contract_closed = _NO_MONEY
        # Principal x days since the due date, for limb (b).
        self.principal_days = _ZERO
        self.interest_paid = _NO_MONEY
        self.principal_paid = _NO_MONEY
        self.overpayment = _NO_MONEY
        self.ledger: list[LedgerEntry] = []

    def _anniversary(self, months: int) -> dt.date:
        # Counted from the due date itself, so a due date of 31 January gives 28 (or 29)
        # February, then 31 March: relativedelta takes a shorter month's last day, and the
        # short month does not shift later ones.
        return self.due_date + relativedelta(months=months)

    def _days_in_month(self) -> int:
        return (self.month_end - self.month_start).days

    def contract_to_date(self) -> Decimal:
        part = _contract_interest(self.month_balance_days, self.rate, self._days_in_month())
        return self.contract_closed + part

    def maximum_to_date(self) -> Decimal:
        return _lawful_maximum(self.principal_days, self.cap)

    def charged(self) -> Decimal:
        return min(self.contract_to_date(), self.maximum_to_date())

    def limb(self) -> InterestLimb:
        if self.contract_to_date() <= self.maximum_to_date():
            return InterestLimb.CONTRACT_RATE
        return InterestLimb.LAWFUL_MAXIMUM

    def advance_to(self, when: dt.date) -> None:
        while self.cursor < when:
            stop = min(when, self.month_end)
            days = (stop - self.cursor).days
            # Limb (a) compounds: unpaid interest of closed months bears interest too.
            # Limb (b) is simple: principal only.
            unpaid_closed = max(self.contract_closed - self.interest_paid, _ZERO)
            self.month_balance_days += (self.principal + unpaid_closed) * days
            self.principal_days += self.principal * days
            self.cursor = stop
            if stop == self.month_end:
                self.contract_closed += _contract_interest(
                    self.month_balance_days, self.rate, self._days_in_month()
                )
                self.month_balance_days = _ZERO
                self.month_index += 1
                self.month_start = self.month_end
                self.month_end = self._anniversary(self.month_index + 1)
                self.record(stop, "month end", note=f"Interest month {self.month_index} ends.")

    def pay(self, when: dt.date, amount: Decimal) -> LedgerEntry:
        self.advance_to(when)
        unpaid = self.charged() - self.interest_paid
        to_interest = min(amount, unpaid)
        to_principal = min(amount - to_interest, self.principal)
        overpayment = amount - to_interest - to_principal
        self.interest_paid += to_interest
        self.principal -= to_principal
        self.principal_paid += to_principal
        self.overpayment += overpayment
        early = ""
        if when <= self.due_date:
            early = " (on or before the due date, so no interest had accrued)"
        note = (
            f"Payment of {_amount_text(amount)}{early}: {_amount_text(to_interest)} to interest, "
            f"{_amount_text(to_principal)} to principal"
            + (f", {_amount_text(overpayment)} overpaid" if overpayment else "")
            + f"; principal now {_amount_text(self.principal)}."
        )
        return self.record(when, "payment", amount, to_interest, to_principal, overpayment, note)

    def record(
        self,
        when: dt.date,
        event: str,
        paid: Decimal = _NO_MONEY,
        to_interest: Decimal = _NO_MONEY,
        to_principal: Decimal = _NO_MONEY,
        overpayment: Decimal = _NO_MONEY,
        note: str = "",
    ) -> LedgerEntry:
        charged = self.charged()
        entry = LedgerEntry(
            date=when,
            event=event,
            paid=paid,
            to_interest=to_interest,
            to_principal=to_principal,
            overpayment=overpayment,
            interest_charged=charged,
            interest_unpaid=charged - self.interest_paid,
            principal_outstanding=self.principal,
            note=note,
        )
        self.ledger.append(entry)
        return entry


def _parse_payments(payments: Sequence[tuple[dt.date, Decimal]]) -> list[tuple[dt.date, Decimal]]:
    parsed = []
    for index, item in enumerate(payments):
        try:
            when, amount = item
        except (TypeError, ValueError):
            raise TypeError(f"payments[{index}] must be a (date, Decimal) pair") from None
        when = _date(when, f"payments[{index}].date")
        amount = _money(amount, f"payments[{index}].amount")
        if amount == 0:
            raise ValueError(f"payments[{index}].amount must be more than zero")
        parsed.append((when, amount))
    # Stable sort: payments on the same day are applied in the order given.
    return sorted(parsed, key=lambda payment: payment[0])


def interest_with_payments(
    principal: Decimal,
    due_date: dt.date,
    payments: Sequence[tuple[dt.date, Decimal]],
    as_of: dt.date,
    *,
    monthly_rate_percent: Decimal = DEFAULT_MONTHLY_RATE_PERCENT,
    max_annual_rate_percent: Decimal = DEFAULT_MAX_ANNUAL_RATE_PERCENT,
) -> InterestStatement:
    """Late interest on an overdue amount paid off in parts (MSA §3), as of a date.

    Each payment is applied first to interest charged and unpaid on its date, then to
    principal; anything left over is recorded as an overpayment. Interest charged from the
    due date to any date is the lesser of two running totals over the same history:

    * (a) the contract rate, compounded monthly: within each interest month (due date to
      the same day of the next month) interest accrues day by day, pro rata over the actual
      days in that month, on principal outstanding plus contract-rate interest of earlier
      months not yet paid; each month's total is rounded half up to the cent at its end, and
      an unfinished month is rounded half up to the cent on the date it is read;
    * (b) simple interest at the maximum annual rate on the principal outstanding each day
      (actual/365), rounded down to the cent.

    With no payments this is the plain §3 calculation: whole interest months compounded,
    then a final part month pro rata by days. Payments dated after ``as_of`` are left out
    (and listed in the explanation); payments on or before the due date go wholly to
    principal. An ``as_of`` on or before the due date
    charges no interest.

    Args:
        principal: The overdue amount, in whole cents, not negative.
        due_date: The date payment was due.
        payments: ``(date, amount)`` pairs; amounts in whole cents and more than zero.
        as_of: The statement date.
        monthly_rate_percent: ``PaymentTerms.late_interest_percent_per_month`` (1 = 1%).
        max_annual_rate_percent: ``PaymentTerms.maximum_lawful_annual_rate_percent``.

    Returns:
        The outstanding principal, unpaid interest and a ledger.

    Raises:
        TypeError: If an amount or rate is a float, a date is not a ``datetime.date`` or a
            payment is not a pair.
        ValueError: If the principal, a payment or a rate is negative, a payment is zero,
            or an amount has fractions of a cent.
    """
    with localcontext(_CONTEXT):
        principal = _money(principal, "principal")
        due_date = _date(due_date, "due_date")
        as_of = _date(as_of, "as_of")
        rate = _percent(monthly_rate_percent, "monthly_rate_percent")
        cap = _percent(max_annual_rate_percent, "max_annual_rate_percent")
        ordered = _parse_payments(payments)
        counted = [payment for payment in ordered if payment[0] <= as_of]
        left_out = [payment for payment in ordered if payment[0] > as_of]

        accrual = _Accrual(principal, due_date, rate, cap)
        lines = [
            f"Principal {_amount_text(principal)} fell due on {due_date.isoformat()}; "
            f"statement as of {as_of.isoformat()}.",
            "Each payment is applied first to interest charged and unpaid on its date, then "
            "to principal; any excess is recorded as an overpayment.",
            *_method_lines(rate, cap),
            "With part payments both limbs are run over the same history: limb (a) on "
            "principal plus unpaid contract-rate interest of earlier months, limb (b) on the "
            "principal outstanding each day; interest charged to any date is the lower total.",
        ]
        # Payments before the due date come first so the ledger reads in date order.
        for when, amount in [payment for payment in counted if payment[0] < due_date]:
            entry = accrual.pay(when, amount)
            lines.append(f"{when.isoformat()}: {entry.note}")
        if as_of >= due_date:
            accrual.record(due_date, "due", note=f"{_amount_text(accrual.principal)} falls due.")
        for when, amount in [payment for payment in counted if payment[0] >= due_date]:
            entry = accrual.pay(when, amount)
            lines.append(f"{when.isoformat()}: {entry.note}")
        for when, amount in left_out:
            lines.append(
                f"{when.isoformat()}: payment of {_amount_text(amount)} is after the statement "
                "date and is not counted."
            )
        accrual.advance_to(as_of)
        final = accrual.record(as_of, "statement", note="Statement date.")
        limb = accrual.limb()
        lines.append(
            f"As of {as_of.isoformat()}: interest charged {_amount_text(final.interest_charged)} "
            f"(set by the {limb.value}), of which {_amount_text(accrual.interest_paid)} paid "
            f"and {_amount_text(final.interest_unpaid)} unpaid; principal outstanding "
            f"{_amount_text(final.principal_outstanding)}; total outstanding "
            f"{_amount_text(final.principal_outstanding + final.interest_unpaid)}."
        )
        if accrual.overpayment:
            lines.append(f"Overpaid: {_amount_text(accrual.overpayment)}.")

        return InterestStatement(
            principal=principal,
            due_date=due_date,
            as_of=as_of,
            outstanding_principal=final.principal_outstanding,
            accrued_interest=final.interest_unpaid,
            total_outstanding=final.principal_outstanding + final.interest_unpaid,
            interest_charged=final.interest_charged,
            interest_paid=accrual.interest_paid,
            principal_paid=accrual.principal_paid,
            overpayment=accrual.overpayment,
            limb=limb,
            ledger=tuple(accrual.ledger),
            explanation=tuple(lines),
        )


# --------------------------------------------------------------------------- service credits


@dataclass(frozen=True)
class ServiceCredit:
    """A service credit for one month's uptime (Exhibit A.4).

    Attributes:
        amount: The credit, rounded half up to the cent.
        percent_of_fee: The credit as a percentage of the monthly fee, after the cap.
        points_below_target: Percentage points of uptime below the target.
        points_counted: Points used for the credit (whole points only unless pro rata).
        capped: Whether the cap reduced the credit.
        explanation: Plain-language lines.
    """

    amount: Decimal
    percent_of_fee: Decimal
    points_below_target: Decimal
    points_counted: Decimal
    capped: bool
    explanation: tuple[str, ...]


def service_credit(
    monthly_fee: Decimal,
    uptime_percent: Decimal,
    *,
    target_percent: Decimal = DEFAULT_UPTIME_TARGET_PERCENT,
    credit_percent_per_point: Decimal = DEFAULT_CREDIT_PERCENT_PER_POINT,
    cap_percent: Decimal = DEFAULT_CREDIT_CAP_PERCENT,
    pro_rata: bool = True,
) -> ServiceCredit:
    """The service credit for a month's uptime (Exhibit A.4).

    Credit = ``credit_percent_per_point`` % of the monthly fee for each percentage point
    of uptime below the target, capped at ``cap_percent`` % of the fee, rounded half up to
    the cent. With ``pro_rata`` a fraction of a point earns the same fraction of the credit;
    without it only whole points count (0.95 of a point earns nothing).

    Args:
        monthly_fee: ``Fees.monthly_fee``, in whole cents.
        uptime_percent: Measured uptime, 0 to 100 (e.g. from ``monthly_uptime``).
        target_percent: ``ServiceLevelTerms.uptime_target_percent``.
        credit_percent_per_point: ``ServiceLevelTerms.credit_percent_per_point``.
        cap_percent: ``ServiceLevelTerms.credit_cap_percent``.
        pro_rata: ``ServiceLevelTerms.credit_pro_rata``.

    Returns:
        The credit, its share of the fee, the points below target and whether the cap bit.

    Raises:
        TypeError: If a figure is a float.
        ValueError: If the fee or a percentage is negative or the uptime or target is
            outside 0 to 100.
    """
    with localcontext(_CONTEXT):
        fee = _money(monthly_fee, "monthly_fee")
        uptime = _percent(uptime_percent, "uptime_percent")
        target = _percent(target_percent, "target_percent")
        per_point = _percent(credit_percent_per_point, "credit_percent_per_point")
        cap = _percent(cap_percent, "cap_percent")
        if uptime > _HUNDRED:
            raise ValueError(f"uptime_percent must be between 0 and 100 (got {uptime})")
        if target > _HUNDRED:
            raise ValueError(f"target_percent must be between 0 and 100 (got {target})")
        if not isinstance(pro_rata, bool):
            raise TypeError("pro_rata must be True or False")

        below = max(target - uptime, _ZERO)
        counted = below if pro_rata else below.to_integral_value(rounding=ROUND_FLOOR)
        uncapped = counted * per_point
        capped = uncapped > cap
        percent = min(uncapped, cap)
        amount = to_cents(fee * percent / _HUNDRED)

        lines = [
            f"Uptime {_number_text(uptime)}% against a target of {_number_text(target)}%: "
            f"{_number_text(below)} percentage point(s) below target."
        ]
        if pro_rata:
            lines.append("Fractions of a point count pro rata.")
        else:
            lines.append(
                f"Only whole points count; fractions are disregarded: {_number_text(counted)} "
                "point(s) counted."
            )
        lines.append(
            f"{_number_text(per_point)}% of the monthly fee per point x {_number_text(counted)} = "
            f"{_number_text(uncapped)}% of the fee"
            + (f", capped at {_number_text(cap)}%." if capped else f" (cap {_number_text(cap)}%).")
        )
        lines.append(
            f"Credit: {_number_text(percent)}% of {_amount_text(fee)} = {_amount_text(amount)}, "
            "rounded half up to the cent."
        )
        return ServiceCredit(
            amount=amount,
            percent_of_fee=percent,
            points_below_target=below,
            points_counted=counted,
            capped=capped,
            explanation=tuple(lines),
        )


# --------------------------------------------------------------------------- uptime

_Interval = tuple[dt.datetime, dt.datetime]


@dataclass(frozen=True)
class MonthlyUptime:
    """Uptime over one calendar month in the contract's time zone (Exhibit A.1).

    Minute figures are rounded half up to 0.01 minute for display; the percentage is worked
    out from the exact durations.

    Attributes:
        year: The year.
        month: The month, 1 to 12.
        time_zone: The IANA time zone the month is measured in.
        minutes_in_month: Real elapsed minutes from the 1st to the 1st of the next month.
        excluded_minutes: Minutes of scheduled maintenance windows inside the month.
        measured_minutes: ``minutes_in_month - excluded_minutes``.
        downtime_minutes: Downtime counted: inside the month, outside maintenance windows.
        downtime_in_maintenance_minutes: Downtime that fell inside maintenance windows.
        uptime_percent: ``(measured - downtime) / measured x 100``, rounded half up to 0.0001.
        explanation: Plain-language lines.
    """

    year: int
    month: int
    time_zone: str
    minutes_in_month: Decimal
    excluded_minutes: Decimal
    measured_minutes: Decimal
    downtime_minutes: Decimal
    downtime_in_maintenance_minutes: Decimal
    uptime_percent: Decimal
    explanation: tuple[str, ...]


def _intervals(items: Sequence[_Interval], field: str) -> list[_Interval]:
    intervals = []
    for index, item in enumerate(items):
        try:
            start, end = item
        except (TypeError, ValueError):
            raise TypeError(f"{field}[{index}] must be a (start, end) pair") from None
        for name, moment in (("start", start), ("end", end)):
            if not isinstance(moment, dt.datetime):
                kind = type(moment).__name__
                raise TypeError(f"{field}[{index}].{name} must be a datetime, not {kind}")
            if moment.utcoffset() is None:
                raise ValueError(f"{field}[{index}].{name} must carry a time zone")
        if end < start:
            raise ValueError(f"{field}[{index}] ends before it starts")
        # Work in UTC: subtracting two datetimes in the same zone ignores clock changes.
        intervals.append((start.astimezone(dt.UTC), end.astimezone(dt.UTC)))
    return intervals


def _clip_and_merge(
    intervals: list[_Interval], start: dt.datetime, end: dt.datetime
) -> list[_Interval]:
    clipped = sorted((max(a, start), min(b, end)) for a, b in intervals if a < end and b > start)
    merged: list[_Interval] = []
    for a, b in clipped:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _microseconds(span: dt.timedelta) -> int:
    return span // dt.timedelta(microseconds=1)


def _total(intervals: list[_Interval]) -> int:
    return sum(_microseconds(b - a) for a, b in intervals)


def _overlap(first: list[_Interval], second: list[_Interval]) -> int:
    # Both lists are merged, so overlaps never count the same moment twice.
    return sum(
        _microseconds(min(b, d) - max(a, c))
        for a, b in first
        for c, d in second
        if max(a, c) < min(b, d)
    )


def _minutes(microseconds: int) -> Decimal:
    return (Decimal(microseconds) / _MICROSECONDS_PER_MINUTE).quantize(
        _MINUTE_DISPLAY, rounding=ROUND_HALF_UP
    )


def monthly_uptime(
    month: tuple[int, int],
    time_zone: str,
    downtime: Sequence[_Interval],
    excluded_windows: Sequence[_Interval] = (),
) -> MonthlyUptime:
    """Uptime for a calendar month in the contract's time zone (Exhibit A.1).

    The month runs from midnight on the 1st to midnight on the 1st of the next month in
    ``time_zone``, counted in real elapsed time (a month with a clock change is an hour
    shorter or longer). Uptime is measured over the month excluding scheduled maintenance
    windows: the windows' minutes come out of the total, and downtime inside them is not
    counted. Overlapping downtime is counted once and downtime outside the month is left
    out. Uptime = (measured minutes - counted downtime) / measured minutes x 100, rounded
    half up to 0.0001 of a percentage point. A month that is all maintenance is 100%.

    Args:
        month: ``(year, month)``, e.g. ``(2026, 3)``.
        time_zone: ``TermSheet.time_zone``, an IANA name such as ``America/New_York``.
        downtime: ``(start, end)`` pairs of time-zone-aware datetimes.
        excluded_windows: Scheduled maintenance windows, as ``(start, end)`` pairs of aware
            datetimes. Pass only windows noticed at least
            ``ServiceLevelTerms.maintenance_notice_hours`` ahead; others count as downtime.

    Returns:
        The minutes in the month, excluded, counted as downtime, and the uptime percentage.

    Raises:
        TypeError: If a bound is not a datetime or an interval is not a pair.
        ValueError: If the month or time zone is invalid, a datetime is naive, or an
            interval ends before it starts.
    """
    try:
        year, month_number = month
    except (TypeError, ValueError):
        raise TypeError("month must be a (year, month) pair") from None
    if not isinstance(year, int) or not isinstance(month_number, int):
        raise TypeError("month must be a (year, month) pair of ints")
    if not 1 <= month_number <= 12:
        raise ValueError(f"month must be 1 to 12 (got {month_number})")
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"unknown time zone {time_zone!r}") from None

    with localcontext(_CONTEXT):
        local_start = dt.datetime(year, month_number, 1, tzinfo=zone)
        next_year, next_month = (year + 1, 1) if month_number == 12 else (year, month_number + 1)
        local_end = dt.datetime(next_year, next_month, 1, tzinfo=zone)
        start, end = local_start.astimezone(dt.UTC), local_end.astimezone(dt.UTC)

        windows = _clip_and_merge(_intervals(excluded_windows, "excluded_windows"), start, end)
        outages = _clip_and_merge(_intervals(downtime, "downtime"), start, end)
        in_month = _microseconds(end - start)
        excluded = _total(windows)
        measured = in_month - excluded
        in_maintenance = _overlap(outages, windows)
        counted = _total(outages) - in_maintenance
        # A month that is all maintenance has nothing measured, so no downtime can count.
        ratio = Decimal(measured - counted) / Decimal(measured) * _HUNDRED if measured else _HUNDRED
        uptime = ratio.quantize(UPTIME_PRECISION, rounding=ROUND_HALF_UP)

        def text(microseconds: int) -> str:
            return _number_text(_minutes(microseconds))

        lines = [
            f"{month_name[month_number]} {year} in {time_zone}: {text(in_month)} minutes from "
            f"{local_start:%Y-%m-%d %H:%M} to {local_end:%Y-%m-%d %H:%M} local time "
            "(real elapsed time, so a clock change shortens or lengthens the month).",
            f"Scheduled maintenance windows inside the month: {text(excluded)} minutes, "
            f"taken out of the total; {text(measured)} minutes measured.",
            f"Downtime inside the month, overlaps counted once: {text(counted + in_maintenance)} "
            f"minutes, of which {text(in_maintenance)} fell in maintenance windows and are not "
            f"counted: {text(counted)} minutes counted.",
        ]
        if measured:
            lines.append(
                f"Uptime = ({text(measured)} - {text(counted)}) / {text(measured)} x 100 = "
                f"{uptime:.4f}%, rounded half up to 0.0001 percentage point "
                "(minute figures shown rounded half up to 0.01 minute)."
            )
        else:
            lines.append(
                "The whole month was scheduled maintenance, so nothing was measured: uptime "
                "is taken as 100.0000%."
            )
        return MonthlyUptime(
            year=year,
            month=month_number,
            time_zone=time_zone,
            minutes_in_month=_minutes(in_month),
            excluded_minutes=_minutes(excluded),
            measured_minutes=_minutes(measured),
            downtime_minutes=_minutes(counted),
            downtime_in_maintenance_minutes=_minutes(in_maintenance),
            uptime_percent=uptime,
            explanation=tuple(lines),
        )


# --------------------------------------------------------------------------- disputes


def uncontested_amount(invoice_total: Decimal, contested: Decimal) -> Decimal:
    """The part of a disputed invoice that must be paid while the dispute runs (MSA §3).

    Args:
        invoice_total: The invoice total, in whole cents.
        contested: The amount the customer's dispute notice contests, in whole cents.

    Returns:
        ``invoice_total - contested``, in cents.

    Raises:
        TypeError: If either figure is a float.
        ValueError: If either figure is negative or has fractions of a cent, or
            ``contested`` is more than ``invoice_total``.
    """
    with localcontext(_CONTEXT):
        total = _money(invoice_total, "invoice_total")
        disputed = _money(contested, "contested")
        if disputed > total:
            raise ValueError(
                f"contested ({_amount_text(disputed)}) must not exceed invoice_total "
                f"({_amount_text(total)})"
            )
        return to_cents(total - disputed)


@dataclass(frozen=True)
class DisputeOutcome:
    """What an invoice comes to once a dispute over part of it is resolved.

    Attributes:
        invoice_total: The invoice as issued.
        contested: The amount that was disputed.
        uncontested: The part that was payable while the dispute ran.
        contested_found_payable: The part of the contested amount resolved as payable.
        credited: The part of the contested amount that is not payable.
        amount_due: ``uncontested + contested_found_payable``.
        explanation: Plain-language lines.
    """

    invoice_total: Decimal
    contested: Decimal
    uncontested: Decimal
    contested_found_payable: Decimal
    credited: Decimal
    amount_due: Decimal
    explanation: tuple[str, ...]


def amount_due_after_dispute(
    invoice_total: Decimal, contested: Decimal, contested_found_payable: Decimal
) -> DisputeOutcome:
    """The amount due on an invoice once a dispute over part of it is resolved (MSA §3).

    Args:
        invoice_total: The invoice total, in whole cents.
        contested: The amount that was disputed, in whole cents.
        contested_found_payable: How much of the contested amount the resolution found
            payable, in whole cents (0 if the customer won outright).

    Returns:
        The amount due and the amount credited.

    Raises:
        TypeError: If a figure is a float.
        ValueError: If a figure is negative or has fractions of a cent, ``contested`` is
            more than ``invoice_total``, or ``contested_found_payable`` is more than
            ``contested``.
    """
    with localcontext(_CONTEXT):
        uncontested = uncontested_amount(invoice_total, contested)
        total = _money(invoice_total, "invoice_total")
        disputed = _money(contested, "contested")
        payable = _money(contested_found_payable, "contested_found_payable")
        if payable > disputed:
            raise ValueError(
                f"contested_found_payable ({_amount_text(payable)}) must not exceed contested "
                f"({_amount_text(disputed)})"
            )
        credited = disputed - payable
        amount_due = to_cents(uncontested + payable)
        lines = [
            f"Invoice {_amount_text(total)}, of which {_amount_text(disputed)} was contested "
            f"and {_amount_text(uncontested)} was payable while the dispute ran.",
            f"Resolution: {_amount_text(payable)} of the contested amount is payable and "
            f"{_amount_text(credited)} is credited.",
            f"Amount due on the invoice: {_amount_text(uncontested)} + {_amount_text(payable)} "
            f"= {_amount_text(amount_due)}. {_ROUNDING_NOTE}",
        ]
        return DisputeOutcome(
            invoice_total=total,
            contested=disputed,
            uncontested=uncontested,
            contested_found_payable=payable,
            credited=credited,
            amount_due=amount_due,
            explanation=tuple(lines),
        )
