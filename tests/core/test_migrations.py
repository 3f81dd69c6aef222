"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade

from app import create_app
from app.extensions import db
from app.search.models import include_in_migrations
from tests.conftest import make_config, throwaway_postgres_database


def _diff_after_upgrade(url, media):
    app = create_app(make_config(url, media))
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(
                conn, opts={"compare_type": True, "include_object": include_in_migrations}), db.metadata)
        db.engine.dispose()
    return diff


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_models_and_migrations_agree(backend, tmp_path):
    if backend == "sqlite":
        assert _diff_after_upgrade(f"sqlite:///{tmp_path / 'm.db'}", tmp_path) == []
    else:
        with throwaway_postgres_database() as url:
            assert _diff_after_upgrade(url, tmp_path) == []
