"""An API client branches on the problem's stable `code`, never on its translated `detail`."""
from __future__ import annotations

from app.accounts.models import User
from app.core.errors import ProblemSchema
from app.extensions import db
from tests.shop.test_api import paid_order, place, problem, shop  # noqa: F401  (shop: the storefront fixture)

CHINESE = {"Accept-Language": "zh-CN"}


def coded(response, status: int, code: str) -> dict:
    body = problem(response, status)
    assert body["code"] == code, body
    assert body["type"] == f"urn:tastemaker:problem:{code}"
    return body


def test_stock_and_holds_have_their_own_codes_in_any_language(client, app, shop):  # noqa: F811
    checkout = {"lines": [{"sku_id": shop.sku_id, "quantity": 11}], "address_id": shop.address_id}
    english = coded(client.post("/api/v1/checkout", json=checkout, headers=shop.buyer), 422, "out-of-stock")
    chinese = coded(client.post("/api/v1/checkout", json=checkout, headers={**shop.buyer, **CHINESE}),
                    422, "out-of-stock")
    assert english["detail"] != chinese["detail"]  # the message is translated; the code is not
    gone = {"lines": [{"sku_id": 999_999, "quantity": 1}], "address_id": shop.address_id}
    coded(client.post("/api/v1/checkout", json=gone, headers=shop.buyer), 422, "items-unavailable")


def test_coupon_problems_are_coupon_invalid(client, app, shop):  # noqa: F811
    response = client.post("/api/v1/checkout", json={
        "lines": [{"sku_id": shop.sku_id, "quantity": 1}], "address_id": shop.address_id, "coupon_code": "NOPE"},
        headers={**shop.buyer, **CHINESE})
    coded(response, 422, "coupon-invalid")


def test_order_and_payment_codes(client, app, shop):  # noqa: F811
    placed = place(client, shop)
    order_id = placed["orders"][0]["id"]
    coded(client.post(f"/api/v1/orders/{order_id}/cancel", headers=shop.stranger), 403, "not-your-order")
    order = paid_order(client, app, shop)
    coded(client.post(f"/api/v1/payments/{order['payment_id']}/start", headers=shop.buyer), 409, "already-paid")
    coded(client.post(f"/api/v1/orders/{order['id']}/cancel", headers=shop.buyer), 409, "not-cancellable")
    coded(client.post(f"/api/v1/orders/{order['id']}/refunds", json={}, headers=shop.buyer), 403, "own-order")
    coded(client.post(f"/api/v1/orders/{order['id']}/refunds", json={}, headers=shop.rival), 403, "not-your-shop")


def test_follow_yourself_and_routing_problems_are_coded(client, app, shop):  # noqa: F811
    with app.app_context():
        name = db.session.get(User, shop.buyer_id).username
    coded(client.post(f"/api/v1/users/{name}/follow", headers=shop.buyer), 422, "self-follow")
    coded(client.get("/api/v1/no-such-route"), 404, "not-found")


def test_the_documented_problem_carries_the_code():
    schema = ProblemSchema()
    assert "code" in schema.fields and schema.fields["code"].required
