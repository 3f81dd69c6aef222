"""The embedded search backend: a Whoosh index in instance/search.

Whoosh allows one writer at a time per index. Every write here (incremental or rebuild) goes through
`_writer()`, which waits for the index's lock file with retries (up to LOCK_TIMEOUT seconds), so any
number of gunicorn workers, RQ workers and CLI runs can write: they queue on the lock instead of
failing or corrupting the index. Readers never take the lock and always see the last committed state.
"""
from __future__ import annotations

import fcntl
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh import sorting
from whoosh.analysis import Token, Tokenizer
from whoosh.fields import ID, NUMERIC, TEXT, Schema
from whoosh.index import LockError
from whoosh.query import And, AndNot, Every, Or, Phrase, Prefix, Term
from whoosh.writing import CLEAR

from app.search.backend import (
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

FIELD_MARK, BOOST_MARK = "\x1e", "\x1f"  # separate the weighted parts of the content field
FIELD_GAP = 100  # positions between parts, so a phrase never spans two of them
LOCK_TIMEOUT = 60.0  # seconds a writer waits for another process's commit before giving up
LOCK_DELAY = 0.05
INDEX_NAME = "tastemaker"


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
    analyzer = BilingualTokenizer()
    return Schema(
        key=ID(unique=True, stored=True),
        doc_type=ID(stored=True, sortable=True),
        ref_id=NUMERIC(int, bits=64, stored=True),
        # Unstemmed words for as-you-type prefixes and spelling. (Not spelling=True on `content`: Whoosh's
        # separate spelling field costs a file stat per posting when indexing, and a second analysis.)
        title=TEXT(analyzer=BilingualWordTokenizer(), stored=True),
        content=TEXT(analyzer=analyzer),  # title, tags, names and body, weighted
        community=ID(stored=True, sortable=True),
        author_id=ID(stored=True),
        kind=ID(stored=True),
        rating=NUMERIC(int, stored=True),
        created=NUMERIC(int, bits=64, sortable=True),
        engagement=NUMERIC(int, bits=64, sortable=True),
    )


def _content(doc: SearchDocument) -> str:
    parts = []
    for name, weight in FIELD_WEIGHTS.items():
        text = (getattr(doc, name) or "").replace(FIELD_MARK, " ").replace(BOOST_MARK, " ")
        parts.append(f"{weight:g}{BOOST_MARK}{text}")
    return FIELD_MARK.join(parts)


def _fields(doc: SearchDocument) -> dict:
    return {
        "key": doc.key, "doc_type": doc.doc_type, "ref_id": doc.ref_id, "title": doc.title or "",
        "content": _content(doc),
        "community": doc.community or "", "author_id": str(doc.author_id) if doc.author_id else "",
        "kind": doc.kind or "", "rating": doc.rating or 0,
        "created": int(doc.created_at.timestamp()) if doc.created_at else 0, "engagement": doc.engagement,
    }


_indexes: dict[str, whoosh_index.Index] = {}
_indexes_lock = threading.Lock()


class WhooshBackend(SearchBackend):
    name = "whoosh"

    def __init__(self, directory: Path | str):
        self.directory = Path(directory)

    # --- opening and writing ------------------------------------------------------------------------------

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
                if whoosh_index.exists_in(str(self.directory), indexname=INDEX_NAME):
                    return whoosh_index.open_dir(str(self.directory), indexname=INDEX_NAME)
                return whoosh_index.create_in(str(self.directory), make_schema(), indexname=INDEX_NAME)
            finally:
                fcntl.flock(guard, fcntl.LOCK_UN)

    @contextmanager
    def _writer(self, **kwargs) -> Iterator:
        """The one way to write: wait for the lock (retrying), then commit or cancel."""
        ix = self._index()
        deadline = time.monotonic() + LOCK_TIMEOUT
        while True:
            try:
                writer = ix.writer(timeout=min(5.0, LOCK_TIMEOUT), delay=LOCK_DELAY, **kwargs)
                break
            except LockError:
                if time.monotonic() > deadline:
                    raise
        try:
            yield writer
        except BaseException:
            writer.cancel()
            raise

    def index(self, documents: Iterable[SearchDocument]) -> int:
        documents = list(documents)
        if not documents:
            return 0
        with self._writer() as writer:
            for doc in documents:
                writer.update_document(**_fields(doc))
            writer.commit()
        return len(documents)

    def delete(self, doc_type: str, ref_ids: Iterable[int]) -> None:
        keys = [f"{doc_type}:{ref_id}" for ref_id in ref_ids]
        if not keys:
            return
        with self._writer() as writer:
            for key in keys:
                writer.delete_by_term("key", key)
            writer.commit()

    def rebuild(self, documents: Iterable[SearchDocument]) -> int:
        count = 0
        with self._writer(limitmb=256) as writer:
            for doc in documents:
                writer.add_document(**_fields(doc))
                count += 1
            writer.commit(mergetype=CLEAR)  # drop every older segment: the index is exactly `documents`
        return count

    def count(self) -> int:
        return self._index().doc_count()

    # --- querying -------------------------------------------------------------------------------------------

    @staticmethod
    def _term_query(term: str):
        return Term("content", term)

    def _text_query(self, parsed: ParsedQuery, any_term: bool = False):
        parts = [self._term_query(term) for term in parsed.must]
        if any_term and len(parts) > 1:
            query = Or(parts)
        else:
            parts += [Phrase("content", words) for words in parsed.phrases]
            query = And(parts) if parts else Every()
        if parsed.prefix:
            query = And([query, Prefix("title", parsed.prefix)])
        if parsed.must_not:
            query = AndNot(query, Or([self._term_query(term) for term in parsed.must_not]))
        return query

    @staticmethod
    def _mask(exclude_author_ids: frozenset[int]):
        if not exclude_author_ids:
            return None
        return Or([Term("author_id", str(author_id)) for author_id in sorted(exclude_author_ids)])

    def search(self, query: SearchQuery) -> SearchResults:
        if query.parsed.empty:
            return SearchResults([], 0)
        text_query = self._text_query(query.parsed, query.any_term)
        filters = []
        if query.doc_type:
            filters.append(Term("doc_type", query.doc_type))
        if query.community and query.doc_type in (None, DOC_POST):
            filters.append(Term("community", query.community))
        mask = self._mask(query.exclude_author_ids)
        sort_kwargs = {}
        if query.sort == SORT_NEW:
            sort_kwargs = {"sortedby": "created", "reverse": True}
        elif query.sort == SORT_TOP:
            sort_kwargs = {"sortedby": [sorting.FieldFacet("engagement", reverse=True),
                                        sorting.FieldFacet("created", reverse=True)]}
        with self._index().searcher() as searcher:
            results = searcher.search(text_query, limit=query.offset + query.limit,
                                      filter=And(filters) if filters else None, mask=mask, **sort_kwargs)
            total = len(results)
            hits = [SearchHit(hit["doc_type"], hit["ref_id"], 0.0 if sort_kwargs else float(hit.score or 0.0),
                              hit.get("title", "")) for hit in results[query.offset:query.offset + query.limit]]
            type_counts, community_counts = {}, {}
            if query.facets:
                faceted = searcher.search(text_query, limit=1, mask=mask, groupedby={
                    "doc_type": sorting.FieldFacet("doc_type", maptype=sorting.Count),
                    "community": sorting.FieldFacet("community", maptype=sorting.Count),
                })
                type_counts = {key: count for key, count in faceted.groups("doc_type").items() if key}
                community_counts = {key: count for key, count in faceted.groups("community").items() if key}
        return SearchResults(hits, total, type_counts, community_counts)

    def suggest(self, parsed: ParsedQuery, limit: int = 8,
                exclude_author_ids: frozenset[int] = frozenset()) -> list[SearchHit]:
        if parsed.empty:
            return []
        with self._index().searcher() as searcher:
            results = searcher.search(self._text_query(parsed), limit=limit, mask=self._mask(exclude_author_ids))
            return [SearchHit(hit["doc_type"], hit["ref_id"], float(hit.score or 0.0), hit.get("title", ""))
                    for hit in results]

    def corrections(self, words: list[str]) -> dict[str, str]:
        fixes: dict[str, str] = {}
        with self._index().searcher() as searcher:
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

