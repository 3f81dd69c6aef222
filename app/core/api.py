"""Shared pieces of the /api/v1 routes that belong to no domain: who is calling, paging arguments, media URLs.

Every domain's `api.py` imports these; this module imports no domain. A bearer token is resolved by the
loader the app registers at start-up (`set_token_loader`, as flask-login's user_loader), so core does not
import accounts.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app, request
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import Schema, fields, validate

from app.core.errors import Unauthorized
from app.core.parsing import WholeNumber
from app.core.urls import external_url_for
from app.extensions import csrf, login_manager

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TOKEN_LOADER = "api_token_loader"


def set_token_loader(app: Flask, loader: Callable) -> None:
    """Register how a bearer token's secret becomes a user (raising Unauthorized when it names none)."""
    app.extensions[TOKEN_LOADER] = loader


def authenticate_api_request() -> None:
    """A Bearer token names the user; without one, the session cookie works but unsafe calls need CSRF."""
    header = request.headers.get("Authorization")
    if header:
        scheme, _sep, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise Unauthorized(_("Use the header 'Authorization: Bearer <token>'."))
        user = current_app.extensions[TOKEN_LOADER](secret.strip())
        # Same hook login_user() uses, without touching the session cookie.
        login_manager._update_request_context_with_user(user)
    elif request.method not in SAFE_METHODS and current_user.is_authenticated:
        csrf.protect()  # the site's own htmx calls send X-CSRFToken


def require_user():
    """The signed-in user of this API request, or a 401 problem."""
    if not current_user.is_authenticated:
        raise Unauthorized(_("Log in or send a personal access token."))
    return current_user._get_current_object()


def media_url(relative: str) -> str:
    return external_url_for("core.media", relative=relative)


class PageArgsSchema(Schema):
    cursor = fields.String()
    limit = WholeNumber(validate=validate.Range(min=1, max=100))
