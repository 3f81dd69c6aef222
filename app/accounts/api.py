"""/api/v1 routes for the signed-in user and public profiles."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.accounts import deletion, services
from app.accounts.models import ApiToken
from app.accounts.schemas import UserSchema
from app.core.api import PageArgsSchema, require_user
from app.core.api_input import ApiBlueprint
from app.core.i18n import SUPPORTED
from app.core.pagination import clamp_limit, paginate_desc
from app.core.timestamps import Timestamp
from app.extensions import db

blp = ApiBlueprint("accounts_api", __name__, description="Users and the signed-in account")


class MeSchema(UserSchema):
    email = fields.String(dump_only=True)
    locale = fields.String(dump_only=True, allow_none=True)
    timezone = fields.String(dump_only=True, allow_none=True,
                             metadata={"description": "IANA time zone of the account; null: the browser's."})
    is_admin = fields.Boolean(dump_only=True)
    is_creator = fields.Boolean(dump_only=True)
    is_merchant = fields.Boolean(dump_only=True)


class MePatchSchema(Schema):
    display_name = fields.String(validate=validate.Length(max=60))
    bio = fields.String(validate=validate.Length(max=500))
    locale = fields.String(validate=validate.OneOf(SUPPORTED))
    timezone = fields.String(validate=validate.Length(max=64),
                             metadata={"description": "An IANA time zone such as Asia/Shanghai; empty to follow "
                                                      "the browser."})


class DeleteMeSchema(Schema):
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=200),
                             metadata={"description": "The account's current password, to confirm."})


class TokenSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    prefix = fields.String(dump_only=True)
    created_at = Timestamp(dump_only=True)
    expires_at = Timestamp(dump_only=True, allow_none=True)
    last_used_at = Timestamp(dump_only=True, allow_none=True)


class TokenPageSchema(Schema):
    items = fields.List(fields.Nested(TokenSchema))
    next_cursor = fields.String(allow_none=True)


@blp.get("/me")
@blp.response(200, MeSchema)
def get_me():
    """The signed-in account."""
    return require_user()


@blp.patch("/me")
@blp.arguments(MePatchSchema)
@blp.response(200, MeSchema)
def patch_me(changes: dict):
    """Change display name, bio, language or time zone."""
    return services.update_profile(require_user(), **changes)


@blp.delete("/me")
@blp.arguments(DeleteMeSchema)
@blp.response(204)
@blp.alt_response(409, description="The account's shop has orders in progress; settle them first.")
def delete_me(args: dict):
    """Delete (anonymise) the account: profile, sessions, tokens and follows go; orders are kept."""
    deletion.delete_account(require_user(), args["password"])


@blp.get("/me/tokens")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, TokenPageSchema)
def list_my_tokens(args: dict):
    """The account's active personal access tokens, newest first (cursor-paginated)."""
    user = require_user()
    query = db.select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    return paginate_desc(query, ApiToken.created_at, ApiToken.id, args.get("cursor"),
                         clamp_limit(args.get("limit")))


@blp.get("/users/<username>")
@blp.response(200, UserSchema)
def get_user(username: str):
    """A public profile."""
    return services.get_user_by_username(username)
