"""API keys for the tests: real keys issued through the product's own service, sent as a caller would.

Most tests are about something else than access, so their clients send, unless a test names a key
itself, a key of the role that the route admits (``role_for``). Which role may use which route is tested
on its own, route by route, in ``tests/integration/test_access.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from chalicelib.bootstrap import Runtime
from chalicelib.domain.access import Role
from chalicelib.services import keys

# The first prefix a path starts with names the role its client sends.
ROLE_BY_PATH = (
    ("/v1/keys", Role.ADMIN),
    ("/v1/settings", Role.ADMIN),
    ("/v1/webhooks", Role.ADMIN),
    ("/v1/contacts", Role.SUBMITTER),
    ("/v1/", Role.COMPLIANCE),
)


def role_for(path: str) -> Role:
    return next(role for prefix, role in ROLE_BY_PATH if path.startswith(prefix))


class KeyRing:
    """One key per (role, agency) of a tenant, issued on first use."""

    def __init__(self, gateway: Runtime, tenant: str) -> None:
        self.gateway, self.tenant = gateway, tenant
        self._keys: dict[tuple[Role, str | None], str] = {}

    def key(self, role: Role, agency: str | None = None) -> str:
        if (role, agency) not in self._keys:
            g = self.gateway
            issued = keys.issue_key(
                g.keys, g.deps, datetime.now(UTC), tenant=self.tenant, role=role, agency=agency, created_by="tests"
            )
            self._keys[(role, agency)] = issued.key
        return self._keys[(role, agency)]

    def issued(self) -> list[str]:
        return list(self._keys.values())

    def bearer(self, role: Role, agency: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key(role, agency)}"}


class AuthedHTTP:
    """Chalice's in-process HTTP client, adding the route's role's key to requests that name none."""

    def __init__(self, http: Any, key_for: Callable[[str], dict[str, str]]) -> None:
        self._http, self._key_for = http, key_for

    def request(self, method: str, path: str, headers: dict[str, str] | None = None, body: Any = b"") -> Any:
        headers = dict(headers or {})
        if not any(name.lower() == "authorization" for name in headers):
            headers.update(self._key_for(path))
        return self._http.request(method, path, headers=headers, body=body)

    def __getattr__(self, name: str) -> Any:
        method = name.upper()
        if method not in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"):
            raise AttributeError(name)
        return lambda path, **kwargs: self.request(method, path, **kwargs)


class AuthedClient:
    """A ``chalice.test.Client`` whose ``http`` sends keys of ``ring``."""

    def __init__(self, client: Any, ring: KeyRing) -> None:
        self._client, self.ring = client, ring
        self.http = AuthedHTTP(client.http, lambda path: ring.bearer(role_for(path)))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)
