"""Site-wide routes that belong to no domain: health check and uploaded media."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, send_from_directory
from sqlalchemy import text

from app.extensions import db, limiter

bp = Blueprint("core", __name__)

MEDIA_MAX_AGE = 365 * 24 * 3600  # media file names are random and never reused


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


@bp.get("/media/<path:relative>")
def media(relative: str):
    """Uploaded images, with long cache headers (names are content-unique)."""
    response = send_from_directory(current_app.config["MEDIA_ROOT"], relative, max_age=MEDIA_MAX_AGE)
    response.headers["Cache-Control"] = f"public, max-age={MEDIA_MAX_AGE}, immutable"
    return response
