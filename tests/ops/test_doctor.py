"""`flask doctor`: a healthy deployment passes; each broken part is named with its fix, and the exit status says so."""
from __future__ import annotations

import pytest
from flask_migrate import stamp
from sqlalchemy import text

from app.core.clock import now
from app.extensions import db
from app.jobs.models import JobRun
from app.ops.doctor import FAIL, OK, run_checks


@pytest.fixture
def at_head(app):
    """The test database with its migrations recorded at head (create_all builds the schema without them)."""
    with app.app_context():
        stamp()
    yield app
    with app.app_context():
        db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()


def doctor(app):
    result = app.test_cli_runner().invoke(args=["doctor"])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def findings(app, check: str):
    with app.app_context():
        return [f for f in run_checks() if f.check == check]


def test_a_healthy_embedded_site_passes(at_head):
    at_head.config["SECRET_KEY"] = "k" * 48
    code, output = doctor(at_head)
    assert code == 0, output
    assert "[FAIL]" not in output and "0 problem(s)" in output
    assert "[ok  ] database: reachable" in output and "[ok  ] migrations: at head" in output


def test_a_short_secret_key_fails_with_how_to_make_one(at_head):
    at_head.config["SECRET_KEY"] = "short"
    code, output = doctor(at_head)
    assert code == 1
    assert "[FAIL] secret key" in output and "secrets.token_urlsafe" in output


def test_production_needs_a_key_from_the_environment_and_a_public_address(at_head):
    at_head.config.update(ENV_NAME="production", SECRET_KEY="k" * 48, SECRET_KEY_SOURCE="instance",
                          SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True, PUBLIC_BASE_URL=None)
    failed = {f.check: f for f in (findings(at_head, "secret key") + findings(at_head, "production flags"))
              if f.level == FAIL}
    assert "same value on every host" in failed["secret key"].fix
    assert "PUBLIC_BASE_URL" in failed["production flags"].fix


def test_a_database_without_migrations_is_told_to_upgrade(app):
    [finding] = findings(app, "migrations")
    assert finding.level == FAIL and "flask db upgrade" in finding.fix


def test_an_unreachable_database_fails_and_skips_what_needs_it(tmp_path):
    from app import create_app
    from tests.conftest import make_config

    app = create_app(make_config("postgresql+psycopg://nobody@127.0.0.1:1/none", tmp_path / "media"))
    with app.app_context():
        found = {f.check: f for f in run_checks()}
    assert found["database"].level == FAIL and "DATABASE_URL" in found["database"].fix
    assert found["migrations"].level == FAIL and found["migrations"].message == "skipped: no database"


def test_an_index_behind_the_database_is_told_to_reindex(at_head):
    from app.search.indexing import rebuild_index
    from tests.factories import community, post, user

    with at_head.app_context():
        author, place = user(), community()
        rebuild_index()
        for _ in range(12):
            post(author, place)  # rows made directly: never indexed
    [finding] = [f for f in findings(at_head, "search") if f.level != "warn"]
    assert finding.level == FAIL and "(12 missing)" in finding.message
    assert "flask search reindex" in finding.fix
    with at_head.app_context():
        rebuild_index()
    assert [f.level for f in findings(at_head, "search") if f.level != "warn"] == [OK]


def test_unreachable_redis_and_failed_scheduled_runs_fail(at_head):
    at_head.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    with at_head.app_context():
        db.session.add(JobRun(name="shop-expire-reservations", period="x", started_at=now(),
                              result="failed: boom"))
        db.session.commit()
    code, output = doctor(at_head)
    assert code == 1
    assert "[FAIL] redis: unreachable" in output
    assert "[FAIL] failed jobs: 1 scheduled run(s) failed" in output
