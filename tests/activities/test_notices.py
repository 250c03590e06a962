"""A notice is written and sent exactly once per (case, notice key), as SendGrid's spec wants it."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from sqlmodel import Session, select
from temporalio.exceptions import ApplicationError

from activities import notices
from activities.notices import notice_id_for, rewrite_held_notice, send_notice
from activities.rulebooks import compute_deadlines
from activities.types import ComputeDeadlinesInput, SendNoticeInput
from rules.render import RenderedNotice
from runtime.settings import get_settings
from store.db import get_engine
from store.models import Notice
from tests.api.helpers import a_case_without_a_next_deadline, seed
from tests.support.fixtures import sendgrid_mock_fixture  # noqa: F401  (the sendgrid_mock fixture)
from tests.support.sendgrid_mock import Reply, SendGridMock
from tests.workflows.helpers import seed_reference_contract
from workers.seed import reference_term_sheet

FACTS = {"notice_received_at": "2026-12-01T15:00:00Z", "given_by": "customer"}


def _case(case_id: str) -> None:
    seed_reference_contract()
    now = dt.datetime.now(dt.UTC)
    seed(a_case_without_a_next_deadline(case_id, now, state_label="running", facts=FACTS))


def _settle() -> dt.timedelta:
    """How long Email Activity may lag behind a hand-over (the configured setting)."""
    return dt.timedelta(seconds=get_settings().sendgrid_reconcile_settle_seconds)


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


def _left_sending(handed_over: dt.datetime) -> None:
    """As if the worker died after handing the notice to SendGrid, before the record."""
    with Session(get_engine()) as s:
        row = s.exec(select(Notice)).one()
        row.status, row.provider_message_id, row.sent_at = "sending", None, handed_over
        s.add(row)
        s.commit()


def test_sendgrid_gets_one_spec_valid_request_with_both_parts_recipients_and_ids(
    sendgrid_mock: SendGridMock,
) -> None:
    _case("case_n")
    result = send_notice(notice_input())
    again = send_notice(notice_input())  # a retry after success sends nothing
    assert result.status == "sent" and again.already_sent
    assert not sendgrid_mock.invalid and len(sendgrid_mock.requests) == 1
    [sent] = sendgrid_mock.sends
    body = sent.json
    assert sent.headers["authorization"] == "Bearer SG.test-key"
    assert [c["type"] for c in body["content"]] == ["text/plain", "text/html"]
    assert "Mon 1 Mar 2027" in body["content"][0]["value"]
    assert "<" in body["content"][1]["value"]
    [personalization] = body["personalizations"]
    # The notifying party's notice address and its "copy to"; the owner in copy.
    assert personalization["to"] == [
        {"email": "legal@customer.example.com"},
        {"email": "contracts@customer.example.com"},
    ]
    assert personalization["cc"] == [{"email": "contract.owner@customer.example.com"}]
    assert personalization["custom_args"] == {"case_id": "case_n", "notice_id": result.notice_id}
    assert sent.custom_args == {"case_id": "case_n", "notice_id": result.notice_id}
    assert body["categories"] == ["termination_for_convenience"]
    assert body["from"]["email"] == "notices@clauseflow.example.com"
    row = rows()[0]
    assert row.status == "sent" and row.provider_message_id == sent.message_id
    assert sendgrid_mock.accepted_for(result.notice_id) == [sent.message_id]


def test_sendgrid_429_is_retried_and_then_sent_once(sendgrid_mock: SendGridMock) -> None:
    _case("case_n")
    sendgrid_mock.script_send(429)
    with pytest.raises(RuntimeError, match="429") as info:
        send_notice(notice_input())
    assert not isinstance(info.value, ApplicationError)  # retryable: the workflow backs off
    assert rows()[0].status == "retry"
    assert send_notice(notice_input()).status == "sent"
    assert [r.status for r in sendgrid_mock.sends] == [429, 202]
    assert len(sendgrid_mock.accepted_for(rows()[0].id)) == 1 and rows()[0].status == "sent"


def test_sendgrid_500_is_retried(sendgrid_mock: SendGridMock) -> None:
    _case("case_n")
    sendgrid_mock.script_send(500)
    with pytest.raises(RuntimeError, match="500"):
        send_notice(notice_input())
    assert rows()[0].status == "retry"
    assert send_notice(notice_input()).status == "sent"
    assert len(sendgrid_mock.accepted_for(rows()[0].id)) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 413])
def test_a_refused_notice_is_not_retried(sendgrid_mock: SendGridMock, status: int) -> None:
    _case("case_n")
    sendgrid_mock.script_send(Reply(status, f"scripted refusal {status}", field="content"))
    with pytest.raises(ApplicationError) as info:
        send_notice(notice_input())
    assert info.value.non_retryable and info.value.type == "NoticeRejected"
    assert info.value.message.startswith(f"notice could not be sent: SendGrid answered {status}")
    assert f"scripted refusal {status}" in info.value.message
    with pytest.raises(ApplicationError):  # a later attempt does not ask SendGrid again
        send_notice(notice_input())
    assert len(sendgrid_mock.requests) == 1 and rows()[0].status == "failed"


def test_a_notice_sendgrid_accepted_before_the_worker_died_is_recorded_not_resent(
    sendgrid_mock: SendGridMock,
) -> None:
    _case("case_n")
    first = send_notice(notice_input())
    accepted = rows()[0].provider_message_id
    _left_sending(dt.datetime.now(dt.UTC))
    again = send_notice(notice_input())
    assert again.status == "sent" and again.notice_id == first.notice_id
    assert len(sendgrid_mock.sends) == 1
    [query] = sendgrid_mock.activity_queries()
    assert query.query["query"] == [f"unique_args['notice_id']=\"{first.notice_id}\""]
    assert query.status == 200
    row = rows()[0]
    assert row.status == "sent" and row.provider_message_id == accepted


def test_a_notice_sendgrid_never_accepted_is_sent_once_after_the_settle_time(
    sendgrid_mock: SendGridMock,
) -> None:
    _case("case_n")
    sendgrid_mock.script_send(Reply(202, delay=0))
    send_notice(notice_input())
    # Forget what the mock accepted: SendGrid has no message for this notice.
    sendgrid_mock._accepted.clear()
    _left_sending(dt.datetime.now(dt.UTC) - _settle() - dt.timedelta(seconds=1))
    result = send_notice(notice_input())
    assert result.status == "sent"
    assert len(sendgrid_mock.accepted_for(result.notice_id)) == 1
    assert rows()[0].provider_message_id == sendgrid_mock.accepted_for(result.notice_id)[0]


def test_no_match_right_after_the_hand_over_is_asked_again_later_not_resent(
    sendgrid_mock: SendGridMock,
) -> None:
    _case("case_n")
    sendgrid_mock.activity_lag = 3600  # accepted, but not in Email Activity yet
    send_notice(notice_input())
    _left_sending(dt.datetime.now(dt.UTC))
    with pytest.raises(RuntimeError, match="does not show in its Email Activity yet") as info:
        send_notice(notice_input())
    assert not isinstance(info.value, ApplicationError)  # retryable, with backoff
    assert len(sendgrid_mock.sends) == 1 and rows()[0].status == "sending"


def test_an_attempt_that_loses_the_race_to_write_the_notice_does_not_report_it_sent(
    sendgrid_mock: SendGridMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An attempt Temporal timed out wrote the row first and then got SendGrid's 429.

    The attempt that lost the insert must not call the notice done: nobody reads the
    timed-out attempt's answer, so the notice would never go out.
    """
    _case("case_n")
    inp = notice_input()
    real_render = notices.render_notice

    def render_while_the_other_attempt_writes(*args: Any, **kwargs: Any) -> RenderedNotice:
        rendered = real_render(*args, **kwargs)
        with Session(get_engine()) as s:  # the other attempt: row written, SendGrid said 429
            s.add(
                Notice(
                    id=notice_id_for(inp.case_id, inp.notice_key),
                    case_id=inp.case_id,
                    notice_key=inp.notice_key,
                    notice=inp.notice,
                    clause=inp.clause,
                    channel="sendgrid",
                    status="retry",
                    error="SendGrid answered 429",
                    due_at=inp.at,
                    created_at=inp.at,
                    **dataclasses.asdict(rendered),
                )
            )
            s.commit()
        return rendered

    monkeypatch.setattr(notices, "render_notice", render_while_the_other_attempt_writes)
    with pytest.raises(RuntimeError, match="written by another attempt and is retry") as info:
        send_notice(inp)
    assert not isinstance(info.value, ApplicationError)  # retryable: the next attempt sends
    assert sendgrid_mock.sends == []
    monkeypatch.undo()
    result = send_notice(inp)
    assert result.status == "sent" and not result.already_sent
    assert len(sendgrid_mock.accepted_for(result.notice_id)) == 1


def test_two_attempts_never_both_hand_the_notice_to_sendgrid(
    sendgrid_mock: SendGridMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two attempts find the notice left "sending" and SendGrid never got it: one sends."""
    _case("case_n")
    sendgrid_mock.script_send(Reply(202, delay=0))
    send_notice(notice_input())
    sendgrid_mock._accepted.clear()  # SendGrid has no message for this notice
    _left_sending(dt.datetime.now(dt.UTC) - _settle() - dt.timedelta(seconds=1))
    real_reconcile = notices._reconcile
    nested = False

    def reconcile_while_the_other_attempt_sends(row: Notice, key: str) -> str | None:
        nonlocal nested
        answer = real_reconcile(row, key)
        if not nested:  # between this attempt's check and its claim, the other one sends
            nested = True
            assert send_notice(notice_input()).status == "sent"
        return answer

    monkeypatch.setattr(notices, "_reconcile", reconcile_while_the_other_attempt_sends)
    with pytest.raises(RuntimeError, match="being handled by another attempt"):
        send_notice(notice_input())
    [row] = rows()
    assert len(sendgrid_mock.sends) == 2  # the first hand-over SendGrid lost, and one more
    assert sendgrid_mock.accepted_for(row.id) == [row.provider_message_id]
    assert row.status == "sent"


@pytest.mark.parametrize("status", [403, 404, 500])
def test_a_notice_in_doubt_is_not_resent_when_sendgrid_cannot_tell(
    sendgrid_mock: SendGridMock, status: int
) -> None:
    _case("case_n")
    send_notice(notice_input())
    _left_sending(dt.datetime.now(dt.UTC) - _settle() - dt.timedelta(minutes=1))
    sendgrid_mock.script_activity(always=status)
    with pytest.raises(ApplicationError) as info:
        send_notice(notice_input())
    assert info.value.type == "NoticeInDoubt" and info.value.non_retryable
    assert f"answered {status}" in info.value.message
    assert "may already have been sent" in info.value.message
    assert len(sendgrid_mock.sends) == 1 and rows()[0].status == "sending"
    assert rows()[0].error == info.value.message


def test_a_notice_in_doubt_is_not_resent_when_sendgrid_is_unreachable(
    sendgrid_mock: SendGridMock,
) -> None:
    _case("case_n")
    send_notice(notice_input())
    _left_sending(dt.datetime.now(dt.UTC) - _settle() - dt.timedelta(minutes=1))
    sendgrid_mock.stop()
    with pytest.raises(ApplicationError) as info:
        send_notice(notice_input())
    assert info.value.type == "NoticeInDoubt" and "unreachable" in str(info.value)
    assert len(sendgrid_mock.sends) == 1


def test_a_contract_deeming_notice_received_when_sent_records_it_on_sending(db_url: str) -> None:
    _case("case_n")
    inp = notice_input()
    inp.terms = {**inp.terms, "notices": {"deemed_receipt": "sent"}}
    send_notice(inp)
    [row] = rows()
    assert row.deemed_received_at == row.sent_at == inp.at


def test_by_default_notice_is_not_deemed_received_until_delivered(db_url: str) -> None:
    _case("case_n")
    send_notice(notice_input())
    assert rows()[0].deemed_received_at is None


def test_only_a_held_notice_is_written_again(db_url: str) -> None:
    _case("case_n")
    held = notice_input()
    held.hold_for_approval = True
    send_notice(held)
    held.facts = {**held.facts, "given_by": "provider"}
    result = rewrite_held_notice(held)
    [row] = rows()
    assert result.status == row.status == "awaiting_approval"
    assert "legal@provider.example.com" in row.to  # written again from the new facts
    again = rewrite_held_notice(held)  # a retry writes the same notice
    assert again == result and rows()[0].text_sha256 == row.text_sha256
    send_notice(notice_input())  # approved: it goes out (outbox)
    with pytest.raises(ApplicationError) as info:
        rewrite_held_notice(held)
    assert info.value.type == "NoticeNotHeld" and info.value.non_retryable
    assert "outboxed" in info.value.message
