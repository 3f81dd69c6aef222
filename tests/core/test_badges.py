"""The layout's badges (app/core/badges.py): the cart units, the unread notifications and the moderator's queue
link of a signed-in reader, right, and read in one statement per page."""
from __future__ import annotations

import re

from sqlalchemy import event

from app.communities.models import ROLE_MODERATOR, Membership
from app.extensions import db
from app.shop import cart
from app.social.notifications import notify
from tests import factories
from tests.shop.conftest import open_shop, product_with_sku
from tests.social.conftest import person, sign_in


def _page(app, client, path: str) -> tuple[str, list[str]]:
    statements: list[str] = []
    with app.app_context():
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            response = client.get(path)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True), statements


def _badges(html: str) -> dict[str, str | None]:
    cart_link = re.search(r'class="nav-icon nav-cart.*?</a>', html, re.S).group(0)
    cart_badge = re.search(r'<span class="nav-badge"[^>]*>(\w+)</span>', cart_link)
    bell = re.search(r'<span id="nav-unread-badge" class="nav-badge"( hidden)?>(\w*)</span>', html)
    return {"cart": cart_badge.group(1) if cart_badge else None,
            "unread": None if bell is None or bell.group(1) else bell.group(2),
            "queue": "nav-mod" if 'class="btn btn-ghost nav-mod"' in html else None}


def test_a_readers_badges_are_right_and_cost_one_statement(app, client):
    with app.app_context():
        admin = person("boss", is_admin=True)
        merchant = person("seller")
        reader = person("reader")
        shop = open_shop(merchant, admin)
        _product, sku = product_with_sku(merchant, shop.id, stock=20)
        cart.add_to_cart(reader, sku.id, 3)
        for actor in (merchant, admin):
            notify(reader.id, "follow", actor_id=actor.id, target_type="user", target_id=reader.id)
        db.session.commit()
        community = factories.community("hikers", owner=admin)
        reader_id, community_id = reader.id, community.id
    sign_in(client, "reader")

    html, statements = _page(app, client, "/c")
    assert _badges(html) == {"cart": "3", "unread": "2", "queue": None}
    reads = [s for s in statements if "cart_items" in s or "notifications" in s]
    assert len(reads) == 1 and "cart_items" in reads[0] and "notifications" in reads[0], reads

    with app.app_context():  # made a moderator, the queue link shows (same single statement)
        db.session.add(Membership(user_id=reader_id, community_id=community_id, role=ROLE_MODERATOR))
        db.session.commit()
    html, statements = _page(app, client, "/c")
    assert _badges(html) == {"cart": "3", "unread": "2", "queue": "nav-mod"}
    assert len([s for s in statements if "cart_items" in s or "notifications" in s]) == 1


def test_a_reader_with_nothing_pending_sees_no_badges(app, client):
    with app.app_context():
        person("quiet")
    sign_in(client, "quiet")
    html, _statements = _page(app, client, "/c")
    assert _badges(html) == {"cart": None, "unread": None, "queue": None}


def test_the_moderator_rule_reads_the_membership_itself_when_not_given(ctx):
    from app.moderation.policy import is_any_moderator

    admin, reader = person("chief", is_admin=True), person("plain")
    community = factories.community("cooks", owner=admin)
    assert is_any_moderator(admin) and not is_any_moderator(reader) and not is_any_moderator(None)
    db.session.add(Membership(user_id=reader.id, community_id=community.id, role=ROLE_MODERATOR))
    db.session.commit()
    assert is_any_moderator(reader)
    assert not is_any_moderator(reader, moderates_some=False)  # a badge the caller read wins
