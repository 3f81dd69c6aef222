"""The public face of a user in the API, shared by every domain's routes (no routes here)."""
from __future__ import annotations

from marshmallow import Schema, fields

from app.core.timestamps import Timestamp
from app.core.urls import external_url_for


def avatar_url(user) -> str | None:
    return external_url_for("core.media", relative=user.avatar_path) if user.avatar_path else None


class UserSchema(Schema):
    username = fields.String(dump_only=True)
    display_name = fields.String(dump_only=True)
    bio = fields.String(dump_only=True)
    avatar_url = fields.Function(avatar_url, dump_only=True, allow_none=True)
    joined_at = Timestamp(attribute="created_at", dump_only=True)
    profile_url = fields.Function(
        lambda user: external_url_for("feeds.profile", username=user.username), dump_only=True)
