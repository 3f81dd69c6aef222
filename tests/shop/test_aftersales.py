"""After-sales (售后): the state machine walked through the services — request, approve or decline, return,
escalate once, auto-approve — with money moving only through the refund service, and bad input refused
with nothing changed."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.extensions import db
from app.jobs.runner import SCHEDULES
from app.shop import aftersales, hooks, orders
from app.shop.aftersale_models import (
    AFTERSALE_TRANSITIONS,
    AfterSale,
    AfterSaleEvent,
    AfterSalePhoto,
    AfterSaleStatus,
)
from app.shop.models import Order, OrderStatus, Payment, Refund, Sku
from app.social.models import Notification
from tests.posts.conftest import image_bytes
from tests.shop.conftest import buy, fresh, pay, snapshot, user

NOW = datetime(2026, 3, 1, 12, 0)


def paid(world, quantity=3):
    placed = buy(world.buyer, world.address_id, world.sku_id, quantity, now=NOW)
    pay(placed.payment.id, now=NOW)
    return placed.orders[0]


def shipped(world, quantity=3):
    order = paid(world, quantity)
    orders.ship_order(world.merchant, order.id, "SF100", now=NOW)
    return order


def ask(world, order, units=1, kind="refund", **extra):
    return aftersales.request_after_sale(world.buyer, order.id, kind=kind, quantities={order.lines[0].id: units},
                                         reason=extra.pop("reason", "damaged"), now=extra.pop("now", NOW), **extra)


def state() -> dict:
    db.session.expire_all()
    return {**snapshot(),
            "after_sales": sorted(db.session.execute(select(AfterSale.id, AfterSale.status,
                                                            AfterSale.escalated_at)).all()),
            "after_sale_events": db.session.scalar(select(func.count()).select_from(AfterSaleEvent)),
            "photos": db.session.scalar(select(func.count()).select_from(AfterSalePhoto))}


def test_the_transition_table_is_walked_by_the_service():
    """Every state appears in the table and terminal states lead nowhere."""
    assert set(AFTERSALE_TRANSITIONS) == set(AfterSaleStatus)
    for terminal in (AfterSaleStatus.REFUNDED, AfterSaleStatus.CLOSED, AfterSaleStatus.CANCELLED):
        assert AFTERSALE_TRANSITIONS[terminal] == frozenset()
    assert AfterSaleStatus.ESCALATED in AFTERSALE_TRANSITIONS[AfterSaleStatus.DECLINED]
    assert not aftersales.can_transition("declined", "refunded")
    assert "shop-aftersale-auto-approve" in SCHEDULES


def test_a_refund_request_approved_by_the_shop_refunds_through_the_provider(world):
    order = paid(world)
    refunded = []
    listener = hooks.on_refund_issued(lambda o, refund, now: refunded.append(refund.amount_cents))
    try:
        request = ask(world, order, 2, note="The lids were cracked", photos=[image_bytes(), image_bytes()])
        assert request.status == "requested" and request.respond_by == NOW + timedelta(hours=48)
        assert len(request.photos) == 2
        aftersales.approve_after_sale(world.merchant, request.id, now=NOW + timedelta(hours=1))
    finally:
        hooks._refund_issued.remove(listener)
    request = fresh(AfterSale, request.id)
    assert request.status == "refunded" and request.refund_id is not None
    assert refunded == [2000]  # the hook fired, so commissions reverse
    order = fresh(Order, order.id)
    assert (order.status, order.refunded_cents) == (OrderStatus.PARTIALLY_REFUNDED, 2000)
    assert fresh(Payment, order.payment_id).refunded_cents == 2000
    assert fresh(Sku, world.sku_id).stock == 9  # not shipped yet: the two units are back on the shelf
    kinds = [n.kind for n in db.session.scalars(select(Notification).order_by(Notification.id))]
    assert kinds.count("aftersale_requested") == 1 and kinds.count("aftersale_refunded") == 1
    history = aftersales.order_history(order)
    assert [entry.after_sale_status for entry in history if entry.after_sale_id] == ["requested", "refunded"]


def test_a_return_waits_for_the_goods_then_refunds_on_receipt(world):
    order = shipped(world)
    request = ask(world, order, 1, kind="return")
    aftersales.approve_after_sale(world.merchant, request.id, now=NOW)
    assert fresh(AfterSale, request.id).status == "awaiting_return"
    assert fresh(Order, order.id).refunded_cents == 0
    with pytest.raises(Invalid) as refused:
        aftersales.submit_return_tracking(world.buyer, request.id, "  ", now=NOW)
    assert "tracking_number" in refused.value.errors
    aftersales.submit_return_tracking(world.buyer, request.id, "YT123", now=NOW + timedelta(days=1))
    with pytest.raises(Forbidden):
        aftersales.confirm_return_received(world.buyer, request.id, now=NOW)
    aftersales.confirm_return_received(world.merchant, request.id, now=NOW + timedelta(days=2))
    request = fresh(AfterSale, request.id)
    assert (request.status, request.return_tracking) == ("refunded", "YT123")
    assert fresh(Order, order.id).refunded_cents == 1000
    assert fresh(Sku, world.sku_id).stock == 7  # shipped goods are not put back on sale by the refund


def test_silence_approves_after_the_configured_hours_once(world, app):
    app.config["AFTERSALE_AUTO_APPROVE_HOURS"] = 24
    order = paid(world)
    request = ask(world, order, 1)
    assert aftersales.approve_overdue_after_sales(NOW + timedelta(hours=23)) == 0
    assert aftersales.approve_overdue_after_sales(NOW + timedelta(hours=24)) == 1
    assert aftersales.approve_overdue_after_sales(NOW + timedelta(hours=25)) == 0  # idempotent
    request = fresh(AfterSale, request.id)
    assert request.status == "refunded"
    assert db.session.scalar(select(func.count()).select_from(Refund)) == 1
    event = db.session.scalar(select(AfterSaleEvent).where(AfterSaleEvent.to_status == "refunded"))
    assert event.actor_id is None and "automatically" in event.note


def test_a_returned_parcel_the_shop_ignores_is_refunded_automatically(world):
    order = shipped(world)
    request = ask(world, order, 1, kind="return")
    aftersales.approve_after_sale(world.merchant, request.id, now=NOW)
    assert aftersales.approve_overdue_after_sales(NOW + timedelta(days=30)) == 0  # the buyer has not shipped it
    aftersales.submit_return_tracking(world.buyer, request.id, "YT9", now=NOW + timedelta(days=1))
    assert aftersales.approve_overdue_after_sales(NOW + timedelta(days=3, minutes=1)) == 1
    assert fresh(AfterSale, request.id).status == "refunded"
    assert fresh(Order, order.id).refunded_cents == 1000


def test_declined_escalated_once_then_decided_by_an_admin(world):
    order = shipped(world)
    request = ask(world, order, 2)
    with pytest.raises(Invalid):
        aftersales.decline_after_sale(world.merchant, request.id, "   ", now=NOW)
    aftersales.decline_after_sale(world.merchant, request.id, "Photos show no damage", now=NOW)
    assert fresh(AfterSale, request.id).decline_reason == "Photos show no damage"
    assert aftersales.approve_overdue_after_sales(NOW + timedelta(days=9)) == 0  # a declined request stays declined
    aftersales.escalate_after_sale(world.buyer, request.id, "They are cracked, look again", now=NOW)
    admin_notes = db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.recipient_id == world.admin.id, Notification.kind == "aftersale_escalated"))
    assert admin_notes == 1
    with pytest.raises(Forbidden):
        aftersales.resolve_escalation(world.merchant, request.id, "close", "no", now=NOW)
    aftersales.resolve_escalation(world.admin, request.id, "refund", "Damage is visible", now=NOW)
    assert fresh(AfterSale, request.id).status == "refunded"
    assert fresh(Order, order.id).refunded_cents == 2000


def test_a_second_escalation_is_refused_and_changes_nothing(world):
    order = shipped(world)
    request = ask(world, order, 1, kind="return")
    aftersales.approve_after_sale(world.merchant, request.id, now=NOW)
    aftersales.submit_return_tracking(world.buyer, request.id, "YT1", now=NOW)
    aftersales.decline_after_sale(world.merchant, request.id, "Parcel was empty", now=NOW)
    aftersales.escalate_after_sale(world.buyer, request.id, now=NOW)
    with pytest.raises(Conflict):  # still escalated: the table refuses
        aftersales.escalate_after_sale(world.buyer, request.id, now=NOW)
    aftersales.resolve_escalation(world.admin, request.id, "close", "Carrier confirms an empty parcel", now=NOW)
    before = state()
    with pytest.raises(Conflict) as refused:
        aftersales.escalate_after_sale(world.buyer, request.id, now=NOW)
    assert refused.value.code == "already-escalated"
    assert state() == before


def test_bad_requests_are_refused_and_change_nothing(world, app):
    order = shipped(world, 2)
    line_id = order.lines[0].id
    stranger = user("stranger")
    before = state()
    attempts = [
        (Invalid, lambda: ask(world, order, 3)),  # more units than bought
        (Invalid, lambda: aftersales.request_after_sale(world.buyer, order.id, kind="refund",
                                                        quantities={line_id: 0}, reason="damaged", now=NOW)),
        (Invalid, lambda: aftersales.request_after_sale(world.buyer, order.id, kind="refund",
                                                        quantities={999999: 1}, reason="damaged", now=NOW)),
        (Invalid, lambda: ask(world, order, 1, reason="because")),
        (Invalid, lambda: ask(world, order, 1, kind="swap")),
        (Invalid, lambda: ask(world, order, 1, note="x" * 1001)),
        (Invalid, lambda: ask(world, order, 1, photos=[image_bytes()] * 4)),
        (Invalid, lambda: ask(world, order, 1, photos=[b"not an image"])),
        (NotFound, lambda: aftersales.request_after_sale(stranger, order.id, kind="refund",
                                                         quantities={line_id: 1}, reason="damaged", now=NOW)),
    ]
    for error, attempt in attempts:
        with pytest.raises(error):
            attempt()
    assert state() == before

    with pytest.raises(Invalid) as refused:
        ask(world, order, 3, reason="nope")
    assert {f"lines.{line_id}", "reason"} <= set(refused.value.errors)  # every error at once

    ask(world, order, 2)
    with pytest.raises(Invalid):  # both units are held by the open request
        ask(world, order, 1)


def test_a_request_outside_the_window_is_refused(world):
    order = shipped(world)
    orders.confirm_delivery(world.buyer, order.id, now=NOW)
    ask(world, order, 1, now=NOW + timedelta(days=7))  # the last day still counts
    before = state()
    with pytest.raises(Conflict) as refused:
        ask(world, order, 1, now=NOW + timedelta(days=7, minutes=1))
    assert refused.value.code == "return-window-closed"
    assert state() == before
    unpaid = buy(world.buyer, world.address_id, world.sku_id, 1, now=NOW).orders[0]
    with pytest.raises(Conflict):
        ask(world, unpaid, 1)


def test_approval_after_the_window_still_refunds_a_request_made_within_it(world):
    order = shipped(world)
    orders.confirm_delivery(world.buyer, order.id, now=NOW)
    request = ask(world, order, 1, now=NOW + timedelta(days=6))
    aftersales.approve_after_sale(world.merchant, request.id, now=NOW + timedelta(days=8))
    assert fresh(AfterSale, request.id).status == "refunded"


def test_a_return_before_shipping_is_refused_and_only_the_shop_answers(world):
    order = paid(world)
    with pytest.raises(Invalid) as refused:
        ask(world, order, 1, kind="return")
    assert "kind" in refused.value.errors
    request = ask(world, order, 1)
    for actor in (world.buyer, user("rival")):
        with pytest.raises(Forbidden):
            aftersales.approve_after_sale(actor, request.id, now=NOW)
    with pytest.raises(NotFound):
        aftersales.cancel_after_sale(world.merchant, request.id, now=NOW)
    aftersales.cancel_after_sale(world.buyer, request.id, now=NOW)
    with pytest.raises(Conflict):
        aftersales.approve_after_sale(world.merchant, request.id, now=NOW)
    assert ask(world, order, 3).status == "requested"  # a withdrawn request frees its units


def test_the_shop_approving_while_the_job_runs_refunds_once(app, world):
    from app.accounts.models import User
    from tests.shop.test_races import attempt
    from tests.social.conftest import is_postgres
    from tests.social.test_races import run_threads

    if not is_postgres(app):
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    with app.app_context():
        order = paid(world)
        request_id, merchant_id, order_id = ask(world, order, 2).id, world.merchant.id, order.id
    late = NOW + timedelta(hours=49)
    results: list = []
    jobs = [attempt(results, lambda: aftersales.approve_after_sale(db.session.get(User, merchant_id), request_id,
                                                                   now=late).status) for _ in range(3)]
    jobs += [attempt(results, lambda: aftersales.approve_overdue_after_sales(late)) for _ in range(3)]
    run_threads(app, jobs)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Refund)) == 1
        assert db.session.get(Order, order_id).refunded_cents == 2000
        assert db.session.scalar(select(func.count()).select_from(AfterSaleEvent).where(
            AfterSaleEvent.to_status == "refunded")) == 1
