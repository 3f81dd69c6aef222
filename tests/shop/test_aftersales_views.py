"""After-sales through the pages: the buyer asks (with a photo), the shop approves, the order's history shows
every step; bad input comes back on the form next to its field with nothing changed."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from app.core.clock import frozen_at
from app.core.clock import now as clock_now
from app.extensions import db
from app.shop import orders
from app.shop.aftersale_models import AfterSale
from app.shop.models import Order
from tests.posts.conftest import image_bytes
from tests.shop.conftest import buy, fresh, pay
from tests.social.conftest import sign_in


def page(response) -> str:
    return response.get_data(as_text=True)


def shipped_order(world, quantity=2):
    placed = buy(world.buyer, world.address_id, world.sku_id, quantity)
    pay(placed.payment.id)
    orders.ship_order(world.merchant, placed.orders[0].id, "SF1")
    return fresh(Order, placed.orders[0].id)


def requests_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AfterSale))


def test_buyer_asks_shop_approves_and_the_history_shows_it(world, client):
    order = shipped_order(world)
    line_id = order.lines[0].id
    sign_in(client, "buyer")
    assert "Ask for a refund or return" in page(client.get(f"/orders/{order.id}"))
    form = page(client.get(f"/orders/{order.id}/after-sales/new"))
    assert "Arrived damaged" in form and f'name="qty-{line_id}"' in form
    import io
    response = client.post_form(f"/orders/{order.id}/after-sales/new", {
        "kind": "refund", f"qty-{line_id}": "1", "reason": "damaged", "note": "Cracked lid",
        "photos": [(io.BytesIO(image_bytes()), "lid.png")]}, content_type="multipart/form-data")
    assert response.status_code == 302, page(response)[:500]
    request = db.session.scalar(select(AfterSale))
    assert request.status == "requested" and len(request.photos) == 1
    assert "Waiting for the shop" in page(client.get(response.headers["Location"]))
    client.post_form("/logout")

    sign_in(client, "merchant")
    detail = page(client.get(f"/after-sales/{request.id}"))
    assert "Approve and refund" in detail and "Cracked lid" in detail
    assert f"After-sales request #{request.id}" in page(client.get("/shop/shop-merchant/after-sales"))
    client.post_form(f"/after-sales/{request.id}/approve")
    assert fresh(AfterSale, request.id).status == "refunded"
    assert fresh(Order, order.id).refunded_cents == 1000
    history = page(client.get(f"/orders/{order.id}"))
    assert history.count("After-sales · ") == 2  # requested, refunded — next to the order's own moves


def test_bad_input_stays_on_the_form_next_to_its_field(world, client):
    order = shipped_order(world)
    line_id = order.lines[0].id
    sign_in(client, "buyer")
    too_many = client.post_form(f"/orders/{order.id}/after-sales/new",
                                {"kind": "refund", f"qty-{line_id}": "5", "reason": ""})
    body = page(too_many)
    assert too_many.status_code == 422
    assert f'id="qty-{line_id}-error"' in body and "at most 2" in body
    assert "Choose a reason from the list." in body
    nothing = page(client.post_form(f"/orders/{order.id}/after-sales/new", {"kind": "refund", "reason": "damaged"}))
    assert "Choose at least one item and how many." in nothing
    assert requests_count() == 0


def test_the_window_closed_hides_the_buttons_and_refuses_the_form(world, client):
    order = shipped_order(world)
    orders.confirm_delivery(world.buyer, order.id)
    with frozen_at(clock_now() + timedelta(days=8)):
        _window_closed(world, client, order)


def _window_closed(world, client, order):
    sign_in(client, "buyer")
    assert "Ask for a refund or return" not in page(client.get(f"/orders/{order.id}"))
    refused = client.post_form(f"/orders/{order.id}/after-sales/new",
                               {"kind": "refund", f"qty-{order.lines[0].id}": "1", "reason": "damaged"})
    assert refused.status_code == 422 and "return window" in page(refused)
    client.post_form("/logout")
    sign_in(client, "merchant")
    assert "Review the refund" not in page(client.get(f"/orders/{order.id}"))  # the shop's refund form is hidden
    assert requests_count() == 0


def test_a_completed_line_offers_a_review_that_carries_the_bought_it_badge(world, client):
    from app.communities.models import Community
    from app.posts import services as posts
    from app.shop.models import Product
    from tests import factories

    community = factories.community(owner=world.admin)
    db.session.get(Product, world.product_id).community_id = community.id
    db.session.commit()
    order = shipped_order(world)
    sign_in(client, "buyer")
    assert "Write a review" not in page(client.get(f"/orders/{order.id}"))
    orders.confirm_delivery(world.buyer, order.id)
    body = page(client.get(f"/orders/{order.id}"))
    assert f"/p/new?review={world.product_id}" in body
    editor = page(client.get(f"/p/new?review={world.product_id}"))
    assert re.search(r'<input[^>]*checked[^>]*value="review"|<input[^>]*value="review"[^>]*checked', editor)
    assert f'value="{world.product_id}"' in editor
    post = posts.create_post(world.buyer, community_slug=db.session.get(Community, community.id).slug,
                             title="Honest review", body="Lovely tint", kind="review", rating=5,
                             images=[image_bytes()],
                             product_ids=[str(world.product_id)], reviewed_product_id=str(world.product_id))
    assert "Bought it" in page(client.get(f"/p/{post.id}"))
    stranger_review = posts.create_post(world.merchant, community_slug=db.session.get(Community, community.id).slug,
                                        title="Our tint", body="Buy it", kind="review", rating=5,
                                        images=[image_bytes()],
                                        product_ids=[str(world.product_id)],
                                        reviewed_product_id=str(world.product_id))
    assert "Bought it" not in page(client.get(f"/p/{stranger_review.id}"))
