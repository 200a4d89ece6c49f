"""Logging for every request: Powertools Logger, structured JSON, a correlation id, and no personal data.

Every line keeps phone numbers, email addresses and message bodies out (``chalicelib.domain.masking`` says
how each is recognised and rendered). Three layers do it, installed when this module is imported (``app.py``
imports it before any route runs):

1. ``MaskingFormatter`` writes each line of the Powertools Logger: bodies masked by key in the structured
   record (``extra`` fields, dict messages) and as quoted pairs in its strings (a traceback), then numbers
   and addresses masked in the final JSON line, which also covers objects only turned into strings while
   serialising (an exception's value).
2. The plain ``logging.getLogger(__name__)`` loggers under ``chalicelib`` go through the same handler
   (Powertools ``copy_config_to_registered_loggers``): same JSON shape, same correlation id, same masking.
3. A log-record factory masks the message, its arguments and the traceback of every record of every
   logger as the record is made. It is the one hook that sees records bound for handlers we do not own
   (the Lambda runtime's on the root logger, pytest's): a filter on the root logger would not do, as
   logging consults a logger's filters only for records logged to that very logger, not for records
   propagated from its children. ``extra`` fields are added after the factory runs; layer 1 masks them.

The AWS SDK, urllib3 and s3transfer are held at INFO: their DEBUG output dumps whole requests and
responses, personal data by construction, in encodings (form-encoded, JSON inside JSON strings, bytes) that
no mask can be sure to follow. If someone lowers the level to debug the SDK, layer 3 still masks numbers,
addresses and the bodies it can find (JSON, repr, JSON inside JSON strings): the integration test lifts
the cap and finds no leak in today's calls, but a new encoding could slip past.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.logging.types import LogRecord
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

from chalicelib.domain.masking import mask_addresses, mask_fields, mask_text, provider_error_text

WIRE_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer")
MAX_CORRELATION_ID = 128


def format_exception(exc_info: Any) -> str:
    """A masked traceback in which each provider error of the chain shows its code, never its text."""
    _, exc, tb = exc_info
    formatted = traceback.TracebackException(type(exc), exc, tb, compact=True)
    _name_provider_errors(formatted, exc)
    return mask_text("".join(formatted.format()).rstrip("\n"))


def _name_provider_errors(formatted: traceback.TracebackException | None, exc: BaseException | None) -> None:
    if formatted is None or exc is None:
        return
    text = provider_error_text(exc)
    if text is not None:
        formatted._str = text  # type: ignore[attr-defined]  # what format_exception_only writes after the name
    _name_provider_errors(formatted.__cause__, exc.__cause__)
    _name_provider_errors(formatted.__context__, exc.__context__)


class MaskingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON lines, with bodies masked by key and addresses masked everywhere."""

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging.Formatter's name
        return format_exception(ei)

    def serialize(self, log: LogRecord) -> str:
        # "message" is the line's own text, not a body: its value is masked, not replaced
        masked = {key: mask_fields(value, "" if key == "message" else key) for key, value in log.items()}
        return mask_addresses(super().serialize(masked))


logger = Logger(service="contact-gateway", logger_formatter=MaskingFormatter())


def mask_record(record: logging.LogRecord) -> None:
    """Mask ``record``'s message, arguments and traceback in place (formatting the message once, here)."""
    if isinstance(record.msg, (dict, list)) and not record.args:
        record.msg = mask_fields(record.msg)
    else:
        record.args = mask_fields(record.args)
        record.msg, record.args = mask_text(_message(record)), ()
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        record.exc_text = format_exception(record.exc_info)


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:  # a call whose arguments do not fit its format: keep both, never raise in the caller
        return f"{record.msg} {record.args}"


def _masking(make: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def make_masked(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        mask_record(record)
        return record

    make_masked.masks_personal_data = True  # type: ignore[attr-defined]
    return make_masked


def install_log_masking() -> None:
    """Layers 2 and 3 of the module docstring, and the SDK's level; calling it again changes nothing."""
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "masks_personal_data", False):
        logging.setLogRecordFactory(_masking(factory))
    logging.getLogger("chalicelib")  # registered, so that Powertools finds it
    copy_config_to_registered_loggers(source_logger=logger, include={"chalicelib"})
    for name in WIRE_LOGGERS:
        wire = logging.getLogger(name)
        if wire.level < logging.INFO:  # unset or DEBUG: no later change to the root level may open it
            wire.setLevel(max(logging.INFO, wire.getEffectiveLevel()))


install_log_masking()


def http_middleware(event: Any, get_response: Callable[[Any], Any]) -> Any:
    correlation_id = event.headers.get("x-correlation-id") or event.context.get("requestId", "local")
    correlation_id = correlation_id[:MAX_CORRELATION_ID]
    logger.set_correlation_id(correlation_id)
    try:
        started = time.perf_counter()
        response = get_response(event)
        caller = event.context.get("authorizer") or {}  # who asked: tenant, role and key id, never the key
        logger.info(
            "request",
            extra={
                "method": event.method,
                "route": event.context.get("resourcePath", event.path),
                "status": response.status_code,
                "ms": round((time.perf_counter() - started) * 1000, 1),
                **{name: caller[name] for name in ("tenant", "role", "key_id", "agency") if caller.get(name)},
            },
        )
    finally:
        logger.set_correlation_id(None)  # the next invocation of this instance may be an event, not a request
    response.headers["X-Correlation-Id"] = correlation_id
    return response
