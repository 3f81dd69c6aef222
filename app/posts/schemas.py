"""Post cards as the API shows them, shared by the posts, feeds and search routes (no routes here)."""
from __future__ import annotations

from marshmallow import Schema, fields

from app.accounts.schemas import UserSchema
from app.core.api import media_url
from app.core.timestamps import Timestamp
from app.core.urls import external_url_for
from app.posts.cards import viewer_state
from app.posts.models import Post


class ImageSchema(Schema):
    id = fields.Integer(dump_only=True)
    position = fields.Integer(dump_only=True)
    url = fields.Function(lambda image: media_url(image.path), dump_only=True,
                          metadata={"description": "Display size, up to 1080 px wide (WebP)."})
    thumb_url = fields.Function(lambda image: media_url(image.thumb_path), dump_only=True,
                                metadata={"description": "Thumbnail, up to 360 px wide (WebP)."})
    width = fields.Integer(dump_only=True, metadata={"description": "Of the thumbnail."})
    height = fields.Integer(dump_only=True, metadata={"description": "Of the thumbnail."})


class PostCardSchema(Schema):
    """What a feed card shows. Removed and deleted posts carry only id, status, url (and removed_reason)."""

    id = fields.Integer(dump_only=True)
    status = fields.String(dump_only=True, metadata={"description": "published, removed or deleted."})
    url = fields.String(dump_only=True)
    kind = fields.String(dump_only=True, metadata={"description": "note or review."})
    title = fields.String(dump_only=True)
    rating = fields.Integer(dump_only=True, allow_none=True, metadata={"description": "1–5, reviews only."})
    author = fields.Nested(UserSchema, dump_only=True)
    community = fields.String(attribute="community.slug", dump_only=True)
    cover = fields.Nested(ImageSchema, dump_only=True, allow_none=True)
    like_count = fields.Integer(dump_only=True)
    save_count = fields.Integer(dump_only=True)
    comment_count = fields.Integer(dump_only=True)
    liked = fields.Boolean(dump_only=True, metadata={"description": "By the signed-in user."})
    saved = fields.Boolean(dump_only=True, metadata={"description": "By the signed-in user."})
    created_at = Timestamp(dump_only=True)
    edited_at = Timestamp(dump_only=True, allow_none=True)


# --- views of posts -------------------------------------------------------------------------------------

class PostView:
    """A post as one viewer sees it: the post's own fields plus liked/saved and links, for the schemas."""

    def __init__(self, post: Post, liked: bool = False, saved: bool = False, **extra):
        self._post, self.liked, self.saved = post, liked, saved
        self.__dict__.update(extra)

    def __getattr__(self, name: str):
        return getattr(self._post, name)

    @property
    def url(self) -> str:
        return external_url_for("posts.detail", post_id=self._post.id)

    @property
    def tag_names(self) -> list[str]:
        return [tag.name for tag in self._post.tags]


def post_cards(posts: list[Post], viewer) -> list[PostView]:
    """Cards for a page of posts, with liked/saved for the whole page in two queries."""
    state = viewer_state(posts, viewer.id if viewer else None)
    return [PostView(post, post.id in state.liked, post.id in state.saved) for post in posts]
