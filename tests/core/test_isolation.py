"""The `app` fixture shares one app per backend across tests: nothing a test changes may reach the next.

The tests run in pairs (pytest keeps a file's order unless randomised; each pair also passes alone): the
first leaves changes behind, the second checks that they are gone.
"""
from __future__ import annotations

from sqlalchemy import func, select

from app.accounts.models import User
from app.extensions import db, limiter
from app.search import get_backend
from tests.conftest import DEFAULT_PASSWORD, MadeUser, log_in

LEFT_BEHIND: dict[object, object] = {}


def test_a_test_changes_the_shared_app(app, database_url, client, make_user):
    LEFT_BEHIND[database_url] = app
    make_user("leaver")
    app.config["LOGIN_ACCOUNT_RATE_LIMIT"] = "11 per hour"
    app.config["SOMETHING_NEW"] = True
    app.config["LANGUAGES"]["xx"] = "Nested"
    with app.app_context():
        get_backend()  # cached in app.extensions
    app.extensions["left.behind"] = object()
    for _ in range(11):  # uses up the per-account failed log-in limit in the limiter's storage (the
        # built limit is 10 per hour: the next test would be refused too if the storage were kept)
        client.post_form("/login", {"login": "leaver", "password": "wrong-Password-1"})
    assert log_in(client, MadeUser(0, "leaver", "", DEFAULT_PASSWORD)).status_code == 429
    app.jinja_loader = None
    LEFT_BEHIND[database_url, "search_dir"] = app.config["SEARCH_INDEX_DIR"]


def test_the_next_test_gets_the_app_as_built(app, database_url, client, make_user):
    assert LEFT_BEHIND.get(database_url) in (None, app)  # the same object: this is what needs resetting
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) == 0
    assert app.config["LOGIN_ACCOUNT_RATE_LIMIT"] != "11 per hour"
    assert "SOMETHING_NEW" not in app.config and "xx" not in app.config["LANGUAGES"]
    assert "search_backend" not in app.extensions and "left.behind" not in app.extensions
    assert app.jinja_loader is not None
    assert app.config["SEARCH_INDEX_DIR"] != LEFT_BEHIND.get((database_url, "search_dir"))
    assert limiter.enabled
    user = make_user("leaver")
    assert log_in(client, user).status_code == 302  # the limiter's storage was emptied
