"""Errors the domain and its ports speak in; adapters map AWS error codes onto them."""

from __future__ import annotations


class GatewayError(Exception):
    """Base of every error the gateway raises on purpose."""


class ConflictError(GatewayError):
    """Another writer changed the ledger since it was read: re-read and re-evaluate."""


class StorageUnavailableError(GatewayError):
    """The ledger or audit store could not be read or written; nothing may be sent."""


class SecretUnavailableError(GatewayError):
    """A secret (the unsubscribe links' key) could not be read: nothing that needs it may go ahead."""


class NotFoundError(GatewayError):
    """The named object does not exist for this tenant."""


class DeliveryError(GatewayError):
    """The provider did not take the message."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code


class RetryableDeliveryError(DeliveryError):
    """Throttled or temporarily unavailable: the provider certainly did not send it."""


class ThrottledDeliveryError(RetryableDeliveryError):
    """The provider refused for its sending rate before doing anything: rescheduled, however often."""


class PermanentDeliveryError(DeliveryError):
    """Rejected for good (invalid address, opted out at the provider, unverified sender)."""


class DeliveryOutcomeUnknownError(DeliveryError):
    """The request may have reached the provider (timeout after sending): never re-sent automatically."""


class DuplicateContactError(GatewayError):
    """A request with this contact id (from its Idempotency-Key) was already handled."""


class InvalidFieldError(GatewayError):
    """A request field that is well-formed but cannot be served (a range too long, a stale cursor)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class GoneError(GatewayError):
    """The object existed but is no longer available (an export past its expiry)."""
