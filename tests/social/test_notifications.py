"""Notifications: created through notify(), read grouped, counted, marked read; targets loaded in batches."""
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from app.core.errors import Invalid, NotFound
from app.extensions import db
from app.social import notifications, services
from app.social.models import Notification
from app.social.notifications import grouped_notifications, mark_all_read, mark_read, notify, unread_count
from tests import factories
from tests.social.conftest import person


@contextmanager
def counted_queries():
    statements = []

    def before(conn, cursor, statement, *args):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def like(post, *actors):
    for actor in actors:
        notify(post.author_id, "like", actor_id=actor.id, target_type="post", target_id=post.id)
    db.session.commit()


def test_nobody_is_notified_of_their_own_action(ctx):
    ann = person("ann")
    assert notify(ann.id, "like", actor_id=ann.id, target_type="post", target_id=1) is None
    db.session.commit()
    assert unread_count(ann.id) == 0


def test_likes_on_one_post_group_with_two_names_and_a_count(ctx):
    author = person("author")
    post = factories.post(author=author, community_=factories.community(owner=author), title="My tent")
    fans = [person(name, display_name=name.title()) for name in ("ann", "bob", "cat", "dan", "eve")]
    like(post, *fans)
    page = grouped_notifications(author)
    [group] = page.items
    assert group.kind == "like" and group.unread and group.count == 5 and group.actor_count == 5
    assert [a.username for a in group.actors] == ["eve", "dan"]  # newest first
    text = group.message.striptags()
    assert text == "Eve, Dan and 3 others liked your note"
    assert group.url == f"/p/{post.id}" and group.target_label == "My tent"
    assert unread_count(author.id) == 5


def test_one_and_two_actor_phrasing_and_escaping(ctx):
    author = person("author")
    post = factories.post(author=author, community_=factories.community(owner=author))
    evil = person("evil", display_name="<script>x</script>")
    like(post, evil)
    [group] = grouped_notifications(author).items
    assert "<script>" not in str(group.message) and "&lt;script&gt;" in str(group.message)
    like(post, person("bob", display_name="Bob"))
    [group] = grouped_notifications(author).items
    assert group.message.striptags() == "Bob and <script>x</script> liked your note"


def test_read_and_unread_rows_group_separately_and_mark_read_marks_the_group(ctx):
    author = person("author")
    post = factories.post(author=author, community_=factories.community(owner=author))
    other = factories.post(author=author, community_=factories.community(owner=author))
    like(post, person("ann"), person("bob"))
    like(other, person("cat"))
    groups = grouped_notifications(author).items
    assert [g.target_id for g in groups] == [other.id, post.id]
    assert mark_read(author, groups[1].id) == 2
    assert unread_count(author.id) == 1
    like(post, person("dan"))
    groups = grouped_notifications(author).items
    assert [(g.target_id, g.unread, g.count) for g in groups] == [(post.id, True, 1), (other.id, True, 1),
                                                                   (post.id, False, 2)]
    assert mark_all_read(author) == 2 and unread_count(author.id) == 0


def test_marking_someone_elses_notification_is_not_found_and_changes_nothing(ctx):
    ann, bob = person("ann"), person("bob")
    services.follow(bob, ann)
    note = db.session.scalar(select(Notification))
    with pytest.raises(NotFound):
        mark_read(bob, note.id)
    with pytest.raises(NotFound):
        mark_read(bob, 999_999)
    assert unread_count(ann.id) == 1


def test_follow_notifications_group_for_the_recipient(ctx):
    star = person("star")
    for name in ("ann", "bob", "cat"):
        services.follow(person(name, display_name=name.title()), star)
    [group] = grouped_notifications(star).items
    assert group.message.striptags() == "Cat, Bob and 1 other started following you"
    with ctx.test_request_context():
        assert group.url == "/u/star/followers"


def test_unknown_kind_uses_the_generic_message(ctx):
    ann, bob = person("ann"), person("bob", display_name="Bob")
    notify(ann.id, "group_buy_filled", actor_id=bob.id, target_type="campaign", target_id=3)
    notify(ann.id, "payout_ready")
    db.session.commit()
    messages = [g.message.striptags() for g in grouped_notifications(ann).items]
    assert messages == ["You have a new notification", "Bob: new activity"]
    assert [g.url for g in grouped_notifications(ann).items] == [None, None]


def test_registering_a_kind_changes_no_view(ctx):
    from flask_babel import lazy_gettext as _l

    previous = notifications.KINDS.get("order_shipped")  # the shop's own registration, put back after
    notifications.register_kind("order_shipped", _l("Your order was shipped"), "box")
    try:
        ann = person("ann")
        notify(ann.id, "order_shipped", target_type="order", target_id=1)
        db.session.commit()
        assert grouped_notifications(ann).items[0].message.striptags() == "Your order was shipped"
    finally:
        notifications.KINDS.pop("order_shipped")
        if previous is not None:
            notifications.KINDS["order_shipped"] = previous


def test_grouped_page_uses_a_fixed_number_of_queries(ctx):
    author = person("author")
    community = factories.community(owner=author)
    posts = [factories.post(author=author, community_=community) for _ in range(6)]
    fans = [person(f"fan{i}") for i in range(4)]
    for post in posts:
        like(post, *fans)
        notify(author.id, "comment", actor_id=fans[0].id, target_type="post", target_id=post.id)
    services.follow(fans[1], author)
    db.session.commit()
    db.session.expire_all()
    assert author.username == "author"  # loaded before counting
    with counted_queries() as statements:
        page = grouped_notifications(author)
        with ctx.test_request_context():
            rendered = [(g.message, g.url) for g in page.items]
    assert len(rendered) == 13
    assert len(statements) <= 5, statements  # groups, their rows, actors, one per target type (user, post)


def test_notification_pages_and_tampered_cursor(ctx):
    author = person("author")
    community = factories.community(owner=author)
    for i in range(5):
        like(factories.post(author=author, community_=community), person(f"fan{i}"))
    first = grouped_notifications(author, limit=2)
    second = grouped_notifications(author, cursor=first.next_cursor, limit=2)
    third = grouped_notifications(author, cursor=second.next_cursor, limit=2)
    ids = [g.id for g in first.items + second.items + third.items]
    assert len(ids) == 5 == len(set(ids)) and ids == sorted(ids, reverse=True) and third.next_cursor is None
    with pytest.raises(Invalid):
        grouped_notifications(author, cursor="tampered")
