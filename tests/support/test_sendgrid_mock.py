"""The SendGrid mock refuses what SendGrid's spec refuses and answers like SendGrid."""

from __future__ import annotations

import json

import httpx

from tests.conftest import shared_path
from tests.support.sendgrid_mock import SendGridMock

VALID = {
    "personalizations": [{"to": [{"email": "a@example.com"}], "custom_args": {"notice_id": "n1"}}],
    "from": {"email": "b@example.com"},
    "subject": "s",
    "content": [{"type": "text/plain", "value": "hi"}],
}
AUTH = {"Authorization": "Bearer SG.test-key"}


def test_a_request_that_breaks_the_spec_gets_400_and_is_recorded_invalid() -> None:
    with SendGridMock(shared_path("sendgrid", "tsg_mail_v3.json")) as mock:
        # SendGrid's spec types the message-level custom_args as a string.
        body = VALID | {"custom_args": {"notice_id": "n1"}}
        r = httpx.post(f"{mock.url}/v3/mail/send", json=body, headers=AUTH)
        assert r.status_code == 400 and "custom_args" in r.json()["errors"][0]["message"]
        assert len(mock.invalid) == 1 and mock.sends == []


def test_a_valid_request_is_accepted_with_a_message_id_and_shows_in_email_activity() -> None:
    with SendGridMock(shared_path("sendgrid", "tsg_mail_v3.json")) as mock:
        r = httpx.post(f"{mock.url}/v3/mail/send", json=VALID, headers=AUTH)
        assert r.status_code == 202 and r.headers["X-Message-Id"]
        q = {"query": "unique_args['notice_id']=\"n1\"", "limit": "10"}
        found = httpx.get(f"{mock.url}/v3/messages", params=q, headers=AUTH).json()
        assert found["messages"][0]["msg_id"].startswith(r.headers["X-Message-Id"] + ".")
        q["query"] = "unique_args['notice_id']=\"n2\""
        assert httpx.get(f"{mock.url}/v3/messages", params=q, headers=AUTH).json() == {
            "messages": []
        }
        mock.script_activity(always=403)
        assert httpx.get(f"{mock.url}/v3/messages", params=q, headers=AUTH).status_code == 403
        assert not mock.invalid


def test_a_request_without_the_api_key_is_refused_by_the_spec() -> None:
    with SendGridMock(shared_path("sendgrid", "tsg_mail_v3.json")) as mock:
        r = httpx.post(f"{mock.url}/v3/mail/send", content=json.dumps(VALID))
        assert r.status_code == 400 and "BearerAuth" in r.text
        assert len(mock.invalid) == 1
