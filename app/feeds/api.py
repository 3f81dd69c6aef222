"""/api/v1 routes for feeds: following, trending, community, tag and author pages of post cards.

Like the HTML feeds, each page logs what it showed (one insert of impressions) under a request id that
the response carries, so a client can pass it on when the reader opens a post.
"""
from __future__ import annotations

from flask import jsonify
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.accounts.api import PageArgsSchema
from app.accounts.services import get_user_by_username
from app.api import require_user
from app.communities.services import get_community
from app.core.pagination import Page, clamp_limit
from app.feeds import services
from app.feeds.events import new_request_id, record_impressions
from app.posts.api import PostCardSchema, anon_id, post_cards, viewer_or_none

blp = Blueprint("feeds_api", __name__, description="Feeds: pages of post cards")

OFFSET_MAX = 1_000_000


class FeedArgsSchema(PageArgsSchema):
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=OFFSET_MAX),
                            metadata={"description": "How many items of this feed the client has shown before "
                                                     "this page (the position of its first item in the log)."})


class CommunityFeedArgsSchema(FeedArgsSchema):
    tab = fields.String(load_default="hot", validate=validate.OneOf(services.TABS))
    period = fields.String(load_default="week", validate=validate.OneOf(list(services.PERIODS)),
                           metadata={"description": "For the top tab."})


class TagFeedArgsSchema(CommunityFeedArgsSchema):
    period = fields.String(load_default="all", validate=validate.OneOf(list(services.PERIODS)),
                           metadata={"description": "For the top tab."})


class FeedPageSchema(Schema):
    items = fields.List(fields.Nested(PostCardSchema))
    next_cursor = fields.String(allow_none=True)
    request_id = fields.String(metadata={"description": "Identifies this page in the event log; send it as "
                                                        "`request_id` when opening a post from it."})


def _feed_response(page: Page, surface: str, offset: int, viewer):
    """Dump a page of cards, then log its impressions in one insert.

    Dumped first: the impressions' commit expires the loaded posts, which would then reload one by one.
    """
    request_id = new_request_id()
    body = FeedPageSchema().dump({"items": post_cards(page.items, viewer), "next_cursor": page.next_cursor,
                                  "request_id": request_id})
    record_impressions([post.id for post in page.items], surface=surface, request_id=request_id,
                       user_id=viewer.id if viewer else None, anon_id=anon_id(), offset=offset)
    return jsonify(body)


@blp.get("/feeds/following")
@blp.arguments(FeedArgsSchema, location="query")
@blp.response(200, FeedPageSchema)
def following_feed(args: dict):
    """Posts by the people you follow, newest first."""
    viewer = require_user()
    page = services.following_feed(viewer, args.get("cursor"), clamp_limit(args.get("limit")))
    return _feed_response(page, "following", args["offset"], viewer)


@blp.get("/feeds/trending")
@blp.arguments(FeedArgsSchema, location="query")
@blp.response(200, FeedPageSchema)
def trending_feed(args: dict):
    """Across all communities, by hot score (time-decayed engagement)."""
    viewer = viewer_or_none()
    page = services.trending_feed(viewer, args.get("cursor"), clamp_limit(args.get("limit")))
    return _feed_response(page, "trending", args["offset"], viewer)


@blp.get("/communities/<slug>/posts")
@blp.arguments(CommunityFeedArgsSchema, location="query")
@blp.response(200, FeedPageSchema)
def community_feed(args: dict, slug: str):
    """A community's posts: hot, new, or top within a period."""
    viewer = viewer_or_none()
    page = services.community_feed(get_community(slug), args["tab"], args["period"], viewer, args.get("cursor"),
                                   clamp_limit(args.get("limit")))
    return _feed_response(page, "community", args["offset"], viewer)


@blp.get("/tags/<name>/posts")
@blp.arguments(TagFeedArgsSchema, location="query")
@blp.response(200, FeedPageSchema)
def tag_feed(args: dict, name: str):
    """Posts with a tag: hot, new, or top within a period."""
    viewer = viewer_or_none()
    page = services.tag_feed(services.get_tag(name), args["tab"], args["period"], viewer, args.get("cursor"),
                             clamp_limit(args.get("limit")))
    return _feed_response(page, "tag", args["offset"], viewer)


@blp.get("/users/<username>/posts")
@blp.arguments(FeedArgsSchema, location="query")
@blp.response(200, FeedPageSchema)
def author_feed(args: dict, username: str):
    """One author's posts, newest first (empty when either of you blocked the other)."""
    viewer = viewer_or_none()
    page = services.author_feed(get_user_by_username(username), viewer, args.get("cursor"),
                                clamp_limit(args.get("limit")))
    return _feed_response(page, "profile", args["offset"], viewer)
