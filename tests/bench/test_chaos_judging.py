"""The chaos run's judging: a case whose history does not replay fails the run, by name."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from bench.chaos.judging import Summary, replay_all
from runtime.temporal import DATA_CONVERTER
from workers.temporal import case_runner
from workflows.case import CaseWorkflow

HISTORIES = Path(__file__).parents[1] / "histories"
TERMINATED = HISTORIES / "termination_for_convenience.v1.terminated.json"


def _history(case_id: str) -> WorkflowHistory:
    return WorkflowHistory.from_json(case_id, TERMINATED.read_text())


@workflow.defn(name="CaseWorkflow", sandboxed=False)
class _TimerFirstCaseWorkflow:
    """Waits before it asks anything: not the code that made the history."""

    @workflow.run
    async def run(self, inp: object) -> None:
        await workflow.sleep(dt.timedelta(days=1))


async def test_histories_that_replay_are_not_listed() -> None:
    replayer = Replayer(
        workflows=[CaseWorkflow],
        data_converter=DATA_CONVERTER,
        workflow_runner=case_runner(DATA_CONVERTER),
    )
    assert await replay_all({"case_a": _history("case_a")}, replayer) == []


async def test_a_history_that_does_not_replay_is_named_with_why_and_fails_the_run() -> None:
    replayer = Replayer(workflows=[_TimerFirstCaseWorkflow], data_converter=DATA_CONVERTER)
    failed = await replay_all({"case_a": _history("case_a")}, replayer)
    assert len(failed) == 1 and failed[0].startswith("case_a: ")
    assert "ondeterminism" in failed[0]
    summary = Summary(not_replayable=failed)
    assert not summary.ok
