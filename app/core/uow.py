"""The one way to run a transaction: a unit of work over the SQLAlchemy session.

A service does its whole change inside `with unit_of_work():` (or under `@transactional`). Leaving the block
commits; any exception rolls everything back and is re-raised. Work that must happen only once the change is
durable — enqueueing a job, refreshing the search index, deleting a replaced file — is registered with
`after_commit(fn)` and runs right after the commit succeeds, never after a rollback.

Units nest by joining: a service that calls another service opens a unit inside the caller's, and only the
outermost one commits and runs the callbacks, so a use case made of several services stays one transaction.
An exception that leaves an inner block also leaves the outer one (it rolls back there), unless the caller
catches it; writes made before a caught exception stay in the outer transaction.

Nothing outside this module commits the application's session (a test in tests/core/test_uow.py greps for it).
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import text

from app.extensions import db

log = logging.getLogger(__name__)

_UNIT = "unit_of_work"
F = TypeVar("F", bound=Callable)


class UnitOfWork:
    """The open transaction of one session and what must happen after it commits."""

    def __init__(self) -> None:
        self.callbacks: list[Callable[[], object]] = []
        self.info: dict = {}  # what helpers collect during the unit (e.g. search ids), to act on once after commit

    def after_commit(self, fn: Callable[[], object]) -> None:
        self.callbacks.append(fn)

    def _run_callbacks(self) -> None:
        for fn in self.callbacks:
            try:
                fn()
            except Exception:  # the change is committed: a failed follow-up is logged, not turned into an error
                log.exception("after-commit callback %r failed", fn)


def current_unit() -> UnitOfWork | None:
    """The unit of work open on this thread's session, if any."""
    return db.session().info.get(_UNIT)


@contextmanager
def unit_of_work(*, synchronous_commit: bool = True, keep_loaded: bool = False) -> Iterator[UnitOfWork]:
    """Run the block as one transaction: commit on success, roll back on any exception, then run callbacks.

    Inside an open unit this joins it (no commit here; the outermost unit commits).
    `synchronous_commit=False` lets PostgreSQL acknowledge the commit before its WAL flush; it applies only
    when this unit is the outermost one, so an append-only log joined into a money transaction never
    weakens that transaction's durability. `keep_loaded=True` (an append-only insert that changes no loaded row)
    keeps the session's loaded objects after the commit, so the rest of the request does not read them again.
    """
    session = db.session()
    outer = session.info.get(_UNIT)
    if outer is not None:
        yield outer
        return
    unit = UnitOfWork()
    session.info[_UNIT] = unit
    try:
        if not synchronous_commit and session.get_bind().dialect.name == "postgresql":
            session.execute(text("SET LOCAL synchronous_commit TO OFF"))
        yield unit
        expire = session.expire_on_commit
        session.expire_on_commit = expire and not keep_loaded
        try:
            session.commit()
        finally:
            session.expire_on_commit = expire
    except BaseException:
        session.info.pop(_UNIT, None)
        session.rollback()
        raise
    session.info.pop(_UNIT, None)
    unit._run_callbacks()


def transactional(fn: F) -> F:
    """Decorator: run the whole function in `unit_of_work()`."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with unit_of_work():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def after_commit(fn: Callable[[], object]) -> None:
    """Run `fn()` once the current unit of work commits (dropped if it rolls back).

    Called outside a unit this is a programming error: there is no transaction whose success it could wait for.
    """
    unit = current_unit()
    if unit is None:
        raise RuntimeError("after_commit() needs an open unit_of_work()")
    unit.after_commit(fn)
