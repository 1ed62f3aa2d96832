"""Requests on their way to the model, announced to the micro-batcher as soon as they arrive.

A job that finds the model idle goes at once unless other requests for the model are under way (still
reading their body, fetching their windows): then it waits up to ``batch_wait_ms`` for them
(``ModelRunner.expecting``). Counting at the HTTP edge, before any of that work, lets a burst of
concurrent requests merge into one forward pass while a lone request never waits.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from service.scoring.runner import ModelRunner

#: Routes that send work to the model.
MODEL_PATHS = frozenset({"/variant-delta", "/saturation", "/score", "/embed", "/analyze_single_variant"})


class ExpectModelMiddleware:
    def __init__(self, app: ASGIApp, runner: ModelRunner) -> None:
        self.app = app
        self.runner = runner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") not in MODEL_PATHS:
            await self.app(scope, receive, send)
            return
        async with self.runner.expecting():
            await self.app(scope, receive, send)
