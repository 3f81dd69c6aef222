"""The recommender learns from group joins as purchases: a paid group order is an order, so training's
purchase signal (the note it came through, the notes featuring its product) includes it; an unpaid join
teaches nothing."""
from __future__ import annotations

from app.core.uow import unit_of_work
from app.extensions import db
from app.feeds.training import add_purchases
from app.shop.models import PostProduct
from tests.factories import community, post
from tests.groupbuy.conftest import open_group


def purchases() -> dict[str, set[tuple[int, int]]]:
    seen: dict[str, set[tuple[int, int]]] = {}

    def add(rows, kind):
        seen.setdefault(kind, set()).update((user_id, post_id) for user_id, post_id, _at in rows)

    add_purchases(add)
    return seen


def test_a_paid_group_join_is_a_purchase_and_an_unpaid_one_is_not(gw):
    note = post(author=gw.merchant, community_=community(slug="hands"), title="The hand cream I keep buying")
    with unit_of_work():
        db.session.add(PostProduct(post_id=note.id, product_id=gw.product_id, position=0))
    _group, leader, _ = open_group(gw, "signal_leader")
    _other, unpaid_leader, _ = open_group(gw, "signal_unpaid", paid=False)
    learned = purchases().get("bought_featured", set())
    assert (leader.id, note.id) in learned
    assert (unpaid_leader.id, note.id) not in learned
