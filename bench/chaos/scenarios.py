"""The case table: one or two ways through every clause, dated so that each case reaches
its end within seconds, with the facts to record on the way and the state it must end in."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Step:
    """Record ``fact`` once the case is in ``when``."""

    when: str
    fact: str
    values: dict[str, Any]


@dataclass
class Scenario:
    name: str
    clause: str
    facts: dict[str, Any]
    steps: list[Step] = field(default_factory=list)
    approve_held: bool = False
    #: The state the case must be in at the end, and whether it is closed then.
    end_state: str = ""
    closed: bool = True


def scenarios(now: dt.datetime) -> list[Scenario]:
    """One or two ways through every clause, each ending within seconds."""

    def ago(**kw: float) -> str:
        return (now - dt.timedelta(**kw)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def ahead(**kw: float) -> str:
        return (now + dt.timedelta(**kw)).strftime("%Y-%m-%dT%H:%M:%SZ")

    # Dates "not in the future" anywhere: two days back is in the past in every zone.
    day = (now - dt.timedelta(days=2)).date().isoformat()
    last_month_end = now.date().replace(day=1) - dt.timedelta(days=1)
    first_of_last_month = last_month_end.replace(day=1)
    return [
        Scenario(
            "termination: notice 100 days ago",
            "termination_for_convenience",
            {"notice_received_at": ago(days=100), "given_by": "customer"},
            end_state="terminated",
        ),
        Scenario(
            "termination: withdrawn",
            "termination_for_convenience",
            {"notice_received_at": ago(days=3), "given_by": "provider"},
            [
                Step(
                    "notice_period_running",
                    "withdrawal_agreed",
                    {
                        "customer_signatory": "D. W.",
                        "provider_signatory": "S. O.",
                        "agreed_on": day,
                    },
                )
            ],
            end_state="withdrawn",
        ),
        Scenario(
            "material breach: cured",
            "material_breach",
            {
                "breach_notice_received_at": ago(days=4),
                "given_by": "customer",
                "breach_description": "reports not delivered",
            },
            [Step("cure_period_running", "breach_cured", {"evidence": "reports", "cured_on": day})],
            end_state="cured",
        ),
        Scenario(
            "material breach: lapsed, terminated",
            "material_breach",
            {
                "breach_notice_received_at": ago(days=45),
                "given_by": "customer",
                "breach_description": "reports not delivered",
            },
            [
                Step(
                    "termination_right_arisen",
                    "termination_exercised",
                    {"notice_given_on": day, "signatory": "Dana Whitfield"},
                )
            ],
            end_state="terminated_for_cause",
        ),
        Scenario(
            "acceptable use: cured",
            "acceptable_use_violation",
            {
                "violation_notice_received_at": ago(days=4),
                "given_by": "provider",
                "violation_description": "bulk messages",
            },
            [
                Step(
                    "cure_period_running",
                    "violation_cured",
                    {"evidence": "blocked", "cured_on": day},
                )
            ],
            end_state="cured",
        ),
        Scenario(
            "acceptable use: lapsed, no action",
            "acceptable_use_violation",
            {
                "violation_notice_received_at": ago(days=45),
                "given_by": "provider",
                "violation_description": "bulk messages",
            },
            [
                Step(
                    "suspension_right_arisen",
                    "right_not_exercised",
                    {"decided_by": "Sam Okafor", "reason": "customer co-operated"},
                )
            ],
            end_state="no_action_taken",
        ),
        Scenario(
            "indemnity: resolved",
            "indemnity_claim",
            {
                "claim_received_at": ago(days=3),
                "claimant": "Third Party Ltd",
                "description": "patent claim",
                "given_by": "customer",
            },
            [
                Step(
                    "awaiting_defence",
                    "claim_resolved",
                    {"outcome": "withdrawn by the claimant", "resolved_on": day},
                )
            ],
            end_state="resolved",
        ),
        Scenario(
            "invoice: paid",
            "invoice_payment",
            {"invoice_received_at": ago(days=3), "invoice_amount": "25000.00"},
            [Step("awaiting_payment", "payment_received", {"amount": "25000.00", "paid_on": day})],
            end_state="paid",
        ),
        Scenario(
            "data transfer: refused",
            "data_transfer",
            {
                "requested_at": ago(days=3),
                "destination": "Singapore",
                "purpose": "support",
                "data_categories": "tickets",
            },
            [Step("consent_requested", "consent_refused", {"reason": "no assessment"})],
            end_state="consent_refused",
        ),
        Scenario(
            "maintenance: cancelled",
            "scheduled_maintenance",
            {
                "window_starts_at": ahead(hours=120),
                "window_ends_at": ahead(hours=124),
                "description": "database upgrade",
            },
            [Step("notice_given", "maintenance_cancelled", {"reason": "vendor delay"})],
            end_state="cancelled",
        ),
        Scenario(
            "security breach: notified, final report approved",
            "security_breach",
            {"discovered_at": ago(hours=2), "description": "phished credentials"},
            [
                Step(
                    "notification_pending",
                    "customer_notified",
                    {"how": "email to legal", "notified_at": ago(hours=1)},
                ),
                Step(
                    "mitigating", "final_report", {"root_cause": "phishing", "remediation": "MFA"}
                ),
            ],
            approve_held=True,
            end_state="final_report_given",
        ),
        Scenario(
            "incident: resolved",
            "incident_response",
            {"reported_at": ago(minutes=30), "severity": "high", "description": "delays"},
            [
                Step(
                    "awaiting_response",
                    "resolved",
                    {"resolved_at": ago(minutes=5), "resolution": "trunk re-routed"},
                )
            ],
            end_state="resolved",
        ),
        Scenario(
            "SLA review: last month reviewed, ended",
            "monthly_sla_review",
            {"first_month": first_of_last_month.isoformat()},
            [Step("monitoring", "review_ended", {"ended_on": last_month_end.isoformat()})],
            end_state="ended",
        ),
        Scenario(
            "term: expired",
            "term_expiry",
            {"effective_date": "2020-01-01"},
            end_state="expired",
        ),
        # Cannot end quickly: its expected end is the running term, reminders past sent.
        Scenario(
            "term: still running",
            "term_expiry",
            {"effective_date": (now.date() - dt.timedelta(days=400)).isoformat()},
            end_state="term_running",
            closed=False,
        ),
    ]
