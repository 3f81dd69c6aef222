"""Group-buy rows: campaigns (a merchant's offer on one product), groups and their members.

Seats are counted on the group row (`seats_taken`: members holding a seat, paid or within their payment
window; `paid_count`: members who paid) and move only through conditional updates or under the group's row
lock, with CHECK constraints behind them. A group snapshots its campaign's size, window and prices when it
opens, so an edit of the campaign never changes an open group.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.core.clock import now
from app.extensions import db
from app.shop.models import Order, Product, Shop, Sku

MIN_SIZE, MAX_SIZE = 2, 50
MIN_WINDOW_HOURS, MAX_WINDOW_HOURS = 1, 72


class CampaignStatus(StrEnum):
    ACTIVE = "active"  # live between starts_at and ends_at
    ENDED = "ended"  # ended early by the merchant (its open groups expired at once)


class GroupState(StrEnum):
    PENDING = "pending"  # the leader has not paid yet: invisible, no deadline
    OPEN = "open"  # visible, joinable until the deadline
    FILLED = "filled"
    EXPIRED = "expired"
    CANCELLED = "cancelled"  # the leader never paid (or every member left)


# The one table of group moves (groupbuy.services.transition_group applies it).
GROUP_TRANSITIONS: dict[GroupState, frozenset[GroupState]] = {
    GroupState.PENDING: frozenset({GroupState.OPEN, GroupState.CANCELLED}),
    GroupState.OPEN: frozenset({GroupState.FILLED, GroupState.EXPIRED, GroupState.CANCELLED}),
    GroupState.FILLED: frozenset(),
    GroupState.EXPIRED: frozenset(),
    GroupState.CANCELLED: frozenset(),
}


class MemberState(StrEnum):
    PENDING = "pending"  # holds a seat while their order awaits payment
    PAID = "paid"
    RELEASED = "released"  # the order went unpaid or was cancelled: the seat came back
    LEFT = "left"  # paid, then left before the group filled (refunded)
    REFUNDED = "refunded"  # the group expired (or was ended) and the order was refunded


SEAT_HOLDING = (MemberState.PENDING, MemberState.PAID)


class Campaign(db.Model):
    __tablename__ = "groupbuy_campaigns"
    __table_args__ = (
        CheckConstraint(f"group_size >= {MIN_SIZE} AND group_size <= {MAX_SIZE}", name="size_range"),
        CheckConstraint(f"window_hours >= {MIN_WINDOW_HOURS} AND window_hours <= {MAX_WINDOW_HOURS}",
                        name="window_range"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("per_order_limit >= 1 AND per_user_limit >= per_order_limit", name="limits_valid"),
        CheckConstraint("units_cap IS NULL OR (units_cap >= 1 AND units_taken <= units_cap)", name="cap_valid"),
        CheckConstraint("units_taken >= 0", name="units_taken_not_negative"),
        Index("ix_groupbuy_campaigns_product", "product_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    group_size: Mapped[int] = mapped_column(Integer)
    window_hours: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(DateTime)
    ends_at: Mapped[datetime] = mapped_column(DateTime)
    per_order_limit: Mapped[int] = mapped_column(Integer, default=1)
    per_user_limit: Mapped[int] = mapped_column(Integer, default=1)
    units_cap: Mapped[int | None] = mapped_column(Integer)
    units_taken: Mapped[int] = mapped_column(Integer, default=0)  # units held or sold through the campaign
    coupon_stacks: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(12), default=CampaignStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)

    shop: Mapped[Shop] = relationship()
    product: Mapped[Product] = relationship()
    prices: Mapped[list[CampaignPrice]] = relationship(order_by="CampaignPrice.sku_id", back_populates="campaign",
                                                       cascade="all, delete-orphan")

    def is_live(self, moment: datetime) -> bool:
        return self.status == CampaignStatus.ACTIVE and self.starts_at <= moment < self.ends_at


class CampaignPrice(db.Model):
    """The group price of one SKU in a campaign (strictly below the SKU's own price when set)."""

    __tablename__ = "groupbuy_campaign_prices"
    __table_args__ = (CheckConstraint("group_price_cents > 0", name="price_positive"),)

    campaign_id: Mapped[int] = mapped_column(ForeignKey("groupbuy_campaigns.id"), primary_key=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), primary_key=True)
    group_price_cents: Mapped[int] = mapped_column(Integer)

    campaign: Mapped[Campaign] = relationship(back_populates="prices")
    sku: Mapped[Sku] = relationship()


class Group(db.Model):
    __tablename__ = "groupbuy_groups"
    __table_args__ = (
        CheckConstraint("seats_taken >= 0 AND seats_taken <= size", name="seats_within_size"),
        CheckConstraint("paid_count >= 0 AND paid_count <= seats_taken", name="paid_within_seats"),
        Index("ix_groupbuy_groups_state_deadline", "state", "deadline"),
        Index("ix_groupbuy_groups_campaign_state", "campaign_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("groupbuy_campaigns.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    leader_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(String(12), default=GroupState.PENDING)
    # Snapshots of the campaign when the group was opened.
    size: Mapped[int] = mapped_column(Integer)
    window_hours: Mapped[int] = mapped_column(Integer)
    prices: Mapped[dict] = mapped_column(JSON)  # {"<sku id>": group price cents}
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    seats_taken: Mapped[int] = mapped_column(Integer, default=0)
    paid_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    opened_at: Mapped[datetime | None] = mapped_column(DateTime)  # the leader's payment
    deadline: Mapped[datetime | None] = mapped_column(DateTime)  # opened_at + window
    filled_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)  # expired or cancelled

    campaign: Mapped[Campaign] = relationship()
    product: Mapped[Product] = relationship()
    leader: Mapped[User] = relationship()
    members: Mapped[list[GroupMember]] = relationship(order_by="GroupMember.id", back_populates="group",
                                                      viewonly=True)

    def price_of(self, sku_id: int) -> int | None:
        return self.prices.get(str(sku_id))

    @property
    def lowest_price_cents(self) -> int:
        return min(self.prices.values())

    @property
    def seats_left(self) -> int:
        return self.size - self.seats_taken


class GroupMember(db.Model):
    """One participant of a group (one row per join; a released join may be followed by a new one)."""

    __tablename__ = "groupbuy_members"
    __table_args__ = (
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        # At most one seat-holding membership per person and group, whatever two racing requests do.
        Index("uq_groupbuy_members_holding", "group_id", "user_id", unique=True,
              sqlite_where=sql_text("state IN ('pending', 'paid')"),
              postgresql_where=sql_text("state IN ('pending', 'paid')")),
        Index("ix_groupbuy_members_user", "user_id", "id"),
        Index("ix_groupbuy_members_refund_due", "refund_state", "refund_next_at"),
        UniqueConstraint("order_id", name="uq_groupbuy_members_order"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groupbuy_groups.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("groupbuy_campaigns.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    is_leader: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(12), default=MemberState.PENDING)
    joined_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime)
    left_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The automatic refund of an expired group (or a payment that came too late): pending until the provider
    # took it (done); a failure is retried from refund_next_at on. The shop's Refund row for it carries the
    # idempotency key "groupbuy-member-<id>" (unique), so it is recorded once.
    refund_state: Mapped[str | None] = mapped_column(String(10))  # None | pending | done
    refund_attempts: Mapped[int] = mapped_column(Integer, default=0)
    refund_next_at: Mapped[datetime | None] = mapped_column(DateTime)
    refund_error: Mapped[str | None] = mapped_column(String(300))

    group: Mapped[Group] = relationship(back_populates="members")
    user: Mapped[User] = relationship()
    order: Mapped[Order] = relationship()
