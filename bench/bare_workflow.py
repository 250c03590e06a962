"""The same shape as a Clauseflow case, with empty activities: Temporal's floor for that
shape, the second comparison line of bench.case_throughput.

`BareWorkflow` runs, in the order a case runs them, the same number of local
activities, regular activities and timers as one Clauseflow case records in its
history (`Shape`, counted by `bench.case_throughput.shape_of` from a real case's
events). The activities do nothing but return their argument: what is left is
Temporal's own cost for that many commands (workflow tasks, history events, activity
round trips, payload conversion and encryption). It copies the engine's shape, and so
its overheads: it says what Temporal costs for the way Clauseflow runs a case, not what
the clause costs; bench.handwritten is the clause written the way one would by hand.

Its worker is built as `workers.temporal.build_worker` is (the same synchronous-activity
thread pool and limits), in its own process:

    python -m bench.bare_workflow worker --task-queue Q [--address 127.0.0.1:7233]
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

_TIMEOUT = dt.timedelta(seconds=30)


@dataclass
class Shape:
    """How many of each command one case records (from its history)."""

    local_activities: int
    activities: int
    timers: int
    #: The order the case ran them in: "L" local, "A" regular, "T" timer.
    order: str = ""

    def sequence(self) -> str:
        if self.order:
            return self.order
        return "L" * self.local_activities + "A" * self.activities + "T" * self.timers


@activity.defn(name="bare_local")
def bare_local(value: str) -> str:
    return value


@activity.defn(name="bare_activity")
def bare_activity(value: str) -> str:
    return value


@workflow.defn(name="BareWorkflow")
class BareWorkflow:
    @workflow.run
    async def run(self, shape: Shape) -> int:
        done = 0
        for kind in shape.sequence():
            if kind == "L":
                await workflow.execute_local_activity(
                    bare_local, "x", start_to_close_timeout=_TIMEOUT
                )
            elif kind == "A":
                await workflow.execute_activity(bare_activity, "x", start_to_close_timeout=_TIMEOUT)
            else:
                await workflow.sleep(0)
            done += 1
        return done


def build_bare_worker(client: Client, task_queue: str, max_threads: int = 16) -> Worker:
    """Built like `workers.temporal.build_worker`, with the bare workflow and activities."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[BareWorkflow],
        activities=[bare_local, bare_activity],
        activity_executor=ThreadPoolExecutor(max_workers=max_threads),
        max_concurrent_activities=max_threads,
    )


if __name__ == "__main__":
    # The workflow registered is bench.bare_workflow's, not this __main__ copy's: the
    # sandbox re-imports a workflow's module by name. The imports stay here, out of the
    # module the sandbox imports for every run.
    from bench._common import worker_command
    from bench.bare_workflow import build_bare_worker as build

    worker_command("python -m bench.bare_workflow", __doc__ or "", build)
