"""The recommender: candidate sources, a learned ranker on top, re-ranking and a reason per item.

This module is the public face; the work is done in `tuning` (settings, fitting and tuning the sources,
training the ranker), `candidates` (nomination, the one exclusion step and ranking) and `explain` (reasons).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from threadpoolctl import ThreadpoolController

from . import reasons as R
from .candidates import Ranked, Sources, batch_size, rank_batch
from .data import InputError, Interactions, ItemMeta, TrainingData, build_training_data
from .explain import Explainer
from .ranker import normalise_rows
from .rerank import diversify, mmr
from .sources.content import ContentSource
from .tuning import Clock, Settings, build_ranker, fit_sources, item_field, train_ranker

__all__ = ["Recommendation", "Recommender", "Settings", "Sources", "fit_from_rows"]


@dataclass
class Recommendation:
    """One recommended item with its rank, score and reason."""

    item_id: str
    rank: int
    score: float
    reason: R.Reason


_THREADPOOLS: ThreadpoolController | None = None


def _thread_limit(threads: int):
    """A context that caps the BLAS and OpenMP thread pools (the controller is built once: it is slow)."""
    global _THREADPOOLS
    if _THREADPOOLS is None:
        _THREADPOOLS = ThreadpoolController()
    return _THREADPOOLS.limit(limits=threads)


class Recommender:
    """Fit on interactions, the follow graph and item metadata; recommend with reasons; save and load."""

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings()
        self.data: TrainingData | None = None
        self.sources: Sources | None = None
        self.ranker = build_ranker(self.settings)
        self.titles: np.ndarray | None = None
        self.authors: np.ndarray | None = None
        self.communities: np.ndarray | None = None
        self.chosen: dict[str, Any] = {}
        self.info: dict[str, Any] = {}

    # ---- training -------------------------------------------------------------------------------------

    def fit(
        self,
        interactions: Interactions,
        followers: np.ndarray | None = None,
        followees: np.ndarray | None = None,
        items: ItemMeta | None = None,
        catalogue: Iterable[str] | None = None,
    ) -> Recommender:
        """Train every source and the ranker; `catalogue` adds items nobody has interacted with yet."""
        with _thread_limit(self.settings.threads):
            return self._fit(interactions, followers, followees, items, catalogue)

    def _fit(
        self,
        interactions: Interactions,
        followers: np.ndarray | None,
        followees: np.ndarray | None,
        items: ItemMeta | None,
        catalogue: Iterable[str] | None,
    ) -> Recommender:
        started = time.perf_counter()
        clock = Clock()
        settings = self.settings
        with clock.phase("data"):
            extra = list(catalogue) if catalogue is not None else (list(items.item_ids) if items else [])
            data = build_training_data(interactions, followers, followees, extra_items=extra)
            self.data = data
            self.titles = item_field(data, items, "titles")
            self.authors = item_field(data, items, "authors")
            self.communities = item_field(data, items, "communities")
        with clock.phase("content"):
            content = ContentSource().fit(data.item_ids, items)
        self.chosen = train_ranker(data, items, content, settings, self.ranker, clock)
        self.sources = fit_sources(data, items, settings, self.chosen, content, clock)
        self.info = {
            "users": int(data.n_active),
            "people": int(data.n_users),
            "items": int(data.n_items),
            "interactions": int(data.X.nnz),
            "follows": int(data.follows.nnz),
            "ranker": "learned" if self.ranker.learned else "fallback",
            "ranker_positives": self.ranker.positives,
            "chosen": {key: value for key, value in self.chosen.items()},
            "training_seconds": round(time.perf_counter() - started, 3),
            "phase_seconds": clock.rounded(),
        }
        return self

    # ---- public API -------------------------------------------------------------------------------------

    def _check_fitted(self) -> None:
        if self.data is None or self.sources is None:
            raise RuntimeError("the recommender is not trained: call fit() or load() first")

    def _exclusion(self, exclude: Iterable[str]) -> sp.csr_matrix:
        cols = [self.data.item_index[i] for i in exclude if i in self.data.item_index]
        return sp.csr_matrix(
            (np.ones(len(cols)), (np.zeros(len(cols), dtype=int), cols)), shape=(1, self.data.n_items)
        )

    def recommend(
        self,
        user_id: str,
        k: int = 20,
        exclude: Iterable[str] = (),
        seen: Iterable[str] = (),
        diversity: bool = True,
        use_mmr: bool = False,
    ) -> list[Recommendation]:
        """Top-k items for one user, never an item they have, nor one in `exclude` (blocked, removed, seen).

        A user unknown to the model gets items from `seen` as their profile and popular items otherwise.
        """
        self._check_fitted()
        data = self.data
        row = data.user_index.get(user_id, -1)
        X_row = data.X[row] if row >= 0 else self._exclusion(seen)
        exclude_row = self._exclusion(list(exclude) + list(seen))
        with _thread_limit(self.settings.threads):
            depth = self._depth(k, diversity, use_mmr)
            items, scores, parts = self._rank_batch(np.array([row]), X_row, depth, exclude_row)[0]
            return self._finish(row, X_row, items, scores, parts, k, diversity, use_mmr)

    def recommend_all(
        self, k: int = 20, users: Iterable[str] | None = None, diversity: bool = True
    ) -> Iterator[tuple[str, list[Recommendation]]]:
        """Top-k for every user with interactions (or the given ones), in batches."""
        self._check_fitted()
        data = self.data
        ids = list(users) if users is not None else list(data.user_ids[: data.n_active])
        rows = np.array([data.user_index.get(u, -1) for u in ids])
        batch = batch_size(data.n_items)
        for start in range(0, len(rows), batch):
            part = rows[start : start + batch]
            X_rows = data.rows_of(part)
            with _thread_limit(self.settings.threads):  # not held across the yields below
                ranked = self._rank_batch(part, X_rows, self._depth(k, diversity, False))
                finished = [
                    self._finish(part[j], X_rows[j], items, scores, parts, k, diversity, False)
                    for j, (items, scores, parts) in enumerate(ranked)
                ]
            yield from zip(ids[start : start + len(part)], finished, strict=True)

    def _depth(self, k: int, diversity: bool, use_mmr: bool) -> int:
        """How many ranked candidates a page of k needs: three times k when re-ranking may pass some over."""
        k = max(k, 0)
        if use_mmr or (diversity and any(group is not None for group in self._page_groups())):
            return 3 * k
        return k

    def _finish(
        self,
        row: int,
        X_row: sp.csr_matrix,
        items: np.ndarray,
        scores: np.ndarray,
        parts: dict[str, np.ndarray],
        k: int,
        diversity: bool,
        use_mmr: bool,
    ) -> list[Recommendation]:
        score_of = dict(zip(items.tolist(), scores.tolist(), strict=True))
        order = items.tolist()
        if use_mmr:
            order = mmr(order, [score_of[i] for i in order], self.sources.content.vectors, len(order))
        if diversity:
            authors, communities = self._page_groups()
            order = diversify(
                order, k, authors, communities, self.settings.max_per_author, self.settings.max_per_community
            )
        order = order[:k]
        position = {item: j for j, item in enumerate(items.tolist())}
        picked = np.array([position[i] for i in order], dtype=np.int64)
        reasons = self._reasons(
            row, X_row, np.array(order, dtype=np.int64), {name: v[picked] for name, v in parts.items()}
        )
        return [
            Recommendation(str(self.data.item_ids[i]), rank, float(score_of[i]), reason)
            for rank, (i, reason) in enumerate(zip(order, reasons, strict=True), start=1)
        ]

    def _page_groups(self) -> tuple[list[str] | None, list[str] | None]:
        """Each item's author and community as lists (None when no item has one), built once."""
        cached = getattr(self, "_groups", None)
        if cached is None or cached[0] is not self.authors or cached[1] is not self.communities:
            authors = self.authors.tolist() if any(self.authors) else None
            communities = self.communities.tolist() if any(self.communities) else None
            cached = (self.authors, self.communities, authors, communities)
            self._groups = cached
        return cached[2], cached[3]

    def _rank_batch(
        self, rows: np.ndarray, X_rows: sp.csr_matrix, k: int, exclude: sp.csr_matrix | None = None
    ) -> list[Ranked]:
        """Per row: candidate items best first, their scores, and the parts the reasons are built from."""
        return rank_batch(
            self.data, self.sources, self.ranker, rows, X_rows, k, self.settings.candidates_per_source, exclude
        )

    def _reasons(
        self, row: int, X_row: sp.csr_matrix, items: np.ndarray, parts: dict[str, np.ndarray]
    ) -> list[R.Reason]:
        """For each item, the reason of the family that contributed most to it (see explain.Explainer)."""
        return Explainer(self.data, self.sources, self.titles, self.communities).reasons(row, X_row, items, parts)

    def similar_items(self, item_id: str, k: int = 10) -> list[Recommendation]:
        """Items most like one item: co-engagement (RP3beta walk) blended with content similarity."""
        self._check_fitted()
        i = self.data.item_index.get(item_id)
        if i is None:
            raise KeyError(f"unknown item {item_id!r}")
        collab = np.asarray(self.sources.rp3.W[i].todense()).ravel()
        content = self.sources.content.vectors
        text = np.asarray((content[i] @ content.T).todense()).ravel()
        score = normalise_rows(collab[None])[0] + 0.3 * normalise_rows(text[None])[0]
        score[i] = -np.inf
        top = [j for j in np.argsort(-score, kind="stable")[:k] if score[j] > 0]
        reason = R.Reason(R.ALSO_LIKED, {"item_id": item_id, "title": str(self.titles[i])})
        return [
            Recommendation(str(self.data.item_ids[j]), rank, float(score[j]), reason)
            for rank, j in enumerate(top, start=1)
        ]

    def similar_all(self, k: int = 10, batch: int = 256) -> Iterator[tuple[str, list[Recommendation]]]:
        """similar_items() of every item, a block of items at a time (the same scores and order)."""
        self._check_fitted()
        W, content = self.sources.rp3.W.tocsr(), self.sources.content.vectors.tocsr()
        for start in range(0, self.data.n_items, batch):
            block = np.arange(start, min(start + batch, self.data.n_items))
            collab = W[block].toarray()
            text = (content[block] @ content.T).toarray()
            score = normalise_rows(collab) + 0.3 * normalise_rows(text)
            score[np.arange(len(block)), block] = -np.inf
            order = np.argsort(-score, axis=1, kind="stable")[:, :k]
            for row, i in enumerate(block):
                reason = R.Reason(R.ALSO_LIKED, {"item_id": str(self.data.item_ids[i]), "title": str(self.titles[i])})
                top = [j for j in order[row] if score[row, j] > 0]
                yield str(self.data.item_ids[i]), [
                    Recommendation(str(self.data.item_ids[j]), rank, float(score[row, j]), reason)
                    for rank, j in enumerate(top, start=1)
                ]

    def people_to_follow(
        self, user_id: str, k: int = 10, exclude: Iterable[str] = ()
    ) -> list[tuple[str, float, R.Reason]]:
        """People your followees follow and people with your tastes; never you or your followees."""
        self._check_fitted()
        data = self.data
        u = data.user_index.get(user_id)
        if u is None:
            return []
        F = data.follows
        fof = np.asarray((F[u] @ F).todense()).ravel()
        B = data.binary()
        shared = np.asarray((B[u] @ B.T).todense()).ravel()
        counts = np.diff(B.indptr)
        denom = np.sqrt(max(counts[u], 1) * np.maximum(counts, 1))
        taste = shared / denom
        score = normalise_rows(fof[None])[0] + normalise_rows(taste[None])[0]
        banned = (
            set(F[u].indices.tolist()) | {u} | {data.user_index[e] for e in exclude if e in data.user_index}
        )
        score[list(banned)] = -np.inf
        result = []
        for v in np.argsort(-score, kind="stable")[:k]:
            if score[v] <= 0:
                break
            if fof[v] >= 1 and normalise_rows(fof[None])[0][v] >= normalise_rows(taste[None])[0][v]:
                via = [w for w in F[u].indices if F[w, v] > 0]
                reason = R.Reason(
                    R.FOLLOWED_BY_FOLLOWEES,
                    {"user_ids": [str(data.user_ids[via[0]])], "others": len(via) - 1},
                )
            else:
                reason = R.Reason(R.SHARED_TASTE, {"shared": int(shared[v])})
            result.append((str(data.user_ids[v]), float(score[v]), reason))
        return result

    def settings_dict(self) -> dict[str, Any]:
        """Settings as JSON-ready values."""
        return {
            key: (list(value) if isinstance(value, tuple) else value)
            for key, value in asdict(self.settings).items()
        }


def fit_from_rows(
    interactions: Interactions,
    followers: np.ndarray,
    followees: np.ndarray,
    items: ItemMeta | None,
    seed: int,
    catalogue: Iterable[str] | None = None,
) -> Recommender:
    """Train a recommender with default settings and the given seed."""
    if len(interactions) == 0:
        raise InputError("no interactions to train on")
    return Recommender(Settings(seed=seed)).fit(interactions, followers, followees, items, catalogue)
