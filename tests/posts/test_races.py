"""Real threads on PostgreSQL: like, save and comment counters stay equal to the rows they count."""
import pytest
from sqlalchemy import func, select

from app.accounts.models import User
from app.extensions import db
from app.posts import comments, engagement
from app.posts.models import Collection, Comment, Like, Post, Save
from app.posts.services import hot_score
from tests import factories
from tests.social.conftest import is_postgres, person
from tests.social.test_races import run_threads


def test_racing_likes_saves_and_comments_keep_every_counter_exact(app):
    if not is_postgres(app):
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    with app.app_context():
        author = person("author")
        post = factories.post(author=author)
        fans = [person(f"fan{i}") for i in range(8)]
        post_id, author_id, fan_ids = post.id, author.id, [fan.id for fan in fans]

    def act(action, fan_id, *args):
        return lambda: action(db.session.get(User, fan_id), db.session.get(Post, post_id), *args)

    # Every fan likes twice and saves twice at once, and comments once.
    jobs = [act(engagement.like_post, f) for f in fan_ids * 2] + [act(engagement.save_post, f) for f in fan_ids * 2]
    jobs += [act(comments.add_comment, f, "Nice!") for f in fan_ids]
    run_threads(app, jobs)
    with app.app_context():
        post = db.session.get(Post, post_id)
        likes = db.session.scalar(select(func.count()).select_from(Like).where(Like.post_id == post_id))
        saves = db.session.scalar(select(func.count()).select_from(Save).where(Save.post_id == post_id))
        written = db.session.scalar(select(func.count()).select_from(Comment).where(Comment.post_id == post_id))
        assert (likes, saves, written) == (8, 8, 8)
        assert (post.like_count, post.save_count, post.comment_count) == (8, 8, 8)
        assert db.session.get(User, author_id).likes_received_count == 8
        assert post.hot_score == pytest.approx(hot_score(8, 8, 8, post.created_at))
        assert sum(db.session.scalars(select(Collection.item_count))) == 8

    run_threads(app, [act(engagement.unlike_post, f) for f in fan_ids[:5] * 2])
    with app.app_context():
        assert db.session.get(Post, post_id).like_count == 3
        assert db.session.scalar(select(func.count()).select_from(Like)) == 3
        assert db.session.get(User, author_id).likes_received_count == 3
