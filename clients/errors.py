"""Errors the clients raise, one class per HTTP status family::

    ServiceAPIError                 anything the service (or the way to it) answered badly
    ├── BadRequestError             400, 413, 415, 422 (the request is wrong; never retried)
    ├── AuthenticationError         401 (missing or invalid API key)
    ├── RateLimitError              429 (retried, honouring Retry-After)
    ├── ServerError                 other 5xx
    │   ├── UpstreamError           502, 504 (UCSC answered badly or timed out; retried)
    │   └── UnavailableError        503 (overloaded, circuit open, model not loaded; retried)
    ├── APIConnectionError          no HTTP answer at all (refused, reset; retried)
    │   └── APITimeoutError         no answer within the read timeout (not retried)
    └── InvalidResponseError        a 2xx whose body is not what the API documents

Each carries the HTTP ``status`` (``None`` without an answer), the server's error ``type``
(``ref_mismatch``, ``overloaded``, …), ``message``, ``detail`` and the ``request_id`` to quote
in a bug report.
"""

from __future__ import annotations

from typing import Any


class ServiceAPIError(Exception):
    """Base class; also raised as such for statuses no subclass covers (404, 405, …)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        type: str = "http_error",
        detail: dict[str, Any] | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type
        self.detail = detail or {}
        self.request_id = request_id
        self.retry_after = retry_after

    def __str__(self) -> str:
        where = f"HTTP {self.status}" if self.status is not None else "no response"
        rid = f"; request id {self.request_id}" if self.request_id else ""
        return f"{self.message} ({where}, {self.type}{rid})"


class BadRequestError(ServiceAPIError):
    """400, 413, 415 or 422: fix the request."""


class AuthenticationError(ServiceAPIError):
    """401: send ``Authorization: Bearer <key>`` (``api_key=`` or ``EVO2_SERVICE_API_KEY``)."""


class RateLimitError(ServiceAPIError):
    """429: too many requests; ``retry_after`` says when to come back."""


class ServerError(ServiceAPIError):
    """A 5xx answer."""


class UpstreamError(ServerError):
    """502 or 504: the genome source (UCSC) answered badly or too late."""


class UnavailableError(ServerError):
    """503: overloaded, upstream circuit open or model unavailable; ``retry_after`` when known."""


class APIConnectionError(ServiceAPIError):
    """The service could not be reached (connection refused, reset, DNS)."""


class APITimeoutError(APIConnectionError):
    """The service accepted the request but sent no answer within the read timeout."""


class InvalidResponseError(ServiceAPIError):
    """A successful status whose body does not match the documented response."""


def error_class(status: int) -> type[ServiceAPIError]:
    """The class for an HTTP error status."""
    if status in (400, 413, 415, 422):
        return BadRequestError
    if status == 401:
        return AuthenticationError
    if status == 429:
        return RateLimitError
    if status in (502, 504):
        return UpstreamError
    if status == 503:
        return UnavailableError
    if status >= 500:
        return ServerError
    return ServiceAPIError
