"""Keep the search index current.

Services say what changed, by name: `queue_post(post.id)` after creating, editing or deleting a post,
`queue_community` and `queue_user` likewise. The ids wait on the database session and are handed to the
job runner only after the transaction commits (SQLAlchemy's after_commit event is just the transport
that defers the enqueue; a rollback drops them). The job `index_documents(kind, ids)` re-reads the rows
and writes or deletes their documents, so it is idempotent and safe to run twice or late.

Staleness, on purpose: likes and saves do not re-index a post, so the like/save counts behind
sort=top are as of the post's last edit or the last `flask search reindex`.
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
_PENDING = "search_pending"
_HOOKED = "search_hooked"


def queue_post(post_id: int) -> None:
    """Re-index this post once the current transaction commits (removed or deleted posts leave the index)."""
    _queue(DOC_POST, post_id)


def queue_community(community_id: int) -> None:
    _queue(DOC_COMMUNITY, community_id)


def queue_user(user_id: int) -> None:
    _queue(DOC_USER, user_id)


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
    for doc_type, ids in pending.items():
        try:
            enqueue(JOB, kind=doc_type, ids=sorted(ids))
        except Exception:  # the change is committed; a stale index must not turn it into an error page
            log.exception("search: indexing %s %s failed; `flask search reindex` repairs it", doc_type, sorted(ids))


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


def rebuild_index() -> int:
    """Rebuild the whole index from the database; returns the number of documents."""
    with Session(db.engine) as session:
        count = get_backend().rebuild(all_documents(session))
    current_app.logger.info("search: rebuilt the %s index with %d documents", get_backend().name, count)
    return count
