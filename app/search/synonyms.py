"""Bilingual synonyms, applied to a parsed query before it reaches a backend.

The table is data (`app/search/data/synonyms.json`): per vertical, groups of words that stand for one
another ("防晒", "sunscreen", "sunblock"). `expand(parsed, vertical)` gives every query word that belongs to
a group the group's other words as alternatives (`ParsedQuery.alternatives`); each backend then matches
any of them where it would have matched the word (an OR inside the AND of the query's words), so 防晒
finds "sunscreen" notes and the other way round, on Whoosh and PostgreSQL alike.

Every entry must be one search word. Chinese compounds the segmenter would split (婴儿推车 → 婴儿 推车) are
added to its dictionary at start-up (`chinese_words`), so they stay one word in queries and documents alike.
"""
from __future__ import annotations

from functools import lru_cache

from app.search.synonym_table import TABLE_PATH, chinese_words, raw_table
from app.search.text import ParsedQuery, terms

__all__ = ["TABLE_PATH", "alternatives_for", "chinese_words", "expand", "table"]

MAX_ALTERNATIVES = 8  # per query word: bounded work per search


@lru_cache(maxsize=1)
def table() -> dict[str, dict[str, tuple[str, ...]]]:
    """vertical → search word → the other words of its groups (analysed as queries are: stemmed, folded)."""
    built: dict[str, dict[str, tuple[str, ...]]] = {}
    for vertical, groups in raw_table().items():
        words: dict[str, list[str]] = {}
        for group in groups:
            analysed, covers = [], {}
            for entry in group:
                entry_terms = terms(entry)
                if len(entry_terms) != 1:
                    raise ValueError(f"synonym {entry!r} ({vertical}) is not one search word: {entry_terms}")
                analysed.append(entry_terms[0])
                covers[entry_terms[0]] = set(terms(entry, "index")) - {entry_terms[0]}
            for word in analysed:
                others = words.setdefault(word, [])
                for other in analysed:
                    # 防晒霜 is indexed as 防晒 too: with 防晒 among the words it adds nothing but score
                    redundant = covers[other] & ({word} | set(analysed))
                    if other != word and other not in others and not redundant:
                        others.append(other)
        built[vertical] = {word: tuple(others) for word, others in words.items()}
    return built


def alternatives_for(word: str, vertical: str | None = None) -> tuple[str, ...]:
    """Words that may stand for `word` (an analysed query term) in `vertical`, or in any vertical."""
    verticals = [vertical] if vertical else list(table())
    found: list[str] = []
    for name in verticals:
        for other in table().get(name, {}).get(word, ()):
            if other not in found and other != word:
                found.append(other)
    return tuple(found[:MAX_ALTERNATIVES])


def expand(parsed: ParsedQuery, vertical: str | None = None) -> ParsedQuery:
    """The query with each word's synonyms as alternatives (phrases and exclusions stay literal)."""
    phrase_words = {word for phrase in parsed.phrases for word in phrase}
    for term in parsed.must:
        if term in phrase_words:
            continue
        others = alternatives_for(term, vertical)
        if others:
            parsed.alternatives[term] = others
    return parsed
