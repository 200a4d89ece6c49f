"""The HTTP edge: request models, field-named validation errors, RFC 9457 problem responses."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

import phonenumbers
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from chalicelib.domain import zones
from chalicelib.domain.model import (
    Channel,
    ContactRequest,
    Location,
    Message,
    OnBlocked,
    Purpose,
    RecipientRole,
    Result,
)
from chalicelib.domain.preferences import Preferences

SAFE_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+$"
)
SMS_MAX = 1600
PROBLEM = "application/problem+json"
MAX_METADATA_BYTES = 4096


class Problem(Exception):
    """An RFC 9457 problem; ``errors`` names each offending field."""

    def __init__(self, status: int, title: str, detail: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.errors = status, title, detail, errors or []

    def body(self, instance: str | None = None) -> dict[str, Any]:
        slug = self.title.lower().replace(" ", "-")
        body: dict[str, Any] = {
            "type": f"https://gateway.example/problems/{slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = self.errors
        return body


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class LocationIn(_Strict):
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    subdivision: str | None = Field(default=None, pattern=r"^[A-Z0-9]{1,3}$")
    timezone: str | None = Field(default=None, max_length=64)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None and not zones.is_known_zone(value):
            raise ValueError(f"{value!r} is not an IANA time zone name")
        return value


class MessageIn(_Strict):
    subject: str | None = Field(default=None, max_length=998)
    body: str = Field(min_length=1, max_length=10_000)


class ContactIn(_Strict):
    debtor_id: str = Field(pattern=SAFE_ID)
    account_id: str = Field(pattern=SAFE_ID)
    channel: Channel
    to: str = Field(min_length=3, max_length=254)
    recipient_role: RecipientRole = RecipientRole.DEBTOR
    location: LocationIn = LocationIn()
    message: MessageIn | None = None
    purpose: Purpose = Purpose.REMINDER
    days_past_due: int | None = Field(default=None, ge=0, le=100_000)
    on_blocked: OnBlocked = OnBlocked.DEFER
    metadata: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _channel_fields(self) -> ContactIn:
        if self.channel is Channel.EMAIL:
            if not EMAIL.match(self.to):
                raise _field_error("to", "must be an email address for channel 'email'")
        elif not _is_e164(self.to):
            raise _field_error("to", f"must be a valid E.164 phone number for channel '{self.channel.value}'")
        if self.channel is not Channel.VOICE and self.message is None:
            raise _field_error("message", f"is required for channel '{self.channel.value}'")
        if self.channel is Channel.SMS and self.message and len(self.message.body) > SMS_MAX:
            raise _field_error("message.body", f"is longer than {SMS_MAX} characters for an SMS")
        if len(json.dumps(self.metadata)) > MAX_METADATA_BYTES:
            raise _field_error("metadata", f"is larger than {MAX_METADATA_BYTES} bytes")
        return self

    def to_domain(self, tenant: str) -> ContactRequest:
        data = self.model_dump(exclude={"location", "message", "at"})
        return ContactRequest(
            tenant=tenant,
            location=Location(**self.location.model_dump()),
            message=Message(**self.message.model_dump()) if self.message else None,
            **data,
        )


class EvaluateIn(ContactIn):
    at: AwareDatetime | None = None


class OutcomeIn(_Strict):
    result: Result
    at: AwareDatetime | None = None

    @field_validator("result")
    @classmethod
    def _voice_result(cls, value: Result) -> Result:
        allowed = ("not_connected", "unanswered", "voicemail", "conversation")
        if value.value not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return value


class PreferencesIn(Preferences):
    """PUT replaces the preferences, PATCH replaces only the top-level fields it names."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: str | None = Field(default=None, max_length=500)
    actor: str | None = Field(default=None, max_length=128)

    def preferences(self) -> Preferences:
        return Preferences.model_validate(self.model_dump(exclude={"reason", "actor"}))

    def patch(self) -> dict[str, Any]:
        return self.model_dump(mode="json", include=self.model_fields_set - {"reason", "actor"})


class AuditQuery(_Strict):
    debtor_id: str = Field(pattern=SAFE_ID)
    limit: int = Field(default=100, ge=1, le=1000)
    cursor: int = Field(default=0, ge=0)

    @classmethod
    def from_params(cls, params: Mapping[str, str] | None) -> AuditQuery:
        """Query strings are text: numbers are parsed here, and every problem names its parameter."""
        try:
            return cls.model_validate(dict(params or {}), strict=False)
        except ValidationError as exc:
            errors = _errors(exc)
            raise Problem(400, "Invalid query", f"{errors[0]['field']}: {errors[0]['message']}", errors) from None


def safe_id(field: str, value: str) -> str:
    """Ids in a path follow the same alphabet as in a body."""
    if not re.match(SAFE_ID, value):
        raise Problem(400, "Invalid path", f"{field}: not a valid id", [{"field": field, "message": "not a valid id"}])
    return value


class _FieldError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def _field_error(field: str, message: str) -> _FieldError:
    return _FieldError(field, message)


def _is_e164(value: str) -> bool:
    if not re.fullmatch(r"\+[1-9]\d{6,14}", value):
        return False
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(value, None))
    except phonenumbers.NumberParseException:
        return False


def _errors(exc: ValidationError) -> list[dict[str, str]]:
    errors = []
    for err in exc.errors():
        ctx_error = (err.get("ctx") or {}).get("error")
        if isinstance(ctx_error, _FieldError):
            errors.append({"field": ctx_error.field, "message": str(ctx_error).split(": ", 1)[1]})
            continue
        field = ".".join(str(p) for p in err["loc"]) or "body"
        errors.append({"field": field, "message": err["msg"]})
    return errors


M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], raw: str | bytes | None) -> M:
    """Parse a JSON body into ``model``; any problem is a 400 naming each field."""
    if not raw:
        raise Problem(
            400,
            "Invalid request body",
            "the request body is empty; a JSON object is required",
            [{"field": "body", "message": "required"}],
        )
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        errors = _errors(exc)
        if any(e["message"].startswith("Invalid JSON") for e in errors):
            raise Problem(
                400,
                "Malformed JSON",
                "the request body is not valid JSON",
                [{"field": "body", "message": errors[0]["message"]}],
            ) from None
        first = errors[0]
        raise Problem(400, "Invalid request body", f"{first['field']}: {first['message']}", errors) from None


def utcnow() -> datetime:
    return datetime.now(UTC)
