"""Spam screening of new and edited notes (connected to app/posts/hooks.py at app start):

- near-duplicates: the note's text as a set of hashed 5-character shingles, compared by Jaccard similarity
  (≥ 0.8) with the author's notes of the last 7 days and new accounts' notes of the last 24 hours. Two or
  more near-copies by one account, or across two or more new accounts, put the note in the queue (spam).
- undisclosed advertising: a note that tags a product from its author's own shop without ticking
  "this is my own product" goes to the queue.
- a note waiting for approval (a new account where the community asks for it) goes to the queue too.

Exact Jaccard over a few hundred candidate shingle sets costs a few milliseconds, so no MinHash index is
needed at this size; `shingles` is where one would plug in (datasketch's MinHashLSH takes the same sets).
"""
from __future__ import annotations

import re
import zlib
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.accounts.models import User
from app.core.clock import now
from app.extensions import db
from app.moderation.models import KIND_COMMENT, KIND_POST
from app.moderation.reports import flag
from app.moderation.targets import Target
from app.posts.models import STATUS_DELETED, STATUS_PENDING, Comment, Post
from app.posts.pace import NEW_ACCOUNT_DAYS
from app.shop.models import PostProduct, Product, Shop

SHINGLE = 5
SIMILAR = 0.8
MIN_TEXT = 20
COPIES_TO_FLAG = 2
_SPACE = re.compile(r"\s+")

# Why the system queued something: stored as a code, shown translated (auto_flag_text).
FLAG_TEXTS = {
    "duplicate": _l("Near-duplicate of %(n)s other posts"),
    "undisclosed": _l("Tags the author's own product without saying so"),
    "approval": _l("New account: waiting for approval"),
}


def auto_flag_text(code: str | None) -> str:
    if not code:
        return ""
    name, _sep, count = code.partition(":")
    text = FLAG_TEXTS.get(name)
    return str(text) % {"n": count} if text is not None else code


def shingles(text: str) -> set[int]:
    """Hashed 5-character shingles of the text, case- and whitespace-folded."""
    text = _SPACE.sub(" ", (text or "").lower()).strip()
    if len(text) < SHINGLE:
        return {zlib.crc32(text.encode())} if text else set()
    return {zlib.crc32(text[i:i + SHINGLE].encode()) for i in range(len(text) - SHINGLE + 1)}


def jaccard(a: set[int], b: set[int]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def _text(title: str, body: str) -> str:
    return f"{title}\n{body}"


def near_duplicates(post: Post) -> list[int]:
    """Ids of recent notes whose text is ≥ 80 % the same as this one's (own notes and new accounts')."""
    text = _text(post.title, post.body_md)
    if len(text) < MIN_TEXT:
        return []
    mine = shingles(text)
    moment = now()
    own = select(Post.id, Post.title, Post.body_md).where(
        Post.author_id == post.author_id, Post.id != post.id, Post.status != STATUS_DELETED,
        Post.created_at >= moment - timedelta(days=7)).order_by(Post.id.desc()).limit(50)
    newcomers = select(Post.id, Post.title, Post.body_md).join(User, User.id == Post.author_id).where(
        Post.author_id != post.author_id, Post.status != STATUS_DELETED,
        Post.created_at >= moment - timedelta(days=1),
        User.created_at >= moment - timedelta(days=NEW_ACCOUNT_DAYS)).order_by(Post.id.desc()).limit(200)
    found = []
    for query in (own, newcomers):
        for row in db.session.execute(query):
            if jaccard(mine, shingles(_text(row.title, row.body_md))) >= SIMILAR:
                found.append(row.id)
    return found


def own_undisclosed_products(post: Post) -> list[int]:
    if post.discloses_own_product:
        return []
    return list(db.session.scalars(select(PostProduct.product_id).join(Product, Product.id == PostProduct.product_id)
                                   .join(Shop, Shop.id == Product.shop_id)
                                   .where(PostProduct.post_id == post.id, Shop.owner_id == post.author_id)))


def screen_post(post: Post) -> None:
    """Put the note in its community's queue if it waits for approval, repeats itself, or hides an ad."""
    target = Target(KIND_POST, post.id, post, post.community_id, post.author_id)
    if post.status == STATUS_PENDING:
        flag(target, "other", "approval")
    copies = near_duplicates(post)
    if len(copies) >= COPIES_TO_FLAG:
        flag(target, "spam", f"duplicate:{len(copies)}")
    if own_undisclosed_products(post):
        flag(target, "undisclosed_ads", "undisclosed")


def screen_comment(comment: Comment) -> None:
    """A comment repeated word for word by its author three times within a day goes to the queue as spam."""
    if len(comment.body) < MIN_TEXT:
        return
    mine = shingles(comment.body)
    rows = db.session.scalars(select(Comment.body).where(
        Comment.author_id == comment.author_id, Comment.id != comment.id,
        Comment.created_at >= now() - timedelta(days=1)).order_by(Comment.id.desc()).limit(50))
    copies = sum(1 for body in rows if jaccard(mine, shingles(body)) >= SIMILAR)
    if copies >= COPIES_TO_FLAG:
        target = Target(KIND_COMMENT, comment.id, comment, comment.post.community_id, comment.author_id)
        flag(target, "spam", f"duplicate:{copies}")
