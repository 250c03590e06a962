"""The Temporal worker process: `clauseflow worker`."""

from __future__ import annotations

import asyncio
import logging
import signal

from runtime.observability import worker_runtime
from runtime.settings import get_settings
from runtime.temporal import connect
from workers.temporal import build_worker

log = logging.getLogger("clauseflow.worker")


async def run_worker() -> None:
    """Connects, polls the case task queue, and stops cleanly on SIGINT/SIGTERM."""
    settings = get_settings()
    # The worker's runtime serves the SDK's and Clauseflow's metrics on its own port.
    client = await connect(settings, runtime=worker_runtime(settings))
    worker = build_worker(client)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("worker polling %s on %s", settings.temporal_task_queue, settings.temporal_address)
    async with worker:
        await stop.wait()
