"""Times in the reader's zone: the settings, the browser's cookie, the site default; one `when` filter."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from app.accounts.models import User
from app.core.clock import frozen_at
from app.core.timezones import BROWSER_COOKIE, is_time_zone, relative_time, when
from app.extensions import db
from tests import factories
from tests.conftest import log_in

NOON_UTC = datetime(2026, 12, 6, 12, 0)


def test_zone_names_are_checked(ctx):
    assert is_time_zone("Asia/Shanghai") and is_time_zone("UTC") and is_time_zone("Europe/Paris")
    assert not is_time_zone("Mars/Olympus") and not is_time_zone("") and not is_time_zone(None)
    assert not is_time_zone("Asia/Shanghai" + "x" * 80)


def test_the_filter_shows_the_readers_zone_with_an_offset_and_relative_times(app):
    with app.test_request_context("/", headers={"Cookie": f"{BROWSER_COOKIE}=Asia/Shanghai"}):
        with frozen_at(NOON_UTC + timedelta(hours=3)):
            html = str(when(NOON_UTC))
            assert 'datetime="2026-12-06T20:00:00+08:00"' in html and "3 hours ago" in html
            assert "UTC+08:00" in html  # the exact time and zone in the tooltip
            assert "(UTC+08:00)" in str(when(NOON_UTC + timedelta(days=1), "deadline"))
            assert "8:00" in str(when(NOON_UTC - timedelta(days=30)))  # older: the date and local time
    with app.test_request_context("/?lang=zh_Hans", headers={"Accept-Language": "zh-CN"}):
        with frozen_at(NOON_UTC + timedelta(hours=3)):
            assert relative_time(NOON_UTC) == "3小时前" or "3 小时前" in relative_time(NOON_UTC)
            assert "+08:00" in str(when(NOON_UTC))  # a Chinese page without a browser zone: Asia/Shanghai
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert "+00:00" in str(when(NOON_UTC)) and str(when(None)) == ""


def test_site_default_applies_when_neither_settings_nor_browser_say(app):
    app.config["DEFAULT_TIMEZONE"] = "Europe/Berlin"
    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        assert "+01:00" in str(when(NOON_UTC))


def test_settings_choose_a_zone_and_refuse_one_that_does_not_exist(client, make_user, app):
    ann = make_user("ann")
    log_in(client, ann)
    page = client.get("/settings")
    assert "Asia/Shanghai" in page.get_data(as_text=True) and 'name="timezone"' in page.get_data(as_text=True)
    form = {"display_name": "Ann", "bio": "", "locale": "en", "timezone": "Mars/Olympus"}
    refused = client.post_form("/settings", form)
    assert refused.status_code == 422
    assert "Choose a time zone from the list" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(User.timezone).where(User.id == ann.id)) is None
    assert client.post_form("/settings", {**form, "timezone": "America/New_York"}).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(User.timezone).where(User.id == ann.id)) == "America/New_York"
    # the saved zone wins over the browser's
    client.set_cookie(BROWSER_COOKIE, "Asia/Tokyo")
    with app.app_context():
        author = db.session.get(User, ann.id)
        post = factories.post(author, title="Zone check", created_at=NOON_UTC)
        post_id = post.id
    html = client.get(f"/p/{post_id}").get_data(as_text=True)
    assert 'datetime="2026-12-06T07:00:00-05:00"' in html


def test_the_api_takes_a_zone_and_refuses_a_bad_one(client, make_user):
    ann = make_user("ann")
    log_in(client, ann)
    headers = {"X-CSRFToken": client.csrf_token()}
    bad = client.patch("/api/v1/me", json={"timezone": "Nowhere/Land"}, headers=headers)
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    assert "timezone" in bad.get_json()["errors"]
    good = client.patch("/api/v1/me", json={"timezone": "Asia/Shanghai"}, headers=headers)
    assert good.status_code == 200 and good.get_json()["timezone"] == "Asia/Shanghai"
    assert client.patch("/api/v1/me", json={"timezone": ""}, headers=headers).get_json()["timezone"] is None


def test_api_timestamps_carry_an_offset(client, make_user):
    """Every API timestamp is RFC 3339 with an offset (the OpenAPI `date-time` format)."""
    ann = make_user("ann")
    log_in(client, ann)
    doc = client.get("/api/v1/openapi.json").get_json()
    schemas = doc["components"]["schemas"]
    for name, schema in schemas.items():
        for field, spec in (schema.get("properties") or {}).items():
            if spec.get("format") == "date-time":
                assert spec.get("type") == "string", (name, field)
    me = client.get("/api/v1/users/ann").get_json()
    stamps = [value for key, value in me.items() if key.endswith("_at") and value]
    assert stamps and all(value.endswith("+00:00") for value in stamps)
