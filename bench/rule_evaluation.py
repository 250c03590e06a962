"""The rules engine against plain Python, and the decide activity local against regular.

1. Decisions per second and per-decision latency (p50/p95) of `rules.engine.evaluate`
   (durable_rules, a fresh session per evaluation) against the same decisions written
   by hand as if/else functions, for two rulebooks: termination_for_convenience and
   invoice_payment. Every rule of each rulebook fires on at least one sample, and some
   samples match nothing; the hand-written functions are checked to give the engine's
   decisions on every sample before anything is timed.
2. The cost of the `decide` activity as Temporal runs it: a small workflow calls `decide`
   N times in a row, once as a local activity and once as a regular activity, on the dev
   server (WAL pragmas) with Clauseflow's encrypting data converter; the latency of each
   call is measured inside the workflow. `decide` called directly (no Temporal) is the
   baseline.

Prints tables; it asserts nothing.

    .venv/bin/python -m bench.rule_evaluation [--decisions 6000] [--calls 300]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from temporalio import workflow
from temporalio.worker import Worker

from activities.types import DecideInput, DecideResult, Scalar
from bench._common import DevServer, pct, use_generated_payload_key

Facts = dict[str, Any]
Out = list[tuple[str, str, Any]]

# -- the decisions, by hand ------------------------------------------------------------


def termination_for_convenience(f: Facts) -> Out:
    """rules/clauses/termination_for_convenience/rulebook.v1.yaml, as if/else."""
    event, state = f.get("event"), f.get("state")
    out: Out = []
    if event == "case_started":
        out += [
            ("acknowledge_termination_notice", "transition", "notice_period_running"),
            ("acknowledge_termination_notice", "set_deadlines", ["effective_date", "reminder"]),
            ("acknowledge_termination_notice", "send_notice", "acknowledgement"),
        ]
    if event == "deadline_reached" and state == "notice_period_running":
        if f.get("deadline_group") == "reminder":
            out.append(("remind_owner_before_effective_date", "send_notice", "owner_reminder"))
        if f.get("deadline") == "effective_date":
            out += [
                ("termination_takes_effect", "transition", "terminated"),
                ("termination_takes_effect", "send_notice", "termination_effective"),
                ("termination_takes_effect", "close", True),
            ]
    if (
        event == "fact_recorded"
        and f.get("fact") == "withdrawal_agreed"
        and state == "notice_period_running"
    ):
        out += [
            ("withdraw_by_mutual_agreement", "transition", "withdrawn"),
            ("withdraw_by_mutual_agreement", "cancel_deadlines", "all"),
            ("withdraw_by_mutual_agreement", "send_notice", "withdrawal_confirmed"),
            ("withdraw_by_mutual_agreement", "close", True),
        ]
    return out


def invoice_payment(f: Facts, late_text: str, termination_text: str) -> Out:
    """rules/clauses/invoice_payment/rulebook.v1.yaml, as if/else (escalation texts passed in)."""
    event, state, fact = f.get("event"), f.get("state"), f.get("fact")
    paid = f.get("fully_paid")
    out: Out = []
    if event == "case_started":
        out += [
            ("acknowledge_invoice", "transition", "awaiting_payment"),
            ("acknowledge_invoice", "set_deadlines", ["dispute_window", "payment_due"]),
            ("acknowledge_invoice", "send_notice", "invoice_received"),
        ]
    elif event == "fact_recorded":
        if fact == "dispute_raised" and state == "awaiting_payment":
            out += [
                ("record_dispute", "transition", "disputed"),
                ("record_dispute", "send_notice", "dispute_acknowledged"),
            ]
        if fact == "dispute_resolved":
            if "contested_amount_payable" in f and f["contested_amount_payable"] != "":
                out.append(("confirm_dispute_resolution", "send_notice", "dispute_resolved"))
            if state == "disputed" and paid is False:
                out.append(
                    ("payment_period_resumes_after_resolution", "transition", "awaiting_payment")
                )
            if f.get("late_resolved_amount_unpaid") is True:
                out.append(("flag_amount_found_payable_after_due_date", "escalate", late_text))
        if fact == "payment_received" and paid is False:
            out.append(("acknowledge_part_payment", "send_notice", "payment_received"))
            if f.get("days_past_due") == 0 and state in ("overdue", "termination_right_arisen"):
                cancel = ["suspension_permissible", "unpaid_termination"]
                if f.get("dispute_open") is True:
                    out += [
                        ("overdue_amount_paid_while_dispute_runs", "transition", "disputed"),
                        ("overdue_amount_paid_while_dispute_runs", "cancel_deadlines", cancel),
                    ]
                elif f.get("dispute_open") is False:
                    out += [
                        (
                            "overdue_amount_paid_balance_not_yet_late",
                            "transition",
                            "awaiting_payment",
                        ),
                        (
                            "overdue_amount_paid_balance_not_yet_late",
                            "cancel_deadlines",
                            cancel,
                        ),
                    ]
        if fact in ("payment_received", "dispute_resolved") and paid is True:
            out += [
                ("settle_invoice", "transition", "paid"),
                ("settle_invoice", "send_notice", "paid_in_full"),
                ("settle_invoice", "close", True),
            ]
    elif event == "deadline_reached":
        deadline, past_due = f.get("deadline"), f.get("days_past_due")
        if (
            deadline == "payment_due"
            and isinstance(past_due, int | float)
            and past_due > 0
            and state in ("awaiting_payment", "disputed")
        ):
            out += [
                ("payment_becomes_overdue", "transition", "overdue"),
                (
                    "payment_becomes_overdue",
                    "set_deadlines",
                    ["suspension_permissible", "unpaid_termination"],
                ),
                ("payment_becomes_overdue", "send_notice", "payment_overdue"),
            ]
        if deadline == "suspension_permissible" and state == "overdue":
            out.append(("suspension_becomes_permissible", "send_notice", "suspension_permissible"))
        if (
            deadline == "unpaid_termination"
            and state == "overdue"
            and f.get("unpaid_since_due_date") is True
        ):
            out += [
                ("termination_right_arises", "transition", "termination_right_arisen"),
                ("termination_right_arises", "send_notice", "termination_right_arisen"),
                ("termination_right_arises", "escalate", termination_text),
            ]
    return out


# -- samples ------------------------------------------------------------------------------


def samples() -> dict[str, list[Facts]]:
    """Fact sets of each rulebook, with its term-sheet parameters as `decide` adds them."""
    from activities.rulebooks import parameter_facts
    from workers.seed import reference_term_sheet

    terms = reference_term_sheet().model_dump(mode="json")
    t = {"clause": "termination_for_convenience", "rulebook_version": 1}
    t |= parameter_facts("termination_for_convenience", 1, terms)
    t |= {"notice_received_at": "2026-08-01T10:00:00+00:00", "given_by": "customer"}
    run = "notice_period_running"
    termination = [
        t | {"event": "case_started", "state": "opened"},
        t
        | {
            "event": "deadline_reached",
            "deadline": "reminder_30",
            "deadline_group": "reminder",
            "state": run,
        },
        t
        | {
            "event": "deadline_reached",
            "deadline": "effective_date",
            "deadline_group": "effective_date",
            "state": run,
        },
        t | {"event": "fact_recorded", "fact": "withdrawal_agreed", "state": run},
        t
        | {
            "event": "deadline_reached",
            "deadline": "reminder_7",
            "deadline_group": "reminder",
            "state": "withdrawn",
        },
    ]
    i = {"clause": "invoice_payment", "rulebook_version": 1}
    i |= parameter_facts("invoice_payment", 1, terms)
    i |= {"invoice_received_at": "2026-08-01T10:00:00+00:00", "invoice_amount": "25000.00"}
    pos = {
        "fully_paid": False,
        "days_past_due": 0,
        "dispute_open": False,
        "contested_amount_payable": "",
        "late_resolved_amount_unpaid": False,
        "unpaid_since_due_date": False,
    }
    ev = {"event": "fact_recorded"}
    dl = {"event": "deadline_reached"}
    invoice = [
        i | {"event": "case_started", "state": "opened"},
        i | pos | ev | {"fact": "dispute_raised", "state": "awaiting_payment"},
        i
        | pos
        | ev
        | {
            "fact": "dispute_resolved",
            "state": "disputed",
            "contested_amount_payable": "1200.00",
            "late_resolved_amount_unpaid": True,
        },
        i | pos | ev | {"fact": "payment_received", "state": "overdue", "dispute_open": True},
        i | pos | ev | {"fact": "payment_received", "state": "termination_right_arisen"},
        i
        | pos
        | ev
        | {"fact": "payment_received", "state": "awaiting_payment", "fully_paid": True},
        i | pos | dl | {"deadline": "payment_due", "state": "awaiting_payment", "days_past_due": 3},
        i | pos | dl | {"deadline": "payment_due", "state": "awaiting_payment"},
        i | pos | dl | {"deadline": "suspension_permissible", "state": "overdue"},
        i
        | pos
        | dl
        | {"deadline": "unpaid_termination", "state": "overdue", "unpaid_since_due_date": True},
        i | pos | dl | {"deadline": "dispute_window", "state": "awaiting_payment"},
    ]
    return {"termination_for_convenience": termination, "invoice_payment": invoice}


def _time(fn: Callable[[Facts], Any], facts: list[Facts], n: int) -> tuple[float, list[float]]:
    for f in facts:
        fn(f)  # warm up (the engine compiles each rulebook once per process)
    lat: list[float] = []
    t0 = time.perf_counter()
    for k in range(n):
        s = time.perf_counter()
        fn(facts[k % len(facts)])
        lat.append(time.perf_counter() - s)
    return time.perf_counter() - t0, lat


def engine_against_python(n: int) -> None:
    from rules.engine import evaluate
    from rules.rulebook import default_registry

    rules = {r.name: r for r in default_registry().get("invoice_payment", 1).rules}
    late = dict(rules["flag_amount_found_payable_after_due_date"].actions)["escalate"]
    term = dict(rules["termination_right_arises"].actions)["escalate"]
    plain: dict[str, Callable[[Facts], Out]] = {
        "termination_for_convenience": termination_for_convenience,
        "invoice_payment": lambda f: invoice_payment(f, late, term),
    }

    def by_engine(f: Facts) -> Out:
        return [(d.rule, d.action, d.value) for d in evaluate(f)]

    print(f"rule evaluation: {n} decisions each, one thread, facts cycled over the samples")
    print(
        f"{'rulebook':28} {'samples':>7} {'how':>13} {'decisions/s':>12}"
        f" {'p50 µs':>8} {'p95 µs':>8}"
    )
    for name, facts in samples().items():
        fired = set()
        for f in facts:
            want, got = by_engine(f), plain[name](f)
            if want != got:
                raise SystemExit(f"{name}: hand-written decisions differ on {f}:\n{want}\n{got}")
            fired |= {rule for rule, _, _ in want}
        rows = {}
        for how, fn in (("rules engine", by_engine), ("plain Python", plain[name])):
            wall, lat = _time(fn, facts, n)
            rows[how] = (n / wall, statistics.median(lat), pct(lat, 95))
            print(
                f"{name:28} {len(facts):7d} {how:>13} {n / wall:12,.0f}"
                f" {rows[how][1] * 1e6:8.1f} {rows[how][2] * 1e6:8.1f}"
            )
        ratio = rows["plain Python"][0] / rows["rules engine"][0]
        print(
            f"{'':28} {'':7} {'engine cost':>13} {ratio:11,.0f}x"
            f" (rules fired: {len(fired)}; same decisions on every sample)"
        )


# -- decide as a local and as a regular activity --------------------------------------------


@workflow.defn(name="DecideBench", sandboxed=False)
class DecideBench:
    """Calls `decide` n times; returns each call's wall time (a benchmark: never replayed)."""

    @workflow.run
    async def run(self, local: bool, n: int, arg: DecideInput) -> list[float]:
        timeout = dt.timedelta(seconds=30)
        lat = []
        for _ in range(n):
            t0 = time.perf_counter()
            if local:
                await workflow.execute_local_activity(
                    "decide", arg, result_type=DecideResult, start_to_close_timeout=timeout
                )
            else:
                await workflow.execute_activity(
                    "decide", arg, result_type=DecideResult, start_to_close_timeout=timeout
                )
            lat.append(time.perf_counter() - t0)
        return lat


def _decide_input() -> Any:
    from activities.rulebooks import decide
    from activities.types import DeriveContext
    from workers.seed import reference_term_sheet

    now = dt.datetime.now(dt.UTC)
    facts: dict[str, Scalar] = {
        "clause": "termination_for_convenience",
        "rulebook_version": 1,
        "notice_received_at": (now - dt.timedelta(days=3)).isoformat(),
        "given_by": "customer",
        "event": "case_started",
        "state": "opened",
    }
    ctx = DeriveContext(reference_term_sheet().model_dump(mode="json"), facts, [], {}, now, now)
    inp = DecideInput(facts, ctx)
    assert decide(inp).decisions  # the call does real work
    return inp


async def decide_overhead(calls: int) -> None:
    from activities.rulebooks import decide
    from runtime.temporal import data_converter

    key_id = use_generated_payload_key()
    inp = _decide_input()
    wall, direct = _time(lambda _: decide(inp), [{}], calls)
    rows = {"called directly": (calls / wall, direct)}
    server = DevServer()
    try:
        client = await server.connect(data_converter())
        async with Worker(
            client,
            task_queue="decide-bench",
            workflows=[DecideBench],
            activities=[decide],
            activity_executor=ThreadPoolExecutor(max_workers=16),
            max_concurrent_activities=16,
        ):
            for local in (True, False):
                run = f"decide_{uuid.uuid4().hex}"
                args = [local, min(10, calls), inp]
                await client.execute_workflow(
                    DecideBench.run, args=args, id=run, task_queue="decide-bench"
                )  # warm up
                t0 = time.perf_counter()
                lat = await client.execute_workflow(
                    DecideBench.run,
                    args=[local, calls, inp],
                    id=f"{run}_timed",
                    task_queue="decide-bench",
                )
                wall = time.perf_counter() - t0
                rows["local activity" if local else "regular activity"] = (calls / wall, lat)
    finally:
        server.stop()
    print()
    print(
        f"decide activity: {calls} calls in a row from one workflow, dev server (WAL pragmas),"
        f" payloads encrypted (key {key_id}); termination case_started with its context"
    )
    print(f"{'how':18} {'calls/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'overhead p50 ms':>16}")
    base = statistics.median(direct)
    for how, (rate, lat) in rows.items():
        p50 = statistics.median(lat)
        print(
            f"{how:18} {rate:9,.0f} {p50 * 1e3:8.2f} {pct(lat, 95) * 1e3:8.2f}"
            f" {(p50 - base) * 1e3:16.2f}"
        )


def main(decisions: int, calls: int) -> None:
    tmp = tempfile.mkdtemp(prefix="clauseflow-bench-")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp}/bench.db")
    engine_against_python(decisions)
    asyncio.run(decide_overhead(calls))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=6000, help="evaluations per rulebook")
    parser.add_argument("--calls", type=int, default=300, help="decide calls each way")
    args = parser.parse_args()
    main(args.decisions, args.calls)
