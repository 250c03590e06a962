"""The faults: SendGrid's refusals and slow answers, decided per notice and attempt from
the seed, and the database outage (connections refused, sessions ended)."""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from bench._common import REPO

if TYPE_CHECKING:
    from bench.chaos.processes import DevServer, Workers

# ../shared beside the checkout; CLAUSEFLOW_SHARED names it for a checkout elsewhere (a worktree).
SHARED = Path(os.environ.get("CLAUSEFLOW_SHARED") or REPO.parent / "shared")
SPEC = SHARED / "sendgrid" / "tsg_mail_v3.json"

_handling = threading.local()


class SendGridFaults:
    """Decides each Mail Send answer of the mock from the notice and its attempt number.

    About ``error_rate`` of the attempts are refused with 429 or 500, but never more than
    ``max_refusals`` in a row for one notice: the send activity backs off exponentially
    (2 s, 4 s, 8 s, ... up to 10 minutes), and an unlucky streak would stall the run for
    minutes without testing anything more. Every ``1/slow_rate``-th notice (in order of
    first arrival) is accepted only after longer than the activity's timeout. The counts
    do not depend on scheduling, so a small run has every fault every time.

    The decision is given through the mock's send script: a script that is never empty
    and answers for the request being handled (the mock has no per-request hook).
    """

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.lock = threading.Lock()
        self.attempts: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self.order: dict[str, int] = {}
        self.slow = 0

    def decide(self) -> Any:
        from tests.support.sendgrid_mock import Reply

        rec = _handling.request
        notice_id = rec.custom_args.get("notice_id", "")
        args = self.args
        with self.lock:
            attempt = self.attempts[notice_id]
            self.attempts[notice_id] += 1
            nth = self.order.setdefault(notice_id, len(self.order))
            roll = random.Random(f"{args.seed}:{notice_id}:{attempt}")
            if self.refused[notice_id] < args.max_refusals and roll.random() < args.error_rate:
                self.refused[notice_id] += 1
                return Reply(roll.choice([429, 500]))
            every = max(1, round(1 / args.slow_rate)) if args.slow_rate > 0 else 0
            if every and nth % every == 0 and attempt == self.refused[notice_id]:
                self.slow += 1
                return Reply(202, delay=roll.uniform(args.slow_min, args.slow_max))
            return Reply(202)

    def count(self, mock: Any, counts: Counter[str]) -> None:
        """Puts the refusals and the slow answers the mock gave into ``counts``."""
        from tests.support.sendgrid_mock import MAIL_SEND

        counts["SendGrid 429/500"] = sum(
            1 for r in mock.requests if r.path == MAIL_SEND and r.status in (429, 500)
        )
        counts["SendGrid slow"] = self.slow

    def mock(self, activity_lag: float) -> Any:
        from tests.support.sendgrid_mock import SendGridMock

        faults = self

        class _Script(list):  # type: ignore[type-arg]
            def __bool__(self) -> bool:
                return True

            def pop(self, index: Any = -1) -> Any:
                return faults.decide()

        class ChaosMock(SendGridMock):
            def _answer(self, rec: Any) -> Any:
                _handling.request = rec
                return super()._answer(rec)

        mock = ChaosMock(SPEC, activity_lag=activity_lag)
        mock._send_script = _Script()
        return mock


def set_connections(admin: Engine, name: str, allowed: bool) -> None:
    with admin.connect() as c:
        c.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}'))
        if not allowed:
            c.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )


@dataclass
class FaultInjector:
    """Worker SIGKILLs, dev server restarts and database outages, placed by step counts.

    ``restarting`` is true while the dev server is down on purpose, so that supervision
    (``processes.supervise``) leaves the server and the workers be meanwhile.
    """

    args: argparse.Namespace
    rng: random.Random
    server: DevServer
    workers: Workers
    converter: Any
    admin: Engine
    database: str
    #: The SendGrid mock: the faults are placed by the Mail Send requests it has seen.
    mock: Any
    counts: Counter[str]
    restarting: bool = False

    async def run(self, stop: asyncio.Event) -> None:
        """Fires every fault at its place, or returns once ``stop`` is set."""
        args, rng, server, workers = self.args, self.rng, self.server, self.workers
        kinds = (
            ["worker SIGKILL"] * args.kills
            + ["Temporal restart"] * args.server_restarts
            + ["database outage"] * args.db_outages
        )
        rng.shuffle(kinds)
        # Placed by step counts: fault i fires when the mock has seen the i-th
        # threshold of Mail Send requests (every case sends at least one notice).
        span = max(len(kinds) + 1, int(args.cases * args.fault_span))
        thresholds = sorted(rng.sample(range(1, span + 1), len(kinds)))
        for kind, at in zip(kinds, thresholds, strict=True):
            while len(self.mock.sends) < at:
                if stop.is_set():
                    return
                await asyncio.sleep(0.05)
            if kind == "worker SIGKILL":
                workers.kill(rng)
            elif kind == "Temporal restart":
                self.restarting = True
                server.stop()
                await asyncio.sleep(args.server_down)
                server.start()
                await server.wait_ready(self.converter)
                self.restarting = False
            else:
                await asyncio.to_thread(set_connections, self.admin, self.database, False)
                try:
                    await asyncio.sleep(args.db_down)
                finally:
                    await asyncio.to_thread(set_connections, self.admin, self.database, True)
            self.counts[kind] += 1
