"""The Temporal worker process: `clauseflow worker`."""

from __future__ import annotations

import asyncio
import logging
import signal

from temporalio.client import Client
from temporalio.runtime import Runtime

from runtime.observability import worker_runtime
from runtime.settings import Settings, get_settings
from runtime.temporal import connect
from workers.temporal import build_worker

log = logging.getLogger("clauseflow.worker")

#: How long a starting worker waits for Temporal (a server restarting, a stack coming up
#: in another order) before it gives up, and the longest pause between its attempts.
CONNECT_WAIT = 60.0
CONNECT_MAX_PAUSE = 5.0


async def connect_when_ready(settings: Settings, runtime: Runtime) -> Client:
    """Connects to Temporal, trying again for up to ``CONNECT_WAIT`` seconds.

    A worker started while the server is down (restarting, or not up yet) waits for it
    rather than exiting at once; its supervisor would only start it again.

    Raises:
        RuntimeError: Temporal still refuses after ``CONNECT_WAIT`` seconds.
    """
    loop = asyncio.get_running_loop()
    give_up = loop.time() + CONNECT_WAIT
    pause = 0.5
    while True:
        try:
            return await connect(settings, runtime=runtime)
        except RuntimeError as exc:
            if loop.time() + pause > give_up:
                raise
            log.warning(
                "Temporal at %s is not answering (%s); trying again", settings.temporal_address, exc
            )
            await asyncio.sleep(pause)
            pause = min(pause * 2, CONNECT_MAX_PAUSE)


async def run_worker() -> None:
    """Connects, polls the case task queue, and stops cleanly on SIGINT/SIGTERM."""
    settings = get_settings()
    # The worker's runtime serves the SDK's and Clauseflow's metrics on its own port.
    client = await connect_when_ready(settings, worker_runtime(settings))
    worker = build_worker(client)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("worker polling %s on %s", settings.temporal_task_queue, settings.temporal_address)
    async with worker:
        await stop.wait()
