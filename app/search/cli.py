"""`flask search reindex`, `count`, `status` and `install-rum`."""
from __future__ import annotations

import time

import click
from flask.cli import AppGroup

search_cli = AppGroup("search", help="Search index: rebuild and inspect.")


@search_cli.command("reindex")
def reindex() -> None:
    """Rebuild the whole index (posts, communities, people) from the database."""
    from app.search import get_backend
    from app.search.indexing import rebuild_index

    started = time.perf_counter()
    count = rebuild_index()
    click.echo(f"Indexed {count} documents into the {get_backend().name} index "
               f"in {time.perf_counter() - started:.1f} s.")


@search_cli.command("count")
def count() -> None:
    """How many documents the index holds."""
    from app.search import get_backend

    click.echo(str(get_backend().count()))


@search_cli.command("status")
def status() -> None:
    """The backend, how many documents it holds and, on PostgreSQL, whether searches use the RUM index."""
    from app.search import get_backend

    backend = get_backend()
    click.echo(f"backend: {backend.name}, documents: {backend.count()}")
    problems = backend.problems()
    if backend.name == "postgres" and not problems:
        reason = backend.rum_status()
        from app.search.postgres_backend import CANDIDATES, EXACT_COUNT, RUM_MATCHES

        click.echo(f"ranking: every match up to {EXACT_COUNT}, " + (
            f"then the RUM index's best up to {RUM_MATCHES}, then the newest {CANDIDATES}" if reason is None
            else f"then the newest {CANDIDATES} ({reason})"))
    for problem in problems:
        click.echo(f"problem: {problem}", err=True)
    if problems:
        raise SystemExit(1)


@search_cli.command("install-rum")
def install_rum_index() -> None:
    """PostgreSQL backend: create the rum extension and the RUM index (CONCURRENTLY: writes go on meanwhile)."""
    from app.extensions import db
    from app.search.models import install_rum

    if db.engine.dialect.name != "postgresql":
        raise click.ClickException("The RUM index is for SEARCH_BACKEND=postgres on PostgreSQL.")
    started = time.perf_counter()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        reason = install_rum(conn, concurrently=True)
    if reason:
        raise click.ClickException(f"No RUM index: {reason}. On Debian: apt-get install postgresql-15-rum "
                                   "(the server's major version), then run this again as a role that may "
                                   "CREATE EXTENSION.")
    click.echo(f"The RUM index is ready ({time.perf_counter() - started:.1f} s); searches use it within "
               "5 minutes (each process checks again), or at once after a restart.")
