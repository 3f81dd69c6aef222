"""What a post card needs, loaded in a fixed number of queries for a whole page of posts."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.posts.models import Like, Post, Save


def card_load_options():
    """Eager loads for a list of cards: author and community joined into the posts query, images in one more."""
    return (joinedload(Post.author), joinedload(Post.community), selectinload(Post.images))


@dataclass
class ViewerState:
    """Which of the posts on a page the viewer has liked and saved (one query each)."""

    liked: set[int] = field(default_factory=set)
    saved: set[int] = field(default_factory=set)


def liked_by(viewer_id: int | None, post_ids: list[int]) -> set[int]:
    """Which of these posts the viewer has liked (one query)."""
    if not viewer_id or not post_ids:
        return set()
    return set(db.session.scalars(select(Like.post_id).where(Like.user_id == viewer_id, Like.post_id.in_(post_ids))))


def viewer_state(posts: list[Post], viewer_id: int | None) -> ViewerState:
    ids = [post.id for post in posts]
    if not viewer_id or not ids:
        return ViewerState()
    liked = set(db.session.scalars(select(Like.post_id).where(Like.user_id == viewer_id, Like.post_id.in_(ids))))
    saved = set(db.session.scalars(select(Save.post_id).where(Save.user_id == viewer_id, Save.post_id.in_(ids))))
    return ViewerState(liked, saved)
