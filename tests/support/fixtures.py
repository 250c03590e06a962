"""Fixtures for tests that send through the SendGrid mock; import them into a test module.

from tests.support.fixtures import sendgrid_mock_fixture  # noqa: F401
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from runtime.settings import get_settings
from tests.conftest import shared_path
from tests.support.sendgrid_mock import SendGridMock


@pytest.fixture(name="sendgrid_mock")
def sendgrid_mock_fixture(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[SendGridMock]:
    """A running SendGrid mock that this process's settings point at.

    After the test it checks that every request passed SendGrid's spec and that the
    mock itself answered as the spec says.
    """
    with SendGridMock(shared_path("sendgrid", "tsg_mail_v3.json")) as mock:
        monkeypatch.setenv("SENDGRID_API_KEY", mock.api_key)
        monkeypatch.setenv("SENDGRID_HOST", mock.url)
        get_settings.cache_clear()
        yield mock
    get_settings.cache_clear()
    assert not mock.invalid, [r.error for r in mock.invalid]
    assert not [r.error for r in mock.requests if r.error], "the mock itself failed"
