"""Print the service's OpenAPI document (``make openapi`` writes it to openapi.json)."""

from __future__ import annotations

import json

from service.api.app import create_app
from service.settings import Settings


def openapi_document() -> dict:
    app = create_app(Settings(genome_sources=["bundled"]))
    return app.openapi()


def main() -> None:
    print(json.dumps(openapi_document(), indent=2, sort_keys=False))


if __name__ == "__main__":
    main()
