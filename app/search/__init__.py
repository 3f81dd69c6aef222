"""Search: posts, products, communities and people, on Whoosh (embedded) or PostgreSQL (shared).

`get_backend()` picks the backend from SEARCH_BACKEND; services call `queue.queue_post(id)` and friends by
name (a module below every domain), which enqueue the `indexing` jobs that build documents from every
domain's rows; `services` answers searches for the page and the API.
"""
from __future__ import annotations

from flask import current_app

from app.search.backend import SearchBackend

BACKENDS = ("whoosh", "postgres")


def get_backend() -> SearchBackend:
    """The app's search backend (one instance per app)."""
    backend = current_app.extensions.get("search_backend")
    if backend is None:
        name = current_app.config.get("SEARCH_BACKEND", "whoosh")
        if name == "whoosh":
            from app.search.whoosh_backend import WhooshBackend

            backend = WhooshBackend(current_app.config["SEARCH_INDEX_DIR"])
        elif name == "postgres":
            from app.extensions import db
            from app.search.postgres_backend import PostgresBackend

            backend = PostgresBackend(db.engine)
        else:
            raise RuntimeError(f"SEARCH_BACKEND must be one of {', '.join(BACKENDS)}, not {name!r}")
        current_app.extensions["search_backend"] = backend
    return backend
