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
from pathlib import Path

from sqlalchemy import create_engine
from sqlmodel import Session

from bench._common import REPO
from bench.chaos.calls import retrying
from bench.chaos.driving import CaseDriver, Outcome
from bench.chaos.faults import FaultInjector, SendGridFaults, set_connections
from bench.chaos.judging import Summary, judge, read_rows, replay_all, settle_all
from bench.chaos.processes import DevServer, LogKeeper, Workers, postgres_database, supervise
from bench.chaos.report import table
from bench.chaos.scenarios import scenarios


async def run(args: argparse.Namespace) -> Summary:
    from temporalio.worker import Replayer

    from runtime.codec import EncryptionCodec, format_key, new_key, parse_keys
    from runtime.temporal import encrypting_converter
    from store.migrate import upgrade
    from store.models import Case, Notice
    from workers.seed import ensure_reference_contract, reference_term_sheet
    from workers.temporal import case_runner
    from workflows.case import CaseWorkflow

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
            plan = scenarios(now, terms.time_zone)
            picks = [plan[i % len(plan)] for i in range(args.cases)]
            rng.shuffle(picks)
            outcomes = [Outcome(f"case_chaos_{i:04d}", s) for i, s in enumerate(picks)]
            gate = asyncio.Semaphore(args.concurrency)  # cases in flight at once
            driver = CaseDriver(client, queue, terms, args, t0, until, gate)
            injector = FaultInjector(
                args, rng, server, workers, converter, admin, name, mock, faults
            )
            stop = asyncio.Event()
            background = [
                asyncio.create_task(supervise(server, workers, lambda: injector.restarting, stop)),
                asyncio.create_task(injector.run(stop)),
            ]
            await asyncio.gather(*(driver.drive(o) for o in outcomes))
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
            sendgrid.count(mock, faults)
            judge(summary, outcomes, judged, mock)
            # Every history must replay: a worker that loses its cache rebuilds each case
            # from it. A case that does not replay, or could not be read, keeps its history
            # beside the logs, to be replayed and studied after the run.
            histories = {
                o.case_id: await retrying(
                    client.get_workflow_handle(o.case_id).fetch_history,
                    time.monotonic() + args.settle_wait,
                    f"history of {o.case_id}",
                )
                for o in outcomes
            }
            replayer = Replayer(
                workflows=[CaseWorkflow],
                data_converter=converter,
                workflow_runner=case_runner(converter),
            )
            summary.not_replayable = await replay_all(histories, replayer)
            unread = {i for i, found in judged.cases.items() if isinstance(found, Exception)}
            for case_id in unread | {f.split(":", 1)[0] for f in summary.not_replayable}:
                keeper.keep_text(f"{case_id}.history.json", histories[case_id].to_json())
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
