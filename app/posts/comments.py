"""Comments: a top-level comment and two levels of replies, edits within 15 minutes, soft delete."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.communities.services import ensure_may_participate, is_moderator
from app.core.clock import now
from app.core.errors import Forbidden, Invalid, NotFound
from app.core.uow import transactional
from app.events.log import record_action
from app.extensions import db
from app.posts.hooks import comment_written
from app.posts.models import STATUS_DELETED, STATUS_PUBLISHED, STATUS_REMOVED, Comment, Post
from app.posts.pace import ensure_comment_pace
from app.posts.services import (
    add_to_post_counter,
    ensure_engageable,
    known_usernames,
    notify_mentions,
    refresh_hot_score,
)
from app.posts.text import mentions, render_plain
from app.search.queue import queue_post_counts
from app.social.blocks import hidden_user_ids, is_blocked_between
from app.social.notifications import notify

COMMENT_MAX = 2_000
MAX_DEPTH = 2
EDIT_WINDOW = timedelta(minutes=15)


def _clean_body(body: str | None) -> str:
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        raise Invalid(_("Write something first."), {"body": [_("Write something first.")]})
    if len(body) > COMMENT_MAX:
        message = _("Keep comments to %(max)d characters.", max=COMMENT_MAX)
        raise Invalid(message, {"body": [message]})
    return body


def _render(body: str) -> str:
    return render_plain(body, known_usernames(mentions(body)))


def get_comment(comment_id: int) -> Comment:
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise NotFound(_("This comment does not exist."))
    return comment


@transactional
def add_comment(author: User, post: Post, body: str | None, parent_id: int | None = None) -> Comment:
    """Comment on a post, or reply to one of its comments (a reply to a third-level reply stays third-level)."""
    ensure_engageable(post, author)
    if post.comments_locked:
        raise Forbidden(_("Comments on this note are locked."), code="comments-locked")
    ensure_may_participate(author, post.community_id)
    body = _clean_body(body)
    ensure_comment_pace(author, body)
    parent = None
    if parent_id is not None:
        parent = db.session.get(Comment, parent_id)
        if parent is None or parent.post_id != post.id:
            raise Invalid(_("You can only reply to a comment on this note."),
                          {"parent_id": [_("You can only reply to a comment on this note.")]})
        if parent.status != STATUS_PUBLISHED:
            raise Invalid(_("That comment was deleted."), {"parent_id": [_("That comment was deleted.")]},
                          code="parent-deleted")
        if is_blocked_between(author.id, parent.author_id):
            raise Forbidden(_("You cannot reply to this account."), code="blocked")
        if parent.depth >= MAX_DEPTH:
            parent = db.session.get(Comment, parent.parent_id)
    comment = Comment(post_id=post.id, author_id=author.id, parent_id=parent.id if parent else None,
                      depth=parent.depth + 1 if parent else 0, body=body, body_html=_render(body), created_at=now())
    db.session.add(comment)
    db.session.flush()
    add_to_post_counter(post.id, "comment_count", +1)
    refresh_hot_score(post.id)
    queue_post_counts(post.id)
    notified = {author.id}
    if parent is not None and parent.author_id not in notified:
        notify(parent.author_id, "reply", actor_id=author.id, target_type="comment", target_id=comment.id)
        notified.add(parent.author_id)
    if post.author_id not in notified:
        notify(post.author_id, "comment", actor_id=author.id, target_type="post", target_id=post.id)
        notified.add(post.author_id)
    notify_mentions(body, author, "comment", comment.id, skip=notified)
    record_action("comment", user_id=author.id, post_id=post.id)
    comment_written(comment)
    return comment


def can_edit_comment(user: User | None, comment: Comment) -> bool:
    return bool(user and user.is_authenticated and comment.author_id == user.id
                and comment.status == STATUS_PUBLISHED and now() - comment.created_at <= EDIT_WINDOW)


@transactional
def edit_comment(actor: User, comment: Comment, body: str | None) -> Comment:
    if comment.author_id != actor.id:
        raise Forbidden(_("Only its author can edit this comment."), code="not-your-comment")
    if not can_edit_comment(actor, comment):
        raise Forbidden(_("Comments can be edited for 15 minutes after posting."), code="edit-window-closed")
    body = _clean_body(body)
    comment.body, comment.body_html, comment.edited_at = body, _render(body), now()
    return comment


def can_delete_comment(user: User | None, comment: Comment) -> bool:
    return bool(user and user.is_authenticated and comment.status == STATUS_PUBLISHED
                and (comment.author_id == user.id or user.is_admin))


@transactional
def delete_comment(actor: User, comment: Comment) -> Comment:
    """Soft delete: replies stay in place under a 'deleted' marker; the post's count drops once."""
    if not can_delete_comment(actor, comment):
        if comment.status != STATUS_PUBLISHED:
            return comment
        raise Forbidden(_("Only its author can delete this comment."), code="not-your-comment")
    result = db.session.execute(update(Comment).where(Comment.id == comment.id, Comment.status == STATUS_PUBLISHED)
                                .values(status=STATUS_DELETED).execution_options(synchronize_session=False))
    if result.rowcount == 1:
        add_to_post_counter(comment.post_id, "comment_count", -1)
        refresh_hot_score(comment.post_id)
        queue_post_counts(comment.post_id)
    db.session.flush()
    db.session.refresh(comment)
    return comment


@dataclass
class CommentNode:
    comment: Comment
    replies: list[CommentNode] = field(default_factory=list)


def comment_tree(post: Post, viewer: User | None) -> list[CommentNode]:
    """All comments of a post as a tree, oldest first, in two queries; blocked authors' comments are left out.

    A deleted comment with live replies stays as a placeholder so the thread still reads.
    """
    hidden = hidden_user_ids(viewer.id if viewer else None)
    rows = list(db.session.scalars(select(Comment).where(Comment.post_id == post.id)
                                   .options(selectinload(Comment.author))
                                   .order_by(Comment.created_at, Comment.id)))
    nodes = {c.id: CommentNode(c) for c in rows if c.author_id not in hidden}
    roots: list[CommentNode] = []
    for node in nodes.values():
        parent = nodes.get(node.comment.parent_id) if node.comment.parent_id else None
        if node.comment.parent_id and parent is None:
            continue  # its parent's author is hidden from this viewer
        (parent.replies if parent else roots).append(node)

    # A removed comment stays as a marker for its author (to read why) and the moderators (to restore it).
    sees_removed = viewer is not None and is_moderator(viewer, post.community)

    def alive(node: CommentNode) -> bool:
        node.replies = [reply for reply in node.replies if alive(reply)]
        if node.comment.status == STATUS_REMOVED and (sees_removed or (viewer and node.comment.author_id == viewer.id)):
            return True
        return node.comment.status == STATUS_PUBLISHED or bool(node.replies)

    return [root for root in roots if alive(root)]
