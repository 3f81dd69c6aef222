"""The one clock: everything with a deadline asks `now()`, and tests can set it."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

_frozen: datetime | None = None


def now() -> datetime:
    """Current time as a naive UTC datetime (how it is stored in the database)."""
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC).replace(tzinfo=None)


@contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    """Within the block, now() returns `moment` (tests only)."""
    global _frozen
    previous, _frozen = _frozen, moment
    try:
        yield
    finally:
        _frozen = previous
