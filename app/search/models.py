"""Tables of the PostgreSQL search backend (SEARCH_BACKEND=postgres); unused with the Whoosh backend."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db

RUM_INDEX = "ix_search_documents_rum"  # an index earlier versions created; migration 5e7a1c0d9b21 drops it


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


def include_in_migrations(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's comparison of models and database: leave alone the RUM index of earlier versions (dropped by
    migration 5e7a1c0d9b21), which is not in the models."""
    return not (type_ == "index" and reflected and compare_to is None and name == RUM_INDEX)
