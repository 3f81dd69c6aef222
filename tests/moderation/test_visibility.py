"""Everywhere at once: removed notes, suspended authors, delisted products and shops disappear from every
feed, search result, recommendation, collection, product listing and API list, and come back on restore —
one assertion per surface. Banned members are refused through the page and the API with a clear message."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core.clock import now
from app.extensions import db
from app.feeds import services as feeds
from app.feeds.foryou import for_you_feed
from app.feeds.models import Recommendation
from app.moderation import actions, curation
from app.posts.models import Post, Tag, post_tags
from app.search import services as search
from app.search.indexing import rebuild_index
from tests.moderation.conftest import log_in_as, token, user


def _titles(page) -> set[str]:
    return {post.title for post in page.items}


def surfaces(world, reader) -> dict[str, bool]:
    """Is the world's note on each surface, for this reader?"""
    community = db.session.get(Post, world.post_id).community
    author = db.session.get(Post, world.post_id).author
    title = "Sunscreen that lasts"
    tag = db.session.scalar(select(Tag).where(Tag.name == "sunscreen"))
    collection = curation.community_collections(community)[0]
    return {
        "community hot": title in _titles(feeds.community_feed(community, "hot", viewer=reader)),
        "community new": title in _titles(feeds.community_feed(community, "new", viewer=reader)),
        "community top": title in _titles(feeds.community_feed(community, "top", "all", viewer=reader)),
        "trending": title in _titles(feeds.trending_feed(reader)),
        "tag": title in _titles(feeds.tag_feed(tag, viewer=reader)),
        "author profile": title in _titles(feeds.author_feed(author, reader)),
        "following": title in _titles(feeds.following_feed(reader)),
        "for you": world.post_id in {post.id for post in for_you_feed(reader).items},
        "search": world.post_id in {r.obj.id for r in search.search(reader, "sunscreen", sort="relevant").results},
        "editor's picks": world.post_id in {p.id for p in curation.editors_picks(community, reader)},
        "collection": world.post_id in {p.id for p in curation.collection_posts(collection, reader)},
    }


@pytest.fixture
def placed(app, world):
    """The note everywhere: tagged, followed, recommended, featured, collected and indexed."""
    with app.app_context():
        from app.social.models import Follow

        reader, author = user(world.reader), user(world.author)
        post = db.session.get(Post, world.post_id)
        tag = Tag(name="sunscreen", post_count=1)
        db.session.add(tag)
        db.session.flush()
        db.session.execute(post_tags.insert().values(post_id=post.id, tag_id=tag.id))
        db.session.add(Follow(follower_id=reader.id, followee_id=author.id))
        db.session.add(Recommendation(user_id=reader.id, post_id=post.id, score=1.0, reason={"code": "trending"},
                                      model_version="test", author_id=author.id, community_id=post.community_id))
        post.like_count = 3
        db.session.commit()
        actions.take_action(user(world.moderator), "feature_post", target_kind="post", target_id=post.id,
                            reason="Great review")
        collection = curation.create_collection(user(world.moderator), post.community, "Sun care")
        curation.add_note(user(world.moderator), collection, post.id)
        rebuild_index()
    return world


def test_a_removed_note_leaves_every_surface_and_comes_back_on_restore(app, placed):
    world = placed
    with app.app_context():
        reader = user(world.reader)
        before = surfaces(world, reader)
        assert all(before.values()), before
        actions.take_action(user(world.moderator), "remove_post", target_kind="post", target_id=world.post_id,
                            reason="Off-topic: not about beauty")
        gone = surfaces(world, user(world.reader))
        assert not any(gone.values()), gone
        actions.take_action(user(world.moderator2), "restore_post", target_kind="post", target_id=world.post_id,
                            reason="It is on-topic after all")
        back = surfaces(world, user(world.reader))
        # Restoring takes the note back everywhere; a removal clears its pick (the pick is a choice to redo).
        assert {name for name, shown in back.items() if not shown} == {"editor's picks"}, back


def test_a_suspended_authors_notes_leave_every_surface_and_come_back(app, placed):
    world = placed
    with app.app_context():
        actions.take_action(user(world.admin), "suspend_user", target_kind="user", target_id=user(world.author).id,
                            reason="Spam ring", expires_at=now() + timedelta(days=1))
        gone = surfaces(world, user(world.reader))
        assert not any(gone.values()), gone
        actions.take_action(user(world.admin), "unsuspend_user", target_kind="user",
                            target_id=user(world.author).id, reason="Cleared")
        back = surfaces(world, user(world.reader))
        assert all(back.values()), back


def test_removed_notes_leave_the_api_lists_and_come_back(app, client, placed):
    world = placed
    lists = [f"/api/v1/communities/{world.slug}/posts", "/api/v1/feeds/trending",
             f"/api/v1/users/{world.author}/posts", "/api/v1/tags/sunscreen/posts",
             "/api/v1/search?q=sunscreen&sort=relevant"]

    def ids(url):
        items = client.get(url).json["items"]
        return {(item.get("post") or {}).get("id") if "type" in item else item.get("id") for item in items}

    assert all(world.post_id in ids(url) for url in lists)
    with app.app_context():
        actions.take_action(user(world.moderator), "remove_post", target_kind="post", target_id=world.post_id,
                            reason="Spam")
    assert not any(world.post_id in ids(url) for url in lists)
    detail = client.get(f"/api/v1/posts/{world.post_id}").json
    assert detail["status"] == "removed" and detail["removed_reason"] == "Spam"
    with app.app_context():
        actions.take_action(user(world.moderator2), "restore_post", target_kind="post", target_id=world.post_id,
                            reason="Fine")
    assert all(world.post_id in ids(url) for url in lists)


# --- the storefront ----------------------------------------------------------------------------------------

@pytest.fixture
def shop_world(app, world):
    from tests.search.helpers import product, shop_for

    with app.app_context():
        shop = shop_for(user(world.author), user(world.admin), slug="adas-shop", name="Ada's Sun Shop")
        made = product(shop, "Mineral sunscreen SPF50")
        rebuild_index()
        return world, shop.id, shop.slug, made.id, made.skus[0].id


def product_surfaces(client, app, shop_slug, product_id, sku_id, reader_name) -> dict[str, bool]:
    with app.app_context():
        reader = user(reader_name)
        in_search = product_id in {r.obj.id for r in search.search(reader, "sunscreen", type="products",
                                                                   sort="relevant").results}
    return {
        "search": in_search,
        "shop page": "Mineral sunscreen SPF50" in client.get(f"/shop/{shop_slug}").get_data(as_text=True),
        "product page": client.get(f"/products/{product_id}").status_code == 200,
        "api search": product_id in {(r.get("product") or {}).get("id") for r in client.get(
            "/api/v1/search?q=sunscreen&type=products&sort=relevant").json["items"]},
    }


@pytest.mark.parametrize("what", ["product", "shop", "seller"])
def test_delisted_products_shops_and_suspended_sellers_leave_listings_and_come_back(app, client, shop_world, what):
    world, shop_id, shop_slug, product_id, sku_id = shop_world
    assert all(product_surfaces(client, app, shop_slug, product_id, sku_id, world.reader).values())
    with app.app_context():
        admin = user(world.admin)
        if what == "product":
            actions.take_action(admin, "delist_product", target_kind="product", target_id=product_id,
                                reason="Counterfeit")
        elif what == "shop":
            actions.take_action(admin, "delist_shop", target_kind="shop", target_id=shop_id, reason="Counterfeits")
        else:
            actions.take_action(admin, "suspend_user", target_kind="user", target_id=user(world.author).id,
                                reason="Fraud")
    gone = product_surfaces(client, app, shop_slug, product_id, sku_id, world.reader)
    assert not gone["search"] and not gone["product page"] and not gone["api search"], gone
    with app.app_context():
        admin = user(world.admin)
        undo = {"product": ("relist_product", "product", product_id), "shop": ("relist_shop", "shop", shop_id),
                "seller": ("unsuspend_user", "user", user(world.author).id)}[what]
        actions.take_action(admin, undo[0], target_kind=undo[1], target_id=undo[2], reason="Cleared")
    assert all(product_surfaces(client, app, shop_slug, product_id, sku_id, world.reader).values())


def test_a_delisted_product_leaves_the_cart_and_a_suspended_sellers_shop_takes_no_orders(app, shop_world):
    from app.core.errors import Invalid, NotFound
    from app.shop import cart, checkout
    from tests.shop.conftest import buyer_with_address

    world, _shop_id, _slug, product_id, sku_id = shop_world
    with app.app_context():
        buyer, address_id = buyer_with_address("buyer1")
        cart.add_to_cart(buyer, sku_id, 1)
        actions.take_action(user(world.admin), "delist_product", target_kind="product", target_id=product_id,
                            reason="Unsafe")
        with pytest.raises(NotFound):
            cart.add_to_cart(buyer, sku_id, 1)
        with pytest.raises(Invalid) as refused:
            checkout.place_orders(buyer, cart.cart_of(buyer), address_id)
        assert refused.value.code == "items-unavailable"
        actions.take_action(user(world.admin), "relist_product", target_kind="product", target_id=product_id,
                            reason="Cleared")
        actions.take_action(user(world.admin), "suspend_user", target_kind="user", target_id=user(world.author).id,
                            reason="Fraud")
        with pytest.raises(Invalid):
            checkout.place_orders(buyer, [{"sku_id": sku_id, "quantity": 1}], address_id)


def test_a_banned_member_cannot_buy_from_a_note_card_there(app, shop_world):
    from app.core.errors import Forbidden
    from app.shop import cart, checkout
    from app.shop.models import PostProduct
    from tests.shop.conftest import buyer_with_address

    world, _shop_id, _slug, product_id, sku_id = shop_world
    with app.app_context():
        db.session.add(PostProduct(post_id=world.post_id, product_id=product_id, position=0))
        db.session.commit()
        buyer, address_id = buyer_with_address("buyer2")
        from app.communities.models import Membership

        db.session.add(Membership(user_id=buyer.id, community_id=world.community_id, role="member"))
        db.session.commit()
        actions.take_action(user(world.moderator), "ban_user", target_kind="user", target_id=buyer.id,
                            reason="Scalping", community_id=world.community_id)
        with pytest.raises(Forbidden) as from_card:
            cart.add_to_cart(buyer, sku_id, 1, source_post_id=world.post_id)
        assert from_card.value.code == "banned-from-community"
        with pytest.raises(Forbidden):
            checkout.place_orders(buyer, [{"sku_id": sku_id, "quantity": 1, "source_post_id": world.post_id}],
                                  address_id)
        cart.add_to_cart(buyer, sku_id, 1)  # buying the product itself, not from the community's note, is fine


# --- banned members through the page and the API ------------------------------------------------------------------

def test_a_banned_member_is_refused_with_a_clear_message_on_the_page_and_the_api(app, client, world):
    with app.app_context():
        actions.take_action(user(world.moderator), "ban_user", target_kind="user", target_id=user(world.member).id,
                            reason="Posting pill spam", community_id=world.community_id,
                            expires_at=now() + timedelta(days=7))
    headers = token(app, world.member)
    comment = client.post(f"/api/v1/posts/{world.post_id}/comments", json={"body": "hello"}, headers=headers)
    assert comment.status_code == 403 and comment.json["code"] == "banned-from-community"
    assert "Posting pill spam" in comment.json["detail"]
    join = client.post(f"/api/v1/communities/{world.slug}/join", headers=headers)
    assert join.status_code == 403 and join.json["code"] == "banned-from-community"
    assert client.post(f"/api/v1/communities/{world.other_slug}/join", headers=headers).status_code == 200
    log_in_as(client, world.member)
    page = client.post_form(f"/p/{world.post_id}/comments", {"body": "hello"})
    assert page.status_code == 403 and "Posting pill spam" in page.get_data(as_text=True)
    assert client.get(f"/p/{world.post_id}").status_code == 200  # reading is fine
