"""Enqueue jobs and fire schedules.

A job is a plain function named by its dotted path ("app.feeds.training:train_nightly") so RQ can import
it in a worker. Inline (no REDIS_URL) the job runs in this process right away; with Redis it goes to an RQ
queue and `flask jobs worker` runs it, and while Redis is unreachable it runs inline again. Two queues, drained
in order: URGENT_QUEUE for work with a deadline (the schedules: reservations and groups expiring; money owed
back: `enqueue_urgent`), DEFAULT_QUEUE for the rest (search indexing and the like), so a backlog of re-indexing
never delays a refund or an expiry.
Every job must be safe to run twice: RQ retries a failed job, and one whose worker died mid-run.

Schedules: `SCHEDULES` maps a name to (job path, period). `run_due_schedules(now)` claims each schedule's
current period by inserting a JobRun row (unique on name+period), so however many hosts or processes call
it, a period's job is enqueued exactly once. `flask jobs scheduler` calls it every minute.
"""
from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

from flask import current_app
from sqlalchemy import update

from app.core.clock import now as clock_now
from app.core.db import insert_if_absent
from app.core.uow import unit_of_work
from app.extensions import db
from app.jobs.models import JobRun

log = logging.getLogger(__name__)

# name → (job path, period format: one run per distinct value of now.strftime(format))
SCHEDULES: dict[str, tuple[str, str]] = {
    "recommender-nightly": ("app.feeds.training:train_nightly", "%Y-%m-%d"),
    "shop-expire-reservations": ("app.shop.orders:expire_reservations", "%Y-%m-%dT%H:%M"),
    "shop-auto-complete": ("app.shop.orders:complete_delivered_orders", "%Y-%m-%d"),
    "shop-aftersale-auto-approve": ("app.shop.aftersales:approve_overdue_after_sales", "%Y-%m-%dT%H"),
    # Likes and saves change search counts in batches; this writes whatever a quiet minute left waiting.
    "search-flush-counts": ("app.search.indexing:flush_count_refreshes", "%Y-%m-%dT%H:%M"),
    "accounts-purge-sessions": ("app.accounts.sessions:purge_ended_sessions", "%Y-%m-%d"),
    # Overdue group-buys expire (one refund job per paid order) and failed refunds are retried.
    "groupbuy-expire-groups": ("app.groupbuy.services:expire_overdue_groups", "%Y-%m-%dT%H:%M"),
    # Commissions of orders whose return window has passed become available (app/affiliate/ledger.py).
    "affiliate-release": ("app.affiliate.ledger:release_available_commissions", "%Y-%m-%dT%H"),
    "moderation-lift-suspensions": ("app.moderation.jobs:lift_expired_suspensions", "%Y-%m-%dT%H:%M"),
}
NIGHTLY_HOUR = 3  # daily schedules fire from 03:00 (server time) on
JOB_RETRIES, JOB_RETRY_INTERVALS = 3, [10, 60, 300]  # a failed or abandoned RQ job runs again, up to 3 times
WORKER_MAINTENANCE_SECONDS = 60  # how often workers look for jobs abandoned by a dead worker (RQ's default: 10 min)


def resolve(path: str) -> Callable:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def run_job(path: str, **kwargs):
    """Entry point for workers and inline runs: the app context comes from the caller (or RQ's worker)."""
    return resolve(path)(**kwargs)


DEFAULT_QUEUE, URGENT_QUEUE = "default", "urgent"
WORKER_QUEUES = (URGENT_QUEUE, DEFAULT_QUEUE)  # a worker takes from the first non-empty one


def enqueue(path: str, **kwargs) -> str:
    """Run `path` inline, or queue it on RQ when REDIS_URL is set. Returns 'inline' or the RQ job id."""
    return _enqueue_on(DEFAULT_QUEUE, path, kwargs)


def enqueue_urgent(path: str, **kwargs) -> str:
    """Like `enqueue`, on the queue workers drain first: work with a deadline or money owed to someone."""
    return _enqueue_on(URGENT_QUEUE, path, kwargs)


def _enqueue_on(queue_name: str, path: str, kwargs: dict) -> str:
    redis_url = current_app.config.get("REDIS_URL")
    if not redis_url:
        run_job(path, **kwargs)
        return "inline"
    from redis import Redis
    from redis.exceptions import RedisError
    from rq import Queue, Retry

    try:
        queue = Queue(queue_name, connection=Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5))
        # A worker killed mid-job leaves it "abandoned"; RQ re-enqueues it while it has retries left (every job
        # is safe to run twice), found by the workers' registry clean-up (WORKER_MAINTENANCE_SECONDS).
        job = queue.enqueue("app.jobs.worker.run_in_app", path, kwargs, job_timeout=3600,
                            retry=Retry(max=JOB_RETRIES, interval=JOB_RETRY_INTERVALS))
    except RedisError as exc:
        # Redis is down: the work is not dropped, it runs here and now (slower for this request, but done).
        log.warning("Redis unreachable (%s): running %s inline", exc, path)
        run_job(path, **kwargs)
        return "inline"
    return job.id


def period_of(name: str, moment: datetime) -> str | None:
    """The period a schedule is in at `moment`, or None before its daily hour."""
    _path, fmt = SCHEDULES[name]
    if fmt == "%Y-%m-%d" and moment.hour < NIGHTLY_HOUR:
        return None
    return moment.strftime(fmt)


def run_due_schedules(moment: datetime | None = None) -> list[str]:
    """Enqueue every schedule whose current period has not run yet; returns the names enqueued."""
    moment = moment or clock_now()
    fired = []
    for name, (path, _fmt) in SCHEDULES.items():
        period = period_of(name, moment)
        if period is None:
            continue
        with unit_of_work():  # the claim is committed, so visible to other hosts, before the job starts
            claimed = insert_if_absent(JobRun, name=name, period=period, started_at=moment)
        if not claimed:
            continue
        try:
            result = enqueue_urgent(path)
        except Exception as exc:  # a failed run is recorded; the next period tries again
            db.session.rollback()  # a job that failed outside its unit of work may leave a broken transaction
            log.exception("scheduled job %s failed", name)
            result = f"failed: {exc}"[:500]
        with unit_of_work():
            db.session.execute(update(JobRun).where(JobRun.name == name, JobRun.period == period)
                               .values(finished_at=clock_now(), result=str(result)[:500]))
        fired.append(name)
    return fired


def start_inline_scheduler(app, interval: int = 60) -> threading.Thread:
    """A daemon thread that runs due schedules every `interval` seconds in this process (JOBS_SCHEDULER=inline).

    Started on the first request a web process serves, so CLI commands never start it.
    """
    def loop():
        while True:
            with app.app_context():
                try:
                    run_due_schedules()
                except Exception:  # a broken job must not stop the loop; it is logged and retried next period
                    log.exception("inline scheduler")
                finally:
                    db.session.remove()
            time.sleep(interval)

    thread = threading.Thread(target=loop, name="tastemaker-scheduler", daemon=True)
    thread.start()
    return thread
