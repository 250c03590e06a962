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

The package, by kind: ``scenarios`` (the case table: the clauses' scenario paths that happen
now, ``rules/clauses/<clause>/scenarios.yaml``), ``faults`` (SendGrid's refusals and
slow answers, the database outage), ``processes`` (dev server, workers, database, kept
logs), ``calls`` (Temporal calls that outlast the faults), ``driving`` (each case to its end),
``judging`` (settling, the checks and the summary), ``report`` (the table) and ``runner``
(the run and its command line).
"""

from __future__ import annotations

# Re-exported: bench.chaos is the run's interface (tests/integration/test_chaos.py). The
# workers are started through bench.chaos.spawn, which a test replaces.
from bench._common import REPO
from bench.chaos.calls import retrying, stop_if_cancelled
from bench.chaos.driving import CaseDriver, Outcome
from bench.chaos.faults import SHARED, SPEC, FaultInjector, SendGridFaults, set_connections
from bench.chaos.judging import Judged, Summary, judge, read_rows, settle_all, settled
from bench.chaos.processes import (
    DevServer,
    LogKeeper,
    Workers,
    free_port,
    postgres_database,
    supervise,
)
from bench.chaos.report import table
from bench.chaos.runner import main, parse_args, run
from bench.chaos.scenarios import Scenario, Step, scenarios
from workers.procs import spawn

__all__ = [
    "REPO",
    "SHARED",
    "SPEC",
    "CaseDriver",
    "DevServer",
    "FaultInjector",
    "Judged",
    "LogKeeper",
    "Outcome",
    "Scenario",
    "SendGridFaults",
    "Step",
    "Summary",
    "Workers",
    "free_port",
    "judge",
    "main",
    "parse_args",
    "postgres_database",
    "read_rows",
    "retrying",
    "run",
    "scenarios",
    "set_connections",
    "settle_all",
    "settled",
    "spawn",
    "stop_if_cancelled",
    "supervise",
    "table",
]
