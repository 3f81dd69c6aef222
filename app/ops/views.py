"""/healthz: liveness, database and search-index check for load balancers."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from app.extensions import db, limiter

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
@limiter.exempt
def healthz():
    """Liveness and database check for load balancers, with the search index's document count."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach the database is a 503, not a 500
        db.session.rollback()
        current_app.logger.warning("healthz: database unreachable: %s", exc)
        return jsonify(status="error", db="unreachable"), 503
    return jsonify(status="ok", db="ok", **_search_health())


def _search_health() -> dict:
    """A broken search index degrades search only, so it is reported without failing the check."""
    from app.search import get_backend

    try:
        return {"search": "ok", "search_documents": get_backend().count()}
    except Exception as exc:
        db.session.rollback()
        current_app.logger.warning("healthz: search index unavailable: %s", exc)
        return {"search": "unavailable"}
