"""Every recorded case history still replays on today's workflow code.

The histories in tests/histories stand for live cases. If a change to the workflow
makes one of them diverge, a worker running that change would fail those cases, so
the build must fail here first.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from runtime.temporal import DATA_CONVERTER
from tests.workflows.helpers import markers_and_upserts
from workers.temporal import WORKFLOWS, case_runner

HISTORIES = sorted((Path(__file__).parents[1] / "histories").glob("*.json"))


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(path.stem, path.read_text())


def test_there_are_histories_for_each_path_of_termination_for_convenience() -> None:
    names = {p.stem for p in HISTORIES}
    assert {
        "termination_for_convenience.v1.terminated",
        "termination_for_convenience.v1.withdrawn",
    } <= names
    # The contract workflow's own: an end that closes a case, and a withdrawn notice.
    assert {"contract.ended_closing_a_case", "contract.termination_withdrawn"} <= names
    # Each history is a path of a clause's scenarios with a `history` name, recorded by
    # tests/histories/record.py; tests/histories/test_compare.py holds every named one to
    # its file, so a clause's histories come with the paths its folder names.


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_recorded_history_replays_on_the_current_workflow(path: Path) -> None:
    # Run as the worker runs cases: in its sandbox, its modules passed through.
    replayer = Replayer(
        workflows=WORKFLOWS,
        data_converter=DATA_CONVERTER,
        workflow_runner=case_runner(DATA_CONVERTER),
    )
    result = await replayer.replay_workflow(load(path))
    assert result.replay_failure is None


@workflow.defn(name="CaseWorkflow", sandboxed=False)
class _ReorderedCaseWorkflow:
    """A careless 'refactor': record the case before asking the rules. Not compatible."""

    @workflow.run
    async def run(self, inp: object) -> None:
        await workflow.execute_activity(
            "record_step", inp, start_to_close_timeout=dt.timedelta(seconds=5)
        )


async def test_an_incompatible_workflow_change_fails_the_replay() -> None:
    replayer = Replayer(workflows=[_ReorderedCaseWorkflow], data_converter=DATA_CONVERTER)
    with pytest.raises(NondeterminismError):
        await replayer.replay_workflow(load(HISTORIES[0]))


LEAN = [p for p in HISTORIES if p.stem.endswith("_one_activity_a_step")]


@pytest.mark.parametrize("path", LEAN, ids=lambda p: p.stem)
def test_histories_since_one_activity_a_step_record_each_step_in_one_activity(path: Path) -> None:
    # Old runs replay their own activities above; these stand for runs started since.
    events = load(path).events
    kinds = {
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in events
        if e.HasField("activity_task_scheduled_event_attributes")
    }
    assert kinds <= {"record_step_and_notices", "hand_over_notice", "rewrite_held_notice"}
    assert "record_step_and_notices" in kinds
    patches = [
        e.marker_recorded_event_attributes
        for e in events
        if e.HasField("marker_recorded_event_attributes")
        and e.marker_recorded_event_attributes.marker_name == "core_patch"
    ]
    assert any(b"one-activity-a-step" in m.details["patch-data"].payloads[0].data for m in patches)


def test_there_are_histories_since_one_activity_a_step() -> None:
    assert len(LEAN) >= 10


IN_CODE = [p for p in HISTORIES if p.stem.endswith("_summary_in_code")]


def _local_activities(path: Path) -> list[str]:
    """The types of the local activities whose markers ``path`` holds, in order."""
    import json

    return [
        json.loads(e.marker_recorded_event_attributes.details["data"].payloads[0].data)[
            "activity_type"
        ]
        for e in load(path).events
        if e.HasField("marker_recorded_event_attributes")
        and e.marker_recorded_event_attributes.marker_name == "core_local_activity"
    ]


@pytest.mark.parametrize("path", IN_CODE, ids=lambda p: p.stem)
def test_histories_since_the_summary_in_code_keep_no_summary_marker(path: Path) -> None:
    # Old runs replay their describe_rulebook marker; runs since read the summary in code.
    patches = [
        e.marker_recorded_event_attributes.details["patch-data"].payloads[0].data
        for e in load(path).events
        if e.HasField("marker_recorded_event_attributes")
        and e.marker_recorded_event_attributes.marker_name == "core_patch"
    ]
    assert len(patches) >= 1 and b"rulebook-summary-in-code" in patches[0]
    kinds = _local_activities(path)
    assert kinds and set(kinds) == {"take_step"}


def test_there_are_histories_since_the_summary_in_code() -> None:
    assert len(IN_CODE) >= 4
    # ... and those from before it keep the summary's marker first.
    folder = Path(__file__).parents[1] / "histories"
    before = folder / "termination_for_convenience.v1.terminated_one_activity_a_step.json"
    assert _local_activities(before)[0] == "describe_rulebook"


FROM_START = [p for p in HISTORIES if p.stem.endswith("_lean_from_start")]


@pytest.mark.parametrize("path", FROM_START, ids=lambda p: p.stem)
def test_histories_of_cases_started_lean_ask_no_patch(path: Path) -> None:
    # Their input says how they run (lean_from_start): no patch marker, and no upsert of
    # Temporal's TemporalChangeVersion that each marker brings.
    markers, upserted = markers_and_upserts(load(path).events)
    assert "core_patch" not in markers
    assert upserted and "TemporalChangeVersion" not in upserted
    assert set(_local_activities(path)) == {"take_step"}


def test_there_are_histories_of_cases_started_lean() -> None:
    assert len(FROM_START) >= 3
