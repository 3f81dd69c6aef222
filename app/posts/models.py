"""Post, PostImage, PostRevision, Tag, Like, Collection, Save and Comment.

Product tags on posts ("shoppable notes") live in the storefront (app/shop: PostProduct, tags.py), as a
post_products table pointing here; the posts services and pages reach them through app/posts/product_tags.py.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.communities.models import Community
from app.core.clock import now
from app.extensions import db

KIND_NOTE, KIND_REVIEW = "note", "review"
KINDS = (KIND_NOTE, KIND_REVIEW)
# published: visible; removed: taken down by a moderator (reason shown); deleted: by its author;
# pending: waiting for a moderator's approval (a new account in a community that asks for it).
STATUS_PUBLISHED, STATUS_REMOVED, STATUS_DELETED = "published", "removed", "deleted"
STATUS_PENDING = "pending"


class Post(db.Model):
    __tablename__ = "posts"
    __table_args__ = (
        CheckConstraint("rating IS NULL OR (rating >= 1 AND rating <= 5)", name="rating_range"),
        # Following feed: fan-out on read walks each followee's newest posts.
        Index("ix_posts_author_created", "author_id", "created_at", "id"),
        Index("ix_posts_community_created", "community_id", "created_at", "id"),
        Index("ix_posts_community_hot", "community_id", "hot_score"),
        Index("ix_posts_created", "created_at", "id"),
        Index("ix_posts_hot", "hot_score"),  # trending and cold-start lists
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(10), default=KIND_NOTE)
    title: Mapped[str] = mapped_column(String(120))
    body_md: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")  # rendered and sanitized at write time
    rating: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default=STATUS_PUBLISHED, index=True)
    removed_reason: Mapped[str | None] = mapped_column(Text)
    removed_at: Mapped[datetime | None] = mapped_column(DateTime)
    comments_locked: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set by the community's moderators (app/moderation): pinned on top (at most 3), "Editor's picks".
    pinned_at: Mapped[datetime | None] = mapped_column(DateTime)
    featured_at: Mapped[datetime | None] = mapped_column(DateTime)
    # "This is my own product": a note tagging its author's own shop's products must say so.
    discloses_own_product: Mapped[bool] = mapped_column(Boolean, default=False)
    like_count: Mapped[int] = mapped_column(Integer, default=0)
    save_count: Mapped[int] = mapped_column(Integer, default=0)
    comment_count: Mapped[int] = mapped_column(Integer, default=0)
    hot_score: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    edited_at: Mapped[datetime | None] = mapped_column(DateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)

    author: Mapped[User] = relationship()
    community: Mapped[Community] = relationship()
    images: Mapped[list[PostImage]] = relationship(order_by="PostImage.position", cascade="all, delete-orphan",
                                                   back_populates="post")
    tags: Mapped[list[Tag]] = relationship(secondary="post_tags", order_by="Tag.name")

    @property
    def is_visible(self) -> bool:
        return self.status == STATUS_PUBLISHED

    @property
    def cover(self) -> PostImage | None:
        return self.images[0] if self.images else None


class PostImage(db.Model):
    __tablename__ = "post_images"
    __table_args__ = (UniqueConstraint("post_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(String(255))  # display size, relative to MEDIA_ROOT
    thumb_path: Mapped[str] = mapped_column(String(255))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)

    post: Mapped[Post] = relationship(back_populates="images")


class PostRevision(db.Model):
    """The previous text of a post, kept on every edit (append-only)."""

    __tablename__ = "post_revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), index=True)
    editor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(120))
    body_md: Mapped[str] = mapped_column(Text)
    tags: Mapped[str] = mapped_column(String(500), default="")
    rating: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)


class Tag(db.Model):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)  # lower-cased, without '#'
    post_count: Mapped[int] = mapped_column(Integer, default=0)


post_tags = db.Table(
    "post_tags",
    db.Column("post_id", ForeignKey("posts.id"), primary_key=True),
    db.Column("tag_id", ForeignKey("tags.id"), primary_key=True, index=True),
)


class Like(db.Model):
    __tablename__ = "likes"
    __table_args__ = (
        Index("ix_likes_post_created", "post_id", "created_at"),
        Index("ix_likes_user_created", "user_id", "created_at"),  # For you: what followees liked lately
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)


class Collection(db.Model):
    """A named set of saved posts; private unless made public (then it has its own page)."""

    __tablename__ = "collections"
    __table_args__ = (UniqueConstraint("owner_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    item_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)

    owner: Mapped[User] = relationship()


class Save(db.Model):
    """A user saved a post, into one of their collections. One save per user and post."""

    __tablename__ = "saves"
    __table_args__ = (
        UniqueConstraint("user_id", "post_id"),
        Index("ix_saves_post_created", "post_id", "created_at"),
        Index("ix_saves_user_created", "user_id", "created_at"),
        Index("ix_saves_collection_created", "collection_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    collection_id: Mapped[int] = mapped_column(ForeignKey("collections.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)

    post: Mapped[Post] = relationship()
    collection: Mapped[Collection] = relationship()


class Comment(db.Model):
    """A comment on a post; replies nest two levels below a top-level comment (depth 0, 1, 2)."""

    __tablename__ = "comments"
    __table_args__ = (
        Index("ix_comments_post_created", "post_id", "created_at"),
        CheckConstraint("depth >= 0 AND depth <= 2", name="depth_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"))
    depth: Mapped[int] = mapped_column(Integer, default=0)
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default=STATUS_PUBLISHED)
    removed_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    edited_at: Mapped[datetime | None] = mapped_column(DateTime)

    author: Mapped[User] = relationship()
    post: Mapped[Post] = relationship()
