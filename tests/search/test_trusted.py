"""sort=trusted: followees' likes, saves and comments and the author's standing lift a result, with a reason;
the social part costs the same few queries for any number of results."""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event, select

from app.extensions import db
from app.posts.engagement import default_collection
from app.posts.models import Comment, Like, Post, Save
from app.search import services
from app.search.indexing import rebuild_index
from app.search.ranking import rerank
from app.social.models import Follow
from tests import factories
from tests.search.helpers import note


@contextmanager
def counted_queries():
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def _site():
    owner, writer, viewer = factories.user("owner"), factories.user("writer"), factories.user("viewer")
    friends = [factories.user(f"friend{n}") for n in range(3)]
    place = factories.community("camp", owner=owner)
    plain = note(writer, place, "Tent review", "Tent pitched in the rain, tent dry.")
    trusted = note(writer, place, "Tent review", "Pitched in the rain.")
    for friend in friends:
        db.session.add(Follow(follower_id=viewer.id, followee_id=friend.id))
        db.session.add(Save(user_id=friend.id, post_id=trusted.id,
                            collection_id=default_collection(friend).id))
    db.session.add(Like(user_id=friends[0].id, post_id=trusted.id))
    db.session.add(Comment(post_id=plain.id, author_id=owner.id, body="nice", body_html="<p>nice</p>"))
    db.session.commit()
    rebuild_index()
    return viewer, plain, trusted, place


def test_followees_saves_lift_a_result_and_say_so(ctx):
    viewer, plain, trusted, _place = _site()
    relevant = services.search(viewer, "tent", sort="relevant")
    assert [r.obj.id for r in relevant.results] == [plain.id, trusted.id]
    page = services.search(viewer, "tent")  # trusted is the default when signed in
    assert page.sort == "trusted"
    assert [r.obj.id for r in page.results] == [trusted.id, plain.id]
    assert page.results[0].reason == "3 people you follow saved this"
    assert page.results[1].reason is None  # the comment is by someone the viewer does not follow
    assert services.search(None, "tent").sort == "relevant"  # signed out: no social graph to use


def test_the_reason_line_is_on_the_page(ctx, client):
    _site()
    from tests.conftest import DEFAULT_PASSWORD, MadeUser, log_in

    log_in(client, MadeUser(0, "viewer", "", DEFAULT_PASSWORD))
    html = client.get("/search?q=tent").get_data(as_text=True)
    assert "3 people you follow saved this" in html


def test_the_social_part_is_a_fixed_number_of_queries(ctx):
    viewer, plain, trusted, place = _site()
    other = factories.user()
    ids = [plain.id, trusted.id] + [note(other, place, f"Tent {n}").id for n in range(20)]
    posts = {post.id: post for post in db.session.scalars(select(Post).where(Post.id.in_(ids)))}
    few = [(posts[ids[0]], 2.0), (posts[ids[1]], 1.0)]
    many = few + [(posts[post_id], 1.0) for post_id in ids[2:]]
    viewer_id = viewer.id
    with counted_queries() as small:
        rerank(few, viewer_id)
    with counted_queries() as large:
        rerank(many, viewer_id)
    assert len(small) == len(large) == 5


def _shop_site():
    from tests.search.helpers import product, shop_for
    from tests.shop.conftest import buy, buyer_with_address, pay

    admin, merchant = factories.user("boss", is_admin=True), factories.user("maker")
    viewer = factories.user("viewer")
    friend, address = buyer_with_address("friend")
    db.session.add(Follow(follower_id=viewer.id, followee_id=friend.id))
    db.session.commit()
    shop = shop_for(merchant, admin)
    plain = product(shop, "Camp kettle", "A kettle for tea.", price=5000)
    bought = product(shop, "Camp kettle", "Boils fast.", price=5200)
    checkout = buy(friend, address, bought.skus[0].id)
    pay(checkout.payment.id)
    stranger_address = buyer_with_address("stranger2")
    buy(stranger_address[0], stranger_address[1], plain.skus[0].id)  # unpaid: counts for nobody
    rebuild_index()
    return viewer, plain, bought


def test_what_followees_bought_lifts_a_product_and_says_so(ctx):
    viewer, plain, bought = _shop_site()
    relevant = services.search(viewer, "kettle", type="products", sort="relevant")
    assert [r.obj.id for r in relevant.results] == [plain.id, bought.id]
    page = services.search(viewer, "kettle", type="products")
    assert page.sort == "trusted"
    assert [r.obj.id for r in page.results] == [bought.id, plain.id]
    assert page.results[0].reason == "1 person you follow bought this"
    assert page.results[1].reason is None


def test_product_signals_are_a_fixed_number_of_queries(ctx):
    from app.search.ranking import rerank_products
    from app.shop.models import Product

    viewer, plain, bought = _shop_site()
    rows = list(db.session.scalars(select(Product)))
    for row in rows:
        row.in_stock = True
    viewer_id = viewer.id
    with counted_queries() as small:
        rerank_products([(rows[0], 1.0)], viewer_id)
    with counted_queries() as large:
        rerank_products([(row, 1.0) for row in rows], viewer_id)
    assert len(small) == len(large) == 3
