"""Several processes writing to one Whoosh index at once (as gunicorn workers do): nothing is lost or corrupt."""
from __future__ import annotations

import multiprocessing
import traceback
from pathlib import Path

from app.search.backend import SearchDocument, SearchQuery
from app.search.text import parse_query
from app.search.whoosh_backend import WhooshBackend

WRITERS, DOCS_EACH = 4, 12


def _write(directory: str, writer: int) -> None:
    try:
        backend = WhooshBackend(directory)
        for n in range(DOCS_EACH):  # one commit per document: the most lock contention
            backend.index([SearchDocument("post", writer * 1000 + n, f"Lantern {writer} {n}", body="camping light")])
    except BaseException:
        # The parent reports why a writer failed (a child's stderr is easy to lose under pytest).
        Path(directory, f"writer-{writer}.error").write_text(traceback.format_exc())
        raise


def test_concurrent_writers_from_several_processes(tmp_path):
    directory = str(tmp_path / "search")
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_write, args=(directory, w)) for w in range(WRITERS)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    failures = [path.read_text() for path in (tmp_path / "search").glob("writer-*.error")]
    assert not failures, failures
    assert [process.exitcode for process in processes] == [0] * WRITERS
    backend = WhooshBackend(directory)
    assert backend.count() == WRITERS * DOCS_EACH
    results = backend.search(SearchQuery(parse_query("lantern"), limit=1000))
    assert results.total == WRITERS * DOCS_EACH
    assert {hit.ref_id for hit in results.hits} == {w * 1000 + n for w in range(WRITERS) for n in range(DOCS_EACH)}
