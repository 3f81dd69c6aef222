"""Opening, joining, filling, expiring and leaving groups through the services (SQLite and PostgreSQL)."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.extensions import db
from app.groupbuy import services
from app.groupbuy.models import GROUP_TRANSITIONS, GroupMember, GroupState, MemberState
from app.shop import orders
from app.shop.models import Order, Payment
from app.social.models import Notification
from tests.groupbuy.conftest import (
    NOW,
    count,
    fresh_group,
    join,
    open_group,
    refunds_of,
    stock_balances,
)
from tests.shop.conftest import buyer_with_address, pay, sandbox


def test_a_group_is_pending_and_hidden_until_its_leader_pays(gw):
    leader, address = buyer_with_address("ann")
    joined = services.open_group(leader, gw.campaign_id, sku_id=gw.sku_id, address_id=address, now=NOW)
    group = fresh_group(joined.group.id)
    assert (group.state, group.deadline, group.seats_taken) == ("pending", None, 1)
    assert joined.checkout.orders[0].total_cents == 600
    assert joined.checkout.orders[0].hold_reason == "group-buy"
    with pytest.raises(NotFound):
        services.group_for(None, group.id)
    pay(joined.checkout.payment.id, now=NOW + timedelta(minutes=3))
    group = fresh_group(group.id)
    assert group.state == "open"
    assert group.deadline == NOW + timedelta(minutes=3, hours=24)
    assert services.group_for(None, group.id).id == group.id


def test_the_nth_payment_fills_the_group_and_releases_every_hold(gw):
    group_id, leader, _ = open_group(gw, "ann")
    first = join(gw, group_id, "bob")
    assert fresh_group(group_id).state == "open"
    held = db.session.get(Order, first.checkout.orders[0].id)
    assert held.status == "paid" and held.hold_reason == "group-buy"
    with pytest.raises(Conflict) as refused:
        orders.ship_order(gw.merchant, held.id, "SF123")
    assert refused.value.code == "order-on-hold"
    page = orders.shop_orders_page(gw.merchant, gw.shop_id, status="paid")
    assert page.items == []
    join(gw, group_id, "cat")
    group = fresh_group(group_id)
    assert (group.state, group.paid_count, group.seats_taken) == ("filled", 3, 3)
    assert count(Order, Order.hold_reason.is_not(None)) == 0
    assert len(orders.shop_orders_page(gw.merchant, gw.shop_id, status="paid").items) == 3
    orders.ship_order(gw.merchant, held.id, "SF123")
    assert count(Notification, Notification.kind == "group_filled") == 3
    stock_balances(gw.sku_id, 100)


def test_an_unpaid_seat_comes_back_when_its_reservation_runs_out(gw):
    group_id, _, _ = open_group(gw, "ann")
    join(gw, group_id, "bob", paid=False)
    assert fresh_group(group_id).seats_taken == 2
    orders.expire_reservations(NOW + timedelta(minutes=16))
    group = fresh_group(group_id)
    assert (group.seats_taken, group.paid_count, group.state) == (1, 1, "open")
    assert db.session.scalar(select(GroupMember.state).where(GroupMember.is_leader.is_(False))) == "released"
    stock_balances(gw.sku_id, 100)


def test_a_leader_who_never_pays_leaves_a_cancelled_group(gw):
    group_id, _, _ = open_group(gw, "ann", paid=False)
    orders.expire_reservations(NOW + timedelta(minutes=16))
    group = fresh_group(group_id)
    assert (group.state, group.seats_taken) == ("cancelled", 0)


def test_expiry_refunds_every_paid_member_once_and_cancels_the_unpaid(gw):
    group_id, _, _ = open_group(gw, "ann")
    join(gw, group_id, "bob")
    late = join(gw, group_id, "cat", paid=False, now=NOW + timedelta(hours=23, minutes=55))
    after = NOW + timedelta(hours=24, minutes=1)
    assert services.expire_overdue_groups(after) == 1
    assert services.expire_overdue_groups(after) == 0
    group = fresh_group(group_id)
    assert group.state == "expired"
    refunds = refunds_of(group_id)
    assert sorted(r.amount_cents for r in refunds) == [600, 600]
    assert {r.idempotency_key for r in refunds} == {services.refund_key(m.id) for m in db.session.scalars(
        select(GroupMember).where(GroupMember.state == MemberState.REFUNDED))}
    assert db.session.get(Order, late.checkout.orders[0].id).status == "cancelled"
    # The late payment arrives after all: the order was cancelled, so the money goes straight back.
    outcome = pay(late.checkout.payment.id, now=after)
    assert outcome.outcome == "refunded"
    assert count(Notification, Notification.kind == "group_expired") == 2
    stock_balances(gw.sku_id, 100)
    services.expire_overdue_groups(after + timedelta(minutes=10))
    assert len(refunds_of(group_id)) == 3


def test_a_failed_refund_is_retried_later_and_refunds_once(gw, monkeypatch):
    group_id, _, _ = open_group(gw, "ann")
    join(gw, group_id, "bob")
    provider_class = type(sandbox())
    original = provider_class.refund
    calls = {"n": 0}

    def flaky(self, payment, amount, key):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("provider down")
        return original(self, payment, amount, key)

    monkeypatch.setattr(provider_class, "refund", flaky)
    after = NOW + timedelta(hours=25)
    services.expire_overdue_groups(after)
    members = list(db.session.scalars(select(GroupMember).order_by(GroupMember.id)))
    db.session.expire_all()
    states = sorted((m.state, m.refund_state) for m in db.session.scalars(select(GroupMember)))
    assert states == [("paid", "pending"), ("refunded", "done")]  # one failure does not block the other
    failed = next(m for m in members if m.refund_state == "pending")
    assert failed.refund_attempts == 1 and "provider down" in failed.refund_error
    services.expire_overdue_groups(after + timedelta(minutes=1))  # not due yet
    assert len(refunds_of(group_id)) == 1
    services.expire_overdue_groups(after + timedelta(minutes=5))
    services.expire_overdue_groups(after + timedelta(minutes=10))
    assert sorted(r.amount_cents for r in refunds_of(group_id)) == [600, 600]
    assert all(m.refund_state == "done" for m in db.session.scalars(select(GroupMember)))
    assert services.refund_member(failed.id, now=after + timedelta(hours=1)) == "skipped"


def test_a_member_leaves_with_a_full_refund_and_the_leader_role_passes_on(gw):
    group_id, leader, _ = open_group(gw, "ann")
    bob = join(gw, group_id, "bob")
    services.leave_group(leader, group_id, now=NOW + timedelta(hours=1))
    group = fresh_group(group_id)
    assert (group.state, group.seats_taken, group.paid_count) == ("open", 1, 1)
    assert group.leader_id == bob.member.user_id
    assert group.deadline == NOW + timedelta(hours=24)
    assert [r.amount_cents for r in refunds_of(group_id)] == [600]
    join(gw, group_id, "cat")
    join(gw, group_id, "dan")
    assert fresh_group(group_id).state == "filled"
    with pytest.raises(Conflict):
        services.leave_group(db.session.get(type(leader), bob.member.user_id), group_id)


def test_a_campaign_ended_early_expires_its_open_groups_at_once(gw):
    group_id, _, _ = open_group(gw, "ann")
    join(gw, group_id, "bob")
    pending_id, _, _ = open_group(gw, "cat", paid=False)
    services.end_campaign(gw.merchant, gw.campaign_id, now=NOW + timedelta(hours=1))
    assert fresh_group(group_id).state == "expired"
    assert fresh_group(pending_id).state == "cancelled"
    assert len(refunds_of(group_id)) == 2
    stock_balances(gw.sku_id, 100)


def test_bad_joins_are_refused_and_change_nothing(gw):
    group_id, leader, address = open_group(gw, "ann")
    before = (count(Order), count(GroupMember), fresh_group(group_id).seats_taken)
    cases = [
        (lambda: services.join_group(leader, group_id, sku_id=gw.sku_id, address_id=address, now=NOW),
         "already-member"),
        (lambda: services.join_group(buyer_with_address("x1")[0], group_id, sku_id=gw.sku_id, address_id=address,
                                     now=NOW), None),
    ]
    with pytest.raises(Conflict) as own:
        cases[0][0]()
    assert own.value.code == "already-member"
    bob, bob_address = buyer_with_address("bob")
    with pytest.raises(Invalid) as per_order:
        services.join_group(bob, group_id, sku_id=gw.sku_id, quantity=3, address_id=bob_address, now=NOW)
    assert per_order.value.code == "per-order-limit"
    with pytest.raises(Invalid) as coupon:
        services.join_group(bob, group_id, sku_id=gw.sku_id, address_id=bob_address, coupon_code="SAVE", now=NOW)
    assert coupon.value.code == "coupon-not-allowed"
    with pytest.raises(Invalid):
        services.join_group(bob, group_id, sku_id=999999, address_id=bob_address, now=NOW)
    with pytest.raises(NotFound):
        services.join_group(bob, 999999, sku_id=gw.sku_id, address_id=bob_address, now=NOW)
    with pytest.raises(Conflict) as expired:
        services.join_group(bob, group_id, sku_id=gw.sku_id, address_id=bob_address, now=NOW + timedelta(hours=30))
    assert expired.value.code == "group-closed"
    pending_id, _, _ = open_group(gw, "cat", paid=False)
    with pytest.raises(NotFound):
        services.join_group(bob, pending_id, sku_id=gw.sku_id, address_id=bob_address, now=NOW)
    assert (count(Order) - 1, count(GroupMember) - 1, fresh_group(group_id).seats_taken) == before


def test_the_per_person_limit_counts_every_group_of_the_campaign(gw):
    first, _, _ = open_group(gw, "ann")
    second, _, _ = open_group(gw, "amy")
    bob = buyer_with_address("bob")
    join(gw, first, quantity=2, buyer=bob)
    with pytest.raises(Invalid) as refused:
        join(gw, second, quantity=2, buyer=bob)
    assert refused.value.code == "per-user-limit"
    join(gw, second, quantity=1, buyer=bob)


def test_a_full_group_refuses_the_next_joiner(gw):
    group_id, _, _ = open_group(gw, "ann")
    join(gw, group_id, "bob", paid=False)
    join(gw, group_id, "cat", paid=False)
    with pytest.raises(Conflict) as full:
        join(gw, group_id, "dan")
    assert full.value.code == "group-full"


def test_every_group_move_follows_the_table(gw):
    group_id, _, _ = open_group(gw, "ann")
    group = fresh_group(group_id)
    for target in GroupState:
        if target not in GROUP_TRANSITIONS[GroupState.OPEN]:
            with pytest.raises(Conflict):
                services.transition_group(group, target, NOW)
    services.transition_group(group, GroupState.EXPIRED, NOW)
    for target in GroupState:
        with pytest.raises(Conflict):
            services.transition_group(group, target, NOW)


def test_a_campaign_edit_never_changes_an_open_group(gw):
    group_id, _, _ = open_group(gw, "ann")
    from tests.groupbuy.conftest import campaign_input

    with pytest.raises(Conflict) as smaller:
        services.update_campaign(gw.merchant, gw.campaign_id, campaign_input(gw.sku_id, group_size=2), now=NOW)
    assert smaller.value.code == "open-groups"
    with pytest.raises(Conflict):
        services.update_campaign(gw.merchant, gw.campaign_id, campaign_input(gw.sku_id, prices={gw.sku_id: 700}))
    services.update_campaign(gw.merchant, gw.campaign_id, campaign_input(gw.sku_id, group_size=5,
                                                                         prices={gw.sku_id: 500}))
    group = fresh_group(group_id)
    assert (group.size, group.price_of(gw.sku_id)) == (3, 600)


@pytest.mark.parametrize("change, field", [
    ({"prices": {0: 600}}, "prices"), ({"group_size": 1}, "group_size"), ({"group_size": 51}, "group_size"),
    ({"window_hours": 0}, "window_hours"), ({"ends_at": NOW - timedelta(days=2)}, "ends_at"),
])
def test_bad_campaigns_are_refused(gw, change, field):
    from tests.groupbuy.conftest import campaign_input

    if "prices" in change:
        change = {"prices": {gw.sku_id: 1000}}
        field = f"prices.{gw.sku_id}"
    with pytest.raises(Invalid) as refused:
        services.update_campaign(gw.merchant, gw.campaign_id, campaign_input(gw.sku_id, **change))
    assert field in refused.value.errors


def test_a_merchant_cannot_touch_another_shops_campaign(gw):
    from tests.groupbuy.conftest import campaign_input
    from tests.shop.conftest import open_shop, user

    other = user("othermerchant")
    open_shop(other, gw.admin)
    with pytest.raises(Forbidden) as refused:
        services.update_campaign(other, gw.campaign_id, campaign_input(gw.sku_id))
    assert refused.value.code == "not-your-shop"
    with pytest.raises(Forbidden):
        services.end_campaign(other, gw.campaign_id)
    from app.groupbuy.models import Campaign

    db.session.expire_all()
    assert db.session.get(Campaign, gw.campaign_id).status == "active"


def test_a_join_with_an_idempotency_key_is_answered_again(gw):
    group_id, _, _ = open_group(gw, "ann")
    bob, address = buyer_with_address("bob")
    first = services.join_group(bob, group_id, sku_id=gw.sku_id, address_id=address, now=NOW, idempotency_key="k1")
    again = services.join_group(bob, group_id, sku_id=gw.sku_id, address_id=address, now=NOW, idempotency_key="k1")
    assert again.checkout.replayed and again.member.id == first.member.id
    assert count(Payment, Payment.buyer_id == bob.id) == 1
    other_id, _, _ = open_group(gw, "amy")
    with pytest.raises(Invalid):
        services.join_group(bob, other_id, sku_id=gw.sku_id, address_id=address, now=NOW, idempotency_key="k1")
    assert fresh_group(group_id).seats_taken == 2
