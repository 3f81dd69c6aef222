"""Database helpers every domain uses for race-safe writes."""
from __future__ import annotations

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
