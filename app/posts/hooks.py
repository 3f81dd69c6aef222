"""Post and comment hooks: moderation (a layer above) screens new notes and comments without the posts
package importing it (the layer contract forbids that).

A listener is connected once at app start and is called inside the same unit of work as the write, so
what it writes (a queue item for a near-duplicate, an undisclosed advertisement) commits with the post.
Listeners must not commit and should be cheap.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover - typing only
    from app.posts.models import Comment, Post

PostWritten = Callable[["Post"], None]
CommentWritten = Callable[["Comment"], None]

_post_written: list[PostWritten] = []
_comment_written: list[CommentWritten] = []


def on_post_written(listener: PostWritten) -> PostWritten:
    """fn(post): after a note is created or edited (its rows are flushed)."""
    if listener not in _post_written:
        _post_written.append(listener)
    return listener


def on_comment_written(listener: CommentWritten) -> CommentWritten:
    if listener not in _comment_written:
        _comment_written.append(listener)
    return listener


def post_written(post: Post) -> None:
    for listener in list(_post_written):
        listener(post)


def comment_written(comment: Comment) -> None:
    for listener in list(_comment_written):
        listener(comment)
