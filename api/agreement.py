"""The agreement as a whole, as starting a case meets it: a contract's own workflow is
started with its first case, and a clause that does not survive the agreement's end
cannot start a case after it (§10)."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError

from rules.agreement import reaction_to_end, surviving_sections
from rules.rulebook import Rulebook
from runtime.settings import Settings
from store.models import Contract
from workflows.messages import CONTRACT_WORKFLOW, ENDED, ContractInput

log = logging.getLogger(__name__)


async def ensure_contract_workflow(client: Client, settings: Settings, contract_id: str) -> None:
    """Starts the contract's workflow unless it runs (its id is the contract's).

    Best effort: a contract whose workflow cannot start now still takes cases; the next
    case started tries again, because the row says no workflow has run yet.
    """
    try:
        await client.start_workflow(
            CONTRACT_WORKFLOW,
            ContractInput(contract_id),
            id=contract_id,
            task_queue=settings.temporal_task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
    except RPCError as exc:
        log.warning("the workflow of contract %s did not start: %s", contract_id, exc.message)


def refusal_after_end(contract: Contract, rulebook: Rulebook) -> str | None:
    """Why no case of ``rulebook`` can start on the contract (its agreement has ended and
    the clause does not survive), or None."""
    if contract.legal_state != ENDED or contract.ends_at is None:
        return None
    ends_on = contract.ends_at.astimezone(ZoneInfo(contract.time_zone)).date()
    reaction = reaction_to_end(
        rulebook, surviving_sections(contract.terms), ends_on, contract.end_route or "ended"
    )
    if reaction.action != "close":
        return None  # it survives, carries on, or records the end in its own way
    return (
        f"no {rulebook.title} case can start: the agreement has ended. "
        + reaction.reason.replace("so this case closes", "so it cannot start a case")
    )
