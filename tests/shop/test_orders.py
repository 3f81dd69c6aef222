"""Cancelling, expiring, shipping, confirming and auto-completing orders."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.extensions import db
from app.shop import coupons, orders
from app.shop.models import Coupon, CouponRedemption, Order, OrderEvent, OrderStatus, Sku
from tests.shop.conftest import buy, buyer_with_address, fresh, open_shop, pay, snapshot, user

NOW = datetime(2026, 3, 1, 12, 0)


def test_cancelling_returns_stock_and_the_coupon_use_once(world):
    coupons.create_coupon(world.admin, code="WELCOME", kind="fixed", value=300, total_uses=5)
    checkout = buy(world.buyer, world.address_id, world.sku_id, 4, coupon="welcome", now=NOW)
    coupon = db.session.scalar(select(Coupon))
    assert (fresh(Sku, world.sku_id).stock, fresh(Coupon, coupon.id).uses_left) == (6, 4)
    order = db.session.get(Order, checkout.orders[0].id)
    with pytest.raises(Forbidden):
        orders.cancel_order(user("stranger"), order.id, now=NOW)
    orders.cancel_order(world.buyer, order.id, now=NOW)
    assert (fresh(Sku, world.sku_id).stock, fresh(Coupon, coupon.id).uses_left) == (10, 5)
    assert db.session.scalar(select(CouponRedemption.status)) == "released"
    before = snapshot()
    with pytest.raises(Conflict):
        orders.cancel_order(world.buyer, order.id, now=NOW)
    assert orders.expire_reservations(NOW + timedelta(days=1)) == 0
    assert snapshot() == before


def test_the_expiry_job_releases_exactly_once_when_run_twice(world):
    coupons.create_coupon(world.admin, code="ONCE", kind="percent", value=10, total_uses=3)
    due = buy(world.buyer, world.address_id, world.sku_id, 2, coupon="ONCE", now=NOW)
    later_buyer, later_address = buyer_with_address()
    fresh_one = buy(later_buyer, later_address, world.sku_id, 1, now=NOW + timedelta(minutes=10))
    paid = buy(later_buyer, later_address, world.sku_id, 1, now=NOW)
    pay(paid.payment.id, now=NOW)
    job_time = NOW + timedelta(minutes=15)  # the first checkout's deadline, not yet the second's

    assert orders.expire_reservations(job_time) == 1
    assert orders.expire_reservations(job_time) == 0
    assert fresh(Order, due.orders[0].id).status == OrderStatus.CANCELLED
    assert fresh(Order, fresh_one.orders[0].id).status == OrderStatus.PENDING_PAYMENT
    assert fresh(Order, paid.orders[0].id).status == OrderStatus.PAID
    assert fresh(Sku, world.sku_id).stock == 10 - 1 - 1
    assert db.session.scalar(select(Coupon.uses_left)) == 3
    events = db.session.scalars(select(OrderEvent.to_status).where(OrderEvent.order_id == due.orders[0].id)
                                .order_by(OrderEvent.id)).all()
    assert events == ["pending_payment", "cancelled"]


def test_only_the_selling_shop_ships_and_only_paid_orders(world):
    checkout = buy(world.buyer, world.address_id, world.sku_id, now=NOW)
    order_id = checkout.orders[0].id
    rival = user("rival")
    open_shop(rival, world.admin)
    before = snapshot()
    with pytest.raises(Conflict):
        orders.ship_order(world.merchant, order_id, "SF123", now=NOW)  # not paid yet
    assert snapshot() == before
    pay(checkout.payment.id, now=NOW)
    before = snapshot()
    for actor in (rival, world.buyer):
        with pytest.raises(Forbidden):
            orders.ship_order(actor, order_id, "SF123", now=NOW)
    with pytest.raises(Invalid):
        orders.ship_order(world.merchant, order_id, "   ", now=NOW)
    assert snapshot() == before
    shipped = orders.ship_order(world.merchant, order_id, " SF 123 ", now=NOW)
    assert (shipped.status, shipped.tracking_number, shipped.shipped_at) == ("shipped", "SF 123", NOW)
    with pytest.raises(Conflict):
        orders.ship_order(world.merchant, order_id, "SF999", now=NOW)


def test_confirmation_and_auto_completion(world, app):
    first = buy(world.buyer, world.address_id, world.sku_id, now=NOW)
    second = buy(world.buyer, world.address_id, world.sku_id, now=NOW)
    for checkout in (first, second):
        pay(checkout.payment.id, now=NOW)
        orders.ship_order(world.merchant, checkout.orders[0].id, "YT1", now=NOW)
    with pytest.raises(NotFound):
        orders.confirm_delivery(user("someone"), first.orders[0].id, now=NOW)
    confirmed = orders.confirm_delivery(world.buyer, first.orders[0].id, now=NOW + timedelta(days=2))
    assert confirmed.status == "completed"

    app.config["ORDER_AUTO_COMPLETE_DAYS"] = 10
    assert orders.complete_delivered_orders(NOW + timedelta(days=9)) == 0
    assert orders.complete_delivered_orders(NOW + timedelta(days=10)) == 1
    assert orders.complete_delivered_orders(NOW + timedelta(days=10)) == 0
    order = fresh(Order, second.orders[0].id)
    assert (order.status, order.completed_at) == ("completed", NOW + timedelta(days=10))
