"""The embedded search backend: a Whoosh index in instance/search.

Writing. Whoosh allows one writer at a time per index. Every write here (incremental or rebuild) goes
through `_writer()`, which waits for the index's lock file with retries (up to LOCK_TIMEOUT seconds), so
any number of gunicorn workers, RQ workers and CLI runs can write: they queue on the lock instead of
failing or corrupting the index. Every segment is written by `ColumnarCodec`, which adds packed posting
and per-document arrays to it (app.search.whoosh_columns).

Reading. Readers never take the lock. Each process keeps the current index generation (the segment list
from the TOC) with the memory-mapped columns of its segments, and compares it with the directory on every
query (one listdir), so a commit by any process is seen by the next query and unchanged segments are never
reopened. A commit deletes the TOC it replaces and the segments it merged away, so opening the index or a
generation goes through `_retry_when_replaced`, which reads again what another process's commit removed.
Searches, suggestions and spelling run on those columns with numpy, with exact totals and facet counts.
Phrase queries (which need positions) and indexes written before the columns existed use Whoosh's own
matchers, stopped after QUERY_TIME_LIMIT seconds so no query runs away; a stopped query reports its total
as a lower bound (`total_exact=False`). `flask search reindex` upgrades an old index.
"""
from __future__ import annotations

import fcntl
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import numpy as np
from whoosh import collectors, sorting
from whoosh import index as whoosh_index
from whoosh.analysis import Token, Tokenizer
from whoosh.columns import NumericColumn
from whoosh.fields import COLUMN, ID, NUMERIC, STORED, TEXT, Schema
from whoosh.index import LockError
from whoosh.matching.binary import AndNotMatcher
from whoosh.query import And, AndNot, Every, NullQuery, NumericRange, Or, Phrase, Prefix, Require, Term
from whoosh.searching import TimeLimit
from whoosh.writing import CLEAR

from app.core.clock import now
from app.search.backend import (
    COMMUNITY_TYPES,
    DOC_POST,
    FIELD_WEIGHTS,
    SORT_NEW,
    SORT_TOP,
    SearchBackend,
    SearchDocument,
    SearchHit,
    SearchQuery,
    SearchResults,
)
from app.search.text import ParsedQuery, analyze, stem
from app.search.whoosh_columns import ColumnarCodec, SegmentColumns, SegmentView, deleted_mask
from app.search.whoosh_query import ColumnarIndex

log = logging.getLogger(__name__)

FIELD_MARK, BOOST_MARK = "\x1e", "\x1f"  # separate the weighted parts of the content field
FIELD_GAP = 100  # positions between parts, so a phrase never spans two of them
LOCK_TIMEOUT = 60.0  # seconds a writer waits for another process's commit before giving up
LOCK_DELAY = 0.05
INDEX_NAME = "tastemaker"
QUERY_TIME_LIMIT = 1.0  # seconds a query on Whoosh's own matchers may run before it stops with what it has
COUNTS_FILE = "pending-counts"  # keys of documents whose counts (likes, sales, stock) wait for one commit
COUNTS_DELAY = 10.0  # seconds a batch of count refreshes collects ids before it is written
COUNTS_BATCH = 1000  # ...or as many ids
OPEN_ATTEMPTS = 5  # reads of the index's TOC and segments, when another process's commit removed them meanwhile

T = TypeVar("T")


class BilingualTokenizer(Tokenizer):
    """Whoosh face of app.search.text.analyze (jieba for Chinese, stemmed English, one field).

    A value may carry weighted parts ("4\x1f<title>\x1e1\x1f<body>"): each token's boost is its part's
    weight, so one `content` field scores like several weighted fields (BM25F sums the boosts as the term
    frequency) at the cost of one posting list per term instead of one per field.
    """

    is_morph = True
    stem = True

    def __eq__(self, other):
        return other.__class__ is self.__class__

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        morph = self.stem and not (kwargs.get("nomorph") or kwargs.get("no_morph"))
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        parts = [part.partition(BOOST_MARK) for part in value.split(FIELD_MARK)] if BOOST_MARK in value else \
            [("1", "", value)]
        offset = start_pos
        for boost, _mark, text in parts:
            last = offset
            for item in analyze(text, "query" if mode == "query" else "index", morph=morph):
                token.text = item.text
                token.boost = float(boost)
                token.stopped = False
                if keeporiginal:
                    token.original = item.text
                if positions:
                    token.pos = last = offset + item.pos
                if chars:
                    token.startchar = start_char + item.start
                    token.endchar = start_char + item.end
                yield token
            offset = last + FIELD_GAP


class BilingualWordTokenizer(BilingualTokenizer):
    """The same without stemming: title words as written, for prefixes and "did you mean"."""

    is_morph = False
    stem = False


def make_schema() -> Schema:
    """The index's fields. Numbers are stored or kept as columns, not indexed: nothing queries them by range,
    and a NUMERIC field would index 16 terms per 64-bit value (half of all postings)."""
    analyzer = BilingualTokenizer()
    return Schema(
        key=ID(unique=True, stored=True),
        doc_type=ID(stored=True, sortable=True),
        ref_id=STORED(),
        # Unstemmed words for as-you-type prefixes and spelling. (Not spelling=True on `content`: Whoosh's
        # separate spelling field costs a file stat per posting when indexing, and a second analysis.)
        title=TEXT(analyzer=BilingualWordTokenizer()),
        content=TEXT(analyzer=analyzer),  # title, tags, names and body, weighted
        community=ID(stored=True, sortable=True),
        author_id=ID(stored=True),
        kind=ID(stored=True),
        rating=STORED(),
        # Products only. Indexed so Whoosh's own matchers can filter by them too (few documents have them).
        price=NUMERIC(int, bits=32, signed=False, stored=True),
        in_stock=ID(stored=True),
        created=COLUMN(NumericColumn("q")),
        engagement=COLUMN(NumericColumn("q")),
    )


def _has_current_schema(schema: Schema) -> bool:
    """Indexes made before the columns (or products) existed keep their old schema until `flask search
    reindex`; their queries use Whoosh's matchers."""
    return "created" in schema and isinstance(schema["created"], COLUMN) and "price" in schema


def _content(doc: SearchDocument) -> str:
    parts = []
    for name, weight in FIELD_WEIGHTS.items():
        text = (getattr(doc, name) or "").replace(FIELD_MARK, " ").replace(BOOST_MARK, " ")
        parts.append(f"{weight:g}{BOOST_MARK}{text}")
    return FIELD_MARK.join(parts)


def _fields(doc: SearchDocument) -> dict:
    fields = {
        "key": doc.key, "doc_type": doc.doc_type, "ref_id": doc.ref_id, "title": doc.title or "",
        "content": _content(doc),
        "community": doc.community or "", "author_id": str(doc.author_id) if doc.author_id else "",
        "kind": doc.kind or "", "rating": doc.rating or 0,
        "created": int(doc.created_at.timestamp()) if doc.created_at else 0, "engagement": doc.engagement,
    }
    if doc.price_cents is not None:  # a field left out is not indexed, stored or passed to the columns
        fields["price"] = max(0, int(doc.price_cents))
    if doc.in_stock is not None:
        fields["in_stock"] = "1" if doc.in_stock else "0"
    return fields


class _SegmentGone(FileNotFoundError):
    """A segment of the TOC being read was merged away (its files deleted) by a newer commit."""


def _retry_when_replaced(open_once: Callable[[], T]) -> T:
    """The one way to open the index or a generation of it: call `open_once`, again if it failed because
    another process committed meanwhile. A commit writes the new TOC and then deletes the old TOC and the
    segments it merged away, so a reader that listed the directory just before finds them gone."""
    for attempt in range(1, OPEN_ATTEMPTS):
        try:
            return open_once()
        except (OSError, EOFError):
            time.sleep(0.01 * attempt)
    return open_once()


def _warn_no_columns(segment_id: str, exc: Exception) -> None:
    log.warning("search: segment %s has no usable columns (%s); queries use Whoosh's matchers "
                "until `flask search reindex`", segment_id, exc)


_indexes: dict[str, whoosh_index.Index] = {}
_indexes_lock = threading.Lock()


class _ExcludingMatcher(AndNotMatcher):
    """Whoosh's AndNotMatcher checks its first document against the excluded side only when both start on
    the same document, so a match whose predecessors were deleted slipped through; check it always."""

    def _find_first(self):
        if self.a.is_active() and self.b.is_active():
            self._find_next()


class _Excluding(AndNot):
    def matcher(self, searcher, context=None):
        excluded = self.b.matcher(searcher, searcher.boolean_context())
        return _ExcludingMatcher(self.a.matcher(searcher, context), excluded)


class _Generation:
    """What one process knows about one committed state of the index."""

    def __init__(self, ix: whoosh_index.Index, number: int, segments: list, columns: ColumnarIndex | None):
        self.ix = ix
        self.number = number
        self.segments = segments
        self.columns = columns  # None: some segment has no columns, so queries use Whoosh's matchers
        self.local = threading.local()  # a Whoosh searcher per thread, opened on first need (not thread-safe)

    def searcher(self):
        searcher = getattr(self.local, "searcher", None)
        if searcher is None:
            searcher = self.local.searcher = _retry_when_replaced(self.ix.searcher)
        return searcher


class _DeadlineCollector(collectors.WrappingCollector):
    """Stops the wrapped collector after `seconds` (checked between documents; no signals, so safe in threads)
    and counts the matches it saw."""

    def __init__(self, child, seconds: float):
        super().__init__(child)
        self.seconds = seconds
        self.seen = 0

    def prepare(self, top_searcher, q, context):
        super().prepare(top_searcher, q, context)
        self.deadline = time.monotonic() + self.seconds

    def collect_matches(self):
        child = self.child
        for sub_docnum in child.matches():
            child.collect(sub_docnum)
            self.seen += 1
            if not self.seen % 256 and time.monotonic() > self.deadline:
                raise TimeLimit

    def results(self):
        return self.child.results()


def _run_bounded(searcher, query, collector, seconds: float | None = None) -> tuple[_DeadlineCollector, bool]:
    """Run `collector` for at most `seconds` (QUERY_TIME_LIMIT); returns it and whether it saw every match."""
    bounded = _DeadlineCollector(collector, QUERY_TIME_LIMIT if seconds is None else max(0.0, seconds))
    try:
        searcher.search_with_collector(query, bounded)
    except TimeLimit:
        log.warning("search: query %r stopped after %.1f s", query, bounded.seconds)
        return bounded, False
    return bounded, True


class WhooshBackend(SearchBackend):
    name = "whoosh"

    def __init__(self, directory: Path | str):
        self.directory = Path(directory)
        self._lock = threading.Lock()
        self._generation: _Generation | None = None
        self._segment_columns: dict[str, SegmentColumns | None] = {}
        self._deleted: dict[tuple[str, int], np.ndarray | None] = {}

    # --- opening ------------------------------------------------------------------------------------------

    def _index(self) -> whoosh_index.Index:
        key = str(self.directory)
        with _indexes_lock:
            ix = _indexes.get(key)
            if ix is None or not self.directory.exists():
                ix = self._open_or_create()
                _indexes[key] = ix
            return ix

    def _open_or_create(self) -> whoosh_index.Index:
        self.directory.mkdir(parents=True, exist_ok=True)
        # Two processes creating the index at once would wipe each other's first segment.
        with open(self.directory / ".create.lock", "w") as guard:
            fcntl.flock(guard, fcntl.LOCK_EX)
            try:
                return _retry_when_replaced(self._open_or_create_once)
            finally:
                fcntl.flock(guard, fcntl.LOCK_UN)

    def _open_or_create_once(self) -> whoosh_index.Index:
        # Both read the latest TOC, which a commit in another process may delete between listing and reading.
        if whoosh_index.exists_in(str(self.directory), indexname=INDEX_NAME):
            return whoosh_index.open_dir(str(self.directory), indexname=INDEX_NAME)
        return whoosh_index.create_in(str(self.directory), make_schema(), indexname=INDEX_NAME)

    def _columns(self, storage, segment) -> SegmentColumns | None:
        """A segment's columns, opened once per process (segments never change); None for an old segment."""
        segment_id = segment.segment_id()
        if segment_id not in self._segment_columns:
            try:
                columns = SegmentColumns(storage, segment)
                if columns.doc_count != segment.doc_count_all():
                    raise ValueError("side files do not match the segment")
            except FileNotFoundError as exc:
                if not any(name.startswith(f"{segment_id}.") for name in storage.list()):
                    raise _SegmentGone(f"segment {segment_id} was merged away") from exc
                _warn_no_columns(segment_id, exc)
                columns = None
            except (NameError, KeyError, ValueError, OSError) as exc:
                _warn_no_columns(segment_id, exc)
                columns = None
            self._segment_columns[segment_id] = columns
        return self._segment_columns[segment_id]

    def _deleted_mask(self, segment, columns: SegmentColumns) -> np.ndarray | None:
        key = (segment.segment_id(), segment.deleted_count())
        if key not in self._deleted:
            self._deleted[key] = deleted_mask(segment, columns.doc_count)
        return self._deleted[key]

    def _columnar(self, ix, toc) -> ColumnarIndex | None:
        views, base, usable = [], 0, _has_current_schema(toc.schema)
        for segment in toc.segments:
            columns = self._columns(ix.storage, segment) if usable else None
            if columns is None:
                usable = False
            else:
                views.append(SegmentView(columns, self._deleted_mask(segment, columns), base))
            base += segment.doc_count_all()
        # Forget segments merged away: their maps close once no query uses them.
        live = {segment.segment_id() for segment in toc.segments}
        self._segment_columns = {k: v for k, v in self._segment_columns.items() if k in live}
        self._deleted = {k: v for k, v in self._deleted.items() if k[0] in live}
        return ColumnarIndex(views) if usable else None

    def _current(self) -> _Generation:
        """The latest committed generation (one listdir to check; reopened only when it changed)."""
        ix = self._index()
        number = ix.latest_generation()
        current = self._generation
        if current is not None and current.ix is ix and current.number == number:
            return current
        with self._lock:
            current = self._generation
            if current is None or current.ix is not ix or current.number != number:
                current = self._generation = _retry_when_replaced(lambda: self._open_generation(ix))
        return current

    def _open_generation(self, ix) -> _Generation:
        toc = ix._read_toc()  # the segment list, without opening any segment
        return _Generation(ix, toc.generation, toc.segments, self._columnar(ix, toc))

    # --- writing --------------------------------------------------------------------------------------------

    @contextmanager
    def _writer(self, **kwargs) -> Iterator:
        """The one way to write: wait for the lock (retrying), then commit or cancel."""
        ix = self._index()
        deadline = time.monotonic() + LOCK_TIMEOUT
        while True:
            try:
                writer = ix.writer(timeout=min(5.0, LOCK_TIMEOUT), delay=LOCK_DELAY, codec=ColumnarCodec(),
                                   **kwargs)
                break
            except LockError:
                if time.monotonic() > deadline:
                    raise
        try:
            yield writer
        except BaseException:
            writer.cancel()
            raise

    def _delete_existing(self, writer, doc_type: str, ref_ids: list[int]) -> None:
        """Mark the documents of these ids deleted, found through the columns instead of a Whoosh searcher
        (which would reopen every segment of the index for each write)."""
        if not ref_ids:
            return
        with self._lock:
            all_columns = [self._columns(writer.storage, segment) for segment in writer.segments]
        if not _has_current_schema(writer.schema) or any(columns is None for columns in all_columns):
            for ref_id in ref_ids:
                writer.delete_by_term("key", f"{doc_type}:{ref_id}")
            return
        wanted = np.array(sorted(set(ref_ids)), dtype=np.int64)
        base = 0
        for segment, columns in zip(writer.segments, all_columns, strict=True):
            code = columns.code(columns.types, doc_type)
            if code is not None:
                for docnum in np.flatnonzero((columns.doc_type == code) & np.isin(columns.ref_id, wanted)).tolist():
                    if not segment.is_deleted(docnum):
                        writer.delete_document(base + docnum)
            base += segment.doc_count_all()

    def index(self, documents: Iterable[SearchDocument]) -> int:
        latest = {doc.key: doc for doc in documents}  # the last version of each document wins
        if not latest:
            return 0
        by_type: dict[str, list[int]] = defaultdict(list)
        for doc in latest.values():
            by_type[doc.doc_type].append(doc.ref_id)
        with self._writer() as writer:
            for doc_type, ref_ids in by_type.items():
                self._delete_existing(writer, doc_type, ref_ids)
            for doc in latest.values():
                writer.add_document(**_fields(doc))
            writer.commit()
        return len(latest)

    def delete(self, doc_type: str, ref_ids: Iterable[int]) -> None:
        ids = [int(ref_id) for ref_id in ref_ids]
        if not ids:
            return
        with self._writer() as writer:
            self._delete_existing(writer, doc_type, ids)
            writer.commit()

    def rebuild(self, documents: Iterable[SearchDocument]) -> int:
        count = 0
        with self._writer(limitmb=256) as writer:
            writer.schema = make_schema()  # CLEAR drops every old segment, so an old index's schema goes too
            for doc in documents:
                writer.add_document(**_fields(doc))
                count += 1
            writer.commit(mergetype=CLEAR)  # drop every older segment: the index is exactly `documents`
        return count

    def count(self) -> int:
        return sum(segment.doc_count() for segment in self._current().segments)

    def batch_count_refreshes(self, keys: list[str], force: bool = False) -> list[str]:
        """Collect document keys in a file beside the index (every process on this host appends to it under a
        lock); hand the whole batch out once it is COUNTS_DELAY seconds old or COUNTS_BATCH long. A batch is
        one commit instead of one per like or sale, and the file survives a worker's restart."""
        self.directory.mkdir(parents=True, exist_ok=True)
        moment = now().timestamp()
        with open(self.directory / COUNTS_FILE, "a+", encoding="ascii") as pending:
            fcntl.flock(pending, fcntl.LOCK_EX)
            try:
                pending.seek(0)
                lines = pending.read().split()
                if keys:
                    if not lines:
                        lines = [f"@{moment}"]  # when this batch started
                        pending.write(lines[0] + "\n")
                    pending.write(" ".join(keys) + "\n")
                    lines += keys
                # A bare number is a post id written before other types were batched.
                due = sorted({item if ":" in item else f"{DOC_POST}:{item}" for item in lines
                              if not item.startswith("@")})
                started = next((float(item[1:]) for item in lines if item.startswith("@")), moment)
                if not due or not (force or len(due) >= COUNTS_BATCH or moment - started >= COUNTS_DELAY):
                    return []
                pending.truncate(0)
                return due
            finally:
                fcntl.flock(pending, fcntl.LOCK_UN)

    # --- querying -------------------------------------------------------------------------------------------

    def search(self, query: SearchQuery) -> SearchResults:
        if query.parsed.empty:
            return SearchResults([], 0)
        generation = self._current()
        columns = generation.columns
        needs_positions = bool(query.parsed.phrases) and not query.any_term
        if columns is not None:
            found = columns.search(query)
            if not needs_positions or found.total == 0:  # no document has every word: no phrase either
                return found
        return self._search_matchers(generation.searcher(), query)

    def suggest(self, parsed: ParsedQuery, limit: int = 8,
                exclude_author_ids: frozenset[int] = frozenset()) -> list[SearchHit]:
        if parsed.empty:
            return []
        generation = self._current()
        if generation.columns is not None and not parsed.phrases:
            return generation.columns.suggest(parsed, limit, exclude_author_ids)
        collector, _complete = _run_bounded(generation.searcher(), self._masked(
            self._text_query(parsed), exclude_author_ids), collectors.TopCollector(limit, usequality=False))
        return [SearchHit(hit["doc_type"], hit["ref_id"], float(hit.score or 0.0)) for hit in collector.results()]

    def corrections(self, words: list[str]) -> dict[str, str]:
        generation = self._current()
        if generation.columns is not None:
            return generation.columns.corrections(words)
        fixes: dict[str, str] = {}
        searcher = generation.searcher()
        reader = searcher.reader()
        for word in words:
            if len(word) < 3 or not (word.isascii() and word.isalpha()):
                continue
            if reader.doc_frequency("content", stem(word)):
                continue
            suggestions = searcher.suggest("title", word, limit=1, maxdist=2, prefix=1)
            if suggestions and suggestions[0] != word:
                fixes[word] = suggestions[0]
        return fixes

    # --- Whoosh's own matchers: phrases, and indexes from before the columns -------------------------------

    @staticmethod
    def _term_query(term: str):
        return Term("content", term)

    def _text_query(self, parsed: ParsedQuery, any_term: bool = False):
        parts = [Or([self._term_query(word) for word in parsed.any_of(term)]) if parsed.alternatives.get(term)
                 else self._term_query(term) for term in parsed.must]
        if any_term and len(parts) > 1:
            query = Or(parts)
        else:
            parts += [Phrase("content", words) for words in parsed.phrases]
            query = And(parts) if parts else Every()
        if parsed.prefix:
            query = And([query, Prefix("title", parsed.prefix)])
        if parsed.must_not:
            query = _Excluding(query, Or([self._term_query(term) for term in parsed.must_not]))
        return query

    @staticmethod
    def _masked(query, exclude_author_ids: frozenset[int]):
        if not exclude_author_ids:
            return query
        return _Excluding(query, Or([Term("author_id", str(author_id)) for author_id in sorted(exclude_author_ids)]))

    def _search_matchers(self, searcher, query: SearchQuery) -> SearchResults:
        """The same answer as ColumnarIndex.search, from postings, bounded in time."""
        matched = self._masked(self._text_query(query.parsed, query.any_term), query.exclude_author_ids)
        filters = []
        if query.doc_type:
            filters.append(Term("doc_type", query.doc_type))
        if query.community_filter:
            filters.append(Term("community", query.community_filter))
        if query.product_filters:
            if "price" not in searcher.schema:  # an index from before products: it has none
                filters.append(NullQuery)
            else:
                filters.append(NumericRange("price", query.min_price_cents or 0, query.max_price_cents))
                if query.in_stock_only:
                    filters.append(Term("in_stock", "1"))
        # Require scores by the text only; a `filter=` argument would build a set of every post per query.
        filtered = Require(matched, And(filters)) if filters else matched
        wanted = query.offset + query.limit
        if query.sort == SORT_NEW:
            collector = collectors.SortingCollector([sorting.FieldFacet("created", reverse=True)], limit=wanted)
        elif query.sort == SORT_TOP:
            collector = collectors.SortingCollector([sorting.FieldFacet("engagement", reverse=True),
                                                     sorting.FieldFacet("created", reverse=True)], limit=wanted)
        else:
            # No block skipping, no matcher replacement: both would drop matches from the count.
            collector = collectors.TopCollector(wanted, usequality=False, replace=0)
        started = time.monotonic()
        bounded, complete = _run_bounded(searcher, filtered, collector)
        results = bounded.results()
        scored = query.sort not in (SORT_NEW, SORT_TOP)
        hits = [SearchHit(hit["doc_type"], hit["ref_id"], float(hit.score or 0.0) if scored else 0.0)
                for hit in results[query.offset:wanted]]
        type_counts, community_counts = {}, {}
        if query.facets:
            faceted, complete_facets = _run_bounded(searcher, matched, collectors.FacetCollector(
                collectors.TopCollector(1, usequality=False, replace=0), {
                    "doc_type": sorting.FieldFacet("doc_type", maptype=sorting.Count),
                    "community": sorting.MultiFacet([sorting.FieldFacet("doc_type"), sorting.FieldFacet("community")],
                                                    maptype=sorting.Count)}),
                seconds=QUERY_TIME_LIMIT - (time.monotonic() - started))  # one budget for both passes
            groups = faceted.child.facetmaps
            type_counts = {key: count for key, count in groups["doc_type"].as_dict().items() if key}
            for (doc_type, community), count in groups["community"].as_dict().items():
                if community and doc_type in COMMUNITY_TYPES:
                    community_counts.setdefault(doc_type, {})[community] = count
            complete = complete and complete_facets
        return SearchResults(hits, bounded.seen, type_counts, community_counts, total_exact=complete)
