"""Real threads on PostgreSQL: member_count stays equal to the Membership rows."""
import pytest
from sqlalchemy import func, select

from app.accounts.models import User
from app.communities import services
from app.communities.models import Community, Membership
from app.extensions import db
from tests.social.conftest import is_postgres, person
from tests.social.test_races import run_threads


def test_concurrent_joins_and_leaves_keep_member_count_exact(app):
    if not is_postgres(app):
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    with app.app_context():
        admin = person("boss", is_admin=True)
        person("owner")
        community_id = services.create_community(admin, slug="busy", name="Busy", vertical="food",
                                                 owner_username="owner").id
        reader_ids = [person(f"reader{i}").id for i in range(10)]

    def act(user_id, action):
        return lambda: action(db.session.get(User, user_id), db.session.get(Community, community_id))

    def rows_and_count():
        with app.app_context():
            rows = db.session.scalar(select(func.count()).select_from(Membership)
                                     .where(Membership.community_id == community_id))
            return rows, db.session.get(Community, community_id).member_count

    run_threads(app, [act(user_id, services.join_community) for user_id in reader_ids * 2])  # 20 threads
    assert rows_and_count() == (11, 11)
    jobs = [act(user_id, services.leave_community) for user_id in reader_ids[:6] * 2]
    jobs += [act(user_id, services.join_community) for user_id in reader_ids[6:]]
    run_threads(app, jobs)
    assert rows_and_count() == (5, 5)
