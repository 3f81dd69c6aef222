"""Tables of the PostgreSQL search backend (SEARCH_BACKEND=postgres); unused with the Whoosh backend."""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import Boolean, DateTime, Index, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db

log = logging.getLogger(__name__)
RUM_INDEX = "ix_search_documents_rum"  # optional: only where the server has the rum extension


class SearchDocumentRow(db.Model):
    """One searchable document: its tsvector (jieba-segmented, English-stemmed, weighted by field) and filters.

    Weights: A title, B tags, C author and community names, D body. The tsvector is built in Python
    (app.search.text), never by PostgreSQL's own parser, so Chinese is segmented the same way as in Whoosh.
    """

    __tablename__ = "search_documents"
    __table_args__ = (
        UniqueConstraint("doc_type", "ref_id"),
        Index("ix_search_documents_tsv", "tsv", postgresql_using="gin"),
        Index("ix_search_documents_type_community", "doc_type", "community"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    doc_type: Mapped[str] = mapped_column(String(20))
    ref_id: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300), default="")
    community: Mapped[str | None] = mapped_column(String(40))
    author_id: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str | None] = mapped_column(String(10))
    rating: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime | None] = mapped_column(DateTime)
    engagement: Mapped[int] = mapped_column(Integer, default=0)
    price_cents: Mapped[int | None] = mapped_column(Integer)  # products: the cheapest option on sale
    in_stock: Mapped[bool | None] = mapped_column(Boolean)  # products: some option on sale has stock
    tsv: Mapped[str] = mapped_column(Text().with_variant(TSVECTOR(), "postgresql"))


class SearchTerm(db.Model):
    """The unstemmed Latin words of indexed titles, for "did you mean" (added as documents are indexed)."""

    __tablename__ = "search_terms"

    term: Mapped[str] = mapped_column(String(40), primary_key=True)


def rum_available(conn) -> bool:
    """Whether this PostgreSQL server has the rum extension's files (installed in the database or not)."""
    return bool(conn.exec_driver_sql("SELECT 1 FROM pg_available_extensions WHERE name = 'rum'").scalar())


def install_rum(conn, concurrently: bool = False) -> str | None:
    """Create the rum extension (if need be) and the RUM index on search_documents.

    Returns None when the index is there, else why not (the extension is not installed on the server, or
    creating it was refused). In a transaction (the default) a refusal is rolled back to a savepoint, so it
    never spoils the caller's work; `concurrently` needs an AUTOCOMMIT connection and does not block writers.
    """
    if not rum_available(conn):
        return "the rum extension is not installed on the PostgreSQL server"
    try:
        if concurrently:
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS rum")
        else:
            with conn.begin_nested():
                conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS rum")
    except Exception as exc:  # e.g. not allowed to create extensions: the GIN index still answers
        return f"CREATE EXTENSION rum failed: {str(exc).splitlines()[0]}"
    how = "CONCURRENTLY " if concurrently else ""
    conn.exec_driver_sql(f"CREATE INDEX {how}IF NOT EXISTS {RUM_INDEX} ON search_documents "
                         "USING rum (tsv rum_tsvector_ops)")
    return None


@event.listens_for(SearchDocumentRow.__table__, "after_create")
def _add_rum_index(target, connection, **kw) -> None:
    """create_all() (tests, benches, a fresh database) gets the RUM index too, when the server has it."""
    if connection.dialect.name == "postgresql":
        reason = install_rum(connection)
        if reason:
            log.info("search_documents created without the RUM index: %s", reason)


def include_in_migrations(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's comparison of models and database: leave alone the optional RUM index, which exists only where
    the server has the rum extension (created by its migration, create_all's hook or `flask search install-rum`)."""
    return not (type_ == "index" and reflected and compare_to is None and name == RUM_INDEX)
