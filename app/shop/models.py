"""Storefront rows: shops, catalog, carts, addresses, orders, payments, refunds and coupons.

Money is integer minor units plus a currency code. Quantities that must never go wrong (stock, coupon uses,
refunded quantities, refunded amounts) carry CHECK constraints as a last line of defence behind the
services' conditional updates. Rows that orders or payments refer to are marked, never deleted.

The three state machines (order, payment, coupon redemption) live here as one enum and one table each;
the services in orders.py, payments.py and coupons.py apply them.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    select,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User, suspended_now_clause
from app.core.clock import now
from app.extensions import db

# --- state machines -------------------------------------------------------------------------------------


class ShopStatus(StrEnum):
    APPLIED = "applied"
    APPROVED = "approved"
    REJECTED = "rejected"


class ProductStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    ARCHIVED = "archived"


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    SHIPPED = "shipped"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


# Orders whose buyer paid and kept (at least part of) what they bought: they count as sales.
KEPT_STATUSES = (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.COMPLETED, OrderStatus.PARTIALLY_REFUNDED)

# A partially refunded order is still being fulfilled: the rest can ship, complete and be refunded later.
# Refunding a completed order is allowed only within the return window (checked by transition_order).
ORDER_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING_PAYMENT: frozenset({OrderStatus.PAID, OrderStatus.CANCELLED}),
    OrderStatus.PAID: frozenset({OrderStatus.SHIPPED, OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.COMPLETED, OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED}),
    OrderStatus.COMPLETED: frozenset({OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED}),
    OrderStatus.PARTIALLY_REFUNDED: frozenset({OrderStatus.SHIPPED, OrderStatus.COMPLETED,
                                               OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED}),
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.REFUNDED: frozenset(),
}


class PaymentStatus(StrEnum):
    CREATED = "created"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


# FAILED → SUCCEEDED: the buyer retried on the provider's page within the same payment.
PAYMENT_TRANSITIONS: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    PaymentStatus.CREATED: frozenset({PaymentStatus.SUCCEEDED, PaymentStatus.FAILED}),
    PaymentStatus.FAILED: frozenset({PaymentStatus.SUCCEEDED}),
    PaymentStatus.SUCCEEDED: frozenset({PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED}),
    PaymentStatus.PARTIALLY_REFUNDED: frozenset({PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED}),
    PaymentStatus.REFUNDED: frozenset(),
}


class RedemptionStatus(StrEnum):
    RESERVED = "reserved"
    CONSUMED = "consumed"
    RELEASED = "released"


# CONSUMED → RELEASED: every order the coupon paid for was refunded in full, so the use comes back.
REDEMPTION_TRANSITIONS: dict[RedemptionStatus, frozenset[RedemptionStatus]] = {
    RedemptionStatus.RESERVED: frozenset({RedemptionStatus.CONSUMED, RedemptionStatus.RELEASED}),
    RedemptionStatus.CONSUMED: frozenset({RedemptionStatus.RELEASED}),
    RedemptionStatus.RELEASED: frozenset(),
}


class CouponKind(StrEnum):
    PERCENT = "percent"  # value is whole percent, 1..100
    FIXED = "fixed"  # value is minor units off


class RefundStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"


# --- shops and catalog ------------------------------------------------------------------------------------


class Shop(db.Model):
    """A merchant's shop. The row is also the application: applied → approved (owner becomes a merchant)
    or rejected (the owner may apply again, which reuses the row; one shop per owner)."""

    __tablename__ = "shops"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    logo_path: Mapped[str | None] = mapped_column(String(255))
    banner_path: Mapped[str | None] = mapped_column(String(255))
    return_policy: Mapped[str] = mapped_column(Text, default="")
    contact: Mapped[str] = mapped_column(String(200), default="")
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    status: Mapped[str] = mapped_column(String(12), default=ShopStatus.APPLIED, index=True)
    rejection_reason: Mapped[str | None] = mapped_column(String(500))
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    # Delisted by a site admin (app/moderation): hidden from listings and search, takes no orders.
    delisted_at: Mapped[datetime | None] = mapped_column(DateTime)
    delist_reason: Mapped[str | None] = mapped_column(Text)

    owner: Mapped[User] = relationship(foreign_keys=[owner_id])

    @property
    def takes_orders(self) -> bool:
        """Approved, not delisted, and its owner is not suspended (open orders still complete or refund)."""
        return self.status == ShopStatus.APPROVED and self.delisted_at is None and not self.owner.is_suspended


class Product(db.Model):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("commission_bps >= 0 AND commission_bps <= 10000", name="commission_range"),
        Index("ix_products_shop_status", "shop_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default=ProductStatus.DRAFT)
    commission_bps: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    delisted_at: Mapped[datetime | None] = mapped_column(DateTime)  # by a site admin (app/moderation)
    delist_reason: Mapped[str | None] = mapped_column(Text)

    shop: Mapped[Shop] = relationship()
    skus: Mapped[list[Sku]] = relationship(back_populates="product", order_by="Sku.id")
    images: Mapped[list[ProductImage]] = relationship(order_by="ProductImage.position", back_populates="product")

    @property
    def is_listed(self) -> bool:
        """Shown and sold: active, not delisted, in a shop that takes orders (see listed_product_clause)."""
        return self.status == ProductStatus.ACTIVE and self.delisted_at is None and self.shop.takes_orders


class ProductImage(db.Model):
    __tablename__ = "product_images"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    path: Mapped[str] = mapped_column(String(255))
    position: Mapped[int] = mapped_column(Integer, default=0)

    product: Mapped[Product] = relationship(back_populates="images")


class Sku(db.Model):
    """One buyable variant (size, shade…). `stock` changes only through conditional updates."""

    __tablename__ = "skus"
    __table_args__ = (
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("price_cents > 0", name="price_positive"),
        UniqueConstraint("shop_id", "code", name="uq_skus_shop_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))  # copy of product.shop_id for the unique code
    code: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(80), default="")
    price_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    stock: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    product: Mapped[Product] = relationship(back_populates="skus")


# --- shoppable notes --------------------------------------------------------------------------------------


class PostProduct(db.Model):
    """A product tagged in a post (at most 6, in order), optionally pinned to a point of one of its images.

    A review rates exactly one of its tagged products: that row has `is_rated` (the post holds the stars).
    The table lives here, not in app/posts, because posts sit below the shop (posts ← shop).
    """

    __tablename__ = "post_products"
    __table_args__ = (
        CheckConstraint("position >= 0", name="position_not_negative"),
        CheckConstraint("(pin_image IS NULL AND pin_x IS NULL AND pin_y IS NULL) OR (pin_image >= 0 AND "
                        "pin_x >= 0 AND pin_x <= 1 AND pin_y >= 0 AND pin_y <= 1)", name="pin_valid"),
        Index("ix_post_products_product_post", "product_id", "post_id"),  # notes featuring a product
        # One rated product per review, whatever a buggy caller does.
        Index("uq_post_products_one_rated", "post_id", unique=True, sqlite_where=sql_text("is_rated"),
              postgresql_where=sql_text("is_rated")),
    )

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    pin_image: Mapped[int | None] = mapped_column(Integer)  # the post image's position (0 = cover)
    pin_x: Mapped[float | None] = mapped_column(Float)  # fractions of the image's width and height, 0..1
    pin_y: Mapped[float | None] = mapped_column(Float)
    is_rated: Mapped[bool] = mapped_column(Boolean, default=False)

    product: Mapped[Product] = relationship()


# --- carts and addresses --------------------------------------------------------------------------------


class Cart(db.Model):
    __tablename__ = "carts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=now)

    items: Mapped[list[CartItem]] = relationship(order_by="CartItem.id", back_populates="cart")


class CartItem(db.Model):
    __tablename__ = "cart_items"
    __table_args__ = (
        UniqueConstraint("cart_id", "sku_id", name="uq_cart_items_cart_sku"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cart_id: Mapped[int] = mapped_column(ForeignKey("carts.id"))
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    source_post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"))  # the note's product card
    price_seen_cents: Mapped[int | None] = mapped_column(Integer)  # the price when added: a change is shown
    added_at: Mapped[datetime] = mapped_column(DateTime, default=now)

    cart: Mapped[Cart] = relationship(back_populates="items")
    sku: Mapped[Sku] = relationship()


class Address(db.Model):
    """A saved shipping address. Orders copy it, so editing or deleting it never changes an order."""

    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    recipient_name: Mapped[str] = mapped_column(String(60))
    phone: Mapped[str] = mapped_column(String(30))
    region: Mapped[str] = mapped_column(String(120), default="")
    line1: Mapped[str] = mapped_column(String(200))
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)

    def as_text(self) -> str:
        return ", ".join(part for part in (self.line1, self.region, self.postal_code) if part)


# --- payments -------------------------------------------------------------------------------------------


class Payment(db.Model):
    """One payment for one checkout; it covers every order (one per shop) placed together."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint("refunded_cents >= 0 AND refunded_cents <= amount_cents", name="refund_within_amount"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    provider: Mapped[str] = mapped_column(String(30))
    amount_cents: Mapped[int] = mapped_column(Integer)
    refunded_cents: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default=PaymentStatus.CREATED)
    provider_ref: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    succeeded_at: Mapped[datetime | None] = mapped_column(DateTime)

    orders: Mapped[list[Order]] = relationship(back_populates="payment", order_by="Order.id")


class PaymentCallback(db.Model):
    """Every callback received, verified or not, and what came of it (applied, duplicate, rejected…)."""

    __tablename__ = "payment_callbacks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider: Mapped[str] = mapped_column(String(30))
    payment_id: Mapped[int | None] = mapped_column(Integer, index=True)  # as claimed; may not exist
    payload: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(200), default="")
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(300), default="")
    received_at: Mapped[datetime] = mapped_column(DateTime, default=now)


class CheckoutKey(db.Model):
    """An API client's Idempotency-Key for one checkout: a retry with the same key and body answers that
    checkout again instead of placing another. Written in the checkout's own transaction, so a refused
    checkout leaves no row. No job cleans rows up: a key older than checkout.KEY_LIFETIME may be reused,
    which replaces its row."""

    __tablename__ = "checkout_keys"
    __table_args__ = (UniqueConstraint("buyer_id", "key", name="uq_checkout_keys_buyer_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(100))
    request_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 of lines, address_id and coupon_code
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))  # set in the same transaction
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)


# --- orders ---------------------------------------------------------------------------------------------


class Order(db.Model):
    """One shop's part of a checkout. Its status changes only through orders.transition_order."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("subtotal_cents >= 0 AND discount_cents >= 0 AND discount_cents <= subtotal_cents",
                        name="amounts_valid"),
        CheckConstraint("total_cents = subtotal_cents - discount_cents", name="total_is_subtotal_less_discount"),
        CheckConstraint("refunded_cents >= 0 AND refunded_cents <= total_cents", name="refund_within_total"),
        Index("ix_orders_status_reserved", "status", "reserved_until"),
        Index("ix_orders_buyer_created", "buyer_id", "created_at"),
        Index("ix_orders_shop_created", "shop_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=OrderStatus.PENDING_PAYMENT)
    subtotal_cents: Mapped[int] = mapped_column(Integer)
    discount_cents: Mapped[int] = mapped_column(Integer, default=0)
    total_cents: Mapped[int] = mapped_column(Integer)
    refunded_cents: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    coupon_id: Mapped[int | None] = mapped_column(ForeignKey("coupons.id"))
    address_id: Mapped[int | None] = mapped_column(ForeignKey("addresses.id"))
    shipping_name: Mapped[str] = mapped_column(String(60))
    shipping_phone: Mapped[str] = mapped_column(String(30))
    shipping_address: Mapped[str] = mapped_column(String(400))
    reserved_until: Mapped[datetime] = mapped_column(DateTime)
    tracking_number: Mapped[str | None] = mapped_column(String(64))
    # Paid but not to be shipped yet, and why (e.g. "group-buy": until the group fills). Set by the checkout
    # for a trusted caller (checkout.TrustedTerms) and cleared by orders.release_holds; the shop knows no more.
    hold_reason: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime)
    shipped_at: Mapped[datetime | None] = mapped_column(DateTime)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime)

    buyer: Mapped[User] = relationship()
    shop: Mapped[Shop] = relationship()
    payment: Mapped[Payment] = relationship(back_populates="orders")
    lines: Mapped[list[OrderLine]] = relationship(back_populates="order", order_by="OrderLine.id")
    events: Mapped[list[OrderEvent]] = relationship(order_by="OrderEvent.id", viewonly=True)


class OrderLine(db.Model):
    """What was bought, at the price of the moment. `discount_cents` is this line's share of the order's
    discount, so a per-line refund returns exactly what was paid for those units."""

    __tablename__ = "order_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("refunded_quantity >= 0 AND refunded_quantity <= quantity", name="refund_within_quantity"),
        CheckConstraint("line_total_cents = unit_price_cents * quantity", name="line_total"),
        CheckConstraint("discount_cents >= 0 AND discount_cents <= line_total_cents", name="discount_within_line"),
        CheckConstraint("refunded_cents >= 0 AND refunded_cents <= line_total_cents - discount_cents",
                        name="refund_within_line"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    product_title: Mapped[str] = mapped_column(String(120))
    sku_label: Mapped[str] = mapped_column(String(80), default="")
    unit_price_cents: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    line_total_cents: Mapped[int] = mapped_column(Integer)
    discount_cents: Mapped[int] = mapped_column(Integer, default=0)
    refunded_quantity: Mapped[int] = mapped_column(Integer, default=0)
    refunded_cents: Mapped[int] = mapped_column(Integer, default=0)
    source_post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"), index=True)
    source_author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    order: Mapped[Order] = relationship(back_populates="lines")

    @property
    def net_cents(self) -> int:
        return self.line_total_cents - self.discount_cents


class OrderEvent(db.Model):
    """Append-only history of an order: who moved it from what to what, when."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the system (a job, a callback)
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)


class Refund(db.Model):
    """Money sent back for (part of) one order through the payment's provider."""

    __tablename__ = "refunds"
    __table_args__ = (CheckConstraint("amount_cents >= 0", name="amount_not_negative"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(12), default=RefundStatus.SUCCEEDED)
    reason: Mapped[str] = mapped_column(String(300), default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)  # sent to the provider
    provider_ref: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)

    lines: Mapped[list[RefundLine]] = relationship(order_by="RefundLine.id")


class RefundLine(db.Model):
    __tablename__ = "refund_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    refund_id: Mapped[int] = mapped_column(ForeignKey("refunds.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    amount_cents: Mapped[int] = mapped_column(Integer)


# --- coupons --------------------------------------------------------------------------------------------


class Coupon(db.Model):
    """A code for money off. `uses_left` (NULL: unlimited) only moves through conditional updates."""

    __tablename__ = "coupons"
    __table_args__ = (
        CheckConstraint("uses_left IS NULL OR uses_left >= 0", name="uses_left_not_negative"),
        CheckConstraint("value > 0", name="value_positive"),
        CheckConstraint("kind <> 'percent' OR value <= 100", name="percent_at_most_100"),
        CheckConstraint("claims_left IS NULL OR claims_left >= 0", name="claims_left_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)  # stored upper-case
    kind: Mapped[str] = mapped_column(String(10))
    value: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shops.id"), index=True)  # None: site-wide
    min_spend_cents: Mapped[int] = mapped_column(Integer, default=0)
    starts_at: Mapped[datetime | None] = mapped_column(DateTime)
    ends_at: Mapped[datetime | None] = mapped_column(DateTime)
    total_uses: Mapped[int | None] = mapped_column(Integer)
    uses_left: Mapped[int | None] = mapped_column(Integer)
    per_user_limit: Mapped[int | None] = mapped_column(Integer)
    claimable: Mapped[bool] = mapped_column(Boolean, default=False)  # shown as 领券 on shop and product pages
    claims_left: Mapped[int | None] = mapped_column(Integer)  # NULL: unlimited; conditional updates only
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)


class CouponUserUse(db.Model):
    """How many uses of a coupon one user holds (reserved or consumed): the per-user limit's counter."""

    __tablename__ = "coupon_user_uses"
    __table_args__ = (CheckConstraint("uses >= 0", name="uses_not_negative"),)

    coupon_id: Mapped[int] = mapped_column(ForeignKey("coupons.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    uses: Mapped[int] = mapped_column(Integer, default=0)


class CouponRedemption(db.Model):
    """One use of a coupon by one checkout (its payment); `order_id` is set for a shop coupon."""

    __tablename__ = "coupon_redemptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    coupon_id: Mapped[int] = mapped_column(ForeignKey("coupons.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), unique=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    discount_cents: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default=RedemptionStatus.RESERVED)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=now)


def listed_product_clause():
    """SQL for Product.is_listed; the query must join Shop. One definition for every listing and sale."""
    return and_(Product.status == ProductStatus.ACTIVE, Product.delisted_at.is_(None),
                Shop.status == ShopStatus.APPROVED, Shop.delisted_at.is_(None),
                Shop.owner_id.not_in(select(User.id).where(suspended_now_clause())))
