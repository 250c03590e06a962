"""A notice is written and sent at most once per (case, notice key)."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import pytest
from sqlmodel import Session, select
from temporalio.exceptions import ApplicationError

from activities.notices import send_notice
from activities.rulebooks import compute_deadlines
from activities.types import ComputeDeadlinesInput, SendNoticeInput
from store.db import get_engine
from store.models import Case, Notice
from store.settings import get_settings
from tests.workflows.helpers import seed_reference_contract
from workers.seed import reference_term_sheet

FACTS = {"notice_received_at": "2026-12-01T15:00:00Z", "given_by": "customer"}


def _case(case_id: str) -> None:
    seed_reference_contract()
    now = dt.datetime.now(dt.UTC)
    with Session(get_engine()) as s:
        s.add(
            Case(
                id=case_id,
                contract_id="ctr_reference_msa",
                clause="termination_for_convenience",
                rulebook_version=1,
                state="notice_period_running",
                state_label="running",
                facts=FACTS,
                opened_at=now,
                updated_at=now,
            )
        )
        s.commit()


def notice_input(case_id: str = "case_n", key: str = "acknowledgement:started") -> SendNoticeInput:
    terms = reference_term_sheet().model_dump(mode="json")
    dls = compute_deadlines(
        ComputeDeadlinesInput("termination_for_convenience", 1, terms, FACTS, ["effective_date"])
    ).deadlines
    return SendNoticeInput(
        case_id=case_id,
        clause="termination_for_convenience",
        rulebook_version=1,
        notice="acknowledgement",
        notice_key=key,
        rule="acknowledge_termination_notice",
        at=dt.datetime(2026, 12, 1, 15, tzinfo=dt.UTC),
        state="notice_period_running",
        terms=terms,
        facts=FACTS,
        deadlines={d.name: d for d in dls},
    )


def rows(case_id: str = "case_n") -> list[Notice]:
    with Session(get_engine()) as s:
        return list(s.exec(select(Notice).where(Notice.case_id == case_id)))


def test_a_retried_outbox_notice_is_written_once(db_url: str) -> None:
    _case("case_n")
    first = send_notice(notice_input())
    again = send_notice(notice_input())
    assert (first.status, first.channel, first.already_sent) == ("outboxed", "outbox", False)
    assert again.already_sent and again.notice_id == first.notice_id
    assert len(rows()) == 1
    assert "Mon 1 Mar 2027" in rows()[0].body_text


def test_a_different_event_gives_a_different_notice(db_url: str) -> None:
    _case("case_n")
    send_notice(notice_input(key="acknowledgement:started"))
    send_notice(notice_input(key="acknowledgement:fact:x:3"))
    assert len(rows()) == 2


class _SendGrid(BaseHTTPRequestHandler):
    """A stand-in for SendGrid's Mail Send endpoint that answers with a scripted status."""

    replies: ClassVar[list[int]] = []
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).received.append(body)
        status = type(self).replies.pop(0) if type(self).replies else 202
        self.send_response(status)
        if status == 202:
            self.send_header("X-Message-Id", f"msg-{len(type(self).received)}")
            self.end_headers()
        else:
            payload = json.dumps({"errors": [{"message": f"scripted {status}"}]}).encode()
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def sendgrid(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_SendGrid]]:
    _SendGrid.replies, _SendGrid.received = [], []
    server = HTTPServer(("127.0.0.1", 0), _SendGrid)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("SENDGRID_API_KEY", "SG.test-key")
    monkeypatch.setenv("SENDGRID_HOST", f"http://127.0.0.1:{server.server_port}")
    get_settings.cache_clear()
    yield _SendGrid
    server.shutdown()
    get_settings.cache_clear()


def test_sendgrid_gets_the_notice_once_with_case_and_notice_ids(sendgrid: type[_SendGrid]) -> None:
    _case("case_n")
    result = send_notice(notice_input())
    send_notice(notice_input())  # a retry after success sends nothing
    assert result.status == "sent" and len(sendgrid.received) == 1
    body = sendgrid.received[0]
    assert body["custom_args"] == {"case_id": "case_n", "notice_id": result.notice_id}
    assert body["categories"] == ["termination_for_convenience"]
    assert [c["type"] for c in body["content"]] == ["text/plain", "text/html"]
    personalization = body["personalizations"][0]
    assert personalization["to"][0]["email"] == "legal@customer.example.com"
    assert personalization["cc"] == [{"email": "contract.owner@customer.example.com"}]
    assert rows()[0].provider_message_id == "msg-1"


def test_sendgrid_429_is_retried_and_then_sent_once(sendgrid: type[_SendGrid]) -> None:
    _case("case_n")
    sendgrid.replies = [429]
    with pytest.raises(RuntimeError, match="429"):
        send_notice(notice_input())
    assert rows()[0].status == "retry"
    assert send_notice(notice_input()).status == "sent"
    assert len(sendgrid.received) == 2 and rows()[0].status == "sent"


def test_sendgrid_400_is_not_retried(sendgrid: type[_SendGrid]) -> None:
    _case("case_n")
    sendgrid.replies = [400]
    with pytest.raises(ApplicationError) as info:
        send_notice(notice_input())
    assert info.value.non_retryable and "400" in str(info.value)
    with pytest.raises(ApplicationError):
        send_notice(notice_input())
    assert len(sendgrid.received) == 1 and rows()[0].status == "failed"


def test_a_notice_left_sending_by_a_dead_worker_is_not_sent_again(
    sendgrid: type[_SendGrid],
) -> None:
    _case("case_n")
    send_notice(notice_input())
    with Session(get_engine()) as s:  # as if the worker died after the request, before the record
        row = s.exec(select(Notice)).one()
        row.status = "sending"
        s.add(row)
        s.commit()
    with pytest.raises(ApplicationError) as info:
        send_notice(notice_input())
    assert info.value.type == "NoticeInDoubt" and info.value.non_retryable
    assert len(sendgrid.received) == 1
