"""Marshmallow schemas of the storefront API (/api/v1, see api.py): what each route reads and answers.

Money is always integer minor units (`*_cents`) next to its ISO currency code; figures a client sends are
only compared or ignored (see checkout.py).
"""
from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from app.core.api import PageArgsSchema, media_url
from app.core.api_input import FileField
from app.core.parsing import IdField
from app.core.timestamps import Timestamp
from app.core.urls import absolute_url
from app.shop import aftersales, catalog, orders
from app.shop.aftersale_models import AfterSaleKind, AfterSaleStatus
from app.shop.models import CouponKind, OrderStatus, ProductStatus

# --- schemas: shops and catalog ---------------------------------------------------------------------------

class ShopBriefSchema(Schema):
    id = fields.Integer(dump_only=True)
    slug = fields.String(dump_only=True)
    name = fields.String(dump_only=True)


class ShopSchema(ShopBriefSchema):
    description = fields.String(dump_only=True)
    status = fields.String(dump_only=True, metadata={"description": "applied, approved or rejected."})
    rejection_reason = fields.String(dump_only=True, allow_none=True)
    owner = fields.String(attribute="owner.username", dump_only=True)
    logo_url = fields.Function(lambda shop: media_url(shop.logo_path) if shop.logo_path else None,
                               dump_only=True, allow_none=True)
    created_at = Timestamp(dump_only=True)


class ShopListSchema(Schema):
    items = fields.List(fields.Nested(ShopSchema))


class ShopApplySchema(Schema):
    slug = fields.String(required=True, metadata={"description": "3–40 lower-case letters, digits and dashes; "
                                                                 "the shop's address."})
    name = fields.String(required=True, validate=validate.Length(max=80))
    description = fields.String(load_default="", validate=validate.Length(max=5000))


class RejectSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(max=500),
                           metadata={"description": "Shown to the applicant."})


class ProductImageSchema(Schema):
    id = fields.Integer(dump_only=True)
    position = fields.Integer(dump_only=True)
    url = fields.Function(lambda image: media_url(image.path), dump_only=True)


class SkuSchema(Schema):
    id = fields.Integer(dump_only=True)
    product_id = fields.Integer(dump_only=True)
    code = fields.String(dump_only=True)
    label = fields.String(dump_only=True)
    price_cents = fields.Integer(dump_only=True, metadata={"description": "Minor units of `currency`."})
    currency = fields.String(dump_only=True)
    stock = fields.Integer(dump_only=True)
    stock_state = fields.Function(catalog.stock_state, dump_only=True,
                                  metadata={"description": "in_stock, low_stock, sold_out or unavailable."})
    is_active = fields.Boolean(dump_only=True)


class ProductSchema(Schema):
    id = fields.Integer(dump_only=True)
    title = fields.String(dump_only=True)
    description = fields.String(dump_only=True)
    status = fields.String(dump_only=True, metadata={"description": "draft, active or archived."})
    shop = fields.Nested(ShopBriefSchema, dump_only=True)
    community_id = fields.Integer(dump_only=True, allow_none=True)
    commission_bps = fields.Integer(dump_only=True, metadata={"description": "What creators earn on sales "
                                                                             "through their notes (basis points)."})
    images = fields.Nested(ProductImageSchema, many=True, dump_only=True)
    skus = fields.Nested(SkuSchema, many=True, dump_only=True)
    created_at = Timestamp(dump_only=True)


class RatingSchema(Schema):
    average = fields.Float(allow_none=True, metadata={"description": "Mean stars over its reviewers, each counted "
                                                                     "once with their newest review; null before "
                                                                     "the first."})
    count = fields.Integer(metadata={"description": "Reviewers who rate it (one rating per person)."})
    verified_average = fields.Float(allow_none=True,
                                    metadata={"description": "Mean stars of the reviewers who bought it (a paid "
                                                             "order not refunded in full); null when none has."})
    verified_count = fields.Integer(metadata={"description": "Reviewers who bought it."})


class ProductDetailSchema(ProductSchema):
    rating = fields.Nested(RatingSchema, dump_only=True)
    featuring_post_ids = fields.List(fields.Integer(), dump_only=True,
                                     metadata={"description": "Notes that tag this product, newest first "
                                                              "(up to 12; /api/v1/posts/<id> for each)."})
    also_bought_ids = fields.List(fields.Integer(), dump_only=True,
                                  metadata={"description": "Products its buyers also bought, most shared first."})


class ProductPageSchema(Schema):
    items = fields.List(fields.Nested(ProductSchema))
    next_cursor = fields.String(allow_none=True)


class ProductCreateSchema(Schema):
    title = fields.String(required=True, validate=validate.Length(max=120))
    description = fields.String(load_default="", validate=validate.Length(max=20_000))
    community_id = IdField(load_default=None, allow_none=True,
                           metadata={"description": "The community (vertical) it belongs to."})
    commission_bps = fields.Integer(strict=True, load_default=0, metadata={"description": "0–10 000 basis points."})


class ProductPatchSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in ProductStatus]),
                           metadata={"description": "active publishes (needs an option with a price), draft "
                                                    "hides, archived retires."})


class ProductImagesSchema(Schema):
    images = fields.List(FileField(), required=True)


class SkuCreateSchema(Schema):
    code = fields.String(required=True, metadata={"description": "Unique within the shop."})
    label = fields.String(load_default="", validate=validate.Length(max=80),
                          metadata={"description": "The variant as buyers see it (size, shade…)."})
    price_cents = fields.Integer(strict=True, required=True, metadata={"description": "Minor units, above zero."})
    stock = fields.Integer(strict=True, load_default=0)
    currency = fields.String(load_default="CNY", validate=validate.Length(equal=3))


class StockAdjustSchema(Schema):
    delta = fields.Integer(strict=True, required=True,
                           metadata={"description": "Units to add (negative: to remove); stock never goes below "
                                                    "zero."})


# --- schemas: cart and addresses --------------------------------------------------------------------------

class CartItemSchema(Schema):
    id = fields.Integer(dump_only=True)
    sku_id = fields.Integer(dump_only=True)
    product_id = fields.Integer(attribute="sku.product_id", dump_only=True)
    product_title = fields.String(attribute="sku.product.title", dump_only=True)
    sku_label = fields.String(attribute="sku.label", dump_only=True)
    shop = fields.Nested(ShopBriefSchema, attribute="sku.product.shop", dump_only=True)
    quantity = fields.Integer(dump_only=True)
    unit_price_cents = fields.Integer(attribute="sku.price_cents", dump_only=True,
                                      metadata={"description": "Today's price; POST /checkout/quote for totals."})
    currency = fields.String(attribute="sku.currency", dump_only=True)
    stock_state = fields.Function(lambda item: catalog.stock_state(item.sku), dump_only=True)
    source_post_id = fields.Integer(dump_only=True, allow_none=True)
    added_at = Timestamp(dump_only=True)


class CartSchema(Schema):
    items = fields.Nested(CartItemSchema, many=True, dump_only=True)
    updated_at = Timestamp(dump_only=True)


class CartAddSchema(Schema):
    sku_id = IdField(required=True)
    product_id = IdField(load_default=None, allow_none=True,
                         metadata={"description": "The product the client believes the SKU belongs to; "
                                                  "refused when it does not."})
    quantity = fields.Integer(strict=True, load_default=1,
                              metadata={"description": "Added to what the cart holds; at most the stock and the "
                                                       "per-order limit."})
    source_post_id = IdField(load_default=None, allow_none=True,
                             metadata={"description": "The note whose product card led here (its author "
                                                      "is credited with the sale)."})


class CartQuantitySchema(Schema):
    quantity = fields.Integer(strict=True, required=True,
                              metadata={"description": "The new quantity; 0 removes the item."})


class AddressSchema(Schema):
    id = fields.Integer(dump_only=True)
    recipient_name = fields.String(dump_only=True)
    phone = fields.String(dump_only=True)
    region = fields.String(dump_only=True)
    line1 = fields.String(dump_only=True)
    postal_code = fields.String(dump_only=True)
    created_at = Timestamp(dump_only=True)


class AddressListSchema(Schema):
    items = fields.List(fields.Nested(AddressSchema))


class AddressCreateSchema(Schema):
    recipient_name = fields.String(required=True, validate=validate.Length(max=60))
    phone = fields.String(required=True, validate=validate.Length(max=30))
    line1 = fields.String(required=True, validate=validate.Length(max=200))
    region = fields.String(load_default="", validate=validate.Length(max=120))
    postal_code = fields.String(load_default="", validate=validate.Length(max=20))


# --- schemas: checkout, orders, payments, refunds, coupons ------------------------------------------------

class CheckoutLineSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # a total or discount a client makes up is ignored: the server prices everything

    sku_id = IdField(required=True)
    quantity = fields.Integer(strict=True, required=True)
    product_id = IdField(metadata={"description": "The product the option was picked on; an "
                                                 "option of another product is refused."})
    unit_price_cents = fields.Integer(strict=True, metadata={"description": "The price the buyer was shown: "
                                                                           "compared with today's price (a mismatch "
                                                                           "is refused), never used."})
    source_post_id = IdField(allow_none=True)


class QuoteRequestSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    lines = fields.List(fields.Nested(CheckoutLineSchema),
                        metadata={"description": "What to buy; omit it to check out your cart."})
    coupon_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=60))


class CheckoutRequestSchema(QuoteRequestSchema):
    address_id = IdField(required=True, metadata={"description": "One of your saved addresses."})


class QuoteLineSchema(Schema):
    sku_id = fields.Integer(dump_only=True)
    product_id = fields.Integer(dump_only=True)
    product_title = fields.String(dump_only=True)
    sku_label = fields.String(dump_only=True)
    unit_price_cents = fields.Integer(dump_only=True)
    quantity = fields.Integer(dump_only=True)
    line_total_cents = fields.Integer(dump_only=True)
    discount_cents = fields.Integer(dump_only=True, metadata={"description": "This line's share of the coupon."})


class QuoteOrderSchema(Schema):
    shop = fields.Nested(ShopBriefSchema, dump_only=True)
    subtotal_cents = fields.Integer(dump_only=True)
    discount_cents = fields.Integer(dump_only=True)
    total_cents = fields.Integer(dump_only=True)
    lines = fields.Nested(QuoteLineSchema, many=True, dump_only=True)


class QuoteCouponSchema(Schema):
    code = fields.String(dump_only=True)
    discount_cents = fields.Integer(dump_only=True)


class QuoteSchema(Schema):
    currency = fields.String(dump_only=True)
    subtotal_cents = fields.Integer(dump_only=True)
    discount_cents = fields.Integer(dump_only=True)
    total_cents = fields.Integer(dump_only=True, metadata={"description": "What the buyer would pay."})
    coupon = fields.Nested(QuoteCouponSchema, dump_only=True, allow_none=True)
    orders = fields.Nested(QuoteOrderSchema, many=True, dump_only=True,
                           metadata={"description": "One order per shop."})


class OrderLineSchema(Schema):
    id = fields.Integer(dump_only=True)
    sku_id = fields.Integer(dump_only=True)
    product_id = fields.Integer(dump_only=True)
    product_title = fields.String(dump_only=True)
    sku_label = fields.String(dump_only=True)
    unit_price_cents = fields.Integer(dump_only=True)
    quantity = fields.Integer(dump_only=True)
    line_total_cents = fields.Integer(dump_only=True)
    discount_cents = fields.Integer(dump_only=True)
    refunded_quantity = fields.Integer(dump_only=True)
    refunded_cents = fields.Integer(dump_only=True)
    source_post_id = fields.Integer(dump_only=True, allow_none=True)


class OrderSchema(Schema):
    id = fields.Integer(dump_only=True)
    status = fields.String(dump_only=True, metadata={"description": "pending_payment, paid, shipped, completed, "
                                                                    "cancelled, partially_refunded or refunded."})
    status_label = fields.Function(lambda order: str(orders.STATUS_LABELS[OrderStatus(order.status)].in_sentence),
                                   dump_only=True)
    shop = fields.Nested(ShopBriefSchema, dump_only=True)
    buyer = fields.String(attribute="buyer.username", dump_only=True)
    payment_id = fields.Integer(dump_only=True)
    subtotal_cents = fields.Integer(dump_only=True)
    discount_cents = fields.Integer(dump_only=True)
    total_cents = fields.Integer(dump_only=True)
    refunded_cents = fields.Integer(dump_only=True)
    currency = fields.String(dump_only=True)
    shipping_name = fields.String(dump_only=True)
    shipping_phone = fields.String(dump_only=True)
    shipping_address = fields.String(dump_only=True)
    tracking_number = fields.String(dump_only=True, allow_none=True)
    on_hold = fields.Function(lambda order: order.hold_reason is not None, dump_only=True,
                              metadata={"type": "boolean",
                                        "description": "Paid but not to ship yet (a group-buy still filling)."})
    reserved_until = Timestamp(dump_only=True, metadata={"description": "Unpaid by then, it is cancelled."})
    created_at = Timestamp(dump_only=True)
    paid_at = Timestamp(dump_only=True, allow_none=True)
    shipped_at = Timestamp(dump_only=True, allow_none=True)
    completed_at = Timestamp(dump_only=True, allow_none=True)
    cancelled_at = Timestamp(dump_only=True, allow_none=True)
    lines = fields.Nested(OrderLineSchema, many=True, dump_only=True)


class OrderEventSchema(Schema):
    from_status = fields.String(dump_only=True, allow_none=True)
    to_status = fields.String(dump_only=True)
    note = fields.String(dump_only=True)
    created_at = Timestamp(dump_only=True)


class OrderDetailSchema(OrderSchema):
    events = fields.Nested(OrderEventSchema, many=True, dump_only=True)


class OrderPageSchema(Schema):
    items = fields.List(fields.Nested(OrderSchema))
    next_cursor = fields.String(allow_none=True)


class OrderListSchema(Schema):
    items = fields.List(fields.Nested(OrderSchema))


class OrderArgsSchema(PageArgsSchema):
    status = fields.String(validate=validate.OneOf([s.value for s in OrderStatus]))


class CheckoutSchema(Schema):
    payment_id = fields.Integer(attribute="payment.id", dump_only=True)
    amount_cents = fields.Integer(attribute="payment.amount_cents", dump_only=True)
    currency = fields.String(attribute="payment.currency", dump_only=True)
    redirect_url = fields.Function(lambda started: absolute_url(started.redirect_url) if started.redirect_url
                                   else None, dump_only=True, allow_none=True,
                                   metadata={"description": "Send the buyer here to pay; null when a replayed "
                                                            "checkout can no longer be paid."})
    refusal = fields.String(dump_only=True, allow_none=True,
                            metadata={"description": "Why a replayed checkout can no longer be paid, when it "
                                                     "cannot."})
    orders = fields.Nested(OrderSchema, many=True, dump_only=True)


class ShipSchema(Schema):
    tracking_number = fields.String(required=True, validate=validate.Length(max=64))


class RefundRequestSchema(Schema):
    quantities = fields.Dict(keys=IdField(), values=fields.Integer(strict=True), load_default=None,
                             metadata={"description": "Order line id → units to refund; omit it to refund "
                                                      "everything not refunded yet."})
    reason = fields.String(load_default="", validate=validate.Length(max=300))


class RefundLineSchema(Schema):
    order_line_id = fields.Integer(dump_only=True)
    quantity = fields.Integer(dump_only=True)
    amount_cents = fields.Integer(dump_only=True)


class RefundSchema(Schema):
    id = fields.Integer(dump_only=True)
    order_id = fields.Integer(dump_only=True)
    payment_id = fields.Integer(dump_only=True)
    amount_cents = fields.Integer(dump_only=True)
    currency = fields.String(dump_only=True)
    status = fields.String(dump_only=True)
    reason = fields.String(dump_only=True)
    lines = fields.Nested(RefundLineSchema, many=True, dump_only=True)
    created_at = Timestamp(dump_only=True)


class PaymentSchema(Schema):
    id = fields.Integer(attribute="payment.id", dump_only=True)
    status = fields.String(attribute="payment.status", dump_only=True,
                           metadata={"description": "created, succeeded, failed, partially_refunded or refunded."})
    provider = fields.String(attribute="payment.provider", dump_only=True)
    amount_cents = fields.Integer(attribute="payment.amount_cents", dump_only=True)
    refunded_cents = fields.Integer(attribute="payment.refunded_cents", dump_only=True)
    currency = fields.String(attribute="payment.currency", dump_only=True)
    order_ids = fields.Function(lambda state: [order.id for order in state.payment.orders], dump_only=True,
                                metadata={"type": "array", "items": {"type": "integer"}})
    created_at = Timestamp(attribute="payment.created_at", dump_only=True)
    succeeded_at = Timestamp(attribute="payment.succeeded_at", dump_only=True, allow_none=True)
    redirect_url = fields.Function(lambda state: absolute_url(state.redirect_url) if state.redirect_url else None,
                                   dump_only=True, allow_none=True,
                                   metadata={"description": "Where to pay, while the checkout can be paid."})
    refusal = fields.String(dump_only=True, allow_none=True,
                            metadata={"description": "Why it cannot be paid (any more), when it cannot."})


class PaymentStartSchema(Schema):
    redirect_url = fields.String(dump_only=True)


class CouponSchema(Schema):
    id = fields.Integer(dump_only=True)
    code = fields.String(dump_only=True)
    kind = fields.String(dump_only=True, metadata={"description": "percent or fixed."})
    value = fields.Integer(dump_only=True, metadata={"description": "Whole percent, or minor units off."})
    currency = fields.String(dump_only=True)
    shop_id = fields.Integer(dump_only=True, allow_none=True, metadata={"description": "None: site-wide."})
    min_spend_cents = fields.Integer(dump_only=True)
    starts_at = Timestamp(dump_only=True, allow_none=True)
    ends_at = Timestamp(dump_only=True, allow_none=True)
    total_uses = fields.Integer(dump_only=True, allow_none=True)
    uses_left = fields.Integer(dump_only=True, allow_none=True)
    per_user_limit = fields.Integer(dump_only=True, allow_none=True)
    created_at = Timestamp(dump_only=True)


class CouponListSchema(Schema):
    items = fields.List(fields.Nested(CouponSchema))


class CouponCreateSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(max=60))
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in CouponKind]))
    value = fields.Integer(strict=True, required=True,
                           metadata={"description": "1–100 for percent; minor units for fixed."})
    shop = fields.String(load_default=None, allow_none=True,
                         metadata={"description": "Slug of your shop; omit for a site-wide coupon (admins)."})
    min_spend_cents = fields.Integer(strict=True, load_default=0)
    starts_at = Timestamp(load_default=None, allow_none=True,
                          metadata={"description": "ISO 8601; without an offset it is UTC."})
    ends_at = Timestamp(load_default=None, allow_none=True)
    total_uses = fields.Integer(strict=True, load_default=None, allow_none=True)
    per_user_limit = fields.Integer(strict=True, load_default=None, allow_none=True)
    currency = fields.String(load_default="CNY", validate=validate.Length(equal=3))


# --- schemas: after-sales (售后) -------------------------------------------------------------------------

class AfterSaleLineSchema(Schema):
    order_line_id = fields.Integer(dump_only=True)
    product_title = fields.String(attribute="order_line.product_title", dump_only=True)
    sku_label = fields.String(attribute="order_line.sku_label", dump_only=True)
    quantity = fields.Integer(dump_only=True)


class AfterSaleEventSchema(Schema):
    from_status = fields.String(dump_only=True, allow_none=True)
    to_status = fields.String(dump_only=True)
    note = fields.String(dump_only=True)
    created_at = Timestamp(dump_only=True)


class AfterSaleSchema(Schema):
    id = fields.Integer(dump_only=True)
    order_id = fields.Integer(dump_only=True)
    kind = fields.String(dump_only=True, metadata={"description": "refund (money only) or return (goods back first)."})
    status = fields.String(dump_only=True, metadata={
        "description": "requested, awaiting_return, return_shipped, refunded, declined, escalated, closed or "
                       "cancelled."})
    status_label = fields.Function(lambda row: aftersales.status_label(row.status), dump_only=True)
    reason = fields.String(dump_only=True, metadata={"description": "A code from the list of reasons."})
    note = fields.String(dump_only=True)
    decline_reason = fields.String(dump_only=True)
    return_tracking = fields.String(dump_only=True, allow_none=True)
    respond_by = Timestamp(dump_only=True, allow_none=True,
                           metadata={"description": "Unanswered by then, the request is approved automatically."})
    escalated_at = Timestamp(dump_only=True, allow_none=True)
    refund_id = fields.Integer(dump_only=True, allow_none=True)
    created_at = Timestamp(dump_only=True)
    lines = fields.Nested(AfterSaleLineSchema, many=True, dump_only=True)
    photo_urls = fields.Function(lambda row: [media_url(photo.path) for photo in row.photos], dump_only=True,
                                 metadata={"type": "array", "items": {"type": "string"}})


class AfterSaleDetailSchema(AfterSaleSchema):
    events = fields.Nested(AfterSaleEventSchema, many=True, dump_only=True)


class AfterSalePageSchema(Schema):
    items = fields.List(fields.Nested(AfterSaleSchema))
    next_cursor = fields.String(allow_none=True)


class AfterSaleListSchema(Schema):
    items = fields.List(fields.Nested(AfterSaleSchema))


class AfterSaleArgsSchema(PageArgsSchema):
    status = fields.String(validate=validate.OneOf([s.value for s in AfterSaleStatus]))


class AfterSaleCreateSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in AfterSaleKind]))
    quantities = fields.Dict(keys=IdField(), values=fields.Integer(strict=True), required=True,
                             metadata={"description": "Order line id → units to refund or return."})
    reason = fields.String(required=True, validate=validate.OneOf(list(aftersales.REASONS)),
                           metadata={"description": "One of: " + ", ".join(aftersales.REASONS) + "."})
    note = fields.String(load_default="", validate=validate.Length(max=aftersales.NOTE_MAX))


class AfterSalePhotosSchema(Schema):
    photos = fields.List(FileField(), required=True)


class AfterSaleNoteSchema(Schema):
    note = fields.String(load_default="", validate=validate.Length(max=500))


class AfterSaleDeclineSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(max=500),
                           metadata={"description": "Shown to the buyer."})


class ReturnTrackingSchema(Schema):
    tracking_number = fields.String(required=True, validate=validate.Length(max=64))


class AfterSaleResolveSchema(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(list(aftersales.RESOLUTIONS)))
    note = fields.String(required=True, validate=validate.Length(max=500))


# --- schemas: coupons readers can claim (领券) -----------------------------------------------------------

class ClaimableCouponSchema(Schema):
    id = fields.Integer(attribute="coupon.id", dump_only=True)
    code = fields.String(attribute="coupon.code", dump_only=True)
    kind = fields.String(attribute="coupon.kind", dump_only=True)
    value = fields.Integer(attribute="coupon.value", dump_only=True,
                           metadata={"description": "Whole percent, or minor units off."})
    currency = fields.String(attribute="coupon.currency", dump_only=True)
    min_spend_cents = fields.Integer(attribute="coupon.min_spend_cents", dump_only=True)
    shop_id = fields.Integer(attribute="coupon.shop_id", dump_only=True, allow_none=True)
    ends_at = Timestamp(attribute="coupon.ends_at", dump_only=True, allow_none=True)
    claims_left = fields.Integer(attribute="coupon.claims_left", dump_only=True, allow_none=True)
    claimed = fields.Boolean(dump_only=True)


class ClaimableCouponListSchema(Schema):
    items = fields.List(fields.Nested(ClaimableCouponSchema))


class WalletEntrySchema(ClaimableCouponSchema):
    claimed = fields.Constant(True, dump_only=True, metadata={"type": "boolean"})
    claimed_at = Timestamp(dump_only=True)
    state = fields.String(dump_only=True, metadata={"description": "usable, used, expired or not_started."})


class WalletSchema(Schema):
    items = fields.List(fields.Nested(WalletEntrySchema))
