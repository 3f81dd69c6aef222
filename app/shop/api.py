"""/api/v1 routes for the storefront: products, cart, checkout, orders, payments, coupons, merchants.

Routes parse, call one service and dump; the rules (and their errors) live in catalog.py, cart.py,
checkout.py, orders.py, payments.py, refunds.py and coupons.py, exactly as for the HTML pages. Money is
always integer minor units (`*_cents`) next to its ISO currency code. Prices and totals are computed on
the server: what a client sends is only compared (`unit_price_cents`) or ignored (any total).
"""
from __future__ import annotations

from flask import request
from marshmallow import EXCLUDE, Schema, fields, validate

from app.accounts.api import PageArgsSchema
from app.api import require_user
from app.core.api_input import ApiBlueprint, FileField
from app.core.auth import current_viewer
from app.core.pagination import Page
from app.core.parsing import IdField
from app.core.timestamps import Timestamp
from app.core.uploads import upload_rate_limit
from app.core.urls import absolute_url, external_url_for
from app.extensions import limiter
from app.feeds.shopping import also_bought
from app.shop import cart as carts
from app.shop import catalog, checkout, coupons, orders, payments, refunds, tags
from app.shop.limits import account_key, address_key, checkout_ip_rate_limit, checkout_rate_limit
from app.shop.models import CouponKind, OrderStatus, ProductStatus

blp = ApiBlueprint("shop_api", __name__, description="Storefront: shops, products, cart, checkout, orders, "
                                                     "payments, coupons and merchant operations")


def media_url(relative: str) -> str:
    return external_url_for("core.media", relative=relative)


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


# --- dumping what the services return ---------------------------------------------------------------------

def _quote(priced: checkout.PricedCheckout) -> dict:
    """A priced checkout as QuoteSchema: every figure comes from the service's arithmetic."""
    shops = []
    for shop_id in sorted(priced.by_shop):
        lines = priced.by_shop[shop_id]
        shops.append({
            "shop": priced.skus[lines[0].sku_id].product.shop,
            "subtotal_cents": priced.subtotals[shop_id], "discount_cents": priced.discounts.get(shop_id, 0),
            "total_cents": priced.shop_total_cents(shop_id),
            "lines": [{"sku_id": line.sku_id, "product_id": priced.skus[line.sku_id].product_id,
                       "product_title": priced.skus[line.sku_id].product.title,
                       "sku_label": priced.skus[line.sku_id].label,
                       "unit_price_cents": priced.skus[line.sku_id].price_cents, "quantity": line.quantity,
                       "line_total_cents": priced.line_total_cents(line), "discount_cents": discount}
                      for line, discount in zip(lines, priced.line_discounts(shop_id), strict=True)],
        })
    coupon = {"code": priced.quote.coupon.code, "discount_cents": priced.discount_cents} if priced.quote else None
    return {"currency": priced.currency, "subtotal_cents": priced.subtotal_cents,
            "discount_cents": priced.discount_cents, "total_cents": priced.total_cents, "coupon": coupon,
            "orders": shops}


# --- shops ------------------------------------------------------------------------------------------------

@blp.post("/shops")
@blp.arguments(ShopApplySchema)
@blp.response(201, ShopSchema)
def apply_for_shop(data: dict):
    """Apply to open a shop; an administrator reviews the application (a rejected applicant may apply again)."""
    return catalog.apply_for_shop(require_user(), slug=data["slug"], name=data["name"],
                                  description=data["description"])


@blp.get("/shops/<slug>")
@blp.response(200, ShopSchema)
def get_shop(slug: str):
    """An approved shop; its owner and administrators also see it while it is under review or rejected."""
    return catalog.get_shop(slug, current_viewer())


@blp.get("/shops/<slug>/products")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, ProductPageSchema)
def list_shop_products(args: dict, slug: str) -> Page:
    """A shop's products, newest first (cursor-paginated): the active ones, every status for its owner."""
    viewer = current_viewer()
    return catalog.shop_products(catalog.get_shop(slug, viewer), viewer, args.get("cursor"), args.get("limit"))


@blp.get("/admin/shops")
@blp.response(200, ShopListSchema)
def list_shop_applications():
    """Shop applications waiting for review, oldest first (administrators)."""
    return {"items": catalog.shop_applications(require_user())}


@blp.post("/admin/shops/<id:shop_id>/approve")
@blp.response(200, ShopSchema)
def approve_shop(shop_id: int):
    """Approve an application; its owner becomes a merchant (administrators)."""
    return catalog.approve_shop(require_user(), shop_id)


@blp.post("/admin/shops/<id:shop_id>/reject")
@blp.arguments(RejectSchema)
@blp.response(200, ShopSchema)
def reject_shop(data: dict, shop_id: int):
    """Reject an application with a reason the applicant sees (administrators)."""
    return catalog.reject_shop(require_user(), shop_id, data["reason"])


# --- products ---------------------------------------------------------------------------------------------

@blp.get("/products/<id:product_id>")
@blp.response(200, ProductDetailSchema)
def get_product(product_id: int):
    """A product with its options (price, stock state), images, rating, notes featuring it and what its
    buyers also bought.

    Everyone sees active products of approved shops; the shop's owner also sees drafts and archived ones.
    """
    viewer = current_viewer()
    product = catalog.product_for(viewer, product_id)
    product.rating = tags.product_rating(product.id)
    product.featuring_post_ids = [post.id for post in tags.posts_featuring(product.id, viewer, limit=12)]
    product.also_bought_ids = [other.id for other, _count in also_bought(product.id)]
    return product


@blp.post("/shops/<slug>/products")
@blp.arguments(ProductCreateSchema)
@blp.response(201, ProductSchema)
def create_product(data: dict, slug: str):
    """Add a draft product to your shop; add an option (SKU) and set it active to sell it."""
    user = require_user()
    return catalog.create_product(user, catalog.get_shop(slug, user).id, title=data["title"],
                                  description=data["description"], community_id=data["community_id"],
                                  commission_bps=data["commission_bps"])


@blp.patch("/products/<id:product_id>")
@blp.arguments(ProductPatchSchema)
@blp.response(200, ProductSchema)
def set_product_status(data: dict, product_id: int):
    """Publish, hide (draft) or archive one of your products."""
    return catalog.set_product_status(require_user(), product_id, ProductStatus(data["status"]))


@blp.post("/products/<id:product_id>/images")
@upload_rate_limit
@blp.arguments(ProductImagesSchema, location="files")
@blp.response(200, ProductSchema)
def add_product_images(files: dict, product_id: int):
    """Add images to one of your products (multipart field `images`, repeated; at most 9 in all)."""
    user = require_user()
    catalog.upload_product_images(user, product_id, [upload.read() or b"" for upload in files["images"]])
    return catalog.product_for(user, product_id)


@blp.post("/products/<id:product_id>/skus")
@blp.arguments(SkuCreateSchema)
@blp.response(201, SkuSchema)
def add_sku(data: dict, product_id: int):
    """Add an option (variant) with its own price, stock and code to one of your products."""
    return catalog.add_sku(require_user(), product_id, code=data["code"], label=data["label"],
                           price_cents=data["price_cents"], stock=data["stock"], currency=data["currency"])


@blp.post("/skus/<id:sku_id>/stock")
@blp.arguments(StockAdjustSchema)
@blp.response(200, SkuSchema)
def adjust_stock(data: dict, sku_id: int):
    """Add or remove units of an option of yours; removing more than there is is refused."""
    return catalog.adjust_stock(require_user(), sku_id, data["delta"])


# --- cart and addresses -----------------------------------------------------------------------------------

@blp.get("/cart")
@blp.response(200, CartSchema)
def get_cart():
    """Your cart, with today's prices and stock states (POST /checkout/quote prices it as a whole)."""
    return carts.cart_of(require_user())


@blp.post("/cart/items")
@blp.arguments(CartAddSchema)
@blp.response(201, CartSchema)
def add_to_cart(data: dict):
    """Put units of an option in your cart (added to what is there); answers with the whole cart."""
    user = require_user()
    carts.add_to_cart(user, data["sku_id"], data["quantity"], data["source_post_id"], product_id=data["product_id"])
    return carts.cart_of(user)


@blp.patch("/cart/items/<id:item_id>")
@blp.arguments(CartQuantitySchema)
@blp.response(200, CartSchema)
def set_cart_quantity(data: dict, item_id: int):
    """Change how many units of an item you want (0 removes it); answers with the whole cart."""
    user = require_user()
    carts.set_cart_quantity(user, item_id, data["quantity"])
    return carts.cart_of(user)


@blp.delete("/cart/items/<id:item_id>")
@blp.response(200, CartSchema)
def remove_from_cart(item_id: int):
    """Take an item out of your cart (idempotent); answers with the whole cart."""
    user = require_user()
    carts.remove_from_cart(user, item_id)
    return carts.cart_of(user)


@blp.get("/addresses")
@blp.response(200, AddressListSchema)
def list_addresses():
    """Your saved shipping addresses."""
    return {"items": carts.addresses_of(require_user())}


@blp.post("/addresses")
@blp.arguments(AddressCreateSchema)
@blp.response(201, AddressSchema)
def add_address(data: dict):
    """Save a shipping address to check out with."""
    return carts.add_address(require_user(), **data)


@blp.delete("/addresses/<id:address_id>")
@blp.response(204)
def delete_address(address_id: int):
    """Remove a saved address (orders keep their own copy)."""
    carts.delete_address(require_user(), address_id)


# --- checkout ---------------------------------------------------------------------------------------------

@blp.post("/checkout/quote")
@blp.arguments(QuoteRequestSchema)
@blp.response(200, QuoteSchema)
def quote_checkout(data: dict):
    """Price your cart (or `lines`) with a coupon, as checkout would: one order per shop, prices from the
    catalog, the coupon's discount split over the lines. Changes nothing.

    A coupon that cannot be used answers 422 with the reason under `errors.coupon_code` (unknown, not yet
    valid, expired, another shop's, minimum not met, used up, your limit reached).
    """
    return _quote(checkout.quote_checkout(require_user(), data.get("lines"), data["coupon_code"]))


IDEMPOTENCY_KEY_PARAMETER = {
    "in": "header", "name": "Idempotency-Key", "required": False, "schema": {"type": "string", "maxLength": 100},
    "description": "1–100 printable ASCII characters, unique per checkout you mean to place (a UUID will do). "
                   "Retrying with the same key and the same body answers the first checkout again (200) "
                   "instead of placing another; the same key with a different body is refused (422). Keys "
                   "are yours alone and are forgotten after 24 hours.",
}


@blp.post("/checkout")
@limiter.shared_limit(checkout_rate_limit, scope="checkout", key_func=account_key)
@limiter.shared_limit(checkout_ip_rate_limit, scope="checkout-ip", key_func=address_key)
@blp.arguments(CheckoutRequestSchema)
@blp.response(201, CheckoutSchema, description="The orders were placed.")
@blp.alt_response(200, schema=CheckoutSchema,
                  description="A retry with an Idempotency-Key already used with this body: the checkout that "
                              "request placed, as it now stands (same payment and orders; `redirect_url` is "
                              "null with a `refusal` once it can no longer be paid).")
@blp.doc(parameters=[IDEMPOTENCY_KEY_PARAMETER])
def place_orders(data: dict):
    """Place the orders for your cart (or `lines`): one per shop, stock held for you until `reserved_until`,
    one payment for them all. Send the buyer to `redirect_url` to pay.

    Any refusal (a bad line, a shortfall, a coupon that does not apply) changes nothing. Totals a client
    sends are ignored; a `unit_price_cents` that is no longer the price is refused. Send an
    `Idempotency-Key` header to retry safely after a timeout: the retry answers the same checkout (200).

    Holds are capped per buyer: a checkout that would leave you more than MAX_UNPAID_ORDERS orders awaiting
    payment, or more than MAX_HELD_UNITS_PER_SKU units of one option in them, answers 409 with type
    `urn:tastemaker:problem:hold-limit-reached` (pay for or cancel an order first). Checkouts are
    rate-limited per account and per client address, shared with the checkout page (429).
    """
    started = checkout.check_out(require_user(), data.get("lines"), data["address_id"], data["coupon_code"],
                                 idempotency_key=request.headers.get("Idempotency-Key"))
    return (started, 200) if started.replayed else started


# --- orders -----------------------------------------------------------------------------------------------

@blp.get("/orders")
@blp.arguments(OrderArgsSchema, location="query")
@blp.response(200, OrderPageSchema)
def list_orders(args: dict) -> Page:
    """Your orders, newest first, optionally of one status (cursor-paginated)."""
    return orders.buyer_orders_page(require_user(), status=args.get("status"), cursor=args.get("cursor"),
                                    limit=args.get("limit"))


@blp.get("/orders/<id:order_id>")
@blp.response(200, OrderDetailSchema)
def get_order(order_id: int):
    """One order with its lines and history, for its buyer, its shop and administrators."""
    return orders.order_for(require_user(), order_id)


@blp.post("/orders/<id:order_id>/cancel")
@blp.response(200, OrderListSchema)
def cancel_order(order_id: int):
    """Cancel an order awaiting payment (its buyer). The orders of one checkout are paid together, so they
    are cancelled together: the answer lists every order this cancelled."""
    return {"items": orders.cancel_order(require_user(), order_id)}


@blp.post("/orders/<id:order_id>/confirm")
@blp.response(200, OrderSchema)
def confirm_delivery(order_id: int):
    """Confirm a shipped order arrived (its buyer); the return window starts now."""
    return orders.confirm_delivery(require_user(), order_id)


@blp.get("/shops/<slug>/orders")
@blp.arguments(OrderArgsSchema, location="query")
@blp.response(200, OrderPageSchema)
def list_shop_orders(args: dict, slug: str) -> Page:
    """Your shop's orders, newest first; `status=paid` is the list to ship (cursor-paginated)."""
    user = require_user()
    return orders.shop_orders_page(user, catalog.get_shop(slug, user).id, status=args.get("status"),
                                   cursor=args.get("cursor"), limit=args.get("limit"))


@blp.post("/orders/<id:order_id>/ship")
@blp.arguments(ShipSchema)
@blp.response(200, OrderSchema)
def ship_order(data: dict, order_id: int):
    """Mark a paid order of your shop shipped, with its tracking number."""
    return orders.ship_order(require_user(), order_id, data["tracking_number"])


@blp.post("/orders/<id:order_id>/refunds")
@blp.arguments(RefundRequestSchema)
@blp.response(201, RefundSchema)
def refund_order(data: dict, order_id: int):
    """Refund an order of your shop in full, or some units of some lines (the shop or administrators;
    never the buyer). Units refunded before shipping go back in stock."""
    return refunds.refund_order(require_user(), order_id, data["quantities"], data["reason"])


# --- payments ---------------------------------------------------------------------------------------------

@blp.get("/payments/<id:payment_id>")
@blp.response(200, PaymentSchema)
def get_payment(payment_id: int):
    """Your payment: status, amount, and where to pay it while it can still be paid (else why not)."""
    return payments.payment_state(require_user(), payment_id)


@blp.post("/payments/<id:payment_id>/start")
@blp.response(200, PaymentStartSchema)
def start_payment(payment_id: int):
    """Pay now: where to send the buyer. 409 once the checkout is paid, cancelled or no longer held."""
    return {"redirect_url": absolute_url(payments.start_payment(require_user(), payment_id))}


# --- coupons ----------------------------------------------------------------------------------------------

@blp.post("/coupons")
@blp.arguments(CouponCreateSchema)
@blp.response(201, CouponSchema)
def create_coupon(data: dict):
    """Create a coupon for your shop (`shop`), or a site-wide one (administrators). Buyers apply it with
    `coupon_code` on POST /checkout/quote and POST /checkout."""
    user = require_user()
    slug = data.pop("shop")
    return coupons.create_coupon(user, shop_id=catalog.get_shop(slug, user).id if slug else None, **data)


@blp.get("/shops/<slug>/coupons")
@blp.response(200, CouponListSchema)
def list_shop_coupons(slug: str):
    """Your shop's coupons, newest first, with the uses left."""
    user = require_user()
    return {"items": coupons.coupons_of_shop(user, catalog.get_shop(slug, user).id)}
