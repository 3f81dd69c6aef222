"""SEARCH_BACKEND=postgres: one `search_documents` table every web host shares.

Documents are analysed in Python (app.search.text: jieba + stemmed English) and stored as a weighted
tsvector (A title, B tags, C names, D body) with a GIN index; queries are built as tsquery text from the
same tokens and ranked with ts_rank_cd using the weights in backend.FIELD_WEIGHTS. PostgreSQL's own text
parser is never involved, so Chinese and English behave exactly as in the Whoosh backend.

At scale (a common word matches a third of a million documents) two things cost: ranking every match and
counting every match. So:

- Totals and facet counts are exact up to EXACT_COUNT matches (a count that stops there); above that they
  are estimated from a fixed sample of the table (`TABLESAMPLE SYSTEM … REPEATABLE`), scaled, rounded to two
  significant figures and marked `total_exact=False` ("about 310 000 results").
- Up to EXACT_COUNT matches, every match is ranked with ts_rank_cd (cheap at that size).
- Up to RUM_MATCHES, with the RUM extension (Debian's postgresql-15-rum), whose index keeps each lexeme's
  positions and weights: `ORDER BY tsv <=> query LIMIT RANK_WINDOW` reads the best matches by the index's
  own rank, and those are ordered by ts_rank_cd with our weights (pages past the window follow the index).
  RUM still scores every match inside the index, so past RUM_MATCHES it is too slow as well.
- Above that (or without RUM): the newest CANDIDATES matches (found walking the primary key backwards,
  which stops early for a common word) are ranked; later pages go on by age. Suggestions always do this
  with SUGGEST_CANDIDATES. Without the extension the log and `flask search status` say what is missing.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import replace
from itertools import islice

from sqlalchemy import Engine, Float, and_, cast, delete, desc, func, literal, or_, select, text
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.sql.util import ClauseAdapter

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
from app.search.models import RUM_INDEX, SearchDocumentRow, SearchTerm, rum_available
from app.search.text import ParsedQuery, analyze, edit_distance, stem

log = logging.getLogger(__name__)

MAX_POSITION = 16383  # PostgreSQL's largest tsvector position
MAX_POSITIONS_PER_LEXEME = 64
FIELD_GAP = 100  # positions between fields, so a phrase never spans two fields
WRITE_BATCH = 1000
# ts_rank_cd takes weights for {D, C, B, A}: body, names, tags, title (scaled so the title counts 1.0).
_TOP = FIELD_WEIGHTS["title"]
RANK_WEIGHTS = "{" + ",".join(str(round(FIELD_WEIGHTS[name] / _TOP, 4))
                              for name in ("body", "names", "tags", "title")) + "}"
WEIGHT_OF = {"title": "A", "tags": "B", "names": "C", "body": "D"}
RANK_WINDOW = 200  # RUM: the best matches by the index's ranking that ts_rank_cd then orders (pages 1–10)
RUM_MATCHES = 20_000  # up to this many matches the RUM index ranks them all (its cost grows with the matches)
CANDIDATES = 500  # above it (or without RUM): the newest this many matches are ranked
SUGGEST_CANDIDATES = 200  # as-you-type suggestions (never counted): the newest this many matches, ranked
EXACT_COUNT = 1000  # totals and facets are counted exactly up to this many matches, estimated above it
SAMPLE_ROWS = 5_000  # about how many rows the estimate samples (a fixed sample: the same figure each time)
RUM_RECHECK_SECONDS = 300  # how often a process looks again whether the RUM index exists
NO_RUM = ("PostgreSQL search runs without the RUM index ({reason}): a query with more than 1 000 matches "
          "ranks only its newest 500. Install the extension (Debian: apt-get install postgresql-15-rum) and "
          "run `flask search install-rum`.")

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


def _about(number: float) -> int:
    """An estimate, rounded to two significant figures (309 133 → 310 000)."""
    number = int(round(number))
    if number < 100:
        return number
    scale = 10 ** (len(str(number)) - 2)
    return int(round(number / scale) * scale)



def _score(tsv, tsquery, query: SearchQuery):
    """ts_rank_cd with our weights; when synonyms widened the query, the words as typed count once more, so
    they rank above their synonyms."""
    weights = text(f"'{RANK_WEIGHTS}'::float4[]")
    rank = func.ts_rank_cd(weights, tsv, tsquery)
    if query.parsed.alternatives:
        exact = cast(literal(tsquery_text(replace(query.parsed, alternatives={}), query.any_term)), TSQUERY)
        rank = rank + func.ts_rank_cd(weights, tsv, exact)
    return rank.label("score")

class PostgresBackend(SearchBackend):
    name = "postgres"

    def __init__(self, engine: Engine, rum: bool = True):
        """`rum=False` never uses the RUM index (SEARCH_POSTGRES_RUM=off); by default it is used when present."""
        if engine.dialect.name != "postgresql":
            raise RuntimeError("SEARCH_BACKEND=postgres needs DATABASE_URL to point at PostgreSQL.")
        self.engine = engine
        self.rum_wanted = rum
        self._rum: bool | None = None
        self._rum_checked = 0.0
        self._warned = False

    # --- the RUM index --------------------------------------------------------------------------------------

    def rum_status(self, conn=None) -> str | None:
        """None when searches use the RUM index, else why they do not (for logs, `flask search status`)."""
        if not self.rum_wanted:
            return "SEARCH_POSTGRES_RUM=off"
        if conn is None:
            with self.engine.connect() as own:
                return self.rum_status(own)
        valid = conn.execute(text(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = :name "
            "AND c.relnamespace = (SELECT relnamespace FROM pg_class WHERE oid = 'search_documents'::regclass)"),
            {"name": RUM_INDEX}).scalar()
        if valid:
            return None
        if valid is False:
            return "the RUM index is being built or its build failed"
        if not rum_available(conn):
            return "the rum extension is not installed on the PostgreSQL server"
        return "the RUM index does not exist"

    def _uses_rum(self, conn) -> bool:
        now = time.monotonic()
        if self._rum is None or now - self._rum_checked > RUM_RECHECK_SECONDS:
            reason = self.rum_status(conn)
            self._rum, self._rum_checked = reason is None, now
            if reason and not self._warned and self.rum_wanted:
                log.warning(NO_RUM.format(reason=reason))
                self._warned = True
        return bool(self._rum)

    def problems(self) -> list[str]:
        """What an operator should fix (for a health check): nothing, or the missing RUM index."""
        reason = self.rum_status()
        return [NO_RUM.format(reason=reason)] if reason and self.rum_wanted else []

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
        with self.engine.connect() as conn:
            type_counts: dict[str, int] = {}
            community_counts: dict[str, dict[str, int]] = {}
            total, exact = None, True
            if query.facets:
                # One grouped count gives the facets and (without price or stock filters, which the groups
                # do not see) the total: no separate count over the matches.
                total = 0
                groups, exact = self._count(conn, tsquery, self._where(tsquery, [], query.exclude_author_ids),
                                            grouped=True)
                for (doc_type, community), number in groups.items():
                    type_counts[doc_type] = type_counts.get(doc_type, 0) + number
                    if community and doc_type in COMMUNITY_TYPES:
                        community_counts.setdefault(doc_type, {})[community] = number
                    if (not query.doc_type or doc_type == query.doc_type) and \
                            (not query.community_filter or community == query.community_filter):
                        total += number
                if query.product_filters:
                    counted, exact = self._count(conn, tsquery, where)
                    total = counted[None]
            elif count:
                counted, exact = self._count(conn, tsquery, where)
                total = counted[None]
            hits = self._hits(conn, query, tsquery, where, matches=total if exact else None, estimate=total)
            if total is None:
                total = query.offset + len(hits)  # nobody asked for a count (suggestions)
        if not exact:
            total = max(total, query.offset + len(hits))
        return SearchResults(hits, int(total or 0), type_counts, community_counts, total_exact=exact)

    def _hits(self, conn, query: SearchQuery, tsquery, where, matches: int | None,
              estimate: int | None) -> list[SearchHit]:
        """One page of hits. `matches`: the exact number of matches when known to be small (≤ EXACT_COUNT);
        `estimate`: the (estimated) number of matches, None when nobody counted."""
        rank = _score(table.c.tsv, tsquery, query)
        rum = self._uses_rum(conn)  # (checked on every search, so a missing index is logged at once)
        if query.sort in (SORT_NEW, SORT_TOP):
            order = ((desc(table.c.created_at), desc(table.c.ref_id)) if query.sort == SORT_NEW else
                     (desc(table.c.engagement), desc(table.c.created_at), desc(table.c.ref_id)))
        elif matches is not None:
            order = (desc("score"), desc(table.c.ref_id))  # few matches: rank them all
        elif rum and estimate is not None and estimate <= RUM_MATCHES:
            # The index's best RANK_WINDOW matches (ordered by the index's rank), ranked by ours.
            return self._window(conn, query, tsquery, where, table.c.tsv.op("<=>", return_type=Float)(tsquery))
        else:
            # Too many matches to rank them all: the newest CANDIDATES matches, ranked (then older ones by age).
            size = CANDIDATES if estimate is not None else SUGGEST_CANDIDATES
            return self._window(conn, query, tsquery, where, desc(table.c.id), size)
        statement = (select(table.c.doc_type, table.c.ref_id, table.c.title, rank).where(where)
                     .order_by(*order).offset(query.offset).limit(query.limit))
        return [SearchHit(row.doc_type, row.ref_id, float(row.score), row.title) for row in conn.execute(statement)]

    @staticmethod
    def _window(conn, query: SearchQuery, tsquery, where, key, size: int | None = None) -> list[SearchHit]:
        """Pages inside the first `size` matches by `key` are ranked by ts_rank_cd; later ones follow `key`."""
        size = size or RANK_WINDOW
        hits = []
        if query.offset < size:
            window = (select(table.c.doc_type, table.c.ref_id, table.c.title, table.c.tsv).where(where)
                      .order_by(key, desc(table.c.id)).limit(size).subquery())
            score = _score(window.c.tsv, tsquery, query)
            hits += conn.execute(select(window.c.doc_type, window.c.ref_id, window.c.title, score)
                                 .order_by(desc("score"), desc(window.c.ref_id)).offset(query.offset)
                                 .limit(min(query.limit, size - query.offset))).all()
        if query.offset + query.limit > size:
            start = max(query.offset, size)
            rank = _score(table.c.tsv, tsquery, query)
            hits += conn.execute(select(table.c.doc_type, table.c.ref_id, table.c.title, rank).where(where)
                                 .order_by(key, desc(table.c.id)).offset(start)
                                 .limit(query.offset + query.limit - start)).all()
        return [SearchHit(row.doc_type, row.ref_id, float(row.score), row.title) for row in hits]

    @staticmethod
    def _count(conn, tsquery, where, grouped: bool = False) -> tuple[dict, bool]:
        """Matches of `where`, per (doc_type, community) or under None: exact up to EXACT_COUNT, else estimated.

        The exact count stops at EXACT_COUNT + 1 matches. Past that, the same count over a fixed sample of
        the table (about SAMPLE_ROWS rows, the same pages every time), scaled up and rounded; a group the
        sample missed keeps what the stopped count saw, so no estimate is below what was seen.
        """
        bounded = select(table.c.id, table.c.doc_type, table.c.community).where(where).limit(EXACT_COUNT + 1).subquery()
        groups = (bounded.c.doc_type, bounded.c.community) if grouped else ()
        seen = {tuple(row[:-1]) if grouped else None: row[-1] for row in conn.execute(
            select(*groups, func.count()).select_from(bounded).group_by(*groups))}
        if sum(seen.values()) <= EXACT_COUNT:
            return seen, True
        rows = conn.exec_driver_sql("SELECT reltuples FROM pg_class WHERE oid = 'search_documents'::regclass").scalar()
        percent = min(100.0, 100.0 * SAMPLE_ROWS / max(float(rows or 0), 1.0))
        sample = table.tablesample(func.system(percent), name="sample", seed=literal(7))
        sample_keys = (sample.c.doc_type, sample.c.community) if grouped else ()
        statement = (select(*sample_keys, func.count().filter(ClauseAdapter(sample).traverse(where)), func.count())
                     .select_from(sample).group_by(*sample_keys))
        found: dict = {}
        sampled = 0
        for row in conn.execute(statement):
            sampled += row[-1]
            if row[-2]:
                found[tuple(row[:-2]) if grouped else None] = row[-2]
        scale = max(float(rows or 0), 1.0) / max(sampled, 1)
        estimate = {key: _about(max(number * scale, seen.get(key, 0))) for key, number in found.items()}
        for key, number in seen.items():
            estimate.setdefault(key, number)
        return estimate, False

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

