from __future__ import annotations

from moto.backends import get_backend

from chalicelib.services.contacts import submit_contact
from tests.support import make_request, utc


def test_sends_sms_through_sns(gateway):
    result = submit_contact(make_request(), gateway.deps, utc(2026, 3, 2, 15, 0))
    assert result.status == "sent"
    sent = get_backend("sns")["123456789012"]["us-east-1"].sms_messages
    assert list(sent.values())[0][0] == "+14045550100"
