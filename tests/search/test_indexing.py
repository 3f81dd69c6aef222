"""The index follows the database: services queue changes by name, jobs run after commit, nothing a viewer
may not see is returned, and `flask search reindex` rebuilds everything. Runs on Whoosh (SQLite and
PostgreSQL) and on the PostgreSQL backend."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.accounts.services import register_user, update_profile
from app.communities.services import create_community, update_community
from app.core.clock import now
from app.core.uow import unit_of_work
from app.extensions import db
from app.posts.comments import add_comment
from app.posts.engagement import like_post, save_post, unlike_post
from app.posts.models import STATUS_REMOVED
from app.posts.services import create_post, delete_post, edit_post
from app.search import get_backend, services
from app.search.indexing import flush_count_refreshes, index_documents, rebuild_index
from app.search.queue import queue_post
from app.social.models import Block
from tests import factories
from tests.conftest import DEFAULT_PASSWORD
from tests.search.conftest import POSTGRES, WHOOSH, WHOOSH_ON_POSTGRES
from tests.search.helpers import note, tiny_png


@pytest.fixture(params=[WHOOSH, WHOOSH_ON_POSTGRES, POSTGRES])
def search_combo(request):
    return request.param


def found(q: str, viewer=None, **kwargs) -> list[str]:
    page = services.search(viewer, q, sort="relevant", **kwargs)
    return [r.obj.title if r.doc_type in ("post", "product") else getattr(r.obj, "username", None) or r.obj.name
            for r in page.results]


def test_post_services_keep_the_index_current(ctx):
    author = factories.user("writer")
    place = factories.community("camp", owner=author)
    post = create_post(author, community_slug="camp", title="Titanium spork", body="Light #gear",
                       images=[tiny_png()])
    assert found("spork") == ["Titanium spork"]
    edit_post(author, post, title="Bamboo chopsticks")
    assert found("spork") == [] and found("chopsticks") == ["Bamboo chopsticks"]
    delete_post(author, post)
    assert found("chopsticks") == []
    assert get_backend().count() == 1  # the author (registered through the service); the post is gone
    assert place.id


def test_account_and_community_services_keep_the_index_current(ctx):
    admin = factories.user("boss", is_admin=True)
    user = register_user("zhangwei", "zw@example.com", DEFAULT_PASSWORD)
    assert found("zhangwei", type="users") == ["zhangwei"]
    update_profile(user, display_name="张伟 Climber")
    assert found("climber", type="users") == ["zhangwei"]
    community = create_community(admin, slug="climbing", name="Rock climbing 攀岩", vertical="outdoor",
                                 owner_username="zhangwei")
    assert found("攀岩", type="communities") == ["Rock climbing 攀岩"]
    update_community(admin, community, name="Bouldering", description="Short hard climbs")
    assert found("bouldering", type="communities") == ["Bouldering"]
    assert found("攀岩", type="communities") == []


def test_a_rolled_back_change_is_not_indexed(ctx):
    author = factories.user("writer")
    place = factories.community("camp", owner=author)
    post = note(author, place, "Quiet stove")
    with pytest.raises(RuntimeError), unit_of_work():
        queue_post(post.id)
        post.title = "Loud stove"
        raise RuntimeError("the service failed")
    with unit_of_work():  # a later commit in the same session must not carry the dropped ids
        pass
    assert found("stove") == []


def test_removed_and_deleted_posts_are_never_returned(ctx):
    author = factories.user("writer")
    place = factories.community("camp", owner=author)
    post = note(author, place, "Canvas tent")
    rebuild_index()
    post.status = STATUS_REMOVED  # e.g. by a moderator, before the index hears of it
    db.session.commit()
    assert found("tent") == []
    index_documents("post", [post.id])
    assert get_backend().search(services.SearchQuery(services.parse_query("tent"))).total == 0
    index_documents("post", [post.id])  # the job is idempotent
    assert rebuild_index() == 2


def test_blocked_authors_are_filtered_for_the_viewer(ctx):
    ann, bob, reader = factories.user("ann"), factories.user("bob"), factories.user("reader")
    place = factories.community("camp", owner=ann)
    note(ann, place, "Tent by ann")
    note(bob, place, "Tent by bob")
    rebuild_index()
    db.session.add(Block(blocker_id=bob.id, blocked_id=reader.id))  # bob blocked the reader
    db.session.commit()
    assert found("tent", reader) == ["Tent by ann"]
    assert services.search(reader, "tent", sort="relevant").total == 1
    assert sorted(found("tent")) == ["Tent by ann", "Tent by bob"]
    assert found("bob", reader, type="users") == []
    assert "Tent by bob" not in [str(s.label) for s in services.suggest(reader, "ten")]


def test_likes_and_saves_reach_the_index(ctx):
    author, fan, friend = factories.user("writer"), factories.user("fan"), factories.user("friend")
    place = factories.community("camp", owner=author)
    old = note(author, place, "Tent old", created_at=now() - timedelta(days=2))
    new = note(author, place, "Tent new")
    rebuild_index()

    def top() -> list[str]:
        return [r.obj.title for r in services.search(None, "tent", sort="top").results]

    assert top() == ["Tent new", "Tent old"]
    like_post(fan, old)
    flush_count_refreshes()  # what the one-minute schedule does with a batch that is not due yet
    assert top() == ["Tent old", "Tent new"]
    save_post(fan, new)  # a save weighs two likes
    unlike_post(fan, old)
    like_post(friend, new)
    flush_count_refreshes()
    assert top() == ["Tent new", "Tent old"]
    assert flush_count_refreshes() == {"indexed": 0, "deleted": 0}  # nothing left waiting
    for _ in range(2):  # a comment weighs three likes: 2 · 3 = 6 against new's save and like, 2 + 1 = 3
        add_comment(friend, old, "Still using it")
    flush_count_refreshes()
    assert top() == ["Tent old", "Tent new"]


def test_shop_services_keep_products_current(ctx):
    from app.shop import catalog, orders
    from app.shop.models import ProductStatus
    from tests.search.helpers import product, shop_for
    from tests.shop.conftest import buy, buyer_with_address

    admin, merchant = factories.user("boss", is_admin=True), factories.user("maker")
    shop = shop_for(merchant, admin, slug="camp-shop", name="Camp Shop")
    kettle = product(shop, "Camp kettle", "Boils a litre in four minutes.", price=5000, stock=1)
    assert found("kettle", type="products") == ["Camp kettle"]
    assert found("camp shop", type="products") == ["Camp kettle"]  # by its shop's name
    assert found("kettle", type="products", max_price="49.99") == []
    assert found("kettle", type="products", min_price="50", max_price="50") == ["Camp kettle"]

    buyer, address = buyer_with_address("hiker")
    checkout = buy(buyer, address, kettle.skus[0].id)  # the last unit is reserved
    flush_count_refreshes()  # stock changes are batched like likes (written at once on PostgreSQL)
    assert found("kettle", type="products", in_stock=True) == []
    assert found("kettle", type="products") == ["Camp kettle"]  # sold out is still found
    orders.cancel_order(buyer, checkout.orders[0].id)
    flush_count_refreshes()
    assert found("kettle", type="products", in_stock=True) == ["Camp kettle"]

    catalog.add_sku(merchant, kettle.id, code="MINI", label="Mini", price_cents=1500, stock=3)
    assert found("kettle", type="products", max_price="20") == ["Camp kettle"]  # its cheapest option
    assert found("mini", type="products") == ["Camp kettle"]  # option labels are searchable

    catalog.set_product_status(merchant, kettle.id, ProductStatus.ARCHIVED)
    assert found("kettle", type="products") == []
    catalog.set_product_status(merchant, kettle.id, ProductStatus.ACTIVE)
    assert found("kettle", type="products") == ["Camp kettle"]
    merchant.suspended_at = now()
    db.session.commit()
    assert found("kettle", type="products") == []  # a suspended merchant's products are hidden at once


def test_a_pending_shops_products_wait_for_approval(ctx):
    from app.shop import catalog
    from app.shop.models import Product, ProductStatus, Sku

    admin, merchant = factories.user("boss", is_admin=True), factories.user("maker")
    shop = catalog.apply_for_shop(merchant, slug="early", name="Early")
    item = Product(shop_id=shop.id, title="Early lantern", status=ProductStatus.ACTIVE, created_at=now())
    db.session.add(item)
    db.session.flush()
    db.session.add(Sku(product_id=item.id, shop_id=shop.id, code="L1", price_cents=900, stock=2))
    db.session.commit()
    rebuild_index()
    assert found("lantern", type="products") == []
    catalog.approve_shop(admin, shop.id)
    assert found("lantern", type="products") == ["Early lantern"]
