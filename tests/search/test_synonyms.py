"""Search bridges the two languages: the bilingual synonym table, applied to queries on every backend.

The cross-language part of the relevance set: a query in one language finds notes and products written in
the other (防晒 ↔ sunscreen, 面霜 ↔ cream, 婴儿推车 ↔ stroller), the words as typed rank first, a search in
a community uses its vertical's synonyms only, and as-you-type suggestions include products without showing
one title twice.
"""
from __future__ import annotations

import json

import pytest

from app.search import services, synonyms
from app.search.indexing import rebuild_index
from app.search.text import parse_query
from tests import factories
from tests.search.helpers import note, product, shop_for


@pytest.fixture(scope="module")
def site(module_app):
    with module_app.app_context():
        ann, bob = factories.user("ann"), factories.user("bob")
        beauty = factories.community("glow", owner=ann, name="Glow", vertical="beauty")
        baby = factories.community("little-ones", owner=bob, name="Little Ones", vertical="mother_baby")
        food = factories.community("food", owner=bob, name="Food", vertical="food")
        made = {
            "zh_sun": note(ann, beauty, "新手必看：防晒霜怎么选", "防晒霜要看SPF和PA，通勤选清爽的。"),
            "en_sun": note(bob, beauty, "How to choose a sunscreen", "Check SPF and PA; pick a light one."),
            "zh_cream": note(ann, beauty, "秋冬面霜推荐", "干皮救星，厚涂一晚第二天很润。"),
            "en_cream": note(bob, beauty, "A rich night cream that works", "Thick, but sinks in overnight."),
            "zh_stroller": note(bob, baby, "婴儿推车避坑指南", "一定要试折叠和避震。"),
            "en_stroller": note(ann, baby, "The stroller we kept", "Folds with one hand and fits a small boot."),
            "ice_cream": note(bob, food, "Ice cream crawl in Chengdu", "Six scoops, one afternoon."),
            "dupe_1": note(ann, beauty, "Sunscreen haul", "Three tubes."),
            "dupe_2": note(bob, beauty, "Sunscreen haul", "Four tubes."),
        }
        shop = shop_for(factories.user("carol"), factories.user("dora", is_admin=True))
        made["p_stroller"] = product(shop, "Stroller Lite", "Light city stroller.", community=baby)
        made["p_sun"] = product(shop, "清爽防晒霜 SPF50", "不油腻", community=beauty)
        rebuild_index()
        return {name: row.id for name, row in made.items()}


@pytest.fixture
def search(module_app, site):
    with module_app.app_context():
        yield services.search


def ids(page) -> set[int]:
    return {result.obj.id for result in page.results}


@pytest.mark.parametrize("query, wanted", [
    ("防晒", {"zh_sun", "en_sun", "dupe_1", "dupe_2"}),
    ("sunscreen", {"zh_sun", "en_sun", "dupe_1", "dupe_2"}),
    ("面霜", {"zh_cream", "en_cream"}),
    ("婴儿推车", {"zh_stroller", "en_stroller"}),
    ("stroller", {"zh_stroller", "en_stroller"}),
    ("strollers", {"zh_stroller", "en_stroller"}),  # stemmed first, then bridged
])
def test_a_query_finds_notes_written_in_the_other_language(search, site, query, wanted):
    assert {site[name] for name in wanted} <= ids(search(None, query, sort="relevant"))


def test_a_community_search_uses_its_verticals_synonyms_only(search, site):
    assert ids(search(None, "面霜", community="glow")) == {site["zh_cream"], site["en_cream"]}
    assert ids(search(None, "面霜", community="food")) == set()  # food has no 面霜 ↔ cream bridge
    assert ids(search(None, "cream", community="food")) == {site["ice_cream"]}  # the word itself still matches


def test_the_word_as_typed_ranks_above_its_synonyms(search, site):
    results = search(None, "stroller", sort="relevant").results
    assert results[0].obj.id == site["en_stroller"]
    results = search(None, "婴儿推车", sort="relevant").results
    assert results[0].obj.id == site["zh_stroller"]


def test_synonyms_are_marked_in_snippets(search, site):
    page = search(None, "sunscreen", sort="relevant")
    zh = next(result for result in page.results if result.obj.id == site["zh_sun"])
    assert "<mark>防晒" in str(zh.title)


def test_products_are_bridged_too(search, site):
    assert site["p_stroller"] in ids(search(None, "婴儿推车", type="products"))
    assert site["p_sun"] in ids(search(None, "sunscreen", type="products"))


def test_phrases_and_exclusions_stay_literal(search, site):
    assert site["zh_sun"] not in ids(search(None, '"choose a sunscreen"'))
    assert site["zh_sun"] not in ids(search(None, "sunscreen -防晒"))


def test_suggestions_include_products_and_never_repeat_a_title(module_app, site):
    with module_app.app_context():
        suggestions = services.suggest(None, "sunscreen")
        labels = [" ".join(str(s.label).replace("<mark>", "").replace("</mark>", "").split()).casefold()
                  for s in suggestions]
        assert len(labels) == len(set(labels)) and labels.count("sunscreen haul") == 1
        assert "product" in {s.doc_type for s in suggestions}
        assert "product" in {s.doc_type for s in services.suggest(None, "stroll")}


def test_the_table_is_data_and_every_entry_is_one_search_word(module_app):
    data = json.loads(synonyms.TABLE_PATH.read_text(encoding="utf-8"))
    assert {"beauty", "mother_baby", "home"} <= set(data)
    with module_app.app_context():
        table = synonyms.table()  # raises on an entry the analyser would split
        assert "sunscreen" in table["beauty"]["防晒"] and "防晒" in table["beauty"]["sunscreen"]
        assert "stroller" in table["mother_baby"]["婴儿推车"]
        assert synonyms.alternatives_for("面霜", "food") == ()
        expanded = synonyms.expand(parse_query("防晒 review"))
        assert expanded.must == ["防晒", "review"] and "sunscreen" in expanded.alternatives["防晒"]
