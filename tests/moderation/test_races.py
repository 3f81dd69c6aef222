"""Real threads on PostgreSQL: two moderators act on the same queue item at once; one wins, the other is told."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.core.errors import Conflict
from app.extensions import db
from app.moderation import actions, reports
from app.moderation.models import ModAction, QueueItem, Report
from tests.moderation.conftest import user
from tests.social.conftest import is_postgres
from tests.social.test_races import run_threads


@pytest.fixture(autouse=True)
def postgres_only(app):
    if not is_postgres(app):
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")


@pytest.mark.parametrize("second", ["remove_post", "dismiss", "lock_comments"])
def test_two_moderators_on_one_queue_item_one_wins_the_other_is_told(app, world, second):
    with app.app_context():
        reports.report(user(world.reader), "post", world.post_id, "spam")
        item = db.session.scalar(select(QueueItem))
        item_id, version = item.id, item.version
    outcomes: list = []

    def act(name: str, action: str):
        def job():
            try:
                if action == "dismiss":
                    actions.dismiss_item(user(name), item_id, "Nothing wrong here", version)
                else:
                    actions.take_action(user(name), action, target_kind="post", target_id=world.post_id,
                                        reason="Acting on the report", queue_item_id=item_id, seen_version=version)
                outcomes.append((name, "won"))
            except Conflict as exc:
                outcomes.append((name, exc.code))
        return job

    for _ in range(3):  # a few rounds, each from a fresh item
        outcomes.clear()
        run_threads(app, [act(world.moderator, "remove_post"), act(world.moderator2, second)])
        results = sorted(code for _name, code in outcomes)
        assert results == ["already-handled", "won"], outcomes
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(ModAction)
                                     .where(ModAction.queue_item_id == item_id)) == 1
            assert db.session.get(QueueItem, item_id).status in ("resolved", "dismissed")
            # reset for the next round: a new report opens a new item
            from app.posts.models import Post

            post = db.session.get(Post, world.post_id)
            post.status, post.removed_reason, post.comments_locked = "published", None, False
            db.session.execute(Report.__table__.delete())
            db.session.commit()
            reports.report(user(world.reader), "post", world.post_id, "spam")
            item = db.session.scalar(select(QueueItem).where(QueueItem.status == "open"))
            item_id, version = item.id, item.version


def test_the_same_reader_reporting_twice_at_once_files_one_report(app, world):
    outcomes: list = []

    def job():
        try:
            reports.report(user(world.reader), "post", world.post_id, "spam")
            outcomes.append("filed")
        except Conflict as exc:
            outcomes.append(exc.code)

    run_threads(app, [job, job, job])
    assert sorted(outcomes) == ["already-reported", "already-reported", "filed"]
    with app.app_context():
        assert db.session.scalar(select(QueueItem.report_count)) == 1
        assert db.session.scalar(select(func.count()).select_from(QueueItem)) == 1


def test_many_readers_reporting_at_once_merge_into_one_item(app, world):
    from tests.social.conftest import person

    with app.app_context():
        names = [person(f"reader{i}").username for i in range(6)]
        db.session.commit()

    def job(name):
        return lambda: reports.report(user(name), "post", world.post_id, "spam")

    run_threads(app, [job(name) for name in names])
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(QueueItem)) == 1
        assert db.session.scalar(select(QueueItem.report_count)) == 6
