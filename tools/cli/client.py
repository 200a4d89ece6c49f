"""A small HTTP client of the gateway's API for the command line: JSON in, JSON out, problems as errors."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from tools import ROOT

DEFAULT_URL = "http://127.0.0.1:8000"
TIMEOUT = 30.0
CHUNK = 1 << 16


class CliError(Exception):
    """A failure the command line shows as one line and exits 2 on."""


class ApiError(CliError):
    """The gateway answered with a problem (RFC 9457): ``detail`` and the fields it names."""

    def __init__(self, status: int, detail: str, fields: list[str]) -> None:
        named = f" (fields: {', '.join(fields)})" if fields else ""
        super().__init__(f"{detail}{named}")
        self.status, self.detail, self.fields = status, detail, fields


class GatewayClient:
    def __init__(self, base_url: str, api_key: str | None = None, session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        # Sent only to the gateway: a presigned download carries its own signature and S3 refuses a second one.
        self._headers = {"Accept": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"

    @classmethod
    def from_env(
        cls,
        url: str | None,
        env: Mapping[str, str],
        session: requests.Session | None = None,
        role: str = "compliance",
    ) -> GatewayClient:
        """``--url``, else ``GATEWAY_URL``, else the local stack; ``GATEWAY_API_KEY`` if set, else (for the
        local stack only) the key of ``role`` that ``make run`` wrote to ``.gateway/dev-keys.json``."""
        base = url or env.get("GATEWAY_URL") or DEFAULT_URL
        return cls(base, env.get("GATEWAY_API_KEY") or (_dev_key(role) if base == DEFAULT_URL else None), session)

    def post_with(self, path: str, body: Mapping[str, Any], headers: Mapping[str, str]) -> Any:
        """POST with extra headers (``Idempotency-Key``)."""
        response = self._send("POST", self.base_url + path, headers={**self._headers, **headers}, json=body)
        _raise_for(response)
        return response.json()

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self._call("GET", path, params=_present(params or {}))

    def post(self, path: str, body: Mapping[str, Any]) -> Any:
        return self._call("POST", path, json=_present(body))

    def pages(self, path: str, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """Every page of a listing, following ``cursor`` until the gateway gives none."""
        cursor = None
        while True:
            page = self.get(path, {**params, "cursor": cursor})
            yield page
            cursor = page.get("cursor")
            if not cursor:
                return

    def download(self, url: str, dest: Path, progress: Callable[[int], None]) -> str:
        """Stream ``url`` to ``dest``; returns the SHA-256 of what was written."""
        digest = hashlib.sha256()
        with self._send("GET", url, stream=True, where=urlsplit(url).netloc) as response:
            _raise_for(response)
            dest.parent.mkdir(parents=True, exist_ok=True)
            with dest.open("wb") as out:
                for chunk in response.iter_content(CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    progress(len(chunk))
        return digest.hexdigest()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._send(method, self.base_url + path, headers=self._headers, **kwargs)
        _raise_for(response)
        return response.json()

    def _send(self, method: str, url: str, where: str | None = None, **kwargs: Any) -> requests.Response:
        where = where or f"the gateway at {self.base_url}"
        try:
            return self.session.request(method, url, timeout=TIMEOUT, **kwargs)
        except requests.ConnectionError:
            raise CliError(f"cannot reach {where}: is `make run` up?") from None
        except requests.Timeout:
            raise CliError(f"{where} did not answer within {TIMEOUT:g} s") from None


DEV_KEYS = ROOT / ".gateway" / "dev-keys.json"


def _dev_key(role: str = "compliance") -> str | None:
    try:
        return str(json.loads(DEV_KEYS.read_text())["keys"][role])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _present(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _raise_for(response: requests.Response) -> None:
    if response.status_code < 400:
        return
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or "detail" not in body:
        raise ApiError(response.status_code, f"HTTP {response.status_code} from {response.url}", [])
    fields = [str(e.get("field")) for e in body.get("errors", []) if isinstance(e, dict)]
    raise ApiError(response.status_code, str(body["detail"]), fields)
