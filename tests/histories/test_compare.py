"""The recorder can record every committed history again, and the comparison it is
checked with tells a different history from one the server interleaved otherwise.

Recording them all takes minutes: tests/histories/record.py says how to run it.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from tests.histories.compare import differences, notes
from tests.histories.record import SCENARIOS

HERE = Path(__file__).parent
HISTORY = HERE / "material_breach.v1.escalation_resolved_then_cancelled.json"


def _history() -> dict[str, Any]:
    return json.loads(HISTORY.read_text())


def test_every_committed_history_has_a_way_to_be_recorded() -> None:
    assert set(SCENARIOS) == {p.stem for p in HERE.glob("*.json")}


def test_a_history_is_equivalent_to_itself() -> None:
    assert (differences(_history(), _history()), notes(_history(), _history())) == ([], [])


def test_another_argument_is_a_difference() -> None:
    changed = _history()
    for event in changed["events"]:
        if event["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED":
            request = event["workflowExecutionUpdateAcceptedEventAttributes"]["acceptedRequest"]
            request["input"]["name"] = "close_case"
    assert [d.split(":")[0] for d in differences(_history(), changed)] == ["updates"]


def test_the_servers_interleaving_is_only_noted() -> None:
    events = _history()["events"]
    kinds = [e["eventType"].removeprefix("EVENT_TYPE_") for e in events]
    # The first update accepted, and the workflow's own event before it, change places.
    update = kinds.index("WORKFLOW_EXECUTION_UPDATE_ACCEPTED")
    own = max(
        n for n in range(update) if kinds[n] in ("MARKER_RECORDED", "ACTIVITY_TASK_SCHEDULED")
    )
    swapped = copy.deepcopy(_history())
    swapped["events"][own], swapped["events"][update] = events[update], events[own]
    assert differences(_history(), swapped) == []
    assert notes(_history(), swapped)
