"""The order lifecycle hooks fire inside the move's own transaction, once per move."""
from __future__ import annotations

import pytest

from app.shop import hooks


@pytest.fixture
def recorded():
    moves, refunds = [], []

    def moved(order, from_status, to_status, now):
        moves.append((order.id, from_status, to_status))

    def refunded(order, refund, now):
        refunds.append((order.id, refund.amount_cents, [(line.order_line_id, line.quantity) for line in refund.lines]))

    hooks.on_order_moved(moved)
    hooks.on_refund_issued(refunded)
    yield moves, refunds
    hooks._order_moved.remove(moved)
    hooks._refund_issued.remove(refunded)


def test_listeners_connect_once():
    def listener(*args):
        pass
    hooks.on_order_moved(listener)
    hooks.on_order_moved(listener)
    try:
        assert hooks._order_moved.count(listener) == 1
    finally:
        hooks._order_moved.remove(listener)


def test_a_paid_then_refunded_order_reports_each_move_and_the_refund_once(world, recorded):
    from datetime import datetime

    from app.shop import refunds
    from tests.shop.conftest import buy, pay

    moves, refunds_seen = recorded
    now = datetime(2026, 3, 1, 12, 0)
    placed = buy(world.buyer, world.address_id, world.sku_id, 2, now=now)
    order_id = placed.orders[0].id
    pay(placed.payment.id, now=now)
    pay(placed.payment.id, now=now)  # a duplicate callback moves nothing
    line_id = placed.orders[0].lines[0].id
    refunds.refund_order(world.merchant, order_id, {line_id: 1}, reason="one broke", now=now)
    assert moves == [(order_id, "pending_payment", "paid"), (order_id, "paid", "partially_refunded")]
    assert refunds_seen == [(order_id, 1000, [(line_id, 1)])]


def test_a_listener_that_fails_rolls_the_move_back(world):
    from datetime import datetime

    from app.extensions import db
    from app.shop.models import Order
    from tests.shop.conftest import buy, pay

    def broken(order, from_status, to_status, now):
        raise RuntimeError("listener failed")

    placed = buy(world.buyer, world.address_id, world.sku_id, 1, now=datetime(2026, 3, 1, 12, 0))
    hooks.on_order_moved(broken)
    try:
        with pytest.raises(RuntimeError):
            pay(placed.payment.id, now=datetime(2026, 3, 1, 12, 0))
    finally:
        hooks._order_moved.remove(broken)
    db.session.rollback()
    assert db.session.get(Order, placed.orders[0].id).status == "pending_payment"
