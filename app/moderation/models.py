"""Reports, the queue, the moderation log, appeals, private notes, report mutes and curated collections.

Enforcement state (a post's removal, a ban, a suspension, a delisting) lives on the lower domains' rows,
which their own services read; this package writes it and keeps the record of who did what, when and why.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.communities.models import Community
from app.core.clock import now
from app.extensions import db
from app.posts.models import Post

# What can be reported (and acted on).
KIND_POST, KIND_COMMENT, KIND_USER, KIND_PRODUCT, KIND_SHOP = "post", "comment", "user", "product", "shop"
TARGET_KINDS = (KIND_POST, KIND_COMMENT, KIND_USER, KIND_PRODUCT, KIND_SHOP)

REASONS = ("spam", "harassment", "misinformation", "off_topic", "counterfeit", "undisclosed_ads", "other")

# Queue item states: open → resolved (an action was taken) or dismissed (no action needed).
ITEM_OPEN, ITEM_RESOLVED, ITEM_DISMISSED = "open", "resolved", "dismissed"
ITEM_TRANSITIONS = {ITEM_OPEN: frozenset({ITEM_RESOLVED, ITEM_DISMISSED}),
                    ITEM_RESOLVED: frozenset(), ITEM_DISMISSED: frozenset()}

APPEAL_PENDING, APPEAL_GRANTED, APPEAL_DENIED = "pending", "granted", "denied"


class QueueItem(db.Model):
    """One reported (or automatically flagged) target; every report of it while open merges in here.

    `version` grows with every change, so two moderators acting at once cannot both win: the action is a
    conditional UPDATE … WHERE version = :seen AND status = 'open'.
    """

    __tablename__ = "mod_queue_items"
    __table_args__ = (
        Index("uq_mod_queue_items_open_target", "target_kind", "target_id", unique=True,
              sqlite_where=sql_text("status = 'open'"), postgresql_where=sql_text("status = 'open'")),
        Index("ix_mod_queue_items_community_status", "community_id", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_kind: Mapped[str] = mapped_column(String(10))
    target_id: Mapped[int] = mapped_column(Integer)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))  # None: admins' queue
    target_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # whose content it is
    status: Mapped[str] = mapped_column(String(10), default=ITEM_OPEN)
    report_count: Mapped[int] = mapped_column(Integer, default=0)
    reasons: Mapped[str] = mapped_column(String(200), default="")  # space-separated reason codes
    auto_flag: Mapped[str | None] = mapped_column(String(300))  # why the system put it here, if it did
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution: Mapped[str | None] = mapped_column(String(30))

    community: Mapped[Community | None] = relationship()
    target_user: Mapped[User | None] = relationship(foreign_keys=[target_user_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])
    reports: Mapped[list[Report]] = relationship(back_populates="item", order_by="Report.id")

    @property
    def reason_list(self) -> list[str]:
        return self.reasons.split()


class Report(db.Model):
    """A reader's report, with a snapshot of the target as it was (an edit afterwards keeps the evidence)."""

    __tablename__ = "mod_reports"
    __table_args__ = (UniqueConstraint("reporter_id", "target_kind", "target_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("mod_queue_items.id"), index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    target_kind: Mapped[str] = mapped_column(String(10))
    target_id: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    snapshot: Mapped[str] = mapped_column(Text, default="")  # JSON: title, text, image paths, price…
    muted: Mapped[bool] = mapped_column(default=False)  # the reporter's reports are muted: kept, not queued
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    acted_at: Mapped[datetime | None] = mapped_column(DateTime)  # the reporter was told

    item: Mapped[QueueItem] = relationship(back_populates="reports")
    reporter: Mapped[User] = relationship()


class ModAction(db.Model):
    """The moderation log: one append-only row for every action and every reversal (never updated)."""

    __tablename__ = "mod_actions"
    __table_args__ = (
        Index("ix_mod_actions_community_created", "community_id", "created_at", "id"),
        Index("ix_mod_actions_target", "target_kind", "target_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))  # None: site-wide
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(30))
    target_kind: Mapped[str] = mapped_column(String(10))
    target_id: Mapped[int] = mapped_column(Integer)
    target_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    queue_item_id: Mapped[int | None] = mapped_column(ForeignKey("mod_queue_items.id"))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("mod_actions.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)

    actor: Mapped[User] = relationship(foreign_keys=[actor_id])
    target_user: Mapped[User | None] = relationship(foreign_keys=[target_user_id])
    community: Mapped[Community | None] = relationship()


class Appeal(db.Model):
    """An appeal of one removal, ban or suspension: once per action, decided by another moderator."""

    __tablename__ = "mod_appeals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("mod_actions.id"), unique=True)
    appellant_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=APPEAL_PENDING)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decision_reason: Mapped[str | None] = mapped_column(Text)

    action: Mapped[ModAction] = relationship()
    appellant: Mapped[User] = relationship(foreign_keys=[appellant_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class ModNote(db.Model):
    """A private note moderators keep on a user (per community; None: the admins' notes)."""

    __tablename__ = "mod_notes"
    __table_args__ = (Index("ix_mod_notes_subject", "subject_id", "community_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)

    author: Mapped[User] = relationship(foreign_keys=[author_id])


class ReportMute(db.Model):
    """A user whose reports a community's moderators (None: the admins) no longer want queued."""

    __tablename__ = "mod_report_mutes"
    __table_args__ = (UniqueConstraint("user_id", "community_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    community_key: Mapped[int] = mapped_column(Integer)  # the community's id, 0 for site-wide
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)


class CuratedCollection(db.Model):
    """A named, ordered list of notes a community's moderators put together ("Best sunscreen reviews")."""

    __tablename__ = "curated_collections"
    __table_args__ = (UniqueConstraint("community_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)

    community: Mapped[Community] = relationship()
    items: Mapped[list[CuratedItem]] = relationship(order_by="CuratedItem.position", cascade="all, delete-orphan",
                                                    back_populates="collection")


class CuratedItem(db.Model):
    __tablename__ = "curated_items"

    collection_id: Mapped[int] = mapped_column(ForeignKey("curated_collections.id"), primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    added_at: Mapped[datetime] = mapped_column(DateTime, default=now)

    collection: Mapped[CuratedCollection] = relationship(back_populates="items")
    post: Mapped[Post] = relationship()
