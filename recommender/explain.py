"""Explanations: the reason shown with each recommended item, as a code the app translates.

A reason names the family that contributed most to the item on its own per-user scale (what followees did,
an item of yours it resembles, its community), and the followee or item of yours behind it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from . import reasons as R
from .candidates import Sources
from .data import TrainingData
from .ranker import FALLBACK_WEIGHTS

# How each family's normalised score counts when choosing the reason shown. What people you follow did is the
# explanation readers trust most: it is shown unless a collaborative signal is more than twice as strong on
# its own scale. A content match explains an item only when it is clearly stronger than every collaborative one.
SOCIAL_REASON_WEIGHT = 2.0
CONTENT_REASON_WEIGHT = 0.5


@dataclass
class Explainer:
    """What the reasons are read from: the training data, the fitted sources and each item's metadata."""

    data: TrainingData
    sources: Sources
    titles: np.ndarray
    communities: np.ndarray

    def reasons(
        self, row: int, X_row: sp.csr_matrix, items: np.ndarray, parts: dict[str, np.ndarray]
    ) -> list[R.Reason]:
        """For each item, the reason of the source that contributed most to its hand-set blend score.

        `parts` holds, aligned with `items`, each source's normalised score and the community rank.
        """
        # Each family is judged on its own per-user scale (its scores are normalised by the user's best
        # candidate): summing four collaborative sources against one social source let "because you liked"
        # bury every "liked by people you follow", even on items a followee had just saved. Social wins ties.
        # Social scores are zero unless a followee (or, weakly, a followee's followee) engaged with the item.
        has_community = (self.communities[items] != "").astype(np.float64)
        collaborative = np.max([parts[name] for name in ("ease", "als", "rp3", "neighbours")], axis=0)
        contributions = np.vstack(
            [
                collaborative,
                SOCIAL_REASON_WEIGHT * parts["social"] * (1 + 1e-6),
                CONTENT_REASON_WEIGHT * parts["content"],
                2 * FALLBACK_WEIGHTS["trending"] * parts["community"] * has_community,
            ]
        )
        best = np.argmax(contributions, axis=0)
        kind = np.where(contributions[best, np.arange(len(items))] > 0, best, -1)
        if row < 0:
            kind[kind == 1] = -1
        # Look up anchors and followees only for the items whose reason needs them.
        anchor = np.full(len(items), -1)
        for k, source in ((0, "collaborative"), (2, "content")):
            mine = np.flatnonzero(kind == k)
            if len(mine):
                anchor[mine] = self.anchors(X_row, items[mine], source)
        social = np.flatnonzero(kind == 1)
        who, counts = self.engaged_followees(row, items[social])
        fallback = R.Reason(R.POPULAR if np.isnan(self.data.now) else R.TRENDING)
        out = [fallback] * len(items)
        for j, names, count in zip(social, who, counts, strict=True):
            if names:
                out[j] = R.Reason(R.FOLLOWEES_ENGAGED, {"user_ids": names[:1], "others": count - 1})
            else:
                out[j] = R.Reason(R.FRIENDS_OF_FRIENDS)
        for j in np.flatnonzero(((kind == 0) | (kind == 2)) & (anchor >= 0)):
            code = R.BECAUSE_YOU_LIKED if kind[j] == 0 else R.SIMILAR_CONTENT
            a = anchor[j]
            out[j] = R.Reason(code, {"item_id": str(self.data.item_ids[a]), "title": str(self.titles[a])})
        # Collaborative or content support, but none from an item of the item's own community: say so without
        # naming an unrelated item ("because you liked" a tent note is no reason for a lipstick note).
        for j in np.flatnonzero(((kind == 0) | (kind == 2)) & (anchor < 0)):
            out[j] = R.Reason(R.BECAUSE_YOU_LIKED)
        for j in np.flatnonzero(kind == 3):
            out[j] = R.Reason(R.POPULAR_IN_COMMUNITY, {"community": str(self.communities[items[j]])})
        return out

    def engaged_followees(self, row: int, items: np.ndarray) -> tuple[list[list[str]], list[int]]:
        """Per item, the followees who engaged with it (most trusted first) and how many there are."""
        if row < 0 or len(items) == 0:
            return [[] for _ in items], [0] * len(items)
        trust = self.sources.social.trust[row]
        followees, weight = trust.indices, trust.data
        if len(followees) == 0:
            return [[] for _ in items], [0] * len(items)
        engaged = self.sources.social.binary[followees][:, items].toarray() > 0
        order = np.argsort(-weight, kind="stable")
        names = [
            [str(self.data.user_ids[followees[f]]) for f in order if engaged[f, j]][:3]
            for j in range(len(items))
        ]
        return names, engaged.sum(axis=0).astype(int).tolist()

    def anchors(self, X_row: sp.csr_matrix, items: np.ndarray, kind: str) -> np.ndarray:
        """Per item, the user's own item that supports it most (EASE/RP3 weight or content cosine), or -1.

        Where items have communities, only the user's items of the same community may anchor a reason: a
        reason names a related item or none."""
        liked = X_row.indices
        if len(liked) == 0 or len(items) == 0:
            return np.full(len(items), -1)
        weights = self._anchor_weights(liked, items, kind)
        communities = self.communities
        if communities is not None and len(communities):
            theirs, mine = communities[items], communities[liked]
            related = (mine[:, None] == theirs[None, :]) | (theirs[None, :] == "")
            weights = np.where(related, weights, 0.0)
        best = np.argmax(weights, axis=0)
        return np.where(weights[best, np.arange(len(items))] > 0, liked[best], -1)

    def _anchor_weights(self, liked: np.ndarray, items: np.ndarray, kind: str) -> np.ndarray:
        """How much each of the user's items (rows) supports each item (columns)."""
        if kind == "content":
            vectors = self.sources.content.vectors
            weights = (vectors[liked] @ vectors[items].T).toarray()
        else:
            weights = _dense_block(self.sources.rp3.W, liked, items)
            ease = self.sources.ease
            if len(ease.items):
                pos_l = np.searchsorted(ease.items, liked).clip(0, len(ease.items) - 1)
                pos_i = np.searchsorted(ease.items, items).clip(0, len(ease.items) - 1)
                in_l, in_i = ease.items[pos_l] == liked, ease.items[pos_i] == items
                weights = weights + ease.B[np.ix_(pos_l, pos_i)] * np.outer(in_l, in_i)
            # Of the items co-engaged with it, the one most alike in content names the reason best.
            vectors = self.sources.content.vectors
            weights = weights * (1.0 + (vectors[liked] @ vectors[items].T).toarray())
        return weights


def _dense_block(M: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """M[rows][:, cols] as a dense array, reading only the stored entries of those rows (scipy's column
    indexing builds an index over all of them first, which dominated the reasons' cost). `cols` are distinct."""
    sub = M[rows]
    out = np.zeros((len(rows), len(cols)), dtype=np.float64)
    if len(cols) == 0:
        return out
    position = np.full(M.shape[1], -1, dtype=np.int64)
    position[np.asarray(cols, dtype=np.int64)] = np.arange(len(cols))
    at = position[sub.indices]
    hit = at >= 0
    owner = np.repeat(np.arange(len(rows)), np.diff(sub.indptr))
    out[owner[hit], at[hit]] = sub.data[hit]
    return out

