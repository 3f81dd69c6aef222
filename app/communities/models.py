"""Community and Membership."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.core.clock import now
from app.extensions import db

# The known verticals; a community's `vertical` is one of these keys. Add a key here to extend.
VERTICALS = ("beauty", "mother_baby", "outdoor", "digital", "food", "travel", "fashion", "home")

ROLE_MEMBER, ROLE_MODERATOR, ROLE_OWNER = "member", "moderator", "owner"
ROLES = (ROLE_MEMBER, ROLE_MODERATOR, ROLE_OWNER)


class Community(db.Model):
    __tablename__ = "communities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    vertical: Mapped[str] = mapped_column(String(30), index=True)
    rules_md: Mapped[str] = mapped_column(Text, default="")
    banner_path: Mapped[str | None] = mapped_column(String(255))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    member_count: Mapped[int] = mapped_column(Integer, default=0)
    post_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    # Moderation settings: preset removal reasons (one per line), and notes by accounts younger than this
    # many days wait for a moderator's approval (0: never).
    removal_reasons: Mapped[str] = mapped_column(Text, default="")
    approval_account_days: Mapped[int] = mapped_column(Integer, default=0)

    owner: Mapped[User] = relationship()


class Membership(db.Model):
    """A user's membership of one community, with their role there (member, moderator or owner)."""

    __tablename__ = "memberships"
    __table_args__ = (Index("ix_memberships_community_role", "community_id", "role"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), default=ROLE_MEMBER)
    joined_at: Mapped[datetime] = mapped_column(DateTime, default=now)

    user: Mapped[User] = relationship()
    community: Mapped[Community] = relationship()


class CommunityBan(db.Model):
    """A member banned from one community, until expires_at (None: for good) or until lifted.

    The row is enforcement state the communities, posts and shop services read (ensure_may_participate);
    the moderation package writes it and keeps the log of who did it and why.
    """

    __tablename__ = "community_bans"
    __table_args__ = (Index("ix_community_bans_community_user", "community_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    banned_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    lifted_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    community: Mapped[Community] = relationship()

    def is_active_at(self, moment: datetime) -> bool:
        return self.lifted_at is None and (self.expires_at is None or self.expires_at > moment)
