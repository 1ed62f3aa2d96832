"""The web page at ``/`` and the API docs at ``/docs`` and ``/redoc``, all served from package data.

Everything the browser loads ships in ``service/data/web`` (the page's HTML, CSS and JavaScript, and
vendored Swagger UI and ReDoc builds): the pages work on a machine without internet, and their
Content-Security-Policy lets the browser fetch nothing from another origin. The files are open
without an API key (``auth.OPEN_PATHS``); the page asks for a key when ``/info`` says one is needed.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

#: URL prefix of the static files (``auth.OPEN_PREFIXES`` opens it).
STATIC_PREFIX = "/static"

_SAME_ORIGIN = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)
#: The page: nothing inline, nothing from elsewhere.
PAGE_POLICY = f"{_SAME_ORIGIN}; style-src 'self'"
#: Swagger UI and ReDoc set inline styles (ReDoc injects <style> elements) and ReDoc runs a worker.
DOCS_POLICY = f"{_SAME_ORIGIN}; style-src 'self' 'unsafe-inline'; worker-src 'self' blob:"


def web_dir() -> Path:
    return Path(str(resources.files("service") / "data" / "web"))


def _page(path: Path, policy: str) -> FileResponse:
    return FileResponse(
        path,
        media_type="text/html; charset=utf-8",
        headers={
            "content-security-policy": policy,
            "x-content-type-options": "nosniff",
            "referrer-policy": "no-referrer",
            "cache-control": "no-cache",
        },
    )


def install_web(app: FastAPI) -> None:
    """``GET /`` (the variant page), ``/docs``, ``/redoc`` and ``/static/*``; none in openapi.json."""
    root = web_dir()
    app.mount(STATIC_PREFIX, StaticFiles(directory=root), name="static")

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return _page(root / "index.html", PAGE_POLICY)

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> FileResponse:
        return _page(root / "docs.html", DOCS_POLICY)

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> FileResponse:
        return _page(root / "redoc.html", DOCS_POLICY)
