"""What the layout counts for a signed-in reader (cart units, unread notifications, moderator tools), in one
statement per request.

Each domain registers a column for its badge, written against the `READER` parameter (the reader's user id),
next to the template helper that shows it. The first template helper that asks reads every registered badge
in one SELECT and keeps the row in `g` for the rest of the request, so a full page spends one statement on its
header however many badges it shows (instead of one each). A view that needs more about the reader on every
request can ask for its own columns in the same statement (`read(user_id, extra)`): the For-you page reads its
reader fingerprint this way (app.feeds.pages).

Values are read when first asked for: a view that changes a count (adds to the cart) before rendering shows
the new count, as long as nothing asked before the change.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import g
from sqlalchemy import Integer, bindparam, select
from sqlalchemy.sql.elements import ColumnElement

from app.extensions import db

READER = bindparam("reader", type_=Integer)

_columns: dict[str, Callable[[], ColumnElement]] = {}
_statements: dict[tuple[str, ...], Any] = {}


def register(name: str, column: Callable[[], ColumnElement]) -> None:
    """Add a badge: `column()` builds a scalar column (usually a scalar subquery) filtered by READER."""
    _columns[name] = column
    _statements.clear()


def read(user_id: int, extra: Mapping[str, Callable[[], ColumnElement]] | None = None,
         fresh: bool = False) -> dict[str, Any]:
    """Every registered badge for the reader, plus `extra` columns, in one statement; kept for the request
    (`fresh` reads again even so).

    The statement for a set of names is built once per process (its compiled form is cached by SQLAlchemy)."""
    kept = g.get("_badges")
    if not fresh and kept is not None and kept[0] == user_id and all(name in kept[1] for name in extra or ()):
        return kept[1]
    wanted = {**_columns, **(extra or {})}
    names = tuple(sorted(wanted))
    statement = _statements.get(names)
    if statement is None:
        statement = _statements[names] = select(*(wanted[name]().label(name) for name in names))
    row = db.session.execute(statement, {"reader": user_id}).one()
    values = dict(zip(names, row, strict=True))
    g._badges = (user_id, values)
    return values


def forget() -> None:
    """Read the badges again next time (a view changed one after it was shown, e.g. marking a notification read)."""
    g.pop("_badges", None)


def badge(name: str, user_id: int) -> Any:
    """One registered badge of the reader (read with all the others the first time any is asked for)."""
    return read(user_id)[name]
