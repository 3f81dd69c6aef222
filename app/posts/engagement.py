"""Likes, saves and collections. Every counter moves with the row it counts, in the same transaction."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update

from app.accounts.models import User
from app.core.clock import now
from app.core.db import insert_if_absent
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.core.pagination import Page, paginate_desc
from app.core.uow import transactional
from app.events.log import record_action
from app.extensions import db
from app.posts.cards import card_load_options
from app.posts.models import STATUS_PUBLISHED, Collection, Like, Post, Save
from app.posts.services import add_to_post_counter, ensure_engageable, refresh_hot_score
from app.search.queue import queue_post_counts
from app.social.blocks import hidden_user_ids
from app.social.notifications import notify

COLLECTION_NAME_MAX = 60
COLLECTIONS_MAX = 100


def _add_to_likes_received(user_id: int, delta: int) -> None:
    statement = update(User).where(User.id == user_id)
    if delta < 0:
        statement = statement.where(User.likes_received_count >= -delta)
    db.session.execute(statement.values(likes_received_count=User.likes_received_count + delta)
                       .execution_options(synchronize_session=False))


@transactional
def like_post(user: User, post: Post, surface: str | None = None) -> bool:
    """Like; True when this added the like (liking twice is harmless)."""
    ensure_engageable(post, user)
    created = insert_if_absent(Like, user_id=user.id, post_id=post.id, created_at=now())
    if created:
        add_to_post_counter(post.id, "like_count", +1)
        _add_to_likes_received(post.author_id, +1)
        refresh_hot_score(post.id)
        queue_post_counts(post.id)
        notify(post.author_id, "like", actor_id=user.id, target_type="post", target_id=post.id)
        record_action("like", user_id=user.id, post_id=post.id, surface=surface)
    db.session.flush()
    db.session.refresh(post)
    return created


@transactional
def unlike_post(user: User, post: Post) -> bool:
    """Take a like back; True when there was one."""
    result = db.session.execute(delete(Like).where(Like.user_id == user.id, Like.post_id == post.id)
                                .execution_options(synchronize_session=False))
    removed = result.rowcount == 1
    if removed:
        add_to_post_counter(post.id, "like_count", -1)
        _add_to_likes_received(post.author_id, -1)
        refresh_hot_score(post.id)
        queue_post_counts(post.id)
    db.session.flush()
    db.session.refresh(post)
    return removed


# --- collections ------------------------------------------------------------------------------------------

def _clean_collection_name(name: str | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise Invalid(_("Give the collection a name."), {"name": [_("Give the collection a name.")]})
    if len(name) > COLLECTION_NAME_MAX:
        message = _("Keep the name to %(max)d characters.", max=COLLECTION_NAME_MAX)
        raise Invalid(message, {"name": [message]})
    return name


def collections_of(owner: User, viewer: User | None = None) -> list[Collection]:
    """The owner sees all their collections; everyone else only the public ones; blocked either way, none."""
    if viewer is not None and viewer.id != owner.id and owner.id in hidden_user_ids(viewer.id):
        return []
    query = select(Collection).where(Collection.owner_id == owner.id).order_by(Collection.created_at, Collection.id)
    if viewer is None or viewer.id != owner.id:
        query = query.where(Collection.is_public.is_(True))
    return list(db.session.scalars(query))


def get_collection(collection_id: int, viewer: User | None) -> Collection:
    """A collection its owner may always see and others only when public (a private one is 'not found')."""
    collection = db.session.get(Collection, collection_id)
    if collection is None or (not collection.is_public and (viewer is None or viewer.id != collection.owner_id)):
        raise NotFound(_("This collection does not exist or is private."))
    if viewer is not None and collection.owner_id in hidden_user_ids(viewer.id):
        raise NotFound(_("This collection does not exist or is private."))
    return collection


@transactional
def create_collection(owner: User, name: str | None, is_public: bool = False) -> Collection:
    name = _clean_collection_name(name)
    count = db.session.scalar(select(func.count()).select_from(Collection).where(Collection.owner_id == owner.id))
    if count >= COLLECTIONS_MAX:
        raise Conflict(_("You have reached the limit of %(max)d collections.", max=COLLECTIONS_MAX),
                       code="collection-limit-reached")
    if not insert_if_absent(Collection, owner_id=owner.id, name=name, is_public=bool(is_public), item_count=0,
                            created_at=now()):
        raise Invalid(_("You already have a collection with this name."),
                      {"name": [_("You already have a collection with this name.")]}, code="collection-name-taken")
    return db.session.scalar(select(Collection).where(Collection.owner_id == owner.id, Collection.name == name))


@transactional
def update_collection(owner: User, collection: Collection, *, name: str | None = None,
                      is_public: bool | None = None) -> Collection:
    if collection.owner_id != owner.id:
        raise Forbidden(_("Only its owner can change this collection."), code="not-your-collection")
    if name is not None:
        name = _clean_collection_name(name)
        clash = db.session.scalar(select(Collection.id).where(Collection.owner_id == owner.id, Collection.name == name,
                                                              Collection.id != collection.id))
        if clash:
            raise Invalid(_("You already have a collection with this name."),
                          {"name": [_("You already have a collection with this name.")]}, code="collection-name-taken")
        collection.name = name
    if is_public is not None:
        collection.is_public = bool(is_public)
    return collection


@transactional
def delete_collection(owner: User, collection: Collection) -> None:
    """Delete a collection and unsave what it held (the posts' save counts drop with it)."""
    if collection.owner_id != owner.id:
        raise Forbidden(_("Only its owner can delete this collection."), code="not-your-collection")
    post_ids = list(db.session.scalars(select(Save.post_id).where(Save.collection_id == collection.id)))
    for post_id in post_ids:
        _remove_save(owner.id, post_id)
    db.session.delete(collection)


def default_collection(owner: User) -> Collection:
    """The owner's first collection, created (named in their language) on their first save."""
    collection = db.session.scalar(select(Collection).where(Collection.owner_id == owner.id)
                                   .order_by(Collection.created_at, Collection.id).limit(1))
    if collection is not None:
        return collection
    name = "我的收藏" if owner.locale == "zh_Hans" else "Favourites"
    insert_if_absent(Collection, owner_id=owner.id, name=name, is_public=False, item_count=0, created_at=now())
    return db.session.scalar(select(Collection).where(Collection.owner_id == owner.id, Collection.name == name))


def _add_to_collection_count(collection_id: int, delta: int) -> None:
    statement = update(Collection).where(Collection.id == collection_id)
    if delta < 0:
        statement = statement.where(Collection.item_count >= -delta)
    db.session.execute(statement.values(item_count=Collection.item_count + delta)
                       .execution_options(synchronize_session=False))


# --- saves ------------------------------------------------------------------------------------------------

@transactional
def save_post(user: User, post: Post, collection_id: int | None = None, surface: str | None = None) -> Save:
    """Save into a collection (the default one when none is named); saving again moves it there."""
    ensure_engageable(post, user)
    if collection_id is None:
        collection = default_collection(user)
    else:
        collection = db.session.get(Collection, collection_id)
        if collection is None or collection.owner_id != user.id:
            message = _("Choose one of your collections.")
            raise Invalid(message, {"collection_id": [message]})
    if insert_if_absent(Save, user_id=user.id, post_id=post.id, collection_id=collection.id, created_at=now()):
        add_to_post_counter(post.id, "save_count", +1)
        _add_to_collection_count(collection.id, +1)
        refresh_hot_score(post.id)
        queue_post_counts(post.id)
        notify(post.author_id, "save", actor_id=user.id, target_type="post", target_id=post.id)
        record_action("save", user_id=user.id, post_id=post.id, surface=surface)
    else:
        save = db.session.scalar(select(Save).where(Save.user_id == user.id, Save.post_id == post.id))
        if save.collection_id != collection.id:
            moved = db.session.execute(update(Save).where(Save.id == save.id, Save.collection_id == save.collection_id)
                                       .values(collection_id=collection.id).execution_options(synchronize_session=False))
            if moved.rowcount == 1:
                _add_to_collection_count(save.collection_id, -1)
                _add_to_collection_count(collection.id, +1)
    db.session.flush()
    db.session.refresh(post)
    return db.session.scalar(select(Save).where(Save.user_id == user.id, Save.post_id == post.id))


def _remove_save(user_id: int, post_id: int) -> bool:
    save = db.session.scalar(select(Save).where(Save.user_id == user_id, Save.post_id == post_id))
    if save is None:
        return False
    result = db.session.execute(delete(Save).where(Save.id == save.id).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        return False
    add_to_post_counter(post_id, "save_count", -1)
    _add_to_collection_count(save.collection_id, -1)
    refresh_hot_score(post_id)
    queue_post_counts(post_id)
    return True


@transactional
def unsave_post(user: User, post: Post) -> bool:
    removed = _remove_save(user.id, post.id)
    db.session.flush()
    db.session.refresh(post)
    return removed


def saved_in(user: User, post: Post) -> Collection | None:
    return db.session.scalar(select(Collection).join(Save, Save.collection_id == Collection.id)
                             .where(Save.user_id == user.id, Save.post_id == post.id))


def collection_posts(collection: Collection, viewer: User | None, cursor: str | None = None,
                     limit: int = 20) -> Page:
    """The published posts in a collection, newest first."""
    query = (select(Post).join(Save, Save.post_id == Post.id)
             .where(Save.collection_id == collection.id, Post.status == STATUS_PUBLISHED)
             .options(*card_load_options()))
    hidden = hidden_user_ids(viewer.id if viewer else None)
    if hidden:
        query = query.where(Post.author_id.not_in(hidden))
    return paginate_desc(query, Post.created_at, Post.id, cursor, limit)
