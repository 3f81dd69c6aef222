"""`flask search reindex`, `count` and `status`."""
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
    """The backend, how many documents it holds and, on PostgreSQL, how it ranks large result sets."""
    from app.search import get_backend

    backend = get_backend()
    click.echo(f"backend: {backend.name}, documents: {backend.count()}")
    if backend.name == "postgres":
        from app.search.postgres_backend import CANDIDATES, EXACT_COUNT, SAMPLE_ROWS

        click.echo(f"ranking: every match up to {EXACT_COUNT}, then the newest {CANDIDATES}; totals and facets "
                   f"above {EXACT_COUNT} estimated from a fixed sample of about {SAMPLE_ROWS} rows")
    problems = backend.problems()
    for problem in problems:
        click.echo(f"problem: {problem}", err=True)
    if problems:
        raise SystemExit(1)
