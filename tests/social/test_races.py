"""Real threads on PostgreSQL: follower counters stay equal to the rows they count."""
import threading

import pytest
from sqlalchemy import func, select

from app.accounts.models import User
from app.extensions import db
from app.social import services
from app.social.models import Follow
from tests.social.conftest import is_postgres, person


def run_threads(app, jobs):
    """Start every job at once, each in its own app context (own session and connection)."""
    barrier = threading.Barrier(len(jobs))
    errors = []

    def worker(job):
        barrier.wait()
        with app.app_context():
            try:
                job()
            except Exception as exc:  # collected and re-raised in the test
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors


def test_concurrent_follows_and_unfollows_keep_counters_exact(app):
    if not is_postgres(app):
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    with app.app_context():
        star = person("star")
        fans = [person(f"fan{i}") for i in range(10)]
        star_id, fan_ids = star.id, [fan.id for fan in fans]

    def following(follower_id, followee_id, action=services.follow):
        return lambda: action(db.session.get(User, follower_id), db.session.get(User, followee_id))

    # 20 follows of the same user (each fan twice), plus the star following 4 fans back at the same time.
    jobs = [following(fan_id, star_id) for fan_id in fan_ids * 2] + [following(star_id, f) for f in fan_ids[:4]]
    run_threads(app, jobs)
    with app.app_context():
        star = db.session.get(User, star_id)
        assert db.session.scalar(select(func.count()).select_from(Follow).where(Follow.followee_id == star_id)) == 10
        assert (star.follower_count, star.following_count) == (10, 4)
        assert all(db.session.get(User, f).following_count == 1 for f in fan_ids)

    run_threads(app, [following(fan_id, star_id, services.unfollow) for fan_id in fan_ids[:5] * 2])
    with app.app_context():
        rows = db.session.scalar(select(func.count()).select_from(Follow).where(Follow.followee_id == star_id))
        assert rows == 5 == db.session.get(User, star_id).follower_count
