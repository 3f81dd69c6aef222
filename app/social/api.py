"""/api/v1 routes for social: follow, block, follower lists and notifications."""
from __future__ import annotations

from marshmallow import Schema, fields

from app.accounts.schemas import UserSchema
from app.accounts.services import get_user_by_username
from app.core.api import PageArgsSchema, media_url, require_user
from app.core.api_input import ApiBlueprint
from app.core.auth import current_viewer
from app.core.pagination import Page
from app.core.timestamps import Timestamp
from app.social import notifications, services

blp = ApiBlueprint("social_api", __name__, description="Social: follows, blocks and notifications")


class RelationshipSchema(Schema):
    username = fields.String(dump_only=True)
    is_following = fields.Boolean(dump_only=True)
    follows_you = fields.Boolean(dump_only=True)
    is_mutual = fields.Boolean(dump_only=True)
    blocked_by_you = fields.Boolean(dump_only=True)
    blocks_you = fields.Boolean(dump_only=True)
    follower_count = fields.Integer(dump_only=True)
    following_count = fields.Integer(dump_only=True)


class PersonSchema(UserSchema):
    follower_count = fields.Integer(dump_only=True)
    following_count = fields.Integer(dump_only=True)


class PeoplePageSchema(Schema):
    items = fields.List(fields.Nested(PersonSchema))
    next_cursor = fields.String(allow_none=True)


class ActorSchema(Schema):
    username = fields.String(dump_only=True)
    display_name = fields.String(dump_only=True)


class NotificationGroupSchema(Schema):
    id = fields.Integer(dump_only=True, metadata={"description": "Newest notification of the group; "
                                                                 "marking it read marks the group read."})
    kind = fields.String(dump_only=True)
    unread = fields.Boolean(dump_only=True)
    latest_at = Timestamp(dump_only=True)
    count = fields.Integer(dump_only=True)
    actor_count = fields.Integer(dump_only=True)
    actors = fields.List(fields.Nested(ActorSchema), dump_only=True)
    target_type = fields.String(dump_only=True, allow_none=True)
    target_id = fields.Integer(dump_only=True, allow_none=True)
    message = fields.Function(lambda group: group.message.striptags(), dump_only=True)
    url = fields.String(dump_only=True, allow_none=True)
    detail = fields.String(attribute="target_detail", dump_only=True, allow_none=True,
                           metadata={"description": "A second line, e.g. an order's product names."})
    thumbnail_url = fields.Function(lambda group: media_url(group.thumbnail) if group.thumbnail else None,
                                    dump_only=True, allow_none=True)


class NotificationPageSchema(Schema):
    items = fields.List(fields.Nested(NotificationGroupSchema))
    next_cursor = fields.String(allow_none=True)


class UnreadSchema(Schema):
    unread = fields.Integer(dump_only=True)


class MarkedSchema(Schema):
    marked = fields.Integer(dump_only=True)
    unread = fields.Integer(dump_only=True)


def _relationship(viewer, username: str) -> dict:
    user = get_user_by_username(username)
    relation = services.relationship_between(viewer, user)
    return {"username": user.username, "is_following": relation.is_following, "follows_you": relation.follows_you,
            "is_mutual": relation.is_mutual, "blocked_by_you": relation.blocked_by_you,
            "blocks_you": relation.blocks_you, "follower_count": user.follower_count,
            "following_count": user.following_count}


@blp.get("/users/<username>/relationship")
@blp.response(200, RelationshipSchema)
def get_relationship(username: str):
    """How the signed-in user and this user relate (following, mutual, blocked)."""
    return _relationship(require_user(), username)


@blp.post("/users/<username>/follow")
@blp.response(200, RelationshipSchema)
def follow(username: str):
    """Follow a user (idempotent). Yourself: 422; blocked either way: 403."""
    viewer = require_user()
    services.follow(viewer, get_user_by_username(username))
    return _relationship(viewer, username)


@blp.delete("/users/<username>/follow")
@blp.response(200, RelationshipSchema)
def unfollow(username: str):
    """Stop following a user (idempotent)."""
    viewer = require_user()
    services.unfollow(viewer, get_user_by_username(username))
    return _relationship(viewer, username)


@blp.post("/users/<username>/block")
@blp.response(200, RelationshipSchema)
def block(username: str):
    """Block a user (idempotent): follows both ways are removed."""
    viewer = require_user()
    services.block(viewer, get_user_by_username(username))
    return _relationship(viewer, username)


@blp.delete("/users/<username>/block")
@blp.response(200, RelationshipSchema)
def unblock(username: str):
    """Lift a block (idempotent)."""
    viewer = require_user()
    services.unblock(viewer, get_user_by_username(username))
    return _relationship(viewer, username)


@blp.get("/users/<username>/followers")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, PeoplePageSchema)
def followers(args: dict, username: str) -> Page:
    """Who follows this user, most recent first (cursor-paginated)."""
    return services.followers_of(get_user_by_username(username), current_viewer(), args.get("cursor"),
                                 args.get("limit"))


@blp.get("/users/<username>/following")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, PeoplePageSchema)
def following(args: dict, username: str) -> Page:
    """Whom this user follows, most recent first (cursor-paginated)."""
    return services.following_of(get_user_by_username(username), current_viewer(), args.get("cursor"),
                                 args.get("limit"))


@blp.get("/notifications")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, NotificationPageSchema)
def list_notifications(args: dict) -> Page:
    """The signed-in user's notifications, grouped ("Ann and 3 others liked your note"), newest first."""
    return notifications.grouped_notifications(require_user(), args.get("cursor"), args.get("limit"))


class NotificationSettingsSchema(Schema):
    """Whether each category of notifications is delivered (all true until turned off)."""

    social = fields.Boolean(metadata={"description": "Likes, saves, comments, replies, follows, mentions."})
    orders = fields.Boolean(metadata={"description": "Order payment, shipping, completion, refunds, after-sales."})
    groupbuy = fields.Boolean(metadata={"description": "Group-buys filled, expired or refunded."})
    earnings = fields.Boolean(metadata={"description": "Commissions from sales your notes and links bring."})


@blp.get("/notifications/settings")
@blp.response(200, NotificationSettingsSchema)
def get_notification_settings():
    """Which categories of notifications the signed-in user receives."""
    return notifications.notification_settings(require_user())


@blp.patch("/notifications/settings")
@blp.arguments(NotificationSettingsSchema)
@blp.response(200, NotificationSettingsSchema)
def patch_notification_settings(changes: dict):
    """Turn categories on or off; those not given keep their setting."""
    return notifications.set_notification_settings(require_user(), changes)


@blp.get("/notifications/unread-count")
@blp.response(200, UnreadSchema)
def unread_count():
    """How many notifications are unread."""
    return {"unread": notifications.unread_count(require_user().id)}


@blp.post("/notifications/<id:notification_id>/read")
@blp.response(200, MarkedSchema)
def mark_read(notification_id: int):
    """Mark a notification (and its group) read. Someone else's notification: 404."""
    user = require_user()
    marked = notifications.mark_read(user, notification_id)
    return {"marked": marked, "unread": notifications.unread_count(user.id)}


@blp.post("/notifications/read-all")
@blp.response(200, MarkedSchema)
def mark_all_read():
    """Mark every notification read."""
    user = require_user()
    return {"marked": notifications.mark_all_read(user), "unread": 0}
