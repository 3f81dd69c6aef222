"""Block look-ups other domains need (comments, mentions, feeds)."""
from __future__ import annotations

from sqlalchemy import or_, select, union_all

from app.accounts.models import User, suspended_now_clause
from app.extensions import db
from app.social.models import Block


def is_blocked_between(a_id: int, b_id: int) -> bool:
    """True when either user has blocked the other."""
    return db.session.scalar(select(Block.blocker_id).where(or_(
        (Block.blocker_id == a_id) & (Block.blocked_id == b_id),
        (Block.blocker_id == b_id) & (Block.blocked_id == a_id),
    )).limit(1)) is not None


def hidden_user_ids(user_id: int | None) -> set[int]:
    """Users whose content `user_id` must not see, and who must not see theirs (blocks both ways), plus
    suspended accounts, whose content nobody sees until the suspension ends (one query)."""
    suspended = select(User.id.label("a"), User.id.label("b")).where(suspended_now_clause())
    if user_id is None:
        return {row.a for row in db.session.execute(suspended)}
    blocks = select(Block.blocker_id.label("a"), Block.blocked_id.label("b")).where(
        or_(Block.blocker_id == user_id, Block.blocked_id == user_id))
    rows = db.session.execute(union_all(blocks, suspended)).all()
    return {b if a == user_id else a for a, b in rows}
