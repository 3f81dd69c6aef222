"""User, ApiToken, UserSession (one per log-in) and OutboundEmail (the email outbox)."""
from __future__ import annotations

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import now
from app.extensions import db


def new_invite_code() -> str:
    return secrets.token_urlsafe(6)


class User(UserMixin, db.Model):
    """A person. Everyone is a reader; creator, merchant and admin are capabilities on top.

    Per-community moderator and owner roles live with the communities (one row per community),
    and shops keep their own staff, so this row only holds site-wide capabilities.
    """

    __tablename__ = "users"
    # Every feed hides suspended accounts (suspended_now_clause): without this a sequential scan of all users.
    __table_args__ = (Index("ix_users_suspended", "id", postgresql_where=sql_text("suspended_at IS NOT NULL"),
                            sqlite_where=sql_text("suspended_at IS NOT NULL")),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(30))
    # Lower-cased copies carry the unique constraints, so "Ann" and "ann" cannot both register.
    username_key: Mapped[str] = mapped_column(String(30), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    email_key: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(60), default="")
    bio: Mapped[str] = mapped_column(Text, default="")
    avatar_path: Mapped[str | None] = mapped_column(String(255))
    locale: Mapped[str | None] = mapped_column(String(10))
    timezone: Mapped[str | None] = mapped_column(String(64))  # IANA name; unset: the browser's, then the site's
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_creator: Mapped[bool] = mapped_column(Boolean, default=False)
    is_merchant: Mapped[bool] = mapped_column(Boolean, default=False)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    # Suspension by a site admin (app/moderation): no log-in until suspended_until (None: for good).
    suspended_at: Mapped[datetime | None] = mapped_column(DateTime)
    suspended_until: Mapped[datetime | None] = mapped_column(DateTime)
    suspension_reason: Mapped[str | None] = mapped_column(Text)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)  # anonymised at the owner's request
    onboarded_at: Mapped[datetime | None] = mapped_column(DateTime)  # picked communities on first log-in
    invite_code: Mapped[str] = mapped_column(String(16), unique=True, default=new_invite_code)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Counters shown on profiles, kept in step with the rows they count by the social/posts services.
    follower_count: Mapped[int] = mapped_column(Integer, default=0)
    following_count: Mapped[int] = mapped_column(Integer, default=0)
    likes_received_count: Mapped[int] = mapped_column(Integer, default=0)

    invited_by: Mapped[User | None] = relationship(remote_side=[id])

    @property
    def name(self) -> str:
        """What to show: the display name, falling back to the username ("Deleted user" once deleted)."""
        if self.deleted_at is not None:
            from flask_babel import gettext as _

            return _("Deleted user")
        return self.display_name or self.username

    @property
    def is_suspended(self) -> bool:
        """Suspended now: a suspension with an expiry lifts itself when it passes (a job also clears it)."""
        return self.suspended_at is not None and (self.suspended_until is None or self.suspended_until > now())

    @property
    def is_active(self) -> bool:  # Flask-Login refuses sessions of inactive users
        return not self.is_suspended and self.deleted_at is None

    def __repr__(self) -> str:
        return f"<User {self.username}>"


def suspended_now_clause():
    """SQL for User.is_suspended at the clock's now (an expired suspension no longer counts)."""
    from sqlalchemy import or_

    return User.suspended_at.is_not(None) & or_(User.suspended_until.is_(None), User.suspended_until > now())


class ApiToken(db.Model):
    """A personal access token. Only a SHA-256 of the secret is stored; the secret is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship()

    def is_usable(self, moment: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > moment)


class UserSession(db.Model):
    """One log-in on one device. Only a SHA-256 of its secret is stored; the secret lives in the signed
    Flask session (and, with "remember me", in the remember cookie), so revoking the row ends both."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    remember: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    ip_address: Mapped[str] = mapped_column(String(45), default="")
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship()


class OutboundEmail(db.Model):
    """An email waiting in the outbox for the mail sender (rows are kept as a record once sent)."""

    __tablename__ = "email_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    to_address: Mapped[str] = mapped_column(String(254))
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
