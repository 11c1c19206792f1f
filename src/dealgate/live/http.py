"""The one HTTP client of the live sources: timeouts, bounded retries, clear errors, no secrets.

Every request to a CRM goes through `CrmConnection`, so that each rule is written once:
- a request that takes longer than the timeout, or a host that cannot be reached, is one
  clear `CrmError` (exit 2), never a traceback;
- a 429 is retried after its Retry-After (seconds or an HTTP date), at most `retries` times
  and never waiting longer than `longest_wait` (HubSpot's rate limits are per ten seconds);
- a 401 is a refused token, a 403 a missing permission; a CRM reader may read its own error
  bodies first (Salesforce's REQUEST_LIMIT_EXCEEDED, which no retry can help);
- the token is sent in a header only, and any text that could reach a user (an error body,
  an exception's message) has every secret replaced by `***` first.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from dealgate.errors import DealgateError
from dealgate.live import Limits as Limits  # defined without httpx: the CLI names it first

REDACTED = "***"


class CrmError(DealgateError):
    """A CRM could not be read as asked: unreachable, a refused token, a missing permission,
    a spent API allocation (exit code 2). Its text never holds a secret."""

    def __init__(self, message: str, hint: str = "") -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message} ({hint})" if hint else message)


def redact(text: str, secrets: Iterable[str]) -> str:
    """The text with every secret (of four characters or more) replaced by ***."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


# A CRM reader's own reading of an error answer: a CrmError, or None for the generic one.
ErrorReader = Callable[[httpx.Response], CrmError | None]


@dataclass
class CrmConnection:
    """Authenticated JSON requests to one CRM's API."""

    crm: str  # as users name it: "Salesforce", "HubSpot"
    base_url: str
    token: str
    limits: Limits = field(default_factory=Limits)
    read_error: ErrorReader | None = None
    sleep: Callable[[float], None] = time.sleep
    transport: httpx.BaseTransport | None = None  # for a client that must not reach a network
    requests: int = 0  # answers received, for the run's notes and the tests

    def __post_init__(self) -> None:
        self._client = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json"},
            timeout=httpx.Timeout(self.limits.timeout),
            transport=self.transport,
            follow_redirects=False,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> CrmConnection:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def get(self, url: str, params: dict[str, str] | None = None) -> Any:
        """The JSON answer to a GET of a path (under the base URL) or of a full URL."""
        return self._send("GET", url, params=params)

    def post(self, url: str, body: Any) -> Any:
        """The JSON answer to a POST of a JSON body."""
        return self._send("POST", url, body=body)

    def _send(
        self, method: str, url: str, *, params: dict[str, str] | None = None, body: Any = None
    ) -> Any:
        self._same_host(url)
        for attempt in range(self.limits.retries + 1):
            response = self._request(method, url, params, body)
            self.requests += 1
            if response.status_code == 429 and attempt < self.limits.retries:
                wait = retry_after(response)
                if wait is not None and wait <= self.limits.longest_wait:
                    self.sleep(wait)
                    continue
            if response.is_success:
                return self._json(response)
            raise self._failure(response)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _same_host(self, url: str) -> None:
        """A full URL (a next page the CRM gave) must be on the CRM's own host: the token is
        never sent anywhere else."""
        target = urlsplit(urljoin(self.base_url, url))
        base = urlsplit(self.base_url)
        if (target.scheme, target.netloc) != (base.scheme, base.netloc):
            raise CrmError(
                f"{self.crm} gave a link to another host ({target.netloc}); not followed",
                "the token is only sent to the instance it belongs to",
            )

    def _request(
        self, method: str, url: str, params: dict[str, str] | None, body: Any
    ) -> httpx.Response:
        host = urlsplit(self.base_url).netloc
        try:
            return self._client.request(method, url, params=params, json=body)
        except httpx.TimeoutException:
            raise CrmError(
                f"{self.crm} at {host} did not answer within {self.limits.timeout:g} s",
                "try again later, or allow longer with --timeout",
            ) from None
        except httpx.TransportError as error:
            reason = self._safe(str(error) or type(error).__name__)
            raise CrmError(
                f"cannot reach {self.crm} at {host}: {reason}",
                "check the instance URL and the network",
            ) from None

    def _json(self, response: httpx.Response) -> Any:
        try:
            return json.loads(response.content)
        except ValueError:
            raise CrmError(
                f"{self.crm} answered {response.request.url.path} with something that is not JSON"
            ) from None

    def _failure(self, response: httpx.Response) -> CrmError:
        own = self.read_error(response) if self.read_error else None
        if own is not None:  # kept as the reader made it (a subclass says more), made safe
            own.message, own.hint = self._safe(own.message), self._safe(own.hint)
            own.args = (f"{own.message} ({own.hint})" if own.hint else own.message,)
            return own
        status = response.status_code
        if status == 401:
            return CrmError(
                f"{self.crm} refused the token (401): it is invalid or has expired",
                "get a new token; docs/live-crm.md says how",
            )
        if status == 403:
            return CrmError(
                f"{self.crm} refused access (403) to {response.request.url.path}: "
                "the token lacks a permission",
                "docs/live-crm.md lists the permissions a token needs",
            )
        if status == 429:
            return CrmError(
                f"{self.crm} is rate limiting this token (429) after {self.limits.retries} retries",
                "try again in a minute",
            )
        return CrmError(
            f"{self.crm} answered {status} to {response.request.url.path}: "
            f"{self._safe(response.text[:300].strip())}"
        )

    def _safe(self, text: str) -> str:
        return redact(text, (self.token,))


def retry_after(response: httpx.Response) -> float | None:
    """The seconds a Retry-After header asks to wait (a number or an HTTP date); 1 s when a
    429 has none; None when it cannot be read."""
    value = response.headers.get("Retry-After")
    if value is None:
        return 1.0
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
