"""The bilingual analyzer, the forgiving query parser and the escaping highlighter (no database)."""
from __future__ import annotations

import time

import pytest

from app.search.text import MAX_QUERY_CHARS, edit_distance, highlight, parse_query, terms


def test_chinese_is_segmented_and_english_stemmed_in_one_pass():
    tokens = terms("防晒霜 SPF50 Reviews", mode="index")
    assert {"防晒", "防晒霜", "spf50", "review"} <= set(tokens)
    assert terms("ＳＰＦ５０") == ["spf50"]  # full-width forms fold to ASCII


@pytest.mark.parametrize("raw", [
    '"unbalanced quote', 'a "b c', "(sunscreen", "sunscreen)", "((a) b", "AND", "OR", "NOT", "AND OR NOT",
    "*", "*screen", "?unscreen", "sun*", "title:sunscreen", "sunscreen^5", "sunscreen~2", "\x00\x07\x1b[31m",
    "💄🧴", "防晒🧴", "", "   ", "-", "--", "-sunscreen", "\\", "'; DROP TABLE posts; --", "a" * 5000,
    "防" * 5000, "🧴" * 5000, "!(&|:*)<->",
])
def test_any_input_parses_without_error_quickly(raw):
    started = time.perf_counter()
    parsed = parse_query(raw)
    assert time.perf_counter() - started < 1.0
    assert len(parsed.text) <= MAX_QUERY_CHARS
    assert len(parsed.must) <= 12
    for term in parsed.must + parsed.must_not:
        assert term and not set(term) & set('*?()":^~\\!&|<>')


def test_operators_and_wildcards_are_dropped_but_words_kept():
    assert parse_query("sunscreen AND (spf OR 防晒)").must == ["sunscreen", "spf", "防晒"]
    assert parse_query("*screen").must == ["screen"]
    assert parse_query("AND OR NOT").empty
    assert parse_query("*").empty
    assert parse_query("-sunscreen").empty  # nothing left to find
    assert parse_query("\x00sun\x07screen💄").must == ["sun", "screen"]
    long = parse_query("word " * 2000)
    assert long.truncated and long.must == ["word"]


def test_phrases_need_balanced_quotes():
    assert parse_query('"long hikes" tent').phrases == [["long", "hike"]]
    assert parse_query('"long hikes tent').phrases == []


def test_highlight_escapes_everything_but_its_own_marks():
    snippet = str(highlight('<script>alert("x")</script> best sunscreen <b>ever</b>', {"sunscreen"}))
    assert "<script>" not in snippet and "<b>" not in snippet
    assert "<mark>sunscreen</mark>" in snippet and "&lt;script&gt;" in snippet


def test_highlight_marks_chinese_inside_longer_words():
    assert "<mark>防晒</mark>霜" in str(highlight("这款防晒霜很好", {"防晒"}))


def test_highlight_shows_a_text_that_fits_whole_and_cuts_a_long_one_near_the_match():
    title = "城市防晒霜 · Urban Sunscreen"
    assert str(highlight(title, {"sunscreen"}, width=len(title))) == "城市防晒霜 · Urban <mark>Sunscreen</mark>"
    long = "Intro words. " * 30 + "The sunscreen part."
    snippet = str(highlight(long, {"sunscreen"}, width=60))
    assert snippet.startswith("…") and "<mark>sunscreen</mark>" in snippet


def test_edit_distance():
    assert edit_distance("sunscren", "sunscreen") == 1
    assert edit_distance("sunsrceen", "sunscreen") == 1  # a swap costs one
    assert edit_distance("abc", "xyzabc") == 3
