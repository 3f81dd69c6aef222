"""The creator's and buyer's journeys around orders: an order's moves read as one notification line with the
product, a note's statistics for its author (event log + attributed sales), the cart badge and the Me page."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from flask import Flask

from app.core.clock import frozen_at
from app.core.errors import Forbidden, Invalid
from app.events.log import record_action, record_impressions
from app.extensions import db
from app.shop import cart, checkout, note_stats, orders, tags
from app.shop.models import ProductImage
from app.social.notifications import grouped_notifications
from tests import factories
from tests.conftest import log_in
from tests.shop.conftest import open_shop, pay, product_with_sku, user

NOW = datetime(2026, 3, 1, 12, 0)


def test_an_orders_moves_group_into_one_line_with_the_product(world):
    db.session.add(ProductImage(product_id=world.product_id, path="products/tint.webp", position=0))
    db.session.commit()
    placed = checkout.place_orders(world.buyer, [{"sku_id": world.sku_id, "quantity": 1}], world.address_id,
                                   now=NOW)
    pay(placed.payment.id, now=NOW + timedelta(minutes=1))
    orders.ship_order(world.merchant, placed.orders[0].id, "SF123", now=NOW + timedelta(hours=2))
    [line] = grouped_notifications(world.buyer).items
    assert line.kind == "order_shipped" and line.count == 2  # paid, then shipped: one line, the newest move
    assert str(line.message) == f"Order #{placed.orders[0].id} has shipped"
    assert line.target_detail == "Lip tint" and line.thumbnail == "products/tint.webp"


def test_a_note_shows_its_author_what_it_was_shown_opened_and_sold(world):
    creator = user("creator")
    post = factories.post(author=creator, title="My tint", created_at=NOW - timedelta(days=3))
    tags.set_post_products(creator, post, [world.product_id])
    with frozen_at(NOW - timedelta(days=2)):
        record_impressions([post.id], surface="for_you", request_id="r1", user_id=world.buyer.id)
        record_impressions([post.id], surface="community", request_id="r2", user_id=world.merchant.id)
        record_action("open", user_id=world.buyer.id, post_id=post.id)
    with frozen_at(NOW - timedelta(days=1)):
        record_action("product_click", user_id=world.buyer.id, post_id=post.id)
        cart.add_to_cart(world.buyer, world.sku_id, 2, source_post_id=post.id)
        placed = checkout.place_orders(world.buyer, cart.cart_of(world.buyer), world.address_id,
                                       now=NOW - timedelta(days=1))
        pay(placed.payment.id, now=NOW - timedelta(days=1))
    stats = note_stats.note_stats(creator, post, 7, moment=NOW)
    assert (stats.totals["impression"], stats.totals["open"], stats.totals["product_click"]) == (2, 1, 1)
    assert (stats.totals["sales_units"], stats.totals["sales_cents"]) == (2, 2000)
    assert stats.series["impression"][-3] == 2 and stats.series["sales_units"][-2] == 2  # on their days
    assert stats.open_rate == 0.5
    with pytest.raises(Forbidden):
        note_stats.note_stats(world.buyer, post)
    with pytest.raises(Invalid):
        note_stats.parse_period("365")


def test_the_statistics_page_is_the_authors_and_refuses_a_bad_period(app: Flask, client, make_user):
    creator = make_user("creator")
    other = make_user("other")
    with app.app_context():
        from app.accounts.models import User

        post = factories.post(author=db.session.get(User, creator.id), title="Stats please")
        post_id = post.id
    log_in(client, other)
    assert client.get(f"/p/{post_id}/stats").status_code == 403
    client.post_form("/logout")
    log_in(client, creator)
    page = client.get(f"/p/{post_id}/stats")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<svg" in html and "Product clicks" in html
    assert client.get(f"/p/{post_id}/stats?days=365").status_code in (400, 422)
    chinese = client.get(f"/p/{post_id}/stats?lang=zh_Hans").get_data(as_text=True)
    assert "曝光" in chinese and "商品点击" in chinese
    assert f'/p/{post_id}/stats' in client.get(f"/p/{post_id}").get_data(as_text=True)


def test_edited_opens_the_revisions_for_the_author(app: Flask, client, make_user):
    creator = make_user("creator")
    with app.app_context():
        from app.accounts.models import User
        from app.posts.models import PostRevision

        author = db.session.get(User, creator.id)
        post = factories.post(author=author, title="Second title", body_md="Second body", edited_at=NOW)
        db.session.add(PostRevision(post_id=post.id, editor_id=author.id, title="First title", body_md="First body",
                                    created_at=NOW))
        db.session.commit()
        post_id = post.id
    log_in(client, creator)
    detail = client.get(f"/p/{post_id}").get_data(as_text=True)
    assert f'href="/p/{post_id}/revisions"' in detail
    history = client.get(f"/p/{post_id}/revisions").get_data(as_text=True)
    assert "First title" in history and "Second title" in history and "First body" in history


def test_the_cart_badge_and_the_me_page(app: Flask, client, make_user):
    buyer = make_user("buyer")
    with app.app_context():
        from app.accounts.models import User

        merchant, admin = user("merchant"), user("admin", is_admin=True)
        shop = open_shop(merchant, admin)
        _product, sku = product_with_sku(merchant, shop.id)
        cart.add_to_cart(db.session.get(User, buyer.id), sku.id, 3)
    log_in(client, buyer)
    html = client.get("/c").get_data(as_text=True)
    assert 'class="tabbar"' in html and "3 items in your cart" in html
    me = client.get("/me").get_data(as_text=True)
    assert "/settings" in me and "/logout" in me and "/settings/notifications" in me
    # what the desktop nav and the other domains' pages offer is reachable from Me on a phone too
    assert all(path in me for path in ("/me/groups", "/me/coupons", "/me/earnings", "/me/invites", "/orders"))
