"""Fresh source: new items from the communities a user engages with and from the people they follow.

On a site where most engagement goes to items in their first days, the newest items are exactly the ones the
collaborative sources know least about. This source scores every item by how new it is (halving every
`half_life_days` since it was published) times the user's affinity to where it comes from: the share of the
user's items in its community, plus one when the user follows its author. It also gives the ranker the
user-to-item affinities it is built from (community share, author share, follows the author) and each item's
age, so the ranker can learn how much newness matters on a given data set.

Items whose publication time is unknown score zero and have no age (data sets without it are unchanged).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..data import TrainingData

UNKNOWN_AGE = -1.0  # the `age` feature where an item's publication time is unknown


def _codes(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Integer codes of string labels ("" -> -1) and how many distinct labels there are."""
    values = np.asarray(values, dtype=str)
    labels, codes = np.unique(values, return_inverse=True)
    codes = codes.astype(np.int64)
    if len(labels) and labels[0] == "":
        codes -= 1
        return codes, len(labels) - 1
    return codes, len(labels)


def _one_hot(codes: np.ndarray, width: int) -> sp.csr_matrix:
    """items x width indicator of each item's code (rows of items with code -1 stay empty)."""
    known = np.flatnonzero(codes >= 0)
    return sp.csr_matrix(
        (np.ones(len(known), dtype=np.float32), (known, codes[known])), shape=(len(codes), max(width, 1))
    )


class FreshSource:
    """Newness times community and followed-author affinity, plus the affinity features themselves."""

    def __init__(self, half_life_days: float = 7.0):
        self.half_life_days = half_life_days
        self.created: np.ndarray | None = None  # publication time per item (NaN unknown)
        self.age_days: np.ndarray | None = None
        self.freshness: np.ndarray | None = None  # 0.5 ** (age / half-life); 0 where unknown
        self.community_of: sp.csr_matrix | None = None  # items x communities
        self.author_of: sp.csr_matrix | None = None  # items x authors
        self.community_codes: np.ndarray | None = None
        self.author_codes: np.ndarray | None = None
        self.authored: sp.csr_matrix | None = None  # users x items: 1 where the user wrote the item

    def fit(
        self,
        data: TrainingData,
        communities: np.ndarray | None = None,
        authors: np.ndarray | None = None,
        created: np.ndarray | None = None,
    ) -> FreshSource:
        n = data.n_items
        communities = np.full(n, "", dtype=object) if communities is None else communities
        authors = np.full(n, "", dtype=object) if authors is None else authors
        self.created = np.full(n, np.nan) if created is None else np.asarray(created, dtype=np.float64)
        known = ~np.isnan(self.created)
        if np.isnan(data.now) or not known.any():
            self.age_days = np.full(n, np.nan)
            self.freshness = np.zeros(n, dtype=np.float32)
        else:
            self.age_days = np.where(known, np.maximum(data.now - self.created, 0.0) / 86400.0, np.nan)
            self.freshness = np.where(
                known, np.power(0.5, np.nan_to_num(self.age_days) / self.half_life_days), 0.0
            ).astype(np.float32)
        self.community_codes, n_communities = _codes(communities)
        self.author_codes, n_authors = _codes(authors)
        self.community_of = _one_hot(self.community_codes, n_communities)
        self.author_of = _one_hot(self.author_codes, n_authors)
        author_user = np.array([data.user_index.get(str(a), -1) if a else -1 for a in authors], dtype=np.int64)
        wrote = np.flatnonzero(author_user >= 0)
        self.authored = sp.csr_matrix(
            (np.ones(len(wrote), dtype=np.float32), (author_user[wrote], wrote)), shape=(data.n_users, n)
        )
        return self

    @staticmethod
    def _mine(X_rows: sp.csr_matrix) -> tuple[sp.csr_matrix, np.ndarray]:
        B = X_rows.tocsr().astype(np.float32)
        B.data[:] = 1.0
        count = np.asarray(B.sum(axis=1)).ravel()
        scale = np.divide(1.0, count, out=np.zeros_like(count), where=count > 0)
        return (sp.diags(scale) @ B).tocsr(), count

    def _follows(self, data: TrainingData, rows: np.ndarray) -> sp.csr_matrix:
        """Rows of the follow graph (empty for users the model does not know)."""
        F = data.follows[np.where(rows >= 0, rows, 0)].tocsr()
        if (rows < 0).any():
            F = sp.diags((rows >= 0).astype(np.float32)) @ F
        return F.tocsr()

    def score(self, data: TrainingData, rows: np.ndarray, X_rows: sp.csr_matrix) -> np.ndarray:
        """Dense batch x items: freshness x (community share + follows the author)."""
        shares, _count = self._mine(X_rows)
        community = (shares @ self.community_of).toarray() @ self.community_of.T.toarray()
        followed = (self._follows(data, rows) @ self.authored).toarray()
        return (community + np.minimum(followed, 1.0)) * self.freshness[None, :]

    def pair_features(
        self, data: TrainingData, rows: np.ndarray, X_rows: sp.csr_matrix, cand_rows: np.ndarray, cand_cols: np.ndarray
    ) -> dict[str, np.ndarray]:
        """Per candidate: the user's share of items in its community and by its author, whether the user
        follows its author, and the item's age in days (log scale; UNKNOWN_AGE where unknown)."""
        shares, _count = self._mine(X_rows)
        out = {}
        for name, codes, onehot in (
            ("community_share", self.community_codes, self.community_of),
            ("author_share", self.author_codes, self.author_of),
        ):
            per_group = (shares @ onehot).tocsr()
            code = codes[cand_cols]
            value = np.zeros(len(cand_rows), dtype=np.float32)
            known = code >= 0
            if known.any():
                value[known] = np.asarray(per_group[cand_rows[known], code[known]]).ravel()
            out[name] = value
        followed = (self._follows(data, rows) @ self.authored).tocsr()
        out["follows_author"] = (np.asarray(followed[cand_rows, cand_cols]).ravel() > 0).astype(np.float32)
        age = self.age_days[cand_cols]
        out["age"] = np.where(np.isnan(age), UNKNOWN_AGE, np.log1p(np.nan_to_num(age))).astype(np.float32)
        return out
