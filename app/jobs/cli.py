"""`flask jobs worker`, `flask jobs scheduler` and `flask jobs run-due`."""
from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import AppGroup

from app.extensions import db
from app.jobs.runner import run_due_schedules

jobs_cli = AppGroup("jobs", help="Background jobs and schedules.")


@jobs_cli.command("run-due")
def run_due():
    """Enqueue every schedule that is due now (safe to call from cron on every host)."""
    fired = run_due_schedules()
    click.echo(f"Enqueued: {', '.join(fired)}" if fired else "Nothing due.")


@jobs_cli.command("scheduler")
@click.option("--interval", default=60, show_default=True, help="Seconds between checks.")
def scheduler(interval: int):
    """Check schedules every minute, forever (one per host is fine: each period fires once)."""
    while True:
        try:
            run_due_schedules()
        except Exception as exc:  # noqa: BLE001  (the database restarting must not end the scheduler)
            click.echo(f"Schedules not run this time: {exc!r}", err=True)
            db.session.rollback()
        finally:
            db.session.remove()
        time.sleep(interval)


@jobs_cli.command("worker")
def worker():
    """Run an RQ worker on the urgent, then the default queue (needs REDIS_URL)."""
    redis_url = current_app.config.get("REDIS_URL")
    if not redis_url:
        raise click.ClickException("REDIS_URL is not set: jobs run inline, there is nothing to work on.")
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisConnectionError
    from rq import Queue, Worker

    from app.jobs.runner import WORKER_MAINTENANCE_SECONDS, WORKER_QUEUES

    while True:  # Redis going away is waited out, not fatal: queued jobs resume when it is back
        try:
            connection = Redis.from_url(redis_url)
            worker = Worker([Queue(name, connection=connection) for name in WORKER_QUEUES], connection=connection,
                            maintenance_interval=WORKER_MAINTENANCE_SECONDS)
            # with_scheduler: a retried job waits its interval in RQ's scheduled registry, and some worker's
            # scheduler must move it back to the queue (without it, a retry never runs)
            worker.work(with_scheduler=True)
            return
        except RedisConnectionError as exc:
            click.echo(f"Redis unreachable ({exc}); retrying in 5 s.", err=True)
            time.sleep(5)
