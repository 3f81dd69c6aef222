"""Payment callbacks: verified, idempotent, logged; a late payment is refunded exactly once."""
from datetime import datetime, timedelta

import pytest

from app.core.errors import Conflict, NotFound
from app.extensions import db
from app.shop import payments
from app.shop.models import Order, OrderStatus, Payment, Refund, Sku
from app.social.models import Notification
from tests.shop.conftest import buy, callbacks_logged, fresh, pay, sandbox, snapshot, user

NOW = datetime(2026, 3, 1, 12, 0)


def test_a_signed_success_pays_every_order_and_notifies(world):
    checkout = buy(world.buyer, world.address_id, world.sku_id, 2, now=NOW)
    url = payments.start_payment(world.buyer, checkout.payment.id, sandbox(), now=NOW)
    assert url == f"/pay/sandbox/{checkout.payment.id}"
    log = pay(checkout.payment.id, now=NOW + timedelta(minutes=5))
    assert (log.outcome, log.verified) == ("paid", True)
    order = fresh(Order, checkout.orders[0].id)
    assert order.status == OrderStatus.PAID and order.paid_at == NOW + timedelta(minutes=5)
    assert fresh(Payment, checkout.payment.id).status == "succeeded"
    kinds = {(n.recipient_id, n.kind) for n in db.session.query(Notification)}
    assert {(world.buyer.id, "order_paid"), (world.merchant.id, "order_paid")} <= kinds
    with pytest.raises(Conflict):
        payments.start_payment(world.buyer, checkout.payment.id, sandbox(), now=NOW)


def test_a_replayed_callback_changes_nothing(world):
    checkout = buy(world.buyer, world.address_id, world.sku_id, now=NOW)
    payment = db.session.get(Payment, checkout.payment.id)
    body, signature = sandbox().callback_for(payment)
    assert payments.handle_payment_callback(sandbox(), body, signature, now=NOW).outcome == "paid"
    before = snapshot()
    again = payments.handle_payment_callback(sandbox(), body, signature, now=NOW)
    assert again.outcome == "duplicate"
    assert snapshot() == before
    assert [entry.outcome for entry in callbacks_logged()] == ["paid", "duplicate"]


def test_forged_or_wrong_callbacks_change_nothing_and_are_logged(world):
    checkout = buy(world.buyer, world.address_id, world.sku_id, now=NOW)
    payment = db.session.get(Payment, checkout.payment.id)
    before = snapshot()
    body, signature = sandbox().callback_for(payment)
    forged_key = payments.SandboxProvider("not-the-secret")
    cases = [
        (body, "0" * 64, "bad signature"),
        (body.replace(b'"succeeded"', b'"failed"'), signature, "bad signature"),  # tampered after signing
        (*forged_key.callback_for(payment), "bad signature"),
        (*sandbox().callback_for(payment, amount_cents=1), "amount mismatch"),
        (*sandbox().callback_for(payment, currency="USD"), "amount mismatch"),
        (b"not json", sandbox().sign(b"not json"), "malformed payload"),
        (b'{"payment_id": 1}', sandbox().sign(b'{"payment_id": 1}'), "malformed payload"),
    ]
    for ghost_id in (999, 2**40, -1):
        ghost = Payment(id=ghost_id, amount_cents=1000, currency="CNY")
        cases.append((*sandbox().callback_for(ghost), "unknown payment"))
    for payload, sig, reason in cases:
        log = payments.handle_payment_callback(sandbox(), payload, sig, now=NOW)
        assert log.outcome == "rejected" and reason in log.reason, (payload, log.reason)
    assert snapshot() == before
    logged = callbacks_logged()
    assert len(logged) == len(cases) and all(entry.outcome == "rejected" for entry in logged)
    assert [entry.verified for entry in logged[:3]] == [False, False, False]


def test_a_failed_payment_can_be_retried_then_pays_once(world):
    checkout = buy(world.buyer, world.address_id, world.sku_id, now=NOW)
    payment = db.session.get(Payment, checkout.payment.id)
    failed = payments.handle_payment_callback(sandbox(), *sandbox().callback_for(payment, "failed"), now=NOW)
    assert failed.outcome == "failed" and fresh(Order, checkout.orders[0].id).status == OrderStatus.PENDING_PAYMENT
    assert payments.start_payment(world.buyer, payment.id, sandbox(), now=NOW)
    assert pay(payment.id, now=NOW).outcome == "paid"
    late_failure = payments.handle_payment_callback(sandbox(), *sandbox().callback_for(payment, "failed"), now=NOW)
    assert late_failure.outcome == "duplicate" and fresh(Payment, payment.id).status == "succeeded"


def test_paying_after_the_reservation_expired_is_refused_then_refunded_once(world):
    checkout = buy(world.buyer, world.address_id, world.sku_id, 3, now=NOW)
    late = NOW + timedelta(minutes=16)
    before = snapshot()
    with pytest.raises(Conflict):
        payments.start_payment(world.buyer, checkout.payment.id, sandbox(), now=late)
    assert snapshot() == before
    with pytest.raises(NotFound):
        payments.start_payment(user("nosy"), checkout.payment.id, sandbox(), now=NOW)

    # The provider still reports success (the buyer paid on a page left open): cancel, return stock, refund.
    payment = db.session.get(Payment, checkout.payment.id)
    body, signature = sandbox().callback_for(payment)
    log = payments.handle_payment_callback(sandbox(), body, signature, now=late)
    assert log.outcome == "refunded"
    assert fresh(Order, checkout.orders[0].id).status == OrderStatus.CANCELLED
    assert fresh(Sku, world.sku_id).stock == 10
    payment = fresh(Payment, checkout.payment.id)
    assert (payment.status, payment.refunded_cents) == ("refunded", 3000)
    assert [r.amount_cents for r in db.session.query(Refund)] == [3000]
    after = snapshot()
    assert payments.handle_payment_callback(sandbox(), body, signature, now=late).outcome == "duplicate"
    assert snapshot() == after


def test_a_late_payment_after_the_expiry_job_is_refunded_once(world):
    from app.shop.orders import expire_reservations

    checkout = buy(world.buyer, world.address_id, world.sku_id, now=NOW)
    assert expire_reservations(NOW + timedelta(hours=1)) == 1
    assert pay(checkout.payment.id, now=NOW + timedelta(hours=2)).outcome == "refunded"
    assert pay(checkout.payment.id, now=NOW + timedelta(hours=2)).outcome == "duplicate"
    assert db.session.query(Refund).count() == 1
    assert fresh(Sku, world.sku_id).stock == 10
