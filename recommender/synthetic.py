"""A seeded generator of social-recommendation data with power-law users, items and follows.

Users and items belong to taste clusters; follows are mostly within a cluster and preferential to popular
people; a share of interactions copies what a followee has. Used by tests and by bench/recommender.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .data import Interactions, ItemMeta


@dataclass
class SyntheticData:
    """Generated interactions, follow edges and item metadata."""

    interactions: Interactions
    followers: np.ndarray
    followees: np.ndarray
    items: ItemMeta


def _zipf_weights(n: int, exponent: float, rng: np.random.Generator, cap: float = 1.0) -> np.ndarray:
    """Power-law shares in random order; no share above `cap` times the mean (no one has everything)."""
    weights = 1.0 / np.power(np.arange(1, n + 1), exponent)
    weights = np.minimum(weights / weights.sum(), cap / n)
    return rng.permutation(weights / weights.sum())


def _sample_within(
    groups: np.ndarray, weights: np.ndarray, wanted: np.ndarray, rng: np.random.Generator, n_groups: int
) -> np.ndarray:
    """For each entry of `wanted` (a group id), draw a member of that group with probability ~ weight."""
    order = np.lexsort((np.arange(len(groups)), groups))
    sorted_groups = groups[order]
    cumulative = np.cumsum(weights[order])
    starts = np.searchsorted(sorted_groups, np.arange(n_groups))
    ends = np.searchsorted(sorted_groups, np.arange(n_groups), side="right")
    base = np.where(starts > 0, cumulative[np.maximum(starts - 1, 0)], 0.0)
    total = np.where(ends > starts, cumulative[np.maximum(ends - 1, 0)] - base, 0.0)
    draws = base[wanted] + rng.random(len(wanted)) * total[wanted]
    picked = np.searchsorted(cumulative, draws, side="right")
    picked = np.clip(picked, starts[wanted], np.maximum(ends[wanted] - 1, starts[wanted]))
    return order[np.minimum(picked, len(order) - 1)]


def generate(
    n_users: int = 500,
    n_items: int = 800,
    n_interactions: int = 12_000,
    n_edges: int = 4_000,
    seed: int = 0,
    clusters: int = 12,
    ratings: bool = False,
    timestamps: bool = True,
    social_share: float = 0.25,
    communities: bool = False,
) -> SyntheticData:
    """Generate a data set; `ratings` gives 1–5 weights instead of counts; `timestamps=False` leaves none."""
    rng = np.random.default_rng(seed)
    user_cluster = rng.integers(clusters, size=n_users)
    item_cluster = rng.integers(clusters, size=n_items)
    activity = _zipf_weights(n_users, 0.8, rng, cap=50)
    item_pop = _zipf_weights(n_items, 0.9, rng, cap=500)
    fame = _zipf_weights(n_users, 1.0, rng, cap=500)

    followers = rng.choice(n_users, size=n_edges, p=activity)
    same = rng.random(n_edges) < 0.75
    followees = np.where(
        same,
        _sample_within(user_cluster, fame, user_cluster[followers], rng, clusters),
        rng.choice(n_users, size=n_edges, p=fame),
    )
    keep = followers != followees
    followers, followees = followers[keep], followees[keep]

    n_social = int(n_interactions * social_share)
    n_own = n_interactions - n_social
    users = rng.choice(n_users, size=n_own, p=activity)
    home = rng.random(n_own) < 0.7
    items = np.where(
        home,
        _sample_within(item_cluster, item_pop, user_cluster[users], rng, clusters),
        rng.choice(n_items, size=n_own, p=item_pop),
    )
    if n_social and len(followers):
        # Social influence: copy one item of a random followee (people whose followees have items).
        edge = rng.integers(len(followers), size=n_social)
        copier, source = followers[edge], followees[edge]
        order = np.argsort(users, kind="stable")
        first = np.searchsorted(users[order], source)
        last = np.searchsorted(users[order], source, side="right")
        has = last > first
        pick = first + (rng.random(n_social) * (last - first)).astype(np.int64)
        copied = items[order][np.minimum(pick, len(order) - 1)]
        users = np.concatenate([users, copier[has]])
        items = np.concatenate([items, copied[has]])
    n = len(users)
    weights = (
        rng.integers(1, 6, size=n).astype(np.float64)
        if ratings
        else np.floor(rng.pareto(1.5, size=n) * 5 + 1)
    )
    stamps = (1.7e9 + rng.random(n) * 180 * 86400).round() if timestamps else np.full(n, np.nan)
    user_ids = np.array([f"u{u}" for u in range(n_users)], dtype=object)
    item_ids = np.array([f"i{i}" for i in range(n_items)], dtype=object)
    interactions = Interactions(user_ids[users], item_ids[items], weights, stamps)
    styles = rng.integers(40, size=n_items)
    meta = ItemMeta(
        item_ids=list(item_ids),
        titles=[f"item {i} of topic {c}" for i, c in enumerate(item_cluster)],
        tags=[[f"topic{c}", f"style{s}"] for c, s in zip(item_cluster, styles, strict=True)],
        communities=[f"community{c % 5}" for c in item_cluster] if communities else [],
        authors=[f"author{a}" for a in rng.integers(max(n_items // 20, 1), size=n_items)]
        if communities
        else [],
    )
    return SyntheticData(interactions, user_ids[followers], user_ids[followees], meta)
