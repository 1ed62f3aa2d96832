"""Request bodies as strict, bounded JSON, checked before FastAPI or pydantic read them (pure ASGI).

JSON is looser than this API: Python's parser accepts duplicate keys (the last wins), ``NaN``, nesting
deep enough to exhaust the recursion limit, integers of thousands of digits, unpaired surrogates, and
FastAPI answers some of these with an undocumented error. Here every body of a served route is read
once, as UTF-8 JSON, and refused in the envelope unless it is plain JSON of a bounded shape:

* a ``Content-Encoding`` other than ``identity`` (gzip, …): 415 ``unsupported_media_type``;
* not UTF-8, not JSON, a duplicate key, ``NaN``/``Infinity``, an integer beyond 64 bits, an unpaired
  surrogate, nesting deeper than ``MAX_DEPTH``: 400 ``invalid_json``;
* an array longer than ``max_items`` (the largest list a request may hold) or an object with more
  than ``MAX_MEMBERS`` members: 400 ``limit_exceeded``, before any item is validated, so a
  million-item list costs one parse and one length check.

Bodies with a non-JSON ``Content-Type`` pass through (the schema answers them 422). The body limit
runs first, so at most ``max_body_bytes`` are parsed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from starlette.datastructures import Headers
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.asgi import replay, served
from service.api.envelope import error_response
from service.errors import InvalidJson, LimitExceeded, ServiceError, UnsupportedMediaType, clip

#: Deepest nesting of arrays and objects (the API's own bodies nest three deep).
MAX_DEPTH = 16
#: Most members of one object (the API's objects have fewer than ten fields).
MAX_MEMBERS = 64
#: Largest integer magnitude (a signed 64-bit integer; positions have at most ten digits).
MAX_INTEGER = 2**63 - 1
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class _Duplicate(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class _Constant(Exception):
    pass


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Duplicate(key)
            seen.add(key)
    return result


def _constant(name: str) -> Any:
    raise _Constant(name)


def _invalid(message: str, reason: str, **detail: Any) -> InvalidJson:
    return InvalidJson(message, detail={"reason": reason, **detail})


def parse_strict(body: bytes, *, max_items: int) -> Any:
    """The JSON value of ``body``, or ``InvalidJson`` / ``LimitExceeded`` saying what is wrong with it."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _invalid(f"the body is not UTF-8 (byte {exc.start})", "not_utf8", offset=exc.start) from None
    try:
        value = json.loads(text, object_pairs_hook=_object, parse_constant=_constant)
    except _Duplicate as exc:
        raise _invalid(f"duplicate key {clip(exc.key)!r} in an object", "duplicate_key") from None
    except _Constant as exc:
        raise _invalid(f"{exc} is not a JSON number", "constant") from None
    except json.JSONDecodeError as exc:
        message = f"the body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        raise _invalid(message, "syntax", line=exc.lineno, column=exc.colno) from None
    except RecursionError:
        raise _invalid(f"the body is nested deeper than {MAX_DEPTH} levels", "depth") from None
    except ValueError:  # an integer of more digits than Python converts (sys.get_int_max_str_digits)
        raise _invalid("the body holds an integer with too many digits", "number") from None
    check_shape(value, max_items=max_items)
    return value


def check_shape(value: Any, *, max_items: int) -> None:
    """Depth, array lengths, object sizes, integers (64-bit) and strings (no unpaired surrogates) of a
    parsed value; a container's length is checked before any of its items is looked at."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            _check_text(node)
            continue
        if isinstance(node, int) and not isinstance(node, bool) and not -MAX_INTEGER <= node <= MAX_INTEGER:
            raise _invalid("the body holds an integer beyond 64 bits", "number")
        if isinstance(node, list):
            if len(node) > max_items:
                raise LimitExceeded(
                    f"the body holds an array of {len(node):,} items; at most {max_items:,} per request",
                    detail={"items": len(node), "max_items": max_items},
                )
            children: Any = node
        elif isinstance(node, dict):
            if len(node) > MAX_MEMBERS:
                raise LimitExceeded(
                    f"the body holds an object of {len(node):,} members; at most {MAX_MEMBERS}",
                    detail={"members": len(node), "max_members": MAX_MEMBERS},
                )
            for key in node:
                _check_text(key)
            children = node.values()
        else:
            continue
        if depth > MAX_DEPTH:
            raise _invalid(f"the body is nested deeper than {MAX_DEPTH} levels", "depth")
        stack.extend((child, depth + 1) for child in children if isinstance(child, str | int | list | dict))


def _check_text(text: str) -> None:
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise _invalid("the body holds a string with an unpaired surrogate", "surrogate") from None


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


class JsonGuardMiddleware:
    """Refuses bodies of served routes that are not strict, bounded JSON (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, max_items: int, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.max_items = max_items
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS or not served(scope, self.routes):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        try:
            _check_encoding(headers)
        except ServiceError as exc:
            await error_response(exc)(scope, receive, send)
            return
        content_type = headers.get("content-type")
        if content_type is not None and not _is_json(content_type):
            await self.app(scope, receive, send)
            return
        messages, body = await _read(receive)
        try:
            if body:
                parse_strict(body, max_items=self.max_items)
        except ServiceError as exc:
            await error_response(exc)(scope, receive, send)
            return
        await self.app(scope, replay(messages, receive), send)


def _check_encoding(headers: Headers) -> None:
    for value in headers.getlist("content-encoding"):
        for coding in value.split(","):
            if coding.strip().lower() not in ("", "identity"):
                raise UnsupportedMediaType(
                    f"Content-Encoding {clip(coding.strip())!r} is not accepted; send the JSON uncompressed",
                    detail={"content_encoding": coding.strip(), "accepted": ["identity"]},
                )


async def _read(receive: Receive) -> tuple[list[Message], bytes]:
    """Every message of the request body (the body limit in front has bounded it) and the body."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return messages, b"".join(chunks)
