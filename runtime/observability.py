"""The worker's metrics: one Temporal runtime serving Prometheus on WORKER_METRICS_PORT.

The Temporal SDK's own metrics (``temporal_*``: task latencies, slots, polls, sticky
cache, failures) and Clauseflow's worker-side figures go through the same runtime, so
one scrape of ``http://<worker>:<port>/metrics`` has both:

``clauseflow_decision_latency_seconds`` (histogram; ``clause``, ``event``)
    how long the ``decide`` local activity took: rule engine plus calculators.
``clauseflow_deadline_lateness_seconds`` (histogram; ``clause``, ``deadline``)
    how long after a deadline's ``due_at`` the case acted on it (recorded by
    ``record_step``). It includes the timer's own delay and any time no worker was
    free to run the case, which is what a late reminder costs a contract manager.

Activities record through ``activity.metric_meter()``, which is the meter of the
runtime the worker's client was connected with. Outside an activity (unit tests call
``decide`` directly) nothing is recorded.
"""

from __future__ import annotations

import datetime as dt
import threading

from temporalio import activity
from temporalio.common import MetricMeter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from runtime.settings import Settings

DECISION_LATENCY = "clauseflow_decision_latency_seconds"
DEADLINE_LATENESS = "clauseflow_deadline_lateness_seconds"

#: Decisions take milliseconds; anything near the 30 s local-activity timeout is a problem.
_DECISION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0]
#: Lateness from "on time" to "a day late" (a worker outage over a weekend).
_LATENESS_BUCKETS = [0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0, 86400.0]

_runtimes: dict[str, Runtime] = {}
_lock = threading.Lock()


def metrics_bind_address(settings: Settings) -> str:
    """Where the worker's Prometheus endpoint listens (all interfaces: it is scraped)."""
    return f"0.0.0.0:{settings.worker_metrics_port}"


def worker_runtime(settings: Settings, bind_address: str | None = None) -> Runtime:
    """The Temporal runtime of the worker process, serving Prometheus metrics.

    One runtime per address and process: the port can be bound only once, and every
    client connected with this runtime shares it.

    Args:
        settings: Read for ``worker_metrics_port``.
        bind_address: Overrides ``0.0.0.0:<worker_metrics_port>`` (tests use 127.0.0.1).
    """
    address = bind_address or metrics_bind_address(settings)
    with _lock:
        runtime = _runtimes.get(address)
        if runtime is None:
            runtime = Runtime(
                telemetry=TelemetryConfig(
                    metrics=PrometheusConfig(
                        bind_address=address,
                        histogram_bucket_overrides={
                            DECISION_LATENCY: _DECISION_BUCKETS,
                            DEADLINE_LATENESS: _LATENESS_BUCKETS,
                        },
                    ),
                )
            )
            _runtimes[address] = runtime
        return runtime


def _activity_meter() -> MetricMeter | None:
    """The running activity's meter, or None outside an activity (or without one)."""
    if not activity.in_activity():
        return None
    try:
        return activity.metric_meter()
    except RuntimeError:  # a process-pool activity has no meter
        return None


def observe_decision_latency(seconds: float, *, clause: str, event: str) -> None:
    """Records one ``decide`` duration on the worker's metric meter."""
    meter = _activity_meter()
    if meter is None:
        return
    meter.create_histogram_float(
        DECISION_LATENCY, "Time the decide activity took (rules and calculators)", "s"
    ).with_additional_attributes({"clause": clause, "event": event}).record(max(seconds, 0.0))


def observe_deadline_lateness(
    due_at: dt.datetime, acted_at: dt.datetime, *, clause: str, deadline: str
) -> None:
    """Records how long after ``due_at`` a case acted on a deadline (never negative)."""
    meter = _activity_meter()
    if meter is None:
        return
    late = max((acted_at - due_at).total_seconds(), 0.0)
    meter.create_histogram_float(
        DEADLINE_LATENESS, "How long after its due time a deadline was acted on", "s"
    ).with_additional_attributes({"clause": clause, "deadline": deadline}).record(late)
