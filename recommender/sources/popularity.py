"""Popularity: time-decayed counts overall and per community (trending when timestamps exist)."""

from __future__ import annotations

import numpy as np

from ..data import TrainingData
from .social import recency_weights


class PopularitySource:
    """Time-decayed popularity of every item, and the same within each item's community."""

    def __init__(self, half_life_days: float = 7.0):
        self.half_life_days = half_life_days
        self.popularity: np.ndarray | None = None
        self.trending: np.ndarray | None = None
        self.community_rank: np.ndarray | None = None

    def fit(self, data: TrainingData, communities: np.ndarray | None = None) -> PopularitySource:
        """Count users per item (`popularity`) and recency-decayed counts (`trending`, log-scaled)."""
        B = data.binary()
        self.popularity = np.asarray(B.sum(axis=0), dtype=np.float64).ravel()
        decayed = B.astype(np.float64)
        decayed.data = recency_weights(data, self.half_life_days)
        self.trending = np.asarray(decayed.sum(axis=0)).ravel()
        # Rank within community in [0, 1], 1 = the community's most trending item; 0 where none is known.
        self.community_rank = np.zeros(data.n_items)
        if communities is not None:
            for community in np.unique(communities[communities != ""]):
                members = np.flatnonzero(communities == community)
                order = np.argsort(np.argsort(self.trending[members], kind="stable"), kind="stable")
                self.community_rank[members] = (order + 1) / len(members)
        return self

    def score(self, n_rows: int) -> dict[str, np.ndarray]:
        """The same log-scaled popularity and trending rows for every user."""
        pop = np.log1p(self.popularity).astype(np.float32)
        trend = np.log1p(self.trending).astype(np.float32)
        return {
            "popularity": np.broadcast_to(pop, (n_rows, len(pop))),
            "trending": np.broadcast_to(trend, (n_rows, len(trend))),
        }
