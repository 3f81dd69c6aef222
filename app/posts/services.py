"""Posts (notes and reviews): create, edit with history, soft delete, images, tags and the hot score.

Likes, saves and collections live in `engagement.py`, comments in `comments.py`; all share the helpers here.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, insert, select, update

from app.accounts.models import User
from app.communities.models import Community
from app.communities.services import ensure_may_participate
from app.core.clock import now
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.core.images import EncodedImage, Rendition, delete_media, prepare_uploads, store_encoded
from app.core.parsing import parse_whole_number
from app.core.uow import after_commit, transactional
from app.extensions import db
from app.posts.hooks import post_written
from app.posts.models import (
    KIND_NOTE,
    KIND_REVIEW,
    KINDS,
    STATUS_DELETED,
    STATUS_PENDING,
    STATUS_PUBLISHED,
    Post,
    PostImage,
    PostRevision,
    Tag,
    post_tags,
)
from app.posts.pace import ensure_note_pace
from app.posts.product_tags import (
    ProductTagRequest,
    check_product_tags,
    current_product_tags,
    write_product_tags,
)
from app.posts.text import hashtags, mentions, render_body
from app.search.queue import queue_post
from app.social.blocks import hidden_user_ids, is_blocked_between
from app.social.notifications import notify

TITLE_MAX = 100
BODY_MAX = 20_000
TAGS_MAX = 10
TAG_MAX_LENGTH = 40
IMAGES_MIN, IMAGES_MAX = 1, 9
IMAGE_MAX_BYTES = 10 * 1024 * 1024
DISPLAY_WIDTH, THUMB_WIDTH = 1080, 360
IMAGE_RENDITIONS = (Rendition("posts", DISPLAY_WIDTH), Rendition("posts/thumbs", THUMB_WIDTH, quality=80))
MENTIONS_NOTIFIED_MAX = 10  # a note mentioning hundreds of people notifies only the first few
HOT_EPOCH = 1_700_000_000
HOT_DECAY_SECONDS = 45_000


def hot_score(likes: int, saves: int, comments: int, created_at: datetime) -> float:
    """log10(max(1, likes + 2·saves + 3·comments)) + (created − 1.7e9 s) / 45 000 s (see app.feeds.services)."""
    engagement = max(1, likes + 2 * saves + 3 * comments)
    return math.log10(engagement) + (created_at.timestamp() - HOT_EPOCH) / HOT_DECAY_SECONDS


def refresh_hot_score(post_id: int) -> None:
    """Recompute one post's hot score from its counters (call after changing them, in the same transaction).

    On PostgreSQL the counter UPDATE before this holds the row lock until commit, so the counters read
    here are the latest and two racing likes cannot leave a stale score behind.
    """
    row = db.session.execute(select(Post.like_count, Post.save_count, Post.comment_count, Post.created_at)
                             .where(Post.id == post_id)).one()
    db.session.execute(update(Post).where(Post.id == post_id).values(hot_score=hot_score(*row))
                       .execution_options(synchronize_session=False))


def add_to_post_counter(post_id: int, column: str, delta: int) -> None:
    """Conditional increment of one post counter (likes, saves, comments); never below zero. The caller then
    queues the search refresh (`queue_post_counts`), so the index takes the new count in its next batch."""
    counter = getattr(Post, column)
    statement = update(Post).where(Post.id == post_id)
    if delta < 0:
        statement = statement.where(counter >= -delta)
    db.session.execute(statement.values({column: counter + delta}).execution_options(synchronize_session=False))


def _field_error(field: str, message: str) -> Invalid:
    return Invalid(message, {field: [message]})


# --- reading ----------------------------------------------------------------------------------------------

def get_post(post_id: int) -> Post:
    """A post by id, including removed and deleted ones (their page says so)."""
    post = db.session.get(Post, post_id)
    if post is None:
        raise NotFound(_("This note does not exist."))
    return post


def ensure_can_view(post: Post, viewer: User | None) -> None:
    """Blocked either way, or by a suspended account: the post is not found for this viewer (admins see it).
    A note waiting for approval is seen only by its author and the moderators (checked by the caller's
    page, which shows it with a notice)."""
    is_admin = bool(viewer is not None and getattr(viewer, "is_admin", False))
    if viewer is not None and is_blocked_between(viewer.id, post.author_id):
        raise NotFound(_("This note does not exist."))
    if post.author.is_suspended and not is_admin:
        raise NotFound(_("This note does not exist."))


def ensure_engageable(post: Post, user: User) -> None:
    """Likes, saves and comments need a published post whose author has not blocked `user` (or vice versa)."""
    if post.status != STATUS_PUBLISHED:
        raise Conflict(_("This note was removed, so it can no longer be liked, saved or commented on."),
                       code="post-removed")
    if is_blocked_between(user.id, post.author_id):
        raise Forbidden(_("You cannot interact with this account's notes."), code="blocked")


def can_edit(user: User | None, post: Post) -> bool:
    return bool(user and user.is_authenticated and post.status in (STATUS_PUBLISHED, STATUS_PENDING)
                and (user.id == post.author_id or user.is_admin))


def revisions_of(post: Post, viewer: User | None) -> list[PostRevision]:
    """Earlier versions of a post, newest first; only for those who may edit it."""
    if not can_edit(viewer, post):
        raise Forbidden(_("Only the author can see the earlier versions of this note."))
    return list(db.session.scalars(select(PostRevision).where(PostRevision.post_id == post.id)
                                   .order_by(PostRevision.created_at.desc(), PostRevision.id.desc())))


def visible_filter_ids(viewer: User | None) -> set[int]:
    return hidden_user_ids(viewer.id if viewer else None)


# --- validation -------------------------------------------------------------------------------------------

@dataclass
class PostFields:
    title: str
    body: str
    tags: list[str]
    rating: int | None


def parse_tag_field(raw: str | list[str] | None) -> list[str]:
    """Explicit tags: a list, or one string separated by commas, spaces or '#'."""
    if raw is None:
        return []
    items = raw if isinstance(raw, list) else raw.replace("，", ",").replace("#", " ").replace(",", " ").split()
    return [str(item).strip().lstrip("#").lower() for item in items if str(item).strip().lstrip("#")]


def _clean_fields(kind: str, title: str | None, body: str | None, tags: str | list[str] | None,
                  rating: int | str | None) -> PostFields:
    if kind not in KINDS:
        raise _field_error("kind", _("Choose note or review."))
    title = " ".join((title or "").split())
    if not title:
        raise _field_error("title", _("Give your note a title."))
    if len(title) > TITLE_MAX:
        raise _field_error("title", _("Keep the title to %(max)d characters.", max=TITLE_MAX))
    body = (body or "").replace("\r\n", "\n").strip()
    if len(body) > BODY_MAX:
        raise _field_error("body", _("Keep the text to %(max)d characters.", max=BODY_MAX))
    names = list(dict.fromkeys(parse_tag_field(tags) + hashtags(body)))
    for name in names:
        if len(name) > TAG_MAX_LENGTH or not all(ch.isalnum() or ch == "_" for ch in name):
            raise _field_error("tags", _("Tags use letters, digits and _ only, up to %(max)d characters.",
                                         max=TAG_MAX_LENGTH))
    if len(names) > TAGS_MAX:
        raise _field_error("tags", _("Use at most %(max)d tags.", max=TAGS_MAX))
    if kind == KIND_REVIEW:
        rating = parse_whole_number(rating, max_digits=1) if rating not in (None, "") else None
        if rating is None or not 1 <= rating <= 5:
            raise _field_error("rating", _("A review needs a rating from 1 to 5 stars."))
    else:
        rating = None
    return PostFields(title, body, names, rating)


def _checked_images(images: list[bytes], already: int = 0) -> list[list[EncodedImage]]:
    """Prepare every upload (display size and thumbnail) before anything is written, so one bad file
    changes nothing."""
    total = already + len(images)
    if total > IMAGES_MAX:
        raise _field_error("images", _("A note can have at most %(max)d images.", max=IMAGES_MAX))
    if total < IMAGES_MIN:
        raise _field_error("images", _("Add at least one image."))
    return prepare_uploads(images, IMAGE_RENDITIONS, field="images", max_bytes=IMAGE_MAX_BYTES)


def _store_images(post: Post, images: list[list[EncodedImage]], start: int) -> None:
    for offset, (display, thumb) in enumerate(images):
        post.images.append(PostImage(position=start + offset, path=store_encoded(display),
                                     thumb_path=store_encoded(thumb), width=thumb.width, height=thumb.height))


def known_usernames(names: list[str]) -> set[str]:
    if not names:
        return set()
    return set(db.session.scalars(select(func.lower(User.username)).where(func.lower(User.username).in_(names))))


def _set_tags(post: Post, names: list[str]) -> None:
    """Replace the post's tags, creating missing tags and keeping each tag's post_count equal to its rows."""
    old = set(db.session.scalars(select(post_tags.c.tag_id).where(post_tags.c.post_id == post.id)))
    existing = {tag.name: tag.id for tag in db.session.scalars(select(Tag).where(Tag.name.in_(names)))} if names else {}
    for name in names:
        if name not in existing:
            from app.core.db import insert_if_absent  # tags may be created by two posts at once

            insert_if_absent(Tag, name=name, post_count=0)
    if names:
        existing = {tag.name: tag.id for tag in db.session.scalars(select(Tag).where(Tag.name.in_(names)))}
    new = {existing[name] for name in names}
    if old - new:
        db.session.execute(delete(post_tags).where(post_tags.c.post_id == post.id, post_tags.c.tag_id.in_(old - new)))
        db.session.execute(update(Tag).where(Tag.id.in_(old - new)).values(post_count=Tag.post_count - 1)
                           .execution_options(synchronize_session=False))
    if new - old:
        db.session.execute(insert(post_tags), [{"post_id": post.id, "tag_id": tag_id} for tag_id in new - old])
        db.session.execute(update(Tag).where(Tag.id.in_(new - old)).values(post_count=Tag.post_count + 1)
                           .execution_options(synchronize_session=False))
    db.session.expire(post, ["tags"])


def notify_mentions(text: str, actor: User, target_type: str, target_id: int, skip: set[int] = frozenset()) -> None:
    names = mentions(text)[:MENTIONS_NOTIFIED_MAX]
    if not names:
        return
    hidden = hidden_user_ids(actor.id)
    for user_id in db.session.scalars(select(User.id).where(func.lower(User.username).in_(names))):
        if user_id not in hidden and user_id not in skip:
            notify(user_id, "mention", actor_id=actor.id, target_type=target_type, target_id=target_id)


def rendered(text: str) -> str:
    """The body as safe HTML, with @mentions linked only for people who exist."""
    return render_body(text, known_usernames(mentions(text)))


# --- writing ----------------------------------------------------------------------------------------------

def get_community_for_posting(slug: str | None) -> Community:
    community = db.session.scalar(select(Community).where(Community.slug == (slug or "").strip().lower()))
    if community is None:
        raise _field_error("community", _("Choose a community that exists."))
    return community


@transactional
def create_post(author: User, *, community_slug: str | None, title: str | None, body: str | None = "",
                kind: str = KIND_NOTE, tags: str | list[str] | None = None, rating: int | str | None = None,
                images: list[bytes] | None = None, product_ids: Sequence | None = None,
                reviewed_product_id: int | str | None = None, pins: Mapping | None = None,
                discloses_own_product: bool = False) -> Post:
    """Publish a note or review with 1–9 images into a community, tagging up to 6 products (a review
    rates one of them; see app/posts/product_tags.py). Banned members and suspended accounts cannot; a
    community may hold notes by new accounts for a moderator's approval (status pending)."""
    community = get_community_for_posting(community_slug)
    ensure_may_participate(author, community.id)
    fields = _clean_fields(kind, title, body, tags, rating)
    ensure_note_pace(author, fields.body)
    decoded = _checked_images(images or [])
    products = check_product_tags(author, kind, ProductTagRequest(product_ids or (), pins, reviewed_product_id),
                                  len(decoded))
    post = Post(community_id=community.id, author_id=author.id, kind=kind, title=fields.title, body_md=fields.body,
                body_html=rendered(fields.body), rating=fields.rating, created_at=now(),
                discloses_own_product=bool(discloses_own_product))
    if needs_approval(author, community):
        post.status = STATUS_PENDING
    post.hot_score = hot_score(0, 0, 0, post.created_at)
    db.session.add(post)
    _store_images(post, decoded, 0)
    db.session.flush()
    _set_tags(post, fields.tags)
    write_product_tags(post, products)
    if post.status == STATUS_PUBLISHED:
        db.session.execute(update(Community).where(Community.id == community.id)
                           .values(post_count=Community.post_count + 1).execution_options(synchronize_session=False))
        notify_mentions(fields.body, author, "post", post.id)
    queue_post(post.id)
    post_written(post)
    return post


def needs_approval(author: User, community: Community) -> bool:
    """Notes by accounts younger than the community's approval_account_days wait for a moderator."""
    days = community.approval_account_days or 0
    return days > 0 and (author.created_at is None or now() - author.created_at < timedelta(days=days))


@transactional
def edit_post(actor: User, post: Post, *, title: str | None = None, body: str | None = None,
              tags: str | list[str] | None = None, rating: int | str | None = None,
              add_images: list[bytes] | None = None, remove_image_ids: list[int] | None = None,
              product_ids: Sequence | None = None, reviewed_product_id: int | str | None = None,
              pins: Mapping | None = None, discloses_own_product: bool | None = None) -> Post:
    """Change a post's text, tags, rating, images or products; the previous text is kept as a revision.
    Product fields left as None keep what the post has."""
    if not can_edit(actor, post):
        raise Forbidden(_("Only the author can edit this note."), code="not-your-post")
    if not actor.is_admin:
        ensure_may_participate(actor, post.community_id)
    fields = _clean_fields(post.kind, post.title if title is None else title, post.body_md if body is None else body,
                           [t.name for t in post.tags] if tags is None else tags,
                           post.rating if rating is None else rating)
    remove = {int(i) for i in remove_image_ids or []}
    unknown = remove - {image.id for image in post.images}
    if unknown:
        raise _field_error("images", _("That image is not part of this note."))
    kept = [image for image in post.images if image.id not in remove]
    decoded = _checked_images(add_images or [], already=len(kept))
    products = None
    if product_ids is not None or reviewed_product_id is not None or pins is not None:
        products = check_product_tags(actor, post.kind, _product_edit(post, product_ids, reviewed_product_id, pins),
                                      len(kept) + len(decoded))
    db.session.add(PostRevision(post_id=post.id, editor_id=actor.id, title=post.title, body_md=post.body_md,
                                tags=" ".join(t.name for t in post.tags), rating=post.rating, created_at=now()))
    mentioned_before = set(mentions(post.body_md))
    post.title, post.body_md, post.rating = fields.title, fields.body, fields.rating
    post.body_html = rendered(fields.body)
    post.edited_at = now()
    removed_files = [(image.path, image.thumb_path) for image in post.images if image.id in remove]
    for image in [image for image in post.images if image.id in remove]:
        post.images.remove(image)
    db.session.flush()  # the removed rows go first, so positions below cannot collide
    for position, image in enumerate(kept):
        image.position = position
    _store_images(post, decoded, len(kept))
    _set_tags(post, fields.tags)
    write_product_tags(post, products)
    if discloses_own_product is not None:
        post.discloses_own_product = bool(discloses_own_product)
    post_written(post)
    new_mentions = set(mentions(fields.body)) - mentioned_before
    if new_mentions:
        notify_mentions(" ".join(f"@{name}" for name in sorted(new_mentions)), actor, "post", post.id)
    queue_post(post.id)
    for display, thumb in removed_files:
        after_commit(lambda display=display: delete_media(display))
        after_commit(lambda thumb=thumb: delete_media(thumb))
    return post


def _product_edit(post: Post, product_ids: Sequence | None, reviewed_product_id, pins: Mapping | None
                  ) -> ProductTagRequest:
    """What an edit asks for, with the fields it leaves out taken from the post as it is."""
    current = current_product_tags(post)
    ids = list(current.product_ids) if product_ids is None else product_ids
    kept = {str(product_id).strip() for product_id in ids}
    if pins is None:
        pins = {key: pin for key, pin in (current.pins or {}).items() if str(key) in kept}
    if reviewed_product_id is None and str(current.reviewed_product_id) in kept:
        reviewed_product_id = current.reviewed_product_id
    return ProductTagRequest(ids, pins, reviewed_product_id)


@transactional
def delete_post(actor: User, post: Post) -> Post:
    """Soft delete by the author (or an admin): the row stays, its page says it was deleted."""
    if not actor.is_authenticated or (actor.id != post.author_id and not actor.is_admin):
        raise Forbidden(_("Only the author can delete this note."), code="not-your-post")
    if post.status == STATUS_DELETED:
        return post
    result = db.session.execute(update(Post).where(Post.id == post.id, Post.status != STATUS_DELETED)
                                .values(status=STATUS_DELETED, deleted_at=now())
                                .execution_options(synchronize_session=False))
    if result.rowcount == 1:
        db.session.execute(update(Community).where(Community.id == post.community_id)
                           .values(post_count=Community.post_count - 1).execution_options(synchronize_session=False))
    queue_post(post.id)
    db.session.flush()
    db.session.refresh(post)
    current_app.logger.info("post %s deleted by user %s", post.id, actor.id)
    return post
