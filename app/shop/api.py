"""/api/v1 routes for the storefront: products, cart, checkout, orders, payments, coupons, merchants.

Routes parse, call one service and dump; the rules (and their errors) live in catalog.py, cart.py,
checkout.py, orders.py, payments.py, refunds.py and coupons.py, exactly as for the HTML pages. Money is
always integer minor units (`*_cents`) next to its ISO currency code. Prices and totals are computed on
the server: what a client sends is only compared (`unit_price_cents`) or ignored (any total).
"""
from __future__ import annotations

from flask import request

from app.core.api import PageArgsSchema, require_user
from app.core.api_input import ApiBlueprint
from app.core.auth import current_viewer
from app.core.limits import account_key, address_key
from app.core.pagination import Page
from app.core.uploads import upload_rate_limit
from app.core.urls import absolute_url
from app.extensions import limiter
from app.shop import cart as carts
from app.shop import catalog, checkout, coupons, orders, payments, refunds, tags
from app.shop.also_bought import also_bought
from app.shop.limits import checkout_ip_rate_limit, checkout_rate_limit
from app.shop.models import ProductStatus
from app.shop.schemas import (
    AddressCreateSchema,
    AddressListSchema,
    AddressSchema,
    CartAddSchema,
    CartQuantitySchema,
    CartSchema,
    CheckoutRequestSchema,
    CheckoutSchema,
    CouponCreateSchema,
    CouponListSchema,
    CouponSchema,
    OrderArgsSchema,
    OrderDetailSchema,
    OrderListSchema,
    OrderPageSchema,
    OrderSchema,
    PaymentSchema,
    PaymentStartSchema,
    ProductCreateSchema,
    ProductDetailSchema,
    ProductImagesSchema,
    ProductPageSchema,
    ProductPatchSchema,
    ProductSchema,
    QuoteRequestSchema,
    QuoteSchema,
    RefundRequestSchema,
    RefundSchema,
    RejectSchema,
    ShipSchema,
    ShopApplySchema,
    ShopListSchema,
    ShopSchema,
    SkuCreateSchema,
    SkuSchema,
    StockAdjustSchema,
)

blp = ApiBlueprint("shop_api", __name__, description="Storefront: shops, products, cart, checkout, orders, "
                                                     "payments, coupons and merchant operations")


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
