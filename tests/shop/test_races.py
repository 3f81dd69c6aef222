"""Real threads on PostgreSQL: stock, coupon uses, payments, expiry and refunds stay exact under races."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.accounts.models import User
from app.core.errors import DomainError
from app.extensions import db
from app.shop import coupons, orders, payments, refunds
from app.shop.models import (
    Coupon,
    CouponRedemption,
    Order,
    OrderEvent,
    OrderStatus,
    Payment,
    Refund,
    Sku,
)
from app.social.models import Notification
from tests.shop.conftest import buy, buyer_with_address, pay, product_with_sku, sandbox
from tests.social.conftest import is_postgres
from tests.social.test_races import run_threads

NOW = datetime(2026, 3, 1, 12, 0)


@pytest.fixture(autouse=True)
def postgres_only(app):
    if not is_postgres(app):
        pytest.skip("SQLite serialises writers; the races need PostgreSQL")


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def attempt(results: list, action):
    """A job whose refusals (sold out, used up, changed meanwhile) are outcomes, not errors."""
    def job():
        try:
            results.append(action())
        except DomainError as exc:
            db.session.rollback()
            results.append(exc)
    return job


def test_fifty_buyers_race_for_the_last_seven_units(app, world):
    with app.app_context():
        _, sku = product_with_sku(world.merchant, world.shop_id, stock=7, title="Limited palette")
        sku_id = sku.id
        buyers = [buyer_with_address(f"racer{i}") for i in range(50)]
        buyer_ids = [(buyer.id, address_id) for buyer, address_id in buyers]

    def checkout_and_pay(buyer_id, address_id):
        placed = buy(db.session.get(User, buyer_id), address_id, sku_id, now=NOW)
        return pay(placed.payment.id, now=NOW).outcome

    results: list = []
    run_threads(app, [attempt(results, lambda b=b, a=a: checkout_and_pay(b, a)) for b, a in buyer_ids])
    with app.app_context():
        assert results.count("paid") == 7
        assert all(isinstance(result, DomainError) for result in results if result != "paid")
        assert db.session.get(Sku, sku_id).stock == 0
        assert count(Order, Order.status == OrderStatus.PAID) == 7 == count(Order)
        assert count(Payment, Payment.status == "succeeded") == 7 == count(Payment)


def test_a_coupon_with_ten_uses_left_is_used_exactly_ten_times(app, world):
    with app.app_context():
        coupons.create_coupon(world.admin, code="TEN", kind="fixed", value=100, total_uses=10)
        catalog_sku = db.session.get(Sku, world.sku_id)
        catalog_sku.stock = 1000
        db.session.commit()
        buyers = [(buyer.id, address) for buyer, address in (buyer_with_address(f"c{i}") for i in range(30))]

    results: list = []
    run_threads(app, [attempt(results, lambda b=b, a=a: buy(db.session.get(User, b), a, world.sku_id,
                                                            coupon="TEN", now=NOW).payment.id)
                      for b, a in buyers])
    with app.app_context():
        placed = [result for result in results if isinstance(result, int)]
        assert len(placed) == 10
        assert all("used up" in result.message for result in results if isinstance(result, DomainError))
        assert db.session.scalar(select(Coupon.uses_left)) == 0
        assert count(CouponRedemption, CouponRedemption.status == "reserved") == 10 == count(Order)
        assert db.session.get(Sku, world.sku_id).stock == 990


def test_the_same_callback_delivered_eight_times_at_once_pays_once(app, world):
    with app.app_context():
        placed = buy(world.buyer, world.address_id, world.sku_id, 2, now=NOW)
        payment_id, order_id = placed.payment.id, placed.orders[0].id
        body, signature = sandbox().callback_for(db.session.get(Payment, payment_id))

    results: list = []
    run_threads(app, [attempt(results, lambda: payments.handle_payment_callback(sandbox(), body, signature,
                                                                                now=NOW).outcome)
                      for _ in range(8)])
    with app.app_context():
        assert sorted(results) == ["duplicate"] * 7 + ["paid"]
        assert db.session.get(Order, order_id).status == OrderStatus.PAID
        assert count(OrderEvent, OrderEvent.order_id == order_id, OrderEvent.to_status == "paid") == 1
        assert count(Notification, Notification.kind == "order_paid") == 2  # buyer and merchant, once each
        assert db.session.get(Sku, world.sku_id).stock == 8


def test_a_late_payment_racing_the_expiry_job_is_refunded_exactly_once(app, world):
    with app.app_context():
        coupons.create_coupon(world.admin, code="LATE", kind="fixed", value=100, total_uses=1)
        placed = buy(world.buyer, world.address_id, world.sku_id, 3, coupon="LATE", now=NOW)
        payment_id = placed.payment.id
        body, signature = sandbox().callback_for(db.session.get(Payment, payment_id))
    late = NOW + timedelta(minutes=20)

    results: list = []
    jobs = [attempt(results, lambda: payments.handle_payment_callback(sandbox(), body, signature, now=late).outcome)
            for _ in range(4)]
    jobs += [attempt(results, lambda: orders.expire_reservations(late)) for _ in range(4)]
    run_threads(app, jobs)
    with app.app_context():
        assert results.count("refunded") == 1 and results.count("duplicate") == 3
        assert db.session.get(Sku, world.sku_id).stock == 10
        assert db.session.scalar(select(Coupon.uses_left)) == 1
        assert count(OrderEvent, OrderEvent.to_status == "cancelled") == 1
        assert [r.amount_cents for r in db.session.scalars(select(Refund))] == [2900]
        payment = db.session.get(Payment, payment_id)
        assert (payment.status, payment.refunded_cents) == ("refunded", 2900)


def test_concurrent_expiry_jobs_release_stock_and_coupons_once(app, world):
    with app.app_context():
        coupons.create_coupon(world.admin, code="MANY", kind="percent", value=10, total_uses=20)
        for i in range(6):
            buyer, address = buyer_with_address(f"e{i}")
            buy(buyer, address, world.sku_id, 1, coupon="MANY", now=NOW)
        assert db.session.get(Sku, world.sku_id).stock == 4

    results: list = []
    run_threads(app, [attempt(results, lambda: orders.expire_reservations(NOW + timedelta(minutes=15)))
                      for _ in range(5)])
    with app.app_context():
        assert sum(results) == 6
        assert db.session.get(Sku, world.sku_id).stock == 10
        assert db.session.scalar(select(Coupon.uses_left)) == 20
        assert count(OrderEvent, OrderEvent.to_status == "cancelled") == 6
        assert count(CouponRedemption, CouponRedemption.status == "released") == 6


def test_racing_refunds_never_refund_a_unit_twice(app, world):
    with app.app_context():
        placed = buy(world.buyer, world.address_id, world.sku_id, 3, now=NOW)
        pay(placed.payment.id, now=NOW)
        order_id, payment_id, merchant_id = placed.orders[0].id, placed.payment.id, world.merchant.id
        line_id = db.session.get(Order, order_id).lines[0].id

    results: list = []
    run_threads(app, [attempt(results, lambda: refunds.refund_order(db.session.get(User, merchant_id),
                                                                    order_id, {line_id: 1}, now=NOW).amount_cents)
                      for _ in range(6)])
    with app.app_context():
        assert sorted(r for r in results if isinstance(r, int)) == [1000, 1000, 1000]
        order = db.session.get(Order, order_id)
        assert (order.status, order.refunded_cents, order.lines[0].refunded_quantity) == ("refunded", 3000, 3)
        assert db.session.get(Payment, payment_id).refunded_cents == 3000
        assert db.session.get(Sku, world.sku_id).stock == 10
