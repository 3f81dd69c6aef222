"""The SearchBackend interface and the plain values that cross it.

A backend stores `SearchDocument`s and answers `SearchQuery`s with ids, scores and facet counts; it
never touches the ORM models. The service (`app.search.services`) builds queries, loads the rows for a
page of hits and applies the social re-ranking, so every backend behaves the same above this line.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from app.search.text import ParsedQuery

# Document types; each has a builder in documents.py.
DOC_POST, DOC_PRODUCT, DOC_COMMUNITY, DOC_USER = "post", "product", "community", "user"
DOC_TYPES = (DOC_POST, DOC_PRODUCT, DOC_COMMUNITY, DOC_USER)
COMMUNITY_TYPES = (DOC_POST, DOC_PRODUCT)  # the types that belong to a community (filter and facet)
SORT_RELEVANT, SORT_NEW, SORT_TOP = "relevant", "new", "top"
BACKEND_SORTS = (SORT_RELEVANT, SORT_NEW, SORT_TOP)

# How much a match in each field counts (the same weights on every backend).
FIELD_WEIGHTS = {"title": 4.0, "tags": 2.0, "names": 1.5, "body": 1.0}


@dataclass
class SearchDocument:
    """One searchable thing, whatever its type.

    title/body/tags/names are text (names: author and community names, usernames); the rest are
    filters and sort keys. A type leaves what does not apply empty: a product sets title, body, names
    (its shop), community (the one it is listed in), author_id (the merchant), rating (its reviews'
    average, rounded), price_cents (its cheapest option on sale), in_stock, and like_count (units sold).
    """

    doc_type: str
    ref_id: int
    title: str
    body: str = ""
    tags: str = ""
    names: str = ""
    community: str | None = None  # slug, for the community filter and facet
    author_id: int | None = None  # blocked authors are masked out per viewer
    kind: str | None = None  # note / review for posts
    rating: int | None = None
    created_at: datetime | None = None
    like_count: int = 0
    save_count: int = 0
    comment_count: int = 0
    price_cents: int | None = None  # products only: the lowest price among the options on sale
    in_stock: bool | None = None  # products only: some option on sale has stock

    @property
    def key(self) -> str:
        return f"{self.doc_type}:{self.ref_id}"

    @property
    def engagement(self) -> int:
        """What sort=top orders by: the hot score's weighting without the time part."""
        return self.like_count + 2 * self.save_count + 3 * self.comment_count


@dataclass
class SearchQuery:
    parsed: ParsedQuery
    doc_type: str | None = DOC_POST  # None: every type
    community: str | None = None  # only applies to types that have one (see community_filter)
    sort: str = SORT_RELEVANT
    offset: int = 0
    limit: int = 20
    exclude_author_ids: frozenset[int] = frozenset()
    any_term: bool = False  # OR instead of AND (the service retries with this when AND finds nothing)
    facets: bool = False
    # Products only (ignored for other types): price bounds in minor units, inclusive, and stock.
    min_price_cents: int | None = None
    max_price_cents: int | None = None
    in_stock_only: bool = False

    @property
    def community_filter(self) -> str | None:
        return self.community if self.doc_type in (None, *COMMUNITY_TYPES) else None

    @property
    def product_filters(self) -> bool:
        return self.doc_type == DOC_PRODUCT and (
            self.min_price_cents is not None or self.max_price_cents is not None or self.in_stock_only)


@dataclass
class SearchHit:
    doc_type: str
    ref_id: int
    score: float
    title: str = ""


@dataclass
class SearchResults:
    hits: list[SearchHit]
    total: int
    type_counts: dict[str, int] = field(default_factory=dict)
    # type → community slug → matches (without the community filter; types without communities absent)
    community_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    total_exact: bool = True  # False: the backend stopped counting early, `total` is a lower bound


class SearchBackend(ABC):
    """Where documents are stored and queried. Implementations: whoosh_backend, postgres_backend."""

    name = "abstract"

    @abstractmethod
    def index(self, documents: Iterable[SearchDocument]) -> int:
        """Add or replace documents (by type and id); returns how many were written."""

    @abstractmethod
    def delete(self, doc_type: str, ref_ids: Iterable[int]) -> None:
        """Remove documents; unknown ids are ignored."""

    @abstractmethod
    def search(self, query: SearchQuery) -> SearchResults:
        """One page of hits, the total, and (when asked) counts per type and per community."""

    @abstractmethod
    def suggest(self, parsed: ParsedQuery, limit: int = 8,
                exclude_author_ids: frozenset[int] = frozenset()) -> list[SearchHit]:
        """As-you-type: documents matching the words typed, the last one as a prefix of a title word."""

    @abstractmethod
    def corrections(self, words: list[str]) -> dict[str, str]:
        """For misspelt words (not in the index), the closest title word within edit distance 2."""

    @abstractmethod
    def rebuild(self, documents: Iterable[SearchDocument]) -> int:
        """Replace the whole index with `documents`; readers see the old index until it is done."""

    @abstractmethod
    def count(self) -> int:
        """How many documents the index holds (cheap: used by /healthz)."""

    def problems(self) -> list[str]:
        """What an operator should fix about this index (for health checks); nothing by default."""
        return []

    def batch_count_refreshes(self, keys: list[str], force: bool = False) -> list[str]:
        """Take note of documents ("post:12", "product:3") whose counts changed; return the keys to re-index
        now (maybe none), sorted.

        The default re-indexes at once; a backend whose writes are expensive collects keys into batches.
        `force` returns everything still waiting.
        """
        return sorted(set(keys))
