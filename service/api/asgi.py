"""Small pure-ASGI helpers the middlewares share."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.routing import BaseRoute, Match
from starlette.types import Message, Receive, Scope


def served(scope: Scope, routes: Sequence[BaseRoute]) -> bool:
    """Whether a route serves this method and path (else the router answers 404 or 405 by itself)."""
    return any(route.matches(scope)[0] == Match.FULL for route in routes)


def replay(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that first returns ``messages``, then defers to the server's (disconnects)."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
