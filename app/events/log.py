"""The event log: what readers were shown (impressions) and what they did next (actions).

Append-only; the recommender trains on it. A page's impressions go in as one multi-row insert.
This module depends only on core and its own model, so any service may append to it.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable

from flask import request
from sqlalchemy import insert

from app.core.clock import now
from app.core.uow import unit_of_work
from app.events.models import EVENT_KINDS, Event
from app.extensions import db

ANON_COOKIE = "tm_anon"
SURFACE_MAX, REQUEST_ID_MAX = 30, 36  # the event log's column sizes


def new_request_id() -> str:
    return uuid.uuid4().hex


def record_impressions(post_ids: Iterable[int], *, surface: str, request_id: str, user_id: int | None = None,
                       anon_id: str | None = None, model_version: str | None = None, offset: int = 0) -> int:
    """Log that these posts were shown, in order, on `surface`: one INSERT for the whole page."""
    moment = now()
    rows = [
        {"user_id": user_id, "anon_id": None if user_id else anon_id, "kind": "impression", "post_id": post_id,
         "surface": surface, "position": offset + index, "request_id": request_id, "model_version": model_version,
         "created_at": moment}
        for index, post_id in enumerate(post_ids)
    ]
    if rows:
        # Losing the last instant of impressions in a database crash is acceptable; waiting for the WAL flush
        # on every page view is not (it was a third of the For-you page's database time). Joined into a
        # caller's unit, the caller's durability wins.
        with unit_of_work(synchronous_commit=False, keep_loaded=True):  # rows nobody has loaded
            db.session.execute(insert(Event.__table__), rows)  # Core's executemany: the ORM's bulk path costs more
    return len(rows)


def record_action(kind: str, *, user_id: int | None = None, anon_id: str | None = None, post_id: int | None = None,
                  target_user_id: int | None = None, surface: str | None = None, request_id: str | None = None) -> None:
    """Add an action (open, like, save, comment, share, follow) to the caller's unit of work, or, called on
    its own (a page logging an open or a share), commit it in one of its own."""
    if kind not in EVENT_KINDS or kind == "impression":
        raise ValueError(f"not an action kind: {kind}")
    with unit_of_work():
        db.session.add(Event(user_id=user_id, anon_id=None if user_id else anon_id, kind=kind, post_id=post_id,
                             target_user_id=target_user_id, surface=surface, request_id=request_id))


def anon_id() -> str | None:
    """The site's anonymous-visitor cookie, when a signed-out browser sends it."""
    value = request.cookies.get(ANON_COOKIE)
    return value if value and len(value) <= REQUEST_ID_MAX else None
