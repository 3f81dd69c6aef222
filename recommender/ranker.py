"""The learned ranker: a gradient-boosted classifier over source scores and simple features.

It is trained on interactions held out from the training data (never the evaluation's test split); with too
few held-out positives it falls back to hand-set blend weights.
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

# Hand-set weights on per-user max-normalised source scores: the fallback ranker and the reason attribution.
FALLBACK_WEIGHTS = {"svd": 0.3, "ease": 1.0, "als": 0.7, "rp3": 0.5, "social": 0.2, "content": 0.05, "trending": 0.02}
SOURCE_SCORES = (
    "svd",
    "ease",
    "als",
    "rp3",
    "social",
    "hop1",
    "followees",
    "content",
    "popularity",
    "trending",
    "community",
)
NORMALISED = ("svd", "ease", "als", "rp3", "social", "content")
FEATURES = (
    SOURCE_SCORES
    + tuple(f"{name}_norm" for name in NORMALISED)
    + tuple(f"{name}_rank" for name in NORMALISED)
    + ("user_items", "user_followees", "item_has_text")
)


def normalise_rows(a: np.ndarray) -> np.ndarray:
    """Scale each row by its largest absolute value (rows of zeros stay zero)."""
    top = np.abs(a).max(axis=1, keepdims=True)
    return a / np.where(top > 0, top, 1.0)


def fallback_score(scores: dict[str, np.ndarray]) -> np.ndarray:
    """The hand-set blend of normalised source scores (any array shape shared by the inputs)."""
    return sum(
        w * scores[f"{name}_norm"] if f"{name}_norm" in scores else w * scores[name]
        for name, w in FALLBACK_WEIGHTS.items()
    )


def candidate_features(
    dense: dict[str, np.ndarray],
    rows: np.ndarray,
    cols: np.ndarray,
    user: dict[str, np.ndarray],
    item: dict[str, np.ndarray],
) -> np.ndarray:
    """Feature matrix for candidates (rows[k], cols[k]) of a batch: dense maps name -> batch x items."""
    columns = []
    for name in SOURCE_SCORES:
        columns.append(dense[name][rows, cols])
    for name in NORMALISED:
        columns.append(dense[f"{name}_norm"][rows, cols])
    for name in NORMALISED:
        columns.append(dense[f"{name}_rank"][rows, cols])
    columns.append(user["items"][rows])
    columns.append(user["followees"][rows])
    columns.append(item["has_text"][cols])
    return np.column_stack(columns).astype(np.float32)


def within_user_rank(scores: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """log2(2 + rank) of each candidate's score among its user's candidates (rank 0 = best); 0 elsewhere."""
    ranks = np.full(scores.shape, 0.0, dtype=np.float32)
    for r in range(scores.shape[0]):
        idx = candidates[r]
        order = np.argsort(-scores[r, idx], kind="stable")
        ranks[r, idx[order]] = np.log2(2 + np.arange(len(idx)))
    return ranks


class LearnedRanker:
    """HistGradientBoostingClassifier on candidate features, or the fallback blend when untrained."""

    def __init__(self, seed: int = 2026, min_positives: int = 50, max_iter: int = 300):
        self.seed, self.min_positives, self.max_iter = seed, min_positives, max_iter
        self.model: HistGradientBoostingClassifier | None = None
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
        self.model = HistGradientBoostingClassifier(
            max_iter=self.max_iter,
            learning_rate=0.08,
            max_leaf_nodes=15,
            min_samples_leaf=100,
            l2_regularization=1.0,
            early_stopping=True,
            validation_fraction=0.15,
            n_iter_no_change=20,
            random_state=self.seed,
        )
        self.model.fit(features, labels)
        return self

    def score(self, features: np.ndarray) -> np.ndarray:
        """Probability-like score per candidate (the learned model's log-odds)."""
        return self.model.decision_function(features).astype(np.float32)
