"""Shared fixtures: one app per database backend, reset to a clean database and configuration before each test
(SQLite always, PostgreSQL when configured).

Set TEST_DATABASE_URL (e.g. postgresql://postgres@127.0.0.1:5432/postgres) to run every database test
on PostgreSQL too; a throwaway database is created for the run and dropped after it. Under CI=true a
missing or unreachable PostgreSQL is a failure, not a skip.

Speed: the app (routes, OpenAPI document) and the schema are built once per backend and run (per xdist
worker under `make test`), not per test — see SharedApp for what is reset before each test; passwords hash
with one PBKDF2 round (TestConfig.PASSWORD_HASH_METHOD). A test that adds routes or hooks asks for
`fresh_app` instead of `app`.
"""
from __future__ import annotations

import copy
import os
import re
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.config import TestConfig, normalise_database_url
from app.extensions import db

IN_CI = os.environ.get("CI", "").lower() == "true"
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
DEFAULT_PASSWORD = "correct-Horse-42"


def skip_or_fail(reason: str) -> None:
    """Skip with a reason on a laptop; fail under CI, where everything must be present."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this is a failure, not a skip)", pytrace=False)
    pytest.skip(reason)


def redis_or_skip(url: str):
    """A client of the Redis at `url` once it answers a ping; skip_or_fail with the reason when it does not."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        client.close()
        skip_or_fail(f"Redis at {url} is unreachable: {exc}")
    return client


def pytest_sessionstart(session):
    if IN_CI and not TEST_DATABASE_URL:
        pytest.exit("CI=true but TEST_DATABASE_URL is not set: the PostgreSQL run is required in CI.", 3)


@contextmanager
def throwaway_postgres_database() -> Iterator[str]:
    """Create an empty PostgreSQL database next to TEST_DATABASE_URL; drop it afterwards."""
    import psycopg

    if not TEST_DATABASE_URL:
        skip_or_fail("TEST_DATABASE_URL is not set, so the PostgreSQL variant is skipped")
    admin_url = TEST_DATABASE_URL.replace("postgresql+psycopg://", "postgresql://")
    name = f"tastemaker_test_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        skip_or_fail(f"PostgreSQL at TEST_DATABASE_URL is unreachable: {exc}")
    base = admin_url.rsplit("/", 1)[0]
    try:
        yield normalise_database_url(f"{base}/{name}")
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_schema_url() -> Iterator[str]:
    """One PostgreSQL database for the run with the schema built once; tests empty their tables after them."""
    with throwaway_postgres_database() as url:
        config = make_config(url, media_root="/tmp/tastemaker-unused-media")
        app = create_app(config)
        with app.app_context():
            db.create_all()
            db.engine.dispose()
        yield url


def make_config(database_url: str, media_root) -> TestConfig:
    config = TestConfig()
    config.SQLALCHEMY_DATABASE_URI = database_url
    config.MEDIA_ROOT = media_root
    config.SEARCH_INDEX_DIR = Path(media_root).parent / "search"
    if database_url.startswith("postgresql"):
        # A test's commit need not wait for the WAL to reach the disk (each one did, ~10-30 ms on a busy
        # machine); visibility and locking are unchanged, only a crash of the server could lose them.
        config.SQLALCHEMY_ENGINE_OPTIONS = {"connect_args": {"options": "-c synchronous_commit=off"}}
    return config


SHM = Path("/dev/shm")


class SharedApp:
    """One app per database backend for the whole run (per xdist worker), reset before every test.

    Building an app costs ~0.2 s (routes, the OpenAPI document) and a schema ~0.05 s; a test should pay
    neither. Before each test the app gets back its configuration as built (deep copy), its extensions as
    built (a test's search backend or image-worker slots go), its template loader, a fresh rate-limit
    storage (limiter.init_app re-reads RATELIMIT_* and opens new storage) and a clean database: SQLite
    copies the empty schema, built once, into the database through SQLite's backup API (which respects
    WAL and any connection still open, unlike swapping the file); PostgreSQL empties the tables after the
    test, as before.
    """

    def __init__(self, database_url: str, folder: Path, template: Path | None = None, **settings):
        self.database_url = database_url
        self.template = template
        config = make_config(database_url, folder / "media")
        for name, value in settings.items():
            setattr(config, name, value)
        self.app = create_app(config)
        with self.app.app_context():
            db.create_all()
            db.engine.dispose()
        if template is not None:
            source, copy_ = sqlite3.connect(self.sqlite_path), sqlite3.connect(template)
            try:
                source.backup(copy_)
            finally:
                source.close()
                copy_.close()
        # As if it had served a request already: a test adding a route or hook fails at once, whatever ran
        # before it, instead of changing the app for the tests after it (those use `fresh_app`).
        self.app._got_first_request = True
        self.app.jinja_loader  # noqa: B018  (a cached property: remember the one create_app made)
        self.config = copy.deepcopy(dict(self.app.config))
        self.extensions = dict(self.app.extensions)
        self.attributes = {name: vars(self.app)[name] for name in ("jinja_loader", "test_client_class")
                           if name in vars(self.app)}

    @property
    def sqlite_path(self) -> Path:
        return Path(self.database_url.removeprefix("sqlite:///"))

    def reset(self, tmp_path: Path) -> Flask:
        from app.core.fragments import clear_local_fragments
        from app.extensions import limiter

        clear_local_fragments()  # cached cards name post ids, which the next test's database reuses

        app = self.app
        app.config.clear()
        app.config.update(copy.deepcopy(self.config))
        app.config["MEDIA_ROOT"] = tmp_path / "media"
        app.config["SEARCH_INDEX_DIR"] = tmp_path / "search"
        app.extensions.clear()
        app.extensions.update(self.extensions)
        for name in ("jinja_loader", "test_client_class"):
            vars(app).pop(name, None)
        vars(app).update(self.attributes)
        limiter.init_app(app)
        if self.template is not None:
            with app.app_context():
                db.engine.dispose()
            source, target = sqlite3.connect(self.template), sqlite3.connect(self.sqlite_path, timeout=30)
            try:
                source.backup(target)
            finally:
                source.close()
                target.close()
        return app

    def clean(self) -> None:
        with self.app.app_context():
            db.session.remove()
            if db.engine.dialect.name == "postgresql":
                empty_postgres_tables()  # the pool stays: connecting costs more than the test's rows
            else:
                db.engine.dispose()


def empty_postgres_tables() -> None:
    """Empty every table a test wrote to and restart every sequence, in one transaction (in an app context).

    Only the written tables: truncating all ~100 made new files for each and took about a second per test;
    a test writes a handful. TRUNCATE rather than DELETE so each test starts on fresh heaps, where rows come
    back in insertion order as they did before (DELETE leaves dead rows whose space later inserts reuse).
    """
    tables = db.metadata.sorted_tables
    probe = " UNION ALL ".join(f'SELECT {index} WHERE EXISTS (SELECT 1 FROM "{table.name}")'
                               for index, table in enumerate(tables))
    with db.engine.begin() as conn:
        written = {row[0] for row in conn.exec_driver_sql(probe)}
        if written:
            names = ", ".join(f'"{tables[index].name}"' for index in sorted(written))
            conn.exec_driver_sql(f"TRUNCATE {names} CASCADE")
        conn.exec_driver_sql("SELECT setval(c.oid, 1, false) FROM pg_class c "
                             "WHERE c.relkind = 'S' AND c.relnamespace = "
                             "(SELECT oid FROM pg_namespace WHERE nspname = current_schema())")


@pytest.fixture(scope="session")
def shared_apps(tmp_path_factory) -> Iterator:
    """`shared_apps(request, "sqlite" | "postgresql", **settings)`: the SharedApp for that database and those
    config settings (e.g. SEARCH_BACKEND), built on first use and kept for the run. SQLite lives in a file
    (several connections, real locking) on memory-backed /dev/shm when there is one, which skips an fsync
    per commit."""
    apps: dict[tuple, SharedApp] = {}
    folders: list[Path] = []

    def get(request, database: str, **settings) -> SharedApp:
        key = (database, tuple(sorted(settings.items())))
        if key not in apps:
            if database == "sqlite":
                folder = Path(tempfile.mkdtemp(dir=SHM)) if SHM.is_dir() else tmp_path_factory.mktemp("sqlite")
                folders.append(folder)
                apps[key] = SharedApp(f"sqlite:///{folder / 'test.db'}", folder, folder / "template.db",
                                      **settings)
            else:
                apps[key] = SharedApp(request.getfixturevalue("postgres_schema_url"),
                                      tmp_path_factory.mktemp("postgresql"), **settings)
        return apps[key]

    yield get
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_app(request, shared_apps) -> SharedApp:
    return shared_apps(request, request.param)


@pytest.fixture
def database_url(shared_app) -> str:
    """The test's database (clean when the test starts): SQLite, or the throwaway PostgreSQL schema."""
    return shared_app.database_url


@pytest.fixture
def app(shared_app, tmp_path):
    """The backend's app on a clean database, as create_app built it. No app context stays pushed (see
    `ctx`). A test may change app.config freely: the next test gets the built configuration back."""
    application = shared_app.reset(tmp_path)
    yield application
    shared_app.clean()


@pytest.fixture
def fresh_app(shared_app, tmp_path):
    """A newly built app on the backend's clean database, for a test that changes what only a new app may
    (its routes or hooks: Flask refuses those once an app has served a request). Pays create_app's cost."""
    shared_app.reset(tmp_path)
    application = create_app(make_config(shared_app.database_url, tmp_path / "media"))
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    shared_app.clean()


@pytest.fixture
def ctx(app):
    """An app context for calling services directly (not while using the test client)."""
    with app.app_context():
        yield app


class Client(FlaskClient):
    """Test client that can fetch a CSRF token the way a browser page would have it."""

    def csrf_token(self) -> str:
        html = self.get("/", follow_redirects=True).get_data(as_text=True)
        match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
        assert match, "the page carries no CSRF token"
        return match.group(1)

    def post_form(self, url: str, data: dict | None = None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token())
        return self.post(url, data=data, **kwargs)


@pytest.fixture
def client(app) -> Client:
    app.test_client_class = Client
    return app.test_client()


@dataclass
class MadeUser:
    id: int
    username: str
    email: str
    password: str


@pytest.fixture
def make_user(app):
    """Factory: make_user('ann') registers a user through the service and returns its plain facts."""
    from app.accounts.services import register_user

    counter = iter(range(1, 10_000))

    def factory(username: str | None = None, password: str = DEFAULT_PASSWORD, **extra) -> MadeUser:
        username = username or f"user{next(counter)}"
        email = extra.pop("email", f"{username}@example.com")
        with app.app_context():
            user = register_user(username, email, password, **extra)
            return MadeUser(user.id, user.username, user.email, password)

    return factory


def log_in(client: Client, user: MadeUser, remember: bool = False):
    return client.post_form("/login", {"login": user.username, "password": user.password,
                                       "remember": "y" if remember else ""})


@pytest.fixture
def user(make_user) -> MadeUser:
    return make_user("ann")


@pytest.fixture
def user_client(client, user) -> Client:
    """A client logged in as `user`."""
    response = log_in(client, user)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client
