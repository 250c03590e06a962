"""The run: starts the database, the mock, the dev server and the workers, drives every
case while the faults fire, judges the outcome; and its command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import os
import random
import shutil
import signal
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from sqlmodel import Session
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.exceptions import WorkflowAlreadyStartedError

from bench._common import REPO
from bench.chaos.calls import retrying, stop_if_cancelled, update_once
from bench.chaos.faults import SendGridFaults, set_connections
from bench.chaos.judging import Summary, read_rows, settle_all
from bench.chaos.processes import DevServer, LogKeeper, Workers, postgres_database
from bench.chaos.report import table
from bench.chaos.scenarios import Scenario, scenarios


@dataclass
class Outcome:
    case_id: str
    scenario: Scenario
    done: bool = False
    problem: str | None = None
    seconds: float = 0.0


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
                            await update_once(
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
                                await update_once(
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


def _in_or_past(state: str, later: set[str]) -> Callable[[Any], bool]:
    return lambda v: v.state in later or (v.state == state and not v.closed)


def _left(state: str) -> Callable[[Any], bool]:
    return lambda v: v.state != state


def _released(key: str) -> Callable[[Any], bool]:
    return lambda v: key not in v.held_notices


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    import bench.chaos  # its docstring's first line says what the run is

    description = (bench.chaos.__doc__ or "").split("\n")[0]
    p = argparse.ArgumentParser(prog="python -m bench.chaos", description=description)
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
