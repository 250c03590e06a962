"""Money arithmetic for the payment and service-level clauses. Pure domain code: no I/O.

Every amount is a ``decimal.Decimal`` in the contract currency; floats are refused because
they cannot hold cents exactly. Money is rounded half up to the cent (``ROUND_HALF_UP`` to
0.01) except the lawful maximum on late interest, which is rounded down to the cent so that
rounding can never push a charge above the legal ceiling. Every result carries an
``explanation``: plain-language lines a contract manager can read, each stating how the
figures were rounded.

One module a subject, each mapped onto the term sheet (``contracts.terms``):

* ``common``: Decimal inputs, rounding to the cent and how figures are written;
* ``interest``: late interest (MSA §3), its interest months and two limbs, from
  ``PaymentTerms.late_interest_percent_per_month`` and
  ``PaymentTerms.maximum_lawful_annual_rate_percent``;
* ``ledger``: late interest on an amount paid off in parts (MSA §3);
* ``invoices``: where one invoice stands on a date, after a dispute and payments;
* ``disputes``: disputed invoices (MSA §3, Exhibit B.4): the invoice total and the
  contested amount;
* ``uptime``: a month's uptime (Exhibit A.1) in ``TermSheet.time_zone``;
* ``credits``: service credits (Exhibit A.4) from ``ServiceLevelTerms.uptime_target_percent``,
  ``credit_percent_per_point``, ``credit_cap_percent`` and ``credit_pro_rata``.

Import the names below from ``contracts.money``; the modules' other names are the
package's own.
"""

from contracts.money.common import CENT, to_cents
from contracts.money.credits import (
    DEFAULT_CREDIT_CAP_PERCENT,
    DEFAULT_CREDIT_PERCENT_PER_POINT,
    DEFAULT_UPTIME_TARGET_PERCENT,
    ServiceCredit,
    service_credit,
)
from contracts.money.disputes import DisputeOutcome, amount_due_after_dispute, uncontested_amount
from contracts.money.interest import (
    DAYS_IN_YEAR,
    DEFAULT_MAX_ANNUAL_RATE_PERCENT,
    DEFAULT_MONTHLY_RATE_PERCENT,
    InterestLimb,
)
from contracts.money.invoices import InvoiceFacts, InvoiceStanding, invoice_standing
from contracts.money.ledger import InterestStatement, LedgerEntry, interest_with_payments
from contracts.money.uptime import UPTIME_PRECISION, MonthlyUptime, monthly_uptime

__all__ = [
    "CENT",
    "DAYS_IN_YEAR",
    "DEFAULT_CREDIT_CAP_PERCENT",
    "DEFAULT_CREDIT_PERCENT_PER_POINT",
    "DEFAULT_MAX_ANNUAL_RATE_PERCENT",
    "DEFAULT_MONTHLY_RATE_PERCENT",
    "DEFAULT_UPTIME_TARGET_PERCENT",
    "UPTIME_PRECISION",
    "DisputeOutcome",
    "InterestLimb",
    "InterestStatement",
    "InvoiceFacts",
    "InvoiceStanding",
    "LedgerEntry",
    "MonthlyUptime",
    "ServiceCredit",
    "amount_due_after_dispute",
    "interest_with_payments",
    "invoice_standing",
    "monthly_uptime",
    "service_credit",
    "to_cents",
    "uncontested_amount",
]
