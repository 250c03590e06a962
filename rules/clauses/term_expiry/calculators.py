"""The term's dates (MSA §10): the day its last contract year begins, which a deadline can
count 12 months from (a rulebook period cannot multiply ``term_years`` by 12), and its
last day in words."""

from __future__ import annotations

import datetime as dt
from typing import Any

from contracts.calendar import describe_day
from rules.calculators import CalculationContext, calculator


@calculator(
    "term_dates",
    ("final_year_starts_on", "term_years", "term_last_day_text"),
    "Where the last contract year of the term begins, and the term's last day (MSA §10)",
)
def term_dates(ctx: CalculationContext) -> dict[str, Any]:
    """The first day of the term's last contract year, and the term's last day in words.

    The term runs ``term_years`` years from the effective date; the rulebook counts the
    final 12 calendar months from the start of the last contract year, so any term
    length works without a months figure in the term sheet. A 29 February effective date
    falls back to 28 February in a common year, as the calendar's month count does (so a
    term of a multiple of four years from 29 February ends at the start of 28 February).
    """
    effective = dt.date.fromisoformat(str(ctx.facts["effective_date"]))
    years = ctx.term("term.term_years")
    final_year = _add_years(effective, years - 1)
    anniversary = _add_years(effective, years)
    return {
        "final_year_starts_on": final_year.isoformat(),
        "term_years": years,
        "term_last_day_text": describe_day(anniversary - dt.timedelta(days=1)),
    }


def _add_years(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February in a common year
        return d.replace(year=d.year + years, day=28)
