"""A cache for rendered HTML fragments (feed cards): Redis when REDIS_URL is set, else a per-process LRU.

Keys name everything a fragment shows that may change (a card's key carries the post's id, the language, its
counters and its edit time), so a changed note gets a new key at once; what the key cannot name (an author's
new display name or avatar, a community's new name) shows after at most FRAGMENT_CACHE_SECONDS, the time to
live of every entry. Values are text. A Redis error never fails a page: the fragment is rendered again.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict

from flask import current_app

log = logging.getLogger(__name__)

_local: LocalFragments | None = None
_local_lock = threading.Lock()
_redis = {}  # url → client, made once per process


class LocalFragments:
    """A thread-safe LRU of at most `size` entries, each kept `seconds` at most."""

    def __init__(self, size: int, seconds: int):
        self.size, self.seconds = size, seconds
        self._entries: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get_many(self, keys: list[str]) -> dict[str, str]:
        found, moment = {}, time.monotonic()
        with self._lock:
            for key in keys:
                entry = self._entries.get(key)
                if entry is None:
                    continue
                if entry[0] < moment:
                    del self._entries[key]
                    continue
                self._entries.move_to_end(key)
                found[key] = entry[1]
        return found

    def set_many(self, values: dict[str, str], seconds: int | None = None) -> None:
        expires = time.monotonic() + min(self.seconds, seconds or self.seconds)
        with self._lock:
            for key, value in values.items():
                self._entries[key] = (expires, value)
                self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _local_cache() -> LocalFragments:
    global _local
    size, seconds = current_app.config["FRAGMENT_CACHE_SIZE"], current_app.config["FRAGMENT_CACHE_SECONDS"]
    if _local is None or (_local.size, _local.seconds) != (size, seconds):
        with _local_lock:
            if _local is None or (_local.size, _local.seconds) != (size, seconds):
                _local = LocalFragments(size, seconds)
    return _local


def _redis_client(url: str):
    client = _redis.get(url)
    if client is None:
        from redis import Redis

        client = _redis[url] = Redis.from_url(url, socket_timeout=0.2, socket_connect_timeout=0.2)
    return client


def get_fragments(keys: list[str]) -> dict[str, str]:
    """The cached fragments among `keys` (missing ones are left out)."""
    if not keys or not current_app.config["FRAGMENT_CACHE_SECONDS"]:
        return {}
    url = current_app.config.get("REDIS_URL")
    if not url:
        return _local_cache().get_many(keys)
    try:
        values = _redis_client(url).mget(["frag:" + key for key in keys])
    except Exception:  # noqa: BLE001 - a cache outage renders the fragments instead of failing the page
        log.warning("fragment cache: Redis unavailable, rendering instead", exc_info=True)
        return {}
    return {key: value.decode() for key, value in zip(keys, values, strict=True) if value is not None}


def put_fragments(values: dict[str, str], seconds: int | None = None) -> None:
    """Keep these fragments for FRAGMENT_CACHE_SECONDS, or for `seconds` when that is shorter."""
    longest = current_app.config["FRAGMENT_CACHE_SECONDS"]
    if not values or not longest:
        return
    seconds = min(longest, seconds or longest)
    url = current_app.config.get("REDIS_URL")
    if not url:
        _local_cache().set_many(values, seconds)
        return
    try:
        with _redis_client(url).pipeline(transaction=False) as pipe:
            for key, value in values.items():
                pipe.set("frag:" + key, value, ex=seconds)
            pipe.execute()
    except Exception:  # noqa: BLE001
        log.warning("fragment cache: Redis unavailable, not kept", exc_info=True)


def clear_local_fragments() -> None:
    """Forget this process's fragments (tests reset between cases)."""
    if _local is not None:
        _local.clear()
