"""Block look-ups other domains need (comments, mentions, feeds)."""
from __future__ import annotations

from sqlalchemy import or_, select

from app.extensions import db
from app.social.models import Block


def is_blocked_between(a_id: int, b_id: int) -> bool:
    """True when either user has blocked the other."""
    return db.session.scalar(select(Block.blocker_id).where(or_(
        (Block.blocker_id == a_id) & (Block.blocked_id == b_id),
        (Block.blocker_id == b_id) & (Block.blocked_id == a_id),
    )).limit(1)) is not None


def hidden_user_ids(user_id: int | None) -> set[int]:
    """Users whose content `user_id` must not see, and who must not see theirs (blocks both ways)."""
    if user_id is None:
        return set()
    rows = db.session.execute(select(Block.blocker_id, Block.blocked_id).where(
        or_(Block.blocker_id == user_id, Block.blocked_id == user_id))).all()
    return {blocked if blocker == user_id else blocker for blocker, blocked in rows}
