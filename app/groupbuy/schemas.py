"""Marshmallow schemas of the group-buy API (/api/v1, see api.py). Money is integer minor units."""
from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from app.core.api import media_url
from app.core.parsing import IdField
from app.core.timestamps import Timestamp
from app.core.urls import absolute_url
from app.shop.schemas import CheckoutSchema, OrderSchema


class PriceSchema(Schema):
    sku_id = IdField(required=True)
    group_price_cents = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=10**9))


class CampaignInputSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    prices = fields.List(fields.Nested(PriceSchema), required=True, validate=validate.Length(min=1, max=50),
                         metadata={"description": "A group price per option, each strictly below its price."})
    group_size = fields.Integer(required=True, strict=True, metadata={"description": "2 to 50 people."})
    window_hours = fields.Integer(required=True, strict=True, metadata={"description": "1 to 72 hours to fill."})
    starts_at = Timestamp(required=True)
    ends_at = Timestamp(required=True)
    per_order_limit = fields.Integer(load_default=1, strict=True)
    per_user_limit = fields.Integer(load_default=1, strict=True)
    units_cap = fields.Integer(load_default=None, allow_none=True, strict=True,
                               metadata={"description": "Most units sold through the campaign; null for no cap."})
    coupon_stacks = fields.Boolean(load_default=False, metadata={"description": "May a coupon apply on top?"})


class CampaignCreateSchema(CampaignInputSchema):
    product_id = IdField(required=True)


class FiguresSchema(Schema):
    opened = fields.Integer()
    filled = fields.Integer()
    expired = fields.Integer()
    open = fields.Integer()
    fill_rate = fields.Float(allow_none=True, metadata={"description": "filled / (filled + expired)."})
    units = fields.Integer()
    revenue_cents = fields.Integer()


class CampaignSchema(Schema):
    id = fields.Integer(dump_only=True)
    shop_id = fields.Integer(dump_only=True)
    product_id = fields.Integer(dump_only=True)
    product_title = fields.String(attribute="product.title", dump_only=True)
    prices = fields.Function(lambda c: [{"sku_id": p.sku_id, "group_price_cents": p.group_price_cents}
                                        for p in c.prices], dump_only=True,
                             metadata={"type": "array", "items": {"type": "object", "properties": {
                                 "sku_id": {"type": "integer"}, "group_price_cents": {"type": "integer"}}}})
    group_size = fields.Integer(dump_only=True)
    window_hours = fields.Integer(dump_only=True)
    starts_at = Timestamp(dump_only=True)
    ends_at = Timestamp(dump_only=True)
    per_order_limit = fields.Integer(dump_only=True)
    per_user_limit = fields.Integer(dump_only=True)
    units_cap = fields.Integer(dump_only=True, allow_none=True)
    units_taken = fields.Integer(dump_only=True)
    coupon_stacks = fields.Boolean(dump_only=True)
    status = fields.String(dump_only=True, metadata={"description": "active or ended."})


class CampaignDetailSchema(CampaignSchema):
    figures = fields.Nested(FiguresSchema, dump_only=True, allow_none=True,
                            metadata={"description": "For the shop's owner only; null for anyone else."})


class CampaignListSchema(Schema):
    items = fields.Nested(CampaignDetailSchema, many=True)


class MemberSchema(Schema):
    username = fields.String(attribute="user.username", dump_only=True)
    display_name = fields.String(attribute="user.display_name", dump_only=True)
    is_leader = fields.Boolean(dump_only=True)
    paid_at = Timestamp(dump_only=True, allow_none=True)


class GroupSchema(Schema):
    id = fields.Integer(dump_only=True)
    campaign_id = fields.Integer(dump_only=True)
    product_id = fields.Integer(dump_only=True)
    product_title = fields.String(attribute="product.title", dump_only=True)
    image_url = fields.Function(lambda g: media_url(g.product.images[0].path) if g.product.images else None,
                                dump_only=True, allow_none=True)
    state = fields.String(dump_only=True, metadata={"description": "pending, open, filled, expired or cancelled."})
    size = fields.Integer(dump_only=True)
    seats_taken = fields.Integer(dump_only=True, metadata={"description": "Paid members and seats held for payment."})
    seats_left = fields.Integer(dump_only=True)
    paid_count = fields.Integer(dump_only=True)
    prices = fields.Function(lambda g: [{"sku_id": int(k), "group_price_cents": v}
                                        for k, v in sorted(g.prices.items())], dump_only=True,
                             metadata={"type": "array", "items": {"type": "object", "properties": {
                                 "sku_id": {"type": "integer"}, "group_price_cents": {"type": "integer"}}}})
    currency = fields.String(dump_only=True)
    leader = fields.String(attribute="leader.username", dump_only=True)
    opened_at = Timestamp(dump_only=True, allow_none=True)
    deadline = Timestamp(dump_only=True, allow_none=True)
    filled_at = Timestamp(dump_only=True, allow_none=True)
    url = fields.Function(lambda g: absolute_url(f"/g/{g.id}"), dump_only=True)


class GroupDetailSchema(GroupSchema):
    members = fields.Nested(MemberSchema, many=True, dump_only=True, attribute="members_shown",
                            metadata={"description": "Only members who paid."})


class JoinRequestSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    sku_id = IdField(required=True)
    quantity = fields.Integer(load_default=1, strict=True)
    address_id = IdField(required=True, metadata={"description": "One of your saved addresses."})
    coupon_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=60))


class JoinedSchema(Schema):
    group = fields.Nested(GroupSchema, dump_only=True)
    member_state = fields.String(attribute="member.state", dump_only=True)
    checkout = fields.Nested(CheckoutSchema, dump_only=True)


class MyGroupSchema(Schema):
    group = fields.Nested(GroupSchema, dump_only=True)
    state = fields.String(dump_only=True, metadata={"description": "pending, paid, released, left or refunded."})
    is_leader = fields.Boolean(dump_only=True)
    quantity = fields.Integer(dump_only=True)
    joined_at = Timestamp(dump_only=True)
    order = fields.Nested(OrderSchema, dump_only=True)


class MyGroupListSchema(Schema):
    items = fields.Nested(MyGroupSchema, many=True)
