"""The unsubscribe links' HMAC keys: from Secrets Manager at run time (deployed), or one plain key (the local
stack and tests, UNSUBSCRIBE_SECRET). docs/decisions/0027-unsubscribe-secret.md."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import ClientError

from chalicelib.adapters.errors import error_code
from chalicelib.domain.errors import SecretUnavailableError

# A rotation reaches every function instance within this many seconds, without a redeploy.
MAX_AGE_SECONDS = 300


class StaticUnsubscribeKeys:
    """One key that never rotates (UNSUBSCRIBE_SECRET)."""

    def __init__(self, secret: str) -> None:
        self._key = secret.encode()

    def signing(self) -> bytes:
        return self._key

    def checking(self) -> tuple[bytes, ...]:
        return (self._key,)


class SecretsManagerUnsubscribeKeys:
    """The secret's AWSCURRENT version signs; AWSCURRENT, then AWSPREVIOUS, check. Putting a new value into
    the secret moves both labels, so the links sent under the value before keep working until the next
    rotation. Values are cached ``max_age`` seconds (Powertools parameters); an unreadable secret raises
    ``SecretUnavailableError``, so no email goes out without its link and no link is checked against nothing."""

    label = "the unsubscribe secret"  # what an error names

    def __init__(
        self,
        client: Any,
        secret_id: str,
        max_age: int = MAX_AGE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._secret_id, self._max_age, self._monotonic = secret_id, max_age, monotonic
        # One provider per label: Powertools caches by name alone, whatever VersionStage is asked for.
        self._current = SecretsProvider(boto3_client=client)
        self._previous = SecretsProvider(boto3_client=client)
        self._no_previous_for: bytes | None = None  # the current value last seen with no previous one
        self._no_previous_until = float("-inf")

    def signing(self) -> bytes:
        key = self._get(self._current, "AWSCURRENT")
        if key is None:
            raise SecretUnavailableError(f"{self.label} has no current value")
        return key

    def checking(self) -> tuple[bytes, ...]:
        current = self.signing()
        if self._no_previous_for == current and self._monotonic() < self._no_previous_until:
            return (current,)
        previous = self._get(self._previous, "AWSPREVIOUS")
        if previous is None:
            # Never rotated: remembered as long as a value is cached, and only while the current value is
            # the same (a rotation read since brings its previous value in at once).
            self._no_previous_for, self._no_previous_until = current, self._monotonic() + self._max_age
            return (current,)
        return (current, previous)

    def _get(self, provider: SecretsProvider, stage: str) -> bytes | None:
        try:
            value = provider.get(self._secret_id, max_age=self._max_age, VersionStage=stage)
        except GetParameterError as exc:
            cause = exc.__context__
            if stage == "AWSPREVIOUS" and isinstance(cause, ClientError):
                if error_code(cause) == "ResourceNotFoundException":
                    return None
            code = error_code(cause) if isinstance(cause, ClientError) else type(cause).__name__
            raise SecretUnavailableError(f"{self.label} could not be read ({stage}): {code}") from exc
        if isinstance(value, str):
            return value.encode()
        if isinstance(value, bytes):
            return value
        return None


class StaticAddressKeys(StaticUnsubscribeKeys):
    """The address index's one key (ADDRESS_INDEX_SECRET: the local stack and tests)."""


class SecretsManagerAddressKeys(SecretsManagerUnsubscribeKeys):
    """The address index's key from its own secret, read and cached as the unsubscribe secret is
    (docs/decisions/0036): ``signing`` indexes, ``checking`` finds what either label's value indexed."""

    label = "the address index secret"
