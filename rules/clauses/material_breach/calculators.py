"""How a material-breach case was opened (MSA §10, and §5 for service-level failures).

The ``opened_by`` start fact of the released rulebooks is free text (they predate
``one_of``), and a case whose basis is unrecognised is escalated rather than refused. This
calculator reads it into one of three scalars the rules can test:
``notice`` (a written notice of material breach, the default when the fact is absent),
``sla_failure`` (a failure to meet the service levels, which §5 treats as a material
breach) or ``unrecognised`` (anything else, which the rulebook escalates).
"""

from __future__ import annotations

import re
from typing import Any

from rules.calculators import CalculationContext, calculator

BREACH_BASES = ("notice", "sla_failure")
_SEPARATORS = re.compile(r"[\s\-]+")


def normalise_breach_basis(raw: Any) -> str:
    """``notice``, ``sla_failure`` or ``unrecognised`` for a raw ``opened_by`` value.

    Case, surrounding blanks, and spaces or hyphens instead of the underscore are
    forgiven ("SLA failure" and "sla-failure" read as ``sla_failure``). An absent or
    blank value means the case was opened by a notice.
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return "notice"
    if not isinstance(raw, str):
        return "unrecognised"
    value = _SEPARATORS.sub("_", raw.strip().lower())
    return value if value in BREACH_BASES else "unrecognised"


@calculator(
    "breach_basis",
    ("breach_basis",),
    "Whether a material breach was opened by a notice or by an SLA failure (MSA §10, §5)",
)
def breach_basis(ctx: CalculationContext) -> dict[str, Any]:
    """The case's ``opened_by`` fact as ``notice``, ``sla_failure`` or ``unrecognised``."""
    return {"breach_basis": normalise_breach_basis(ctx.facts.get("opened_by"))}
