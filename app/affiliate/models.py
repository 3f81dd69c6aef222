"""Sharing commissions (分销 / CPS): share links, their clicks, the attribution an order line snapshots, the
append-only commission ledger, payouts and the flags admins review.

One level only, by construction: a commission names exactly one beneficiary — the sharer of the link or the
author of the note the purchase came through — and no row refers to who invited whom, so nothing can pay
anyone for the purchases or the commissions of people they recruited.

The ledger (`commission_entries`) is never updated in place. Each row moves money between three buckets
through its signed `pending_cents`, `available_cents` and `paid_cents`; a balance is the sum of a column:

    kind       pending  available  paid   when
    pending     +c                         the order is paid (c = rate × what the buyer paid for the line)
    available   -n        +n               completed, return window passed, nothing open (n = what is left)
    reversed    -r                         a refund while pending (r = the refunded fraction of c)
    reversed              -r               a refund once available or paid out (may leave `available` < 0: owed)
    paid_out              -p        +p     an admin's payout (p may be < 0: a debt settled from other earnings)

Uniqueness on (order line, beneficiary, kind, seq) keeps every job and callback from writing a row twice:
`pending` and `available` have seq 0, `reversed` has the refund's id, `paid_out` counts up per line.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.core.clock import now
from app.extensions import db


class EntryKind(StrEnum):
    PENDING = "pending"
    AVAILABLE = "available"
    REVERSED = "reversed"
    PAID_OUT = "paid_out"


class Source(StrEnum):
    LINK = "link"  # a share-link click
    NOTE = "note"  # a Buy from a note's product card


class ShareLink(db.Model):
    """A sharer's short link `/s/<code>` to a note or a product (shared from a note, it keeps the note)."""

    __tablename__ = "share_links"
    __table_args__ = (
        CheckConstraint("post_id IS NOT NULL OR product_id IS NOT NULL", name="names_a_target"),
        UniqueConstraint("sharer_id", "post_id", "product_id", name="uq_share_links_sharer_target"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)  # random, never a sequential id
    sharer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)

    sharer: Mapped[User] = relationship()


class ShareClick(db.Model):
    """A counted visit of a share link: the visitor (an account, else an anonymous cookie id) is remembered
    as attributed to it for AFFILIATE_WINDOW_DAYS."""

    __tablename__ = "share_clicks"
    __table_args__ = (
        Index("ix_share_clicks_user_created", "visitor_id", "created_at"),
        Index("ix_share_clicks_anon", "anon_id"),
        Index("ix_share_clicks_link_created", "link_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("share_links.id"))
    visitor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # set at log-in for anonymous clicks
    anon_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)


class LineAttribution(db.Model):
    """What an order line was credited to when the order was placed: beneficiary, source and the commission
    rate in force then. Never changed afterwards; later rate changes do not move an existing order."""

    __tablename__ = "line_attributions"
    __table_args__ = (
        CheckConstraint("rate_bps >= 0 AND rate_bps <= 10000", name="rate_range"),
        Index("ix_line_attributions_beneficiary", "beneficiary_id", "order_id"),
        Index("ix_line_attributions_shop_created", "shop_id", "created_at"),
    )

    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"), primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    source: Mapped[str] = mapped_column(String(8))
    link_id: Mapped[int | None] = mapped_column(ForeignKey("share_links.id"), index=True)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"), index=True)
    rate_bps: Mapped[int] = mapped_column(Integer)
    # Why no commission is paid although the purchase came through someone ("" when it is): "shared_contact".
    withheld: Mapped[str] = mapped_column(String(20), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)

    beneficiary: Mapped[User] = relationship(foreign_keys=[beneficiary_id])


class Payout(db.Model):
    """One admin payout run. `batch` is the key the run was started with: the same batch twice pays once."""

    __tablename__ = "payouts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch: Mapped[str] = mapped_column(String(64), unique=True)
    admin_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    minimum_cents: Mapped[int] = mapped_column(Integer)
    total_cents: Mapped[int] = mapped_column(Integer, default=0)
    payees: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)


class CommissionEntry(db.Model):
    """One row of the append-only commission ledger (see the module docstring for the buckets)."""

    __tablename__ = "commission_entries"
    __table_args__ = (
        UniqueConstraint("order_line_id", "beneficiary_id", "kind", "seq", name="uq_commission_entries_line_kind"),
        CheckConstraint("kind IN ('pending', 'available', 'reversed', 'paid_out')", name="kind_known"),
        CheckConstraint("pending_cents + available_cents + paid_cents = "
                        "CASE WHEN kind IN ('pending', 'reversed') THEN amount_cents ELSE 0 END",
                        name="moves_balance"),
        Index("ix_commission_entries_beneficiary_created", "beneficiary_id", "created_at"),
        Index("ix_commission_entries_shop_created", "shop_id", "created_at"),
        Index("ix_commission_entries_kind_order", "kind", "order_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(10))
    seq: Mapped[int] = mapped_column(Integer, default=0)
    # The headline figure shown on the earnings page: the commission, a reversal (negative), what became
    # available, or what a payout paid.
    amount_cents: Mapped[int] = mapped_column(Integer)
    pending_cents: Mapped[int] = mapped_column(Integer, default=0)
    available_cents: Mapped[int] = mapped_column(Integer, default=0)
    paid_cents: Mapped[int] = mapped_column(Integer, default=0)
    rate_bps: Mapped[int] = mapped_column(Integer)  # the rate snapshotted on the line
    units: Mapped[int] = mapped_column(Integer, default=0)  # reversed: units refunded by that refund
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refunds.id"))
    payout_id: Mapped[int | None] = mapped_column(ForeignKey("payouts.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)


class AbuseFlag(db.Model):
    """Something for admins to look at: a purchase through a link whose sharer shares the buyer's shipping
    address or phone (the commission was withheld)."""

    __tablename__ = "affiliate_flags"
    __table_args__ = (UniqueConstraint("order_id", "sharer_id", name="uq_affiliate_flags_order_sharer"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    sharer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
