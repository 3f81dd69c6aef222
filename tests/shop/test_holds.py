"""Stock hoarding: caps on what one buyer holds unpaid, the checkout rate limit, no self-attribution."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.accounts.models import User
from app.core.errors import Conflict, DomainError
from app.extensions import db
from app.shop import cart, checkout, orders, tags
from app.shop.checkout import HoldLimitReached
from app.shop.models import Order, OrderLine, OrderStatus, Sku
from tests import factories
from tests.shop.conftest import buy, buyer_with_address, fresh, open_shop, pay, product_with_sku, snapshot, user
from tests.shop.test_api import bearer, problem
from tests.social.conftest import is_postgres, sign_in
from tests.social.test_races import run_threads

NOW = datetime(2026, 3, 1, 12, 0)


@pytest.fixture
def caps(app):
    app.config["MAX_UNPAID_ORDERS"], app.config["MAX_HELD_UNITS_PER_SKU"] = 3, 5
    return app


# --- the caps, in the service -----------------------------------------------------------------------------

def test_a_buyer_cannot_hold_more_unpaid_orders_than_the_cap(world, caps):
    for _ in range(3):
        buy(world.buyer, world.address_id, world.sku_id, now=NOW)
    before = snapshot()
    with pytest.raises(HoldLimitReached) as refused:
        buy(world.buyer, world.address_id, world.sku_id, now=NOW)
    assert refused.value.status == 409 and "3 orders awaiting payment" in refused.value.message
    assert snapshot() == before  # nothing reserved, no order, no payment
    # Paying one frees a place; so does a reservation running out.
    pay(db.session.scalar(select(Order.payment_id).order_by(Order.id)), now=NOW)
    buy(world.buyer, world.address_id, world.sku_id, now=NOW)
    later = NOW + timedelta(minutes=16)
    buy(world.buyer, world.address_id, world.sku_id, now=later)


def test_a_multi_shop_checkout_counts_one_order_per_shop(world, caps):
    other = user("other")
    _, other_sku = product_with_sku(other, open_shop(other, world.admin).id, stock=5, title="Tent")
    buy(world.buyer, world.address_id, world.sku_id, now=NOW)
    buy(world.buyer, world.address_id, world.sku_id, now=NOW)
    with pytest.raises(HoldLimitReached):
        checkout.place_orders(world.buyer, [{"sku_id": world.sku_id, "quantity": 1},
                                            {"sku_id": other_sku.id, "quantity": 1}], world.address_id, now=NOW)


def test_a_buyer_cannot_hold_more_units_of_one_sku_than_the_cap(world, caps):
    buy(world.buyer, world.address_id, world.sku_id, 3, now=NOW)
    with pytest.raises(HoldLimitReached) as refused:
        buy(world.buyer, world.address_id, world.sku_id, 3, now=NOW)
    assert "lines.0.quantity" in refused.value.errors and "already hold 3" in refused.value.message
    buy(world.buyer, world.address_id, world.sku_id, 2, now=NOW)  # exactly at the cap
    assert fresh(Sku, world.sku_id).stock == 5
    _, plenty = product_with_sku(world.merchant, world.shop_id, stock=20, title="Brush")
    with pytest.raises(HoldLimitReached):  # one checkout alone above the cap
        buy(*buyer_with_address("fresh"), plenty.id, 6, now=NOW)


def test_units_held_by_other_buyers_or_paid_for_do_not_count(world, caps):
    placed = buy(world.buyer, world.address_id, world.sku_id, 5, now=NOW)
    other, other_address = buyer_with_address("other")
    buy(other, other_address, world.sku_id, 5, now=NOW)  # another buyer has a cap of their own
    pay(placed.payment.id, now=NOW)
    db.session.get(Sku, world.sku_id).stock = 10
    db.session.commit()
    buy(world.buyer, world.address_id, world.sku_id, 5, now=NOW)  # what was paid for is no longer a hold


def test_cancelling_frees_the_hold(world, caps):
    placed = buy(world.buyer, world.address_id, world.sku_id, 5, now=NOW)
    orders.cancel_order(world.buyer, placed.orders[0].id, now=NOW)
    buy(world.buyer, world.address_id, world.sku_id, 5, now=NOW)


# --- the caps, through the API and the page ---------------------------------------------------------------

def test_the_api_answers_a_hold_cap_with_a_409_problem(client, caps):
    with caps.app_context():
        admin, merchant = user("boss", is_admin=True), user("maker")
        _, sku = product_with_sku(merchant, open_shop(merchant, admin).id, stock=20)
        buyer, address_id = buyer_with_address("buyer")
        headers, sku_id = bearer(buyer), sku.id
    body = {"lines": [{"sku_id": sku_id, "quantity": 4}], "address_id": address_id}
    assert client.post("/api/v1/checkout", json=body, headers=headers).status_code == 201
    refused = problem(client.post("/api/v1/checkout", json=body, headers=headers), 409)
    assert refused["type"] == "urn:tastemaker:problem:hold-limit-reached"
    assert "at most 5" in refused["detail"] and "lines.0.quantity" in refused["errors"]
    with caps.app_context():
        assert db.session.get(Sku, sku_id).stock == 16


def test_the_checkout_page_shows_the_hold_cap_on_the_form(client, caps):
    with caps.app_context():
        admin, merchant = user("boss", is_admin=True), user("maker")
        _, sku = product_with_sku(merchant, open_shop(merchant, admin).id, stock=20, title="Glow serum")
        buyer, address_id = buyer_with_address("reader")
        buy(buyer, address_id, sku.id, 4)
        sku_id = sku.id
    sign_in(client, "reader")
    client.post_form("/cart/add", {"sku_id": sku_id, "quantity": "2"})
    response = client.post_form("/checkout", {"address_id": address_id, "action": "place"})
    assert response.status_code == 422
    assert "at most 5 of Glow serum unpaid" in response.get_data(as_text=True)
    zh = client.post_form("/checkout", {"address_id": address_id, "action": "place"},
                          headers={"Accept-Language": "zh-CN"})
    assert "未付款时最多只能为你保留 5 件Glow serum" in zh.get_data(as_text=True)
    with caps.app_context():
        assert db.session.scalar(select(func.count(Order.id))) == 1


# --- the checkout rate limit ------------------------------------------------------------------------------

def test_checkout_is_rate_limited_per_account_across_page_and_api(client, app):
    app.config["CHECKOUT_RATE_LIMIT"] = "3/minute"
    with app.app_context():
        admin, merchant = user("boss", is_admin=True), user("maker")
        _, sku = product_with_sku(merchant, open_shop(merchant, admin).id, stock=50)
        buyer, address_id = buyer_with_address("reader")
        headers, sku_id = bearer(buyer), sku.id
        other_headers = bearer(buyer_with_address("other")[0])
    body = {"lines": [{"sku_id": sku_id, "quantity": 1}], "address_id": address_id}
    codes = [client.post("/api/v1/checkout", json=body, headers=headers).status_code for _ in range(2)]
    sign_in(client, "reader")
    client.post_form("/cart/add", {"sku_id": sku_id, "quantity": "1"})
    client.post_form("/checkout", {"address_id": address_id, "coupon": "", "action": "apply"})  # not counted
    codes.append(client.post_form("/checkout", {"address_id": address_id, "action": "place"}).status_code)
    codes.append(client.post("/api/v1/checkout", json=body, headers=headers).status_code)
    assert codes == [201, 201, 302, 429]
    problem(client.post("/api/v1/checkout", json=body, headers=headers), 429)
    # Another account from the same address still has its own budget (its address budget is wider).
    other = client.post("/api/v1/checkout", json={**body, "address_id": 10**6}, headers=other_headers)
    assert other.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count(Order.id))) == 3


def test_checkout_is_rate_limited_per_address_whoever_is_signed_in(client, app):
    app.config["CHECKOUT_IP_RATE_LIMIT"] = "2/minute"
    with app.app_context():
        accounts = [bearer(user(f"sock{i}")) for i in range(3)]
    codes = [client.post("/api/v1/checkout", json={"lines": [], "address_id": 1}, headers=headers).status_code
             for headers in accounts]
    assert codes == [422, 422, 429]
    elsewhere = client.post("/api/v1/checkout", json={"lines": [], "address_id": 1}, headers=accounts[2],
                            environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert elsewhere.status_code == 422


# --- no self-attribution ----------------------------------------------------------------------------------

def test_a_creator_buying_from_their_own_note_is_not_credited(world):
    note = factories.post(author=world.buyer)
    tags.set_post_products(world.buyer, note, [world.product_id])
    placed = checkout.place_orders(world.buyer, [{"sku_id": world.sku_id, "quantity": 1,
                                                  "source_post_id": note.id}], world.address_id, now=NOW)
    line = placed.orders[0].lines[0]
    assert (line.source_post_id, line.source_author_id) == (None, None)
    cart.add_to_cart(world.buyer, world.sku_id, 1, source_post_id=note.id)  # nor through the cart
    assert cart.cart_of(world.buyer).items[0].source_post_id is None
    # Someone else buying from the same note credits its author.
    other, other_address = buyer_with_address("fan")
    placed = checkout.place_orders(other, [{"sku_id": world.sku_id, "quantity": 1, "source_post_id": note.id}],
                                   other_address, now=NOW)
    assert placed.orders[0].lines[0].source_author_id == world.buyer.id


# --- races (PostgreSQL) -----------------------------------------------------------------------------------

def test_one_buyers_concurrent_checkouts_cannot_pass_the_caps_together(app, world):
    if not is_postgres(app):
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    app.config["MAX_UNPAID_ORDERS"], app.config["MAX_HELD_UNITS_PER_SKU"] = 3, 100
    with app.app_context():
        sku = db.session.get(Sku, world.sku_id)
        sku.stock = 100
        db.session.commit()
        buyer_id, address_id, sku_id = world.buyer.id, world.address_id, world.sku_id

    results: list = []

    def attempt():
        try:
            buy(db.session.get(User, buyer_id), address_id, sku_id, 2, now=NOW)
            results.append("placed")
        except DomainError as exc:
            db.session.rollback()
            results.append(exc)

    run_threads(app, [attempt for _ in range(12)])
    with app.app_context():
        assert results.count("placed") == 3
        assert all(isinstance(result, HoldLimitReached) for result in results if result != "placed")
        assert db.session.scalar(select(func.count(Order.id))) == 3
        held = db.session.scalar(select(func.sum(OrderLine.quantity)))
        assert db.session.get(Sku, sku_id).stock == 100 - held == 94  # the stock invariant


def test_the_unit_cap_holds_under_concurrency_while_others_buy_the_same_sku(app, world):
    if not is_postgres(app):
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    app.config["MAX_UNPAID_ORDERS"], app.config["MAX_HELD_UNITS_PER_SKU"] = 50, 5
    with app.app_context():
        sku = db.session.get(Sku, world.sku_id)
        sku.stock = 12
        db.session.commit()
        hoarder = (world.buyer.id, world.address_id)
        others = [(buyer.id, address) for buyer, address in (buyer_with_address(f"b{i}") for i in range(6))]

    results: list = []

    def attempt(buyer_id, address_id):
        def job():
            try:
                buy(db.session.get(User, buyer_id), address_id, world.sku_id, 1, now=NOW)
                results.append(buyer_id)
            except DomainError as exc:
                db.session.rollback()
                results.append(exc)
        return job

    run_threads(app, [attempt(*hoarder) for _ in range(10)] + [attempt(*other) for other in others])
    with app.app_context():
        held = dict(db.session.execute(select(Order.buyer_id, func.sum(OrderLine.quantity))
                                       .join(OrderLine, OrderLine.order_id == Order.id)
                                       .where(Order.status == OrderStatus.PENDING_PAYMENT)
                                       .group_by(Order.buyer_id)).all())
        assert held[hoarder[0]] == 5  # never above the cap, and the cap was reached
        assert all(held.get(buyer_id) == 1 for buyer_id, _a in others)  # the others were not sold out
        assert db.session.get(Sku, world.sku_id).stock == 12 - sum(held.values()) == 1
        assert all(isinstance(r, Conflict) for r in results if not isinstance(r, int))
