"""When a shared service goes away: a database outage is a fast 503 (a page or a problem, never a traceback), and
without Redis pages keep serving, rate limits count in memory and jobs run inline instead of being dropped."""
from __future__ import annotations

import time

from app import create_app
from app.extensions import db
from tests.conftest import make_config

NOWHERE_DB = "postgresql+psycopg://nobody@127.0.0.1:1/none"  # port 1: refused at once
NOWHERE_REDIS = "redis://127.0.0.1:1/0"


def test_a_database_outage_is_a_fast_503_page_and_problem(tmp_path):
    app = create_app(make_config(NOWHERE_DB, tmp_path / "media"))
    client = app.test_client()
    started = time.perf_counter()
    page = client.get("/", headers={"Accept-Language": "zh-CN"})
    assert time.perf_counter() - started < 5
    assert page.status_code == 503 and page.headers["Retry-After"] == "5"
    html = page.get_data(as_text=True)
    assert "<!doctype html>" in html and "Traceback" not in html
    assert "数据库" in html  # the outage page is translated, chosen without reading the user from the database
    problem = client.get("/api/v1/feeds/trending")
    assert problem.status_code == 503 and problem.mimetype == "application/problem+json"
    assert problem.get_json()["code"] == "database-unavailable"
    health = client.get("/healthz")
    assert health.status_code == 503 and health.get_json()["db"] == "unreachable"


def test_a_signed_in_visitor_gets_the_outage_page_too(app, user_client):
    """The session's user cannot be loaded: the page renders as for a visitor instead of failing again."""
    from sqlalchemy.exc import OperationalError

    def fail(*_args, **_kwargs):
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))

    app.login_manager._user_callback, original = fail, app.login_manager._user_callback
    try:
        response = user_client.get("/following")
    finally:
        app.login_manager._user_callback = original
    assert response.status_code == 503
    assert "Try again" in response.get_data(as_text=True)


def test_without_redis_pages_serve_and_limits_count_in_memory(tmp_path):
    config = make_config(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path / "media")
    config.REDIS_URL = NOWHERE_REDIS
    config.RATELIMIT_STORAGE_URI = NOWHERE_REDIS
    config.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    app = create_app(config)
    with app.app_context():
        db.create_all()
    client = app.test_client()
    assert client.get("/").status_code in (200, 302)
    assert client.get("/login").status_code == 200
    statuses = [client.get("/search/suggest?q=a").status_code for _ in range(130)]
    assert 500 not in statuses and statuses[-1] == 429  # 120 a minute, counted in this process meanwhile


def test_without_redis_a_job_runs_inline_instead_of_being_lost(app, monkeypatch):
    from app.jobs import runner

    ran = []
    monkeypatch.setattr(runner, "run_job", lambda path, **kwargs: ran.append((path, kwargs)))
    app.config["REDIS_URL"] = NOWHERE_REDIS
    with app.app_context():
        assert runner.enqueue("app.search.indexing:index_documents", kind="post", ids=[1]) == "inline"
    assert ran == [("app.search.indexing:index_documents", {"kind": "post", "ids": [1]})]
