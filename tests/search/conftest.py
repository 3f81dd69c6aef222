"""Search tests run once per backend: Whoosh (on SQLite) and the PostgreSQL backend; the index hooks also run
Whoosh on PostgreSQL. The PostgreSQL variants use the project's throwaway database (TEST_DATABASE_URL;
skipped without it, a failure under CI=true).

`app` here replaces the project fixture for tests/search. Read-only suites share one app and data set per
module and backend (`module_app`): building the schema costs seconds, searching it milliseconds.
"""
from __future__ import annotations

import pytest

from app import create_app
from app.extensions import db
from tests.conftest import empty_postgres_tables, make_config

WHOOSH = pytest.param(("whoosh", "sqlite"), id="whoosh")
WHOOSH_ON_POSTGRES = pytest.param(("whoosh", "postgresql"), id="whoosh-postgresql")
POSTGRES = pytest.param(("postgres", "postgresql"), id="postgres")
BACKENDS = [WHOOSH, POSTGRES]
RELEVANCE_BACKENDS = [WHOOSH, POSTGRES]  # the read-only suites (module_app) run on both


def backend_settings(backend: str) -> dict:
    return {"SEARCH_BACKEND": backend}


def _make_app(request, combo: tuple[str, str], directory):
    backend, database = combo
    url = f"sqlite:///{directory / 'test.db'}" if database == "sqlite" else \
        request.getfixturevalue("postgres_schema_url")
    config = make_config(url, directory / "media")
    for name, value in backend_settings(backend).items():
        setattr(config, name, value)
    application = create_app(config)
    with application.app_context():
        db.create_all()
    return application


def _clean(application) -> None:
    with application.app_context():
        db.session.remove()
        if db.engine.dialect.name == "postgresql":
            empty_postgres_tables()
        db.engine.dispose()


@pytest.fixture(params=BACKENDS)
def search_combo(request) -> tuple[str, str]:
    return request.param


@pytest.fixture
def app(request, search_combo, shared_apps, tmp_path):
    """The project's shared app for this backend and database, reset to a clean state (tests/conftest.py)."""
    backend, database = search_combo
    shared = shared_apps(request, database, **backend_settings(backend))
    application = shared.reset(tmp_path)
    yield application
    shared.clean()


@pytest.fixture(scope="module", params=RELEVANCE_BACKENDS)
def module_app(request, tmp_path_factory):
    application = _make_app(request, request.param, tmp_path_factory.mktemp("search"))
    yield application
    _clean(application)
