"""The PostgreSQL backend's paths for large indexes, on small data: totals and facets estimated from the fixed
sample (with and without the stopped exact count), the newest candidates ranked (found walking the primary key
or, when the newest documents hold too few matches, from the GIN index), pages past them, as-you-type prefixes
on title words, and planner settings that never outlive a search.

Each test module gets its own throwaway database with only the search tables."""
from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest
from sqlalchemy import create_engine, event

from app.search import postgres_backend
from app.search.backend import SearchDocument, SearchQuery
from app.search.models import SearchDocumentRow, SearchTerm
from app.search.postgres_backend import PostgresBackend
from app.search.text import parse_query
from tests.conftest import throwaway_postgres_database

WORDS = "sunscreen camping tent coffee hotpot lipstick 防晒 露营 咖啡 火锅".split()
COMMUNITIES = ["beauty", "outdoor", "food"]


def documents(count: int, seed: int = 3) -> list[SearchDocument]:
    rng = random.Random(seed)
    start = datetime(2026, 1, 1)
    return [SearchDocument("post", ref_id, " ".join(rng.sample(WORDS, 2)), body=" ".join(rng.choices(WORDS, k=8)),
                           community=COMMUNITIES[ref_id % 3], author_id=ref_id % 7 + 1,
                           created_at=start + timedelta(minutes=ref_id))
            for ref_id in range(1, count + 1)]


@pytest.fixture(scope="module")
def engine():
    with throwaway_postgres_database() as url:
        engine = create_engine(url)
        with engine.begin() as conn:
            for table in (SearchDocumentRow.__table__, SearchTerm.__table__):
                table.create(conn)
        PostgresBackend(engine).index(documents(300))
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE search_documents")
        yield engine
        engine.dispose()


@pytest.fixture
def backend(engine) -> PostgresBackend:
    return PostgresBackend(engine)


def search(backend, text: str, **fields):
    return backend.search(SearchQuery(parse_query(text), limit=fields.pop("limit", 20), facets=True, **fields))


def keys(found) -> list[tuple[int, float]]:
    return [(hit.ref_id, round(hit.score, 5)) for hit in found.hits]


def statements(engine) -> list[str]:
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda conn, cursor, sql, *args: seen.append(sql))
    return seen


@pytest.mark.parametrize("walk_rows", [10**6, 1])  # the newest documents hold enough matches, or too few
def test_a_window_as_large_as_the_matches_ranks_them_as_every_match_ranked(backend, monkeypatch, walk_rows):
    exact = {text: [keys(search(backend, text, offset=offset)) for offset in (0, 20, 40)]
             for text in ("sunscreen", "防晒 camping", "coffee -hotpot", '"camping tent"', "lipstick 火锅 咖啡")}
    monkeypatch.setattr(postgres_backend, "EXACT_COUNT", 5)  # many matches: the newest CANDIDATES are ranked…
    monkeypatch.setattr(postgres_backend, "CANDIDATES", 300)  # … as many as the data, so the same order
    monkeypatch.setattr(postgres_backend, "WALK_ROWS", walk_rows)
    for text, pages in exact.items():
        assert [keys(search(backend, text, offset=offset)) for offset in (0, 20, 40)] == pages, text


@pytest.mark.parametrize("walk_rows", [10**6, 1])
@pytest.mark.parametrize("text", ["sunscreen", "防晒 camping", "coffee tent"])
def test_pages_past_the_ranked_window_show_every_match_once(backend, monkeypatch, text, walk_rows):
    total = search(backend, text).total
    monkeypatch.setattr(postgres_backend, "EXACT_COUNT", 20)  # many matches: a window is ranked
    monkeypatch.setattr(postgres_backend, "CANDIDATES", 10)
    monkeypatch.setattr(postgres_backend, "WALK_ROWS", walk_rows)
    seen = []
    for offset in range(0, total + 7, 7):  # the second page straddles the window's end
        seen += [hit.ref_id for hit in search(backend, text, offset=offset, limit=7).hits]
    assert len(seen) == len(set(seen)) == total
    first_window = [hit.ref_id for hit in search(backend, text, limit=10).hits]
    assert seen[:10] == first_window  # the window is ranked by ts_rank_cd, the rest follows it
    newest = sorted(seen, reverse=True)  # ref_id follows id here: the window is the newest matches
    assert sorted(first_window, reverse=True) == newest[:10] and seen[10:] == newest[10:]


def test_small_totals_and_facets_are_exact(backend):
    found = search(backend, "lipstick 火锅 咖啡")
    assert found.total_exact
    with backend.engine.connect() as conn:
        exact = conn.exec_driver_sql(
            "SELECT community, count(*) FROM search_documents WHERE tsv @@ "
            "'''lipstick'' & ''火锅'' & ''咖啡'''::tsquery GROUP BY community").all()
    assert found.total == sum(count for _, count in exact)
    assert found.community_counts["post"] == dict(exact)


def test_large_totals_and_facets_are_estimated_from_a_sample(backend, monkeypatch):
    exact = search(backend, "sunscreen")
    monkeypatch.setattr(postgres_backend, "EXACT_COUNT", 20)
    estimated = search(backend, "sunscreen")
    assert exact.total_exact and not estimated.total_exact
    assert [hit.ref_id for hit in estimated.hits] == [hit.ref_id for hit in exact.hits]
    # The sample is the whole table here (SAMPLE_ROWS > 300 rows), so the estimate is the count, rounded.
    assert estimated.total == postgres_backend._about(exact.total)
    assert estimated.type_counts == {"post": postgres_backend._about(exact.type_counts["post"])}
    assert set(estimated.community_counts["post"]) == set(exact.community_counts["post"])
    monkeypatch.setattr(postgres_backend, "SAMPLE_ROWS", 60)  # a fifth of the table: near, never below seen
    sampled = search(backend, "sunscreen")
    assert 20 < sampled.total and abs(sampled.total - exact.total) < exact.total * 0.6
    assert search(backend, "sunscreen").total == sampled.total  # a fixed sample: the same figure each time


def test_a_sample_with_many_matches_spares_the_exact_count(backend, engine, monkeypatch):
    exact = search(backend, "sunscreen")
    monkeypatch.setattr(postgres_backend, "EXACT_COUNT", 5)
    monkeypatch.setattr(postgres_backend, "SAMPLE_ROWS", 60)  # a fifth of the table
    seen = statements(engine)
    sure = search(backend, "sunscreen")
    counted = [sql for sql in seen if "FROM (SELECT search_documents.id" in sql]
    assert not counted and any("TABLESAMPLE" in sql for sql in seen)
    assert not sure.total_exact and abs(sure.total - exact.total) < exact.total * 0.6
    assert set(sure.community_counts["post"]) <= set(exact.community_counts["post"])
    monkeypatch.setattr(postgres_backend, "SAMPLE_SURE", 10**6)  # never sure: the stopped count runs
    seen.clear()
    assert not search(backend, "sunscreen").total_exact
    assert [sql for sql in seen if "FROM (SELECT search_documents.id" in sql]


@pytest.mark.parametrize("exact_count", [1000, 20])
def test_a_total_without_facets_counts_the_same(backend, monkeypatch, exact_count):
    monkeypatch.setattr(postgres_backend, "EXACT_COUNT", exact_count)
    for text in ("sunscreen", "lipstick 火锅 咖啡", "nothing-matches-this"):
        plain = backend.search(SearchQuery(parse_query(text), limit=20))
        faceted = search(backend, text)
        assert (plain.total, plain.total_exact) == (faceted.total, faceted.total_exact), text


def test_estimates_are_rounded_to_two_significant_figures():
    about = postgres_backend._about
    assert [about(7), about(99.6), about(309_133), about(2_046), about(1_950)] == [7, 100, 310_000, 2_000, 2_000]


def test_blocked_authors_are_left_out_of_hits_and_counts(backend):
    found = backend.search(SearchQuery(parse_query("coffee"), facets=True, exclude_author_ids=frozenset({1, 2})))
    everyone = search(backend, "coffee")
    assert found.total < everyone.total
    with backend.engine.connect() as conn:
        authors = dict(conn.exec_driver_sql("SELECT ref_id, author_id FROM search_documents").all())
    assert all(authors[hit.ref_id] not in (1, 2) for hit in found.hits)


def test_the_typed_prefix_matches_title_words_only(engine):
    backend = PostgresBackend(engine)
    backend.index([SearchDocument("post", 9001, "Zebra crossing", body="quokka quokka"),
                   SearchDocument("post", 9002, "Quokkas at dawn", body="zebra"),
                   SearchDocument("post", 9003, "A cozy burrow")])
    try:
        assert [hit.ref_id for hit in backend.suggest(parse_query("quo", prefix=True), 8)] == [9002]
        # a prefix of the word as written, not of its stem ("cozy" is indexed as "cozi")
        assert [hit.ref_id for hit in backend.suggest(parse_query("cozy", prefix=True), 8)] == [9003]
        assert [hit.ref_id for hit in backend.suggest(parse_query("zeb", prefix=True), 8)] == [9001]
        assert [hit.ref_id for hit in backend.suggest(parse_query("quokka zeb", prefix=True), 8)] == [9001]
        # the marked copies of title words never match a word typed in full
        assert {hit.ref_id for hit in search(backend, "quokka").hits} == {9001, 9002}
        assert search(backend, "^zebra").total == 2
    finally:
        backend.delete("post", [9001, 9002, 9003])


def test_planner_settings_end_with_the_search(backend, engine, monkeypatch):
    monkeypatch.setattr(postgres_backend, "EXACT_COUNT", 5)
    search(backend, "sunscreen")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW enable_bitmapscan").scalar() == "on"
        assert conn.exec_driver_sql("SHOW enable_indexscan").scalar() == "on"
        assert conn.exec_driver_sql("SHOW max_parallel_workers_per_gather").scalar() != "0"
