"""`/metrics`: the store's case and notice figures in Prometheus text format."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import Session, col, select

from store.db import get_engine
from store.models import Notice
from tests.dates import notice_days_ago
from tests.workflows.helpers import eventually, notices

URL = "/api/contracts/ctr_reference_msa/cases"


def termination(given_by: str) -> dict[str, object]:
    return {
        "clause": "termination_for_convenience",
        # Received a few days ago: no reminder is due yet, only the acknowledgement.
        "facts": {"notice_received_at": notice_days_ago(3), "given_by": given_by},
    }


async def scrape(api: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    r = await api.get("/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }


async def test_metrics_count_cases_by_clause_and_state(api: httpx.AsyncClient) -> None:
    for n, side in enumerate(("customer", "provider")):
        r = await api.post(URL, json=termination(side), headers={"Idempotency-Key": f"m-{n}"})
        assert r.status_code == 201, r.text
    figures = await scrape(api)
    key = (
        "clauseflow_cases",
        (
            ("clause", "termination_for_convenience"),
            ("closed", "false"),
            ("state", "notice_period_running"),
        ),
    )
    assert figures[key] == 2
    assert figures[("clauseflow_store_up", ())] == 1


async def test_metrics_count_notices_sent_failed_and_bounced(api: httpx.AsyncClient) -> None:
    ids = []
    for n in range(3):
        r = await api.post(URL, json=termination("provider"), headers={"Idempotency-Key": f"n-{n}"})
        ids.append(r.json()["id"])
    await eventually(lambda: all(notices(case_id) for case_id in ids))
    # What a failed send and a SendGrid bounce webhook leave in the store.
    with Session(get_engine()) as session:
        rows = list(session.exec(select(Notice).where(col(Notice.case_id).in_(ids[:2]))))
        rows[0].channel, rows[0].status = "sendgrid", "failed"
        rows[1].channel, rows[1].status, rows[1].delivery_status = "sendgrid", "sent", "bounce"
        session.add_all(rows)
        session.commit()
    figures = await scrape(api)
    assert figures[("clauseflow_notices", (("channel", "outbox"), ("status", "outboxed")))] == 1
    assert figures[("clauseflow_notices", (("channel", "sendgrid"), ("status", "failed")))] == 1
    assert figures[("clauseflow_notices", (("channel", "sendgrid"), ("status", "sent")))] == 1
    assert figures[("clauseflow_notice_deliveries", (("delivery_status", "bounce"),))] == 1


async def test_metrics_answer_with_store_down_instead_of_failing(
    api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runtime.settings import get_settings

    # The scraper's token was checked by an earlier scrape: during the outage that check
    # stands in for the store (reads only, for a few minutes; see api/access.py).
    await scrape(api)
    monkeypatch.setenv("DATABASE_URL", "postgresql://clauseflow@127.0.0.1:1/none")
    get_settings.cache_clear()
    get_engine.cache_clear()
    figures = await scrape(api)
    assert figures[("clauseflow_store_up", ())] == 0
    assert not any(name == "clauseflow_cases" for name, _ in figures)
