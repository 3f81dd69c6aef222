"""The group-buy API: campaigns (merchant CRUD), open / join with Idempotency-Key, leave, get, my groups."""
import pytest

from app.core.clock import frozen_at
from tests.api.test_api_frame import bearer, token_for
from tests.groupbuy.conftest import NOW, fresh_group, open_group
from tests.shop.conftest import buyer_with_address, pay


@pytest.fixture(autouse=True)
def frozen():
    with frozen_at(NOW):
        yield


def test_join_with_an_idempotency_key_and_the_refusal_codes(gw, app, client):
    group_id, leader, _ = open_group(gw, "ann")
    bob, address = buyer_with_address("bob")
    headers = {**bearer(token_for(app, bob)), "Idempotency-Key": "join-1"}
    body = {"sku_id": gw.sku_id, "address_id": address}
    first = client.post(f"/api/v1/groupbuy/groups/{group_id}/join", json=body, headers=headers)
    assert first.status_code == 201, first.json
    assert first.json["group"]["seats_taken"] == 2 and first.json["checkout"]["redirect_url"]
    again = client.post(f"/api/v1/groupbuy/groups/{group_id}/join", json=body, headers=headers)
    assert again.status_code == 200 and again.json["checkout"]["payment_id"] == first.json["checkout"]["payment_id"]
    twice = client.post(f"/api/v1/groupbuy/groups/{group_id}/join", json=body, headers=bearer(token_for(app, bob)))
    assert twice.status_code == 409 and twice.json["code"] == "already-member"
    coupon = client.post(f"/api/v1/groupbuy/groups/{group_id}/join", json={**body, "coupon_code": "X"},
                         headers=bearer(token_for(app, leader)))
    assert coupon.status_code in (409, 422)
    assert client.post("/api/v1/groupbuy/groups/abc/join", json=body, headers=headers).status_code == 404
    assert client.get("/api/v1/groupbuy/groups/999999").status_code == 404
    pay(first.json["checkout"]["payment_id"], now=NOW)
    group = client.get(f"/api/v1/groupbuy/groups/{group_id}").json
    assert [m["username"] for m in group["members"]] == ["ann", "bob"]
    mine = client.get("/api/v1/me/groups", headers=bearer(token_for(app, bob))).json["items"]
    assert mine[0]["group"]["id"] == group_id and mine[0]["order"]["on_hold"] is True
    left = client.post(f"/api/v1/groupbuy/groups/{group_id}/leave", headers=bearer(token_for(app, bob)))
    assert left.status_code == 200 and left.json["seats_taken"] == 1
    assert fresh_group(group_id).paid_count == 1


def test_merchant_campaign_crud_and_another_shop_refused(gw, app, client):
    headers = bearer(token_for(app, gw.merchant))
    shop_slug = "shop-gmerchant"
    listed = client.get(f"/api/v1/shops/{shop_slug}/campaigns", headers=headers)
    assert listed.status_code == 200 and listed.json["items"][0]["figures"]["opened"] == 0
    body = {"prices": [{"sku_id": gw.sku_id, "group_price_cents": 500}], "group_size": 4, "window_hours": 12,
            "starts_at": "2026-02-28T00:00:00+00:00", "ends_at": "2026-03-20T00:00:00+00:00"}
    updated = client.put(f"/api/v1/groupbuy/campaigns/{gw.campaign_id}", json=body, headers=headers)
    assert updated.status_code == 200 and updated.json["group_size"] == 4
    bad = client.put(f"/api/v1/groupbuy/campaigns/{gw.campaign_id}", json={**body, "group_size": 51}, headers=headers)
    assert bad.status_code == 422 and "group_size" in bad.json["errors"]
    from tests.shop.conftest import open_shop, user

    other = user("other")
    open_shop(other, gw.admin)
    refused = client.put(f"/api/v1/groupbuy/campaigns/{gw.campaign_id}", json=body,
                         headers=bearer(token_for(app, other)))
    assert refused.status_code == 403
    public = client.get(f"/api/v1/groupbuy/campaigns/{gw.campaign_id}")
    assert public.status_code == 200 and public.json["figures"] is None
    opened = client.post(f"/api/v1/groupbuy/campaigns/{gw.campaign_id}/groups",
                         json={"sku_id": gw.sku_id, "address_id": buyer_with_address("zed")[1]}, headers=headers)
    assert opened.status_code == 422  # the address is not the merchant's
    ended = client.post(f"/api/v1/groupbuy/campaigns/{gw.campaign_id}/end", headers=headers)
    assert ended.status_code == 200 and ended.json["status"] == "ended"
