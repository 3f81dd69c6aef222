"""/api/v1 routes for posts: notes and reviews, likes, saves, comments and collections.

Routes parse, call one service and dump; the rules (and their errors) live in services.py, engagement.py
and comments.py, exactly as for the HTML pages.
"""
from __future__ import annotations

from flask_babel import gettext as _
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from app.accounts.models import User
from app.accounts.schemas import UserSchema
from app.accounts.services import get_user_by_username
from app.core.api import PageArgsSchema, media_url, require_user
from app.core.api_input import ApiBlueprint, FileField
from app.core.auth import current_viewer
from app.core.errors import Invalid
from app.core.pagination import Page, clamp_limit
from app.core.parsing import IdField, WholeNumber
from app.core.timestamps import Timestamp
from app.core.uploads import upload_rate_limit
from app.core.urls import absolute_url, external_url_for
from app.events.log import REQUEST_ID_MAX, SURFACE_MAX, anon_id, record_action
from app.extensions import db
from app.posts import comments as comment_services
from app.posts import engagement, services
from app.posts.cards import viewer_state
from app.posts.models import KINDS, STATUS_PUBLISHED, STATUS_REMOVED, Post
from app.posts.product_tags import product_cards
from app.posts.schemas import ImageSchema, PostCardSchema, PostView, post_cards

blp = ApiBlueprint("posts_api", __name__, description="Posts: notes and reviews, likes, saves, comments, "
                                                      "collections")

# --- schemas ----------------------------------------------------------------------------------------------

class PinSchema(Schema):
    image = fields.Integer(dump_only=True, metadata={"description": "Position of the post image (0 = cover)."})
    x = fields.Float(dump_only=True, metadata={"description": "Across, 0 (left) to 1 (right)."})
    y = fields.Float(dump_only=True, metadata={"description": "Down, 0 (top) to 1 (bottom)."})


class TaggedProductSchema(Schema):
    """A product tagged in a post, as its card under the note shows it."""

    product_id = fields.Integer(dump_only=True)
    title = fields.String(dump_only=True)
    shop_name = fields.String(dump_only=True)
    shop_slug = fields.String(dump_only=True)
    url = fields.Function(lambda card: absolute_url(card.url), dump_only=True)
    image_url = fields.Function(lambda card: media_url(card.image_path) if card.image_path else None,
                                dump_only=True, allow_none=True)
    price_min_cents = fields.Integer(dump_only=True, allow_none=True)
    price_max_cents = fields.Integer(dump_only=True, allow_none=True)
    currency = fields.String(dump_only=True)
    in_stock = fields.Boolean(dump_only=True)
    available = fields.Boolean(dump_only=True, metadata={"description": "Active, in an approved shop."})
    buy_sku_id = fields.Integer(dump_only=True, allow_none=True,
                                metadata={"description": "The option a Buy button adds (with source_post_id); "
                                                         "null when the buyer must choose one."})
    pin = fields.Nested(PinSchema, dump_only=True, allow_none=True)
    rated = fields.Boolean(dump_only=True, metadata={"description": "The product this review rates."})


PRODUCT_IDS_DOC = {"description": "Products to tag, in order (at most 6, active, in approved shops); repeat the "
                                  "field. A review must rate one of them."}
REVIEWED_DOC = {"description": "Reviews: which tagged product the rating is for (optional when one is tagged)."}
PINS_DOC = {"description": "Optional pins, one per product: `product_id:x,y` or `product_id:x,y,image_number` "
                           "with x and y from 0 to 1 and image numbers from 1."}


class PostSchema(PostCardSchema):
    body_md = fields.String(dump_only=True, metadata={"description": "The text as written (Markdown)."})
    body_html = fields.String(dump_only=True, metadata={"description": "Rendered and sanitized HTML."})
    tags = fields.List(fields.String(), attribute="tag_names", dump_only=True)
    images = fields.Nested(ImageSchema, many=True, dump_only=True)
    comments_locked = fields.Boolean(dump_only=True)
    collection_id = fields.Integer(dump_only=True, allow_none=True,
                                   metadata={"description": "Your collection this post is saved in."})
    can_edit = fields.Boolean(dump_only=True)
    removed_reason = fields.String(dump_only=True, allow_none=True)
    products = fields.Nested(TaggedProductSchema, many=True, dump_only=True)


class PostCardPageSchema(Schema):
    items = fields.List(fields.Nested(PostCardSchema))
    next_cursor = fields.String(allow_none=True)


class PostViewArgsSchema(Schema):
    surface = fields.String(validate=validate.Length(max=SURFACE_MAX),
                            metadata={"description": "Where the reader came from (following, community, tag, "
                                                     "trending, profile…); logged as an 'open'."})
    request_id = fields.String(validate=validate.Length(max=REQUEST_ID_MAX),
                               metadata={"description": "The request_id of the feed page the post was opened "
                                                        "from."})


class PostCreateSchema(Schema):
    community = fields.String(required=True, metadata={"description": "Slug of the community to post into."})
    title = fields.String(required=True, metadata={"description": f"1–{services.TITLE_MAX} characters."})
    body = fields.String(load_default="", metadata={"description": "Markdown; #hashtags become tags."})
    kind = fields.String(load_default="note", validate=validate.OneOf(KINDS))
    tags = fields.List(fields.String(), load_default=list,
                       metadata={"description": "Repeat the field, or separate tags with commas or spaces."})
    rating = WholeNumber(metadata={"description": "1–5; required for reviews."})
    images = fields.List(FileField(), load_default=list,
                         metadata={"description": f"{services.IMAGES_MIN}–{services.IMAGES_MAX} JPEG, PNG, "
                                                  "WebP or GIF files; repeat the field for each."})
    product_ids = fields.List(IdField(), load_default=list, metadata=PRODUCT_IDS_DOC)
    reviewed_product_id = IdField(metadata=REVIEWED_DOC)
    pins = fields.List(fields.String(), load_default=list, metadata=PINS_DOC)
    discloses_own_product = fields.Boolean(load_default=False, metadata={
        "description": "Say so when you sell a tagged product yourself (undisclosed, the note goes to the "
                       "moderators' queue)."})


class PostPatchSchema(Schema):
    title = fields.String()
    body = fields.String()
    tags = fields.List(fields.String(), metadata={"description": "Replaces the tags (hashtags in the body stay)."})
    rating = WholeNumber(metadata={"description": "Reviews only."})
    remove_image_ids = fields.List(IdField(), load_default=list)
    product_ids = fields.List(IdField(), metadata={**PRODUCT_IDS_DOC,
                                                   "description": "Replaces the tagged products."})
    reviewed_product_id = IdField(allow_none=True, metadata=REVIEWED_DOC)
    pins = fields.List(fields.String(), metadata=PINS_DOC)
    discloses_own_product = fields.Boolean()


class ImagesUploadSchema(Schema):
    images = fields.List(FileField(), required=True)


class RevisionSchema(Schema):
    id = fields.Integer(dump_only=True)
    editor = fields.String(dump_only=True, allow_none=True,
                           metadata={"description": "Who replaced this version with an edit."})
    title = fields.String(dump_only=True)
    body_md = fields.String(dump_only=True)
    tags = fields.List(fields.String(), dump_only=True)
    rating = fields.Integer(dump_only=True, allow_none=True)
    created_at = Timestamp(dump_only=True)


class RevisionListSchema(Schema):
    items = fields.List(fields.Nested(RevisionSchema))


class EngagementArgsSchema(Schema):
    surface = fields.String(validate=validate.Length(max=SURFACE_MAX),
                            metadata={"description": "Where the button was pressed (for the recommender)."})


class SaveArgsSchema(EngagementArgsSchema):
    collection_id = IdField(metadata={"description": "One of your collections; default: your first."})


class EngagementSchema(Schema):
    post_id = fields.Integer(dump_only=True)
    liked = fields.Boolean(dump_only=True)
    saved = fields.Boolean(dump_only=True)
    collection_id = fields.Integer(dump_only=True, allow_none=True)
    like_count = fields.Integer(dump_only=True)
    save_count = fields.Integer(dump_only=True)
    comment_count = fields.Integer(dump_only=True)


class CommentSchema(Schema):
    """A comment; a deleted one that still has replies keeps its place without author or text."""

    id = fields.Integer(dump_only=True)
    post_id = fields.Integer(dump_only=True)
    parent_id = fields.Integer(dump_only=True, allow_none=True)
    depth = fields.Integer(dump_only=True, metadata={"description": "0 top level; replies nest to 2."})
    status = fields.String(dump_only=True)
    author = fields.Nested(UserSchema, dump_only=True)
    body = fields.String(dump_only=True)
    body_html = fields.String(dump_only=True)
    created_at = Timestamp(dump_only=True)
    edited_at = Timestamp(dump_only=True, allow_none=True)
    replies = fields.List(fields.Nested(lambda: CommentSchema()), dump_only=True)


class CommentListSchema(Schema):
    items = fields.List(fields.Nested(CommentSchema))
    comment_count = fields.Integer(dump_only=True)


class CommentCreateSchema(Schema):
    body = fields.String(required=True, metadata={"description": f"Up to {comment_services.COMMENT_MAX} "
                                                                 "characters."})
    parent_id = IdField(allow_none=True, metadata={"description": "The comment this replies to."})


class CommentPatchSchema(Schema):
    body = fields.String(required=True)


class CollectionSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    is_public = fields.Boolean(dump_only=True)
    item_count = fields.Integer(dump_only=True)
    owner = fields.String(attribute="owner.username", dump_only=True)
    created_at = Timestamp(dump_only=True)
    url = fields.Function(lambda c: external_url_for("posts.collection", collection_id=c.id),
                          dump_only=True)


class CollectionListSchema(Schema):
    items = fields.List(fields.Nested(CollectionSchema))


class CollectionCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(max=engagement.COLLECTION_NAME_MAX))
    is_public = fields.Boolean(load_default=False)


class CollectionPatchSchema(Schema):
    name = fields.String(validate=validate.Length(max=engagement.COLLECTION_NAME_MAX))
    is_public = fields.Boolean()


# --- views of posts and comments --------------------------------------------------------------------------

def _gone(post: Post) -> dict:
    """A removed or deleted post: its status (and a moderator's reason), nothing of its content."""
    shown = {"id": post.id, "status": post.status, "url": external_url_for("posts.detail", post_id=post.id)}
    if post.status == STATUS_REMOVED:
        shown["removed_reason"] = post.removed_reason
    return shown


def _post_detail(post: Post, viewer):
    if post.status != STATUS_PUBLISHED:
        return _gone(post)
    [card] = post_cards([post], viewer)
    collection = engagement.saved_in(viewer, post) if card.saved else None
    return PostView(post, card.liked, card.saved, collection_id=collection.id if collection else None,
                    can_edit=services.can_edit(viewer, post), products=product_cards([post.id]).get(post.id, []))


def _pins(values: list[str] | None) -> dict[str, str] | None:
    """`product_id:x,y[,image]` strings as {product id: "x,y[,image]"} (the service checks the numbers)."""
    if values is None:
        return None
    pins = {}
    for value in values:
        product_id, colon, pin = value.partition(":")
        if not colon or not product_id.strip():
            message = _("Write each pin as product_id:x,y or product_id:x,y,image_number.")
            raise Invalid(message, {"pins": [message]})
        pins[product_id.strip()] = pin
    return pins


def _product_fields(data: dict) -> dict:
    return {"product_ids": data.get("product_ids"), "reviewed_product_id": data.get("reviewed_product_id"),
            "pins": _pins(data.get("pins"))}


def _engagement(post: Post, user) -> dict:
    state = viewer_state([post], user.id)
    collection = engagement.saved_in(user, post) if post.id in state.saved else None
    return {"post_id": post.id, "liked": post.id in state.liked, "saved": post.id in state.saved,
            "collection_id": collection.id if collection else None, "like_count": post.like_count,
            "save_count": post.save_count, "comment_count": post.comment_count}


def _comment(comment, replies: list | None = None) -> dict:
    shown = {"id": comment.id, "post_id": comment.post_id, "parent_id": comment.parent_id, "depth": comment.depth,
             "status": comment.status, "created_at": comment.created_at, "edited_at": comment.edited_at,
             "replies": replies or []}
    if comment.status == STATUS_PUBLISHED:
        shown.update(author=comment.author, body=comment.body, body_html=comment.body_html)
    return shown


def _comment_tree(nodes) -> list[dict]:
    return [_comment(node.comment, _comment_tree(node.replies)) for node in nodes]


def _visible_post(post_id: int) -> Post:
    post = services.get_post(post_id)
    services.ensure_can_view(post, current_viewer())
    return post


# --- posts ------------------------------------------------------------------------------------------------

@blp.get("/posts/<id:post_id>")
@blp.arguments(PostViewArgsSchema, location="query")
@blp.response(200, PostSchema)
def get_post(args: dict, post_id: int):
    """One post with its images, tags, counts and whether you liked or saved it.

    A removed or deleted post answers with its status only. Opening a published post is logged
    (with `surface` and `request_id` from the feed it was opened from).
    """
    viewer = current_viewer()
    post = _visible_post(post_id)
    if post.status == STATUS_PUBLISHED:
        record_action("open", user_id=viewer.id if viewer else None, anon_id=anon_id(), post_id=post.id,
                      surface=args.get("surface") or "post", request_id=args.get("request_id"))
    return _post_detail(post, viewer)


@blp.post("/posts")
@upload_rate_limit
@blp.arguments(PostCreateSchema, location="multipart")
@blp.response(201, PostSchema)
def create_post(data: dict):
    """Publish a note or review with 1–9 images (multipart/form-data)."""
    user = require_user()
    post = services.create_post(
        user, community_slug=data["community"], title=data["title"], body=data["body"], kind=data["kind"],
        tags=" ".join(data["tags"]), rating=data.get("rating"),
        images=[upload.read() or b"" for upload in data["images"]],
        discloses_own_product=data["discloses_own_product"], **_product_fields(data))
    return _post_detail(post, user)


@blp.patch("/posts/<id:post_id>")
@blp.arguments(PostPatchSchema)
@blp.response(200, PostSchema)
def edit_post(changes: dict, post_id: int):
    """Change title, text, tags, rating or tagged products, or remove images (author or admins); the old
    text is kept. Fields left out stay as they are."""
    user = require_user()
    post = services.edit_post(user, services.get_post(post_id), title=changes.get("title"),
                              body=changes.get("body"), tags=changes.get("tags"), rating=changes.get("rating"),
                              remove_image_ids=changes["remove_image_ids"],
                              discloses_own_product=changes.get("discloses_own_product"), **_product_fields(changes))
    return _post_detail(post, user)


@blp.post("/posts/<id:post_id>/images")
@upload_rate_limit
@blp.arguments(ImagesUploadSchema, location="multipart")
@blp.response(200, PostSchema)
def add_images(data: dict, post_id: int):
    """Add images to a post (multipart field `images`, repeated; at most 9 in all)."""
    user = require_user()
    post = services.edit_post(user, services.get_post(post_id),
                              add_images=[upload.read() or b"" for upload in data["images"]])
    return _post_detail(post, user)


@blp.delete("/posts/<id:post_id>")
@blp.response(204)
def delete_post(post_id: int):
    """Delete a post (author or admins); its address then says it was deleted."""
    services.delete_post(require_user(), services.get_post(post_id))


@blp.get("/posts/<id:post_id>/revisions")
@blp.response(200, RevisionListSchema)
def list_revisions(post_id: int):
    """Earlier versions of a post, newest first (for those who may edit it)."""
    user = require_user()
    revisions = services.revisions_of(services.get_post(post_id), user)
    editor_ids = {revision.editor_id for revision in revisions}
    editors = dict(db.session.execute(select(User.id, User.username).where(User.id.in_(editor_ids))).all())
    return {"items": [{"id": r.id, "editor": editors.get(r.editor_id), "title": r.title, "body_md": r.body_md,
                       "tags": r.tags.split(), "rating": r.rating, "created_at": r.created_at} for r in revisions]}


# --- likes and saves --------------------------------------------------------------------------------------

@blp.put("/posts/<id:post_id>/like")
@blp.arguments(EngagementArgsSchema, required=False)
@blp.response(200, EngagementSchema)
def like(args: dict, post_id: int):
    """Like a post (idempotent). Removed or deleted: 409."""
    user = require_user()
    post = services.get_post(post_id)
    engagement.like_post(user, post, surface=args.get("surface"))
    return _engagement(post, user)


@blp.delete("/posts/<id:post_id>/like")
@blp.response(200, EngagementSchema)
def unlike(post_id: int):
    """Take a like back (idempotent)."""
    user = require_user()
    post = services.get_post(post_id)
    engagement.unlike_post(user, post)
    return _engagement(post, user)


@blp.put("/posts/<id:post_id>/save")
@blp.arguments(SaveArgsSchema, required=False)
@blp.response(200, EngagementSchema)
def save(args: dict, post_id: int):
    """Save a post into one of your collections (your first when none is named); saving again moves it."""
    user = require_user()
    post = services.get_post(post_id)
    engagement.save_post(user, post, args.get("collection_id"), surface=args.get("surface"))
    return _engagement(post, user)


@blp.delete("/posts/<id:post_id>/save")
@blp.response(200, EngagementSchema)
def unsave(post_id: int):
    """Remove a post from your collections (idempotent)."""
    user = require_user()
    post = services.get_post(post_id)
    engagement.unsave_post(user, post)
    return _engagement(post, user)


# --- comments ---------------------------------------------------------------------------------------------

@blp.get("/posts/<id:post_id>/comments")
@blp.response(200, CommentListSchema)
def list_comments(post_id: int):
    """All comments of a post as a tree (replies nested two levels), oldest first."""
    post = _visible_post(post_id)
    if post.status != STATUS_PUBLISHED:
        return {"items": [], "comment_count": 0}
    return {"items": _comment_tree(comment_services.comment_tree(post, current_viewer())),
            "comment_count": post.comment_count}


@blp.post("/posts/<id:post_id>/comments")
@blp.arguments(CommentCreateSchema)
@blp.response(201, CommentSchema)
def add_comment(data: dict, post_id: int):
    """Comment on a post, or reply to one of its comments (`parent_id`)."""
    comment = comment_services.add_comment(require_user(), services.get_post(post_id), data["body"],
                                           data.get("parent_id"))
    return _comment(comment)


@blp.patch("/comments/<id:comment_id>")
@blp.arguments(CommentPatchSchema)
@blp.response(200, CommentSchema)
def edit_comment(data: dict, comment_id: int):
    """Change your comment's text (within 15 minutes of posting)."""
    comment = comment_services.edit_comment(require_user(), comment_services.get_comment(comment_id), data["body"])
    return _comment(comment)


@blp.delete("/comments/<id:comment_id>")
@blp.response(204)
def delete_comment(comment_id: int):
    """Delete a comment (its author or admins); replies stay under a placeholder."""
    comment_services.delete_comment(require_user(), comment_services.get_comment(comment_id))


# --- collections ------------------------------------------------------------------------------------------

@blp.get("/users/<username>/collections")
@blp.response(200, CollectionListSchema)
def list_collections(username: str):
    """A user's collections: all of them for their owner, the public ones for everyone else."""
    return {"items": engagement.collections_of(get_user_by_username(username), current_viewer())}


@blp.post("/me/collections")
@blp.arguments(CollectionCreateSchema)
@blp.response(201, CollectionSchema)
def create_collection(data: dict):
    """Make a collection (private unless `is_public`)."""
    return engagement.create_collection(require_user(), data["name"], data["is_public"])


@blp.get("/collections/<id:collection_id>")
@blp.response(200, CollectionSchema)
def get_collection(collection_id: int):
    """A collection: its owner always sees it, others only when it is public."""
    return engagement.get_collection(collection_id, current_viewer())


@blp.get("/collections/<id:collection_id>/posts")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, PostCardPageSchema)
def list_collection_posts(args: dict, collection_id: int):
    """The posts saved in a collection, newest first (cursor-paginated)."""
    viewer = current_viewer()
    page = engagement.collection_posts(engagement.get_collection(collection_id, viewer), viewer,
                                       args.get("cursor"), clamp_limit(args.get("limit")))
    return Page(items=post_cards(page.items, viewer), next_cursor=page.next_cursor)


@blp.patch("/collections/<id:collection_id>")
@blp.arguments(CollectionPatchSchema)
@blp.response(200, CollectionSchema)
def edit_collection(changes: dict, collection_id: int):
    """Rename a collection or make it public or private (its owner)."""
    user = require_user()
    return engagement.update_collection(user, engagement.get_collection(collection_id, user), **changes)


@blp.delete("/collections/<id:collection_id>")
@blp.response(204)
def delete_collection(collection_id: int):
    """Delete a collection; the posts in it are unsaved."""
    user = require_user()
    engagement.delete_collection(user, engagement.get_collection(collection_id, user))
