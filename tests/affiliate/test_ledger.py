"""The commission ledger through the shop's real order moves: pending when paid, available after the return
window, reversed by refunds at the stored rate, paid out once, owed after a late refund."""
from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.affiliate import attribution, ledger
from app.affiliate.models import AbuseFlag, LineAttribution, Payout
from app.core.errors import Conflict, Forbidden, Invalid
from app.extensions import db
from app.shop import catalog
from tests.affiliate.conftest import RATE, T0, buy_paid, click, complete, entries, refund_units, release
from tests.shop.conftest import buyer_with_address

WEEK = timedelta(days=7)


def test_a_click_then_a_paid_order_earns_a_pending_commission_rounded_down(aff):
    link = attribution.share_link_for(aff.creator, product_id=aff.product_id, now=T0)
    assert click(link, aff.reader, T0)
    buy_paid(aff, quantity=3, at=T0 + timedelta(hours=1))
    # 3 × 19.99 = 59.97 at 5 % = 2.9985 → 2.99 (rounded down)
    assert entries(aff.creator.id) == [("pending", 299)]
    assert ledger.balances(aff.creator.id).pending_cents == 299
    attributed = db.session.scalar(select(LineAttribution))
    assert (attributed.source, attributed.link_id, attributed.rate_bps) == ("link", link.id, RATE)


def test_completed_orders_become_available_only_after_the_return_window_and_once(aff):
    link = attribution.share_link_for(aff.creator, product_id=aff.product_id, now=T0)
    click(link, aff.reader, T0)
    order = buy_paid(aff, at=T0)
    complete(aff, order.id, T0 + timedelta(days=2))
    assert release(T0 + timedelta(days=2) + WEEK - timedelta(minutes=1)) == 0
    assert release(T0 + timedelta(days=2) + WEEK + timedelta(minutes=1)) == 1
    assert release(T0 + timedelta(days=30)) == 0
    assert entries(aff.creator.id) == [("pending", 299), ("available", 299)]
    assert ledger.balances(aff.creator.id).available_cents == 299 and ledger.balances(aff.creator.id).pending_cents == 0


def test_a_paid_but_uncompleted_order_stays_pending(aff):
    link = attribution.share_link_for(aff.creator, product_id=aff.product_id, now=T0)
    click(link, aff.reader, T0)
    buy_paid(aff, at=T0)
    assert release(T0 + timedelta(days=60)) == 0


def test_a_partial_refund_reverses_the_same_fraction_at_the_stored_rate(aff):
    link = attribution.share_link_for(aff.creator, product_id=aff.product_id, now=T0)
    click(link, aff.reader, T0)
    order = buy_paid(aff, quantity=3, at=T0)
    catalog.set_product_commission(aff.merchant, aff.product_id, 2000)  # later rate changes move nothing
    refund_units(aff, order.id, 1, T0 + timedelta(hours=2))
    # what is left: floor(299 × 2 / 3) = 199, so 100 is reversed
    assert entries(aff.creator.id) == [("pending", 299), ("reversed", -100)]
    refund_units(aff, order.id, 2, T0 + timedelta(hours=3))
    assert entries(aff.creator.id) == [("pending", 299), ("reversed", -100), ("reversed", -199)]
    assert ledger.balances(aff.creator.id).pending_cents == 0
    complete_at = T0 + timedelta(days=1)
    assert release(complete_at + timedelta(days=30)) == 0  # never both reversed and available


def test_refunding_an_order_twice_reverses_once(aff):
    link = attribution.share_link_for(aff.creator, product_id=aff.product_id, now=T0)
    click(link, aff.reader, T0)
    order = buy_paid(aff, at=T0)
    refund_units(aff, order.id, None, T0 + timedelta(hours=1))
    with pytest.raises(Conflict):
        refund_units(aff, order.id, None, T0 + timedelta(hours=2))
    db.session.rollback()
    assert entries(aff.creator.id) == [("pending", 299), ("reversed", -299)]


def test_a_refund_after_payout_leaves_a_visible_debt_taken_from_the_next_earnings(aff, app):
    link = attribution.share_link_for(aff.creator, product_id=aff.product_id, now=T0)
    click(link, aff.reader, T0)
    order = buy_paid(aff, at=T0)
    complete(aff, order.id, T0 + timedelta(days=1))
    release(T0 + timedelta(days=9))
    payout = ledger.run_payout(aff.admin, "batch-1", 100, now=T0 + timedelta(days=9, hours=1))
    assert payout.total_cents == 299 and ledger.balances(aff.creator.id).paid_cents == 299
    # The shop later grants a goodwill refund of one unit after the window (the window was widened).
    app.config["ORDER_RETURN_WINDOW_DAYS"] = 30
    refund_units(aff, order.id, 1, T0 + timedelta(days=10))
    owed = ledger.balances(aff.creator.id)
    assert owed.available_cents == -100 and owed.owed_cents == 100 and owed.paid_cents == 299
    # Nothing is paid while owed…
    with pytest.raises(Invalid):
        ledger.run_payout(aff.admin, "batch-2", 1, now=T0 + timedelta(days=11))
    # …and the next earnings settle the debt first.
    app.config["ORDER_RETURN_WINDOW_DAYS"] = 7
    click(link, aff.reader, T0 + timedelta(days=12))
    second = buy_paid(aff, quantity=3, at=T0 + timedelta(days=12))
    complete(aff, second.id, T0 + timedelta(days=13))
    release(T0 + timedelta(days=21))
    assert ledger.balances(aff.creator.id).available_cents == 199
    paid = ledger.run_payout(aff.admin, "batch-3", 100, now=T0 + timedelta(days=21))
    assert paid.total_cents == 199
    final = ledger.balances(aff.creator.id)
    assert (final.pending_cents, final.available_cents, final.paid_cents) == (0, 0, 299 + 199)


def test_the_same_payout_batch_twice_pays_once(aff):
    link = attribution.share_link_for(aff.creator, product_id=aff.product_id, now=T0)
    click(link, aff.reader, T0)
    order = buy_paid(aff, at=T0)
    complete(aff, order.id, T0 + timedelta(days=1))
    release(T0 + timedelta(days=9))
    first = ledger.run_payout(aff.admin, "same", 100, now=T0 + timedelta(days=9))
    again = ledger.run_payout(aff.admin, "same", 100, now=T0 + timedelta(days=10))
    assert first.id == again.id
    assert db.session.scalar(select(func.count()).select_from(Payout)) == 1
    assert ledger.balances(aff.creator.id).paid_cents == 299
    assert "creator,299,2.99" in ledger.payout_csv(first)


def test_payouts_refuse_empty_negative_or_bad_minimums_and_non_admins(aff):
    with pytest.raises(Invalid):
        ledger.run_payout(aff.admin, "empty", 100)
    with pytest.raises(Invalid):
        ledger.run_payout(aff.admin, "negative-min", -5)
    with pytest.raises(Invalid):
        ledger.run_payout(aff.admin, "", 100)
    with pytest.raises(Invalid):
        ledger.run_payout(aff.admin, "for-someone", 1, user_ids=[aff.creator.id])
    with pytest.raises(Forbidden):
        ledger.run_payout(aff.creator, "mine", 1)
    assert db.session.scalar(select(func.count()).select_from(Payout)) == 0


def test_no_commission_on_your_own_link_or_note(aff):
    link = attribution.share_link_for(aff.creator, product_id=aff.product_id, now=T0)
    assert not click(link, aff.creator, T0)  # the sharer's own click does not count
    buy_paid(aff, buyer=aff.creator, address_id=_address_of(aff.creator), at=T0)
    assert entries() == [] and db.session.scalar(select(func.count()).select_from(LineAttribution)) == 0


def _address_of(user):
    from app.shop.models import Address

    return db.session.scalar(select(Address.id).where(Address.user_id == user.id))


def test_a_second_account_sharing_the_sharers_phone_earns_nothing_and_is_flagged(aff):
    from app.shop import cart

    link = attribution.share_link_for(aff.creator, product_id=aff.product_id, now=T0)
    alt, _ = buyer_with_address("alt")
    same_phone = cart.add_address(alt, recipient_name="Me again", phone="139-1111-2222", line1="elsewhere")
    click(link, alt, T0)
    buy_paid(aff, buyer=alt, address_id=same_phone.id, at=T0)
    assert entries() == []
    flag = db.session.scalar(select(AbuseFlag))
    assert (flag.sharer_id, flag.buyer_id, flag.kind) == (aff.creator.id, alt.id, "shared_contact")


def test_last_touch_wins_between_a_click_and_a_note_card(aff):
    from app.core.clock import frozen_at
    from app.shop import cart as carts
    from app.shop import checkout
    from app.shop.models import Cart
    from tests.shop.conftest import pay
    from tests.shop.conftest import user as make_user

    sharer = make_user("sharer")
    link = attribution.share_link_for(sharer, product_id=aff.product_id, now=T0)
    with frozen_at(T0):  # the card touch: put in the cart from the note at T0
        carts.add_to_cart(aff.reader, aff.sku_id, 1, source_post_id=aff.post_id)
        db.session.commit()
    click(link, aff.reader, T0 + timedelta(hours=1))  # then a newer share-link click
    cart = db.session.scalar(select(Cart).where(Cart.user_id == aff.reader.id))
    placed = checkout.place_orders(aff.reader, cart, aff.address_id, now=T0 + timedelta(hours=2))
    pay(placed.payment.id, now=T0 + timedelta(hours=2))
    winner = db.session.scalar(select(LineAttribution))
    assert (winner.beneficiary_id, winner.source, winner.link_id) == (sharer.id, "link", link.id)
    assert entries(aff.creator.id) == [] and entries(sharer.id) == [("pending", 99)]


def test_a_newer_note_card_beats_an_older_click(aff):
    from app.shop import checkout
    from tests.shop.conftest import pay
    from tests.shop.conftest import user as make_user

    sharer = make_user("sharer")
    link = attribution.share_link_for(sharer, product_id=aff.product_id, now=T0)
    click(link, aff.reader, T0)
    placed = checkout.place_orders(aff.reader, [{"sku_id": aff.sku_id, "quantity": 1, "source_post_id": aff.post_id}],
                                   aff.address_id, now=T0 + timedelta(hours=1))
    pay(placed.payment.id, now=T0 + timedelta(hours=1))
    winner = db.session.scalar(select(LineAttribution))
    assert (winner.beneficiary_id, winner.source) == (aff.creator.id, "note")


def test_a_note_card_buy_credits_the_note_author_when_no_click_is_newer(aff):
    from app.shop import checkout
    from tests.shop.conftest import pay

    placed = checkout.place_orders(aff.reader, [{"sku_id": aff.sku_id, "quantity": 1, "source_post_id": aff.post_id}],
                                   aff.address_id, now=T0)
    pay(placed.payment.id, now=T0)
    winner = db.session.scalar(select(LineAttribution))
    assert (winner.beneficiary_id, winner.source, winner.post_id) == (aff.creator.id, "note", aff.post_id)
    assert entries(aff.creator.id) == [("pending", 99)]  # 19.99 × 5 % = 0.9995 → 0.99


def test_a_click_older_than_the_window_attributes_nothing(aff):
    link = attribution.share_link_for(aff.creator, product_id=aff.product_id, now=T0)
    click(link, aff.reader, T0)
    buy_paid(aff, at=T0 + timedelta(days=7, minutes=1))
    assert entries() == []


def test_a_product_rate_above_the_site_maximum_is_refused(aff):
    with pytest.raises(Invalid):
        catalog.set_product_commission(aff.merchant, aff.product_id, 2001)
    with pytest.raises(Invalid):
        catalog.set_product_commission(aff.merchant, aff.product_id, -1)
    with pytest.raises(Invalid):
        catalog.create_product(aff.merchant, aff.shop_id, title="Too generous", commission_bps=2500)


@given(net=st.integers(min_value=0, max_value=10**9), rate=st.integers(min_value=0, max_value=2000),
       quantity=st.integers(min_value=1, max_value=99), data=st.data())
def test_commission_arithmetic_never_pays_more_than_the_rate_and_reverses_exactly(net, rate, quantity, data):
    commission = ledger.commission_for(net, rate)
    assert commission * 10_000 <= net * rate < (commission + 1) * 10_000
    refunded, reversed_total = 0, 0
    while refunded < quantity:
        step = data.draw(st.integers(min_value=1, max_value=quantity - refunded))
        left_before = commission - reversed_total
        refunded += step
        left = ledger.remaining_after_refund(commission, quantity, refunded)
        assert 0 <= left <= left_before
        reversed_total += left_before - left
    assert reversed_total == commission


def test_more_orders_than_one_batch_are_all_released_once_skipping_the_wholly_refunded(aff):
    link = attribution.share_link_for(aff.creator, product_id=aff.product_id, now=T0)
    order_ids = []
    for i in range(7):
        click(link, aff.reader, T0 + timedelta(minutes=i))
        order_ids.append(buy_paid(aff, quantity=1, at=T0 + timedelta(minutes=i, seconds=30)).id)
        complete(aff, order_ids[-1], T0 + timedelta(days=1))
    refund_units(aff, order_ids[2], None, T0 + timedelta(days=1, hours=1))  # wholly reversed: never available
    refund_units(aff, order_ids[4], 1, T0 + timedelta(days=1, hours=1))
    later = T0 + timedelta(days=1) + WEEK + timedelta(minutes=1)
    assert ledger.release_available_commissions(later, batch_size=2) == 5
    assert ledger.release_available_commissions(later, batch_size=2) == 0
    kinds = [kind for kind, _amount in entries(aff.creator.id)]
    assert kinds.count("available") == 5 and kinds.count("pending") == 7
    balance = ledger.balances(aff.creator.id)
    assert balance.pending_cents == 0 and balance.available_cents == 5 * 99
