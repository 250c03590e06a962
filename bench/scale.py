"""Scale: many open cases on one dev server and one worker; the case list over many cases.

(a) N open termination-for-convenience cases (default 10,000), opened through the API
    (the FastAPI app in this process, over httpx's ASGITransport), the Provider's notice
    received a day ago: each acknowledges the notice, records its first step and then
    sleeps on a timer for months (the first reminder is weeks away). One dev server
    (`temporal server start-dev`, in-memory SQLite with the WAL pragmas, started here),
    one worker process (`python -m workers.cli worker`, as deployed, with the workflow
    cache of ``--cached``), a throwaway PostgreSQL database as the store. Reports the
    time to open them and until every one is asleep (its acknowledgement is in the
    store), the resident memory (VmRSS from /proc/<pid>/status) of the worker and the dev
    server, and, as the count grows (1,000, 5,000, 10,000 asleep), the time per case
    since the last mark and the memory then.
(b) M cases (default 100,000) inserted directly with SQL into a throwaway PostgreSQL
    database (``--contracts``, 50 by default; each case with two deadlines, a transition,
    three decisions and a notice), then GET /api/cases (first page, and filtered by
    state), GET /api/cases/{id} (random cases) and the portfolio (GET /api/contracts,
    filtered, and its console page) through the real FastAPI app over httpx's
    ASGITransport: p50/p95 over R requests each. Then, interleaved (one of each in
    turn, R rounds), the first page of 100, a deep page (page 1,000 of 100 by default)
    asked by ``offset`` and by ``cursor`` (the ``next_cursor`` of the row before it),
    and /api/ops/summary: p50/p95 each, with the SQL statements one request issues.

Prints tables; it asserts nothing.

    .venv/bin/python -m bench.scale [--open-cases 10000] [--batch 200] [--cached N]
        [--list-cases 100000] [--contracts 50] [--requests 200] [--deep-page 1000]
        [--skip-open] [--skip-list]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench._common import (
    DevServer,
    cpu_seconds,
    free_port,
    own_cpu_seconds,
    pct,
    rss_mib,
    use_generated_payload_key,
)
from workers.procs import spawn

REPO = Path(__file__).resolve().parents[1]


# -- (a) open cases sleeping on timers ------------------------------------------------------


def _count(url: str, sql: str) -> int:
    from sqlalchemy import create_engine, text

    from store.db import normalise_url

    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as c:
            return int(c.execute(text(sql)).scalar_one())
    finally:
        engine.dispose()


#: The counts of cases asleep at which (a) reports its progress.
MILESTONES = (1_000, 5_000, 10_000)


async def open_cases(n: int, batch: int, cached: int) -> None:
    import httpx
    from sqlmodel import Session, create_engine

    from store.db import normalise_url
    from store.migrate import upgrade
    from tests.databases import temporary_postgres_database
    from workers.seed import ensure_reference_contract

    key_id = use_generated_payload_key()
    queue = f"scale-{uuid.uuid4().hex[:8]}"
    with temporary_postgres_database() as url:
        upgrade(url)
        engine = create_engine(normalise_url(url))
        with Session(engine) as session:
            contract_id = ensure_reference_contract(session)[0].id
            from store.auth import create_token

            _, token = create_token(session, "bench", "contract_manager", created_by="bench")
            session.commit()
        engine.dispose()
        server = DevServer()
        worker: subprocess.Popen[bytes] | None = None
        log = tempfile.NamedTemporaryFile(prefix="clauseflow-scale-worker-", suffix=".log")  # noqa: SIM115 (closed in finally)
        marks: list[tuple[int, float, float, float]] = []
        try:
            env = dict(os.environ)
            metrics_port = free_port()
            env.update(
                TEMPORAL_ADDRESS=server.address,
                TEMPORAL_TASK_QUEUE=queue,
                DATABASE_URL=url,
                WORKER_METRICS_PORT=str(metrics_port),
                WORKER_CACHED_WORKFLOWS=str(cached),
                LOG_LEVEL="WARNING",
                ENVIRONMENT="development",
            )
            env.pop("SENDGRID_API_KEY", None)  # notices go to the outbox
            from runtime.temporal import data_converter

            client = await server.connect(data_converter())  # up before the worker and API
            worker = spawn([sys.executable, "-m", "workers.cli", "worker"], log, env=env, cwd=REPO)
            # The API, in this process, on the same server, store and task queue.
            os.environ.update({k: env[k] for k in ("TEMPORAL_ADDRESS", "TEMPORAL_TASK_QUEUE")})
            os.environ["DATABASE_URL"] = url
            from runtime.settings import get_settings
            from store.db import get_engine

            get_settings.cache_clear()
            get_engine.cache_clear()
            from api.main import create_app

            app = create_app()
            await asyncio.sleep(3)  # the worker connects and polls
            if worker.poll() is not None:
                raise SystemExit(f"worker exited: {Path(log.name).read_text()[-2000:]}")
            before = (rss_mib(worker.pid), rss_mib(server.pid))

            # The Provider's notice, received a day ago: each case acknowledges it (our
            # notice, written to the outbox) and sleeps until the first reminder.
            received = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).isoformat()
            body = {
                "clause": "termination_for_convenience",
                "facts": {"notice_received_at": received, "given_by": "provider"},
            }
            asleep_sql = "SELECT count(*) FROM notice WHERE notice = 'acknowledgement'"
            pending = [m for m in MILESTONES if m <= n] or [n]
            if pending[-1] != n:
                pending.append(n)
            t0 = time.perf_counter()
            cpu0 = (cpu_seconds(server.pid), cpu_seconds(worker.pid), own_cpu_seconds())
            opened = 0
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport,
                base_url="http://clauseflow.test",
                headers={"Authorization": f"Bearer {token}"},
                timeout=600,
            ) as hc:

                async def one(i: int) -> None:
                    r = await hc.post(
                        f"/api/contracts/{contract_id}/cases",
                        json=body,
                        headers={"Idempotency-Key": f"scale-{queue}-{i}"},
                    )
                    if r.status_code not in (200, 201, 202):
                        raise SystemExit(f"case {i}: {r.status_code} {r.text[:500]}")

                async def watch() -> None:
                    while pending:
                        asleep = await asyncio.to_thread(_count, url, asleep_sql)
                        while pending and asleep >= pending[0]:
                            marks.append(
                                (
                                    pending.pop(0),
                                    time.perf_counter() - t0,
                                    rss_mib(worker.pid) if worker else 0.0,
                                    rss_mib(server.pid),
                                )
                            )
                        if worker is not None and worker.poll() is not None:
                            raise SystemExit(f"worker exited: {Path(log.name).read_text()[-2000:]}")
                        await asyncio.sleep(1)

                watcher = asyncio.create_task(watch())
                for first in range(0, n, batch):
                    await asyncio.gather(*(one(i) for i in range(first, min(n, first + batch))))
                    opened = min(n, first + batch)
                started = time.perf_counter() - t0
                await watcher
            settled = time.perf_counter() - t0
            cpu1 = (cpu_seconds(server.pid), cpu_seconds(worker.pid), own_cpu_seconds())
            await asyncio.sleep(5)  # let the last workflow tasks finish
            after = (rss_mib(worker.pid), rss_mib(server.pid))
            cache = _sticky_cache(metrics_port)
            running = (await client.count_workflows("ExecutionStatus='Running'")).count
            sleeping = _count(
                url,
                "SELECT count(DISTINCT case_id) FROM deadline WHERE status = 'pending'"
                " AND due_at > now() + interval '7 days'",
            )
            get_engine().dispose()  # before the database is dropped
        finally:
            if worker is not None and worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()
            server.stop()
            log.close()

    print(
        f"scale (a): {n} open termination cases opened through the API (POST"
        f" /api/contracts/{{id}}/cases, {batch} at a time; the Provider's notice received a"
        f" day ago); one dev server, one worker process (16 activity threads, a workflow"
        f" cache of {cached}); PostgreSQL store; payloads encrypted (key {key_id})"
    )
    print(f"{'':46} {'value':>10}")
    print(f"{'time to open them (the API answered) s':46} {started:10.1f}")
    print(f"{'time until all asleep (acknowledged) s':46} {settled:10.1f}")
    print(f"{'cases opened per second (until asleep)':46} {n / settled:10.1f}")
    print(f"{'running workflows on the server':46} {running:10d}  (of {opened} opened)")
    print(f"{'cases asleep on a deadline > 7 days away':46} {sleeping:10d}")
    print(f"{'worker RSS MiB, before / after':46} {before[0]:5.0f} / {after[0]:.0f}")
    print(f"{'dev server RSS MiB, before / after':46} {before[1]:5.0f} / {after[1]:.0f}")
    server_ms, worker_ms, api_ms = (1000 * (b - a) / n for a, b in zip(cpu0, cpu1, strict=True))
    print(
        f"{'CPU ms a case: dev server / worker / API':46} {server_ms:5.1f} / {worker_ms:.1f} /"
        f" {api_ms:.1f}  (utime + stime until all asleep; the API is this process, with"
        " its client; PostgreSQL not counted)"
    )
    print(
        f"{'workflow cache: misses / forced evictions':46} {cache.get('miss', 0):5.0f} /"
        f" {cache.get('evicted', 0):.0f}  (each miss replays the case's history in the worker)"
    )
    print()
    head = f"{'asleep':>8} {'at s':>8} {'ms a case since the last':>26}"
    print(f"{head} {'worker MiB':>11} {'server MiB':>11}")
    last_count, last_at = 0, 0.0
    for count, at, worker_mib, server_mib in marks:
        per_case = 1000 * (at - last_at) / max(1, count - last_count)
        print(f"{count:8d} {at:8.1f} {per_case:26.1f} {worker_mib:11.0f} {server_mib:11.0f}")
        last_count, last_at = count, at


def _sticky_cache(port: int) -> dict[str, float]:
    """The worker's workflow-cache counters from its Prometheus endpoint: tasks that found
    their workflow evicted (``miss``), and evictions forced by a full cache."""
    import urllib.request

    names = {
        "temporal_sticky_cache_miss": "miss",
        "temporal_sticky_cache_total_forced_eviction": "evicted",
    }
    out: dict[str, float] = {}
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            lines = r.read().decode().splitlines()
    except OSError:
        return out
    for line in lines:
        name = line.split("{", 1)[0].split(" ", 1)[0].removesuffix("_total")
        if name in names and not line.startswith("#"):
            out[names[name]] = out.get(names[name], 0.0) + float(line.rsplit(" ", 1)[1])
    return out


# -- (b) the case list and the case page over many cases ------------------------------------


def fill(url: str, n: int, contracts: int = 50) -> None:
    """Inserts ``n`` cases of ``contracts`` contracts, each with a case page's worth of rows."""
    from sqlalchemy import create_engine, text

    from store.db import normalise_url
    from workers.seed import reference_term_sheet

    engine = create_engine(normalise_url(url))
    start = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    clauses = "(ARRAY['termination_for_convenience','material_breach','invoice_payment'])"
    states = "(ARRAY['notice_period_running','cure_period_running','overdue','paid'])"
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO contract (id, title, customer_name, provider_name, time_zone,"
                " effective_date, terms, created_at) SELECT 'c' || g, 't', 'a', 'b',"
                " 'America/New_York', '2026-01-01', CAST(:terms AS JSON), now()"
                " FROM generate_series(0, :last) g"
            ),
            # The reference term sheet, so that a contract's page has figures to show.
            {
                "last": contracts - 1,
                "terms": json.dumps(reference_term_sheet().model_dump(mode="json")),
            },
        )
        c.execute(
            text(
                'INSERT INTO "case" (id, contract_id, clause, rulebook_version, state,'
                " state_label, closed, escalated, facts, opened_at, next_deadline_at,"
                " next_deadline_name, last_step, updated_at, escalation_reason,"
                " failing_activity, failing_attempts, failing_since, last_failure,"
                " dwell_overdue_at) SELECT 'case_' || g, 'c' || (g % :contracts),"
                f" {clauses}[g % 3 + 1], 1, {states}[g % 4 + 1], 'label', g % 4 = 3,"
                " g % 97 = 0,"
                ' \'{"given_by": "customer"}\', now(),'
                " CASE WHEN g % 10 = 0 THEN NULL ELSE :start + (g || ' minutes')::interval END,"
                " 'effective_date', 1, now(),"
                # About 1% escalated, 1% with a failing activity, 0.5% overstaying a state.
                " CASE WHEN g % 97 = 0 THEN 'written notice was not delivered' END,"
                " CASE WHEN g % 101 = 0 THEN 'send_notice' END,"
                " CASE WHEN g % 101 = 0 THEN 5 ELSE 0 END,"
                " CASE WHEN g % 101 = 0 THEN now() - interval '1 hour' END,"
                " CASE WHEN g % 101 = 0 THEN 'SendGrid answered 500' END,"
                " CASE WHEN g % 199 = 0 THEN now() - interval '1 day'"
                " WHEN g % 2 = 0 THEN now() + interval '30 days' END"
                " FROM generate_series(1, :n) AS g"
            ),
            {"start": start, "n": n, "contracts": contracts},
        )
        for name, group, offset in (
            ("effective_date", "effective_date", 0),
            ("reminder_7", "reminder", -7),
        ):
            c.execute(
                text(
                    'INSERT INTO deadline (case_id, name, "group", label, due_at, last_day,'
                    " explanation, status, set_at_step, updated_at) SELECT 'case_' || g,"
                    f" '{name}', '{group}', 'Termination takes effect',"
                    f" :start + (g || ' minutes')::interval + interval '{offset} days', NULL,"
                    " '[\"counted from the notice\", \"90 calendar days\"]', 'pending', 1, now()"
                    " FROM generate_series(1, :n) AS g"
                ),
                {"start": start, "n": n},
            )
        c.execute(
            text(
                "INSERT INTO transition (case_id, step, from_state, to_state, rule, at)"
                " SELECT 'case_' || g, 1, NULL, 'notice_period_running',"
                " 'acknowledge_termination_notice', now() FROM generate_series(1, :n) AS g"
            ),
            {"n": n},
        )
        c.execute(
            text(
                "INSERT INTO decision (case_id, step, seq, event, rule, rulebook_version, action,"
                " value, facts, at) SELECT 'case_' || g, 1, s, 'started',"
                " 'acknowledge_termination_notice', 1,"
                " (ARRAY['transition','set_deadlines','send_notice'])[s],"
                ' \'"notice_period_running"\', \'{"event": "case_started"}\', now()'
                " FROM generate_series(1, :n) AS g, generate_series(1, 3) AS s"
            ),
            {"n": n},
        )
        c.execute(
            text(
                'INSERT INTO notice (id, case_id, notice_key, notice, clause, "to", cc, subject,'
                " body_text, body_html, channel, status, due_at, created_at, from_email,"
                " text_sha256, html_sha256, rule, case_state) SELECT 'ntc_' || g, 'case_' || g,"
                " 'acknowledgement:started', 'acknowledgement', 'termination_for_convenience',"
                " '[\"legal@customer.example.com\"]', '[]', 'Acknowledgement',"
                " repeat('text ', 300), repeat('<p>html</p>', 200), 'outbox', 'outboxed',"
                " now(), now(), 'clauseflow@provider.example.com', '', '',"
                " 'acknowledge_termination_notice', 'notice_period_running'"
                " FROM generate_series(1, :n) AS g"
            ),
            {"n": n},
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text("VACUUM ANALYZE"))
    engine.dispose()


async def case_list(n: int, requests: int, deep_page: int = 1000, contracts: int = 50) -> None:
    import httpx

    from store.migrate import upgrade
    from tests.databases import temporary_postgres_database

    with temporary_postgres_database() as url:
        upgrade(url)
        t0 = time.perf_counter()
        fill(url, n, contracts)
        filled = time.perf_counter() - t0
        os.environ["DATABASE_URL"] = url
        from runtime.settings import get_settings
        from store.db import get_engine

        get_settings.cache_clear()
        get_engine.cache_clear()
        from sqlmodel import Session

        from api.main import create_app
        from store.auth import create_console_session, create_token, create_user

        with Session(get_engine()) as session:  # every API call needs a token
            _, token = create_token(session, "bench", "viewer", created_by="bench")
            reader = create_user(session, "bench@example.com", "viewer", "x", created_by="bench")
            cookie, _row = create_console_session(session, reader, dt.timedelta(hours=1))
            session.commit()
        app = create_app()
        rng = random.Random(7)
        paths = {
            "GET /api/cases (first page of 50)": lambda: "/api/cases",
            "GET /api/cases?state=overdue": lambda: "/api/cases?state=overdue",
            "GET /api/cases?stuck=true": lambda: "/api/cases?stuck=true",
            "GET /api/cases?escalated=true": lambda: "/api/cases?escalated=true",
            "GET /api/cases?within_days=7": lambda: "/api/cases?within_days=7",
            "GET /api/ops/summary": lambda: "/api/ops/summary",
            "GET /api/cases/{id} (random case)": lambda: f"/api/cases/case_{rng.randint(1, n)}",
            "GET /console (HTML, first page)": lambda: "/console",
            "GET /console?stuck=yes (HTML)": lambda: "/console?stuck=yes",
            "GET /console/cases/{id} (HTML)": lambda: f"/console/cases/case_{rng.randint(1, n)}",
            # The portfolio (issue 15): contracts with their open cases' counts.
            "GET /api/contracts (first page of 50)": lambda: "/api/contracts",
            "GET /api/contracts?escalated=true": lambda: "/api/contracts?escalated=true",
            "GET /api/contracts?stuck=true": lambda: "/api/contracts?stuck=true",
            "GET /api/contracts?legal_state=in_force": lambda: (
                "/api/contracts?legal_state=in_force"
            ),
            "GET /console/contracts (HTML)": lambda: "/console/contracts",
            # A contract's page: its cases, money, every clock and its term sheet.
            "GET /console/contracts/{id} (HTML)": lambda: (
                f"/console/contracts/c{rng.randrange(contracts)}"
            ),
            "GET /api/contracts/{id}/position": lambda: (
                f"/api/contracts/c{rng.randrange(contracts)}/position"
            ),
        }
        rows = {}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://clauseflow.test",
            headers={"Authorization": f"Bearer {token}"},
            cookies={"clauseflow_session": cookie},
        ) as hc:
            for name, path in paths.items():
                for _ in range(5):  # warm up
                    (await hc.get(path())).raise_for_status()
                lat = []
                for _ in range(requests):
                    s = time.perf_counter()
                    r = await hc.get(path())
                    lat.append(time.perf_counter() - s)
                    r.raise_for_status()
                if r.headers["content-type"].startswith("text/html"):
                    size = len(r.content)
                else:
                    body = r.json()
                    size = body.get("total", body.get("open_cases", len(body.get("timeline", []))))
                rows[name] = (statistics.median(lat), pct(lat, 95), size)
            deep = await deep_pages(hc, n, requests, deep_page)
        get_engine().dispose()  # before the database is dropped

    print(
        f"scale (b): {n:,} cases in PostgreSQL ({contracts:,} contracts; 2 deadlines, 1 transition,"
        f" 3 decisions, 1 notice each; inserted in {filled:.0f} s); {requests} requests each,"
        " one at a time, through the FastAPI app (httpx ASGITransport)"
    )
    print(f"{'request':40} {'p50 ms':>8} {'p95 ms':>8} {'matching / timeline / bytes':>28}")
    for name, (p50, p95, size) in rows.items():
        print(f"{name:40} {p50 * 1e3:8.1f} {p95 * 1e3:8.1f} {size:28,}")
    print()
    print(
        f"interleaved: {requests} rounds, each request once per round in turn (the order"
        " rotating), pages of 100"
    )
    print(f"{'request':48} {'p50 ms':>8} {'p95 ms':>8} {'statements':>11} {'rows':>6}")
    for name, (p50, p95, statements, size) in deep.items():
        if p50 is None:
            print(f"{name:48} {'n/a':>8} {'n/a':>8} {'':>11} {'':>6}  (no next_cursor)")
        else:
            print(f"{name:48} {p50 * 1e3:8.1f} {p95 * 1e3:8.1f} {statements:11d} {size:6d}")


#: Pages of the interleaved comparison.
DEEP_PAGE_SIZE = 100


async def deep_pages(
    hc: Any, n: int, rounds: int, page: int
) -> dict[str, tuple[float | None, float | None, int, int]]:
    """The first page, page ``page`` by offset and by cursor, and the ops summary, asked
    in turn (A B C D, B C D A, ...): p50, p95, statements per request, rows answered."""
    from sqlalchemy import event

    from store.db import get_engine

    page = max(2, min(page, -(-n // DEEP_PAGE_SIZE)))
    offset = (page - 1) * DEEP_PAGE_SIZE
    # The cursor of page ``page``: the next_cursor of the row just before it.
    r = await hc.get(f"/api/cases?limit=1&offset={offset - 1}")
    r.raise_for_status()
    cursor = r.json().get("next_cursor")
    paths: dict[str, str | None] = {
        f"GET /api/cases?limit={DEEP_PAGE_SIZE} (first page)": f"/api/cases?limit={DEEP_PAGE_SIZE}",
        f"GET /api/cases page {page:,} by offset={offset:,}": (
            f"/api/cases?limit={DEEP_PAGE_SIZE}&offset={offset}"
        ),
        f"GET /api/cases page {page:,} by cursor": (
            f"/api/cases?limit={DEEP_PAGE_SIZE}&cursor={cursor}" if cursor else None
        ),
        "GET /api/ops/summary": "/api/ops/summary",
    }
    asked = {name: path for name, path in paths.items() if path is not None}
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    statements: dict[str, int] = {}
    sizes: dict[str, int] = {}
    engine = get_engine()
    for name, path in asked.items():
        for _ in range(5):  # warm up
            (await hc.get(path)).raise_for_status()
        seen.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            r = await hc.get(path)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        r.raise_for_status()
        statements[name] = len(seen)
        sizes[name] = len(r.json().get("items", [])) if name.startswith("GET /api/cases") else 0
    if cursor:
        by_offset = await hc.get(paths[f"GET /api/cases page {page:,} by offset={offset:,}"])
        by_cursor = await hc.get(paths[f"GET /api/cases page {page:,} by cursor"])
        ids = [[c["id"] for c in r.json()["items"]] for r in (by_offset, by_cursor)]
        if ids[0] != ids[1]:
            raise SystemExit(f"page {page} by offset and by cursor differ: {ids}")
    lat: dict[str, list[float]] = {name: [] for name in asked}
    names = list(asked)
    for i in range(rounds):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            s = time.perf_counter()
            r = await hc.get(asked[name])
            lat[name].append(time.perf_counter() - s)
            r.raise_for_status()
    return {
        name: (
            (statistics.median(lat[name]), pct(lat[name], 95), statements[name], sizes[name])
            if name in asked
            else (None, None, 0, 0)
        )
        for name in paths
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open-cases", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=200, help="cases opened at a time")
    parser.add_argument(
        "--cached",
        type=int,
        default=None,
        help="the worker's workflow cache (default: the setting, WORKER_CACHED_WORKFLOWS)",
    )
    parser.add_argument("--list-cases", type=int, default=100_000)
    parser.add_argument(
        "--contracts", type=int, default=50, help="contracts the listed cases belong to"
    )
    parser.add_argument("--requests", type=int, default=200, help="requests per endpoint")
    parser.add_argument(
        "--deep-page",
        type=int,
        default=1000,
        help="the deep page (of 100) asked by offset and cursor",
    )
    parser.add_argument("--skip-open", action="store_true", help="skip (a)")
    parser.add_argument("--skip-list", action="store_true", help="skip (b)")
    args = parser.parse_args()
    # Settings read by the bench process itself (the worker gets its own environment).
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tempfile.mkdtemp()}/unused.db")
    if not args.skip_open:
        from runtime.settings import WORKER_CACHED_WORKFLOWS

        cached = WORKER_CACHED_WORKFLOWS if args.cached is None else args.cached
        asyncio.run(open_cases(args.open_cases, args.batch, cached))
    if not args.skip_list:
        if not args.skip_open:
            print()
        asyncio.run(case_list(args.list_cases, args.requests, args.deep_page, args.contracts))


if __name__ == "__main__":
    main()
