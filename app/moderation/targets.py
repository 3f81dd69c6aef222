"""What can be reported and acted on: posts, comments, users, products and shops, loaded by kind and id,
with the community whose moderators answer for it (None: the site admins) and a snapshot of how it looks."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.core.errors import Invalid, NotFound
from app.extensions import db
from app.moderation.models import KIND_COMMENT, KIND_POST, KIND_PRODUCT, KIND_SHOP, KIND_USER, TARGET_KINDS
from app.posts.models import Comment, Post
from app.shop.models import Product, Shop


@dataclass
class Target:
    kind: str
    id: int
    obj: Any
    community_id: int | None  # whose moderators answer for it; None: the site admins
    owner_id: int | None  # the user whose content it is (the author, the account, the shop's owner)

    @property
    def label(self) -> str:
        if self.kind == KIND_POST:
            return self.obj.title
        if self.kind == KIND_COMMENT:
            return self.obj.body[:80]
        if self.kind == KIND_USER:
            return "@" + self.obj.username
        if self.kind == KIND_PRODUCT:
            return self.obj.title
        return self.obj.name


def check_kind(kind: str | None) -> str:
    if kind not in TARGET_KINDS:
        message = _("Choose a note, comment, user, product or shop.")
        raise Invalid(message, {"target_kind": [message]})
    return kind


def load_target(kind: str, target_id: int) -> Target:
    """The target, or NotFound (a deleted account or a deleted note cannot be reported or acted on)."""
    check_kind(kind)
    if kind == KIND_POST:
        post = db.session.get(Post, target_id)
        if post is None or post.status == "deleted":
            raise NotFound(_("This note does not exist."))
        return Target(kind, post.id, post, post.community_id, post.author_id)
    if kind == KIND_COMMENT:
        comment = db.session.get(Comment, target_id)
        if comment is None or comment.status == "deleted":
            raise NotFound(_("This comment does not exist."))
        return Target(kind, comment.id, comment, comment.post.community_id, comment.author_id)
    if kind == KIND_USER:
        user = db.session.get(User, target_id)
        if user is None or user.deleted_at is not None:
            raise NotFound(_("No such user."))
        return Target(kind, user.id, user, None, user.id)
    if kind == KIND_PRODUCT:
        product = db.session.get(Product, target_id)
        if product is None:
            raise NotFound(_("No such product."))
        return Target(kind, product.id, product, None, product.shop.owner_id)
    shop = db.session.get(Shop, target_id)
    if shop is None:
        raise NotFound(_("No such shop."))
    return Target(kind, shop.id, shop, None, shop.owner_id)


def snapshot(target: Target) -> str:
    """The target as it is now, as JSON: what a moderator reviews even if it is edited later."""
    obj = target.obj
    if target.kind == KIND_POST:
        data = {"title": obj.title, "body": obj.body_md, "images": [image.thumb_path for image in obj.images],
                "author": obj.author.username, "tags": [tag.name for tag in obj.tags]}
    elif target.kind == KIND_COMMENT:
        parent = db.session.get(Comment, obj.parent_id) if obj.parent_id else None
        data = {"body": obj.body, "author": obj.author.username, "post_id": obj.post_id,
                "post_title": obj.post.title, "parent": parent.body if parent else None}
    elif target.kind == KIND_USER:
        data = {"username": obj.username, "display_name": obj.display_name, "bio": obj.bio}
    elif target.kind == KIND_PRODUCT:
        data = {"title": obj.title, "description": obj.description, "shop": obj.shop.name,
                "images": [image.path for image in obj.images][:4]}
    else:
        data = {"name": obj.name, "description": obj.description, "owner": obj.owner.username}
    return json.dumps(data, ensure_ascii=False)


def load_targets(pairs: set[tuple[str, int]]) -> dict[tuple[str, int], Any]:
    """Many targets at once, one query per kind (for the queue and the log)."""
    by_kind: dict[str, list[int]] = {}
    for kind, target_id in pairs:
        by_kind.setdefault(kind, []).append(target_id)
    loaded: dict[tuple[str, int], Any] = {}
    models = {KIND_POST: (Post, (selectinload(Post.images), selectinload(Post.author))),
              KIND_COMMENT: (Comment, (selectinload(Comment.author), selectinload(Comment.post))),
              KIND_USER: (User, ()), KIND_PRODUCT: (Product, (selectinload(Product.images),)),
              KIND_SHOP: (Shop, ())}
    for kind, ids in by_kind.items():
        model, options = models[kind]
        for row in db.session.scalars(select(model).where(model.id.in_(ids)).options(*options)):
            loaded[(kind, row.id)] = row
    return loaded
