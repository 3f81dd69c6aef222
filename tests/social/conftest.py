"""Fixtures for social tests. Stand-ins for the posts engineer's card templates while they do not exist yet."""
from __future__ import annotations

import pytest
from jinja2 import ChoiceLoader, DictLoader, TemplateNotFound

from app.extensions import db

CARD_STANDINS = {
    "posts/_card.html": (
        "{% macro post_grid(posts, state, next_url) %}<div class='standin-grid'>"
        "{% for p in posts %}<article class='standin-card'>{{ p.title }}</article>{% endfor %}"
        "{% if next_url %}<a class='standin-next' href='{{ next_url }}'>more</a>{% endif %}</div>{% endmacro %}"),
    "feeds/_more.html": "{% for p in posts %}<article class='standin-card'>{{ p.title }}</article>{% endfor %}",
}


@pytest.fixture(autouse=True)
def card_template_standins(app):
    """Serve a minimal `posts/_card.html` / `feeds/_more.html` only if the real ones are missing."""
    real = app.jinja_loader
    missing = {}
    for name, source in CARD_STANDINS.items():
        try:
            real.get_source(app.jinja_env, name)
        except TemplateNotFound:
            missing[name] = source
    if missing:
        app.jinja_loader = ChoiceLoader([real, DictLoader(missing)])
    yield


def is_postgres(app) -> bool:
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")


def fresh(model, key):
    """Re-read a row from the database (not from the session's identity map)."""
    db.session.expire_all()
    return db.session.get(model, key)


_PASSWORD_HASH: list[str] = []


def person(username: str, **fields):
    """A user row made directly (the password hash is computed once per run, so this is fast).

    Logs in with tests.conftest.DEFAULT_PASSWORD. Call inside an app context.
    """
    from app.accounts.models import User
    from app.accounts.services import hash_password
    from tests.conftest import DEFAULT_PASSWORD

    if not _PASSWORD_HASH:
        _PASSWORD_HASH.append(hash_password(DEFAULT_PASSWORD))
    user = User(username=username, username_key=username.lower(), email=f"{username}@example.com",
                email_key=f"{username.lower()}@example.com", password_hash=_PASSWORD_HASH[0], **fields)
    db.session.add(user)
    db.session.commit()
    return user


def sign_in(client, username: str):
    """Log the test client in as `username` (made with `person`)."""
    from tests.conftest import DEFAULT_PASSWORD

    response = client.post_form("/login", {"login": username, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client
