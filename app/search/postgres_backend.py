"""SEARCH_BACKEND=postgres: one `search_documents` table every web host shares.

Documents are analysed in Python (app.search.text: jieba + stemmed English) and stored as a weighted
tsvector (A title, B tags, C names, D body) with a GIN index; queries are built as tsquery text from the
same tokens and ranked with ts_rank_cd using the weights in backend.FIELD_WEIGHTS. PostgreSQL's own text
parser is never involved, so Chinese and English behave exactly as in the Whoosh backend.

At scale (a common word matches a third of a million documents) three things cost: ranking every match,
counting every match, and the GIN index itself when several common words must all match (it walks each
word's whole posting list: 140–180 ms for three words in a third of the notes each at 1M). So a search
reads a fixed sample first and decides from it:

- The sample: a fixed ~SAMPLE_ROWS rows of the table (`TABLESAMPLE SYSTEM … REPEATABLE`, the same pages
  every time), grouped by type and community. When it holds at least SAMPLE_SURE matches the query surely has
  more than EXACT_COUNT, so the total and the facets are the sample's counts scaled up, rounded to two
  significant figures and marked `total_exact=False` ("about 310 000 results"), and nothing counts the matches.
- Otherwise the matches are counted exactly with a count that stops at EXACT_COUNT (rare words: the GIN
  index is cheap); above that the sample's estimate stands, never below what the count saw.
- Up to EXACT_COUNT matches every match is ranked with ts_rank_cd.
- Above that the newest CANDIDATES matches are ranked (later pages go on by age). They are read walking the
  primary key backwards through at most the newest WALK_ROWS documents, so the work is bounded whatever the
  words: a rarer query ranks the fewer matches found there, and only when those are too few for the page does
  every match come from the GIN index's bitmap. Suggestions rank the newest SUGGEST_CANDIDATES matches of the
  words typed, with the last word as a prefix of a title word (TITLE_MARK), found the same way.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import replace
from itertools import islice

from sqlalchemy import Engine, and_, cast, delete, desc, func, literal, or_, select, text
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
from app.search.models import SearchDocumentRow, SearchTerm
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
# Each Latin word of a title is stored a second time as typed (not stemmed) and marked "^word", so an as-you-type
# prefix on titles is a plain GIN lookup ('^cozy':*) instead of 'cozy':*A, whose weight the GIN index cannot
# check without reading every row (and which missed "cozy" itself, indexed as its stem "cozi").
# Tokens never contain "^", so no query word can match these.
TITLE_MARK = "^"
CANDIDATES = 500  # above EXACT_COUNT matches: the newest this many matches are ranked
SUGGEST_CANDIDATES = 200  # as-you-type suggestions (never counted): the newest this many matches, ranked
EXACT_COUNT = 1000  # totals and facets are counted exactly up to this many matches, estimated above it
SAMPLE_ROWS = 5_000  # about how many rows the estimate samples (a fixed sample: the same figure each time)
SAMPLE_SURE = 10  # sampled matches (and an estimate of twice EXACT_COUNT) from which nothing is counted exactly
TABLE_SECONDS = 60  # how long a process trusts its reading of the table's rows (the sample's size) and max id
WALK_ROWS = 20_000  # the newest candidates are looked for among at most this many newest documents

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
        if name == "title":  # the title's Latin words again, as typed (not stemmed) and marked
            for token in analyze(doc.title or "", "index", morph=False):
                if token.text.isascii():
                    slots = positions.setdefault(TITLE_MARK + token.text, [])
                    if len(slots) < MAX_POSITIONS_PER_LEXEME:
                        slots.append(f"{min(MAX_POSITION, base + token.pos)}A")
        base = min(MAX_POSITION, last + FIELD_GAP)
    return " ".join(f"{_quote(lexeme)}:{','.join(slots)}" for lexeme, slots in positions.items())


def tsquery_text(parsed: ParsedQuery, any_term: bool = False) -> str:
    """The parsed query as tsquery input (AND of terms, <-> phrases, ! exclusions, ^prefix:* on title words)."""
    parts = [" | ".join(_quote(word) for word in parsed.any_of(term)) for term in parsed.must]
    parts = [f"({part})" if "|" in part else part for part in parts]
    joined = " | ".join(parts) if any_term else " & ".join(parts)
    clauses = [f"({joined})"] if parts else []
    if not any_term:
        clauses += ["(" + " <-> ".join(_quote(word) for word in words) + ")" for words in parsed.phrases]
    if parsed.prefix:  # a prefix of a title word: the title's words are also stored marked (TITLE_MARK)
        clauses.append(f"{_quote(TITLE_MARK + parsed.prefix)}:*")
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


def _plan(conn, walk: bool | None, first: bool = False) -> None:
    """For the rest of the search's transaction the planner reads matches walking an index in order (`walk`),
    through a bitmap (False) or as it likes (None). `first`: also no parallel workers, which cost more to start
    than these bounded statements take (and on a busy host queue for cores), and no JIT compilation (its
    milliseconds are spent on statements that stop early). One round trip: statements
    without parameters go as one simple query."""
    if conn.info.get("search_walk", "unset") == walk and not first:
        return
    settings = ["max_parallel_workers_per_gather = 0", "jit = off"] if first else []
    settings += [f"enable_bitmapscan = {'off' if walk else 'on'}", f"enable_seqscan = {'off' if walk else 'on'}",
                 f"enable_indexscan = {'off' if walk is False else 'on'}"]
    conn.exec_driver_sql("; ".join(f"SET LOCAL {setting}" for setting in settings))
    conn.info["search_walk"] = walk


class PostgresBackend(SearchBackend):
    name = "postgres"

    def __init__(self, engine: Engine):
        if engine.dialect.name != "postgresql":
            raise RuntimeError("SEARCH_BACKEND=postgres needs DATABASE_URL to point at PostgreSQL.")
        self.engine = engine
        self._table_read: tuple[float, float, int] | None = None  # (when, reltuples, max id)

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
            _plan(conn, walk=True, first=True)  # the sample, then the newest matches: walking, as a rule
            type_counts: dict[str, int] = {}
            community_counts: dict[str, dict[str, int]] = {}
            total, exact = None, True
            if query.facets:
                # One grouped count gives the facets and (without price or stock filters, which the groups
                # do not see) the total: no separate count over the matches.
                total = 0
                groups, exact = self._count(conn, self._where(tsquery, [], query.exclude_author_ids),
                                            grouped=True)
                for (doc_type, community), number in groups.items():
                    type_counts[doc_type] = type_counts.get(doc_type, 0) + number
                    if community and doc_type in COMMUNITY_TYPES:
                        community_counts.setdefault(doc_type, {})[community] = number
                    if (not query.doc_type or doc_type == query.doc_type) and \
                            (not query.community_filter or community == query.community_filter):
                        total += number
                if query.product_filters:
                    counted, exact = self._count(conn, where)
                    total = counted.get(None, 0)
            elif count:
                counted, exact = self._count(conn, where)
                total = counted.get(None, 0)
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
        if query.sort in (SORT_NEW, SORT_TOP):
            _plan(conn, walk=None)
            order = ((desc(table.c.created_at), desc(table.c.ref_id)) if query.sort == SORT_NEW else
                     (desc(table.c.engagement), desc(table.c.created_at), desc(table.c.ref_id)))
        elif matches is not None:
            order = (desc("score"), desc(table.c.ref_id))  # few matches: rank them all
        elif estimate is None:  # suggestions (nothing counted): the same bounded walk
            return self._window(conn, query, tsquery, where, SUGGEST_CANDIDATES, walk_rows=WALK_ROWS)
        else:
            # Too many matches to rank them all: the newest CANDIDATES, ranked (then older ones by age), read
            # walking the primary key backwards through at most the newest WALK_ROWS documents (bounded work
            # whatever the words). Rarer matches: fewer candidates, or every match from the GIN index when the
            # newest documents do not hold enough for the page.
            return self._window(conn, query, tsquery, where, CANDIDATES, walk_rows=WALK_ROWS)
        statement = (select(table.c.doc_type, table.c.ref_id, table.c.title, rank).where(where)
                     .order_by(*order).offset(query.offset).limit(query.limit))
        return [SearchHit(row.doc_type, row.ref_id, float(row.score), row.title) for row in conn.execute(statement)]

    def _window(self, conn, query: SearchQuery, tsquery, where, size: int,
                walk_rows: int | None = None) -> list[SearchHit]:
        """The newest `size` matches ranked by ts_rank_cd; pages past them follow by age.

        `walk_rows`: the newest matches are looked for walking the primary key down through at most that many
        documents (their count is bounded, not the matches'); when those hold fewer matches than the page
        needs, every match comes from the GIN index's bitmap instead and the newest `size` are kept."""
        score = _score(table.c.tsv, tsquery, query)
        columns = (table.c.doc_type, table.c.ref_id, table.c.title, score)
        if walk_rows:
            # (ids are dense enough: deleted documents only make the walk shorter, newer ones longer)
            cutoff = self._table(conn)[1] - walk_rows
            _plan(conn, walk=True)
            rows = conn.execute(select(*columns).where(where, table.c.id >= cutoff)
                                .order_by(desc(table.c.id)).limit(size)).all()
            if len(rows) < min(size, query.offset + query.limit):
                _plan(conn, walk=False)  # sorted by id + 0: by id, but not along the primary key
                ids = select(table.c.id).where(where).order_by(desc(table.c.id + 0)).limit(size).subquery()
                rows = conn.execute(select(*columns).join(ids, ids.c.id == table.c.id)).all()
        else:
            rows = conn.execute(select(*columns).where(where).order_by(desc(table.c.id)).limit(size)).all()
        window = sorted(rows, key=lambda row: (-row.score, -row.ref_id))
        hits = window[query.offset:query.offset + query.limit]
        if query.offset + query.limit > len(window):  # past the window: by age
            start = max(query.offset, len(window))
            hits += conn.execute(select(*columns).where(where).order_by(desc(table.c.id)).offset(start)
                                 .limit(query.offset + query.limit - start)).all()
        return [SearchHit(row.doc_type, row.ref_id, float(row.score), row.title) for row in hits]

    def _table(self, conn) -> tuple[float, int]:
        """The table's rows as the planner last estimated them, and its largest id (read every TABLE_SECONDS)."""
        now = time.monotonic()
        if self._table_read is None or now - self._table_read[0] > TABLE_SECONDS:
            rows, last = conn.exec_driver_sql(
                "SELECT reltuples, (SELECT max(id) FROM search_documents) FROM pg_class "
                "WHERE oid = 'search_documents'::regclass").one()
            self._table_read = (now, float(rows or 0), int(last or 0))
        return self._table_read[1:]

    def _count(self, conn, where, grouped: bool = False) -> tuple[dict, bool]:
        """Matches of `where`, per (doc_type, community) or under None: exact up to EXACT_COUNT, else estimated.

        First the same count over a fixed sample of the table (about SAMPLE_ROWS rows, the same pages every
        time). When that finds SAMPLE_SURE matches or more, and scaled up at least twice EXACT_COUNT, its
        figures (scaled and rounded) are the answer: the query surely has more than EXACT_COUNT matches, and
        counting them would read every match. Else a count that stops at EXACT_COUNT + 1 matches; past that,
        the sample's estimate, where a group the sample missed keeps what the stopped count saw, so no
        estimate is below what was seen.
        """
        rows = self._table(conn)[0]
        percent = min(100.0, 100.0 * SAMPLE_ROWS / max(rows, 1.0))
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
        rows = max(rows, float(sampled))  # (a table never analysed says -1 or 0)
        scale = rows / max(sampled, 1)
        in_sample = sum(found.values())
        if percent < 100 and in_sample >= SAMPLE_SURE and in_sample * scale >= 2 * EXACT_COUNT:
            return {key: _about(number * scale) for key, number in found.items()}, False
        _plan(conn, walk=False)  # few matches, by the sample: the GIN index finds them
        bounded = select(table.c.id, table.c.doc_type, table.c.community).where(where).limit(EXACT_COUNT + 1).subquery()
        groups = (bounded.c.doc_type, bounded.c.community) if grouped else ()
        seen = {tuple(row[:-1]) if grouped else None: row[-1] for row in conn.execute(
            select(*groups, func.count()).select_from(bounded).group_by(*groups))}
        if sum(seen.values()) <= EXACT_COUNT:
            return seen, True
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

