"""/api/v1 routes for feeds: For you, following, trending, community, tag and author pages of post cards.

Like the HTML feeds, each page logs what it showed (one insert of impressions) under a request id that
the response carries, so a client can pass it on when the reader opens a post.
"""
from __future__ import annotations

from flask import jsonify
from marshmallow import Schema, fields, validate

from app.accounts.services import get_user_by_username
from app.communities.services import get_community
from app.core.api import PageArgsSchema, require_user
from app.core.api_input import ApiBlueprint
from app.core.auth import current_viewer
from app.core.pagination import Page, clamp_limit
from app.core.parsing import IdField, WholeNumber
from app.events.log import anon_id, new_request_id, record_impressions
from app.feeds import services
from app.feeds.foryou import for_you_feed, give_feedback, undo_feedback
from app.feeds.models import FEEDBACK_KINDS
from app.feeds.reasons import describe
from app.posts.schemas import PostCardSchema, post_cards

blp = ApiBlueprint("feeds_api", __name__, description="Feeds: pages of post cards")

OFFSET_MAX = 1_000_000


class FeedArgsSchema(PageArgsSchema):
    offset = WholeNumber(load_default=0, validate=validate.Range(min=0, max=OFFSET_MAX),
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


class ForYouCardSchema(PostCardSchema):
    reason = fields.String(dump_only=True, metadata={"description": "Why it is here, in the reader's language "
                                                                    "(\"Saved by Ann, whom you follow\")."})
    reason_code = fields.String(dump_only=True, metadata={"description": "The reason's kind: followees_engaged, "
                                                                         "because_you_liked, popular_in_community…"})


class ForYouPageSchema(FeedPageSchema):
    items = fields.List(fields.Nested(ForYouCardSchema))
    model_version = fields.String(allow_none=True, metadata={"description": "The recommender version that ranked "
                                                                            "this page (null before the first)."})
    cold_start = fields.Boolean(metadata={"description": "True when the reader has no recommendations yet and "
                                                         "sees what is popular in their communities."})


class FeedbackSchema(Schema):
    post_id = IdField(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(FEEDBACK_KINDS),
                         metadata={"description": "not_interested (this post), fewer_author or fewer_community."})


class FeedbackResultSchema(Schema):
    id = fields.Integer(dump_only=True, metadata={"description": "Send it to DELETE …/feedback/{id} to undo."})
    kind = fields.String(dump_only=True)
    target_id = fields.Integer(dump_only=True, metadata={"description": "The post, author or community id."})


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


@blp.get("/feeds/for-you")
@blp.arguments(FeedArgsSchema, location="query")
@blp.response(200, ForYouPageSchema)
def for_you(args: dict):
    """Ranked for you by the recommender and what the people you follow just did, each card with its reason."""
    viewer = require_user()
    page = for_you_feed(viewer, args.get("cursor"), clamp_limit(args.get("limit")))
    texts = describe([card.reason for card in page.cards])
    cards = post_cards(page.items, viewer)
    for card, source, text in zip(cards, page.cards, texts, strict=True):
        card.reason, card.reason_code = text, source.reason.get("code")
    request_id = new_request_id()
    body = ForYouPageSchema().dump({"items": cards, "next_cursor": page.next_cursor, "request_id": request_id,
                                    "model_version": page.model_version, "cold_start": page.cold_start})
    record_impressions([post.id for post in page.items], surface="for_you", request_id=request_id,
                       user_id=viewer.id, offset=args["offset"], model_version=page.model_version)
    return jsonify(body)


@blp.post("/feeds/for-you/feedback")
@blp.arguments(FeedbackSchema)
@blp.response(201, FeedbackResultSchema)
def for_you_feedback(args: dict):
    """Not interested in a post, or fewer from its author or its community; remembered for later pages."""
    return give_feedback(require_user(), args["kind"], args["post_id"])


@blp.delete("/feeds/for-you/feedback/<id:feedback_id>")
@blp.response(204)
def undo_for_you_feedback(feedback_id: int):
    """Take a feedback choice back."""
    undo_feedback(require_user(), feedback_id)
    return ""


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
    viewer = current_viewer()
    page = services.trending_feed(viewer, args.get("cursor"), clamp_limit(args.get("limit")))
    return _feed_response(page, "trending", args["offset"], viewer)


@blp.get("/communities/<slug>/posts")
@blp.arguments(CommunityFeedArgsSchema, location="query")
@blp.response(200, FeedPageSchema)
def community_feed(args: dict, slug: str):
    """A community's posts: hot, new, or top within a period."""
    viewer = current_viewer()
    page = services.community_feed(get_community(slug), args["tab"], args["period"], viewer, args.get("cursor"),
                                   clamp_limit(args.get("limit")))
    return _feed_response(page, "community", args["offset"], viewer)


@blp.get("/tags/<name>/posts")
@blp.arguments(TagFeedArgsSchema, location="query")
@blp.response(200, FeedPageSchema)
def tag_feed(args: dict, name: str):
    """Posts with a tag: hot, new, or top within a period."""
    viewer = current_viewer()
    page = services.tag_feed(services.get_tag(name), args["tab"], args["period"], viewer, args.get("cursor"),
                             clamp_limit(args.get("limit")))
    return _feed_response(page, "tag", args["offset"], viewer)


@blp.get("/users/<username>/posts")
@blp.arguments(FeedArgsSchema, location="query")
@blp.response(200, FeedPageSchema)
def author_feed(args: dict, username: str):
    """One author's posts, newest first (empty when either of you blocked the other)."""
    viewer = current_viewer()
    page = services.author_feed(get_user_by_username(username), viewer, args.get("cursor"),
                                clamp_limit(args.get("limit")))
    return _feed_response(page, "profile", args["offset"], viewer)
