"""Refunds by the shop (or an admin): the whole order or some units of some lines, through the provider.

Units refunded before the order ships go back on the shelf. The amount for k units of a line is its share
of what was paid for the line after discounts (pricing.refund_for_units), so refunding everything in any
number of steps returns exactly the order's total. Quantities only grow through conditional updates
bounded by what was bought; the payment and the order carry the same bound on money.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select, update

from app.accounts.models import User
from app.core.clock import now as clock_now
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.core.uow import unit_of_work
from app.extensions import db
from app.shop import coupons
from app.shop.models import KEPT_STATUSES, Order, OrderLine, OrderStatus, Payment, Refund, Shop
from app.shop.orders import (
    notify_order_parties,
    queue_sold_products,
    return_stock,
    return_window_open,
    transition_order,
)
from app.shop.payments import PaymentProvider, get_provider, issue_refund
from app.shop.pricing import refund_for_units

REFUNDABLE = KEPT_STATUSES


def _wanted_quantities(lines: list[OrderLine], quantities: Mapping | None) -> dict[int, int]:
    remaining = {line.id: line.quantity - line.refunded_quantity for line in lines}
    if quantities is None:
        return {line_id: left for line_id, left in remaining.items() if left > 0}
    wanted: dict[int, int] = {}
    for line_id, quantity in quantities.items():
        field = f"lines.{line_id}"
        if line_id not in remaining:
            raise Invalid(_("This item is not part of the order."), {field: [_("This item is not part of the order.")]})
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            message = _("The quantity must be at least 1.")
            raise Invalid(message, {field: [message]})
        if quantity > remaining[line_id]:
            message = _("Only %(count)d of this item can still be refunded.", count=remaining[line_id])
            raise Invalid(message, {field: [message]})
        wanted[line_id] = quantity
    if not wanted:
        raise Invalid(_("Choose what to refund."), {"lines": [_("Choose what to refund.")]})
    return wanted


def check_refunder(actor: User, order: Order) -> None:
    owner_id = db.session.scalar(select(Shop.owner_id).where(Shop.id == order.shop_id))
    if actor.id == order.buyer_id:
        raise Forbidden(_("You cannot refund your own order; ask the shop."), code="own-order")
    if not actor.is_admin and actor.id != owner_id:
        raise Forbidden(_("Only the shop that sold this order can refund it."), code="not-your-shop")


def refund_order(actor: User, order_id: int, quantities: Mapping[int, int] | None = None, reason: str = "",
                 now: datetime | None = None, provider: PaymentProvider | None = None) -> Refund:
    """Refund the rest of an order (quantities=None) or {order line id: units}; by the shop or an admin.
    A buyer cannot refund their own order; a completed order only within the return window."""
    now = now or clock_now()
    order = db.session.get(Order, order_id)
    if order is None:
        raise NotFound(_("No such order."))
    check_refunder(actor, order)
    return _refund(order_id, quantities, reason, actor_id=actor.id, now=now, provider=provider)


def refund_order_automatically(order_id: int, reason: str, idempotency_key: str, now: datetime | None = None,
                               provider: PaymentProvider | None = None) -> Refund:
    """The system refunds everything left of a paid order (a group-buy that expired, a member who left):
    no actor, a caller-chosen `idempotency_key` (unique among refunds and sent to the provider), so a retry
    after a provider failure — the whole transaction rolled back — refunds once. Callers above the shop
    decide when; the amounts, stock and coupon rules are the same as refund_order's."""
    now = now or clock_now()
    if db.session.get(Order, order_id) is None:
        raise NotFound(_("No such order."))
    return _refund(order_id, None, reason, actor_id=None, now=now, provider=provider,
                   idempotency_key=idempotency_key)


def refund_for_after_sale(order_id: int, quantities: Mapping[int, int], reason: str, *, actor_id: int | None,
                          now: datetime, provider: PaymentProvider | None = None) -> Refund:
    """The refund an approved after-sales request sends (app/shop/aftersales.py checked who approved it).
    The buyer asked within the return window, so it is sent even if the window has closed since."""
    return _refund(order_id, quantities, reason, actor_id=actor_id, now=now, provider=provider,
                   requested_in_window=True)


@dataclass(frozen=True)
class RefundPreview:
    """What a refund would send, shown on the shop's confirmation step before anything moves."""

    order: Order
    lines: list[tuple[OrderLine, int, int]]  # line, units, amount
    amount_cents: int


def preview_refund(actor: User, order_id: int, quantities: Mapping[int, int] | None,
                   now: datetime | None = None) -> RefundPreview:
    """The refund refund_order would send for these quantities, refused for the same reasons; changes nothing."""
    now = now or clock_now()
    order = db.session.get(Order, order_id)
    if order is None:
        raise NotFound(_("No such order."))
    check_refunder(actor, order)
    if order.status not in REFUNDABLE:
        raise Conflict(_("Only a paid order can be refunded."), code="not-refundable")
    if not return_window_open(order, now):
        raise Conflict(_("The return window for this order has closed."), code="return-window-closed")
    lines = sorted(order.lines, key=lambda line: line.id)
    wanted = _wanted_quantities(lines, quantities)
    if not wanted:
        raise Conflict(_("Nothing is left to refund on this order."), code="nothing-to-refund")
    by_id = {line.id: line for line in lines}
    rows = [(by_id[i], wanted[i], refund_for_units(by_id[i].net_cents, by_id[i].quantity,
                                                   by_id[i].refunded_quantity, wanted[i])) for i in sorted(wanted)]
    return RefundPreview(order, rows, sum(cents for _line, _count, cents in rows))


def _refund(order_id: int, quantities: Mapping[int, int] | None, reason: str, *, actor_id: int | None,
            now: datetime, provider: PaymentProvider | None, requested_in_window: bool = False,
            idempotency_key: str | None = None) -> Refund:
    payment_id = db.session.scalar(select(Order.payment_id).where(Order.id == order_id))
    with unit_of_work():
        # Lock order: payment, then order, then its lines (see app/shop/orders.py).
        payment = db.session.scalar(select(Payment).where(Payment.id == payment_id).with_for_update()
                                    .execution_options(populate_existing=True))
        order = db.session.scalar(select(Order).where(Order.id == order_id).with_for_update()
                                  .execution_options(populate_existing=True))
        if order.status not in REFUNDABLE:
            raise Conflict(_("Only a paid order can be refunded."), code="not-refundable")
        lines = list(db.session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)
                                        .order_by(OrderLine.id).with_for_update()
                                        .execution_options(populate_existing=True)))
        wanted = _wanted_quantities(lines, quantities)
        if not wanted:
            raise Conflict(_("Nothing is left to refund on this order."), code="nothing-to-refund")
        by_id = {line.id: line for line in lines}
        refund_lines, back, amount = [], {}, 0
        for line_id in sorted(wanted):
            line, count = by_id[line_id], wanted[line_id]
            cents = refund_for_units(line.net_cents, line.quantity, line.refunded_quantity, count)
            moved = db.session.execute(
                update(OrderLine).where(OrderLine.id == line.id,
                                        OrderLine.refunded_quantity + count <= OrderLine.quantity)
                .values(refunded_quantity=OrderLine.refunded_quantity + count,
                        refunded_cents=OrderLine.refunded_cents + cents)
                .execution_options(synchronize_session=False))
            if moved.rowcount != 1:
                raise Conflict(_("This order changed in the meantime. Reload it and try again."),
                               code="concurrent-change")
            refund_lines.append((line.id, count, cents))
            back[line.sku_id] = back.get(line.sku_id, 0) + count
            amount += cents
        everything = all(by_id[i].quantity - by_id[i].refunded_quantity == wanted.get(i, 0) for i in by_id)
        moved_to = OrderStatus.REFUNDED if everything else OrderStatus.PARTIALLY_REFUNDED
        transition_order(order, moved_to, actor_id=actor_id, note=reason, now=now,
                         requested_in_window=requested_in_window)
        queue_sold_products(order)
        notify_order_parties(order, moved_to, actor_id)
        if order.shipped_at is None:
            return_stock(back)
        refund = issue_refund(provider or get_provider(payment.provider), payment, order, amount,
                              actor_id=actor_id, reason=reason, now=now, lines=refund_lines,
                              idempotency_key=idempotency_key)
        siblings = db.session.scalars(select(Order.status).where(Order.payment_id == payment.id)).all()
        if all(status in (OrderStatus.REFUNDED, OrderStatus.CANCELLED) for status in siblings):
            coupons.release_redemption(payment.id, now)
    return refund
