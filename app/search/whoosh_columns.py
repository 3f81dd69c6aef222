"""Columnar side files for the Whoosh index: their on-disk format, written by the codec, read memory-mapped.

Whoosh answers a query by stepping through postings one Python call per matching document (~2 µs each),
so a word found in 300 000 posts costs most of a second before anything is scored, counted or faceted.
Every segment written through `ColumnarCodec` therefore also gets two side files, written by the same
writer in the same commit and stored inside the segment's compound file:

  .tmd  per document: ref id, type, community, author, created, engagement, `content` length, and for
        products their lowest price (-1 for other types) and whether they are in stock
  .tmt  per term of `content` and `title`: its document numbers and weights as packed arrays

`SegmentColumns` memory-maps them (shared between processes through the page cache, nothing decoded per
query); `app.search.whoosh_query.ColumnarIndex` answers searches over them with numpy. Whoosh still owns
writing, merging, locking, deletions and phrase queries.

The writers and the codec extend Whoosh 3's private codec classes (`whoosh.codec.whoosh3`), so
pyproject.toml pins whoosh-reloaded to the exact version they were written against. `ColumnarCodec` and
`ColumnarSegment` are pickled into every index's TOC by their import path: they stay in this module.

Segments never change once written (deletions live in the index's TOC), so a segment's columns are
opened once per process and reused by every later generation that still contains the segment.
"""
from __future__ import annotations

import json
import struct
from array import array
from dataclasses import dataclass

import numpy as np
from whoosh.codec.whoosh3 import W3Codec, W3FieldWriter, W3PerDocReader, W3PerDocWriter, W3Segment
from whoosh.filedb.compound import CompoundStorage
from whoosh.filedb.structfile import BufferFile
from whoosh.util.numeric import byte_to_length, length_to_byte

DOCS_EXT, TERMS_EXT = ".tmd", ".tmt"
SIDE_FIELDS = ("content", "title")  # fields whose postings get packed arrays
MAGIC = b"TMSIDE01"
_FOOTER = struct.Struct("<Q8s")  # header length, magic


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
