"""Keep the search index current.

Services say what changed, by name: `queue_post(post.id)` after creating, editing or deleting a post,
`queue_product`, `queue_community` and `queue_user` likewise. The ids wait on the open unit of work
(app/core/uow.py) and are handed to the job runner, batched, by its after-commit callback (a rollback drops
them). The job `index_documents(kind, ids)` re-reads the rows
and writes or deletes their documents, so it is idempotent and safe to run twice or late.

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

import logging

from flask import current_app
from sqlalchemy.orm import Session

from app.core.parsing import parse_id
from app.core.uow import after_commit, current_unit
from app.extensions import db
from app.jobs.runner import enqueue
from app.search import get_backend
from app.search.backend import DOC_COMMUNITY, DOC_POST, DOC_PRODUCT, DOC_TYPES, DOC_USER

log = logging.getLogger(__name__)

JOB = "app.search.indexing:index_documents"
COUNTS_JOB = "app.search.indexing:refresh_counts"
_COUNTS = "counts"  # pending key for count-only refreshes: a set of (type, id)
_PENDING = "search_pending"


def queue_post(post_id: int) -> None:
    """Re-index this post once the current transaction commits (removed or deleted posts leave the index)."""
    _queue(DOC_POST, post_id)


def queue_product(product_id: int) -> None:
    """Re-index this product (text, price, stock, status) once the current transaction commits."""
    _queue(DOC_PRODUCT, product_id)


def queue_community(community_id: int) -> None:
    _queue(DOC_COMMUNITY, community_id)


def queue_user(user_id: int) -> None:
    _queue(DOC_USER, user_id)


def queue_post_counts(post_id: int) -> None:
    """The post's like or save count changed: refresh it in the index soon, batched with other changes."""
    _queue(_COUNTS, (DOC_POST, int(post_id)))


def queue_product_counts(product_id: int) -> None:
    """The product's units sold or stock changed: refresh it in the index soon, batched with other changes."""
    _queue(_COUNTS, (DOC_PRODUCT, int(product_id)))


def _queue(doc_type: str, ref: int | tuple[str, int]) -> None:
    unit = current_unit()
    if unit is None:
        raise RuntimeError("queue search work inside the service's unit_of_work()")
    pending = unit.info.get(_PENDING)
    if pending is None:
        pending = unit.info[_PENDING] = {}
        after_commit(lambda: _enqueue_pending(pending))
    pending.setdefault(doc_type, set()).add(ref if isinstance(ref, tuple) else int(ref))


def _enqueue_pending(pending: dict) -> None:
    # A full re-index includes the counts.
    counts = {(kind, ref_id) for kind, ref_id in pending.pop(_COUNTS, set()) if ref_id not in pending.get(kind, ())}
    jobs = [(JOB, {"kind": doc_type, "ids": sorted(ids)}) for doc_type, ids in pending.items()]
    if counts:
        jobs.append((COUNTS_JOB, {"keys": [f"{kind}:{ref_id}" for kind, ref_id in sorted(counts)]}))
    for job, kwargs in jobs:
        try:
            enqueue(job, **kwargs)
        except Exception:  # the change is committed; a stale index must not turn it into an error page
            log.exception("search: %s %s failed; `flask search reindex` repairs it", job, kwargs)


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
