"""CORS with refusals in the error envelope.

Starlette's ``CORSMiddleware`` answers a refused preflight ``400 text/plain`` ("Disallowed CORS
origin"); here the same refusal is the envelope's 400 ``cors_refused``, naming what was not allowed,
with the same headers (no ``Access-Control-Allow-Origin`` for an origin not allowed).
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response

from service.api.envelope import error_response
from service.errors import CorsRefused, clip

_PREFIX = "Disallowed CORS "


class EnvelopeCORSMiddleware(CORSMiddleware):
    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        text = bytes(response.body).decode("utf-8", "replace")
        refused = [part.strip() for part in text.removeprefix(_PREFIX).split(",") if part.strip()]
        error = CorsRefused(
            f"CORS preflight refused: {', '.join(refused) or 'request'} not allowed",
            detail={"refused": refused, "origin": clip(request_headers.get("origin", ""))},
        )
        answer = error_response(error)
        for name, value in response.headers.items():
            if name not in ("content-type", "content-length"):
                answer.headers[name] = value
        return answer
