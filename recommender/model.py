"""The recommender: candidate sources, a learned ranker on top, re-ranking and a reason per item."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from . import reasons as R
from .data import InputError, Interactions, ItemMeta, TrainingData, build_training_data
from .ranker import (
    FALLBACK_WEIGHTS,
    FEATURES,
    NORMALISED,
    LearnedRanker,
    candidate_features,
    fallback_score,
    normalise_rows,
    within_user_rank,
)
from .rerank import diversify, mmr
from .sources.collaborative import EASE, ImplicitALS, PureSVD, RP3Beta
from .sources.content import ContentSource
from .sources.popularity import PopularitySource
from .sources.social import SocialSource


@dataclass
class Settings:
    """Defaults that hold across data sets; grids are chosen per data set on an internal validation split."""

    seed: int = 2026
    # (popularity damping beta, l2, input weighting) and (factors, beta, input weighting)
    ease: tuple[tuple[float, float, str], ...] = (
        (0.2, 60.0, "binary"),
        (0.3, 200.0, "binary"),
        (0.2, 30.0, "rank"),
        (0.2, 60.0, "rank"),
        (0.3, 200.0, "rank"),
    )
    ease_min_support: int = 3
    ease_max_items: int = 6000
    rp3: tuple[tuple[float, float], ...] = ((0.8, 0.2), (1.0, 0.35))
    rp3_neighbours: int = 200
    svd: tuple[tuple[int, float, str], ...] = (
        (64, 0.25, "binary"),
        (64, 0.25, "rank"),
    )
    # implicit ALS: (factors, regularization, alpha, confidence weighting)
    als: tuple[tuple[int, float, float, str], ...] = (
        (64, 100.0, 40.0, "log"),
        (128, 100.0, 40.0, "log"),
        (64, 20.0, 10.0, "log"),
    )
    als_iterations: int = 8
    max_ranker_rows: int = 200_000
    candidates_per_source: int = 100
    holdout_share: float = 0.2
    max_tuning_users: int = 4000
    max_ranker_users: int = 6000
    social_second_hop: float = 0.2
    social_half_life_days: float = 90.0
    trending_half_life_days: float = 7.0
    max_per_author: int = 2
    max_per_community: int = 4


@dataclass
class Recommendation:
    """One recommended item with its rank, score and reason."""

    item_id: str
    rank: int
    score: float
    reason: R.Reason


@dataclass
class Sources:
    """The fitted candidate sources."""

    svd: PureSVD
    ease: EASE
    als: ImplicitALS
    rp3: RP3Beta
    social: SocialSource
    content: ContentSource
    popularity: PopularitySource


def _fit_sources(
    data: TrainingData,
    meta: ItemMeta | None,
    settings: Settings,
    chosen: dict[str, Any],
    content: ContentSource,
    fitted: dict[str, Any] | None = None,
) -> Sources:
    """Fit every source with the chosen settings, reusing models already fitted on the same data."""
    fitted = fitted or {}
    X = data.X
    svd = fitted.get("svd") or _svd(chosen["svd"], settings).fit(X)
    ease = fitted.get("ease") or _ease(chosen["ease"], settings).fit(X)
    als = fitted.get("als") or _als(chosen["als"], settings).fit(X)
    walk = fitted.get("rp3") or RP3Beta(*chosen["rp3"], settings.rp3_neighbours).fit(X)
    social = SocialSource(
        second_hop=settings.social_second_hop, half_life_days=settings.social_half_life_days
    ).fit(data)
    communities = _item_field(data, meta, "communities")
    popularity = PopularitySource(settings.trending_half_life_days).fit(data, communities)
    return Sources(svd, ease, als, walk, social, content, popularity)


def _svd(params: tuple, settings: Settings) -> PureSVD:
    factors, beta, weighting = params
    return PureSVD(factors, beta, seed=settings.seed, weighting=weighting)


def _als(params: tuple, settings: Settings) -> ImplicitALS:
    factors, regularization, alpha, weighting = params
    return ImplicitALS(
        int(factors), regularization, alpha, weighting, iterations=settings.als_iterations, seed=settings.seed
    )


def _ease(params: tuple, settings: Settings) -> EASE:
    beta, l2, weighting = params
    return EASE(l2, beta, settings.ease_min_support, settings.ease_max_items, weighting)


def _item_field(data: TrainingData, meta: ItemMeta | None, name: str) -> np.ndarray:
    values = np.full(data.n_items, "", dtype=object)
    if meta is not None:
        for item, value in zip(meta.item_ids, getattr(meta, name), strict=True):
            i = data.item_index.get(item)
            if i is not None:
                values[i] = value
    return values


def _batch_size(n_items: int) -> int:
    return int(np.clip(20_000_000 // max(n_items, 1), 16, 1024))


def _holdout(data: TrainingData, share: float, seed: int) -> tuple[TrainingData, sp.csr_matrix]:
    """Move a random share of each user's items (users with >= 3) to a holdout matrix; same indexing."""
    rng = np.random.default_rng(seed)
    X = data.X.tocsr()
    held = np.zeros(X.nnz, dtype=bool)
    for u in range(data.n_active):
        start, end = X.indptr[u], X.indptr[u + 1]
        n = end - start
        if n >= 3:
            take = max(1, int(round(share * n)))
            held[start + rng.choice(n, size=take, replace=False)] = True
    keep = ~held

    def part(M: sp.csr_matrix, mask: np.ndarray) -> sp.csr_matrix:
        rows = np.repeat(np.arange(M.shape[0]), np.diff(M.indptr))
        return sp.csr_matrix((M.data[mask], (rows[mask], M.indices[mask])), shape=M.shape)

    inner = TrainingData(
        data.user_ids,
        data.item_ids,
        part(X, keep),
        part(data.last_seen, keep),
        data.follows,
        data.n_active,
        data.now,
        data.user_index,
        data.item_index,
    )
    inner.X.sort_indices()
    inner.last_seen.sort_indices()
    return inner, part(X, held)


def _ndcg20(scores: np.ndarray, seen: sp.csr_matrix, truth: sp.csr_matrix) -> float:
    """Mean NDCG@20 of dense scores against binary truth rows, seen items excluded."""
    scores = scores.copy()
    scores[seen.nonzero()] = -np.inf
    k = min(20, scores.shape[1] - 1)
    top = np.argpartition(-scores, k, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, top, 1), axis=1, kind="stable")
    top = np.take_along_axis(top, order, 1)
    hits = np.asarray(truth[np.arange(len(top))[:, None], top].todense()) > 0
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    n_true = np.minimum(np.diff(truth.indptr), k)
    ideal = np.cumsum(discount)[np.maximum(n_true - 1, 0)]
    return float(np.mean((hits * discount).sum(axis=1) / ideal))


def _batched_ndcg20(model: Any, X_rows: sp.csr_matrix, truth: sp.csr_matrix, batch: int) -> float:
    """_ndcg20 of a source's scores, computed a batch of users at a time to bound memory."""
    total = 0.0
    for start in range(0, X_rows.shape[0], batch):
        part = slice(start, start + batch)
        rows = X_rows[part]
        total += _ndcg20(model.score(rows), rows, truth[part]) * rows.shape[0]
    return total / max(X_rows.shape[0], 1)


class Recommender:
    """Fit on interactions, the follow graph and item metadata; recommend with reasons; save and load."""

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings()
        self.data: TrainingData | None = None
        self.sources: Sources | None = None
        self.ranker = LearnedRanker(self.settings.seed)
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
        started = time.perf_counter()
        extra = list(catalogue) if catalogue is not None else (list(items.item_ids) if items else [])
        data = build_training_data(interactions, followers, followees, extra_items=extra)
        self.data = data
        self.titles = _item_field(data, items, "titles")
        self.authors = _item_field(data, items, "authors")
        self.communities = _item_field(data, items, "communities")
        settings = self.settings
        content = ContentSource().fit(data.item_ids, items)
        inner, held = _holdout(data, settings.holdout_share, settings.seed)
        rng = np.random.default_rng(settings.seed + 1)
        held_users = np.flatnonzero(np.diff(held.indptr) > 0)
        self.chosen, fitted = self._tune(inner, held, held_users, rng)
        inner_sources = _fit_sources(inner, items, settings, self.chosen, content, fitted)
        examples = [self._ranker_examples(inner, inner_sources, held, held_users, rng)]
        del inner_sources, fitted
        self._fit_ranker(examples, rng)
        del inner, held
        self.sources = _fit_sources(data, items, settings, self.chosen, content)
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
        }
        return self

    def _tune(
        self, inner: TrainingData, held: sp.csr_matrix, users: np.ndarray, rng: np.random.Generator
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Pick each collaborative model's settings by NDCG@20 on the held-out interactions.

        Returns the choices and the chosen models fitted on the inner data (reused for the ranker).
        """
        settings = self.settings
        grids: dict[str, list] = {
            "svd": [tuple(p) for p in settings.svd],
            "ease": [tuple(p) for p in settings.ease],
            "als": [tuple(p) for p in settings.als],
            "rp3": [tuple(p) for p in settings.rp3],
        }
        chosen: dict[str, Any] = {
            "svd": grids["svd"][0],
            "ease": grids["ease"][0],
            "als": grids["als"][0],
            "rp3": grids["rp3"][0],
        }
        if len(users) < 20:
            return chosen, {}
        if len(users) > settings.max_tuning_users:
            users = np.sort(rng.choice(users, settings.max_tuning_users, replace=False))
        X_rows, truth = inner.X[users], held[users]
        grams: dict[tuple[float, str], tuple[np.ndarray, np.ndarray]] = {}

        def ease(params: tuple) -> EASE:
            beta, _, weighting = params
            if (beta, weighting) not in grams:
                grams.clear()  # one dense Gram matrix at a time
                grams[beta, weighting] = EASE.gram(
                    inner.X, settings.ease_min_support, settings.ease_max_items, beta, weighting
                )
            return _ease(params, settings).fit(inner.X, grams[beta, weighting])

        builders = {
            "svd": lambda p: _svd(p, settings).fit(inner.X),
            "ease": ease,
            "als": lambda p: _als(p, settings).fit(inner.X),
            "rp3": lambda p: RP3Beta(*p, settings.rp3_neighbours).fit(inner.X),
        }
        fitted: dict[str, Any] = {}
        report: dict[str, list] = {}
        for name, grid in grids.items():
            best = (-1.0, None, None)
            report[name] = []
            for params in grid:
                model = builders[name](params)
                value = _batched_ndcg20(model, X_rows, truth, _batch_size(inner.n_items))
                report[name].append([params if np.isscalar(params) else list(params), round(value, 5)])
                if value > best[0]:
                    best = (value, params, model)
            chosen[name] = best[1]
            fitted[name] = best[2]
        chosen["validation_ndcg20"] = report
        return chosen, fitted

    def _ranker_examples(
        self,
        inner: TrainingData,
        sources: Sources,
        held: sp.csr_matrix,
        users: np.ndarray,
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Candidate features of held-out users and whether each candidate was held out (the label)."""
        if len(users) > self.settings.max_ranker_users:
            users = np.sort(rng.choice(users, self.settings.max_ranker_users, replace=False))
        features, labels = [np.zeros((0, len(FEATURES)), dtype=np.float32)], [np.zeros(0, dtype=np.int8)]
        batch = _batch_size(inner.n_items)
        for start in range(0, len(users), batch):
            rows = users[start : start + batch]
            dense, cand_rows, cand_cols = self._candidates(inner, sources, rows, inner.X[rows])
            features.append(self._features(inner, sources, dense, rows, cand_rows, cand_cols))
            labels.append((np.asarray(held[rows[cand_rows], cand_cols]).ravel() > 0).astype(np.int8))
        return np.vstack(features), np.concatenate(labels)

    def _fit_ranker(self, examples: list[tuple[np.ndarray, np.ndarray]], rng: np.random.Generator) -> None:
        """Fit the ranker on every fold's examples, negatives subsampled to at most max_ranker_rows rows."""
        features = np.vstack([f for f, _ in examples])
        labels = np.concatenate([y for _, y in examples])
        negatives = np.flatnonzero(labels == 0)
        room = self.settings.max_ranker_rows - int(labels.sum())
        if len(negatives) > room > 0:
            # Dropping negatives at random changes the odds by a constant, not the order of items.
            drop = rng.choice(negatives, len(negatives) - room, replace=False)
            keep = np.ones(len(labels), dtype=bool)
            keep[drop] = False
            features, labels = features[keep], labels[keep]
        self.ranker.fit(features, labels)

    # ---- scoring --------------------------------------------------------------------------------------

    def _dense(
        self, data: TrainingData, sources: Sources, rows: np.ndarray, X_rows: sp.csr_matrix
    ) -> dict[str, np.ndarray]:
        dense: dict[str, np.ndarray] = {
            "svd": sources.svd.score(X_rows),
            "ease": sources.ease.score(X_rows),
            "als": sources.als.score(X_rows),
            "rp3": sources.rp3.score(X_rows),
            "content": sources.content.score(X_rows),
        }
        social_rows = np.where(rows >= 0, rows, 0)
        social = sources.social.score(social_rows)
        if (rows < 0).any():  # unknown users follow nobody we know
            for value in social.values():
                value[rows < 0] = 0.0
        dense.update(social)
        dense.update(sources.popularity.score(len(rows)))
        dense["community"] = np.broadcast_to(
            sources.popularity.community_rank.astype(np.float32), dense["ease"].shape
        )
        for name in NORMALISED:
            dense[f"{name}_norm"] = normalise_rows(dense[name])
        return dense

    def _candidates(
        self,
        data: TrainingData,
        sources: Sources,
        rows: np.ndarray,
        X_rows: sp.csr_matrix,
        exclude: sp.csr_matrix | None = None,
    ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
        """Dense source scores, and the union of each source's top items per user (seen items excluded)."""
        dense = self._dense(data, sources, rows, X_rows)
        banned = X_rows.astype(bool)
        if exclude is not None:
            banned = (banned + exclude.astype(bool)).astype(bool)
        ban_rows, ban_cols = banned.nonzero()
        n_items = data.n_items
        c = min(self.settings.candidates_per_source, n_items)
        mask = np.zeros((len(rows), n_items), dtype=bool)
        for name in ("svd", "ease", "als", "rp3", "social", "content", "trending"):
            scores = np.array(dense[name], dtype=np.float32)
            scores[ban_rows, ban_cols] = -np.inf
            top = (
                np.argpartition(-scores, c - 1, axis=1)[:, :c]
                if c < n_items
                else np.tile(np.arange(n_items), (len(rows), 1))
            )
            picked = np.take_along_axis(scores, top, 1) > (0 if name != "trending" else -np.inf)
            mask[np.repeat(np.arange(len(rows)), top.shape[1])[picked.ravel()], top[picked]] = True
        mask[ban_rows, ban_cols] = False
        cand_rows, cand_cols = np.nonzero(mask)
        per_row = np.split(cand_cols, np.searchsorted(cand_rows, np.arange(1, len(rows))))
        for name in NORMALISED:
            dense[f"{name}_rank"] = within_user_rank(dense[name], per_row)
        return dense, cand_rows, cand_cols

    def _features(
        self,
        data: TrainingData,
        sources: Sources,
        dense: dict[str, np.ndarray],
        rows: np.ndarray,
        cand_rows: np.ndarray,
        cand_cols: np.ndarray,
    ) -> np.ndarray:
        X = data.X
        safe = np.where(rows >= 0, rows, 0)
        user = {
            "items": np.log1p(np.where(rows >= 0, np.diff(X.indptr)[safe], 0)).astype(np.float32),
            "followees": np.log1p(np.where(rows >= 0, np.diff(data.follows.indptr)[safe], 0)).astype(
                np.float32
            ),
        }
        item = {"has_text": sources.content.has_text.astype(np.float32)}
        return candidate_features(dense, cand_rows, cand_cols, user, item)

    def _rank_batch(
        self,
        rows: np.ndarray,
        X_rows: sp.csr_matrix,
        k: int,
        exclude: sp.csr_matrix | None = None,
        data: TrainingData | None = None,
        sources: Sources | None = None,
    ) -> list[tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]]:
        data = data or self.data
        sources = sources or self.sources
        dense, cand_rows, cand_cols = self._candidates(data, sources, rows, X_rows, exclude)
        blend = fallback_score(dense)
        if self.ranker.learned and len(cand_rows):
            scores = self.ranker.score(self._features(data, sources, dense, rows, cand_rows, cand_cols))
        else:
            scores = blend[cand_rows, cand_cols]
        banned = X_rows.astype(bool)
        if exclude is not None:
            banned = (banned + exclude.astype(bool)).astype(bool)
        out = []
        bounds = np.searchsorted(cand_rows, np.arange(len(rows) + 1))
        for r in range(len(rows)):
            items, s = cand_cols[bounds[r] : bounds[r + 1]], scores[bounds[r] : bounds[r + 1]]
            order = np.argsort(-s, kind="stable")
            items, s = items[order], s[order]
            if len(items) < k:  # tiny catalogues: fill from every allowed item by the blend
                rest = np.setdiff1d(np.arange(data.n_items), np.concatenate([items, banned[r].indices]))
                rest = rest[np.argsort(-blend[r, rest], kind="stable")][: k - len(items)]
                low = (s.min() if len(s) else 0.0) - 1.0
                items = np.concatenate([items, rest])
                s = np.concatenate([s, low - np.arange(len(rest), dtype=np.float32) * 1e-3])
            out.append(
                (
                    items,
                    s,
                    {
                        name: dense[name][r]
                        for name in (
                            "svd_norm",
                            "ease_norm",
                            "als_norm",
                            "rp3_norm",
                            "social_norm",
                            "content_norm",
                            "trending",
                            "community",
                            "hop1",
                        )
                    },
                )
            )
        return out

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
        items, scores, parts = self._rank_batch(np.array([row]), X_row, max(k, 0) * 3, exclude_row)[0]
        return self._finish(row, X_row, items, scores, parts, k, diversity, use_mmr)

    def recommend_all(
        self, k: int = 20, users: Iterable[str] | None = None, diversity: bool = True
    ) -> Iterator[tuple[str, list[Recommendation]]]:
        """Top-k for every user with interactions (or the given ones), in batches."""
        self._check_fitted()
        data = self.data
        ids = list(users) if users is not None else list(data.user_ids[: data.n_active])
        rows = np.array([data.user_index.get(u, -1) for u in ids])
        batch = _batch_size(data.n_items)
        for start in range(0, len(rows), batch):
            part = rows[start : start + batch]
            safe = np.where(part >= 0, part, 0)
            X_rows = data.X[safe]
            X_rows = sp.diags((part >= 0).astype(np.float64)) @ X_rows
            ranked = self._rank_batch(part, X_rows.tocsr(), k * 3 if diversity else k)
            for j, (items, scores, parts) in enumerate(ranked):
                yield (
                    ids[start + j],
                    self._finish(part[j], X_rows[j], items, scores, parts, k, diversity, False),
                )

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
            authors = self.authors.tolist() if any(self.authors) else None
            communities = self.communities.tolist() if any(self.communities) else None
            order = diversify(
                order, k, authors, communities, self.settings.max_per_author, self.settings.max_per_community
            )
        order = order[:k]
        reasons = self._reasons(row, X_row, np.array(order, dtype=np.int64), parts)
        return [
            Recommendation(str(self.data.item_ids[i]), rank, float(score_of[i]), reason)
            for rank, (i, reason) in enumerate(zip(order, reasons, strict=True), start=1)
        ]

    def _reasons(
        self, row: int, X_row: sp.csr_matrix, items: np.ndarray, parts: dict[str, np.ndarray]
    ) -> list[R.Reason]:
        """For each item, the reason of the source that contributed most to its hand-set blend score."""
        w = FALLBACK_WEIGHTS
        has_community = (self.communities[items] != "").astype(np.float64)
        contributions = np.vstack(
            [
                w["svd"] * parts["svd_norm"][items]
                + w["ease"] * parts["ease_norm"][items]
                + w["als"] * parts["als_norm"][items]
                + w["rp3"] * parts["rp3_norm"][items],
                w["social"] * parts["social_norm"][items],
                w["content"] * parts["content_norm"][items],
                2 * w["trending"] * parts["community"][items] * has_community,
            ]
        )
        best = np.argmax(contributions, axis=0)
        positive = contributions[best, np.arange(len(items))] > 0
        collab_anchor = self._anchors(X_row, items, "collaborative")
        content_anchor = self._anchors(X_row, items, "content")
        who, counts = self._engaged_followees(row, items)
        fallback = R.Reason(R.POPULAR if np.isnan(self.data.now) else R.TRENDING)
        out = []
        for j, item in enumerate(items):
            reason = fallback
            kind = best[j] if positive[j] else -1
            if kind == 1 and row >= 0:
                if who[j]:
                    reason = R.Reason(R.FOLLOWEES_ENGAGED, {"user_ids": who[j][:1], "others": counts[j] - 1})
                else:
                    reason = R.Reason(R.FRIENDS_OF_FRIENDS)
            elif kind in (0, 2):
                anchor = collab_anchor[j] if kind == 0 else content_anchor[j]
                if anchor >= 0:
                    code = R.BECAUSE_YOU_LIKED if kind == 0 else R.SIMILAR_CONTENT
                    reason = R.Reason(
                        code, {"item_id": str(self.data.item_ids[anchor]), "title": str(self.titles[anchor])}
                    )
            elif kind == 3:
                reason = R.Reason(R.POPULAR_IN_COMMUNITY, {"community": str(self.communities[item])})
            out.append(reason)
        return out

    def _engaged_followees(self, row: int, items: np.ndarray) -> tuple[list[list[str]], list[int]]:
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

    def _anchors(self, X_row: sp.csr_matrix, items: np.ndarray, kind: str) -> np.ndarray:
        """Per item, the user's own item that supports it most (EASE/RP3 weight or content cosine), or -1."""
        liked = X_row.indices
        if len(liked) == 0 or len(items) == 0:
            return np.full(len(items), -1)
        if kind == "content":
            vectors = self.sources.content.vectors
            weights = (vectors[liked] @ vectors[items].T).toarray()
        else:
            weights = self.sources.rp3.W[liked][:, items].toarray()
            ease = self.sources.ease
            if len(ease.items):
                pos_l = np.searchsorted(ease.items, liked).clip(0, len(ease.items) - 1)
                pos_i = np.searchsorted(ease.items, items).clip(0, len(ease.items) - 1)
                in_l, in_i = ease.items[pos_l] == liked, ease.items[pos_i] == items
                weights = weights + ease.B[np.ix_(pos_l, pos_i)] * np.outer(in_l, in_i)
        best = np.argmax(weights, axis=0)
        return np.where(weights[best, np.arange(len(items))] > 0, liked[best], -1)

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
