"""The monthly SLA review: uptime from recorded downtime, and the service credit it earns.

Exhibit A.1 sets the uptime target and excludes scheduled maintenance windows that
were noticed at least 72 hours ahead; Exhibit A.4 turns each point below the target
into a credit on the monthly fee, capped. Downtime and maintenance windows are facts
recorded into the contract's review case, so this stays a pure computation.
"""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from contracts.calendar import describe_instant
from contracts.money import CENT, monthly_uptime, service_credit
from rules.calculators import CalculationContext, calculator, parse_instant


def _month_before(day: dt.date) -> tuple[int, int]:
    return (day.year - 1, 12) if day.month == 1 else (day.year, day.month - 1)


#: What a month's review derives, for the whole month or the final part of one.
REVIEW_OUTPUTS = (
    "review_month",
    "uptime_percent",
    "credit_amount",
    "credit_percent",
    "credit_due",
    "downtime_minutes",
    "excluded_minutes",
    "windows_not_excluded",
    "sla_explanation",
)


@calculator(
    "monthly_service_credit",
    REVIEW_OUTPUTS,
    "Uptime of the month that just ended and its service credit (Exhibit A.1, A.4)",
)
def monthly_service_credit(ctx: CalculationContext) -> dict[str, Any]:
    """Reviews the calendar month that ends with the ``month_end`` deadline.

    A maintenance window counts as excluded only if its notice was given at least the
    contract's notice hours before it started; a window noticed late is downtime like
    any other, and the explanation says which windows those were.
    """
    month_end = ctx.deadlines.get("month_end")
    if month_end is None or month_end.last_day is None:
        return {}
    year, month = _month_before(month_end.last_day)
    return _review(ctx, year, month)


def _review(
    ctx: CalculationContext, year: int, month: int, until: dt.datetime | None = None
) -> dict[str, Any]:
    """The month's uptime and credit; with ``until``, only up to the agreement's end,
    the credit then counted on the fee for the days the Services ran (pro rata)."""
    levels = ctx.term("service_levels")
    required = dt.timedelta(hours=levels.maintenance_notice_hours)
    downtime: list[tuple[dt.datetime, dt.datetime]] = []
    excluded: list[tuple[dt.datetime, dt.datetime]] = []
    late: list[str] = []
    ignored: list[str] = []
    for r in ctx.recorded:
        if r.fact == "downtime_recorded":
            started, ended = (
                parse_instant(r.values["started_at"]),
                parse_instant(r.values["ended_at"]),
            )
            if ended <= started:
                # A record that cannot be right must not stop every later review.
                ignored.append(f"downtime recorded {started:%Y-%m-%d %H:%M}Z ends before it starts")
                continue
            downtime.append((started, ended))
        elif r.fact == "maintenance_window_recorded":
            starts, ends = parse_instant(r.values["starts_at"]), parse_instant(r.values["ends_at"])
            if ends <= starts:
                ignored.append(f"maintenance window {starts:%Y-%m-%d %H:%M}Z ends before it starts")
                continue
            noticed = parse_instant(r.values["notice_given_at"])
            if starts - noticed >= required:
                excluded.append((starts, ends))
            else:
                # Not properly noticed: the window's outage counts against uptime.
                downtime.append((starts, ends))
                late.append(f"{starts:%Y-%m-%d %H:%M}Z")
    uptime = monthly_uptime((year, month), ctx.terms.time_zone, downtime, excluded, until)
    fee, fee_lines = ctx.terms.fees.monthly_fee, list[str]()
    if until is not None:
        fee, fee_lines = _part_month_fee(fee, year, month, until, ctx.terms.time_zone)
    credit = service_credit(
        fee,
        uptime.uptime_percent,
        target_percent=levels.uptime_target_percent,
        credit_percent_per_point=levels.credit_percent_per_point,
        cap_percent=levels.credit_cap_percent,
        pro_rata=levels.credit_pro_rata,
    )
    lines = list(uptime.explanation) + fee_lines + list(credit.explanation)
    lines += _incident_lines(ctx, (year, month))
    for reason in ignored:
        lines.append(f"Ignored: {reason}; correct it by recording it again.")
    if late:
        lines.append(
            f"Maintenance windows starting {', '.join(late)} were noticed less than "
            f"{levels.maintenance_notice_hours} hours ahead, so they count as downtime."
        )
    first = dt.date(year, month, 1)
    named = first.strftime("%B %Y")
    if until is not None:
        last = _last_day_served(until.astimezone(ctx.terms.zone))
        named = f"{first.day} {named}" if last == first else f"{first.day} to {last.day} {named}"
    return {
        "review_month": named,
        "uptime_percent": str(uptime.uptime_percent),
        "credit_amount": str(credit.amount),
        "credit_percent": str(credit.percent_of_fee),
        "credit_due": credit.amount > 0,
        "downtime_minutes": str(uptime.downtime_minutes),
        "excluded_minutes": str(uptime.excluded_minutes),
        "windows_not_excluded": len(late),
        "sla_explanation": "\n".join(lines),
    }


def _last_day_served(until: dt.datetime) -> dt.date:
    # An end at midnight leaves the day before as the last; an end during a day counts it.
    return until.date() - dt.timedelta(days=1) if until.time() == dt.time(0) else until.date()


def _part_month_fee(
    fee: Decimal, year: int, month: int, until: dt.datetime, zone: str
) -> tuple[Decimal, list[str]]:
    """The fee for the days of the month the Services ran, pro rata (as the final
    settlement counts it), so the credit's percentage applies to what was charged."""
    days_in_month = calendar.monthrange(year, month)[1]
    days = _last_day_served(until.astimezone(ZoneInfo(zone))).day
    part = (fee * days / days_in_month).quantize(CENT, rounding=ROUND_HALF_UP)
    return part, [
        f"The agreement ended {describe_instant(until, zone)}: the Services ran "
        f"{days} of the month's {days_in_month} days, so the credit is on the fee for those "
        f"days, pro rata: {fee:,.2f} x {days} / {days_in_month} = {part:,.2f} (rounded half "
        "up to the cent)."
    ]


@calculator(
    "final_part_month",
    ("final_part_month", "review_month_start", *REVIEW_OUTPUTS),
    "The final part-month's uptime and credit, up to the agreement's end (Exhibit A.1, A.4)",
)
def final_part_month(ctx: CalculationContext) -> dict[str, Any]:
    """Once the reviews end with the agreement inside a month, reviews that month up to the
    end; listed after ``monthly_service_credit``, its figures replace that month's.

    The end is ``ended_at`` when the contract told it, else the start of ``ended_on``.
    An end at the month's first midnight leaves nothing to review (``final_part_month``
    false): the month before was whole, and was reviewed at its own end.
    """
    ended = [r for r in ctx.recorded if r.fact == "review_ended"]
    month_end = ctx.deadlines.get("month_end")
    if not ended or month_end is None or month_end.last_day is None:
        return {}
    values = ended[-1].values
    zone = ctx.terms.zone
    if values.get("ended_at"):
        until = parse_instant(values["ended_at"])
    else:
        day = dt.date.fromisoformat(str(values["ended_on"]))
        until = dt.datetime.combine(day, dt.time(0), zone)
    year, month = _month_before(month_end.last_day)
    start = dt.datetime(year, month, 1, tzinfo=zone)
    if until <= start or until >= dt.datetime.combine(month_end.last_day, dt.time(0), zone):
        return {"final_part_month": False}
    review = _review(ctx, year, month, until)
    return {"final_part_month": True, "review_month_start": start.date().isoformat(), **review}


def _incident_lines(ctx: CalculationContext, month: tuple[int, int]) -> list[str]:
    """The month's incidents whose cases ended and told the review (version 4 on), with
    each target missed: Exhibit A.2 and A.3 count against the Provider in the report."""
    zone = ctx.terms.time_zone
    seen = []
    for r in ctx.recorded:
        if r.fact != "incident_recorded":
            continue
        reported = parse_instant(r.values["reported_at"])
        local = reported.astimezone(ZoneInfo(zone))
        if (local.year, local.month) == month:
            seen.append((reported, r.values))
    if not seen:
        return []
    missed = [
        (at, v)
        for at, v in sorted(seen, key=lambda s: s[0])
        if v.get("response_target_missed") or v.get("resolution_target_missed")
    ]
    lines = [
        f"Incidents reported this month and resolved: {len(seen)}; "
        f"{len(missed)} missed a target (Exhibit A.2, A.3)."
    ]
    for at, v in missed:
        which = [
            name
            for name, key in (
                ("response", "response_target_missed"),
                ("resolution", "resolution_target_missed"),
            )
            if v.get(key)
        ]
        what = f" ({v['severity']})" if v.get("severity") else ""
        lines.append(
            f"Incident reported {describe_instant(at, zone)}{what}: "
            f"{' and '.join(which)} target missed"
            + (f"; {v['description']}" if v.get("description") else "")
            + "."
        )
    return lines
