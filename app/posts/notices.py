"""What post and comment notifications link to (registered with app.social.notifications at import).

Social sits below posts, so posts registers its own target types here, as the shop does in shop/notices.py.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.posts.models import Comment, Post
from app.social.notifications import register_target_type


def _load_posts(ids: list[int]) -> dict[int, Any]:
    return {post.id: post for post in db.session.scalars(select(Post).where(Post.id.in_(ids)))}


def _load_comments(ids: list[int]) -> dict[int, Any]:
    return {comment.id: comment for comment in db.session.scalars(
        select(Comment).where(Comment.id.in_(ids)).options(selectinload(Comment.post)))}


def _excerpt(text: str, length: int = 60) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= length else text[: length - 1] + "…"


register_target_type("post", _load_posts, lambda post: f"/p/{post.id}", lambda post: post.title)
register_target_type("comment", _load_comments, lambda comment: f"/p/{comment.post_id}#comment-{comment.id}",
                     lambda comment: _excerpt(comment.body))
