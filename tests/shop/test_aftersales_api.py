"""After-sales over /api/v1: the same rules as the pages, problem+json on bad input, nothing changed."""
from __future__ import annotations

import io

from sqlalchemy import func, select

from app.accounts import services as accounts
from app.extensions import db
from app.shop import orders
from app.shop.aftersale_models import AfterSale
from tests.posts.conftest import image_bytes
from tests.shop.conftest import buy, pay


def bearer(account) -> dict:
    _token, secret = accounts.create_token(account, "test")
    return {"Authorization": f"Bearer {secret}"}


def test_request_photos_decline_escalate_and_resolve_over_the_api(world, client):
    placed = buy(world.buyer, world.address_id, world.sku_id, 2)
    pay(placed.payment.id)
    order = placed.orders[0]
    orders.ship_order(world.merchant, order.id, "SF9")
    line_id = order.lines[0].id
    buyer, merchant, admin = bearer(world.buyer), bearer(world.merchant), bearer(world.admin)

    bad = client.post(f"/api/v1/orders/{order.id}/after-sales", headers=buyer,
                      json={"kind": "refund", "quantities": {str(line_id): 3}, "reason": "damaged"})
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    assert f"lines.{line_id}" in bad.get_json()["errors"]
    assert client.post(f"/api/v1/orders/{order.id}/after-sales", headers=buyer,
                       json={"kind": "refund", "quantities": {str(line_id): 1}, "reason": "nope"}).status_code == 422
    assert db.session.scalar(select(func.count()).select_from(AfterSale)) == 0

    made = client.post(f"/api/v1/orders/{order.id}/after-sales", headers=buyer,
                       json={"kind": "refund", "quantities": {str(line_id): 2}, "reason": "damaged", "note": "x"})
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["status"] == "requested" and body["respond_by"].endswith("+00:00")
    request_id = body["id"]
    photos = client.post(f"/api/v1/after-sales/{request_id}/photos", headers=buyer,
                         data={"photos": [(io.BytesIO(image_bytes()), "a.png")]}, content_type="multipart/form-data")
    assert photos.status_code == 200 and len(photos.get_json()["photo_urls"]) == 1

    assert client.post(f"/api/v1/after-sales/{request_id}/approve", headers=buyer, json={}).status_code == 403
    declined = client.post(f"/api/v1/after-sales/{request_id}/decline", headers=merchant, json={"reason": "No"})
    assert declined.get_json()["status"] == "declined"
    listed = client.get("/api/v1/shops/shop-merchant/after-sales?status=declined", headers=merchant).get_json()
    assert [row["id"] for row in listed["items"]] == [request_id]
    assert client.post(f"/api/v1/after-sales/{request_id}/escalate", headers=buyer, json={}).status_code == 200
    second = client.post(f"/api/v1/after-sales/{request_id}/escalate", headers=buyer, json={})
    assert second.status_code == 409
    assert [row["id"] for row in client.get("/api/v1/admin/after-sales", headers=admin).get_json()["items"]] \
        == [request_id]
    resolved = client.post(f"/api/v1/after-sales/{request_id}/resolve", headers=admin,
                           json={"decision": "refund", "note": "Fair"})
    assert resolved.status_code == 200 and resolved.get_json()["status"] == "refunded"
    detail = client.get(f"/api/v1/after-sales/{request_id}", headers=buyer).get_json()
    assert [event["to_status"] for event in detail["events"]] == ["requested", "declined", "escalated", "refunded"]
    assert client.get(f"/api/v1/after-sales/{request_id}", headers=bearer(world.admin)).status_code == 200
