"""`flask doctor`: check a deployment's configuration and health, and say how to fix what is wrong.

Each check returns Findings: "ok", "warn" (worth knowing, not broken) or "fail" (broken or unsafe; the
command exits 1). A check that cannot run because an earlier one failed (no database) says so and fails too.
Checks read only; nothing here changes the database, the index or the queues.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, exists, func, select, text

from app.core.clock import now as clock_now
from app.extensions import db

OK, WARN, FAIL = "ok", "warn", "fail"
MIN_SECRET_KEY_LENGTH = 32
QUEUE_DEPTH_WARNING = 1000  # jobs waiting: workers are missing or too few
SEARCH_DRIFT_TOLERANCE = 0.005  # index vs database; indexing runs after commit, so a little drift is normal
SEARCH_DRIFT_MINIMUM = 10


@dataclass(frozen=True)
class Finding:
    level: str
    check: str
    message: str
    fix: str = ""


Check = Callable[[], Iterator[Finding]]


def _ok(check: str, message: str) -> Finding:
    return Finding(OK, check, message)


def check_secret_key() -> Iterator[Finding]:
    config = current_app.config
    key = config.get("SECRET_KEY") or ""
    if len(key) < MIN_SECRET_KEY_LENGTH:
        yield Finding(FAIL, "secret key", f"SECRET_KEY is {len(key)} characters long.",
                      "Set SECRET_KEY to at least 32 random characters, the same on every host: "
                      "python -c 'import secrets; print(secrets.token_urlsafe(48))'.")
    elif config.get("SECRET_KEY_SOURCE") != "environment":
        level = FAIL if config.get("ENV_NAME") == "production" else WARN
        yield Finding(level, "secret key", "SECRET_KEY was generated into the instance folder on this host.",
                      "Set SECRET_KEY in the environment, the same value on every host: a key generated per host "
                      "logs people out and refuses their forms whenever another host answers.")
    else:
        yield _ok("secret key", "set from the environment")


def check_production_flags() -> Iterator[Finding]:
    config = current_app.config
    name = "production flags"
    if config.get("ENV_NAME") != "production":
        yield Finding(WARN, name, f"TASTEMAKER_ENV is {config.get('ENV_NAME')}, not production.",
                      "Set TASTEMAKER_ENV=production on a public site (secure cookies, HSTS, no demo accounts).")
        return
    problems = 0
    if config.get("DEBUG"):
        problems += 1
        yield Finding(FAIL, name, "Debug mode is on.", "Unset FLASK_DEBUG: the debugger runs code for anyone.")
    if not (config.get("SESSION_COOKIE_SECURE") and config.get("REMEMBER_COOKIE_SECURE")):
        problems += 1
        yield Finding(FAIL, name, "Cookies are not marked Secure.", "Do not override the production preset's "
                      "SESSION_COOKIE_SECURE / REMEMBER_COOKIE_SECURE.")
    if not (config.get("PUBLIC_BASE_URL") or config.get("SERVER_NAME")):
        problems += 1
        yield Finding(FAIL, name, "PUBLIC_BASE_URL is not set: API links point at http://localhost:5000.",
                      "Set PUBLIC_BASE_URL to the site's address, e.g. https://tastemaker.example.")
    if config.get("PAYMENT_PROVIDER", "sandbox") == "sandbox":
        problems += 1
        yield Finding(WARN, name, "Payments go to the sandbox provider (ALLOW_SANDBOX_PAYMENTS=1): no money moves.",
                      "Fine for staging; configure a real PAYMENT_PROVIDER before taking orders.")
    if not problems:
        yield _ok(name, "production preset, secure cookies, PUBLIC_BASE_URL set")


def check_database() -> Iterator[Finding]:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001  (any failure is the finding)
        db.session.rollback()
        yield Finding(FAIL, "database", f"unreachable: {str(exc).splitlines()[0]}",
                      "Check DATABASE_URL, that the server runs and that this host may connect to it.")
        return
    dialect = db.engine.dialect.name
    yield _ok("database", f"reachable ({dialect})")
    if dialect == "sqlite" and current_app.config.get("REDIS_URL"):
        yield Finding(WARN, "database", "SQLite with REDIS_URL set: SQLite serves one host only.",
                      "Scale out on PostgreSQL: DATABASE_URL=postgresql://user@host/db.")


def check_migrations() -> Iterator[Finding]:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    migrate = current_app.extensions["migrate"]
    script = ScriptDirectory(migrate.directory)
    heads = set(script.get_heads())
    try:
        with db.engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
    except Exception as exc:  # noqa: BLE001
        yield Finding(FAIL, "migrations", f"cannot read the database's revision: {str(exc).splitlines()[0]}",
                      "Fix the database connection first.")
        return
    if current == heads:
        yield _ok("migrations", f"at head ({', '.join(sorted(heads))})")
    elif not current:
        yield Finding(FAIL, "migrations", "the database has no schema yet.", "Run: flask db upgrade")
    else:
        yield Finding(FAIL, "migrations", f"the database is at {', '.join(sorted(current))}, the code expects "
                      f"{', '.join(sorted(heads))}.", "Run: flask db upgrade (back up first: see the README).")


def expected_search_documents() -> int:
    """How many documents the index should hold: what app/search/documents.py builds, counted in SQL."""
    from app.accounts.models import User
    from app.communities.models import Community
    from app.posts.models import STATUS_PUBLISHED, Post
    from app.shop.models import Product, ProductStatus, Shop, ShopStatus, Sku

    owner = User.__table__.alias("owner")
    posts = db.session.scalar(select(func.count()).select_from(Post).join(User, User.id == Post.author_id)
                              .where(Post.status == STATUS_PUBLISHED, User.suspended_at.is_(None)))
    products = db.session.scalar(
        select(func.count()).select_from(Product).join(Shop, Shop.id == Product.shop_id)
        .join(owner, owner.c.id == Shop.owner_id)
        .where(Product.status == ProductStatus.ACTIVE, Shop.status == ShopStatus.APPROVED,
               owner.c.suspended_at.is_(None),
               exists().where(and_(Sku.product_id == Product.id, Sku.is_active.is_(True)))))
    communities = db.session.scalar(select(func.count()).select_from(Community))
    users = db.session.scalar(select(func.count()).select_from(User)
                              .where(User.suspended_at.is_(None), User.deleted_at.is_(None)))
    return int(posts + products + communities + users)


def check_search() -> Iterator[Finding]:
    from app.search import get_backend

    config = current_app.config
    backend_name = config.get("SEARCH_BACKEND", "whoosh")
    if backend_name == "whoosh" and db.engine.dialect.name == "postgresql":
        yield Finding(WARN, "search", "SEARCH_BACKEND=whoosh keeps the index on this host's disk.",
                      "With more than one web host set SEARCH_BACKEND=postgres, then run: flask search reindex")
    try:
        backend = get_backend()
        indexed = _exact_count(backend)
    except Exception as exc:  # noqa: BLE001
        db.session.rollback()
        yield Finding(FAIL, "search", f"the {backend_name} index cannot be read: {str(exc).splitlines()[0]}",
                      "Run: flask search reindex")
        return
    expected = expected_search_documents()
    drift = abs(indexed - expected)
    if drift > max(SEARCH_DRIFT_MINIMUM, SEARCH_DRIFT_TOLERANCE * expected):
        gap = f"{expected - indexed} missing" if expected > indexed else f"{indexed - expected} too many"
        yield Finding(FAIL, "search", f"the index holds {indexed} documents, the database {expected} ({gap}).",
                      "Check that job workers run (flask jobs worker), then run: flask search reindex")
    else:
        yield _ok("search", f"{backend_name} index holds {indexed} documents (database: {expected})")


def _exact_count(backend) -> int:
    """The index's own count, exact on PostgreSQL (its count() estimates above 100 000 rows for /healthz)."""
    if backend.name == "postgres":
        return int(db.session.scalar(text("SELECT count(*) FROM search_documents")))
    return int(backend.count())


def check_redis_and_queues() -> Iterator[Finding]:
    redis_url = current_app.config.get("REDIS_URL")
    if not redis_url:
        level = WARN if db.engine.dialect.name == "postgresql" else OK
        yield Finding(level, "redis", "REDIS_URL is not set: jobs run inline and rate limits are per process.",
                      "" if level == OK else "Set REDIS_URL when running more than one process or host, and "
                      "run `flask jobs worker`.")
        return
    from redis import Redis
    from redis.exceptions import RedisError
    from rq import Queue
    from rq.registry import FailedJobRegistry, StartedJobRegistry
    from rq.worker import Worker

    from app.jobs.runner import WORKER_QUEUES

    connection = Redis.from_url(redis_url, socket_connect_timeout=3, socket_timeout=3)
    try:
        connection.ping()
        queues = [Queue(name, connection=connection) for name in WORKER_QUEUES]
        depth = sum(queue.count for queue in queues)
        failed = sum(FailedJobRegistry(queue=queue).count for queue in queues)
        running = sum(StartedJobRegistry(queue=queue).count for queue in queues)
        workers = min(Worker.count(queue=queue) for queue in queues)
    except RedisError as exc:
        yield Finding(FAIL, "redis", f"unreachable at {_redacted(redis_url)}: {exc}",
                      "Start Redis or fix REDIS_URL. Meanwhile rate limits fall back to per-process counting "
                      "and jobs run inline in the web process.")
        return
    yield _ok("redis", f"reachable; {workers} worker(s), {depth} job(s) waiting, {running} running")
    if workers == 0:
        yield Finding(FAIL, "queue", f"no RQ worker is listening on every queue ({', '.join(WORKER_QUEUES)}).",
                      "Start one: flask jobs worker (see deploy/systemd/tastemaker-worker.service).")
    if depth > QUEUE_DEPTH_WARNING:
        yield Finding(WARN, "queue", f"{depth} jobs are waiting.", "Start more workers: flask jobs worker")
    if failed:
        yield Finding(FAIL, "failed jobs", f"{failed} job(s) in RQ's failed registry.",
                      "Look at them with `rq info --url REDIS_URL` and the worker log; requeue with "
                      "`rq requeue --all --url REDIS_URL` once fixed (every job is safe to run twice).")


def check_schedules() -> Iterator[Finding]:
    from app.jobs.models import JobRun

    since = clock_now() - timedelta(days=1)
    failed = db.session.scalar(select(func.count()).select_from(JobRun)
                               .where(JobRun.started_at >= since, JobRun.result.like("failed:%")))
    latest = db.session.scalar(select(func.max(JobRun.started_at)))
    if failed:
        yield Finding(FAIL, "failed jobs", f"{failed} scheduled run(s) failed in the last day.",
                      "See `SELECT name, period, result FROM job_runs WHERE result LIKE 'failed:%'` and the logs.")
    if latest is None or latest < clock_now() - timedelta(minutes=5):
        how = "a web process (JOBS_SCHEDULER=inline)" if current_app.config.get("JOBS_SCHEDULER") == "inline" \
            else "`flask jobs scheduler` (or `flask jobs run-due` from cron)"
        yield Finding(WARN, "schedules", "no schedule has fired in the last 5 minutes.",
                      f"Schedules are fired by {how}; check that it runs.")
    elif not failed:
        yield _ok("schedules", f"last fired at {latest:%Y-%m-%d %H:%M} UTC, none failed in the last day")


def _redacted(url: str) -> str:
    """A URL without its password, for printing."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://…@{rest.rsplit('@', 1)[1]}"
    return url


CHECKS: list[Check] = [check_secret_key, check_production_flags, check_database, check_migrations, check_search,
                       check_redis_and_queues, check_schedules]
NEEDS_DATABASE = {check_migrations, check_search, check_schedules}


def run_checks(checks: list[Check] | None = None) -> list[Finding]:
    """Every check's findings, in order; those needing the database are skipped (as failures) without it."""
    findings: list[Finding] = []
    database_ok = True
    for check in checks or CHECKS:
        if check in NEEDS_DATABASE and not database_ok:
            findings.append(Finding(FAIL, check.__name__.removeprefix("check_"), "skipped: no database",
                                    "Fix the database first."))
            continue
        try:
            found = list(check())
        except Exception as exc:  # noqa: BLE001  (a crashing check is itself a finding)
            db.session.rollback()
            found = [Finding(FAIL, check.__name__.removeprefix("check_"), f"the check crashed: {exc!r}")]
        if check is check_database and any(f.level == FAIL for f in found):
            database_ok = False
        findings += found
    return findings
