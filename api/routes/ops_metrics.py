"""`/metrics`: the store's figures in Prometheus text format, computed at scrape time.

Cases by clause and state and notices by channel, status and delivery status are
``GROUP BY`` counts over the store, run on every scrape. At thousands of contracts
that is a few milliseconds (``case`` has an index on ``(clause, state)``, ``notice``
on ``delivery_status``); at millions of rows it would want a summary table.

They are gauges of what the store holds now, the same in every API replica, so
aggregate them across replicas with ``max``, not ``sum``. Decision latency, deadline
lateness and the Temporal SDK's metrics are the worker's (``runtime/observability.py``)
and are served on the worker's own port.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func
from sqlmodel import Session, col, select

from api.access import Reader
from store.db import get_engine
from store.models import Case, Notice

router = APIRouter(tags=["operations"])
log = logging.getLogger(__name__)


class StoreCollector(Collector):
    """Counts cases and notices in the store whenever Prometheus scrapes."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily(
            "clauseflow_store_up", "1 if the store answered this scrape's queries, else 0"
        )
        try:
            with Session(get_engine()) as session:
                cases = session.exec(
                    select(Case.clause, Case.state, Case.closed, func.count()).group_by(
                        col(Case.clause), col(Case.state), col(Case.closed)
                    )
                ).all()
                notices = session.exec(
                    select(Notice.channel, Notice.status, func.count()).group_by(
                        Notice.channel, Notice.status
                    )
                ).all()
                deliveries = session.exec(
                    select(Notice.delivery_status, func.count())
                    .where(col(Notice.delivery_status).is_not(None))
                    .group_by(col(Notice.delivery_status))
                ).all()
        except Exception:
            log.exception("metrics: the store did not answer")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up

        by_state = GaugeMetricFamily(
            "clauseflow_cases",
            "Cases in the store by clause and state (closed=true once the case ended)",
            labels=["clause", "state", "closed"],
        )
        for clause, state, closed, n in cases:
            by_state.add_metric([clause, state, "true" if closed else "false"], n)
        yield by_state

        by_status = GaugeMetricFamily(
            "clauseflow_notices",
            "Notices by channel (outbox, sendgrid) and status (sent, outboxed, failed, ...)",
            labels=["channel", "status"],
        )
        for channel, status, n in notices:
            by_status.add_metric([channel, status], n)
        yield by_status

        by_delivery = GaugeMetricFamily(
            "clauseflow_notice_deliveries",
            "Notices by SendGrid delivery status (delivered, bounce, blocked, dropped, ...)",
            labels=["delivery_status"],
        )
        for delivery_status, n in deliveries:
            by_delivery.add_metric([str(delivery_status)], n)
        yield by_delivery


def _registry() -> CollectorRegistry:
    # A registry of our own: the global one would be registered twice when tests build
    # several apps, and would mix in whatever else the process registered.
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector())
    return registry


_REGISTRY = _registry()


@router.get("/metrics", include_in_schema=False)
async def metrics(_: Reader) -> Response:
    """Prometheus text format: cases by clause and state, notices by status."""
    body = await run_in_threadpool(generate_latest, _REGISTRY)
    return Response(content=body, media_type=CONTENT_TYPE_LATEST)
