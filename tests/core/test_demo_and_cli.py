"""seed-demo, users create-admin and the production guard against demo accounts."""
import pytest
from sqlalchemy import func, select

from app import create_app
from app.accounts.models import User
from app.config import ProductionConfig
from app.extensions import db


def test_seed_demo_is_idempotent_and_deterministic(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo", "--users", "12", "--posts", "30", "--seed", "7"])
    assert first.exit_code == 0, first.output
    assert "tastemaker-demo" in first.output and "moderator" in first.output
    with app.app_context():
        names = set(db.session.scalars(select(User.username)))
        assert {"admin", "reader", "creator", "merchant", "moderator"} <= names
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        assert admin.is_admin and admin.avatar_path
    again = runner.invoke(args=["seed-demo", "--users", "12", "--posts", "30", "--seed", "7"])
    assert again.exit_code == 0 and "Created 0 users" in again.output
    with app.app_context():
        assert set(db.session.scalars(select(User.username))) == names
    skipped = runner.invoke(args=["seed-demo", "--if-empty"])
    assert "not seeding" in skipped.output


def test_demo_accounts_can_log_in(client, app):
    app.test_cli_runner().invoke(args=["seed-demo", "--users", "0", "--posts", "0"])
    response = client.post_form("/login", {"login": "reader", "password": "tastemaker-demo"})
    assert response.status_code == 302


def test_create_admin_prompts_for_password(app):
    result = app.test_cli_runner().invoke(args=["users", "create-admin", "boss", "boss@example.com"],
                                          input="Str0ng-enough-pw\nStr0ng-enough-pw\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(User).where(User.username == "boss")).is_admin


def test_create_admin_with_weak_password_fails_cleanly(app):
    result = app.test_cli_runner().invoke(args=["users", "create-admin", "boss", "boss@example.com"],
                                          input="weak\nweak\n")
    assert result.exit_code != 0 and "characters" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) == 0


def test_production_refuses_to_start_with_demo_accounts(app, monkeypatch):
    app.test_cli_runner().invoke(args=["seed-demo", "--users", "0", "--posts", "0"])
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("DATABASE_URL", app.config["SQLALCHEMY_DATABASE_URI"])
    with pytest.raises(RuntimeError, match="demo accounts"):
        create_app(ProductionConfig())


def test_seeded_content_keeps_every_counter_equal_to_its_rows(app):
    from app.communities.models import Community, Membership
    from app.feeds.models import Event
    from app.posts.models import Comment, Like, Post, Save
    from app.social.models import Follow

    result = app.test_cli_runner().invoke(args=["seed-demo", "--users", "25", "--posts", "60", "--seed", "3"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Community.id))) >= 8
        assert db.session.scalar(select(func.count(Post.id))) == 60
        assert db.session.scalar(select(func.count(Event.id))) > 0
        for post in db.session.scalars(select(Post)):
            assert post.like_count == db.session.scalar(select(func.count()).where(Like.post_id == post.id))
            assert post.save_count == db.session.scalar(select(func.count()).where(Save.post_id == post.id))
            assert post.comment_count == db.session.scalar(select(func.count()).where(Comment.post_id == post.id))
            assert post.images and post.body_html and "<script" not in post.body_html
        for user in db.session.scalars(select(User)):
            assert user.follower_count == db.session.scalar(select(func.count()).where(Follow.followee_id == user.id))
        for community in db.session.scalars(select(Community)):
            assert community.member_count == db.session.scalar(
                select(func.count()).where(Membership.community_id == community.id))
        media = app.config["MEDIA_ROOT"]
        post = db.session.scalar(select(Post).limit(1))
        assert (media / post.images[0].path).exists() and (media / post.images[0].thumb_path).exists()
