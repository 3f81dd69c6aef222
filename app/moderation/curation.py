"""Curation: named, ordered collections of notes a community's moderators build ("Best sunscreen reviews
2026"), shown on the community page with its pinned notes and Editor's picks. Only published notes show."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.communities.models import Community
from app.core.clock import now
from app.core.errors import Conflict, Invalid, NotFound
from app.core.uow import transactional, unit_of_work
from app.extensions import db
from app.moderation import policy
from app.moderation.models import CuratedCollection, CuratedItem
from app.posts.cards import card_load_options
from app.posts.models import STATUS_PUBLISHED, Post
from app.social.blocks import hidden_user_ids

NAME_MAX, DESCRIPTION_MAX, ITEMS_MAX, COLLECTIONS_SHOWN = 80, 500, 50, 6


def get_collection(collection_id: int) -> CuratedCollection:
    found = db.session.get(CuratedCollection, collection_id)
    if found is None:
        raise NotFound(_("No such collection."))
    return found


def create_collection(actor: User, community: Community, name: str | None, description: str | None = "") -> \
        CuratedCollection:
    policy.ensure_moderates(actor, community.id)
    name = " ".join((name or "").split())
    if not name or len(name) > NAME_MAX:
        message = _("Give the collection a name of 1–%(n)d characters.", n=NAME_MAX)
        raise Invalid(message, {"name": [message]})
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        message = _("Use at most %(n)s characters.", n=DESCRIPTION_MAX)
        raise Invalid(message, {"description": [message]})
    try:
        with unit_of_work():
            position = db.session.scalar(select(func.coalesce(func.max(CuratedCollection.position), 0))
                                         .where(CuratedCollection.community_id == community.id)) + 1
            made = CuratedCollection(community_id=community.id, name=name, description=description,
                                     position=position, created_by_id=actor.id, created_at=now())
            db.session.add(made)
            db.session.flush()
    except IntegrityError:
        message = _("This community already has a collection with this name.")
        raise Invalid(message, {"name": [message]}, code="duplicate-name") from None
    return made


@transactional
def delete_collection(actor: User, collection: CuratedCollection) -> None:
    policy.ensure_moderates(actor, collection.community_id)
    db.session.delete(collection)


@transactional
def add_note(actor: User, collection: CuratedCollection, post_id: int) -> CuratedItem:
    """Add a published note of the same community at the end of the collection."""
    policy.ensure_moderates(actor, collection.community_id)
    post = db.session.get(Post, post_id)
    if post is None or post.community_id != collection.community_id or post.status != STATUS_PUBLISHED:
        message = _("Choose a published note from this community.")
        raise Invalid(message, {"post_id": [message]}, code="other-community")
    if db.session.get(CuratedItem, (collection.id, post.id)) is not None:
        raise Conflict(_("This note is already in the collection."), code="already-in-collection")
    count = db.session.scalar(select(func.count()).select_from(CuratedItem)
                              .where(CuratedItem.collection_id == collection.id)) or 0
    if count >= ITEMS_MAX:
        raise Conflict(_("A collection holds at most %(n)d notes.", n=ITEMS_MAX), code="collection-full")
    last = db.session.scalar(select(func.coalesce(func.max(CuratedItem.position), 0))
                             .where(CuratedItem.collection_id == collection.id))
    item = CuratedItem(collection_id=collection.id, post_id=post.id, position=last + 1, added_at=now())
    db.session.add(item)
    db.session.flush()
    return item


@transactional
def remove_note(actor: User, collection: CuratedCollection, post_id: int) -> None:
    policy.ensure_moderates(actor, collection.community_id)
    result = db.session.execute(delete(CuratedItem).where(CuratedItem.collection_id == collection.id,
                                                          CuratedItem.post_id == post_id))
    if result.rowcount != 1:
        raise NotFound(_("This note is not in the collection."))


@transactional
def move_note(actor: User, collection: CuratedCollection, post_id: int, direction: str) -> None:
    """Swap a note with its neighbour above ("up") or below ("down")."""
    policy.ensure_moderates(actor, collection.community_id)
    items = list(db.session.scalars(select(CuratedItem).where(CuratedItem.collection_id == collection.id)
                                    .order_by(CuratedItem.position, CuratedItem.added_at)))
    index = next((i for i, item in enumerate(items) if item.post_id == post_id), None)
    if index is None:
        raise NotFound(_("This note is not in the collection."))
    other = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down"):
        raise Invalid(_("Choose up or down."), {"direction": [_("Choose up or down.")]})
    if 0 <= other < len(items):
        items[index], items[other] = items[other], items[index]
    for position, item in enumerate(items, start=1):
        db.session.execute(update(CuratedItem).where(CuratedItem.collection_id == collection.id,
                                                     CuratedItem.post_id == item.post_id).values(position=position))


def _visible(posts: list[Post], viewer: User | None) -> list[Post]:
    hidden = hidden_user_ids(viewer.id if viewer else None)
    return [post for post in posts if post.status == STATUS_PUBLISHED and post.author_id not in hidden]


def collection_posts(collection: CuratedCollection, viewer: User | None) -> list[Post]:
    """The collection's published notes in order (removed ones drop out, and come back on restore)."""
    posts = db.session.scalars(select(Post).join(CuratedItem, CuratedItem.post_id == Post.id)
                               .where(CuratedItem.collection_id == collection.id)
                               .order_by(CuratedItem.position, CuratedItem.added_at).options(*card_load_options()))
    return _visible(list(posts), viewer)


def community_collections(community: Community) -> list[CuratedCollection]:
    return list(db.session.scalars(select(CuratedCollection).where(CuratedCollection.community_id == community.id)
                                   .order_by(CuratedCollection.position).limit(COLLECTIONS_SHOWN)
                                   .options(selectinload(CuratedCollection.items))))


def pinned_posts(community: Community, viewer: User | None) -> list[Post]:
    posts = db.session.scalars(select(Post).where(Post.community_id == community.id, Post.pinned_at.is_not(None),
                                                  Post.status == STATUS_PUBLISHED)
                               .order_by(Post.pinned_at.desc()).limit(3).options(*card_load_options()))
    return _visible(list(posts), viewer)


def editors_picks(community: Community, viewer: User | None, limit: int = 8) -> list[Post]:
    posts = db.session.scalars(select(Post).where(Post.community_id == community.id, Post.featured_at.is_not(None),
                                                  Post.status == STATUS_PUBLISHED)
                               .order_by(Post.featured_at.desc()).limit(limit).options(*card_load_options()))
    return _visible(list(posts), viewer)
