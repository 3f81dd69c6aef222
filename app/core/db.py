"""Database helpers every domain uses for race-safe writes."""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.extensions import db


def insert_if_absent(model, **values) -> bool:
    """INSERT … ON CONFLICT DO NOTHING; True when the row was really inserted.

    Race-safe on both databases without a savepoint: under the pysqlite driver a SAVEPOINT opened
    outside an explicit BEGIN commits on release, so IntegrityError-and-savepoint is not atomic there.
    RETURNING tells whether a row went in (psycopg reports no rowcount for ON CONFLICT inserts here).
    """
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = model.__table__
    statement = insert(table).values(**values).on_conflict_do_nothing().returning(*table.primary_key.columns)
    return db.session.execute(statement).first() is not None


def tune_sqlite(engine, busy_timeout_seconds: float) -> None:
    """Let the embedded SQLite database serve concurrent requests: WAL and a busy timeout on each connection.

    In WAL mode readers never block the writer nor the writer the readers, so a page view that logs its
    impressions no longer fails a concurrent feed read; a writer that finds another writer's lock waits up
    to the busy timeout instead of failing at once with "database is locked". Writes stay short (one
    service, one transaction). PostgreSQL engines are left alone.
    """
    if engine.dialect.name != "sqlite":
        return
    timeout_ms = int(busy_timeout_seconds * 1000)

    @event.listens_for(engine, "connect")
    def set_sqlite_pragmas(dbapi_connection, _connection_record):
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {timeout_ms}")
            if engine.url.database not in (None, "", ":memory:"):
                cursor.execute("PRAGMA journal_mode = WAL")
        finally:
            cursor.close()
