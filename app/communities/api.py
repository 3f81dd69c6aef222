"""/api/v1 routes for communities: directory, details, join/leave, create (admins) and edit (owner/admins)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.communities import services
from app.communities.models import VERTICALS
from app.communities.schemas import CommunitySchema
from app.core.api import PageArgsSchema, require_user
from app.core.api_input import ApiBlueprint, FileField
from app.core.auth import current_viewer
from app.core.pagination import Page
from app.core.uploads import upload_rate_limit

blp = ApiBlueprint("communities_api", __name__, description="Communities")


class CommunityDetailSchema(CommunitySchema):
    role = fields.String(dump_only=True, allow_none=True,
                         metadata={"description": "The signed-in user's role here (member, moderator, owner)."})
    moderators = fields.List(fields.String(), dump_only=True)


class CommunityPageSchema(Schema):
    items = fields.List(fields.Nested(CommunitySchema))
    next_cursor = fields.String(allow_none=True)


class DirectoryArgsSchema(PageArgsSchema):
    vertical = fields.String(validate=validate.OneOf(VERTICALS))


class CommunityCreateSchema(Schema):
    slug = fields.String(required=True, validate=validate.Length(max=40))
    name = fields.String(required=True, validate=validate.Length(max=services.NAME_MAX))
    vertical = fields.String(required=True, validate=validate.OneOf(VERTICALS))
    owner = fields.String(required=True, validate=validate.Length(max=31),
                          metadata={"description": "Username of the owner to appoint."})
    description = fields.String(load_default="", validate=validate.Length(max=services.DESCRIPTION_MAX))
    rules_md = fields.String(load_default="", validate=validate.Length(max=services.RULES_MAX))


class CommunityPatchSchema(Schema):
    name = fields.String(validate=validate.Length(max=services.NAME_MAX))
    vertical = fields.String(validate=validate.OneOf(VERTICALS))
    description = fields.String(validate=validate.Length(max=services.DESCRIPTION_MAX))
    rules_md = fields.String(validate=validate.Length(max=services.RULES_MAX))
    owner = fields.String(validate=validate.Length(max=31),
                          metadata={"description": "Appoint a new owner (site admins only)."})


class BannerSchema(Schema):
    banner = FileField(required=True)


class MembershipSchema(Schema):
    slug = fields.String(dump_only=True)
    role = fields.String(dump_only=True, allow_none=True)
    member_count = fields.Integer(dump_only=True)


class _Detail:
    """A community with the viewer's role and the moderator names, for CommunityDetailSchema."""

    def __init__(self, community, role: str | None, moderators: list[str]):
        self._community, self.role, self.moderators = community, role, moderators

    def __getattr__(self, name: str):
        return getattr(self._community, name)


def _detail(community) -> _Detail:
    membership = services.membership_of(current_viewer(), community)
    return _Detail(community, membership.role if membership else None,
                   [m.user.username for m in services.moderators_of(community)])


def _membership(community) -> dict:
    membership = services.membership_of(current_viewer(), community)
    return {"slug": community.slug, "role": membership.role if membership else None,
            "member_count": community.member_count}


@blp.get("/communities")
@blp.arguments(DirectoryArgsSchema, location="query")
@blp.response(200, CommunityPageSchema)
def list_communities(args: dict) -> Page:
    """The directory: biggest first, optionally one vertical (cursor-paginated)."""
    return services.list_communities(args.get("vertical"), args.get("cursor"), args.get("limit"))


@blp.post("/communities")
@blp.arguments(CommunityCreateSchema)
@blp.response(201, CommunityDetailSchema)
def create_community(data: dict):
    """Create a community and appoint its owner (site admins only)."""
    community = services.create_community(
        require_user(), slug=data["slug"], name=data["name"], vertical=data["vertical"],
        owner_username=data["owner"], description=data["description"], rules_md=data["rules_md"])
    return _detail(community)


@blp.get("/communities/<slug>")
@blp.response(200, CommunityDetailSchema)
def get_community(slug: str):
    """One community, with the signed-in user's role there."""
    return _detail(services.get_community(slug))


@blp.patch("/communities/<slug>")
@blp.arguments(CommunityPatchSchema)
@blp.response(200, CommunityDetailSchema)
def edit_community(changes: dict, slug: str):
    """Edit name, vertical, description, rules (owner or admins); appoint a new owner (admins)."""
    community = services.get_community(slug)
    owner = changes.pop("owner", None)
    services.update_community(require_user(), community, owner_username=owner, **changes)
    return _detail(community)


@blp.put("/communities/<slug>/banner")
@upload_rate_limit
@blp.arguments(BannerSchema, location="files")
@blp.response(200, CommunityDetailSchema)
def put_banner(files: dict, slug: str):
    """Replace the banner (multipart field `banner`; JPEG, PNG, WebP or GIF; cropped to 3:1)."""
    community = services.get_community(slug)
    services.update_community(require_user(), community, banner=files["banner"].read() or b"")
    return _detail(community)


@blp.post("/communities/<slug>/join")
@blp.response(200, MembershipSchema)
def join(slug: str):
    """Join (idempotent)."""
    user = require_user()
    community = services.get_community(slug)
    services.join_community(user, community)
    return _membership(community)


@blp.post("/communities/<slug>/leave")
@blp.response(200, MembershipSchema)
def leave(slug: str):
    """Leave (idempotent). The owner cannot leave: 409."""
    user = require_user()
    community = services.get_community(slug)
    services.leave_community(user, community)
    return _membership(community)
