"""The recommender: candidate sources, a learned ranker on top, re-ranking and a reason per item."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from threadpoolctl import ThreadpoolController

from . import reasons as R
from .data import InputError, Interactions, ItemMeta, TrainingData, build_training_data, owned_items
from .ranker import (
    FALLBACK_WEIGHTS,
    FEATURES,
    ITEM_SOURCES,
    NOMINATING,
    NORMALISED,
    USER_SOURCES,
    LearnedRanker,
    fallback_score,
    normalise_rows,
    normalise_within,
    rank_within,
)
from .rerank import diversify, mmr
from .sources.collaborative import EASE, ImplicitALS, RP3Beta, UserKNN
from .sources.content import ContentSource
from .sources.popularity import PopularitySource
from .sources.social import SocialSource
from .topk import segment_starts, top_k_rows

# How each family's normalised score counts when choosing the reason shown. What people you follow did is the
# explanation readers trust most: it is shown unless a collaborative signal is more than twice as strong on
# its own scale. A content match explains an item only when it is clearly stronger than every collaborative one.
SOCIAL_REASON_WEIGHT = 2.0
CONTENT_REASON_WEIGHT = 0.5


@dataclass
class Settings:
    """Defaults that hold across data sets; grids are chosen per data set on an internal validation split."""

    seed: int = 2026
    # EASE: (popularity damping beta, l2, input weighting)
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
    # user kNN: (neighbours, power on their cosine, popularity damping beta); 0 neighbours switches it off
    user_knn: tuple[tuple[int, float, float], ...] = ((100, 1.0, 0.0), (100, 2.0, 0.0), (100, 1.0, 0.3))
    # implicit ALS: (factors, regularization, alpha, confidence weighting)
    als: tuple[tuple[int, float, float, str], ...] = (
        (64, 100.0, 40.0, "log"),
        (128, 100.0, 40.0, "log"),
        (64, 20.0, 10.0, "log"),
    )
    als_iterations: int = 6
    # Random starts of ALS whose scores are averaged; one above max_tuning_interactions (each start costs a fit).
    als_starts: int = 3
    # Grids are tried only below this many training pairs; above it each grid's first setting is used.
    max_tuning_interactions: int = 3_000_000
    max_tuning_users: int = 1000
    max_ranker_rows: int = 60_000
    max_ranker_users: int = 4000
    ranker_folds: int = 2
    enough_ranker_positives: int = 30_000
    candidates_per_source: int = 50
    holdout_share: float = 0.2
    ranker_members: int = 3
    social_second_hop: float = 0.2
    social_half_life_days: float = 90.0
    trending_half_life_days: float = 7.0
    max_per_author: int = 2
    max_per_community: int = 4
    # BLAS and OpenMP threads while training and scoring. More than one pays only on an idle machine: when
    # other processes share the cores, spinning worker threads made the EASE inverse 8x and the ranker's
    # fit 30x slower than one thread here.
    threads: int = 1


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

    ease: EASE
    als: ImplicitALS
    rp3: RP3Beta
    users: UserKNN
    social: SocialSource
    content: ContentSource
    popularity: PopularitySource


@dataclass
class Candidates:
    """Candidates of a batch of users: pairs (rows[k], cols[k]) sorted by row, and feature values per pair.

    `starts[r]:starts[r + 1]` is row r's segment; `values` maps a feature name to one value per pair.
    """

    rows: np.ndarray
    cols: np.ndarray
    starts: np.ndarray
    values: dict[str, np.ndarray]


_THREADPOOLS: ThreadpoolController | None = None


def _thread_limit(threads: int):
    """A context that caps the BLAS and OpenMP thread pools (the controller is built once: it is slow)."""
    global _THREADPOOLS
    if _THREADPOOLS is None:
        _THREADPOOLS = ThreadpoolController()
    return _THREADPOOLS.limit(limits=threads)


class _Clock:
    """Wall and CPU seconds spent per named phase, summed over repeats (CPU time is what a busy machine
    does not inflate)."""

    def __init__(self) -> None:
        self.seconds: dict[str, list[float]] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            spent = self.seconds.setdefault(name, [0.0, 0.0])
            spent[0] += time.perf_counter() - wall
            spent[1] += time.process_time() - cpu

    def rounded(self) -> dict[str, list[float]]:
        """Phase -> [wall seconds, CPU seconds]."""
        return {name: [round(wall, 2), round(cpu, 2)] for name, (wall, cpu) in self.seconds.items()}


def _fit_sources(
    data: TrainingData,
    meta: ItemMeta | None,
    settings: Settings,
    chosen: dict[str, Any],
    content: ContentSource,
    clock: _Clock,
    fitted: dict[str, Any] | None = None,
) -> Sources:
    """Fit every source with the chosen settings, reusing models already fitted on the same data."""
    fitted = fitted or {}
    X = data.X
    with clock.phase("ease"):
        ease = fitted.get("ease") or _ease(chosen["ease"], settings).fit(X)
    with clock.phase("als"):
        als = fitted.get("als") or _als(chosen["als"], settings, X.nnz).fit(X)
    with clock.phase("rp3"):
        walk = fitted.get("rp3") or RP3Beta(*chosen["rp3"], settings.rp3_neighbours).fit(X)
    with clock.phase("user knn"):
        users = fitted.get("user_knn") or UserKNN(*chosen["user_knn"]).fit(X)
    with clock.phase("social"):
        social = SocialSource(
            second_hop=settings.social_second_hop, half_life_days=settings.social_half_life_days
        ).fit(data)
    communities = _item_field(data, meta, "communities")
    popularity = PopularitySource(settings.trending_half_life_days).fit(data, communities)
    return Sources(ease, als, walk, users, social, content, popularity)


def _ranker(settings: Settings) -> LearnedRanker:
    return LearnedRanker(settings.seed, members=settings.ranker_members, max_rows=settings.max_ranker_rows)


def _als(params: tuple, settings: Settings, pairs: int) -> ImplicitALS:
    factors, regularization, alpha, weighting = params
    starts = settings.als_starts if pairs <= settings.max_tuning_interactions else 1
    return ImplicitALS(
        int(factors),
        regularization,
        alpha,
        weighting,
        iterations=settings.als_iterations,
        seed=settings.seed,
        starts=starts,
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


def _holdout(data: TrainingData, share: float, seed: int, fold: int = 0) -> tuple[TrainingData, sp.csr_matrix]:
    """Move a random share of each user's items (users with >= 3) to a holdout matrix; same indexing.

    Folds 0, 1, ... of the same seed hold out disjoint shares (a user keeps at least one item inside).
    """
    rng = np.random.default_rng(seed)
    X = data.X.tocsr()
    counts = np.diff(X.indptr)
    # One uniform key per stored pair; a user's `take` smallest keys are a uniform random subset.
    keys = rng.random(X.nnz)
    rows = np.repeat(np.arange(X.shape[0]), counts)
    order = np.lexsort((keys, rows))
    position = np.empty(X.nnz, dtype=np.int64)
    position[order] = np.arange(X.nnz) - X.indptr[rows[order]]
    take = np.where(counts >= 3, np.maximum(1, np.round(share * counts)).astype(np.int64), 0)
    first = np.minimum(fold * take, np.maximum(counts - 1, 0))
    last = np.minimum((fold + 1) * take, np.maximum(counts - 1, 0))
    held = (position >= first[rows]) & (position < last[rows])
    keep = ~held

    def part(M: sp.csr_matrix, mask: np.ndarray) -> sp.csr_matrix:
        out = sp.csr_matrix((M.data[mask], (rows[mask], M.indices[mask])), shape=M.shape)
        out.sort_indices()
        return out

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
    return inner, part(X, held)


def _ndcg20(scores: np.ndarray, seen: sp.csr_matrix, truth: sp.csr_matrix) -> float:
    """Mean NDCG@20 of dense scores against binary truth rows, seen items excluded (scores are modified)."""
    scores[owned_items(seen).nonzero()] = -np.inf
    k = min(20, scores.shape[1] - 1)
    rows, cols = top_k_rows(scores, k)
    rank = np.arange(len(rows)) - segment_starts(rows, scores.shape[0])[rows]
    hits = np.asarray(truth[rows, cols]).ravel() > 0
    discount = 1.0 / np.log2(rank + 2.0)
    dcg = np.bincount(rows, weights=hits * discount, minlength=scores.shape[0])
    n_true = np.minimum(np.diff(truth.indptr), k)
    ideal = np.cumsum(1.0 / np.log2(np.arange(2, k + 2)))[np.maximum(n_true - 1, 0)]
    return float(np.mean(dcg / ideal))


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


def _batched_ndcg20(
    model: Any, X_rows: sp.csr_matrix, truth: sp.csr_matrix, batch: int, users: np.ndarray
) -> float:
    """_ndcg20 of a source's scores, computed a batch of users at a time to bound memory."""
    total = 0.0
    for start in range(0, X_rows.shape[0], batch):
        part = slice(start, start + batch)
        rows = X_rows[part]
        if isinstance(model, UserKNN):  # it must know who is asking, to leave them out of their neighbours
            scores = np.array(model.score(rows, users[part]), dtype=np.float32)
        else:
            scores = np.array(model.score(rows), dtype=np.float32)
        total += _ndcg20(scores, rows, truth[part]) * rows.shape[0]
    return total / max(X_rows.shape[0], 1)


class Recommender:
    """Fit on interactions, the follow graph and item metadata; recommend with reasons; save and load."""

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings()
        self.data: TrainingData | None = None
        self.sources: Sources | None = None
        self.ranker = _ranker(self.settings)
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
        clock = _Clock()
        settings = self.settings
        with clock.phase("data"):
            extra = list(catalogue) if catalogue is not None else (list(items.item_ids) if items else [])
            data = build_training_data(interactions, followers, followees, extra_items=extra)
            self.data = data
            self.titles = _item_field(data, items, "titles")
            self.authors = _item_field(data, items, "authors")
            self.communities = _item_field(data, items, "communities")
        with clock.phase("content"):
            content = ContentSource().fit(data.item_ids, items)
        rng = np.random.default_rng(settings.seed + 1)
        examples = []
        # Fold 0 tunes the grids; every fold refits the sources without its held-out share and labels their
        # candidates by it. More folds give the ranker more positives from the same data, while it has few.
        for fold in range(max(1, settings.ranker_folds)):
            if fold and sum(int(labels.sum()) for _, labels in examples) >= settings.enough_ranker_positives:
                break
            with clock.phase("holdout"):
                inner, held = _holdout(data, settings.holdout_share, settings.seed, fold)
            held_users = np.flatnonzero(np.diff(held.indptr) > 0)
            fitted: dict[str, Any] = {}
            if fold == 0:
                with clock.phase("tuning"):
                    self.chosen, fitted = self._tune(inner, held, held_users, rng)
            if len(held_users) == 0:
                break
            inner_sources = _fit_sources(inner, items, settings, self.chosen, content, clock, fitted)
            with clock.phase("ranker examples"):
                examples.append(self._ranker_examples(inner, inner_sources, held, held_users, rng))
            del inner_sources, fitted, inner, held
        with clock.phase("ranker fit"):
            if examples:
                self.ranker.fit(*(np.concatenate(parts) for parts in zip(*examples, strict=True)))
            else:  # nobody has enough items to hold any out: the hand-set blend
                self.ranker.fit(np.zeros((0, len(FEATURES)), dtype=np.float32), np.zeros(0, dtype=np.int8))
        del examples
        self.sources = _fit_sources(data, items, settings, self.chosen, content, clock)
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

    def _tune(
        self, inner: TrainingData, held: sp.csr_matrix, users: np.ndarray, rng: np.random.Generator
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Pick each collaborative model's settings by NDCG@20 on the held-out interactions.

        Returns the choices and the chosen models fitted on the inner data (reused for the ranker). Big data
        sets (more than max_tuning_interactions pairs) keep each grid's first setting untried.
        """
        settings = self.settings
        grids: dict[str, list] = {
            "ease": [tuple(p) for p in settings.ease],
            "als": [tuple(p) for p in settings.als],
            "rp3": [tuple(p) for p in settings.rp3],
            "user_knn": [tuple(p) for p in settings.user_knn],
        }
        chosen: dict[str, Any] = {name: grid[0] for name, grid in grids.items()}
        if len(users) < 20 or inner.X.nnz > settings.max_tuning_interactions:
            return chosen, {}
        if len(users) > settings.max_tuning_users:
            users = np.sort(rng.choice(users, settings.max_tuning_users, replace=False))
        X_rows, truth = inner.X[users], held[users]
        grams: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

        def ease(params: tuple) -> EASE:
            weighting = params[2]
            if weighting not in grams:
                grams.clear()  # one dense Gram matrix at a time
                grams[weighting] = EASE.gram(inner.X, settings.ease_min_support, settings.ease_max_items, weighting)
            return _ease(params, settings).fit(inner.X, grams[weighting])

        builders = {
            "ease": ease,
            "als": lambda p: _als(p, settings, inner.X.nnz).fit(inner.X),
            "rp3": lambda p: RP3Beta(*p, settings.rp3_neighbours).fit(inner.X),
            "user_knn": lambda p: UserKNN(*p).fit(inner.X),
        }
        fitted: dict[str, Any] = {}
        report: dict[str, list] = {}
        for name, grid in grids.items():
            best = (-1.0, None, None)
            report[name] = []
            if len(grid) == 1:
                continue
            for params in grid:
                started = time.perf_counter()
                model = builders[name](params)
                fitted_at = time.perf_counter()
                value = _batched_ndcg20(model, X_rows, truth, _batch_size(inner.n_items), users)
                seconds = [round(fitted_at - started, 2), round(time.perf_counter() - fitted_at, 2)]
                report[name].append([list(params), round(value, 5), seconds])
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
            X_rows = inner.X[rows]
            cands = self._candidates(inner, sources, rows, X_rows, owned_items(X_rows))
            features.append(self._features(inner, sources, rows, X_rows, cands))
            labels.append((np.asarray(held[rows[cands.rows], cands.cols]).ravel() > 0).astype(np.int8))
        return np.vstack(features), np.concatenate(labels)

    # ---- scoring --------------------------------------------------------------------------------------

    def _dense(
        self, data: TrainingData, sources: Sources, rows: np.ndarray, X_rows: sp.csr_matrix
    ) -> dict[str, np.ndarray]:
        """Every per-user source's scores over the whole catalogue (float32, batch x items, writable)."""
        dense: dict[str, np.ndarray] = {
            "ease": sources.ease.score(X_rows),
            "als": sources.als.score(X_rows),
            "rp3": sources.rp3.score(X_rows),
            "neighbours": sources.users.score(X_rows, rows),
            "content": sources.content.score(X_rows),
        }
        social = sources.social.score(np.where(rows >= 0, rows, 0))
        if (rows < 0).any():  # unknown users follow nobody we know
            for value in social.values():
                value[rows < 0] = 0.0
        dense.update(social)
        return {name: np.asarray(dense[name], dtype=np.float32) for name in USER_SOURCES}

    def _candidates(
        self,
        data: TrainingData,
        sources: Sources,
        rows: np.ndarray,
        X_rows: sp.csr_matrix,
        banned: sp.csr_matrix,
    ) -> Candidates:
        """The union of each source's top items per user, never a `banned` one (owned_items), with features."""
        dense = self._dense(data, sources, rows, X_rows)
        ban_rows, ban_cols = banned.nonzero()
        n_items, n_rows = data.n_items, len(rows)
        c = min(self.settings.candidates_per_source, n_items)
        nominated = np.zeros((n_rows, n_items), dtype=np.int8)
        every_row = np.arange(n_rows)
        for name in NOMINATING:
            if name == "trending":
                top = self._trending_top(sources, banned, c)
                picked = top >= 0
                nominated[np.repeat(every_row, top.shape[1])[picked.ravel()], top[picked]] += 1
            else:
                scores = dense[name]
                scores[ban_rows, ban_cols] = -np.inf  # never candidates, so their scores are not needed
                top_rows, top_cols = top_k_rows(scores, c, positive=True)
                nominated[top_rows, top_cols] += 1
        nominated[ban_rows, ban_cols] = 0
        cand_rows, cand_cols = np.nonzero(nominated)
        starts = segment_starts(cand_rows, n_rows)
        values = {name: dense[name][cand_rows, cand_cols] for name in USER_SOURCES}
        del dense
        items = self._item_arrays(sources)
        for name in ITEM_SOURCES:
            values[name] = items[name][cand_cols]
        for name in NORMALISED:
            values[f"{name}_norm"] = normalise_within(values[name], cand_rows, starts)
            values[f"{name}_rank"], values[f"{name}_margin"] = rank_within(values[name], cand_rows, starts)
        values["nominations"] = nominated[cand_rows, cand_cols].astype(np.float32)
        return Candidates(cand_rows, cand_cols, starts, values)

    def _trending_top(self, sources: Sources, banned: sp.csr_matrix, c: int) -> np.ndarray:
        """Per row, the c most trending items the row has not banned (-1 pads rows with fewer)."""
        order = self._item_arrays(sources)["trending_order"]
        reach = min(len(order), c + int(np.diff(banned.indptr).max(initial=0)))
        head = order[:reach]
        allowed = ~banned[:, head].toarray()
        keep = allowed & (np.cumsum(allowed, axis=1) <= c)
        top = np.where(keep, head[None, :], -1)
        return top

    def _item_arrays(self, sources: Sources) -> dict[str, np.ndarray]:
        """Per-item features (log popularity, log trending, rank in community) and the trending order."""
        cached = getattr(sources.popularity, "_arrays", None)
        if cached is None:
            pop = sources.popularity
            # Relative to the mean item: the ranker learns on a holdout's smaller data than it scores.
            trending = np.log((1 + pop.trending) / (1 + pop.trending.mean())).astype(np.float32)
            cached = {
                "popularity": np.log((1 + pop.popularity) / (1 + pop.popularity.mean())).astype(np.float32),
                "trending": trending,
                "community": pop.community_rank.astype(np.float32),
                "trending_order": np.lexsort((np.arange(len(trending)), -trending)),
            }
            pop._arrays = cached
        return cached

    def _features(
        self, data: TrainingData, sources: Sources, rows: np.ndarray, X_rows: sp.csr_matrix, cands: Candidates
    ) -> np.ndarray:
        """The ranker's feature matrix, one row per candidate, columns in FEATURES order."""
        safe = np.where(rows >= 0, rows, 0)
        mine = owned_items(X_rows).astype(np.float32)
        count = mine.getnnz(axis=1)
        user_items = np.log((1 + count) / (1 + data.X.nnz / max(data.n_active, 1))).astype(np.float32)
        user_followees = np.log1p(np.where(rows >= 0, np.diff(data.follows.indptr)[safe], 0)).astype(np.float32)
        # The mean popularity of a user's items says how far from the head their taste reaches.
        popularity = self._item_arrays(sources)["popularity"]
        user_popularity = ((mine @ popularity) / np.maximum(count, 1)).astype(np.float32)
        columns = [cands.values[name] for name in FEATURES[: FEATURES.index("user_items")]]
        columns += [
            user_items[cands.rows],
            user_followees[cands.rows],
            sources.content.has_text.astype(np.float32)[cands.cols],
            user_popularity[cands.rows],
            popularity[cands.cols] - user_popularity[cands.rows],
        ]
        return np.column_stack(columns).astype(np.float32, copy=False)

    def _rank_batch(
        self,
        rows: np.ndarray,
        X_rows: sp.csr_matrix,
        k: int,
        exclude: sp.csr_matrix | None = None,
    ) -> list[tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]]:
        """Per row: candidate items best first, their scores, and the parts the reasons are built from."""
        data, sources = self.data, self.sources
        # The one exclusion step: what the user has (whatever its weight) or excludes is banned from every
        # source's nominations and from the fill below.
        banned = owned_items(X_rows, exclude)
        cands = self._candidates(data, sources, rows, X_rows, banned)
        norm = {name: cands.values[f"{name}_norm"] for name in NORMALISED}
        if self.ranker.learned and len(cands.rows):
            features = self._features(data, sources, rows, X_rows, cands)
            # Members disagree enough that the first one's 21st can reach the top 20 on the mean: a
            # margin of three times the depth kept every top 20 of lastfm-2k unchanged.
            scores = self.ranker.score_leaders(features, cands.rows, cands.starts, keep=3 * k)
        else:
            scores = fallback_score(norm, cands.values["trending"]).astype(np.float32)
        parts = {**norm, "community": cands.values["community"]}
        out = []
        for r in range(len(rows)):
            span = slice(cands.starts[r], cands.starts[r + 1])
            items, s = cands.cols[span], scores[span]
            order = np.argsort(-s, kind="stable")
            items, s = items[order], s[order]
            row_parts = {name: value[span][order] for name, value in parts.items()}
            if len(items) < k:  # tiny catalogues: fill from every allowed item, most trending first
                taken = np.zeros(data.n_items, dtype=bool)
                taken[items] = True
                taken[banned[r].indices] = True
                rest = self._item_arrays(sources)["trending_order"]
                rest = rest[~taken[rest]][: k - len(items)]
                low = (s.min() if len(s) else 0.0) - 1.0
                items = np.concatenate([items, rest])
                s = np.concatenate([s, low - np.arange(len(rest), dtype=np.float32) * 1e-3])
                row_parts = {
                    name: np.concatenate([value, np.zeros(len(rest), dtype=value.dtype)])
                    for name, value in row_parts.items()
                }
            out.append((items, s, row_parts))
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
        batch = _batch_size(data.n_items)
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

    def _reasons(
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
                anchor[mine] = self._anchors(X_row, items[mine], source)
        social = np.flatnonzero(kind == 1)
        who, counts = self._engaged_followees(row, items[social])
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
        for j in np.flatnonzero(kind == 3):
            out[j] = R.Reason(R.POPULAR_IN_COMMUNITY, {"community": str(self.communities[items[j]])})
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
            weights = _dense_block(self.sources.rp3.W, liked, items)
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
