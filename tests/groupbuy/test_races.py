"""Real threads on PostgreSQL: seats, payments, expiry and refunds stay exact under races."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.accounts.models import User
from app.core.errors import DomainError
from app.extensions import db
from app.groupbuy import services
from app.groupbuy.models import GroupMember, MemberState
from app.shop import payments
from app.shop.models import Order, OrderStatus, Payment, Refund
from tests.groupbuy.conftest import NOW, campaign_input, count, fresh_group, open_group, refunds_of, stock_balances
from tests.shop.conftest import buyer_with_address, sandbox
from tests.shop.test_races import attempt
from tests.social.conftest import is_postgres
from tests.social.test_races import run_threads


@pytest.fixture(autouse=True)
def postgres_only(app):
    if not is_postgres(app):
        pytest.skip("SQLite serialises writers; the races need PostgreSQL")



def join_and_pay(gw, group_id, buyer_id, address_id, now=NOW):
    joined = services.join_group(db.session.get(User, buyer_id), group_id, sku_id=gw.sku_id, address_id=address_id,
                                 now=now)
    payment = db.session.get(Payment, joined.checkout.payment.id)
    body, signature = sandbox().callback_for(payment)
    return payments.handle_payment_callback(sandbox(), body, signature, now=now).outcome


def test_two_buyers_racing_for_the_last_seat_exactly_one_holds_it(app, gw):
    with app.app_context():
        group_id, _, _ = open_group(gw, "ann")
        from tests.groupbuy.conftest import join

        join(gw, group_id, "bob")
        racers = [(b.id, a) for b, a in (buyer_with_address(f"r{i}") for i in range(2))]
    results: list = []
    run_threads(app, [attempt(results, lambda b=b, a=a: join_and_pay(gw, group_id, b, a)) for b, a in racers])
    with app.app_context():
        assert results.count("paid") == 1
        assert [r.code for r in results if isinstance(r, DomainError)] == ["group-full"]
        group = fresh_group(group_id)
        assert (group.state, group.seats_taken, group.paid_count) == ("filled", 3, 3)
        stock_balances(gw.sku_id, 100)


def test_a_hundred_concurrent_joins_on_a_ten_seat_group(app, gw):
    with app.app_context():
        services.update_campaign(gw.merchant, gw.campaign_id, campaign_input(gw.sku_id, group_size=10), now=NOW)
        group_id, _, _ = open_group(gw, "ann")
        racers = [(b.id, a) for b, a in (buyer_with_address(f"h{i}") for i in range(100))]
    results: list = []
    run_threads(app, [attempt(results, lambda b=b, a=a: join_and_pay(gw, group_id, b, a)) for b, a in racers])
    with app.app_context():
        group = fresh_group(group_id)
        assert results.count("paid") == 9  # the leader holds the tenth seat
        assert (group.state, group.seats_taken, group.paid_count) == ("filled", 10, 10)
        assert count(GroupMember, GroupMember.group_id == group_id,
                     GroupMember.state.in_([MemberState.PAID, MemberState.PENDING])) == 10
        # Nobody without a seat was charged: the only payments are the ten members'.
        assert count(Payment, Payment.status == "succeeded") == 10 == count(Payment)
        assert count(Refund) == 0
        stock_balances(gw.sku_id, 100)


@pytest.mark.parametrize("round_", range(4))
def test_the_expiry_job_racing_the_last_payment_fills_or_refunds_never_both(app, gw, round_):
    deadline_edge = NOW + timedelta(hours=23, minutes=59)
    with app.app_context():
        group_id, _, _ = open_group(gw, "ann")
        from tests.groupbuy.conftest import join

        join(gw, group_id, "bob")
        last = join(gw, group_id, "cat", paid=False, now=deadline_edge)
        payment = db.session.get(Payment, last.checkout.payment.id)
        body, signature = sandbox().callback_for(payment)
    # The payment is stamped just before the deadline; the job runs just after it.
    pay_at, job_at = NOW + timedelta(hours=23, minutes=59, seconds=30), NOW + timedelta(hours=24, seconds=1)
    results: list = []
    jobs = [attempt(results, lambda: payments.handle_payment_callback(sandbox(), body, signature, now=pay_at).outcome)]
    jobs += [attempt(results, lambda: services.expire_overdue_groups(job_at)) for _ in range(2)]
    run_threads(app, jobs)
    with app.app_context():
        group = fresh_group(group_id)
        refunds = refunds_of(group_id)
        if group.state == "filled":
            assert refunds == [] and group.paid_count == 3
            assert count(Order, Order.hold_reason.is_not(None)) == 0
        else:
            assert group.state == "expired"
            refunded_orders = [r.order_id for r in refunds]
            assert len(refunded_orders) == len(set(refunded_orders))
            paid_members = count(Order, Order.status.in_([OrderStatus.PAID]))
            assert paid_members == 0
            assert len(refunds) == 3 if "paid" in results else len(refunds) in (2, 3)
            assert sum(r.amount_cents for r in refunds) == 600 * len(refunds)
        stock_balances(gw.sku_id, 100)


def test_two_schedulers_expiring_at_once_refund_each_order_once(app, gw):
    with app.app_context():
        groups = []
        for g in range(3):
            group_id, _, _ = open_group(gw, f"lead{g}")
            from tests.groupbuy.conftest import join

            join(gw, group_id, f"m{g}")
            groups.append(group_id)
    after = NOW + timedelta(hours=25)
    results: list = []
    run_threads(app, [attempt(results, lambda: services.expire_overdue_groups(after)) for _ in range(4)])
    with app.app_context():
        assert sum(r for r in results if isinstance(r, int)) == 3
        refunds = list(db.session.scalars(select(Refund)))
        assert len(refunds) == 6 == len({r.order_id for r in refunds})
        assert db.session.scalar(select(func.sum(Payment.refunded_cents))) == 6 * 600
        assert all(fresh_group(g).state == "expired" for g in groups)
        stock_balances(gw.sku_id, 100)
