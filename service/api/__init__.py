"""The HTTP edge: app factory, routes, wire schemas, auth, limits, logs, metrics (the only FastAPI users)."""
