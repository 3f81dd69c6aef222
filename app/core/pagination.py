"""Keyset (cursor) pagination: an opaque, signed cursor holding the sort key of the last row shown."""
from __future__ import annotations

from collections.abc import Callable
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


def _bad_cursor() -> Invalid:
    return Invalid(_("The page cursor is not valid."), {"cursor": [_("Not a valid cursor.")]})


def encode_cursor(key: list[Any]) -> str:
    return _serializer().dumps(key)


def decode_cursor(cursor: str) -> list[Any]:
    """Return the key inside a cursor; a forged or mangled cursor is an Invalid error."""
    try:
        key = _serializer().loads(cursor)
    except BadSignature:
        raise _bad_cursor() from None
    if not isinstance(key, list):
        raise _bad_cursor()
    return key


@dataclass
class Page:
    items: list
    next_cursor: str | None


@dataclass(frozen=True)
class SortKey:
    """One column of a descending keyset: the SQL expression, how to read it off a row, how to parse it back."""

    expr: Any
    value_of: Callable[[Any], Any]
    parse: Callable[[Any], Any] = lambda value: value
    dump: Callable[[Any], Any] = lambda value: value


def datetime_key(column, attribute: str) -> SortKey:
    return SortKey(column, lambda row: getattr(row, attribute), datetime.fromisoformat, lambda value: value.isoformat())


def int_key(column, attribute: str) -> SortKey:
    return SortKey(column, lambda row: getattr(row, attribute), int)


def float_key(column, attribute: str) -> SortKey:
    return SortKey(column, lambda row: getattr(row, attribute), float)


def clamp_limit(limit: int | None, default: int = 20) -> int:
    if limit is None:
        return default
    return max(1, min(int(limit), MAX_PAGE_SIZE))


def after(keys: list[SortKey], values: list[Any]):
    """Rows strictly after `values` in descending (k1, k2, …) order, as a portable boolean expression."""
    clauses = []
    for index, key in enumerate(keys):
        equal_before = [keys[i].expr == values[i] for i in range(index)]
        clauses.append(and_(*equal_before, key.expr < values[index]))
    return or_(*clauses)


def cursor_values(keys: list[SortKey], cursor: str | None) -> list[Any] | None:
    """The sort-key values inside `cursor` (None for the first page); Invalid when it was tampered with."""
    if not cursor:
        return None
    raw = decode_cursor(cursor)
    if len(raw) != len(keys):
        raise _bad_cursor()
    try:
        return [key.parse(value) for key, value in zip(keys, raw, strict=True)]
    except (ValueError, TypeError):
        raise _bad_cursor() from None


def paginate(query: Select, keys: list[SortKey], cursor: str | None, limit: int) -> Page:
    """Run `query` ordered by `keys` (all descending), one page after `cursor`."""
    values = cursor_values(keys, cursor)
    if values is not None:
        query = query.where(after(keys, values))
    query = query.order_by(*[key.expr.desc() for key in keys]).limit(limit + 1)
    rows = list(db.session.scalars(query).unique())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor([key.dump(key.value_of(rows[-1])) for key in keys])
    return Page(items=rows, next_cursor=next_cursor)


def newest_first(created_col, id_col) -> list[SortKey]:
    return [datetime_key(created_col, created_col.key), int_key(id_col, id_col.key)]


def paginate_desc(query: Select, created_col, id_col, cursor: str | None, limit: int) -> Page:
    """Newest first by (created, id)."""
    return paginate(query, newest_first(created_col, id_col), cursor, limit)
