"""A small world for moderation tests: two communities, their owners and moderators, a member, an author
with a note and a comment, a site admin, and a reader. Rows are made directly (tests.factories) except
where a rule is under test."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from app.communities.models import ROLE_MEMBER, ROLE_MODERATOR, Membership
from app.core.clock import now
from app.extensions import db
from app.posts.models import Comment
from tests import factories
from tests.social.conftest import person


@dataclass
class World:
    community_id: int
    slug: str
    other_id: int
    other_slug: str
    owner: str
    moderator: str
    moderator2: str
    other_moderator: str
    member: str
    author: str
    reader: str
    admin: str
    post_id: int
    comment_id: int
    other_post_id: int


def user(name):
    from sqlalchemy import select

    from app.accounts.models import User

    return db.session.scalar(select(User).where(User.username == name))


def make_world() -> World:
    old = now() - timedelta(days=60)
    owner = person("olivia", created_at=old)
    moderator = person("mona", created_at=old)
    moderator2 = person("max", created_at=old)
    other_moderator = person("otto", created_at=old)
    member = person("mike", created_at=old)
    author = person("ada", created_at=old)
    reader = person("rita", created_at=old)
    admin = person("root", is_admin=True, created_at=old)
    community = factories.community("beauty", owner=owner, vertical="beauty", name="Beauty")
    other = factories.community("outdoors", owner=person("oscar", created_at=old), name="Outdoors")
    for who, where, role in ((moderator, community, ROLE_MODERATOR), (moderator2, community, ROLE_MODERATOR),
                             (other_moderator, other, ROLE_MODERATOR), (member, community, ROLE_MEMBER),
                             (author, community, ROLE_MEMBER), (reader, community, ROLE_MEMBER)):
        db.session.add(Membership(user_id=who.id, community_id=where.id, role=role))
    post = factories.post(author, community, title="Sunscreen that lasts", body_md="It lasts all day at the beach.")
    comment = Comment(post_id=post.id, author_id=member.id, body="Buy cheap pills at spam.example",
                      body_html="<p>Buy cheap pills</p>", depth=0, created_at=now())
    db.session.add(comment)
    post.comment_count = 1
    other_post = factories.post(person("tom", created_at=old), other, title="Tent review")
    db.session.commit()
    return World(community.id, community.slug, other.id, other.slug, owner.username, moderator.username,
                 moderator2.username, other_moderator.username, member.username, author.username, reader.username,
                 admin.username, post.id, comment.id, other_post.id)


@pytest.fixture
def world(app) -> World:
    with app.app_context():
        return make_world()


def log_in_as(client, username: str):
    from tests.conftest import DEFAULT_PASSWORD

    response = client.post_form("/login", {"login": username, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


def token(app, username: str) -> dict:
    from app.accounts import services

    with app.app_context():
        _token, secret = services.create_token(user(username), "test", None)
    return {"Authorization": f"Bearer {secret}"}
