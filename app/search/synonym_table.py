"""The bilingual synonym table as data (app/search/data/synonyms.json), read without analysing anything, so the
tokenizer (app.search.text) can add its Chinese words to the segmenter without importing app.search.synonyms."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

TABLE_PATH = Path(__file__).resolve().parent / "data" / "synonyms.json"


def raw_table(path: Path = TABLE_PATH) -> dict[str, list[list[str]]]:
    """vertical → groups of entries, as written (keys starting with "_" are comments)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {vertical: groups for vertical, groups in data.items() if not vertical.startswith("_")}


@lru_cache(maxsize=1)
def chinese_words() -> tuple[str, ...]:
    """The table's Chinese entries, for the segmenter's dictionary."""
    words = {entry for groups in raw_table().values() for group in groups for entry in group
             if any("\u4e00" <= char <= "\u9fff" for char in entry)}
    return tuple(sorted(words))
