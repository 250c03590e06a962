"""Chaos run: cases of every clause under faults, then proof that no notice was lost or doubled.

Runs against the real pieces: the Temporal dev server (``temporal server start-dev`` on
a persistent file, so it can be restarted), worker subprocesses
(``python -m workers.cli worker``), a throwaway PostgreSQL database and the SendGrid
mock (``tests/support/sendgrid_mock.py``). It starts N cases spread over every clause;
each scenario's facts are dated so that the case reaches its end quickly (a
termination notice received 100 days ago runs its whole life at once), and facts that
end a case are recorded through the workflow's ``record_fact`` update.

Faults, placed by step counts (the number of Mail Send requests the mock has seen), not
by wall time:

* ``worker SIGKILL``: a worker process is killed with SIGKILL, and restarted;
* ``Temporal restart``: the dev server is stopped and started again on its file;
* ``database outage``: ``ALTER DATABASE ... ALLOW_CONNECTIONS false`` and
  ``pg_terminate_backend`` on its sessions, for a few seconds, then allowed again;
* ``SendGrid 429/500``: ~30% of Mail Send requests are refused (at most 3 in a row per
  notice, decided from the seed, the notice and the attempt);
* ``SendGrid slow``: some Mail Send requests take longer than the send activity's
  start-to-close timeout (the cases run with a short ``notice_timeout_seconds``), so
  Temporal retries while the first request is still in flight and the retry has to
  reconcile through SendGrid's Email Activity API.

At the end it checks that every case is in its expected end state, that every notice the
workflows recorded is ``sent`` in the database and reached the mock exactly once (202s
per ``custom_args.notice_id``; a 429/500 did not reach anyone), that the mock accepted
nothing no notice row accounts for, and that each case row agrees with the workflow
(query and describe). A case is judged only once none of its activities is pending (a
notice's row is 'sent' before its ``send_notice`` returns and the workflow lists it). It
prints a table and exits 1 if anything was lost, duplicated or mismatched.

Its dev server and workers die with it, on Ctrl-C, SIGTERM or ``kill -9`` alike
(workers/procs.py). The temporary folder is deleted at the end, but the logs of every
process that ended unexpectedly (and all logs of a failed run) are copied first to
``test-artifacts/chaos/<time>-<seed>/`` (or ``--keep-logs``), with a line of each in the
table.

The reconciliation settle time (``SENDGRID_RECONCILE_SETTLE_SECONDS``) is shortened for
the workers; it stays longer than the slowest scripted request plus the mock's Email
Activity lag, which is the condition under which a slow request can never be sent twice.

    .venv/bin/python -m bench.chaos [--cases 200] [--seed 7] [--json summary.json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import functools
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter

from workers.procs import exit_description, spawn, stop

REPO = Path(__file__).resolve().parents[1]
# ../shared beside the checkout; CLAUSEFLOW_SHARED names it for a checkout elsewhere (a worktree).
SHARED = Path(os.environ.get("CLAUSEFLOW_SHARED") or REPO.parent / "shared")
SPEC = SHARED / "sendgrid" / "tsg_mail_v3.json"
BIN = Path(sys.executable).parent
T = TypeVar("T")


# -- scenarios -----------------------------------------------------------------------


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


# -- SendGrid's faults ---------------------------------------------------------------

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


# -- processes -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class DevServer:
    """``temporal server start-dev`` on a persistent file; restartable on the same ports."""

    def __init__(self, workdir: Path, keeper: LogKeeper) -> None:
        self.db = workdir / "temporal.db"
        self.log = workdir / "temporal.log"
        self.keeper = keeper
        self.port, self.http_port, self.metrics_port = free_port(), free_port(), free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.started = 0.0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        from runtime.temporal import SEARCH_ATTRIBUTES

        cmd = [
            str(BIN / "temporal"),
            "server",
            "start-dev",
            "--db-filename",
            str(self.db),
            "--ip",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--http-port",
            str(self.http_port),
            "--metrics-port",
            str(self.metrics_port),
            "--headless",
            "--sqlite-pragma",
            "journal_mode=wal",
            "--sqlite-pragma",
            "synchronous=normal",
            "--log-level",
            "warn",
        ]
        for name, kind in SEARCH_ATTRIBUTES.items():
            cmd += ["--search-attribute", f"{name}={kind}"]
        with self.log.open("ab") as log:
            self.proc = spawn(cmd, log)  # dies with the run, even on kill -9
        self.started = time.monotonic()

    def check(self) -> None:
        """Keeps the log of a server that ended on its own (we restart it, never kill it)."""
        if self.proc is not None and self.proc.poll() is not None:
            took = time.monotonic() - self.started
            self.keeper.keep(self.log, f"exit {exit_description(self.proc.returncode)}", took)
            self.proc = None

    def stop(self) -> None:
        self.check()
        if self.proc is not None:
            stop([self.proc], signal.SIGTERM, 20)
        self.proc = None

    async def wait_ready(self, converter: Any, timeout: float = 60) -> Client:
        deadline = time.monotonic() + timeout
        while True:
            if self.proc is not None and self.proc.poll() is not None:
                self.check()
                raise RuntimeError(f"the dev server exited: {self.log.read_text()[-2000:]}")
            try:
                client = await Client.connect(
                    self.address, data_converter=converter, runtime=_quiet_runtime()
                )
                await client.workflow_service.get_system_info(GetSystemInfoRequest())
                return client
            except Exception:
                stop_if_cancelled()
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.25)


@functools.lru_cache(maxsize=1)
def _quiet_runtime() -> Runtime:
    """The runner's Temporal runtime: its client's retries during a restart are expected."""
    return Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(filter=TelemetryFilter(core_level="ERROR", other_level="ERROR"))
        )
    )


class LogKeeper:
    """Copies logs out of the run's temporary folder (deleted at the end) into ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.notes: list[str] = []

    def keep(self, log: Path, what: str, after: float) -> None:
        """Keeps ``log`` of a process that ended unexpectedly, with a line on why."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            shutil.copy2(log, self.folder / log.name)
        self.notes.append(f"{log.name}: {what} after {after:.0f} s; {_telling_line(log)}")

    def keep_all(self, workdir: Path) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        for log in workdir.glob("*.log"):
            with contextlib.suppress(OSError):
                shutil.copy2(log, self.folder / log.name)


def _telling_line(log: Path) -> str:
    """The line of a log that says most about how the process ended."""
    try:
        lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return "no log"
    fatal = [ln for ln in lines if ln.startswith(("Fatal Python error", "thread '"))]
    line = (fatal or lines or ["(empty log)"])[-1 if not fatal else 0]
    return line if len(line) <= 300 else line[:297] + "..."


@dataclass
class _Worker:
    proc: subprocess.Popen[bytes]
    log: Path
    started: float
    killed: bool = False


class Workers:
    """Worker subprocesses; each is stopped or killed by its own pid, and kept running.

    An exit the run did not cause (anything but its own SIGKILL, or a clean stop at the
    end) is counted, and the worker's log is kept.
    """

    def __init__(self, count: int, env: dict[str, str], logs: Path, keeper: LogKeeper) -> None:
        # A crash leaves the Python stacks of every thread in the log (faulthandler).
        self.env, self.logs = dict(env, PYTHONFAULTHANDLER="1"), logs
        self.keeper = keeper
        self.slots: list[_Worker | None] = [None] * count
        self.started = 0
        self.exits: Counter[int] = Counter()

    def _start(self, slot: int) -> None:
        env = dict(self.env, WORKER_METRICS_PORT=str(free_port()))
        path = self.logs / f"worker-{self.started}.log"
        with path.open("wb") as log:
            proc = spawn([sys.executable, "-m", "workers.cli", "worker"], log, env=env, cwd=REPO)
        self.slots[slot] = _Worker(proc, path, time.monotonic())
        self.started += 1

    def _ended(self, worker: _Worker, stopping: bool = False) -> None:
        code = worker.proc.returncode
        # At the end, SIGTERM ends a worker still starting before it handles the signal.
        if (worker.killed and code == -signal.SIGKILL) or (stopping and code in (0, -15)):
            return
        self.exits[code] += 1
        took = time.monotonic() - worker.started
        self.keeper.keep(worker.log, f"exit {exit_description(code)}", took)

    def ensure(self) -> None:
        """Starts every slot that has no live worker (a killed or crashed one)."""
        for i, worker in enumerate(self.slots):
            if worker is None or worker.proc.poll() is not None:
                if worker is not None:
                    self._ended(worker)
                self._start(i)

    def kill(self, rng: random.Random) -> None:
        live = [w for w in self.slots if w is not None and w.proc.poll() is None]
        if live:
            victim = rng.choice(live)
            victim.killed = True
            os.kill(victim.proc.pid, signal.SIGKILL)
            victim.proc.wait()

    def stop(self) -> None:
        workers = [w for w in self.slots if w is not None]
        stop([w.proc for w in workers], signal.SIGTERM, 15)
        for worker in workers:
            self._ended(worker, stopping=True)
        self.slots = [None] * len(self.slots)


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    from tests.databases import temporary_postgres_database

    with temporary_postgres_database() as url:
        yield url


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


# -- the run -------------------------------------------------------------------------


@dataclass
class Outcome:
    case_id: str
    scenario: Scenario
    done: bool = False
    problem: str | None = None
    seconds: float = 0.0


@dataclass
class Summary:
    cases: int = 0
    at_end_state: int = 0
    not_at_end_state: list[str] = field(default_factory=list)
    notices_expected: int = 0
    notices_sent: int = 0
    duplicated: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    stray: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)
    invalid_requests: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    worker_exits: dict[str, int] = field(default_factory=dict)
    #: Processes that ended without the run ending them, each with a line of its log.
    unexpected_exits: list[str] = field(default_factory=list)
    #: Where the logs went (they outlive the run's temporary folder), if kept.
    logs_kept: str = ""
    seconds: float = 0.0
    slowest: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (
            self.not_at_end_state
            or self.duplicated
            or self.lost
            or self.stray
            or self.mismatches
            or self.escalated
            or self.invalid_requests
        )


def stop_if_cancelled() -> None:
    """Raises CancelledError in a task being cancelled (Ctrl-C, SIGTERM).

    The Temporal client can report a cancelled call as an RPCError, which the loops here
    retry: without this check an interrupted run retried until its deadline.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def retrying(call: Callable[[], Awaitable[T]], until: float, what: str) -> T:
    """Retries a Temporal call through server restarts, until the run's deadline."""
    delay = 0.2
    while True:
        try:
            return await call()
        except Exception as exc:
            stop_if_cancelled()
            if time.monotonic() > until:
                raise RuntimeError(f"{what}: {exc}") from exc
            await asyncio.sleep(delay)
            delay = min(delay * 2, 3.0)


async def run(args: argparse.Namespace) -> Summary:
    from activities.notices import notice_id_for
    from runtime.codec import EncryptionCodec, format_key, new_key, parse_keys
    from runtime.temporal import encrypting_converter
    from store.migrate import upgrade
    from store.models import Case, Notice
    from tests.support.sendgrid_mock import MAIL_SEND
    from workers.seed import ensure_reference_contract, reference_term_sheet
    from workflows.case import ApproveNoticeRequest, CaseInput, CaseWorkflow, RecordFactRequest

    rng = random.Random(args.seed)
    t0 = time.monotonic()
    until = t0 + args.timeout
    workdir = Path(tempfile.mkdtemp(prefix="clauseflow-chaos-"))
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    keeper = LogKeeper(args.keep_logs or REPO / "test-artifacts" / "chaos" / f"{stamp}-{args.seed}")
    keys = format_key(*new_key("chaos-"))
    converter = encrypting_converter(EncryptionCodec(parse_keys(keys)))
    summary = Summary()
    faults: Counter[str] = Counter()

    # SendGrid: ~30% of requests refused with 429/500, some slower than the activity
    # timeout; decided per notice and attempt (see SendGridFaults).
    sendgrid = SendGridFaults(args)
    mock = sendgrid.mock(args.activity_lag)

    server = DevServer(workdir, keeper)
    interrupted = False
    workers: Workers | None = None
    with postgres_database() as url, mock:
        name = url.rsplit("/", 1)[1]
        from store.db import normalise_url

        admin = create_engine(normalise_url(url.rsplit("/", 1)[0] + "/postgres"))
        admin = admin.execution_options(isolation_level="AUTOCOMMIT")
        upgrade(url)
        engine = create_engine(normalise_url(url), pool_pre_ping=True)
        with Session(engine) as session:
            ensure_reference_contract(session)
        terms = reference_term_sheet()
        queue = f"chaos-{uuid.uuid4().hex[:8]}"
        try:
            server.start()
            client = await server.wait_ready(converter)
            env = dict(os.environ)
            env.pop("CLAUSEFLOW_CRASH_AT", None)
            env.update(
                TEMPORAL_ADDRESS=server.address,
                TEMPORAL_TASK_QUEUE=queue,
                DATABASE_URL=url,
                SENDGRID_API_KEY=mock.api_key,
                SENDGRID_HOST=mock.url,
                PAYLOAD_ENCRYPTION_KEYS=keys,
                SENDGRID_RECONCILE_SETTLE_SECONDS=str(args.settle),
                LOG_LEVEL="WARNING",
                ENVIRONMENT="development",
            )
            workers = Workers(args.workers, env, workdir, keeper)
            workers.ensure()

            now = dt.datetime.now(dt.UTC)
            plan = scenarios(now)
            picks = [plan[i % len(plan)] for i in range(args.cases)]
            rng.shuffle(picks)
            outcomes = [Outcome(f"case_chaos_{i:04d}", s) for i, s in enumerate(picks)]
            gate = asyncio.Semaphore(args.concurrency)

            async def wait_for(
                handle: WorkflowHandle[Any, Any], ok: Callable[[Any], bool], what: str
            ) -> Any:
                while True:
                    try:
                        view = await handle.query(CaseWorkflow.case)
                        if ok(view):
                            return view
                    except Exception:
                        stop_if_cancelled()
                    if time.monotonic() > until:
                        raise RuntimeError(f"timed out waiting for {what}")
                    await asyncio.sleep(args.poll)

            async def drive(o: Outcome) -> None:
                s = o.scenario
                async with gate:
                    try:

                        async def start() -> WorkflowHandle[Any, Any]:
                            try:
                                return await client.start_workflow(
                                    CaseWorkflow.run,
                                    CaseInput(
                                        case_id=o.case_id,
                                        contract_id="ctr_reference_msa",
                                        clause=s.clause,
                                        rulebook_version=1,
                                        terms=terms.model_dump(mode="json"),
                                        facts=s.facts,
                                        owner_email=terms.owner.email,
                                        notice_timeout_seconds=args.notice_timeout,
                                        record_timeout_seconds=args.record_timeout,
                                        notice_retry_max_seconds=args.notice_retry_max,
                                        # Cases are opened in the past on purpose, so that
                                        # their deadlines fire during the run: said so.
                                        past_deadlines="as_scheduled",
                                    ),
                                    id=o.case_id,
                                    task_queue=queue,
                                )
                            except WorkflowAlreadyStartedError:
                                return client.get_workflow_handle(o.case_id)

                        handle = await retrying(start, until, f"start {o.case_id}")
                        for n, step in enumerate(s.steps):
                            later = {st.when for st in s.steps[n + 1 :]} | {s.end_state}
                            view = await wait_for(
                                handle,
                                _in_or_past(step.when, later),
                                f"{o.case_id} to reach {step.when}",
                            )
                            if view.state != step.when:
                                continue  # a retried update already took it further
                            request = RecordFactRequest(step.fact, step.values, "chaos@example.com")
                            await _update_once(
                                handle,
                                CaseWorkflow.record_fact,
                                request,
                                f"{o.case_id}-{step.fact}",
                                _left(step.when),
                                until,
                            )
                        if s.approve_held:
                            view = await wait_for(
                                handle, lambda v: bool(v.held_notices), f"{o.case_id} held notice"
                            )
                            for key in view.held_notices:
                                await _update_once(
                                    handle,
                                    CaseWorkflow.approve_notice,
                                    ApproveNoticeRequest(key, "counsel@customer.example.com"),
                                    f"{o.case_id}-approve-{key}",
                                    _released(key),
                                    until,
                                )
                        if s.closed:
                            while True:
                                try:
                                    await handle.result()
                                    break
                                except Exception:
                                    stop_if_cancelled()
                                    if time.monotonic() > until:
                                        raise
                                    await asyncio.sleep(args.poll)
                        else:
                            await wait_for(
                                handle,
                                lambda v: v.state == s.end_state,
                                f"{o.case_id} to reach {s.end_state}",
                            )
                        o.done = True
                        o.seconds = time.monotonic() - t0
                    except Exception as exc:
                        stop_if_cancelled()
                        cause = getattr(exc, "cause", None)
                        o.problem = f"{type(exc).__name__}: {exc}" + (
                            f" ({cause})" if cause else ""
                        )

            def mail_sends() -> int:
                return len(mock.sends)

            restarting = False

            async def supervise(stop: asyncio.Event) -> None:
                while not stop.is_set():
                    # Not while the server is down on purpose: a worker started then
                    # fails to connect and exits 1, which is no news.
                    if not restarting:
                        server.check()
                        workers.ensure()
                    await asyncio.sleep(0.5)

            async def inject(stop: asyncio.Event) -> None:
                nonlocal restarting
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
                    while mail_sends() < at:
                        if stop.is_set():
                            return
                        await asyncio.sleep(0.05)
                    if kind == "worker SIGKILL":
                        workers.kill(rng)
                    elif kind == "Temporal restart":
                        restarting = True
                        server.stop()
                        await asyncio.sleep(args.server_down)
                        server.start()
                        await server.wait_ready(converter)
                        restarting = False
                    else:
                        await asyncio.to_thread(set_connections, admin, name, False)
                        try:
                            await asyncio.sleep(args.db_down)
                        finally:
                            await asyncio.to_thread(set_connections, admin, name, True)
                    faults[kind] += 1

            stop = asyncio.Event()
            background = [
                asyncio.create_task(supervise(stop)),
                asyncio.create_task(inject(stop)),
            ]
            await asyncio.gather(*(drive(o) for o in outcomes))
            stop.set()
            await asyncio.gather(*background)
            workers.ensure()
            # A request still in flight (an attempt Temporal gave up on) lands before counting.
            await asyncio.sleep(args.slow_max + args.activity_lag)

            # -- checks ------------------------------------------------------------------
            # A case is judged only once none of its activities is pending: its notice
            # row is 'sent' before send_notice returns and the workflow lists the notice.
            judged = await settle_all(
                [client.get_workflow_handle(o.case_id) for o in outcomes],
                lambda h: h.query(CaseWorkflow.case),
                lambda: read_rows(engine, Case, Notice),
                time.monotonic() + args.settle_wait,
                args.poll,
            )
            rows, notice_rows = judged.rows
            summary.cases = len(outcomes)
            summary.slowest = [
                f"{o.case_id} ({o.scenario.name}): done after {o.seconds:.0f} s"
                for o in sorted(outcomes, key=lambda o: -o.seconds)[:3]
            ]
            accepted: dict[str, list[str]] = {}
            for r in mock.sends:
                if r.status == 202:
                    accepted.setdefault(r.custom_args.get("notice_id", "?"), []).append(
                        r.message_id or ""
                    )
            faults["SendGrid 429/500"] = sum(
                1 for r in mock.requests if r.path == MAIL_SEND and r.status in (429, 500)
            )
            faults["SendGrid slow"] = sendgrid.slow
            summary.invalid_requests = len(mock.invalid)
            known: set[str] = set()
            for o in outcomes:
                s = o.scenario
                found = judged.cases[o.case_id]
                if isinstance(found, Exception):
                    summary.not_at_end_state.append(f"{o.case_id} ({s.name}): {found}")
                    continue
                view, desc = found
                at_end = view.state == s.end_state and view.closed == s.closed
                at_end = at_end and not view.held_notices and o.done
                if at_end:
                    summary.at_end_state += 1
                else:
                    summary.not_at_end_state.append(
                        f"{o.case_id} ({s.name}): {view.state} closed={view.closed} "
                        f"held={view.held_notices} {o.problem or ''}"
                    )
                # Rules escalate on purpose (a lapsed cure period); a notice must never.
                failed = [e for e in view.escalations if e.startswith("notice ")]
                if failed:
                    summary.escalated.append(f"{o.case_id} ({s.name}): {failed}")
                # The database agrees with Temporal.
                row = rows.get(o.case_id)
                # Completed exactly when the case is closed with nothing left to approve.
                finished = view.closed and not view.held_notices
                status = (
                    WorkflowExecutionStatus.COMPLETED
                    if finished
                    else WorkflowExecutionStatus.RUNNING
                )
                attrs = {p.key.name: p.value for p in desc.typed_search_attributes}
                if row is None:
                    summary.mismatches.append(f"{o.case_id}: no case row")
                elif (row.state, row.closed) != (view.state, view.closed):
                    summary.mismatches.append(
                        f"{o.case_id}: row {row.state}/{row.closed}, "
                        f"workflow {view.state}/{view.closed}"
                    )
                if attrs.get("CaseState") != view.state or desc.status != status:
                    summary.mismatches.append(
                        f"{o.case_id}: CaseState {attrs.get('CaseState')} status {desc.status}, "
                        f"query {view.state}"
                    )
                # Every notice the workflow recorded is sent, once.
                by_key = {n.notice_key: n for n in notice_rows.get(o.case_id, [])}
                expected = list(view.notices)
                summary.notices_expected += len(expected)
                for key in expected:
                    nid = notice_id_for(o.case_id, key)
                    known.add(nid)
                    got = accepted.get(nid, [])
                    stored = by_key.get(key)
                    if len(got) > 1:
                        summary.duplicated.append(f"{nid} ({o.case_id} {key}): {len(got)} accepted")
                    if not got or stored is None or stored.status != "sent":
                        state = (
                            "no row" if stored is None else f"{stored.status} {stored.error or ''}"
                        )
                        summary.lost.append(
                            f"{nid} ({o.case_id} {key}): {len(got)} accepted, {state}"
                        )
                    elif stored.provider_message_id not in got:
                        summary.mismatches.append(
                            f"{nid}: row says {stored.provider_message_id}, SendGrid accepted {got}"
                        )
                    elif len(got) == 1:
                        summary.notices_sent += 1
                for key, nrow in by_key.items():
                    if key not in expected:
                        known.add(nrow.id)
                        summary.stray.append(f"{nrow.id} ({o.case_id} {key}): {nrow.status}")
            for nid, got in accepted.items():
                if nid not in known:
                    summary.stray.append(f"{nid}: accepted {len(got)}x, no case expects it")
        except BaseException:
            interrupted = True
            raise
        finally:
            if workers is not None:
                workers.stop()
                summary.worker_exits = {str(k): v for k, v in workers.exits.items()}
            server.stop()
            with contextlib.suppress(Exception):
                set_connections(admin, name, True)
            engine.dispose()
            admin.dispose()
            # Interrupted or not, the logs of what went wrong outlive the temporary folder.
            summary.unexpected_exits = keeper.notes
            if keeper.notes or not summary.ok:
                keeper.keep_all(workdir)
                summary.logs_kept = str(keeper.folder)
                if interrupted:  # no table follows
                    for note in keeper.notes:
                        print(f"unexpected exit: {note}", flush=True)
                    print(f"logs kept in {keeper.folder}", flush=True)
            if args.keep:
                print(f"logs kept in {workdir}")
            else:
                shutil.rmtree(workdir, ignore_errors=True)
    summary.faults = dict(faults)
    summary.seconds = time.monotonic() - t0
    return summary


@dataclass
class Judged:
    """Each case's (view, description) once settled, or why it could not be read."""

    cases: dict[str, tuple[Any, Any] | Exception]
    rows: Any


def _busy(desc: Any) -> list[str]:
    """What a case is still doing: its pending activities and workflow task."""
    raw = desc.raw_description
    busy = [f"{a.activity_type.name} (attempt {a.attempt})" for a in raw.pending_activities]
    if raw.HasField("pending_workflow_task"):
        busy.append("a workflow task")
    return busy


async def settled(
    handle: Any, query: Callable[[Any], Awaitable[Any]], until: float, poll: float
) -> tuple[Any, Any]:
    """The case's view and description once nothing of it is pending.

    Raises:
        RuntimeError: It was still busy at ``until`` (the error says with what).
    """
    while True:
        desc = await retrying(handle.describe, until, f"describe {handle.id}")
        busy = _busy(desc)
        if not busy:
            view = await retrying(lambda: query(handle), until, f"query {handle.id}")
            return view, desc
        if time.monotonic() > until:
            raise RuntimeError(f"still pending when judged: {', '.join(busy)}")
        await asyncio.sleep(poll)


async def settle_all(
    handles: list[Any],
    query: Callable[[Any], Awaitable[Any]],
    read: Callable[[], Any],
    until: float,
    poll: float,
    rounds: int = 5,
) -> Judged:
    """Settles every case, then reads the rows (``read``); cases whose history moved
    meanwhile are settled and read again, so views and rows are of the same moment."""
    cases: dict[str, tuple[Any, Any] | Exception] = {}
    todo = list(handles)
    rows: Any = None
    for _ in range(rounds):
        for handle in todo:
            try:
                cases[handle.id] = await settled(handle, query, until, poll)
            except Exception as exc:
                stop_if_cancelled()
                cases[handle.id] = exc
        rows = await asyncio.to_thread(read)
        moved = []
        for handle in handles:
            found = cases[handle.id]
            if isinstance(found, Exception):
                continue
            with contextlib.suppress(Exception):
                now = await handle.describe()
                if now.history_length != found[1].history_length or _busy(now):
                    moved.append(handle)
        if not moved:
            break
        todo = moved
    return Judged(cases, rows)


def read_rows(
    engine: Engine, case: Any, notice: Any
) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """Case rows by id, and notice rows by case id."""
    with Session(engine) as session:
        rows = {c.id: c for c in session.exec(select(case))}
        notice_rows: dict[str, list[Any]] = {}
        for nrow in session.exec(select(notice)):
            notice_rows.setdefault(nrow.case_id, []).append(nrow)
    return rows, notice_rows


def _in_or_past(state: str, later: set[str]) -> Callable[[Any], bool]:
    return lambda v: v.state in later or (v.state == state and not v.closed)


def _left(state: str) -> Callable[[Any], bool]:
    return lambda v: v.state != state


def _released(key: str) -> Callable[[Any], bool]:
    return lambda v: key not in v.held_notices


async def _update_once(
    handle: WorkflowHandle[Any, Any],
    update: Any,
    arg: Any,
    update_id: str,
    applied: Callable[[Any], bool],
    until: float,
) -> None:
    """Sends an update under a fixed id, so a retry after a lost answer is the same update."""
    from temporalio.client import WorkflowUpdateFailedError

    delay = 0.2
    while True:
        try:
            await handle.execute_update(update, arg, id=update_id)
            return
        except WorkflowUpdateFailedError as exc:
            if "try again" not in str(exc.cause):
                raise
        except Exception:
            with contextlib.suppress(Exception):
                from workflows.case import CaseWorkflow

                if applied(await handle.query(CaseWorkflow.case)):
                    return
            stop_if_cancelled()
            if time.monotonic() > until:
                raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, 3.0)


def table(s: Summary, args: argparse.Namespace) -> str:
    lines = [
        f"Chaos run: {s.cases} cases, {args.workers} workers, seed {args.seed}, {s.seconds:.0f} s",
        "",
        f"{'fault injected':<28}{'count':>8}",
        "-" * 36,
    ]
    for kind in (
        "worker SIGKILL",
        "Temporal restart",
        "database outage",
        "SendGrid 429/500",
        "SendGrid slow",
    ):
        lines.append(f"{kind:<28}{s.faults.get(kind, 0):>8}")
    lines += [
        "",
        f"{'what survived':<28}{'count':>8}",
        "-" * 36,
        f"{'cases':<28}{s.cases:>8}",
        f"{'  at expected end state':<28}{s.at_end_state:>8}",
        f"{'  not at end state':<28}{len(s.not_at_end_state):>8}",
        f"{'notices expected':<28}{s.notices_expected:>8}",
        f"{'  sent exactly once':<28}{s.notices_sent:>8}",
        f"{'  duplicated':<28}{len(s.duplicated):>8}",
        f"{'  lost':<28}{len(s.lost):>8}",
        f"{'  unexpected (stray)':<28}{len(s.stray):>8}",
        f"{'state mismatches (DB/Temporal)':<28}{len(s.mismatches):>6}",
        f"{'escalated cases':<28}{len(s.escalated):>8}",
        f"{'requests breaking the spec':<28}{s.invalid_requests:>8}",
        "",
        "RESULT: " + ("OK" if s.ok else "FAILED"),
    ]
    for title, items in (
        ("not at end state", s.not_at_end_state),
        ("duplicated", s.duplicated),
        ("lost", s.lost),
        ("stray", s.stray),
        ("mismatches", s.mismatches),
        ("escalated", s.escalated),
    ):
        for item in items[:20]:
            lines.append(f"  {title}: {item}")
    for item in s.slowest:
        lines.append(f"  slowest: {item}")
    if s.worker_exits:
        lines.append(f"worker exits other than SIGKILL (restarted): {s.worker_exits}")
    for note in s.unexpected_exits:
        lines.append(f"  unexpected exit: {note}")
    if s.logs_kept:
        lines.append(f"logs kept in {s.logs_kept}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__.split("\n")[0])
    p.add_argument("--cases", type=int, default=220)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--concurrency", type=int, default=40, help="cases in flight at once")
    p.add_argument("--kills", type=int, default=None, help="worker SIGKILLs (default cases/20)")
    p.add_argument("--server-restarts", type=int, default=None, help="default cases/70")
    p.add_argument("--db-outages", type=int, default=None, help="default cases/50")
    p.add_argument("--db-down", type=float, default=5.0, help="seconds of each outage")
    p.add_argument("--server-down", type=float, default=2.0, help="seconds the server is down")
    p.add_argument("--error-rate", type=float, default=0.3, help="Mail Send refused 429/500")
    p.add_argument(
        "--max-refusals", type=int, default=3, help="at most this many refusals in a row per notice"
    )
    p.add_argument(
        "--slow-rate", type=float, default=0.05, help="share of notices accepted too late"
    )
    p.add_argument("--notice-timeout", type=float, default=4.0, help="send activity timeout")
    p.add_argument("--record-timeout", type=float, default=30.0, help="record activity timeout (s)")
    p.add_argument(
        "--notice-retry-max", type=float, default=600.0, help="cap of the send retry backoff (s)"
    )
    p.add_argument("--slow-min", type=float, default=5.0)
    p.add_argument("--slow-max", type=float, default=9.0)
    p.add_argument("--activity-lag", type=float, default=1.0, help="Email Activity lag (s)")
    p.add_argument(
        "--settle",
        type=int,
        default=30,
        help="SENDGRID_RECONCILE_SETTLE_SECONDS for the workers; must exceed --slow-max "
        "plus --activity-lag, or a slow request could be sent again",
    )
    p.add_argument(
        "--fault-span",
        type=float,
        default=0.9,
        help="faults spread over this many Mail Send requests per case",
    )
    p.add_argument("--poll", type=float, default=1.0, help="seconds between state queries")
    p.add_argument("--timeout", type=float, default=1500.0, help="seconds for the whole run")
    p.add_argument(
        "--unsafe-settle",
        action="store_true",
        help="allow a settle time shorter than the slowest request (shows the duplicates it "
        "causes: a check of the checks)",
    )
    p.add_argument("--json", type=Path, help="also write the summary here")
    p.add_argument("--keep", action="store_true", help="keep the whole temporary folder")
    p.add_argument(
        "--keep-logs",
        type=Path,
        help="where the logs of unexpected exits and failed runs go "
        "(default test-artifacts/chaos/<time>-<seed>)",
    )
    p.add_argument(
        "--settle-wait",
        type=float,
        default=120.0,
        help="seconds the checks wait for the cases' pending activities to finish",
    )
    args = p.parse_args(argv)
    if args.kills is None:
        args.kills = max(1, args.cases // 20)
    if args.server_restarts is None:
        args.server_restarts = max(1, args.cases // 70)
    if args.db_outages is None:
        args.db_outages = max(1, args.cases // 50)
    if args.settle <= args.slow_max + args.activity_lag + 5 and not args.unsafe_settle:
        p.error("--settle must exceed --slow-max + --activity-lag by a margin (5 s)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def interrupted(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt  # so every process, the server and the database are cleaned up

    # Ctrl-C reaches only this process (children are in their own process groups); they
    # die with it on kill -9 too (workers/procs.py).
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)
    summary = asyncio.run(run(args))
    print(table(summary, args), flush=True)
    if args.json:
        args.json.write_text(json.dumps(dataclasses.asdict(summary), indent=2))
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main())
