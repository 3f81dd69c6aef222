"""The evaluation protocol's data preparation and per-user random split (datasets/README.md, steps 1–3)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .data import Interactions


@dataclass
class Split:
    """Train rows (with their weights and timestamps) and the held-out test pairs per user."""

    train: Interactions
    test: dict[str, list[str]]
    n_users: int
    catalogue: np.ndarray

    @property
    def n_train_pairs(self) -> int:
        return len(self.train)

    @property
    def n_test_pairs(self) -> int:
        return sum(len(v) for v in self.test.values())


def deduplicate(interactions: Interactions) -> Interactions:
    """One row per user–item pair: weights summed, newest timestamp kept (pairs are what metrics see)."""
    users = interactions.users.astype(str)
    items = interactions.items.astype(str)
    order = np.lexsort((items, users))
    u, i = users[order], items[order]
    start = np.r_[True, (u[1:] != u[:-1]) | (i[1:] != i[:-1])]
    group = np.cumsum(start) - 1
    weights = np.bincount(group, weights=interactions.weights[order])
    stamps = interactions.timestamps[order]
    newest = np.full(len(weights), np.nan)
    known = ~np.isnan(stamps)
    if known.any():
        newest_known = np.full(len(weights), -np.inf)
        np.maximum.at(newest_known, group[known], stamps[known])
        newest = np.where(np.isfinite(newest_known), newest_known, np.nan)
    first = np.flatnonzero(start)
    return Interactions(u[first].astype(object), i[first].astype(object), weights, newest)


def split_users(interactions: Interactions, seed: int, min_items: int = 5, test_share: float = 0.2) -> Split:
    """Keep users with >= min_items distinct items; move ceil(share*n) shuffled items per user to test."""
    pairs = deduplicate(interactions)
    users = pairs.users.astype(str)
    items = pairs.items.astype(str)
    # deduplicate() sorts by (user, item) string, which is the order the protocol shuffles from.
    boundaries = np.flatnonzero(np.r_[True, users[1:] != users[:-1], True])
    rng = np.random.default_rng(seed)
    train_rows: list[np.ndarray] = []
    test: dict[str, list[str]] = {}
    kept_users = 0
    for start, end in zip(boundaries[:-1], boundaries[1:], strict=True):
        n = end - start
        if n < min_items:
            continue
        kept_users += 1
        rows = np.arange(start, end)
        rng.shuffle(rows)
        n_test = math.ceil(test_share * n)
        test[users[start]] = items[rows[:n_test]].tolist()
        train_rows.append(np.sort(rows[n_test:]))
    train_index = np.concatenate(train_rows) if train_rows else np.array([], dtype=np.int64)
    kept = np.isin(users, list(test))
    catalogue = np.unique(items[kept])
    return Split(pairs.subset(train_index), test, kept_users, catalogue)
