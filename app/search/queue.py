"""The search queue: how services say what changed, by name, without importing search's document builders.

`queue_post(post.id)` after creating, editing or deleting a post, `queue_product`, `queue_community` and
`queue_user` likewise; `queue_post_counts` / `queue_product_counts` when only counts moved. The ids wait on
the open unit of work (app/core/uow.py) and are handed to the job runner, batched, by its after-commit
callback (a rollback drops them). The jobs
themselves (`app.search.indexing`) sit above every domain; this module imports none, so any domain may
call it.
"""
from __future__ import annotations

import logging

from app.core.uow import after_commit, current_unit
from app.jobs.runner import enqueue
from app.search.backend import DOC_COMMUNITY, DOC_POST, DOC_PRODUCT, DOC_USER

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
