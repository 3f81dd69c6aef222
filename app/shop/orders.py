"""The order state machine and what moves orders along: cancel, expire, ship, confirm, auto-complete.

Every status change goes through `transition_order`, which checks models.ORDER_TRANSITIONS, applies the
change as a conditional UPDATE (… WHERE id = :id AND status = :seen) so two racing requests cannot both
move an order, and writes an OrderEvent. What follows a move is called by name by the service that made
it, right after the move: `queue_sold_products` (search) and `notify_order_parties` (buyer and merchant).
Stock and coupon uses come back only in the transaction that won the transition, so they come back exactly
once.

Lock order, to keep PostgreSQL free of deadlocks: payment row, then orders by id, then SKUs by id, then
coupon rows. Every service here and in checkout/payments/refunds takes locks in that order.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app.accounts.models import User
from app.core.clock import now as clock_now
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.core.pagination import Page, clamp_limit, int_key, paginate
from app.core.uow import unit_of_work
from app.extensions import db
from app.search.queue import queue_product_counts
from app.shop import coupons, hooks
from app.shop.models import ORDER_TRANSITIONS, Order, OrderEvent, OrderLine, OrderStatus, Shop, Sku
from app.social.notifications import notify


class StatusLabel(NamedTuple):
    """The two wordings of an order status: inside a sentence (and the API's `status_label`), and on the
    badge of order cards and status filters."""

    in_sentence: str
    badge: str


# The one table of order-status wordings (templates read it through the `order_status_badge` global).
STATUS_LABELS = {
    OrderStatus.PENDING_PAYMENT: StatusLabel(_l("awaiting payment"), _l("Awaiting payment")),
    OrderStatus.PAID: StatusLabel(_l("paid"), _l("Paid · to ship")),
    OrderStatus.SHIPPED: StatusLabel(_l("shipped"), _l("Shipped")),
    OrderStatus.COMPLETED: StatusLabel(_l("completed"), _l("Completed")),
    OrderStatus.CANCELLED: StatusLabel(_l("cancelled"), _l("Cancelled")),
    OrderStatus.PARTIALLY_REFUNDED: StatusLabel(_l("partially refunded"), _l("Partly refunded")),
    OrderStatus.REFUNDED: StatusLabel(_l("refunded"), _l("Refunded")),
}


def status_badge(status: str) -> str:
    """The badge wording of an order status (the status itself when unknown)."""
    label = STATUS_LABELS.get(status)
    return str(label.badge) if label else status


# The notification kind each move sends to buyer and merchant (registered in app/shop/notices.py).
NOTIFICATION_OF = {
    OrderStatus.PAID: "order_paid",
    OrderStatus.SHIPPED: "order_shipped",
    OrderStatus.COMPLETED: "order_completed",
    OrderStatus.CANCELLED: "order_cancelled",
    OrderStatus.PARTIALLY_REFUNDED: "order_partially_refunded",
    OrderStatus.REFUNDED: "order_refunded",
}
TIMESTAMP_OF = {
    OrderStatus.PAID: "paid_at",
    OrderStatus.SHIPPED: "shipped_at",
    OrderStatus.COMPLETED: "completed_at",
    OrderStatus.CANCELLED: "cancelled_at",
}
REFUND_STATES = (OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED)
# Moves that change a product's units sold or stock (what search ranks and filters products by).
SALES_MOVING = (OrderStatus.PAID, OrderStatus.CANCELLED, *REFUND_STATES)


def reservation_minutes() -> int:
    """How long checkout holds stock: ORDER_RESERVATION_MINUTES, never longer than the payment window
    (PAYMENT_WINDOW_MINUTES; app/config.py refuses to start when the two differ)."""
    reservation = int(current_app.config.get("ORDER_RESERVATION_MINUTES", 15))
    return min(reservation, int(current_app.config.get("PAYMENT_WINDOW_MINUTES", reservation)))


def return_window_days() -> int:
    return int(current_app.config.get("ORDER_RETURN_WINDOW_DAYS", 7))


def auto_complete_days() -> int:
    return int(current_app.config.get("ORDER_AUTO_COMPLETE_DAYS", 10))


def return_window_open(order: Order, now: datetime) -> bool:
    """Refunds are open until delivery is confirmed, then for ORDER_RETURN_WINDOW_DAYS."""
    return order.completed_at is None or now <= order.completed_at + timedelta(days=return_window_days())


def can_transition(from_status: str, to_status: str) -> bool:
    return OrderStatus(to_status) in ORDER_TRANSITIONS[OrderStatus(from_status)]


def transition_order(order: Order, to_status: OrderStatus, *, actor_id: int | None = None, note: str = "",
                     now: datetime | None = None, values: dict | None = None, strict: bool = True,
                   requested_in_window: bool = False) -> bool:
    """Move `order` from the status it was read with to `to_status`; True when this call moved it.

    An illegal move raises Conflict. A lost race (someone moved it first) raises Conflict when `strict`,
    else returns False — jobs and callbacks use that to skip what another worker already did.
    `requested_in_window`: a refund the buyer asked for within the return window (an after-sales request)
    may be sent after the window closed.
    """
    now = now or clock_now()
    from_status = OrderStatus(order.status)
    if not can_transition(from_status, to_status):
        raise Conflict(_("An order that is %(current)s cannot become %(wanted)s.",
                         current=STATUS_LABELS[from_status].in_sentence,
                         wanted=STATUS_LABELS[OrderStatus(to_status)].in_sentence),
                       code="invalid-transition")
    if to_status in REFUND_STATES and not requested_in_window and not return_window_open(order, now):
        raise Conflict(_("The return window for this order has closed."), code="return-window-closed")
    changes = {"status": str(to_status), "updated_at": now, **(values or {})}
    if to_status in TIMESTAMP_OF:
        changes[TIMESTAMP_OF[to_status]] = now
    result = db.session.execute(update(Order).where(Order.id == order.id, Order.status == str(from_status))
                                .values(**changes).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        if strict:
            raise Conflict(_("This order changed in the meantime. Reload it and try again."), code="concurrent-change")
        return False
    for key, value in changes.items():
        set_committed_value(order, key, value)
    db.session.add(OrderEvent(order_id=order.id, from_status=str(from_status), to_status=str(to_status),
                              actor_id=actor_id, note=note[:300], created_at=now))
    hooks.order_moved(order, str(from_status), str(to_status), now)
    return True


def queue_sold_products(order: Order) -> None:
    """Queue the search refresh of the order's products: their units sold (and, when stock came back, their
    stock) changed. Services call it after a move into SALES_MOVING (paid, cancelled, refunded)."""
    for product_id in db.session.scalars(select(OrderLine.product_id).where(OrderLine.order_id == order.id)):
        queue_product_counts(product_id)


def notify_order_parties(order: Order, status: OrderStatus, actor_id: int | None = None) -> None:
    """Tell the buyer and the shop's owner that the order moved to `status` (NOTIFICATION_OF's kind)."""
    kind = NOTIFICATION_OF.get(OrderStatus(status))
    if kind:
        merchant_id = db.session.scalar(select(Shop.owner_id).where(Shop.id == order.shop_id))
        for recipient in {order.buyer_id, merchant_id}:
            notify(recipient, kind, actor_id=actor_id, target_type="order", target_id=order.id)


def return_stock(quantities: dict[int, int]) -> None:
    """Put units back on their SKUs, in SKU id order (see the lock order above). Callers own the win."""
    for sku_id in sorted(quantities):
        if quantities[sku_id] > 0:
            db.session.execute(update(Sku).where(Sku.id == sku_id).values(stock=Sku.stock + quantities[sku_id])
                               .execution_options(synchronize_session=False))


def cancel_unpaid_orders(payment_id: int, *, actor_id: int | None, note: str, now: datetime,
                         overdue_only: bool) -> list[Order]:
    """Cancel the still-unpaid orders of one checkout, return their stock and, once nothing of the checkout
    is left, its coupon use. Runs inside the caller's transaction; returns the orders this call cancelled."""
    orders = list(db.session.scalars(select(Order).where(Order.payment_id == payment_id).order_by(Order.id)
                                     .execution_options(populate_existing=True)))
    cancelled = []
    for order in orders:
        if order.status != OrderStatus.PENDING_PAYMENT or (overdue_only and order.reserved_until > now):
            continue
        if transition_order(order, OrderStatus.CANCELLED, actor_id=actor_id, note=note, now=now, strict=False):
            queue_sold_products(order)
            notify_order_parties(order, OrderStatus.CANCELLED, actor_id)
            cancelled.append(order)
    if cancelled:
        back: dict[int, int] = {}
        lines = db.session.scalars(select(OrderLine).where(OrderLine.order_id.in_([o.id for o in cancelled])))
        for line in lines:
            back[line.sku_id] = back.get(line.sku_id, 0) + line.quantity
        return_stock(back)
        if all(order.status == OrderStatus.CANCELLED for order in orders):
            coupons.release_redemption(payment_id, now)
    return cancelled


def cancel_order(actor: User, order_id: int, now: datetime | None = None) -> list[Order]:
    """The buyer (or an admin) cancels an unpaid order. The orders of one checkout are paid together,
    so they are cancelled together."""
    now = now or clock_now()
    order = db.session.get(Order, order_id)
    if order is None:
        raise NotFound(_("No such order."))
    if actor.id != order.buyer_id and not actor.is_admin:
        raise Forbidden(_("Only the buyer can cancel this order."), code="not-your-order")
    if order.status != OrderStatus.PENDING_PAYMENT:
        raise Conflict(_("Only an order awaiting payment can be cancelled; ask the shop for a refund."),
                       code="not-cancellable")
    with unit_of_work():
        cancelled = cancel_unpaid_orders(order.payment_id, actor_id=actor.id, note="cancelled by buyer",
                                         now=now, overdue_only=False)
        if not cancelled:
            raise Conflict(_("This order changed in the meantime. Reload it and try again."), code="concurrent-change")
    return cancelled


def expire_reservations(now: datetime | None = None) -> int:
    """Job: cancel orders not paid by their reservation deadline, returning stock and coupon uses.
    Safe to run twice or on several workers at once; returns how many orders this run cancelled."""
    now = now or clock_now()
    with unit_of_work():  # a short read: each payment below is cancelled in a transaction of its own
        payment_ids = list(db.session.scalars(
            select(Order.payment_id).where(Order.status == OrderStatus.PENDING_PAYMENT, Order.reserved_until <= now)
            .distinct().order_by(Order.payment_id)))
    count = 0
    for payment_id in payment_ids:
        with unit_of_work():
            count += len(cancel_unpaid_orders(payment_id, actor_id=None, note="reservation expired", now=now,
                                              overdue_only=True))
    return count


def _merchant_order(actor: User, order_id: int) -> Order:
    order = db.session.get(Order, order_id)
    if order is None:
        raise NotFound(_("No such order."))
    owner_id = db.session.scalar(select(Shop.owner_id).where(Shop.id == order.shop_id))
    if not actor.is_admin and actor.id != owner_id:
        raise Forbidden(_("Only the shop that sold this order can do that."), code="not-your-shop")
    return order


def ship_order(actor: User, order_id: int, tracking_number: str, now: datetime | None = None) -> Order:
    """The shop (or an admin) marks a paid order shipped with its tracking number."""
    now = now or clock_now()
    order = _merchant_order(actor, order_id)
    tracking = " ".join((tracking_number or "").split())
    if not tracking or len(tracking) > 64:
        message = _("Enter the tracking number (up to 64 characters).")
        raise Invalid(message, {"tracking_number": [message]})
    if order.shipped_at is not None or order.status not in (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED):
        raise Conflict(_("Only a paid order that has not shipped yet can be shipped."), code="not-shippable")
    if order.hold_reason:
        raise Conflict(_("This order is on hold and cannot ship yet (a group-buy that has not filled)."),
                       code="order-on-hold")
    with unit_of_work():
        transition_order(order, OrderStatus.SHIPPED, actor_id=actor.id, now=now,
                         values={"tracking_number": tracking})
        notify_order_parties(order, OrderStatus.SHIPPED, actor.id)
    return order


def release_holds(order_ids, now: datetime | None = None) -> int:
    """Clear the hold on these orders (they may ship now), inside the caller's transaction; the orders are
    updated in id order (see the lock order above). Returns how many were held."""
    now = now or clock_now()
    ids = sorted(set(order_ids))
    if not ids:
        return 0
    result = db.session.execute(update(Order).where(Order.id.in_(ids), Order.hold_reason.is_not(None))
                                .values(hold_reason=None, updated_at=now).execution_options(synchronize_session=False))
    return result.rowcount


def confirm_delivery(buyer: User, order_id: int, now: datetime | None = None) -> Order:
    """The buyer confirms the parcel arrived; the return window starts now."""
    now = now or clock_now()
    order = db.session.get(Order, order_id)
    if order is None or order.buyer_id != buyer.id:
        raise NotFound(_("No such order."))
    if order.shipped_at is None or order.status not in (OrderStatus.SHIPPED, OrderStatus.PARTIALLY_REFUNDED):
        raise Conflict(_("Only a shipped order can be confirmed as delivered."), code="not-shipped")
    with unit_of_work():
        transition_order(order, OrderStatus.COMPLETED, actor_id=buyer.id, now=now)
        notify_order_parties(order, OrderStatus.COMPLETED, buyer.id)
    return order


def complete_delivered_orders(now: datetime | None = None) -> int:
    """Job: complete orders shipped ORDER_AUTO_COMPLETE_DAYS ago that the buyer never confirmed.
    Idempotent; returns how many orders this run completed."""
    now = now or clock_now()
    due = list(db.session.scalars(
        select(Order).where(Order.status.in_([OrderStatus.SHIPPED, OrderStatus.PARTIALLY_REFUNDED]),
                            Order.shipped_at.is_not(None), Order.completed_at.is_(None),
                            Order.shipped_at <= now - timedelta(days=auto_complete_days()))
        .order_by(Order.id)))
    count = 0
    for order in due:
        with unit_of_work():
            if transition_order(order, OrderStatus.COMPLETED, note="completed automatically", now=now,
                                strict=False):
                notify_order_parties(order, OrderStatus.COMPLETED)
                count += 1
    return count


def order_for(user: User, order_id: int) -> Order:
    """An order as its buyer, its shop or an admin may see it."""
    order = db.session.get(Order, order_id)
    if order is None:
        raise NotFound(_("No such order."))
    owner_id = db.session.scalar(select(Shop.owner_id).where(Shop.id == order.shop_id))
    if user.id not in (order.buyer_id, owner_id) and not user.is_admin:
        raise NotFound(_("No such order."))
    return order


# --- reading orders ---------------------------------------------------------------------------------------

def buyer_orders_page(buyer: User, *, status: str | None = None, cursor: str | None = None,
                      limit: int | None = None) -> Page:
    """The buyer's orders, newest first, one signed-cursor page at a time (the page's and the API's list)."""
    query = _with_status(select(Order).where(Order.buyer_id == buyer.id), status)
    return paginate(query, [int_key(Order.id, "id")], cursor, clamp_limit(limit))


def shop_orders_page(merchant: User, shop_id: int, *, status: str | None = None, cursor: str | None = None,
                     limit: int | None = None, on_hold: bool = False) -> Page:
    """A shop's orders for its owner (or an admin), newest first, one signed-cursor page at a time;
    `status` filters (paid = to ship: held orders, e.g. of a group-buy still filling, are left out;
    `on_hold=True` lists only those)."""
    query = _with_status(_shop_orders(merchant, shop_id), status)
    if on_hold:
        query = query.where(Order.hold_reason.is_not(None))
    elif status == OrderStatus.PAID:
        query = query.where(Order.hold_reason.is_(None))
    return paginate(query, [int_key(Order.id, "id")], cursor, clamp_limit(limit))


def _shop_orders(merchant: User, shop_id: int):
    shop = db.session.get(Shop, shop_id)
    if shop is None or (shop.owner_id != merchant.id and not merchant.is_admin):
        raise Forbidden(_("Only the shop's owner can see its orders."), code="not-your-shop")
    return select(Order).where(Order.shop_id == shop.id)


def _with_status(query, status: str | None):
    """Filter by status (refusing an unknown one) and load what an order card shows."""
    if status:
        if status not in {s.value for s in OrderStatus}:
            raise Invalid(_("Unknown order status."), {"status": [_("Unknown order status.")]})
        query = query.where(Order.status == status)
    return query.options(selectinload(Order.lines), joinedload(Order.shop), joinedload(Order.buyer))
