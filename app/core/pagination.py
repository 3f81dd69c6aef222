"""Cursor pagination: an opaque, signed cursor holding the sort key of the last row shown."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Select, and_, or_

from app.core.errors import Invalid
from app.extensions import db

MAX_PAGE_SIZE = 100


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="cursor")


def encode_cursor(key: list[Any]) -> str:
    return _serializer().dumps(key)


def decode_cursor(cursor: str) -> list[Any]:
    """Return the key inside a cursor; a forged or mangled cursor is an Invalid error."""
    try:
        key = _serializer().loads(cursor)
    except BadSignature:
        raise Invalid(_("The page cursor is not valid."), {"cursor": [_("Not a valid cursor.")]}) from None
    if not isinstance(key, list):
        raise Invalid(_("The page cursor is not valid."), {"cursor": [_("Not a valid cursor.")]})
    return key


@dataclass
class Page:
    items: list
    next_cursor: str | None


def clamp_limit(limit: int | None, default: int = 20) -> int:
    if limit is None:
        return default
    return max(1, min(int(limit), MAX_PAGE_SIZE))


def paginate_desc(query: Select, created_col, id_col, cursor: str | None, limit: int) -> Page:
    """Newest first by (created, id); the cursor holds the last row's (created iso, id)."""
    if cursor:
        key = decode_cursor(cursor)
        try:
            last_created, last_id = datetime.fromisoformat(key[0]), int(key[1])
        except (ValueError, TypeError, IndexError):
            raise Invalid(_("The page cursor is not valid."), {"cursor": [_("Not a valid cursor.")]}) from None
        query = query.where(or_(created_col < last_created, and_(created_col == last_created, id_col < last_id)))
    rows = db.session.scalars(query.order_by(created_col.desc(), id_col.desc()).limit(limit + 1)).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor([getattr(last, created_col.key).isoformat(), getattr(last, id_col.key)])
    return Page(items=list(rows), next_cursor=next_cursor)
