"""The upload rate limit: one budget per account (UPLOAD_RATE_LIMIT) shared by every route that takes
image files, so an account cannot keep the image workers busy by spreading uploads over several routes.

Apply `upload_rate_limit` under `login_required` (pages) or under the route decorator (API). Requests that
carry no file (a profile edit without a new avatar, a note edit without new images) are not counted.
"""
from __future__ import annotations

from flask import current_app, request
from flask_babel import gettext as _
from limits import parse_many

from app.core.limits import account_key
from app.extensions import limiter


def carries_files() -> bool:
    """Whether the request sends at least one file (an empty file input sends a part with no filename)."""
    return any(upload.filename for _field, upload in request.files.items(multi=True))


def upload_limit() -> str:
    return current_app.config["UPLOAD_RATE_LIMIT"]


def upload_limit_message() -> str:
    """Which limit was reached, in the visitor's language."""
    parts = [_("%(count)d in %(minutes)d minutes", count=item.amount, minutes=max(1, item.get_expiry() // 60))
             for item in parse_many(upload_limit())]
    return _("You have uploaded images too often (at most %(limit)s per account). Try again later.",
             limit=", ".join(parts))


upload_rate_limit = limiter.shared_limit(upload_limit, scope="uploads", key_func=account_key,
                                         methods=["POST", "PUT", "PATCH"], exempt_when=lambda: not carries_files(),
                                         error_message=upload_limit_message)
