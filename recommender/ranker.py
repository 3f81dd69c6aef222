"""The learned ranker: a gradient-boosted classifier over source scores and simple features.

It is trained on interactions held out from the training data (never the evaluation's test split); with too
few held-out positives it falls back to hand-set blend weights.
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

# Hand-set weights on per-user max-normalised source scores: the fallback ranker and the reason attribution.
FALLBACK_WEIGHTS = {
    "ease": 1.0,
    "als": 0.8,
    "rp3": 0.5,
    "neighbours": 0.5,
    "social": 0.2,
    "content": 0.05,
    "trending": 0.02,
}
# Sources scored per user over the whole catalogue (dense rows); the rest are per-item arrays.
USER_SOURCES = ("ease", "als", "rp3", "neighbours", "social", "hop1", "hop2", "followees", "content", "fresh")
ITEM_SOURCES = ("popularity", "trending", "community")
SOURCE_SCORES = USER_SOURCES + ITEM_SOURCES
# Sources whose scores are also given relative to the user's best candidate and as a rank among candidates.
NORMALISED = ("ease", "als", "rp3", "neighbours", "social", "content")
# Sources whose top items per user become candidates ("trending" is the same list for everyone).
NOMINATING = ("ease", "als", "rp3", "neighbours", "social", "content", "fresh", "trending")
FEATURES = (
    SOURCE_SCORES
    + tuple(f"{name}_norm" for name in NORMALISED)
    + tuple(f"{name}_rank" for name in NORMALISED)
    + tuple(f"{name}_margin" for name in NORMALISED)
    + ("nominations", "user_items", "user_followees", "item_has_text", "user_popularity", "popularity_gap")
    # What the fresh source is built from (recommender.sources.fresh.FreshSource.pair_features).
    + ("community_share", "author_share", "follows_author", "age")
)


def normalise_rows(a: np.ndarray) -> np.ndarray:
    """Scale each row by its largest absolute value (rows of zeros stay zero)."""
    top = np.abs(a).max(axis=1, keepdims=True)
    return a / np.where(top > 0, top, 1.0)


def normalise_within(values: np.ndarray, rows: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Each value divided by the largest absolute value of its row's segment (rows sorted)."""
    top = np.zeros(len(starts) - 1, dtype=np.float32)
    filled = np.flatnonzero(np.diff(starts) > 0)
    if len(filled):
        top[filled] = np.maximum.reduceat(np.abs(values), starts[filled])
    scale = top[rows]
    return np.divide(values, scale, out=np.zeros_like(values), where=scale > 0)


def rank_within(
    values: np.ndarray, rows: np.ndarray, starts: np.ndarray, page: int = 20
) -> tuple[np.ndarray, np.ndarray]:
    """Per value: log2(2 + its rank) in its row's segment (rank 0 = largest), and its distance above the
    row's page-th largest value (what it takes to reach the first page). Rows sorted."""
    # One float64 key sorts by row, then by value descending (values scaled into (-1, 1), rows 4 apart).
    top = float(np.abs(values).max(initial=0.0))
    key = rows * 4.0 - values / (top * 1.000001 if top > 0 else 1.0)
    order = np.argsort(key, kind="stable")
    ranks = np.empty(len(values), dtype=np.float32)
    ranks[order] = np.arange(len(values)) - starts[rows[order]]
    last = np.minimum(starts[:-1] + page - 1, np.maximum(starts[1:] - 1, starts[:-1]))
    sorted_values = values[order]
    threshold = np.where(starts[1:] > starts[:-1], sorted_values[np.minimum(last, len(values) - 1)], 0.0)
    return np.log2(2.0 + ranks), (values - threshold[rows]).astype(np.float32)


def fallback_score(norm: dict[str, np.ndarray], trending: np.ndarray) -> np.ndarray:
    """The hand-set blend of normalised source scores and (log) trending, for candidates or whole rows."""
    total = FALLBACK_WEIGHTS["trending"] * trending
    for name in NORMALISED:
        total = total + FALLBACK_WEIGHTS[name] * norm[name]
    return total


class LearnedRanker:
    """A small bag of HistGradientBoostingClassifiers on candidate features, or the fallback blend.

    Each member sees every positive and its own random share of the negatives; their log-odds are averaged,
    which steadies the order of the top items more than one bigger model does.
    """

    def __init__(
        self, seed: int = 2026, min_positives: int = 50, max_iter: int = 200, members: int = 1, max_rows: int = 0
    ):
        self.seed, self.min_positives, self.max_iter = seed, min_positives, max_iter
        self.members, self.max_rows = members, max_rows
        self.model: list[HistGradientBoostingClassifier] | None = None
        self.positives = 0

    @property
    def learned(self) -> bool:
        return self.model is not None

    def fit(self, features: np.ndarray, labels: np.ndarray) -> LearnedRanker:
        """Train on labelled candidates; keep the fallback when positives are too few."""
        self.positives = int(labels.sum())
        if self.positives < self.min_positives or self.positives == len(labels):
            self.model = None
            return self
        rng = np.random.default_rng(self.seed)
        negatives = np.flatnonzero(labels == 0)
        positives = np.flatnonzero(labels == 1)
        cap = self.max_rows or len(labels)
        self.model = []
        for member in range(max(1, self.members)):
            # Dropping examples of one class at random changes the odds by a constant, not the order of items;
            # positives keep at least half of the rows.
            kept = positives if len(positives) <= cap // 2 else rng.choice(positives, cap // 2, replace=False)
            room = max(cap - len(kept), 1)
            rows = np.sort(np.concatenate([kept, rng.permutation(negatives)[:room]]))
            model = HistGradientBoostingClassifier(
                max_iter=self.max_iter,
                learning_rate=0.12,
                max_leaf_nodes=15,
                min_samples_leaf=100,
                l2_regularization=1.0,
                early_stopping=True,
                validation_fraction=0.15,
                n_iter_no_change=20,
                random_state=self.seed + member,
            )
            self.model.append(model.fit(features[rows], labels[rows]))
        return self

    def score(self, features: np.ndarray) -> np.ndarray:
        """Probability-like score per candidate (the members' mean log-odds)."""
        total = np.zeros(len(features), dtype=np.float64)
        for model in self.model:
            total += model.decision_function(features)
        return (total / len(self.model)).astype(np.float32)

    def score_leaders(self, features: np.ndarray, rows: np.ndarray, starts: np.ndarray, keep: int) -> np.ndarray:
        """Like `score`, but only each row's `keep` best candidates by the first member get every member's
        mean; the rest keep the first member's order and sit just below them. Rows sorted, `starts` per row.

        Prediction is most of the cost of scoring, and a candidate far down the first member's list does not
        reach the page on the others' votes, so they need not look at it.
        """
        first = self.model[0].decision_function(features)
        if len(self.model) == 1:
            return first.astype(np.float32)
        order = np.lexsort((-first, rows))
        position = np.empty(len(rows), dtype=np.int64)
        position[order] = np.arange(len(rows)) - starts[rows[order]]
        lead = position < keep
        if lead.all():
            return self.score(features)
        mean = first.copy()
        for model in self.model[1:]:
            mean[lead] += model.decision_function(features[lead])
        mean[lead] /= len(self.model)
        # Shift each row's other candidates, order kept, to below its lowest leader.
        n_rows = len(starts) - 1
        floor = np.full(n_rows, np.inf)
        np.minimum.at(floor, rows[lead], mean[lead])
        ceiling = np.full(n_rows, -np.inf)
        np.maximum.at(ceiling, rows[~lead], first[~lead])
        shift = np.maximum(ceiling - floor + 1e-3, 0.0)
        mean[~lead] -= shift[rows[~lead]]
        return mean.astype(np.float32)
