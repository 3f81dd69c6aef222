"""Columnar side files for the Whoosh index: what keeps a query fast at a million documents.

Whoosh answers a query by stepping through postings one Python call per matching document (~2 µs each),
so a word found in 300 000 posts costs most of a second before anything is scored, counted or faceted.
Every segment written through `ColumnarCodec` therefore also gets two side files, written by the same
writer in the same commit and stored inside the segment's compound file:

  .tmd  per document: ref id, type, community, author, created, engagement, `content` length, and for
        products their lowest price (-1 for other types) and whether they are in stock
  .tmt  per term of `content` and `title`: its document numbers and weights as packed arrays

`SegmentColumns` memory-maps them (shared between processes through the page cache, nothing decoded per
query) and `ColumnarIndex` answers searches over one index generation with numpy: intersect the posting
arrays, score BM25F, drop deleted, blocked and filtered documents, count the facets and the total
exactly, and pick the top N, touching each matching document a few times in C instead of a dozen times
in Python. Whoosh still owns writing, merging, locking, deletions and phrase queries.

Segments never change once written (deletions live in the index's TOC), so a segment's columns are
opened once per process and reused by every later generation that still contains the segment.
"""
from __future__ import annotations

import bisect
import json
import math
import struct
from array import array
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from whoosh.codec.whoosh3 import W3Codec, W3FieldWriter, W3PerDocReader, W3PerDocWriter, W3Segment
from whoosh.filedb.compound import CompoundStorage
from whoosh.filedb.structfile import BufferFile
from whoosh.util.numeric import byte_to_length, length_to_byte

from app.search.backend import (
    COMMUNITY_TYPES,
    SORT_NEW,
    SORT_TOP,
    SearchHit,
    SearchQuery,
    SearchResults,
)
from app.search.text import ParsedQuery, edit_distance, stem

DOCS_EXT, TERMS_EXT = ".tmd", ".tmt"
SIDE_FIELDS = ("content", "title")  # fields whose postings get packed arrays
MAGIC = b"TMSIDE01"
_FOOTER = struct.Struct("<Q8s")  # header length, magic
BM25_B, BM25_K1 = 0.75, 1.2  # Whoosh's BM25F defaults, so both query paths rank alike
PREFIX_EXPANSION = 256  # title words a typed prefix may stand for (as-you-type)
CORRECTION_CANDIDATES = 20_000


# --- writing ------------------------------------------------------------------------------------------------

class _SideFileWriter:
    """Appends little-endian arrays (8-byte aligned) to a segment file and ends it with a JSON table of them."""

    def __init__(self, dbfile):
        self._file = dbfile
        self._position = 0
        self.arrays: dict[str, tuple[str, int, int]] = {}

    def _write(self, data: bytes) -> None:
        self._file.write(data)
        self._position += len(data)

    def _align(self) -> None:
        if self._position % 8:
            self._write(b"\0" * (8 - self._position % 8))

    def raw(self, *values: np.ndarray) -> int:
        """Write arrays back to back without naming them; returns the offset of the first."""
        self._align()
        offset = self._position
        for array_ in values:
            self._write(array_.tobytes())
        return offset

    def named(self, name: str, values: np.ndarray) -> None:
        values = np.ascontiguousarray(values)
        self.arrays[name] = (values.dtype.str, self.raw(values), int(values.size))

    def finish(self, meta: dict) -> None:
        header = json.dumps({"arrays": self.arrays, "meta": meta}, ensure_ascii=False).encode()
        self._write(header)
        self._write(_FOOTER.pack(len(header), MAGIC))
        self._file.close()


class _Codes:
    """Small vocabularies (types, communities) stored as one byte or int per document."""

    def __init__(self):
        self.values: list[str] = []
        self._codes: dict[str, int] = {}

    def code(self, value: str | None) -> int:
        if not value:
            return -1
        code = self._codes.get(value)
        if code is None:
            code = self._codes[value] = len(self.values)
            self.values.append(value)
        return code


class ColumnarPerDocWriter(W3PerDocWriter):
    """Whoosh's per-document writer, also keeping the columns the fast path filters, sorts and scores by.

    Fresh documents and documents copied by a merge both pass through add_field (stored values and field
    lengths) and add_column_value (created, engagement), so every segment gets complete columns. Fields a
    document does not have (a post's price) are never passed, so their columns start from a default.
    """

    def __init__(self, codec, storage, segment):
        super().__init__(codec, storage, segment)
        self._side_current: dict | None = None
        self._side_total_length = 0
        self._side_types, self._side_communities = _Codes(), _Codes()
        self._side = {name: array(code) for name, code in (
            ("ref_id", "q"), ("doc_type", "b"), ("community", "i"), ("author_id", "q"), ("created", "q"),
            ("engagement", "q"), ("length", "f"), ("price", "q"), ("in_stock", "b"))}

    def start_doc(self, docnum):
        super().start_doc(docnum)
        self._side_current = {}

    def add_field(self, fieldname, fieldobj, value, length):
        super().add_field(fieldname, fieldobj, value, length)
        current = self._side_current
        if current is not None:
            if value is not None and fieldname in ("ref_id", "doc_type", "community", "author_id", "price",
                                                   "in_stock"):
                current[fieldname] = value
            if fieldname == "content":
                # Whoosh keeps field lengths as one byte (exact below ~20); store what it scores with.
                current["length"] = byte_to_length(length_to_byte(length)) if length else 0
                current["exact_length"] = length or 0

    def add_column_value(self, fieldname, columnobj, value):
        super().add_column_value(fieldname, columnobj, value)
        if self._side_current is not None and fieldname in ("created", "engagement"):
            self._side_current[fieldname] = value

    def finish_doc(self):
        super().finish_doc()
        current, self._side_current = self._side_current, None
        if current is None:  # W3PerDocWriter.close() calls finish_doc once more
            return
        author = current.get("author_id")
        side = self._side
        side["ref_id"].append(int(current.get("ref_id") or 0))
        side["doc_type"].append(self._side_types.code(current.get("doc_type")))
        side["community"].append(self._side_communities.code(current.get("community")))
        side["author_id"].append(int(author) if author else 0)
        side["created"].append(int(current.get("created") or 0))
        side["engagement"].append(int(current.get("engagement") or 0))
        side["length"].append(float(current.get("length") or 0))
        price = current.get("price")
        side["price"].append(int(price) if price is not None else -1)
        side["in_stock"].append(1 if current.get("in_stock") == "1" else 0)
        self._side_total_length += current.get("exact_length", 0)  # averages use exact lengths, as Whoosh

    def cancel_doc(self):
        super().cancel_doc()
        self._side_current = None

    def close(self):
        super().close()
        writer = _SideFileWriter(self._segment.create_file(self._storage, DOCS_EXT))
        dtypes = {"ref_id": "<i8", "doc_type": "i1", "community": "<i4", "author_id": "<i8", "created": "<i8",
                  "engagement": "<i8", "length": "<f4", "price": "<i8", "in_stock": "i1"}
        for name, values in self._side.items():
            writer.named(name, np.frombuffer(values, dtype=values.typecode).astype(dtypes[name]))
        writer.finish({"doc_count": len(self._side["ref_id"]), "types": self._side_types.values,
                       "communities": self._side_communities.values,
                       "content_length": float(self._side_total_length)})


class ColumnarFieldWriter(W3FieldWriter):
    """Whoosh's inverted-index writer, also packing each `content` and `title` posting list into arrays.

    Postings arrive sorted by field, term and document, so each term's arrays are written as soon as the
    term ends: memory stays proportional to the number of terms, not postings.
    """

    def __init__(self, codec, storage, segment):
        super().__init__(codec, storage, segment)
        self._side = _SideFileWriter(self._segment.create_file(self._storage, TERMS_EXT))
        self._side_terms: dict[str, tuple[list[bytes], array, array]] = {}
        self._side_field: str | None = None
        self._side_ids, self._side_weights = array("I"), array("f")

    def start_field(self, fieldname, fieldobj):
        super().start_field(fieldname, fieldobj)
        self._side_field = fieldname if fieldname in SIDE_FIELDS else None
        if self._side_field:
            self._side_terms.setdefault(fieldname, ([], array("q"), array("q")))

    def start_term(self, btext):
        super().start_term(btext)
        if self._side_field:
            self._side_btext = btext
            self._side_ids, self._side_weights = array("I"), array("f")

    def add(self, docnum, weight, vbytes, length):
        super().add(docnum, weight, vbytes, length)
        if self._side_field:
            self._side_ids.append(docnum)
            self._side_weights.append(weight)

    def finish_term(self):
        super().finish_term()
        if self._side_field:
            terms, starts, counts = self._side_terms[self._side_field]
            start = self._side.raw(np.frombuffer(self._side_ids, dtype=np.uint32).astype("<u4"),
                                   np.frombuffer(self._side_weights, dtype=np.float32).astype("<f4"))
            terms.append(bytes(self._side_btext))
            starts.append(start)
            counts.append(len(self._side_ids))

    def close(self):
        for fieldname, (terms, starts, counts) in self._side_terms.items():
            offsets = np.zeros(len(terms) + 1, dtype="<i8")
            offsets[1:] = np.cumsum([len(term) for term in terms], dtype=np.int64)
            self._side.named(f"{fieldname}.terms", np.frombuffer(b"".join(terms), dtype=np.uint8))
            self._side.named(f"{fieldname}.offsets", offsets)
            self._side.named(f"{fieldname}.starts", np.frombuffer(starts, dtype=np.int64).astype("<i8"))
            self._side.named(f"{fieldname}.counts", np.frombuffer(counts, dtype=np.int64).astype("<i8"))
        self._side.finish({"fields": sorted(self._side_terms)})
        super().close()


class CachedPerDocReader(W3PerDocReader):
    """W3PerDocReader asks the filesystem whether a field has a length column for every posting written
    (a stat() per posting during each commit); segment files never change, so remember the answer."""

    def has_column(self, fieldname):
        cache = self.__dict__.setdefault("_has_column_cache", {})
        if fieldname not in cache:
            cache[fieldname] = super().has_column(fieldname)
        return cache[fieldname]


class _MapWindow:
    """A read-only file over a slice of a memory map. (Whoosh's BufferFile wraps the slice in a BytesIO,
    which copies the whole file: opening a searcher on a 1M-document segment copied a gigabyte.)"""

    def __init__(self, view: memoryview):
        self._view = view
        self._position = 0

    def read(self, size: int | None = -1) -> bytes:
        end = len(self._view) if size is None or size < 0 else min(len(self._view), self._position + size)
        data = self._view[self._position:end].tobytes()
        self._position = max(self._position, end)
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        line = bytearray()
        while size is None or size < 0 or len(line) < size:
            char = self.read(1)
            if not char:
                break
            line += char
            if char == b"\n":
                break
        return bytes(line)

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._position, 2: len(self._view)}[whence]
        self._position = max(0, base + offset)
        return self._position

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


class _MapFile(BufferFile):
    def __init__(self, buf, name=None, onclose=None):
        super().__init__(b"", name=name, onclose=onclose)
        self._buf = buf
        self.file = _MapWindow(buf)


class _MappedCompound(CompoundStorage):
    """A compound segment file whose parts are read straight from the memory map."""

    def open_file(self, name, *args, **kwargs):
        if self._source is None:
            return super().open_file(name, *args, **kwargs)
        offset, length = self.range(name)
        return _MapFile(memoryview(self._source)[offset:offset + length], name=name)


class ColumnarSegment(W3Segment):
    """A Whoosh 3 segment read without copying (pickled into the TOC: keep this import path)."""

    def open_compound_file(self, storage):
        name = self.make_filename(self.COMPOUND_EXT)
        return _MappedCompound(storage.open_file(name), use_mmap=storage.supports_mmap)


class ColumnarCodec(W3Codec):
    """Whoosh 3 segments plus the side files above. (Pickled into the index's TOC: keep this import path.)"""

    def new_segment(self, storage, indexname):
        return ColumnarSegment(self, indexname)

    def per_document_writer(self, storage, segment):
        return ColumnarPerDocWriter(self, storage, segment)

    def field_writer(self, storage, segment):
        return ColumnarFieldWriter(self, storage, segment)

    def per_document_reader(self, storage, segment):
        return CachedPerDocReader(storage, segment)


# --- reading ------------------------------------------------------------------------------------------------

def _side_buffer(files, name: str):
    """The bytes of one file of a segment: a zero-copy view of the compound file's map when there is one."""
    source = getattr(files, "_source", None)
    if source is not None:
        offset, length = files.range(name)
        return memoryview(source)[offset:offset + length]
    handle = files.open_file(name)
    try:
        return handle.read()
    finally:
        handle.close()


def _parse(buffer) -> tuple[dict, dict]:
    length, magic = _FOOTER.unpack(bytes(buffer[-_FOOTER.size:]))
    if magic != MAGIC:
        raise ValueError("not a search side file")
    header = json.loads(bytes(buffer[-_FOOTER.size - length:-_FOOTER.size]))
    arrays = {name: np.frombuffer(buffer, dtype=np.dtype(dtype), count=count, offset=offset)
              for name, (dtype, offset, count) in header["arrays"].items()}
    return arrays, header["meta"]


class SegmentColumns:
    """One segment's side files, memory-mapped. Read-only, so one instance serves every thread."""

    def __init__(self, storage, segment):
        self.segment_id = segment.segment_id()
        # Raises NameError / OSError when the segment has no side files (written before ColumnarCodec).
        self._files = segment.open_compound_file(storage) if segment.is_compound() else storage
        docs, meta = _parse(_side_buffer(self._files, segment.make_filename(DOCS_EXT)))
        self._terms_buffer = _side_buffer(self._files, segment.make_filename(TERMS_EXT))
        self._terms, terms_meta = _parse(self._terms_buffer)
        self.doc_count = int(meta["doc_count"])
        self.types: list[str] = meta["types"]
        self.communities: list[str] = meta["communities"]
        self.content_length = float(meta["content_length"])
        self.ref_id, self.doc_type, self.community = docs["ref_id"], docs["doc_type"], docs["community"]
        self.author_id, self.created, self.engagement = docs["author_id"], docs["created"], docs["engagement"]
        self.length = docs["length"]
        self.price, self.in_stock = docs["price"], docs["in_stock"]  # KeyError: written before products
        self.fields = set(terms_meta["fields"])
        self._lookup: dict[str, dict[str, int]] = {}
        self._sorted: dict[str, list[str]] = {}

    def words(self, field: str) -> list[str]:
        """The field's terms, sorted (UTF-8 byte order, which is code point order). Built once per process."""
        words = self._sorted.get(field)
        if words is None:
            words = []
            if field in self.fields:
                blob = self._terms[f"{field}.terms"].tobytes()
                offsets = self._terms[f"{field}.offsets"].tolist()
                words = [blob[offsets[i]:offsets[i + 1]].decode() for i in range(len(offsets) - 1)]
            self._sorted[field] = words  # a racing thread builds an identical list
        return words

    def _slot(self, field: str, term: str) -> int | None:
        lookup = self._lookup.get(field)
        if lookup is None:
            lookup = self._lookup[field] = {word: slot for slot, word in enumerate(self.words(field))}
        return lookup.get(term)

    def frequency(self, field: str, term: str) -> int:
        slot = self._slot(field, term)
        return 0 if slot is None else int(self._terms[f"{field}.counts"][slot])

    def postings(self, field: str, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        """(document numbers ascending, weights) of a term in this segment, or None."""
        slot = self._slot(field, term)
        if slot is None:
            return None
        count = int(self._terms[f"{field}.counts"][slot])
        start = int(self._terms[f"{field}.starts"][slot])
        ids = np.frombuffer(self._terms_buffer, dtype="<u4", count=count, offset=start)
        weights = np.frombuffer(self._terms_buffer, dtype="<f4", count=count, offset=start + 4 * count)
        return ids, weights

    @staticmethod
    def code(vocabulary: list[str], value: str) -> int | None:
        """The number a type or community is stored as in this segment (None: no document has it)."""
        try:
            return vocabulary.index(value)
        except ValueError:
            return None


@dataclass
class SegmentView:
    columns: SegmentColumns
    deleted: np.ndarray | None  # bool per document, None when nothing is deleted
    base: int  # global number of the segment's first document


def deleted_mask(segment, doc_count: int) -> np.ndarray | None:
    if not segment.has_deletions():
        return None
    mask = np.zeros(doc_count, dtype=bool)
    mask[np.fromiter(segment.deleted_docs(), dtype=np.int64)] = True
    return mask


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
        postings = [(term, columns.postings("content", term)) for term in parsed.must]
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
