"""Coupons people can find (领券): publish, claim once, never past the number of claims (also under races on
PostgreSQL), the wallet, and the checkout applying the wallet's best coupon."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.accounts.models import User
from app.core.errors import Conflict, Forbidden, NotFound
from app.extensions import db
from app.shop import cart, coupons, wallet
from app.shop.aftersale_models import CouponClaim
from app.shop.models import Coupon
from tests.shop.conftest import buy, buyer_with_address, pay, user
from tests.shop.test_races import attempt
from tests.social.conftest import is_postgres, sign_in
from tests.social.test_races import run_threads

NOW = datetime(2026, 3, 1, 12, 0)


def claims() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(CouponClaim))


def shop_coupon(world, code="SHOP10", claims_total=None, **extra):
    coupon = coupons.create_coupon(world.merchant, code=code, kind=extra.pop("kind", "fixed"),
                                   value=extra.pop("value", 300), shop_id=world.shop_id, total_uses=claims_total,
                                   per_user_limit=1, **extra)
    return wallet.publish_coupon(world.merchant, coupon.id)


def test_claim_once_and_never_past_the_limit(world):
    coupon = shop_coupon(world, claims_total=2)
    assert coupon.claims_left == 2
    with pytest.raises(Forbidden):
        wallet.publish_coupon(user("rival"), coupon.id)
    wallet.claim_coupon(world.buyer, coupon.id, now=NOW)
    with pytest.raises(Conflict) as twice:
        wallet.claim_coupon(world.buyer, coupon.id, now=NOW)
    assert twice.value.code == "already-claimed"
    wallet.claim_coupon(user("second"), coupon.id, now=NOW)
    with pytest.raises(Conflict) as gone:
        wallet.claim_coupon(user("third"), coupon.id, now=NOW)
    assert gone.value.code == "all-claimed"
    assert claims() == 2 and db.session.get(Coupon, coupon.id).claims_left == 0
    assert wallet.claimable_coupons(world.shop_id, world.buyer, NOW) == []  # none left to find


def test_unpublished_or_expired_coupons_cannot_be_claimed(world):
    hidden = coupons.create_coupon(world.merchant, code="HIDDEN", kind="fixed", value=100, shop_id=world.shop_id)
    with pytest.raises(NotFound):
        wallet.claim_coupon(world.buyer, hidden.id, now=NOW)
    old = shop_coupon(world, code="OLD", ends_at=NOW - timedelta(days=1))
    with pytest.raises(Conflict):
        wallet.claim_coupon(world.buyer, old.id, now=NOW)
    assert claims() == 0


def test_the_wallet_says_what_each_coupon_can_still_do(world):
    usable = shop_coupon(world, code="USE", value=200)
    later = shop_coupon(world, code="LATER", starts_at=NOW + timedelta(days=3))
    for coupon in (usable, later):
        wallet.claim_coupon(world.buyer, coupon.id, now=NOW)
    placed = buy(world.buyer, world.address_id, world.sku_id, 1, coupon="USE", now=NOW)
    pay(placed.payment.id, now=NOW)
    states = {entry.coupon.code: entry.state for entry in wallet.wallet(world.buyer, NOW)}
    assert states == {"USE": "used", "LATER": "not_started"}


def test_the_checkout_page_applies_the_best_wallet_coupon(world, client):
    small = shop_coupon(world, code="SMALL", value=100)
    big = shop_coupon(world, code="BIG", kind="percent", value=30)
    out_of_reach = shop_coupon(world, code="HUGE", value=900, min_spend_cents=100_000)
    for coupon in (small, big, out_of_reach):
        wallet.claim_coupon(world.buyer, coupon.id)
    cart.add_to_cart(world.buyer, world.sku_id, 2)
    sign_in(client, "buyer")
    body = client.get("/checkout").get_data(as_text=True)
    assert "The best coupon in your wallet is applied: BIG saves CN¥6.00." in body
    assert 'value="BIG"' in body
    shop_page = client.get("/shop/shop-merchant").get_data(as_text=True)
    assert "In your wallet" in shop_page
    assert "My coupons" in client.get("/me/coupons").get_data(as_text=True)


def test_claiming_through_the_page(world, client):
    coupon = shop_coupon(world, claims_total=5)
    sign_in(client, "buyer")
    product_page = client.get(f"/products/{world.product_id}").get_data(as_text=True)
    assert f"/coupons/{coupon.id}/claim" in product_page
    client.post_form(f"/coupons/{coupon.id}/claim", {"next": f"/products/{world.product_id}"})
    again = client.post_form(f"/coupons/{coupon.id}/claim", {}, follow_redirects=True)
    assert "You already have this coupon in your wallet." in again.get_data(as_text=True)
    assert claims() == 1



def test_claims_race_one_per_reader_and_never_past_the_limit(app, world):
    if not is_postgres(app):
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    with app.app_context():
        limited = shop_coupon(world, code="FIVE", claims_total=5).id
        unlimited = shop_coupon(world, code="ANY").id
        readers = [buyer_with_address(f"claimer{i}")[0].id for i in range(30)]
        buyer_id = world.buyer.id
    results: list = []
    jobs = [attempt(results, lambda r=r: wallet.claim_coupon(db.session.get(User, r), limited, NOW) and "ok")
            for r in readers]
    jobs += [attempt(results, lambda: wallet.claim_coupon(db.session.get(User, buyer_id), unlimited, NOW) and "ok")
             for _ in range(10)]
    run_threads(app, jobs)
    with app.app_context():
        assert results.count("ok") == 6
        assert db.session.scalar(select(func.count()).select_from(CouponClaim)
                                 .where(CouponClaim.coupon_id == limited)) == 5
        assert db.session.get(Coupon, limited).claims_left == 0
        assert db.session.scalar(select(func.count()).select_from(CouponClaim)
                                 .where(CouponClaim.coupon_id == unlimited)) == 1


def test_claiming_and_the_wallet_over_the_api(world, client):
    from app.accounts import services as accounts

    coupon = shop_coupon(world, claims_total=1)
    _token, secret = accounts.create_token(world.buyer, "test")
    headers = {"Authorization": f"Bearer {secret}"}
    listed = client.get("/api/v1/shops/shop-merchant/claimable-coupons", headers=headers).get_json()
    assert [(row["code"], row["claimed"]) for row in listed["items"]] == [("SHOP10", False)]
    made = client.post(f"/api/v1/coupons/{coupon.id}/claim", headers=headers)
    assert made.status_code == 201 and made.get_json()["claimed"] is True
    twice = client.post(f"/api/v1/coupons/{coupon.id}/claim", headers=headers)
    assert twice.status_code == 409 and twice.get_json()["code"] == "already-claimed"
    items = client.get("/api/v1/me/coupons", headers=headers).get_json()["items"]
    assert [(row["code"], row["state"]) for row in items] == [("SHOP10", "usable")]
    assert items[0]["claimed_at"].endswith("+00:00")
