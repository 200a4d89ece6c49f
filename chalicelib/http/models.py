"""Request models of the HTTP edge and their parse helpers: every error names its field."""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, TypeVar

import phonenumbers
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from chalicelib.domain import zones
from chalicelib.domain.access import Principal
from chalicelib.domain.addresses import EMAIL
from chalicelib.domain.events import OUTCOME_FILTER_PATTERN
from chalicelib.domain.impact_spec import MAX_PACKS, ImpactSpec, Mode
from chalicelib.domain.model import (
    Channel,
    ContactRequest,
    DeliveryStatus,
    Location,
    Message,
    OnBlocked,
    Purpose,
    RecipientRole,
    Result,
)
from chalicelib.domain.pacing import MAX_RATE, MIN_RATE
from chalicelib.domain.preferences import (
    MAX_ATTORNEY,
    MAX_CEASE,
    MAX_CONSENTS,
    MAX_INCONVENIENT_TIMES,
    MAX_OPT_OUTS,
    Consent,
    InconvenientTime,
    OptOut,
    PerDebt,
    Preferences,
    StatedPreferences,
)
from chalicelib.domain.templates import LOCALE, MAX_TEXT, MAX_VARIABLES
from chalicelib.http.problems import InvalidJsonError, Problem
from chalicelib.services.audit_read import EventQuery
from chalicelib.services.debtor_status import Probe
from chalicelib.services.exports import ExportSpec
from chalicelib.services.template_contacts import TemplateUse

SAFE_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
SMS_MAX = 1600
MAX_METADATA_BYTES = 4096


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)


class LocationIn(_Strict):
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    subdivision: str | None = Field(default=None, pattern=r"^[A-Z0-9]{1,3}$")
    timezone: str | None = Field(default=None, max_length=64)
    # Any country's; read for US (ZIP, ZIP+4), CA and AU. One that is unknown or malformed is kept and
    # not used: the subdivision decides, and the decision says so (never a wider window than its own).
    postal_code: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9 -]{0,15}$",
        description="postal code of the address: US ZIP or ZIP+4, Canadian postal code or FSA, Australian "
        "postcode; an unknown one falls back to the subdivision",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None and not zones.is_known_zone(value):
            raise ValueError(f"{value!r} is not an IANA time zone name")
        return value


# C0 controls but tab, line feed and carriage return; DEL; the C1 block. None belongs in a message.
CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
MAX_METADATA_DEPTH = 4
MAX_SAFE_INTEGER = 2**53 - 1  # larger integers do not survive a JSON reader that uses doubles


def normalized_text(value: str | None) -> str | None:
    """NFC, so the same words are the same text (content rules, hashes, opt-out phrases); no controls."""
    if value is None:
        return None
    if CONTROLS.search(value):
        raise ValueError("contains a control character")
    return unicodedata.normalize("NFC", value)


def check_metadata(value: Any, path: str = "metadata", depth: int = 0) -> None:
    """Free-form, but only what every JSON reader reads the same: finite numbers, safe integers, plain
    strings and keys, and shallow. It is stored inside the hashed audit events and the export bundles."""
    if depth > MAX_METADATA_DEPTH:
        raise _field_error(path, f"nests deeper than {MAX_METADATA_DEPTH} levels")
    if isinstance(value, dict):
        for key, item in value.items():
            if not 1 <= len(key) <= 64 or CONTROLS.search(key):
                raise _field_error(path, "keys are 1 to 64 characters without control characters")
            check_metadata(item, f"{path}.{key}", depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_metadata(item, f"{path}[{index}]", depth + 1)
    elif isinstance(value, float) and not math.isfinite(value):
        raise _field_error(path, "numbers must be finite")
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_SAFE_INTEGER:
        raise _field_error(path, f"integers are at most {MAX_SAFE_INTEGER} in size")
    elif isinstance(value, str) and CONTROLS.search(value):
        raise _field_error(path, "contains a control character")


class MessageIn(_Strict):
    subject: str | None = Field(default=None, max_length=998)
    body: str = Field(min_length=1, max_length=10_000)

    @field_validator("subject")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        if value is not None and ("\n" in value or "\r" in value):
            raise ValueError("is one line: no line breaks in a subject")
        return normalized_text(value)

    @field_validator("body")
    @classmethod
    def _normalized(cls, value: str) -> str:
        return normalized_text(value) or value


MAX_TEMPLATE_VARIABLES_BYTES = 4096


class TemplateUseIn(_Strict):
    """A contact's message from a template: the approved version named, else the latest approved in
    ``locale``, rendered with ``variables`` (docs/templates.md)."""

    id: str = Field(pattern=SAFE_ID)
    version: int | None = Field(default=None, ge=1)
    locale: str = Field(pattern=LOCALE.pattern)
    variables: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _small_and_plain(self) -> TemplateUseIn:
        if len(json.dumps(self.variables)) > MAX_TEMPLATE_VARIABLES_BYTES:
            raise _field_error("template.variables", f"is larger than {MAX_TEMPLATE_VARIABLES_BYTES} bytes")
        check_metadata(self.variables, "template.variables")
        return self

    def to_use(self) -> TemplateUse:
        return TemplateUse(id=self.id, locale=self.locale, version=self.version, variables=dict(self.variables))


class ContactIn(_Strict):
    debtor_id: str = Field(pattern=SAFE_ID)
    account_id: str = Field(pattern=SAFE_ID)
    channel: Channel
    to: str = Field(min_length=3, max_length=254)
    recipient_role: RecipientRole = RecipientRole.DEBTOR
    location: LocationIn = LocationIn()
    message: MessageIn | None = None
    template: TemplateUseIn | None = None  # instead of ``message``: an approved template, rendered
    purpose: Purpose = Purpose.REMINDER
    days_past_due: int | None = Field(default=None, ge=0, le=100_000)
    on_blocked: OnBlocked = OnBlocked.DEFER
    metadata: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _channel_fields(self) -> ContactIn:
        if self.channel is Channel.EMAIL:
            if not EMAIL.fullmatch(self.to):
                raise _field_error("to", "must be an email address for channel 'email'")
        elif not _is_e164(self.to):
            raise _field_error("to", f"must be a valid E.164 phone number for channel '{self.channel.value}'")
        if self.template is not None and (self.message is not None or self.channel is Channel.VOICE):
            reason = "give a message or a template, not both" if self.message else "a call carries no message"
            raise _field_error("template", reason)
        if self.channel is not Channel.VOICE and self.message is None and self.template is None:
            raise _field_error("message", f"is required for channel '{self.channel.value}' (or name a template)")
        if self.channel is Channel.SMS and self.message and len(self.message.body) > SMS_MAX:
            raise _field_error("message.body", f"is longer than {SMS_MAX} characters for an SMS")
        if len(json.dumps(self.metadata)) > MAX_METADATA_BYTES:
            raise _field_error("metadata", f"is larger than {MAX_METADATA_BYTES} bytes")
        check_metadata(self.metadata)
        return self

    def to_domain(self, tenant: str, agency: str | None = None, submitted_by: str | None = None) -> ContactRequest:
        data = self.model_dump(exclude={"location", "message", "at", "template"})
        return ContactRequest(
            tenant=tenant,
            agency=agency,
            submitted_by=submitted_by,
            location=Location(**self.location.model_dump()),
            message=Message(**self.message.model_dump()) if self.message else None,
            **data,
        )

    def template_use(self) -> TemplateUse | None:
        return self.template.to_use() if self.template else None


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


class PreferencesIn(StatedPreferences):
    """PUT replaces the preferences, PATCH replaces only the top-level fields it names.

    Open disputes are not among them: only resolving a dispute (its own audited route) closes one, so
    a PUT cannot lift a dispute's hold by leaving it out (extra fields are refused)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    # Each list has a maximum (chalicelib/domain/preferences.py): one more is a 400 naming the list.
    opt_outs: tuple[OptOut, ...] = Field(default=(), max_length=MAX_OPT_OUTS)
    cease: tuple[PerDebt, ...] = Field(default=(), max_length=MAX_CEASE)
    attorney: tuple[PerDebt, ...] = Field(default=(), max_length=MAX_ATTORNEY)
    inconvenient_times: tuple[InconvenientTime, ...] = Field(default=(), max_length=MAX_INCONVENIENT_TIMES)
    consents: tuple[Consent, ...] = Field(default=(), max_length=MAX_CONSENTS)
    reason: str | None = Field(default=None, max_length=500)
    actor: str | None = Field(default=None, max_length=128)

    @field_validator("reason", "actor")
    @classmethod
    def _normalized(cls, value: str | None) -> str | None:
        return normalized_text(value)

    def preferences(self) -> Preferences:
        return Preferences.model_validate(self.model_dump(exclude={"reason", "actor"}))

    def patch(self) -> dict[str, Any]:
        return self.model_dump(mode="json", include=self.model_fields_set - {"reason", "actor"})


class PreferencesQuery(BaseModel):
    """What the OpenAPI document shows of ``GET .../preferences``'s query (parsed by ``addresses_param``)."""

    addresses: str | None = Field(
        default=None,
        max_length=16_000,
        description="more of the person's addresses (E.164 numbers, emails), comma-separated, whose "
        "suppressions to report beside the ones of the addresses in the person's ledger",
    )


def addresses_param(value: str | None, limit: int) -> tuple[str, ...]:
    """``?addresses=+14045550100,jane@example.com``: phone numbers (E.164) and email addresses."""
    addresses = tuple(a.strip() for a in (value or "").split(",") if a.strip())
    bad = next((a for a in addresses if not (_is_e164(a) or EMAIL.fullmatch(a))), None)
    message = f"at most {limit}" if len(addresses) > limit else "not an E.164 number or an email address"
    if bad is not None or len(addresses) > limit:
        raise Problem(400, "Invalid query", f"addresses: {message}", [{"field": "addresses", "message": message}])
    return addresses


OUTCOME_VALUES = OUTCOME_FILTER_PATTERN


def instant(value: Any, *, end: bool) -> datetime | None:
    """An ISO 8601 instant with its offset, or a date: the start of that UTC day (for ``to``, the end)."""
    if value is None or isinstance(value, datetime):
        return value
    text = str(value).strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError:
            raise ValueError("not a date (YYYY-MM-DD)") from None
        return _in_calendar(day + timedelta(days=1) if end and day.year < 9999 else day)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("not a date (YYYY-MM-DD) or an ISO 8601 instant") from None
    if parsed.tzinfo is None:
        raise ValueError("an instant needs its UTC offset, e.g. 2026-11-28T09:00:00+08:00")
    return _in_calendar(parsed)


def _in_calendar(at: datetime) -> datetime:
    """Years the trail can hold: ranges are shifted by days and converted to UTC, which must not overflow."""
    if not 1970 <= at.year <= 9000:
        raise ValueError("must be between the years 1970 and 9000")
    return at


class _Range(_Strict):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True, defer_build=True)

    start: datetime | None = Field(default=None, alias="from")
    end: datetime | None = Field(default=None, alias="to")

    @field_validator("start", mode="before")
    @classmethod
    def _start(cls, value: Any) -> datetime | None:
        return instant(value, end=False)

    @field_validator("end", mode="before")
    @classmethod
    def _end(cls, value: Any) -> datetime | None:
        return instant(value, end=True)

    @classmethod
    def from_params(cls: type[Q], params: Mapping[str, str] | None) -> Q:
        """Query strings are text: numbers and instants are parsed here, every problem names its parameter."""
        try:
            return cls.model_validate(dict(params or {}), strict=False)
        except ValidationError as exc:
            errors = _errors(exc)
            raise Problem(400, "Invalid query", f"{errors[0]['field']}: {errors[0]['message']}", errors) from None


Q = TypeVar("Q", bound=_Range)


class AuditQuery(_Range):
    debtor_id: str | None = Field(default=None, pattern=SAFE_ID)
    account_id: str | None = Field(default=None, pattern=SAFE_ID)
    channel: Channel | None = None
    outcome: str | None = Field(default=None, pattern=OUTCOME_VALUES)
    status: str | None = Field(default=None, pattern=OUTCOME_VALUES)  # the same filter, by its other name
    type: str | None = Field(default=None, pattern=r"^[a-z_]{1,40}$")
    delivery: DeliveryStatus | None = None  # receipts (``delivery`` events) that report this state
    order: Literal["asc", "desc"] = "asc"
    limit: int = Field(default=100, ge=1, le=1000)
    cursor: str | None = Field(default=None, max_length=4096)
    # A phone number (any format; national ones read as North American) or an email: every event of the
    # tenant to it, across debtors, contact by contact in ``order`` (docs/decisions/0036).
    address: str | None = Field(default=None, min_length=3, max_length=320)

    @model_validator(mode="after")
    def _address_alone(self) -> AuditQuery:
        others = ("debtor_id", "account_id", "channel", "outcome", "status", "type", "start", "end")
        given = [name for name in others if getattr(self, name) is not None]
        if self.address is not None and given:
            raise _field_error("address", "combines with order, limit and cursor only")
        return self

    def address_paging(self) -> dict[str, Any]:
        return {"descending": self.order == "desc", "limit": self.limit, "cursor": self.cursor}

    @model_validator(mode="after")
    def _delivery_alone(self) -> AuditQuery:
        if self.delivery and (self.outcome or self.status):
            raise _field_error("delivery", "selects receipts by their delivery state; give it without 'outcome'")
        if self.delivery and self.type not in (None, "delivery"):
            raise _field_error("delivery", "selects events of type 'delivery'; give it without another 'type'")
        return self

    def to_query(self) -> EventQuery:
        if self.outcome and self.status and self.outcome != self.status:
            raise Problem(
                400,
                "Invalid query",
                "status: is another name of 'outcome'; give one of them",
                [{"field": "status", "message": "conflicts with 'outcome'"}],
            )
        return EventQuery(
            debtor_id=self.debtor_id,
            account_id=self.account_id,
            channel=self.channel.value if self.channel else None,
            outcome=self.outcome or self.status,
            type=self.type,
            delivery=self.delivery.value if self.delivery else None,
            start=self.start,
            end=self.end,
            descending=self.order == "desc",
            limit=self.limit,
        )


class VerifyQuery(_Range):
    """One chain (``debtor_id``), or every chain touched in ``[from, to)``."""

    debtor_id: str | None = Field(default=None, pattern=SAFE_ID)
    cursor: str | None = Field(default=None, max_length=4096)
    limit: int = Field(default=200, ge=1, le=1000)

    @model_validator(mode="after")
    def _one_or_range(self) -> VerifyQuery:
        if not self.debtor_id and not (self.start and self.end):
            raise _field_error("debtor_id", "give debtor_id, or 'from' and 'to'")
        return self


MAX_EXPORT_REASON = 500


class ExportIn(_Range):
    debtor_id: str | None = Field(default=None, pattern=SAFE_ID)
    account_id: str | None = Field(default=None, pattern=SAFE_ID)
    formats: list[Literal["csv", "jsonl", "pdf"]] = Field(min_length=1, max_length=3)
    # Addresses and message text are masked unless asked otherwise, with a reason the trail keeps.
    unmasked: bool = False
    reason: str | None = Field(default=None, max_length=MAX_EXPORT_REASON)

    def to_spec(self) -> ExportSpec:
        return ExportSpec(
            debtor_id=self.debtor_id,
            account_id=self.account_id,
            start=self.start,
            end=self.end,
            formats=tuple(dict.fromkeys(self.formats)),
            masked=not self.unmasked,
            reason=(self.reason or "").strip() or None,
        )


class BatchItemIn(ContactIn):
    """One request of a batch: the body of ``POST /v1/contacts``, with its own idempotency key if it has one."""

    idempotency_key: str | None = Field(default=None, pattern=SAFE_ID)


MAX_BATCH = 500
MAX_BATCH_ERRORS = 200


class BatchIn(_Strict):
    """Up to 500 requests. Any invalid one refuses the whole batch (400, each error naming its request),
    unless ``accept_valid``: then the valid ones are queued and the others kept as ``invalid`` results."""

    contacts: list[BatchItemIn] = Field(min_length=1, max_length=MAX_BATCH)
    accept_valid: bool = False


class _BatchEnvelope(_Strict):
    contacts: list[Any] = Field(min_length=1, max_length=MAX_BATCH)
    accept_valid: bool = False


MAX_ITEM_ERRORS = 10  # per request: enough to fix it, bounded whatever the request holds


def _item_errors(index: int, item: Any, keys: dict[str, int]) -> tuple[BatchItemIn | None, list[dict[str, str]]]:
    if not isinstance(item, dict):
        return None, [{"field": f"contacts[{index}]", "message": "must be an object"}]
    try:
        parsed = BatchItemIn.model_validate_json(json.dumps(item))
    except ValidationError as exc:
        named = [
            {"field": f"contacts[{index}].{e['field']}"[:200], "message": e["message"][:300]} for e in _errors(exc)
        ]
        return None, named[:MAX_ITEM_ERRORS]
    key = parsed.idempotency_key
    if key is not None and key in keys:
        return None, [{"field": f"contacts[{index}].idempotency_key", "message": f"also used by contacts[{keys[key]}]"}]
    if key is not None:
        keys[key] = index
    return parsed, []


def parse_batch(raw: str | bytes | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(valid items as {index, body, idempotency_key}, rejected items as {index, errors}); rejected items only
    when the batch says ``accept_valid``, else a 400 naming every invalid request.

    Each request is validated on its own, as ``POST /v1/contacts`` would, so every error names its request
    (``contacts[3].to``); two requests of one batch cannot share an ``idempotency_key``."""
    envelope = parse(_BatchEnvelope, raw)
    valid: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    keys: dict[str, int] = {}
    for index, item in enumerate(envelope.contacts):
        parsed, problems = _item_errors(index, item, keys)
        if parsed is None:
            rejected.append({"index": index, "errors": problems})
            continue
        body = parsed.model_dump(mode="json", exclude={"idempotency_key"})
        valid.append({"index": index, "body": body, "idempotency_key": parsed.idempotency_key})
    if rejected and not envelope.accept_valid:
        errors: list[dict[str, str]] = [e for r in rejected for e in r["errors"]]
        shown = errors[:MAX_BATCH_ERRORS]
        more = f" (and {len(errors) - len(shown)} more errors)" if len(errors) > len(shown) else ""
        detail = f"{len(rejected)} of {len(envelope.contacts)} requests are invalid; nothing was queued{more}"
        raise Problem(400, "Invalid requests in batch", detail, shown)
    return valid, rejected


class KeyIn(_Strict):
    """An admin issues a key for the admin's own tenant."""

    role: Literal["submitter", "compliance", "regulator", "admin"]
    agency: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    name: str | None = Field(default=None, max_length=128)

    @field_validator("name")
    @classmethod
    def _normalized(cls, value: str | None) -> str | None:
        return normalized_text(value)


class WebhookIn(_Strict):
    """A webhook for the admin's own tenant; ``agency``: it sees only that agency's contacts."""

    url: str = Field(min_length=8, max_length=2048)
    events: list[str] = Field(min_length=1, max_length=20)
    description: str | None = Field(default=None, max_length=200)
    agency: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")

    @field_validator("description")
    @classmethod
    def _normalized(cls, value: str | None) -> str | None:
        return normalized_text(value)


class SettingsIn(_Strict):
    """A change of the caller's tenant's settings: the fields sent are set, null clears one."""

    sms_rate_per_second: float | None = Field(default=None, ge=MIN_RATE, le=MAX_RATE)
    email_rate_per_second: float | None = Field(default=None, ge=MIN_RATE, le=MAX_RATE)
    require_approved_templates: bool | None = None

    @model_validator(mode="after")
    def _something(self) -> SettingsIn:
        if not self.model_fields_set:
            raise _field_error("body", "name at least one setting")
        return self

    def patch(self) -> dict[str, Any]:
        return self.model_dump(include=self.model_fields_set)


class GrantIn(_Strict):
    key_id: str = Field(pattern=r"^k_[0-9a-f]{16}$")


class PolicyImpactIn(_Range):
    """A range of the tenant's decisions to replay, the proposed packs (id -> YAML) to replay it under, and
    the history the proposed packs are judged against (decision 0039)."""

    packs: dict[str, str] = Field(min_length=1, max_length=MAX_PACKS)
    mode: Literal["recorded", "counterfactual"] = "recorded"

    def to_spec(self) -> ImpactSpec:
        if self.start is None or self.end is None:
            missing = "from" if self.start is None else "to"
            raise Problem(422, "Invalid field", f"{missing}: required", [{"field": missing, "message": "required"}])
        return ImpactSpec(start=self.start, end=self.end, packs=self.packs, mode=Mode(self.mode))


class ResolutionIn(_Strict):
    """How a compliance officer closes a dispute's review: the reason is required and audited."""

    reason: str = Field(min_length=1, max_length=500)
    actor: str | None = Field(default=None, max_length=128)

    @field_validator("reason", "actor")
    @classmethod
    def _normalized(cls, value: str | None) -> str | None:
        return normalized_text(value)


def version_number(value: str) -> int:
    """A version in a path: 1, 2, ..."""
    if not re.fullmatch(r"[1-9]\d{0,5}", value):
        raise Problem(
            400,
            "Invalid path",
            "version: not a version number",
            [{"field": "version", "message": "not a version number"}],
        )
    return int(value)


def safe_id(field: str, value: str) -> str:
    """Ids in a path follow the same alphabet as in a body."""
    if not re.fullmatch(SAFE_ID, value):
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
        malformed = next((e for e in exc.errors() if e["type"] == "json_invalid"), None)
        if malformed is not None:
            raise InvalidJsonError(malformed["msg"]) from None
        errors = _errors(exc)
        first = errors[0]
        raise Problem(400, "Invalid request body", f"{first['field']}: {first['message']}", errors) from None


def without_agency(who: Principal, field: str) -> Principal:
    """A caller that is no collection agency's: what reaches across every debtor of the tenant is the
    creditor's alone (an agency sees only its own contacts)."""
    if who.agency is not None:
        message = "an agency key may not search across debtors"
        raise Problem(403, "Forbidden", f"{field}: {message}", [{"field": field, "message": message}])
    return who


class StatusQuery(_Strict):
    """``GET /v1/debtors/{id}/status``: which kind of contact to report on (default: each the ledger holds),
    and where the person is when their ledger holds no deferred contact to take it from."""

    channel: Channel | None = None
    account_id: str | None = Field(default=None, pattern=SAFE_ID)
    address: str | None = Field(default=None, min_length=3, max_length=320, description="the number or email")
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    subdivision: str | None = Field(default=None, pattern=r"^[A-Z0-9]{1,3}$")
    postal_code: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9 -]{0,15}$")
    timezone: str | None = Field(default=None, max_length=64)

    @classmethod
    def from_params(cls, params: Mapping[str, str] | None) -> StatusQuery:
        try:
            parsed = cls.model_validate(dict(params or {}), strict=False)
            if parsed.timezone is not None:
                LocationIn(timezone=parsed.timezone)
        except ValidationError as exc:
            errors = _errors(exc)
            raise Problem(400, "Invalid query", f"{errors[0]['field']}: {errors[0]['message']}", errors) from None
        return parsed

    def to_probe(self) -> Probe:
        where = {k: getattr(self, k) for k in ("country", "subdivision", "postal_code", "timezone")}
        location = Location(**where) if any(where.values()) else None
        return Probe(channel=self.channel, account_id=self.account_id, to=self.address, location=location)


class NoteIn(_Strict):
    """``POST /v1/debtors/{id}/notes``: a complaint or an officer's note, audited on the person's chain."""

    category: Literal["complaint", "note", "hardship", "vulnerability", "legal", "other"]
    text: str = Field(min_length=1, max_length=4000)
    contact_ids: tuple[str, ...] = Field(default=(), max_length=20)
    actor: str | None = Field(default=None, max_length=128, description="the officer, as the tenant names them")

    @field_validator("text", "actor")
    @classmethod
    def _normalized(cls, value: str | None) -> str | None:
        return normalized_text(value)

    @field_validator("contact_ids")
    @classmethod
    def _ids(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = next((v for v in value if not re.fullmatch(SAFE_ID, v)), None)
        if bad is not None:
            raise ValueError(f"{bad!r} is not a contact id")
        return tuple(dict.fromkeys(value))


class ReportQuery(_Strict):
    """``GET /v1/reports/daily?date=YYYY-MM-DD``: a UTC day (default: yesterday)."""

    date: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")


def report_day(params: Mapping[str, str] | None, today: datetime) -> date:
    """The report's day: ``date``, from 2000-01-01 to today; yesterday when none is given."""
    try:
        text = ReportQuery.model_validate(dict(params or {}), strict=False).date
        day = datetime.strptime(text, "%Y-%m-%d").date() if text else None
    except ValidationError as exc:
        errors = _errors(exc)
        raise Problem(400, "Invalid query", f"{errors[0]['field']}: {errors[0]['message']}", errors) from None
    except ValueError:
        raise _query_problem("date", "not a date (YYYY-MM-DD)") from None
    if day is not None and not date(2000, 1, 1) <= day <= today.date():
        raise _query_problem("date", "must be a day from 2000-01-01 to today")
    return day or (today - timedelta(days=1)).date()


def _query_problem(field: str, message: str) -> Problem:
    return Problem(400, "Invalid query", f"{field}: {message}", [{"field": field, "message": message}])


class TemplateIn(_Strict):
    """A new template: its name and channel; ``jurisdictions`` (pack ids) narrows which packs' content
    rules judge it (none given: every pack's)."""

    name: str = Field(min_length=1, max_length=128)
    channel: Literal["sms", "email"]
    description: str | None = Field(default=None, max_length=1000)
    jurisdictions: list[str] | None = Field(default=None, max_length=20)

    @field_validator("name", "description")
    @classmethod
    def _normalized(cls, value: str | None) -> str | None:
        return normalized_text(value)

    @field_validator("jurisdictions")
    @classmethod
    def _pack_ids(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and any(not re.fullmatch(r"[a-z0-9-]{1,64}", p) for p in value):
            raise ValueError("pack ids: lowercase letters, digits and '-'")
        return value


class VersionIn(_Strict):
    """A new draft version of a template: one locale's text, its typed variables, an email's subject."""

    locale: str = Field(pattern=LOCALE.pattern)
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    variables: dict[str, str] = Field(
        default_factory=dict,
        max_length=MAX_VARIABLES,
        description="name -> type: string, amount, date, creditor, agency, payment_link, phone, integer; "
        "a '?' after the type makes it optional",
    )
    subject: str | None = Field(default=None, min_length=1, max_length=998)

    @field_validator("text", "subject")
    @classmethod
    def _normalized(cls, value: str | None) -> str | None:
        return normalized_text(value)

    @field_validator("subject")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        if value is not None and ("\n" in value or "\r" in value):
            raise ValueError("is one line: no line breaks in a subject")
        return value

    def declared(self) -> dict[str, str]:
        return dict(self.variables)


class PreviewIn(_Strict):
    """The values to render a version with."""

    variables: dict[str, Any] = Field(default_factory=dict)
