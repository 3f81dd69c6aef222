"""Refunds: by the shop or an admin, whole or per line, through the provider; money and stock exact."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app.core.errors import Conflict, Forbidden, Invalid
from app.extensions import db
from app.shop import cart, checkout, coupons, orders, refunds
from app.shop.models import Coupon, CouponRedemption, Order, OrderLine, OrderStatus, Payment, Refund, Sku
from tests.shop.conftest import buy, fresh, open_shop, pay, product_with_sku, snapshot, user

NOW = datetime(2026, 3, 1, 12, 0)


def paid_order(world, quantity=3, coupon=None):
    placed = buy(world.buyer, world.address_id, world.sku_id, quantity, coupon=coupon, now=NOW)
    pay(placed.payment.id, now=NOW)
    return placed.orders[0].id, placed.payment.id


def test_who_may_refund(world):
    order_id, _ = paid_order(world)
    rival = user("rival")
    open_shop(rival, world.admin)
    admin_address = cart.add_address(world.admin, recipient_name="Ad Min", phone="1", line1="HQ").id
    admins_own = buy(world.admin, admin_address, world.sku_id, now=NOW)
    pay(admins_own.payment.id, now=NOW)
    before = snapshot()
    for actor, order in ((world.buyer, order_id), (rival, order_id), (world.admin, admins_own.orders[0].id)):
        with pytest.raises(Forbidden):
            refunds.refund_order(actor, order, now=NOW)
    assert snapshot() == before
    refund = refunds.refund_order(world.admin, order_id, reason="damaged", now=NOW)
    assert refund.amount_cents == 3000 and refund.provider_ref.startswith("sandbox-refund-")
    assert refunds.refund_order(world.merchant, admins_own.orders[0].id, now=NOW).amount_cents == 1000


def test_a_full_refund_before_shipping_returns_stock_money_and_coupon_once(world):
    coupons.create_coupon(world.admin, code="TAKE5", kind="fixed", value=500, total_uses=2)
    order_id, payment_id = paid_order(world, 3, coupon="TAKE5")
    assert fresh(Order, order_id).total_cents == 2500
    assert db.session.scalar(select(CouponRedemption.status)) == "consumed"
    refund = refunds.refund_order(world.merchant, order_id, reason="out of colour", now=NOW)
    assert refund.amount_cents == 2500
    order, payment = fresh(Order, order_id), fresh(Payment, payment_id)
    assert (order.status, order.refunded_cents) == (OrderStatus.REFUNDED, 2500)
    assert (payment.status, payment.refunded_cents) == ("refunded", 2500)
    assert fresh(Sku, world.sku_id).stock == 10
    assert db.session.scalar(select(Coupon.uses_left)) == 2
    assert db.session.scalar(select(CouponRedemption.status)) == "released"
    before = snapshot()
    for attempt in (lambda: refunds.refund_order(world.merchant, order_id, now=NOW),
                    lambda: refunds.refund_order(world.admin, order_id, {order.lines[0].id: 1}, now=NOW)):
        with pytest.raises(Conflict):
            attempt()
    assert snapshot() == before


def test_per_line_refunds_add_up_to_exactly_what_was_paid(world):
    coupons.create_coupon(world.admin, code="THIRD", kind="percent", value=33)
    _, brush = product_with_sku(world.merchant, world.shop_id, price=777, title="Brush")
    placed = checkout.place_orders(world.buyer, [{"sku_id": world.sku_id, "quantity": 3},
                                                 {"sku_id": brush.id, "quantity": 2}], world.address_id, "THIRD",
                                   now=NOW)
    pay(placed.payment.id, now=NOW)
    order = placed.orders[0]
    tint, brushes = sorted(order.lines, key=lambda line: line.sku_id)
    orders.ship_order(world.merchant, order.id, "SF1", now=NOW)

    amounts = [refunds.refund_order(world.merchant, order.id, {tint.id: 1}, now=NOW).amount_cents,
               refunds.refund_order(world.merchant, order.id, {tint.id: 1, brushes.id: 1}, now=NOW).amount_cents]
    assert fresh(Order, order.id).status == OrderStatus.PARTIALLY_REFUNDED
    with pytest.raises(Invalid):
        refunds.refund_order(world.merchant, order.id, {brushes.id: 2}, now=NOW)  # only one left
    with pytest.raises(Invalid):
        refunds.refund_order(world.merchant, order.id, {999: 1}, now=NOW)
    with pytest.raises(Invalid):
        refunds.refund_order(world.merchant, order.id, {tint.id: 0}, now=NOW)
    amounts.append(refunds.refund_order(world.merchant, order.id, now=NOW).amount_cents)  # the rest
    assert sum(amounts) == fresh(Order, order.id).total_cents == fresh(Payment, placed.payment.id).refunded_cents
    assert fresh(Order, order.id).status == OrderStatus.REFUNDED
    lines = db.session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)).all()
    assert all(line.refunded_quantity == line.quantity for line in lines)
    assert sum(line.refunded_cents for line in lines) == sum(r.amount_cents for r in db.session.query(Refund))
    assert (fresh(Sku, world.sku_id).stock, fresh(Sku, brush.id).stock) == (7, 8)  # shipped: no restock


def test_a_completed_order_is_refundable_only_within_the_return_window(world, app):
    app.config["ORDER_RETURN_WINDOW_DAYS"] = 7
    order_id, _ = paid_order(world, 2)
    orders.ship_order(world.merchant, order_id, "SF1", now=NOW)
    orders.confirm_delivery(world.buyer, order_id, now=NOW + timedelta(days=1))
    refunds.refund_order(world.merchant, order_id, {fresh(Order, order_id).lines[0].id: 1},
                         now=NOW + timedelta(days=8))
    before = snapshot()
    with pytest.raises(Conflict):
        refunds.refund_order(world.merchant, order_id, now=NOW + timedelta(days=8, seconds=1))
    assert snapshot() == before


def test_an_unpaid_order_cannot_be_refunded(world):
    placed = buy(world.buyer, world.address_id, world.sku_id, now=NOW)
    before = snapshot()
    with pytest.raises(Conflict):
        refunds.refund_order(world.merchant, placed.orders[0].id, now=NOW)
    assert snapshot() == before
