"""POST /api/v1/checkout with an Idempotency-Key: a retried request answers the first checkout, never a
second one, and a key is only recorded with a checkout that was placed."""
from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from app.accounts.models import User
from app.core.clock import frozen_at, now
from app.core.errors import DomainError
from app.extensions import db
from app.shop import cart, checkout
from app.shop.models import CheckoutKey, Order, Payment, Sku
from tests.shop.conftest import buyer_with_address, open_shop, pay, product_with_sku, user
from tests.shop.test_api import bearer, problem, state
from tests.social.conftest import is_postgres
from tests.social.test_races import run_threads


@pytest.fixture
def shop(app):
    """A shop selling one option (10 in stock at 10.00), a buyer with two addresses, and another buyer."""
    with app.app_context():
        admin, merchant = user("boss", is_admin=True), user("maker")
        maker_shop = open_shop(merchant, admin, "maker-shop")
        _product, sku = product_with_sku(merchant, maker_shop.id, price=1000, stock=10, title="Lip tint")
        buyer, address_id = buyer_with_address("buyer")
        second_address = cart.add_address(buyer, recipient_name="Han Meimei", phone="13900000000",
                                          line1="2 River Road").id
        other, other_address = buyer_with_address("other")
        return SimpleNamespace(sku_id=sku.id, buyer_id=buyer.id, address_id=address_id,
                               second_address=second_address, other_address=other_address,
                               buyer=bearer(buyer), other=bearer(other))


def body(shop, quantity: int = 2, **extra) -> dict:
    return {"lines": [{"sku_id": shop.sku_id, "quantity": quantity}], "address_id": shop.address_id, **extra}


def post(client, shop, json: dict, key: str | None, headers: dict | None = None):
    headers = dict(headers or shop.buyer)
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post("/api/v1/checkout", json=json, headers=headers)


def counts(app) -> dict:
    with app.app_context():
        return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
                for model in (Payment, Order, CheckoutKey)} | {"stock": db.session.scalar(select(Sku.stock))}


def test_a_retry_with_the_same_key_answers_the_same_checkout_and_takes_stock_once(client, app, shop):
    first = post(client, shop, body(shop), "order-7f3a")
    assert first.status_code == 201, first.json
    again = post(client, shop, body(shop), "order-7f3a")
    assert again.status_code == 200, again.json
    assert again.json["payment_id"] == first.json["payment_id"]
    assert [o["id"] for o in again.json["orders"]] == [o["id"] for o in first.json["orders"]]
    assert again.json["redirect_url"] == first.json["redirect_url"] \
        == f"http://localhost/pay/sandbox/{first.json['payment_id']}"
    assert again.json["amount_cents"] == 2000 and again.json["refusal"] is None
    assert counts(app) == {"Payment": 1, "Order": 1, "CheckoutKey": 1, "stock": 8}
    with app.app_context():
        assert db.session.scalar(select(CheckoutKey.payment_id)) == first.json["payment_id"]

    # The key is the buyer's own: someone else sending it places their own checkout.
    theirs = post(client, shop, {**body(shop), "address_id": shop.other_address}, "order-7f3a", shop.other)
    assert theirs.status_code == 201 and theirs.json["payment_id"] != first.json["payment_id"]
    assert counts(app) == {"Payment": 2, "Order": 2, "CheckoutKey": 2, "stock": 6}


def test_a_retried_cart_checkout_answers_the_checkout_that_emptied_the_cart(client, app, shop):
    client.post("/api/v1/cart/items", json={"sku_id": shop.sku_id, "quantity": 3}, headers=shop.buyer)
    first = post(client, shop, {"address_id": shop.address_id}, "cart-1")
    assert first.status_code == 201, first.json
    assert client.get("/api/v1/cart", headers=shop.buyer).json["items"] == []
    again = post(client, shop, {"address_id": shop.address_id}, "cart-1")
    assert again.status_code == 200, again.json  # not "your cart is empty"
    assert again.json["payment_id"] == first.json["payment_id"]
    assert counts(app) == {"Payment": 1, "Order": 1, "CheckoutKey": 1, "stock": 7}


def test_a_retry_after_payment_shows_the_checkout_as_it_now_stands(client, app, shop):
    first = post(client, shop, body(shop), "paid-later")
    with app.app_context():
        assert pay(first.json["payment_id"]).outcome == "paid"
    again = post(client, shop, body(shop), "paid-later")
    assert again.status_code == 200, again.json
    assert again.json["payment_id"] == first.json["payment_id"]
    assert [o["status"] for o in again.json["orders"]] == ["paid"]
    assert again.json["redirect_url"] is None and "already been paid" in again.json["refusal"]
    assert counts(app) == {"Payment": 1, "Order": 1, "CheckoutKey": 1, "stock": 8}


def test_the_same_key_with_a_different_body_is_refused_and_changes_nothing(client, app, shop):
    assert post(client, shop, body(shop), "one-key").status_code == 201
    before = state(app), counts(app)
    for different in (body(shop, 3), {**body(shop), "address_id": shop.second_address},
                      body(shop, coupon_code="SPRING"), {"address_id": shop.address_id}):
        refused = problem(post(client, shop, different, "one-key"), 422)
        assert "different checkout request" in refused["detail"], different
        assert "Idempotency-Key" in refused["errors"]
    assert (state(app), counts(app)) == before


@pytest.mark.parametrize("key", ["", "x" * 101, "clé", "键", "tab\there", "del\x7f"])
def test_a_malformed_key_is_refused_and_changes_nothing(client, app, shop, key):
    before = state(app), counts(app)
    refused = problem(post(client, shop, body(shop), key), 422)
    assert "1 to 100 printable ASCII characters" in refused["detail"]
    assert "Idempotency-Key" in refused["errors"]
    assert (state(app), counts(app)) == before


def test_the_longest_key_and_any_printable_character_are_accepted(client, app, shop):
    longest = "k" * 90 + " ~!@#$%^&*"
    assert post(client, shop, body(shop), longest).status_code == 201
    assert post(client, shop, body(shop), longest).status_code == 200
    assert counts(app)["CheckoutKey"] == 1


def test_a_refused_checkout_records_no_key_so_a_fixed_retry_with_it_succeeds(client, app, shop):
    before = state(app), counts(app)
    sold_out = problem(post(client, shop, body(shop, 11), "fix-me"), 422)  # 10 in stock
    assert "Only 10 left" in str(sold_out["errors"])
    assert (state(app), counts(app)) == before  # the key's row went with the refused checkout
    fixed = post(client, shop, body(shop, 10), "fix-me")
    assert fixed.status_code == 201, fixed.json
    assert counts(app) == {"Payment": 1, "Order": 1, "CheckoutKey": 1, "stock": 0}


def test_a_key_older_than_a_day_is_forgotten(client, app, shop):
    first = post(client, shop, body(shop), "old-key")
    with frozen_at(now() + timedelta(hours=23)):
        assert post(client, shop, body(shop, 3), "old-key").status_code == 422
    with frozen_at(now() + timedelta(hours=25)):
        later = post(client, shop, body(shop, 3), "old-key")
    assert later.status_code == 201, later.json
    assert later.json["payment_id"] != first.json["payment_id"]
    assert counts(app) == {"Payment": 2, "Order": 2, "CheckoutKey": 1, "stock": 5}
    with app.app_context():
        assert db.session.scalar(select(CheckoutKey.payment_id)) == later.json["payment_id"]


def test_without_a_key_every_request_is_a_new_checkout(client, app, shop):
    assert post(client, shop, body(shop), None).status_code == 201
    assert post(client, shop, body(shop), None).status_code == 201
    assert counts(app) == {"Payment": 2, "Order": 2, "CheckoutKey": 0, "stock": 6}


def test_the_header_is_in_the_openapi_document(client):
    operation = client.get("/api/v1/openapi.json").json["paths"]["/api/v1/checkout"]["post"]
    header = next(p for p in operation["parameters"] if p["name"] == "Idempotency-Key")
    assert header["in"] == "header" and not header["required"]
    assert {"200", "201"} <= set(operation["responses"])


# --- races (PostgreSQL) -----------------------------------------------------------------------------------

def _racers(app, shop, bodies: list[dict], key: str) -> list:
    results: list = []

    def job(request_body):
        def run():
            buyer = db.session.get(User, shop.buyer_id)
            try:
                started = checkout.check_out(buyer, request_body["lines"], request_body["address_id"],
                                             idempotency_key=key)
                results.append((started.payment.id, started.replayed, request_body["lines"][0]["quantity"]))
            except DomainError as exc:
                db.session.rollback()
                results.append(exc)
        return run

    run_threads(app, [job(request_body) for request_body in bodies])
    return results


def test_racing_retries_with_one_key_place_one_checkout(app, shop):
    if not is_postgres(app):
        pytest.skip("SQLite serialises writers; the races need PostgreSQL")
    results = _racers(app, shop, [body(shop, 3)] * 8, "racing-key")
    assert len(results) == 8 and all(isinstance(result, tuple) for result in results), results
    assert len({payment_id for payment_id, _replayed, _q in results}) == 1
    assert sorted(replayed for _p, replayed, _q in results) == [False] + [True] * 7
    assert counts(app) == {"Payment": 1, "Order": 1, "CheckoutKey": 1, "stock": 7}


def test_racing_requests_with_one_key_and_different_bodies_place_one_checkout(app, shop):
    if not is_postgres(app):
        pytest.skip("SQLite serialises writers; the races need PostgreSQL")
    results = _racers(app, shop, [body(shop, 2), body(shop, 3)] * 4, "shared-key")
    answered = [result for result in results if isinstance(result, tuple)]
    refused = [result for result in results if not isinstance(result, tuple)]
    assert len({payment_id for payment_id, _replayed, _q in answered}) == 1
    assert len({quantity for _p, _replayed, quantity in answered}) == 1  # only the winner's body is answered
    assert len(answered) == len(refused) == 4
    assert all("different checkout request" in exc.message for exc in refused)
    winner = answered[0][2]
    assert counts(app) == {"Payment": 1, "Order": 1, "CheckoutKey": 1, "stock": 10 - winner}


def test_the_checkout_form_sent_several_times_at_once_places_one_checkout(app, client, shop):
    """The page's one-time token is its idempotency key: concurrent sendings of one form (a double-click
    while the first request is still running) place one checkout and all lead to its payment."""
    if not is_postgres(app):
        pytest.skip("SQLite serialises writers; the races need PostgreSQL")
    import re

    from tests.social.conftest import sign_in

    with app.app_context():
        cart.add_to_cart(db.session.get(User, shop.buyer_id), shop.sku_id, 2)
    sign_in(client, "buyer")
    html = client.get("/checkout").get_data(as_text=True)
    token = re.search(r'name="checkout_token" type="hidden" value="([^"]+)"', html).group(1)
    fields = {"address_id": shop.address_id, "action": "place", "checkout_token": token,
              "csrf_token": client.csrf_token()}
    session_cookie = client.get_cookie("session").value
    answers: list = []

    def send():
        browser = app.test_client()
        browser.set_cookie("session", session_cookie)
        answers.append(browser.post("/checkout", data=fields))

    run_threads(app, [send] * 4)
    assert [answer.status_code for answer in answers] == [302] * 4
    assert len({answer.headers["Location"] for answer in answers}) == 1
    assert "/pay/sandbox/" in answers[0].headers["Location"]
    assert counts(app) == {"Payment": 1, "Order": 1, "CheckoutKey": 1, "stock": 8}
