"""The backend suite, run on every backend: what is found and in which order, facets, filters, sorting,
pagination, suggestions and spelling. One shared data set per backend (read-only tests)."""
from __future__ import annotations

import pytest

from app.search import get_backend, services
from tests.search.helpers import build_site


@pytest.fixture(scope="module")
def site(module_app):
    with module_app.app_context():
        return build_site()


@pytest.fixture
def search(module_app, site):
    with module_app.app_context():
        yield services.search


def titles(page) -> list[str]:
    return [result.obj.title if result.doc_type in ("post", "product") else result.obj.name
            for result in page.results]


def test_chinese_word_finds_the_longer_compound(search):
    found = titles(search(None, "防晒"))
    assert "防晒霜测评" in found and "夏天护肤心得" in found


def test_english_is_case_folded_and_stemmed(search):
    assert titles(search(None, "sunscreen"))[0] == "Sunscreen for long hikes"
    assert "Sunscreen for long hikes" in titles(search(None, "SUNSCREENS"))


def test_title_match_beats_a_passing_mention_in_the_body(search):
    found = titles(search(None, "sunscreen", sort="relevant"))
    assert found.index("Sunscreen for long hikes") < found.index("My hiking boots")


def test_mixed_chinese_and_english_query(search):
    page = search(None, "防晒 SPF50 review")
    assert titles(page) == ["防晒霜测评"]
    assert "<mark>防晒" in str(page.results[0].snippet)  # 防晒霜, a synonym, is marked whole


def test_when_no_note_has_every_word_any_word_is_enough(search):
    page = search(None, "lipstick 滑雪")
    assert page.any_term and [t.split(" <")[0] for t in titles(page)] == ["Lipstick swatches"]


def test_phrases_and_exclusions(search):
    assert titles(search(None, '"long hikes"')) == ["Sunscreen for long hikes"]
    assert titles(search(None, '"hikes long"')) == []
    assert "My hiking boots" not in titles(search(None, "sunscreen -boots"))


def test_snippets_and_titles_are_escaped(search):
    [result] = search(None, "lipstick").results
    assert "<script>" not in str(result.title) and "&lt;script&gt;" in str(result.title)
    assert "<img" not in str(result.snippet) and "<mark>" in str(result.title)


def test_type_tabs_and_community_facets(search, site):
    page = search(None, "sunscreen")  # with the notes and products that say 防晒 (a synonym)
    assert page.type_counts == {"posts": 4, "products": 3, "communities": 1, "users": 0}
    assert {community.slug: count for community, count in page.community_counts} == {"outdoor": 2, "beauty": 2}
    assert titles(search(None, "sunscreen", type="communities")) == ["Beauty 美妆"]
    assert [r.obj.username for r in search(None, "ann", type="users").results] == ["ann"]


def test_community_filter(search):
    assert set(titles(search(None, "防晒", community="beauty"))) == {"防晒霜测评", "夏天护肤心得"}
    page = search(None, "防晒", community="outdoor")
    assert page.total == 0 and page.type_counts["posts"] == 0


def test_sort_new_and_top(search, site):
    assert [r.obj.id for r in search(None, "tent", sort="new").results] == [site["tent_new"], site["tent_old"]]
    assert [r.obj.id for r in search(None, "tent", sort="top").results] == [site["tent_old"], site["tent_new"]]


def test_pagination(search):
    first = search(None, "stove", sort="new", page=1, per_page=10)
    third = search(None, "stove", sort="new", page=3, per_page=10)
    assert first.total == 25 and first.has_next and len(first.results) == 10
    assert titles(first)[0] == "Camping stove 0"
    assert len(third.results) == 5 and not third.has_next
    seen = {r.obj.id for n in (1, 2, 3) for r in search(None, "stove", sort="new", page=n, per_page=10).results}
    assert len(seen) == 25


def test_suggest_matches_the_last_word_as_a_prefix(module_app, site):
    with module_app.app_context():
        labels = [str(s.label) for s in services.suggest(None, "sunsc")]
        assert "<mark>Sunsc</mark>reen for long hikes" in labels
        assert [str(s.label) for s in services.suggest(None, "beau")] == ["<mark>Beau</mark>ty 美妆"]
        assert {s.doc_type for s in services.suggest(None, "bo")} == {"user", "post"}  # bob, boots
        assert services.suggest(None, "") == []
        assert services.suggest(None, "***") == []


def test_did_you_mean_for_a_misspelt_english_word(search):
    page = search(None, "sunscren")
    assert page.total == 0 and page.did_you_mean == "sunscreen"
    assert search(None, "sunscreen").did_you_mean is None
    assert search(None, "qqqqzzzz").did_you_mean is None


def test_count(module_app, site):
    with module_app.app_context():
        assert get_backend().count() == 32 + 2 + 4 + 3  # posts, communities, people, products (not the draft)


# --- products ---------------------------------------------------------------------------------------------

def test_a_product_title_match_beats_a_passing_mention(search):
    found = titles(search(None, "sunscreen", type="products", sort="relevant"))
    assert found[0] == "Sunscreen SPF50 mineral" and found.index("防晒喷雾") < found.index("Trail hat")


def test_products_are_found_in_chinese_and_by_their_options_and_shop(search):
    found = titles(search(None, "防晒", type="products", sort="relevant"))
    assert found[0] == "防晒喷雾" and "Sunscreen SPF50 mineral" in found  # the word as typed first, then synonyms
    assert titles(search(None, "50 ml", type="products")) == ["Sunscreen SPF50 mineral"]
    assert set(titles(search(None, "sunny", type="products"))) == \
        {"Sunscreen SPF50 mineral", "Trail hat", "防晒喷雾"}


def test_unpublished_products_are_never_found(search):
    assert "Sunscreen stick (coming soon)" not in titles(search(None, "sunscreen stick", type="products"))


def test_price_and_stock_filters(search):
    assert set(titles(search(None, "spf50", type="products"))) == {"Sunscreen SPF50 mineral", "防晒喷雾"}
    page = search(None, "spf50", type="products", max_price="100")
    assert titles(page) == ["防晒喷雾"] and page.total == 1
    assert titles(search(None, "spf50", type="products", min_price="59.01")) == ["Sunscreen SPF50 mineral"]
    assert set(titles(search(None, "spf50", type="products", min_price="59", max_price="129"))) == \
        {"Sunscreen SPF50 mineral", "防晒喷雾"}
    assert set(titles(search(None, "sunscreen", type="products", in_stock=True))) == \
        {"Sunscreen SPF50 mineral", "防晒喷雾"}
    assert titles(search(None, "sunscreen", type="products", min_price="0", max_price="0")) == []


def test_products_have_community_facets_and_filter(search):
    page = search(None, "sunscreen", type="products")
    assert {c.slug: n for c, n in page.community_counts} == {"beauty": 2, "outdoor": 1}
    page = search(None, "sunscreen", type="products", community="outdoor")
    assert titles(page) == ["Trail hat"] and page.type_counts["products"] == 1
    assert page.type_counts["posts"] == 2  # Sunscreen for long hikes, My hiking boots (both in outdoor)


def test_product_results_carry_rating_and_stock(search):
    page = search(None, "trail hat", type="products")
    [result] = page.results
    assert result.obj.in_stock is False and result.rating.count == 0
    assert "<mark>" in str(result.title)


def test_a_community_search_is_not_narrowed_by_price_filters(search):
    page = search(None, "sunscreen", type="communities", min_price="1000")
    assert titles(page) == ["Beauty 美妆"]  # price filters only apply to products
