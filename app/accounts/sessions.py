"""Server-side log-in sessions: one `UserSession` row per log-in, checked on every request.

The signed Flask session (and, with "remember me", the remember cookie) carries a random per-log-in
secret; the database keeps only its SHA-256. So logging out, a password change, "sign out everywhere
else" or an account deletion ends a session on the server, and a copied cookie stops working, as in
Django and Rails. Personal access tokens for the API are separate (`services.user_for_token`).
"""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import joinedload

from app.accounts.models import User, UserSession
from app.core.clock import now
from app.core.errors import NotFound
from app.core.uow import transactional, unit_of_work
from app.extensions import db

# "Last seen" is written at most this often per session, so a request does not mean a write.
LAST_SEEN_INTERVAL = timedelta(minutes=5)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _remember_duration() -> timedelta:
    return current_app.config["REMEMBER_COOKIE_DURATION"]


def _idle_limit() -> timedelta:
    return timedelta(hours=current_app.config["SESSION_IDLE_HOURS"])


@transactional
def start_session(user: User, *, remember: bool, user_agent: str = "", ip_address: str = "") -> str:
    """Record a new log-in and return its secret (to be kept only in the client's cookies)."""
    secret = secrets.token_urlsafe(32)
    moment = now()
    db.session.add(UserSession(
        user_id=user.id, token_hash=_digest(secret), remember=remember, created_at=moment, last_seen_at=moment,
        expires_at=moment + _remember_duration(), user_agent=(user_agent or "")[:300],
        ip_address=(ip_address or "")[:45],
    ))
    return secret


def _is_live(record: UserSession, moment: datetime) -> bool:
    if record.revoked_at is not None or record.expires_at <= moment:
        return False
    # Without "remember me" a log-in also ends after a stretch of not being used.
    return record.remember or record.last_seen_at + _idle_limit() > moment


def session_for_secret(secret: str | None) -> UserSession | None:
    """The live session a cookie secret belongs to, or None (unknown, revoked, expired, inactive user)."""
    if not secret or len(secret) > 100:
        return None
    # The user comes in the same statement: this runs on every signed-in request.
    record = db.session.scalar(select(UserSession).options(joinedload(UserSession.user))
                               .where(UserSession.token_hash == _digest(secret)))
    moment = now()
    if record is None or not _is_live(record, moment) or not record.user.is_active:
        return None
    if moment - record.last_seen_at > LAST_SEEN_INTERVAL:
        with unit_of_work():
            db.session.execute(update(UserSession).where(UserSession.id == record.id)
                               .values(last_seen_at=moment))
    return record


@transactional
def end_session(secret: str | None) -> None:
    """Revoke the session behind a secret (log out). Unknown or already-ended secrets are ignored."""
    if not secret:
        return
    db.session.execute(update(UserSession).where(UserSession.token_hash == _digest(secret),
                                                 UserSession.revoked_at.is_(None)).values(revoked_at=now()))


@transactional
def revoke_other_sessions(user: User, keep_secret: str | None) -> int:
    """End every session of the user except the one behind keep_secret; return how many ended.

    Inside a caller's unit of work (a password change) this joins it."""
    query = update(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    if keep_secret:
        query = query.where(UserSession.token_hash != _digest(keep_secret))
    return db.session.execute(query.values(revoked_at=now())).rowcount


def revoke_session(user: User, session_id: int) -> UserSession:
    """Sign one of the user's own devices out (doing it twice is harmless)."""
    record = db.session.get(UserSession, session_id)
    if record is None or record.user_id != user.id:
        raise NotFound(_("No such session."))
    if record.revoked_at is None:
        with unit_of_work():
            record.revoked_at = now()
    return record


# Ended sessions stay listed this long (for a look at what happened), then the daily job removes them.
ENDED_SESSIONS_KEPT = timedelta(days=30)


@transactional
def purge_ended_sessions(moment: datetime | None = None) -> int:
    """Delete sessions revoked or expired more than ENDED_SESSIONS_KEPT ago (a daily job; safe to rerun)."""
    cutoff = (moment or now()) - ENDED_SESSIONS_KEPT
    count = db.session.execute(delete(UserSession).where(
        or_(UserSession.revoked_at < cutoff, UserSession.expires_at < cutoff))).rowcount
    return count


@dataclass(frozen=True)
class Device:
    id: int
    description: str
    ip_address: str
    created_at: datetime
    last_seen_at: datetime
    is_current: bool


def signed_in_devices(user: User, current_secret: str | None) -> list[Device]:
    """The user's live sessions, the current one first, then by last use."""
    moment = now()
    current_hash = _digest(current_secret) if current_secret else None
    records = db.session.scalars(
        select(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None),
                                  UserSession.expires_at > moment)
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc()))
    devices = [Device(r.id, describe_user_agent(r.user_agent), r.ip_address, r.created_at, r.last_seen_at,
                      r.token_hash == current_hash) for r in records if _is_live(r, moment)]
    return sorted(devices, key=lambda d: not d.is_current)  # stable: keeps last-seen order otherwise


# Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari".
_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chromium/", "Chromium"),
             ("Chrome/", "Chrome"), ("Safari/", "Safari"), ("curl/", "curl"), ("python-requests", "Python"))
_SYSTEMS = (("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"), ("Windows", "Windows"),
            ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))


def describe_user_agent(user_agent: str) -> str:
    """A short, readable device name ("Firefox on Linux") from a User-Agent header."""
    user_agent = re.sub(r"[\x00-\x1f\x7f]", "", user_agent or "")
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), None)
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), None)
    if browser and system:
        return _("%(browser)s on %(system)s", browser=browser, system=system)
    if browser or system:
        return browser or system
    return _("Unknown device")
