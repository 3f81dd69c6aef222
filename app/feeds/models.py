"""What the recommender trains and serves: model versions, precomputed recommendations, feedback."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import now
from app.extensions import db


class RecommenderModel(db.Model):
    """One trained recommender version: where its files are, how it scored, whether it serves."""

    __tablename__ = "recommender_models"

    version: Mapped[str] = mapped_column(String(40), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    path: Mapped[str] = mapped_column(String(255))
    n_users: Mapped[int] = mapped_column(Integer, default=0)
    n_items: Mapped[int] = mapped_column(Integer, default=0)
    n_interactions: Mapped[int] = mapped_column(Integer, default=0)
    train_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    metrics: Mapped[dict] = mapped_column(JSON, default=dict)  # holdout ndcg@20 / recall@20 and baselines
    is_active: Mapped[bool] = mapped_column(Boolean, default=False)


class Recommendation(db.Model):
    """A precomputed For-you candidate for one user, with the reason shown on its card."""

    __tablename__ = "recommendations"
    __table_args__ = (Index("ix_recommendations_user_score", "user_id", "score"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[dict] = mapped_column(JSON, default=dict)  # {"code": …, "params": {…}}
    model_version: Mapped[str] = mapped_column(String(40))
    # Copied from the post when published, so serving filters and diversifies without reading posts
    # (a note never changes author or community). Null in rows published before these columns existed.
    author_id: Mapped[int | None] = mapped_column(Integer)
    community_id: Mapped[int | None] = mapped_column(Integer)


class SimilarPost(db.Model):
    """'Similar notes' for a post, precomputed by the active model."""

    __tablename__ = "similar_posts"

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), primary_key=True)
    similar_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    model_version: Mapped[str] = mapped_column(String(40))


class FollowSuggestion(db.Model):
    """'People to follow' for a user, precomputed by the active model, with a reason."""

    __tablename__ = "follow_suggestions"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    suggested_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[dict] = mapped_column(JSON, default=dict)
    model_version: Mapped[str] = mapped_column(String(40))


FEEDBACK_KINDS = ("not_interested", "fewer_author", "fewer_community")


class FeedFeedback(db.Model):
    """A reader's "not interested" / "show fewer" choice; remembered and applied to every later page."""

    __tablename__ = "feed_feedback"
    __table_args__ = (UniqueConstraint("user_id", "kind", "target_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int] = mapped_column(Integer)  # a post, author or community id, by kind
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)

