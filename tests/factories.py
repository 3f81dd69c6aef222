"""Small factories for tests: rows made directly, so each domain's tests do not depend on another's services.

Call them inside an app context (the `ctx` fixture, or `with app.app_context():`).
"""
from __future__ import annotations

import itertools
from datetime import datetime

from app.accounts.models import User
from app.accounts.services import register_user
from app.communities.models import ROLE_OWNER, Community, Membership
from app.core.clock import now
from app.extensions import db
from app.posts.models import KIND_NOTE, Post
from app.posts.services import hot_score

_seq = itertools.count(1)
PASSWORD = "correct-Horse-42"


def user(username: str | None = None, **fields) -> User:
    username = username or f"member{next(_seq)}"
    made = register_user(username, f"{username}-{next(_seq)}@example.com", PASSWORD)
    for key, value in fields.items():
        setattr(made, key, value)
    db.session.commit()
    return made


def community(slug: str | None = None, owner: User | None = None, vertical: str = "outdoor", **fields) -> Community:
    owner = owner or user()
    slug = slug or f"community{next(_seq)}"
    made = Community(slug=slug, name=fields.pop("name", slug.title()), vertical=vertical, owner=owner,
                     description=fields.pop("description", ""), member_count=1, **fields)
    db.session.add(made)
    db.session.flush()
    db.session.add(Membership(user_id=owner.id, community_id=made.id, role=ROLE_OWNER))
    db.session.commit()
    return made


def post(author: User | None = None, community_: Community | None = None, title: str | None = None,
         created_at: datetime | None = None, **fields) -> Post:
    author = author or user()
    community_ = community_ or community()
    made = Post(author=author, community=community_, title=title or f"Post {next(_seq)}",
                kind=fields.pop("kind", KIND_NOTE), body_md=fields.pop("body_md", "Hello"),
                body_html=fields.pop("body_html", "<p>Hello</p>"), created_at=created_at or now(), **fields)
    made.hot_score = hot_score(made.like_count or 0, made.save_count or 0, made.comment_count or 0, made.created_at)
    db.session.add(made)
    community_.post_count += 1
    db.session.commit()
    return made
