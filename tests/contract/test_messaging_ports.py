"""The SMS and email senders: one suite, run against the recording fakes and SNS / SES (moto)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from chalicelib.adapters.messaging import SesEmailSender, SnsSmsSender
from chalicelib.bootstrap import Clients
from chalicelib.domain.errors import PermanentDeliveryError
from chalicelib.domain.ports import EmailSender, SmsSender
from chalicelib.settings import Settings
from tests.fakes import RecordingEmailSender, RecordingSmsSender
from tools.local import provision


@pytest.fixture(params=["memory", "aws"])
def senders(request: pytest.FixtureRequest, aws_env: None) -> Iterator[tuple[SmsSender, EmailSender]]:
    if request.param == "memory":
        yield RecordingSmsSender(), RecordingEmailSender()
        return
    with mock_aws():
        settings = Settings()
        clients = Clients(settings)
        provision.ensure_sender(clients.sesv2, settings)
        yield SnsSmsSender(clients.sns), SesEmailSender(clients.sesv2, settings.ses_sender)


def test_each_text_gets_its_own_provider_id(senders: tuple[SmsSender, EmailSender]) -> None:
    sms, _ = senders
    first = sms.send_sms(to="+14045550100", body="Reply STOP to opt out.")
    second = sms.send_sms(to="+14045550100", body="Reply STOP to opt out.")
    assert first and second and first != second


def test_a_number_the_provider_cannot_reach_is_a_permanent_failure(senders: tuple[SmsSender, EmailSender]) -> None:
    sms, _ = senders
    with pytest.raises(PermanentDeliveryError):
        sms.send_sms(to="not-a-number", body="nowhere to send it")


def test_each_email_gets_its_own_provider_id(senders: tuple[SmsSender, EmailSender]) -> None:
    _, email = senders
    headers = {"List-Unsubscribe": "<https://gateway.example/u/x>"}
    first = email.send_email(to="person@example.com", subject="Your account", body="Hello", headers=headers)
    second = email.send_email(to="person@example.com", subject="Your account", body="Hello")
    assert first and second and first != second
