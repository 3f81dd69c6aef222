"""Refunds by the shop (or an admin): the whole order or some units of some lines, through the provider.

Units refunded before the order ships go back on the shelf. The amount for k units of a line is its share
of what was paid for the line after discounts (pricing.refund_for_units), so refunding everything in any
number of steps returns exactly the order's total. Quantities only grow through conditional updates
bounded by what was bought; the payment and the order carry the same bound on money.
"""
from __future__ import annotations

from collections.abc import Mapping
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
from app.shop.orders import notify_order_parties, queue_sold_products, return_stock, transition_order
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


def refund_order(actor: User, order_id: int, quantities: Mapping[int, int] | None = None, reason: str = "",
                 now: datetime | None = None, provider: PaymentProvider | None = None) -> Refund:
    """Refund the rest of an order (quantities=None) or {order line id: units}; by the shop or an admin.
    A buyer cannot refund their own order; a completed order only within the return window."""
    now = now or clock_now()
    order = db.session.get(Order, order_id)
    if order is None:
        raise NotFound(_("No such order."))
    owner_id = db.session.scalar(select(Shop.owner_id).where(Shop.id == order.shop_id))
    if actor.id == order.buyer_id:
        raise Forbidden(_("You cannot refund your own order; ask the shop."), code="own-order")
    if not actor.is_admin and actor.id != owner_id:
        raise Forbidden(_("Only the shop that sold this order can refund it."), code="not-your-shop")
    return _refund(order_id, quantities, reason, now, provider, actor_id=actor.id)


def refund_order_automatically(order_id: int, reason: str, idempotency_key: str, now: datetime | None = None,
                               provider: PaymentProvider | None = None) -> Refund:
    """The system refunds everything left of a paid order (a group-buy that expired, a member who left):
    no actor, a caller-chosen `idempotency_key` (unique among refunds and sent to the provider), so a retry
    after a provider failure — the whole transaction rolled back — refunds once. Callers above the shop
    decide when; the amounts, stock and coupon rules are the same as refund_order's."""
    now = now or clock_now()
    if db.session.get(Order, order_id) is None:
        raise NotFound(_("No such order."))
    return _refund(order_id, None, reason, now, provider, actor_id=None, idempotency_key=idempotency_key)


def _refund(order_id: int, quantities: Mapping[int, int] | None, reason: str, now: datetime,
            provider: PaymentProvider | None, *, actor_id: int | None, idempotency_key: str | None = None) -> Refund:
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
        transition_order(order, moved_to, actor_id=actor_id, note=reason, now=now)
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
