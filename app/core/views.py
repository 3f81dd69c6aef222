"""Site-wide routes that belong to no domain: uploaded media (the health check is in app/ops)."""
from __future__ import annotations

from flask import Blueprint, current_app, send_from_directory

bp = Blueprint("core", __name__)

MEDIA_MAX_AGE = 365 * 24 * 3600  # media file names are random and never reused


@bp.get("/media/<path:relative>")
def media(relative: str):
    """Uploaded images, with long cache headers (names are content-unique)."""
    response = send_from_directory(current_app.config["MEDIA_ROOT"], relative, max_age=MEDIA_MAX_AGE)
    response.headers["Cache-Control"] = f"public, max-age={MEDIA_MAX_AGE}, immutable"
    return response
