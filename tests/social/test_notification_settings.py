"""Notification settings per category (social, orders, group-buys, earnings): notify() honours them for
kinds registered with a category and for kinds other domains have not registered yet (by prefix)."""
from __future__ import annotations

from sqlalchemy import func, select

from app.core.errors import Invalid
from app.extensions import db
from app.social import notifications
from app.social.models import Notification, NotificationMute
from app.social.notifications import category_of, notification_settings, notify, set_notification_settings
from tests.conftest import log_in
from tests.social.conftest import person


def _count(user_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.recipient_id == user_id))


def test_every_kind_belongs_to_a_category_or_is_always_sent(ctx):
    assert category_of("like") == "social" and category_of("follow") == "social"
    assert category_of("order_shipped") == "orders"
    # kinds the group-buy and commission domains add later are placed by their names…
    assert category_of("groupbuy_filled") == "groupbuy" and category_of("group_expired") == "groupbuy"
    assert category_of("commission_available") == "earnings" and category_of("payout_sent") == "earnings"
    assert category_of("aftersale_requested") == "orders"
    assert category_of("mod_removed") is None  # …and moderation notices always arrive


def test_a_turned_off_category_is_not_delivered_and_the_others_are(ctx):
    ann, bob = person("ann"), person("bob")
    assert notification_settings(ann) == {"social": True, "orders": True, "groupbuy": True, "earnings": True}
    set_notification_settings(ann, {"social": False, "groupbuy": False})
    assert notify(ann.id, "like", actor_id=bob.id, target_type="post", target_id=1) is None
    assert notify(ann.id, "groupbuy_filled", target_type="group", target_id=3) is None
    assert notify(ann.id, "order_shipped", target_type="order", target_id=2) is not None
    assert notify(ann.id, "commission_available", target_type="commission", target_id=4) is not None
    assert notify(ann.id, "mod_removed", target_type="post", target_id=1) is not None
    db.session.commit()
    assert _count(ann.id) == 3
    set_notification_settings(ann, {"social": True})
    assert notify(ann.id, "like", actor_id=bob.id, target_type="post", target_id=1) is not None
    assert notification_settings(ann) == {"social": True, "orders": True, "groupbuy": False, "earnings": True}


def test_an_unknown_category_is_refused_and_changes_nothing(ctx):
    ann = person("ann")
    try:
        set_notification_settings(ann, {"orders": False, "spam": False})
    except Invalid as error:
        assert "spam" in error.errors
    else:
        raise AssertionError("an unknown category was accepted")
    assert db.session.scalar(select(func.count()).select_from(NotificationMute)) == 0


def test_register_kind_refuses_an_unknown_category(ctx):
    try:
        notifications.register_kind("x_test", "x", category="weather")
    except ValueError as error:
        assert "weather" in str(error)
    else:
        raise AssertionError("an unknown category was accepted")


def test_the_settings_page_saves_and_refuses_bad_input(client, make_user, app):
    ann = make_user("ann")
    log_in(client, ann)
    page = client.get("/settings/notifications")
    assert page.status_code == 200 and 'value="groupbuy"' in page.get_data(as_text=True)
    saved = client.post_form("/settings/notifications", {"on": ["social", "orders"]})
    assert saved.status_code == 302
    with app.app_context():
        assert set(db.session.scalars(select(NotificationMute.category))) == {"groupbuy", "earnings"}
    refused = client.post_form("/settings/notifications", {"on": ["social", "lottery"]})
    assert refused.status_code == 422 and "Choose from the settings listed." in refused.get_data(as_text=True)
    with app.app_context():
        assert set(db.session.scalars(select(NotificationMute.category))) == {"groupbuy", "earnings"}
    chinese = client.get("/settings/notifications?lang=zh_Hans").get_data(as_text=True)
    assert "拼团" in chinese and "收益" in chinese


def test_the_api_reads_and_changes_settings(client, make_user):
    ann = make_user("ann")
    log_in(client, ann)
    headers = {"X-CSRFToken": client.csrf_token()}
    assert client.get("/api/v1/notifications/settings").get_json() == \
        {"social": True, "orders": True, "groupbuy": True, "earnings": True}
    changed = client.patch("/api/v1/notifications/settings", json={"earnings": False}, headers=headers)
    assert changed.status_code == 200 and changed.get_json()["earnings"] is False
    bad = client.patch("/api/v1/notifications/settings", json={"weather": False}, headers=headers)
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    assert client.get("/api/v1/notifications/settings").get_json()["earnings"] is False
