"""The columnar query engine: one Whoosh index generation searched with numpy over its side files.

`ColumnarIndex` intersects the posting arrays of `app.search.whoosh_columns.SegmentColumns`, scores BM25F
as Whoosh does, drops deleted, blocked and filtered documents, counts the facets and the total exactly,
and picks the top N, touching each matching document a few times in C instead of a dozen times in Python.
"""
from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from app.search.backend import (
    COMMUNITY_TYPES,
    SORT_NEW,
    SORT_TOP,
    SearchHit,
    SearchQuery,
    SearchResults,
)
from app.search.text import ParsedQuery, edit_distance, stem
from app.search.whoosh_columns import SegmentColumns, SegmentView

BM25_B, BM25_K1 = 0.75, 1.2  # Whoosh's BM25F defaults, so both query paths rank alike
SYNONYM_WEIGHT = 0.5  # a synonym's match counts half of the word as typed
PREFIX_EXPANSION = 256  # title words a typed prefix may stand for (as-you-type)
CORRECTION_CANDIDATES = 20_000


def _weights_at(scratch: np.ndarray, ids: np.ndarray, weights: np.ndarray, docs: np.ndarray) -> np.ndarray:
    """A term's weight in each of `docs` (0 where it does not occur); `scratch` is all zeros before and after."""
    scratch[ids] = weights
    found = scratch[docs]
    scratch[ids] = 0
    return found


def _marked(doc_count: int, ids: np.ndarray) -> np.ndarray:
    """True for the documents in `ids`, per document of the segment."""
    marks = np.zeros(doc_count, dtype=bool)
    marks[ids] = True
    return marks


def _at_least_nth_best(primary: np.ndarray, n: int) -> np.ndarray:
    """Rows whose key is at least the n-th largest (ties included), in linear time.

    For long arrays a 1-in-64 sample is partitioned first: its n-th largest is a lower bound of the true
    one, so comparing against it leaves a few thousand candidates to partition instead of every row.
    """
    if len(primary) > 256 * n:
        sample = primary[::64]
        bound = np.partition(sample, len(sample) - n)[len(sample) - n]
        candidates = np.flatnonzero(primary >= bound)
        if len(candidates) < len(primary) // 2:
            values = primary[candidates]
            threshold = np.partition(values, len(values) - n)[len(values) - n]
            return candidates[values >= threshold]
    threshold = np.partition(primary, len(primary) - n)[len(primary) - n]
    return np.flatnonzero(primary >= threshold)


def top_indices(primary: np.ndarray, n: int,
                tiebreak: Callable[[np.ndarray], list[np.ndarray]] = lambda rows: []) -> np.ndarray:
    """Indices of the n best rows, best first. Every key is "larger is better": `primary` decides, then the
    keys `tiebreak(rows)` returns for the few rows that can still make it (so they are never read for all)."""
    if n <= 0 or not len(primary):
        return np.zeros(0, dtype=np.intp)
    rows = _at_least_nth_best(primary, n) if len(primary) > n else np.arange(len(primary))
    keys = [primary[rows], *tiebreak(rows)]
    order = np.lexsort(keys[::-1])[::-1]
    return rows[order[:n]]


def _product_mask(columns: SegmentColumns, docs: np.ndarray, query: SearchQuery) -> np.ndarray:
    """Which of `docs` pass the query's price and stock filters (documents without a price never do)."""
    price = columns.price[docs]
    keep = price >= (query.min_price_cents or 0)
    if query.max_price_cents is not None:
        keep &= price <= query.max_price_cents
    if query.in_stock_only:
        keep &= columns.in_stock[docs] == 1
    return keep


def _add_counts(counts: dict[str, int], vocabulary: list[str], codes: np.ndarray) -> None:
    """Add how often each code occurs (-1, "none", is not counted) to counts by name."""
    for code, count in enumerate(np.bincount(codes.astype(np.intp) + 1, minlength=len(vocabulary) + 1)[1:].tolist()):
        if count:
            counts[vocabulary[code]] = counts.get(vocabulary[code], 0) + count


@dataclass
class _Matches:
    """Documents of one segment that match the text, with their scores."""

    view: SegmentView
    docs: np.ndarray  # local document numbers, ascending
    scores: np.ndarray


def _any_postings(columns: SegmentColumns, words: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray] | None:
    """Postings of a query word and its synonyms as one list (a synonym's weight counts SYNONYM_WEIGHT of the
    word's, so the word as typed ranks first); a document with several counts its best."""
    found = []
    for index, word in enumerate(words):
        hit = columns.postings("content", word)
        if hit is not None:
            found.append(hit if index == 0 else (hit[0], hit[1] * np.float32(SYNONYM_WEIGHT)))
    if len(found) <= 1:
        return found[0] if found else None
    ids = np.concatenate([hit[0] for hit in found])
    weights = np.concatenate([hit[1] for hit in found])
    order = np.lexsort((-weights, ids))
    ids, weights = ids[order], weights[order]
    first = np.ones(len(ids), dtype=bool)
    first[1:] = ids[1:] != ids[:-1]
    return ids[first], weights[first]


class ColumnarIndex:
    """One index generation (a list of segments and their deletions) queried with numpy."""

    def __init__(self, views: list[SegmentView]):
        self.views = views
        self.doc_count_all = sum(view.columns.doc_count for view in views)
        total_length = sum(view.columns.content_length for view in views)
        self.average_length = (total_length / self.doc_count_all) if self.doc_count_all else 1.0
        self.average_length = self.average_length or 1.0

    # --- statistics ---

    def frequency(self, field: str, term: str) -> int:
        return sum(view.columns.frequency(field, term) for view in self.views)

    def idf(self, term: str) -> float:
        """Whoosh's idf: log(N / (df + 1)) + 1, over every segment (deleted documents included, as Whoosh)."""
        return math.log(self.doc_count_all / (self.frequency("content", term) + 1)) + 1

    # --- matching ---

    def _prefix_docs(self, columns: SegmentColumns, prefix: str) -> np.ndarray:
        words = columns.words("title")
        start = bisect.bisect_left(words, prefix)
        postings = []
        for word in words[start:start + PREFIX_EXPANSION]:
            if not word.startswith(prefix):
                break
            postings.append(columns.postings("title", word)[0])
        if not postings:
            return np.zeros(0, dtype=np.intp)
        return np.unique(np.concatenate(postings)).astype(np.intp)

    def _match(self, view: SegmentView, parsed: ParsedQuery, any_term: bool, idfs: dict[str, float],
               exclude_author_ids: np.ndarray | None) -> _Matches | None:
        columns = view.columns
        postings = [(term, _any_postings(columns, parsed.any_of(term))) for term in parsed.must]
        found = [(term, hit) for term, hit in postings if hit is not None]
        if parsed.must and (not found or (not any_term and len(found) < len(postings))):
            return None
        prefix_docs = self._prefix_docs(columns, parsed.prefix) if parsed.prefix else None
        if prefix_docs is not None and not len(prefix_docs):
            return None
        # One term's weights spread over every document of the segment: reading them back at the candidates
        # is a scatter and a gather, faster than binary searches for lists of 100 000s. A weight is never
        # 0 (every field weight is positive), so 0 means "not in this document".
        scratch = np.zeros(columns.doc_count, dtype=np.float32)
        if not parsed.must:
            docs, tfs = prefix_docs, []
        elif any_term and len(found) > 1:
            seen = np.zeros(columns.doc_count, dtype=bool)
            for _term, (ids, _weights) in found:
                seen[ids] = True
            docs = np.flatnonzero(seen)
            tfs = [(term, _weights_at(scratch, ids, weights, docs)) for term, (ids, weights) in found]
        else:  # every word: start from the rarest, keep the documents each next word is in
            found.sort(key=lambda item: len(item[1][0]))
            first_term, (ids, weights) = found[0]
            docs = ids.astype(np.intp)  # numpy gathers with intp indices about twice as fast as with uint32
            tfs = [(first_term, weights)]
            for term, (ids, weights) in found[1:]:
                tf = _weights_at(scratch, ids, weights, docs)
                inside = tf > 0
                docs = docs[inside]
                tfs = [(t, values[inside]) for t, values in tfs] + [(term, tf[inside])]
        keep = np.ones(len(docs), dtype=bool)
        if prefix_docs is not None and parsed.must:
            keep &= _marked(columns.doc_count, prefix_docs)[docs]
        for term in parsed.must_not:
            hit = columns.postings("content", term)
            if hit is not None:
                keep &= ~_marked(columns.doc_count, hit[0])[docs]
        if view.deleted is not None:
            keep &= ~view.deleted[docs]
        if exclude_author_ids is not None:
            keep &= ~np.isin(columns.author_id[docs], exclude_author_ids)
        if not keep.all():
            docs = docs[keep]
            tfs = [(term, tf[keep]) for term, tf in tfs]
        # BM25F as Whoosh computes it: idf · tf(K1+1) / (tf + K1(1 - B + B·length/average length)).
        scores = np.zeros(len(docs), dtype=np.float64)
        if tfs:
            # In float64, as Whoosh: both query paths then give the same scores to the last digits.
            norm = columns.length[docs].astype(np.float64) * (BM25_K1 * BM25_B / self.average_length) \
                + BM25_K1 * (1 - BM25_B)
            for term, tf in tfs:
                tf = tf.astype(np.float64)
                scores += (idfs[term] * (BM25_K1 + 1)) * tf / (tf + norm)
        if parsed.prefix:
            scores += 1.0  # Whoosh scores a prefix match 1, whatever the word
        return _Matches(view, docs, scores)

    def _matches(self, parsed: ParsedQuery, any_term: bool, exclude_author_ids: frozenset[int]) -> list[_Matches]:
        if not self.doc_count_all:
            return []
        idfs = {term: self.idf(term) for term in parsed.must}
        excluded = np.array(sorted(exclude_author_ids), dtype=np.int64) if exclude_author_ids else None
        matches = []
        for view in self.views:
            found = self._match(view, parsed, any_term, idfs, excluded)
            if found is not None and len(found.docs):
                matches.append(found)
        return matches

    # --- answering ---

    @staticmethod
    def _keys(columns: SegmentColumns, docs: np.ndarray, scores: np.ndarray, sort: str
              ) -> tuple[np.ndarray, Callable[[np.ndarray], list[np.ndarray]]]:
        """The sort's main key for each of `docs`, and how to get the tie-breaking keys of some of them."""
        if sort == SORT_NEW:
            return columns.created[docs], lambda rows: [columns.ref_id[docs[rows]]]
        if sort == SORT_TOP:
            return columns.engagement[docs], lambda rows: [columns.created[docs[rows]], columns.ref_id[docs[rows]]]
        return scores, lambda rows: [columns.ref_id[docs[rows]]]

    def _page(self, selected: list[tuple[_Matches, np.ndarray]], sort: str, offset: int, limit: int,
              scored: bool) -> list[SearchHit]:
        """The hits offset…offset+limit of the best rows of every segment (each already cut to offset+limit)."""
        if not selected:
            return []
        parts = []
        for match, rows in selected:
            primary, tiebreak = self._keys(match.view.columns, match.docs[rows], match.scores[rows], sort)
            parts.append((match, rows, [primary, *tiebreak(np.arange(len(rows)))]))
        keys = [np.concatenate([part[2][k] for part in parts]) for k in range(len(parts[0][2]))]
        owners = np.concatenate([np.full(len(rows), i, dtype=np.intp) for i, (_m, rows, _k) in enumerate(parts)])
        within = np.concatenate([rows for _m, rows, _k in parts])
        # Ties (same key in two segments) go to the later global document number: the newer copy.
        keys.append(np.concatenate([match.view.base + match.docs[rows] for match, rows, _k in parts]))
        best = top_indices(keys[0], offset + limit, lambda rows: [key[rows] for key in keys[1:]])[offset:]
        hits = []
        for index in best:
            match = parts[owners[index]][0]
            row = within[index]
            doc = match.docs[row]
            columns = match.view.columns
            hits.append(SearchHit(columns.types[columns.doc_type[doc]], int(columns.ref_id[doc]),
                                  float(match.scores[row]) if scored else 0.0))
        return hits

    def search(self, query: SearchQuery) -> SearchResults:
        """The page, the exact total and (when asked) exact counts per type and community."""
        if query.parsed.empty:
            return SearchResults([], 0)
        type_counts: dict[str, int] = {}
        community_counts: dict[str, dict[str, int]] = {}
        total = 0
        selected = []
        filter_community = query.community_filter
        wanted = query.offset + query.limit
        for match in self._matches(query.parsed, query.any_term, query.exclude_author_ids):
            columns = match.view.columns
            types = columns.doc_type[match.docs]
            communities = columns.community[match.docs] if query.facets or filter_community else None
            if query.facets:
                _add_counts(type_counts, columns.types, types)
                for code, doc_type in enumerate(columns.types):
                    if doc_type in COMMUNITY_TYPES:
                        in_type = communities if len(columns.types) == 1 else communities[types == code]
                        _add_counts(community_counts.setdefault(doc_type, {}), columns.communities, in_type)
            keep = None  # None: every match (a segment of posts only needs no type filter)
            if query.doc_type and columns.types != [query.doc_type]:
                code = columns.code(columns.types, query.doc_type)
                if code is None:
                    continue
                keep = types == code
            if filter_community:
                code = columns.code(columns.communities, filter_community)
                if code is None:
                    continue
                keep = communities == code if keep is None else keep & (communities == code)
            if query.product_filters:
                wanted_products = _product_mask(columns, match.docs, query)
                keep = wanted_products if keep is None else keep & wanted_products
            if keep is None:
                total += len(match.docs)
                docs, scores = match.docs, match.scores
            else:
                rows = np.flatnonzero(keep)
                total += len(rows)
                docs, scores = match.docs[rows], match.scores[rows]
            if len(docs) and wanted:
                primary, tiebreak = self._keys(columns, docs, scores, query.sort)
                best = top_indices(primary, wanted, tiebreak)
                selected.append((match, best if keep is None else rows[best]))
        hits = self._page(selected, query.sort, query.offset, query.limit,
                          scored=query.sort not in (SORT_NEW, SORT_TOP))
        return SearchResults(hits, total, type_counts, community_counts)

    def suggest(self, parsed: ParsedQuery, limit: int, exclude_author_ids: frozenset[int]) -> list[SearchHit]:
        if parsed.empty:
            return []
        selected = []
        for match in self._matches(parsed, False, exclude_author_ids):
            primary, tiebreak = self._keys(match.view.columns, match.docs, match.scores, "relevant")
            selected.append((match, top_indices(primary, limit, tiebreak)))
        return self._page(selected, "relevant", 0, limit, scored=True)

    def corrections(self, words: list[str]) -> dict[str, str]:
        """For words not in the index, the closest title word within two edits (fewest edits, then most used)."""
        fixes: dict[str, str] = {}
        for word in words:
            if len(word) < 3 or not (word.isascii() and word.isalpha()):
                continue
            if self.frequency("content", stem(word)):
                continue
            best: tuple[int, int, str] | None = None
            for view in self.views:
                title_words = view.columns.words("title")
                start = bisect.bisect_left(title_words, word[0])
                for candidate in title_words[start:start + CORRECTION_CANDIDATES]:
                    if not candidate.startswith(word[0]):
                        break
                    if abs(len(candidate) - len(word)) > 2 or not candidate.isascii() or candidate == word:
                        continue
                    distance = edit_distance(word, candidate)
                    if distance <= 2:
                        rank = (distance, -self.frequency("title", candidate), candidate)
                        best = rank if best is None or rank < best else best
            if best is not None:
                fixes[word] = best[2]
        return fixes
