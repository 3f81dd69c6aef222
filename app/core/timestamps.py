"""The API's one timestamp field: RFC 3339 with an explicit offset, as OpenAPI's `date-time` requires.

The database stores naive UTC datetimes (see app.core.clock.now); marshmallow's plain DateTime would
print them without an offset ("2026-12-06T16:14:36.979648"), which clients cannot place in time and
which is not a valid `date-time`. Every API schema uses `Timestamp` instead of `fields.DateTime`.
"""
from __future__ import annotations

from datetime import UTC, datetime

from marshmallow import fields


class Timestamp(fields.DateTime):
    """A datetime dumped as RFC 3339 in UTC ("…+00:00"); naive values are taken to be UTC.

    Loaded values come back as naive UTC, the way they are stored; one without an offset is taken as UTC.
    """

    def __init__(self, **kwargs):
        super().__init__(format="iso", **kwargs)

    def _serialize(self, value: datetime | None, attr, obj, **kwargs):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat()

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        if moment.tzinfo is None:
            return moment
        return moment.astimezone(UTC).replace(tzinfo=None)
