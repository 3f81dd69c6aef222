"""SEARCH_BACKEND=postgres: one `search_documents` table every web host shares.

Documents are analysed in Python (app.search.text: jieba + stemmed English) and stored as a weighted
tsvector (A title, B tags, C names, D body) with a GIN index; queries are built as tsquery text from the
same tokens and ranked with ts_rank_cd using the weights in backend.FIELD_WEIGHTS. PostgreSQL's own text
parser is never involved, so Chinese and English behave exactly as in the Whoosh backend.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from itertools import islice

from sqlalchemy import Engine, and_, cast, delete, desc, func, literal, or_, select, text
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.dialects.postgresql import insert as pg_insert

from app.search.backend import (
    COMMUNITY_TYPES,
    FIELD_WEIGHTS,
    SORT_NEW,
    SORT_TOP,
    SearchBackend,
    SearchDocument,
    SearchHit,
    SearchQuery,
    SearchResults,
)
from app.search.models import SearchDocumentRow, SearchTerm
from app.search.text import ParsedQuery, analyze, edit_distance, stem

MAX_POSITION = 16383  # PostgreSQL's largest tsvector position
MAX_POSITIONS_PER_LEXEME = 64
FIELD_GAP = 100  # positions between fields, so a phrase never spans two fields
WRITE_BATCH = 1000
# ts_rank_cd takes weights for {D, C, B, A}: body, names, tags, title (scaled so the title counts 1.0).
_TOP = FIELD_WEIGHTS["title"]
RANK_WEIGHTS = "{" + ",".join(str(round(FIELD_WEIGHTS[name] / _TOP, 4))
                              for name in ("body", "names", "tags", "title")) + "}"
WEIGHT_OF = {"title": "A", "tags": "B", "names": "C", "body": "D"}

table = SearchDocumentRow.__table__
terms_table = SearchTerm.__table__


def _quote(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector_text(doc: SearchDocument) -> str:
    """The document as tsvector input: 'lexeme':pos+weight,… in field order title, tags, names, body."""
    positions: dict[str, list[str]] = {}
    base = 1
    for name in ("title", "tags", "names", "body"):
        last = base
        for token in analyze(getattr(doc, name) or "", "index"):
            position = min(MAX_POSITION, base + token.pos)
            slots = positions.setdefault(token.text, [])
            if len(slots) < MAX_POSITIONS_PER_LEXEME:
                slots.append(f"{position}{WEIGHT_OF[name]}")
            last = position
        base = min(MAX_POSITION, last + FIELD_GAP)
    return " ".join(f"{_quote(lexeme)}:{','.join(slots)}" for lexeme, slots in positions.items())


def tsquery_text(parsed: ParsedQuery, any_term: bool = False) -> str:
    """The parsed query as tsquery input (AND of terms, <-> phrases, ! exclusions, :* prefix on titles only)."""
    parts = [" | ".join(_quote(word) for word in parsed.any_of(term)) for term in parsed.must]
    parts = [f"({part})" if "|" in part else part for part in parts]
    joined = " | ".join(parts) if any_term else " & ".join(parts)
    clauses = [f"({joined})"] if parts else []
    if not any_term:
        clauses += ["(" + " <-> ".join(_quote(word) for word in words) + ")" for words in parsed.phrases]
    if parsed.prefix:
        clauses.append(f"{_quote(parsed.prefix)}:*A")
    if parsed.must_not:
        clauses.append("!(" + " | ".join(_quote(term) for term in parsed.must_not) + ")")
    return " & ".join(clauses)


def _latin_words(doc: SearchDocument) -> set[str]:
    """The title's unstemmed English words: the vocabulary "did you mean" picks from (as with Whoosh)."""
    return {token.text for token in analyze(doc.title or "", "index", morph=False)
            if token.text.isascii() and token.text.isalpha() and 3 <= len(token.text) <= 40}


def _row(doc: SearchDocument) -> dict:
    return {"doc_type": doc.doc_type, "ref_id": doc.ref_id, "title": (doc.title or "")[:300],
            "community": doc.community, "author_id": doc.author_id, "kind": doc.kind, "rating": doc.rating,
            "created_at": doc.created_at, "engagement": doc.engagement, "price_cents": doc.price_cents,
            "in_stock": doc.in_stock, "tsv": tsvector_text(doc)}


def _batches(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


class PostgresBackend(SearchBackend):
    name = "postgres"

    def __init__(self, engine: Engine):
        if engine.dialect.name != "postgresql":
            raise RuntimeError("SEARCH_BACKEND=postgres needs DATABASE_URL to point at PostgreSQL.")
        self.engine = engine

    # --- writing --------------------------------------------------------------------------------------------

    @staticmethod
    def _write(conn, documents: list[SearchDocument], upsert: bool) -> None:
        rows = [_row(doc) for doc in documents]
        statement = pg_insert(table)
        if upsert:
            statement = statement.on_conflict_do_update(
                index_elements=["doc_type", "ref_id"],
                set_={name: statement.excluded[name] for name in rows[0] if name not in ("doc_type", "ref_id")})
        conn.execute(statement, rows)
        words = sorted(set().union(*(_latin_words(doc) for doc in documents)))
        if words:  # sorted, so two writers lock the same words in the same order
            conn.execute(pg_insert(terms_table).on_conflict_do_nothing(), [{"term": word} for word in words])

    def index(self, documents: Iterable[SearchDocument]) -> int:
        count = 0
        with self.engine.begin() as conn:
            for batch in _batches(documents, WRITE_BATCH):
                # Rows in a stable order, so concurrent upserts of overlapping batches cannot deadlock.
                batch.sort(key=lambda doc: (doc.doc_type, doc.ref_id))
                self._write(conn, batch, upsert=True)
                count += len(batch)
        return count

    def delete(self, doc_type: str, ref_ids: Iterable[int]) -> None:
        ids = list(ref_ids)
        if ids:
            with self.engine.begin() as conn:
                conn.execute(delete(table).where(table.c.doc_type == doc_type, table.c.ref_id.in_(ids)))

    def rebuild(self, documents: Iterable[SearchDocument]) -> int:
        count = 0
        with self.engine.begin() as conn:  # one transaction: readers see the old index until it commits
            conn.execute(delete(table))
            conn.execute(delete(terms_table))
            for batch in _batches(documents, WRITE_BATCH):
                self._write(conn, batch, upsert=True)
                count += len(batch)
        return count

    def count(self) -> int:
        with self.engine.connect() as conn:
            estimate = conn.scalar(text("SELECT reltuples::bigint FROM pg_class "
                                        "WHERE oid = 'search_documents'::regclass"))
            if estimate is not None and estimate > 100_000:
                return int(estimate)  # count(*) of a large table is a full scan; /healthz must stay cheap
            return int(conn.scalar(select(func.count()).select_from(table)))

    # --- querying -------------------------------------------------------------------------------------------

    @staticmethod
    def _where(tsquery, query_filters: list, exclude_author_ids: frozenset[int]):
        conditions = [table.c.tsv.op("@@")(tsquery), *query_filters]
        if exclude_author_ids:
            conditions.append(or_(table.c.author_id.is_(None), table.c.author_id.not_in(sorted(exclude_author_ids))))
        return and_(*conditions)

    def search(self, query: SearchQuery) -> SearchResults:
        return self._search(query, count=True)

    def _search(self, query: SearchQuery, count: bool) -> SearchResults:
        if query.parsed.empty:
            return SearchResults([], 0)
        tsquery = cast(literal(tsquery_text(query.parsed, query.any_term)), TSQUERY)
        rank = func.ts_rank_cd(text(f"'{RANK_WEIGHTS}'::float4[]"), table.c.tsv, tsquery)
        if query.parsed.alternatives:  # the words as typed rank above their synonyms
            exact = cast(literal(tsquery_text(replace(query.parsed, alternatives={}), query.any_term)), TSQUERY)
            rank = rank + func.ts_rank_cd(text(f"'{RANK_WEIGHTS}'::float4[]"), table.c.tsv, exact)
        rank = rank.label("score")
        filters = []
        if query.doc_type:
            filters.append(table.c.doc_type == query.doc_type)
        if query.community_filter:
            filters.append(table.c.community == query.community_filter)
        if query.product_filters:
            filters.append(table.c.price_cents >= (query.min_price_cents or 0))
            if query.max_price_cents is not None:
                filters.append(table.c.price_cents <= query.max_price_cents)
            if query.in_stock_only:
                filters.append(table.c.in_stock.is_(True))
        where = self._where(tsquery, filters, query.exclude_author_ids)
        if query.sort == SORT_NEW:
            order = (desc(table.c.created_at), desc(table.c.ref_id))
        elif query.sort == SORT_TOP:
            order = (desc(table.c.engagement), desc(table.c.created_at), desc(table.c.ref_id))
        else:
            order = (desc("score"), desc(table.c.ref_id))
        statement = (select(table.c.doc_type, table.c.ref_id, table.c.title, rank).where(where)
                     .order_by(*order).offset(query.offset).limit(query.limit))
        with self.engine.connect() as conn:
            hits = [SearchHit(row.doc_type, row.ref_id, float(row.score), row.title)
                    for row in conn.execute(statement)]
            type_counts: dict[str, int] = {}
            community_counts: dict[str, dict[str, int]] = {}
            if query.facets:
                # One grouped count gives the facets and (without price or stock filters, which the groups
                # do not see) the total: no separate count(*) over the matches.
                total = 0
                grouped = conn.execute(
                    select(table.c.doc_type, table.c.community, func.count())
                    .where(self._where(tsquery, [], query.exclude_author_ids))
                    .group_by(table.c.doc_type, table.c.community))
                for doc_type, community, count in grouped:
                    type_counts[doc_type] = type_counts.get(doc_type, 0) + count
                    if community and doc_type in COMMUNITY_TYPES:
                        community_counts.setdefault(doc_type, {})[community] = count
                    if (not query.doc_type or doc_type == query.doc_type) and \
                            (not query.community_filter or community == query.community_filter):
                        total += count
                if query.product_filters:
                    total = conn.scalar(select(func.count()).select_from(table).where(where))
            elif not count or (len(hits) < query.limit and (hits or not query.offset)):
                total = query.offset + len(hits)  # the last page (or nobody asked): no need to count
            else:
                total = conn.scalar(select(func.count()).select_from(table).where(where))
        return SearchResults(hits, int(total or 0), type_counts, community_counts)

    def suggest(self, parsed: ParsedQuery, limit: int = 8,
                exclude_author_ids: frozenset[int] = frozenset()) -> list[SearchHit]:
        if parsed.empty:
            return []
        return self._search(SearchQuery(parsed, doc_type=None, limit=limit,
                                        exclude_author_ids=exclude_author_ids), count=False).hits

    def corrections(self, words: list[str]) -> dict[str, str]:
        words = [w for w in words if len(w) >= 3 and w.isascii() and w.isalpha()]
        if not words:
            return {}
        fixes: dict[str, str] = {}
        with self.engine.connect() as conn:
            known = set(conn.scalars(select(terms_table.c.term).where(terms_table.c.term.in_(words))))
            for word in words:
                if word in known:
                    continue
                if conn.scalar(select(func.count()).select_from(table).where(
                        table.c.tsv.op("@@")(cast(literal(_quote(stem(word))), TSQUERY)))):
                    continue  # another form of the word is indexed
                candidates = conn.scalars(select(terms_table.c.term).where(
                    terms_table.c.term.like(word[0] + "%"),
                    func.length(terms_table.c.term).between(len(word) - 2, len(word) + 2)).limit(20_000))
                scored = sorted((edit_distance(word, candidate), abs(len(candidate) - len(word)), candidate)
                                for candidate in candidates)
                if scored and scored[0][0] <= 2:
                    fixes[word] = scored[0][2]
        return fixes

