"""seed-demo, users create-admin and the production guard against demo accounts."""
from collections import Counter
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from app import create_app
from app.accounts.models import User
from app.config import ProductionConfig
from app.extensions import db


def test_seed_demo_is_idempotent_and_deterministic(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo", "--users", "12", "--posts", "30", "--products", "16", "--orders", "12",
                                "--seed", "7"])
    assert first.exit_code == 0, first.output
    assert "tastemaker-demo" in first.output and "moderator" in first.output
    with app.app_context():
        names = set(db.session.scalars(select(User.username)))
        assert {"admin", "reader", "creator", "merchant", "moderator"} <= names
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        assert admin.is_admin and admin.avatar_path
    again = runner.invoke(args=["seed-demo", "--users", "12", "--posts", "30", "--products", "16", "--orders", "12",
                                "--seed", "7"])
    assert again.exit_code == 0 and "Created 0 users" in again.output
    with app.app_context():
        assert set(db.session.scalars(select(User.username))) == names
    skipped = runner.invoke(args=["seed-demo", "--if-empty"])
    assert "not seeding" in skipped.output


def test_demo_accounts_can_log_in(client, app):
    app.test_cli_runner().invoke(args=["seed-demo", "--users", "0", "--posts", "0", "--products", "0", "--orders", "0"])
    response = client.post_form("/login", {"login": "reader", "password": "tastemaker-demo"})
    assert response.status_code == 302


def test_create_admin_prompts_for_password(app):
    result = app.test_cli_runner().invoke(args=["users", "create-admin", "boss", "boss@example.com"],
                                          input="Str0ng-enough-pw\nStr0ng-enough-pw\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(User).where(User.username == "boss")).is_admin


def test_create_admin_with_weak_password_fails_cleanly(app):
    result = app.test_cli_runner().invoke(args=["users", "create-admin", "boss", "boss@example.com"],
                                          input="weak\nweak\n")
    assert result.exit_code != 0 and "characters" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) == 0


def test_production_refuses_to_start_with_demo_accounts(app, monkeypatch):
    app.test_cli_runner().invoke(args=["seed-demo", "--users", "0", "--posts", "0", "--products", "0", "--orders", "0"])
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("DATABASE_URL", app.config["SQLALCHEMY_DATABASE_URI"])
    monkeypatch.setenv("ALLOW_SANDBOX_PAYMENTS", "1")  # past the payment check, to the demo-account one
    with pytest.raises(RuntimeError, match="demo accounts"):
        create_app(ProductionConfig())


def test_seeded_content_keeps_every_counter_equal_to_its_rows(app):
    from app.communities.models import Community, Membership
    from app.events.models import Event
    from app.posts.models import Comment, Like, Post, Save
    from app.social.models import Follow

    result = app.test_cli_runner().invoke(args=["seed-demo", "--users", "25", "--posts", "60", "--products", "16",
                                                "--orders", "12", "--seed", "3"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Community.id))) >= 8
        assert db.session.scalar(select(func.count(Post.id))) == 60
        assert db.session.scalar(select(func.count(Event.id))) > 0
        for post in db.session.scalars(select(Post)):
            assert post.like_count == db.session.scalar(select(func.count()).where(Like.post_id == post.id))
            assert post.save_count == db.session.scalar(select(func.count()).where(Save.post_id == post.id))
            assert post.comment_count == db.session.scalar(select(func.count()).where(Comment.post_id == post.id))
            assert post.images and post.body_html and "<script" not in post.body_html
        for user in db.session.scalars(select(User)):
            assert user.follower_count == db.session.scalar(select(func.count()).where(Follow.followee_id == user.id))
        for community in db.session.scalars(select(Community)):
            assert community.member_count == db.session.scalar(
                select(func.count()).where(Membership.community_id == community.id))
        media = app.config["MEDIA_ROOT"]
        post = db.session.scalar(select(Post).limit(1))
        assert (media / post.images[0].path).exists() and (media / post.images[0].thumb_path).exists()


def test_seed_pays_inside_a_short_reservation(app, monkeypatch):
    """The rehearsal reserves stock for 3 minutes: the seed's paid orders must still be paid in time."""
    from app.shop.models import Order

    monkeypatch.setitem(app.config, "ORDER_RESERVATION_MINUTES", 3)
    monkeypatch.setitem(app.config, "PAYMENT_WINDOW_MINUTES", 3)
    result = app.test_cli_runner().invoke(args=["seed-demo", "--users", "20", "--posts", "30", "--products", "16",
                                                "--orders", "30", "--seed", "4"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        statuses = set(db.session.scalars(select(Order.status)))
    assert {"completed", "refunded"} <= statuses


STOREFRONT_ARGS = ["seed-demo", "--users", "30", "--posts", "120", "--products", "48", "--orders", "40", "--seed", "5"]


def _storefront_facts() -> dict:
    """What the seeded storefront holds, without ids or clock times (for comparing two runs)."""
    from app.shop.models import Order, PostProduct, Product, Sku

    return {
        "products": db.session.execute(select(Product.title, Product.status, Product.commission_bps)
                                       .order_by(Product.id)).all(),
        "skus": db.session.execute(select(Sku.code, Sku.label, Sku.price_cents, Sku.stock).order_by(Sku.id)).all(),
        "tags": db.session.execute(select(PostProduct.post_id, PostProduct.product_id, PostProduct.position,
                                          PostProduct.pin_x, PostProduct.is_rated)
                                   .order_by(PostProduct.post_id, PostProduct.position)).all(),
        "orders": db.session.execute(select(Order.buyer_id, Order.shop_id, Order.status, Order.total_cents,
                                            Order.refunded_cents).order_by(Order.id)).all(),
    }


def test_seeded_storefront_holds_every_rule_and_is_deterministic(app, tmp_path, monkeypatch):
    from app.core.clock import now as clock_now
    from app.posts.models import KIND_REVIEW, Post
    from app.shop.models import (
        Coupon,
        CouponRedemption,
        Order,
        OrderLine,
        OrderStatus,
        Payment,
        PostProduct,
        Product,
        ProductImage,
        ProductStatus,
        Refund,
        Shop,
        ShopStatus,
        Sku,
    )
    from tests.conftest import make_config

    # Training the recommender and indexing are tested elsewhere; here they only cost time (twice).
    monkeypatch.setattr("app.feeds.training.train_and_publish",
                        lambda **kwargs: SimpleNamespace(summary=lambda: "not trained"))
    monkeypatch.setattr("app.search.indexing.rebuild_index", lambda: None)
    result = app.test_cli_runner().invoke(args=STOREFRONT_ARGS)
    assert result.exit_code == 0, result.output
    assert "Storefront: 8 shops, 48 products" in result.output
    with app.app_context():
        shops = db.session.scalars(select(Shop).where(Shop.status == ShopStatus.APPROVED)).all()
        assert len(shops) >= 6 and all(shop.logo_path for shop in shops)
        assert all(any("\u4e00" <= ch <= "\u9fff" for ch in shop.name) and any(ch.isascii() and ch.isalpha()
                                                                                for ch in shop.name) for shop in shops)
        assert db.session.scalar(select(func.count()).select_from(Shop).where(Shop.status == ShopStatus.APPLIED)) == 1
        products = db.session.scalars(select(Product).where(Product.status == ProductStatus.ACTIVE)).all()
        assert len(products) == 48
        media = app.config["MEDIA_ROOT"]
        for product in products:
            assert 1 <= len(product.skus) <= 4 and product.images and (media / product.images[0].path).exists()
            assert all(sku.price_cents > 0 and sku.code and sku.currency == "CNY" for sku in product.skus)
            assert 0 <= product.commission_bps <= 10_000
        assert db.session.scalar(select(func.min(Sku.stock))) >= 0
        assert db.session.scalar(select(func.count()).select_from(ProductImage)) >= 48

        # Product tags: at least 30% of notes, at most 6 each, active products; each review rates exactly one.
        posts = db.session.scalars(select(Post)).all()
        tags = db.session.execute(select(PostProduct.post_id, PostProduct.is_rated, Product.status)
                                  .join(Product, Product.id == PostProduct.product_id)).all()
        per_post = Counter(tag.post_id for tag in tags)
        rated = Counter(tag.post_id for tag in tags if tag.is_rated)
        assert len(per_post) >= 0.3 * len(posts) and max(per_post.values()) <= 6
        assert all(tag.status == ProductStatus.ACTIVE for tag in tags)
        for post in posts:
            assert rated[post.id] == (1 if post.kind == KIND_REVIEW else 0), post.id

        # Coupons: site-wide and per shop, one expired; uses left match the live redemptions.
        coupons = db.session.scalars(select(Coupon)).all()
        assert any(c.shop_id is None for c in coupons) and any(c.shop_id for c in coupons)
        assert any(c.ends_at and c.ends_at < clock_now() for c in coupons)
        for coupon in coupons:
            live = db.session.scalar(select(func.count()).select_from(CouponRedemption).where(
                CouponRedemption.coupon_id == coupon.id, CouponRedemption.status.in_(["reserved", "consumed"])))
            if coupon.total_uses is not None:
                assert coupon.uses_left == coupon.total_uses - live, coupon.code

        # Orders in every state, and money that adds up.
        orders = db.session.scalars(select(Order)).all()
        assert {order.status for order in orders} == {str(status) for status in OrderStatus}
        reader_id = db.session.scalar(select(User.id).where(User.username == "reader"))
        assert {order.status for order in orders if order.buyer_id == reader_id} == {str(s) for s in OrderStatus}, \
            "the README promises the demo reader past orders in every state"
        for payment in db.session.scalars(select(Payment)):
            assert payment.amount_cents == sum(order.total_cents for order in payment.orders)
            refunded = db.session.scalar(select(func.coalesce(func.sum(Refund.amount_cents), 0))
                                         .where(Refund.payment_id == payment.id))
            assert payment.refunded_cents == refunded == sum(order.refunded_cents for order in payment.orders)
        for order in orders:
            if order.status == OrderStatus.REFUNDED:
                assert order.refunded_cents == order.total_cents
            if order.status == OrderStatus.PARTIALLY_REFUNDED:
                assert 0 < sum(line.refunded_quantity for line in order.lines) < sum(line.quantity
                                                                                     for line in order.lines)
            if order.status in (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.COMPLETED):
                assert order.payment.status == "succeeded" and order.paid_at
        lines = db.session.execute(select(OrderLine.source_post_id, OrderLine.source_author_id, OrderLine.product_id)
                                   .where(OrderLine.source_post_id.is_not(None))).all()
        assert lines, "no purchase was attributed to a note"
        for line in lines:
            assert db.session.get(Post, line.source_post_id).author_id == line.source_author_id
            assert db.session.get(PostProduct, (line.source_post_id, line.product_id)) is not None
        first = _storefront_facts()

    # The same seed on another (empty) database makes the same storefront.
    other = create_app(make_config(f"sqlite:///{tmp_path / 'again.db'}", tmp_path / "media-again"))
    with other.app_context():
        db.create_all()
    assert other.test_cli_runner().invoke(args=STOREFRONT_ARGS).exit_code == 0
    with other.app_context():
        assert _storefront_facts() == first
        db.engine.dispose()


def test_create_token_prints_a_secret_that_authenticates_the_api(app, client):
    app.test_cli_runner().invoke(args=["seed-demo", "--users", "0", "--posts", "0", "--products", "0", "--orders", "0"])
    result = app.test_cli_runner().invoke(args=["users", "create-token", "reader", "--name", "gate", "--days", "1"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip()
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200 and response.get_json()["username"] == "reader"


def test_create_token_for_an_unknown_user_fails_cleanly(app):
    result = app.test_cli_runner().invoke(args=["users", "create-token", "nobody"])
    assert result.exit_code != 0 and "Traceback" not in result.output
