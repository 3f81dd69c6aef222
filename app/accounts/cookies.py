"""Where log-in sessions meet the browser: flask-login's session key and remember cookie hold the
per-log-in secret from `sessions.start_session` instead of the user id (flask-login's "alternative
token" pattern), so `load_user` in create_app finds the server-side record on every request."""
from __future__ import annotations

from flask import current_app, request, session
from flask_login import login_user, logout_user
from flask_login.utils import decode_cookie

from app.accounts import sessions
from app.accounts.models import User

SESSION_KEY = "_user_id"  # flask-login's key; it also builds the remember cookie from it


def _remember_cookie_secret() -> str | None:
    cookie = request.cookies.get(current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token"))
    return decode_cookie(cookie) if cookie else None


def current_secret() -> str | None:
    """The secret of this request's log-in (None when signed out or authenticated by API token)."""
    return session.get(SESSION_KEY)


def sign_in(user: User, *, remember: bool) -> None:
    """Start a server-side session for the user and put its secret in the cookies."""
    # A remember cookie left from an earlier log-in on this browser would outlive this one: end it.
    sessions.end_session(_remember_cookie_secret())
    secret = sessions.start_session(user, remember=remember, user_agent=request.user_agent.string,
                                    ip_address=request.remote_addr or "")
    # The session is a signed cookie whose value changes here, so a cookie planted before the log-in
    # gains nothing (no fixation); the CSRF token and language stay.
    session.pop("_remember_seconds", None)
    login_user(user, remember=remember)
    session[SESSION_KEY] = secret  # login_user stored user.get_id(); the cookies must carry the secret
    if not remember and _remember_cookie_secret():
        session["_remember"] = "clear"


def sign_out() -> None:
    """End this log-in on the server and in the browser."""
    sessions.end_session(current_secret())
    sessions.end_session(_remember_cookie_secret())
    logout_user()


def forget_dead_login(secret: str) -> None:
    """A revoked or expired secret: drop it from the session and the remember cookie so later requests
    do not look it up again."""
    if session.get(SESSION_KEY) == secret:
        session.pop(SESSION_KEY, None)
    if _remember_cookie_secret() == secret:
        session["_remember"] = "clear"
