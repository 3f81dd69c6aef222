"""Walk every pair of states of the order, payment and coupon-redemption machines."""
from datetime import datetime, timedelta
from itertools import product

import pytest
from sqlalchemy import func, select

from app.core.errors import Conflict
from app.core.uow import unit_of_work
from app.extensions import db
from app.shop import coupons, orders, payments
from app.shop.models import (
    ORDER_TRANSITIONS,
    PAYMENT_TRANSITIONS,
    REDEMPTION_TRANSITIONS,
    CouponRedemption,
    Order,
    OrderEvent,
    OrderStatus,
    Payment,
    PaymentStatus,
    RedemptionStatus,
)
from tests.shop.conftest import buy, fresh

NOW = datetime(2026, 3, 1, 12, 0)


def _force(model, key, **values):
    db.session.execute(model.__table__.update().where(model.id == key).values(**values))
    db.session.commit()
    return fresh(model, key)


def test_order_table(world):
    order_id = buy(world.buyer, world.address_id, world.sku_id, now=NOW).orders[0].id
    for source, target in product(OrderStatus, OrderStatus):
        order = _force(Order, order_id, status=source, completed_at=None)
        events = db.session.scalar(select(func.count()).select_from(OrderEvent))
        if target in ORDER_TRANSITIONS[source]:
            with unit_of_work():  # as the services that call it do (it queues search work for after commit)
                assert orders.transition_order(order, target, actor_id=world.admin.id, now=NOW)
            assert fresh(Order, order_id).status == target
            event = db.session.scalar(select(OrderEvent).order_by(OrderEvent.id.desc()))
            assert (event.from_status, event.to_status, event.actor_id) == (source, target, world.admin.id)
        else:
            with pytest.raises(Conflict):
                orders.transition_order(order, target, now=NOW)
            db.session.rollback()
            assert fresh(Order, order_id).status == source
            assert db.session.scalar(select(func.count()).select_from(OrderEvent)) == events


def test_order_refunds_after_completion_respect_the_window_and_lost_races_are_refused(world):
    order_id = buy(world.buyer, world.address_id, world.sku_id, now=NOW).orders[0].id
    order = _force(Order, order_id, status=OrderStatus.COMPLETED, completed_at=NOW)
    with pytest.raises(Conflict):
        orders.transition_order(order, OrderStatus.REFUNDED, now=NOW + timedelta(days=7, seconds=1))
    db.session.rollback()
    stale = _force(Order, order_id, status=OrderStatus.PAID, completed_at=None)
    with db.engine.begin() as conn:  # another worker moves it meanwhile
        conn.execute(Order.__table__.update().where(Order.id == order_id).values(status=OrderStatus.SHIPPED))
    with pytest.raises(Conflict):
        orders.transition_order(stale, OrderStatus.SHIPPED, now=NOW)
    assert not orders.transition_order(stale, OrderStatus.SHIPPED, now=NOW, strict=False)


def test_payment_table(world):
    payment_id = buy(world.buyer, world.address_id, world.sku_id, now=NOW).payment.id
    for source, target in product(PaymentStatus, PaymentStatus):
        payment = _force(Payment, payment_id, status=source)
        if target in PAYMENT_TRANSITIONS[source]:
            assert payments.transition_payment(payment, target)
            assert fresh(Payment, payment_id).status == target
        else:
            with pytest.raises(Conflict):
                payments.transition_payment(payment, target)
            assert not payments.transition_payment(payment, target, strict=False)
            db.session.rollback()
            assert fresh(Payment, payment_id).status == source


def test_redemption_table(world):
    coupons.create_coupon(world.admin, code="WALK", kind="fixed", value=1)
    buy(world.buyer, world.address_id, world.sku_id, coupon="WALK", now=NOW)
    redemption_id = db.session.scalar(select(CouponRedemption.id))
    for source, target in product(RedemptionStatus, RedemptionStatus):
        redemption = _force(CouponRedemption, redemption_id, status=source)
        if target in REDEMPTION_TRANSITIONS[source]:
            assert coupons.transition_redemption(redemption, target, NOW)
            assert fresh(CouponRedemption, redemption_id).status == target
        else:
            with pytest.raises(Conflict):
                coupons.transition_redemption(redemption, target, NOW)
            db.session.rollback()
            assert fresh(CouponRedemption, redemption_id).status == source


def test_every_state_is_in_its_table():
    assert set(ORDER_TRANSITIONS) == set(OrderStatus)
    assert set(PAYMENT_TRANSITIONS) == set(PaymentStatus)
    assert set(REDEMPTION_TRANSITIONS) == set(RedemptionStatus)
    assert ORDER_TRANSITIONS[OrderStatus.CANCELLED] == ORDER_TRANSITIONS[OrderStatus.REFUNDED] == frozenset()
    assert set(orders.STATUS_LABELS) == set(OrderStatus)


def test_transition_order_only_moves_the_order_and_the_services_say_what_follows(world):
    """transition_order applies the move and writes its event; notifying is the use case's own step."""
    from app.social.models import Notification

    def notices() -> int:
        return db.session.scalar(select(func.count()).select_from(Notification).where(
            Notification.target_type == "order"))

    first = buy(world.buyer, world.address_id, world.sku_id, 1, now=NOW).orders[0]
    assert orders.transition_order(first, OrderStatus.CANCELLED, actor_id=world.buyer.id, now=NOW)
    db.session.commit()
    assert fresh(Order, first.id).status == OrderStatus.CANCELLED
    assert db.session.scalar(select(func.count()).select_from(OrderEvent).where(
        OrderEvent.order_id == first.id, OrderEvent.to_status == OrderStatus.CANCELLED)) == 1
    assert notices() == 0

    second = buy(world.buyer, world.address_id, world.sku_id, 1, now=NOW).orders[0]
    orders.cancel_order(world.buyer, second.id, now=NOW)
    assert notices() == 1  # the merchant (nobody is told of what they did themselves)
