"""Product ratings: one rating per reviewer (their newest review), and verified buyers' stars apart."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import refresh

from app.accounts.models import User
from app.core.clock import now as clock_now
from app.extensions import db
from app.posts import services as post_services
from app.posts.models import KIND_REVIEW
from app.search.ranking import product_signals
from app.shop import orders, refunds, tags
from app.shop.models import Sku
from tests import factories
from tests.shop.conftest import buy, buyer_with_address, open_shop, pay, product_with_sku, user
from tests.social.conftest import is_postgres
from tests.social.test_races import run_threads


@pytest.fixture
def rated(ctx):
    admin, merchant = user("admin", is_admin=True), user("merchant")
    shop = open_shop(merchant, admin)
    product, sku = product_with_sku(merchant, shop.id, stock=20, title="Trail lamp")
    community = factories.community("trail-runners")
    return type("Rated", (), {"admin": admin, "merchant": merchant, "product_id": product.id, "sku_id": sku.id,
                              "community": community})


def review(author: User, product_id: int, stars: int, minutes: int = 0):
    post = factories.post(author=author, kind=KIND_REVIEW, rating=stars,
                          created_at=clock_now() + timedelta(minutes=minutes))
    tags.set_post_products(author, post, [product_id], reviewed_product_id=product_id)
    return post


def bought(name: str, rated, quantity: int = 1) -> User:
    buyer, address_id = buyer_with_address(name)
    pay(buy(buyer, address_id, rated.sku_id, quantity).payment.id)
    return buyer


def test_one_account_cannot_pile_up_stars(rated):
    fan = bought("fan", rated)
    review(fan, rated.product_id, 5)
    assert tags.product_rating(rated.product_id) == tags.ProductRating(5.0, 1, 5.0, 1)
    troll = user("troll")  # never bought it
    for minute in (1, 2, 3):
        review(troll, rated.product_id, 1, minute)
    # Three 1-star reviews from one account are one rating: 5.0 and 1 → 3.0, not 2.0 over four "reviewers".
    assert tags.product_rating(rated.product_id) == tags.ProductRating(3.0, 2, 5.0, 1)
    product = db.session.get(Sku, rated.sku_id).product
    product.in_stock = True  # what search's loader sets on the rows it ranks
    signal = product_signals(fan.id, [product])[rated.product_id]
    assert (signal.rating, signal.reviews) == (3.0, 2)  # what search ranks by


def test_a_newer_review_replaces_the_older_rating(rated):
    critic = user("critic")
    older = review(critic, rated.product_id, 1)
    newer = review(critic, rated.product_id, 4, minutes=5)
    assert tags.product_rating(rated.product_id) == tags.ProductRating(4.0, 1)
    post_services.delete_post(critic, newer)  # the newest left is the rating again
    assert tags.product_rating(rated.product_id) == tags.ProductRating(1.0, 1)
    post_services.delete_post(critic, older)
    assert tags.product_rating(rated.product_id) == tags.ProductRating(None, 0)


def test_verified_means_paid_for_and_not_refunded_in_full(rated):
    payer = bought("payer", rated)
    buyer, address_id = buyer_with_address("unpaid")
    buy(buyer, address_id, rated.sku_id)  # awaiting payment: not (yet) a verified buyer
    refunded = bought("refunded", rated)
    review(payer, rated.product_id, 4)
    review(buyer, rated.product_id, 2)
    review(refunded, rated.product_id, 3)
    assert tags.product_rating(rated.product_id) == tags.ProductRating(3.0, 3, 3.5, 2)
    order = orders.buyer_orders_page(refunded).items[0]
    refunds.refund_order(rated.merchant, order.id, None, "faulty")
    assert tags.product_rating(rated.product_id) == tags.ProductRating(3.0, 3, 4.0, 1)


def test_ratings_of_many_products_come_in_one_query(rated, app):
    from tests.query_count import count_queries

    _, other = product_with_sku(rated.merchant, db.session.get(Sku, rated.sku_id).shop_id, title="Stove")
    review(user("a"), rated.product_id, 5)
    review(user("b"), other.product_id, 2)
    ids = [rated.product_id, other.product_id]
    with count_queries(app) as queries:
        ratings = tags.product_ratings(ids)
    assert len(queries) == 1
    assert [ratings[product_id].average for product_id in ids] == [5.0, 2.0]


def test_the_product_page_and_api_show_verified_buyers_apart(rated, client):
    review(bought("fan", rated), rated.product_id, 5)
    review(user("troll"), rated.product_id, 1)
    review(user("troll2"), rated.product_id, 2)
    english = client.get(f"/products/{rated.product_id}").get_data(as_text=True)
    assert "2.7 out of 5" in english and "(3 ratings)" in english
    assert "5.0 from 1 verified buyer" in english and "(33% of ratings)" in english
    refresh()  # the test's app context outlives a request, and Flask-Babel caches the locale on it
    chinese = client.get(f"/products/{rated.product_id}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "1 位已购买家评分 5.0" in chinese and "占评分的 33%" in chinese
    body = client.get(f"/api/v1/products/{rated.product_id}").json
    assert body["rating"] == {"average": 2.67, "count": 3, "verified_average": 5.0, "verified_count": 1}
    spec = client.get("/api/v1/openapi.json").json
    assert {"verified_average", "verified_count"} <= set(spec["components"]["schemas"]["Rating"]["properties"])


def test_no_verified_buyer_is_said_so(rated, client):
    review(user("troll"), rated.product_id, 1)
    assert "No verified buyer has reviewed it yet" in client.get(f"/products/{rated.product_id}").get_data(
        as_text=True)


def test_concurrent_reviews_by_one_account_still_count_once(app, rated):
    if not is_postgres(app):
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    troll_id, product_id = user("troll").id, rated.product_id
    review(user("fan"), product_id, 5)

    def post_one_star():
        review(db.session.get(User, troll_id), product_id, 1)

    run_threads(app, [post_one_star for _ in range(6)])
    db.session.expire_all()
    assert tags.product_rating(product_id) == tags.ProductRating(3.0, 2)
    assert len(tags.reviews_rating(product_id, None)) == 7  # every review is still shown; it rates once
