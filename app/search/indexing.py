"""Keep the search index current.

Services say what changed, by name: `queue_post(post.id)` after creating, editing or deleting a post,
`queue_community` and `queue_user` likewise. The ids wait on the database session and are handed to the
job runner only after the transaction commits (SQLAlchemy's after_commit event is just the transport
that defers the enqueue; a rollback drops them). The job `index_documents(kind, ids)` re-reads the rows
and writes or deletes their documents, so it is idempotent and safe to run twice or late.

Like and save counts (what sort=top orders by) change far more often than text, so they are batched:
`queue_post_counts(post.id)` after a like or save hands the id, after commit, to the job
`refresh_counts(ids)`, which asks the backend for the batch that is due and re-indexes it
(`batch_count_refreshes`: the Whoosh backend collects ids for COUNTS_DELAY seconds and writes them in one
commit; on PostgreSQL a write is one row, so every refresh is due at once). Counts are therefore at most
a few seconds stale while likes keep coming; `flush_count_refreshes()` (a job for a one-minute schedule)
writes whatever is still waiting.
"""
from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db
from app.jobs.runner import enqueue
from app.search import get_backend
from app.search.backend import DOC_COMMUNITY, DOC_POST, DOC_TYPES, DOC_USER
from app.search.documents import all_documents, build_documents

log = logging.getLogger(__name__)

JOB = "app.search.indexing:index_documents"
COUNTS_JOB = "app.search.indexing:refresh_counts"
_COUNTS = "counts"  # pending key for count-only refreshes of posts
_PENDING = "search_pending"
_HOOKED = "search_hooked"


def queue_post(post_id: int) -> None:
    """Re-index this post once the current transaction commits (removed or deleted posts leave the index)."""
    _queue(DOC_POST, post_id)


def queue_community(community_id: int) -> None:
    _queue(DOC_COMMUNITY, community_id)


def queue_user(user_id: int) -> None:
    _queue(DOC_USER, user_id)


def queue_post_counts(post_id: int) -> None:
    """The post's like or save count changed: refresh it in the index soon, batched with other changes."""
    _queue(_COUNTS, post_id)


def _queue(doc_type: str, ref_id: int) -> None:
    session = db.session()
    session.info.setdefault(_PENDING, {}).setdefault(doc_type, set()).add(int(ref_id))
    if not session.info.get(_HOOKED):
        event.listen(session, "after_commit", _enqueue_pending)
        event.listen(session, "after_rollback", _drop_pending)
        session.info[_HOOKED] = True


def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


def _enqueue_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, None) or {}
    counts = pending.pop(_COUNTS, set()) - pending.get(DOC_POST, set())  # a full re-index includes counts
    jobs = [(JOB, {"kind": doc_type, "ids": sorted(ids)}) for doc_type, ids in pending.items()]
    if counts:
        jobs.append((COUNTS_JOB, {"ids": sorted(counts)}))
    for job, kwargs in jobs:
        try:
            enqueue(job, **kwargs)
        except Exception:  # the change is committed; a stale index must not turn it into an error page
            log.exception("search: %s %s failed; `flask search reindex` repairs it", job, kwargs)


def index_documents(kind: str, ids: list[int]) -> dict:
    """Job: write the current documents of these ids, delete those that should not be found. Idempotent."""
    if kind not in DOC_TYPES:
        raise ValueError(f"unknown search document type {kind!r}")
    # A session of its own: this runs inline from after_commit, where the request's session cannot query.
    with Session(db.engine) as session:
        docs, gone = build_documents(session, kind, [int(i) for i in ids])
    backend = get_backend()
    backend.index(docs)
    backend.delete(kind, gone)
    return {"indexed": len(docs), "deleted": len(gone)}


def refresh_counts(ids: list[int]) -> dict:
    """Job: note that these posts' counts changed and re-index the batch that is due, if any. Idempotent."""
    due = get_backend().batch_count_refreshes([int(i) for i in ids])
    return index_documents(DOC_POST, due) if due else {"indexed": 0, "deleted": 0}


def flush_count_refreshes() -> dict:
    """Job (schedule it every minute): re-index every count refresh still waiting for its batch."""
    due = get_backend().batch_count_refreshes([], force=True)
    return index_documents(DOC_POST, due) if due else {"indexed": 0, "deleted": 0}


def rebuild_index() -> int:
    """Rebuild the whole index from the database; returns the number of documents."""
    with Session(db.engine) as session:
        count = get_backend().rebuild(all_documents(session))
    current_app.logger.info("search: rebuilt the %s index with %d documents", get_backend().name, count)
    return count
