"""After-sales (售后) rows: a buyer's request for a refund or a return of some units of an order, its lines,
photos and append-only history; a claimed coupon in a buyer's wallet; a product's change history.

The after-sales state machine is one enum and one table (AFTERSALE_TRANSITIONS); app/shop/aftersales.py
applies it. Kept apart from models.py so the storefront's core schema stays readable.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.core.clock import now
from app.extensions import db
from app.shop.models import Coupon, Order, OrderLine


class AfterSaleKind(StrEnum):
    REFUND = "refund"  # money back, keep (or never received) the goods
    RETURN = "return"  # send the goods back, then money back


class AfterSaleStatus(StrEnum):
    REQUESTED = "requested"  # waiting for the shop (approved automatically after AFTERSALE_AUTO_APPROVE_HOURS)
    AWAITING_RETURN = "awaiting_return"  # return approved: the buyer sends the goods back with a tracking number
    RETURN_SHIPPED = "return_shipped"  # the shop confirms receipt (or, silent, it is confirmed automatically)
    REFUNDED = "refunded"
    DECLINED = "declined"  # the shop said no, with a reason; the buyer may escalate once
    ESCALATED = "escalated"  # with the site's admins
    CLOSED = "closed"  # an admin upheld the decline
    CANCELLED = "cancelled"  # the buyer withdrew the request


# Who may make each move is checked by the service (aftersales.py); this table says which moves exist.
AFTERSALE_TRANSITIONS: dict[AfterSaleStatus, frozenset[AfterSaleStatus]] = {
    AfterSaleStatus.REQUESTED: frozenset({AfterSaleStatus.REFUNDED, AfterSaleStatus.AWAITING_RETURN,
                                          AfterSaleStatus.DECLINED, AfterSaleStatus.CANCELLED}),
    AfterSaleStatus.AWAITING_RETURN: frozenset({AfterSaleStatus.RETURN_SHIPPED, AfterSaleStatus.CANCELLED}),
    AfterSaleStatus.RETURN_SHIPPED: frozenset({AfterSaleStatus.REFUNDED, AfterSaleStatus.DECLINED}),
    AfterSaleStatus.DECLINED: frozenset({AfterSaleStatus.ESCALATED}),
    AfterSaleStatus.ESCALATED: frozenset({AfterSaleStatus.REFUNDED, AfterSaleStatus.AWAITING_RETURN,
                                          AfterSaleStatus.CLOSED}),
    AfterSaleStatus.REFUNDED: frozenset(),
    AfterSaleStatus.CLOSED: frozenset(),
    AfterSaleStatus.CANCELLED: frozenset(),
}

# Requests that still hold their units: a new request cannot ask for them again.
OPEN_AFTERSALE_STATUSES = (AfterSaleStatus.REQUESTED, AfterSaleStatus.AWAITING_RETURN,
                           AfterSaleStatus.RETURN_SHIPPED, AfterSaleStatus.ESCALATED)


class AfterSale(db.Model):
    """One after-sales request on one order. Its status moves only through aftersales.transition_after_sale."""

    __tablename__ = "after_sales"
    __table_args__ = (
        Index("ix_after_sales_status_due", "status", "respond_by"),
        Index("ix_after_sales_shop_status", "shop_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default=AfterSaleStatus.REQUESTED)
    reason: Mapped[str] = mapped_column(String(30))  # a code from aftersales.REASONS
    note: Mapped[str] = mapped_column(Text, default="")
    decline_reason: Mapped[str] = mapped_column(String(500), default="")
    return_tracking: Mapped[str | None] = mapped_column(String(64))
    respond_by: Mapped[datetime | None] = mapped_column(DateTime)  # silence past this approves it
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime)  # set once: a second escalation is refused
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refunds.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=now)

    order: Mapped[Order] = relationship()
    buyer: Mapped[User] = relationship()
    lines: Mapped[list[AfterSaleLine]] = relationship(order_by="AfterSaleLine.id", back_populates="after_sale")
    photos: Mapped[list[AfterSalePhoto]] = relationship(order_by="AfterSalePhoto.position")
    events: Mapped[list[AfterSaleEvent]] = relationship(order_by="AfterSaleEvent.id", viewonly=True)


class AfterSaleLine(db.Model):
    __tablename__ = "after_sale_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),
                      UniqueConstraint("after_sale_id", "order_line_id", name="uq_after_sale_lines_line"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    after_sale_id: Mapped[int] = mapped_column(ForeignKey("after_sales.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)

    after_sale: Mapped[AfterSale] = relationship(back_populates="lines")
    order_line: Mapped[OrderLine] = relationship()


class AfterSalePhoto(db.Model):
    __tablename__ = "after_sale_photos"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    after_sale_id: Mapped[int] = mapped_column(ForeignKey("after_sales.id"), index=True)
    path: Mapped[str] = mapped_column(String(255))
    position: Mapped[int] = mapped_column(Integer, default=0)


class AfterSaleEvent(db.Model):
    """Append-only history of a request (shown in its order's history): who moved it, from what to what."""

    __tablename__ = "after_sale_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    after_sale_id: Mapped[int] = mapped_column(ForeignKey("after_sales.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the auto-approve job
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)


class CouponClaim(db.Model):
    """A coupon a reader claimed (领券) into their wallet; one per reader and coupon."""

    __tablename__ = "coupon_claims"

    coupon_id: Mapped[int] = mapped_column(ForeignKey("coupons.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    claimed_at: Mapped[datetime] = mapped_column(DateTime, default=now)

    coupon: Mapped[Coupon] = relationship()


class ProductRevision(db.Model):
    """One change to a product or one of its options, as the merchant made it (the product's history)."""

    __tablename__ = "product_revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    sku_id: Mapped[int | None] = mapped_column(ForeignKey("skus.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    field: Mapped[str] = mapped_column(String(30))  # title, description, community, images, label, price, …
    old_value: Mapped[str] = mapped_column(Text, default="")
    new_value: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
