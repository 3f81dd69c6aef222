"""`flask search reindex` and `flask search count`."""
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
