"""The commission pages and API through the test client: share links and their clicks, the share sheet,
earnings (and who may read them), the shop dashboard, invites, payouts, and every bad input's 4xx."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.accounts.models import User
from app.affiliate import attribution, ledger
from app.affiliate.models import Payout, ShareClick, ShareLink
from app.core.clock import frozen_at
from app.extensions import db
from app.posts.models import Post
from app.social.models import Follow
from tests.affiliate.conftest import T0, buy_paid, click, complete, release
from tests.posts.test_api import token
from tests.social.conftest import sign_in

UA = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64)"}


def _link(aff, **target) -> ShareLink:
    return attribution.share_link_for(aff.creator, **(target or {"product_id": aff.product_id}), now=T0)


def test_bad_share_codes_are_404_and_count_nothing(aff, client):
    link = _link(aff)
    for code in ("nope", "AAAAAAAA", link.code[:-1] + "!", "0" * 8, link.code + "x"):
        assert client.get(f"/s/{code}", headers=UA).status_code == 404, code
    assert db.session.scalar(select(func.count()).select_from(ShareClick)) == 0


def test_a_link_to_a_removed_note_is_404(aff, client):
    link = _link(aff, post_id=aff.post_id)
    db.session.get(Post, aff.post_id).status = "removed"
    db.session.commit()
    assert client.get(f"/s/{link.code}", headers=UA).status_code == 404
    sign_in(client, "creator")
    assert client.get(f"/s/new?note={aff.post_id}").status_code == 404
    assert client.post_form(f"/s/new?note={aff.post_id}").status_code == 404


def test_an_anonymous_click_is_carried_over_at_log_in_and_shown_as_a_disclosure(aff, client):
    link = _link(aff)
    response = client.get(f"/s/{link.code}", headers=UA)
    assert response.status_code == 302 and f"/products/{aff.product_id}" in response.headers["Location"]
    assert client.get(f"/s/{link.code}", headers=UA).status_code == 302  # same visitor within a minute: once
    assert db.session.scalar(select(func.count()).select_from(ShareClick)) == 1
    product_page = client.get(f"/products/{aff.product_id}").get_data(as_text=True)
    assert "earns a commission if you buy" in product_page
    sign_in(client, "reader")
    client.get("/")
    db.session.expire_all()
    assert db.session.scalar(select(ShareClick.visitor_id)) == aff.reader.id


def test_bots_and_the_sharer_do_not_count(aff, client):
    link = _link(aff)
    client.get(f"/s/{link.code}", headers={"User-Agent": "Googlebot/2.1"})
    sign_in(client, "creator")
    client.get(f"/s/{link.code}", headers=UA)
    assert db.session.scalar(select(func.count()).select_from(ShareClick)) == 0


def test_the_share_sheet_makes_one_link_with_a_qr_code_and_the_estimate(aff, client):
    sign_in(client, "creator")
    first = client.get(f"/s/new?product={aff.product_id}").get_data(as_text=True)
    assert "Create my share link" in first and "about" in first and "¥0.99" in first.replace("CN", "")
    assert client.post_form(f"/s/new?product={aff.product_id}").status_code == 302
    assert client.post_form(f"/s/new?product={aff.product_id}").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(ShareLink)) == 1
    sheet = client.get(f"/s/new?product={aff.product_id}").get_data(as_text=True)
    code = db.session.scalar(select(ShareLink.code))
    assert f"/s/{code}" in sheet and "<svg" in sheet


def test_share_sheet_refuses_garbage_targets(aff, client):
    sign_in(client, "creator")
    for query in ("", "note=abc", "product=0", "product=99999", "note=-1"):
        assert client.get(f"/s/new?{query}").status_code == 404, query


def test_earnings_page_totals_equal_the_ledger_and_strangers_cannot_read_them(aff, client):
    link = _link(aff)
    click(link, aff.reader, T0)
    order = buy_paid(aff, at=T0)
    complete(aff, order.id, T0 + timedelta(days=1))
    release(T0 + timedelta(days=9))
    buy_paid(aff, quantity=1, at=T0 + timedelta(days=2))
    totals = ledger.balances(aff.creator.id)
    sign_in(client, "creator")
    html = client.get("/me/earnings").get_data(as_text=True)
    for cents in (totals.pending_cents, totals.available_cents):
        assert f"{cents / 100:.2f}" in html
    csv_text = client.get("/me/earnings.csv").get_data(as_text=True)
    assert csv_text.count("\n") == 1 + 3  # header + pending, available, pending
    client.post_form("/logout")
    sign_in(client, "reader")
    assert client.get("/me/earnings?user=creator").status_code == 404
    assert "0.00" in client.get("/me/earnings").get_data(as_text=True)


def test_the_shop_dashboard_shows_the_notes_that_drove_sales_to_its_owner_only(aff, client):
    from app.shop import checkout
    from tests.shop.conftest import open_shop, pay, user

    with frozen_at(T0):
        placed = checkout.place_orders(aff.reader, [{"sku_id": aff.sku_id, "quantity": 2,
                                                     "source_post_id": aff.post_id}], aff.address_id)
        pay(placed.payment.id)
        rival = user("rival")
        open_shop(rival, aff.admin)
    with frozen_at(T0 + timedelta(days=1)):
        sign_in(client, "merchant")
        html = client.get("/shop/shop-merchant/dashboard?days=7").get_data(as_text=True)
        assert "My favourite tint" in html and "Notes that drove sales" in html
        assert client.get("/shop/shop-merchant/dashboard?days=13").status_code == 200  # unknown period: 30 days
        client.post_form("/logout")
        sign_in(client, "rival")
        assert client.get("/shop/shop-merchant/dashboard").status_code == 404
        assert client.get("/api/v1/shops/shop-merchant/dashboard").status_code == 404


def test_invites_record_the_inviter_and_follow_them_and_refuse_unknown_codes(aff, client):
    code = aff.creator.invite_code
    assert client.get(f"/invite/{code}").headers["Location"].endswith(f"/register?invite={code}")
    assert client.get("/invite/does-not-exist").status_code == 404
    bad = client.post_form("/register", {"username": "newbie", "email": "n@example.com",
                                         "password": "a-long-enough-passphrase", "invite": "nope-nope"})
    assert bad.status_code == 422 and "invite code does not exist" in bad.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.username == "newbie")) is None
    good = client.post_form("/register", {"username": "newbie", "email": "n@example.com",
                                          "password": "a-long-enough-passphrase", "invite": code})
    assert good.status_code == 302
    db.session.expire_all()
    newbie = db.session.scalar(select(User).where(User.username == "newbie"))
    assert newbie.invited_by_id == aff.creator.id
    assert db.session.scalar(select(Follow).where(Follow.follower_id == newbie.id,
                                                  Follow.followee_id == aff.creator.id))
    listing = client.get(f"/invite/{newbie.invite_code}").get_data(as_text=True)
    assert "your own invite link" in listing
    client.post_form("/logout")
    sign_in(client, "creator")
    assert "newbie" in client.get("/me/invites").get_data(as_text=True)


def test_the_api_creates_looks_up_and_reports(aff, app, client):
    headers = token(app, "creator")
    made = client.post("/api/v1/share-links", json={"product_id": aff.product_id}, headers=headers)
    assert made.status_code == 201
    code = made.get_json()["code"]
    looked = client.get(f"/api/v1/share-links/{code}").get_json()
    assert looked["sharer"] == "creator" and looked["rate_bps"] == 500 and looked["estimated_commission_cents"] == 99
    assert client.get("/api/v1/share-links/zzzz").status_code == 404
    assert client.post("/api/v1/share-links", json={}, headers=headers).status_code == 422
    assert client.post("/api/v1/share-links", json={"post_id": 999999}, headers=headers).status_code == 404
    link = db.session.scalar(select(ShareLink).where(ShareLink.code == code))
    click(link, aff.reader, T0)
    buy_paid(aff, at=T0)
    balances = client.get("/api/v1/me/earnings", headers=headers).get_json()
    assert balances["pending_cents"] == 299 == ledger.balances(aff.creator.id).pending_cents
    entries = client.get("/api/v1/me/earnings/entries", headers=headers).get_json()
    assert [e["kind"] for e in entries["items"]] == ["pending"]
    assert client.get("/api/v1/me/earnings/series?days=7", headers=headers).status_code == 200
    assert client.get("/api/v1/me/earnings/series?days=8", headers=headers).status_code == 422
    assert client.get("/api/v1/me/invites", headers=headers).get_json()["invite_code"] == aff.creator.invite_code
    funnels = client.get("/api/v1/share-links", headers=headers).get_json()["items"]
    assert (funnels[0]["clicks"], funnels[0]["orders"], funnels[0]["paid"], funnels[0]["commission_cents"]) == \
        (1, 1, 1, 299)


def test_payout_api_refuses_non_admins_bad_minimums_and_empty_balances_and_pays_a_batch_once(aff, app, client):
    admin = token(app, "admin")
    assert client.post("/api/v1/admin/payouts", json={"batch": "x"}, headers=token(app, "creator")).status_code == 403
    assert client.post("/api/v1/admin/payouts", json={"batch": "x", "minimum_cents": -1},
                       headers=admin).status_code == 422
    assert client.post("/api/v1/admin/payouts", json={"batch": "x", "minimum_cents": 1},
                       headers=admin).status_code == 422  # nothing to pay
    assert client.post("/api/v1/admin/payouts", json={"batch": "x", "user_ids": [aff.reader.id]},
                       headers=admin).status_code == 422
    link = _link(aff)
    click(link, aff.reader, T0)
    order = buy_paid(aff, at=T0)
    complete(aff, order.id, T0 + timedelta(days=1))
    release(T0 + timedelta(days=9))
    payable = client.get("/api/v1/admin/payouts/payable?minimum_cents=100", headers=admin).get_json()["items"]
    assert payable == [{"user_id": aff.creator.id, "username": "creator", "amount_cents": 299}]
    one = client.post("/api/v1/admin/payouts", json={"batch": "dec-1", "minimum_cents": 100}, headers=admin)
    two = client.post("/api/v1/admin/payouts", json={"batch": "dec-1", "minimum_cents": 100}, headers=admin)
    assert one.status_code == two.status_code == 201 and one.get_json()["id"] == two.get_json()["id"]
    assert one.get_json()["total_cents"] == 299
    assert db.session.scalar(select(func.count()).select_from(Payout)) == 1
    sign_in(client, "admin")
    payout_id = one.get_json()["id"]
    assert "creator,299,2.99" in client.get(f"/admin/payouts/{payout_id}.csv").get_data(as_text=True)
    assert client.get("/admin/payouts").status_code == 200
    assert client.get("/admin/affiliate/abuse").status_code == 200


def test_a_merchant_cannot_set_a_rate_above_the_site_maximum_in_the_form(aff, client):
    sign_in(client, "merchant")
    response = client.post_form("/shop/shop-merchant/products/new", {"title": "Generous", "commission": "25",
                                                                     "description": ""})
    assert response.status_code == 422 and "between 0% and 20%" in response.get_data(as_text=True)


def test_earnings_and_dashboard_pages_run_a_fixed_number_of_queries(aff, app, client):
    from tests.query_count import count_queries

    link = _link(aff)

    def counts() -> tuple[int, int]:
        sign_in(client, "creator")
        with count_queries(app) as earnings:
            assert client.get("/me/earnings").status_code == 200
        client.post_form("/logout")
        sign_in(client, "merchant")
        with count_queries(app) as board:
            assert client.get("/shop/shop-merchant/dashboard").status_code == 200
        client.post_form("/logout")
        return len(earnings), len(board)

    click(link, aff.reader, T0)
    buy_paid(aff, at=T0)
    few = counts()
    for hours in range(1, 8):
        click(link, aff.reader, T0 + timedelta(hours=hours))
        buy_paid(aff, quantity=1, at=T0 + timedelta(hours=hours))
    more = counts()
    assert more[0] <= few[0] and more[1] <= few[1], (few, more)  # eight orders cost no more than one


def test_a_link_to_a_product_no_longer_for_sale_is_404(aff, client):
    from app.shop import catalog
    from app.shop.models import ProductStatus

    link = _link(aff)
    catalog.set_product_status(aff.merchant, aff.product_id, ProductStatus.ARCHIVED)
    assert client.get(f"/s/{link.code}", headers=UA).status_code == 404
    assert client.get(f"/api/v1/share-links/{link.code}").status_code == 404
