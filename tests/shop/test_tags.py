"""Shoppable notes: tagging products in notes and reviews, their cards under the note, the editor's search,
the API fields, and what a product page reads back (notes featuring it, its rating)."""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from app.communities.models import Community
from app.core.errors import Forbidden, Invalid
from app.extensions import db
from app.posts import services as post_services
from app.posts.models import STATUS_REMOVED, Post
from app.shop import catalog, tags
from app.shop.models import PostProduct, Product, ProductStatus
from app.social.services import block
from tests import factories
from tests.posts.conftest import image_bytes
from tests.posts.test_api import token
from tests.query_count import count_queries
from tests.shop.conftest import open_shop, product_with_sku, user
from tests.social.conftest import sign_in

HTMX = {"HX-Request": "true"}


def publish(author, community, *, kind="note", rating=None, images=1, **product_fields):
    return post_services.create_post(author, community_slug=community.slug, title="Trail kit", body="Tried it",
                                     kind=kind, rating=rating, images=[image_bytes((40, 50))] * images,
                                     **product_fields)


def tag_rows(post_id: int) -> list[tuple]:
    db.session.expire_all()
    return db.session.execute(select(PostProduct.product_id, PostProduct.position, PostProduct.pin_image,
                                     PostProduct.pin_x, PostProduct.pin_y, PostProduct.is_rated)
                              .where(PostProduct.post_id == post_id).order_by(PostProduct.position)).all()


def counts() -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(Post)),
            db.session.scalar(select(func.count()).select_from(PostProduct)))


@pytest.fixture
def shelf(ctx):
    """An approved shop with seven active products (one SKU each), an author and a community."""
    admin = user("admin", is_admin=True)
    merchant = user("merchant")
    shop = open_shop(merchant, admin)
    products = [product_with_sku(merchant, shop.id, title=f"Trail lamp {n}", price=1000 + n)[0] for n in range(7)]
    author = user("author")
    community = factories.community("trail-runners")
    return type("Shelf", (), {"admin": admin, "merchant": merchant, "shop": shop, "author": author,
                              "community": community, "ids": [p.id for p in products]})


# --- the rules ----------------------------------------------------------------------------------------------

def test_a_note_tags_products_in_order_with_pins(shelf):
    post = publish(shelf.author, shelf.community, images=2, product_ids=[shelf.ids[2], shelf.ids[0]],
                   pins={shelf.ids[0]: "0.25, 0.75, 2"})
    assert tag_rows(post.id) == [(shelf.ids[2], 0, None, None, None, False), (shelf.ids[0], 1, 1, 0.25, 0.75, False)]
    [first, second] = tags.products_of_posts([post.id])[post.id]
    assert (first.product_id, first.price_min_cents, first.buy_sku_id is not None) == (shelf.ids[2], 1002, True)
    assert second.pin == tags.Pin(1, 0.25, 0.75)


def test_more_than_six_products_or_the_same_one_twice_is_refused_and_changes_nothing(shelf):
    before = counts()
    for ids, message in ((shelf.ids, "at most 6"), ([shelf.ids[0], shelf.ids[0]], "only once"),
                         ([f"{shelf.ids[0]}, {shelf.ids[0]}"], "only once"), (["twelve"], "not a product number"),
                         ([0], "not a product number"), ([10**12], "not a product number"),
                         (["²"], "not a product number"), (["9" * 5000], "not a product number")):
        with pytest.raises(Invalid) as refused:
            publish(shelf.author, shelf.community, product_ids=ids)
        assert message in refused.value.errors["product_ids"][0], ids
    db.session.rollback()
    assert counts() == before


def test_only_active_products_of_approved_shops_can_be_tagged(shelf):
    draft = catalog.create_product(shelf.merchant, shelf.shop.id, title="Unfinished tent")
    archived = shelf.ids[6]
    catalog.set_product_status(shelf.merchant, archived, ProductStatus.ARCHIVED)
    applicant = user("applicant")
    pending = catalog.apply_for_shop(applicant, slug="pending-shop", name="Pending")
    pending_product = db.session.get(Product, draft.id)
    pending_product.shop_id = pending.id  # a product whose shop is not approved (yet)
    db.session.commit()
    approved_draft = catalog.create_product(shelf.merchant, shelf.shop.id, title="Another draft")
    before = counts()
    for product_id in (archived, draft.id, approved_draft.id, 999_999):
        with pytest.raises(Invalid) as refused:
            publish(shelf.author, shelf.community, product_ids=[shelf.ids[0], product_id])
        assert "product_ids" in refused.value.errors, product_id
    db.session.rollback()
    assert counts() == before
    assert [card.product_id for card in tags.search_products_for_tagging("tent")] == []


def test_a_review_rates_exactly_one_of_its_tagged_products(shelf):
    before = counts()
    refusals = [
        ({"product_ids": [shelf.ids[0]], "reviewed_product_id": shelf.ids[1]}, "only rate a product it tags"),
        ({"product_ids": [shelf.ids[0], shelf.ids[1]]}, "Choose which"),
        ({}, "tag the product you review"),
        ({"product_ids": [shelf.ids[0]], "reviewed_product_id": "abc"}, "Choose one of the tagged products"),
    ]
    for fields, message in refusals:
        with pytest.raises(Invalid) as refused:
            publish(shelf.author, shelf.community, kind="review", rating=4, **fields)
        assert message in refused.value.errors["reviewed_product_id"][0], fields
    db.session.rollback()
    assert counts() == before
    chosen = publish(shelf.author, shelf.community, kind="review", rating=4,
                     product_ids=[shelf.ids[0], shelf.ids[1]], reviewed_product_id=str(shelf.ids[1]))
    assert [row.is_rated for row in tag_rows(chosen.id)] == [False, True]
    only = publish(shelf.author, shelf.community, kind="review", rating=5, product_ids=[shelf.ids[2]])
    assert [row.is_rated for row in tag_rows(only.id)] == [True]  # one tagged product: it is the rated one


def test_a_note_rates_nothing(shelf):
    with pytest.raises(Invalid) as refused:
        publish(shelf.author, shelf.community, product_ids=[shelf.ids[0]], reviewed_product_id=shelf.ids[0])
    assert "a note has no rating" in refused.value.errors["reviewed_product_id"][0]
    db.session.rollback()
    assert counts() == (0, 0)


@pytest.mark.parametrize("pin", ["1.5,0.5", "-0.1,0.2", "0.5", "0.5,0.5,3", "0.5,0.5,0", "x,y", "nan,0.5",
                                 "0.5,0.5,1,1", "0.5,0.5,²", "0.5,0.5," + "9" * 5000])
def test_bad_pins_are_refused(shelf, pin):
    with pytest.raises(Invalid) as refused:
        publish(shelf.author, shelf.community, images=2, product_ids=[shelf.ids[0]], pins={shelf.ids[0]: pin})
    assert "pins" in refused.value.errors
    db.session.rollback()
    assert counts() == (0, 0)


def test_a_pin_needs_a_tagged_product(shelf):
    with pytest.raises(Invalid) as refused:
        publish(shelf.author, shelf.community, product_ids=[shelf.ids[0]], pins={shelf.ids[1]: "0.5,0.5"})
    assert "tagged product" in refused.value.errors["pins"][0]


def test_set_post_products_replaces_them_for_the_author_only(shelf):
    post = publish(shelf.author, shelf.community, product_ids=[shelf.ids[0], shelf.ids[1]])
    with pytest.raises(Forbidden):
        tags.set_post_products(shelf.merchant, post, [shelf.ids[3]])
    cards = tags.set_post_products(shelf.author, post, f"{shelf.ids[3]} {shelf.ids[1]}", {shelf.ids[1]: "0.1,0.9"})
    assert [card.product_id for card in cards] == [shelf.ids[3], shelf.ids[1]]
    assert tag_rows(post.id)[1][2:5] == (0, 0.1, 0.9)
    with pytest.raises(Invalid):
        tags.set_post_products(shelf.author, post, shelf.ids)
    assert [row.product_id for row in tag_rows(post.id)] == [shelf.ids[3], shelf.ids[1]]


def test_editing_a_post_keeps_its_products_unless_told_otherwise(shelf):
    review = publish(shelf.author, shelf.community, kind="review", rating=3, product_ids=[shelf.ids[0], shelf.ids[1]],
                     reviewed_product_id=shelf.ids[1], pins={shelf.ids[0]: "0.5,0.5"})
    post_services.edit_post(shelf.author, review, title="Better title")
    assert [(row.product_id, row.pin_x, row.is_rated) for row in tag_rows(review.id)] == [
        (shelf.ids[0], 0.5, False), (shelf.ids[1], None, True)]
    post_services.edit_post(shelf.author, review, product_ids=[shelf.ids[1], shelf.ids[4]])
    assert [(row.product_id, row.is_rated) for row in tag_rows(review.id)] == [(shelf.ids[1], True),
                                                                             (shelf.ids[4], False)]
    with pytest.raises(Invalid):  # the rated product dropped and two left: which one is rated?
        post_services.edit_post(shelf.author, review, product_ids=[shelf.ids[2], shelf.ids[4]])
    db.session.rollback()
    assert [row.product_id for row in tag_rows(review.id)] == [shelf.ids[1], shelf.ids[4]]


# --- what the product page reads -------------------------------------------------------------------------

def test_posts_featuring_a_product_hide_removed_posts_and_blocked_authors(shelf):
    product = shelf.ids[0]
    kept = publish(shelf.author, shelf.community, product_ids=[product])
    removed = publish(shelf.author, shelf.community, product_ids=[product])
    removed.status = STATUS_REMOVED
    db.session.commit()
    stranger = user("stranger")
    theirs = publish(stranger, shelf.community, product_ids=[product, shelf.ids[1]])
    publish(shelf.author, shelf.community, product_ids=[shelf.ids[2]])  # another product
    reader = user("reader")
    readers = publish(reader, shelf.community, product_ids=[product])
    assert [p.id for p in tags.posts_featuring(product, reader)] == [readers.id, theirs.id, kept.id]
    block(reader, stranger)
    assert [p.id for p in tags.posts_featuring(product, reader)] == [readers.id, kept.id]
    assert [p.id for p in tags.posts_featuring(product, stranger)] == [theirs.id, kept.id]  # both ways
    assert [p.id for p in tags.posts_featuring(product, None, limit=2)] == [readers.id, theirs.id]


def test_product_rating_averages_the_published_reviews_that_rate_it(shelf):
    product = shelf.ids[0]
    assert tags.product_rating(product) == tags.ProductRating(None, 0)
    for stars in (5, 4, 4):
        publish(user(), shelf.community, kind="review", rating=stars, product_ids=[product])
    publish(shelf.author, shelf.community, kind="review", rating=1, product_ids=[product, shelf.ids[1]],
            reviewed_product_id=shelf.ids[1])  # tags it, rates another
    publish(shelf.author, shelf.community, product_ids=[product])  # a note: no rating
    gone = publish(shelf.author, shelf.community, kind="review", rating=1, product_ids=[product])
    post_services.delete_post(shelf.author, gone)
    assert tags.product_rating(product) == tags.ProductRating(4.33, 3)
    assert tags.product_rating(shelf.ids[1]) == tags.ProductRating(1.0, 1)
    assert len(tags.reviews_rating(product, None)) == 3


def test_search_for_tagging_matches_titles_and_treats_wildcards_literally(shelf):
    catalog.create_product(shelf.merchant, shelf.shop.id, title="Trail lamp draft")  # draft: not offered
    found = tags.search_products_for_tagging("TRAIL LAMP", limit=3)
    assert [card.product_id for card in found] == [shelf.ids[6], shelf.ids[5], shelf.ids[4]]
    assert tags.search_products_for_tagging("%") == [] and tags.search_products_for_tagging("_") == []
    assert tags.search_products_for_tagging("   ") == []
    assert len(tags.search_products_for_tagging("lamp", limit=500)) == 7


def test_cards_show_price_range_stock_and_the_sku_a_buy_button_adds(shelf):
    multi, first_sku = product_with_sku(shelf.merchant, shelf.shop.id, title="Shell jacket", price=39900, stock=0)
    catalog.add_sku(shelf.merchant, multi.id, code="JACKET-L", label="L", price_cents=42900, stock=3)
    sold_out, _sku = product_with_sku(shelf.merchant, shelf.shop.id, title="Gaiters", stock=0)
    cards = tags.product_cards([multi.id, sold_out.id, shelf.ids[0]])
    assert (cards[multi.id].price_min_cents, cards[multi.id].price_max_cents) == (39900, 42900)
    assert cards[multi.id].in_stock and cards[multi.id].buy_sku_id is None and cards[multi.id].has_price_range
    assert not cards[sold_out.id].in_stock and cards[sold_out.id].buy_sku_id is None
    assert cards[shelf.ids[0]].buy_sku_id is not None and cards[shelf.ids[0]].available


# --- the note page ----------------------------------------------------------------------------------------

def _note_with_products(app, count: int, **fields) -> tuple[int, list[int]]:
    with app.app_context():
        admin = user(is_admin=True)
        merchant = user()
        shop = open_shop(merchant, admin)
        ids = []
        for n in range(count):
            product, _sku = product_with_sku(merchant, shop.id, title=f"Camp stove {n}", price=12_900 + n)
            catalog.add_product_image(merchant, product.id, f"products/stove-{n}.webp")
            ids.append(product.id)
        community = db.session.scalar(select(Community)) or factories.community("trail-runners")
        post = publish(user(), community, product_ids=ids, **fields)
        return post.id, ids




def test_the_note_page_shows_each_product_card_with_a_buy_form(app, client):
    post_id, [product_id] = _note_with_products(app, 1, pins=None)
    with app.app_context():
        sku_id = tags.product_cards([product_id])[product_id].buy_sku_id
    html = client.get(f"/p/{post_id}").get_data(as_text=True)
    card = html[html.index(f'id="product-{product_id}"'):]
    card = card[:card.index("</li>")]
    assert f'href="/products/{product_id}?from={post_id}"' in card and "Camp stove 0" in card
    assert "CN¥129.00" in card and "In stock" in card and "products/stove-0.webp" in card
    form = re.search(r'<form method="post" action="([^"]+)" class="buy-form">(.*?)</form>', card, re.S)
    assert form and form.group(1) == "/cart/add"
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form.group(2)))
    assert fields.pop("csrf_token")
    assert fields == {"sku_id": str(sku_id), "quantity": "1", "source_post_id": str(post_id), "buy_now": "1"}


def test_a_product_with_options_links_to_its_page_and_a_sold_out_one_has_no_button(app, client):
    post_id, [choose, sold_out] = _note_with_products(app, 2)
    with app.app_context():
        owner = db.session.get(Product, choose).shop.owner
        catalog.add_sku(owner, choose, code="STOVE-BIG", label="Big", price_cents=19_900, stock=1)
        sku = db.session.get(Product, sold_out).skus[0]
        catalog.adjust_stock(owner, sku.id, -sku.stock)
    html = client.get(f"/p/{post_id}").get_data(as_text=True)
    first = html[html.index(f'id="product-{choose}"'):]
    first = first[:first.index("</li>")]
    assert "buy-form" not in first and f'class="btn btn-primary" href="/products/{choose}?from={post_id}"' in first
    assert "CN¥129.00 – CN¥199.00" in first
    second = html[html.index(f'id="product-{sold_out}"'):]
    second = second[:second.index("</li>")]
    assert "Sold out" in second and "buy-form" not in second and "btn-primary" not in second


def test_a_review_page_marks_the_rated_product_and_pins_it(app, client):
    with app.app_context():
        admin, merchant = user(is_admin=True), user()
        shop = open_shop(merchant, admin)
        product, _sku = product_with_sku(merchant, shop.id, title="Headlamp")
        review = publish(user(), factories.community("trail-runners"), kind="review", rating=4,
                         product_ids=[product.id], pins={product.id: "0.3,0.6"})
        ids = review.id, product.id
    html = client.get(f"/p/{ids[0]}").get_data(as_text=True)
    assert "Rated 4 out of 5 in this review" in html
    assert f'class="product-pin" href="#product-{ids[1]}" data-pin-x="0.3" data-pin-y="0.6"' in html


def test_the_note_page_loads_its_product_cards_in_a_fixed_number_of_queries(app, client):
    one, _ = _note_with_products(app, 1)
    six, _ = _note_with_products(app, 6)
    client.get(f"/p/{one}")  # warm up (first request: scheduler, caches)
    with count_queries(app) as few:
        assert client.get(f"/p/{one}").status_code == 200
    with count_queries(app) as many:
        assert client.get(f"/p/{six}").status_code == 200
    assert len(many) == len(few), "\n".join(many)


# --- the editor -------------------------------------------------------------------------------------------

def _shop_with(app, *titles) -> list[int]:
    with app.app_context():
        admin, merchant = user(is_admin=True), user()
        shop = open_shop(merchant, admin)
        factories.community("trail-runners")
        user("writer")
        return [product_with_sku(merchant, shop.id, title=title)[0].id for title in titles]


def _editor_form(client, **overrides):
    data = {"community": "trail-runners", "kind": "note", "title": "Camp dinner", "body": "Noodles again",
            "tags": "", "rating": "", "csrf_token": client.csrf_token(),
            "images": [(io.BytesIO(image_bytes((40, 50))), "cover.png")]}
    data.update(overrides)
    return client.post("/p/new", data=data, content_type="multipart/form-data")


def test_the_editor_searches_products_with_and_without_javascript(app, client):
    [stove, _pot] = _shop_with(app, "Titanium stove", "Cook pot")
    sign_in(client, "writer")
    editor = client.get("/p/new").get_data(as_text=True)
    assert 'id="product-search-form"' in editor and 'hx-get="/posts/product-search"' in editor
    assert 'form="product-search-form"' in editor and 'name="add_products"' in editor
    partial = client.get("/posts/product-search?q=STOVE", headers=HTMX).get_data(as_text=True)
    assert "<html" not in partial and "Titanium stove" in partial and "Cook pot" not in partial
    assert f'hx-get="/posts/product-tag?product_id={stove}"' in partial
    page = client.get("/posts/product-search?q=stove").get_data(as_text=True)
    assert "<html" in page and f"No. {stove}" in page and "hx-get" not in page.split("<main", 1)[-1]
    row = client.get(f"/posts/product-tag?product_id={stove}", headers=HTMX).get_data(as_text=True)
    assert f'name="product_ids" value="{stove}" checked' in row and f'name="pin_{stove}"' in row
    assert 'name="reviewed_product_id"' in row
    assert client.get("/posts/product-tag?product_id=99999").status_code == 404
    with app.app_context():
        owner = db.session.get(Product, stove).shop.owner
        draft = catalog.create_product(owner, db.session.get(Product, stove).shop_id, title="Secret prototype").id
    assert client.get(f"/posts/product-tag?product_id={draft}").status_code == 404
    refused = _editor_form(client, product_ids=[str(draft)])
    assert refused.status_code == 422 and "Secret prototype" not in refused.get_data(as_text=True)
    assert client.get("/posts/product-tag?product_id=" + "9" * 5000).status_code == 404
    assert client.get("/posts/product-tag?product_id=²").status_code == 404
    assert _editor_form(client, product_ids=["²"], add_products="³").status_code == 422
    assert "No product matches" in client.get("/posts/product-search?q=zzz", headers=HTMX).get_data(as_text=True)


def test_the_editor_tags_products_by_ticked_rows_and_typed_numbers(app, client):
    [stove, pot, mug] = _shop_with(app, "Stove", "Pot", "Mug")
    sign_in(client, "writer")
    response = _editor_form(client, product_ids=[str(stove)], add_products=f"{pot}, {mug}",
                            **{f"pin_{stove}": "0.5,0.4"})
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    post_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        assert [(row.product_id, row.pin_x) for row in tag_rows(post_id)] == [(stove, 0.5), (pot, None),
                                                                              (mug, None)]
    edit = client.get(f"/p/{post_id}/edit").get_data(as_text=True)
    assert f'name="product_ids" value="{stove}" checked' in edit and 'value="0.5,0.4,1"' in edit
    assert "post-form-note" in edit  # a note's editor hides the "rated" choice
    changed = client.post(f"/p/{post_id}/edit", data={"title": "Camp dinner", "body": "Noodles", "tags": "",
                                                      "csrf_token": client.csrf_token(), "product_ids": [str(mug)],
                                                      f"pin_{mug}": ""}, content_type="multipart/form-data")
    assert changed.status_code == 302
    with app.app_context():
        assert [row.product_id for row in tag_rows(post_id)] == [mug]


def test_the_editor_shows_product_errors_and_keeps_the_choices(app, client):
    [stove, pot] = _shop_with(app, "Stove", "Pot")
    sign_in(client, "writer")
    refused = _editor_form(client, kind="review", rating="4", product_ids=[str(stove), str(pot)],
                           **{f"pin_{pot}": "2,2"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "A pin is two numbers" in html
    assert f'name="product_ids" value="{stove}" checked' in html and 'value="2,2"' in html
    unrated = _editor_form(client, kind="review", rating="4", product_ids=[str(stove), str(pot)])
    assert unrated.status_code == 422 and "Choose which of the tagged products" in unrated.get_data(as_text=True)
    rated = _editor_form(client, kind="review", rating="4", product_ids=[str(stove), str(pot)],
                         reviewed_product_id=str(pot))
    assert rated.status_code == 302
    # A radio left ticked after switching back to "note" is not a rating.
    note = _editor_form(client, kind="note", product_ids=[str(stove)], reviewed_product_id=str(stove))
    assert note.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PostProduct).where(PostProduct.is_rated)) == 1


# --- the API ----------------------------------------------------------------------------------------------

def test_the_api_creates_and_edits_posts_with_products(app, client):
    [stove, pot, mug] = _shop_with(app, "Stove", "Pot", "Mug")
    headers = token(app, "writer")
    data = {"community": "trail-runners", "title": "Stove review", "kind": "review", "rating": "5",
            "product_ids": [str(stove), str(pot)], "reviewed_product_id": str(pot), "pins": [f"{stove}:0.2,0.8"],
            "images": [(io.BytesIO(image_bytes((40, 50))), "a.png")]}
    created = client.post("/api/v1/posts", data=data, headers=headers, content_type="multipart/form-data")
    assert created.status_code == 201, created.json
    products = created.json["products"]
    assert [(p["product_id"], p["rated"]) for p in products] == [(stove, False), (pot, True)]
    assert products[0]["pin"] == {"image": 0, "x": 0.2, "y": 0.8} and products[0]["url"].endswith(f"/products/{stove}")
    assert products[0]["price_min_cents"] == 1000 and products[0]["buy_sku_id"] and products[0]["in_stock"]
    post_id = created.json["id"]
    patched = client.patch(f"/api/v1/posts/{post_id}", json={"product_ids": [mug, pot]}, headers=headers)
    assert patched.status_code == 200
    assert [(p["product_id"], p["rated"], p["pin"]) for p in patched.json["products"]] == [(mug, False, None),
                                                                                          (pot, True, None)]
    for bad, field in (({"product_ids": [mug, mug]}, "product_ids"), ({"reviewed_product_id": stove},
                                                                      "reviewed_product_id"),
                       ({"pins": ["0.5,0.5"]}, "pins"), ({"product_ids": ["x"]}, "product_ids")):
        refused = client.patch(f"/api/v1/posts/{post_id}", json=bad, headers=headers)
        assert refused.status_code == 422 and field in refused.json["errors"], (bad, refused.json)
    assert [p["product_id"] for p in client.get(f"/api/v1/posts/{post_id}").json["products"]] == [mug, pot]
    too_many = client.post("/api/v1/posts", data={**data, "product_ids": [str(i) for i in range(1, 8)],
                                                 "images": [(io.BytesIO(image_bytes((40, 50))), "a.png")]},
                           headers=headers, content_type="multipart/form-data")
    assert too_many.status_code == 422 and "product_ids" in too_many.json["errors"]
