"""Deleting an account: the person is anonymised, orders and payments stay, open shop orders block it."""
from sqlalchemy import func, select

from app.accounts.models import ApiToken, User, UserSession
from app.extensions import db
from app.posts.models import Post
from app.shop.models import Order, OrderStatus, Payment, ProductStatus
from app.social.models import Follow
from tests.conftest import Client, log_in
from tests.shop.conftest import buy, buyer_with_address, open_shop, pay, product_with_sku, user


def new_client(app) -> Client:
    app.test_client_class = Client
    return app.test_client()


def test_deleted_account_is_anonymised_and_cannot_log_in_but_orders_survive(app):
    with app.app_context():
        admin = user("admin", is_admin=True)
        merchant = user("merchant")
        shop = open_shop(merchant, admin)
        _product, sku = product_with_sku(merchant, shop.id)
        buyer, address_id = buyer_with_address("buyer")
        placed = buy(buyer, address_id, sku.id)
        pay(placed.payment.id)
        order_id, payment_id, buyer_id, merchant_id = placed.orders[0].id, placed.payment.id, buyer.id, merchant.id
        from app.social.services import follow

        follow(buyer, merchant)
        follow(merchant, buyer)
        from tests import factories
        from tests.posts.conftest import publish

        post_id = publish(buyer, factories.community("lip-tints"), title="My lip tint").id
        from app.search.indexing import rebuild_index

        rebuild_index()
    from tests.conftest import DEFAULT_PASSWORD, MadeUser

    made = MadeUser(buyer_id, "buyer", "buyer@example.com", DEFAULT_PASSWORD)
    found = new_client(app).get("/api/v1/search?q=buyer&type=users").get_json()
    assert [item["user"]["username"] for item in found["items"]] == ["buyer"]  # indexed before deletion
    browser, other_device = new_client(app), new_client(app)
    log_in(browser, made)
    log_in(other_device, made)
    wrong = browser.post_form("/settings/delete", {"password": "Not-the-password-1"})
    assert wrong.status_code == 422
    response = browser.post_form("/settings/delete", {"password": DEFAULT_PASSWORD})
    assert response.status_code == 302

    assert browser.get("/settings").status_code == 302 and other_device.get("/settings").status_code == 302
    assert log_in(new_client(app), made).status_code == 422
    assert new_client(app).post_form("/login", {"login": "buyer@example.com",
                                               "password": DEFAULT_PASSWORD}).status_code == 422
    with app.app_context():
        gone = db.session.get(User, buyer_id)
        assert gone.deleted_at is not None and gone.name == "Deleted user"
        assert "buyer" not in (gone.username + gone.email + gone.display_name + gone.bio)
        assert gone.avatar_path is None
        assert db.session.scalar(select(func.count()).select_from(Follow)) == 0
        merchant_row = db.session.get(User, merchant_id)
        assert merchant_row.follower_count == 0 and merchant_row.following_count == 0
        assert db.session.scalar(select(func.count()).select_from(UserSession)
                                 .where(UserSession.revoked_at.is_(None))) == 0
        order = db.session.get(Order, order_id)
        assert order is not None and order.buyer_id == buyer_id and order.status == OrderStatus.PAID
        assert db.session.get(Payment, payment_id).buyer_id == buyer_id
        assert db.session.get(Post, post_id).author_id == buyer_id  # the note stays, by "Deleted user"
    assert "Deleted user" in new_client(app).get(f"/p/{post_id}").get_data(as_text=True)
    assert new_client(app).get("/u/buyer").status_code == 404
    for query in ("buyer", "deleted_"):
        people = new_client(app).get(f"/api/v1/search?q={query}&type=users").get_json()
        assert buyer_id not in [item["user"].get("id") for item in people["items"]]
        assert all("deleted" not in item["user"]["username"] for item in people["items"])


def test_shop_owner_with_open_orders_cannot_delete_until_settled(app):
    with app.app_context():
        admin = user("admin", is_admin=True)
        merchant = user("merchant")
        shop = open_shop(merchant, admin)
        product, sku = product_with_sku(merchant, shop.id)
        buyer, address_id = buyer_with_address("buyer")
        placed = buy(buyer, address_id, sku.id)
        pay(placed.payment.id)
        order_id, product_id, merchant_id = placed.orders[0].id, product.id, merchant.id
    from tests.conftest import DEFAULT_PASSWORD, MadeUser

    made = MadeUser(merchant_id, "merchant", "merchant@example.com", DEFAULT_PASSWORD)
    browser = new_client(app)
    log_in(browser, made)
    refused = browser.post_form("/settings/delete", {"password": DEFAULT_PASSWORD})
    assert refused.status_code == 409
    assert "1 orders in progress" in refused.get_data(as_text=True)
    assert browser.get("/settings").status_code == 200
    with app.app_context():
        assert db.session.get(User, merchant_id).deleted_at is None
        db.session.get(Order, order_id).status = OrderStatus.COMPLETED  # settled
        db.session.commit()
    assert browser.post_form("/settings/delete", {"password": DEFAULT_PASSWORD}).status_code == 302
    with app.app_context():
        from app.shop.models import Product

        assert db.session.get(Product, product_id).status == ProductStatus.ARCHIVED
        assert db.session.get(Order, order_id) is not None


def test_api_delete_me_revokes_tokens(app, client, make_user):
    made = make_user("ann")
    log_in(client, made)
    page = client.post_form("/settings/tokens", {"name": "script", "expires_in_days": "30"})
    secret = page.get_data(as_text=True).split('data-testid="new-token">')[1].split("<")[0]
    script = new_client(app)
    headers = {"Authorization": f"Bearer {secret}"}
    assert script.delete("/api/v1/me", json={"password": "Wrong-pass-123"}, headers=headers).status_code == 422
    assert script.delete("/api/v1/me", json={"password": made.password}, headers=headers).status_code == 204
    assert script.get("/api/v1/me", headers=headers).status_code == 401
    assert client.get("/settings").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ApiToken)
                                 .where(ApiToken.revoked_at.is_(None))) == 0
