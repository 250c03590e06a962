"""A term sheet proposed from an agreement's own text (issue 16, part 1): every figure
a term sheet needs that the text states, with the section and the exact sentence it came
from; every figure it does not state listed as missing, never defaulted.

- ``figures``: each figure a rulebook reads, and each clause's section and exhibit, by
  what its clause declares in ``text.yaml`` (no Python per clause);
- ``parties``: the parties' names and where notice to each goes;
- ``agreement``: the effective date, the fees and their currency, the governing law and
  the time zone;
- ``deviations``: where the proposal departs from a standard term sheet.

:func:`read_agreement` is the one entry point that reads them all. Pure: the text's
outline, quantities, dates and amounts are ``contracts.text``'s.
"""

from __future__ import annotations

from contracts.text.outline import outline
from rules.proposal import agreement
from rules.proposal.agreement import governing_law
from rules.proposal.deviations import Deviation, deviations
from rules.proposal.figures import (
    ClauseText,
    FigureText,
    HeadingText,
    Sought,
    TextDeclarationError,
    propose,
    sought,
)
from rules.proposal.found import Found, Missing, Place, Proposal
from rules.proposal.parties import parties

__all__ = [
    "ClauseText",
    "Deviation",
    "FigureText",
    "Found",
    "HeadingText",
    "Missing",
    "Proposal",
    "Sought",
    "TextDeclarationError",
    "deviations",
    "governing_law",
    "propose",
    "read_agreement",
    "sought",
]


def read_agreement(text: str) -> Proposal:
    """Everything a term sheet needs that the text states, each figure with its section
    and sentence, and everything it does not state as missing: the parties and their
    notice addresses, the effective date, the fees and their currency, the governing law,
    the time zone, and the rulebooks' figures with each clause's section and exhibit.

    Each ``Found.path`` is a term sheet's path and its value one a term sheet takes
    (dates as ISO strings, money as decimal strings), so that accepted figures make a
    term sheet as they are.
    """
    place = Place(text, outline(text))
    result = Proposal()
    parties(place, result)
    result.add(agreement.effective_date(place))
    agreement.fees(place, result)
    result.add(agreement.law(place))
    result.add(agreement.time_zone(place))
    clauses = propose(text)
    result.figures += clauses.figures
    result.missing += clauses.missing
    return result
