"""The append-only event log the recommender learns from."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import now
from app.extensions import db

EVENT_KINDS = ("impression", "open", "like", "save", "comment", "share", "follow",
               "product_click")  # product_click: a tap on a product card under a note (post_id = the note)


class Event(db.Model):
    """What a user (or an anonymous visitor) was shown or did. Never updated or deleted."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_user_created", "user_id", "created_at"),
        Index("ix_events_created", "created_at"),
        Index("ix_events_user_kind", "user_id", "kind"),  # For you: what a reader already opened
        Index("ix_events_post_created", "post_id", "created_at"),  # a note's statistics for its author
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    anon_id: Mapped[str | None] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(20))
    post_id: Mapped[int | None] = mapped_column(Integer)  # no FK: the log outlives what it mentions
    target_user_id: Mapped[int | None] = mapped_column(Integer)
    surface: Mapped[str | None] = mapped_column(String(30))  # following, community, tag, for_you, post…
    position: Mapped[int | None] = mapped_column(Integer)
    request_id: Mapped[str | None] = mapped_column(String(36))
    model_version: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
