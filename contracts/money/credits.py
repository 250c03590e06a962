"""Service credits (Exhibit A.4): a share of the monthly fee per point of uptime below target.

"[S]ervice credits equal to one percent (1%) of the monthly fees for each percentage point
below the uptime target, subject to a maximum of fifty percent (50%) of the monthly fees."
The term sheet sets the figures (``ServiceLevelTerms.uptime_target_percent``,
``credit_percent_per_point``, ``credit_cap_percent`` and ``credit_pro_rata``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal, localcontext

from contracts.money.common import (
    DECIMAL_CONTEXT,
    HUNDRED,
    ZERO,
    amount_text,
    as_money,
    as_percent,
    number_text,
    to_cents,
)

DEFAULT_UPTIME_TARGET_PERCENT = Decimal("99.9")
DEFAULT_CREDIT_PERCENT_PER_POINT = Decimal("1")
DEFAULT_CREDIT_CAP_PERCENT = Decimal("50")


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
    with localcontext(DECIMAL_CONTEXT):
        fee = as_money(monthly_fee, "monthly_fee")
        uptime = as_percent(uptime_percent, "uptime_percent")
        target = as_percent(target_percent, "target_percent")
        per_point = as_percent(credit_percent_per_point, "credit_percent_per_point")
        cap = as_percent(cap_percent, "cap_percent")
        if uptime > HUNDRED:
            raise ValueError(f"uptime_percent must be between 0 and 100 (got {uptime})")
        if target > HUNDRED:
            raise ValueError(f"target_percent must be between 0 and 100 (got {target})")
        if not isinstance(pro_rata, bool):
            raise TypeError("pro_rata must be True or False")

        below = max(target - uptime, ZERO)
        counted = below if pro_rata else below.to_integral_value(rounding=ROUND_FLOOR)
        uncapped = counted * per_point
        capped = uncapped > cap
        percent = min(uncapped, cap)
        amount = to_cents(fee * percent / HUNDRED)

        lines = [
            f"Uptime {number_text(uptime)}% against a target of {number_text(target)}%: "
            f"{number_text(below)} percentage point(s) below target."
        ]
        if pro_rata:
            lines.append("Fractions of a point count pro rata.")
        else:
            lines.append(
                f"Only whole points count; fractions are disregarded: {number_text(counted)} "
                "point(s) counted."
            )
        lines.append(
            f"{number_text(per_point)}% of the monthly fee per point x {number_text(counted)} = "
            f"{number_text(uncapped)}% of the fee"
            + (f", capped at {number_text(cap)}%." if capped else f" (cap {number_text(cap)}%).")
        )
        lines.append(
            f"Credit: {number_text(percent)}% of {amount_text(fee)} = {amount_text(amount)}, "
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
