"""The Whoosh backend's two query paths agree: numpy over the columnar side files (the fast path) and Whoosh's
own matchers (phrases, old indexes). No database: documents go straight into a backend in a temporary
directory, over several segments, with updates and deletions."""
from __future__ import annotations

import random
from datetime import datetime, timedelta

import numpy as np
import pytest
from whoosh import index as whoosh_index

from app.core.clock import frozen_at
from app.search import whoosh_backend
from app.search.backend import SearchDocument, SearchQuery
from app.search.text import parse_query
from app.search.whoosh_backend import INDEX_NAME, WhooshBackend
from app.search.whoosh_query import top_indices

ZH = "防晒 面霜 口红 露营 帐篷 咖啡 火锅 宝宝 穿搭 收纳".split()
EN = "sunscreen serum tent camping coffee hotpot baby outfit storage lens trail".split()
COMMUNITIES = ["beauty", "outdoor", "food", "home"]


def _documents(count: int, seed: int = 3) -> list[SearchDocument]:
    rng = random.Random(seed)
    docs = []
    for ref_id in range(1, count + 1):
        words = rng.sample(ZH, 2) + rng.sample(EN, 3)
        docs.append(SearchDocument(
            "post" if ref_id % 10 else "community", ref_id, title=" ".join(words[:3]),
            body=" ".join(rng.choices(ZH + EN, k=rng.randint(3, 30))), tags=rng.choice(EN),
            names=f"user{ref_id % 7}", community=rng.choice(COMMUNITIES) if ref_id % 10 else None,
            author_id=ref_id % 7 + 1, kind="note", created_at=datetime(2025, 1, 1) + timedelta(hours=ref_id % 50),
            like_count=rng.randint(0, 5)))
    return docs


CHANGED: list[tuple[str, int]] = []


@pytest.fixture
def backend(tmp_path) -> WhooshBackend:
    backend = WhooshBackend(tmp_path / "search")
    docs = _documents(400)
    backend.rebuild(docs[:250])
    backend.index(docs[250:330])  # more segments
    backend.index(docs[330:])
    rng = random.Random(9)
    changed = rng.sample(docs, 40)  # updates mark the old copies deleted in older segments
    for doc in changed:
        doc.title += " lantern"
        doc.like_count += 3
    CHANGED[:] = [(doc.doc_type, doc.ref_id) for doc in changed]
    backend.index(changed[:20])
    backend.index(changed[20:])
    backend.delete("post", [doc.ref_id for doc in docs[:15]])
    return backend


QUERIES = ["sunscreen", "防晒", "防晒 tent", "coffee 火锅 lens", "lantern", "露营 -camping", "tent serum",
           "nothingmatches", "sunscreen nothingmatches"]
VARIANTS = [{}, {"sort": "new"}, {"sort": "top"}, {"community": "outdoor"}, {"doc_type": None},
            {"offset": 5, "limit": 7}, {"any_term": True}, {"exclude_author_ids": frozenset({2, 5})}]


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: ",".join(f"{k}={v[k]}" for k in v) or "plain")
def test_columns_and_matchers_give_the_same_answer(backend, variant):
    generation = backend._current()
    assert generation.columns is not None and len(generation.segments) > 1
    for text in QUERIES:
        query = SearchQuery(parse_query(text), facets=True, **{"limit": 20, **variant})
        fast = generation.columns.search(query)
        slow = backend._search_matchers(generation.searcher(), query)
        assert (fast.total, fast.type_counts, fast.community_counts) == \
            (slow.total, slow.type_counts, slow.community_counts), text
        assert slow.total_exact and fast.total_exact
        if query.sort == "relevant":  # equal scores may come in another order
            assert [round(hit.score, 6) for hit in fast.hits] == [round(hit.score, 6) for hit in slow.hits], text
        else:  # the matchers break ties by document number, the columns by id: compare the sort keys
            assert len(fast.hits) == len(slow.hits), text


def test_updates_and_deletions_are_seen_at_once(backend):
    hits = backend.search(SearchQuery(parse_query("lantern"), doc_type=None, limit=100)).hits
    expected = {key for key in CHANGED if not (key[0] == "post" and key[1] <= 15)}
    assert sorted((hit.doc_type, hit.ref_id) for hit in hits) == sorted(expected)  # one copy each, none deleted
    assert backend.count() == 400 - 14  # posts 1–15 (10 is a community) are gone


def test_suggestions_and_spelling_from_the_columns(backend):
    assert backend._current().columns is not None
    hits = backend.suggest(parse_query("lant", prefix=True), 50)
    assert hits and all(hit.score > 0 for hit in hits)
    assert backend.corrections(["sunscren", "serum", "qqqqzzzz"]) == {"sunscren": "sunscreen"}


def test_an_index_from_before_the_columns_still_answers_and_reindex_upgrades_it(tmp_path):
    directory = tmp_path / "old"
    directory.mkdir()
    old = whoosh_backend.make_schema()
    ix = whoosh_index.create_in(str(directory), old, indexname=INDEX_NAME)
    writer = ix.writer()  # Whoosh's own codec: no side files
    docs = _documents(60)
    for doc in docs:
        writer.add_document(**whoosh_backend._fields(doc))
    writer.commit()
    backend = WhooshBackend(directory)
    assert backend._current().columns is None
    before = backend.search(SearchQuery(parse_query("sunscreen"), facets=True))
    assert before.total > 0 and before.hits
    backend.index(docs[:5])  # updates work on the old segments too
    assert backend.search(SearchQuery(parse_query("sunscreen"), facets=True)).total == before.total
    backend.rebuild(docs)
    assert backend._current().columns is not None
    after = backend.search(SearchQuery(parse_query("sunscreen"), facets=True))
    assert (after.total, after.type_counts, after.community_counts) == \
        (before.total, before.type_counts, before.community_counts)


def test_a_slow_phrase_query_stops_at_the_time_limit(tmp_path, monkeypatch):
    backend = WhooshBackend(tmp_path / "search")
    backend.rebuild(SearchDocument("post", n, f"long trail {n}", body="a long trail walk") for n in range(1, 1500))
    monkeypatch.setattr(whoosh_backend, "QUERY_TIME_LIMIT", 0.0)
    found = backend.search(SearchQuery(parse_query('"long trail"'), facets=True))
    assert not found.total_exact and 0 < found.total < 1499 and found.hits
    monkeypatch.setattr(whoosh_backend, "QUERY_TIME_LIMIT", 30.0)
    found = backend.search(SearchQuery(parse_query('"long trail"'), facets=True))
    assert found.total_exact and found.total == 1499


def test_count_refreshes_are_written_in_batches(tmp_path):
    backend = WhooshBackend(tmp_path / "search")
    start = datetime(2025, 6, 1, 12, 0, 0)
    with frozen_at(start):
        assert backend.batch_count_refreshes(["post:3", "post:1"]) == []  # the batch starts collecting
        assert backend.batch_count_refreshes(["post:3", "product:2"]) == []
    with frozen_at(start + timedelta(seconds=whoosh_backend.COUNTS_DELAY)):
        # due: everything, once
        assert backend.batch_count_refreshes(["post:7"]) == ["post:1", "post:3", "post:7", "product:2"]
        assert backend.batch_count_refreshes([]) == []
        assert backend.batch_count_refreshes(["post:8"]) == []  # a new batch
        assert backend.batch_count_refreshes([], force=True) == ["post:8"]
    many = sorted(f"post:{i}" for i in range(1, whoosh_backend.COUNTS_BATCH + 1))
    with frozen_at(start):
        assert backend.batch_count_refreshes(many) == many  # a full batch does not wait


def test_a_batch_file_from_before_products_still_means_posts(tmp_path):
    backend = WhooshBackend(tmp_path / "search")
    backend.directory.mkdir(parents=True)
    (backend.directory / whoosh_backend.COUNTS_FILE).write_text("@0\n5 9\n")
    assert backend.batch_count_refreshes(["product:1"], force=True) == ["post:5", "post:9", "product:1"]


@pytest.mark.parametrize("size, n, distinct", [(10, 3, 4), (5000, 20, 50), (200_000, 20, 1000), (200_000, 20, 3),
                                               (200_000, 2500, 100_000), (300, 300, 7)])
def test_top_indices_matches_a_full_sort(size, n, distinct):
    rng = np.random.default_rng(size + n + distinct)
    primary = rng.integers(0, distinct, size).astype(np.float64)  # many ties
    second = rng.permutation(size)
    best = top_indices(primary, n, lambda rows: [second[rows]])
    expected = np.lexsort([second, primary])[::-1][:n]
    assert best.tolist() == expected.tolist()
