"""Several processes writing to one Whoosh index at once (as gunicorn workers do): nothing is lost or corrupt."""
from __future__ import annotations

import multiprocessing
import time
import traceback
from pathlib import Path

from whoosh import index as whoosh_index

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


def _commit_until(directory: str, stop) -> None:
    backend = WhooshBackend(directory)
    n = 0
    while not stop.is_set():  # small commits, so Whoosh merges (and deletes) segments all the time
        backend.index([SearchDocument("post", n, f"Lantern {n}", body="camping light")])
        n += 1


def test_opening_the_index_while_other_processes_commit(tmp_path, caplog):
    """Each commit deletes the previous TOC and the segments it merged: a process opening the index or a new
    generation at that moment retries instead of failing or giving up on the columns of a vanished segment."""
    directory = str(tmp_path / "search")
    WhooshBackend(directory).index([SearchDocument("post", 10**6, "Seed")])
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    writers = [context.Process(target=_commit_until, args=(directory, stop)) for _ in range(2)]
    for process in writers:
        process.start()
    errors, opened = [], 0
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (opened < 1500 or WhooshBackend(directory).count() < 50):
            try:
                backend = WhooshBackend(directory)
                backend._open_or_create()  # what a new process does first: no cached index
                backend.count()
                opened += 1
            except Exception:  # noqa: BLE001 - every failure is the finding
                errors.append(traceback.format_exc())
    finally:
        stop.set()
        for process in writers:
            process.join(timeout=60)
    assert not errors, errors[:2]
    assert not [r.getMessage() for r in caplog.records if "no usable columns" in r.getMessage()]
    assert [process.exitcode for process in writers] == [0, 0]


def test_a_toc_removed_between_listing_and_reading_is_read_again(tmp_path, monkeypatch):
    directory = tmp_path / "search"
    WhooshBackend(directory).index([SearchDocument("post", 1, "Lantern")])
    real_read = whoosh_index.TOC.read
    failures = {"left": 0}

    def read_after_a_commit(*args, **kwargs):
        if failures["left"]:
            failures["left"] -= 1
            raise FileNotFoundError(2, "No such file or directory", "_tastemaker_1.toc")
        return real_read(*args, **kwargs)

    monkeypatch.setattr(whoosh_index.TOC, "read", read_after_a_commit)
    failures["left"] = 2
    backend = WhooshBackend(directory)
    backend._open_or_create()  # opening the index
    failures["left"] = 2
    assert backend.count() == 1  # opening its latest generation
    assert failures["left"] == 0
