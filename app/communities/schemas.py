"""A community as the API shows it, shared by the communities and search routes (no routes here)."""
from __future__ import annotations

from marshmallow import Schema, fields

from app.communities import services
from app.core.timestamps import Timestamp
from app.core.urls import external_url_for


class CommunitySchema(Schema):
    slug = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    description = fields.String(dump_only=True)
    vertical = fields.String(dump_only=True)
    vertical_label = fields.Function(lambda c: services.vertical_label(c.vertical), dump_only=True)
    rules_md = fields.String(dump_only=True)
    rules_html = fields.Function(lambda c: str(services.render_rules(c.rules_md)), dump_only=True)
    banner_url = fields.Function(
        lambda c: external_url_for("core.media", relative=c.banner_path) if c.banner_path else None,
        dump_only=True, allow_none=True)
    owner = fields.Function(lambda c: c.owner.username, dump_only=True)
    member_count = fields.Integer(dump_only=True)
    post_count = fields.Integer(dump_only=True)
    created_at = Timestamp(dump_only=True)
    url = fields.Function(lambda c: external_url_for("feeds.community", slug=c.slug), dump_only=True)
