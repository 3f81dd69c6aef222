"""Two app instances on one PostgreSQL and one Redis, as on two hosts behind a load balancer: whichever answers,
sessions, carts, CSRF tokens, rate limits, cursors, schedules and the search index behave as on one.

Each instance is its own `create_app()` (own engine pool, own memory) with the same SECRET_KEY; a round-robin
WSGI "balancer" sends each request to the next instance, so a log-in on one is continued on the other.
Needs PostgreSQL (TEST_DATABASE_URL) and Redis (TEST_REDIS_URL); skips with the reason without them (fails
under CI=true). deploy/rehearsal.sh runs the same shape with real processes behind nginx.
"""
from __future__ import annotations

import os
import re
import secrets
import uuid
from datetime import datetime

import pytest
from werkzeug.test import Client

from app import create_app
from app.extensions import db
from tests.conftest import make_config, redis_or_skip, throwaway_postgres_database

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PASSWORD = "correct-Horse-42"


class Balancer:
    """Round-robin over WSGI apps, remembering which instance answered each request."""

    def __init__(self, apps):
        self.apps = apps
        self.turn = 0
        self.answered: list[int] = []

    def __call__(self, environ, start_response):
        index = self.turn % len(self.apps)
        self.turn += 1
        self.answered.append(index)
        return self.apps[index](environ, start_response)


@pytest.fixture(scope="module")
def redis_url():
    redis_or_skip(REDIS_URL).close()
    return REDIS_URL


@pytest.fixture(scope="module")
def cluster(redis_url, tmp_path_factory):
    """Two instances sharing the database, SECRET_KEY, Redis (rate limits) and media folder;
    SEARCH_BACKEND=postgres. Jobs run inline, so a write is indexed before its request answers."""
    folder = tmp_path_factory.mktemp("cluster")
    key = secrets.token_urlsafe(48)
    prefix = f"tm-cluster-{uuid.uuid4().hex[:8]}"
    with throwaway_postgres_database() as url:
        apps = []
        for _ in range(2):
            config = make_config(url, folder / "media")
            config.SECRET_KEY = key
            config.SEARCH_BACKEND = "postgres"
            config.RATELIMIT_STORAGE_URI = redis_url
            config.RATELIMIT_KEY_PREFIX = prefix
            apps.append(create_app(config))
        with apps[0].app_context():
            db.create_all()
        yield apps
        for app in apps:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        _forget_rate_limits(redis_url, prefix)


def _forget_rate_limits(redis_url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    keys = client.keys(f"*{prefix}*")
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def balancer(cluster):
    return Balancer(cluster)


@pytest.fixture
def browser(balancer):
    """A browser (cookie jar) talking to the balancer."""
    return Client(balancer)


def csrf_of(html: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, "the page carries no CSRF token"
    return match.group(1)


def page(browser, path: str) -> str:
    response = browser.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def make_member(app, username: str):
    from app.accounts.services import register_user

    with app.app_context():
        return register_user(username, f"{username}@example.com", PASSWORD).id


def log_in(browser, username: str):
    token = csrf_of(page(browser, "/login"))
    response = browser.post("/login", data={"login": username, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]


def test_a_log_in_on_one_instance_continues_on_the_other(cluster, balancer, browser):
    make_member(cluster[0], "ann")
    log_in(browser, "ann")  # GET /login on one instance, POST on the other: the CSRF token held
    for _ in range(4):  # every later page, on both instances, knows who is signed in
        assert "@ann" in page(browser, "/settings/devices") or "ann" in page(browser, "/settings/devices")
    assert set(balancer.answered) == {0, 1}
    token = csrf_of(page(browser, "/"))
    assert browser.post("/logout", data={"csrf_token": token}).status_code == 302
    for _ in range(2):  # the log-out, made on one instance, holds on both (the session ended in the database)
        assert browser.get("/settings/devices").status_code == 302


def test_a_form_token_from_one_instance_is_accepted_by_the_other_and_a_forged_one_by_neither(cluster, browser):
    make_member(cluster[0], "bob")
    log_in(browser, "bob")
    token = csrf_of(page(browser, "/"))
    for _ in range(2):
        response = browser.post("/settings/devices/sign-out-others", data={"csrf_token": token})
        assert response.status_code == 302
        assert browser.post("/settings/devices/sign-out-others",
                            data={"csrf_token": "forged"}).status_code == 400


def test_a_cart_filled_on_one_instance_is_the_cart_on_the_other(cluster, browser):
    sku_id = _admin_shop_sku(cluster[0])
    token = csrf_of(page(browser, "/"))
    for _ in range(2):  # as a visitor (cart in the signed session cookie): once through each instance
        assert browser.post("/cart/add", data={"sku_id": sku_id, "quantity": 1, "csrf_token": token}
                            ).status_code == 302
    for _ in range(2):
        assert re.search(r'name="quantity"[^>]*value="2"', page(browser, "/cart"))
    make_member(cluster[0], "cat")
    log_in(browser, "cat")  # the visitor's cart joins the account's, whichever instance logs in
    for _ in range(2):
        assert re.search(r'name="quantity"[^>]*value="2"', page(browser, "/cart"))


def _admin_shop_sku(app) -> int:
    from tests.shop.conftest import open_shop, product_with_sku, user

    with app.app_context():
        merchant = user()
        shop = open_shop(merchant, user(is_admin=True))
        _product, sku = product_with_sku(merchant, shop.id, stock=20)
        return sku.id


def test_rate_limits_are_counted_once_across_instances(cluster, balancer, browser):
    make_member(cluster[0], "dan")
    statuses = []
    for _ in range(6):  # failed log-ins alternate between the instances; GET /login in between
        token = csrf_of(page(browser, "/login"))
        statuses.append(browser.post("/login", data={"login": "dan", "password": "Wrong-pass-123",
                                                     "csrf_token": token}).status_code)
    assert statuses[:5] == [422] * 5
    assert set(balancer.answered) == {0, 1}
    # 10 per minute per address: the 11th failure, counted over both instances, is refused
    for _ in range(5):
        token = csrf_of(page(browser, "/login"))
        statuses.append(browser.post("/login", data={"login": "dan", "password": "Wrong-pass-123",
                                                     "csrf_token": token}).status_code)
    assert statuses[-1] == 429, statuses


def test_a_cursor_from_one_instance_pages_on_the_other_and_search_sees_every_write(cluster, balancer, browser):
    from app.accounts.models import User
    from app.posts.services import create_post
    from tests.factories import community
    from tests.posts.conftest import image_bytes

    with cluster[0].app_context():
        author = db.session.get(User, make_member(cluster[0], "eve"))
        place = community("cluster-hikes", owner=author)
        for number in range(7):  # written through instance 0's services: indexed in the shared table
            create_post(author, community_slug=place.slug, title=f"Ridge walk {number} zephyrine",
                        body="A windy ridge.",
                        images=[image_bytes(size=(64, 64))])
    seen = []
    cursor = None
    while True:
        query = "?limit=3" + (f"&cursor={cursor}" if cursor else "")
        response = browser.get(f"/api/v1/communities/cluster-hikes/posts{query}")
        assert response.status_code == 200
        body = response.get_json()
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 7  # every page once, none twice, alternating instances
    assert set(balancer.answered) == {0, 1}
    for _ in range(2):  # instance 1 finds what instance 0 indexed
        response = browser.get("/api/v1/search?q=zephyrine&type=posts")
        assert response.status_code == 200 and response.get_json()["total"] == 7


def test_each_schedule_fires_once_however_many_instances_run_the_scheduler(cluster):
    import threading

    from app.jobs.models import JobRun
    from app.jobs.runner import run_due_schedules

    moment = datetime(2026, 12, 6, 1, 30)  # before the nightly hour: the minute schedules only
    fired: list[list[str]] = []

    def scheduler(app):
        with app.app_context():
            fired.append(run_due_schedules(moment))
            db.session.remove()

    threads = [threading.Thread(target=scheduler, args=(app,)) for app in cluster for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    names = sorted(name for run in fired for name in run)
    assert names == sorted(set(names)) and "shop-expire-reservations" in names
    with cluster[1].app_context():
        # one claimed period per schedule that fired (minute and hourly schedules have periods of their own)
        assert db.session.query(JobRun).filter(JobRun.name.in_(names)).count() == len(names)
