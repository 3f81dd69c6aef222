"""The PostgreSQL backend's paths for large indexes, on small data: the RUM index (top matches straight from the
index, the best RANK_WINDOW ranked by ts_rank_cd), pages past that window, totals and facets estimated above
EXACT_COUNT, and the same searches without the rum extension (the GIN index, every match ranked).

Each test gets its own throwaway database with only the search tables (create_all's hook adds the RUM index
where the server has the rum extension, as CI's does)."""
from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

import pytest
from sqlalchemy import create_engine

from app.search import postgres_backend
from app.search.backend import SearchDocument, SearchQuery
from app.search.models import SearchDocumentRow, SearchTerm, install_rum
from app.search.postgres_backend import RUM_INDEX, PostgresBackend
from app.search.text import parse_query
from tests.conftest import IN_CI, skip_or_fail, throwaway_postgres_database

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
def rum(engine) -> PostgresBackend:
    backend = PostgresBackend(engine)
    if backend.rum_status() is not None:
        skip_or_fail(f"no RUM index ({backend.rum_status()}): install postgresql-15-rum")
    return backend


@pytest.fixture
def gin(engine) -> PostgresBackend:
    return PostgresBackend(engine, rum=False)


def search(backend, text: str, **fields):
    return backend.search(SearchQuery(parse_query(text), limit=fields.pop("limit", 20), facets=True, **fields))


def keys(found) -> list[tuple[int, float]]:
    return [(hit.ref_id, round(hit.score, 5)) for hit in found.hits]


def test_rum_ranks_the_first_pages_exactly_as_every_match_ranked(rum, gin, monkeypatch):
    monkeypatch.setattr(postgres_backend, "EXACT_COUNT", 20)  # many matches: RUM's window, not all of them
    monkeypatch.setattr(postgres_backend, "RANK_WINDOW", 300)  # … as large as the data, so the same order
    for text in ("sunscreen", "防晒 camping", "coffee -hotpot", '"camping tent"', "lipstick 火锅 咖啡"):
        for offset in (0, 20, 40):
            assert keys(search(rum, text, offset=offset)) == keys(search(gin, text, offset=offset)), (text, offset)


def test_rum_and_gin_agree_on_suggestions(rum, gin):
    parsed = parse_query("防晒 cam", prefix=True)
    assert {hit.ref_id for hit in rum.suggest(parsed, 8)} <= {hit.ref_id for hit in gin.suggest(parsed, 300)}
    assert len(rum.suggest(parsed, 8)) == len(gin.suggest(parsed, 8)) == 8


@pytest.mark.parametrize("path", ["rum", "newest"])
@pytest.mark.parametrize("text", ["sunscreen", "防晒 camping", "coffee tent"])
def test_pages_past_the_ranked_window_show_every_match_once(rum, monkeypatch, text, path):
    total = search(rum, text).total
    monkeypatch.setattr(postgres_backend, "EXACT_COUNT", 20)  # many matches: a window is ranked
    monkeypatch.setattr(postgres_backend, "RUM_MATCHES", 10**6 if path == "rum" else 0)
    monkeypatch.setattr(postgres_backend, "RANK_WINDOW", 10)
    monkeypatch.setattr(postgres_backend, "CANDIDATES", 10)
    seen = []
    for offset in range(0, total + 7, 7):  # the second page straddles the window's end
        seen += [hit.ref_id for hit in search(rum, text, offset=offset, limit=7).hits]
    assert len(seen) == len(set(seen)) == total
    first_window = [hit.ref_id for hit in search(rum, text, limit=10).hits]
    assert seen[:10] == first_window  # the window is ranked by ts_rank_cd, the rest follows it


def test_small_totals_and_facets_are_exact(gin):
    found = search(gin, "lipstick 火锅 咖啡")
    assert found.total_exact
    with gin.engine.connect() as conn:
        exact = conn.exec_driver_sql(
            "SELECT community, count(*) FROM search_documents WHERE tsv @@ "
            "'''lipstick'' & ''火锅'' & ''咖啡'''::tsquery GROUP BY community").all()
    assert found.total == sum(count for _, count in exact)
    assert found.community_counts["post"] == dict(exact)


@pytest.mark.parametrize("ranking", ["rum", "gin"])
def test_large_totals_and_facets_are_estimated_from_a_sample(ranking, request, monkeypatch):
    backend = request.getfixturevalue(ranking)
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


@pytest.mark.parametrize("exact_count", [1000, 20])
def test_a_total_without_facets_counts_the_same(gin, monkeypatch, exact_count):
    monkeypatch.setattr(postgres_backend, "EXACT_COUNT", exact_count)
    for text in ("sunscreen", "lipstick 火锅 咖啡", "nothing-matches-this"):
        plain = gin.search(SearchQuery(parse_query(text), limit=20))
        faceted = search(gin, text)
        assert (plain.total, plain.total_exact) == (faceted.total, faceted.total_exact), text


def test_estimates_are_rounded_to_two_significant_figures():
    about = postgres_backend._about
    assert [about(7), about(99.6), about(309_133), about(2_046), about(1_950)] == [7, 100, 310_000, 2_000, 2_000]


def test_blocked_authors_are_left_out_of_hits_and_counts(rum, gin):
    for backend in (rum, gin):
        found = backend.search(SearchQuery(parse_query("coffee"), facets=True, exclude_author_ids=frozenset({1, 2})))
        everyone = search(backend, "coffee")
        assert found.total < everyone.total
        with backend.engine.connect() as conn:
            authors = dict(conn.exec_driver_sql("SELECT ref_id, author_id FROM search_documents").all())
        assert all(authors[hit.ref_id] not in (1, 2) for hit in found.hits)


def test_without_the_rum_index_searches_still_answer_and_say_why(engine, caplog):
    with throwaway_postgres_database() as url:
        bare = create_engine(url)
        with bare.begin() as conn:
            for table in (SearchDocumentRow.__table__, SearchTerm.__table__):
                table.create(conn)
            conn.exec_driver_sql(f"DROP INDEX IF EXISTS {RUM_INDEX}")
        backend = PostgresBackend(bare)
        backend.index(documents(50))
        with caplog.at_level(logging.WARNING, logger="app.search.postgres_backend"):
            found = search(backend, "sunscreen")
            search(backend, "camping")
        assert found.hits and found.total_exact
        warnings = [r.getMessage() for r in caplog.records if "without the RUM index" in r.getMessage()]
        assert len(warnings) == 1 and "postgresql-15-rum" in warnings[0]  # once per process, not per search
        assert backend.problems() and "flask search install-rum" in backend.problems()[0]
        assert PostgresBackend(bare, rum=False).problems() == []  # turned off on purpose: nothing to fix
        with bare.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            reason = install_rum(conn, concurrently=True)
        if reason is None:
            assert PostgresBackend(bare).rum_status() is None
            assert keys(search(PostgresBackend(bare), "sunscreen")) == keys(found)
        else:
            assert not IN_CI, reason
        bare.dispose()
