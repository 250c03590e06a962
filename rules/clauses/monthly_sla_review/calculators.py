"""The monthly SLA review: uptime from recorded downtime, and the service credit it earns.

Exhibit A.1 sets the uptime target and excludes scheduled maintenance windows that
were noticed at least 72 hours ahead; Exhibit A.4 turns each point below the target
into a credit on the monthly fee, capped. Downtime and maintenance windows are facts
recorded into the contract's review case, so this stays a pure computation.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from contracts.calendar import describe_instant
from contracts.money import monthly_uptime, service_credit
from rules.calculators import CalculationContext, calculator, parse_instant


def _month_before(day: dt.date) -> tuple[int, int]:
    return (day.year - 1, 12) if day.month == 1 else (day.year, day.month - 1)


@calculator(
    "monthly_service_credit",
    (
        "review_month",
        "uptime_percent",
        "credit_amount",
        "credit_percent",
        "credit_due",
        "downtime_minutes",
        "excluded_minutes",
        "windows_not_excluded",
        "sla_explanation",
    ),
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
    uptime = monthly_uptime((year, month), ctx.terms.time_zone, downtime, excluded)
    credit = service_credit(
        ctx.terms.fees.monthly_fee,
        uptime.uptime_percent,
        target_percent=levels.uptime_target_percent,
        credit_percent_per_point=levels.credit_percent_per_point,
        cap_percent=levels.credit_cap_percent,
        pro_rata=levels.credit_pro_rata,
    )
    lines = list(uptime.explanation) + list(credit.explanation)
    lines += _incident_lines(ctx, (year, month))
    for reason in ignored:
        lines.append(f"Ignored: {reason}; correct it by recording it again.")
    if late:
        lines.append(
            f"Maintenance windows starting {', '.join(late)} were noticed less than "
            f"{levels.maintenance_notice_hours} hours ahead, so they count as downtime."
        )
    return {
        "review_month": dt.date(year, month, 1).strftime("%B %Y"),
        "uptime_percent": str(uptime.uptime_percent),
        "credit_amount": str(credit.amount),
        "credit_percent": str(credit.percent_of_fee),
        "credit_due": credit.amount > 0,
        "downtime_minutes": str(uptime.downtime_minutes),
        "excluded_minutes": str(uptime.excluded_minutes),
        "windows_not_excluded": len(late),
        "sla_explanation": "\n".join(lines),
    }


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
