"""Providers: SMS through SNS ``Publish``, email through SES v2 ``SendEmail``."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.errors import delivery_call

SNS_PERMANENT = frozenset(
    {"InvalidParameter", "InvalidParameterValue", "AuthorizationError", "EndpointDisabled", "OptedOut", "NotFound"}
)
SES_PERMANENT = frozenset(
    {
        "MessageRejected",
        "MailFromDomainNotVerifiedException",
        "AccountSuspendedException",
        "SendingPausedException",
        "BadRequestException",
        "NotFoundException",
    }
)


class SnsSmsSender:
    def __init__(self, client: Any, sender_id: str | None = None) -> None:
        self._client = client
        self._sender_id = sender_id

    def send_sms(self, *, to: str, body: str) -> str:
        attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
        if self._sender_id:
            attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": self._sender_id}
        response = delivery_call(
            lambda: self._client.publish(PhoneNumber=to, Message=body, MessageAttributes=attributes),
            SNS_PERMANENT,
        )
        return str(response["MessageId"])


class SesEmailSender:
    def __init__(self, client: Any, sender: str, configuration_set: str | None = None) -> None:
        self._client = client
        self._sender = sender
        self._configuration_set = configuration_set

    def send_email(self, *, to: str, subject: str, body: str, headers: dict[str, str] | None = None) -> str:
        request: dict[str, Any] = {
            "FromEmailAddress": self._sender,
            "Destination": {"ToAddresses": [to]},
            "Content": {
                "Simple": {
                    "Subject": {"Data": subject, "Charset": "UTF-8"},
                    "Body": {"Text": {"Data": body, "Charset": "UTF-8"}},
                    "Headers": [{"Name": k, "Value": v} for k, v in (headers or {}).items()],
                }
            },
        }
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        response = delivery_call(lambda: self._client.send_email(**request), SES_PERMANENT)
        return str(response["MessageId"])
