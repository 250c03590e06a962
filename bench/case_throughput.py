"""Clauseflow cases against the same clause written by hand, interleaved on one dev server.

Three sides, each with its own worker process, run in turn, round after round (Clauseflow,
hand-written, bare; again), so that whatever else the shared machine does falls on all
of them alike:

- Clauseflow: whole termination-for-convenience cases of the reference MSA under the
  clause's newest released rulebook, run by `clauseflow worker` (workers/cli.py). The
  notice was received 100 days ago and every passed deadline is acted on as scheduled
  (``past_deadlines="as_scheduled"``), so a case runs its whole life at once: the
  acknowledgement, three reminders and the termination notice, with the rules engine,
  the store and the notice outbox all in the loop.
- hand-written: the same clause as a Temporal developer would write it
  (bench/handwritten, `python -m bench.handwritten worker`): deadlines in workflow code,
  one activity per notice that renders it with Clauseflow's renderer and writes it with
  its step record. The same facts, so the same five notices; its deadlines have passed
  too, so no timer is started, as on the Clauseflow side.
- same-shape bare: as many local activities, activities and timers as a Clauseflow case
  records in its history, all empty (bench/bare_workflow.py): Temporal's floor for the
  way Clauseflow runs a case, a second comparison line.

The other party gives notice (the provider: the reference MSA's our_side is the
customer), so we acknowledge it. Under the newest rulebook, a notice given by our own
side takes another path: our notice of termination held for a person's approval and
their acknowledgement awaited, a case that does not end on its own.

Every client and worker uses Clauseflow's data converter (runtime.temporal, encryption
on, a key generated for the run). The stores are SQLite files in WAL mode, one per side,
as `make dev` runs it. Prints tables; asserts nothing, but says so when the two stores
hold different numbers of notices.

    .venv/bin/python -m bench.case_throughput [--rounds 2] [--cases 100] [--concurrency 50]
        [--warmup 5] [--history-sample 10]

CPU is utime + stime from /proc/<pid>/stat over each side's segment (the client's from
os.times()), divided by its cases; history bytes are the serialized History protobuf of
a sample of finished workflows, payloads encoded and encrypted as the server keeps them.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import History
from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy

from bench._common import (
    REPO,
    DevServer,
    cpu_seconds,
    free_port,
    own_cpu_seconds,
    pct,
    use_generated_payload_key,
)
from bench.bare_workflow import BareWorkflow, Shape

CLAUSE = "termination_for_convenience"
NOTICES_PER_CASE = 5
CLAUSEFLOW, HANDWRITTEN, BARE = "Clauseflow", "hand-written", "same-shape bare"
SIDES = (CLAUSEFLOW, HANDWRITTEN, BARE)
PROCESSES = ("server", "worker", "client")
#: The issue's targets, Clauseflow ÷ hand-written: (at least, at most).
TARGETS = {
    "throughput": (0.8, None),
    "CPU total": (None, 1.25),
    "events": (None, 1.5),
    "bytes": (None, 2.0),
}

_KINDS = {
    EventType.EVENT_TYPE_MARKER_RECORDED: "L",
    EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: "A",
    EventType.EVENT_TYPE_TIMER_STARTED: "T",
}


async def shape_of(handle: WorkflowHandle[Any, Any]) -> Shape:
    """Counts a finished workflow's local activities, activities and timers in its history."""
    history = await handle.fetch_history()
    order = "".join(_KINDS[e.event_type] for e in history.events if e.event_type in _KINDS)
    return Shape(order.count("L"), order.count("A"), order.count("T"), order)


@dataclass
class Side:
    name: str
    worker: subprocess.Popen[bytes]
    log: IO[bytes]
    #: Starts one workflow with the given id; its result is checked by ``done``.
    start: Callable[[str], Awaitable[WorkflowHandle[Any, Any]]]
    done: Callable[[Any], bool]


@dataclass
class Segment:
    """One side's run of one round: ``cases`` workflows, CONCURRENCY at a time."""

    side: str
    round: int
    cases: int
    wall: float
    latencies: list[float]
    #: CPU seconds used during the segment, by process.
    cpu: dict[str, float]
    #: The workflows' ids, in the order they finished.
    ids: list[str] = field(default_factory=list)
    events: list[int] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)


@dataclass
class Figures:
    """What the tables print for a segment, or for a side's segments pooled."""

    cases: int
    throughput: float
    p50: float
    p95: float
    #: Milliseconds of CPU per case, by process and in total.
    cpu_ms: dict[str, float]
    events: float
    kb: float

    @classmethod
    def of(cls, segments: list[Segment]) -> Figures:
        cases = sum(s.cases for s in segments)
        latencies = [x for s in segments for x in s.latencies]
        cpu = {p: sum(s.cpu[p] for s in segments) * 1000 / cases for p in PROCESSES}
        cpu["total"] = sum(cpu.values())
        events = [x for s in segments for x in s.events]
        sizes = [x for s in segments for x in s.sizes]
        return cls(
            cases=cases,
            throughput=cases / sum(s.wall for s in segments),
            p50=statistics.median(latencies),
            p95=pct(latencies, 95),
            cpu_ms=cpu,
            events=statistics.mean(events),
            kb=statistics.mean(sizes) / 1000,
        )

    def ratios(self, other: Figures) -> dict[str, float]:
        """self ÷ other, metric by metric (throughput too: above 1, self is faster)."""
        out = {"throughput": self.throughput / other.throughput}
        out |= {f"CPU {p}": self.cpu_ms[p] / other.cpu_ms[p] for p in ("total", *PROCESSES)}
        out |= {
            "events": self.events / other.events,
            "bytes": self.kb / other.kb,
            "p50": self.p50 / other.p50,
            "p95": self.p95 / other.p95,
        }
        return out


def _cpu(pids: dict[str, int]) -> dict[str, float]:
    return {
        name: own_cpu_seconds() if name == "client" else cpu_seconds(pid)
        for name, pid in pids.items()
    }


async def run_segment(
    side: Side, rnd: int, n: int, concurrency: int, server_pid: int, sample: int
) -> Segment:
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    handles: list[WorkflowHandle[Any, Any]] = []
    prefix = side.name.replace(" ", "-")

    async def one(i: int) -> None:
        async with gate:
            t0 = time.perf_counter()
            handle = await side.start(f"{prefix}-{rnd}-{i}-{uuid.uuid4().hex[:12]}")
            result = await handle.result()
            latencies.append(time.perf_counter() - t0)
            if not side.done(result):
                raise RuntimeError(f"{side.name} {handle.id} ended as {result!r}")
            handles.append(handle)

    pids = {"server": server_pid, "worker": side.worker.pid, "client": 0}
    before, t0 = _cpu(pids), time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    wall = time.perf_counter() - t0
    after = _cpu(pids)
    cpu = {p: after[p] - before[p] for p in pids}
    segment = Segment(side.name, rnd, n, wall, latencies, cpu, [h.id for h in handles])
    # History is read after the segment is measured: reading it costs the server too.
    for handle in handles[:sample]:
        history = await handle.fetch_history()
        segment.events.append(len(history.events))
        segment.sizes.append(History(events=history.events).ByteSize())
    return segment


def _worker_env(url: str, address: str) -> dict[str, str]:
    env = dict(os.environ)  # PAYLOAD_ENCRYPTION_KEYS: the run's key
    env.update(
        TEMPORAL_ADDRESS=address,
        DATABASE_URL=url,
        WORKER_METRICS_PORT=str(free_port()),
        LOG_LEVEL="WARNING",
        ENVIRONMENT="development",
    )
    env.pop("SENDGRID_API_KEY", None)  # notices go to the outbox on both sides
    return env


def _store(url: str) -> None:
    """A migrated SQLite store with the reference MSA registered."""
    from sqlmodel import Session

    from store.db import get_engine
    from store.migrate import upgrade
    from workers.seed import ensure_reference_contract

    upgrade(url)
    with Session(get_engine(url)) as session:
        ensure_reference_contract(session)
    get_engine(url).dispose()


def _notices(url: str) -> int:
    from sqlmodel import Session, func, select

    from store.db import get_engine
    from store.models import Notice

    with Session(get_engine(url)) as s:
        count = s.exec(select(func.count()).select_from(Notice)).one()
    get_engine(url).dispose()
    return int(count)


def _logged(log: IO[bytes]) -> list[str]:
    """What a worker wrote (warnings and errors only: the workers log at WARNING)."""
    text = Path(log.name).read_text(errors="replace")
    return re.sub(r"\x1b\[[0-9;]*m", "", text).splitlines()  # the SDK core's colours


def _tail(log: IO[bytes]) -> str:
    return Path(log.name).read_text(errors="replace")[-3000:]


async def _warm_up(side: Side, n: int, concurrency: int, server_pid: int) -> Segment:
    """Runs ``n`` cases first (imports, caches, connections); fails with the worker's log."""
    try:
        return await asyncio.wait_for(
            run_segment(side, 0, n, concurrency, server_pid, sample=1), timeout=180
        )
    except Exception as exc:
        state = "exited" if side.worker.poll() is not None else "running"
        raise SystemExit(
            f"{side.name} did not run its warm-up cases ({exc!r}); its worker is {state}:\n"
            + _tail(side.log)
        ) from exc


async def main(
    rounds: int, n: int, concurrency: int, warmup: int, sample: int, version: int | None = None
) -> None:
    key_id = use_generated_payload_key()
    with tempfile.TemporaryDirectory(prefix="clauseflow-bench-") as tmp, ExitStack() as stack:
        urls = {CLAUSEFLOW: f"sqlite:///{tmp}/clauseflow.db", HANDWRITTEN: f"sqlite:///{tmp}/hw.db"}
        os.environ["DATABASE_URL"] = urls[CLAUSEFLOW]  # this process's settings; unused
        for url in urls.values():
            _store(url)
        server = DevServer()
        stack.callback(server.stop)
        client = await server.connect(_data_converter())
        sides, shape, queues, version = _sides(client, server, urls, stack, version)
        await _contract_for(client, queues, version)

        # Warm-up (imports, caches, first connections), not counted. A Clauseflow case's
        # history gives the bare side its shape.
        warm = await _warm_up(sides[0], warmup, concurrency, server.pid)
        found = await shape_of(client.get_workflow_handle(warm.ids[0]))
        shape.local_activities, shape.activities = found.local_activities, found.activities
        shape.timers, shape.order = found.timers, found.order
        for side in sides[1:]:
            await _warm_up(side, warmup, concurrency, server.pid)

        segments: list[Segment] = []
        for rnd in range(1, rounds + 1):
            for side in sides:
                segments.append(await run_segment(side, rnd, n, concurrency, server.pid, sample))
        notices = {name: _notices(url) for name, url in urls.items()}
        logged = {side.name: _logged(side.log) for side in sides}
    report = Report(
        segments, shape, notices, logged, warmup, rounds, n, concurrency, sample, key_id
    )
    for line in report.lines():
        print(line)


def _data_converter() -> Any:
    from runtime.temporal import data_converter

    return data_converter()


def _sides(
    client: Client, server: DevServer, urls: dict[str, str], stack: ExitStack, version: int | None
) -> tuple[list[Side], Shape, dict[str, str], int]:
    """Each side's worker process (stopped when ``stack`` closes) and how it starts a case."""
    from bench.handwritten.shared import (
        WORKFLOW_NAME,
        TerminationInput,
        TerminationResult,
        TerminationTerms,
    )
    from contracts.terms import other_party
    from rules.rulebook import default_registry
    from workers.procs import spawn, stop
    from workers.seed import REFERENCE_CONTRACT_ID, reference_term_sheet
    from workflows.messages import CASE_WORKFLOW, CaseInput, CaseResult

    sheet = reference_term_sheet()
    version = version or default_registry().latest(CLAUSE).version
    tells_contract = bool(default_registry().get(CLAUSE, version).agreement.emits)
    # The other party gives notice, so the case is ours to acknowledge (see the docstring).
    given_by = other_party(sheet.our_side)
    # Received 100 days ago: every deadline has passed, so a whole case runs at once.
    received = dt.datetime.now(dt.UTC) - dt.timedelta(days=100)
    facts = {"notice_received_at": received.isoformat(), "given_by": given_by}
    terms = sheet.model_dump(mode="json")
    figures = TerminationTerms.of(sheet)
    queues = {name: f"bench-{name.split()[-1]}-{uuid.uuid4().hex[:6]}" for name in SIDES}

    def worker(name: str, args: list[str], url: str, **env: str) -> tuple[Any, IO[bytes]]:
        log = tempfile.NamedTemporaryFile(prefix=f"bench-{name.split()[-1]}-", suffix=".log")  # noqa: SIM115
        stack.enter_context(log)  # closed, and so removed, when the run ends
        proc = spawn(
            [sys.executable, "-m", *args],
            log,
            env=_worker_env(url, server.address) | env,
            cwd=REPO,
        )
        stack.callback(stop, [proc])
        return proc, log

    async def clauseflow(case_id: str) -> WorkflowHandle[Any, Any]:
        case = CaseInput(
            case_id,
            REFERENCE_CONTRACT_ID,
            CLAUSE,
            version,
            terms,
            facts,
            owner_email=sheet.owner.email,
            past_deadlines="as_scheduled",
            lean_from_start=True,  # as the API starts a case
        )
        return await client.start_workflow(
            CASE_WORKFLOW, case, id=case_id, task_queue=queues[CLAUSEFLOW], result_type=CaseResult
        )

    async def handwritten(case_id: str) -> WorkflowHandle[Any, Any]:
        inp = TerminationInput(
            case_id,
            REFERENCE_CONTRACT_ID,
            received,
            given_by,
            figures,
            version,
            contract_workflow=HANDWRITTEN_CONTRACT if tells_contract else None,
        )
        return await client.start_workflow(
            WORKFLOW_NAME,
            inp,
            id=case_id,
            task_queue=queues[HANDWRITTEN],
            result_type=TerminationResult,
        )

    shape = Shape(0, 0, 0)  # filled in from a Clauseflow case before the bare side runs

    async def bare(workflow_id: str) -> WorkflowHandle[Any, Any]:
        return await client.start_workflow(
            BareWorkflow.run, shape, id=workflow_id, task_queue=queues[BARE]
        )

    own = ["--address", server.address, "--task-queue"]
    cf = worker(
        CLAUSEFLOW,
        ["workers.cli", "worker"],
        urls[CLAUSEFLOW],
        TEMPORAL_TASK_QUEUE=queues[CLAUSEFLOW],
    )
    hw = worker(
        HANDWRITTEN, ["bench.handwritten", "worker", *own, queues[HANDWRITTEN]], urls[HANDWRITTEN]
    )
    # The bare worker writes nothing; it reads its settings like the others.
    br = worker(BARE, ["bench.bare_workflow", "worker", *own, queues[BARE]], urls[CLAUSEFLOW])
    sides = [
        Side(CLAUSEFLOW, *cf, clauseflow, lambda r: r.state == "terminated"),
        Side(HANDWRITTEN, *hw, handwritten, lambda r: r.state == "terminated"),
        Side(BARE, *br, bare, lambda r: r == len(shape.sequence())),
    ]
    return sides, shape, queues, version


#: The hand-written side's contract workflow: its own, on its own worker.
HANDWRITTEN_CONTRACT = "ctr_reference_msa_handwritten"


async def _contract_for(client: Client, queues: dict[str, str], version: int) -> None:
    """Starts each side's contract workflow, as the API starts the contract's with its
    first case, when the rulebook version tells its contract (termination v4 on: the
    notice makes the agreement terminating, one signal a case, on both sides)."""
    from rules.rulebook import default_registry
    from workers.seed import REFERENCE_CONTRACT_ID
    from workflows.messages import CONTRACT_WORKFLOW, ContractInput

    if not default_registry().get(CLAUSE, version).agreement.emits:
        return
    for contract_id, side in (
        (REFERENCE_CONTRACT_ID, CLAUSEFLOW),
        (HANDWRITTEN_CONTRACT, HANDWRITTEN),
    ):
        await client.start_workflow(
            CONTRACT_WORKFLOW,
            ContractInput(contract_id),
            id=contract_id,
            task_queue=queues[side],
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )


_RATIO_LABELS = {
    "throughput": "throughput (completions/s)",
    "CPU total": "CPU per case, total",
    "CPU server": "  server",
    "CPU worker": "  worker",
    "CPU client": "  client (this process)",
    "events": "history events per case",
    "bytes": "history bytes per case",
    "p50": "latency p50",
    "p95": "latency p95",
}


@dataclass
class Report:
    segments: list[Segment]
    shape: Shape
    notices: dict[str, int]
    #: The lines each side's worker logged.
    logged: dict[str, list[str]]
    warmup: int
    rounds: int
    cases: int
    concurrency: int
    sample: int
    key_id: str

    def figures(self) -> dict[str, dict[str, Figures]]:
        """Each side's figures by column: "round 1", ..., "pooled"."""
        out: dict[str, dict[str, Figures]] = {}
        for side in SIDES:
            mine = [s for s in self.segments if s.side == side]
            out[side] = {f"round {s.round}": Figures.of([s]) for s in mine}
            out[side]["pooled"] = Figures.of(mine)
        return out

    def lines(self) -> Iterator[str]:
        total = self.warmup + self.rounds * self.cases
        expected = total * NOTICES_PER_CASE
        shape = self.shape
        yield (
            f"case throughput: {self.rounds} rounds × {self.cases} cases per side, the sides"
            f" interleaved ({', '.join(SIDES)}; again), {self.concurrency} started at a time,"
            f" after {self.warmup} uncounted warm-up cases each"
        )
        yield (
            "one dev server (temporal server start-dev, in-memory SQLite, WAL pragmas); one"
            " worker process per side, 16 activity threads each; the client is this process;"
            f" PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r}"
        )
        yield (
            f"{CLAUSE}, newest released rulebook, the reference MSA; notice received 100 days"
            " ago by us (given by the provider), so every deadline has passed and a case runs"
            " its whole life at once: acknowledgement, 3 reminders, termination notice"
        )
        yield (
            "payloads encrypted on every side (runtime.temporal.data_converter, key"
            f" {self.key_id}); stores: SQLite (WAL), one file per side"
        )
        yield (
            f"{BARE}: same shape as a Clauseflow case, empty activities: Temporal's floor for"
            f" this shape ({shape.local_activities} local activities, {shape.activities}"
            f" activities, {shape.timers} timers a case, counted from a Clauseflow case's"
            f" history: {shape.order})"
        )
        mismatch = len(set(self.notices.values())) != 1 or expected not in self.notices.values()
        yield (
            f"notices in the stores: {CLAUSEFLOW} {self.notices[CLAUSEFLOW]}, {HANDWRITTEN}"
            f" {self.notices[HANDWRITTEN]} (expected {expected} each: {total} cases ×"
            f" {NOTICES_PER_CASE}){'  MISMATCH' if mismatch else ''}"
        )
        yield "worker logs: " + ", ".join(
            f"{side} {len(lines)} lines" + (f" (first: {lines[0][:400]})" if lines else "")
            for side, lines in self.logged.items()
        )
        yield (
            "CPU: utime + stime from /proc/<pid>/stat over each side's segment (the client:"
            " os.times() of this process), ÷ cases. History: events and the serialized"
            f" History protobuf (payloads encrypted, as the server keeps them) of {self.sample}"
            " finished workflows per side and round"
        )
        yield ""
        figures = self.figures()
        columns = list(figures[CLAUSEFLOW])
        yield (
            f"{'side':16}{'round':>7}{'cases':>6}{'done/s':>8}{'p50 s':>7}{'p95 s':>7}"
            f"  | CPU ms per case: {'server':>6}{'worker':>7}{'client':>7}{'total':>7}"
            f"  | {'events':>6}{'KB':>6}"
        )
        for column in columns:
            for side in SIDES:
                f = figures[side][column]
                c = f.cpu_ms
                yield (
                    f"{side:16}{column.removeprefix('round '):>7}{f.cases:6d}{f.throughput:8.2f}"
                    f"{f.p50:7.2f}{f.p95:7.2f}  | {'':17}{c['server']:6.1f}{c['worker']:7.1f}"
                    f"{c['client']:7.1f}{c['total']:7.1f}  | {f.events:6.1f}{f.kb:6.1f}"
                )
        yield ""
        yield from _ratio_rows(
            f"{CLAUSEFLOW} ÷ {HANDWRITTEN} (issue 14's targets; throughput above 1 means"
            " Clauseflow is faster, everything else above 1 means Clauseflow costs more)",
            figures[CLAUSEFLOW],
            figures[HANDWRITTEN],
            targets=True,
        )
        yield ""
        yield from _ratio_rows(
            f"{CLAUSEFLOW} ÷ {BARE} (same shape as a Clauseflow case, empty activities:"
            " Temporal's floor for this shape)",
            figures[CLAUSEFLOW],
            figures[BARE],
            targets=False,
        )


def _ratio_rows(
    title: str, mine: dict[str, Figures], theirs: dict[str, Figures], targets: bool
) -> Iterator[str]:
    yield title
    columns = list(mine)
    yield (
        f"{'':32}"
        + "".join(f"{c:>10}" for c in columns)
        + ("   target  pooled meets it" if targets else "")
    )
    ratios = {c: mine[c].ratios(theirs[c]) for c in columns}
    for metric, label in _RATIO_LABELS.items():
        row = f"{label:32}" + "".join(f"{ratios[c][metric]:10.2f}" for c in columns)
        if targets and metric in TARGETS:
            low, high = TARGETS[metric]
            pooled = ratios["pooled"][metric]
            meets = (low is None or pooled >= low) and (high is None or pooled <= high)
            row += (
                f"   {f'≥ {low}' if low is not None else f'≤ {high}':7} {'yes' if meets else 'no'}"
            )
        yield row


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="rounds, each side once a round")
    parser.add_argument("--cases", type=int, default=100, help="cases per side and round")
    parser.add_argument("--concurrency", type=int, default=50, help="started at a time")
    parser.add_argument("--warmup", type=int, default=5, help="uncounted cases per side first")
    parser.add_argument(
        "--history-sample", type=int, default=10, help="histories read per side and round"
    )
    parser.add_argument(
        "--rulebook-version",
        type=int,
        default=None,
        help="the clause's rulebook version on the Clauseflow side (default: the newest)",
    )
    args = parser.parse_args()
    asyncio.run(
        main(
            args.rounds,
            args.cases,
            args.concurrency,
            args.warmup,
            args.history_sample,
            args.rulebook_version,
        )
    )
