"""/api/v1 storefront routes: the same services as the pages, domain errors as problem+json, and bad input
that changes nothing."""
from __future__ import annotations

import io
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.accounts import services as accounts
from app.accounts.models import User
from app.core.clock import frozen_at, now
from app.extensions import db
from app.shop import coupons
from app.shop.models import Address, CartItem, Coupon, Order, OrderStatus, Product, Shop, Sku
from tests import factories
from tests.posts.conftest import image_bytes
from tests.shop.conftest import buyer_with_address, open_shop, pay, product_with_sku, snapshot, user

PROBLEM = "application/problem+json"


def bearer(account: User) -> dict:
    _token, secret = accounts.create_token(account, "test")
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def shop(app):
    """Two approved shops with one product each, a buyer with an address, and a bearer header per person."""
    with app.app_context():
        admin = user("boss", is_admin=True)
        merchant, rival = user("maker"), user("rival")
        maker_shop, rival_shop = open_shop(merchant, admin, "maker-shop"), open_shop(rival, admin, "rival-shop")
        product, sku = product_with_sku(merchant, maker_shop.id, price=1000, stock=10, title="Lip tint")
        rival_product, rival_sku = product_with_sku(rival, rival_shop.id, price=2500, stock=5, title="Tent")
        buyer, address_id = buyer_with_address("buyer")
        stranger, stranger_address = buyer_with_address("stranger")
        return SimpleNamespace(
            shop_id=maker_shop.id, rival_shop_id=rival_shop.id, product_id=product.id, sku_id=sku.id,
            rival_product_id=rival_product.id, rival_sku_id=rival_sku.id, address_id=address_id,
            stranger_address=stranger_address, admin=bearer(admin), merchant=bearer(merchant), rival=bearer(rival),
            buyer=bearer(buyer), stranger=bearer(stranger), buyer_id=buyer.id)


def state(app) -> dict:
    """What a refused request must leave as it was: the shop snapshot plus carts, addresses and catalog."""
    with app.app_context():
        return {
            **snapshot(),
            "cart": sorted(db.session.execute(select(CartItem.sku_id, CartItem.quantity)).all()),
            "addresses": sorted(db.session.execute(select(Address.id, Address.deleted_at)).all()),
            "products": sorted(db.session.execute(select(Product.id, Product.status)).all()),
            "skus": sorted(db.session.execute(select(Sku.id, Sku.price_cents, Sku.stock)).all()),
            "shops": sorted(db.session.execute(select(Shop.id, Shop.status)).all()),
            "coupons": sorted(db.session.execute(select(Coupon.id, Coupon.code)).all()),
        }


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:800]
    assert response.content_type == PROBLEM
    return response.json


def stock_of(app, sku_id: int) -> int:
    with app.app_context():
        return db.session.get(Sku, sku_id).stock


def place(client, shop, quantity: int = 1, **body) -> dict:
    response = client.post("/api/v1/checkout", json={
        "lines": [{"sku_id": shop.sku_id, "quantity": quantity}], "address_id": shop.address_id, **body},
        headers=shop.buyer)
    assert response.status_code == 201, response.json
    return response.json


def paid_order(client, app, shop, quantity: int = 2) -> dict:
    placed = place(client, shop, quantity)
    with app.app_context():
        assert pay(placed["payment_id"]).outcome == "paid"
    return client.get(f"/api/v1/orders/{placed['orders'][0]['id']}", headers=shop.buyer).json


# --- shops and catalog ------------------------------------------------------------------------------------

def test_apply_review_and_see_a_shop(client, app, shop):
    with app.app_context():
        applicant = bearer(user("newbie"))
    applied = client.post("/api/v1/shops", json={"slug": "new-shop", "name": "New shop"}, headers=applicant)
    assert applied.status_code == 201 and applied.json["status"] == "applied"
    problem(client.get("/api/v1/shops/new-shop"), 404)  # not public until approved
    assert client.get("/api/v1/shops/new-shop", headers=applicant).json["owner"] == "newbie"
    queue = client.get("/api/v1/admin/shops", headers=shop.admin).json["items"]
    assert [s["slug"] for s in queue] == ["new-shop"]
    problem(client.get("/api/v1/admin/shops", headers=shop.merchant), 403)
    problem(client.post(f"/api/v1/admin/shops/{applied.json['id']}/approve", headers=shop.merchant), 403)
    problem(client.post(f"/api/v1/admin/shops/{applied.json['id']}/reject", json={}, headers=shop.admin), 422)
    approved = client.post(f"/api/v1/admin/shops/{applied.json['id']}/approve", headers=shop.admin)
    assert approved.status_code == 200 and approved.json["status"] == "approved"
    assert client.get("/api/v1/shops/new-shop").json["name"] == "New shop"
    problem(client.post(f"/api/v1/admin/shops/{applied.json['id']}/reject", json={"reason": "late"},
                        headers=shop.admin), 409)
    problem(client.post("/api/v1/admin/shops/999999/approve", headers=shop.admin), 404)
    with app.app_context():
        assert db.session.scalar(select(User.is_merchant).where(User.username == "newbie")) is True


def test_bad_shop_applications_change_nothing(client, app, shop):
    before = state(app)
    bad_slug = problem(client.post("/api/v1/shops", json={"slug": "A!", "name": "x"}, headers=shop.buyer), 422)
    assert "slug" in bad_slug["errors"]
    taken = problem(client.post("/api/v1/shops", json={"slug": "maker-shop", "name": "Copy"}, headers=shop.buyer),
                    422)
    assert "slug" in taken["errors"]
    problem(client.post("/api/v1/shops", json={"slug": "second", "name": "Second"}, headers=shop.merchant), 409)
    problem(client.post("/api/v1/shops", json={"slug": "anon-shop", "name": "Anon"}), 401)
    assert state(app) == before


def test_merchant_builds_and_publishes_a_product(client, app, shop):
    created = client.post("/api/v1/shops/maker-shop/products", json={"title": "Cushion", "commission_bps": 800},
                          headers=shop.merchant)
    assert created.status_code == 201 and created.json["status"] == "draft", created.json
    product_id = created.json["id"]
    problem(client.get(f"/api/v1/products/{product_id}"), 404)  # drafts are the owner's
    assert client.get(f"/api/v1/products/{product_id}", headers=shop.merchant).json["title"] == "Cushion"
    problem(client.patch(f"/api/v1/products/{product_id}", json={"status": "active"}, headers=shop.merchant),
            409)  # no option yet
    sku = client.post(f"/api/v1/products/{product_id}/skus", json={"code": "CU-1", "label": "Ivory",
                                                                     "price_cents": 12_900, "stock": 4},
                      headers=shop.merchant)
    assert sku.status_code == 201 and sku.json["price_cents"] == 12_900 and sku.json["currency"] == "CNY"
    assert sku.json["stock_state"] == "low_stock"
    published = client.patch(f"/api/v1/products/{product_id}", json={"status": "active"}, headers=shop.merchant)
    assert published.status_code == 200 and published.json["status"] == "active"
    public = client.get(f"/api/v1/products/{product_id}").json
    assert public["shop"]["slug"] == "maker-shop" and public["commission_bps"] == 800
    assert [(s["code"], s["price_cents"], s["stock"]) for s in public["skus"]] == [("CU-1", 12_900, 4)]
    listing = client.get("/api/v1/shops/maker-shop/products?limit=1").json
    assert [p["id"] for p in listing["items"]] == [product_id] and listing["next_cursor"]
    rest = client.get(f"/api/v1/shops/maker-shop/products?cursor={listing['next_cursor']}").json
    assert [p["id"] for p in rest["items"]] == [shop.product_id] and rest["next_cursor"] is None
    more = client.post(f"/api/v1/skus/{sku.json['id']}/stock", json={"delta": 6}, headers=shop.merchant)
    assert more.status_code == 200 and more.json["stock"] == 10 and more.json["stock_state"] == "in_stock"
    images = client.post(f"/api/v1/products/{product_id}/images", headers=shop.merchant,
                         data={"images": [(io.BytesIO(image_bytes()), "a.png")]}, content_type="multipart/form-data")
    assert images.status_code == 200 and len(images.json["images"]) == 1
    assert images.json["images"][0]["url"].startswith("http://localhost/media/")
    archived = client.patch(f"/api/v1/products/{product_id}", json={"status": "archived"}, headers=shop.merchant)
    assert archived.json["status"] == "archived"
    problem(client.get(f"/api/v1/products/{product_id}", headers=shop.buyer), 404)


def test_merchants_cannot_touch_another_shops_catalog(client, app, shop):
    before = state(app)
    problem(client.post("/api/v1/shops/maker-shop/products", json={"title": "Fake"}, headers=shop.rival), 403)
    problem(client.post(f"/api/v1/products/{shop.product_id}/skus", json={"code": "X1", "price_cents": 1},
                        headers=shop.rival), 403)
    problem(client.post(f"/api/v1/skus/{shop.sku_id}/stock", json={"delta": 100}, headers=shop.rival), 403)
    problem(client.patch(f"/api/v1/products/{shop.product_id}", json={"status": "archived"}, headers=shop.buyer),
            403)
    problem(client.post(f"/api/v1/skus/{shop.sku_id}/stock", json={"delta": -11}, headers=shop.merchant), 422)
    problem(client.post(f"/api/v1/skus/{shop.sku_id}/stock", json={"delta": "lots"}, headers=shop.merchant), 422)
    bad_sku = problem(client.post(f"/api/v1/products/{shop.product_id}/skus",
                                  json={"code": "bad code!", "price_cents": 0, "stock": -1}, headers=shop.merchant),
                      422)
    assert {"code", "price_cents", "stock"} <= set(bad_sku["errors"])
    problem(client.patch(f"/api/v1/products/{shop.product_id}", json={"status": "sold"}, headers=shop.merchant), 422)
    problem(client.post("/api/v1/shops/nowhere/products", json={"title": "X"}, headers=shop.merchant), 404)
    assert state(app) == before


# --- cart and addresses -----------------------------------------------------------------------------------

def test_cart_add_change_remove(client, app, shop):
    assert client.get("/api/v1/cart", headers=shop.buyer).json["items"] == []
    added = client.post("/api/v1/cart/items", json={"sku_id": shop.sku_id, "quantity": 2}, headers=shop.buyer)
    assert added.status_code == 201
    [item] = added.json["items"]
    assert (item["sku_id"], item["quantity"], item["unit_price_cents"], item["currency"]) == (shop.sku_id, 2, 1000,
                                                                                           "CNY")
    assert item["shop"]["slug"] == "maker-shop" and item["product_title"] == "Lip tint"
    again = client.post("/api/v1/cart/items", json={"sku_id": shop.sku_id}, headers=shop.buyer).json
    assert again["items"][0]["quantity"] == 3
    changed = client.patch(f"/api/v1/cart/items/{item['id']}", json={"quantity": 5}, headers=shop.buyer)
    assert changed.status_code == 200 and changed.json["items"][0]["quantity"] == 5
    problem(client.patch(f"/api/v1/cart/items/{item['id']}", json={"quantity": 1}, headers=shop.stranger), 404)
    removed = client.delete(f"/api/v1/cart/items/{item['id']}", headers=shop.buyer)
    assert removed.status_code == 200 and removed.json["items"] == []
    problem(client.get("/api/v1/cart"), 401)
    problem(client.post("/api/v1/cart/items", json={"sku_id": shop.sku_id}), 401)


@pytest.mark.parametrize("quantity", [0, -1, "two", 1.5, None, True, 11, 100])
def test_bad_cart_quantities_change_nothing(client, app, shop, quantity):
    client.post("/api/v1/cart/items", json={"sku_id": shop.rival_sku_id, "quantity": 1}, headers=shop.buyer)
    item_id = client.get("/api/v1/cart", headers=shop.buyer).json["items"][0]["id"]
    before = state(app)
    refused = problem(client.post("/api/v1/cart/items", json={"sku_id": shop.sku_id, "quantity": quantity},
                                  headers=shop.buyer), 422)
    assert "quantity" in refused["errors"]
    if quantity != 0:  # 0 on an existing line means "remove it"
        problem(client.patch(f"/api/v1/cart/items/{item_id}", json={"quantity": quantity}, headers=shop.buyer),
                422)
    assert state(app) == before


def test_a_sku_of_another_product_is_refused_in_the_cart(client, app, shop):
    before = state(app)
    refused = problem(client.post("/api/v1/cart/items", json={"sku_id": shop.rival_sku_id, "quantity": 1,
                                                              "product_id": shop.product_id}, headers=shop.buyer), 422)
    assert "sku_id" in refused["errors"]
    assert state(app) == before


def test_items_not_for_sale_cannot_go_in_the_cart(client, app, shop):
    client.patch(f"/api/v1/products/{shop.product_id}", json={"status": "draft"}, headers=shop.merchant)
    before = state(app)
    for sku_id in (shop.sku_id, 999_999):
        problem(client.post("/api/v1/cart/items", json={"sku_id": sku_id}, headers=shop.buyer), 404)
    # beyond what an id column holds: malformed (the schema's maximum), not looked up
    problem(client.post("/api/v1/cart/items", json={"sku_id": 2**40}, headers=shop.buyer), 422)
    problem(client.patch("/api/v1/cart/items/99999999999", json={"quantity": 1}, headers=shop.buyer), 404)
    assert state(app) == before


def test_addresses(client, app, shop):
    listed = client.get("/api/v1/addresses", headers=shop.buyer).json["items"]
    assert [a["id"] for a in listed] == [shop.address_id]
    made = client.post("/api/v1/addresses", json={"recipient_name": "Han Meimei", "phone": "13900000000",
                                                  "line1": "2 River Street"}, headers=shop.buyer)
    assert made.status_code == 201 and made.json["line1"] == "2 River Street"
    before = state(app)
    missing = problem(client.post("/api/v1/addresses", json={"recipient_name": " ", "phone": "1", "line1": "x"},
                                  headers=shop.buyer), 422)
    assert "recipient_name" in missing["errors"]
    problem(client.delete(f"/api/v1/addresses/{made.json['id']}", headers=shop.stranger), 404)
    assert state(app) == before
    assert client.delete(f"/api/v1/addresses/{made.json['id']}", headers=shop.buyer).status_code == 204
    assert [a["id"] for a in client.get("/api/v1/addresses", headers=shop.buyer).json["items"]] == [shop.address_id]


# --- checkout ---------------------------------------------------------------------------------------------

def test_quote_then_check_out_the_cart_with_a_coupon(client, app, shop):
    coupon = client.post("/api/v1/coupons", json={"code": "spring10", "kind": "percent", "value": 10,
                                                  "shop": "maker-shop", "total_uses": 5}, headers=shop.merchant)
    assert coupon.status_code == 201 and coupon.json["code"] == "SPRING10" and coupon.json["uses_left"] == 5
    client.post("/api/v1/cart/items", json={"sku_id": shop.sku_id, "quantity": 2}, headers=shop.buyer)
    client.post("/api/v1/cart/items", json={"sku_id": shop.rival_sku_id, "quantity": 1}, headers=shop.buyer)
    before = state(app)
    quote = client.post("/api/v1/checkout/quote", json={"coupon_code": "spring10"}, headers=shop.buyer)
    assert quote.status_code == 200, quote.json
    assert (quote.json["subtotal_cents"], quote.json["discount_cents"], quote.json["total_cents"]) == (4500, 200,
                                                                                                      4300)
    assert quote.json["coupon"] == {"code": "SPRING10", "discount_cents": 200} and quote.json["currency"] == "CNY"
    mine, theirs = quote.json["orders"]
    assert (mine["shop"]["slug"], mine["total_cents"], theirs["total_cents"]) == ("maker-shop", 1800, 2500)
    assert mine["lines"] == [{"sku_id": shop.sku_id, "product_id": shop.product_id, "product_title": "Lip tint",
                              "sku_label": "Rose", "unit_price_cents": 1000, "quantity": 2,
                              "line_total_cents": 2000, "discount_cents": 200}]
    assert state(app) == before  # a quote changes nothing

    placed = client.post("/api/v1/checkout", json={"address_id": shop.address_id, "coupon_code": "SPRING10"},
                         headers=shop.buyer)
    assert placed.status_code == 201, placed.json
    body = placed.json
    assert body["amount_cents"] == 4300 == sum(order["total_cents"] for order in body["orders"])
    assert body["redirect_url"] == f"http://localhost/pay/sandbox/{body['payment_id']}"
    assert [o["status"] for o in body["orders"]] == ["pending_payment", "pending_payment"]
    assert (stock_of(app, shop.sku_id), stock_of(app, shop.rival_sku_id)) == (8, 4)
    assert client.get("/api/v1/cart", headers=shop.buyer).json["items"] == []
    with app.app_context():
        assert db.session.scalar(select(Coupon.uses_left)) == 4

    payment = client.get(f"/api/v1/payments/{body['payment_id']}", headers=shop.buyer).json
    assert (payment["status"], payment["amount_cents"], payment["currency"]) == ("created", 4300, "CNY")
    assert payment["redirect_url"] == body["redirect_url"] and payment["refusal"] is None
    assert sorted(payment["order_ids"]) == sorted(o["id"] for o in body["orders"])
    problem(client.get(f"/api/v1/payments/{body['payment_id']}", headers=shop.stranger), 404)
    started = client.post(f"/api/v1/payments/{body['payment_id']}/start", headers=shop.buyer)
    assert started.status_code == 200 and started.json["redirect_url"] == body["redirect_url"]

    with app.app_context():
        assert pay(body["payment_id"]).outcome == "paid"
    paid = client.get(f"/api/v1/payments/{body['payment_id']}", headers=shop.buyer).json
    assert paid["status"] == "succeeded" and paid["redirect_url"] is None and paid["refusal"]
    problem(client.post(f"/api/v1/payments/{body['payment_id']}/start", headers=shop.buyer), 409)
    mine = client.get("/api/v1/orders", headers=shop.buyer).json
    assert {o["status"] for o in mine["items"]} == {"paid"} and len(mine["items"]) == 2
    detail = client.get(f"/api/v1/orders/{body['orders'][0]['id']}", headers=shop.buyer).json
    assert [(e["from_status"], e["to_status"]) for e in detail["events"]] == [(None, "pending_payment"),
                                                                           ("pending_payment", "paid")]
    assert detail["lines"][0]["discount_cents"] == 200 and detail["shipping_name"] == "Li Lei"


def test_tampered_prices_in_the_body_are_ignored_or_refused(client, app, shop):
    before = state(app)
    stale = problem(client.post("/api/v1/checkout", json={
        "lines": [{"sku_id": shop.sku_id, "quantity": 1, "unit_price_cents": 1}], "address_id": shop.address_id},
        headers=shop.buyer), 422)
    assert "lines.0.unit_price_cents" in stale["errors"]
    assert state(app) == before
    placed = place(client, shop, 2, total_cents=1, amount_cents=1, discount_cents=1999,
                   lines=[{"sku_id": shop.sku_id, "quantity": 2, "unit_price_cents": 1000, "line_total_cents": 2,
                           "discount_cents": 1999}])
    assert placed["amount_cents"] == 2000 and placed["orders"][0]["total_cents"] == 2000
    assert placed["orders"][0]["discount_cents"] == 0


def test_bad_checkouts_are_problems_that_change_nothing(client, app, shop):
    with app.app_context():
        maker = db.session.scalar(select(User).where(User.username == "maker"))
        yesterday = now() - timedelta(days=1)
        coupons.create_coupon(maker, code="OLD", kind="fixed", value=100, shop_id=shop.shop_id,
                              starts_at=yesterday - timedelta(days=7), ends_at=yesterday)
    client.post("/api/v1/coupons", json={"code": "TENTS", "kind": "fixed", "value": 100, "shop": "rival-shop"},
                headers=shop.rival)
    line = {"sku_id": shop.sku_id, "quantity": 1}
    cases = [
        ({}, "lines"),  # the cart is empty
        ({"lines": []}, "lines"),
        ({"lines": [{**line, "quantity": 0}]}, "lines.0.quantity"),
        ({"lines": [{**line, "quantity": -3}]}, "lines.0.quantity"),
        ({"lines": [{**line, "quantity": "two"}]}, "lines"),
        ({"lines": [{**line, "quantity": 11}]}, "lines.0.quantity"),  # above the stock of 10
        ({"lines": [{**line, "product_id": shop.rival_product_id}]}, "lines.0.sku_id"),  # another product's SKU
        ({"lines": [{"sku_id": 2**40, "quantity": 1}]}, "lines"),  # beyond an id column: the schema refuses it
        ({"lines": [line], "coupon_code": "OLD"}, "coupon_code"),  # expired
        ({"lines": [line], "coupon_code": "TENTS"}, "coupon_code"),  # another shop's
        ({"lines": [line], "coupon_code": "NOSUCH"}, "coupon_code"),
    ]
    before = state(app)
    for body, field in cases:
        quoted = problem(client.post("/api/v1/checkout/quote", json=body, headers=shop.buyer), 422)
        assert field in quoted["errors"], (body, quoted)
        refused = problem(client.post("/api/v1/checkout", json={**body, "address_id": shop.address_id},
                                      headers=shop.buyer), 422)
        assert field in refused["errors"], (body, refused)
    expired = client.post("/api/v1/checkout/quote", json={"lines": [line], "coupon_code": "OLD"}, headers=shop.buyer)
    assert "expired" in expired.json["detail"]
    for address_id in (shop.stranger_address, 999_999):
        refused = problem(client.post("/api/v1/checkout", json={"lines": [line], "address_id": address_id},
                                      headers=shop.buyer), 422)
        assert "address_id" in refused["errors"]
    problem(client.post("/api/v1/checkout", json={"lines": [line]}, headers=shop.buyer), 422)
    problem(client.post("/api/v1/checkout", json={"lines": [line], "address_id": shop.address_id}), 401)
    assert state(app) == before


def test_an_order_whose_reservation_expired_cannot_be_paid(client, app, shop):
    placed = place(client, shop, 3)
    with frozen_at(now() + timedelta(minutes=16)):
        before = state(app)
        refused = problem(client.post(f"/api/v1/payments/{placed['payment_id']}/start", headers=shop.buyer), 409)
        assert "no longer held" in refused["detail"]
        shown = client.get(f"/api/v1/payments/{placed['payment_id']}", headers=shop.buyer).json
        assert shown["redirect_url"] is None and "no longer held" in shown["refusal"]
        assert state(app) == before
    assert stock_of(app, shop.sku_id) == 7


def test_the_buyer_cancels_an_unpaid_order(client, app, shop):
    placed = place(client, shop, 2)
    order_id = placed["orders"][0]["id"]
    before = state(app)
    problem(client.post(f"/api/v1/orders/{order_id}/cancel", headers=shop.stranger), 403)
    problem(client.get(f"/api/v1/orders/{order_id}", headers=shop.stranger), 404)
    problem(client.post(f"/api/v1/orders/{order_id}/confirm", headers=shop.buyer), 409)  # not shipped
    problem(client.post(f"/api/v1/orders/{order_id}/ship", json={"tracking_number": "SF1"}, headers=shop.merchant),
            409)  # not paid
    assert state(app) == before
    cancelled = client.post(f"/api/v1/orders/{order_id}/cancel", headers=shop.buyer)
    assert cancelled.status_code == 200 and [o["status"] for o in cancelled.json["items"]] == ["cancelled"]
    assert stock_of(app, shop.sku_id) == 10
    problem(client.post(f"/api/v1/orders/{order_id}/cancel", headers=shop.buyer), 409)
    problem(client.get("/api/v1/orders/99999999999", headers=shop.buyer), 404)


# --- merchant operations on orders ------------------------------------------------------------------------

def test_ship_confirm_and_refund_with_permissions(client, app, shop):
    order = paid_order(client, app, shop, quantity=3)
    order_id, line_id = order["id"], order["lines"][0]["id"]
    to_ship = client.get("/api/v1/shops/maker-shop/orders?status=paid", headers=shop.merchant).json
    assert [o["id"] for o in to_ship["items"]] == [order_id] and to_ship["items"][0]["buyer"] == "buyer"
    assert client.get("/api/v1/shops/maker-shop/orders?status=shipped", headers=shop.merchant).json["items"] == []

    before = state(app)
    problem(client.get("/api/v1/shops/maker-shop/orders", headers=shop.rival), 403)
    problem(client.get("/api/v1/shops/maker-shop/orders?status=lost", headers=shop.merchant), 422)
    problem(client.post(f"/api/v1/orders/{order_id}/ship", json={"tracking_number": "SF1"}, headers=shop.rival), 403)
    problem(client.post(f"/api/v1/orders/{order_id}/ship", json={"tracking_number": "SF1"}, headers=shop.buyer), 403)
    problem(client.post(f"/api/v1/orders/{order_id}/ship", json={"tracking_number": "  "}, headers=shop.merchant),
            422)
    problem(client.post(f"/api/v1/orders/{order_id}/refunds", json={}, headers=shop.buyer), 403)  # own order
    problem(client.post(f"/api/v1/orders/{order_id}/refunds", json={}, headers=shop.rival), 403)
    for quantities in ({str(line_id): 0}, {str(line_id): 4}, {"999999": 1}, {str(line_id): "one"}):
        problem(client.post(f"/api/v1/orders/{order_id}/refunds", json={"quantities": quantities},
                            headers=shop.merchant), 422)
    assert state(app) == before

    refund = client.post(f"/api/v1/orders/{order_id}/refunds", json={"quantities": {str(line_id): 1},
                                                                     "reason": "dented"}, headers=shop.merchant)
    assert refund.status_code == 201, refund.json
    assert (refund.json["amount_cents"], refund.json["currency"], refund.json["reason"]) == (1000, "CNY", "dented")
    assert refund.json["lines"] == [{"order_line_id": line_id, "quantity": 1, "amount_cents": 1000}]
    assert stock_of(app, shop.sku_id) == 8  # a unit refunded before shipping goes back on the shelf

    shipped = client.post(f"/api/v1/orders/{order_id}/ship", json={"tracking_number": "SF 123"},
                          headers=shop.merchant)
    assert shipped.status_code == 200 and shipped.json["status"] == "shipped"
    assert shipped.json["tracking_number"] == "SF 123"
    problem(client.post(f"/api/v1/orders/{order_id}/confirm", headers=shop.merchant), 404)  # the buyer's to say
    confirmed = client.post(f"/api/v1/orders/{order_id}/confirm", headers=shop.buyer)
    assert confirmed.status_code == 200 and confirmed.json["status"] == "completed"

    rest = client.post(f"/api/v1/orders/{order_id}/refunds", json={"reason": "returned"}, headers=shop.admin)
    assert rest.status_code == 201 and rest.json["amount_cents"] == 2000
    final = client.get(f"/api/v1/orders/{order_id}", headers=shop.merchant).json
    assert (final["status"], final["refunded_cents"], final["lines"][0]["refunded_quantity"]) == ("refunded", 3000, 3)
    problem(client.post(f"/api/v1/orders/{order_id}/refunds", json={}, headers=shop.merchant), 409)
    with app.app_context():
        assert db.session.get(Order, order_id).status == OrderStatus.REFUNDED


def test_order_pages_are_cursor_paginated(client, app, shop):
    ids = [place(client, shop)["orders"][0]["id"] for _ in range(3)]
    first = client.get("/api/v1/orders?limit=2", headers=shop.buyer).json
    second = client.get(f"/api/v1/orders?limit=2&cursor={first['next_cursor']}", headers=shop.buyer).json
    assert [o["id"] for o in first["items"] + second["items"]] == ids[::-1] and second["next_cursor"] is None
    problem(client.get("/api/v1/orders?cursor=forged", headers=shop.buyer), 422)
    assert client.get("/api/v1/orders", headers=shop.stranger).json["items"] == []
    merchant_view = client.get("/api/v1/shops/maker-shop/orders?status=pending_payment", headers=shop.merchant).json
    assert len(merchant_view["items"]) == 3


# --- coupons ----------------------------------------------------------------------------------------------

def test_coupons_for_own_shop_or_site_wide(client, app, shop):
    made = client.post("/api/v1/coupons", json={
        "code": "may", "kind": "fixed", "value": 500, "shop": "maker-shop", "min_spend_cents": 3000,
        "starts_at": "2026-05-01T08:00:00+08:00", "ends_at": "2026-06-01T00:00:00", "per_user_limit": 1},
        headers=shop.merchant)
    assert made.status_code == 201, made.json
    assert (made.json["shop_id"], made.json["min_spend_cents"], made.json["currency"]) == (shop.shop_id, 3000, "CNY")
    assert made.json["starts_at"].startswith("2026-05-01T00:00:00")  # stored in UTC
    before = state(app)
    problem(client.post("/api/v1/coupons", json={"code": "x", "kind": "fixed", "value": 1, "shop": "rival-shop"},
                        headers=shop.merchant), 403)
    problem(client.post("/api/v1/coupons", json={"code": "all", "kind": "fixed", "value": 1}, headers=shop.merchant),
            403)
    problem(client.post("/api/v1/coupons", json={"code": "MAY", "kind": "fixed", "value": 1, "shop": "maker-shop"},
                        headers=shop.merchant), 422)  # taken
    problem(client.post("/api/v1/coupons", json={"code": "p", "kind": "percent", "value": 150, "shop": "maker-shop"},
                        headers=shop.merchant), 422)
    problem(client.post("/api/v1/coupons", json={"code": "k", "kind": "bogo", "value": 1}, headers=shop.admin), 422)
    problem(client.post("/api/v1/coupons", json={"code": "d", "kind": "fixed", "value": 1, "shop": "maker-shop",
                                                 "starts_at": "2026-06-02", "ends_at": "2026-06-01"},
                        headers=shop.merchant), 422)
    problem(client.get("/api/v1/shops/maker-shop/coupons", headers=shop.rival), 403)
    assert state(app) == before
    site = client.post("/api/v1/coupons", json={"code": "welcome", "kind": "percent", "value": 5}, headers=shop.admin)
    assert site.status_code == 201 and site.json["shop_id"] is None
    listed = client.get("/api/v1/shops/maker-shop/coupons", headers=shop.merchant).json["items"]
    assert [c["code"] for c in listed] == ["MAY"]


# --- the document -----------------------------------------------------------------------------------------

def test_storefront_routes_are_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").json
    expected = [
        ("/api/v1/shops", "post"), ("/api/v1/shops/{slug}", "get"), ("/api/v1/shops/{slug}/products", "get"),
        ("/api/v1/shops/{slug}/products", "post"), ("/api/v1/admin/shops", "get"),
        ("/api/v1/admin/shops/{shop_id}/approve", "post"), ("/api/v1/admin/shops/{shop_id}/reject", "post"),
        ("/api/v1/products/{product_id}", "get"), ("/api/v1/products/{product_id}", "patch"),
        ("/api/v1/products/{product_id}/images", "post"), ("/api/v1/products/{product_id}/skus", "post"),
        ("/api/v1/skus/{sku_id}/stock", "post"), ("/api/v1/cart", "get"), ("/api/v1/cart/items", "post"),
        ("/api/v1/cart/items/{item_id}", "patch"), ("/api/v1/cart/items/{item_id}", "delete"),
        ("/api/v1/addresses", "get"), ("/api/v1/addresses", "post"), ("/api/v1/addresses/{address_id}", "delete"),
        ("/api/v1/checkout/quote", "post"), ("/api/v1/checkout", "post"), ("/api/v1/orders", "get"),
        ("/api/v1/orders/{order_id}", "get"), ("/api/v1/orders/{order_id}/cancel", "post"),
        ("/api/v1/orders/{order_id}/confirm", "post"), ("/api/v1/orders/{order_id}/ship", "post"),
        ("/api/v1/orders/{order_id}/refunds", "post"), ("/api/v1/shops/{slug}/orders", "get"),
        ("/api/v1/payments/{payment_id}", "get"), ("/api/v1/payments/{payment_id}/start", "post"),
        ("/api/v1/coupons", "post"), ("/api/v1/shops/{slug}/coupons", "get"),
    ]
    for path, method in expected:
        assert method in spec["paths"][path], (path, method)
        assert spec["paths"][path][method]["summary"], (path, method)  # the docstring lands in the document
    schemas = spec["components"]["schemas"]
    assert {"subtotal_cents", "discount_cents", "total_cents", "currency"} <= set(schemas["Quote"]["properties"])
    assert {"total_cents", "currency", "lines", "tracking_number"} <= set(schemas["Order"]["properties"])
    order_id = next(p for p in spec["paths"]["/api/v1/orders/{order_id}"]["parameters"] if p["name"] == "order_id")
    assert order_id["schema"]["maximum"] == 2**31 - 1


def test_a_product_tells_its_rating_the_notes_featuring_it_and_what_buyers_also_bought(client, app, shop):
    from app.posts.models import KIND_REVIEW
    from app.shop import tags

    with app.app_context():
        creator = user("apireviewer")
        review = factories.post(author=creator, kind=KIND_REVIEW, rating=4)
        tags.set_post_products(creator, review, [shop.product_id], reviewed_product_id=shop.product_id)
        review_id = review.id
    body = client.get(f"/api/v1/products/{shop.product_id}").json
    assert body["rating"] == {"average": 4.0, "count": 1, "verified_average": None, "verified_count": 0}
    assert body["featuring_post_ids"] == [review_id]
    assert body["also_bought_ids"] == []
    spec = client.get("/api/v1/openapi.json").json
    assert "rating" in spec["components"]["schemas"]["ProductDetail"]["properties"]
