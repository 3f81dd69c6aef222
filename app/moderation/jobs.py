"""Scheduled work: suspensions with an end lift themselves (User.is_active already ignores an expired one;
this clears the row, so SQL filters on suspended_at and the search index follow). Bans need no job: an
expired ban simply no longer matches `active_ban`. Safe to run twice."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.accounts.models import User
from app.core.clock import now as clock_now
from app.core.uow import unit_of_work
from app.extensions import db
from app.moderation.actions import _reindex_user


def lift_expired_suspensions(now: datetime | None = None) -> int:
    moment = now or clock_now()
    with unit_of_work():
        users = list(db.session.scalars(select(User).where(User.suspended_at.is_not(None),
                                                           User.suspended_until.is_not(None),
                                                           User.suspended_until <= moment).with_for_update()))
        for user in users:
            user.suspended_at = user.suspended_until = user.suspension_reason = None
            _reindex_user(user)
    return len(users)
