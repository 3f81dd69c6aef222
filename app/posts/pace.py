"""Spam defences on writing, scaled by account age: how often a new account may post and comment, and how
many links it may include. Counted from the rows themselves (not a per-process limiter), so every worker,
the API and the jobs see the same limits.

    account younger than NEW_ACCOUNT_DAYS:  3 notes and 10 comments an hour, 1 link per note or comment
    older:                                 20 notes and 60 comments an hour, 10 links per note, 3 per comment
"""
from __future__ import annotations

import re
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.accounts.models import User
from app.core.clock import now
from app.core.errors import Invalid, RateLimited
from app.extensions import db
from app.posts.models import Comment, Post

NEW_ACCOUNT_DAYS = 7
WINDOW = timedelta(hours=1)
NOTES_PER_HOUR = {True: 3, False: 20}  # keyed by "is a new account"
COMMENTS_PER_HOUR = {True: 10, False: 60}
NOTE_LINKS = {True: 1, False: 10}
COMMENT_LINKS = {True: 1, False: 3}
_LINK = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)


def is_new_account(user: User) -> bool:
    return user.created_at is None or now() - user.created_at < timedelta(days=NEW_ACCOUNT_DAYS)


def count_links(text: str | None) -> int:
    return len(_LINK.findall(text or ""))


def _recent(model, user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(
        model.author_id == user.id, model.created_at >= now() - WINDOW)) or 0


def _enabled() -> bool:
    return bool(current_app.config.get("WRITE_PACE_LIMITS", True))


def ensure_note_pace(user: User, body: str | None) -> None:
    """Refuse a note over the hourly limit or with too many links for the account's age."""
    if not _enabled():
        return
    new = is_new_account(user)
    if count_links(body) > NOTE_LINKS[new]:
        message = _("New accounts can include at most %(n)d link in a note.", n=NOTE_LINKS[new]) if new else \
            _("A note can include at most %(n)d links.", n=NOTE_LINKS[new])
        raise Invalid(message, {"body": [message]}, code="too-many-links")
    if _recent(Post, user) >= NOTES_PER_HOUR[new]:
        raise RateLimited(_("You have posted a lot in the last hour. Try again a little later."))


def ensure_comment_pace(user: User, body: str | None) -> None:
    if not _enabled():
        return
    new = is_new_account(user)
    if count_links(body) > COMMENT_LINKS[new]:
        message = _("New accounts can include at most %(n)d link in a comment.", n=COMMENT_LINKS[new]) if new \
            else _("A comment can include at most %(n)d links.", n=COMMENT_LINKS[new])
        raise Invalid(message, {"body": [message]}, code="too-many-links")
    if _recent(Comment, user) >= COMMENTS_PER_HOUR[new]:
        raise RateLimited(_("You have commented a lot in the last hour. Try again a little later."))
