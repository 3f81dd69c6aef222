"""Search jobs: build documents from every domain's rows and write them to the index.

Domains never import this module: they call `app.search.queue` (`queue_post(id)` and friends), which
enqueues these jobs after commit. The job `index_documents(kind, ids)` re-reads the rows and writes or
deletes their documents, so it is idempotent and safe to run twice or late.

Counts (what sort=top orders by) change far more often than text, so they are batched:
`queue_post_counts(post.id)` after a like or save, and `queue_product_counts(product.id)` after a sale,
a cancellation or a refund (which move units sold and stock), hand the key, after commit, to the job
`refresh_counts(keys)`, which asks the backend for the batch that is due and re-indexes it
(`batch_count_refreshes`: the Whoosh backend collects keys for COUNTS_DELAY seconds and writes them in one
commit; on PostgreSQL a write is one row, so every refresh is due at once). Counts are therefore at most
a few seconds stale while likes and sales keep coming; `flush_count_refreshes()` (a job for a one-minute
schedule) writes whatever is still waiting.
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import Session

from app.core.parsing import parse_id
from app.extensions import db
from app.search import get_backend
from app.search.backend import DOC_TYPES


def index_documents(kind: str, ids: list[int], with_dependents: bool = True) -> dict:
    """Job: write the current documents of these ids, delete those that should not be found, and (unless
    only counts changed) re-index the documents that depend on them (a review's product). Idempotent."""
    if kind not in DOC_TYPES:
        raise ValueError(f"unknown search document type {kind!r}")
    from app.search.documents import build_documents, dependents  # reads every domain's models

    ids = [int(i) for i in ids]
    writes: dict[str, tuple[list, list[int]]] = {}
    # A session of its own: inline, this runs right after the request's commit; its session stays the request's.
    with Session(db.engine) as session:
        writes[kind] = build_documents(session, kind, ids)
        for other_kind, other_ids in (dependents(session, kind, ids) if with_dependents else {}).items():
            writes[other_kind] = build_documents(session, other_kind, other_ids)
    backend = get_backend()
    backend.index([doc for docs, _gone in writes.values() for doc in docs])
    for doc_type, (_docs, gone) in writes.items():
        backend.delete(doc_type, gone)
    return {"indexed": sum(len(docs) for docs, _gone in writes.values()),
            "deleted": sum(len(gone) for _docs, gone in writes.values())}


def _document_keys(keys: list[str]) -> list[str]:
    """Well-formed "type:id" keys (a job's arguments come from outside this process)."""
    checked = []
    for key in keys:
        kind, _sep, ref_id = str(key).partition(":")
        if kind not in DOC_TYPES or parse_id(ref_id) is None:
            raise ValueError(f"not a search document key: {key!r}")
        checked.append(f"{kind}:{int(ref_id)}")
    return checked


def _index_keys(keys: list[str]) -> dict:
    by_type: dict[str, list[int]] = {}
    for key in keys:
        kind, _sep, ref_id = key.partition(":")
        by_type.setdefault(kind, []).append(int(ref_id))
    totals = {"indexed": 0, "deleted": 0}
    for kind, ids in sorted(by_type.items()):
        done = index_documents(kind, ids, with_dependents=False)
        totals = {name: totals[name] + done[name] for name in totals}
    return totals


def refresh_counts(keys: list[str]) -> dict:
    """Job: note that these documents' counts changed and re-index the batch that is due, if any. Idempotent."""
    return _index_keys(get_backend().batch_count_refreshes(_document_keys(keys)))


def flush_count_refreshes() -> dict:
    """Job (schedule it every minute): re-index every count refresh still waiting for its batch."""
    return _index_keys(get_backend().batch_count_refreshes([], force=True))


def rebuild_index() -> int:
    """Rebuild the whole index from the database; returns the number of documents."""
    from app.search.documents import all_documents

    with Session(db.engine) as session:
        count = get_backend().rebuild(all_documents(session))
    current_app.logger.info("search: rebuilt the %s index with %d documents", get_backend().name, count)
    return count
