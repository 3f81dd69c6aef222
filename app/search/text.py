"""Text analysis shared by every search backend: one bilingual tokenizer, the query parser and the highlighter.

Chinese runs are segmented with jieba (search mode when indexing, so 防晒霜 also yields 防晒; precise mode
for queries); Latin runs are NFKC-normalised, case-folded, stop-worded and Porter-stemmed. Both kinds of
token live in the same field, so "防晒 SPF50 review" is one query. The Whoosh backend wraps `analyze` in
a tokenizer, the PostgreSQL backend writes its tokens into a tsvector, and snippets are highlighted
with the same tokens, so a highlight is always what matched.
"""
from __future__ import annotations

import gc
import logging
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from markupsafe import Markup

MAX_QUERY_CHARS = 200  # longer queries are cut here: bounded work per request
MAX_QUERY_TOKENS = 12
MAX_TOKEN_CHARS = 40

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
_RUNS = re.compile(rf"([{_CJK}]+)|([^\W_]+)")
ENGLISH_STOP_WORDS = frozenset(
    "a an and are as at be by can for from have if in is it may not of on or that the this to us we when will "
    "with yet you your".split())
CHINESE_STOP_WORDS = frozenset("的 了 和 是 在 也 就 都 而 及 与 着 或 吗 呢 吧 啊 呀 这 那 个".split())
OPERATORS = frozenset({"AND", "OR", "NOT"})


@dataclass(frozen=True)
class Token:
    text: str
    pos: int
    start: int
    end: int


_jieba = None


def _segmenter():
    global _jieba
    if _jieba is None:
        import jieba

        from app.search.synonym_table import chinese_words

        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        for word in chinese_words():  # synonyms stay one word (婴儿推车, not 婴儿 + 推车)
            jieba.add_word(word)
        # jieba's dictionary is ~350 000 long-lived objects that Python's full collections would otherwise walk
        # every time (120–130 ms each, measured in bench/search.py, in the middle of some request); move what
        # exists now out of the collector's way. It is never garbage, so nothing is kept that would be freed.
        gc.freeze()
        _jieba = jieba
    return _jieba


def warm_up() -> None:
    """Load jieba's dictionary now (a serving process calls this at start, not on its first search)."""
    _segmenter()


@lru_cache(maxsize=50_000)
def stem(word: str) -> str:
    from whoosh.lang.porter import stem as porter

    return porter(word)


@lru_cache(maxsize=8192)
def _segment(run: str, mode: str) -> tuple[tuple[str, int, int], ...]:
    """jieba's words of one Chinese run (cached: the same text is analysed for the index and for spelling)."""
    jieba_mode = "search" if mode == "index" else "default"
    return tuple(_segmenter().tokenize(run, mode=jieba_mode))


def analyze(text: str, mode: str = "index", morph: bool = True) -> Iterator[Token]:
    """Tokens of `text` with positions and character offsets into `text`.

    mode "index" segments Chinese finely (overlapping sub-words); "query" segments it once, precisely.
    """
    pos = 0
    for match in _RUNS.finditer(text or ""):
        cjk, latin = match.group(1), match.group(2)
        if cjk:
            for word, start, end in _segment(cjk, "index" if mode == "index" else "query"):
                if word in CHINESE_STOP_WORDS or not word.strip():
                    continue
                yield Token(word, pos, match.start() + start, match.start() + end)
                pos += 1
            continue
        word = unicodedata.normalize("NFKC", latin).casefold()
        if len(word) > MAX_TOKEN_CHARS or word in ENGLISH_STOP_WORDS:
            continue
        if morph and word.isascii() and word.isalpha():
            word = stem(word)
        yield Token(word, pos, match.start(), match.end())
        pos += 1


def terms(text: str, mode: str = "query", morph: bool = True) -> list[str]:
    return [token.text for token in analyze(text, mode, morph)]


# --- the query language ---------------------------------------------------------------------------------

@dataclass
class ParsedQuery:
    """What a visitor asked for, reduced to what every backend supports.

    All `must` terms are required (AND); each of `phrases` is a run of Latin terms that must be adjacent;
    `must_not` terms exclude (from "-word"). `words` keeps the unstemmed Latin words for "did you mean".
    Everything else the visitor typed (wildcards, parentheses, field:, AND/OR/NOT, stray quotes, emoji,
    control characters) is dropped, so no input can make a backend's own parser fail.
    """

    text: str = ""
    must: list[str] = field(default_factory=list)
    phrases: list[list[str]] = field(default_factory=list)
    must_not: list[str] = field(default_factory=list)
    words: list[str] = field(default_factory=list)
    prefix: str | None = None  # for as-you-type: the last term, matched as a prefix
    truncated: bool = False
    # must term → words that may match in its place (bilingual synonyms, app.search.synonyms.expand)
    alternatives: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.must and not self.prefix

    @property
    def highlight_terms(self) -> set[str]:
        return set(self.must) | {word for others in self.alternatives.values() for word in others}

    def any_of(self, term: str) -> tuple[str, ...]:
        """The term and its alternatives: a backend matches any of them where it would match the term."""
        return (term, *self.alternatives.get(term, ()))


def clean_query(raw: str | None) -> tuple[str, bool]:
    """Drop control characters and symbols (emoji) and collapse spaces; cut to MAX_QUERY_CHARS."""
    raw = (raw or "")[: MAX_QUERY_CHARS * 4]
    kept = []
    for char in raw:
        category = unicodedata.category(char)
        if category[0] == "C" or category in ("So", "Sk", "Cs"):
            kept.append(" ")
        else:
            kept.append(char)
    text = " ".join("".join(kept).split())
    truncated = len(text) > MAX_QUERY_CHARS or len(raw) >= MAX_QUERY_CHARS * 4
    return text[:MAX_QUERY_CHARS], truncated


_QUOTED = re.compile(r'"([^"]*)"')


def parse_query(raw: str | None, prefix: bool = False) -> ParsedQuery:
    """Parse visitor input into a ParsedQuery (never raises)."""
    text, truncated = clean_query(raw)
    parsed = ParsedQuery(text=text, truncated=truncated)
    phrases = _QUOTED.findall(text)
    rest = _QUOTED.sub(" ", text).replace('"', " ")
    for phrase in phrases:
        phrase_terms = terms(phrase)
        parsed.words += terms(phrase, morph=False)
        if len(phrase_terms) > 1 and all(term.isascii() for term in phrase_terms):
            parsed.phrases.append(phrase_terms)
        parsed.must += phrase_terms
    for word in rest.split():
        if word in OPERATORS:
            continue
        if word.startswith("-") and len(word) > 1:
            parsed.must_not += terms(word[1:])
            continue
        parsed.must += terms(word)
        parsed.words += [w for w in terms(word, morph=False) if w.isascii() and w.isalpha()]
    parsed.must = list(dict.fromkeys(parsed.must))[:MAX_QUERY_TOKENS]
    parsed.must_not = [t for t in dict.fromkeys(parsed.must_not) if t not in parsed.must][:MAX_QUERY_TOKENS]
    parsed.words = list(dict.fromkeys(parsed.words))[:MAX_QUERY_TOKENS]
    if prefix and parsed.must and text and not text.endswith((" ", '"')):
        last_words = terms(rest.split()[-1], morph=False) if rest.split() else []
        if last_words and last_words[-1].isascii():
            parsed.prefix = last_words[-1]
            stemmed = stem(parsed.prefix) if parsed.prefix.isalpha() else parsed.prefix
            parsed.must = [t for t in parsed.must if t != stemmed]
    return parsed


# --- snippets ---------------------------------------------------------------------------------------------

_MARKDOWN = [
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), " "),        # images
    (re.compile(r"\[([^\]]*)\]\([^)]*\)"), r"\1"),     # links keep their text
    (re.compile(r"[#*_`>~|]+"), " "),
]


def plain_text(markdown: str) -> str:
    """Markdown to plain words, good enough for a snippet (the page itself renders the real thing)."""
    text = markdown or ""
    for pattern, replacement in _MARKDOWN:
        text = pattern.sub(replacement, text)
    return " ".join(text.split())


def highlight(text: str, query_terms: set[str], width: int = 160) -> Markup:
    """A window of `text` around the first match, HTML-escaped, with matches wrapped in <mark>.

    Everything from the document is escaped; the only markup is our own <mark>, so a snippet is safe
    to render whatever the author wrote.
    """
    text = text or ""
    spans: list[list[int]] = []
    start, end = 0, min(len(text), width)
    if query_terms:
        found = False
        for token in analyze(text, "index"):
            if found and token.start >= end:
                break  # past the window: the rest of the text is never shown, so never analysed
            if token.text not in query_terms:
                continue
            if spans and token.start <= spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], token.end)
            else:
                spans.append([token.start, token.end])
            if not found:
                found = True
                # A text that fits is shown whole; a longer one from a little before its first match.
                start = max(0, token.start - width // 4) if len(text) > width else 0
                if start:
                    space = text.rfind(" ", 0, start)
                    start = space + 1 if space >= 0 and start - space < 15 else start
                end = min(len(text), start + width)
    pieces: list[str | Markup] = ["…" if start else ""]
    cursor = start
    for span_start, span_end in spans:
        if span_end <= start or span_start >= end:
            continue
        span_start, span_end = max(span_start, start), min(span_end, end)
        pieces.append(text[cursor:span_start])
        pieces.append(Markup("<mark>{}</mark>").format(text[span_start:span_end]))
        cursor = span_end
    pieces.append(text[cursor:end])
    if end < len(text):
        pieces.append("…")
    return Markup("").join(pieces)  # escapes every piece of text; only the <mark> tags are markup


def edit_distance(a: str, b: str, limit: int = 2) -> int:
    """Damerau–Levenshtein distance (adjacent swaps cost 1), giving up early past `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]
