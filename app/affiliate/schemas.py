"""Marshmallow schemas of the commissions API (/api/v1, see api.py). Money is integer cents (rounded down)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.core.api import PageArgsSchema
from app.core.parsing import IdField, WholeNumber
from app.core.timestamps import Timestamp
from app.core.urls import external_url_for


class ShareLinkCreateSchema(Schema):
    post_id = IdField(load_default=None, allow_none=True, metadata={"description": "The note to share."})
    product_id = IdField(load_default=None, allow_none=True,
                         metadata={"description": "The product to share (with post_id: shared from that note)."})


class ShareLinkSchema(Schema):
    code = fields.String(dump_only=True)
    url = fields.Function(lambda link: external_url_for("affiliate.follow", code=link.code), dump_only=True)
    sharer = fields.String(attribute="sharer.username", dump_only=True)
    post_id = fields.Integer(dump_only=True, allow_none=True)
    product_id = fields.Integer(dump_only=True, allow_none=True)
    created_at = Timestamp(dump_only=True)


class ShareLinkLookupSchema(ShareLinkSchema):
    rate_bps = fields.Integer(dump_only=True, metadata={"description": "The product's commission rate now."})
    estimated_commission_cents = fields.Integer(dump_only=True, metadata={
        "description": "About what the sharer earns on one unit at the cheapest price (rounded down)."})


class FunnelSchema(Schema):
    link = fields.Nested(ShareLinkSchema, dump_only=True)
    clicks = fields.Integer(dump_only=True)
    orders = fields.Integer(dump_only=True)
    paid = fields.Integer(dump_only=True)
    commission_cents = fields.Integer(dump_only=True)


class FunnelListSchema(Schema):
    items = fields.List(fields.Nested(FunnelSchema), dump_only=True)


class BalancesSchema(Schema):
    pending_cents = fields.Integer(dump_only=True)
    available_cents = fields.Integer(dump_only=True, metadata={
        "description": "Net of what is owed; below zero when refunds after payout exceed what is available."})
    owed_cents = fields.Integer(dump_only=True, metadata={
        "description": "Taken back by refunds after payout; settled from future earnings before any payout."})
    payable_cents = fields.Integer(dump_only=True, metadata={"description": "What the next payout would pay."})
    paid_cents = fields.Integer(dump_only=True)
    reversed_cents = fields.Integer(dump_only=True)
    currency = fields.String(dump_only=True)


class EntrySchema(Schema):
    id = fields.Integer(attribute="entry.id", dump_only=True)
    kind = fields.String(attribute="entry.kind", dump_only=True,
                         metadata={"description": "pending, available, reversed or paid_out."})
    order_id = fields.Integer(attribute="entry.order_id", dump_only=True)
    order_line_id = fields.Integer(attribute="entry.order_line_id", dump_only=True)
    product_title = fields.String(dump_only=True)
    post_id = fields.Integer(dump_only=True, allow_none=True)
    share_code = fields.String(attribute="link_code", dump_only=True, allow_none=True)
    rate_bps = fields.Integer(attribute="entry.rate_bps", dump_only=True)
    amount_cents = fields.Integer(attribute="entry.amount_cents", dump_only=True)
    pending_cents = fields.Integer(attribute="entry.pending_cents", dump_only=True)
    available_cents = fields.Integer(attribute="entry.available_cents", dump_only=True)
    paid_cents = fields.Integer(attribute="entry.paid_cents", dump_only=True)
    units = fields.Integer(attribute="entry.units", dump_only=True)
    currency = fields.String(attribute="entry.currency", dump_only=True)
    available_on = Timestamp(dump_only=True, allow_none=True, metadata={
        "description": "When a pending commission becomes available (null until the order is completed)."})
    created_at = Timestamp(attribute="entry.created_at", dump_only=True)


class EntryPageSchema(Schema):
    items = fields.List(fields.Nested(EntrySchema), dump_only=True)
    next_cursor = fields.String(dump_only=True, allow_none=True)


class SeriesArgsSchema(Schema):
    days = WholeNumber(load_default=30, validate=validate.OneOf([7, 30, 90]))


class SeriesSchema(Schema):
    days = fields.List(fields.Date(), dump_only=True)
    values = fields.Dict(keys=fields.String(), values=fields.List(fields.Integer()), dump_only=True)


class InvitedSchema(Schema):
    username = fields.String(dump_only=True)
    created_at = Timestamp(dump_only=True)


class InvitesSchema(Schema):
    invite_code = fields.String(dump_only=True)
    invite_url = fields.String(dump_only=True)
    invited = fields.List(fields.Nested(InvitedSchema), dump_only=True)


class DashboardRowSchema(Schema):
    post_id = fields.Integer(dump_only=True, allow_none=True)
    title = fields.String(dump_only=True, allow_none=True)
    username = fields.String(dump_only=True, allow_none=True)
    product_id = fields.Integer(dump_only=True, allow_none=True)
    product_title = fields.String(dump_only=True, allow_none=True)
    orders = fields.Integer(dump_only=True, allow_none=True)
    units = fields.Integer(dump_only=True, allow_none=True)
    revenue = fields.Integer(dump_only=True, allow_none=True)


class DashboardSchema(Schema):
    days = fields.Integer(dump_only=True)
    series = fields.Nested(SeriesSchema, dump_only=True)
    totals = fields.Dict(keys=fields.String(), values=fields.Integer(), dump_only=True)
    top_products = fields.List(fields.Nested(DashboardRowSchema), dump_only=True)
    notes = fields.List(fields.Nested(DashboardRowSchema), dump_only=True)
    creators = fields.List(fields.Nested(DashboardRowSchema), dump_only=True)


class PayableArgsSchema(Schema):
    minimum_cents = WholeNumber(load_default=None, validate=validate.Range(min=1, max=10**9))


class PayableSchema(Schema):
    user_id = fields.Integer(dump_only=True)
    username = fields.String(dump_only=True)
    amount_cents = fields.Integer(dump_only=True)


class PayableListSchema(Schema):
    items = fields.List(fields.Nested(PayableSchema), dump_only=True)


class PayoutRequestSchema(Schema):
    batch = fields.String(required=True, validate=validate.Length(min=1, max=64), metadata={
        "description": "A key for this run: the same batch twice pays once."})
    minimum_cents = WholeNumber(load_default=None, validate=validate.Range(min=1, max=10**9))
    user_ids = fields.List(IdField(), load_default=None, validate=validate.Length(min=1, max=1000))


class PayoutSchema(Schema):
    id = fields.Integer(dump_only=True)
    batch = fields.String(dump_only=True)
    total_cents = fields.Integer(dump_only=True)
    payees = fields.Integer(dump_only=True)
    minimum_cents = fields.Integer(dump_only=True)
    created_at = Timestamp(dump_only=True)


__all__ = ["PageArgsSchema"]
