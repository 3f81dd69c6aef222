"""The follower graph: follow, unfollow, block, unblock, and the lists and relationship facts pages show.

Counters (User.follower_count / following_count) change only here, by SQL expression, in the same
transaction as the row they count, and only when that row was really inserted or deleted.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import and_, delete, exists, or_, select, update
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.core.clock import now
from app.core.db import insert_if_absent
from app.core.errors import Forbidden, Invalid
from app.core.pagination import Page, clamp_limit, paginate_desc
from app.core.uow import transactional
from app.events.log import record_action
from app.extensions import db
from app.social.blocks import hidden_user_ids, is_blocked_between
from app.social.models import Block, Follow, Notification
from app.social.notifications import notify

PAGE_SIZE = 30


def _add_to_counter(column, user_id: int, delta: int) -> None:
    db.session.execute(update(User).where(User.id == user_id).values({column: column + delta})
                       .execution_options(synchronize_session=False))


def _change_follow_counters(follower_id: int, followee_id: int, delta: int) -> None:
    # Lock the two user rows in id order, so A→B and B→A racing each other cannot deadlock.
    changes = sorted([(followee_id, User.follower_count), (follower_id, User.following_count)],
                     key=lambda change: change[0])
    for user_id, column in changes:
        _add_to_counter(column, user_id, delta)


def _remove_follow(follower_id: int, followee_id: int) -> bool:
    result = db.session.execute(
        delete(Follow).where(Follow.follower_id == follower_id, Follow.followee_id == followee_id)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        return False
    _change_follow_counters(follower_id, followee_id, -1)
    return True


@transactional
def follow(follower: User, followee: User) -> bool:
    """`follower` follows `followee`; True when this created the follow (following twice is harmless)."""
    if follower.id == followee.id:
        raise Invalid(_("You cannot follow yourself."), code="self-follow")
    if is_blocked_between(follower.id, followee.id):
        raise Forbidden(_("You cannot follow this account."), code="blocked")
    created = insert_if_absent(Follow, follower_id=follower.id, followee_id=followee.id, created_at=now())
    if created:
        _change_follow_counters(follower.id, followee.id, +1)
        _notify_follow(follower.id, followee.id)
        record_action("follow", user_id=follower.id, target_user_id=followee.id)
    return created


def _notify_follow(follower_id: int, followee_id: int) -> None:
    # Following, unfollowing and following again should not stack up unread notifications.
    already = db.session.scalar(select(exists().where(
        Notification.recipient_id == followee_id, Notification.actor_id == follower_id,
        Notification.kind == "follow", Notification.read_at.is_(None))))
    if not already:
        notify(followee_id, "follow", actor_id=follower_id, target_type="user", target_id=followee_id)


@transactional
def unfollow(follower: User, followee: User) -> bool:
    """Stop following; True when a follow was removed (unfollowing twice is harmless)."""
    removed = _remove_follow(follower.id, followee.id)
    return removed


def remove_all_follows(user: User) -> int:
    """Drop every follow from and to the user (account deletion), keeping both sides' counters right.
    Joins the caller's unit of work."""
    pairs = db.session.execute(select(Follow.follower_id, Follow.followee_id).where(
        (Follow.follower_id == user.id) | (Follow.followee_id == user.id))).all()
    return sum(_remove_follow(follower_id, followee_id) for follower_id, followee_id in pairs)


@transactional
def block(blocker: User, blocked: User) -> bool:
    """Block a user: follows both ways are removed, and they cannot follow, comment on or mention you."""
    if blocker.id == blocked.id:
        raise Invalid(_("You cannot block yourself."), code="self-block")
    created = insert_if_absent(Block, blocker_id=blocker.id, blocked_id=blocked.id, created_at=now())
    _remove_follow(blocker.id, blocked.id)
    _remove_follow(blocked.id, blocker.id)
    return created


@transactional
def unblock(blocker: User, blocked: User) -> bool:
    """Lift a block (follows removed by it stay removed)."""
    result = db.session.execute(delete(Block).where(Block.blocker_id == blocker.id, Block.blocked_id == blocked.id)
                                .execution_options(synchronize_session=False))
    return result.rowcount == 1


@dataclass(frozen=True)
class Relationship:
    """How the viewer and another user relate, for buttons and badges."""

    is_self: bool = False
    is_following: bool = False
    follows_you: bool = False
    blocked_by_you: bool = False
    blocks_you: bool = False

    @property
    def is_mutual(self) -> bool:
        return self.is_following and self.follows_you

    @property
    def is_blocked(self) -> bool:
        """Blocked either way: no posts shown, no following."""
        return self.blocked_by_you or self.blocks_you


def relationship_between(viewer: User | None, user: User) -> Relationship:
    """The viewer's relationship to `user` in two small queries (none for a signed-out viewer)."""
    if viewer is None or not getattr(viewer, "is_authenticated", True):
        return Relationship()
    if viewer.id == user.id:
        return Relationship(is_self=True)
    follows = set(map(tuple, db.session.execute(select(Follow.follower_id, Follow.followee_id).where(or_(
        and_(Follow.follower_id == viewer.id, Follow.followee_id == user.id),
        and_(Follow.follower_id == user.id, Follow.followee_id == viewer.id))))))
    blocks = set(map(tuple, db.session.execute(select(Block.blocker_id, Block.blocked_id).where(or_(
        and_(Block.blocker_id == viewer.id, Block.blocked_id == user.id),
        and_(Block.blocker_id == user.id, Block.blocked_id == viewer.id))))))
    return Relationship(
        is_following=(viewer.id, user.id) in follows, follows_you=(user.id, viewer.id) in follows,
        blocked_by_you=(viewer.id, user.id) in blocks, blocks_you=(user.id, viewer.id) in blocks,
    )


def is_following(follower_id: int, followee_id: int) -> bool:
    return db.session.get(Follow, (follower_id, followee_id)) is not None


@dataclass
class FollowStates:
    """For a list of users: which the viewer follows and which follow the viewer (two queries)."""

    following: set[int]
    followers: set[int]

    def is_following(self, user_id: int) -> bool:
        return user_id in self.following

    def is_mutual(self, user_id: int) -> bool:
        return user_id in self.following and user_id in self.followers


def follow_states(viewer_id: int | None, user_ids: list[int]) -> FollowStates:
    if not viewer_id or not user_ids:
        return FollowStates(set(), set())
    following = set(db.session.scalars(select(Follow.followee_id).where(
        Follow.follower_id == viewer_id, Follow.followee_id.in_(user_ids))))
    followers = set(db.session.scalars(select(Follow.follower_id).where(
        Follow.followee_id == viewer_id, Follow.follower_id.in_(user_ids))))
    return FollowStates(following, followers)


def _people_page(query, cursor: str | None, limit: int | None, person: str) -> Page:
    page = paginate_desc(query, Follow.created_at, getattr(Follow, f"{person}_id"), cursor,
                         clamp_limit(limit, PAGE_SIZE))
    page.items = [getattr(row, person) for row in page.items]
    return page


def followers_of(user: User, viewer: User | None = None, cursor: str | None = None,
                 limit: int | None = None) -> Page:
    """Who follows `user`, most recent first (Page of User; cursor-paginated; blocked accounts hidden)."""
    query = select(Follow).where(Follow.followee_id == user.id).options(selectinload(Follow.follower))
    hidden = hidden_user_ids(viewer.id if viewer else None)
    if hidden:
        query = query.where(Follow.follower_id.not_in(hidden))
    return _people_page(query, cursor, limit, "follower")


def following_of(user: User, viewer: User | None = None, cursor: str | None = None,
                 limit: int | None = None) -> Page:
    """Whom `user` follows, most recent first (Page of User; cursor-paginated; blocked accounts hidden)."""
    query = select(Follow).where(Follow.follower_id == user.id).options(selectinload(Follow.followee))
    hidden = hidden_user_ids(viewer.id if viewer else None)
    if hidden:
        query = query.where(Follow.followee_id.not_in(hidden))
    return _people_page(query, cursor, limit, "followee")


def blocked_users(blocker: User) -> list[User]:
    """Accounts `blocker` has blocked, most recent first."""
    return list(db.session.scalars(select(User).join(Block, Block.blocked_id == User.id)
                                   .where(Block.blocker_id == blocker.id)
                                   .order_by(Block.created_at.desc())))
