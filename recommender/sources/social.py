"""Social source: what the people you follow engaged with, weighted by recency and by shared taste."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..data import TrainingData
from .collaborative import cap_history, top_k_per_row, transposed


def recency_weights(data: TrainingData, half_life_days: float) -> np.ndarray:
    """A weight in (0, 1] per stored interaction (aligned with X.data); 1 where time is unknown."""
    stamps = data.last_seen.data
    if np.isnan(data.now) or half_life_days <= 0:
        return np.ones_like(data.X.data)
    age_days = np.maximum(data.now - stamps, 0.0) / 86400.0
    return np.where(np.isnan(stamps), 1.0, np.power(0.5, age_days / half_life_days))


def taste_overlap(B: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray, chunk: int = 20_000) -> np.ndarray:
    """Cosine overlap of the item sets of users rows[k] and cols[k], computed in chunks of edges."""
    counts = np.asarray(B.sum(axis=1)).ravel()
    out = np.zeros(len(rows))
    for start in range(0, len(rows), chunk):
        r, c = rows[start : start + chunk], cols[start : start + chunk]
        shared = np.asarray(B[r].multiply(B[c]).sum(axis=1)).ravel()
        denom = np.sqrt(counts[r] * counts[c])
        out[start : start + chunk] = np.divide(shared, denom, out=np.zeros_like(shared), where=denom > 0)
    return out


class SocialSource:
    """Scores items by followees' engagement (trust = prior + taste overlap) plus a damped second hop."""

    def __init__(
        self,
        prior: float = 0.1,
        second_hop: float = 0.2,
        half_life_days: float = 90.0,
        max_followees: int = 200,
        max_second_hop: int = 500,
    ):
        self.prior, self.second_hop = prior, second_hop
        self.half_life_days, self.max_followees = half_life_days, max_followees
        self.max_second_hop = max_second_hop
        self.trust: sp.csr_matrix | None = None
        self.engagement: sp.csr_matrix | None = None
        self.binary: sp.csr_matrix | None = None

    def _spread(self, weights: sp.csr_matrix, per_person: sp.csr_matrix) -> np.ndarray:
        """Dense weights @ per_person by the cheaper product: sparse-sparse costs about the engagements of
        the people each row reaches, sparse items x people times dense people x rows every engagement per row."""
        work = float(np.diff(per_person.indptr)[weights.indices].sum())
        if 3 * work < per_person.nnz * weights.shape[0]:
            return (weights @ per_person).astype(np.float32).toarray()
        return transposed(self._transpose_of(per_person) @ weights.T.toarray())

    def _transpose_of(self, matrix: sp.csr_matrix) -> sp.csr_matrix:
        """matrix.T as CSR, kept for the next batch (one transpose of a big matrix costs a whole batch)."""
        cache = self.__dict__.setdefault("_transposes", [])
        for original, transpose in cache:
            if original is matrix:
                return transpose
        cache[:] = [(m, t) for m, t in cache if m is self.engagement or m is self.binary]
        cache.append((matrix, matrix.T.tocsr()))
        return cache[-1][1]

    def fit(self, data: TrainingData) -> SocialSource:
        """Compute trust per follow edge and each user's recency-weighted, normalised engagement."""
        B = data.binary()
        follows = data.follows.tocoo()
        overlap = taste_overlap(cap_history(B, 1000), follows.row, follows.col)
        trust = sp.csr_matrix((self.prior + overlap, (follows.row, follows.col)), shape=data.follows.shape)
        self.trust = top_k_per_row(trust, self.max_followees)
        E = data.binary().astype(np.float64)
        E.data = recency_weights(data, self.half_life_days)
        counts = np.asarray(B.sum(axis=1)).ravel()
        # A followee with 1,000 items says less about each of them than one with 10.
        scale = np.divide(1.0, np.sqrt(counts), out=np.zeros_like(counts), where=counts > 0)
        self.engagement = (sp.diags(scale) @ E).tocsr()
        self.binary = B
        return self

    def score(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """Dense rows: `social` (hop 1 + damped hop 2), `hop1`, `hop2` and `followees` (how many engaged)."""
        T = self.trust[rows]
        followees = T.copy()
        followees.data[:] = 1.0
        T2 = (T @ self.trust).tocsr()
        T2 = T2 - T2.multiply(followees)  # people you already follow count once, in hop 1
        # The most trusted second-hop people carry the signal; thousands of faint ones only cost time.
        T2 = top_k_per_row(T2, self.max_second_hop)
        hop1 = self._spread(T, self.engagement)
        hop2 = self._spread(T2, self.engagement)
        count = self._spread(followees, self.binary)
        norm1 = max(float(T.sum()) / max(len(rows), 1), 1e-9)
        norm2 = max(float(T2.sum()) / max(len(rows), 1), 1e-9)
        social = hop1 / norm1 + self.second_hop * hop2 / norm2
        return {"social": social, "hop1": hop1, "hop2": hop2 / norm2, "followees": count}
