"""The embedded default holds a small team's traffic: concurrent page views and writes on one SQLite file."""
import threading

import pytest
from sqlalchemy import func, select, text

from app.accounts.models import User
from app.events.log import new_request_id, record_impressions
from app.events.models import Event
from app.extensions import db
from app.posts import engagement
from app.posts.models import Post
from tests import factories

ROUNDS = 12


def sqlite_only(app):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        pytest.skip("WAL and the busy timeout are SQLite settings")


def test_sqlite_connections_use_wal_and_a_busy_timeout(app):
    sqlite_only(app)
    with app.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        busy = db.session.execute(text("PRAGMA busy_timeout")).scalar()
        assert busy == int(app.config["SQLITE_BUSY_TIMEOUT_SECONDS"] * 1000) > 0


def test_concurrent_feed_views_and_writes_all_succeed_on_sqlite(app):
    """GET /api/v1/feeds/trending logs its impressions while other readers like posts and log pages."""
    sqlite_only(app)
    with app.app_context():
        author = factories.user("author")
        community = factories.community("trail", owner=author)
        post_ids = [factories.post(author=author, community_=community).id for _ in range(5)]
        fan_ids = [factories.user(f"fan{i}").id for i in range(4)]

    failures: list[str] = []
    start = threading.Barrier(10)

    def view_feed():
        client = app.test_client()
        start.wait()
        for _ in range(ROUNDS):
            response = client.get("/api/v1/feeds/trending")
            if response.status_code != 200:
                failures.append(f"{response.status_code} {response.get_data(as_text=True)[:200]}")

    def log_and_like(fan_id: int):
        start.wait()
        with app.app_context():
            for round_ in range(ROUNDS):
                try:
                    record_impressions(post_ids, surface="trending", request_id=new_request_id(), user_id=fan_id)
                    post = db.session.get(Post, post_ids[round_ // 2 % len(post_ids)])  # liked, then unliked
                    fan = db.session.get(User, fan_id)
                    if round_ % 2:
                        engagement.unlike_post(fan, post)
                    else:
                        engagement.like_post(fan, post)
                except Exception as exc:  # noqa: BLE001  (collected: the assertion below names it)
                    failures.append(repr(exc))
                    db.session.rollback()
            db.session.remove()

    threads = [threading.Thread(target=view_feed) for _ in range(6)]
    threads += [threading.Thread(target=log_and_like, args=(fan_id,)) for fan_id in fan_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    with app.app_context():
        impressions = db.session.scalar(select(func.count()).select_from(Event).where(Event.kind == "impression"))
        assert impressions == (6 + len(fan_ids)) * ROUNDS * len(post_ids)
        assert all(db.session.get(Post, post_id).like_count == 0 for post_id in post_ids)


def test_a_reader_is_not_blocked_while_a_writer_commits(app):
    """WAL: a page that only reads never waits for a writer, even one holding the exclusive lock."""
    sqlite_only(app)
    with app.app_context():
        factories.post()
        with db.engine.connect() as writer, db.engine.connect() as reader:
            writer.exec_driver_sql("BEGIN EXCLUSIVE")
            writer.exec_driver_sql("UPDATE posts SET like_count = like_count")
            reader.exec_driver_sql("PRAGMA busy_timeout = 0")  # would fail at once with "database is locked"
            assert reader.exec_driver_sql("SELECT count(*) FROM posts").scalar() == 1
            writer.exec_driver_sql("ROLLBACK")
